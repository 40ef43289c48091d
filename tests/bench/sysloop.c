/* sysloop: the cost of cheap syscalls under the container's seccomp filter. Runs N getppid() and
 * N getuid() through syscall(2) (never cached by libc) and prints nanoseconds per call; the
 * clock is read only around each loop (vDSO, no syscall). Usage: sysloop [N]. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double per_call(long nr, long n)
{
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(nr);
	return (now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 500000;
	if (n <= 0)
		n = 500000;
	per_call(SYS_getppid, n / 10); /* warm-up */
	double ppid = per_call(SYS_getppid, n);
	double uid = per_call(SYS_getuid, n);
	printf("getppid_ns=%.1f getuid_ns=%.1f\n", ppid, uid);
	return 0;
}
