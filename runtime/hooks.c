/* Running hooks: fork, state on a pipe as stdin, stdout and stderr collected on another, all
 * driven by one poll loop that also watches a pidfd and the hook's timeout (one deadline). */
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

extern char **environ;

/* What a failure message quotes of a hook's output; the rest is read and dropped. */
#define HOOK_OUTPUT_KEPT 512

struct hook_io {
	int in;	 /* write end of the hook's stdin, -1 once done */
	int out; /* read end of its stdout + stderr, -1 at EOF */
	int pfd; /* pidfd, -1 where the kernel has none */
	const char *state;
	size_t left; /* bytes of state not yet written */
	char kept[HOOK_OUTPUT_KEPT + 1];
	size_t n_kept;
};

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

/* The state on the hook's stdin. A hook that reads it gets all of it (annotations can make it
 * larger than a pipe); one that closed stdin (EPIPE) or exited without reading ends the
 * writing: the hook's exit status decides, never this write. */
static void feed(struct hook_io *io)
{
	while (io->left > 0) {
		ssize_t n = write(io->in, io->state, io->left);
		if (n > 0) {
			io->state += n;
			io->left -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else if (n < 0 && errno != EINTR) {
			break; /* EPIPE: the hook closed its stdin */
		}
	}
	close_fd(&io->in);
}

/* Reads what is there, at most 64 reads a call so that a hook (or what it left running)
 * writing without pause cannot keep us here past its deadline; EOF (every writer gone)
 * closes our end. */
static void drain(struct hook_io *io)
{
	char buf[4096];
	for (int reads = 0; reads < 64; reads++) {
		ssize_t n = read(io->out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		size_t take = (size_t)n < HOOK_OUTPUT_KEPT - io->n_kept
				  ? (size_t)n
				  : HOOK_OUTPUT_KEPT - io->n_kept;
		memcpy(io->kept + io->n_kept, buf, take);
		io->n_kept += take;
		if (reads == 63)
			return; /* more to come: the caller polls again (and checks its deadline) */
	}
	close_fd(&io->out);
}

/* Until the hook exits (its pidfd; without one, until it closed its output), or the deadline:
 * 1 then. A grandchild that keeps the output pipe open cannot hold us: only the hook counts. */
static int serve(struct hook_io *io, int64_t deadline)
{
	for (;;) {
		struct pollfd p[3] = {
		    {io->pfd, POLLIN, 0}, {io->out, POLLIN, 0}, {io->in, POLLOUT, 0}};
		if (io->pfd < 0 && io->out < 0)
			return 0;
		int r = poll(p, 3, ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 1;
		if (r < 0)
			return 0; /* waitpid decides */
		if (p[2].revents & POLLOUT)
			feed(io);
		else if (p[2].revents & (POLLERR | POLLHUP))
			close_fd(&io->in);
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			drain(io);
		if (p[0].revents & POLLIN)
			return 0;
	}
}

static void __attribute__((noreturn))
exec_hook(const struct oci_hook *h, const struct hooks_ctx *ctx, int in, int out)
{
	char *fallback_args[] = {h->path, NULL};
	char *const *env = h->env != NULL ? h->env : ctx->env != NULL ? ctx->env : environ;
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	if (ctx->cwd != NULL && chdir(ctx->cwd) < 0) {
		dprintf(STDERR_FILENO, "chdir %s: %s\n", ctx->cwd, strerror(errno));
		_exit(127);
	}
	sig_reset_for_exec();
	execve(h->path, h->args ? h->args : fallback_args, env ? env : (char *[]){NULL});
	dprintf(STDERR_FILENO, "exec %s: %s\n", h->path, strerror(errno));
	_exit(127);
}

static int run_one(const struct oci_hook *h, const struct hooks_ctx *ctx, struct hook_io *io,
		   int *status)
{
	int in[2], out[2];
	int64_t secs = h->timeout.v > 86400 ? 86400 : h->timeout.v;
	int64_t deadline = h->timeout.set ? now_ms() + secs * 1000 : -1;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_hook(h, ctx, in[0], out[1]);
	int e = errno;
	close(in[0]);
	close(out[1]);
	io->in = in[1];
	io->out = out[0];
	io->pfd = -1;
	if (pid < 0) {
		close_fd(&io->in);
		close_fd(&io->out);
		return -e;
	}
	io->pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fcntl(io->in, F_SETFL, O_NONBLOCK);
	fcntl(io->out, F_SETFL, O_NONBLOCK);
	int timed_out = serve(io, deadline);
	if (timed_out) {
		if (io->pfd >= 0)
			syscall(SYS_pidfd_send_signal, io->pfd, SIGKILL, NULL, 0);
		else
			kill(pid, SIGKILL);
	}
	close_fd(&io->in);
	int r = 0;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	if (io->out >= 0)
		drain(io); /* what the hook wrote last; a grandchild's pipe is not waited for */
	close_fd(&io->out);
	close_fd(&io->pfd);
	io->kept[io->n_kept] = '\0';
	return timed_out ? -ETIMEDOUT : r;
}

/* Go's name of a signal, lower case ("bad system call"), as runc's messages have it. */
static const char *signal_words(int sig, char *buf, size_t cap)
{
	const char *s = strsignal(sig);
	size_t i = 0;
	for (; s != NULL && s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (char)(i == 0 && s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	buf[i] = '\0';
	return buf;
}

/* One failed hook: 0 when it succeeded, else -1 with err set. "error running hook" is runc's
 * wording, which tools (and runc's tests) look for. */
static int judge(const char *name, size_t i, const struct oci_hook *h, int r, int status,
		 struct hook_io *io, struct bw_error *err)
{
	char what[160], sig[64];
	if (r == -ETIMEDOUT)
		snprintf(what, sizeof(what), "timed out after %lld s", (long long)h->timeout.v);
	else if (r < 0)
		return bw_fail(err, -r, "%s hook #%zu (%s)", name, i, h->path);
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "error running hook: killed by signal %d (%s)",
			 WTERMSIG(status), signal_words(WTERMSIG(status), sig, sizeof(sig)));
	else if (WEXITSTATUS(status) != 0)
		snprintf(what, sizeof(what), "error running hook: exit status %d",
			 WEXITSTATUS(status));
	else
		return 0;
	if (io->n_kept == 0)
		return bw_fail(err, 0, "%s hook #%zu (%s): %s", name, i, h->path, what);
	char q[HOOK_OUTPUT_KEPT / 2];
	return bw_fail(err, 0, "%s hook #%zu (%s): %s, output: %s", name, i, h->path, what,
		       log_quote(q, sizeof(q), io->kept));
}

int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, const struct hooks_ctx *ctx,
	      struct bw_error *err)
{
	const char *name = oci_hook_kind_name(kind);
	bool keep_going = kind == OCI_HOOK_POSTSTART || kind == OCI_HOOK_POSTSTOP;
	/* A hook that exits without reading its stdin must not kill us (main ignores SIGPIPE
	 * already; the init, which runs createContainer and startContainer, has the defaults a
	 * container process needs). */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int ret = 0;
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		const struct oci_hook *h = &hooks->list[kind][i];
		struct hook_io io = {.state = ctx->state_json, .left = strlen(ctx->state_json)};
		int status = 0;
		log_debug("running %s hook %zu: %s", name, i, h->path);
		int r = run_one(h, ctx, &io, &status);
		if (r == 0 && io.n_kept > 0) {
			char q[HOOK_OUTPUT_KEPT / 2];
			log_debug("%s hook #%zu output: %s", name, i,
				  log_quote(q, sizeof(q), io.kept));
		}
		if (judge(name, i, h, r, status, &io, err) == 0)
			continue;
		if (!keep_going) {
			ret = -1;
			break;
		}
		char text[BW_ERROR_MAX + 64];
		bw_error_text(err, text, sizeof(text));
		log_warn("%s", text);
		*err = (struct bw_error){0};
	}
	sigaction(SIGPIPE, &old, NULL);
	return ret;
}
