/* setid_probe: one way of giving PATH a mode, as test_setid.sh names it, then what became of
 * PATH. Prints "rc=R mode=M": R is ok or the errno's name, M the octal permission bits of PATH
 * afterwards (lstat) or "none". Raw system calls, so that the call is exactly the one named
 * (no libc fallback from fchmodat2 or openat2 to another call).
 *
 *   setid_probe CALL PATH MODE
 *   CALL: open openat creat open_tmpfile openat_tmpfile openat2 mknod mknodat mkdir mkdirat
 *         chmod fchmod fchmodat fchmodat2 fchmodat2_nofollow fchmodat2_empty chmod_procfd
 * The chmod family expects PATH to exist; the others create it. O_TMPFILE files are linked to
 * PATH through /proc/self/fd (which needs no capability), so that the result can be seen.
 * Built statically by the test (gcc -static -O2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static const char *ename(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	default:
		return "other";
	}
}

static int res(long r)
{
	return r < 0 ? errno : 0;
}

static int tmpfile_at(const char *path, mode_t mode, bool at)
{
	char dir[4096], proc[64];
	snprintf(dir, sizeof(dir), "%s", path);
	const int flags = O_TMPFILE | O_WRONLY;
	long fd = at ? syscall(SYS_openat, AT_FDCWD, dirname(dir), flags, mode)
		     : syscall(SYS_open, dirname(dir), flags, mode);
	if (fd < 0)
		return errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%ld", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
		return 1000 + errno; /* created, but the result could not be named */
	return 0;
}

static int fd_call(const char *call, const char *path, mode_t mode)
{
	int flags = strcmp(call, "chmod_procfd") == 0 ? O_PATH : O_RDONLY;
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return 2000 + errno;
	if (strcmp(call, "fchmod") == 0)
		return res(syscall(SYS_fchmod, fd, mode));
	if (strcmp(call, "fchmodat2_empty") == 0)
		return res(syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH));
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return res(syscall(SYS_chmod, proc, mode));
}

static int run(const char *call, const char *path, mode_t mode)
{
	const int cr = O_CREAT | O_WRONLY | O_EXCL;
	if (strcmp(call, "open") == 0)
		return res(syscall(SYS_open, path, cr, mode));
	if (strcmp(call, "openat") == 0)
		return res(syscall(SYS_openat, AT_FDCWD, path, cr, mode));
	if (strcmp(call, "creat") == 0)
		return res(syscall(SYS_creat, path, mode));
	if (strcmp(call, "open_tmpfile") == 0 || strcmp(call, "openat_tmpfile") == 0)
		return tmpfile_at(path, mode, call[4] == 'a');
	if (strcmp(call, "openat2") == 0) {
		struct open_how how = {.flags = (unsigned long long)cr, .mode = mode};
		return res(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how)));
	}
	if (strcmp(call, "mknod") == 0)
		return res(syscall(SYS_mknod, path, S_IFREG | mode, 0));
	if (strcmp(call, "mknodat") == 0)
		return res(syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | mode, 0));
	if (strcmp(call, "mkdir") == 0)
		return res(syscall(SYS_mkdir, path, mode));
	if (strcmp(call, "mkdirat") == 0)
		return res(syscall(SYS_mkdirat, AT_FDCWD, path, mode));
	if (strcmp(call, "chmod") == 0)
		return res(syscall(SYS_chmod, path, mode));
	if (strcmp(call, "fchmodat") == 0)
		return res(syscall(SYS_fchmodat, AT_FDCWD, path, mode));
	if (strcmp(call, "fchmodat2") == 0)
		return res(syscall(SYS_fchmodat2, AT_FDCWD, path, mode, 0));
	if (strcmp(call, "fchmodat2_nofollow") == 0)
		return res(syscall(SYS_fchmodat2, AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW));
	if (strcmp(call, "fchmod") == 0 || strcmp(call, "fchmodat2_empty") == 0 ||
	    strcmp(call, "chmod_procfd") == 0)
		return fd_call(call, path, mode);
	fprintf(stderr, "setid_probe: unknown call %s\n", call);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: setid_probe CALL PATH MODE\n");
		return 2;
	}
	int e = run(argv[1], argv[2], (mode_t)strtoul(argv[3], NULL, 8));
	struct stat st;
	if (e >= 1000)
		printf("rc=setup-failed-%d ", e);
	else
		printf("rc=%s ", ename(e));
	if (lstat(argv[2], &st) < 0)
		printf("mode=none\n");
	else
		printf("mode=%o\n", (unsigned int)(st.st_mode & 07777));
	return 0;
}
