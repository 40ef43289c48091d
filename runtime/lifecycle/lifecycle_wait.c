/* The wait for a container's init: signals forwarded (or its io relayed), a --timeout's
 * deadline and --kill-after's grace period (a SIGTERM timer thread), the exit status as a
 * shell gives it. */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/fdpass.h"
#include "common/util.h"

int lifecycle_wait(pid_t pid, int pidfd, const struct console_io *io, int64_t timeout_ms,
		   bool *timed_out, struct bw_error *err)
{
	return lifecycle_wait_raw(pid, pidfd, io, timeout_ms, 0, timed_out, NULL, err);
}

static bool io_any(const struct console_io *io)
{
	return io != NULL && (io->master >= 0 || io->in >= 0 || io->out >= 0 || io->err >= 0);
}

/* The polite half of a --timeout with a grace period: SIGTERM at the deadline, from a thread
 * of its own, so that the relay of the command's io (console_relay) runs on untouched until
 * the SIGKILL deadline. The thread only sleeps and signals; it is cancelled if the command
 * ends first. */
struct term_timer {
	pthread_t thread;
	int pidfd;
	struct timespec at; /* CLOCK_MONOTONIC */
	atomic_bool sent;
};

static void *term_timer_main(void *arg)
{
	struct term_timer *t = arg;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t->at, NULL) == EINTR)
		;
	/* Marked before it is sent: a command that ends at once on SIGTERM still timed out. */
	atomic_store(&t->sent, true);
	syscall(SYS_pidfd_send_signal, t->pidfd, SIGTERM, NULL, 0);
	return NULL;
}

static struct term_timer *term_timer_start(int pidfd, int64_t after_ms)
{
	struct term_timer *t = xcalloc(1, sizeof(*t));
	t->pidfd = pidfd;
	clock_gettime(CLOCK_MONOTONIC, &t->at);
	t->at.tv_sec += after_ms / 1000;
	t->at.tv_nsec += (after_ms % 1000) * 1000000;
	if (t->at.tv_nsec >= 1000000000) {
		t->at.tv_sec++;
		t->at.tv_nsec -= 1000000000;
	}
	atomic_init(&t->sent, false);
	int r = pthread_create(&t->thread, NULL, term_timer_main, t);
	if (r != 0) {
		free(t);
		errno = r;
		return NULL;
	}
	return t;
}

/* Returns whether SIGTERM was sent. */
static bool term_timer_stop(struct term_timer *t)
{
	if (t == NULL)
		return false;
	pthread_cancel(t->thread);
	pthread_join(t->thread, NULL);
	bool sent = atomic_load(&t->sent);
	free(t);
	return sent;
}

/* Without io to relay: until the init ends (or the deadline, when > 0, passes), the signals
 * this process gets go to the init, SIGWINCH aside. Returns whether the deadline passed. */
static bool forward_signals(int pidfd, int64_t deadline)
{
	bool expired = false;
	sigset_t mask;
	sigset_all_but_faults(&mask, false);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	for (;;) {
		int wait_ms = -1;
		if (deadline > 0) {
			int64_t left = deadline - console_now_ms();
			if (left <= 0) {
				expired = true;
				break;
			}
			wait_ms = left > 86400000 ? 86400000 : (int)left;
		}
		struct pollfd p[2] = {{pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			/* Stopped past the deadline, we find it killed by the watchdog. */
			expired = deadline > 0 && console_now_ms() >= deadline;
			break;
		}
		struct signalfd_siginfo si;
		while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGWINCH)
				syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
	}
	return expired;
}

int lifecycle_wait_raw(pid_t pid, int pidfd, const struct console_io *io, int64_t timeout_ms,
		       int64_t kill_after_ms, bool *timed_out, int *raw_status,
		       struct bw_error *err)
{
	int status;
	int64_t deadline = timeout_ms > 0 ? console_now_ms() + timeout_ms : 0;
	bool expired = false;
	struct term_timer *term = NULL;
	if (deadline > 0 && kill_after_ms > 0) {
		term = term_timer_start(pidfd, timeout_ms);
		if (term != NULL)
			deadline += kill_after_ms;
		else
			log_warn("--kill-after: no timer thread (%s): SIGKILL at the deadline",
				 strerror(errno));
	}
	if (io_any(io))
		expired = console_relay(io, pidfd, deadline, err) == 1;
	else
		expired = forward_signals(pidfd, deadline);
	/* Ended by the SIGTERM (or during the grace period): still a timeout, as timeout -k. */
	expired |= term_timer_stop(term);
	if (expired) {
		/* SIGKILL to the init ends its whole pid namespace, whatever ignores SIGTERM. */
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (timed_out != NULL)
			*timed_out = true;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait for the container");
	if (raw_status != NULL)
		*raw_status = status;
	if (expired)
		return 124;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
