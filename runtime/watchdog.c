/* The watchdog process: double-forked from the runtime (so it is nobody's child but the
 * reaper's), holding only pidfds of the init and of the owner; when its time comes it does
 * exactly what `delete --force` does, under the container's lock. */
#include "runtime/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/audit.h"
#include "runtime/lifecycle.h"

#define LIFETIME_MAX_MS (366LL * 24 * 3600 * 1000)

int watchdog_lifetime(const struct oci_spec *spec, int64_t *ms, struct bw_error *err)
{
	const char *v = oci_spec_annotation(spec, WATCHDOG_LIFETIME_ANNOTATION);
	*ms = 0;
	if (v == NULL)
		return 0;
	if (parse_duration_ms(v, ms) < 0 || *ms <= 0 || *ms > LIFETIME_MAX_MS)
		return bw_fail(err, 0,
			       "annotations: " WATCHDOG_LIFETIME_ANNOTATION
			       ": expected a duration such as 30s, 10m or 2h (at most 366 days), got \"%s\"",
			       v);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kill and release the container, as `delete --force` would. */
static void release(const char *root, const char *id, bool expired, int64_t lifetime_ms)
{
	struct container *c = NULL;
	struct bw_error e = {0};
	if (container_load(root, id, &c, &e) < 0)
		return; /* already deleted */
	if (expired) {
		struct audit_rec *a = audit_begin(id, "expired");
		audit_int(a, "lifetime_ms", lifetime_ms);
		audit_commit_warn(a, lifecycle_audit_path(NULL, c));
	}
	lifecycle_teardown(c, &e);
	container_free(c);
}

static __attribute__((noreturn)) void watch(const char *root, const char *id, int init_fd,
					    int owner_fd, int64_t lifetime_ms)
{
	int64_t deadline = lifetime_ms > 0 ? now_ms() + lifetime_ms : 0;
	for (;;) {
		struct pollfd p[2] = {{init_fd, POLLIN, 0}, {owner_fd, POLLIN, 0}};
		int timeout = -1;
		if (deadline > 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				release(root, id, true, lifetime_ms);
				_exit(0);
			}
			timeout = left > 86400000 ? 86400000 : (int)left;
		}
		/* With an owner, the init's exit changes nothing: the owner tears down. */
		int r = owner_fd >= 0 ? poll(p + 1, 1, timeout) : poll(p, 1, timeout);
		if (r < 0 && errno != EINTR)
			_exit(1);
		if (owner_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			release(root, id, false, 0);
			_exit(0);
		}
		if (owner_fd < 0 && (p[0].revents & (POLLIN | POLLHUP)))
			_exit(0); /* the init is gone: its engine deletes the container */
	}
}

/* In the grandchild: nothing but the two pidfds and /dev/null survives. */
static void become_watchdog(const char *root, const char *id, int init_pidfd, pid_t owner,
			    int64_t lifetime_ms)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int owner_fd = owner > 0 ? (int)syscall(SYS_pidfd_open, owner, 0) : -1;
	if (owner > 0 && owner_fd < 0)
		_exit(1);
	/* Out of the way first: either fd may already sit at 3 or 4. */
	int ifd = fcntl(init_pidfd, F_DUPFD_CLOEXEC, 10);
	int ofd = owner_fd >= 0 ? fcntl(owner_fd, F_DUPFD_CLOEXEC, 10) : -1;
	if (ifd < 0 || (owner_fd >= 0 && ofd < 0) || dup2(ifd, 3) < 0 ||
	    (ofd >= 0 && dup2(ofd, 4) < 0))
		_exit(1);
	syscall(SYS_close_range, owner_fd >= 0 ? 5 : 4, ~0U, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		_exit(1);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	prctl(PR_SET_NAME, "bulwark-watch");
	watch(root, id, 3, owner_fd >= 0 ? 4 : -1, lifetime_ms);
}

int watchdog_start(const struct global_opts *g, struct container *c, int init_pidfd,
		   int64_t lifetime_ms, pid_t owner, struct bw_error *err)
{
	if (lifetime_ms <= 0 && owner <= 0)
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "watchdog: pipe");
	pid_t child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return bw_fail(err, errno, "watchdog: fork");
	}
	if (child == 0) {
		close(p[0]);
		setsid();
		pid_t w = fork();
		if (w == 0) {
			close(p[1]);
			become_watchdog(cli_state_root(g), c->id, init_pidfd, owner, lifetime_ms);
		}
		/* Its start time is read while it is our child: it cannot be reaped (and its pid
		 * reused) before we exit. */
		struct {
			pid_t pid;
			uint64_t start;
		} msg = {w, w > 0 ? proc_start_time(w) : 0};
		_exit(w > 0 && write(p[1], &msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
	}
	close(p[1]);
	struct {
		pid_t pid;
		uint64_t start;
	} msg = {-1, 0};
	ssize_t n = read(p[0], &msg, sizeof(msg));
	close(p[0]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(msg) || msg.pid <= 1 || msg.start == 0)
		return bw_fail(err, 0, "watchdog: could not start it");
	/* Saved with the rest of the state at the end of create (one write on the hot path). */
	container_record_helper(c, "watchdog", msg.pid, msg.start);
	return 0;
}

void watchdog_stop(struct container *c)
{
	container_stop_helper(c, "watchdog", SIGKILL, 1000);
}
