/* The "tmpcopyup" mount option: before a fresh tmpfs is attached over a directory of the image,
 * the directory's content is copied into it (files, directories, symlinks, fifos and device
 * nodes, with owner, mode and times). Everything is reached by fd; nothing is followed. */
#include "runtime/rootfs/rootfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define COPYUP_MAX_DEPTH 64

static int copy_dir(int src, int dst, dev_t dev, int depth, struct bw_error *err);

static int copy_meta(int dst, const char *name, const struct stat *st, struct bw_error *err)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(err, errno, "chown `%s` to %u:%u", name, st->st_uid, st->st_gid);
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return bw_fail(err, errno, "chmod `%s`", name);
	if (utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(err, errno, "set the times of `%s`", name);
	return 0;
}

static int copy_file(int src, int dst, const char *name, struct bw_error *err)
{
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return bw_fail(err, errno, "open `%s`", name);
	_cleanup_close_ int out =
	    openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return bw_fail(err, errno, "create `%s`", name);
	return fs_copy_data(in, out, name, err);
}

static int copy_subdir(int src, int dst, const char *name, dev_t dev, int depth,
		       struct bw_error *err)
{
	if (mkdirat(dst, name, 0700) < 0)
		return bw_fail(err, errno, "mkdir `%s`", name);
	_cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0 || d < 0)
		return bw_fail(err, errno, "open `%s`", name);
	if (copy_dir(s, d, dev, depth + 1, err) < 0)
		return bw_wrap(err, "`%s`", name);
	return 0;
}

static int copy_entry(int src, int dst, const char *name, dev_t dev, int depth,
		      struct bw_error *err)
{
	struct stat st;
	char target[PATH_MAX];
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(err, errno, "stat `%s`", name);
	if (S_ISDIR(st.st_mode)) {
		/* Another mount below the directory: it is not part of the image. */
		if (st.st_dev != dev) {
			if (mkdirat(dst, name, 0700) < 0)
				return bw_fail(err, errno, "mkdir `%s`", name);
		} else if (copy_subdir(src, dst, name, dev, depth, err) < 0) {
			return -1;
		}
	} else if (S_ISREG(st.st_mode)) {
		if (copy_file(src, dst, name, err) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return bw_fail(err, errno, "readlink `%s`", name);
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0)
			return bw_fail(err, errno, "symlink `%s`", name);
	} else if (S_ISSOCK(st.st_mode)) {
		return 0; /* a socket is meaningless without its listener */
	} else if (mknodat(dst, name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0) {
		return bw_fail(err, errno, "mknod `%s`", name);
	}
	return copy_meta(dst, name, &st, err);
}

static int copy_dir(int src, int dst, dev_t dev, int depth, struct bw_error *err)
{
	if (depth > COPYUP_MAX_DEPTH)
		return bw_fail(err, ELOOP, "directories nested deeper than %d", COPYUP_MAX_DEPTH);
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bw_fail(err, e, "read directory");
	}
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d)) != NULL;) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = copy_entry(src, dst, de->d_name, dev, depth, err);
	}
	closedir(d);
	return r;
}

int rootfs_copy_up(int dirfd, int mntfd, struct bw_error *err)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return bw_fail(err, errno, "stat the directory to copy");
	_cleanup_close_ int dst = openat(mntfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		return bw_fail(err, errno, "open the new tmpfs");
	return copy_dir(dirfd, dst, st.st_dev, 0, err);
}
