/* The host side's paths for `bulwark cp` (cp_hostpath.h). The destination is walked one
 * component at a time from "/", each opened O_PATH|O_NOFOLLOW: a symlink is followed (as the
 * caller's lookup would) only while the walk is outside every directory a container of the
 * state root can write, and only when root or the caller own it and its directory; otherwise
 * it is refused, since a container may have planted it. The source is walked the same way. */
#include "runtime/cp_hostpath.h"

#include "runtime/cp_mounts.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define WALK_MAX_DEPTH 256
#define WALK_MAX_LINKS 40

struct guards {
	dev_t *dev;
	ino_t *ino;
	size_t n;
};

static void guards_free(struct guards *g)
{
	free(g->dev);
	free(g->ino);
	*g = (struct guards){.n = 0};
}

static void guard_add_id(struct guards *g, dev_t dev, ino_t ino)
{
	g->dev = xrealloc(g->dev, (g->n + 1) * sizeof(*g->dev));
	g->ino = xrealloc(g->ino, (g->n + 1) * sizeof(*g->ino));
	g->dev[g->n] = dev;
	g->ino[g->n++] = ino;
}

static void guard_add(struct guards *g, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	guard_add_id(g, st.st_dev, st.st_ino);
}

static bool guarded(const struct guards *g, const struct stat *st)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->dev[i] == st->st_dev && g->ino[i] == st->st_ino)
			return true;
	return false;
}

/* A bind the container may write below: every one but a plain "bind" that is "ro" (it carries
 * no submounts) and an "rro" one. An "rbind","ro" stays writable below: "ro" leaves the
 * submounts it carries as they were. The last of ro/rw and rro/rrw counts. */
static bool mount_is_writable_bind(const struct oci_mount *m)
{
	bool bind = m->type != NULL && strcmp(m->type, "bind") == 0;
	bool rec = false, ro = false, rro = false;
	for (size_t i = 0; m->options && m->options[i]; i++) {
		const char *o = m->options[i];
		if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
			bind = true;
			rec = rec || strcmp(o, "rbind") == 0;
		} else if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
			ro = strcmp(o, "ro") == 0;
		} else if (strcmp(o, "rro") == 0 || strcmp(o, "rrw") == 0) {
			rro = strcmp(o, "rro") == 0;
		}
	}
	return bind && m->source != NULL && !rro && !(ro && !rec);
}

/* One container's host directories it can write as their paths name them now: its root
 * unless read-only and its writable binds. */
static void guards_from_paths(const struct oci_state *st, const struct oci_spec *spec,
			      struct guards *g)
{
	const char *bundle = st->bundle ? st->bundle : "/";
	if (!spec->root_readonly && st->rootfs != NULL)
		guard_add(g, st->rootfs);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		if (!mount_is_writable_bind(m))
			continue;
		_cleanup_free_ char *src =
		    m->source[0] == '/' ? xstrdup(m->source) : fs_path_join(bundle, m->source);
		guard_add(g, src);
	}
}

/* What create recorded (the directories actually mounted, whatever the paths name now: a
 * container may have renamed or replaced them), and the paths as they stand (a container
 * created before the record existed). A malformed record fails closed. */
static int guards_collect(const struct oci_state *st, const struct oci_spec *spec, struct guards *g,
			  struct bw_error *err)
{
	for (size_t i = 0; st->writable_dirs && st->writable_dirs[i]; i++) {
		unsigned long long dev, ino;
		int end = 0;
		if (sscanf(st->writable_dirs[i], "%llu:%llu%n", &dev, &ino, &end) != 2 ||
		    st->writable_dirs[i][end] != '\0')
			return bw_fail(err, EINVAL,
				       "state of container %s: writableDirs entry `%s`",
				       st->id ? st->id : "?", st->writable_dirs[i]);
		guard_add_id(g, (dev_t)dev, (ino_t)ino);
	}
	guards_from_paths(st, spec, g);
	return 0;
}

void cp_host_record_writable(struct oci_state *st, const struct oci_spec *spec)
{
	_cleanup_(guards_free) struct guards g = {.n = 0};
	guards_from_paths(st, spec, &g);
	strv_free(st->writable_dirs);
	st->writable_dirs = xcalloc(g.n + 1, sizeof(char *));
	for (size_t i = 0; i < g.n; i++)
		st->writable_dirs[i] = xasprintf("%llu:%llu", (unsigned long long)g.dev[i],
						 (unsigned long long)g.ino[i]);
}

/* Another container of the state root, read without its lock (a copy never waits on a
 * container it does not touch): a directory without state.json is one being made or gone. */
static int guards_collect_other(int dirfd, const char *id, struct guards *g, struct bw_error *err)
{
	_cleanup_free_ char *sj = NULL, *cj = NULL;
	size_t sl, cl;
	struct oci_state st = {0};
	struct oci_spec *spec = NULL;
	_cleanup_close_ int sfd = openat(dirfd, "state.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "state of container %s", id);
	_cleanup_close_ int cfd = openat(dirfd, "config.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "config of container %s", id);
	if (fs_read_fd(sfd, 1 << 20, &sj, &sl, err) < 0 ||
	    fs_read_fd(cfd, 4 << 20, &cj, &cl, err) < 0 || oci_state_parse(sj, sl, &st, err) < 0 ||
	    oci_spec_parse(cj, cl, "config.json", &spec, err) < 0) {
		oci_state_free_fields(&st);
		return bw_wrap(err, "container %s", id);
	}
	int r = guards_collect(&st, spec, g, err);
	oci_state_free_fields(&st);
	oci_spec_free(spec);
	return r < 0 ? bw_wrap(err, "container %s", id) : 0;
}

static void guard_add_cb(void *ctx, dev_t dev, ino_t ino)
{
	guard_add_id(ctx, dev, ino);
}

/* The union over every container of the state root (a directory another container or
 * session shares is as writable by the hostile side as our container's own) and over every
 * read-write mount of every other mount namespace (another state root's containers, another
 * runtime's). Unreadable state fails the copy: guards are never silently missing. */
static int guards_collect_all(const struct container *c, const struct oci_spec *spec,
			      struct guards *g, struct bw_error *err)
{
	if (guards_collect(&c->state, spec, g, err) < 0 ||
	    cp_mounts_foreign(guard_add_cb, g, err) < 0)
		return bw_wrap(err, "while listing what containers can write");
	_cleanup_close_ int rfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = rfd >= 0 ? fdopendir(dup(rfd)) : NULL;
	if (d == NULL)
		return bw_fail(err, errno, "read the state root `%s`", c->root);
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, c->id) == 0)
			continue;
		_cleanup_close_ int dfd =
		    openat(rfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
			continue;
		r = dfd < 0 ? bw_fail(err, errno, "state of container %s", e->d_name)
			    : guards_collect_other(dfd, e->d_name, g, err);
	}
	closedir(d);
	return r < 0 ? bw_wrap(err, "while listing what containers can write") : 0;
}

static char *absolute(const char *path, struct bw_error *err)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		bw_fail(err, errno, "getcwd");
		return NULL;
	}
	return fs_path_join(cwd, path);
}

struct walk {
	int fd[WALK_MAX_DEPTH];
	bool inside[WALK_MAX_DEPTH];
	int n;
};

static void walk_reset(struct walk *w)
{
	while (w->n > 0)
		close(w->fd[--w->n]);
}

static int walk_push(struct walk *w, int fd, bool inside, const char *shown, struct bw_error *err)
{
	if (w->n >= WALK_MAX_DEPTH) {
		close(fd);
		return bw_fail(err, ENAMETOOLONG, "`%s`", shown);
	}
	w->fd[w->n] = fd;
	w->inside[w->n++] = inside;
	return 0;
}

static int walk_root(struct walk *w, const struct guards *g, const char *shown,
		     struct bw_error *err)
{
	struct stat st;
	walk_reset(w);
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "open /");
	return walk_push(w, fd, guarded(g, &st), shown, err);
}

/* The second rule, anywhere on the walk (fs.protected_symlinks, stricter): a symlink is
 * followed only when it and the directory holding it are root's or the caller's, and that
 * directory is writable by its owner alone. Covers what the guards cannot see (a shared
 * directory's host-side alias, a container of another state root). */
static bool link_is_trusted(int dirfd, const struct stat *link)
{
	struct stat d;
	uid_t me = geteuid();
	if (fstat(dirfd, &d) < 0)
		return false;
	return (link->st_uid == 0 || link->st_uid == me) && (d.st_uid == 0 || d.st_uid == me) &&
	       (d.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* One component of the walk; *pending is replaced by a link's expansion when one is followed.
 * With want_file, the last component may be a regular file (pushed like a directory). */
static int walk_step(struct walk *w, const struct guards *g, const char *comp, char **pending,
		     const char *rest, bool want_file, int *links, const char *shown,
		     struct bw_error *err)
{
	struct stat st;
	int top = w->fd[w->n - 1];
	int fd = openat(top, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "`%s`", shown);
	if (S_ISDIR(st.st_mode) || (want_file && S_ISREG(st.st_mode) && rest[0] == '\0'))
		return walk_push(w, fd, w->inside[w->n - 1] || guarded(g, &st), shown, err);
	if (!S_ISLNK(st.st_mode)) {
		close(fd);
		if (want_file && rest[0] == '\0')
			return bw_fail(err, 0, "`%s`: not a regular file or a directory", shown);
		return bw_fail(err, ENOTDIR, "`%s`", shown);
	}
	char target[PATH_MAX];
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	struct statfs sf;
	if (fstatfs(top, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC)
		return bw_fail(err, ELOOP, "`%s`: `%s` is a /proc link (not followed)", shown,
			       comp);
	if (want_file && rest[0] == '\0')
		return bw_fail(err, ELOOP,
			       "`%s` is a symlink: name what it points to (a source's last "
			       "component is never followed)",
			       shown);
	if (w->inside[w->n - 1])
		return bw_fail(err, ELOOP,
			       "`%s`: `%s` is a symlink in a directory the container can write "
			       "(not followed)",
			       shown, comp);
	if (!link_is_trusted(top, &st))
		return bw_fail(err, ELOOP,
			       "`%s`: `%s` is a symlink not owned by root or the caller, or in a "
			       "directory others can write (not followed)",
			       shown, comp);
	if (n <= 0 || ++*links > WALK_MAX_LINKS)
		return bw_fail(err, n < 0 ? errno : ELOOP, "`%s`", shown);
	target[n] = '\0';
	/* No "/" added after the last component: a link to a file names that file. */
	char *next = rest[0] ? xasprintf("%s/%s", target, rest) : xstrdup(target);
	free(*pending);
	*pending = next;
	return target[0] == '/' ? walk_root(w, g, shown, err) : 0;
}

/* The directory (or, with want_file, regular file) at path, walked as described above; an
 * O_PATH fd. */
static int walk_path(const char *path, const struct guards *g, bool want_file, struct bw_error *err)
{
	struct walk w = {.n = 0};
	int links = 0;
	char *pending = absolute(path, err);
	if (pending == NULL || walk_root(&w, g, path, err) < 0)
		goto fail;
	size_t pos = 0;
	for (;;) {
		while (pending[pos] == '/')
			pos++;
		if (pending[pos] == '\0')
			break;
		size_t len = strcspn(pending + pos, "/");
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX) {
			bw_fail(err, ENAMETOOLONG, "`%s`", path);
			goto fail;
		}
		memcpy(comp, pending + pos, len);
		comp[len] = '\0';
		pos += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (w.n > 1)
				close(w.fd[--w.n]);
			continue;
		}
		_cleanup_free_ char *rest = xstrdup(pending + pos);
		char *before = pending;
		if (walk_step(&w, g, comp, &pending, rest, want_file, &links, path, err) < 0)
			goto fail;
		if (pending != before)
			pos = 0;
	}
	free(pending);
	int fd = w.fd[--w.n];
	walk_reset(&w);
	return fd;
fail:
	free(pending);
	walk_reset(&w);
	return -1;
}

int cp_host_open_dest(const char *path, const struct container *c, const struct oci_spec *spec,
		      struct cp_host_dst *out, struct bw_error *err)
{
	_cleanup_(guards_free) struct guards g = {.n = 0};
	*out = (struct cp_host_dst){.dirfd = -1, .name = NULL};
	if (path[0] == '\0')
		return bw_fail(err, 0, "an empty destination path");
	if (guards_collect_all(c, spec, &g, err) < 0)
		return -1;
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	/* "dir/", ".", "..": a directory the copy goes into. */
	if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		out->dirfd = walk_path(path, &g, false, err);
		return out->dirfd < 0 ? -1 : 0;
	}
	_cleanup_free_ char *parent =
	    slash ? xstrndup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	_cleanup_close_ int pfd = walk_path(parent, &g, false, err);
	struct stat st;
	if (pfd < 0)
		return -1;
	if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return bw_fail(err, ELOOP,
				       "`%s`: is a symlink (a destination is never "
				       "followed through one)",
				       path);
		if (S_ISDIR(st.st_mode)) {
			out->dirfd =
			    openat(pfd, last, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			return out->dirfd < 0 ? bw_fail(err, errno, "`%s`", path) : 0;
		}
	} else if (errno != ENOENT) {
		return bw_fail(err, errno, "`%s`", path);
	}
	out->dirfd = steal_fd(&pfd);
	out->name = xstrdup(last);
	return 0;
}

void cp_host_dst_free(struct cp_host_dst *d)
{
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
	free(d->name);
	d->name = NULL;
}

int cp_host_open_source(const char *path, const struct container *c, const struct oci_spec *spec,
			struct bw_error *err)
{
	_cleanup_(guards_free) struct guards g = {.n = 0};
	struct stat a, b;
	char self[64];
	if (path[0] == '\0')
		return bw_fail(err, 0, "an empty source path");
	if (guards_collect_all(c, spec, &g, err) < 0)
		return -1;
	_cleanup_close_ int pfd = walk_path(path, &g, true, err);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, &a) < 0)
		return bw_fail(err, errno, "`%s`", path);
	if (S_ISDIR(a.st_mode)) {
		int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return dfd < 0 ? bw_fail(err, errno, "`%s`", path) : dfd;
	}
	/* The very inode the walk found, opened for reading. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "`%s`", path);
	if (fstat(fd, &b) < 0 || !S_ISREG(b.st_mode) || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		close(fd);
		return bw_fail(err, 0, "`%s` changed while being opened", path);
	}
	return fd;
}

char *cp_host_base_name(const char *path)
{
	struct bw_error ignored = {0};
	_cleanup_free_ char *abs = absolute(path, &ignored);
	_cleanup_free_ char *clean = fs_path_clean(abs ? abs : "/");
	const char *b = strrchr(clean, '/');
	b = b ? b + 1 : clean;
	return xstrdup(*b ? b : "root");
}
