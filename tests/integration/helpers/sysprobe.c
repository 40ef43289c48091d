/* sysprobe: performs one syscall named on the command line and prints the resulting errno (0 on
 * success), so the seccomp tests can assert the exact result inside a container. Arguments are
 * chosen so that, were the filter missing, the call fails harmlessly (bad magic, missing file,
 * zeroed attributes) with an errno other than the one the filter gives.
 * Usage: sysprobe NAME [ARG...]   e.g. sysprobe unshare_user, sysprobe socket 2 3, sysprobe nr 1000
 * Built statically by the test (gcc -static -O2): the busybox rootfs has no libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static long num(int argc, char **argv, int i, long def)
{
	return i < argc ? (long)strtoul(argv[i], NULL, 0) : def;
}

static int clone_child(void *arg)
{
	(void)arg;
	return 0;
}

/* glibc's clone() is the clone system call itself (never clone3). The child gets its own stack:
 * with CLONE_VM it would otherwise run on the parent's and race it. */
static long probe_clone(unsigned long flags)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	long r = clone(clone_child, stack + sizeof(stack), (int)(flags | SIGCHLD), NULL);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long probe_clone3(void)
{
	uint64_t args[11] = {0};
	args[4] = SIGCHLD; /* exit_signal */
	long r = syscall(SYS_clone3, args, sizeof(args));
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long probe_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, NULL, 0);
	return p;
}

static long probe_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long r = syscall(SYS_setns, fd, CLONE_NEWUTS);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long probe_socket(long family, long type)
{
	long r = syscall(SYS_socket, family, type, 0);
	if (r >= 0)
		close((int)r);
	return r;
}

static long probe_process_vm_readv(void)
{
	char src[8] = "probe", dst[8];
	struct iovec l = {dst, sizeof(dst)}, rem = {src, sizeof(src)};
	return syscall(SYS_process_vm_readv, getpid(), &l, 1, &rem, 1, 0);
}

static long probe_open_write(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long r = write(fd, "x", 1);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long probe(int argc, char **argv)
{
	const char *n = argv[1];
	char zero[256] = {0};
	if (!strcmp(n, "unshare_user"))
		return syscall(SYS_unshare, CLONE_NEWUSER);
	if (!strcmp(n, "unshare_ns"))
		return syscall(SYS_unshare, CLONE_NEWNS);
	if (!strcmp(n, "unshare_none"))
		return syscall(SYS_unshare, 0);
	if (!strcmp(n, "setns"))
		return probe_setns();
	if (!strcmp(n, "clone"))
		return probe_clone((unsigned long)num(argc, argv, 2, 0));
	if (!strcmp(n, "clone3"))
		return probe_clone3();
	if (!strcmp(n, "fork"))
		return probe_fork();
	if (!strcmp(n, "mount"))
		return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
	if (!strcmp(n, "umount2"))
		return syscall(SYS_umount2, "/nonexistent", 0);
	if (!strcmp(n, "pivot_root"))
		return syscall(SYS_pivot_root, "/nonexistent", "/nonexistent");
	if (!strcmp(n, "keyctl")) /* KEYCTL_GET_KEYRING_ID of the session keyring */
		return syscall(SYS_keyctl, 0, -3, 0);
	if (!strcmp(n, "add_key")) /* a key type that does not exist: ENODEV without the filter */
		return syscall(SYS_add_key, "bw-no-such-type", "d", "x", 1, -2);
	if (!strcmp(n, "request_key"))
		return syscall(SYS_request_key, "user", "bw-no-such-key", NULL, -2);
	if (!strcmp(n, "bpf")) /* BPF_MAP_CREATE with a zeroed attribute: EINVAL otherwise */
		return syscall(SYS_bpf, 0, zero, 64);
	if (!strcmp(n, "perf_event_open"))
		return syscall(SYS_perf_event_open, zero, 0, -1, -1, 0);
	if (!strcmp(n, "userfaultfd"))
		return syscall(SYS_userfaultfd, O_CLOEXEC);
	if (!strcmp(n, "io_uring_setup")) /* 120 bytes of zeroed io_uring_params */
		return syscall(SYS_io_uring_setup, 1, zero);
	if (!strcmp(n, "ptrace"))
		return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
	if (!strcmp(n, "process_vm_readv"))
		return probe_process_vm_readv();
	if (!strcmp(n, "kexec_load")) /* an invalid architecture in flags: EINVAL otherwise */
		return syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
	if (!strcmp(n, "init_module")) /* an image shorter than an ELF header: ENOEXEC otherwise */
		return syscall(SYS_init_module, zero, 0, "");
	if (!strcmp(n, "finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(n, "reboot")) /* wrong magic: EINVAL otherwise, never a reboot */
		return syscall(SYS_reboot, 0x1234, 0x5678, LINUX_REBOOT_CMD_CAD_ON, NULL);
	if (!strcmp(n, "swapon"))
		return syscall(SYS_swapon, "/nonexistent", 0);
	if (!strcmp(n, "acct"))
		return syscall(SYS_acct, "/nonexistent");
	if (!strcmp(n, "quotactl")) /* Q_SYNC on a missing device */
		return syscall(SYS_quotactl, 0x80000100U, "/nonexistent", 0, NULL);
	if (!strcmp(n, "open_by_handle_at")) /* handle_bytes 0: EINVAL otherwise */
		return syscall(SYS_open_by_handle_at, AT_FDCWD, zero, O_RDONLY);
	if (!strcmp(n, "personality")) {
		long r = syscall(SYS_personality, (unsigned long)num(argc, argv, 2, 0xffffffff));
		syscall(SYS_personality, 0UL); /* back to PER_LINUX, which the profile allows */
		return r;
	}
	if (!strcmp(n, "socket"))
		return probe_socket(num(argc, argv, 2, 1), num(argc, argv, 3, 1));
	if (!strcmp(n, "getpid"))
		return syscall(SYS_getpid);
	if (!strcmp(n, "open")) {
		long r = syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
		if (r >= 0)
			close((int)r);
		return r;
	}
	if (!strcmp(n, "write"))
		return probe_open_write();
	if (!strcmp(n, "nr")) /* any syscall number, all arguments zero */
		return syscall(num(argc, argv, 2, -1), 0, 0, 0, 0, 0, 0);
	fprintf(stderr, "sysprobe: unknown probe %s\n", n);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sysprobe NAME [ARG...]\n");
		return 2;
	}
	errno = 0;
	long r = probe(argc, argv);
	printf("%d\n", r == -1 ? errno : 0);
	return 0;
}
