/* `bulwark sandbox`: one command in a throw-away hardened sandbox. The spec is built in memory
 * from the hardened default plus the flags, then runs through the same create/start/teardown
 * as any container; nothing is left behind. */
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
#include "runtime/sandbox/watchdog.h"
#include "runtime/sandbox/workspace.h"
#include "runtime/sandbox/sandbox_internal.h"

/* The report is written whatever happened, once the run is over (r: the run's status or -1
 * with err). A report that cannot be written turns success into bulwark's failure. */
static int finish_report(const struct sandbox_flags *f, struct sandbox_run *run, int r,
			 struct bw_error *err)
{
	if (f->report == NULL || run->id[0] == '\0')
		return r;
	run->rep.exit_code = r >= 0 ? r : err->exit_status ? err->exit_status : 125;
	if (r < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(err, text, sizeof(text));
		run->rep.error = xstrdup(text);
	}
	struct bw_error e2 = {0};
	if (report_write(&run->rep, &run->report, &e2) < 0 && r >= 0) {
		*err = e2;
		err->exit_status = 125;
		return -1;
	}
	return r;
}

void sandbox_flag_table(struct sandbox_flags *f, struct cli_opt opts[SANDBOX_FLAG_COUNT])
{
	const struct cli_opt table[] = {
	    {"rootfs", 0, CLI_STRING, &f->rootfs, "DIR",
	     "root filesystem (default: a minimal view of the host, see --host-view)"},
	    {"host-view", 0, CLI_STRING, &f->host_view, "minimal|full",
	     "minimal (default): only /usr, /bin, /sbin, /lib*, /etc of the host, read-only; "
	     "full: the host's whole / read-only"},
	    {"ro", 0, CLI_STRV, &f->ro, "PATH",
	     "show one more host path, read-only, at the same place (repeatable)"},
	    {"bind", 0, CLI_STRV, &f->binds, "SRC[:DST][:ro|rw]",
	     "bind a host path (default ro); DST need not exist on the host"},
	    {"user", 'u', CLI_STRING, &f->user, "UID[:GID]",
	     "user inside the sandbox (default 1000)"},
	    {"env", 'e', CLI_STRV, &f->env, "KEY[=VALUE]",
	     "set an environment variable (KEY alone: the caller's value, if it has one)"},
	    {"env-file", 0, CLI_STRING, &f->env_file, "FILE",
	     "KEY=VALUE lines (# comments; KEY alone: the caller's value), before --env"},
	    {"workspace", 0, CLI_STRV, &f->workspaces, "DIR[:ro|rw|overlay]",
	     "mount DIR at the same path (default ro); rw: written as DIR's owner; overlay: "
	     "writes go to a scratch layer, DIR stays untouched"},
	    {"keep-changes", 0, CLI_STRING, &f->keep_changes, "DIR",
	     "after the run, save the overlay workspace's changes in DIR (an upper directory)"},
	    {"cwd", 0, CLI_STRING, &f->cwd, "DIR",
	     "working directory (default: the workspace, else /)"},
	    {"tty", 't', CLI_BOOL, &f->tty, NULL, "give the command a terminal"},
	    {"memory", 'm', CLI_STRING, &f->lim.memory, "SIZE",
	     "memory limit, no swap (default 1g; max: none)"},
	    {"cpus", 0, CLI_STRING, &f->lim.cpus, "N",
	     "CPU time, in CPUs (e.g. 0.5; default: all but one online CPU; max: none)"},
	    {"pids", 0, CLI_STRING, &f->lim.pids, "N", "maximum number of tasks (default 1024)"},
	    {"nofile", 0, CLI_STRING, &f->lim.nofile, "N", "open files limit (default 1024)"},
	    {"tmp-size", 0, CLI_STRING, &f->lim.tmp_size, "SIZE",
	     "size of /tmp and of /var/tmp, each (default 256m, at most --disk)"},
	    {"home-size", 0, CLI_STRING, &f->lim.home_size, "SIZE",
	     "size of HOME (default 64m, at most --disk)"},
	    {"disk", 0, CLI_STRING, &f->lim.disk, "SIZE",
	     "most that each writable scratch (/tmp, /var/tmp, HOME, an overlay's changes) holds; "
	     "one file per 4 KiB (default 1g)"},
	    {"max-file-size", 0, CLI_STRING, &f->lim.max_file_size, "SIZE",
	     "largest file the sandbox may write, rw workspaces included (default --disk; max: "
	     "none)"},
	    {"timeout", 0, CLI_STRING, &f->timeout, "DURATION",
	     "after DURATION (30s, 5m, 1h) send the command SIGTERM, then kill the whole sandbox "
	     "--kill-after later; exit 124"},
	    {"kill-after", 0, CLI_STRING, &f->kill_after, "DURATION",
	     "grace between --timeout's SIGTERM and SIGKILL (default 10s; 0: SIGKILL at once)"},
	    {"seccomp-complain", 0, CLI_BOOL, &f->seccomp_complain, NULL,
	     "log what the seccomp profile would refuse instead of refusing it (profiling)"},
	    {"network", 0, CLI_STRING, &f->net.network, "none",
	     "no network but loopback (the default unless --allow/--allow-domain/--policy)"},
	    {"allow", 0, CLI_STRV, &f->net.allow, "CIDR[:PORT[-PORT]][/tcp|udp]",
	     "allow egress to CIDR (IPv6 with a port: [CIDR]:PORT); everything else is denied"},
	    {"allow-domain", 0, CLI_STRV, &f->net.allow_domain, "NAME[:PORT[/tcp|udp][,...]]",
	     "allow NAME (or *.suffix) through the DNS proxy, and the addresses it resolves to "
	     "(only on PORTs when given: pypi.org:443/tcp)"},
	    {"dns", 0, CLI_STRV, &f->net.dns, "IP",
	     "resolver the DNS proxy asks (default: the host's)"},
	    {"policy", 0, CLI_STRING, &f->net.policy, "FILE",
	     "network policy document (docs/network.md); --allow/--allow-domain then narrow it"},
	    {"report", 0, CLI_STRING, &f->report, "FILE|-",
	     "write a JSON report (docs/report.md) to FILE, or to stdout after the command's "
	     "output"},
	};
	_Static_assert(ARRAY_SIZE(table) == SANDBOX_FLAG_COUNT, "SANDBOX_FLAG_COUNT");
	memcpy(opts, table, sizeof(table));
}

/* Every value the table filled, freed by its kind: a new flag needs its field and its row only. */
void sandbox_flags_free(struct sandbox_flags *f)
{
	struct cli_opt opts[SANDBOX_FLAG_COUNT];
	sandbox_flag_table(f, opts);
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		if (opts[i].kind == CLI_STRING)
			free(steal_ptr((char **)opts[i].dest));
		else if (opts[i].kind == CLI_STRV)
			strv_free(steal_ptr((char ***)opts[i].dest));
	}
}

static void print_help(const struct cli_opt *opts, size_t n)
{
	cli_print_help(
	    "bulwark sandbox [options] -- COMMAND [ARGS...]",
	    "Run COMMAND in a throw-away sandbox: of the host only /usr, /bin, /sbin, /lib* and\n"
	    "/etc read-only (--host-view full: the whole /; or --rootfs), fresh /proc /dev /tmp\n"
	    "/var/tmp /run and HOME, a new user namespace with a non-root user, no\n"
	    "capabilities, no_new_privs, the default seccomp profile, every namespace new and\n"
	    "only loopback networking. Exits with the command's status (125: bulwark failed,\n"
	    "126: not executable, 127: not found).\n\n"
	    "Examples:\n"
	    "  bulwark sandbox -- sh -c 'id; cat /etc/os-release'\n"
	    "  bulwark sandbox --workspace \"$PWD:overlay\" --keep-changes /tmp/diff -- make test\n"
	    "  bulwark sandbox --allow-domain pypi.org:443/tcp --allow-domain "
	    "files.pythonhosted.org:443/tcp \\\n"
	    "      --timeout 10m --memory 2g --report - -- pip download requests\n"
	    "  bulwark sandbox --allow 203.0.113.0/24:443/tcp --report - -- curl "
	    "https://203.0.113.5/",
	    opts, n);
}

/* The flags that only `sandbox` reads (not the plan's): the command, --report, --timeout and
 * --kill-after. */
static int check_run_flags(const struct sandbox_flags *f, int n_args, struct sandbox_run *run,
			   struct bw_error *err)
{
	if (n_args < 1)
		return bw_fail(err, 0,
			       "sandbox: expected a command (bulwark sandbox -- CMD ARGS...)");
	if (f->report != NULL && f->report[0] == '\0')
		return bw_fail(err, 0, "--report: expected a file name or -");
	if (f->timeout != NULL &&
	    (parse_duration_ms(f->timeout, &run->timeout_ms) < 0 || run->timeout_ms <= 0))
		return bw_fail(err, 0,
			       "--timeout: expected a duration such as 30s, 5m or 1h, got \"%s\"",
			       f->timeout);
	run->kill_after_ms = 10000;
	if (f->kill_after != NULL && f->timeout == NULL)
		return bw_fail(err, 0, "--kill-after: needs --timeout");
	if (f->kill_after != NULL && (parse_duration_ms(f->kill_after, &run->kill_after_ms) < 0 ||
				      run->kill_after_ms > (int64_t)365 * 86400000))
		return bw_fail(err, 0,
			       "--kill-after: expected a duration such as 0, 5s or 1m, got \"%s\"",
			       f->kill_after);
	return 0;
}

/* Everything before the plan: the sealed copy, the id, the run's own flags and the report's
 * target. -1 with err (exit status 125). */
static int prepare_run(struct sandbox_flags *f, int argc, char **argv, int consumed,
		       struct sandbox_run *run, struct bw_error *err)
{
	/* Before anything exists: a sealed copy re-executes us from the start. */
	dev_t rw_devs[64];
	size_t n_rw = workspace_rw_devs(f->workspaces, rw_devs, ARRAY_SIZE(rw_devs));
	if (cli_seal_for_sandbox(rw_devs, n_rw, err) < 0 || sandbox_new_id(run, err) < 0 ||
	    check_run_flags(f, argc - consumed, run, err) < 0)
		return -1;
	/* Resolved now, before the sandbox can touch anything near it. */
	if (f->report != NULL && report_target_open(f->report, &run->report, err) < 0) {
		run->id[0] = '\0'; /* nothing to report to */
		return -1;
	}
	run->want_report = f->report != NULL;
	run->rep.id = run->id;
	run->rep.command = argv + consumed;
	return 0;
}

/* After the run: what the workspaces wrote, for the report, and --keep-changes. */
static int finish_workspaces(struct workspace_set *ws, struct sandbox_run *run,
			     struct bw_error *err)
{
	/* The sandbox has ended: workspace_bytes_written(ws) is valid until workspace_release. */
	if (ws->n > 0)
		run->rep.workspace_bytes = workspace_bytes_written(ws);
	if (run->want_report)
		sandbox_budget_workspaces(ws, &run->rep);
	return workspace_keep_changes(ws, err);
}

VERB(sandbox)
{
	struct sandbox_flags f = {0};
	int consumed = 0;
	struct cli_opt opts[SANDBOX_FLAG_COUNT];
	sandbox_flag_table(&f, opts);
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		print_help(opts, ARRAY_SIZE(opts));
		sandbox_flags_free(&f);
		return 0;
	}
	struct specgen sg = {0};
	struct workspace_set ws = {0};
	struct sandbox_run run;
	sandbox_run_init(&run);
	if (r == 0)
		r = prepare_run(&f, argc, argv, consumed, &run, err);
	if (r == 0)
		r = sandbox_plan(g, &f, argv + consumed, &sg, &ws, &run, err);
	if (r < 0) {
		err->exit_status = 125;
	} else if ((r = sandbox_run(g, &sg, &run, err)) < 0) {
		err->exit_status = sandbox_exit_status(err);
	} else if (finish_workspaces(&ws, &run, err) < 0) {
		r = -1;
		err->exit_status = 125;
	}
	workspace_release(&ws); /* before the report: see sandbox_run_free */
	r = finish_report(&f, &run, r, err);
	report_target_close(&run.report);
	sandbox_run_free(&run, &sg, &ws);
	sandbox_flags_free(&f);
	return r;
}
