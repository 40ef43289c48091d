/* A container's audit log (--audit): where it is, its "created" and "exited" events, and the
 * digest of the network policy that the "created" event records. */
#include "runtime/lifecycle.h"

#include <stdint.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/policy.h"
#include "profiles/sha256.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/sandbox/audit.h"

const char *lifecycle_audit_path(const struct global_opts *g, const struct container *c)
{
	if (g != NULL && g->audit != NULL)
		return g->audit;
	const struct state_cleanup *e = state_cleanup_find(&c->state, STATE_CLEANUP_AUDIT);
	return e != NULL ? e->str : NULL;
}

void lifecycle_audit_exit(const struct global_opts *g, const struct container *c, int status,
			  bool timed_out)
{
	const char *path = lifecycle_audit_path(g, c);
	if (path == NULL)
		return;
	struct audit_rec *a = audit_begin(c->id, "exited");
	audit_int(a, "status", status);
	audit_bool(a, "timed_out", timed_out);
	audit_commit_warn(a, path);
}

/* What the network policy was: the host document's bytes and the container's net
 * annotations, hashed, so an audit reader can tell which rules a sandbox ran under. */
static void policy_digest(const struct global_opts *g, const struct oci_spec *spec, char hex[65])
{
	struct sha256_ctx s;
	uint8_t d[SHA256_DIGEST_LEN];
	sha256_init(&s);
	_cleanup_free_ char *doc = NULL;
	size_t len = 0;
	struct bw_error e = {0};
	if (g->policy != NULL && fs_read_file(g->policy, POLICY_MAX_BYTES, &doc, &len, &e) == 0)
		sha256_update(&s, doc, len);
	for (size_t i = 0; i < spec->n_annotations; i++) {
		const struct oci_kv *kv = &spec->annotations[i];
		if (!str_has_prefix(kv->key, POLICY_ANNOTATION_PREFIX))
			continue;
		sha256_update(&s, "\n", 1);
		sha256_update(&s, kv->key, strlen(kv->key) + 1);
		sha256_update(&s, kv->value, strlen(kv->value));
	}
	sha256_final(&s, d);
	sha256_hex(d, hex);
}

void lifecycle_audit_created(const struct global_opts *g, struct container *c,
			     const struct oci_spec *spec, bool firewall, const char *path)
{
	if (path == NULL)
		return;
	const struct oci_resources *r = spec->linux.has_resources ? &spec->linux.resources : NULL;
	struct audit_rec *a = audit_begin(c->id, "created");
	audit_str(a, "bundle", c->state.bundle);
	audit_int(a, "pid", c->state.pid);
	audit_map_open(a, "limits");
	if (r != NULL && r->memory.limit.set)
		audit_int(a, "memory", r->memory.limit.v);
	if (r != NULL && r->cpu.quota.set)
		audit_int(a, "cpu_quota", r->cpu.quota.v);
	if (r != NULL && r->cpu.period.set)
		audit_int(a, "cpu_period", (int64_t)r->cpu.period.v);
	if (r != NULL && r->pids_limit.set)
		audit_int(a, "pids", r->pids_limit.v);
	audit_map_close(a);
	if (firewall) {
		char hex[65];
		policy_digest(g, spec, hex);
		audit_str(a, "network", "policy");
		audit_str(a, "policy_sha256", hex);
	} else {
		audit_str(a, "network",
			  oci_spec_namespace(spec, OCI_NS_NETWORK) ? "private" : "host");
	}
	audit_commit_warn(a, path);
}
