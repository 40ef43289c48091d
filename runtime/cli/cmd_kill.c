/* `bulwark kill ID [SIGNAL]`: signal the init through a pidfd, or every process with --all. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/util.h"

static int kill_all(struct container *c, int sig, struct bw_error *err)
{
	struct cg_manager *cg = NULL;
	if (c->state.cgroup_path == NULL) {
		/* No cgroup (rootless): every process of its pid namespace, each through a
		 * pidfd taken before the check that it is still a member. */
		pid_t *pids = NULL;
		size_t n = 0;
		/* The init through its checked pidfd (start time): a reused pid is not it. */
		struct bw_error e0 = {0};
		int initfd = container_pidfd(c, &e0);
		if (initfd < 0)
			return 0;
		int r = container_pidns_members(c->state.pid, &pids, &n, err);
		bool alive = syscall(SYS_pidfd_send_signal, initfd, 0, NULL, 0) == 0;
		close(initfd);
		if (r < 0)
			return -1;
		if (!alive)
			n = 0;
		for (size_t i = 0; i < n; i++) {
			int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
			if (fd < 0)
				continue;
			/* The pidfd pins whichever process has the pid now: signal it only if
			 * that one is still a member. */
			if (container_pid_shares_pidns(pids[i], c->state.pid))
				syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
			close(fd);
		}
		free(pids);
		return 0;
	}
	if (cg_open(c->state.cgroup_path, c->id, &cg, err) < 0)
		return -1;
	int r = cg_kill_all(cg, sig, err);
	cg_free(cg);
	return r;
}

/* A task frozen by a v1 freezer dies only once thawed: SIGKILL to a paused container thaws it,
 * as runc does (other signals wait for `resume`). */
static void thaw_for_kill(struct container *c)
{
	struct cg_manager *cg = NULL;
	struct bw_error e = {0};
	if (c->state.cgroup_path == NULL || cg_open(c->state.cgroup_path, c->id, &cg, &e) < 0)
		return;
	if (cg_thaw(cg, &e) < 0)
		log_warn("kill: thaw the paused container: %s", e.msg);
	cg_free(cg);
}

VERB(kill)
{
	bool all = false;
	int consumed = 0, sig = SIGTERM;
	struct cli_opt opts[] = {
	    {"all", 'a', CLI_BOOL, &all, NULL, "signal every process in the container"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark kill [command options] <container-id> [signal]",
			       "Send the signal (a name, with or without SIG, or a number; default "
			       "SIGTERM; 0 only checks) to the container's init process.",
			       opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	int left = argc - consumed;
	if (left < 1 || left > 2)
		return bw_fail(err, 0, "kill: expected a container id and an optional signal");
	if (left == 2 && cli_parse_signal(argv[consumed + 1], &sig, err) < 0)
		return -1;
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	enum oci_status st = container_status(c);
	if (st == OCI_STATUS_STOPPED) {
		r = all ? 0 : bw_fail(err, 0, "container not running");
	} else if (all) {
		r = kill_all(c, sig, err);
	} else {
		int pidfd = container_pidfd(c, err);
		if (pidfd < 0) {
			r = bw_fail(err, 0, "container not running");
		} else {
			r = lifecycle_kill_init(c, pidfd, sig, err);
			close(pidfd);
			if (r == 0 && st == OCI_STATUS_PAUSED && sig == SIGKILL)
				thaw_for_kill(c);
		}
	}
	container_free(c);
	return r < 0 ? -1 : 0;
}
