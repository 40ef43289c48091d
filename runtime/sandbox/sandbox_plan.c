/* The sandbox's plan: its id, the rootless and delegated-cgroup variants, its host id range,
 * the policy read once, and the order in which the flags are turned into a spec (sandbox_plan);
 * what the plan held is released by sandbox_run_free. */
#include "runtime/sandbox/sandbox.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "oci/policy.h"
#include "profiles/seccomp.h"
#include "runtime/cli/cli.h"
#include "runtime/hostpath.h"
#include "runtime/idpool.h"
#include "runtime/init_reaper.h"
#include "runtime/lifecycle.h"
#include "runtime/network.h"
#include "runtime/rootfs/rootfs_mountinfo.h"
#include "runtime/sandbox/kdenials.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/sandbox/sandbox_net.h"
#include "runtime/sandbox/sandbox_view.h"
#include "runtime/sandbox/specgen.h"
#include "runtime/sandbox/subids.h"
#include "runtime/sandbox/watchdog.h"
#include "runtime/sandbox/workspace.h"
#include "runtime/sandbox/sandbox_internal.h"

/* Rootless in a delegated cgroup v2 subtree (docs/rootless.md): the limits apply there as with
 * root. A limit flag whose controller the subtree does not offer is refused naming both; a
 * default one is left out, and said so once on stderr and in the report (tasks then fall back
 * to RLIMIT_NPROC). */
static int delegated_plan(const struct sandbox_flags *f, struct specgen *sg,
			  struct sandbox_run *run, const struct cg_delegation *d,
			  struct bw_error *err)
{
	static char note[1024];
	const struct sandbox_limit_flags *l = &f->lim;
	const struct {
		const char *flag, *ctrl;
		bool given;
	} want[] = {{"--memory", "memory", l->memory != NULL},
		    {"--cpus", "cpu", l->cpus != NULL},
		    {"--pids", "pids", l->pids != NULL}};
	char missing[64] = "";
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		if (cg_delegation_offers(d, want[i].ctrl))
			continue;
		if (want[i].given)
			return bw_fail(
			    err, 0,
			    "%s: the %s controller is not delegated to uid %d (its cgroup "
			    "`%s` offers: %s), so the limit cannot be enforced",
			    want[i].flag, want[i].ctrl, (int)geteuid(), d->base,
			    d->controllers[0] != '\0' ? d->controllers : "none");
		size_t n = strlen(missing);
		snprintf(missing + n, sizeof(missing) - n, "%s%s", n > 0 ? ", " : "", want[i].ctrl);
	}
	if (!cg_delegation_offers(d, "memory"))
		sg->memory_limit = 0;
	if (!cg_delegation_offers(d, "cpu")) {
		sg->cpu_quota = sg->cpu_period = 0;
		sg->cpu_shares = sg->cpu_weight = 0;
	}
	if (!cg_delegation_offers(d, "pids")) {
		sg->nproc = (uint64_t)sg->pids_limit;
		run->budget.nproc = sg->pids_limit;
		sg->pids_limit = 0;
	}
	if (missing[0] == '\0') {
		snprintf(note, sizeof(note), "delegated cgroup `%s`: every limit applies", d->base);
	} else {
		snprintf(note, sizeof(note),
			 "delegated cgroup `%s` without the %s controller(s): those default limits "
			 "are not applied%s",
			 d->base, missing,
			 cg_delegation_offers(d, "pids") ? "" : " (tasks bounded by RLIMIT_NPROC)");
		run->warning = note;
	}
	run->rep.rootless_limits = note;
	return 0;
}

/* Rootless on pure cgroup v2 outside a delegated cgroup (a login shell's session scope): the
 * caller's own systemd makes one, as podman does - a transient scope with Delegate=yes that this
 * process moves into before it forks anything; from there the delegated path is the same. The
 * scope ends with its last process (this runtime, the sandbox), and systemd removes its cgroup
 * then: on every path, failures included. Why there is none goes into why. */
static int user_scope(const struct sandbox_run *run, struct cg_delegation *d, char *why, size_t n,
		      struct bw_error *err)
{
	_cleanup_free_ char *unit = xasprintf("bulwark-%s.scope", run->id);
	_cleanup_free_ char *desc = xasprintf("bulwark sandbox %s", run->id);
	char w[BW_ERROR_MAX + 64] = "";
	int r = cg_user_scope_delegation(unit, desc, d, w, sizeof(w), err);
	if (w[0] != '\0')
		snprintf(why, n, ", and %s", w);
	return r;
}

/* Without root (issue 14 §2): the same confinement that needs no privilege. The one id the
 * kernel lets us map is ours, shown as the sandbox user; an egress allowlist goes through
 * pasta (network.c) under the same table and DNS proxy (loopback only needs nothing). In a
 * delegated cgroup v2 subtree (the caller's own, or a scope its systemd makes: user_scope) the
 * limits apply there (delegated_plan). Where no cgroup can be written (a hybrid or v1 host, v2
 * without delegation and without a user manager), limits asked for with flags are refused
 * at create (lifecycle.c), and the default ones are replaced by what the kernel enforces:
 * RLIMIT_NPROC counts the tasks of the sandbox's own user namespace. */
static int sandbox_rootless_plan(const struct sandbox_flags *f, struct specgen *sg,
				 struct sandbox_run *run, struct bw_error *err)
{
	if (geteuid() == 0)
		return 0;
	if ((run->net.policy_doc != NULL || run->net.policy != NULL) && network_pasta(err) == NULL)
		return bw_wrap(err, "--allow/--allow-domain/--policy");
	sg->map_uid = sg->uid;
	sg->map_gid = sg->gid;
	sg->host_uid = (uint32_t)geteuid();
	sg->host_gid = (uint32_t)getegid();
	sg->map_size = 1;
	/* The caller's subordinate ranges where it has them: the sandbox user stays its own id,
	 * the other ids of an image show as their owners instead of nobody. */
	sg->subids = sg->uid < 65536 && sg->gid < 65536 &&
		     subids_for_caller(65535, &sg->sub_uid, &sg->sub_gid);
	struct cg_delegation d = {0};
	char why[BW_ERROR_MAX + 128] = "";
	int dr = cg_delegated(&d, err);
	if (dr == 0)
		dr = user_scope(run, &d, why, sizeof(why), err);
	if (dr < 0)
		return bw_wrap(err, "find a delegated cgroup");
	if (dr == 1) {
		dr = delegated_plan(f, sg, run, &d, err);
		cg_delegation_free(&d);
		return dr;
	}
	const struct sandbox_limit_flags *l = &f->lim;
	const char *flag = l->memory ? "--memory" : l->cpus ? "--cpus" : l->pids ? "--pids" : NULL;
	if (flag != NULL)
		return bw_fail(
		    err, 0,
		    "%s: a limit needs a cgroup, which bulwark cannot write without root here "
		    "(no delegated cgroup v2 subtree%s; rootless sandboxes get RLIMIT_NPROC and "
		    "--timeout instead)",
		    flag, why);
	sandbox_budget_no_cgroup(sg, &run->budget);
	if (l->pids == NULL) {
		sg->nproc = (uint64_t)sg->pids_limit;
		run->budget.nproc = sg->pids_limit;
		sg->pids_limit = 0;
	}
	run->rep.rootless_limits =
	    "no writable cgroup: tasks bounded by RLIMIT_NPROC (1024) in the sandbox's own user "
	    "namespace; memory and CPU not bounded, no CPU weight (--timeout bounds time); "
	    "--disk and --max-file-size apply";
	run->warning = "rootless without a writable cgroup: memory and CPU are not bounded; tasks "
		       "by RLIMIT_NPROC";
	return 0;
}

/* As root, a host id range of its own (idpool.h), instead of the range every `spec` bundle
 * shares: per-user kernel counts and file ownership are then never shared between sandboxes. */
static int sandbox_own_id_range(const struct global_opts *g, struct specgen *sg,
				struct sandbox_run *run, struct bw_error *err)
{
	if (geteuid() != 0)
		return 0;
	if (idpool_acquire(cli_state_root(g), run->id, &run->slot, err) < 0)
		return -1;
	sg->host_uid = sg->host_gid = run->slot.base;
	return 0;
}

int sandbox_new_id(struct sandbox_run *run, struct bw_error *err)
{
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return bw_fail(err, errno, "getrandom");
	snprintf(run->id, sizeof(run->id), "sandbox-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5]);
	return 0;
}

void sandbox_run_init(struct sandbox_run *run)
{
	*run = (struct sandbox_run){.rep = {.workspace_bytes = -1},
				    .report = {.fd = -1, .dirfd = -1},
				    .budget = {.fds = {-1, -1, -1, -1}},
				    .slot = {.fd = -1}};
}

/* A policy file (--policy, or the global one) is read here, once, and checked; the runtime's
 * private copy of those bytes (write_policy) is what create, the audit digest and bulwark-net
 * then read: a file replaced meanwhile cannot give them different policies. */
static int read_policy_once(const struct global_opts *g, struct sandbox_net_plan *net,
			    struct bw_error *err)
{
	/* The global --policy with no network flag to narrow it is the sandbox's policy too. */
	if (net->policy == NULL && net->policy_doc == NULL)
		net->policy = g->policy;
	if (net->policy == NULL)
		return 0;
	const char *flag = "--policy";
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct sandbox_policy p;
	if (sandbox_read_flag_file(flag, net->policy, POLICY_MAX_BYTES, &text, &len, err) < 0)
		return -1;
	if (memchr(text, '\0', len) != NULL)
		return bw_fail(err, 0, "%s %s: a NUL byte in the document", flag, net->policy);
	_cleanup_free_ char *what = xasprintf("%s %s", flag, net->policy);
	if (policy_parse(text, len, what, &p, err) < 0)
		return -1;
	policy_free(&p);
	net->policy_doc = steal_ptr(&text);
	net->policy = NULL;
	return 0;
}

int sandbox_plan(const struct global_opts *g, struct sandbox_flags *f, char **args,
		 struct specgen *sg, struct workspace_set *ws, struct sandbox_run *run,
		 struct bw_error *err)
{
	int r = sandbox_net_plan(&f->net, g->policy, &run->net, err);
	if (r == 0)
		r = read_policy_once(g, &run->net, err);
	if (r == 0)
		r = sandbox_build_spec(f, args, sg, &run->root, &run->known, &run->budget, err);
	if (r == 0)
		run->rep.host_view = sandbox_view_name(run->root.view);
	if (r == 0)
		r = sandbox_rootless_plan(f, sg, run, err);
	if (r == 0)
		r = sandbox_own_id_range(g, sg, run, err);
	if (r == 0)
		r = sandbox_add_workspaces(g, f, sg, ws, err);
	if (r == 0)
		r = sandbox_refuse_writable_reaching_runtime(g, sg, &run->known, ws, err);
	/* Read after every host path is resolved: a slow --env-file (a pipe) cannot widen any
	 * window between a path's check and its use (there is none: each is held by an fd). */
	if (r == 0)
		r = sandbox_build_env(f, sg, &sg->env, err);
	if (r == 0)
		r = sandbox_forbid_setid_if_rw(ws, run->root.user_binds, strv_len(f->binds),
					       f->seccomp_complain, sg, err);
	if (r == 0)
		r = sandbox_prepare_workspaces(sg, &run->budget, ws, err);
	if (r == 0)
		r = workspace_sources(ws, &run->known, err);
	return r;
}

void sandbox_run_free(struct sandbox_run *run, struct specgen *sg, struct workspace_set *ws)
{
	/* Released first: a report path inside a workspace must reach the real directory, not
	 * the mounts this process stacked there. */
	workspace_release(ws);
	/* Released at teardown already when the sandbox ran; here when it never did (a
	 * teardown that failed left the state, and the range stays held with it). */
	struct stat held;
	if (run->slot.holder != NULL && lstat(run->slot.holder, &held) < 0 && errno == ENOENT)
		idpool_release(run->slot.path, run->slot.holder);
	idpool_slot_close(&run->slot);
	sandbox_budget_release(&run->budget);
	hostpath_list_free(&run->known);
	strv_free(run->root.links);
	sandbox_net_plan_free(&run->net);
	free(run->policy_file);
	kd_free(run->kd);
	report_free(&run->rep);
	sandbox_free_spec(sg);
}
