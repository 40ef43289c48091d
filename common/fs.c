/* File and path helpers shared by every module. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int fs_read_fd(int fd, size_t max, char **out, size_t *len, struct bw_error *err)
{
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);

	for (;;) {
		if (n == cap) {
			if (cap >= max)
				return bw_fail(err, EFBIG, "file larger than %zu bytes", max);
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return bw_fail(err, errno, "read");
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

int fs_config_str(int fs, const char *key, const char *value, struct bw_error *err)
{
	if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
		return bw_fail(err, errno, "fsconfig %s=%s", key, value);
	return 0;
}

int fs_open_nolinks(int dirfd, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags,
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

bool fs_is_callers_stream(const char *path)
{
	static const char *const names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(path, names[i]) == 0)
			return true;
	const char *n = str_has_prefix(path, "/dev/fd/")	 ? path + 8
			: str_has_prefix(path, "/proc/self/fd/") ? path + 14
								 : NULL;
	if (n == NULL || *n == '\0')
		return false;
	for (; *n != '\0'; n++)
		if (*n < '0' || *n > '9')
			return false;
	return true;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct bw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", path);
	if (fs_read_fd(fd, max, out, len, err) < 0)
		return bw_wrap(err, "`%s`", path);
	return 0;
}

int fs_read_file_at(int dirfd, const char *name, size_t max, char **out, struct bw_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", name);
	if (fs_read_fd(fd, max, out, NULL, err) < 0)
		return bw_wrap(err, "`%s`", name);
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int fs_write_file_at(int dirfd, const char *name, const char *data, struct bw_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", name);
	int r = fs_write_all(fd, data, strlen(data));
	if (r < 0)
		return bw_fail(err, -r, "write `%s` to `%s`", data, name);
	return 0;
}

int fs_write_file(const char *path, const char *data, struct bw_error *err)
{
	return fs_write_file_at(AT_FDCWD, path, data, err);
}

int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct bw_error *err)
{
	/* The temporary name is random and made with O_EXCL: whoever can write the directory (a
	 * sandbox's rw workspace holding --report) cannot have planted a FIFO that blocks the
	 * open, a symlink or a file of its own there in advance. */
	const char *slash = strrchr(name, '/');
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = ((uint64_t)getpid() << 32) ^ (uint64_t)tries; /* O_EXCL still holds */
		free(tmp);
		if (slash != NULL)
			tmp = xasprintf("%.*s/.%s.%016" PRIx64, (int)(slash - name), name,
					slash + 1, rnd);
		else
			tmp = xasprintf(".%s.%016" PRIx64, name, rnd);
		fd =
		    openat(dirfd, tmp,
			   O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0 && errno != EEXIST)
			return bw_fail(err, errno, "create `%s`", tmp);
	}
	if (fd < 0)
		return bw_fail(err, EEXIST, "create `%s`", tmp);
	int r = fs_write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return bw_fail(err, -r, "write `%s`", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return bw_fail(err, e, "rename `%s` to `%s`", tmp, name);
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct bw_error *err)
{
	return fs_write_atomic_at(AT_FDCWD, path, data, len, mode, err);
}

int fs_mkdir_p(const char *path, mode_t mode, struct bw_error *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return bw_fail(err, errno, "mkdir `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "mkdir `%s`", p);
	return 0;
}

static int remove_tree_at(int dirfd, const char *name, dev_t dev, int depth, bool dirs_only)
{
	struct stat st;
	if (depth > 64)
		return -ELOOP;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) && dirs_only)
		return depth == 0 ? -ENOTDIR : 0;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	int r = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (dirs_only && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		int q = remove_tree_at(fd, de->d_name, dev, depth + 1, dirs_only);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int fs_remove_tree(const char *path, struct bw_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "stat `%s`", path);
	int r = remove_tree_at(AT_FDCWD, path, st.st_dev, 0, false);
	if (r < 0)
		return bw_fail(err, -r, "remove `%s`", path);
	return 0;
}

int fs_rmdir_tree_at(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return remove_tree_at(dirfd, name, st.st_dev, 0, true);
}

int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct bw_error *err)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s` inside the container root", path);
	return fd;
}

int fs_mkpath_in_root(int rootfd, const char *path, bool is_dir, mode_t mode, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL;

	if (cur < 0)
		return bw_fail(err, errno, "dup root fd");
	char *tok = strtok_r(copy, "/", &save);
	while (tok != NULL) {
		char *next = strtok_r(NULL, "/", &save);
		bool last = next == NULL;
		if (strcmp(tok, "..") == 0 || strcmp(tok, ".") == 0) {
			/* Only resolvable safely through openat2 below. */
		} else if (last && !is_dir) {
			int f = openat(cur, tok,
				       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
			if (f >= 0)
				close(f);
			else if (errno != EEXIST)
				return bw_fail(err, errno, "create `%s` inside the container root",
					       path);
		} else if (mkdirat(cur, tok, mode) < 0 && errno != EEXIST) {
			return bw_fail(err, errno, "mkdir `%s` inside the container root", path);
		}
		/* Re-resolve the prefix so far from the root, so a symlink planted in between is
		 * followed inside the root and never out of it. */
		size_t plen = (size_t)(tok - copy) + strlen(tok);
		_cleanup_free_ char *prefix = xstrndup(path, plen);
		int fd = fs_open_in_root(rootfd, prefix, O_PATH, 0, err);
		if (fd < 0)
			return -1;
		close(cur);
		cur = fd;
		tok = next;
	}
	return steal_fd(&cur);
}

int fs_cloexec_from(int from)
{
	if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	_cleanup_close_ int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (d == NULL)
		return -errno;
	dfd = -1;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		int fd = atoi(de->d_name);
		if (fd >= from && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

const char *fs_fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

bool fs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *fs_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (*b == '\0')
		return xstrndup(a, la);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *fs_path_clean(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	out[o++] = '/';
	const char *p = path;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p != '\0' && *p != '/')
			p++;
		size_t len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	return out;
}

int fs_copy_data(int in, int out, const char *name, struct bw_error *err)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bw_fail(err, errno, "read `%s`", name);
		if (n == 0)
			return 0;
		int r = fs_write_all(out, buf, (size_t)n);
		if (r < 0)
			return bw_fail(err, -r, "write `%s`", name);
	}
}

bool fs_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
