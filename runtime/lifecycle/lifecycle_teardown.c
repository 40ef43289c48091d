/* teardown (delete, and a run or sandbox that ends): the init killed, the cgroup removed, the
 * watchdog, network and AppArmor profile released, poststop hooks, the audit event, then what
 * the state recorded for delete (files, id slots) and the state directory itself. */
#include "runtime/lifecycle.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/phase.h"
#include "common/util.h"
#include "profiles/apparmor.h"
#include "runtime/hooks.h"
#include "runtime/idpool.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/network.h"
#include "runtime/sandbox/audit.h"
#include "runtime/sandbox/watchdog.h"

static void wait_gone(struct container *c)
{
	_cleanup_close_ int pidfd = container_pidfd(c, NULL);
	if (pidfd < 0)
		return;
	struct pollfd p = {pidfd, POLLIN, 0};
	poll(&p, 1, 5000);
}

/* The poststop hooks, when the create recorded any: they see the container "stopped". */
static void run_poststop(struct container *c, struct bw_error *e2)
{
	struct oci_spec *spec = NULL;
	if (!state_cleanup_has(&c->state, STATE_CLEANUP_HOOKS_POSTSTOP) ||
	    lifecycle_load_spec(c, &spec, e2) != 0)
		return;
	if (spec->hooks.n[OCI_HOOK_POSTSTOP] > 0) {
		c->state.status = OCI_STATUS_STOPPED;
		c->state.pid = 0;
		_cleanup_free_ char *sj = lifecycle_hook_state_json(c, e2);
		struct hooks_ctx hc = {.state_json = sj, .cwd = c->state.bundle};
		if (sj != NULL) /* failures are warnings, logged by hooks_run */
			hooks_run(&spec->hooks, OCI_HOOK_POSTSTOP, &hc, e2);
	}
	oci_spec_free(spec);
}

/* What the create recorded for delete besides the cgroup: the caller's files, their
 * directories and id slots. */
static void release_recorded(const struct container *c)
{
	for (size_t i = 0; i < c->state.n_cleanup; i++) {
		const struct state_cleanup *e = &c->state.cleanup[i];
		if (e->kind == STATE_CLEANUP_FILE)
			unlink(e->str);
		/* Nothing of the container runs any more (wait_gone): its ids are free. */
		if (e->kind == STATE_CLEANUP_IDSLOT) {
			char dir[PATH_MAX];
			idpool_release(e->str, lifecycle_abs_state_dir(c, dir));
		}
	}
	/* A directory of the caller's for such files, once they are gone (empty only). */
	const struct state_cleanup *d;
	for (size_t i = 0; (d = state_cleanup_next(&c->state, STATE_CLEANUP_DIR, &i)) != NULL;)
		rmdir(d->str);
}

int lifecycle_teardown(struct container *c, struct bw_error *err)
{
	struct bw_error e2 = {0};
	int pidfd = container_pidfd(c, NULL);
	if (pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	}
	if (lifecycle_cgroup_remove(c, &e2, err) < 0)
		return -1;
	bw_phase("teardown: cgroup removed");
	wait_gone(c);
	watchdog_stop(c);
	network_release(c);
	bw_phase("teardown: watchdog stopped");
	apparmor_release(c->root, c->id, &e2);
	run_poststop(c, &e2);
	if (lifecycle_audit_path(NULL, c) != NULL)
		audit_commit_warn(audit_begin(c->id, "deleted"), lifecycle_audit_path(NULL, c));
	release_recorded(c);
	bw_phase("teardown: state removal");
	return container_remove(c, err);
}
