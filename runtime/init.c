/* The child side of the spawn: everything the container's first process (or an exec'd
 * process) does between clone3 and execve, in the order DESIGN.md §2 gives. Never returns:
 * on failure it reports over the sync socket and exits. */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "netns/ns.h"
#include "oci/spec.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/init_reaper.h"
#include "runtime/process.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/spawn.h"
#include "runtime/sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The init's /proc/<pid>, kept when its root has no /proc (a chroot without a mount
 * namespace): the exec fifo is reopened through it. O_CLOEXEC, closed after the fifo. */
static int init_proc_self = -1;
/* The process's environment (process_env_final), made in setup_process. */
static char **init_env;

/* The exec fifo's write end, open (O_CLOEXEC) from the start signal until execve. */
static int init_exec_fifo = -1;

static void __attribute__((noreturn)) init_fail(int sock, struct bw_error *err)
{
	sync_send_error(sock, err);
	_exit(1);
}

/* The kernel's overflow id (65534 unless changed): what an unmapped id shows as. */
static unsigned overflow_id(const char *which)
{
	char path[64], buf[16] = {0};
	snprintf(path, sizeof(path), "/proc/sys/kernel/overflow%s", which);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 65534;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? (unsigned)strtoul(buf, NULL, 10) : 65534;
}

static int become_ns_root(const struct spawn_config *cfg, struct bw_error *err)
{
	/* With a fresh user namespace our ids show as the overflow ids until the parent wrote
	 * the maps; from here on we are root of that namespace. */
	/* A rootless map of the caller's id alone may leave 0 unmapped (a sandbox maps its user,
	 * 1000): the init keeps the mapped ids it already has, with every capability of the
	 * namespace, and drops both later as any init does. */
	if (setresgid(0, 0, 0) < 0 &&
	    !(errno == EINVAL && getegid() != (gid_t)-1 && getegid() != (gid_t)overflow_id("gid")))
		return bw_fail(err, errno, "setresgid(0) in the user namespace");
	if (setresuid(0, 0, 0) < 0 &&
	    !(errno == EINVAL && geteuid() != (uid_t)-1 && geteuid() != (uid_t)overflow_id("uid")))
		return bw_fail(err, errno, "setresuid(0) in the user namespace");
	(void)cfg;
	return 0;
}

static int join_namespaces(const struct spawn_config *cfg, struct bw_error *err)
{
	/* The user namespace first: the others are owned by it and need its capabilities. */
	if (cfg->ns_fds[OCI_NS_USER] >= 0 && setns(cfg->ns_fds[OCI_NS_USER], CLONE_NEWUSER) < 0)
		return bw_fail(err, errno, "join the user namespace");
	for (int t = 0; t < OCI_NS_NTYPES; t++) {
		if (t == OCI_NS_USER || t == OCI_NS_PID || t == OCI_NS_TIME || cfg->ns_fds[t] < 0)
			continue;
		if (setns(cfg->ns_fds[t], ns_clone_flag((enum oci_ns_type)t)) < 0)
			return bw_fail(err, errno, "join the %s namespace", oci_ns_type_name(t));
	}
	return 0;
}

static int enter_time_ns(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	struct sync_msg m;
	if (cfg->ns_fds[OCI_NS_TIME] >= 0) {
		if (setns(cfg->ns_fds[OCI_NS_TIME], CLONE_NEWTIME) < 0)
			return bw_fail(err, errno, "join the time namespace");
		return 0;
	}
	if (!(cfg->new_ns_flags & CLONE_NEWTIME))
		return 0;
	if (unshare(CLONE_NEWTIME) < 0)
		return bw_fail(err, errno, "unshare the time namespace");
	if (sync_send(sock, SYNC_TIMENS, 0, NULL, 0, -1, err) < 0 ||
	    sync_expect(sock, SYNC_TIMENS_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	/* Offsets are set; a single-threaded process may now move itself in. */
	_cleanup_close_ int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
		return bw_fail(err, errno, "enter the new time namespace");
	return 0;
}

static int set_names(const struct oci_spec *spec, struct bw_error *err)
{
	if (spec->hostname != NULL && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return bw_fail(err, errno, "hostname: sethostname");
	if (spec->domainname != NULL &&
	    setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return bw_fail(err, errno, "domainname: setdomainname");
	return 0;
}

static int setup_terminal(const struct spawn_config *cfg, int sock, bool bind_console,
			  struct bw_error *err)
{
	const struct oci_process *p = cfg->process;
	int master = -1, slave = -1;
	struct sync_msg m;

	if (!p->terminal)
		return 0;
	if (console_open_pty(p->console_height, p->console_width, &master, &slave, err) < 0)
		return -1;
	/* The process's user owns its terminal (runc: the uid only, the group stays devpts's
	 * gid= option, tty). An unmapped uid (EINVAL) or a read-only /dev leaves it as is. */
	if (fchown(slave, p->user.uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM &&
	    errno != EROFS) {
		bw_fail(err, errno, "terminal: chown the pty to process.user.uid %u", p->user.uid);
		goto fail;
	}
	if (bind_console && rootfs_setup_console(slave, err) < 0)
		goto fail;
	if (console_make_controlling(slave, err) < 0)
		goto fail;
	close(slave);
	if (sync_send(sock, SYNC_CONSOLE, 0, NULL, 0, master, err) < 0)
		goto fail_master;
	close(master);
	if (sync_expect(sock, SYNC_CONSOLE_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	return 0;
fail:
	close(slave);
fail_master:
	close(master);
	return -1;
}

/* createContainer and startContainer run in the container's namespaces; without `env` they
 * get the container process's environment, never the runtime's (runc and crun run them from
 * an init whose environment is already the container's). createContainer starts in the
 * rootfs (not yet pivoted: `./lib` is the container's), startContainer in process.cwd. */
static int run_init_hooks(const struct spawn_config *cfg, enum oci_hook_kind kind, const char *cwd,
			  struct bw_error *err)
{
	static char *const no_env[] = {NULL};
	if (cfg->spec->hooks.n[kind] == 0)
		return 0;
	struct hooks_ctx hc = {.state_json = cfg->state_json ? cfg->state_json : "{}",
			       .cwd = cwd,
			       .env = cfg->process->env ? cfg->process->env : no_env};
	return hooks_run(&cfg->spec->hooks, kind, &hc, err);
}

/* Without a mount namespace of its own (also for exec into such a container): chroot, as runc
 * does there. pivot_root would move the runtime's own root. */
static int enter_root_shared(const char *rootfs, struct bw_error *err)
{
	_cleanup_close_ int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "root.path: open `%s`", rootfs);
	init_proc_self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (init_proc_self < 0)
		return bw_fail(err, errno, "open /proc/self");
	if (fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return bw_fail(err, errno, "root.path: chroot `%s`", rootfs);
	return 0;
}

/* A missing process.cwd is made (0755, owned by the container's root), as runc and crun do;
 * inside the root, symlinks resolved there. */
static int make_cwd(const struct oci_process *p, struct bw_error *err)
{
	if (p->cwd == NULL)
		return 0;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bw_fail(err, errno, "open /");
	_cleanup_close_ int fd = fs_open_in_root(root, p->cwd, O_PATH, 0, err);
	/* Only what is missing is made; any other refusal is process_chdir's to report. */
	if (fd >= 0 || err->code != ENOENT) {
		bw_error_clear(err);
		return 0;
	}
	bw_error_clear(err);
	fd = fs_mkpath_in_root(root, p->cwd, true, 0755, err);
	if (fd < 0)
		return bw_wrap(err, "process.cwd");
	return 0;
}

/* SYNC_GO, after the host paths the runtime reopened for us (SYNC_HOSTFD, spawn.c): each is
 * kept in its record, where hostpath_reopen finds it. */
static int receive_go(struct spawn_config *cfg, int sock, struct sync_msg *m, struct bw_error *err)
{
	for (;;) {
		if (sync_recv(sock, m, err) <= 0)
			return -1;
		if (m->type != SYNC_HOSTFD)
			break;
		struct hostpath *hp = NULL;
		uint64_t i = 0;
		if (m->data != NULL && strcmp(m->data, "root") == 0)
			hp = cfg->root_src;
		else if (m->data != NULL && parse_u64(m->data, &i) == 0 &&
			 i < cfg->spec->n_mounts && cfg->mount_srcs != NULL)
			hp = &cfg->mount_srcs[i];
		if (hp == NULL || hp->path == NULL || hp->held || m->fd < 0) {
			sync_msg_free(m);
			return bw_fail(err, EPROTO, "unexpected host path message");
		}
		hp->held = true;
		hp->held_fd = steal_fd(&m->fd);
		sync_msg_free(m);
	}
	if (m->type != SYNC_GO) {
		sync_msg_free(m);
		return bw_fail(err, EPROTO, "expected the go-ahead, got message %u", m->type);
	}
	return 0;
}

/* rootfs_ctx.host_create: a mountpoint made by the runtime where our ids may not. */
static int request_host_create(void *arg, int dirfd, const char *name, bool file,
			       struct bw_error *err)
{
	int sock = *(int *)arg;
	struct sync_msg m;
	_cleanup_free_ char *d = xasprintf("%c/%s", file ? 'f' : 'd', name);
	if (sync_send(sock, SYNC_CREATE, 0, d, strlen(d), dirfd, err) < 0 ||
	    sync_expect(sock, SYNC_CREATE_DONE, &m, err) < 0)
		return -1;
	int code = m.code;
	sync_msg_free(&m);
	return code == 0 ? 0 : bw_fail(err, code, "the runtime could not make it either");
}

/* rootfs_ctx.host_scratch: a rootless overlay workspace's scratch tmpfs, kept by the runtime. */
static int request_host_scratch(void *arg, size_t i, int fd, struct bw_error *err)
{
	int sock = *(int *)arg;
	char idx[24];
	struct sync_msg m;
	int n = snprintf(idx, sizeof(idx), "%zu", i);
	if (sync_send(sock, SYNC_SCRATCH, 0, idx, (size_t)n, fd, err) < 0 ||
	    sync_expect(sock, SYNC_SCRATCH_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	return 0;
}

/* rootfs_ctx.host_device: linux.devices[i] made by the runtime (rootfs_host_device). */
static int request_host_device(void *arg, size_t i, struct bw_error *err)
{
	int sock = *(int *)arg;
	char idx[24];
	struct sync_msg m;
	int n = snprintf(idx, sizeof(idx), "%zu", i);
	if (sync_send(sock, SYNC_DEVICE, 0, idx, (size_t)n, -1, err) < 0 ||
	    sync_expect(sock, SYNC_DEVICE_DONE, &m, err) < 0)
		return -1;
	int fd = m.fd;
	m.fd = -1;
	if (fd < 0)
		bw_fail(err, m.code, "%s", m.data ? m.data : "no node received");
	sync_msg_free(&m);
	return fd;
}

/* The kernel counts inotify and fanotify objects per user, at every level of user namespaces
 * up to the user that owns each one. A sandbox's namespace is owned by its id slot's own id
 * (spawn.c, ns_owner_become); every other one by root, whose limit (fs.inotify.max_user_instances,
 * 128 by default) all of them then share. A namespace's own limits start unbounded; the init
 * caps them at a quarter of the host's, so one container exhausting its share leaves the others
 * theirs (issue 13 §2). Needs CAP_SYS_RESOURCE in the new namespace, which the init has until
 * its bounding set is dropped. Annotation run.bulwark.user-limits=host leaves them as they are. */
static int cap_user_counts(const struct spawn_config *cfg, struct bw_error *err)
{
	const char *a = oci_spec_annotation(cfg->spec, "run.bulwark.user-limits");
	if (!(cfg->new_ns_flags & CLONE_NEWUSER) || (a != NULL && strcmp(a, "host") == 0))
		return 0;
	for (size_t i = 0; i < SPAWN_USER_COUNTS; i++) {
		long long host = cfg->user_counts[i];
		if (host <= 0)
			continue; /* not built into this kernel */
		char val[32];
		snprintf(val, sizeof(val), "%lld", host / 4 > 0 ? host / 4 : 1);
		if (rootfs_write_proc_sys(spawn_user_count_keys[i], val, err) < 0)
			return bw_wrap(
			    err,
			    "cap the user namespace's %s (run.bulwark.user-limits=host to "
			    "leave it)",
			    spawn_user_count_keys[i]);
	}
	return 0;
}

static int setup_container(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	const struct oci_spec *spec = cfg->spec;
	struct rootfs_ctx rc = {
	    .spec = spec,
	    /* a joined user namespace has no mappings in the spec */
	    .host_device = (cfg->new_ns_flags & CLONE_NEWUSER) ? request_host_device : NULL,
	    .host_device_arg = &sock,
	    .host_create = (cfg->new_ns_flags & CLONE_NEWUSER) && cfg->host_mountpoints
			       ? request_host_create
			       : NULL,
	    .host_scratch = request_host_scratch,
	    .rootfs = cfg->rootfs,
	    .bundle = cfg->bundle,
	    .root_src = cfg->root_src,
	    .mount_srcs = cfg->mount_srcs,
	    .userns = (cfg->new_ns_flags & CLONE_NEWUSER) || cfg->ns_fds[OCI_NS_USER] >= 0,
	    .no_pivot = cfg->no_pivot,
	    .terminal = cfg->process->terminal,
	    .root_tmpfs = cfg->root_tmpfs,
	    .root_links = cfg->root_links,
	    .root_sealed = cfg->root_sealed};
	struct sync_msg m;

	if (join_namespaces(cfg, err) < 0)
		return -1;
	/* A new network namespace starts with lo down; loopback-only is the useful minimum. */
	if ((cfg->new_ns_flags & CLONE_NEWNET) && ns_loopback_up(err) < 0)
		return -1;
	bw_phase("init: lo up");
	if ((cfg->new_ns_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return bw_fail(err, errno, "unshare the cgroup namespace");
	if (enter_time_ns(cfg, sock, err) < 0 || set_names(spec, err) < 0)
		return -1;
	bw_phase("init: names");
	bool own_mounts = (cfg->new_ns_flags & CLONE_NEWNS) || cfg->ns_fds[OCI_NS_MOUNT] >= 0;
	if (own_mounts && rootfs_prepare(&rc, err) < 0)
		return -1;
	bw_phase("init: rootfs_prepare");
	/* The host's views the runtime handed over are mounted now: none stays open (a sandbox's
	 * pid 1 never execs, so close-on-exec would not end them). */
	hostpath_drop_held(cfg->root_src);
	for (size_t i = 0; cfg->mount_srcs != NULL && i < spec->n_mounts; i++)
		hostpath_drop_held(&cfg->mount_srcs[i]);
	if (sync_send(sock, SYNC_HOOKS, 0, NULL, 0, -1, err) < 0 ||
	    sync_expect(sock, SYNC_HOOKS_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	bw_phase("init: SYNC_HOOKS_DONE");
	if (run_init_hooks(cfg, OCI_HOOK_CREATE_CONTAINER, cfg->rootfs, err) < 0)
		return -1;
	/* The runtime's mount namespace (lifecycle.c refused all that needs a mount): chroot. */
	if (!own_mounts)
		return enter_root_shared(cfg->rootfs, err) < 0 ? -1 : make_cwd(cfg->process, err);
	/* The cwd before the root becomes read-only (runc's order). */
	/* The host's own / (a sandbox's full host view): a missing cwd is not made on it. */
	bool host_root = strcmp(cfg->rootfs, "/") == 0;
	bw_phase("init: hooks");
	if (rootfs_pivot(&rc, err) < 0 || (!host_root && make_cwd(cfg->process, err) < 0) ||
	    rootfs_finalize(&rc, err) < 0)
		return -1;
	bw_phase("init: pivot+masks");
	for (size_t i = 0; i < spec->linux.n_sysctl; i++)
		if (rootfs_write_proc_sys(spec->linux.sysctl[i].key, spec->linux.sysctl[i].value,
					  err) < 0)
			return bw_wrap(err, "linux.sysctl.%s", spec->linux.sysctl[i].key);
	if (cap_user_counts(cfg, err) < 0)
		return -1;
	bw_phase("init: sysctls+user counts");
	if (setup_terminal(cfg, sock, true, err) < 0)
		return -1;
	return rootfs_readonly_late(err);
}

static int join_container(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	int flags = cfg->target_ns_flags & ~(CLONE_NEWPID | CLONE_NEWTIME);
	if (flags != 0 && setns(cfg->target_pidfd, flags) < 0)
		return bw_fail(err, errno, "enter the container's namespaces");
	if (((cfg->target_ns_flags & CLONE_NEWUSER) || cfg->exec_in_userns) &&
	    become_ns_root(cfg, err) < 0)
		return -1;
	if (oci_spec_namespace(cfg->spec, OCI_NS_MOUNT) == NULL &&
	    enter_root_shared(cfg->rootfs, err) < 0)
		return -1;
	if (chdir("/") < 0)
		return bw_fail(err, errno, "chdir /");
	return setup_terminal(cfg, sock, false, err);
}

static int new_session_keyring(const struct spawn_config *cfg, struct bw_error *err)
{
	if (cfg->no_new_keyring)
		return 0;
	_cleanup_free_ char *name = xasprintf("_ses.%s", cfg->id);
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS)
		return bw_fail(err, errno, "join a new session keyring");
	return 0;
}

/* Everything from here on concerns the process itself; privileges go in this order:
 * bounding set, user switch, final capability sets, no_new_privs; the container's seccomp
 * filter goes in last, in init_main, so it constrains the container and never our set-up. */
static int load_seccomp_with_listener(const struct spawn_config *cfg, int sock,
				      struct bw_error *err)
{
	int lfd = -1;
	struct sync_msg m;
	if (seccomp_prog_load(cfg->seccomp, &lfd, err) < 0)
		return -1;
	if (lfd < 0)
		return 0;
	int r = sync_send(sock, SYNC_SECCOMP_FD, 0, NULL, 0, lfd, err);
	close(lfd);
	if (r < 0 || sync_expect(sock, SYNC_SECCOMP_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	return 0;
}

/* *held: capabilities kept past the final sets for the seccomp filter (caps.h). */
static int setup_process(const struct spawn_config *cfg, char **exe, uint64_t *held,
			 struct bw_error *err)
{
	const struct oci_process *p = cfg->process;
	const struct oci_spec *spec = cfg->spec;

	/* The executable is judged against the memory rlimits before they apply: under them
	 * even the error message might not fit. */
	init_env = process_env_final(p);
	/* A session's pid 1 runs nothing: its execs are looked up when they come. */
	if (!(cfg->session_init && !cfg->is_exec) &&
	    (process_find_executable(p->args[0], init_env, exe, err) < 0 ||
	     process_check_exec_limits(p, *exe, err) < 0))
		return -1;
	if (new_session_keyring(cfg, err) < 0 || process_set_rlimits(p, err) < 0 ||
	    process_set_scheduling(p, err) < 0 ||
	    process_set_personality(&spec->linux.personality, err) < 0 ||
	    process_set_memory_policy(&spec->linux.memory_policy, err) < 0)
		return -1;
	bw_phase("proc: exe+rlimits+keyring");
	/* The bounding set we have: a new user namespace's is full; without one it is the
	 * runtime's, which we were cloned with; otherwise (exec, a joined namespace) asked. */
	uint64_t present = 0;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER))
		present = ~UINT64_C(0);
	else if (!cfg->is_exec && cfg->ns_fds[OCI_NS_USER] < 0)
		present = cfg->caps.runtime_bounding;
	if (caps_drop_bounding(&cfg->caps, present, err) < 0)
		return -1;
	/* AppArmor first (it writes to /proc, which Landlock then forbids); both before the user
	 * switch, because landlock_restrict_self needs CAP_SYS_ADMIN without no_new_privs. */
	bw_phase("proc: bounding");
	if (apparmor_apply_exec(&cfg->apparmor, err) < 0 ||
	    landlock_apply(&cfg->landlock, cfg->is_exec ? -1 : cfg->fifo_fd, err) < 0)
		return -1;
	/* The tty guard goes in while we still hold CAP_SYS_ADMIN (no_new_privs may never come)
	 * and before the profile's filter, which might not allow seccomp(2) itself. */
	bw_phase("proc: landlock");
	if (cfg->tty_guard.filter != NULL && seccomp_prog_load(&cfg->tty_guard, NULL, err) < 0)
		return bw_wrap(err, "tty guard");
	/* Without no_new_privs, loading the filter needs CAP_SYS_ADMIN: held until then. */
	bw_phase("proc: tty guard");
	*held = cfg->seccomp ? caps_hold_for_seccomp(&cfg->caps, p->no_new_privileges) : 0;
	/* process.cwd as runc enters it: first with the runtime's privileges (a directory the
	 * user may not search still works), and only when those are refused once more as the
	 * user (the user's own 0700 directory that root may not search: NFS, an unmapped owner).
	 * Resolved inside the root either way. */
	const char *cwd = p->cwd ? p->cwd : "/";
	bool cwd_done = process_chdir(cwd, err) == 0;
	if (!cwd_done && err->code != EACCES && err->code != EPERM)
		return -1;
	bw_error_clear(err);
	process_give_stdio_pipes(p->user.uid, cfg->stdio);
	bw_phase("proc: cwd+stdio");
	/* Rootless, the caller's supplementary groups stay with no additionalGids: as they do
	 * where setgroups is denied (a map of the caller's own gid); where newgidmap allowed it
	 * (subordinate ranges), dropping them would bypass a file's deny-by-group mode. */
	if (process_set_user(p, cfg->rootless, err) < 0 ||
	    caps_apply_final(&cfg->caps, *held, err) < 0)
		return -1;
	bw_phase("proc: user+caps");
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return bw_fail(err, errno, "process.noNewPrivileges: prctl");
	if (!cwd_done && process_chdir(cwd, err) < 0)
		return -1;
	return process_set_cpu_affinity(p->exec_cpu_affinity.final, "process.execCPUAffinity.final",
					err);
}

/* Blocks until `start` opens the fifo, then writes its byte and keeps the write end open:
 * `start` reads to EOF, which comes only when execve (close-on-exec) or death closes it. So
 * start returns once the user's program runs, and a signal sent after it reaches that program,
 * never an init whose default dispositions a pid namespace's init drops (runc keeps the fifo
 * open the same way). */
static int wait_for_start(const struct spawn_config *cfg, struct bw_error *err)
{
	char path[32];
	int fd;
	if (init_proc_self >= 0)
		snprintf(path, sizeof(path), "fd/%d", cfg->fifo_fd);
	else
		fs_fd_path(cfg->fifo_fd, path);
	do
		fd = openat(init_proc_self >= 0 ? init_proc_self : AT_FDCWD, path,
			    O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (init_proc_self >= 0) {
		close(init_proc_self);
		init_proc_self = -1;
	}
	if (fd < 0)
		return bw_fail(err, errno, "open exec fifo");
	if (write(fd, "0", 1) != 1) {
		close(fd);
		return bw_fail(err, errno, "write exec fifo");
	}
	init_exec_fifo = fd;
	close(cfg->fifo_fd);
	return 0;
}

/* The parent's fds (the state lock above all: flock belongs to the open file, so an inherited
 * copy would keep the container locked) are closed first; only what the init needs stays. */
static void close_inherited_fds(const struct spawn_config *cfg, int sock)
{
	int keep[OCI_NS_NTYPES + 5], n = 0;
	keep[n++] = sock;
	keep[n++] = cfg->fifo_fd;
	keep[n++] = cfg->target_pidfd;
	keep[n++] = log_fd();
	keep[n++] = cfg->status_fd;
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		keep[n++] = cfg->ns_fds[t];
	unsigned int from = 3 + (unsigned int)cfg->preserve_fds;
	for (;;) {
		int next = -1; /* lowest kept fd >= from */
		for (int i = 0; i < n; i++)
			if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			syscall(SYS_close_range, from, ~0U, 0);
			return;
		}
		if ((unsigned int)next > from)
			syscall(SYS_close_range, from, (unsigned int)next - 1, 0);
		from = (unsigned int)next + 1;
	}
}

/* The signals whose disposition is not the default (ignored or caught), from one read of
 * /proc/self/status (the host's procfs still) instead of a sigaction call for each of the 64;
 * every signal when it cannot be read. */
static uint64_t non_default_signals(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ~UINT64_C(0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ~UINT64_C(0);
	buf[n] = '\0';
	const char *ign = strstr(buf, "\nSigIgn:\t"), *cgt = strstr(buf, "\nSigCgt:\t");
	char *e1, *e2;
	if (ign == NULL || cgt == NULL)
		return ~UINT64_C(0);
	uint64_t i = strtoull(ign + 9, &e1, 16), c = strtoull(cgt + 9, &e2, 16);
	if (e1 == ign + 9 || *e1 != '\n' || e2 == cgt + 9 || *e2 != '\n')
		return ~UINT64_C(0);
	return i | c;
}

/* After the sync socket is closed, errors go to the container's stderr, and once `start` was
 * called also to the fifo, for `start` to report. */
static void __attribute__((noreturn)) init_die(struct bw_error *err)
{
	char text[BW_ERROR_MAX + 64];
	bw_error_text(err, text, sizeof(text));
	dprintf(STDERR_FILENO, "bulwark: %s\n", text);
	if (init_exec_fifo >= 0)
		dprintf(init_exec_fifo, "%s", text);
	_exit(1);
}

/* The container's filter, then dropping what was held for it. */
static void load_filter(const struct spawn_config *cfg, bool load, uint64_t held)
{
	struct bw_error err = {0};
	if (load && seccomp_prog_load(cfg->seccomp, NULL, &err) < 0)
		init_die(&err);
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0)
		init_die(&err);
}

/* The runtime's last steps: the filter (unless startContainer hooks needed it earlier), then
 * execve. Nothing else of the runtime's runs under the container's filter (startContainer
 * hooks and a listener filter aside, see init_main). */
static void __attribute__((noreturn))
exec_under_filter(const struct spawn_config *cfg, const char *exe, bool load, uint64_t held)
{
	load_filter(cfg, load, held);
	bw_phase("exec: filter loaded, execve");
	execve(exe, cfg->process->args, init_env ? init_env : (char *[]){NULL});
	int e = errno;
	char q[256];
	dprintf(STDERR_FILENO, "bulwark: exec: %s: %s\n",
		log_quote(q, sizeof(q), cfg->process->args[0]), strerror(e));
	if (init_exec_fifo >= 0)
		dprintf(init_exec_fifo, "exec: %s: %s", q, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

struct payload {
	const struct spawn_config *cfg;
	const char *exe;
	bool load;
	uint64_t held;
};

static int payload_main(void *arg)
{
	const struct payload *p = arg;
	close(p->cfg->status_fd);
	exec_under_filter(p->cfg, p->exe, p->load, p->held);
}

/* A sandbox's pid 1 stays bulwark's (init_reaper.c): the payload is its child, under the same
 * Landlock domain, credentials and capability sets; only the child loads the container's
 * filter, right before its execve. */
static void __attribute__((noreturn))
exec_under_reaper(const struct spawn_config *cfg, const char *exe, bool load, uint64_t held)
{
	struct bw_error err = {0};
	sigset_t old;
	struct payload p = {.cfg = cfg, .exe = exe, .load = load, .held = held};
	bw_phase("init: reaper spawn");
	pid_t pid = init_reaper_spawn(payload_main, &p, &old);
	if (pid < 0) {
		bw_fail(&err, errno, "start the sandbox's command");
		init_die(&err);
	}
	if (init_exec_fifo >= 0) { /* the command's execve ends `start`, not this reaper */
		close(init_exec_fifo);
		init_exec_fifo = -1;
	}
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0) {
		kill(pid, SIGKILL);
		init_die(&err);
	}
	init_reaper_serve(pid, cfg->status_fd);
}

/* A session's pid 1 (init_reaper_hold): `start` returns once it got here; the payload-less
 * init never loads the container's filter (it runs nothing of the session's), and execs come
 * through `session exec`, each confined as the spec says. It stays non-dumpable, except
 * rootless: the runtime, with no privilege, may join its namespaces (setns through a pidfd)
 * only if it may ptrace it. It is made dumpable only under its own Landlock domain: every
 * process of the session has a Landlock domain of its own, not an ancestor of pid 1's, so
 * Landlock refuses them ptrace and /proc/1/mem of the one process without the seccomp filter.
 * A sandbox's spec needs Landlock (run.bulwark.landlock=default: create fails without it);
 * were it off, the init would stay non-dumpable and rootless execs could not join it. */
static void __attribute__((noreturn)) hold_session(const struct spawn_config *cfg, uint64_t held)
{
	struct bw_error err = {0};
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0)
		init_die(&err);
	if (init_exec_fifo >= 0) {
		close(init_exec_fifo);
		init_exec_fifo = -1;
	}
	close(cfg->status_fd);
	const char *exe = oci_spec_annotation(cfg->spec, INIT_SESSION_EXE_ANNOTATION);
	if (exe != NULL) {
		/* A checkpointable session (init_reaper.h): the same hold, from the read-only
		 * file bound at the one path, with nothing of ours inherited (every fd past 2 is
		 * close-on-exec). It never falls back to the memfd: such a session would dump
		 * but could never be restored. */
		char *argv[] = {INIT_SESSION_ARGV0, NULL}, *envp[] = {NULL};
		if (strcmp(exe, INIT_SESSION_EXE) == 0)
			execve(INIT_SESSION_EXE, argv, envp);
		bw_fail(&err, strcmp(exe, INIT_SESSION_EXE) == 0 ? errno : 0,
			"session init: exec " INIT_SESSION_EXE_ANNOTATION "=%s", exe);
		init_die(&err);
	}
	init_reaper_hold(cfg->rootless && cfg->landlock.mode != LANDLOCK_OFF &&
			 landlock_abi_version() >= 1);
}

void init_main(struct spawn_config *cfg, int sock)
{
	struct bw_error err = {0};
	struct sync_msg m;
	_cleanup_free_ char *exe = NULL;
	bool created_userns = cfg->new_ns_flags & CLONE_NEWUSER;
	uint64_t held = 0;

	bw_phase("init: start");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* An exec'd process enters the container's v1 cgroups itself, before anything else. */
	if (cfg->cg_child_enters && cg_enter_self(cfg->cg, &err) < 0)
		init_fail(sock, &err);
	/* The stand-ins for the caller's terminal (pipes or /dev/null, all above fd 2) first:
	 * close_inherited_fds closes their originals. */
	for (int fd = 0; fd < 3; fd++)
		if (cfg->stdio[fd] >= 0 && dup2(cfg->stdio[fd], fd) < 0) {
			bw_fail(&err, errno, "dup2 the stdio stand-in to fd %d", fd);
			init_fail(sock, &err);
		}
	close_inherited_fds(cfg, sock);
	/* Cloned by a thread that had switched to the namespace's owner id (spawn.c), which made
	 * us non-dumpable, so our /proc files are root's, which this namespace does not map: as
	 * the runtime was until the code below makes us non-dumpable. */
	if (cfg->ns_owner != 0 && !cfg->is_exec)
		prctl(PR_SET_DUMPABLE, 1);
	if (cfg->status_fd >= 0 && !cfg->is_exec)
		init_reaper_open_io();
	/* The parent may block signals (for signalfd) or ignore some: none of that may reach the
	 * container's process through execve. */
	sigset_t none;
	sigemptyset(&none);
	uint64_t set = non_default_signals();
	for (int s = 1; s < NSIG && s <= 64; s++)
		if (s != SIGKILL && s != SIGSTOP && (set & (UINT64_C(1) << (s - 1))))
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	bw_phase("init: fds+signals");
	/* Non-dumpable until execve: nothing in the container may open our /proc files. */
	/* A rootless runtime may not write the /proc files of a non-dumpable process: the init
	 * sets its own score first (raising it needs no privilege; lowering is refused). */
	if (cfg->rootless && cfg->process->oom_score_adj.set) {
		char val[32];
		snprintf(val, sizeof(val), "%lld", (long long)cfg->process->oom_score_adj.v);
		if (fs_write_file("/proc/self/oom_score_adj", val, &err) < 0) {
			bw_wrap(&err, "process.oomScoreAdj");
			init_fail(sock, &err);
		}
	}
	/* A rootless runtime writes our id maps with its own ids, which /proc refuses for a
	 * non-dumpable process: then after SYNC_GO (nothing of the container runs before it). */
	bool rootless = cfg->rootless;
	if (!rootless)
		prctl(PR_SET_DUMPABLE, 0);
	if (getppid() == 1 && !cfg->is_exec)
		_exit(1);
	/* A session of its own, always: the caller's terminal stays the caller's controlling
	 * terminal and not the container's, so /dev/tty inside cannot reach it and TIOCSTI on
	 * an inherited terminal fd needs CAP_SYS_ADMIN (the seccomp tty guard refuses even
	 * that). With process.terminal, the container's own pty becomes its terminal below. */
	if (setsid() < 0) {
		bw_fail(&err, errno, "setsid");
		init_fail(sock, &err);
	}
	if (process_set_cpu_affinity(cfg->process->exec_cpu_affinity.initial,
				     "process.execCPUAffinity.initial", &err) < 0)
		init_fail(sock, &err);
	if (receive_go(cfg, sock, &m, &err) < 0)
		_exit(1);
	bw_phase("init: go");
	if (rootless)
		prctl(PR_SET_DUMPABLE, 0);
	free(cfg->state_json);
	cfg->state_json = steal_ptr(&m.data);
	sync_msg_free(&m);
	if (created_userns && become_ns_root(cfg, &err) < 0)
		init_fail(sock, &err);
	bw_phase("init: ns root");
	if ((cfg->is_exec ? join_container(cfg, sock, &err) : setup_container(cfg, sock, &err)) < 0)
		init_fail(sock, &err);
	bw_phase("init: container set up");
	if (setup_process(cfg, &exe, &held, &err) < 0)
		init_fail(sock, &err);
	bw_phase("init: process set up");

	/* No host fd may reach the container (CVE-2024-21626): everything past stdio and the
	 * preserved fds is closed at execve. */
	syscall(SYS_close_range, 3 + cfg->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	bool late = cfg->seccomp != NULL;
	if (late && cfg->seccomp->needs_listener) {
		/* The listener must reach the agent before `create` returns, so such a filter
		 * goes in now and must allow what is left (sync socket, fifo, hooks, capset). */
		if (load_seccomp_with_listener(cfg, sock, &err) < 0)
			init_fail(sock, &err);
		late = false;
	}
	/* Until now the init died with its creator; a sandbox's keeps doing so for good (armed
	 * again after the credential changes that cleared it): SIGKILL to a pid namespace's init
	 * ends the namespace, so the sandbox cannot outlive its owner even when nobody is left to
	 * tear it down. Armed before READY: a creator already dead makes that send fail. */
	prctl(PR_SET_PDEATHSIG, cfg->die_with_parent ? SIGKILL : 0);
	if (sync_send(sock, SYNC_READY, 0, NULL, 0, -1, &err) < 0)
		_exit(1);
	bw_phase("init: READY sent");
	bool reaper = cfg->status_fd >= 0 && !cfg->is_exec;
	if (!cfg->is_exec) {
		if (wait_for_start(cfg, &err) < 0)
			init_die(&err);
		/* startContainer hooks run under the container's filter, as in runc and crun:
		 * they are programs of the container's (a sandbox's reaper loads none). */
		if (cfg->spec->hooks.n[OCI_HOOK_START_CONTAINER] > 0 && !reaper) {
			load_filter(cfg, late, held);
			late = false;
			held = 0;
		}
		if (run_init_hooks(cfg, OCI_HOOK_START_CONTAINER, NULL, &err) < 0)
			init_die(&err);
	}
	bw_phase("init: started");
	close(sock);
	if (reaper && cfg->session_init)
		hold_session(cfg, held);
	if (reaper)
		exec_under_reaper(cfg, exe, late, held);
	exec_under_filter(cfg, exe, late, held);
}
