/* The parent side of the spawn, in its order: into the container's pid namespace for the
 * clone, the clone (runtime/spawn/spawn_clone.c), the child's set-up (spawn_prepare.c), its
 * requests served (spawn_serve.c) until it reports ready or fails, then killed and reaped. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/phase.h"

const char *const spawn_user_count_keys[SPAWN_USER_COUNTS] = {
    "user/max_inotify_instances", "user/max_inotify_watches", "user/max_fanotify_groups",
    "user/max_fanotify_marks"};

/* The host's limits behind spawn_user_count_keys (the initial user namespace's). */
static void read_user_counts(struct spawn_config *cfg)
{
	static const char *const host[SPAWN_USER_COUNTS] = {
	    "/proc/sys/fs/inotify/max_user_instances", "/proc/sys/fs/inotify/max_user_watches",
	    "/proc/sys/fs/fanotify/max_user_groups", "/proc/sys/fs/fanotify/max_user_marks"};
	for (size_t i = 0; i < SPAWN_USER_COUNTS; i++) {
		char buf[32] = {0};
		cfg->user_counts[i] = 0;
		int fd = open(host[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		cfg->user_counts[i] = n > 0 ? strtoll(buf, NULL, 10) : 0;
	}
}

void spawn_config_init(struct spawn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->fifo_fd = -1;
	cfg->target_pidfd = -1;
	for (int i = 0; i < 3; i++)
		cfg->stdio[i] = -1;
	cfg->status_fd = -1;
	cfg->init_netns = cfg->init_userns = -1;
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		cfg->ns_fds[t] = -1;
}

/* The init died without a word: say why in the config's terms where we can. Its cgroup's OOM
 * killer means the memory limit cannot hold even the runtime's set-up before execve (the
 * limit itself is accepted by the kernel: on v1 it is written while the cgroup is empty). */
static void explain_init_death(const struct spawn_config *cfg, int status, uint64_t ooms_before,
			       struct bw_error *err)
{
	uint64_t ooms = 0;
	struct bw_error e2 = {0};
	const struct opt_i64 *limit = &cfg->spec->linux.resources.memory.limit;
	if (cfg->cg != NULL && cg_oom_kills(cfg->cg, &ooms, &e2) == 0 && ooms > ooms_before) {
		if (limit->set && limit->v > 0)
			bw_fail(
			    err, 0,
			    "linux.resources.memory.limit: %lld bytes is too low: the OOM killer "
			    "killed the container's init before it could start the process",
			    (long long)limit->v);
		else
			bw_fail(err, 0,
				"the OOM killer of the container's cgroup killed its init before "
				"it could "
				"start the process");
		return;
	}
	if (WIFSIGNALED(status))
		bw_fail(err, 0,
			"the container's init was killed by signal %d (%s) before it could "
			"start the process",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* setns(CLONE_NEWPID/NEWTIME) in the parent only changes where its children are born. */
static int enter_for_children(const struct spawn_config *cfg, int *saved_pid, struct bw_error *err)
{
	int fd = -1, flags = 0;
	if (cfg->is_exec && (cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME))) {
		fd = cfg->target_pidfd;
		flags = cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME);
	} else if (!cfg->is_exec && cfg->ns_fds[OCI_NS_PID] >= 0) {
		fd = cfg->ns_fds[OCI_NS_PID];
		flags = CLONE_NEWPID;
	}
	if (fd < 0)
		return 0;
	*saved_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	if (*saved_pid < 0)
		return bw_fail(err, errno, "open own pid namespace");
	if (setns(fd, flags) < 0)
		return bw_fail(err, errno, "enter the container's pid namespace");
	return 0;
}

static void leave_for_children(int *saved_pid)
{
	if (*saved_pid < 0)
		return;
	setns(*saved_pid, CLONE_NEWPID);
	_cleanup_close_ int t = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
	if (t >= 0)
		setns(t, CLONE_NEWTIME);
	close(*saved_pid);
	*saved_pid = -1;
}

/* A rootless exec may not enter the container's pid namespace from ours: a process in its user
 * namespace makes the child (spawn_clone_from_userns), not into the container's cgroup. */
static bool exec_via_userns(const struct spawn_config *cfg)
{
	return cfg->is_exec && cfg->rootless && (cfg->target_ns_flags & CLONE_NEWUSER) &&
	       (cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME));
}

/* The clone's state, from the socket pair to the child's birth. */
struct clone_plan {
	int sv[2];	/* the sync socket: sv[0] stays ours, sv[1] is the child's */
	int pidfd;	/* the child's, or -1 */
	int saved_pid;	/* our pid namespace for children, while in the container's */
	uint64_t flags; /* a new container's CLONE_NEW* */
	bool via_userns;
	struct cg_clone cgc;
};

/* Up to the clone: the socket pair, and children born in the container's pid (and time)
 * namespace. On failure nothing is left open. */
static int prepare_clone(struct spawn_config *cfg, struct clone_plan *c, uint64_t *ooms_before,
			 struct bw_error *err)
{
	cfg->rootless = geteuid() != 0;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER))
		read_user_counts(cfg);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sv) < 0)
		return bw_fail(err, errno, "socketpair");
	if (!cfg->is_exec)
		c->flags = (uint64_t)(cfg->new_ns_flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME));
	c->via_userns = exec_via_userns(cfg);
	if (!c->via_userns && enter_for_children(cfg, &c->saved_pid, err) < 0) {
		leave_for_children(&c->saved_pid);
		close(c->sv[0]);
		close(c->sv[1]);
		return -1;
	}
	if (cfg->cg != NULL)
		cg_oom_kills(cfg->cg, ooms_before, NULL);
	log_debug("nsexec container setup: clone3 of the %s, new namespaces %#llx",
		  cfg->is_exec ? "exec'd process" : "container init", (unsigned long long)c->flags);
	bw_phase("spawn: pre-clone");
	return 0;
}

/* How the child gets into its cgroup (cgroups/cg_clone.c): born in it, or it enters itself.
 * Returns whether a helper clones it (spawn_clone_via_helper). */
static bool plan_cgroup(struct spawn_config *cfg, struct clone_plan *c)
{
	if (cfg->cg != NULL && !c->via_userns) {
		if (cfg->is_exec)
			cg_exec_clone_begin(cfg->cg, &c->cgc);
		else
			cg_clone_begin(cfg->cg,
				       cfg->spec->linux.has_resources ? &cfg->spec->linux.resources
								      : NULL,
				       &c->cgc);
	}
	/* An exec'd process enters by itself (init.c); a new container's init by a helper, and
	 * not when it goes to a pid namespace the config names (the helper would be there too). */
	cfg->cg_child_enters = cfg->is_exec && c->cgc.self_enter;
	bool helper = !cfg->is_exec && c->cgc.self_enter && c->saved_pid < 0;
	if (!cfg->is_exec && c->cgc.self_enter && !helper) {
		cg_clone_end(&c->cgc);
		c->cgc.fd = cg_clone_fd(cfg->cg);
		c->cgc.in_place = c->cgc.fd >= 0;
	}
	return helper;
}

/* Nothing was cloned: prepare_clone and plan_cgroup undone. */
static int abandon_clone(struct clone_plan *c)
{
	cg_clone_end(&c->cgc);
	leave_for_children(&c->saved_pid);
	close(c->sv[0]);
	close(c->sv[1]);
	return -1;
}

/* The clone, by the helper or by us (the child goes on in init_main), then back to our own
 * namespaces. Returns the child's pid, c->sv[0] still open, or -1 with nothing left open. */
static pid_t clone_child(struct spawn_config *cfg, struct clone_plan *c, bool helper,
			 struct bw_error *err)
{
	pid_t pid = -1;
	int clone_errno = 0;
	if (helper) {
		bool fallback = false;
		pid = spawn_clone_via_helper(cfg, c->flags, c->cgc.fd, &c->pidfd, &fallback, err);
		clone_errno = errno;
		if (pid == 0) {
			close(c->sv[0]);
			init_main(cfg, c->sv[1]);
		}
		if (pid < 0 && !fallback)
			return abandon_clone(c);
		if (pid < 0) {
			cg_clone_end(&c->cgc);
			helper = false;
		}
	}
	if (!helper) {
		struct spawn_ns_owner owner = {0};
		if (!c->via_userns && spawn_ns_owner_become(cfg, &owner, err) < 0)
			return abandon_clone(c);
		pid = c->via_userns ? spawn_clone_from_userns(cfg, &c->pidfd)
				    : spawn_do_clone(c->flags, c->cgc.fd, &c->pidfd);
		if (pid == 0) {
			close(c->sv[0]);
			init_main(cfg, c->sv[1]);
		}
		clone_errno = errno;
		spawn_ns_owner_restore(&owner);
	}
	cfg->cg_in_place = c->cgc.in_place;
	cg_clone_end(&c->cgc);
	bw_phase("spawn: cloned");
	leave_for_children(&c->saved_pid);
	close(c->sv[1]);
	if (pid < 0) {
		close(c->sv[0]);
		return bw_fail(err, clone_errno, "clone3");
	}
	return pid;
}

/* The child's set-up failed: it is killed and reaped, res emptied. Returns -1. */
static int reap_failed_child(const struct spawn_config *cfg, struct spawn_result *res, bool died,
			     uint64_t ooms_before, struct bw_error *err)
{
	int status = 0;
	/* A dying init keeps the status of what killed it: our SIGKILL does not replace it. */
	if (res->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, res->pidfd, SIGKILL, NULL, 0);
	else
		kill(res->pid, SIGKILL);
	waitpid(res->pid, &status, 0);
	if (died)
		explain_init_death(cfg, status, ooms_before, err);
	if (res->pidfd >= 0)
		close(res->pidfd);
	if (res->master >= 0)
		close(res->master);
	res->pid = -1;
	res->pidfd = -1;
	res->master = -1;
	return -1;
}

int spawn_container_process(struct spawn_config *cfg, struct spawn_result *res,
			    struct bw_error *err)
{
	struct clone_plan c = {.pidfd = -1, .saved_pid = -1, .cgc = {.fd = -1}};
	uint64_t ooms_before = 0;
	bool died = false;

	res->pid = -1;
	res->pidfd = -1;
	res->master = -1;
	if (prepare_clone(cfg, &c, &ooms_before, err) < 0)
		return -1;
	pid_t pid = clone_child(cfg, &c, plan_cgroup(cfg, &c), err);
	if (pid < 0)
		return -1;
	res->pid = pid;
	res->pidfd = c.pidfd;
	cfg->sock_parent = c.sv[0];
	log_debug("child process in init(): pid %d, joining its cgroup and configuring", (int)pid);
	if (spawn_after_clone(cfg, pid, c.pidfd, err) < 0 ||
	    spawn_serve_child(cfg, pid, c.sv[0], res, &died, err) < 0) {
		close(c.sv[0]);
		return reap_failed_child(cfg, res, died, ooms_before, err);
	}
	close(c.sv[0]);
	return 0;
}
