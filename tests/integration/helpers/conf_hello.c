/* conf_hello: the smallest container program for the seccomp ordering tests. Prints "hello",
 * then "getppid=<errno>" for a getppid the test's profile may refuse (0 when allowed), so a
 * test can tell the filter is in force. Only write, getppid and glibc's static start-up calls.
 * Built statically by the test (gcc -static -O2): the busybox rootfs has no libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char line[] = "hello\ngetppid=000\n";
	long r = syscall(SYS_getppid);
	int e = r < 0 ? errno : 0;
	line[14] = (char)('0' + e / 100 % 10);
	line[15] = (char)('0' + e / 10 % 10);
	line[16] = (char)('0' + e % 10);
	return write(1, line, sizeof(line) - 1) == (ssize_t)sizeof(line) - 1 ? 0 : 1;
}
