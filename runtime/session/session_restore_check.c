/* What `session restore` accepts from an image directory, which is hostile input: session.json
 * parsed and bounded, and config.json held to what `session create --checkpointable` makes
 * (no capabilities, no_new_privs, seccomp, every namespace of its own on one id range, only
 * the minimal view's read-only binds). Pure: no file is opened here. docs/sessions.md,
 * "restore". */
#include "runtime/session/session_restore.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/util.h"
#include "profiles/apparmor.h"
#include "profiles/landlock.h"
#include "runtime/idpool.h"
#include "runtime/init_reaper.h"
#include "runtime/session/session.h"

#define DAY_MS 86400000LL

static int meta_int(yajl_val root, const char *key, long long lo, long long hi, long long *out,
		    struct bw_error *err)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);
	if (v == NULL || !YAJL_IS_INTEGER(v))
		return bw_fail(err, 0, "session.json: %s: missing or not an integer", key);
	long long n = YAJL_GET_INTEGER(v);
	if (n < lo || n > hi)
		return bw_fail(err, 0, "session.json: %s: %lld is out of range (%lld to %lld)", key,
			       n, lo, hi);
	*out = n;
	return 0;
}

int session_meta_parse(const char *text, size_t len, struct session_meta *m, struct bw_error *err)
{
	char ebuf[128] = "";
	memset(m, 0, sizeof(*m));
	if (len > SESSION_META_MAX || strlen(text) != len)
		return bw_fail(err, 0, "session.json: larger than %d bytes or holds a NUL",
			       SESSION_META_MAX);
	yajl_val root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (root == NULL || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return bw_fail(err, 0, "session.json: not a JSON object%s%s", ebuf[0] ? ": " : "",
			       ebuf);
	}
	long long version = 0;
	int r = meta_int(root, "version", 1, 1, &version, err);
	if (r == 0)
		r = meta_int(root, "lifetime_left_ms", 0, 365 * DAY_MS, &m->lifetime_left_ms, err);
	if (r == 0)
		r = meta_int(root, "lifetime_ms", 0, 365 * DAY_MS, &m->lifetime_ms, err);
	if (r == 0)
		r = meta_int(root, "idle_timeout_ms", 0, 365 * DAY_MS, &m->idle_timeout_ms, err);
	if (r == 0 && m->lifetime_left_ms > m->lifetime_ms)
		r = bw_fail(err, 0, "session.json: lifetime_left_ms: more than lifetime_ms");
	if (r == 0 && m->lifetime_ms > 0 && m->lifetime_left_ms == 0)
		r = bw_fail(err, 0, "session.json: lifetime_left_ms: 0 with a lifetime");
	yajl_tree_free(root);
	return r;
}

/* The minimal view's binds (sandbox_view.c), each the host's own path, read-only. */
static bool view_bind(const char *dst)
{
	static const char *const view[] = {"/usr",   "/bin",   "/sbin",	  "/lib",
					   "/lib32", "/lib64", "/libx32", "/etc"};
	for (size_t i = 0; i < ARRAY_SIZE(view); i++)
		if (strcmp(dst, view[i]) == 0)
			return true;
	return false;
}

static bool is_bind(const struct oci_mount *m)
{
	return (m->type != NULL && strcmp(m->type, "bind") == 0) ||
	       strv_contains(m->options, "bind") || strv_contains(m->options, "rbind");
}

static int check_mounts(const struct oci_spec *spec, struct bw_error *err)
{
	static const char *const kinds[] = {"proc", "sysfs", "tmpfs", "devpts", "mqueue"};
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		bool bind = is_bind(m), known = false;
		for (size_t k = 0; !bind && !known && k < ARRAY_SIZE(kinds); k++)
			known = m->type != NULL && strcmp(m->type, kinds[k]) == 0;
		if (!bind && !known)
			return bw_fail(err, 0,
				       "config.json: mounts[%zu]: type `%s` is not one a "
				       "session mounts",
				       i, m->type ? m->type : "");
		if (!bind)
			continue;
		bool init = strcmp(m->destination, INIT_SESSION_EXE) == 0;
		if (!init && (!view_bind(m->destination) || m->source == NULL ||
			      strcmp(m->source, m->destination) != 0))
			return bw_fail(
			    err, 0,
			    "config.json: mounts[%zu]: a bind of `%s` at `%s`: a restored "
			    "session gets only the minimal view's binds of the host",
			    i, m->source ? m->source : "", m->destination);
		if (!strv_contains(m->options, "ro") || strv_contains(m->options, "rw"))
			return bw_fail(err, 0,
				       "config.json: mounts[%zu]: the bind at `%s` is not "
				       "read-only",
				       i, m->destination);
	}
	return 0;
}

static int check_caps(const struct oci_process *p, struct bw_error *err)
{
	static const char *const names[] = {"bounding", "effective", "inheritable", "permitted",
					    "ambient"};
	for (int s = 0; s < OCI_CAP_NSETS; s++)
		if (p->caps.sets[s] != NULL && p->caps.sets[s][0] != NULL)
			return bw_fail(err, 0,
				       "config.json: process.capabilities.%s: a session has "
				       "no capabilities (asks for %s)",
				       names[s], p->caps.sets[s][0]);
	if (!p->no_new_privileges)
		return bw_fail(err, 0, "config.json: process.noNewPrivileges: a session has it");
	return 0;
}

/* One range of bulwark's pool for both uids and gids, the session's own. */
static int check_ids(const struct oci_spec *spec, uint32_t *base, struct bw_error *err)
{
	const struct oci_linux *l = &spec->linux;
	if (l->n_uid_mappings != 1 || l->n_gid_mappings != 1)
		return bw_fail(err, 0, "config.json: linux.uidMappings: a session has one range");
	const struct oci_id_mapping *u = &l->uid_mappings[0], *g = &l->gid_mappings[0];
	if (u->container_id != 0 || u->size != IDPOOL_RANGE || g->container_id != 0 ||
	    g->size != IDPOOL_RANGE || g->host_id != u->host_id || u->host_id < IDPOOL_BASE ||
	    (u->host_id - IDPOOL_BASE) % IDPOOL_RANGE != 0 ||
	    (u->host_id - IDPOOL_BASE) / IDPOOL_RANGE >= IDPOOL_SLOTS)
		return bw_fail(err, 0,
			       "config.json: linux.uidMappings: %u+%u is not one of bulwark's "
			       "session id ranges",
			       u->host_id, u->size);
	*base = u->host_id;
	return 0;
}

static int check_linux(const struct oci_spec *spec, struct bw_error *err)
{
	static const enum oci_ns_type want[] = {OCI_NS_PID,   OCI_NS_NETWORK, OCI_NS_MOUNT,
						OCI_NS_IPC,   OCI_NS_UTS,     OCI_NS_USER,
						OCI_NS_CGROUP};
	const struct oci_linux *l = &spec->linux;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct oci_namespace *ns = oci_spec_namespace(spec, want[i]);
		if (ns == NULL || ns->path != NULL)
			return bw_fail(err, 0,
				       "config.json: linux.namespaces: a session has a %s "
				       "namespace of its own",
				       oci_ns_type_name(want[i]));
	}
	if (l->seccomp == NULL)
		return bw_fail(err, 0, "config.json: linux.seccomp: a session has a profile");
	if (l->n_devices > 0)
		return bw_fail(err, 0, "config.json: linux.devices: a session has none (`%s`)",
			       l->devices[0].path);
	if (l->n_sysctl > 0)
		return bw_fail(err, 0, "config.json: linux.sysctl: a session sets none");
	if (l->cgroups_path != NULL && l->cgroups_path[0] != '\0')
		return bw_fail(err, 0, "config.json: linux.cgroupsPath: a session's is bulwark's");
	for (size_t i = 0; i < l->resources.n_devices; i++)
		if (l->resources.devices[i].allow)
			return bw_fail(err, 0,
				       "config.json: linux.resources.devices[%zu]: a session "
				       "allows no device",
				       i);
	if (!l->resources.memory.limit.set || l->resources.memory.limit.v <= 0 ||
	    !l->resources.pids_limit.set || l->resources.pids_limit.v <= 0)
		return bw_fail(err, 0,
			       "config.json: linux.resources: a session has memory and "
			       "pids limits");
	return 0;
}

int session_restore_check_spec(const struct oci_spec *spec, uint32_t *base, struct bw_error *err)
{
	const char *v = oci_spec_annotation(spec, SESSION_ANNOTATION);
	const char *ck = oci_spec_annotation(spec, SESSION_CHECKPOINTABLE_ANNOTATION);
	if (v == NULL || strcmp(v, "1") != 0 || ck == NULL || strcmp(ck, "1") != 0)
		return bw_fail(err, 0,
			       "config.json: annotations: not a checkpointable session's "
			       "(" SESSION_CHECKPOINTABLE_ANNOTATION ")");
	for (int k = 0; k < OCI_HOOK_NKINDS; k++)
		if (spec->hooks.n[k] > 0)
			return bw_fail(err, 0, "config.json: hooks.%s: a session runs no hook",
				       oci_hook_kind_name((enum oci_hook_kind)k));
	if (spec->process.apparmor_profile != NULL)
		return bw_fail(err, 0,
			       "config.json: process.apparmorProfile: a checkpointable "
			       "session has none");
	if (check_caps(&spec->process, err) < 0 || check_linux(spec, err) < 0 ||
	    check_ids(spec, base, err) < 0 || check_mounts(spec, err) < 0)
		return -1;
	return 0;
}
