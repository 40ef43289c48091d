/* --keep-changes: the overlay's upper layer copied out of the scratch tmpfs. Every entry is
 * recreated through fds below the destination (names come from the sandbox: never a path walk),
 * owned by the workspace owner; whiteouts and the overlay's own attributes (trusted.overlay.*)
 * are kept so that the copy is still an upper layer for the same lower directory. */
#include "runtime/sandbox/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

/* fs_remove_tree, which undoes a failed copy, stops at the same depth. */
#define COPY_MAX_DEPTH 64

struct copy_ctx {
	uid_t uid;
	gid_t gid;
	int64_t *left; /* bytes the copy may still write */
	struct bw_error *err;
};

static int copy_dir(const struct copy_ctx *cx, int src, int dst, int depth);

/* The overlay's own attributes and the user's; ACLs and security labels name host ids or
 * policies that mean nothing to the caller. */
static bool xattr_kept(const char *name)
{
	return str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.");
}

static int copy_xattrs(const struct copy_ctx *cx, int src, int dst, const char *name)
{
	char list[65536], value[65536];
	ssize_t n = flistxattr(src, list, sizeof(list));
	if (n < 0)
		return errno == ENOTSUP
			   ? 0
			   : bw_fail(cx->err, errno, "list the attributes of `%s`", name);
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		if (!xattr_kept(k))
			continue;
		ssize_t v = fgetxattr(src, k, value, sizeof(value));
		if (v < 0)
			return bw_fail(cx->err, errno, "read attribute %s of `%s`", k, name);
		if (fsetxattr(dst, k, value, (size_t)v, 0) < 0)
			return bw_fail(cx->err, errno, "store attribute %s on `%s`", k, name);
	}
	return 0;
}

/* Owner, mode and times last (times after the content, a directory's after its entries). The
 * set-id bits are dropped: the copy belongs to the caller, and the sandbox chose them. */
static int finish_fd(const struct copy_ctx *cx, int fd, const struct stat *st, const char *name)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	mode_t mode = st->st_mode & (S_ISDIR(st->st_mode) ? 01777 : 0777);
	if (fchown(fd, cx->uid, cx->gid) < 0 || fchmod(fd, mode) < 0 || futimens(fd, times) < 0)
		return bw_fail(cx->err, errno, "set owner, mode and times of `%s`", name);
	return 0;
}

static int copy_file(const struct copy_ctx *cx, int src, int dst, const char *name,
		     const struct stat *st)
{
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return bw_fail(cx->err, errno, "open `%s`", name);
	_cleanup_close_ int out =
	    openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return bw_fail(cx->err, errno, "create `%s`", name);
	if (fs_copy_data(in, out, name, cx->err) < 0 || copy_xattrs(cx, in, out, name) < 0)
		return -1;
	return finish_fd(cx, out, st, name);
}

static int copy_subdir(const struct copy_ctx *cx, int src, int dst, const char *name,
		       const struct stat *st, int depth)
{
	if (depth >= COPY_MAX_DEPTH)
		return bw_fail(cx->err, ELOOP, "`%s`: directories nested deeper than %d levels",
			       name, COPY_MAX_DEPTH);
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return bw_fail(cx->err, errno, "open `%s`", name);
	if (mkdirat(dst, name, 0700) < 0)
		return bw_fail(cx->err, errno, "mkdir `%s`", name);
	_cleanup_close_ int out =
	    openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		return bw_fail(cx->err, errno, "open `%s`", name);
	if (copy_dir(cx, in, out, depth + 1) < 0)
		return bw_wrap(cx->err, "%s", name);
	if (copy_xattrs(cx, in, out, name) < 0)
		return -1;
	return finish_fd(cx, out, st, name);
}

/* Entries that cannot be opened without side effects: set up by name, never followed. */
static int copy_special(const struct copy_ctx *cx, int src, int dst, const char *name,
			const struct stat *st)
{
	int r;
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return bw_fail(cx->err, errno, "readlink `%s`", name);
		target[n] = '\0';
		r = symlinkat(target, dst, name);
	} else if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0)) {
		r = mknodat(dst, name, S_IFCHR | (st->st_mode & 0777),
			    makedev(0, 0)); /* whiteout */
	} else if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) {
		r = mknodat(dst, name, (st->st_mode & S_IFMT) | (st->st_mode & 0777), 0);
	} else {
		log_warn("--keep-changes: `%s` is a device node: not copied", name);
		return 0;
	}
	if (r < 0)
		return bw_fail(cx->err, errno, "create `%s`", name);
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchownat(dst, name, cx->uid, cx->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(cx->err, errno, "set owner and times of `%s`", name);
	return 0;
}

static int copy_entry(const struct copy_ctx *cx, int src, int dst, const char *name, int depth)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(cx->err, errno, "stat `%s`", name);
	if (S_ISDIR(st.st_mode))
		return copy_subdir(cx, src, dst, name, &st, depth);
	if (S_ISREG(st.st_mode)) {
		/* Sparse files and hard links take little room in the scratch layer but all of it
		 * in a plain copy: the copy may not write more than the layer holds. */
		if (st.st_size > *cx->left)
			return bw_fail(
			    cx->err, 0,
			    "`%s`: the changes would take more room than the sandbox wrote (sparse "
			    "files or hard links); not filling the host's disk",
			    name);
		*cx->left -= st.st_size;
		return copy_file(cx, src, dst, name, &st);
	}
	return copy_special(cx, src, dst, name, &st);
}

static int copy_dir(const struct copy_ctx *cx, int src, int dst, int depth)
{
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bw_fail(cx->err, e, "read a directory");
	}
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d)) != NULL;)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = copy_entry(cx, src, dst, de->d_name, depth);
	closedir(d);
	return r;
}

int workspace_copy_tree(int src, int dst, uid_t uid, gid_t gid, int64_t budget,
			struct bw_error *err)
{
	struct copy_ctx cx = {.uid = uid, .gid = gid, .left = &budget, .err = err};
	struct stat st;
	if (copy_dir(&cx, src, dst, 0) < 0 || copy_xattrs(&cx, src, dst, ".") < 0)
		return -1;
	if (fstat(src, &st) < 0)
		return bw_fail(err, errno, "stat the upper layer");
	const struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (futimens(dst, times) < 0)
		return bw_fail(err, errno, "set the times of the copy");
	return 0;
}
