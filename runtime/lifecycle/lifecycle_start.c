/* start: the exec.fifo handshake that releases the init, NOTIFY_SOCKET's wait for READY=1 and
 * the poststart hooks; kill_init: a signal the init would drop waits briefly for its handler. */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/hooks.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/notify.h"
#include "runtime/sandbox/audit.h"

static int wait_readable(int fd, int pidfd, struct bw_error *err)
{
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
		int r = poll(p, pidfd >= 0 ? 2 : 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bw_fail(err, errno, "poll exec fifo");
		if (p[0].revents & (POLLIN | POLLHUP))
			return 0;
		if (p[1].revents & POLLIN)
			return bw_fail(err, 0, "container init exited before start");
	}
}

/* After the start byte the init keeps the fifo's write end until its execve closes it (or it
 * dies): EOF. Whatever it wrote meanwhile is why it failed (a startContainer hook, execve). */
static int wait_exec(int fifo, struct bw_error *err)
{
	char msg[BW_ERROR_MAX];
	size_t used = 0;
	for (;;) {
		if (wait_readable(fifo, -1, err) < 0)
			return -1;
		ssize_t n = read(fifo, msg + used, sizeof(msg) - 1 - used);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return bw_fail(err, errno, "read the exec fifo");
		if (n == 0)
			break;
		if (used + (size_t)n < sizeof(msg) - 1)
			used += (size_t)n;
	}
	if (used == 0)
		return 0;
	msg[used] = '\0';
	return bw_fail(err, 0, "%s", msg);
}

static int start_released(struct container *c, struct notify_relay **nr, struct bw_error *err)
{
	_cleanup_close_ int pidfd = container_pidfd(c, err);
	if (pidfd < 0)
		return bw_fail(err, 0, "cannot start a container that has stopped");
	_cleanup_close_ int fifo = openat(c->dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0)
		return bw_fail(err, errno == ENOENT ? 0 : errno,
			       "cannot start an already running container");
	/* Bound before the init is released: its first datagram may come right after execve. */
	if (notify_relay_open(c, nr, err) < 0)
		return -1;
	/* The init opens the write end once we hold the read end, then writes one byte. */
	char b;
	ssize_t n;
	do {
		if (wait_readable(fifo, pidfd, err) < 0)
			return -1;
		n = read(fifo, &b, 1);
	} while (n < 0 && errno == EAGAIN);
	if (n != 1)
		return bw_fail(err, n < 0 ? errno : 0, "container init exited before start");
	bw_phase("start: fifo byte");
	unlinkat(c->dirfd, "exec.fifo", 0);
	/* The state is final ("running": a live init, no fifo). The wait below lasts as long as
	 * the container's startContainer hooks, its own programs: kill and delete may come in
	 * meanwhile (the init's death ends the wait). */
	container_unlock(c);
	if (wait_exec(fifo, err) < 0)
		return -1;
	bw_phase("start: exec'd");
	/* "running" is derived from the live init and the missing fifo: nothing to save. */
	c->state.status = OCI_STATUS_RUNNING;
	if (lifecycle_audit_path(NULL, c) != NULL) {
		struct audit_rec *a = audit_begin(c->id, "started");
		audit_int(a, "pid", c->state.pid);
		audit_commit_warn(a, lifecycle_audit_path(NULL, c));
	}
	return 0;
}

static int run_poststart(struct container *c, struct bw_error *err)
{
	struct oci_spec *spec = NULL;
	if (!state_cleanup_has(&c->state, STATE_CLEANUP_HOOKS_POSTSTART))
		return 0;
	if (lifecycle_load_spec(c, &spec, err) < 0)
		return -1;
	if (spec->hooks.n[OCI_HOOK_POSTSTART] > 0) {
		/* Failures are warnings (hooks_run logs them): the container runs on. */
		_cleanup_free_ char *sj = lifecycle_hook_state_json(c, err);
		struct hooks_ctx hc = {.state_json = sj, .cwd = c->state.bundle};
		if (sj != NULL)
			hooks_run(&spec->hooks, OCI_HOOK_POSTSTART, &hc, err);
	}
	oci_spec_free(spec);
	return 0;
}

int lifecycle_start(struct container *c, struct notify_relay **relay, struct bw_error *err)
{
	struct notify_relay *nr = NULL;
	int r = start_released(c, &nr, err);
	if (r == 0 && nr != NULL && relay == NULL) {
		/* crun's order: the container is running once it said so (or ended, or the
		 * bound passed), then the poststart hooks. */
		struct bw_error e2 = {0};
		_cleanup_close_ int pidfd = container_pidfd(c, &e2);
		if (pidfd >= 0)
			notify_relay_until_ready(nr, pidfd);
	}
	if (r == 0 && relay != NULL)
		*relay = steal_ptr(&nr);
	notify_relay_close(nr);
	return r < 0 ? -1 : run_poststart(c, err);
}

/* Whether the kernel would drop SIG sent to pid now: a pid namespace's init receives from
 * outside only the signals it has a handler for (pid_namespaces(7)), unless it blocks them. */
static bool ns_init_would_drop(pid_t pid, int sig)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (f == NULL || sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
		return false;
	uint64_t bit = 1ULL << (sig - 1), blk = 0, cgt = 0;
	bool ns_init = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "NSpid:", 6) == 0) {
			const char *last = strrchr(line, '\t');
			ns_init =
			    last != NULL && last > line + 6 && strtol(last + 1, NULL, 10) == 1;
		} else if (strncmp(line, "SigBlk:", 7) == 0) {
			blk = strtoull(line + 7, NULL, 16);
		} else if (strncmp(line, "SigCgt:", 7) == 0) {
			cgt = strtoull(line + 7, NULL, 16);
		}
	}
	return ns_init && !(blk & bit) && !(cgt & bit);
}

int lifecycle_kill_init(struct container *c, int pidfd, int sig, struct bw_error *err)
{
	/* Right after `start` the program may not have set its handler yet (a shell's `trap`):
	 * a signal the kernel would drop waits up to 300 ms for one, then goes anyway. */
	for (int waited = 0; waited < 300 && ns_init_would_drop(c->state.pid, sig); waited += 5) {
		struct pollfd p = {pidfd, POLLIN, 0};
		if (poll(&p, 1, 5) != 0)
			break; /* exited (or poll failed): send and let the kernel say */
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return bw_fail(err, errno, "kill container %s", c->id);
	return 0;
}
