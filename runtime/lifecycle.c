/* create: a new container from its bundle (or a sandbox's preloaded spec), step by step, each
 * step's work undone when a later one fails. Its parts, and start, teardown and wait, are in
 * runtime/lifecycle/ (lifecycle_internal.h). */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "oci/policy.h"
#include "profiles/apparmor.h"
#include "runtime/hostpath.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/network.h"
#include "runtime/sandbox/audit.h"
#include "runtime/sandbox/watchdog.h"
#include "runtime/sealed.h"
#include "runtime/spawn.h"

struct create_ctx {
	struct container *c;
	const struct oci_spec *spec;
};

/* What hooks (and a seccomp agent) read: the runtime-spec's State. */
char *lifecycle_hook_state_json(struct container *c, struct bw_error *err)
{
	char *json = NULL;
	if (oci_state_spec_json(&c->state, &json, err) < 0)
		return NULL;
	return json;
}

static int on_started(void *ctx, pid_t pid, char **state_json, struct bw_error *err)
{
	struct create_ctx *cc = ctx;
	cc->c->state.pid = pid;
	cc->c->state.init_start_time = proc_start_time(pid);
	/* Not saved yet: until the init reports ready it dies with us (PDEATHSIG), and whatever
	 * a crash leaves (the cgroup, a stray init in it) is found from the config copy. The
	 * hooks of create and start (prestart to startContainer) see "created": the environment
	 * exists by then (runtime.md: "created" is after lifecycle step 2; crun and the
	 * runtime-tools validation agree; runc 1.1 passes "creating"). */
	enum oci_status now = cc->c->state.status;
	cc->c->state.status = OCI_STATUS_CREATED;
	*state_json = lifecycle_hook_state_json(cc->c, err);
	cc->c->state.status = now;
	return *state_json ? 0 : -1;
}

static int resolve_bundle(const char *bundle, char **out, struct bw_error *err)
{
	char buf[PATH_MAX];
	if (realpath(bundle ? bundle : ".", buf) == NULL)
		return bw_fail(err, errno, "bundle `%s`", bundle ? bundle : ".");
	*out = xstrdup(buf);
	return 0;
}

static int make_fifo(struct container *c, int *fd, struct bw_error *err)
{
	if (mknodat(c->dirfd, "exec.fifo", S_IFIFO | 0600, 0) < 0)
		return bw_fail(err, errno, "create exec.fifo");
	/* 0622: the init may already run as an unprivileged (mapped) user when it opens it. */
	if (fchmodat(c->dirfd, "exec.fifo", 0622, 0) < 0)
		return bw_fail(err, errno, "chmod exec.fifo");
	*fd = openat(c->dirfd, "exec.fifo", O_PATH | O_CLOEXEC);
	if (*fd < 0)
		return bw_fail(err, errno, "open exec.fifo");
	return 0;
}

/* Socket activation as systemd defines it: the fds are ours only when LISTEN_PID names this
 * process (a stale LISTEN_FDS inherited from elsewhere must not hand fds to the container). */
static int add_listen_fds(struct oci_spec *spec, int *preserve)
{
	const char *lf = getenv("LISTEN_FDS"), *lp = getenv("LISTEN_PID");
	int n, pid;
	if (lf == NULL || parse_int(lf, &n) < 0 || n <= 0 || lp == NULL ||
	    parse_int(lp, &pid) < 0 || pid != getpid())
		return 0;
	*preserve += n;
	strv_push_take(&spec->process.env, xasprintf("LISTEN_FDS=%d", n));
	strv_push(&spec->process.env, "LISTEN_PID=1");
	return 0;
}

void lifecycle_fill_state(struct container *c, const struct oci_spec *spec, const char *bundle,
			  const char *rootfs, const char *cgroup_path)
{
	c->state.oci_version = xstrdup(spec->oci_version);
	c->state.bundle = xstrdup(bundle);
	c->state.rootfs = xstrdup(rootfs);
	c->state.created = oci_time_now_rfc3339();
	c->state.owner = xstrdup("");
	c->state.cgroup_path = xstrdup(cgroup_path);
	c->state.own_pid_ns = oci_spec_namespace(spec, OCI_NS_PID) != NULL;
	c->state.n_annotations = spec->n_annotations;
	if (spec->n_annotations == 0)
		return;
	c->state.annotations = xcalloc(spec->n_annotations, sizeof(struct oci_kv));
	for (size_t i = 0; i < spec->n_annotations; i++) {
		c->state.annotations[i].key = xstrdup(spec->annotations[i].key);
		c->state.annotations[i].value = xstrdup(spec->annotations[i].value);
	}
}

/* One create's working state, from its first check to its end (do_create). */
struct create_run {
	const struct global_opts *g;
	const struct create_opts *o;
	struct oci_spec *spec;
	const char *bundle;
	struct hostpath root, *mounts;
	struct sandbox_policy pol;
	bool want_fw;
	int64_t lifetime_ms;
	const char *audit;
	struct container *c;
	struct cg_manager *cg;
	struct spawn_config cfg;
	struct spawn_result res;
	struct seccomp_prog prog;
	struct create_ctx cc;
	int notify; /* lifecycle_add_notify_mount's answer */
	int fifo;
	int status_rd, status_wr;
	int wd_sock; /* an owner's watchdog, waiting for the init's pidfd */
};

/* What is checked before anything exists, then the state directory: a refusal here leaves
 * nothing behind. */
static int create_check(struct create_run *cr, struct bw_error *err)
{
	const struct global_opts *g = cr->g;
	struct oci_spec *spec = cr->spec;
	if (!spec->has_process)
		return bw_fail(err, 0, "config.json: process: required to create a container");
	/* The policy is checked before anything exists, so a bad one leaves nothing behind. */
	cr->want_fw = network_wanted(g, spec);
	if (policy_for_spec(g->policy, spec, &cr->pol, err) < 0)
		return -1;
	if (cr->want_fw && network_check_caps(spec, err) < 0) {
		policy_free(&cr->pol);
		return -1;
	}
	cr->audit = g->audit;
	if (watchdog_lifetime(spec, &cr->lifetime_ms, err) < 0 ||
	    (cr->audit != NULL && audit_check(cr->audit, err) < 0) ||
	    lifecycle_resolve_sources(cr->bundle, spec, cr->o->known, &cr->root, &cr->mounts, err) <
		0 ||
	    lifecycle_check_not_host_root(&cr->root, cr->o->allow_host_root, err) < 0 ||
	    container_new(cli_state_root(g), cr->o->id, &cr->c, err) < 0) {
		policy_free(&cr->pol);
		lifecycle_free_sources(&cr->root, cr->mounts, spec->n_mounts);
		return -1;
	}
	return 0;
}

/* The state directory's first records: what delete is to undo (state.cleanup, saved later)
 * and the container's own copy of config.json; before them the notify mount. */
static int create_record(struct create_run *cr, const char *raw, size_t raw_len,
			 struct bw_error *err)
{
	const struct create_opts *o = cr->o;
	struct container *c = cr->c;
	struct oci_spec *spec = cr->spec;
	if (o->owner <= 0 && o->known == NULL &&
	    (cr->notify = lifecycle_add_notify_mount(c, spec, &cr->root, &cr->mounts, err)) < 0)
		return -1;
	/* A sandbox's --timeout binds its watchdog too: a stopped owner does not stop the clock. */
	if (o->lifetime_ms > 0 && (cr->lifetime_ms == 0 || o->lifetime_ms < cr->lifetime_ms))
		cr->lifetime_ms = o->lifetime_ms;
	if (cr->audit != NULL)
		state_cleanup_add_str(&c->state, STATE_CLEANUP_AUDIT, cr->audit);
	if (o->remove_file != NULL)
		state_cleanup_add_str(&c->state, STATE_CLEANUP_FILE, o->remove_file);
	if (o->id_slot != NULL)
		state_cleanup_add_str(&c->state, STATE_CLEANUP_IDSLOT, o->id_slot);
	/* start and delete re-read the config only for hooks: say whether there are any. */
	if (spec->hooks.n[OCI_HOOK_POSTSTART] > 0)
		state_cleanup_add(&c->state, STATE_CLEANUP_HOOKS_POSTSTART);
	if (spec->hooks.n[OCI_HOOK_POSTSTOP] > 0)
		state_cleanup_add(&c->state, STATE_CLEANUP_HOOKS_POSTSTOP);
	if (fs_write_atomic_at(c->dirfd, "config.json", raw, raw_len, 0600, err) < 0)
		return -1;
	bw_phase("create: config.json");
	return 0;
}

/* The cgroup opened (not made yet), the state filled in, the security and namespace plan. */
static int create_plan(struct create_run *cr, struct bw_error *err)
{
	/* Checked before the cgroup is opened: a refusal here has made nothing, and must
	 * not reach a cgroup that may be another container's. */
	const char *shared = oci_spec_annotation(cr->spec, "run.bulwark.cgroup-shared");
	if (shared != NULL && strcmp(shared, "allow") != 0)
		return bw_fail(
		    err, 0, "annotations.run.bulwark.cgroup-shared: `%s` is not \"allow\"", shared);
	if (lifecycle_open_new_cgroup(cr->g, cr->c, cr->spec, &cr->cg, err) < 0)
		return -1;
	if (cr->cg != NULL)
		cg_allow_populated(cr->cg, shared != NULL);
	bw_phase("create: cg_open");
	lifecycle_fill_state(cr->c, cr->spec, cr->bundle, cr->root.path, cg_path(cr->cg));
	cr->cfg.id = cr->o->id;
	if (lifecycle_prepare_security(cr->g, cr->spec, &cr->cfg, &cr->prog, err) < 0 ||
	    lifecycle_plan_namespaces(cr->spec, &cr->cfg, err) < 0)
		return -1;
	bw_phase("create: security+ns planned");
	return 0;
}

/* The cgroup made (rootless, perhaps none) and exec.fifo. */
static int create_make(struct create_run *cr, struct bw_error *err)
{
	struct oci_spec *spec = cr->spec;
	/* An owner's sandbox is guarded from before its cgroup exists: if the owner dies before
	 * the create ends, its watchdog finds the state (saved now, naming the cgroup to be made
	 * and the watchdog) and releases it; the init, born after this, dies with the owner. */
	if (cr->o->owner > 0) {
		state_cleanup_add(&cr->c->state, STATE_CLEANUP_CGROUP_PENDING);
		if (watchdog_start_owned(cr->g, cr->c, cr->lifetime_ms, cr->o->owner, &cr->wd_sock,
					 err) < 0 ||
		    container_save(cr->c, err) < 0)
			return -1;
	}
	/* A cg_create that fails has undone its own work; what it refused (a cgroup that another
	 * container's processes use, a frozen one) is not ours to kill or remove. */
	if (cg_create(cr->cg, spec->linux.has_resources ? &spec->linux.resources : NULL, err) < 0) {
		cg_free(cr->cg);
		cr->cg = NULL;
		if (lifecycle_rootless_without_cgroup(cr->c, spec, err) < 0)
			return -1;
	}
	if (cr->cg != NULL)
		lifecycle_record_cgroup_parents(cr->c, cr->cg);
	bw_phase("create: cgroup made");
	return make_fifo(cr->c, &cr->fifo, err);
}

/* The init's stdio (the caller's guard), LISTEN_FDS, the fifo, the console and, for a
 * sandbox, the pipe its exit status comes through. */
static int create_spawn_io(struct create_run *cr, struct bw_error *err)
{
	const struct create_opts *o = cr->o;
	struct spawn_config *cfg = &cr->cfg;
	if (o->stdio != NULL && !cr->spec->process.terminal &&
	    (o->stdio_relay ? stdio_guard_relay(o->stdio, err)
			    : stdio_guard_detached(o->stdio, err)) < 0)
		return -1;
	for (int i = 0; o->stdio != NULL && i < 3; i++)
		cfg->stdio[i] = o->stdio->child[i];
	if (o->owner <= 0) /* sandbox: never */
		add_listen_fds(cr->spec, &cfg->preserve_fds);
	cfg->fifo_fd = cr->fifo;
	cfg->console_socket = o->console_socket;
	cfg->keep_master = o->keep_master;
	cfg->die_with_parent = o->owner > 0;
	cfg->session_init = o->owner > 0 && o->session;
	if (o->owner > 0) {
		int sp[2];
		if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
			return bw_fail(err, errno, "pipe for the sandbox's exit status");
		cr->status_rd = sp[0];
		cr->status_wr = sp[1];
		cfg->status_fd = cr->status_wr;
	}
	return 0;
}

/* What the init is spawned with (spawn.h), then the spawn. */
static int create_spawn(struct create_run *cr, struct bw_error *err)
{
	const struct create_opts *o = cr->o;
	struct spawn_config *cfg = &cr->cfg;
	cr->cc = (struct create_ctx){.c = cr->c, .spec = cr->spec};
	cfg->spec = cr->spec;
	cfg->process = &cr->spec->process;
	cfg->id = o->id;
	cfg->bundle = cr->bundle;
	cfg->rootfs = cr->root.path;
	cfg->root_src = &cr->root;
	cfg->mount_srcs = cr->mounts;
	/* sandbox too: a bare image given as --rootfs (no /proc, /dev...) gets its mountpoints
	 * as a runc-verb bundle does; its host views (/, a tmpfs) never qualify. */
	cfg->host_mountpoints = lifecycle_mountpoints_may_be_made(&cr->root);
	cfg->root_tmpfs = o->root_tmpfs;
	cfg->root_links = o->root_links;
	cfg->root_sealed = o->root_sealed;
	cfg->ns_owner = o->ns_owner;
	cfg->state_root = cli_state_root(cr->g);
	cfg->no_pivot = o->no_pivot;
	cfg->no_new_keyring = o->no_new_keyring;
	cfg->preserve_fds = o->preserve_fds;
	if (create_spawn_io(cr, err) < 0)
		return -1;
	cfg->cg = cr->cg;
	cfg->on_started = on_started;
	cfg->cb_ctx = &cr->cc;
	bw_phase("create: fifo+stdio");
	int r = spawn_container_process(cfg, &cr->res, err);
	bw_phase("create: init ready");
	if (cr->wd_sock >= 0)
		watchdog_hand_init(&cr->wd_sock, r < 0 ? -1 : cr->res.pidfd);
	if (o->stdio != NULL)
		stdio_guard_close_child(o->stdio);
	if (r < 0) {
		lifecycle_explain_notify_failure(cr->spec, cr->notify > 0, err);
		return -1;
	}
	return 0;
}

/* With the init up: its network, the watchdog, state.json, the audit event, --pid-file. */
static int create_finish(struct create_run *cr, struct bw_error *err)
{
	const struct global_opts *g = cr->g;
	struct container *c = cr->c;
	/* Only the sandbox's pid 1 may write: EOF then means it died without reporting. */
	if (cr->status_wr >= 0)
		close(steal_fd(&cr->status_wr));
	if (cr->want_fw && network_setup(g, c, &cr->cfg, cr->res.pid, &cr->pol, cr->audit, err) < 0)
		return -1;
	bw_phase("create: network");
	if (cr->o->owner <= 0 && watchdog_start(g, c, cr->res.pidfd, cr->lifetime_ms, 0, err) < 0)
		return -1;
	bw_phase("create: watchdog");
	c->state.status = OCI_STATUS_CREATED;
	state_cleanup_remove(&c->state, STATE_CLEANUP_CGROUP_PENDING);
	if (container_save(c, err) < 0)
		return -1;
	bw_phase("create: saved");
	lifecycle_audit_created(g, c, cr->spec, cr->want_fw, cr->audit);
	if (cr->o->pid_file != NULL) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d", (int)cr->res.pid);
		if (fs_write_atomic(cr->o->pid_file, pid, (size_t)n, 0644, err) < 0)
			return -1;
	}
	return 0;
}

/* A create that failed after the init was spawned: the init killed and reaped. */
static void create_kill(struct create_run *cr)
{
	syscall(SYS_pidfd_send_signal, cr->res.pidfd, SIGKILL, NULL, 0);
	waitpid(cr->res.pid, NULL, 0);
	close(cr->res.pidfd);
}

/* A create that failed: what it made undone (the cgroup, network, watchdog, AppArmor profile
 * and state directory). */
static void create_undo(struct create_run *cr)
{
	if (cr->cg != NULL) {
		struct bw_error e2 = {0};
		if (cg_destroy(cr->cg, &e2) == 0)
			lifecycle_remove_cgroup_parents(cr->c);
	}
	if (cr->c != NULL) {
		struct bw_error e2 = {0};
		network_release(cr->c);
		watchdog_stop(cr->c);
		apparmor_release(cli_state_root(cr->g), cr->o->id, &e2);
		container_remove(cr->c, &e2);
	}
}

/* Success or not: what the create held. */
static void create_free(struct create_run *cr)
{
	struct spawn_config *cfg = &cr->cfg;
	close_fd(&cfg->init_netns);
	close_fd(&cfg->init_userns);
	policy_free(&cr->pol);
	lifecycle_free_sources(&cr->root, cr->mounts, cr->spec->n_mounts);
	landlock_plan_free(&cfg->landlock);
	apparmor_plan_free(&cfg->apparmor);
	if (cr->fifo >= 0)
		close(cr->fifo);
	lifecycle_close_ns_fds(cfg);
	free(cfg->state_json);
	seccomp_prog_free(&cr->prog);
	seccomp_prog_free(&cfg->tty_guard);
	cg_free(cr->cg);
	container_free(cr->c);
	close_fd(&cr->status_wr);
	close_fd(&cr->status_rd);
	close_fd(&cr->wd_sock);
}

static int do_create(const struct global_opts *g, const struct create_opts *o,
		     struct oci_spec *spec, const char *raw, size_t raw_len, const char *bundle,
		     struct created *out, struct bw_error *err)
{
	struct create_run cr = {.g = g, .o = o, .spec = spec, .bundle = bundle};
	int r = -1;

	cr.fifo = cr.status_rd = cr.status_wr = cr.wd_sock = -1;
	spawn_config_init(&cr.cfg);
	if (create_check(&cr, err) < 0)
		return -1;
	bw_phase("create: sources+state dir");
	log_debug("the runtime runs from %s", sealed_kind() ? sealed_kind() : "its own binary");
	if (create_record(&cr, raw, raw_len, err) < 0 || create_plan(&cr, err) < 0 ||
	    create_make(&cr, err) < 0 || create_spawn(&cr, err) < 0) {
		create_undo(&cr);
	} else if (create_finish(&cr, err) < 0) {
		create_kill(&cr);
		create_undo(&cr);
	} else {
		out->c = cr.c;
		out->pid = cr.res.pid;
		out->pidfd = cr.res.pidfd;
		out->master = cr.res.master;
		out->status_fd = steal_fd(&cr.status_rd);
		cr.c = NULL;
		r = 0;
	}
	create_free(&cr);
	return r;
}

int lifecycle_create(const struct global_opts *g, const struct create_opts *o, struct created *out,
		     struct bw_error *err)
{
	_cleanup_free_ char *bundle = NULL, *raw = NULL;
	struct oci_spec *spec = o->spec;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->pidfd = out->master = out->status_fd = -1;
	if (container_validate_id(o->id, err) < 0)
		return -1;
	if (resolve_bundle(o->bundle, &bundle, err) < 0)
		return -1;
	if (spec == NULL) {
		const char *name = o->config != NULL ? o->config : "config.json";
		if (name[0] == '\0')
			return bw_fail(err, EINVAL, "--config: empty path");
		_cleanup_free_ char *path =
		    name[0] == '/' ? xstrdup(name) : fs_path_join(bundle, name);
		if (fs_read_file(path, 4 << 20, &raw, &len, err) < 0)
			return bw_wrap(err, o->config != NULL ? "--config" : "config.json");
		if (oci_spec_parse(raw, len, "config.json", &spec, err) < 0)
			return -1;
	} else {
		raw = xstrdup(o->config_json);
		len = strlen(raw);
	}
	r = do_create(g, o, spec, raw, len, bundle, out, err);
	if (o->spec == NULL)
		oci_spec_free(spec);
	return r;
}

int lifecycle_load_spec(struct container *c, struct oci_spec **spec, struct bw_error *err)
{
	_cleanup_free_ char *raw = NULL;
	size_t len;
	_cleanup_close_ int fd = openat(c->dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bw_fail(err, errno, "open the config of container %s", c->id);
	if (fs_read_fd(fd, 4 << 20, &raw, &len, err) < 0)
		return -1;
	return oci_spec_parse(raw, len, "config.json", spec, err);
}
