/* Running hooks: fork, state on a pipe as stdin, wait on a pidfd with the hook's timeout (one
 * deadline for both). */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), for poll. */
static int ms_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - now_ms();
	return left <= 0 ? 0 : left > 86400000 ? 86400000 : (int)left;
}

static int wait_until(pid_t pid, int pfd, int64_t deadline, int *status)
{
	if (pfd >= 0 && deadline >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, ms_left(deadline));
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			waitpid(pid, status, 0);
			return -ETIMEDOUT;
		}
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The state on the hook's stdin. A hook that reads it gets all of it (annotations can make it
 * larger than a pipe); one that closed stdin (EPIPE) or exited without reading, or the
 * deadline, ends the writing: the hook's exit status decides, never this write. SIGPIPE is
 * ignored meanwhile (main ignores it already; the init, which runs startContainer hooks, has
 * the defaults a container process needs). */
static void feed_state(int fd, int pfd, const char *s, size_t len, int64_t deadline)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			break; /* EPIPE: the hook closed its stdin */
		struct pollfd p[2] = {{fd, POLLOUT, 0}, {pfd, POLLIN, 0}};
		int r = poll(p, pfd >= 0 ? 2 : 1, ms_left(deadline));
		if (r == 0 || (r < 0 && errno != EINTR) || (pfd >= 0 && (p[1].revents & POLLIN)))
			break; /* the deadline, or the hook is gone */
	}
	sigaction(SIGPIPE, &old, NULL);
}

static int run_one(const struct oci_hook *h, const char *state_json, int *status)
{
	int pipefd[2];
	int64_t secs = h->timeout.v > 86400 ? 86400 : h->timeout.v;
	int64_t deadline = h->timeout.set ? now_ms() + secs * 1000 : -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return -e;
	}
	if (pid == 0) {
		char *fallback_args[] = {h->path, NULL};
		char *empty_env[] = {NULL};
		dup2(pipefd[0], STDIN_FILENO);
		sig_reset_for_exec();
		execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(pipefd[0]);
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	feed_state(pipefd[1], pfd, state_json, strlen(state_json), deadline);
	close(pipefd[1]);
	return wait_until(pid, pfd, deadline, status);
}

int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, const char *state_json,
	      struct bw_error *err)
{
	const char *name = oci_hook_kind_name(kind);
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		const struct oci_hook *h = &hooks->list[kind][i];
		int status = 0;
		log_debug("running %s hook %zu: %s", name, i, h->path);
		int r = run_one(h, state_json, &status);
		if (r == -ETIMEDOUT)
			return bw_fail(err, 0, "%s hook #%zu (%s): timed out after %lld s", name, i,
				       h->path, (long long)h->timeout.v);
		if (r < 0)
			return bw_fail(err, -r, "%s hook #%zu (%s)", name, i, h->path);
		if (WIFSIGNALED(status))
			return bw_fail(err, 0, "%s hook #%zu (%s): killed by signal %d", name, i,
				       h->path, WTERMSIG(status));
		if (WEXITSTATUS(status) != 0)
			return bw_fail(err, 0, "%s hook #%zu (%s): exit status %d", name, i, h->path,
				       WEXITSTATUS(status));
	}
	return 0;
}
