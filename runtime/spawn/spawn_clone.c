/* How the child comes to be: clone3 (spawn_do_clone), with the effective ids of its user
 * namespace's owner (spawn_ns_owner_*), from inside the container's user namespace (a rootless
 * exec) or by a helper that moved itself into the container's v1 cgroups first. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

pid_t spawn_do_clone(uint64_t flags, int cgroup_fd, int *pidfd)
{
	struct clone_args a = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgroup_fd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (pid >= 0 || errno != ENOSYS)
		return pid;
	/* Kernels before 5.3: plain clone, then a pidfd (5.3+) or none. */
	pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0, 0, 0, 0);
	if (pid > 0)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}

/* The kernel charges inotify and fanotify objects, user namespaces and the like per user at
 * every level up to the user that owns each namespace (issue 13 §2): a user namespace made by
 * root charges root, whose limits every container and the host then share. A sandbox's init
 * is cloned with the effective ids of its own namespace owner (idpool_owner: an id no
 * container maps, so nothing on the host ever runs as it and gets the owner's capabilities in
 * the namespace), and nothing in it is charged to root. Only this thread's credentials change
 * (raw system calls, not glibc's all-threads set*id), with SECBIT_NO_SETUID_FIXUP so that no
 * capability is lost meanwhile; the new namespace resets the child's securebits and gives it a
 * full set of its own. The kernel clears the dumpable flag and the parent-death signal on an
 * id change: both are put back. Other containers' namespaces stay root's (capped:
 * init_container.c). */
void spawn_ns_owner_restore(struct spawn_ns_owner *o)
{
	if (!o->active)
		return;
	/* The real and saved ids stayed 0: going back needs no capability. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0 ||
	    prctl(PR_SET_SECUREBITS, (unsigned long)o->secbits, 0, 0, 0) < 0) {
		/* Never go on as anyone but root with a half-restored identity. */
		log_msg(LOG_ERROR,
			"cannot restore the runtime's own ids after cloning the init: %s",
			strerror(errno));
		_exit(125);
	}
	prctl(PR_SET_DUMPABLE, o->dumpable, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, o->pdeath, 0, 0, 0);
	o->active = false;
}

int spawn_ns_owner_become(const struct spawn_config *cfg, struct spawn_ns_owner *o,
			  struct bw_error *err)
{
	memset(o, 0, sizeof(*o));
	uint32_t id = cfg->ns_owner;
	if (id == 0 || cfg->is_exec || cfg->rootless || !(cfg->new_ns_flags & CLONE_NEWUSER) ||
	    geteuid() != 0)
		return 0;
	o->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_GET_PDEATHSIG, &o->pdeath, 0, 0, 0);
	o->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (o->dumpable < 0 || o->secbits < 0 ||
	    prctl(PR_SET_SECUREBITS, (unsigned long)o->secbits | (1UL << 2) /* NO_SETUID_FIXUP */,
		  0, 0, 0) < 0)
		return bw_fail(err, errno, "user namespace owner %u: securebits", id);
	o->active = true;
	if (syscall(SYS_setresgid, -1, id, -1) < 0 || syscall(SYS_setresuid, -1, id, -1) < 0) {
		int e = errno;
		spawn_ns_owner_restore(o);
		return bw_fail(err, e, "user namespace owner %u: set the effective ids", id);
	}
	return 0;
}

/* A child that reports to us through a pipe: fork's result, the child holding only the write
 * end p[1] and we only the read end p[0]; or -1 with nothing left open. */
static pid_t fork_reporting(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t mid = fork();
	int e = errno;
	if (mid != 0)
		close(p[1]);
	if (mid <= 0)
		close(p[0]);
	errno = e;
	return mid;
}

/* Rootless exec: an intermediate process joins the container's user namespace (it may, being
 * its owner), where it may then enter the pid (and time) namespace for its children, and clones
 * the exec'd process with CLONE_PARENT, so that it is our child as in every other case. Returns
 * the child's pid (0 in the child, which is then in the user namespace already), or -1. */
pid_t spawn_clone_from_userns(struct spawn_config *cfg, int *pidfd)
{
	int p[2];
	pid_t mid = fork_reporting(p);
	if (mid < 0)
		return -1;
	if (mid == 0) {
		pid_t child = -1;
		int e = 0;
		int fl = cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME);
		if (setns(cfg->target_pidfd, CLONE_NEWUSER) < 0 || setns(cfg->target_pidfd, fl) < 0)
			e = errno;
		else {
			cfg->target_ns_flags &= ~(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME);
			cfg->exec_in_userns = true;
			struct clone_args a = {.flags = CLONE_PARENT, .exit_signal = 0};
			child = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
			if (child == 0) {
				close(p[1]);
				return 0;
			}
			e = child < 0 ? errno : 0;
		}
		int msg[2] = {child, e};
		ssize_t w = write(p[1], msg, sizeof(msg));
		_exit(w == (ssize_t)sizeof(msg) ? 0 : 1);
	}
	int msg[2] = {-1, EPROTO};
	ssize_t n;
	do
		n = read(p[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	waitpid(mid, NULL, 0);
	if (n != (ssize_t)sizeof(msg) || msg[0] <= 0) {
		errno = msg[1] ? msg[1] : EPROTO;
		return -1;
	}
	*pidfd = (int)syscall(SYS_pidfd_open, msg[0], 0);
	return msg[0];
}

/* Does fd become readable (a pipe's report, a pidfd's exit) within ms? A failed poll counts as
 * no: nothing is waited for unbounded. */
static bool readable_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0 && (p.revents & (POLLIN | POLLHUP));
}

/* The steps of the helper (spawn_clone_via_helper), the last one reached in its report. */
enum { ENTER = 1, OWNER, CLONE };

/* In the helper: into the container's v1 cgroups, the owner's ids, the clone. Returns 0 in the
 * init; the helper itself writes its report to p1 and exits. */
static pid_t helper_main(const struct spawn_config *cfg, uint64_t flags, int cgroup_fd, int p1)
{
	int msg[3] = {-1, 0, ENTER};
	struct bw_error e = {0};
	struct spawn_ns_owner o;
	if (cg_enter_self(cfg->cg, &e) < 0)
		msg[1] = e.code;
	else if (msg[2] = OWNER, spawn_ns_owner_become(cfg, &o, &e) < 0)
		msg[1] = e.code;
	else {
		msg[2] = CLONE;
		struct clone_args a = {.flags = flags | CLONE_PARENT, .exit_signal = 0};
		if (cgroup_fd >= 0) {
			a.flags |= CLONE_INTO_CGROUP;
			a.cgroup = (uint64_t)cgroup_fd;
		}
		pid_t child = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
		if (child == 0) {
			close(p1);
			return 0;
		}
		msg[0] = child;
		msg[1] = child < 0 ? errno : 0;
	}
	ssize_t w = write(p1, msg, sizeof(msg));
	_exit(w == (ssize_t)sizeof(msg) ? 0 : 1);
}

/* What the helper's report msg (complete: all of it was read) and its wait status st say, as
 * spawn_clone_via_helper returns it. */
static pid_t helper_outcome(const int *msg, bool complete, int st, int *pidfd, bool *fallback,
			    struct bw_error *err)
{
	if (!complete) {
		errno = EPROTO;
		if (WIFSIGNALED(st))
			return bw_fail(
			    err, 0,
			    "the helper cloning the init into its cgroup was killed by "
			    "signal %d (a memory limit of a cgroup above the container's?)",
			    WTERMSIG(st));
		return bw_fail(err, 0, "the helper cloning the init into its cgroup failed");
	}
	if (msg[2] != CLONE ||
	    (msg[0] < 0 && (msg[1] == EAGAIN || msg[1] == ENOMEM || msg[1] == ENOSYS))) {
		log_debug("cgroup: clone in place: %s failed (%s): the old path",
			  msg[2] == ENTER   ? "enter"
			  : msg[2] == OWNER ? "owner ids"
					    : "clone",
			  strerror(msg[1]));
		*fallback = true;
		errno = msg[1];
		return -1;
	}
	if (msg[0] <= 0) {
		errno = msg[1] ? msg[1] : EPROTO;
		return bw_fail(err, errno, "clone3");
	}
	*pidfd = (int)syscall(SYS_pidfd_open, msg[0], 0);
	return msg[0];
}

/* A new container on a v1 or hybrid host (cgroups/cg_clone.c): a forked helper moves itself
 * into the container's v1 cgroups, takes the namespace owner's ids, clones the init with
 * CLONE_PARENT (our child, as always; into the cgroup2 hierarchy by cgroup_fd) and exits. The
 * runtime never enters the container's cgroups. Returns the init's pid (0 in the init), or -1
 * with errno; *fallback when nothing was cloned and the old path (clone, cg_enter) may be
 * taken: the helper could not enter or take the ids, or the clone met pids.max or the memory
 * limit. A helper that dies or hangs fails the create: an init may exist that we do not know,
 * and a second one must never be made (the cgroup's removal ends it). */
pid_t spawn_clone_via_helper(const struct spawn_config *cfg, uint64_t flags, int cgroup_fd,
			     int *pidfd, bool *fallback, struct bw_error *err)
{
	int p[2];
	pid_t mid = fork_reporting(p);
	*fallback = mid < 0;
	if (mid < 0)
		return -1;
	if (mid == 0)
		return helper_main(cfg, flags, cgroup_fd, p[1]);
	int msg[3] = {-1, EPROTO, 0};
	ssize_t n = -1;
	bool pr = readable_within(p[0], 10000);
	if (pr)
		do
			n = read(p[0], msg, sizeof(msg));
		while (n < 0 && errno == EINTR);
	close(p[0]);
	if (!pr) {
		/* Frozen with the cgroup, say: it cannot be reaped before it thaws. */
		kill(mid, SIGKILL);
		errno = ETIMEDOUT;
		return bw_fail(err, 0,
			       "the helper cloning the init into its cgroup did not answer in 10 s "
			       "(was the container's cgroup frozen?)");
	}
	/* Its report read, the helper only exits: unless it froze with the cgroup meanwhile. */
	int st = 0;
	_cleanup_close_ int mfd = (int)syscall(SYS_pidfd_open, mid, 0);
	if (mfd >= 0 && !readable_within(mfd, 10000)) {
		kill(mid, SIGKILL);
		return bw_fail(err, 0,
			       "the helper cloning the init into its cgroup did not exit in 10 s "
			       "(was the container's cgroup frozen?)");
	}
	waitpid(mid, &st, 0);
	return helper_outcome(msg, n == (ssize_t)sizeof(msg), st, pidfd, fallback, err);
}
