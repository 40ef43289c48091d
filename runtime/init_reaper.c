/* bulwark's own pid 1 for sandboxes (issue 11 §5): starts the payload, then stays pid 1 with its
 * death signal armed, forwards signals, reaps orphans and reports the payload's exact wait
 * status to the owner. No signal handler: everything arrives blocked, through a signalfd. */
#include "runtime/init_reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct child {
	int (*fn)(void *);
	void *arg;
	bool ctty;
	const sigset_t *old;
};

/* The command leads a session of its own, as it did as pid 1; our controlling terminal
 * (process.terminal) becomes its. */
static int child_main(void *arg)
{
	const struct child *c = arg;
	setsid();
	if (c->ctty)
		ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	sigprocmask(SIG_SETMASK, c->old, NULL);
	return c->fn(c->arg);
}

#define CHILD_STACK_SIZE (64 << 10)

pid_t init_reaper_spawn(int (*fn)(void *), void *arg, sigset_t *old)
{
	/* Our terminal is given up first: the SIGHUP and SIGCONT this sends to our group are
	 * dropped (default action, namespace init). */
	bool ctty = isatty(STDIN_FILENO) && tcgetsid(STDIN_FILENO) == getsid(0);
	if (ctty)
		ioctl(STDIN_FILENO, TIOCNOTTY);
	sigset_t all;
	sigfillset(&all);
	/* Blocked before the clone: a signal sent meanwhile waits for the signalfd. */
	sigprocmask(SIG_BLOCK, &all, old);
	struct child c = {.fn = fn, .arg = arg, .ctty = ctty, .old = old};
	/* Mapped, not on our stack: process.rlimits (RLIMIT_STACK) apply already. Where even
	 * that is refused (RLIMIT_AS), a plain fork does. */
	char *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t pid;
	if (stack != MAP_FAILED) {
		pid = clone(child_main, stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD,
			    &c);
	} else {
		pid = fork();
		if (pid == 0)
			_exit(child_main(&c));
	}
	int e = errno;
	if (stack != MAP_FAILED)
		munmap(stack, CHILD_STACK_SIZE);
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		errno = e;
	}
	return pid;
}

static int io_fd = -1;

void init_reaper_open_io(void)
{
	io_fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
}

/* The kernel adds a reaped child's I/O counts (its own and its reaped children's) to the
 * reaper's: ours, read after the payload was reaped, hold the whole reaped tree's. */
static int64_t written_bytes(void)
{
	char buf[512];
	ssize_t n = io_fd < 0 ? -1 : pread(io_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strstr(buf, "\nwrite_bytes: ");
	return p == NULL ? -1 : strtoll(p + strlen("\nwrite_bytes: "), NULL, 10);
}

static __attribute__((noreturn)) void report_and_exit(int status, int status_fd)
{
	struct init_reaper_status st = {.wait_status = status, .written = written_bytes()};
	ssize_t n;
	while ((n = write(status_fd, &st, sizeof(st))) < 0 && errno == EINTR)
		;
	/* The owner reads the exact status; the exit code is for anyone else. */
	_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

void init_reaper_hold(bool dumpable)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0);
	prctl(PR_SET_NAME, "bulwark-session");
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	for (;;) {
		struct signalfd_siginfo si;
		if (sfd >= 0 && read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		/* Without a signalfd, a blocking wait reaps as well (and sleeps with no child). */
		for (;;) {
			pid_t pid = waitpid(-1, NULL, sfd >= 0 ? WNOHANG : 0);
			if (pid == 0 || (pid < 0 && errno != EINTR))
				break;
		}
		if (sfd < 0)
			pause();
	}
}

void init_reaper_serve(pid_t payload, int status_fd)
{
	/* Credential changes may have cleared both; nothing here changes them again. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NAME, "bulwark-init");
	sigset_t all;
	sigfillset(&all);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		dprintf(STDERR_FILENO, "bulwark: init: signalfd: %m\n");
		kill(payload, SIGKILL);
	}
	for (;;) {
		struct signalfd_siginfo si = {.ssi_signo = SIGCHLD};
		if (sfd >= 0 && read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			kill(payload, (int)si.ssi_signo);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, sfd >= 0 ? WNOHANG : 0)) > 0 ||
		       (pid < 0 && errno == EINTR))
			if (pid == payload)
				report_and_exit(status, status_fd);
		if (pid < 0 && errno == ECHILD)
			_exit(1); /* cannot happen: the payload is our child until reaped */
	}
}
