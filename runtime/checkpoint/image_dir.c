/* CRIU's directories held by fd (image_dir.h). */
#include "runtime/checkpoint/image_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

/* Only "." and "..": a directory we just made, not one swapped in with files of its own. */
static bool image_dir_empty(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *dir = dup < 0 ? NULL : fdopendir(dup);
	bool empty = dir != NULL;
	if (dir == NULL && dup >= 0)
		close(dup);
	if (dir == NULL)
		return false;
	rewinddir(dir);
	for (struct dirent *e; empty && (e = readdir(dir)) != NULL;)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

int image_dir_check_owner(int fd, const char *flag, const char *path, struct bw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "%s: `%s`", flag, path);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return bw_fail(err, 0,
			       "%s: `%s` is %s: CRIU runs as root and follows what another user "
			       "puts there; use a directory only uid %u can write",
			       flag, path,
			       st.st_uid != geteuid() ? "not the caller's"
						      : "writable by its group or others",
			       (unsigned)geteuid());
	return 0;
}

int image_dir_check_entries(int fd, const char *flag, const char *path, struct bw_error *err)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *dir = dup < 0 ? NULL : fdopendir(dup);
	if (dir == NULL) {
		if (dup >= 0)
			close(dup);
		return bw_fail(err, errno, "%s: read `%s`", flag, path);
	}
	rewinddir(dir);
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(dir)) != NULL;) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = bw_fail(err, errno, "%s: `%s`", flag, path);
			break;
		}
		/* CRIU's own link to an earlier dump (--parent-path) is the one symlink. */
		bool parent_link = S_ISLNK(st.st_mode) && strcmp(e->d_name, "parent") == 0;
		if (st.st_uid != geteuid() || (!S_ISREG(st.st_mode) && !parent_link) ||
		    (S_ISREG(st.st_mode) && st.st_nlink != 1))
			r = bw_fail(
			    err, 0,
			    "%s: `%s` holds an entry that is not a file of the caller's own "
			    "with one link (a symlink, a hard link, a FIFO or another user's "
			    "file), which CRIU would open as root: empty it or use a new "
			    "directory",
			    flag, path);
	}
	closedir(dir);
	return r;
}

int image_dir_check_parents(const struct image_dir *d, const char *want, struct bw_error *err)
{
	int cur = fcntl(d->fd, F_DUPFD_CLOEXEC, 3);
	int r = 0;
	for (int depth = 0; r == 0 && cur >= 0; depth++) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(cur, "parent", target, sizeof(target) - 1);
		if (n < 0)
			break; /* no earlier dump */
		target[n] = '\0';
		if (depth == 0 && want != NULL && strcmp(target, want) != 0) {
			r = bw_fail(
			    err, 0,
			    "--parent-path: `%s` already links its parent to `%s`, not `%s`",
			    d->path, target, want);
			break;
		}
		int next = target[0] == '/' || depth >= 32
			       ? -1
			       : openat(cur, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int holder = next < 0 ? -1 : openat(next, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 || holder < 0)
			r = bw_fail(err, next < 0 && target[0] != '/' ? errno : 0,
				    "--parent-path: the earlier dump `%s` of `%s` (a relative "
				    "directory)",
				    target, d->path);
		else if (image_dir_check_owner(next, "--parent-path", target, err) < 0 ||
			 image_dir_check_owner(holder, "--parent-path", target, err) < 0 ||
			 image_dir_check_entries(next, "--parent-path", target, err) < 0)
			r = -1;
		if (holder >= 0)
			close(holder);
		close(cur);
		cur = next;
	}
	if (cur >= 0)
		close(cur);
	return r;
}

int image_dir_open(struct image_dir *d, const char *flag, const char *path,
		   enum image_dir_mode mode, struct bw_error *err)
{
	memset(d, 0, sizeof(*d));
	d->path = path;
	d->parent = d->fd = -1;
	const char *slash = strrchr(path, '/');
	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return bw_fail(err, EINVAL, "%s: `%s` is not a directory bulwark can use", flag,
			       path);
	d->base = xstrdup(slash + 1);
	_cleanup_free_ char *parent =
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	d->parent = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->parent < 0)
		return bw_fail(err, errno, "%s: `%s`", flag, path);
	if (mode != IMAGE_DIR_EXISTING) {
		if (mkdirat(d->parent, d->base, 0700) == 0)
			d->made = true;
		else if (errno != EEXIST)
			return bw_fail(err, errno, "%s: mkdir `%s`", flag, path);
		else if (mode == IMAGE_DIR_NEW)
			return bw_fail(err, 0,
				       "%s `%s` exists (a new directory is made for the image)",
				       flag, path);
	}
	d->fd = openat(d->parent, d->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0)
		return bw_fail(err, errno == ELOOP ? ENOTDIR : errno, "%s: `%s`", flag, path);
	struct stat st;
	if (fstat(d->fd, &st) < 0)
		return bw_fail(err, errno, "%s: `%s`", flag, path);
	if (d->made &&
	    (st.st_uid != geteuid() || (st.st_mode & 077) != 0 || !image_dir_empty(d->fd))) {
		d->made = false; /* not ours: never removed */
		return bw_fail(err, 0,
			       "%s: `%s` was replaced by another directory as it was made (another "
			       "user can write its parent): refused",
			       flag, path);
	}
	if (image_dir_check_owner(d->fd, flag, path, err) < 0 ||
	    (!d->made && image_dir_check_entries(d->fd, flag, path, err) < 0))
		return -1;
	snprintf(d->proc, sizeof(d->proc), "/proc/self/fd/%d", d->fd);
	return 0;
}

void image_dir_close(struct image_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->parent >= 0)
		close(d->parent);
	free(d->base);
	d->fd = d->parent = -1;
	d->base = NULL;
}

void image_dir_remove_made(const struct image_dir *d)
{
	struct stat held, now;
	if (!d->made || d->fd < 0 || fstat(d->fd, &held) < 0 ||
	    fstatat(d->parent, d->base, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    held.st_dev != now.st_dev || held.st_ino != now.st_ino)
		return;
	unlinkat(d->parent, d->base, AT_REMOVEDIR);
}

char *image_dir_read(const struct image_dir *d, const char *name, size_t max, size_t *len)
{
	struct stat pre;
	if (fstatat(d->fd, name, &pre, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(pre.st_mode))
		return NULL;
	_cleanup_close_ int fd =
	    openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *text = NULL;
	struct bw_error e = {0};
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    fs_read_fd(fd, max, &text, len, &e) < 0)
		return NULL;
	return text;
}

int image_dir_prepare_log(const struct image_dir *d, const char *name, struct bw_error *err)
{
	struct stat pre;
	if (fstatat(d->fd, name, &pre, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(pre.st_mode))
		return bw_fail(err, 0, "`%s/%s` is not a regular file: refused", d->path, name);
	_cleanup_close_ int fd = openat(
	    d->fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno == ELOOP ? 0 : errno, "`%s/%s`%s", d->path, name,
			       errno == ELOOP ? " is a symbolic link: refused" : "");
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid())
		return bw_fail(err, 0, "`%s/%s` is not a file of the caller's own: refused",
			       d->path, name);
	if (ftruncate(fd, 0) < 0)
		return bw_fail(err, errno, "truncate `%s/%s`", d->path, name);
	return 0;
}

void image_dir_drop_empty(const struct image_dir *d, const char *name)
{
	struct stat st;
	if (d->fd >= 0 && fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0)
		unlinkat(d->fd, name, 0);
}

bool image_dir_drop_partial(const struct image_dir *d, const char *extra, time_t since)
{
	int dfd = d->fd < 0 ? -1 : fcntl(d->fd, F_DUPFD_CLOEXEC, 3);
	DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
	bool left = false;
	if (dir == NULL) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	rewinddir(dir);
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (!str_has_suffix(e->d_name, ".img") &&
		    (extra == NULL || strcmp(e->d_name, extra) != 0))
			continue;
		struct stat st;
		if (fstatat(d->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_mtime < since)
			continue;
		if (!d->made || unlinkat(d->fd, e->d_name, 0) < 0)
			left = true;
	}
	closedir(dir);
	return left;
}
