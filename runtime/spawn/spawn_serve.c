/* The parent's side of the sync protocol (sync.h) once the child runs: it serves the init's
 * requests (time offsets, mountpoints, devices, hooks, terminal, seccomp listener, scratch
 * file systems) until the init reports ready or fails. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/sync.h"

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
	if (fdpass_send(s, &iov, 1, &fd, 1, 0) < 0)
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

/* SYNC_READY: the init is set up (and, exec'd, about to execve). */
static int serve_ready(const struct spawn_config *cfg, pid_t pid, bool devices_set,
		       struct bw_error *err)
{
	bw_phase("spawn: SYNC_READY");
	/* The stage names of runc's debug log, which tools and its suite look for. */
	if (cfg->is_exec)
		log_debug("setns_init: about to exec (pid %d is set up)", (int)pid);
	else
		log_debug("init: closing the pipe to signal completion (pid %d is set up)",
			  (int)pid);
	/* Fail closed: never a container without its devices rules. */
	if (!cfg->is_exec && cfg->cg != NULL && !devices_set)
		return bw_fail(err, EPROTO, "init ready before the devices rules were set");
	return 0;
}

/* SYNC_HOOKS: the devices rules, then prestart and createRuntime. */
static int serve_hooks(const struct spawn_config *cfg, bool *devices_set, struct bw_error *err)
{
	int r = apply_devices(cfg, devices_set, err);
	if (r == 0)
		r = run_runtime_hooks(cfg, err);
	return r;
}

/* SYNC_CONSOLE: the pty's master to --console-socket, or kept for run -t to relay. */
static int serve_console(const struct spawn_config *cfg, struct sync_msg *m,
			 struct spawn_result *res, struct bw_error *err)
{
	int r = 0;
	if (m->fd < 0)
		r = bw_fail(err, EPROTO, "terminal: no pty received");
	else if (cfg->console_socket != NULL)
		r = console_send_master(cfg->console_socket, m->fd, err);
	else if (cfg->keep_master)
		res->master = steal_fd(&m->fd);
	else
		r = bw_fail(err, 0, "process.terminal is true but no --console-socket was given");
	return r;
}

/* SYNC_SECCOMP_FD: the listener to the agent at linux.seccomp.listenerPath. */
static int serve_seccomp_fd(const struct spawn_config *cfg, pid_t pid, int fd, struct bw_error *err)
{
	int r = send_seccomp_listener(cfg, pid, fd, err);
	/* Without a notify rule the listener is a courtesy (seccomp.c). */
	if (r < 0 && !cfg->seccomp->has_notify)
		r = warn_only(err);
	return r;
}

/* The init's next message (r > 0), or -1. *died: the init went away without reporting (EOF or
 * a reset socket: it is exiting). */
static int recv_request(int sock, struct sync_msg *m, bool *died, struct bw_error *err)
{
	int r = sync_recv(sock, m, err);
	*died = r == 0 || (r < 0 && err->code == ECONNRESET);
	if (r < 0)
		return -1;
	if (r == 0)
		return bw_fail(err, 0, "container init exited unexpectedly");
	return r;
}

/* The init's requests, each answered, until it reports ready; *died as recv_request says. */
int spawn_serve_child(struct spawn_config *cfg, pid_t pid, int sock, struct spawn_result *res,
		      bool *died, struct bw_error *err)
{
	bool devices_set = false, assembled = false;
	for (;;) {
		struct sync_msg m;
		int r = recv_request(sock, &m, died, err);
		if (r < 0)
			return -1;
		enum sync_type reply = 0;
		switch (m.type) {
		case SYNC_ERROR:
			bw_fail(err, m.code, "%s", m.data);
			sync_msg_free(&m);
			return -1;
		case SYNC_READY:
			sync_msg_free(&m);
			return serve_ready(cfg, pid, devices_set, err);
		case SYNC_TIMENS:
			r = write_time_offsets(pid, &cfg->spec->linux, err);
			reply = SYNC_TIMENS_DONE;
			break;
		case SYNC_CREATE: /* these two send answers of their own */
		case SYNC_DEVICE:
			r = m.type == SYNC_CREATE ? serve_create(cfg, assembled, &m, err)
						  : send_device(cfg, sock, &m, err);
			sync_msg_free(&m);
			if (r < 0)
				return -1;
			continue;
		case SYNC_HOOKS:
			/* The rootfs is assembled, linux.devices nodes made: the devices rules
			 * go in now, before anything of the container's runs (cgroup.h). */
			bw_phase("spawn: SYNC_HOOKS");
			assembled = true;
			r = serve_hooks(cfg, &devices_set, err);
			reply = SYNC_HOOKS_DONE;
			break;
		case SYNC_CONSOLE:
			r = serve_console(cfg, &m, res, err);
			reply = SYNC_CONSOLE_DONE;
			break;
		case SYNC_SECCOMP_FD:
			r = serve_seccomp_fd(cfg, pid, m.fd, err);
			reply = SYNC_SECCOMP_DONE;
			break;
		case SYNC_SCRATCH:
			r = keep_scratch(cfg, &m, err);
			reply = SYNC_SCRATCH_DONE;
			break;
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
