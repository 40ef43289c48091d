/* tty_inject: the terminal-injection attacker of test_tty_inject.sh. Built statically by the
 * test (gcc -static -O2): the busybox rootfs has no libc.
 *
 *   tty_inject attack TEXT  push TEXT and a newline with ioctl(TIOCSTI) into every terminal in
 *                           reach: fds 0-2 when they are terminals, /dev/tty, and fd 3 when it
 *                           is a terminal. Prints one "target=result" word each (ok, an errno
 *                           name, or notty; fd3 only when it is a terminal).
 *   tty_inject probe        the refusal itself, without any terminal: TIOCSTI and TIOCLINUX on
 *                           a pipe, where the kernel answers ENOTTY and only a seccomp filter
 *                           answers EPERM; also with garbage in the request's upper 32 bits
 *                           (the kernel reads 32) and a harmless request (TIOCGWINSZ) as the
 *                           control. Prints "sti=E sti_hi=E linux=E linux_hi=E winsz=E".
 *   tty_inject session      "leader" when the process leads its own session, else "member".
 *   tty_inject hold CMD SECS  the key-logger of test_stdio_tty.sh: waits for a process whose
 *                           command line is CMD (argv joined by spaces), opens its
 *                           /proc/PID/fd/0, prints "held=tty|pipe|null|other", then for SECS
 *                           seconds prints each read as "read=[TEXT]" and "read=EOF" at the end.
 *   tty_inject setd         what a payload does to a terminal in fds 0-2: clears ECHO
 *                           (TCSETS) on each and sets the N_NULL line discipline (TIOCSETD) on
 *                           fd 0. Prints "fdN=ok|notty|ERRNO ... setd=ok|ERRNO". */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
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
	printf("devtty=%s", t < 0 ? ename(errno) : ename(inject(t, text)));
	/* A terminal handed over on purpose (--preserve-fds). */
	if (isatty(3))
		printf(" fd3=%s", ename(inject(3, text)));
	printf("\n");
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

static int find_cmd(const char *want)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d != NULL && found == 0 && (e = readdir(d)) != NULL) {
		char path[64], buf[256];
		int pid = atoi(e->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n - 1; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[n - 1] = '\0';
		if (strcmp(buf, want) == 0)
			found = pid;
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static const char *kind(int fd)
{
	struct stat st;
	if (isatty(fd))
		return "tty";
	if (fstat(fd, &st) < 0)
		return "other";
	if (S_ISFIFO(st.st_mode))
		return "pipe";
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
		return "null";
	return "other";
}

static int hold(const char *cmd, int secs)
{
	int pid = 0, fd = -1;
	for (int i = 0; i < 400 && (pid = find_cmd(cmd)) == 0; i++)
		usleep(25000);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/0", pid);
	if (pid == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		printf("held=%s\n", pid == 0 ? "notfound" : ename(errno));
		return 1;
	}
	printf("held=%s\n", kind(fd));
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 200) <= 0)
			continue;
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0) {
			printf("read=%s\n", n == 0 ? "EOF" : ename(errno));
			return 0;
		}
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		printf("read=[%s]\n", buf);
	}
	printf("read=timeout\n");
	return 0;
}

static int setd(void)
{
	for (int fd = 0; fd < 3; fd++) {
		struct termios t;
		const char *r = "notty";
		if (isatty(fd)) {
			tcgetattr(fd, &t);
			t.c_lflag &= ~(tcflag_t)ECHO;
			r = ename(tcsetattr(fd, TCSANOW, &t) < 0 ? errno : 0);
		}
		printf("fd%d=%s ", fd, r);
	}
	int ldisc = 27; /* N_NULL */
	printf("setd=%s\n", ename(raw_ioctl(0, TIOCSETD, &ldisc)));
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
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], atoi(argv[3]));
	if (argc == 2 && strcmp(argv[1], "setd") == 0)
		return setd();
	fprintf(stderr, "usage: tty_inject attack TEXT | probe | session | hold CMD SECS | setd\n");
	return 2;
}
