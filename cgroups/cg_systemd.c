/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope
 * that systemd makes over D-Bus (StartTransientUnit with the init's pid, Delegate=yes and the
 * resource properties systemd knows), changed with SetUnitProperties and stopped at delete.
 * sd-bus (libsystemd.so.0) is loaded at run time, so the static runtime does not link it. */
#include <dlfcn.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

#define SD_PRIVATE "/run/systemd/private"
#define SD_SYSTEM_BUS "/run/dbus/system_bus_socket"
#define SD_TIMEOUT_US (30ull * 1000000ull)

bool cg_systemd_built(void)
{
#ifdef HAVE_SD_BUS
	return true;
#else
	return false;
#endif
}

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
#include <systemd/sd-bus.h>

/* The sd-bus functions used, from libsystemd.so.0. Nothing it returns is freed with our free():
 * in the static runtime the library runs on a libc of its own. */
static struct {
	int (*new_bus)(sd_bus **);
	int (*set_address)(sd_bus *, const char *);
	int (*set_bus_client)(sd_bus *, int);
	int (*set_fd)(sd_bus *, int, int);
	int (*start)(sd_bus *);
	sd_bus *(*close_unref)(sd_bus *);
	int (*new_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *,
			const char *);
	int (*append)(sd_bus_message *, const char *, ...);
	int (*append_array)(sd_bus_message *, char, const void *, size_t);
	int (*open)(sd_bus_message *, char, const char *);
	int (*close)(sd_bus_message *);
	int (*read)(sd_bus_message *, const char *, ...);
	sd_bus_message *(*unref)(sd_bus_message *);
	int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
	void (*error_free)(sd_bus_error *);
	int (*error_has_name)(const sd_bus_error *, const char *);
	int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *,
			    const char *, sd_bus_message_handler_t, void *);
	int (*process)(sd_bus *, sd_bus_message **);
	int (*wait)(sd_bus *, uint64_t);
} L;

static int load_lib(struct bw_error *err)
{
	static void *h;
	if (h != NULL)
		return 0;
	/* By absolute path, root's and writable by root alone: the soname would be looked up
	 * along LD_LIBRARY_PATH, which the caller of a root process controls. */
	static const char *const places[] = {"/usr/lib/x86_64-linux-gnu/libsystemd.so.0",
					     "/lib/x86_64-linux-gnu/libsystemd.so.0",
					     "/usr/lib/aarch64-linux-gnu/libsystemd.so.0",
					     "/lib/aarch64-linux-gnu/libsystemd.so.0",
					     "/usr/lib64/libsystemd.so.0",
					     "/usr/lib/libsystemd.so.0"};
	void *lib = NULL;
	for (size_t i = 0; lib == NULL && i < sizeof(places) / sizeof(places[0]); i++) {
		struct stat st;
		if (stat(places[i], &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
		    !(st.st_mode & (S_IWGRP | S_IWOTH)))
			lib = dlopen(places[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (lib == NULL)
		return bw_fail(err, 0,
			       "--systemd-cgroup: cannot load libsystemd.so.0 (root's, from the "
			       "system's library directories)");
	struct {
		void **fn;
		const char *name;
	} syms[] = {
	    {(void **)&L.new_bus, "sd_bus_new"},
	    {(void **)&L.set_address, "sd_bus_set_address"},
	    {(void **)&L.set_bus_client, "sd_bus_set_bus_client"},
	    {(void **)&L.set_fd, "sd_bus_set_fd"},
	    {(void **)&L.start, "sd_bus_start"},
	    {(void **)&L.close_unref, "sd_bus_flush_close_unref"},
	    {(void **)&L.new_call, "sd_bus_message_new_method_call"},
	    {(void **)&L.append, "sd_bus_message_append"},
	    {(void **)&L.append_array, "sd_bus_message_append_array"},
	    {(void **)&L.open, "sd_bus_message_open_container"},
	    {(void **)&L.close, "sd_bus_message_close_container"},
	    {(void **)&L.read, "sd_bus_message_read"},
	    {(void **)&L.unref, "sd_bus_message_unref"},
	    {(void **)&L.call, "sd_bus_call"},
	    {(void **)&L.error_free, "sd_bus_error_free"},
	    {(void **)&L.error_has_name, "sd_bus_error_has_name"},
	    {(void **)&L.match_signal, "sd_bus_match_signal"},
	    {(void **)&L.process, "sd_bus_process"},
	    {(void **)&L.wait, "sd_bus_wait"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].fn = dlsym(lib, syms[i].name);
		if (*syms[i].fn == NULL) {
			dlclose(lib);
			return bw_fail(err, 0, "--systemd-cgroup: libsystemd.so.0 has no %s",
				       syms[i].name);
		}
	}
	h = lib;
	return 0;
}

struct sd_conn {
	sd_bus *bus;
};

static void conn_close(struct sd_conn *c)
{
	if (c->bus != NULL)
		L.close_unref(c->bus);
	c->bus = NULL;
}

/* systemd's own socket when we are root (no bus daemon in between, as systemctl does), else
 * the system bus. Fixed paths: the environment does not choose whom a root runtime asks to
 * make cgroups. */
static int conn_open(struct sd_conn *c, struct bw_error *err)
{
	if (load_lib(err) < 0)
		return -1;
	bool priv = geteuid() == 0 && access(SD_PRIVATE, F_OK) == 0;
	if (!priv && access(SD_SYSTEM_BUS, F_OK) < 0)
		return bw_fail(err, 0,
			       "--systemd-cgroup: systemd is not running on this host (neither %s "
			       "nor %s exists)",
			       SD_PRIVATE, SD_SYSTEM_BUS);
	const char *addr = priv ? "unix:path=" SD_PRIVATE : "unix:path=" SD_SYSTEM_BUS;
	int r = L.new_bus(&c->bus);
	if (r >= 0)
		r = L.set_address(c->bus, addr);
	if (r >= 0 && !priv)
		r = L.set_bus_client(c->bus, 1);
	if (r >= 0)
		r = L.start(c->bus);
	if (r < 0) {
		conn_close(c);
		return bw_fail(err, -r, "--systemd-cgroup: connect to systemd at %s",
			       priv ? SD_PRIVATE : SD_SYSTEM_BUS);
	}
	return 0;
}

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
static int conn_open_user(struct sd_conn *c, struct bw_error *err)
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
	if (load_lib(err) < 0) {
		close(fd);
		return -1;
	}
	int r = L.new_bus(&c->bus);
	if (r >= 0 && (r = L.set_fd(c->bus, fd, fd)) >= 0)
		fd = -1; /* the bus's now */
	if (fd >= 0)
		close(fd);
	if (r >= 0 && client)
		r = L.set_bus_client(c->bus, 1);
	if (r >= 0)
		r = L.start(c->bus);
	if (r < 0) {
		conn_close(c);
		return bw_fail(err, -r, "connect to `%s`", client ? bus : priv);
	}
	return 0;
}

static int new_call(struct sd_conn *c, const char *method, sd_bus_message **m)
{
	return L.new_call(c->bus, m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			  "org.freedesktop.systemd1.Manager", method);
}

/* Send m; on a D-Bus error, its name (when want_name is given and matches, 1 is returned
 * instead of failing) or the message goes into err with what as context. */
static int bus_send(struct sd_conn *c, sd_bus_message *m, const char *want_name,
		    sd_bus_message **reply, const char *what, struct bw_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = L.call(c->bus, m, SD_TIMEOUT_US, &e, reply);
	L.unref(m);
	if (r >= 0)
		return 0;
	if (want_name != NULL && L.error_has_name(&e, want_name)) {
		L.error_free(&e);
		return 1;
	}
	if (e.message != NULL)
		bw_fail(err, 0, "%s: %s", what, e.message);
	else
		bw_fail(err, -r, "%s", what);
	L.error_free(&e);
	return -1;
}

struct job_wait {
	char job[256];
	bool done;
	char result[32];
};

static int on_job_removed(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	struct job_wait *w = ud;
	uint32_t id;
	const char *path, *unit, *result;
	if (L.read(m, "uoss", &id, &path, &unit, &result) >= 0 && strcmp(path, w->job) == 0) {
		w->done = true;
		snprintf(w->result, sizeof(w->result), "%s", result);
	}
	return 0;
}

/* Subscribe (the system bus sends job signals only to subscribers) and match JobRemoved, before
 * the call that makes the job, so its end cannot be missed. */
static int watch_jobs(struct sd_conn *c, struct job_wait *w, struct bw_error *err)
{
	sd_bus_message *m = NULL;
	int r =
	    L.match_signal(c->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			   "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, w);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: watch systemd's jobs");
	if ((r = new_call(c, "Subscribe", &m)) < 0)
		return bw_fail(err, -r, "--systemd-cgroup: subscribe to systemd's signals");
	return bus_send(c, m, NULL, NULL, "--systemd-cgroup: subscribe to systemd's signals", err);
}

static int job_of(sd_bus_message *reply, struct job_wait *w, struct bw_error *err)
{
	const char *job = NULL;
	int r = L.read(reply, "o", &job);
	if (r < 0 || strlen(job) >= sizeof(w->job)) {
		L.unref(reply);
		return bw_fail(err, r < 0 ? -r : 0, "--systemd-cgroup: systemd's job reply");
	}
	snprintf(w->job, sizeof(w->job), "%s", job);
	L.unref(reply);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int wait_job(struct sd_conn *c, struct job_wait *w, const char *unit, struct bw_error *err)
{
	uint64_t end = now_us() + SD_TIMEOUT_US;
	while (!w->done) {
		int r = L.process(c->bus, NULL);
		if (r < 0)
			return bw_fail(err, -r, "--systemd-cgroup: wait for the job of unit `%s`",
				       unit);
		if (r > 0)
			continue;
		uint64_t now = now_us();
		if (now >= end)
			return bw_fail(err, ETIMEDOUT,
				       "--systemd-cgroup: wait for the job of unit `%s`", unit);
		r = L.wait(c->bus, end - now);
		if (r < 0 && r != -EINTR)
			return bw_fail(err, -r, "--systemd-cgroup: wait for the job of unit `%s`",
				       unit);
	}
	return 0;
}

static int append_props(sd_bus_message *m, const struct cg_sd_prop *p, size_t n)
{
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (p[i].bytes == NULL) {
			r = L.append(m, "(sv)", p[i].name, "t", p[i].u64);
			continue;
		}
		if ((r = L.open(m, 'r', "sv")) < 0 || (r = L.append(m, "s", p[i].name)) < 0 ||
		    (r = L.open(m, 'v', "ay")) < 0 ||
		    (r = L.append_array(m, 'y', p[i].bytes, p[i].nbytes)) < 0 ||
		    (r = L.close(m)) < 0)
			break;
		r = L.close(m);
	}
	return r;
}

static bool is_v2(const struct cg_manager *cg)
{
	return cg->mode == CG_MODE_UNIFIED;
}

/* A StartTransientUnit request's end: its property array closed, no auxiliary units; on
 * failure (r < 0) the message is freed and *out NULL. */
static int finish_transient(sd_bus_message *m, int r, sd_bus_message **out)
{
	if (r >= 0)
		r = L.close(m);
	if (r >= 0)
		r = L.append(m, "a(sa(sv))", 0);
	if (r < 0 && m != NULL)
		L.unref(m);
	*out = r < 0 ? NULL : m;
	return r;
}

static int start_msg(struct sd_conn *c, const struct cg_manager *cg, pid_t pid,
		     const struct cg_sd_prop *p, size_t n, sd_bus_message **out)
{
	sd_bus_message *m = NULL;
	const char *acct[] = {"MemoryAccounting", "CPUAccounting", "TasksAccounting",
			      is_v2(cg) ? "IOAccounting" : "BlockIOAccounting"};
	int r = new_call(c, "StartTransientUnit", &m);
	if (r >= 0)
		r = L.append(m, "ss", cg->sd_unit, "fail");
	if (r >= 0)
		r = L.open(m, 'a', "(sv)");
	if (r >= 0)
		r = L.append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", cg->sd_desc, "Slice",
			     "s", cg->sd_slice, "Delegate", "b", 1, "DefaultDependencies", "b", 0,
			     "PIDs", "au", 1, (uint32_t)pid);
	for (size_t i = 0; i < ARRAY_SIZE(acct) && r >= 0; i++)
		r = L.append(m, "(sv)", acct[i], "b", 1);
	if (r >= 0)
		r = append_props(m, p, n);
	return finish_transient(m, r, out);
}

static int unit_description(struct sd_conn *c, const char *unit, char **out, struct bw_error *err);

static void reset_failed(struct sd_conn *c, const char *unit)
{
	sd_bus_message *m = NULL;
	struct bw_error e = {0};
	if (new_call(c, "ResetFailedUnit", &m) >= 0 && L.append(m, "s", unit) >= 0)
		bus_send(c, m, "org.freedesktop.systemd1.NoSuchUnit", NULL, "reset", &e);
	else if (m != NULL)
		L.unref(m);
}

int cg_sd_check(struct bw_error *err)
{
	struct sd_conn c = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (conn_open(&c, err) < 0)
		return -1;
	int r = L.new_call(c.bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			   "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0)
		r = L.append(m, "ss", "org.freedesktop.systemd1.Manager", "Version");
	if (r < 0) {
		if (m != NULL)
			L.unref(m);
		conn_close(&c);
		return bw_fail(err, -r, "--systemd-cgroup: ask systemd for its version");
	}
	r = bus_send(&c, m, NULL, &reply, "--systemd-cgroup: systemd does not answer", err);
	if (reply != NULL)
		L.unref(reply);
	conn_close(&c);
	return r < 0 ? -1 : 0;
}

int cg_sd_start(struct cg_manager *cg, pid_t pid, const struct oci_resources *r,
		struct bw_error *err)
{
	struct sd_conn c = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	struct job_wait w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_free_ char *what = NULL;
	int q = -1;
	if (cg_sd_props(r, is_v2(cg), &p, &n, err) < 0)
		return -1;
	if (conn_open(&c, err) < 0)
		goto out;
	/* A failed unit of the same name would block the name: reset when it was this very
	 * container's (a crashed earlier create of the same state directory), never another's. */
	char *desc = NULL;
	struct bw_error de = {0};
	if (unit_description(&c, cg->sd_unit, &desc, &de) == 0 && strcmp(desc, cg->sd_desc) == 0)
		reset_failed(&c, cg->sd_unit);
	free(desc);
	if (watch_jobs(&c, &w, err) < 0)
		goto out;
	if ((q = start_msg(&c, cg, pid, p, n, &m)) < 0) {
		bw_fail(err, -q, "--systemd-cgroup: build the request for unit `%s`", cg->sd_unit);
		q = -1;
		goto out;
	}
	what = xasprintf("linux.cgroupsPath: systemd refused to start unit `%s`", cg->sd_unit);
	q = bus_send(&c, m, "org.freedesktop.systemd1.UnitExists", &reply, what, err);
	if (q == 1) {
		q = bw_fail(err, EEXIST, "linux.cgroupsPath: unit `%s` already exists",
			    cg->sd_unit);
		goto out;
	}
	if (q < 0 || (q = job_of(reply, &w, err)) < 0 ||
	    (q = wait_job(&c, &w, cg->sd_unit, err)) < 0)
		goto out;
	if (strcmp(w.result, "done") != 0) {
		reset_failed(&c, cg->sd_unit);
		q = bw_fail(err, 0, "linux.cgroupsPath: unit `%s` did not start (job %s)",
			    cg->sd_unit, w.result);
	}
out:
	conn_close(&c);
	cg_sd_props_free(p, n);
	return q < 0 ? -1 : 0;
}

int cg_sd_set(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	struct sd_conn c = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	sd_bus_message *m = NULL;
	_cleanup_free_ char *what = NULL;
	int q = -1;
	if (cg_sd_props(r, is_v2(cg), &p, &n, err) < 0)
		return -1;
	if (n == 0) {
		free(p);
		return 0;
	}
	if (conn_open(&c, err) < 0)
		goto out;
	q = new_call(&c, "SetUnitProperties", &m);
	if (q >= 0)
		q = L.append(m, "sb", cg->sd_unit, 1);
	if (q >= 0)
		q = L.open(m, 'a', "(sv)");
	if (q >= 0)
		q = append_props(m, p, n);
	if (q >= 0)
		q = L.close(m);
	if (q < 0) {
		if (m != NULL)
			L.unref(m);
		q = bw_fail(err, -q, "--systemd-cgroup: build the request for unit `%s`",
			    cg->sd_unit);
		goto out;
	}
	what = xasprintf("systemd refused the properties of unit `%s`", cg->sd_unit);
	q = bus_send(&c, m, NULL, NULL, what, err);
out:
	conn_close(&c);
	cg_sd_props_free(p, n);
	return q < 0 ? -1 : 0;
}

/* DevicePolicy and DeviceAllow: an empty DeviceAllow first, which clears what the unit had (a
 * later one appends), as runc does. */
static int append_devices(sd_bus_message *m, bool allow_all, const struct cg_sd_dev *d, size_t n)
{
	int r = L.append(m, "(sv)(sv)", "DeviceAllow", "a(ss)", 0, "DevicePolicy", "s",
			 allow_all ? "auto" : "strict");
	if (r >= 0)
		r = L.open(m, 'r', "sv");
	if (r >= 0)
		r = L.append(m, "s", "DeviceAllow");
	if (r >= 0)
		r = L.open(m, 'v', "a(ss)");
	if (r >= 0)
		r = L.open(m, 'a', "(ss)");
	for (size_t i = 0; i < n && r >= 0; i++)
		r = L.append(m, "(ss)", d[i].path, d[i].perms);
	for (int k = 0; k < 3 && r >= 0; k++)
		r = L.close(m);
	return r;
}

int cg_sd_set_devices(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	_cleanup_free_ struct cg_sd_dev *d = NULL;
	_cleanup_free_ char *what = NULL;
	struct sd_conn c = {0};
	sd_bus_message *m = NULL;
	size_t nr = 0, nd = 0;
	bool all = false;
	if (cg_dev_rules_build(r, &rules, &nr, err) < 0 ||
	    cg_devices_sd_plan(rules, nr, &all, &d, &nd, err) < 0 || conn_open(&c, err) < 0)
		return -1;
	int q = new_call(&c, "SetUnitProperties", &m);
	if (q >= 0)
		q = L.append(m, "sb", cg->sd_unit, 1);
	if (q >= 0)
		q = L.open(m, 'a', "(sv)");
	if (q >= 0)
		q = append_devices(m, all, d, nd);
	if (q >= 0)
		q = L.close(m);
	if (q < 0) {
		if (m != NULL)
			L.unref(m);
		conn_close(&c);
		return bw_fail(err, -q, "--systemd-cgroup: build the device request for unit `%s`",
			       cg->sd_unit);
	}
	what = xasprintf("linux.resources.devices: systemd refused the device policy of unit `%s`",
			 cg->sd_unit);
	q = bus_send(&c, m, NULL, NULL, what, err);
	conn_close(&c);
	return q < 0 ? -1 : 0;
}

/* GetUnit, then the unit's Description, whole, in *out (the caller frees it): 0, or 1 when
 * there is no such unit. */
static int unit_description(struct sd_conn *c, const char *unit, char **out, struct bw_error *err)
{
	sd_bus_message *m = NULL, *reply = NULL;
	const char *path = NULL, *desc = NULL;
	int r = new_call(c, "GetUnit", &m);
	if (r >= 0 && (r = L.append(m, "s", unit)) < 0)
		L.unref(m);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: ask for unit `%s`", unit);
	r = bus_send(c, m, "org.freedesktop.systemd1.NoSuchUnit", &reply, "GetUnit", err);
	if (r != 0)
		return r;
	_cleanup_free_ char *p = NULL;
	if ((r = L.read(reply, "o", &path)) >= 0)
		p = xstrdup(path);
	L.unref(reply);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: GetUnit reply");
	r = L.new_call(c->bus, &m, "org.freedesktop.systemd1", p, "org.freedesktop.DBus.Properties",
		       "Get");
	if (r >= 0 && (r = L.append(m, "ss", "org.freedesktop.systemd1.Unit", "Description")) < 0)
		L.unref(m);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: ask for unit `%s`", unit);
	if (bus_send(c, m, NULL, &reply, "unit Description", err) < 0)
		return -1;
	r = L.read(reply, "v", "s", &desc);
	if (r >= 0)
		*out = xstrdup(desc);
	L.unref(reply);
	return r < 0 ? bw_fail(err, -r, "--systemd-cgroup: unit Description") : 0;
}

int cg_sd_owner_check(struct cg_manager *cg, struct bw_error *err)
{
	struct sd_conn c = {0};
	_cleanup_free_ char *desc = NULL;
	if (conn_open(&c, err) < 0)
		return -1;
	int r = unit_description(&c, cg->sd_unit, &desc, err);
	conn_close(&c);
	if (r < 0)
		return -1;
	if (r == 1) /* no such unit */
		return 0;
	return strcmp(desc, cg->sd_desc) == 0 ? 0 : 1;
}

int cg_sd_stop(struct cg_manager *cg, struct bw_error *err)
{
	struct sd_conn c = {0};
	struct job_wait w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (conn_open(&c, err) < 0)
		return -1;
	int q = watch_jobs(&c, &w, err);
	if (q >= 0 && (q = new_call(&c, "StopUnit", &m)) >= 0 &&
	    (q = L.append(m, "ss", cg->sd_unit, "replace")) < 0)
		L.unref(m);
	if (q < 0 && err->msg[0] == '\0')
		bw_fail(err, -q, "--systemd-cgroup: stop unit `%s`", cg->sd_unit);
	if (q >= 0) {
		_cleanup_free_ char *what = xasprintf("stop unit `%s`", cg->sd_unit);
		q = bus_send(&c, m, "org.freedesktop.systemd1.NoSuchUnit", &reply, what, err);
		if (q == 0)
			q = job_of(reply, &w, err) < 0 || wait_job(&c, &w, cg->sd_unit, err) < 0
				? -1
				: 0;
	}
	if (q >= 0)
		reset_failed(&c, cg->sd_unit);
	conn_close(&c);
	return q < 0 ? -1 : 0;
}

static int user_scope_msg(struct sd_conn *c, const char *unit, const char *desc,
			  sd_bus_message **out)
{
	sd_bus_message *m = NULL;
	int r = new_call(c, "StartTransientUnit", &m);
	if (r >= 0)
		r = L.append(m, "ss", unit, "fail");
	if (r >= 0)
		r = L.open(m, 'a', "(sv)");
	/* CollectMode: a scope that failed is unloaded too, never left listed. */
	if (r >= 0)
		r = L.append(m, "(sv)(sv)(sv)(sv)", "Description", "s", desc, "Delegate", "b", 1,
			     "CollectMode", "s", "inactive-or-failed", "PIDs", "au", 1,
			     (uint32_t)getpid());
	if (r >= 0)
		r = L.append(m, "(sv)(sv)(sv)", "MemoryAccounting", "b", 1, "CPUAccounting", "b", 1,
			     "TasksAccounting", "b", 1);
	return finish_transient(m, r, out);
}

int cg_sd_user_scope(const char *unit, const char *desc, struct bw_error *err)
{
	struct sd_conn c = {0};
	struct job_wait w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (!cg_systemd_unit_valid(unit))
		return bw_fail(err, 0, "systemd unit `%s`: not a scope name", unit);
	if (conn_open_user(&c, err) < 0)
		return -1;
	int q = watch_jobs(&c, &w, err);
	if (q >= 0 && (q = user_scope_msg(&c, unit, desc, &m)) < 0)
		bw_fail(err, -q, "build the request for unit `%s`", unit);
	if (q >= 0) {
		_cleanup_free_ char *what = xasprintf("start unit `%s`", unit);
		q = bus_send(&c, m, NULL, &reply, what, err);
	}
	if (q >= 0)
		q = job_of(reply, &w, err) < 0 || wait_job(&c, &w, unit, err) < 0 ? -1 : 0;
	if (q >= 0 && strcmp(w.result, "done") != 0) {
		reset_failed(&c, unit);
		q = bw_fail(err, 0, "unit `%s` did not start (job %s)", unit, w.result);
	}
	conn_close(&c);
	return q < 0 ? -1 : 0;
}

int cg_sd_user_attach(const char *unit, const char *sub, struct bw_error *err)
{
	struct sd_conn c = {0};
	sd_bus_message *m = NULL;
	if (conn_open_user(&c, err) < 0)
		return -1;
	int q = new_call(&c, "AttachProcessesToUnit", &m);
	if (q >= 0 && (q = L.append(m, "ssau", unit, sub, 1, (uint32_t)getpid())) < 0)
		L.unref(m);
	if (q < 0) {
		bw_fail(err, -q, "build the request for unit `%s`", unit);
	} else {
		_cleanup_free_ char *what = xasprintf("move into unit `%s`", unit);
		q = bus_send(&c, m, NULL, NULL, what, err);
	}
	conn_close(&c);
	return q < 0 ? -1 : 0;
}

#else /* !HAVE_SD_BUS */

static int no_sd_bus(struct bw_error *err)
{
	return bw_fail(err, 0,
		       "--systemd-cgroup: this bulwark was built without sd-bus "
		       "(libsystemd-dev); use the cgroupfs driver");
}

int cg_sd_check(struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_start(struct cg_manager *cg, pid_t pid, const struct oci_resources *r,
		struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_set(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_stop(struct cg_manager *cg, struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_owner_check(struct cg_manager *cg, struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_set_devices(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	return no_sd_bus(err);
}

int cg_sd_user_scope(const char *unit, const char *desc, struct bw_error *err)
{
	return bw_fail(err, 0, "this bulwark was built without sd-bus (libsystemd-dev)");
}

int cg_sd_user_attach(const char *unit, const char *sub, struct bw_error *err)
{
	return bw_fail(err, 0, "this bulwark was built without sd-bus (libsystemd-dev)");
}
#endif
