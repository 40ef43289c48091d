/* The sd-bus binding of the systemd driver: libsystemd.so.0 loaded at run time (root's own
 * copy), the connection to the system's manager, method calls and their errors, and the wait
 * for a job's JobRemoved signal. */
#include "config.h"

#ifdef HAVE_SD_BUS
#include <dlfcn.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cg_systemd_internal.h"
#include "common/util.h"

#define SD_PRIVATE "/run/systemd/private"
#define SD_SYSTEM_BUS "/run/dbus/system_bus_socket"
#define SD_TIMEOUT_US (30ull * 1000000ull)

struct cg_sd_lib_fns cg_sd_lib;

/* By absolute path, root's and writable by root alone: the soname would be looked up
 * along LD_LIBRARY_PATH, which the caller of a root process controls. */
static void *open_lib(void)
{
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
	return lib;
}

int cg_sd_load_lib(struct bw_error *err)
{
	static void *h;
	if (h != NULL)
		return 0;
	void *lib = open_lib();
	if (lib == NULL)
		return bw_fail(err, 0,
			       "--systemd-cgroup: cannot load libsystemd.so.0 (root's, from the "
			       "system's library directories)");
	struct {
		void **fn;
		const char *name;
	} syms[] = {
	    {(void **)&cg_sd_lib.new_bus, "sd_bus_new"},
	    {(void **)&cg_sd_lib.set_address, "sd_bus_set_address"},
	    {(void **)&cg_sd_lib.set_bus_client, "sd_bus_set_bus_client"},
	    {(void **)&cg_sd_lib.set_fd, "sd_bus_set_fd"},
	    {(void **)&cg_sd_lib.start, "sd_bus_start"},
	    {(void **)&cg_sd_lib.close_unref, "sd_bus_flush_close_unref"},
	    {(void **)&cg_sd_lib.new_call, "sd_bus_message_new_method_call"},
	    {(void **)&cg_sd_lib.append, "sd_bus_message_append"},
	    {(void **)&cg_sd_lib.append_array, "sd_bus_message_append_array"},
	    {(void **)&cg_sd_lib.open, "sd_bus_message_open_container"},
	    {(void **)&cg_sd_lib.close, "sd_bus_message_close_container"},
	    {(void **)&cg_sd_lib.read, "sd_bus_message_read"},
	    {(void **)&cg_sd_lib.unref, "sd_bus_message_unref"},
	    {(void **)&cg_sd_lib.call, "sd_bus_call"},
	    {(void **)&cg_sd_lib.error_free, "sd_bus_error_free"},
	    {(void **)&cg_sd_lib.error_has_name, "sd_bus_error_has_name"},
	    {(void **)&cg_sd_lib.match_signal, "sd_bus_match_signal"},
	    {(void **)&cg_sd_lib.process, "sd_bus_process"},
	    {(void **)&cg_sd_lib.wait, "sd_bus_wait"},
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

void cg_sd_conn_close(struct cg_sd_conn *c)
{
	if (c->bus != NULL)
		cg_sd_lib.close_unref(c->bus);
	c->bus = NULL;
}

/* systemd's own socket when we are root (no bus daemon in between, as systemctl does), else
 * the system bus. Fixed paths: the environment does not choose whom a root runtime asks to
 * make cgroups. */
int cg_sd_conn_open(struct cg_sd_conn *c, struct bw_error *err)
{
	if (cg_sd_load_lib(err) < 0)
		return -1;
	bool priv = geteuid() == 0 && access(SD_PRIVATE, F_OK) == 0;
	if (!priv && access(SD_SYSTEM_BUS, F_OK) < 0)
		return bw_fail(err, 0,
			       "--systemd-cgroup: systemd is not running on this host (neither %s "
			       "nor %s exists)",
			       SD_PRIVATE, SD_SYSTEM_BUS);
	const char *addr = priv ? "unix:path=" SD_PRIVATE : "unix:path=" SD_SYSTEM_BUS;
	int r = cg_sd_lib.new_bus(&c->bus);
	if (r >= 0)
		r = cg_sd_lib.set_address(c->bus, addr);
	if (r >= 0 && !priv)
		r = cg_sd_lib.set_bus_client(c->bus, 1);
	if (r >= 0)
		r = cg_sd_lib.start(c->bus);
	if (r < 0) {
		cg_sd_conn_close(c);
		return bw_fail(err, -r, "--systemd-cgroup: connect to systemd at %s",
			       priv ? SD_PRIVATE : SD_SYSTEM_BUS);
	}
	return 0;
}

int cg_sd_new_call(struct cg_sd_conn *c, const char *method, sd_bus_message **m)
{
	return cg_sd_lib.new_call(c->bus, m, "org.freedesktop.systemd1",
				  "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
				  method);
}

/* Send m; on a D-Bus error, its name (when want_name is given and matches, 1 is returned
 * instead of failing) or the message goes into err with what as context. */
int cg_sd_send(struct cg_sd_conn *c, sd_bus_message *m, const char *want_name,
	       sd_bus_message **reply, const char *what, struct bw_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = cg_sd_lib.call(c->bus, m, SD_TIMEOUT_US, &e, reply);
	cg_sd_lib.unref(m);
	if (r >= 0)
		return 0;
	if (want_name != NULL && cg_sd_lib.error_has_name(&e, want_name)) {
		cg_sd_lib.error_free(&e);
		return 1;
	}
	if (e.message != NULL)
		bw_fail(err, 0, "%s: %s", what, e.message);
	else
		bw_fail(err, -r, "%s", what);
	cg_sd_lib.error_free(&e);
	return -1;
}

static int on_job_removed(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	struct cg_sd_job *w = ud;
	uint32_t id;
	const char *path, *unit, *result;
	if (cg_sd_lib.read(m, "uoss", &id, &path, &unit, &result) >= 0 &&
	    strcmp(path, w->job) == 0) {
		w->done = true;
		snprintf(w->result, sizeof(w->result), "%s", result);
	}
	return 0;
}

/* Subscribe (the system bus sends job signals only to subscribers) and match JobRemoved, before
 * the call that makes the job, so its end cannot be missed. */
int cg_sd_watch_jobs(struct cg_sd_conn *c, struct cg_sd_job *w, struct bw_error *err)
{
	sd_bus_message *m = NULL;
	int r = cg_sd_lib.match_signal(
	    c->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	    "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, w);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: watch systemd's jobs");
	if ((r = cg_sd_new_call(c, "Subscribe", &m)) < 0)
		return bw_fail(err, -r, "--systemd-cgroup: subscribe to systemd's signals");
	return cg_sd_send(c, m, NULL, NULL, "--systemd-cgroup: subscribe to systemd's signals",
			  err);
}

int cg_sd_job_of(sd_bus_message *reply, struct cg_sd_job *w, struct bw_error *err)
{
	const char *job = NULL;
	int r = cg_sd_lib.read(reply, "o", &job);
	if (r < 0 || strlen(job) >= sizeof(w->job)) {
		cg_sd_lib.unref(reply);
		return bw_fail(err, r < 0 ? -r : 0, "--systemd-cgroup: systemd's job reply");
	}
	snprintf(w->job, sizeof(w->job), "%s", job);
	cg_sd_lib.unref(reply);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cg_sd_wait_job(struct cg_sd_conn *c, struct cg_sd_job *w, const char *unit,
		   struct bw_error *err)
{
	uint64_t end = now_us() + SD_TIMEOUT_US;
	while (!w->done) {
		int r = cg_sd_lib.process(c->bus, NULL);
		if (r < 0)
			return bw_fail(err, -r, "--systemd-cgroup: wait for the job of unit `%s`",
				       unit);
		if (r > 0)
			continue;
		uint64_t now = now_us();
		if (now >= end)
			return bw_fail(err, ETIMEDOUT,
				       "--systemd-cgroup: wait for the job of unit `%s`", unit);
		r = cg_sd_lib.wait(c->bus, end - now);
		if (r < 0 && r != -EINTR)
			return bw_fail(err, -r, "--systemd-cgroup: wait for the job of unit `%s`",
				       unit);
	}
	return 0;
}

/* A StartTransientUnit request's end: its property array closed, no auxiliary units; on
 * failure (r < 0) the message is freed and *out NULL. */
int cg_sd_finish_transient(sd_bus_message *m, int r, sd_bus_message **out)
{
	if (r >= 0)
		r = cg_sd_lib.close(m);
	if (r >= 0)
		r = cg_sd_lib.append(m, "a(sa(sv))", 0);
	if (r < 0 && m != NULL)
		cg_sd_lib.unref(m);
	*out = r < 0 ? NULL : m;
	return r;
}

void cg_sd_reset_failed(struct cg_sd_conn *c, const char *unit)
{
	sd_bus_message *m = NULL;
	struct bw_error e = {0};
	if (cg_sd_new_call(c, "ResetFailedUnit", &m) >= 0 && cg_sd_lib.append(m, "s", unit) >= 0)
		cg_sd_send(c, m, "org.freedesktop.systemd1.NoSuchUnit", NULL, "reset", &e);
	else if (m != NULL)
		cg_sd_lib.unref(m);
}
#endif
