/* fork + pipe + capture + deadline, for the helpers bulwark runs (apparmor_parser, the
 * nftables loader); see child.h. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define CHILD_OUTPUT_DEFAULT (64 << 10)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn)) exec_child(const struct child_spec *s, int out)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	for (size_t i = 0; i < s->n_inherit; i++)
		if (s->inherit[i] >= 0)
			fcntl(s->inherit[i], F_SETFD, 0);
	sig_reset_for_exec();
	if (s->envp != NULL)
		execve(s->path, s->argv, s->envp);
	else
		execv(s->path, s->argv);
	dprintf(STDERR_FILENO, "%s `%s`: %s\n", s->name, s->path, strerror(errno));
	_exit(127);
}

/* Reads the pipe to its end (every holder closed it) into res; -1 on overflow or deadline. */
static int capture(const struct child_spec *s, int fd, struct child_result *res,
		   struct bw_error *err)
{
	size_t max = s->output_max ? s->output_max : CHILD_OUTPUT_DEFAULT;
	size_t cap = 1024, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	int64_t deadline = s->timeout_ms > 0 ? now_ms() + s->timeout_ms : 0;
	for (;;) {
		int wait = -1;
		if (deadline != 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return bw_fail(err, ETIMEDOUT, "%s: no end after %lld ms", s->name,
					       (long long)s->timeout_ms);
			wait = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, wait);
		if (pr < 0 && errno != EINTR)
			return bw_fail(err, errno, "%s: poll its output", s->name);
		if (pr <= 0)
			continue;
		if (n > max)
			return bw_fail(err, EFBIG, "%s: more than %zu bytes of output", s->name,
				       max);
		if (n == cap) { /* up to max + 1: one byte more tells an overflow from EOF */
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return bw_fail(err, errno, "%s: read its output", s->name);
		if (r == 0)
			break;
		if (r > 0)
			n += (size_t)r;
	}
	buf[n] = '\0';
	res->output = steal_ptr(&buf);
	res->len = n;
	return 0;
}

int child_run(const struct child_spec *spec, struct child_result *res, struct bw_error *err)
{
	*res = (struct child_result){.status = -1};
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "%s: pipe", spec->name);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return bw_fail(err, e, "fork %s", spec->name);
	}
	if (pid == 0) {
		close(pfd[0]);
		if (spec->path == NULL) {
			spec->fn(spec->arg, pfd[1]);
			_exit(127);
		}
		exec_child(spec, pfd[1]);
	}
	close(pfd[1]);
	_cleanup_close_ int rfd = pfd[0];
	int r = capture(spec, rfd, res, err);
	if (r < 0)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			free(steal_ptr(&res->output));
			return r < 0 ? -1 : bw_fail(err, errno, "wait for %s", spec->name);
		}
	if (r < 0)
		return -1;
	res->status = status;
	return 0;
}

bool child_ok(const struct child_result *res)
{
	return WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0;
}

int child_exit_code(const struct child_result *res)
{
	return WIFEXITED(res->status) ? WEXITSTATUS(res->status) : 128 + WTERMSIG(res->status);
}
