/* The sandbox's run: its policy file, create and start of the container, the wait with the
 * watchdog's guard, and the release (last collection for the report, teardown). */
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
#include "common/fdpass.h"
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
#include "runtime/sandbox/watchdog.h"
#include "runtime/sandbox/workspace.h"
#include "runtime/sandbox/sandbox_internal.h"

int sandbox_exit_status(const struct bw_error *err)
{
	if (strstr(err->msg, "executable file not found") || strstr(err->msg, "no such file"))
		return 127;
	if (strstr(err->msg, "permission denied") || strcasestr(err->msg, "exec format error"))
		return 126;
	return 125;
}

/* The sandbox's policy document (the flags', or the bytes of its policy file read once) lives
 * next to the state (the runtime's own directory) for as long as the sandbox; create, the
 * helper and the agent read it by path. */
static int write_policy(const struct global_opts *g, struct sandbox_run *run, struct bw_error *err)
{
	if (run->net.policy_doc == NULL)
		return 0;
	if (fs_mkdir_p(cli_state_root(g), 0700, err) < 0)
		return -1;
	/* A name of this run's own: two session creates of one name (only one can win the id)
	 * must never load, or unlink, each other's policy. */
	uint64_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return bw_fail(err, errno, "getrandom");
	_cleanup_free_ char *name =
	    xasprintf(".%s.%016llx.policy.json", run->id, (unsigned long long)nonce);
	run->policy_file = fs_path_join(cli_state_root(g), name);
	return fs_write_atomic(run->policy_file, run->net.policy_doc, strlen(run->net.policy_doc),
			       0600, err);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The command is the child of bulwark's pid 1 (init_reaper.c), which reports its wait status
 * before exiting: the report and our exit status are the command's, as if it were pid 1 (after
 * a timeout the status stays 124; the report has how the command ended, if it ended before the
 * SIGKILL). Closes status_fd. */
static void payload_status(int status_fd, struct sandbox_run *run, int *status)
{
	struct init_reaper_status st;
	if (status_fd < 0)
		return;
	if (*status >= 0 && read(status_fd, &st, sizeof(st)) == sizeof(st)) {
		int ws = st.wait_status;
		run->rep.wait_status = ws;
		run->rep.budgets.written_known = st.written >= 0;
		run->rep.budgets.written = st.written;
		if (!run->rep.timed_out)
			*status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	}
	close(status_fd);
}

void sandbox_plan_warn(struct sandbox_run *run)
{
	if (run->warning != NULL)
		log_warn("sandbox: %s", run->warning);
	run->warning = NULL;
}

/* Before create: the leftovers of earlier sandboxes swept, the policy file written, and the
 * spec's annotations for the network and for the kernel's denials (the report's). */
static int launch_prepare(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
			  struct bw_error *err)
{
	run->g2 = *g;
	/* What an earlier sandbox left when it and its watchdog were both SIGKILLed. */
	bw_phase("sandbox: flags+plan");
	watchdog_sweep_root(cli_state_root(g));
	bw_phase("sandbox: sweep");
	if (write_policy(g, run, err) < 0)
		return -1;
	if (run->net.policy != NULL || run->policy_file != NULL)
		run->g2.policy = run->policy_file ? run->policy_file : (char *)run->net.policy;
	for (size_t i = 0; run->net.annotations != NULL && run->net.annotations[i] != NULL; i++)
		strv_push(&sg->annotations, run->net.annotations[i]);
	if (run->want_report) {
		run->kd = kd_open(run->rep.kernel_seccomp, sizeof(run->rep.kernel_seccomp));
		kd_landlock_reported(run->kd, run->rep.kernel_landlock,
				     sizeof(run->rep.kernel_landlock));
		if (run->kd != NULL)
			strv_push(&sg->annotations, KD_ANNOTATION "=true");
	}
	return 0;
}

/* Start the created container; when that fails, it is torn down and every fd of it closed. */
static int launch_start(struct created *cr, struct stdio_guard *sio, struct bw_error *err)
{
	if (lifecycle_start(cr->c, NULL, err) == 0)
		return 0;
	struct bw_error e2 = {0};
	if (sio != NULL)
		stdio_guard_close(sio);
	lifecycle_teardown(cr->c, &e2);
	container_free(cr->c);
	close(cr->pidfd);
	if (cr->status_fd >= 0)
		close(cr->status_fd);
	if (cr->master >= 0)
		close(cr->master);
	return -1;
}

/* The kernel's denials followed from the start on; without them the sandbox runs anyway, and
 * only the report loses the kernel's refusals. */
static void launch_denials(struct sandbox_run *run, pid_t pid)
{
	struct bw_error kerr = {0};
	if (run->kd == NULL || kd_start(run->kd, pid, &kerr) == 0)
		return;
	char text[sizeof(run->rep.kernel_seccomp)] = "unavailable: ";
	size_t used = strlen(text);
	bw_error_text(&kerr, text + used, sizeof(text) - used);
	memcpy(run->rep.kernel_seccomp, text, sizeof(text));
	memcpy(run->rep.kernel_landlock, text, sizeof(text));
	kd_free(run->kd);
	run->kd = NULL;
}

int sandbox_launch(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		   struct stdio_guard *sio, int64_t lifetime_ms, struct created *cr,
		   struct bw_error *err)
{
	if (launch_prepare(g, sg, run, err) < 0)
		return -1;
	_cleanup_free_ char *json = specgen_render(sg, false);
	bw_phase("sandbox: render");
	struct oci_spec *spec = NULL;
	if (oci_spec_parse(json, strlen(json), "sandbox spec", &spec, err) < 0)
		return -1;
	bw_phase("sandbox: spec parsed");
	struct create_opts o = {.id = run->id,
				.bundle = "/",
				.spec = spec,
				.config_json = json,
				.keep_master = sg->terminal,
				.owner = getpid(),
				.remove_file = run->policy_file,
				.id_slot = run->slot.path,
				.known = &run->known,
				.allow_host_root = sg->host_root,
				.root_tmpfs = sg->root_tmpfs,
				.root_links = run->root.links,
				.root_sealed = true,
				.ns_owner =
				    run->slot.path != NULL ? idpool_owner(run->slot.base) : 0,
				.stdio = sio,
				.stdio_relay = sio != NULL,
				.lifetime_ms = lifetime_ms,
				.session = run->session};
	run->t0 = mono_ms();
	int r = lifecycle_create(&run->g2, &o, cr, err);
	bw_phase("sandbox: created");
	oci_spec_free(spec);
	if (r == 0)
		sandbox_plan_warn(run);
	/* Before start: no code of the sandbox has run yet. */
	if (r == 0 && run->want_report)
		sandbox_budget_hold(&run->budget, cr->pid, sg->home);
	if (r < 0) {
		if (sio != NULL)
			stdio_guard_close(sio);
		if (run->policy_file != NULL)
			unlink(run->policy_file);
		return -1;
	}
	if (launch_start(cr, sio, err) < 0)
		return -1;
	bw_phase("sandbox: started");
	run->rep.started = true;
	launch_denials(run, cr->pid);
	/* Unlocked while it runs, as `run` does: list, state, kill and delete from elsewhere must
	 * not hang on a long sandbox. */
	close(cr->c->lockfd);
	cr->c->lockfd = -1;
	return 0;
}

int sandbox_release(struct sandbox_run *run, int status, struct bw_error *err)
{
	struct container *c = NULL;
	struct bw_error e2 = {0};
	if (container_load(cli_state_root(&run->g2), run->id, &c, &e2) < 0) {
		kd_finish(run->kd, &run->rep, run->id, run->g2.audit);
		run->kd = NULL;
		return status; /* deleted from elsewhere meanwhile: nothing left to release */
	}
	bw_phase("sandbox: reloaded");
	kd_finish(run->kd, &run->rep, run->id, lifecycle_audit_path(&run->g2, c));
	run->kd = NULL;
	/* The agent flushes its last denial counts as it stops; the cgroup still exists. */
	network_stop_agent(c);
	if (run->want_report) {
		report_collect(&run->rep, c);
		sandbox_budget_collect(&run->budget, c, &run->rep);
	}
	sandbox_budget_release(&run->budget);
	if (status >= 0)
		lifecycle_audit_exit(&run->g2, c, status, run->rep.timed_out);
	bw_phase("sandbox: teardown begins");
	if (lifecycle_teardown(c, &e2) < 0 && status >= 0) {
		*err = e2;
		status = -1;
	}
	bw_phase("sandbox: torn down");
	container_free(c);
	return status;
}

int sandbox_run(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		struct bw_error *err)
{
	sigset_t all;
	sigset_all_but_faults(&all, true);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* Without -t the sandbox never gets our terminal: pipes that we relay (stdio_guard.h). */
	struct stdio_guard sio = STDIO_GUARD_INIT;
	/* The watchdog keeps --timeout too, 2 s after the owner's SIGKILL would come (the
	 * deadline plus --kill-after), for an owner that cannot (stopped). */
	int64_t lifetime_ms = run->timeout_ms > 0 ? run->timeout_ms + run->kill_after_ms + 2000 : 0;
	struct created cr;
	if (sandbox_launch(g, sg, run, &sio, lifetime_ms, &cr, err) < 0)
		return -1;
	/* A killed watchdog is replaced at once: the sandbox is never left unguarded. */
	struct watchdog_guard *guard =
	    watchdog_guard_start(cli_state_root(g), run->id, cr.pidfd, getpid());
	if (guard == NULL)
		log_warn("sandbox: cannot watch the watchdog: %s", strerror(errno));
	bw_phase("sandbox: guard");
	struct console_io io = stdio_guard_io(&sio, cr.master);
	int status = lifecycle_wait_raw(cr.pid, cr.pidfd, &io, run->timeout_ms, run->kill_after_ms,
					&run->rep.timed_out, &run->rep.wait_status, err);
	bw_phase("sandbox: waited");
	stdio_guard_close(&sio);
	watchdog_guard_stop(guard);
	payload_status(cr.status_fd, run, &status);
	run->rep.wall_ms = mono_ms() - run->t0;
	if (run->rep.timed_out)
		log_warn("sandbox: stopped at the --timeout deadline");
	close(cr.pidfd);
	if (cr.master >= 0)
		close(cr.master);
	bw_phase("sandbox: guard stopped");
	container_free(cr.c);
	return sandbox_release(run, status, err);
}
