/* Rootless cgroups from the caller's own systemd (its user manager): the connection to it, used
 * only when it is the caller's, and the delegated transient scope that holds the calling process
 * (started with it in, or an exec attached to it later), as podman does. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cgroups/cg_internal.h"
#include "cgroups/cg_systemd_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

char *cg_user_scope_unit(const char *cgroup_path)
{
	/* ".../bulwark-<id>-<hex>.scope/bulwark/<id>": the scope is the component before the
	 * last two. */
	const char *end =
	    cgroup_path == NULL || cgroup_path[0] != '/' ? NULL : strrchr(cgroup_path, '/');
	if (end == NULL || end - cgroup_path < 9 || strncmp(end - 8, "/bulwark", 8) != 0)
		return NULL;
	end -= 8;
	const char *start = end;
	while (start > cgroup_path && start[-1] != '/')
		start--;
	size_t len = (size_t)(end - start);
	if (len < 14 || strncmp(start, "bulwark-", 8) != 0 || strncmp(end - 6, ".scope", 6) != 0)
		return NULL;
	char *unit = xstrndup(start, len);
	if (!cg_systemd_unit_valid(unit)) {
		free(unit);
		return NULL;
	}
	return unit;
}

int cg_user_scope_delegation(const char *unit, const char *desc, struct cg_delegation *d, char *why,
			     size_t n, struct bw_error *err)
{
	if (geteuid() == 0 || cg_detect_mode() != CG_MODE_UNIFIED)
		return 0;
	struct bw_error e = {0};
	if (cg_sd_user_scope(unit, desc, &e) < 0) {
		char text[BW_ERROR_MAX];
		bw_error_text(&e, text, sizeof(text));
		snprintf(why, n, "the user's systemd gave no delegated scope: %s", text);
		log_debug("rootless: %s", why);
		return 0;
	}
	log_debug("rootless: in the user's systemd scope `%s`", unit);
	int r = cg_delegated(d, err);
	if (r == 0)
		snprintf(why, n, "the user's systemd scope `%s` is not delegated to uid %d", unit,
			 (int)geteuid());
	return r;
}

#ifdef HAVE_SD_BUS
/* A socket of the caller's own systemd, connected: only when the socket is the caller's and the
 * process at the other end runs as the caller, never a bus another uid made. */
static int user_socket(const char *path, int *out, struct bw_error *err)
{
	struct stat st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cr = {0};
	socklen_t crl = sizeof(cr);
	if (lstat(path, &st) < 0)
		return bw_fail(err, errno, "`%s`", path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return bw_fail(err, 0, "`%s` is not a socket of uid %d", path, (int)geteuid());
	if (strlen(path) >= sizeof(sa.sun_path))
		return bw_fail(err, ENAMETOOLONG, "`%s`", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Not blocking: a manager (or anyone of the caller's) that never accepts cannot hang us. */
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return bw_fail(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (errno != EINPROGRESS && errno != EAGAIN)
			return bw_fail(err, errno, "connect to `%s`", path);
		if (poll(&p, 1, 5000) <= 0)
			return bw_fail(err, ETIMEDOUT, "connect to `%s`", path);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
			return bw_fail(err, soerr ? soerr : errno, "connect to `%s`", path);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0)
		return bw_fail(err, errno, "SO_PEERCRED of `%s`", path);
	if (cr.uid != geteuid())
		return bw_fail(err, 0, "`%s` is served by uid %u, not by the caller's", path,
			       (unsigned)cr.uid);
	/* The pids we send are ours as the manager must read them: the same pid namespace. */
	if (cr.pid == 0)
		return bw_fail(err, 0, "`%s` is served from another pid namespace", path);
	*out = steal_fd(&fd);
	return 0;
}

/* The caller's user manager, rootless: its private socket ($XDG_RUNTIME_DIR/systemd/private,
 * as systemctl --user connects), else the user's bus ($XDG_RUNTIME_DIR/bus). Whatever the
 * environment names is checked by user_socket: it can only pick among the caller's own. */
static int conn_open_user(struct cg_sd_conn *c, struct bw_error *err)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *own = NULL;
	if (rt == NULL || rt[0] != '/')
		rt = own = xasprintf("/run/user/%u", (unsigned)geteuid());
	_cleanup_free_ char *priv = fs_path_join(rt, "systemd/private");
	_cleanup_free_ char *bus = fs_path_join(rt, "bus");
	struct bw_error pe = {0};
	int fd = -1;
	bool client = false;
	if (user_socket(priv, &fd, &pe) < 0) {
		if (user_socket(bus, &fd, err) < 0) {
			char both[BW_ERROR_MAX];
			snprintf(both, sizeof(both), "%s", err->msg);
			return bw_fail(err, 0, "%s; %s", pe.msg, both);
		}
		client = true;
	}
	if (cg_sd_load_lib(err) < 0) {
		close(fd);
		return -1;
	}
	int r = cg_sd_lib.new_bus(&c->bus);
	if (r >= 0 && (r = cg_sd_lib.set_fd(c->bus, fd, fd)) >= 0)
		fd = -1; /* the bus's now */
	if (fd >= 0)
		close(fd);
	if (r >= 0 && client)
		r = cg_sd_lib.set_bus_client(c->bus, 1);
	if (r >= 0)
		r = cg_sd_lib.start(c->bus);
	if (r < 0) {
		cg_sd_conn_close(c);
		return bw_fail(err, -r, "connect to `%s`", client ? bus : priv);
	}
	return 0;
}

static int user_scope_msg(struct cg_sd_conn *c, const char *unit, const char *desc,
			  sd_bus_message **out)
{
	sd_bus_message *m = NULL;
	int r = cg_sd_new_call(c, "StartTransientUnit", &m);
	if (r >= 0)
		r = cg_sd_lib.append(m, "ss", unit, "fail");
	if (r >= 0)
		r = cg_sd_lib.open(m, 'a', "(sv)");
	/* CollectMode: a scope that failed is unloaded too, never left listed. */
	if (r >= 0)
		r = cg_sd_lib.append(m, "(sv)(sv)(sv)(sv)", "Description", "s", desc, "Delegate",
				     "b", 1, "CollectMode", "s", "inactive-or-failed", "PIDs", "au",
				     1, (uint32_t)getpid());
	if (r >= 0)
		r = cg_sd_lib.append(m, "(sv)(sv)(sv)", "MemoryAccounting", "b", 1, "CPUAccounting",
				     "b", 1, "TasksAccounting", "b", 1);
	return cg_sd_finish_transient(m, r, out);
}

int cg_sd_user_scope(const char *unit, const char *desc, struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	struct cg_sd_job w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (!cg_systemd_unit_valid(unit))
		return bw_fail(err, 0, "systemd unit `%s`: not a scope name", unit);
	if (conn_open_user(&c, err) < 0)
		return -1;
	int q = cg_sd_watch_jobs(&c, &w, err);
	if (q >= 0 && (q = user_scope_msg(&c, unit, desc, &m)) < 0)
		bw_fail(err, -q, "build the request for unit `%s`", unit);
	if (q >= 0) {
		_cleanup_free_ char *what = xasprintf("start unit `%s`", unit);
		q = cg_sd_send(&c, m, NULL, &reply, what, err);
	}
	if (q >= 0)
		q = cg_sd_job_of(reply, &w, err) < 0 || cg_sd_wait_job(&c, &w, unit, err) < 0 ? -1
											      : 0;
	if (q >= 0 && strcmp(w.result, "done") != 0) {
		cg_sd_reset_failed(&c, unit);
		q = bw_fail(err, 0, "unit `%s` did not start (job %s)", unit, w.result);
	}
	cg_sd_conn_close(&c);
	return q < 0 ? -1 : 0;
}

int cg_sd_user_attach(const char *unit, const char *sub, struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	sd_bus_message *m = NULL;
	if (conn_open_user(&c, err) < 0)
		return -1;
	int q = cg_sd_new_call(&c, "AttachProcessesToUnit", &m);
	if (q >= 0 && (q = cg_sd_lib.append(m, "ssau", unit, sub, 1, (uint32_t)getpid())) < 0)
		cg_sd_lib.unref(m);
	if (q < 0) {
		bw_fail(err, -q, "build the request for unit `%s`", unit);
	} else {
		_cleanup_free_ char *what = xasprintf("move into unit `%s`", unit);
		q = cg_sd_send(&c, m, NULL, NULL, what, err);
	}
	cg_sd_conn_close(&c);
	return q < 0 ? -1 : 0;
}

#else /* !HAVE_SD_BUS */

int cg_sd_user_scope(const char *unit, const char *desc, struct bw_error *err)
{
	return bw_fail(err, 0, "this bulwark was built without sd-bus (libsystemd-dev)");
}

int cg_sd_user_attach(const char *unit, const char *sub, struct bw_error *err)
{
	return bw_fail(err, 0, "this bulwark was built without sd-bus (libsystemd-dev)");
}
#endif
