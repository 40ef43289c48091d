/* The sealed runtime (CVE-2019-5736): a container process must never be able to reach and
 * rewrite the binary that runs on the host, through /proc/<pid>/exe of anything we leave in a
 * container. Every verb that runs code inside a container re-executes itself from a copy no
 * one can write, made one of two ways:
 *
 * - a read-only overlay (issue 18): a detached overlayfs mount whose only layers are the
 *   binary's own directory and an empty read-only tmpfs. Without an upper layer overlayfs is
 *   read-only at the superblock (no remount makes it writable), and a detached mount is in no
 *   namespace where anyone could mount over it. The same page cache as the original, ~0.1 ms;
 * - a sealed memfd copy (write, grow, shrink and further seals refused), where overlayfs is
 *   unavailable (no privilege: rootless; an old kernel): 2 MB copied each time, 0.5-1 ms.
 *
 * sealed_self says whether the running binary is one of those: a memfd by its seals, the
 * overlay by the mount id sealed_exec hands to the new image (SEALED_MNT_ENV). */
#include "runtime/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

extern char **environ;

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* Is the mount with this id in our namespace's mount table? A detached mount is not. */
static bool mount_listed(uint64_t id)
{
	_cleanup_free_ char *text = NULL;
	struct bw_error e = {0};
	if (fs_read_file("/proc/self/mountinfo", 1u << 22, &text, NULL, &e) < 0)
		return true; /* unknown: not ours */
	for (const char *l = text; l != NULL && *l != '\0';) {
		unsigned long long mid;
		if (sscanf(l, "%llu ", &mid) == 1 && mid == id)
			return true;
		l = strchr(l, '\n');
		if (l != NULL)
			l++;
	}
	return false;
}

/* The environment variable sealed_exec sets to the overlay's mount id for its exec, and that
 * sealed_kind removes again: a read-only overlay counts only as the one made for us. A
 * read-only mount of a writable overlay (its upper layer), or one mountinfo hides (a chroot),
 * would pass every other check. */
#define SEALED_MNT_ENV "BULWARK_SEALED_MNT"

static bool mnt_id_of(int fd, uint64_t *id)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return false;
	*id = sx.stx_mnt_id;
	return true;
}

bool sealed_fd(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0)
		return (seals & (F_SEAL_WRITE | F_SEAL_SEAL)) == (F_SEAL_WRITE | F_SEAL_SEAL);
	struct statfs sf;
	struct statvfs sv;
	if (fstatfs(fd, &sf) < 0 || (unsigned long)sf.f_type != OVERLAYFS_SUPER_MAGIC ||
	    fstatvfs(fd, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
		return false;
	/* The read-only overlay sealed_exec made: the mount it named, in no namespace. */
	uint64_t id;
	const char *want = getenv(SEALED_MNT_ENV);
	char have[32];
	if (want == NULL || !mnt_id_of(fd, &id))
		return false;
	snprintf(have, sizeof(have), "%llu", (unsigned long long)id);
	return strcmp(want, have) == 0 && !mount_listed(id);
}

bool sealed_self(void)
{
	return sealed_kind() != NULL;
}

const char *sealed_kind(void)
{
	/* Asked before main() (network.c) and again in it: the answer holds until an exec. */
	static int known = -1;
	static bool memfd;
	if (known < 0) {
		_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		known = fd >= 0 && sealed_fd(fd);
		memfd = fd >= 0 && fcntl(fd, F_GET_SEALS) >= 0;
		/* Ours alone: nothing we start (hooks, helpers, a bulwark they run) inherits it. */
		unsetenv(SEALED_MNT_ENV);
	}
	return !known ? NULL : memfd ? "a sealed memfd copy" : "a read-only overlay";
}

/* dir with overlayfs's separators and escapes escaped (':' and '\'), into out. */
static bool escape_lowerdir(const char *dir, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = dir; *p != '\0'; p++) {
		if (o + 3 >= len)
			return false;
		if (*p == ':' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o] = '\0';
	return true;
}

static int sys_fsopen(const char *fs)
{
	return (int)syscall(SYS_fsopen, fs, FSOPEN_CLOEXEC);
}

static int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *value)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, 0);
}

static int sys_fsmount(int fd, unsigned attrs)
{
	return (int)syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, attrs);
}

/* The binary, through a detached read-only overlay of its directory: an O_PATH fd, or -1
 * (errno; the caller falls back to the memfd copy). */
static int overlay_open(const struct stat *self)
{
	char exe[PATH_MAX], lower[2 * PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return errno = ENAMETOOLONG, -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (exe[0] != '/' || slash == NULL || slash[1] == '\0' || str_has_suffix(exe, " (deleted)"))
		return errno = ENOENT, -1;
	*slash = '\0';
	const char *base = slash + 1;
	_cleanup_close_ int tctx = sys_fsopen("tmpfs");
	if (tctx < 0 || sys_fsconfig(tctx, FSCONFIG_CMD_CREATE, NULL, NULL) < 0)
		return -1;
	/* The empty second layer overlayfs needs to run without an upper one. */
	_cleanup_close_ int empty = sys_fsmount(tctx, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV |
							  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (empty < 0 || !escape_lowerdir(exe[0] == '\0' ? "/" : exe, lower, PATH_MAX + 1))
		return -1;
	size_t l = strlen(lower);
	snprintf(lower + l, sizeof(lower) - l, ":/proc/self/fd/%d", empty);
	_cleanup_close_ int octx = sys_fsopen("overlay");
	if (octx < 0 || sys_fsconfig(octx, FSCONFIG_SET_STRING, "lowerdir", lower) < 0 ||
	    sys_fsconfig(octx, FSCONFIG_CMD_CREATE, NULL, NULL) < 0)
		return -1;
	_cleanup_close_ int mnt = sys_fsmount(octx, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0)
		return -1;
	int fd = openat(mnt, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	/* The file the name found now must be the one we run: replaced meanwhile (by someone who
	 * may write that directory, and so the binary anyway), the copy is made instead. */
	struct statvfs sv;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != self->st_size ||
	    st.st_ino != self->st_ino || st.st_mtim.tv_sec != self->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != self->st_mtim.tv_nsec || st.st_uid != self->st_uid ||
	    st.st_mode != self->st_mode || fstatvfs(fd, &sv) < 0 || !(sv.f_flag & ST_RDONLY)) {
		close(fd);
		return errno = ESTALE, -1;
	}
	return fd;
}

/* The memfd copy of self, sealed; -1 with err set. */
static int memfd_copy(int self, const struct stat *st, struct bw_error *err)
{
	_cleanup_close_ int mfd = memfd_create("bulwark", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): memfd_create");
	/* A caller's `ulimit -f` below our size would end the copy in EFBIG: lifted for the copy
	 * only (soft up to hard, and hard up to our size where we may), then put back for
	 * everything we start. */
	struct rlimit fsize, lifted;
	if (getrlimit(RLIMIT_FSIZE, &fsize) < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): getrlimit");
	lifted.rlim_max = fsize.rlim_max;
	if (lifted.rlim_max != RLIM_INFINITY && lifted.rlim_max < (rlim_t)st->st_size)
		lifted.rlim_max = (rlim_t)st->st_size;
	lifted.rlim_cur = lifted.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &lifted) < 0)
		return bw_fail(
		    err, errno,
		    "sealed runtime copy (CVE-2019-5736): RLIMIT_FSIZE (ulimit -f) is %llu "
		    "bytes, below the runtime's own size (%lld bytes), and cannot be raised",
		    (unsigned long long)fsize.rlim_max, (long long)st->st_size);
	off_t off = 0;
	while (off < st->st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st->st_size - off));
		if (n <= 0) {
			setrlimit(RLIMIT_FSIZE, &fsize);
			return bw_fail(err, n < 0 ? errno : EIO,
				       "sealed runtime copy (CVE-2019-5736): copy");
		}
	}
	if (setrlimit(RLIMIT_FSIZE, &fsize) < 0)
		return bw_fail(err, errno,
			       "sealed runtime copy (CVE-2019-5736): restore RLIMIT_FSIZE");
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): seal");
	return steal_fd(&mfd);
}

int sealed_exec(char **argv, struct bw_error *err)
{
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (self < 0 || fstat(self, &st) < 0)
		return bw_fail(err, errno,
			       "sealed runtime copy (CVE-2019-5736): open /proc/self/exe");
	_cleanup_close_ int fd = overlay_open(&st);
	uint64_t id;
	if (fd >= 0 && mnt_id_of(fd, &id)) {
		log_debug("sealed runtime (CVE-2019-5736): a read-only overlay of its directory");
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)id);
		if (setenv(SEALED_MNT_ENV, v, 1) == 0)
			syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		log_debug("sealed runtime: exec from the overlay: %s; a memfd copy instead",
			  strerror(errno));
		unsetenv(SEALED_MNT_ENV);
		close_fd(&fd);
	} else
		log_debug("sealed runtime: no read-only overlay (%s); a memfd copy instead",
			  strerror(errno));
	fd = memfd_copy(self, &st, err);
	if (fd < 0)
		return -1;
	fexecve(fd, argv, environ);
	return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): exec");
}
