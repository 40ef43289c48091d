/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope
 * that systemd makes over D-Bus (StartTransientUnit with the init's pid, Delegate=yes and the
 * resource properties systemd knows), changed with SetUnitProperties and stopped at delete.
 * sd-bus (libsystemd.so.0) is loaded at run time, so the static runtime does not link it
 * (cg_systemd_bus.c); the properties come from cg_systemd_props.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cgroups/cg_internal.h"
#include "cgroups/cg_systemd_internal.h"
#include "common/cleanup.h"
#include "common/util.h"

bool cg_systemd_built(void)
{
#ifdef HAVE_SD_BUS
	return true;
#else
	return false;
#endif
}

#ifdef HAVE_SD_BUS
static int append_props(sd_bus_message *m, const struct cg_sd_prop *p, size_t n)
{
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (p[i].bytes == NULL) {
			r = cg_sd_lib.append(m, "(sv)", p[i].name, "t", p[i].u64);
			continue;
		}
		if ((r = cg_sd_lib.open(m, 'r', "sv")) < 0 ||
		    (r = cg_sd_lib.append(m, "s", p[i].name)) < 0 ||
		    (r = cg_sd_lib.open(m, 'v', "ay")) < 0 ||
		    (r = cg_sd_lib.append_array(m, 'y', p[i].bytes, p[i].nbytes)) < 0 ||
		    (r = cg_sd_lib.close(m)) < 0)
			break;
		r = cg_sd_lib.close(m);
	}
	return r;
}

static bool is_v2(const struct cg_manager *cg)
{
	return cg->mode == CG_MODE_UNIFIED;
}

static int start_msg(struct cg_sd_conn *c, const struct cg_manager *cg, pid_t pid,
		     const struct cg_sd_prop *p, size_t n, sd_bus_message **out)
{
	sd_bus_message *m = NULL;
	const char *acct[] = {"MemoryAccounting", "CPUAccounting", "TasksAccounting",
			      is_v2(cg) ? "IOAccounting" : "BlockIOAccounting"};
	int r = cg_sd_new_call(c, "StartTransientUnit", &m);
	if (r >= 0)
		r = cg_sd_lib.append(m, "ss", cg->sd_unit, "fail");
	if (r >= 0)
		r = cg_sd_lib.open(m, 'a', "(sv)");
	if (r >= 0)
		r = cg_sd_lib.append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", cg->sd_desc,
				     "Slice", "s", cg->sd_slice, "Delegate", "b", 1,
				     "DefaultDependencies", "b", 0, "PIDs", "au", 1, (uint32_t)pid);
	for (size_t i = 0; i < ARRAY_SIZE(acct) && r >= 0; i++)
		r = cg_sd_lib.append(m, "(sv)", acct[i], "b", 1);
	if (r >= 0)
		r = append_props(m, p, n);
	return cg_sd_finish_transient(m, r, out);
}

static int unit_description(struct cg_sd_conn *c, const char *unit, char **out,
			    struct bw_error *err);

int cg_sd_check(struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (cg_sd_conn_open(&c, err) < 0)
		return -1;
	int r =
	    cg_sd_lib.new_call(c.bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0)
		r = cg_sd_lib.append(m, "ss", "org.freedesktop.systemd1.Manager", "Version");
	if (r < 0) {
		if (m != NULL)
			cg_sd_lib.unref(m);
		cg_sd_conn_close(&c);
		return bw_fail(err, -r, "--systemd-cgroup: ask systemd for its version");
	}
	r = cg_sd_send(&c, m, NULL, &reply, "--systemd-cgroup: systemd does not answer", err);
	if (reply != NULL)
		cg_sd_lib.unref(reply);
	cg_sd_conn_close(&c);
	return r < 0 ? -1 : 0;
}

/* A failed unit of the same name would block the name: reset when it was this very
 * container's (a crashed earlier create of the same state directory), never another's. */
static void reset_if_ours(struct cg_sd_conn *c, const struct cg_manager *cg)
{
	char *desc = NULL;
	struct bw_error de = {0};
	if (unit_description(c, cg->sd_unit, &desc, &de) == 0 && strcmp(desc, cg->sd_desc) == 0)
		cg_sd_reset_failed(c, cg->sd_unit);
	free(desc);
}

int cg_sd_start(struct cg_manager *cg, pid_t pid, const struct oci_resources *r,
		struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	struct cg_sd_job w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_free_ char *what = NULL;
	int q = -1;
	if (cg_sd_props(r, is_v2(cg), &p, &n, err) < 0)
		return -1;
	if (cg_sd_conn_open(&c, err) < 0)
		goto out;
	reset_if_ours(&c, cg);
	if (cg_sd_watch_jobs(&c, &w, err) < 0)
		goto out;
	if ((q = start_msg(&c, cg, pid, p, n, &m)) < 0) {
		bw_fail(err, -q, "--systemd-cgroup: build the request for unit `%s`", cg->sd_unit);
		q = -1;
		goto out;
	}
	what = xasprintf("linux.cgroupsPath: systemd refused to start unit `%s`", cg->sd_unit);
	q = cg_sd_send(&c, m, "org.freedesktop.systemd1.UnitExists", &reply, what, err);
	if (q == 1) {
		q = bw_fail(err, EEXIST, "linux.cgroupsPath: unit `%s` already exists",
			    cg->sd_unit);
		goto out;
	}
	if (q < 0 || (q = cg_sd_job_of(reply, &w, err)) < 0 ||
	    (q = cg_sd_wait_job(&c, &w, cg->sd_unit, err)) < 0)
		goto out;
	if (strcmp(w.result, "done") != 0) {
		cg_sd_reset_failed(&c, cg->sd_unit);
		q = bw_fail(err, 0, "linux.cgroupsPath: unit `%s` did not start (job %s)",
			    cg->sd_unit, w.result);
	}
out:
	cg_sd_conn_close(&c);
	cg_sd_props_free(p, n);
	return q < 0 ? -1 : 0;
}

int cg_sd_set(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	struct cg_sd_conn c = {0};
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
	if (cg_sd_conn_open(&c, err) < 0)
		goto out;
	q = cg_sd_new_call(&c, "SetUnitProperties", &m);
	if (q >= 0)
		q = cg_sd_lib.append(m, "sb", cg->sd_unit, 1);
	if (q >= 0)
		q = cg_sd_lib.open(m, 'a', "(sv)");
	if (q >= 0)
		q = append_props(m, p, n);
	if (q >= 0)
		q = cg_sd_lib.close(m);
	if (q < 0) {
		if (m != NULL)
			cg_sd_lib.unref(m);
		q = bw_fail(err, -q, "--systemd-cgroup: build the request for unit `%s`",
			    cg->sd_unit);
		goto out;
	}
	what = xasprintf("systemd refused the properties of unit `%s`", cg->sd_unit);
	q = cg_sd_send(&c, m, NULL, NULL, what, err);
out:
	cg_sd_conn_close(&c);
	cg_sd_props_free(p, n);
	return q < 0 ? -1 : 0;
}

/* DevicePolicy and DeviceAllow: an empty DeviceAllow first, which clears what the unit had (a
 * later one appends), as runc does. */
static int append_devices(sd_bus_message *m, bool allow_all, const struct cg_sd_dev *d, size_t n)
{
	int r = cg_sd_lib.append(m, "(sv)(sv)", "DeviceAllow", "a(ss)", 0, "DevicePolicy", "s",
				 allow_all ? "auto" : "strict");
	if (r >= 0)
		r = cg_sd_lib.open(m, 'r', "sv");
	if (r >= 0)
		r = cg_sd_lib.append(m, "s", "DeviceAllow");
	if (r >= 0)
		r = cg_sd_lib.open(m, 'v', "a(ss)");
	if (r >= 0)
		r = cg_sd_lib.open(m, 'a', "(ss)");
	for (size_t i = 0; i < n && r >= 0; i++)
		r = cg_sd_lib.append(m, "(ss)", d[i].path, d[i].perms);
	for (int k = 0; k < 3 && r >= 0; k++)
		r = cg_sd_lib.close(m);
	return r;
}

int cg_sd_set_devices(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	_cleanup_free_ struct cg_sd_dev *d = NULL;
	_cleanup_free_ char *what = NULL;
	struct cg_sd_conn c = {0};
	sd_bus_message *m = NULL;
	size_t nr = 0, nd = 0;
	bool all = false;
	if (cg_dev_rules_build(r, &rules, &nr, err) < 0 ||
	    cg_devices_sd_plan(rules, nr, &all, &d, &nd, err) < 0 || cg_sd_conn_open(&c, err) < 0)
		return -1;
	int q = cg_sd_new_call(&c, "SetUnitProperties", &m);
	if (q >= 0)
		q = cg_sd_lib.append(m, "sb", cg->sd_unit, 1);
	if (q >= 0)
		q = cg_sd_lib.open(m, 'a', "(sv)");
	if (q >= 0)
		q = append_devices(m, all, d, nd);
	if (q >= 0)
		q = cg_sd_lib.close(m);
	if (q < 0) {
		if (m != NULL)
			cg_sd_lib.unref(m);
		cg_sd_conn_close(&c);
		return bw_fail(err, -q, "--systemd-cgroup: build the device request for unit `%s`",
			       cg->sd_unit);
	}
	what = xasprintf("linux.resources.devices: systemd refused the device policy of unit `%s`",
			 cg->sd_unit);
	q = cg_sd_send(&c, m, NULL, NULL, what, err);
	cg_sd_conn_close(&c);
	return q < 0 ? -1 : 0;
}

/* GetUnit, then the unit's Description, whole, in *out (the caller frees it): 0, or 1 when
 * there is no such unit. */
static int unit_description(struct cg_sd_conn *c, const char *unit, char **out,
			    struct bw_error *err)
{
	sd_bus_message *m = NULL, *reply = NULL;
	const char *path = NULL, *desc = NULL;
	int r = cg_sd_new_call(c, "GetUnit", &m);
	if (r >= 0 && (r = cg_sd_lib.append(m, "s", unit)) < 0)
		cg_sd_lib.unref(m);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: ask for unit `%s`", unit);
	r = cg_sd_send(c, m, "org.freedesktop.systemd1.NoSuchUnit", &reply, "GetUnit", err);
	if (r != 0)
		return r;
	_cleanup_free_ char *p = NULL;
	if ((r = cg_sd_lib.read(reply, "o", &path)) >= 0)
		p = xstrdup(path);
	cg_sd_lib.unref(reply);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: GetUnit reply");
	r = cg_sd_lib.new_call(c->bus, &m, "org.freedesktop.systemd1", p,
			       "org.freedesktop.DBus.Properties", "Get");
	if (r >= 0 &&
	    (r = cg_sd_lib.append(m, "ss", "org.freedesktop.systemd1.Unit", "Description")) < 0)
		cg_sd_lib.unref(m);
	if (r < 0)
		return bw_fail(err, -r, "--systemd-cgroup: ask for unit `%s`", unit);
	if (cg_sd_send(c, m, NULL, &reply, "unit Description", err) < 0)
		return -1;
	r = cg_sd_lib.read(reply, "v", "s", &desc);
	if (r >= 0)
		*out = xstrdup(desc);
	cg_sd_lib.unref(reply);
	return r < 0 ? bw_fail(err, -r, "--systemd-cgroup: unit Description") : 0;
}

int cg_sd_owner_check(struct cg_manager *cg, struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	_cleanup_free_ char *desc = NULL;
	if (cg_sd_conn_open(&c, err) < 0)
		return -1;
	int r = unit_description(&c, cg->sd_unit, &desc, err);
	cg_sd_conn_close(&c);
	if (r < 0)
		return -1;
	if (r == 1) /* no such unit */
		return 0;
	return strcmp(desc, cg->sd_desc) == 0 ? 0 : 1;
}

int cg_sd_stop(struct cg_manager *cg, struct bw_error *err)
{
	struct cg_sd_conn c = {0};
	struct cg_sd_job w = {0};
	sd_bus_message *m = NULL, *reply = NULL;
	if (cg_sd_conn_open(&c, err) < 0)
		return -1;
	int q = cg_sd_watch_jobs(&c, &w, err);
	if (q >= 0 && (q = cg_sd_new_call(&c, "StopUnit", &m)) >= 0 &&
	    (q = cg_sd_lib.append(m, "ss", cg->sd_unit, "replace")) < 0)
		cg_sd_lib.unref(m);
	if (q < 0 && err->msg[0] == '\0')
		bw_fail(err, -q, "--systemd-cgroup: stop unit `%s`", cg->sd_unit);
	if (q >= 0) {
		_cleanup_free_ char *what = xasprintf("stop unit `%s`", cg->sd_unit);
		q = cg_sd_send(&c, m, "org.freedesktop.systemd1.NoSuchUnit", &reply, what, err);
		if (q == 0)
			q = cg_sd_job_of(reply, &w, err) < 0 ||
				    cg_sd_wait_job(&c, &w, cg->sd_unit, err) < 0
				? -1
				: 0;
	}
	if (q >= 0)
		cg_sd_reset_failed(&c, cg->sd_unit);
	cg_sd_conn_close(&c);
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

#endif
