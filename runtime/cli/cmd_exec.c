/* `bulwark exec`: a new process in a running container — its namespaces (through the init's
 * pidfd), its cgroup, and the same confinement (capabilities, no_new_privs, seccomp). */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"
#include "runtime/session/session.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/fdpass.h"
#include "common/util.h"
#include "netns/ns.h"
#include "runtime/spawn.h"
#include "runtime/stdio_guard.h"

struct exec_flags {
	char *process, *pid_file, *console_socket, *cwd, *user, *apparmor, *label;
	char **env, **caps, **gids, **cgroups;
	bool tty, detach, no_new_privs, ignore_paused;
	int preserve_fds;
	struct session_exec *session; /* session exec: output relayed, its timeout */
};

static int parse_user(const char *s, struct oci_user *u, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');
	if (colon != NULL)
		*colon++ = '\0';
	if (parse_u32(copy, &u->uid) < 0 || (colon != NULL && parse_u32(colon, &u->gid) < 0))
		return bw_fail(err, 0, "--user: expected UID[:GID] as numbers, got \"%s\"", s);
	/* (uid_t)-1 is "unchanged" to setresuid: the process would keep root. */
	if (u->uid > OCI_ID_MAX || u->gid > OCI_ID_MAX)
		return bw_fail(err, 0, "--user: \"%s\": uid and gid must be <= %u", s, OCI_ID_MAX);
	return 0;
}

static int apply_flags(const struct exec_flags *f, char **args, struct oci_process *p,
		       struct bw_error *err)
{
	strv_free(p->args);
	p->args = strv_dup(args);
	for (size_t i = 0; f->env && f->env[i]; i++) {
		if (strchr(f->env[i], '=') == NULL)
			return bw_fail(err, 0, "--env: expected KEY=VALUE, got \"%s\"", f->env[i]);
		strv_push(&p->env, f->env[i]);
	}
	if (f->cwd != NULL) {
		if (f->cwd[0] != '/')
			return bw_fail(err, 0, "--cwd: must be an absolute path");
		free(p->cwd);
		p->cwd = xstrdup(f->cwd);
	}
	if (f->user != NULL) {
		free(p->user.additional_gids);
		p->user.additional_gids = NULL;
		p->user.n_additional_gids = 0;
		p->user.gid = 0;
		if (parse_user(f->user, &p->user, err) < 0)
			return -1;
	}
	size_t ng = strv_len(f->gids);
	if (ng > 0) {
		free(p->user.additional_gids);
		p->user.additional_gids = xcalloc(ng, sizeof(uint32_t));
		p->user.n_additional_gids = ng;
		for (size_t i = 0; i < ng; i++)
			if (parse_u32(f->gids[i], &p->user.additional_gids[i]) < 0 ||
			    p->user.additional_gids[i] > OCI_ID_MAX)
				return bw_fail(err, 0,
					       "--additional-gids: \"%s\": not a gid in 0..%u",
					       f->gids[i], OCI_ID_MAX);
	}
	p->terminal = f->tty;
	p->no_new_privileges |= f->no_new_privs;
	if (f->apparmor != NULL) {
		free(p->apparmor_profile);
		p->apparmor_profile = xstrdup(f->apparmor);
	}
	if (f->label != NULL && f->label[0] != '\0')
		return bw_fail(err, 0, "--process-label: SELinux is not supported");
	return 0;
}

static int load_process(const struct exec_flags *f, int argc, char **argv, struct oci_spec *spec,
			struct bw_error *err)
{
	if (f->process != NULL) {
		_cleanup_free_ char *json = NULL;
		size_t len;
		struct oci_process p = {0};
		if (fs_read_file(f->process, 4 << 20, &json, &len, err) < 0)
			return bw_wrap(err, "--process");
		if (oci_process_parse(json, len, "process.json", &p, err) < 0)
			return -1;
		oci_process_free_fields(&spec->process);
		spec->process = p;
		/* Flags given beside --process still apply, as in runc. */
		if (f->tty)
			spec->process.terminal = true;
		return 0;
	}
	if (argc < 1)
		return bw_fail(err, 0, "exec: expected a command to run (or --process)");
	return apply_flags(f, argv, &spec->process, err);
}

static int add_caps(char **names, struct caps_plan *plan, struct bw_error *err)
{
	for (size_t i = 0; names && names[i]; i++) {
		int cap = caps_from_name(names[i]);
		if (cap < 0)
			return bw_fail(err, 0, "--cap: unknown capability \"%s\"", names[i]);
		uint64_t bit = 1ULL << cap;
		plan->sets[OCI_CAP_BOUNDING] |= bit;
		plan->sets[OCI_CAP_EFFECTIVE] |= bit;
		plan->sets[OCI_CAP_PERMITTED] |= bit;
		plan->any = true;
	}
	return 0;
}

/* runc's `--cgroup [CTRL[,CTRL]:]PATH`, repeatable; a PATH without controllers only alone. */
static int select_sub_cgroups(struct cg_manager *cg, char **args, struct bw_error *err)
{
	size_t n = strv_len(args);
	char q[160];
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(args[i], ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return bw_fail(err, 0, "invalid --cgroup argument: %s",
				       log_quote(q, sizeof(q), args[i]));
		if (colon == NULL && n != 1)
			return bw_fail(
			    err, 0, "invalid --cgroup argument: %s (missing <controller>: prefix)",
			    log_quote(q, sizeof(q), args[i]));
		_cleanup_free_ char *ctrls =
		    colon ? xstrndup(args[i], (size_t)(colon - args[i])) : NULL;
		if (cg_select_sub(cg, ctrls, colon ? colon + 1 : args[i], err) < 0)
			return -1;
	}
	return 0;
}

/* An exec'd process gets the profile named for it, else exactly the init's confinement. */
static int exec_apparmor(struct container *c, const struct oci_spec *spec,
			 struct apparmor_plan *plan, struct bw_error *err)
{
	const char *named = spec->process.apparmor_profile;
	if (!apparmor_enabled()) {
		if (named != NULL)
			return bw_fail(
			    err, 0,
			    "process.apparmorProfile: AppArmor is not enabled on this host");
		return 0;
	}
	if (named != NULL) {
		plan->profile = xstrdup(named);
		return 0;
	}
	char path[64];
	_cleanup_free_ char *label = NULL;
	snprintf(path, sizeof(path), "/proc/%d/attr/apparmor/current", (int)c->state.pid);
	if (fs_read_file(path, 4096, &label, NULL, err) < 0)
		return bw_wrap(err, "read the container's AppArmor label");
	label[strcspn(label, " \n")] = '\0';
	if (strcmp(label, "unconfined") != 0)
		plan->profile = xstrdup(label);
	return 0;
}

/* A session's command: its output relayed until it ends (not until what it left in the
 * background closes its copies), and at the --timeout deadline its whole process group
 * (it leads one: init.c) killed, while its pid is still unreaped and so still names that
 * group. */
static int session_wait(pid_t pid, int pidfd, const struct console_io *io, struct session_exec *x,
			struct bw_error *err)
{
	int64_t deadline = x->timeout_ms > 0 ? console_now_ms() + x->timeout_ms : 0;
	int expired = console_relay(io, pidfd, deadline, err);
	if (expired < 0)
		return -1;
	if (expired == 1) {
		x->timed_out = true;
		kill(-pid, SIGKILL);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait for the command");
	x->wait_status = status;
	if (x->timed_out)
		return 124;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Rootless, a container in a scope of the user's systemd (lifecycle/lifecycle_cgroup.c): cgroup v2
 * starts a process in its cgroup only for a caller inside the scope (the common ancestor of the
 * two cgroups must be writable by it), so this runtime first has the user's manager move it
 * into the scope's leaf, as the runtime that made the container was. */
static int join_user_scope(const char *path, struct bw_error *err)
{
	if (geteuid() == 0)
		return 0;
	_cleanup_free_ char *unit = cg_user_scope_unit(path);
	if (unit == NULL)
		return 0;
	if (cg_sd_user_attach(unit, "/" CG_DELEG_LEAF, err) < 0)
		return bw_wrap(err, "join the container's scope of the user's systemd");
	log_debug("rootless: in `%s` of the user's scope `%s`", CG_DELEG_LEAF, unit);
	return 0;
}

/* The namespaces to join: those of the init that differ from ours. Where the init's
 * /proc/PID/ns links are not ours to read (a pid 1 that is not dumpable: a rootless session's
 * without Landlock, docs/sessions.md), the ones its spec made. */
static int target_ns_flags(const struct container *c, const struct oci_spec *spec, int *flags,
			   struct bw_error *err)
{
	if (ns_differing_flags(c->state.pid, flags, err) == 0)
		return 0;
	const char *session = oci_spec_annotation(spec, SESSION_ANNOTATION);
	if (err->code != EACCES || session == NULL || strcmp(session, "1") != 0)
		return -1;
	bw_error_clear(err);
	*flags = 0;
	for (int t = 0; t < OCI_NS_NTYPES; t++) {
		const struct oci_namespace *ns = oci_spec_namespace(spec, (enum oci_ns_type)t);
		if (ns != NULL && ns->path == NULL)
			*flags |= ns_clone_flag((enum oci_ns_type)t);
	}
	return 0;
}

/* The confinement: Landlock, AppArmor, capabilities and seccomp. */
static int exec_confine(const struct global_opts *g, struct container *c, struct oci_spec *spec,
			const struct exec_flags *f, struct spawn_config *cfg,
			struct seccomp_prog *prog, struct bw_error *err)
{
	if (landlock_plan_from_spec(spec, &cfg->landlock, err) < 0 ||
	    exec_apparmor(c, spec, &cfg->apparmor, err) < 0)
		return -1;
	/* The config's own process was planned, and warned about, by create: its warnings again
	 * on every exec would only pollute the exec'd process's output (runc prints none). They
	 * stay debug lines; a --process file's are shown. */
	enum log_level warn = log_set_warn_threshold(f->process ? LOG_WARN : LOG_ERROR);
	int r = caps_plan_from_spec(&spec->process.caps, &cfg->caps, err);
	log_set_warn_threshold(warn);
	if (r < 0 || add_caps(f->caps, &cfg->caps, err) < 0)
		return -1;
	if (seccomp_tty_guard_for_spec(spec, &cfg->tty_guard, err) < 0)
		return -1;
	if (spec->linux.seccomp != NULL) {
		_cleanup_free_ char *cache = fs_path_join(cli_state_root(g), ".cache/seccomp");
		if (seccomp_compile(spec->linux.seccomp, cache, prog, err) < 0)
			return -1;
		cfg->seccomp = prog;
	}
	return 0;
}

/* Where the process goes: the init's namespaces (through its pidfd) and the container's cgroup,
 * or the --cgroup sub-cgroups of it (*cg). */
static int exec_target(struct container *c, const struct oci_spec *spec, const struct exec_flags *f,
		       struct spawn_config *cfg, struct cg_manager **cg, struct bw_error *err)
{
	cfg->target_pidfd = container_pidfd(c, err);
	if (cfg->target_pidfd < 0 || target_ns_flags(c, spec, &cfg->target_ns_flags, err) < 0)
		return -1;
	/* A rootless container may have no cgroup (lifecycle/lifecycle_cgroup.c): its processes
	 * share the init's pid namespace, which ends them all. */
	if (c->state.cgroup_path == NULL && f->cgroups != NULL)
		return bw_fail(err, 0,
			       "--cgroup: the container has no cgroup (created without root)");
	if (c->state.cgroup_path != NULL && join_user_scope(c->state.cgroup_path, err) < 0)
		return -1;
	if (c->state.cgroup_path != NULL && (cg_open(c->state.cgroup_path, c->id, cg, err) < 0 ||
					     select_sub_cgroups(*cg, f->cgroups, err) < 0))
		return -1;
	cfg->cg = *cg;
	return 0;
}

/* After the spawn: the --pid-file, the state unlocked, and the wait (none with --detach). */
static int exec_wait(struct container *c, const struct exec_flags *f, struct spawn_result *res,
		     const struct stdio_guard *sio, struct bw_error *err)
{
	int r;
	if (f->pid_file != NULL) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d", (int)res->pid);
		if (fs_write_atomic(f->pid_file, pid, (size_t)n, 0644, err) < 0) {
			/* Nobody would know its pid: ended, as runc does, not left running. */
			syscall(SYS_pidfd_send_signal, res->pidfd, SIGKILL, NULL, 0);
			siginfo_t si;
			while (waitid(P_PIDFD, (id_t)res->pidfd, &si, WEXITED) < 0 &&
			       errno == EINTR)
				;
			close(res->pidfd);
			if (res->master >= 0)
				close(res->master);
			return -1;
		}
	}
	if (c->lockfd >= 0)
		close(c->lockfd);
	c->lockfd = -1;
	struct console_io io = stdio_guard_io(sio, res->master);
	if (f->session != NULL) {
		f->session->started = true;
		r = session_wait(res->pid, res->pidfd, &io, f->session, err);
	} else {
		r = f->detach ? 0 : lifecycle_wait(res->pid, res->pidfd, &io, 0, NULL, err);
	}
	close(res->pidfd);
	if (res->master >= 0)
		close(res->master);
	return r;
}

static int exec_in(const struct global_opts *g, struct container *c, struct oci_spec *spec,
		   const struct exec_flags *f, struct bw_error *err)
{
	struct spawn_config cfg;
	struct spawn_result res;
	struct seccomp_prog prog = {0};
	struct cg_manager *cg = NULL;
	struct stdio_guard sio = STDIO_GUARD_INIT;
	int r = -1;

	spawn_config_init(&cfg);
	cfg.is_exec = true;
	cfg.spec = spec;
	cfg.process = &spec->process;
	cfg.id = c->id;
	cfg.bundle = c->state.bundle;
	cfg.rootfs = c->state.rootfs;
	cfg.preserve_fds = f->preserve_fds;
	cfg.console_socket = f->console_socket;
	cfg.keep_master = spec->process.terminal && f->console_socket == NULL && !f->detach;
	if (exec_confine(g, c, spec, f, &cfg, &prog, err) < 0 ||
	    exec_target(c, spec, f, &cfg, &cg, err) < 0)
		goto out;
	/* Without a terminal of its own the process never gets ours: relayed pipes while we
	 * wait, /dev/null with --detach (stdio_guard.h). */
	if (!spec->process.terminal &&
	    (f->detach		  ? stdio_guard_detached(&sio, err)
	     : f->session != NULL ? stdio_guard_session(&sio, f->session->interactive, err)
				  : stdio_guard_relay(&sio, err)) < 0)
		goto out;
	memcpy(cfg.stdio, sio.child, sizeof(cfg.stdio));
	r = spawn_container_process(&cfg, &res, err);
	stdio_guard_close_child(&sio);
	if (r >= 0)
		r = exec_wait(c, f, &res, &sio, err);
out:
	stdio_guard_close(&sio);
	landlock_plan_free(&cfg.landlock);
	apparmor_plan_free(&cfg.apparmor);
	if (cfg.target_pidfd >= 0)
		close(cfg.target_pidfd);
	seccomp_prog_free(&prog);
	seccomp_prog_free(&cfg.tty_guard);
	cg_free(cg);
	return r;
}

int session_exec_in(const struct global_opts *g, struct container *c, struct session_exec *x,
		    struct bw_error *err)
{
	struct oci_spec *spec = NULL;
	struct exec_flags f = {.cwd = (char *)x->cwd, .tty = x->tty, .session = x};
	int r = lifecycle_load_spec(c, &spec, err);
	for (size_t i = 0; r == 0 && x->env != NULL && x->env[i] != NULL; i++) {
		if (x->env[i][0] == '=' || strchr(x->env[i], '=') == NULL)
			r = bw_fail(err, 0, "--env: expected KEY=VALUE, got \"%s\"", x->env[i]);
		else
			strv_setenv(&spec->process.env, x->env[i]);
	}
	if (r == 0)
		r = apply_flags(&f, x->args, &spec->process, err);
	if (r == 0 && x->tty)
		strv_setenv(&spec->process.env, "TERM=xterm");
	if (r == 0)
		r = exec_in(g, c, spec, &f, err);
	oci_spec_free(spec);
	return r;
}

#define EXEC_FAILED_STATUS 255

/* Whether the container's state lets a process in. */
static int exec_check_status(struct container *c, const struct exec_flags *f, struct bw_error *err)
{
	enum oci_status st = container_status(c);
	if (st == OCI_STATUS_STOPPED || st == OCI_STATUS_CREATING)
		return bw_fail(err, 0, "cannot exec in a stopped container");
	if (st == OCI_STATUS_PAUSED && !f->ignore_paused)
		return bw_fail(err, 0,
			       "cannot exec in a paused container (use --ignore-paused to "
			       "override)");
	/* The new process stops in the frozen cgroup until `resume`, which needs this lock: held
	 * through the spawn, the two would wait for each other forever. */
	if (st == OCI_STATUS_PAUSED) {
		close(c->lockfd);
		c->lockfd = -1;
	}
	return 0;
}

/* argv: the container id, then the command (unless --process). */
static int exec_load_run(const struct global_opts *g, struct exec_flags *f, int argc, char **argv,
			 struct bw_error *err)
{
	struct container *c = NULL;
	struct oci_spec *spec = NULL;
	int r = -1;
	if (container_load(cli_state_root(g), argv[0], &c, err) < 0 ||
	    exec_check_status(c, f, err) < 0)
		goto out;
	if (lifecycle_load_spec(c, &spec, err) < 0 ||
	    load_process(f, argc - 1, argv + 1, spec, err) < 0)
		goto out;
	if (!f->detach) {
		sigset_t all;
		sigset_all_but_faults(&all, true);
		sigprocmask(SIG_BLOCK, &all, NULL);
	}
	r = exec_in(g, c, spec, f, err);
out:
	oci_spec_free(spec);
	container_free(c);
	return r;
}

VERB(exec)
{
	struct exec_flags f = {0};
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"process", 'p', CLI_STRING, &f.process, "FILE", "process.json to run"},
	    {"pid-file", 0, CLI_STRING, &f.pid_file, "FILE", "write the process's pid to FILE"},
	    {"console-socket", 0, CLI_STRING, &f.console_socket, "PATH", "receives the pty master"},
	    {"detach", 'd', CLI_BOOL, &f.detach, NULL, "do not wait for the process"},
	    {"tty", 't', CLI_BOOL, &f.tty, NULL, "allocate a terminal"},
	    {"cwd", 0, CLI_STRING, &f.cwd, "DIR", "working directory in the container"},
	    {"env", 'e', CLI_STRV, &f.env, "KEY=VALUE", "add an environment variable"},
	    {"user", 'u', CLI_STRING, &f.user, "UID[:GID]", "user to run as"},
	    {"additional-gids", 'g', CLI_STRV, &f.gids, "GID", "add a supplementary group"},
	    {"cap", 'c', CLI_STRV, &f.caps, "CAP", "add a capability"},
	    {"no-new-privs", 0, CLI_BOOL, &f.no_new_privs, NULL, "set no_new_privs"},
	    {"apparmor", 0, CLI_STRING, &f.apparmor, "PROFILE", "AppArmor profile"},
	    {"process-label", 0, CLI_STRING, &f.label, "LABEL", "SELinux label (unsupported)"},
	    {"preserve-fds", 0, CLI_INT, &f.preserve_fds, "N", "pass N extra fds"},
	    {"cgroup", 0, CLI_STRV, &f.cgroups, "[CTRL[,CTRL]:]PATH",
	     "run the process in an existing sub-cgroup of the container's cgroup"},
	    {"ignore-paused", 0, CLI_BOOL, &f.ignore_paused, NULL,
	     "allow exec in a paused container (the process runs once it is resumed)"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark exec [command options] <container-id> <command> [args...] "
			       "|| -p process.json <container-id>",
			       "Run a process inside a running container.", opts, ARRAY_SIZE(opts));
		return 0;
	}
	bool usage_ok = false;
	if (r == 0 && argc - consumed < 1)
		r = bw_fail(err, 0, "exec: expected a container id");
	if (r == 0) {
		usage_ok = true;
		r = exec_load_run(g, &f, argc - consumed, argv + consumed, err);
	}
	free(f.process);
	free(f.pid_file);
	free(f.console_socket);
	free(f.cwd);
	free(f.user);
	free(f.apparmor);
	free(f.label);
	strv_free(f.cgroups);
	strv_free(f.env);
	strv_free(f.caps);
	strv_free(f.gids);
	if (r < 0) {
		/* runc's exit status for an exec that failed (not the process's own status); usage
		 * errors exit 1. */
		if (usage_ok)
			err->exit_status = EXEC_FAILED_STATUS;
		return bw_wrap(err, "exec failed");
	}
	return r;
}
