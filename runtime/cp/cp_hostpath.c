/* The host side's paths for `bulwark cp` (cp_hostpath.h). Source and destination are walked
 * one component at a time from "/" (or the cwd), each opened O_PATH|O_NOFOLLOW, and no
 * symbolic link is followed anywhere: which host directories some container can write (this
 * runtime's, another's, one a process detached) cannot be known for sure, and a link planted
 * in one would lead a root cp anywhere. The caller names real paths. */
#include "runtime/cp/cp_hostpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define WALK_MAX_DEPTH 256

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
	int n;
};

static void walk_reset(struct walk *w)
{
	while (w->n > 0)
		close(w->fd[--w->n]);
}

static int walk_push(struct walk *w, int fd, const char *shown, struct bw_error *err)
{
	if (w->n >= WALK_MAX_DEPTH) {
		close(fd);
		return bw_fail(err, ENAMETOOLONG, "`%s`", shown);
	}
	w->fd[w->n++] = fd;
	return 0;
}

static int walk_start(struct walk *w, const char *shown, struct bw_error *err)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open /");
	return walk_push(w, fd, shown, err);
}

/* One component of the walk. With want_file, the last component may be a regular file
 * (pushed like a directory). */
static int walk_step(struct walk *w, const char *comp, bool last, bool want_file, const char *shown,
		     struct bw_error *err)
{
	struct stat st;
	int fd = openat(w->fd[w->n - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bw_fail(err, e, "`%s`", shown);
	}
	if (S_ISDIR(st.st_mode) || (want_file && S_ISREG(st.st_mode) && last))
		return walk_push(w, fd, shown, err);
	if (S_ISLNK(st.st_mode)) {
		/* Its text, read without following it: a planted link's target is the
		 * container's choice, never a path to suggest. */
		char target[256];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		close(fd);
		target[n > 0 ? n : 0] = '\0';
		return bw_fail(
		    err, ELOOP,
		    "`%s`: `%s` is a symbolic link (to `%s`, owner uid %u), which cp does "
		    "not follow on the host (a container could have planted it); check "
		    "where it leads before naming another path",
		    shown, comp, target, (unsigned)st.st_uid);
	}
	close(fd);
	if (want_file && last)
		return bw_fail(err, 0, "`%s`: not a regular file or a directory", shown);
	return bw_fail(err, ENOTDIR, "`%s`", shown);
}

/* The directory (or, with want_file, regular file) at path, walked as described above; an
 * O_PATH fd. ".." goes back one component (no link was followed to get there). */
static int walk_path(const char *path, bool want_file, struct bw_error *err)
{
	struct walk w = {.n = 0};
	_cleanup_free_ char *abs = absolute(path, err);
	if (abs == NULL || walk_start(&w, path, err) < 0)
		goto fail;
	for (const char *p = abs;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX) {
			bw_fail(err, ENAMETOOLONG, "`%s`", path);
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (w.n > 1)
				close(w.fd[--w.n]);
			continue;
		}
		bool last = p[strspn(p, "/")] == '\0';
		if (walk_step(&w, comp, last, want_file, path, err) < 0)
			goto fail;
	}
	int fd = w.fd[--w.n];
	walk_reset(&w);
	return fd;
fail:
	walk_reset(&w);
	return -1;
}

int cp_host_open_dest(const char *path, struct cp_host_dst *out, struct bw_error *err)
{
	*out = (struct cp_host_dst){.dirfd = -1, .name = NULL};
	if (path[0] == '\0')
		return bw_fail(err, 0, "an empty destination path");
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	/* "dir/", ".", "..": a directory the copy goes into. */
	if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		out->dirfd = walk_path(path, false, err);
		return out->dirfd < 0 ? -1 : 0;
	}
	_cleanup_free_ char *parent =
	    slash ? xstrndup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	_cleanup_close_ int pfd = walk_path(parent, false, err);
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

int cp_host_open_source(const char *path, struct bw_error *err)
{
	struct stat a, b;
	char self[64];
	if (path[0] == '\0')
		return bw_fail(err, 0, "an empty source path");
	_cleanup_close_ int pfd = walk_path(path, true, err);
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
