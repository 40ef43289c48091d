/* LinuxResources, from config.json "linux.resources" or an `update --resources` document:
 * device rules, memory, cpu, pids, blockIO, hugepages, network, rdma, unified. Values are
 * range-checked here; the cgroups module maps them to v1 or v2 files. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/spec_internal.h"

static int parse_device_rule(struct jp *p, yajl_val v, void *elem)
{
	struct oci_device_cgroup *d = elem;
	_cleanup_free_ char *type = NULL;
	d->type = 'a';
	d->major = d->minor = -1;
	if (oj_f_bool(p, v, "allow", &d->allow) < 0 || oj_f_string(p, v, "type", &type) < 0 ||
	    oj_f_i64(p, v, "major", -1, UINT32_MAX, &d->major, NULL) < 0 ||
	    oj_f_i64(p, v, "minor", -1, UINT32_MAX, &d->minor, NULL) < 0 ||
	    oj_f_string(p, v, "access", &d->access) < 0)
		return -1;
	if (oj_get(v, "allow") == NULL)
		return jp_fail_at(p, "allow", "required");
	if (type != NULL && (strlen(type) != 1 || strchr("acb", type[0]) == NULL))
		return jp_fail_at(p, "type", "must be one of a, c, b");
	if (type != NULL)
		d->type = type[0];
	/* "" is accepted as runc does: a rule that grants or denies nothing, as the kernel's
	 * devices.allow/deny read it (cg_dev_rules_build drops it). */
	if (d->access != NULL && d->access[strspn(d->access, "rwm")] != '\0')
		return jp_fail_at(p, "access", "must be a subset of \"rwm\"");
	return 0;
}

/* Memory sizes are bytes, with -1 meaning "unlimited". */
static int parse_memory(struct jp *p, yajl_val v, void *out)
{
	struct oci_memory *m = out;
	if (oj_f_opt_i64(p, v, "limit", -1, INT64_MAX, &m->limit) < 0 ||
	    oj_f_opt_i64(p, v, "reservation", -1, INT64_MAX, &m->reservation) < 0 ||
	    oj_f_opt_i64(p, v, "swap", -1, INT64_MAX, &m->swap) < 0 ||
	    oj_f_opt_i64(p, v, "kernel", -1, INT64_MAX, &m->kernel) < 0 ||
	    oj_f_opt_i64(p, v, "kernelTCP", -1, INT64_MAX, &m->kernel_tcp) < 0 ||
	    oj_f_opt_u64(p, v, "swappiness", UINT64_MAX, &m->swappiness) < 0 ||
	    oj_f_opt_bool(p, v, "disableOOMKiller", &m->disable_oom_killer) < 0 ||
	    oj_f_opt_bool(p, v, "useHierarchy", &m->use_hierarchy) < 0 ||
	    oj_f_opt_bool(p, v, "checkBeforeUpdate", &m->check_before_update) < 0)
		return -1;
	/* Go callers write uint64(-1) for "unset" */
	if (m->swappiness.set && m->swappiness.v == UINT64_MAX)
		m->swappiness.set = false;
	if (m->swappiness.set && m->swappiness.v > 100)
		return jp_fail_at(p, "swappiness", "must be <= 100");
	return 0;
}

static int parse_cpu(struct jp *p, yajl_val v, void *out)
{
	struct oci_cpu *c = out;
	if (oj_f_opt_u64(p, v, "shares", UINT64_MAX, &c->shares) < 0 ||
	    oj_f_opt_i64(p, v, "quota", -1, INT64_MAX, &c->quota) < 0 ||
	    oj_f_opt_u64(p, v, "burst", UINT64_MAX, &c->burst) < 0 ||
	    oj_f_opt_u64(p, v, "period", UINT64_MAX, &c->period) < 0 ||
	    oj_f_opt_i64(p, v, "realtimeRuntime", -1, INT64_MAX, &c->realtime_runtime) < 0 ||
	    oj_f_opt_u64(p, v, "realtimePeriod", UINT64_MAX, &c->realtime_period) < 0 ||
	    oci_parse_cpu_list(p, v, "cpus", &c->cpus) < 0 ||
	    oci_parse_cpu_list(p, v, "mems", &c->mems) < 0 ||
	    oj_f_opt_i64(p, v, "idle", 0, 1, &c->idle) < 0)
		return -1;
	return 0;
}

/* runc and crun write "max" for any negative limit and leave 0 alone; Docker and Podman send
 * -1 and 0 for "unlimited". Anything below -1 is a mistake (a wrapped or mistyped value), and
 * silently lifting the limit would fail open. */
static int parse_pids(struct jp *p, yajl_val v, void *out)
{
	struct opt_i64 *limit = out;
	if (oj_f_opt_i64(p, v, "limit", INT64_MIN, INT64_MAX, limit) < 0)
		return -1;
	if (limit->set && limit->v < -1)
		return jp_fail_at(p, "limit",
				  "must be > 0, or -1 or 0 for unlimited (got %" PRId64 ")",
				  limit->v);
	return 0;
}

/* blkio weights: 10..1000, and 0 for "unset" (Docker always sends weight 0). */
static int parse_weight(struct jp *p, yajl_val v, const char *key, struct opt_u64 *out)
{
	if (oj_f_opt_u64(p, v, key, UINT16_MAX, out) < 0)
		return -1;
	if (out->set && out->v != 0 && (out->v < 10 || out->v > 1000))
		return jp_fail_at(p, key, "must be 0 or between 10 and 1000");
	return 0;
}

static int parse_major_minor(struct jp *p, yajl_val v, int64_t *major, int64_t *minor)
{
	bool has_major = false, has_minor = false;
	if (oj_f_i64(p, v, "major", 0, UINT32_MAX, major, &has_major) < 0 ||
	    oj_f_i64(p, v, "minor", 0, UINT32_MAX, minor, &has_minor) < 0)
		return -1;
	if (!has_major)
		return jp_fail_at(p, "major", "required");
	if (!has_minor)
		return jp_fail_at(p, "minor", "required");
	return 0;
}

static int parse_weight_device(struct jp *p, yajl_val v, void *elem)
{
	struct oci_weight_device *w = elem;
	if (parse_major_minor(p, v, &w->major, &w->minor) < 0 ||
	    parse_weight(p, v, "weight", &w->weight) < 0 ||
	    parse_weight(p, v, "leafWeight", &w->leaf_weight) < 0)
		return -1;
	return 0;
}

static int parse_throttle_device(struct jp *p, yajl_val v, void *elem)
{
	struct oci_throttle_device *t = elem;
	if (parse_major_minor(p, v, &t->major, &t->minor) < 0)
		return -1;
	return oj_f_u64(p, v, "rate", UINT64_MAX, &t->rate, NULL);
}

static const char *const throttle_keys[OCI_THROTTLE_NKINDS] = {
    [OCI_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
    [OCI_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
    [OCI_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
    [OCI_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int parse_block_io(struct jp *p, yajl_val v, void *out)
{
	struct oci_block_io *b = out;
	if (parse_weight(p, v, "weight", &b->weight) < 0 ||
	    parse_weight(p, v, "leafWeight", &b->leaf_weight) < 0 ||
	    oj_f_objects(p, v, "weightDevice", sizeof(struct oci_weight_device), 0,
			 (void **)&b->weight_devices, &b->n_weight_devices,
			 parse_weight_device) < 0)
		return -1;
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		if (oj_f_objects(p, v, throttle_keys[k], sizeof(struct oci_throttle_device), 0,
				 (void **)&b->throttle[k], &b->n_throttle[k],
				 parse_throttle_device) < 0)
			return -1;
	return 0;
}

/* "64KB", "2MB", "1GB": a power of two with the unit the hugetlb controller's files use. */
static bool page_size_valid(const char *s)
{
	size_t digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 9 || s[0] == '0')
		return false;
	if (strcmp(s + digits, "KB") != 0 && strcmp(s + digits, "MB") != 0 &&
	    strcmp(s + digits, "GB") != 0)
		return false;
	unsigned long n = strtoul(s, NULL, 10);
	return (n & (n - 1)) == 0;
}

static int parse_hugepage_limit(struct jp *p, yajl_val v, void *elem)
{
	struct oci_hugepage_limit *h = elem;
	if (oj_f_string(p, v, "pageSize", &h->page_size) < 0 ||
	    oj_f_u64(p, v, "limit", UINT64_MAX, &h->limit, NULL) < 0)
		return -1;
	if (h->page_size == NULL)
		return jp_fail_at(p, "pageSize", "required");
	if (!page_size_valid(h->page_size))
		return jp_fail_at(p, "pageSize", "must be a size like \"2MB\"");
	return 0;
}

static int parse_net_priority(struct jp *p, yajl_val v, void *elem)
{
	struct oci_net_priority *np = elem;
	if (oj_f_string(p, v, "name", &np->name) < 0 ||
	    oj_f_u32(p, v, "priority", &np->priority, NULL) < 0)
		return -1;
	if (np->name == NULL || np->name[0] == '\0')
		return jp_fail_at(p, "name", "must not be empty");
	return 0;
}

static int parse_network(struct jp *p, yajl_val v, void *out)
{
	struct oci_resources *r = out;
	if (oj_f_opt_u64(p, v, "classID", UINT32_MAX, &r->net_class_id) < 0)
		return -1;
	return oj_f_objects(p, v, "priorities", sizeof(struct oci_net_priority), 0,
			    (void **)&r->net_priorities, &r->n_net_priorities, parse_net_priority);
}

static int parse_rdma(struct jp *p, yajl_val obj, struct oci_resources *r)
{
	yajl_val v = NULL;
	if (oj_f_value(p, obj, "rdma", yajl_t_object, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t n = v->u.object.len;
	size_t mark = jp_key(p, "rdma");
	r->rdma = n > 0 ? xcalloc(n, sizeof(struct oci_rdma)) : NULL;
	r->n_rdma = n;
	for (size_t i = 0; i < n; i++) {
		struct oci_rdma *e = &r->rdma[i];
		yajl_val d = v->u.object.values[i];
		size_t kmark = jp_mapkey(p, v->u.object.keys[i]);
		e->device = xstrdup(v->u.object.keys[i]);
		if (e->device[0] == '\0')
			return jp_fail(p, "device name must not be empty");
		if (oj_need(p, d, yajl_t_object) < 0 ||
		    oj_f_opt_u64(p, d, "hcaHandles", UINT32_MAX, &e->hca_handles) < 0 ||
		    oj_f_opt_u64(p, d, "hcaObjects", UINT32_MAX, &e->hca_objects) < 0)
			return -1;
		jp_pop(p, kmark);
	}
	jp_pop(p, mark);
	return 0;
}

/* cgroup v2 file names: "<controller>.<file>", one path component. */
static int check_unified_key(struct jp *p, const char *key)
{
	const char *dot = strchr(key, '.');
	if (strchr(key, '/') != NULL || dot == NULL || dot == key || dot[1] == '\0')
		return jp_fail(p, "must be \"<controller>.<file>\"");
	return 0;
}

int oci_parse_resources(struct jp *p, yajl_val v, struct oci_resources *r)
{
	if (oj_f_objects(p, v, "devices", sizeof(struct oci_device_cgroup), 0, (void **)&r->devices,
			 &r->n_devices, parse_device_rule) < 0 ||
	    oci_parse_member(p, v, "memory", &r->memory, parse_memory) < 0 ||
	    oci_parse_member(p, v, "cpu", &r->cpu, parse_cpu) < 0 ||
	    oci_parse_member(p, v, "pids", &r->pids_limit, parse_pids) < 0 ||
	    oci_parse_member(p, v, "blockIO", &r->block_io, parse_block_io) < 0 ||
	    oj_f_objects(p, v, "hugepageLimits", sizeof(struct oci_hugepage_limit), 0,
			 (void **)&r->hugepage_limits, &r->n_hugepage_limits,
			 parse_hugepage_limit) < 0 ||
	    oci_parse_member(p, v, "network", r, parse_network) < 0 || parse_rdma(p, v, r) < 0 ||
	    oj_f_string_map(p, v, "unified", &r->unified, &r->n_unified, check_unified_key) < 0)
		return -1;
	return 0;
}
