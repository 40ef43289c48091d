/* The parent side of the spawn: clone3 into new (or the container's) namespaces and cgroup,
 * write the id maps, then serve the init's requests (time offsets, hooks, terminal, seccomp
 * listener) until it reports ready or fails. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

const char *const spawn_user_count_keys[SPAWN_USER_COUNTS] = {
    "user/max_inotify_instances", "user/max_inotify_watches", "user/max_fanotify_groups",
    "user/max_fanotify_marks"};

/* The host's limits behind spawn_user_count_keys (the initial user namespace's). */
static void read_user_counts(struct spawn_config *cfg)
{
	static const char *const host[SPAWN_USER_COUNTS] = {
	    "/proc/sys/fs/inotify/max_user_instances", "/proc/sys/fs/inotify/max_user_watches",
	    "/proc/sys/fs/fanotify/max_user_groups", "/proc/sys/fs/fanotify/max_user_marks"};
	for (size_t i = 0; i < SPAWN_USER_COUNTS; i++) {
		char buf[32] = {0};
		cfg->user_counts[i] = 0;
		int fd = open(host[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		cfg->user_counts[i] = n > 0 ? strtoll(buf, NULL, 10) : 0;
	}
}

void spawn_config_init(struct spawn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->fifo_fd = -1;
	cfg->target_pidfd = -1;
	for (int i = 0; i < 3; i++)
		cfg->stdio[i] = -1;
	cfg->status_fd = -1;
	cfg->init_netns = cfg->init_userns = -1;
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		cfg->ns_fds[t] = -1;
}

static pid_t do_clone(uint64_t flags, int cgroup_fd, int *pidfd)
{
	struct clone_args a = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgroup_fd;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (pid >= 0 || errno != ENOSYS)
		return pid;
	/* Kernels before 5.3: plain clone, then a pidfd (5.3+) or none. */
	pid = (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0, 0, 0, 0);
	if (pid > 0)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}

/* The kernel charges inotify and fanotify objects, user namespaces and the like per user at
 * every level up to the user that owns each namespace (issue 13 §2): a user namespace made by
 * root charges root, whose limits every container and the host then share. A sandbox's init
 * is cloned with the effective ids of its own namespace owner (idpool_owner: an id no
 * container maps, so nothing on the host ever runs as it and gets the owner's capabilities in
 * the namespace), and nothing in it is charged to root. Only this thread's credentials change
 * (raw system calls, not glibc's all-threads set*id), with SECBIT_NO_SETUID_FIXUP so that no
 * capability is lost meanwhile; the new namespace resets the child's securebits and gives it a
 * full set of its own. The kernel clears the dumpable flag and the parent-death signal on an
 * id change: both are put back. Other containers' namespaces stay root's (capped: init.c). */
struct ns_owner {
	bool active;
	int dumpable, pdeath, secbits;
};

static void ns_owner_restore(struct ns_owner *o)
{
	if (!o->active)
		return;
	/* The real and saved ids stayed 0: going back needs no capability. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0 ||
	    prctl(PR_SET_SECUREBITS, (unsigned long)o->secbits, 0, 0, 0) < 0) {
		/* Never go on as anyone but root with a half-restored identity. */
		log_msg(LOG_ERROR,
			"cannot restore the runtime's own ids after cloning the init: %s",
			strerror(errno));
		_exit(125);
	}
	prctl(PR_SET_DUMPABLE, o->dumpable, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, o->pdeath, 0, 0, 0);
	o->active = false;
}

static int ns_owner_become(const struct spawn_config *cfg, struct ns_owner *o, struct bw_error *err)
{
	memset(o, 0, sizeof(*o));
	uint32_t id = cfg->ns_owner;
	if (id == 0 || cfg->is_exec || cfg->rootless || !(cfg->new_ns_flags & CLONE_NEWUSER) ||
	    geteuid() != 0)
		return 0;
	o->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_GET_PDEATHSIG, &o->pdeath, 0, 0, 0);
	o->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (o->dumpable < 0 || o->secbits < 0 ||
	    prctl(PR_SET_SECUREBITS, (unsigned long)o->secbits | (1UL << 2) /* NO_SETUID_FIXUP */,
		  0, 0, 0) < 0)
		return bw_fail(err, errno, "user namespace owner %u: securebits", id);
	o->active = true;
	if (syscall(SYS_setresgid, -1, id, -1) < 0 || syscall(SYS_setresuid, -1, id, -1) < 0) {
		int e = errno;
		ns_owner_restore(o);
		return bw_fail(err, e, "user namespace owner %u: set the effective ids", id);
	}
	return 0;
}

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
			const char *field, struct bw_error *err)
{
	char buf[340 * 36 + 1];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(buf) - 40; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u %u %u\n", m[i].container_id,
				      m[i].host_id, m[i].size);
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "%s: open %s", field, file);
	if (write(fd, buf, o) != (ssize_t)o)
		return bw_fail(err, errno, "%s: write %s", field, file);
	return 0;
}

/* Is m exactly one entry of size 1 whose host id is ours: what an unprivileged process may write
 * itself (with setgroups denied for the gid map)? */
static bool own_id_only(const struct oci_id_mapping *m, size_t n, uint32_t own)
{
	return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

/* newuidmap/newgidmap (shadow's uidmap package, setuid root): they check every range against
 * /etc/subuid and /etc/subgid. Run from a fixed path, never from PATH. */
static int run_newidmap(pid_t pid, const char *tool, const struct oci_id_mapping *m, size_t n,
			const char *field, struct bw_error *err)
{
	static const char *const dirs[] = {"/usr/bin/", "/bin/"};
	_cleanup_free_ char *exe = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && exe == NULL; i++) {
		char *p = xasprintf("%s%s", dirs[i], tool);
		if (access(p, X_OK) == 0)
			exe = p;
		else
			free(p);
	}
	if (exe == NULL)
		return bw_fail(err, 0,
			       "%s: mapping more than the caller's own id without root needs %s "
			       "(Debian package uidmap) and a range in /etc/sub%cid",
			       field, tool, tool[3] == 'u' ? 'u' : 'g');
	char **argv = xcalloc(3 + 3 * n + 1, sizeof(char *));
	size_t a = 0;
	argv[a++] = xstrdup(tool);
	argv[a++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[a++] = xasprintf("%u", m[i].container_id);
		argv[a++] = xasprintf("%u", m[i].host_id);
		argv[a++] = xasprintf("%u", m[i].size);
	}
	int pipefd[2];
	int r = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		bw_fail(err, errno, "%s: pipe", field);
		goto out;
	}
	pid_t c = fork();
	if (c == 0) {
		dup2(pipefd[1], 2);
		int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		execv(exe, argv);
		_exit(127);
	}
	close(pipefd[1]);
	char msg[512];
	size_t got = 0;
	ssize_t k;
	while ((k = read(pipefd[0], msg + got, sizeof(msg) - 1 - got)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0)
			got += (size_t)k;
	close(pipefd[0]);
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	int st = 0;
	if (c < 0)
		bw_fail(err, errno, "%s: fork %s", field, tool);
	else if (waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bw_fail(err, 0, "%s: %s refused the mapping: %s", field, tool,
			msg[0] ? msg : "no reason given");
	else
		r = 0;
out:
	for (size_t i = 0; i < a; i++)
		free(argv[i]);
	free(argv);
	return r;
}

/* The maps of a new user namespace. Root writes them; an unprivileged runtime writes a map of
 * its own id itself (denying setgroups first, as the kernel requires for the gid map) and
 * hands anything larger to newuidmap/newgidmap. */
static int write_id_maps(pid_t pid, const struct oci_linux *l, struct bw_error *err)
{
	if (geteuid() == 0)
		return write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
				    "linux.uidMappings", err) < 0 ||
			       write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
					    "linux.gidMappings", err) < 0
			   ? -1
			   : 0;
	if (own_id_only(l->uid_mappings, l->n_uid_mappings, (uint32_t)geteuid())
		? write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
			       "linux.uidMappings", err) < 0
		: run_newidmap(pid, "newuidmap", l->uid_mappings, l->n_uid_mappings,
			       "linux.uidMappings", err) < 0)
		return -1;
	if (own_id_only(l->gid_mappings, l->n_gid_mappings, (uint32_t)getegid())) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if (fs_write_file(path, "deny", err) < 0)
			return bw_wrap(err, "linux.gidMappings: deny setgroups");
		return write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
				    "linux.gidMappings", err);
	}
	return run_newidmap(pid, "newgidmap", l->gid_mappings, l->n_gid_mappings,
			    "linux.gidMappings", err);
}

static int write_time_offsets(pid_t pid, const struct oci_linux *l, struct bw_error *err)
{
	char buf[128];
	size_t o = 0;
	if (l->time_monotonic.set)
		o +=
		    (size_t)snprintf(buf + o, sizeof(buf) - o, "monotonic %lld %u\n",
				     (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
	if (l->time_boottime.set)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "boottime %lld %u\n",
				      (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
	if (o == 0)
		return 0;
	_cleanup_free_ char *path = xasprintf("/proc/%d/timens_offsets", (int)pid);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	/* One write per line: the kernel parses one offset per write. */
	for (char *line = buf, *nl; fd >= 0 && (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		if (write(fd, line, (size_t)(nl - line + 1)) < 0)
			return bw_fail(err, errno, "linux.timeOffsets: write timens_offsets");
	if (fd < 0)
		return bw_fail(err, errno, "linux.timeOffsets: open timens_offsets");
	return 0;
}

static int send_seccomp_listener(const struct spawn_config *cfg, pid_t pid, int fd,
				 struct bw_error *err)
{
	const struct oci_seccomp *sc = cfg->spec->linux.seccomp;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (sc == NULL || sc->listener_path == NULL)
		return bw_fail(err, 0,
			       "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
	if (strlen(sc->listener_path) >= sizeof(sa.sun_path))
		return bw_fail(err, ENAMETOOLONG, "linux.seccomp.listenerPath");
	strcpy(sa.sun_path, sc->listener_path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return bw_fail(err, errno,
			       "linux.seccomp.listenerPath: failed to connect with seccomp agent "
			       "at `%s`",
			       sc->listener_path);
	_cleanup_free_ char *meta = NULL;
	/* The metadata is opaque to us; it was validated as a string, escape it for JSON. */
	size_t ml = sc->listener_metadata ? strlen(sc->listener_metadata) : 0;
	meta = xmalloc(ml * 6 + 1);
	size_t o = 0;
	for (size_t i = 0; i < ml; i++) {
		unsigned char ch = (unsigned char)sc->listener_metadata[i];
		if (ch == '"' || ch == '\\')
			o += (size_t)sprintf(meta + o, "\\%c", ch);
		else if (ch < 0x20)
			o += (size_t)sprintf(meta + o, "\\u%04x", ch);
		else
			meta[o++] = (char)ch;
	}
	meta[o] = '\0';
	_cleanup_free_ char *msg =
	    xasprintf("{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":"
		      "\"%s\",\"state\":%s}",
		      (int)pid, meta, cfg->state_json ? cfg->state_json : "{}");
	struct iovec iov = {msg, strlen(msg)};
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return bw_fail(err, errno, "linux.seccomp.listenerPath: send");
	return 0;
}

static int apply_devices(const struct spawn_config *cfg, bool *done, struct bw_error *err)
{
	const struct oci_linux *l = &cfg->spec->linux;
	if (cfg->is_exec || cfg->cg == NULL || *done)
		return 0;
	if (cg_apply_devices(cfg->cg, l->has_resources ? &l->resources : NULL, err) < 0)
		return -1;
	*done = true;
	return 0;
}

static int warn_only(struct bw_error *err)
{
	char text[BW_ERROR_MAX + 64];
	bw_error_text(err, text, sizeof(text));
	log_warn("%s", text);
	*err = (struct bw_error){0};
	return 0;
}

/* prestart and createRuntime: in the runtime's namespaces, from the bundle (runc, crun). */
static int run_runtime_hooks(const struct spawn_config *cfg, struct bw_error *err)
{
	struct hooks_ctx hc = {.state_json = cfg->state_json ? cfg->state_json : "{}",
			       .cwd = cfg->bundle};
	if (hooks_run(&cfg->spec->hooks, OCI_HOOK_PRESTART, &hc, err) < 0)
		return -1;
	return hooks_run(&cfg->spec->hooks, OCI_HOOK_CREATE_RUNTIME, &hc, err);
}

/* *died: the init went away without reporting (EOF or a reset socket: it is exiting). */
/* linux.devices[i] for an init in a new user namespace: made here, where mknod is allowed.
 * A failure goes back to the init (code and message), which then binds the host's node. */
static int send_device(const struct spawn_config *cfg, int sock, const struct sync_msg *m,
		       struct bw_error *err)
{
	struct bw_error why = {0};
	uint64_t i = 0;
	int fd = -1;
	if (cfg->is_exec || !(cfg->new_ns_flags & CLONE_NEWUSER) || m->data == NULL ||
	    parse_u64(m->data, &i) < 0)
		bw_fail(&why, EPROTO, "unexpected device request");
	else
		fd = rootfs_host_device(cfg->spec, (size_t)i, &why);
	int r = fd >= 0 ? sync_send(sock, SYNC_DEVICE_DONE, 0, NULL, 0, fd, err)
			: sync_send(sock, SYNC_DEVICE_DONE, why.code, why.msg, strlen(why.msg), -1,
				    err);
	if (fd >= 0)
		close(fd);
	return r;
}

/* SYNC_SCRATCH: the scratch tmpfs of the rootless overlay workspace at mounts[i], kept where
 * the workspace asked (hostpath.scratch_out) for --keep-changes and the report. */
static int keep_scratch(const struct spawn_config *cfg, struct sync_msg *m, struct bw_error *err)
{
	uint64_t i = 0;
	if (m->fd < 0 || m->data == NULL || parse_u64(m->data, &i) < 0 ||
	    i >= cfg->spec->n_mounts || cfg->mount_srcs == NULL || !cfg->mount_srcs[i].overlay ||
	    cfg->mount_srcs[i].scratch_out == NULL)
		return bw_fail(err, EPROTO, "unexpected scratch file system message");
	int *out = cfg->mount_srcs[i].scratch_out;
	if (*out >= 0) /* one overlay per workspace (workspace_sources) */
		return bw_fail(err, EPROTO, "a second scratch file system for one workspace");
	*out = steal_fd(&m->fd);
	return 0;
}

/* SYNC_CREATE: a top-level mountpoint directory (/proc, /dev, /sys...) the init may not make in
 * a rootfs its user namespace does not own (a root-made bundle: `mkdir //proc: Permission
 * denied`), made here with the runtime's credentials, owned by root of the host and empty.
 * Only while the rootfs is being assembled (before SYNC_HOOKS), only a directory, only one
 * plain name, and only in root.path itself (the same inode the runtime resolved): nothing
 * deeper (an /etc/nologin, a directory where a file bind of another container goes) is ever
 * made in a rootfs that other containers may share. lifecycle.c decides whether root.path
 * may get them at all (cfg->host_mountpoints). */
static int serve_create(const struct spawn_config *cfg, bool assembled, const struct sync_msg *m,
			struct bw_error *err)
{
	const char *d = m->data;
	int code = 0;
	struct stat st;
	if (cfg->is_exec || !(cfg->new_ns_flags & CLONE_NEWUSER) || !cfg->host_mountpoints ||
	    cfg->root_src == NULL || assembled || m->fd < 0 || d == NULL || d[0] != 'd' ||
	    d[1] != '/' || d[2] == '\0' || strchr(d + 2, '/') != NULL || strcmp(d + 2, ".") == 0 ||
	    strcmp(d + 2, "..") == 0 || strlen(d + 2) > 255 || fstat(m->fd, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		code = EPROTO;
	else if (st.st_dev != cfg->root_src->dev || st.st_ino != cfg->root_src->ino)
		code = EACCES; /* below the root: the init's own ids decide */
	else if (mkdirat(m->fd, d + 2, 0755) < 0)
		code = errno;
	if (code == 0)
		log_debug("made the mountpoint `/%s` for the init", d + 2);
	return sync_send(cfg->sock_parent, SYNC_CREATE_DONE, code, NULL, 0, -1, err);
}

static int serve_child(struct spawn_config *cfg, pid_t pid, int sock, struct spawn_result *res,
		       bool *died, struct bw_error *err)
{
	bool devices_set = false, assembled = false;
	for (;;) {
		struct sync_msg m;
		int r = sync_recv(sock, &m, err);
		*died = r == 0 || (r < 0 && err->code == ECONNRESET);
		if (r < 0)
			return -1;
		if (r == 0)
			return bw_fail(err, 0, "container init exited unexpectedly");
		enum sync_type reply = 0;
		switch (m.type) {
		case SYNC_ERROR:
			bw_fail(err, m.code, "%s", m.data);
			sync_msg_free(&m);
			return -1;
		case SYNC_READY:
			sync_msg_free(&m);
			bw_phase("spawn: SYNC_READY");
			/* The stage names of runc's debug log, which tools and its suite look for.
			 */
			if (cfg->is_exec)
				log_debug("setns_init: about to exec (pid %d is set up)", (int)pid);
			else
				log_debug(
				    "init: closing the pipe to signal completion (pid %d is set "
				    "up)",
				    (int)pid);
			/* Fail closed: never a container without its devices rules. */
			if (!cfg->is_exec && cfg->cg != NULL && !devices_set)
				return bw_fail(err, EPROTO,
					       "init ready before the devices rules were set");
			return 0;
		case SYNC_TIMENS:
			r = write_time_offsets(pid, &cfg->spec->linux, err);
			reply = SYNC_TIMENS_DONE;
			break;
		case SYNC_CREATE:
			r = serve_create(cfg, assembled, &m, err);
			sync_msg_free(&m);
			if (r < 0)
				return -1;
			continue;
		case SYNC_HOOKS:
			/* The rootfs is assembled, linux.devices nodes made: the devices rules
			 * go in now, before anything of the container's runs (cgroup.h). */
			bw_phase("spawn: SYNC_HOOKS");
			assembled = true;
			r = apply_devices(cfg, &devices_set, err);
			if (r == 0)
				r = run_runtime_hooks(cfg, err);
			reply = SYNC_HOOKS_DONE;
			break;
		case SYNC_CONSOLE:
			if (m.fd < 0)
				r = bw_fail(err, EPROTO, "terminal: no pty received");
			else if (cfg->console_socket != NULL)
				r = console_send_master(cfg->console_socket, m.fd, err);
			else if (cfg->keep_master)
				res->master = steal_fd(&m.fd);
			else
				r = bw_fail(
				    err, 0,
				    "process.terminal is true but no --console-socket was given");
			reply = SYNC_CONSOLE_DONE;
			break;
		case SYNC_SECCOMP_FD:
			r = send_seccomp_listener(cfg, pid, m.fd, err);
			/* Without a notify rule the listener is a courtesy (seccomp.c). */
			if (r < 0 && !cfg->seccomp->has_notify)
				r = warn_only(err);
			reply = SYNC_SECCOMP_DONE;
			break;
		case SYNC_SCRATCH:
			r = keep_scratch(cfg, &m, err);
			reply = SYNC_SCRATCH_DONE;
			break;
		case SYNC_DEVICE:
			r = send_device(cfg, sock, &m, err);
			sync_msg_free(&m);
			if (r < 0)
				return -1;
			continue;
		default:
			r = bw_fail(err, EPROTO, "unexpected sync message %u", m.type);
		}
		sync_msg_free(&m);
		if (r < 0)
			return -1;
		if (sync_send(sock, reply, 0, NULL, 0, -1, err) < 0)
			return -1;
	}
}

/* The init died without a word: say why in the config's terms where we can. Its cgroup's OOM
 * killer means the memory limit cannot hold even the runtime's set-up before execve (the
 * limit itself is accepted by the kernel: on v1 it is written while the cgroup is empty). */
static void explain_init_death(const struct spawn_config *cfg, int status, uint64_t ooms_before,
			       struct bw_error *err)
{
	uint64_t ooms = 0;
	struct bw_error e2 = {0};
	const struct opt_i64 *limit = &cfg->spec->linux.resources.memory.limit;
	if (cfg->cg != NULL && cg_oom_kills(cfg->cg, &ooms, &e2) == 0 && ooms > ooms_before) {
		if (limit->set && limit->v > 0)
			bw_fail(
			    err, 0,
			    "linux.resources.memory.limit: %lld bytes is too low: the OOM killer "
			    "killed the container's init before it could start the process",
			    (long long)limit->v);
		else
			bw_fail(err, 0,
				"the OOM killer of the container's cgroup killed its init before "
				"it could "
				"start the process");
		return;
	}
	if (WIFSIGNALED(status))
		bw_fail(err, 0,
			"the container's init was killed by signal %d (%s) before it could "
			"start the process",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* setns(CLONE_NEWPID/NEWTIME) in the parent only changes where its children are born. */
static int enter_for_children(const struct spawn_config *cfg, int *saved_pid, struct bw_error *err)
{
	int fd = -1, flags = 0;
	if (cfg->is_exec && (cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME))) {
		fd = cfg->target_pidfd;
		flags = cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME);
	} else if (!cfg->is_exec && cfg->ns_fds[OCI_NS_PID] >= 0) {
		fd = cfg->ns_fds[OCI_NS_PID];
		flags = CLONE_NEWPID;
	}
	if (fd < 0)
		return 0;
	*saved_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	if (*saved_pid < 0)
		return bw_fail(err, errno, "open own pid namespace");
	if (setns(fd, flags) < 0)
		return bw_fail(err, errno, "enter the container's pid namespace");
	return 0;
}

static void leave_for_children(int *saved_pid)
{
	if (*saved_pid < 0)
		return;
	setns(*saved_pid, CLONE_NEWPID);
	_cleanup_close_ int t = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
	if (t >= 0)
		setns(t, CLONE_NEWTIME);
	close(*saved_pid);
	*saved_pid = -1;
}

/* The host paths of a new container (root.path, bind sources) reopened from inside the init's
 * new mount namespace, where the init can use them (open_tree clones only mounts of the
 * caller's namespace), but with the runtime's credentials: the ids of a user namespace may
 * not enter a parent directory (a 0700 home, mktemp -d) that the runtime's can. A thread does
 * it, with a private fs_struct so that only it enters the namespace. The same reopen checks
 * apply as in the init (hostpath_reopen: no symlinks, the same file). */
struct host_reopen {
	const struct spawn_config *cfg;
	pid_t pid;
	int pidfd;
	bool entered, failed;
	struct bw_error err;
};

/* One reopened path to the init at once (then closed here): however many bind sources, the
 * runtime holds one of them at a time. */
static void reopen_send(struct host_reopen *h, const struct hostpath *hp, int flags,
			const char *idx)
{
	int fd = hostpath_reopen(hp, flags, &h->err);
	if (fd < 0 ||
	    sync_send(h->cfg->sock_parent, SYNC_HOSTFD, 0, idx, strlen(idx), fd, &h->err) < 0)
		h->failed = true;
	if (fd >= 0)
		close(fd);
}

static void *reopen_thread(void *arg)
{
	struct host_reopen *h = arg;
	const struct spawn_config *cfg = h->cfg;
	int nsfd = h->pidfd;
	_cleanup_close_ int own = -1;
	if (nsfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)h->pid);
		nsfd = own = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* Without the privilege for this (a rootless runtime) the init reopens them itself,
	 * with the same ids as ours. */
	if (nsfd < 0 || unshare(CLONE_FS) < 0 || setns(nsfd, CLONE_NEWNS) < 0) {
		log_debug("host paths: the init reopens them itself (%s)", strerror(errno));
		return NULL;
	}
	h->entered = true;
	reopen_send(h, cfg->root_src, O_DIRECTORY, "root");
	for (size_t i = 0; !h->failed && cfg->mount_srcs != NULL && i < cfg->spec->n_mounts; i++) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", i);
		if (cfg->mount_srcs[i].path != NULL)
			reopen_send(h, &cfg->mount_srcs[i], 0, idx);
	}
	return NULL;
}

static int send_host_paths(const struct spawn_config *cfg, pid_t pid, int pidfd,
			   struct bw_error *err)
{
	if (cfg->is_exec || cfg->root_src == NULL || !(cfg->new_ns_flags & CLONE_NEWUSER) ||
	    !(cfg->new_ns_flags & CLONE_NEWNS))
		return 0;
	struct host_reopen h = {.cfg = cfg, .pid = pid, .pidfd = pidfd};
	pthread_t t;
	int r = pthread_create(&t, NULL, reopen_thread, &h);
	if (r != 0)
		return bw_fail(err, r, "start the host path thread");
	pthread_join(t, NULL);
	if (h.failed) {
		*err = h.err;
		return -1;
	}
	return 0;
}

/* A rootless exec may not enter the container's pid namespace from ours: a process in its user
 * namespace makes the child (clone_from_userns), not into the container's cgroup. */
static bool exec_via_userns(const struct spawn_config *cfg)
{
	return cfg->is_exec && cfg->rootless && (cfg->target_ns_flags & CLONE_NEWUSER) &&
	       (cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME));
}

static int after_clone(struct spawn_config *cfg, pid_t pid, int pidfd, struct bw_error *err)
{
	const struct oci_spec *spec = cfg->spec;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER) &&
	    write_id_maps(pid, &spec->linux, err) < 0)
		return -1;
	if (cfg->rootless && !cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER)) {
		/* A rootless network helper needs them later, when the init is no longer dumpable
		 * and its mm (made in our namespace) keeps /proc/PID/ns closed to us. */
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		cfg->init_netns = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		cfg->init_userns = open(path, O_RDONLY | O_CLOEXEC);
		if (cfg->init_netns < 0 || cfg->init_userns < 0)
			return bw_fail(err, errno, "open the init's namespaces");
	}
	bw_phase("spawn: id maps");
	if (send_host_paths(cfg, pid, pidfd, err) < 0)
		return -1;
	bw_phase("spawn: host paths");
	/* Not cloned into it (v1, or a rootless exec made in the container's user namespace): moved
	 * before it runs anything of its own (a rootless container's cgroup is in a delegated
	 * subtree, docs/rootless.md). */
	if (cfg->cg != NULL && !cfg->cg_in_place && cg_enter(cfg->cg, pid, err) < 0)
		return -1;
	cg_placed(cfg->cg);
	bw_phase("spawn: cgroup entered");
	if (cfg->process->oom_score_adj.set && !cfg->rootless) {
		char path[64], val[32];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(val, sizeof(val), "%lld", (long long)cfg->process->oom_score_adj.v);
		if (fs_write_file(path, val, err) < 0)
			return bw_wrap(err, "process.oomScoreAdj");
	}
	free(cfg->state_json);
	cfg->state_json = NULL;
	if (cfg->on_started != NULL && cfg->on_started(cfg->cb_ctx, pid, &cfg->state_json, err) < 0)
		return -1;
	bw_phase("spawn: state json");
	const char *sj = cfg->state_json ? cfg->state_json : "{}";
	return sync_send(cfg->sock_parent, SYNC_GO, 0, sj, strlen(sj), -1, err);
}

/* A child that reports to us through a pipe: fork's result, the child holding only the write
 * end p[1] and we only the read end p[0]; or -1 with nothing left open. */
static pid_t fork_reporting(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t mid = fork();
	int e = errno;
	if (mid != 0)
		close(p[1]);
	if (mid <= 0)
		close(p[0]);
	errno = e;
	return mid;
}

/* Rootless exec: an intermediate process joins the container's user namespace (it may, being
 * its owner), where it may then enter the pid (and time) namespace for its children, and clones
 * the exec'd process with CLONE_PARENT, so that it is our child as in every other case. Returns
 * the child's pid (0 in the child, which is then in the user namespace already), or -1. */
static pid_t clone_from_userns(struct spawn_config *cfg, int *pidfd)
{
	int p[2];
	pid_t mid = fork_reporting(p);
	if (mid < 0)
		return -1;
	if (mid == 0) {
		pid_t child = -1;
		int e = 0;
		int fl = cfg->target_ns_flags & (CLONE_NEWPID | CLONE_NEWTIME);
		if (setns(cfg->target_pidfd, CLONE_NEWUSER) < 0 || setns(cfg->target_pidfd, fl) < 0)
			e = errno;
		else {
			cfg->target_ns_flags &= ~(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME);
			cfg->exec_in_userns = true;
			struct clone_args a = {.flags = CLONE_PARENT, .exit_signal = 0};
			child = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
			if (child == 0) {
				close(p[1]);
				return 0;
			}
			e = child < 0 ? errno : 0;
		}
		int msg[2] = {child, e};
		ssize_t w = write(p[1], msg, sizeof(msg));
		_exit(w == (ssize_t)sizeof(msg) ? 0 : 1);
	}
	int msg[2] = {-1, EPROTO};
	ssize_t n;
	do
		n = read(p[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	waitpid(mid, NULL, 0);
	if (n != (ssize_t)sizeof(msg) || msg[0] <= 0) {
		errno = msg[1] ? msg[1] : EPROTO;
		return -1;
	}
	*pidfd = (int)syscall(SYS_pidfd_open, msg[0], 0);
	return msg[0];
}

/* Does fd become readable (a pipe's report, a pidfd's exit) within ms? A failed poll counts as
 * no: nothing is waited for unbounded. */
static bool readable_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return r > 0 && (p.revents & (POLLIN | POLLHUP));
}

/* A new container on a v1 or hybrid host (cgroups/cg_clone.c): a forked helper moves itself
 * into the container's v1 cgroups, takes the namespace owner's ids, clones the init with
 * CLONE_PARENT (our child, as always; into the cgroup2 hierarchy by cgroup_fd) and exits. The
 * runtime never enters the container's cgroups. Returns the init's pid (0 in the init), or -1
 * with errno; *fallback when nothing was cloned and the old path (clone, cg_enter) may be
 * taken: the helper could not enter or take the ids, or the clone met pids.max or the memory
 * limit. A helper that dies or hangs fails the create: an init may exist that we do not know,
 * and a second one must never be made (the cgroup's removal ends it). */
static pid_t clone_via_helper(const struct spawn_config *cfg, uint64_t flags, int cgroup_fd,
			      int *pidfd, bool *fallback, struct bw_error *err)
{
	enum { ENTER = 1, OWNER, CLONE };
	int p[2];
	pid_t mid = fork_reporting(p);
	*fallback = mid < 0;
	if (mid < 0)
		return -1;
	if (mid == 0) {
		int msg[3] = {-1, 0, ENTER};
		struct bw_error e = {0};
		struct ns_owner o;
		if (cg_enter_self(cfg->cg, &e) < 0)
			msg[1] = e.code;
		else if (msg[2] = OWNER, ns_owner_become(cfg, &o, &e) < 0)
			msg[1] = e.code;
		else {
			msg[2] = CLONE;
			struct clone_args a = {.flags = flags | CLONE_PARENT, .exit_signal = 0};
			if (cgroup_fd >= 0) {
				a.flags |= CLONE_INTO_CGROUP;
				a.cgroup = (uint64_t)cgroup_fd;
			}
			pid_t child = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
			if (child == 0) {
				close(p[1]);
				return 0;
			}
			msg[0] = child;
			msg[1] = child < 0 ? errno : 0;
		}
		ssize_t w = write(p[1], msg, sizeof(msg));
		_exit(w == (ssize_t)sizeof(msg) ? 0 : 1);
	}
	int msg[3] = {-1, EPROTO, 0};
	ssize_t n = -1;
	bool pr = readable_within(p[0], 10000);
	if (pr)
		do
			n = read(p[0], msg, sizeof(msg));
		while (n < 0 && errno == EINTR);
	close(p[0]);
	if (!pr) {
		/* Frozen with the cgroup, say: it cannot be reaped before it thaws. */
		kill(mid, SIGKILL);
		errno = ETIMEDOUT;
		return bw_fail(err, 0,
			       "the helper cloning the init into its cgroup did not answer in 10 s "
			       "(was the container's cgroup frozen?)");
	}
	/* Its report read, the helper only exits: unless it froze with the cgroup meanwhile. */
	int st = 0;
	_cleanup_close_ int mfd = (int)syscall(SYS_pidfd_open, mid, 0);
	if (mfd >= 0 && !readable_within(mfd, 10000)) {
		kill(mid, SIGKILL);
		return bw_fail(err, 0,
			       "the helper cloning the init into its cgroup did not exit in 10 s "
			       "(was the container's cgroup frozen?)");
	}
	waitpid(mid, &st, 0);
	if (n != (ssize_t)sizeof(msg)) {
		errno = EPROTO;
		if (WIFSIGNALED(st))
			return bw_fail(
			    err, 0,
			    "the helper cloning the init into its cgroup was killed by "
			    "signal %d (a memory limit of a cgroup above the container's?)",
			    WTERMSIG(st));
		return bw_fail(err, 0, "the helper cloning the init into its cgroup failed");
	}
	if (msg[2] != CLONE ||
	    (msg[0] < 0 && (msg[1] == EAGAIN || msg[1] == ENOMEM || msg[1] == ENOSYS))) {
		log_debug("cgroup: clone in place: %s failed (%s): the old path",
			  msg[2] == ENTER   ? "enter"
			  : msg[2] == OWNER ? "owner ids"
					    : "clone",
			  strerror(msg[1]));
		*fallback = true;
		errno = msg[1];
		return -1;
	}
	if (msg[0] <= 0) {
		errno = msg[1] ? msg[1] : EPROTO;
		return bw_fail(err, errno, "clone3");
	}
	*pidfd = (int)syscall(SYS_pidfd_open, msg[0], 0);
	return msg[0];
}

int spawn_container_process(struct spawn_config *cfg, struct spawn_result *res,
			    struct bw_error *err)
{
	int sv[2], pidfd = -1, saved_pid = -1, status = 0;
	uint64_t flags = 0, ooms_before = 0;
	bool died = false;

	res->pid = -1;
	res->pidfd = -1;
	res->master = -1;
	cfg->rootless = geteuid() != 0;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER))
		read_user_counts(cfg);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return bw_fail(err, errno, "socketpair");
	if (!cfg->is_exec)
		flags = (uint64_t)(cfg->new_ns_flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME));
	bool via_userns = exec_via_userns(cfg);
	if (!via_userns && enter_for_children(cfg, &saved_pid, err) < 0) {
		leave_for_children(&saved_pid);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (cfg->cg != NULL)
		cg_oom_kills(cfg->cg, &ooms_before, NULL);
	log_debug("nsexec container setup: clone3 of the %s, new namespaces %#llx",
		  cfg->is_exec ? "exec'd process" : "container init", (unsigned long long)flags);
	bw_phase("spawn: pre-clone");
	struct cg_clone cgc = {.fd = -1};
	if (cfg->cg != NULL && !via_userns) {
		if (cfg->is_exec)
			cg_exec_clone_begin(cfg->cg, &cgc);
		else
			cg_clone_begin(cfg->cg,
				       cfg->spec->linux.has_resources ? &cfg->spec->linux.resources
								      : NULL,
				       &cgc);
	}
	/* An exec'd process enters by itself (init.c); a new container's init by a helper, and
	 * not when it goes to a pid namespace the config names (the helper would be there too). */
	cfg->cg_child_enters = cfg->is_exec && cgc.self_enter;
	bool helper = !cfg->is_exec && cgc.self_enter && saved_pid < 0;
	if (!cfg->is_exec && cgc.self_enter && !helper) {
		cg_clone_end(&cgc);
		cgc.fd = cg_clone_fd(cfg->cg);
		cgc.in_place = cgc.fd >= 0;
	}
	pid_t pid = -1;
	int clone_errno = 0;
	if (helper) {
		bool fallback = false;
		pid = clone_via_helper(cfg, flags, cgc.fd, &pidfd, &fallback, err);
		clone_errno = errno;
		if (pid == 0) {
			close(sv[0]);
			init_main(cfg, sv[1]);
		}
		if (pid < 0 && !fallback) {
			cg_clone_end(&cgc);
			leave_for_children(&saved_pid);
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		if (pid < 0) {
			cg_clone_end(&cgc);
			helper = false;
		}
	}
	if (!helper) {
		struct ns_owner owner = {0};
		if (!via_userns && ns_owner_become(cfg, &owner, err) < 0) {
			cg_clone_end(&cgc);
			leave_for_children(&saved_pid);
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		pid = via_userns ? clone_from_userns(cfg, &pidfd) : do_clone(flags, cgc.fd, &pidfd);
		if (pid == 0) {
			close(sv[0]);
			init_main(cfg, sv[1]);
		}
		clone_errno = errno;
		ns_owner_restore(&owner);
	}
	cfg->cg_in_place = cgc.in_place;
	cg_clone_end(&cgc);
	bw_phase("spawn: cloned");
	leave_for_children(&saved_pid);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return bw_fail(err, clone_errno, "clone3");
	}
	res->pid = pid;
	res->pidfd = pidfd;
	cfg->sock_parent = sv[0];
	log_debug("child process in init(): pid %d, joining its cgroup and configuring", (int)pid);
	if (after_clone(cfg, pid, pidfd, err) < 0 ||
	    serve_child(cfg, pid, sv[0], res, &died, err) < 0) {
		close(sv[0]);
		/* A dying init keeps the status of what killed it: our SIGKILL does not replace it.
		 */
		if (pidfd >= 0)
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		else
			kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (died)
			explain_init_death(cfg, status, ooms_before, err);
		if (pidfd >= 0)
			close(pidfd);
		if (res->master >= 0)
			close(res->master);
		res->pid = -1;
		res->pidfd = -1;
		res->master = -1;
		return -1;
	}
	close(sv[0]);
	return 0;
}
