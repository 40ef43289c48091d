/* Running hooks: fork, state on a pipe as stdin, wait on a pidfd with the hook's timeout. */
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

static int wait_with_timeout(pid_t pid, int64_t timeout_s, int *status)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0 && timeout_s > 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int ms = timeout_s > 86400 ? 86400 * 1000 : (int)timeout_s * 1000;
		int r;
		do
			r = poll(&p, 1, ms);
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

static int run_one(const struct oci_hook *h, const char *state_json, int *status)
{
	int pipefd[2];
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
		execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(pipefd[0]);
	/* The state is small (well below the pipe buffer); a hook that never reads stdin must
	 * not block us, so write without waiting for it. */
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	fs_write_all(pipefd[1], state_json, strlen(state_json));
	close(pipefd[1]);
	return wait_with_timeout(pid, h->timeout.set ? h->timeout.v : 0, status);
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
