/* `bulwark session create` and the session's supervisor: the flags are sandbox's (one table),
 * the container is a sandbox whose pid 1 runs no payload, and the supervisor that creates it
 * owns it: it enforces --lifetime and --idle-timeout, ends it on `session rm` (SIGTERM), and
 * tears it down exactly as a sandbox's end. If the supervisor dies, however, the session's init
 * dies with it (PR_SET_PDEATHSIG) and the watchdog releases the rest. */
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/session/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/fdpass.h"
#include "common/util.h"
#include "runtime/hostpath.h"
#include "runtime/init_reaper.h"
#include "runtime/proctitle.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/watchdog.h"

struct session_flags {
	struct sandbox_flags sb;
	char *idle, *lifetime;
	int64_t idle_ms, lifetime_ms;
	bool checkpointable;
};

/* Sandbox flags that belong to one command, not to a session: refused with the flag that does
 * it instead. */
static int refuse_command_flags(const struct sandbox_flags *f, struct bw_error *err)
{
	if (f->timeout != NULL || f->kill_after != NULL)
		return bw_fail(err, 0,
			       "--%s: not for session create (a session has --lifetime "
			       "and --idle-timeout; each exec has --timeout)",
			       f->timeout ? "timeout" : "kill-after");
	if (f->report != NULL)
		return bw_fail(err, 0,
			       "--report: not for session create (use session exec "
			       "--report)");
	if (f->tty)
		return bw_fail(err, 0, "--tty: not for session create (use session exec -t)");
	return 0;
}

static int parse_dur(const char *flag, const char *s, int64_t *ms, struct bw_error *err)
{
	if (s == NULL)
		return 0;
	if (parse_duration_ms(s, ms) < 0 || *ms <= 0 || *ms > (int64_t)365 * 86400000)
		return bw_fail(err, 0, "%s: expected a duration such as 30s, 5m or 1h, got \"%s\"",
			       flag, s);
	return 0;
}

/* The checks that need nothing but the flags and the name, in the foreground. */
static int check_create(const struct global_opts *g, struct session_flags *f, const char *name,
			struct bw_error *err)
{
	if (refuse_command_flags(&f->sb, err) < 0 ||
	    parse_dur("--idle-timeout", f->idle, &f->idle_ms, err) < 0 ||
	    parse_dur("--lifetime", f->lifetime, &f->lifetime_ms, err) < 0)
		return -1;
	if (container_validate_id(name, err) < 0)
		return bw_wrap(err, "session name");
	_cleanup_free_ char *dir = fs_path_join(cli_state_root(g), name);
	struct stat st;
	if (lstat(dir, &st) == 0)
		return bw_fail(err, EEXIST,
			       "session %s: a container or session with that name "
			       "exists",
			       name);
	return 0;
}

/* What `session ls` shows: the limits the plan enforces (sg, after rootless_plan), not the
 * flags' defaults: "none" where no cgroup bounds it, tasks by RLIMIT_NPROC when so bounded. */
static char *limits_text(const struct sandbox_limit_flags *l, const struct specgen *sg)
{
	bool cpu = sg->cpu_quota > 0 || sg->cpu_weight > 0 || sg->cpu_shares > 0;
	_cleanup_free_ char *tasks =
	    sg->pids_limit > 0 ? xstrdup(l->pids ? l->pids : "1024")
	    : sg->nproc > 0    ? xasprintf("%llu(RLIMIT_NPROC)", (unsigned long long)sg->nproc)
			       : xstrdup("none");
	return xasprintf("memory=%s cpus=%s pids=%s disk=%s",
			 sg->memory_limit <= 0 ? "none"
			 : l->memory	       ? l->memory
					       : "1g",
			 !cpu	   ? "none"
			 : l->cpus ? l->cpus
				   : "default",
			 tasks, l->disk ? l->disk : "1g");
}

static void annotate(struct specgen *sg, const struct session_flags *f)
{
	strv_push(&sg->annotations, SESSION_ANNOTATION "=1");
	strv_push_take(&sg->annotations,
		       xasprintf(SESSION_IDLE_ANNOTATION "=%lld", (long long)f->idle_ms));
	strv_push_take(&sg->annotations,
		       xasprintf(SESSION_LIFETIME_ANNOTATION "=%lld", (long long)f->lifetime_ms));
	_cleanup_free_ char *lim = limits_text(&f->sb.lim, sg);
	strv_push_take(&sg->annotations, xasprintf(SESSION_LIMITS_ANNOTATION "=%s", lim));
	int64_t disk = SANDBOX_DISK_DEFAULT; /* the value was checked by the budget's plan */
	if (f->sb.lim.disk != NULL && parse_size(f->sb.lim.disk, &disk) < 0)
		disk = SANDBOX_DISK_DEFAULT;
	strv_push_take(&sg->annotations,
		       xasprintf(SESSION_DISK_ANNOTATION "=%lld", (long long)disk));
	strv_push_take(&sg->annotations,
		       xasprintf(SESSION_ANNOTATION ".created=%lld", (long long)time(NULL)));
	if (f->checkpointable)
		strv_push(&sg->annotations, SESSION_CHECKPOINTABLE_ANNOTATION "=1");
}

/* --checkpointable: CRIU can restore neither a Landlock domain nor bulwark's generated AppArmor
 * profile, so the session is made without both, on request only. Refused where that would
 * weaken more than those two: rootless, a session's init is isolated from the session by its
 * own Landlock domain (docs/sessions.md); with a network allowlist, the nft table and DNS agent
 * are not carried over by a checkpoint. */
static int plan_checkpointable(const struct session_flags *f, struct specgen *sg,
			       const struct sandbox_run *run, struct bw_error *err)
{
	if (!f->checkpointable)
		return 0;
	if (sg->rootless || geteuid() != 0)
		return bw_fail(err, 0,
			       "--checkpointable: needs root (a rootless session's init is "
			       "isolated by a Landlock domain, which CRIU cannot carry over)");
	if (run->net.policy_doc != NULL || run->net.policy != NULL)
		return bw_fail(err, 0,
			       "--checkpointable: not with a network allowlist or policy (its nft "
			       "table and DNS agent are not carried over by CRIU)");
	sg->no_lsm_for_criu = true;
	return 0;
}

/* --checkpointable: pid 1 must run from a real file inside the session's own mounts (CRIU
 * 3.17 cannot restore a memfd-backed executable, and the supervisor, whose copy the init is,
 * runs from bulwark's sealed memfd). The running binary is copied once into the state root,
 * root's and read-only (0555, under the 0700 state root), and bound read-only at
 * INIT_SESSION_EXE (init_reaper.h). CVE-2019-5736 holds: the host's bulwark binary is never
 * in the session, and the copy is on a read-only mount, owned by an id the session's user
 * namespace does not map. The copy goes with the session (a "file" entry of its cleanup record). */
int session_init_copy(const char *dir, const char *id, char **copy, struct bw_error *err)
{
	const char *label = "the session init's copy of bulwark";
	uint64_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return bw_fail(err, errno, "getrandom");
	_cleanup_free_ char *path =
	    xasprintf("%s/.%s.%016llx.init", dir, id, (unsigned long long)nonce);
	_cleanup_close_ int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return bw_fail(err, errno, "%s: /proc/self/exe", label);
	_cleanup_close_ int out =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0500);
	if (out < 0)
		return bw_fail(err, errno, "%s: %s", label, path);
	*copy = steal_ptr(&path); /* ours: the caller unlinks it whatever happens next */
	if (fs_copy_data(in, out, *copy, err) < 0 || fchmod(out, 0555) < 0 || fsync(out) < 0) {
		if (err->msg[0] == '\0')
			bw_fail(err, errno, "%s: %s", label, *copy);
		return bw_wrap(err, "%s", label);
	}
	return 0;
}

static int plan_init_exe(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
			 char **copy, struct bw_error *err)
{
	const char *label = "--checkpointable: the session init's copy of bulwark";
	if (fs_mkdir_p(cli_state_root(g), 0700, err) < 0 ||
	    session_init_copy(cli_state_root(g), run->id, copy, err) < 0)
		return bw_wrap(err, "--checkpointable");
	struct hostpath hp;
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, *copy, false, label, err);
	if (fd < 0 || hostpath_from_fd(fd, label, false, &hp, err) < 0)
		return -1;
	sandbox_view_push_bind(sg, hp.path, INIT_SESSION_EXE, true);
	hostpath_list_add(&run->known, &hp);
	strv_push(&sg->annotations, INIT_SESSION_EXE_ANNOTATION "=" INIT_SESSION_EXE);
	return 0;
}

/* Our stdio on /dev/null: the caller's terminal or pipes are not held for the session's life
 * (a `$(bulwark session create)` returns as soon as we report). */
static int detach_stdio(struct bw_error *err)
{
	int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open /dev/null");
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			return bw_fail(err, errno, "dup2 /dev/null");
	if (fd > 2)
		close(fd);
	/* Nor the caller's working directory (a file system it may want to unmount). */
	if (chdir("/") < 0)
		return bw_fail(err, errno, "chdir /");
	return 0;
}

/* After start: the busy file (session.h) and the supervisor recorded, so that exec, ls and rm
 * find them. */
static int record_session(const struct global_opts *g, const char *id, const char *init_copy,
			  struct bw_error *err)
{
	struct container *c = NULL;
	if (container_load(cli_state_root(g), id, &c, err) < 0)
		return -1;
	int fd = openat(c->dirfd, SESSION_BUSY_FILE, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	int r = fd < 0 ? bw_fail(err, errno, "create %s", SESSION_BUSY_FILE) : 0;
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		container_record_helper(c, STATE_CLEANUP_SESSION, getpid(), 0);
		if (init_copy != NULL)
			state_cleanup_add_str(&c->state, STATE_CLEANUP_FILE, init_copy);
		r = container_save(c, err);
	}
	container_free(c);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Idle: no exec holds the busy file and none started or ended for idle_ms. On 1 the exclusive
 * lock is kept (*busy_fd): an exec that comes now waits, then finds the session gone. */
static int idle_expired(int dirfd, int64_t idle_ms, int *busy_fd)
{
	if (*busy_fd < 0)
		*busy_fd = openat(dirfd, SESSION_BUSY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*busy_fd < 0 || flock(*busy_fd, LOCK_EX | LOCK_NB) < 0)
		return 0;
	struct stat st;
	if (fstat(*busy_fd, &st) == 0 &&
	    now_ms() - ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000) >=
		idle_ms)
		return 1;
	flock(*busy_fd, LOCK_UN);
	return 0;
}

/* The session's life: until the init ends (killed from outside, `delete`), a SIGTERM or
 * SIGINT (`session rm`), the lifetime or the idle timeout. */
void session_supervise(int64_t lifetime_ms, int64_t idle_ms, struct created *cr, int dirfd)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	_cleanup_close_ int sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	/* CLOCK_BOOTTIME, as the watchdog's deadline: a suspend counts, a clock change does not. */
	int64_t start = watchdog_now_ms();
	int bfd = -1;
	for (;;) {
		int wait_ms = -1;
		if (lifetime_ms > 0) {
			int64_t left = start + lifetime_ms - watchdog_now_ms();
			if (left <= 0)
				break;
			wait_ms = left > 86400000 ? 86400000 : (int)left;
		}
		if (idle_ms > 0 && (wait_ms < 0 || wait_ms > 100))
			wait_ms = 100;
		struct pollfd p[2] = {{cr->pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
			break;
		if ((p[0].revents & POLLIN) || (p[1].revents & POLLIN))
			break;
		if (idle_ms > 0 && idle_expired(dirfd, idle_ms, &bfd) == 1)
			break;
	}
	syscall(SYS_pidfd_send_signal, cr->pidfd, SIGKILL, NULL, 0);
	/* A paused session: frozen (the v1 freezer) it would never take the SIGKILL, and the
	 * wait below would never end. */
	struct cg_manager *cg = NULL;
	struct bw_error e = {0};
	if (cr->c->state.cgroup_path != NULL &&
	    lifecycle_cgroup_open(cr->c, cr->c->state.cgroup_path, &cg, &e) == 0) {
		cg_thaw(cg, &e);
		cg_free(cg);
	}
	while (waitpid(cr->pid, NULL, 0) < 0 && errno == EINTR)
		;
	/* bfd (held exclusively on idle) is closed only after the teardown: at exit. */
}

/* The session planned (sg, ws, run; *init_copy made for --checkpointable), then our stdio
 * detached; a failure's exit status is 125. */
static int plan_session(const struct global_opts *g, struct session_flags *f, char **args,
			struct specgen *sg, struct workspace_set *ws, struct sandbox_run *run,
			char **init_copy, struct bw_error *err)
{
	int r = sandbox_plan(g, &f->sb, args, sg, ws, run, err);
	if (r == 0)
		r = plan_checkpointable(f, sg, run, err);
	if (r == 0 && f->checkpointable)
		r = plan_init_exe(g, sg, run, init_copy, err);
	if (r == 0) {
		annotate(sg, f);
		sandbox_plan_warn(run); /* stderr is the caller's only until detach_stdio */
		r = detach_stdio(err);
	}
	if (r < 0)
		err->exit_status = 125;
	return r;
}

/* Our word to the caller through report_fd (closed): a NUL byte on success (r == 0), else the
 * exit status's byte and the error's text. */
void session_report_to_caller(int report_fd, int r, const struct bw_error *err)
{
	char text[BW_ERROR_MAX + 64] = "";
	if (r < 0) {
		text[0] = (char)(err->exit_status ? err->exit_status : 125);
		bw_error_text(err, text + 1, sizeof(text) - 1);
	}
	(void)!write(report_fd, text, r < 0 ? strlen(text + 1) + 1 : 1);
	close(report_fd);
}

/* The launched session supervised (r == 0), or killed at once (the create failed after the
 * launch), then released as a sandbox's end. */
static void end_session(const struct global_opts *g, const struct session_flags *f,
			const char *name, struct created *cr, struct sandbox_run *run,
			struct workspace_set *ws, int r)
{
	if (r == 0) {
		struct watchdog_guard *guard =
		    watchdog_guard_start(cli_state_root(g), run->id, cr->pidfd, getpid());
		session_supervise(f->lifetime_ms, f->idle_ms, cr, cr->c->dirfd);
		watchdog_guard_stop(guard);
	} else {
		syscall(SYS_pidfd_send_signal, cr->pidfd, SIGKILL, NULL, 0);
		waitpid(cr->pid, NULL, 0);
	}
	if (cr->status_fd >= 0)
		close(cr->status_fd);
	close(cr->pidfd);
	container_free(cr->c);
	struct bw_error e2 = {0};
	if (sandbox_release(run, 0, &e2) < 0)
		log_warn("session %s: %s", name, e2.msg);
	if (r == 0 && workspace_keep_changes(ws, &e2) < 0)
		log_warn("session %s: --keep-changes: %s", name, e2.msg);
}

/* The supervisor: plans, creates and starts the session, reports to the caller through
 * report_fd (a NUL byte on success, else the exit status's byte and the error's text), then
 * supervises it and releases it as a sandbox's end. */
static int supervisor_main(const struct global_opts *g, struct session_flags *f,
			   const char *argv_name, int report_fd)
{
	/* The name was in our argv, which is cleared now: the caller's flags (--env values, host
	 * paths) would show to everyone in our /proc/PID/cmdline, and to the session through its
	 * init's, which is a copy of our memory. */
	_cleanup_free_ char *name = xstrdup(argv_name);
	char title[300];
	int tl = snprintf(title, sizeof(title), "bulwark-session%c%s", '\0', name);
	if (proctitle_hide(title, (size_t)tl + 1) < 0) {
		/* The session never starts showing the caller's flags. */
		char msg[] = "\175session: cannot clear the supervisor's command line";
		(void)!write(report_fd, msg, sizeof(msg) - 1);
		return 0;
	}
	struct bw_error e = {0}, *err = &e;
	struct specgen sg = {0};
	struct workspace_set ws = {0};
	struct sandbox_run run;
	sandbox_run_init(&run);
	run.session = true;
	snprintf(run.id, sizeof(run.id), "%s", name);
	char *args[] = {"bulwark-session", NULL};
	sigset_t all;
	sigset_all_but_faults(&all, true);
	sigprocmask(SIG_BLOCK, &all, NULL);
	struct created cr = {.pidfd = -1, .master = -1, .status_fd = -1};
	bool launched = false;
	_cleanup_free_ char *init_copy = NULL;
	int r = plan_session(g, f, args, &sg, &ws, &run, &init_copy, err);
	int64_t backstop = f->lifetime_ms > 0 ? f->lifetime_ms + 2000 : 0;
	if (r == 0) {
		r = sandbox_launch(g, &sg, &run, NULL, backstop, &cr, err);
		if (r < 0)
			e.exit_status = sandbox_exit_status(err);
		launched = r == 0;
	}
	if (r == 0 && record_session(g, name, init_copy, err) < 0) {
		e.exit_status = 125;
		r = -1;
	}
	session_report_to_caller(report_fd, r, err);
	if (launched)
		end_session(g, f, name, &cr, &run, &ws, r);
	if (init_copy != NULL) /* gone with the session; not made or a failed create: here */
		unlink(init_copy);
	sandbox_run_free(&run, &sg, &ws);
	return 0;
}

struct create_args {
	const struct global_opts *g;
	struct session_flags *f;
	const char *name;
};

static int create_main(void *arg, int report_fd)
{
	struct create_args *a = arg;
	return supervisor_main(a->g, a->f, a->name, report_fd);
}

/* Forks the supervisor out of the caller's session and process group (it survives the shell
 * and its terminal's hangup) and waits for its word. */
int session_spawn_supervisor(const char *name, int (*fn)(void *arg, int report_fd), void *arg,
			     struct bw_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	pid_t mid = fork();
	if (mid < 0) {
		close(p[0]);
		close(p[1]);
		return bw_fail(err, errno, "fork the session's supervisor");
	}
	if (mid == 0) {
		close(p[0]);
		setsid();
		pid_t sup = fork();
		if (sup == 0)
			_exit(fn(arg, p[1]));
		_exit(sup < 0 ? 1 : 0);
	}
	close(p[1]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	char buf[BW_ERROR_MAX + 64];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) - 1 && ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0 ||
					 (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(p[0]);
	buf[got] = '\0';
	if (got == 0)
		return bw_fail(err, 0, "session %s: the supervisor died before reporting", name);
	if (buf[0] == '\0')
		return 0;
	bw_fail(err, 0, "%s", buf + 1);
	err->exit_status = (unsigned char)buf[0];
	return -1;
}

int session_create(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	struct session_flags f = {0};
	struct cli_opt opts[SANDBOX_FLAG_COUNT + 3];
	sandbox_flag_table(&f.sb, opts);
	opts[SANDBOX_FLAG_COUNT] = (struct cli_opt){
	    "idle-timeout", 0,
	    CLI_STRING,	    &f.idle,
	    "DURATION",	    "destroy the session when no exec has run or started for DURATION"};
	opts[SANDBOX_FLAG_COUNT + 1] = (struct cli_opt){
	    "lifetime", 0,
	    CLI_STRING, &f.lifetime,
	    "DURATION", "destroy the session DURATION after create, whatever it is doing"};
	opts[SANDBOX_FLAG_COUNT + 2] = (struct cli_opt){
	    "checkpointable",
	    0,
	    CLI_BOOL,
	    &f.checkpointable,
	    NULL,
	    "allow `session checkpoint`: without Landlock and the generated AppArmor profile, "
	    "which CRIU cannot carry over (root; no network allowlist)"};
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark session create [sandbox options] [--idle-timeout DURATION] "
		    "[--lifetime DURATION] [--checkpointable] NAME",
		    "Start a long-lived sandbox NAME (the flags are `bulwark sandbox`'s; "
		    "--timeout,\n--kill-after, --report and --tty belong to `session "
		    "exec`), print NAME and return.\nSee docs/sessions.md.",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r == 0 && argc - consumed != 1)
		r = bw_fail(err, 0, "session create: expected exactly one NAME");
	if (r == 0)
		r = check_create(g, &f, argv[consumed], err);
	if (r == 0)
		r = session_spawn_supervisor(argv[consumed], create_main,
					     &(struct create_args){g, &f, argv[consumed]}, err);
	else
		err->exit_status = 125;
	if (r == 0)
		printf("%s\n", argv[consumed]);
	sandbox_flags_free(&f.sb);
	free(f.idle);
	free(f.lifetime);
	return r;
}
