/* What `sandbox` and `session create` share: the flags (one option table), the plan that turns
 * them into a spec with its workspaces, id range and network policy, and the launch and release
 * of the container that runs it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/cli/cli.h"
#include "runtime/hostpath.h"
#include "runtime/idpool.h"
#include "runtime/lifecycle.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/sandbox/sandbox_net.h"
#include "runtime/sandbox/sandbox_view.h"
#include "runtime/sandbox/specgen.h"
#include "runtime/sandbox/workspace.h"

struct sandbox_flags {
	char *rootfs, *user, *cwd, *timeout, *kill_after;
	struct sandbox_limit_flags lim;
	char **binds, **ro, **env;
	char *host_view;
	char **workspaces, *keep_changes, *env_file;
	char *report;
	struct sandbox_net_flags net;
	bool tty, seccomp_complain;
};

#define SANDBOX_FLAG_COUNT 28
/* The option table of `sandbox`, which `session create` uses too. */
void sandbox_flag_table(struct sandbox_flags *f, struct cli_opt opts[SANDBOX_FLAG_COUNT]);
void sandbox_flags_free(struct sandbox_flags *f);

/* The root and what of the host it shows (sandbox_view.h). */
struct root_plan {
	enum sandbox_view view;
	char **links;	   /* minimal: the tmpfs root's top-level symlinks, "name", "target"... */
	size_t user_binds; /* where --bind's and --ro's start in sg->binds */
};

/* One sandbox's run: the flags' results and what the report needs from the run. */
struct sandbox_run {
	char id[64];
	int64_t timeout_ms, kill_after_ms;
	struct sandbox_net_plan net;
	char *policy_file;	 /* the generated policy document, deleted with the sandbox */
	struct idpool_slot slot; /* its host id range (idpool.h); slot.path NULL: none */
	bool want_report;
	struct report rep;
	struct kdenials *kd;	    /* the kernel's seccomp/Landlock refusals, for the report */
	struct hostpath_list known; /* host paths resolved once: rootfs, binds, workspaces */
	struct root_plan root;
	struct report_target report;
	struct sandbox_budget budget;
	struct global_opts g2; /* the caller's, with the run's policy file */
	int64_t t0;	       /* CLOCK_MONOTONIC ms at create */
	bool session;	       /* pid 1 runs no payload (session.h) */
	/* What the plan could not give (rootless limits), said once on stderr only when the
	 * sandbox exists: a refused one prints its refusal alone. Static text. */
	const char *warning;
};

void sandbox_run_init(struct sandbox_run *run);
/* The flags (args: the command) into sg, workspaces prepared in ws: everything checked before
 * any container exists. run->id is the container's id. */
int sandbox_plan(const struct global_opts *g, struct sandbox_flags *f, char **args,
		 struct specgen *sg, struct workspace_set *ws, struct sandbox_run *run,
		 struct bw_error *err);
/* The plan's warning (run->warning) on stderr, once; sandbox_launch says it after create. */
void sandbox_plan_warn(struct sandbox_run *run);
/* Create and start the container of the plan, owned by `owner` (released when it dies) and
 * watched by a watchdog with lifetime_ms (0: none). On success *cr holds it, unlocked. */
int sandbox_launch(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		   struct stdio_guard *sio, int64_t lifetime_ms, struct created *cr,
		   struct bw_error *err);
/* After the init ended (its pidfd and status fd closed by the caller): the report's last
 * collection and the teardown, as the sandbox's end. status: the run's, or -1. */
int sandbox_release(struct sandbox_run *run, int status, struct bw_error *err);
/* What the plan held, after the container is gone (or never was). */
void sandbox_run_free(struct sandbox_run *run, struct specgen *sg, struct workspace_set *ws);
/* Docker's convention: 125 the runtime failed, 126 cannot execute, 127 not found. */
int sandbox_exit_status(const struct bw_error *err);
