/* `bulwark session exec | ls | pause | resume | rm` and the `session` dispatcher. A session is
 * a container of the state root with the run.bulwark.session annotation (session.h); every verb
 * refuses any other container. */
#include "runtime/session/session.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/fdpass.h"
#include "common/util.h"
#include "runtime/cp/container_cp.h"
#include "runtime/lifecycle.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/sandbox_budget.h"

const char *session_annotation(const struct container *c, const char *key)
{
	for (size_t i = 0; i < c->state.n_annotations; i++)
		if (strcmp(c->state.annotations[i].key, key) == 0)
			return c->state.annotations[i].value;
	return NULL;
}

static bool is_session(const struct container *c)
{
	const char *v = session_annotation(c, SESSION_ANNOTATION);
	return v != NULL && strcmp(v, "1") == 0;
}

int session_load(const struct global_opts *g, const char *name, struct container **c,
		 struct bw_error *err)
{
	if (container_validate_id(name, err) < 0)
		return bw_wrap(err, "session name");
	if (container_load(cli_state_root(g), name, c, err) < 0) {
		if (err->code == ENOENT || strstr(err->msg, "does not exist") != NULL)
			return bw_fail(err, 0, "session %s does not exist", name);
		return -1;
	}
	if (!is_session(*c)) {
		container_free(*c);
		*c = NULL;
		return bw_fail(err, 0, "%s is a container, not a session", name);
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The busy file held shared for the exec's whole life (session.h): the idle check cannot fire
 * meanwhile, and a session being destroyed for idleness is waited for, then found gone. */
static int hold_busy(const struct global_opts *g, const char *name, int *fd, struct bw_error *err)
{
	if (container_validate_id(name, err) < 0)
		return bw_wrap(err, "session name");
	_cleanup_free_ char *path =
	    xasprintf("%s/%s/%s", cli_state_root(g), name, SESSION_BUSY_FILE);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return bw_fail(err, 0, "session %s does not exist (or is still starting)", name);
	while (flock(*fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "lock %s", path);
	futimens(*fd, NULL);
	return 0;
}

/* The busy file held is the loaded session's: a session released (idle) while we waited for
 * the lock and made again under the same name has a busy file of its own, which we do not
 * hold, so its idle check would not see us. */
int session_busy_is_current(const struct container *c, int busy, const char *name,
			    struct bw_error *err)
{
	struct stat held, now;
	if (fstat(busy, &held) < 0 ||
	    fstatat(c->dirfd, SESSION_BUSY_FILE, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    held.st_dev != now.st_dev || held.st_ino != now.st_ino)
		return bw_fail(err, 0, "session %s ended while this command waited", name);
	return 0;
}

struct exec_opts {
	char *timeout, *report, *cwd;
	char **env;
	bool tty, interactive;
};

/* What the session's cgroup counted while one exec ran: its cumulative counters read before
 * and after (the deltas are the whole session's during the command, background processes
 * included), and a window on the memory high-water mark where the kernel can reset one. */
struct exec_window {
	struct cg_manager *cg;
	bool known;
	struct cg_usage u0;
	struct cg_budget b0;
	int peak_fd, lock_fd;
	int64_t disk;
};

static int ofd_lock(int fd, short type)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET};
	return fcntl(fd, F_OFD_SETLK, &l);
}

/* The peak window; where resetting it resets the cgroup's (v1), only when no other exec's
 * window is open, which then stays undisturbed (SESSION_PEAK_FILE). */
static void window_peak(struct container *c, struct exec_window *w)
{
	if (!cg_peak_window_shared(w->cg)) {
		w->peak_fd = cg_peak_window_open(w->cg);
		return;
	}
	w->lock_fd = openat(c->dirfd, SESSION_PEAK_FILE,
			    O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (w->lock_fd < 0 || ofd_lock(w->lock_fd, F_WRLCK) < 0)
		return;
	w->peak_fd = cg_peak_window_open(w->cg);
	/* Converted in place (atomic for OFD locks): no other exec resets it meanwhile. */
	if (w->peak_fd >= 0 && ofd_lock(w->lock_fd, F_RDLCK) < 0) {
		close(w->peak_fd);
		w->peak_fd = -1;
	}
}

static void window_open(struct container *c, struct exec_window *w)
{
	struct bw_error e = {0};
	const char *v = session_annotation(c, SESSION_DISK_ANNOTATION);
	w->disk = v != NULL ? atoll(v) : SANDBOX_DISK_DEFAULT;
	if (c->state.cgroup_path == NULL ||
	    lifecycle_cgroup_open(c, c->state.cgroup_path, &w->cg, &e) < 0)
		return;
	window_peak(c, w);
	w->known = cg_usage(w->cg, &w->u0, &e) == 0 && cg_budget(w->cg, &w->b0) == 0;
}

static uint64_t delta(uint64_t end, uint64_t start)
{
	return end >= start ? end - start : 0;
}

/* The deltas into the report (only when the command ran); the limits are the session's as
 * they are now. Releases the window. */
static void window_close(struct exec_window *w, struct report *rep)
{
	struct bw_error e = {0};
	struct cg_usage u1;
	struct cg_budget b1;
	rep->budgets.disk = w->disk;
	/* Without the session's cgroup (rootless without one) budgets stays null: a "hit": false
	 * would claim what nothing measured. */
	if (rep->started && w->known && cg_usage(w->cg, &u1, &e) == 0 &&
	    cg_budget(w->cg, &b1) == 0) {
		rep->budgets.known = true;
		rep->usage_known = true;
		rep->usage.cpu_user_ns = delta(u1.cpu_user_ns, w->u0.cpu_user_ns);
		rep->usage.cpu_system_ns = delta(u1.cpu_system_ns, w->u0.cpu_system_ns);
		rep->usage.oom_kills = delta(u1.oom_kills, w->u0.oom_kills);
		/* 0 reads as null: unknown, never the session's peak since create. */
		rep->usage.memory_peak = w->peak_fd >= 0 ? cg_peak_window_read(w->peak_fd) : 0;
		b1.cpu_throttled_periods =
		    delta(b1.cpu_throttled_periods, w->b0.cpu_throttled_periods);
		b1.cpu_throttled_us = delta(b1.cpu_throttled_us, w->b0.cpu_throttled_us);
		b1.memory_max_events = delta(b1.memory_max_events, w->b0.memory_max_events);
		b1.pids_max_events = delta(b1.pids_max_events, w->b0.pids_max_events);
		rep->budgets.cgroup = true;
		rep->budgets.cg_known = true;
		rep->budgets.cg = b1;
	}
	if (w->peak_fd >= 0)
		close(w->peak_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	cg_free(w->cg);
}

static int exec_report(struct report_target *t, const char *name, struct session_exec *x,
		       struct exec_window *w, int64_t wall, int r, struct bw_error *err)
{
	struct report rep = {.id = name,
			     .command = x->args,
			     .started = x->started,
			     .wait_status = x->wait_status,
			     .timed_out = x->timed_out,
			     .wall_ms = wall,
			     .workspace_bytes = -1,
			     .session_exec = true};
	rep.exit_code = r >= 0 ? r : err->exit_status ? err->exit_status : 125;
	window_close(w, &rep);
	/* The kernel's refusals and the network agent's are the whole session's, with no way to
	 * tell this command's: left out rather than misattributed. */
	snprintf(rep.kernel_seccomp, sizeof(rep.kernel_seccomp),
		 "unavailable: not collected per session exec");
	snprintf(rep.kernel_landlock, sizeof(rep.kernel_landlock),
		 "unavailable: not collected per session exec");
	if (r < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(err, text, sizeof(text));
		rep.error = xstrdup(text);
	}
	struct bw_error e2 = {0};
	int wr = report_write(&rep, t, &e2);
	report_free(&rep);
	if (wr < 0 && r >= 0) {
		*err = e2;
		err->exit_status = 125;
		return -1;
	}
	return r;
}

/* session exec's flags; 1 when help was printed. */
static int parse_exec_opts(int argc, char **argv, struct exec_opts *o, int *consumed,
			   struct bw_error *err)
{
	struct cli_opt opts[] = {
	    {"timeout", 0, CLI_STRING, &o->timeout, "DURATION",
	     "kill the command (and what it started) after DURATION; exit 124"},
	    {"report", 0, CLI_STRING, &o->report, "FILE|-",
	     "write the JSON report of this command (docs/report.md) to FILE or stdout"},
	    {"env", 'e', CLI_STRV, &o->env, "KEY=VALUE", "set a variable for this command"},
	    {"cwd", 0, CLI_STRING, &o->cwd, "DIR", "working directory of this command"},
	    {"tty", 't', CLI_BOOL, &o->tty, NULL, "give the command a terminal"},
	    {"interactive", 'i', CLI_BOOL, &o->interactive, NULL,
	     "pass our stdin to the command (default: /dev/null); cut when it ends"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), consumed, err);
	if (r == 1)
		cli_print_help(
		    "bulwark session exec [options] NAME -- COMMAND [ARGS...]",
		    "Run COMMAND in the session NAME, as the session's user, with its "
		    "environment,\nconfinement and network policy. Exits with its status "
		    "(124: --timeout,\n125: bulwark failed, 126: not executable, 127: not "
		    "found).",
		    opts, ARRAY_SIZE(opts));
	return r;
}

/* The flags' values checked (x gets the timeout), and the report's target opened (t). */
static int check_exec_opts(const struct exec_opts *o, struct session_exec *x,
			   struct report_target *t, struct bw_error *err)
{
	if (o->timeout != NULL &&
	    (parse_duration_ms(o->timeout, &x->timeout_ms) < 0 || x->timeout_ms <= 0))
		return bw_fail(err, 0,
			       "--timeout: expected a duration such as 30s, 5m or 1h, got "
			       "\"%s\"",
			       o->timeout);
	if (o->cwd != NULL && o->cwd[0] != '/')
		return bw_fail(err, 0, "--cwd: must be an absolute path");
	if (o->report != NULL &&
	    (o->report[0] == '\0' ? bw_fail(err, 0, "--report: expected a file name or -")
				  : report_target_open(o->report, t, err)) < 0)
		return -1;
	return 0;
}

/* The session NAME held busy (*busy), loaded (*c), and running. */
static int open_running_session(const struct global_opts *g, const char *name, int *busy,
				struct container **c, struct bw_error *err)
{
	if (hold_busy(g, name, busy, err) < 0 || session_load(g, name, c, err) < 0 ||
	    session_busy_is_current(*c, *busy, name, err) < 0)
		return -1;
	enum oci_status st = container_status(*c);
	if (st == OCI_STATUS_PAUSED)
		return bw_fail(err, 0, "session %s is paused (session resume %s first)", name,
			       name);
	if (st != OCI_STATUS_RUNNING)
		return bw_fail(err, 0, "session %s has ended", name);
	return 0;
}

/* The command run in the session, with the window on its usage (w) open around it when
 * reporting. */
static int run_in_session(const struct global_opts *g, struct container *c, struct session_exec *x,
			  struct exec_window *w, bool reporting, struct bw_error *err)
{
	if (reporting)
		window_open(c, w);
	sigset_t all;
	sigset_all_but_faults(&all, true);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int r = session_exec_in(g, c, x, err);
	if (r < 0)
		err->exit_status = x->started ? 125 : sandbox_exit_status(err);
	return r;
}

static int session_exec_verb(const struct global_opts *g, int argc, char **argv,
			     struct bw_error *err)
{
	struct exec_opts o = {0};
	int consumed = 0;
	int r = parse_exec_opts(argc, argv, &o, &consumed, err);
	if (r == 1)
		return 0;
	struct session_exec x = {0};
	struct report_target t = {.fd = -1, .dirfd = -1};
	struct container *c = NULL;
	int busy = -1;
	const char *name = argc > consumed ? argv[consumed] : NULL;
	int first = consumed + 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (r == 0 && (name == NULL || first >= argc))
		r = bw_fail(err, 0, "session exec: expected NAME -- COMMAND [ARGS...]");
	if (r == 0)
		r = check_exec_opts(&o, &x, &t, err);
	bool reporting = r == 0 && o.report != NULL;
	if (r == 0) {
		x.args = argv + first;
		x.env = o.env;
		x.cwd = o.cwd;
		x.tty = o.tty;
		x.interactive = o.interactive;
		r = open_running_session(g, name, &busy, &c, err);
	}
	int64_t t0 = mono_ms();
	struct exec_window w = {.peak_fd = -1, .lock_fd = -1};
	if (r == 0)
		r = run_in_session(g, c, &x, &w, reporting, err);
	else
		err->exit_status = 125;
	if (busy >= 0) {
		futimens(busy, NULL);
		close(busy);
	}
	if (reporting)
		r = exec_report(&t, name, &x, &w, mono_ms() - t0, r, err);
	report_target_close(&t);
	container_free(c);
	free(o.timeout);
	free(o.report);
	free(o.cwd);
	strv_free(o.env);
	return r;
}

/* One session's line of `ls`. */
struct session_row {
	const char *name, *status;
	long long age_s, idle_s, idle_timeout_ms, lifetime_ms;
	bool busy;
	const char *limits;
};

static void session_row(struct container *c, struct session_row *row)
{
	const char *v;
	time_t now = time(NULL);
	row->name = c->id;
	enum oci_status st = container_status(c);
	row->status = st == OCI_STATUS_PAUSED	 ? "paused"
		      : st == OCI_STATUS_RUNNING ? "running"
						 : "stopped";
	row->age_s =
	    (v = session_annotation(c, SESSION_ANNOTATION ".created")) ? now - atoll(v) : 0;
	row->idle_timeout_ms = (v = session_annotation(c, SESSION_IDLE_ANNOTATION)) ? atoll(v) : 0;
	row->lifetime_ms = (v = session_annotation(c, SESSION_LIFETIME_ANNOTATION)) ? atoll(v) : 0;
	row->limits = (v = session_annotation(c, SESSION_LIMITS_ANNOTATION)) ? v : "";
	row->idle_s = 0;
	row->busy = false;
	_cleanup_close_ int fd =
	    openat(c->dirfd, SESSION_BUSY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
		row->busy = true;
	else if (fd >= 0 && fstat(fd, &sb) == 0)
		row->idle_s = now - sb.st_mtime;
}

static void fmt_dur(char *buf, size_t n, long long ms)
{
	if (ms <= 0)
		snprintf(buf, n, "-");
	else if (ms % 1000 != 0)
		snprintf(buf, n, "%lldms", ms);
	else
		snprintf(buf, n, "%llds", ms / 1000);
}

static void print_row(const struct session_row *r, bool json, bool first)
{
	if (json) {
		printf("%s{\"name\":\"%s\",\"status\":\"%s\",\"age_seconds\":%lld,"
		       "\"idle_seconds\":%lld,\"busy\":%s,\"idle_timeout_ms\":%lld,"
		       "\"lifetime_ms\":%lld,\"limits\":\"%s\"}",
		       first ? "" : ",", r->name, r->status, r->age_s, r->busy ? 0 : r->idle_s,
		       r->busy ? "true" : "false", r->idle_timeout_ms, r->lifetime_ms, r->limits);
		return;
	}
	char idle[32], it[32], lt[32];
	if (r->busy)
		snprintf(idle, sizeof(idle), "busy");
	else
		snprintf(idle, sizeof(idle), "%llds", r->idle_s);
	fmt_dur(it, sizeof(it), r->idle_timeout_ms);
	fmt_dur(lt, sizeof(lt), r->lifetime_ms);
	char age[32];
	snprintf(age, sizeof(age), "%llds", r->age_s);
	printf("%-20s %-8s %-9s %-8s %-12s %-10s %s\n", r->name, r->status, age, idle, it, lt,
	       r->limits);
}

static int session_ls(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	char *format = NULL;
	struct cli_opt opts[] = {
	    {"format", 'f', CLI_STRING, &format, "text|json", "output format"}};
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark session ls [--format json]",
			       "List the sessions: name, status, age, idle time, limits.", opts,
			       ARRAY_SIZE(opts));
		return 0;
	}
	bool json = format != NULL && strcmp(format, "json") == 0;
	if (r == 0 && format != NULL && !json && strcmp(format, "text") != 0)
		r = bw_fail(err, 0, "--format: expected text or json, got \"%s\"", format);
	if (r == 0 && argc > consumed)
		r = bw_fail(err, 0, "session ls: takes no arguments");
	free(format);
	if (r < 0)
		return -1;
	struct dirent **names = NULL;
	int nn = scandir(cli_state_root(g), &names, NULL, alphasort);
	bool first = true;
	if (json)
		printf("[");
	else
		printf("%-20s %-8s %-9s %-8s %-12s %-10s %s\n", "NAME", "STATUS", "AGE", "IDLE",
		       "IDLE-TIMEOUT", "LIFETIME", "LIMITS");
	for (int i = 0; i < nn; i++) {
		struct container *c = NULL;
		struct bw_error e2 = {0};
		if (names[i]->d_name[0] != '.' && names[i]->d_type == DT_DIR &&
		    container_load(cli_state_root(g), names[i]->d_name, &c, &e2) == 0 &&
		    is_session(c)) {
			struct session_row row;
			session_row(c, &row);
			print_row(&row, json, first);
			first = false;
		}
		container_free(c);
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	return 0;
}

static int session_freeze(const struct global_opts *g, int argc, char **argv, bool freeze,
			  struct bw_error *err)
{
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		cli_print_help(freeze ? "bulwark session pause NAME"
				      : "bulwark session resume NAME",
			       freeze ? "Freeze every process of the session (cgroup freezer)."
				      : "Thaw a paused session.",
			       NULL, 0);
		return 0;
	}
	if (argc != 1)
		return bw_fail(err, 0, "session %s: expected exactly one NAME",
			       freeze ? "pause" : "resume");
	struct container *c = NULL;
	if (session_load(g, argv[0], &c, err) < 0)
		return -1;
	container_free(c);
	return freeze ? cmd_pause(g, argc, argv, err) : cmd_resume(g, argc, argv, err);
}

bool session_ended_within(int pidfd, int ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};
	int64_t end = mono_ms() + ms;
	for (;;) {
		int left = (int)(end - mono_ms());
		if (left <= 0)
			return false;
		int n = poll(&p, 1, left);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

static int session_rm(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	bool force = false;
	struct cli_opt opts[] = {{"force", 'f', CLI_BOOL, &force, NULL,
				  "also when the supervisor is gone or does not answer (killed)"}};
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark session rm [--force] NAME",
			       "Destroy the session NAME: its supervisor kills every process and "
			       "releases\neverything, as a sandbox's end.",
			       opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "session rm: expected exactly one NAME");
	const char *name = argv[consumed];
	struct container *c = NULL;
	if (session_load(g, name, &c, err) < 0)
		return -1;
	/* Verified by its start time: a recorded pid now someone else's is never signalled. */
	_cleanup_close_ int sup = container_helper_pidfd(c, STATE_CLEANUP_SESSION);
	container_free(c);
	if (sup >= 0) {
		syscall(SYS_pidfd_send_signal, sup, SIGTERM, NULL, 0);
		if (session_ended_within(sup, force ? 3000 : 10000))
			return 0; /* it tears down before it exits */
		if (!force)
			return bw_fail(err, 0,
				       "session %s: the supervisor did not end it within 10 s "
				       "(session rm --force kills it)",
				       name);
		syscall(SYS_pidfd_send_signal, sup, SIGKILL, NULL, 0);
		session_ended_within(sup, 2000);
	} else if (!force) {
		return bw_fail(err, 0,
			       "session %s: its supervisor is gone (session rm --force releases "
			       "what is left)",
			       name);
	}
	/* The init died with the supervisor; the watchdog may be releasing it already. */
	char *del[] = {"--force", (char *)name, NULL};
	struct bw_error e2 = {0};
	if (cmd_delete(g, 2, del, &e2) < 0 && strstr(e2.msg, "does not exist") == NULL) {
		*err = e2;
		return -1;
	}
	return 0;
}

/* `session cp SRC NAME:DST` / `session cp NAME:SRC DST`: bulwark cp's copy (container_cp.h),
 * with the session's --disk as the budget, counted as activity (the busy lock) like an exec. */
static int session_cp(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		cli_print_help("bulwark session cp SRC NAME:DST | NAME:SRC DST",
			       "Copy a file or directory tree into or out of the session NAME "
			       "(as `bulwark cp`;\nat most the session's --disk of file data).",
			       NULL, 0);
		return 0;
	}
	if (argc != 2)
		return bw_fail(err, 0, "session cp: expected SRC and DST, one of them NAME:PATH");
	char *sid = NULL, *did = NULL;
	const char *sp = NULL, *dp = NULL;
	bool from = cp_split_ref(argv[0], &sid, &sp), to = cp_split_ref(argv[1], &did, &dp);
	_cleanup_free_ char *name = from ? sid : did;
	if (from && to)
		free(did);
	if (from == to)
		return bw_fail(err, 0,
			       from ? "session cp: copying between sessions is not supported"
				    : "session cp: one of SRC and DST must be NAME:PATH");
	_cleanup_close_ int busy = -1;
	if (hold_busy(g, name, &busy, err) < 0)
		return -1;
	struct container *c = NULL;
	if (session_load(g, name, &c, err) < 0)
		return -1;
	if (session_busy_is_current(c, busy, name, err) < 0) {
		container_free(c);
		return -1;
	}
	const char *v = session_annotation(c, SESSION_DISK_ANNOTATION);
	uint64_t max = v != NULL ? strtoull(v, NULL, 10) : 0;
	container_free(c); /* unlocked: the copy loads it again */
	if (max == 0)
		max = SANDBOX_DISK_DEFAULT;
	struct cp_limits lim = {.max_bytes = max, .timeout_ms = 0};
	int r = from ? container_cp_out(g, name, sp, argv[1], &lim, err)
		     : container_cp_in(g, name, argv[0], dp, &lim, err);
	futimens(busy, NULL);
	return r < 0 ? bw_wrap(err, "session cp") : 0;
}

VERB(session)
{
	static const char *const usage =
	    "bulwark session create [sandbox options] [--idle-timeout DUR] [--lifetime DUR] NAME\n"
	    "   bulwark session exec [--timeout DUR] [--report FILE|-] [--env K=V] [--cwd DIR] "
	    "[-t] NAME -- CMD ARGS...\n"
	    "   bulwark session cp SRC NAME:DST | NAME:SRC DST\n"
	    "   bulwark session ls [--format json]\n"
	    "   bulwark session pause NAME | resume NAME\n"
	    "   bulwark session rm [--force] NAME\n"
	    "   bulwark session checkpoint NAME DIR\n"
	    "   bulwark session restore NAME DIR";
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		if (argc < 1) {
			bw_fail(err, 0,
				"session: expected create, exec, cp, ls, pause, resume, rm, "
				"checkpoint or restore");
			err->exit_status = 125;
			return -1;
		}
		cli_print_help(usage, "Long-lived sandboxes for agents (docs/sessions.md).", NULL,
			       0);
		return 0;
	}
	const char *sub = argv[0];
	int r;
	if (strcmp(sub, "create") == 0)
		return session_create(g, argc - 1, argv + 1, err);
	if (strcmp(sub, "exec") == 0)
		return session_exec_verb(g, argc - 1, argv + 1, err);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		r = session_ls(g, argc - 1, argv + 1, err);
	else if (strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0)
		r = session_freeze(g, argc - 1, argv + 1, strcmp(sub, "pause") == 0, err);
	else if (strcmp(sub, "rm") == 0)
		r = session_rm(g, argc - 1, argv + 1, err);
	else if (strcmp(sub, "cp") == 0)
		r = session_cp(g, argc - 1, argv + 1, err);
	else if (strcmp(sub, "checkpoint") == 0)
		r = session_checkpoint(g, argc - 1, argv + 1, err);
	else if (strcmp(sub, "restore") == 0)
		r = session_restore(g, argc - 1, argv + 1, err);
	else
		r = bw_fail(err, 0,
			    "session: unknown command \"%s\" (create, exec, cp, ls, pause, "
			    "resume, rm, checkpoint, restore)",
			    sub);
	if (r < 0 && err->exit_status == 0)
		err->exit_status = 125;
	return r;
}
