/* tty_inject: the terminal-injection attacker of test_tty_inject.sh. Built statically by the
 * test (gcc -static -O2): the busybox rootfs has no libc.
 *
 *   tty_inject attack TEXT  push TEXT and a newline with ioctl(TIOCSTI) into every terminal in
 *                           reach: fds 0-2 when they are terminals, and /dev/tty. Prints one
 *                           "target=result" word each (ok, an errno name, or notty).
 *   tty_inject probe        the refusal itself, without any terminal: TIOCSTI and TIOCLINUX on
 *                           a pipe, where the kernel answers ENOTTY and only a seccomp filter
 *                           answers EPERM; also with garbage in the request's upper 32 bits
 *                           (the kernel reads 32) and a harmless request (TIOCGWINSZ) as the
 *                           control. Prints "sti=E sti_hi=E linux=E linux_hi=E winsz=E".
 *   tty_inject session      "leader" when the process leads its own session, else "member". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HIGH_GARBAGE 0xdead000000000000ul

static const char *ename(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case EIO:
		return "EIO";
	case ENXIO:
		return "ENXIO";
	case ENOTTY:
		return "ENOTTY";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EBADF:
		return "EBADF";
	default:
		return "other";
	}
}

/* Raw syscall: the request goes to the kernel exactly as given, upper bits included. */
static int raw_ioctl(int fd, unsigned long req, void *arg)
{
	return syscall(SYS_ioctl, fd, req, arg) < 0 ? errno : 0;
}

static int inject(int fd, const char *text)
{
	for (const char *p = text; *p; p++) {
		int e = raw_ioctl(fd, TIOCSTI, (void *)p);
		if (e != 0)
			return e;
	}
	return raw_ioctl(fd, TIOCSTI, "\n");
}

static int attack(const char *text)
{
	for (int fd = 0; fd < 3; fd++)
		printf("fd%d=%s ", fd, isatty(fd) ? ename(inject(fd, text)) : "notty");
	int t = open("/dev/tty", O_RDWR | O_CLOEXEC);
	printf("devtty=%s\n", t < 0 ? ename(errno) : ename(inject(t, text)));
	return 0;
}

static int probe(void)
{
	int p[2];
	char c = 'x';
	struct winsize ws;
	if (pipe(p) < 0)
		return 2;
	printf("sti=%s ", ename(raw_ioctl(p[0], TIOCSTI, &c)));
	printf("sti_hi=%s ", ename(raw_ioctl(p[0], HIGH_GARBAGE | TIOCSTI, &c)));
	printf("linux=%s ", ename(raw_ioctl(p[0], TIOCLINUX, &c)));
	printf("linux_hi=%s ", ename(raw_ioctl(p[0], HIGH_GARBAGE | TIOCLINUX, &c)));
	printf("winsz=%s\n", ename(raw_ioctl(p[0], TIOCGWINSZ, &ws)));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "attack") == 0)
		return attack(argv[2]);
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return probe();
	if (argc == 2 && strcmp(argv[1], "session") == 0) {
		puts(getsid(0) == getpid() ? "leader" : "member");
		return 0;
	}
	fprintf(stderr, "usage: tty_inject attack TEXT | probe | session\n");
	return 2;
}
