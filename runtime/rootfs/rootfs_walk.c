/* The in-root path walker used for every mount destination and device: one component at a
 * time below the root fd, symlinks (even dangling ones) expanded inside the root, ".." never
 * above it, missing components created. What it returns is an O_PATH fd, so a later swap of
 * the path cannot redirect the mount (CVE-2021-30465, CVE-2024-45310). */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define WALK_MAX_LINKS 40

bool rootfs_path_is_sensitive(const char *clean)
{
	static const char *const roots[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		size_t n = strlen(roots[i]);
		if (strncmp(clean, roots[i], n) == 0 && (clean[n] == '\0' || clean[n] == '/'))
			return true;
	}
	return false;
}

struct walk {
	int rootfd;
	int cur;       /* fd of `done` */
	char *done;    /* resolved prefix: absolute, no symlinks, no dots */
	char *pending; /* what remains to walk */
	int links;
};

/* Re-open the resolved, symlink-free prefix after a ".." or an absolute symlink. */
static int walk_reopen(struct walk *w, struct bw_error *err)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, w->rootfd, w->done, &how, sizeof(how));
	if (fd < 0)
		return bw_fail(err, errno, "reopen `%s` inside the container root", w->done);
	close(w->cur);
	w->cur = fd;
	return 0;
}

static void walk_parent(struct walk *w)
{
	char *slash = strrchr(w->done, '/');
	if (slash == w->done)
		w->done[1] = '\0';
	else
		*slash = '\0';
}

/* The component is a symlink (link: an O_PATH fd of that very link, so the target read is the
 * one we looked at): splice its target in front of what remains. */
static int walk_symlink(struct walk *w, int link, const char *name, struct bw_error *err)
{
	char target[PATH_MAX];
	if (++w->links > WALK_MAX_LINKS)
		return bw_fail(err, ELOOP, "too many symlinks below `%s`", w->done);
	ssize_t n = readlinkat(link, "", target, sizeof(target) - 1);
	if (n < 0)
		return bw_fail(err, errno, "readlink `%s/%s`", w->done, name);
	target[n] = '\0';
	char *pending = xasprintf("%s/%s", target, w->pending);
	free(w->pending);
	w->pending = pending;
	if (target[0] == '/') {
		w->done[1] = '\0';
		w->done[0] = '/';
		return walk_reopen(w, err);
	}
	return 0;
}

/* Is dirfd on the container's bind of root.path itself (not on a mount below it, such as a
 * bind source of the host's, which the runtime must never write into)? */
static bool on_root_mount(int dirfd)
{
	struct statx a, b;
	if (rootfs_state.rootfd < 0 || statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
	    statx(rootfs_state.rootfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) < 0)
		return false;
	return (a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID) &&
	       a.stx_mnt_id == b.stx_mnt_id;
}

/* A missing mountpoint: made with our ids, else, for a top-level directory of a rootfs our user
 * namespace does not own, by the runtime with the host's, where it offers to
 * (rootfs_ctx.host_create; spawn/spawn_serve.c). */
static bool on_own_mount(int dirfd)
{
	struct statx a;
	if (statx(dirfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 || !(a.stx_mask & STATX_MNT_ID))
		return false;
	for (size_t i = 0; i < rootfs_state.n_own_mnts; i++)
		if (rootfs_state.own_mnts[i] == a.stx_mnt_id)
			return true;
	return false;
}

static int walk_create(struct walk *w, const char *name, bool file, struct bw_error *err)
{
	int e = 0;
	/* The host's own / as the root: nothing is made in the host's file systems, whatever
	 * their permissions (a world-writable directory would take it). */
	if (rootfs_state.root_is_host && !on_own_mount(w->cur))
		return bw_fail(err, EROFS,
			       "%s `%s%s%s`: nothing is made on the host's own / (the full host "
			       "view); name a destination that exists",
			       file ? "create" : "mkdir", w->done, w->done[1] ? "/" : "", name);
	if (file) {
		int fd = openat(w->cur, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
				0644);
		if (fd < 0 && errno != EEXIST)
			e = errno;
		if (fd >= 0)
			close(fd);
	} else if (mkdirat(w->cur, name, 0755) < 0 && errno != EEXIST)
		e = errno;
	if (e == 0)
		return 0;
	const struct rootfs_ctx *ctx = rootfs_state.creating;
	if ((e == EACCES || e == EPERM) && !file && strcmp(w->done, "/") == 0 && ctx != NULL &&
	    ctx->host_create != NULL && on_root_mount(w->cur)) {
		struct bw_error why = {0};
		if (ctx->host_create(ctx->host_device_arg, w->cur, name, file, &why) == 0 ||
		    why.code == EEXIST)
			return 0;
	}
	return bw_fail(err, e, "%s `%s%s%s`", file ? "create" : "mkdir", w->done,
		       w->done[1] ? "/" : "", name);
}

/* Pop the next component of w->pending into *name (inside w->pending's buffer). */
static char *walk_next(struct walk *w, bool *last)
{
	char *p = w->pending;
	while (*p == '/')
		p++;
	if (*p == '\0')
		return NULL;
	size_t len = strcspn(p, "/");
	char *name = xstrndup(p, len);
	char *rest = p + len;
	while (*rest == '/')
		rest++;
	*last = *rest == '\0';
	memmove(w->pending, rest, strlen(rest) + 1);
	return name;
}

/* One component: opened without following it, and judged by what was opened (fstat of the
 * fd), so a swap after the look cannot redirect us. A component made here must still be what
 * we made when it is opened: a symlink there then is refused, never followed. */
static int walk_step(struct walk *w, const char *name, bool last, bool create, bool is_dir,
		     bool no_symlinks, struct bw_error *err)
{
	struct stat st;
	if (strcmp(name, ".") == 0)
		return 0;
	if (strcmp(name, "..") == 0) {
		walk_parent(w);
		return walk_reopen(w, err);
	}
	bool made = false;
	int fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT || !create)
			return bw_fail(err, errno, "`%s/%s`", w->done, name);
		if (walk_create(w, name, last && !is_dir, err) < 0)
			return -1;
		made = true;
		fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return bw_fail(err, errno, "open `%s/%s`", w->done, name);
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return bw_fail(err, e, "`%s/%s`", w->done, name);
	}
	if (S_ISLNK(st.st_mode)) {
		int r;
		if (made) /* swapped for a symlink after we made it: refuse rather than follow */
			r = bw_fail(err, ELOOP, "`%s/%s` changed while resolving it", w->done,
				    name);
		else if (no_symlinks)
			/* runc's words after ours: its test suite and tools match them. */
			r = bw_fail(err, ELOOP,
				    "`%s%s%s` is a symlink in the rootfs (must be mounted on "
				    "ordinary directory)",
				    w->done, w->done[1] ? "/" : "", name);
		else
			r = walk_symlink(w, fd, name, err);
		close(fd);
		return r;
	}
	close(w->cur);
	w->cur = fd;
	char *done = xasprintf("%s%s%s", w->done, w->done[1] ? "/" : "", name);
	free(w->done);
	w->done = done;
	return 0;
}

int rootfs_walk(int rootfd, const char *path, bool create, bool is_dir, bool no_symlinks,
		struct bw_error *err)
{
	struct walk w = {
	    .rootfd = rootfd, .cur = -1, .done = xstrdup("/"), .pending = xstrdup(path)};
	int r = 0;

	w.cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (w.cur < 0)
		r = bw_fail(err, errno, "dup the root fd");
	for (bool last = false; r == 0;) {
		_cleanup_free_ char *name = walk_next(&w, &last);
		if (name == NULL)
			break;
		r = walk_step(&w, name, last, create, is_dir, no_symlinks, err);
	}
	free(w.done);
	free(w.pending);
	if (r < 0) {
		if (w.cur >= 0)
			close(w.cur);
		return -1;
	}
	return w.cur;
}
