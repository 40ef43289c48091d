/* The receiving end of `bulwark cp`'s tree stream (cp_stream.h): every frame validated, entries
 * made with mkdirat/openat (O_NOFOLLOW|O_EXCL), files written unnamed (O_TMPFILE) and linked
 * into place, the space budget checked as it goes, and a failed copy's top undone. */
#include "runtime/cp/cp_stream.h"
#include "runtime/cp/cp_stream_internal.h"
#include "runtime/cp/cp_stream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

struct receiver {
	const struct cp_recv_opts *o;
	struct io io;
	struct bw_error *err;
	uint64_t used, entries, warnings, since_check;
	dev_t top_dev; /* the top directory this copy made, for the undo */
	ino_t top_ino;
	char buf[CP_BUF];
};

struct frame {
	struct cp_frame h;
	char name[CP_MAX_NAME + 1];
};

static int read_frame(struct receiver *r, struct frame *f, const char *path)
{
	if (cp_io_read(&r->io, &f->h, sizeof(f->h), r->err) < 0)
		return -1;
	uint32_t t = f->h.type;
	bool named = t == CP_FRAME_DIR || t == CP_FRAME_FILE || t == CP_FRAME_LINK;
	if (t < CP_FRAME_DIR || t > CP_FRAME_DONE || f->h.reserved != 0)
		return bw_fail(r->err, EPROTO, "`%s`: malformed copy frame (type %u)", path, t);
	if (named ? f->h.name_len == 0 || f->h.name_len > CP_MAX_NAME : f->h.name_len != 0)
		return bw_fail(r->err, EPROTO, "`%s`: malformed copy frame (name length %u)", path,
			       f->h.name_len);
	if (named && cp_io_read(&r->io, f->name, f->h.name_len, r->err) < 0)
		return -1;
	f->name[f->h.name_len] = '\0';
	if (named && !cp_name_valid(f->name, f->h.name_len)) {
		char q[CP_MAX_NAME * 4 + 8];
		return bw_fail(r->err, EPROTO, "`%s`: the sender named an entry %s", path,
			       log_quote(q, sizeof(q), f->name));
	}
	if (named && ++r->entries > CP_MAX_ENTRIES)
		return bw_fail(r->err, 0, "`%s`: more than %d entries", path, CP_MAX_ENTRIES);
	return 0;
}

static int take_budget(struct receiver *r, uint64_t size, const char *path)
{
	if (r->o->max_bytes != 0 && size > r->o->max_bytes - r->used)
		return bw_fail(r->err, 0, "`%s`: the copy exceeds its budget of %llu bytes", path,
			       (unsigned long long)r->o->max_bytes);
	r->used += size;
	return 0;
}

static int recv_warn(struct receiver *r, const struct frame *f)
{
	char text[CP_MAX_WARN + 1];
	if (f->h.size > CP_MAX_WARN)
		return bw_fail(r->err, EPROTO, "a warning of %llu bytes from the copy",
			       (unsigned long long)f->h.size);
	if (cp_io_read(&r->io, text, (size_t)f->h.size, r->err) < 0)
		return -1;
	text[f->h.size] = '\0';
	text[strnlen(text, (size_t)f->h.size)] = '\0';
	/* A stream of nothing but warnings counts against the entries, and the user sees the
	 * first CP_MAX_WARNINGS. */
	if (++r->entries > CP_MAX_ENTRIES)
		return bw_fail(r->err, 0, "more than %d entries and warnings", CP_MAX_ENTRIES);
	if (++r->warnings <= CP_MAX_WARNINGS)
		log_warn("%s", text);
	else if (r->warnings == CP_MAX_WARNINGS + 1)
		log_warn("more entries skipped (not listed)");
	return 0;
}

/* What is at dirfd/name now: 0 (absent), or its S_IFMT type. */
static int existing_type(int dirfd, const char *name, mode_t *type, struct receiver *r,
			 const char *path)
{
	struct stat st;
	*type = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		*type = st.st_mode & S_IFMT;
	else if (errno != ENOENT)
		return bw_fail(r->err, errno, "stat `%s`", path);
	return 0;
}

static int open_tmp(int dirfd, char tmp[static 32], struct receiver *r, const char *path)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return bw_fail(r->err, errno, "getrandom");
		snprintf(tmp, 32, ".bwcp-%016llx", (unsigned long long)rnd);
		int fd =
		    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd
				       : bw_fail(r->err, errno, "create a file beside `%s`", path);
	}
	return bw_fail(r->err, EEXIST, "create a file beside `%s`", path);
}

static bool all_zero(const char *buf, size_t n)
{
	return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

/* With keep_space, the file system written to (fd: the file or directory being written, so a
 * mount below the top is checked for itself) keeps at least space_reserve bytes and 5% of its
 * inodes available: checked at the start, every CP_SPACE_EVERY bytes (data, and a block per
 * directory or symlink) and at the end of each file. */
static int check_space(struct receiver *r, int fd, const char *path)
{
	struct statvfs v;
	if (!r->o->keep_space)
		return 0;
	if (fstatvfs(fd >= 0 ? fd : r->o->space_fd, &v) < 0)
		return bw_fail(r->err, errno, "statvfs `%s`", path);
	uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (avail < r->o->space_reserve)
		return bw_fail(r->err, ENOSPC,
			       "`%s`: the copy would leave less than 5%% of its file system free "
			       "(%llu bytes available)",
			       path, (unsigned long long)avail);
	if (v.f_files > 0 && (uint64_t)v.f_favail < (uint64_t)v.f_files / 20)
		return bw_fail(
		    r->err, ENOSPC,
		    "`%s`: the copy would leave less than 5%% of its file system's inodes "
		    "free (%llu available)",
		    path, (unsigned long long)v.f_favail);
	r->since_check = 0;
	return 0;
}

/* An entry without data (a directory, a symlink) costs a block and an inode. */
static int charge_entry(struct receiver *r, int fd, const char *path)
{
	r->since_check += 4096;
	return r->since_check >= CP_SPACE_EVERY ? check_space(r, fd, path) : 0;
}

/* Chunks of zeros become holes (a seek; the size is set at the end): a sparse file costs
 * the destination what its data costs, not its length. */
static int recv_data(struct receiver *r, int fd, uint64_t size, const char *path)
{
	uint64_t total = size;
	while (size > 0) {
		size_t n = size < sizeof(r->buf) ? (size_t)size : sizeof(r->buf);
		if (cp_io_read(&r->io, r->buf, n, r->err) < 0)
			return -1;
		size -= n;
		if (all_zero(r->buf, n)) {
			if (lseek(fd, (off_t)n, SEEK_CUR) < 0)
				return bw_fail(r->err, errno, "seek in `%s`", path);
			continue;
		}
		int e = fs_write_all(fd, r->buf, n);
		if (e < 0)
			return bw_fail(r->err, -e, "write `%s`", path);
		r->since_check += n;
		if (r->since_check >= CP_SPACE_EVERY && check_space(r, fd, path) < 0)
			return -1;
	}
	if (ftruncate(fd, (off_t)total) < 0)
		return bw_fail(r->err, errno, "truncate `%s`", path);
	return check_space(r, fd, path);
}

/* An unnamed file in dirfd (O_TMPFILE): nothing is left under any name if the copy dies
 * before it is linked in, SIGKILL included. -1 where the file system or kernel has none. */
static int open_unnamed(int dirfd)
{
	return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* Give the unnamed file fd the name `name` in dirfd (never replacing anything): linkat
 * AT_EMPTY_PATH (CAP_DAC_READ_SEARCH before Linux 6.10, the file's opener since), else
 * through /proc/self/fd (absent in the container side's chroot). */
static int link_unnamed(int fd, int dirfd, const char *name)
{
	char self[64];
	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EPERM && errno != ENOENT && errno != EINVAL)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	struct stat a, b;
	if (stat(self, &a) < 0 || fstat(fd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		errno = EPERM;
		return -1;
	}
	return linkat(AT_FDCWD, self, dirfd, name, AT_SYMLINK_FOLLOW);
}

/* The unnamed file's data into a named one (where it cannot be linked): holes stay holes. */
static int copy_unnamed(struct receiver *r, int from, int to, const char *path)
{
	off_t off = 0;
	struct stat st;
	if (fstat(from, &st) < 0)
		return bw_fail(r->err, errno, "stat `%s`", path);
	while (off < st.st_size) {
		ssize_t n = pread(from, r->buf, sizeof(r->buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bw_fail(r->err, n < 0 ? errno : EIO, "read back `%s`", path);
		if (!all_zero(r->buf, (size_t)n)) {
			int e = lseek(to, off, SEEK_SET) < 0 ? -errno
							     : fs_write_all(to, r->buf, (size_t)n);
			if (e < 0)
				return bw_fail(r->err, -e, "write `%s`", path);
		}
		off += n;
	}
	if (ftruncate(to, st.st_size) < 0 || fchmod(to, st.st_mode & 0777) < 0)
		return bw_fail(r->err, errno, "truncate `%s`", path);
	return 0;
}

/* The unnamed file under a temporary name of its own (made only now), or a named copy of it
 * where it cannot be linked at all. */
static int name_unnamed(struct receiver *r, int dirfd, int fd, char tmp[static 32],
			const char *path)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return bw_fail(r->err, errno, "getrandom");
		snprintf(tmp, 32, ".bwcp-%016llx", (unsigned long long)rnd);
		if (link_unnamed(fd, dirfd, tmp) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	_cleanup_close_ int named = open_tmp(dirfd, tmp, r, path);
	if (named < 0) {
		tmp[0] = '\0'; /* not ours to remove */
		return -1;
	}
	return copy_unnamed(r, fd, named, path);
}

/* Put the received file (fd, unnamed or at tmp) in place as name: an absent name is linked
 * to directly; an existing regular file is replaced by a rename from a temporary name (a
 * named temporary exists only between that link and the rename). */
static int publish(struct receiver *r, int dirfd, int fd, bool unnamed, char tmp[static 32],
		   const char *name, bool replace, const char *path)
{
	if (unnamed && !replace) {
		if (link_unnamed(fd, dirfd, name) == 0)
			return 0;
		if (errno == EEXIST)
			return bw_fail(r->err, errno, "rename into `%s`", path);
	}
	if (unnamed && name_unnamed(r, dirfd, fd, tmp, path) < 0)
		return -1;
	if (renameat2(dirfd, tmp, dirfd, name, replace ? 0 : RENAME_NOREPLACE) < 0)
		return bw_fail(r->err, errno, "rename into `%s`", path);
	return 0;
}

/* Written as an unnamed file in the destination's directory (or, where the file system has
 * none, beside its name as .bwcp-<random>) and linked or renamed into place: never a
 * half-written file under its name, never a write through whatever the name is (a planted
 * symlink is replaced, not followed). Only an absent name or a regular file is replaced. */
static int recv_file(struct receiver *r, int dirfd, const struct frame *f, const char *name,
		     const char *path)
{
	mode_t type;
	char tmp[32] = "";
	if (take_budget(r, f->h.size, path) < 0 || existing_type(dirfd, name, &type, r, path) < 0)
		return -1;
	if (type != 0 && type != S_IFREG)
		return bw_fail(r->err, EEXIST, "`%s`: exists and is not a regular file", path);
	_cleanup_close_ int fd = open_unnamed(dirfd);
	bool unnamed = fd >= 0;
	if (!unnamed)
		fd = open_tmp(dirfd, tmp, r, path);
	if (fd < 0)
		return -1;
	int rc = recv_data(r, fd, f->h.size, path);
	if (rc == 0 && fchmod(fd, f->h.mode & 0777) < 0)
		rc = bw_fail(r->err, errno, "chmod `%s`", path);
	if (rc == 0)
		rc = publish(r, dirfd, fd, unnamed, tmp, name, type != 0, path);
	if (rc < 0 && tmp[0] != '\0')
		unlinkat(dirfd, tmp, 0);
	return rc;
}

static int recv_link(struct receiver *r, int dirfd, const struct frame *f, const char *name,
		     const char *path)
{
	char target[CP_MAX_LINK + 1];
	if (f->h.size == 0 || f->h.size > CP_MAX_LINK)
		return bw_fail(r->err, EPROTO, "`%s`: a symlink target of %llu bytes", path,
			       (unsigned long long)f->h.size);
	if (take_budget(r, f->h.size, path) < 0 ||
	    cp_io_read(&r->io, target, (size_t)f->h.size, r->err) < 0)
		return -1;
	target[f->h.size] = '\0';
	if (strlen(target) != f->h.size)
		return bw_fail(r->err, EPROTO, "`%s`: a symlink target with a NUL byte", path);
	if (symlinkat(target, dirfd, name) < 0)
		return bw_fail(r->err, errno, "create the symlink `%s`", path);
	/* On the host, as root: a link the container chose is nobody's, so that nothing that
	 * trusts root's links (fs.protected_symlinks, other tools' walks) takes it for one. */
	if (r->o->keep_space && geteuid() == 0 &&
	    fchownat(dirfd, name, 65534, 65534, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(r->err, errno, "chown the symlink `%s`", path);
	return charge_entry(r, dirfd, path);
}

static int recv_dir(struct receiver *r, int dirfd, const struct frame *f, const char *name,
		    const char *path, unsigned depth, bool *created);

static int recv_entries(struct receiver *r, int dirfd, const char *path, unsigned depth)
{
	struct frame f;
	for (;;) {
		if (read_frame(r, &f, path) < 0)
			return -1;
		if (f.h.type == CP_FRAME_END)
			return 0;
		if (f.h.type == CP_FRAME_DONE)
			return bw_fail(r->err, EPROTO, "`%s`: the copy ended inside a directory",
				       path);
		_cleanup_free_ char *sub = xasprintf("%s/%s", path, f.name);
		bool created;
		int rc = f.h.type == CP_FRAME_WARN   ? recv_warn(r, &f)
			 : f.h.type == CP_FRAME_FILE ? recv_file(r, dirfd, &f, f.name, sub)
			 : f.h.type == CP_FRAME_LINK
			     ? recv_link(r, dirfd, &f, f.name, sub)
			     : recv_dir(r, dirfd, &f, f.name, sub, depth + 1, &created);
		if (rc < 0)
			return -1;
	}
}

/* A directory made here is filled at 0700 and gets its mode when complete (a read-only one
 * could not be filled otherwise); an existing one is merged and keeps its own. */
static int recv_dir(struct receiver *r, int dirfd, const struct frame *f, const char *name,
		    const char *path, unsigned depth, bool *created)
{
	*created = false;
	if (depth > CP_MAX_DEPTH)
		return bw_fail(r->err, 0, "`%s`: deeper than %d directories", path, CP_MAX_DEPTH);
	if (mkdirat(dirfd, name, 0700) == 0)
		*created = true;
	else if (errno != EEXIST)
		return bw_fail(r->err, errno, "create the directory `%s`", path);
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(
		    r->err, errno == ENOTDIR || errno == ELOOP ? EEXIST : errno, "`%s`: %s", path,
		    *created ? "was replaced while being filled" : "exists and is not a directory");
	/* The directory just made, not one swapped in between mkdirat and openat (the parent
	 * may be a directory the container can write): ours, open to nobody else. */
	struct stat st;
	if (*created && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07077) != 0))
		return bw_fail(r->err, EEXIST, "`%s`: was replaced while being filled", path);
	if (*created && depth == 0) {
		r->top_dev = st.st_dev;
		r->top_ino = st.st_ino;
	}
	if (charge_entry(r, fd, path) < 0 || recv_entries(r, fd, path, depth) < 0)
		return -1;
	if (*created && fchmod(fd, f->h.mode & 01777) < 0)
		return bw_fail(r->err, errno, "chmod `%s`", path);
	return 0;
}

/* Undo a failed copy: what this call made at the top, through fds, never following a link;
 * the top only when it is still the directory made (dev, ino), opened. */
static void remove_tree(int parent, const char *name, unsigned depth, dev_t dev, ino_t ino)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISDIR(st.st_mode) && depth <= CP_MAX_DEPTH + 1) {
		int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && depth == 0 &&
		    (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino)) {
			close(fd);
			return;
		}
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (d == NULL) {
			if (fd >= 0)
				close(fd);
			return;
		}
		/* Our own 0700 or the copy's mode: entries can be removed only if writable. */
		fchmod(dirfd(d), 0700);
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				remove_tree(dirfd(d), e->d_name, depth + 1, 0, 0);
		closedir(d);
		unlinkat(parent, name, AT_REMOVEDIR);
		return;
	}
	unlinkat(parent, name, 0);
}

int cp_recv_tree(const struct cp_recv_opts *o, int dirfd, const char *name, struct bw_error *err)
{
	_cleanup_free_ struct receiver *r = xcalloc(1, sizeof(*r));
	struct frame f;
	r->o = o;
	r->io = (struct io){o->sock, o->timeout_ms, o->deadline_ms};
	r->err = err;
	if (check_space(r, -1, o->shown) < 0)
		return -1;
	do
		if (read_frame(r, &f, o->shown) < 0 ||
		    (f.h.type == CP_FRAME_WARN && recv_warn(r, &f) < 0))
			return -1;
	while (f.h.type == CP_FRAME_WARN);
	if (f.h.type != CP_FRAME_DIR && f.h.type != CP_FRAME_FILE)
		return bw_fail(err, EPROTO,
			       "`%s`: the copy does not start with a file or directory", o->shown);
	const char *top = name ? name : f.name;
	_cleanup_free_ char *path = name ? xstrdup(o->shown) : xasprintf("%s/%s", o->shown, top);
	bool created = false;
	int rc = f.h.type == CP_FRAME_FILE ? recv_file(r, dirfd, &f, top, path)
					   : recv_dir(r, dirfd, &f, top, path, 0, &created);
	while (rc == 0) {
		rc = read_frame(r, &f, path);
		if (rc == 0 && f.h.type == CP_FRAME_DONE)
			return 0;
		if (rc == 0 && f.h.type == CP_FRAME_WARN)
			rc = recv_warn(r, &f);
		else if (rc == 0)
			rc = bw_fail(err, EPROTO, "`%s`: more than one entry at the top", path);
	}
	/* Only the directory this copy made: a container that can write the parent may have
	 * renamed another one (root's 0700 tree) to its name meanwhile. */
	if (created && r->top_ino != 0)
		remove_tree(dirfd, top, 0, r->top_dev, r->top_ino);
	return -1;
}
