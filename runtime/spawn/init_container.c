/* The container's set-up in the child, from its namespaces to its root: namespaces joined or
 * entered, loopback, time offsets, names, the rootfs (with the runtime's help for what our ids
 * may not do), createContainer hooks, pivot or chroot, sysctls and the terminal. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/phase.h"
#include "common/util.h"
#include "netns/ns.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/sync.h"

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

int init_become_ns_root(const struct spawn_config *cfg, struct bw_error *err)
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
int init_run_hooks(const struct spawn_config *cfg, enum oci_hook_kind kind, const char *cwd,
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
/* The file system of the deepest existing directory above a missing cwd; 0 if none. */
static long cwd_parent_fs(int root, const char *cwd)
{
	_cleanup_free_ char *dir = xstrdup(cwd);
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return 0;
		*slash = '\0';
		struct bw_error e = {0};
		_cleanup_close_ int fd = fs_open_in_root(root, dir, O_PATH | O_DIRECTORY, 0, &e);
		bw_error_clear(&e);
		struct statfs sf;
		if (fd >= 0)
			return fstatfs(fd, &sf) == 0 ? (long)sf.f_type : 0;
	}
}

/* Kernel file systems, where a mkdir is no directory but a kernel object (a cgroup, a
 * configfs item, a tracing instance), made with the init's privileges. */
static bool is_kernel_fs(long t)
{
	return t == SYSFS_MAGIC || t == CGROUP_SUPER_MAGIC || t == CGROUP2_SUPER_MAGIC ||
	       t == TRACEFS_MAGIC || t == DEBUGFS_MAGIC || t == SECURITYFS_MAGIC ||
	       t == BPF_FS_MAGIC || t == 0x62656570 /* configfs */;
}

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
	/* A missing /proc/self/fd/N is one of the kernel's magic links (CVE-2024-21626), refused
	 * as the magic link it names would be, whichever fds the init happens to hold. */
	long fs = cwd_parent_fs(root, p->cwd);
	if (fs == PROC_SUPER_MAGIC)
		return bw_fail(err, ELOOP, "process.cwd: open `%s` inside the container root",
			       p->cwd);
	if (is_kernel_fs(fs))
		return bw_fail(
		    err, ENOENT,
		    "process.cwd: `%s` is missing and is not made on a kernel file system", p->cwd);
	fd = fs_mkpath_in_root(root, p->cwd, true, 0755, err);
	if (fd < 0)
		return bw_wrap(err, "process.cwd");
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
 * (spawn_clone.c, spawn_ns_owner_become); every other one by root, whose limit
 * (fs.inotify.max_user_instances, 128 by default) all of them then share. A namespace's own limits
 * start unbounded; the init caps them at a quarter of the host's, so one container exhausting its
 * share leaves the others theirs (issue 13 §2). Needs CAP_SYS_RESOURCE in the new namespace, which
 * the init has until its bounding set is dropped. Annotation run.bulwark.user-limits=host leaves
 * them as they are. */
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

/* The namespaces: the config's joined, a new network's lo up, new cgroup and time ones
 * entered; then the names. */
static int enter_namespaces(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	if (join_namespaces(cfg, err) < 0)
		return -1;
	/* A new network namespace starts with lo down; loopback-only is the useful minimum. */
	if ((cfg->new_ns_flags & CLONE_NEWNET) && ns_loopback_up(err) < 0)
		return -1;
	bw_phase("init: lo up");
	if ((cfg->new_ns_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return bw_fail(err, errno, "unshare the cgroup namespace");
	if (enter_time_ns(cfg, sock, err) < 0 || set_names(cfg->spec, err) < 0)
		return -1;
	bw_phase("init: names");
	return 0;
}

/* The rootfs is assembled: the runtime sets the devices rules and runs its hooks (SYNC_HOOKS). */
static int request_hooks(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	struct sync_msg m;
	/* The host's views the runtime handed over are mounted now: none stays open (a sandbox's
	 * pid 1 never execs, so close-on-exec would not end them). */
	hostpath_drop_held(cfg->root_src);
	for (size_t i = 0; cfg->mount_srcs != NULL && i < cfg->spec->n_mounts; i++)
		hostpath_drop_held(&cfg->mount_srcs[i]);
	if (sync_send(sock, SYNC_HOOKS, 0, NULL, 0, -1, err) < 0 ||
	    sync_expect(sock, SYNC_HOOKS_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	bw_phase("init: SYNC_HOOKS_DONE");
	return 0;
}

static int write_sysctls(const struct oci_spec *spec, struct bw_error *err)
{
	for (size_t i = 0; i < spec->linux.n_sysctl; i++)
		if (rootfs_write_proc_sys(spec->linux.sysctl[i].key, spec->linux.sysctl[i].value,
					  err) < 0)
			return bw_wrap(err, "linux.sysctl.%s", spec->linux.sysctl[i].key);
	return 0;
}

int init_setup_container(const struct spawn_config *cfg, int sock, struct bw_error *err)
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

	if (enter_namespaces(cfg, sock, err) < 0)
		return -1;
	bool own_mounts = (cfg->new_ns_flags & CLONE_NEWNS) || cfg->ns_fds[OCI_NS_MOUNT] >= 0;
	if (own_mounts && rootfs_prepare(&rc, err) < 0)
		return -1;
	bw_phase("init: rootfs_prepare");
	if (request_hooks(cfg, sock, err) < 0)
		return -1;
	if (init_run_hooks(cfg, OCI_HOOK_CREATE_CONTAINER, cfg->rootfs, err) < 0)
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
	if (write_sysctls(spec, err) < 0 || cap_user_counts(cfg, err) < 0)
		return -1;
	bw_phase("init: sysctls+user counts");
	if (setup_terminal(cfg, sock, true, err) < 0)
		return -1;
	return rootfs_readonly_late(err);
}

int init_join_container(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	int flags = cfg->target_ns_flags & ~(CLONE_NEWPID | CLONE_NEWTIME);
	if (flags != 0 && setns(cfg->target_pidfd, flags) < 0)
		return bw_fail(err, errno, "enter the container's namespaces");
	if (((cfg->target_ns_flags & CLONE_NEWUSER) || cfg->exec_in_userns) &&
	    init_become_ns_root(cfg, err) < 0)
		return -1;
	if (oci_spec_namespace(cfg->spec, OCI_NS_MOUNT) == NULL &&
	    enter_root_shared(cfg->rootfs, err) < 0)
		return -1;
	if (chdir("/") < 0)
		return bw_fail(err, errno, "chdir /");
	return setup_terminal(cfg, sock, false, err);
}
