/* The cgroup v1 back-end: the resource table (cg_table.c) applied to the controllers mounted as
 * v1 hierarchies (legacy and hybrid hosts) with the writers it names for v1, the devices
 * whitelist, cpuset initialisation, and freezer.state. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

/* A new v1 cpuset cgroup starts with no cpus and no mems, and no process can join it then. */
static int cpuset_copy(const char *parent, const char *dir, const char *file, struct bw_error *err)
{
	_cleanup_free_ char *mine = NULL, *theirs = NULL;
	if (cg_read(dir, file, &mine, err) < 0)
		return -1;
	if (mine[0] != '\0')
		return 0;
	if (cg_read(parent, file, &theirs, err) < 0)
		return -1;
	return cg_write(dir, file, theirs, err);
}

int cg_v1_cpuset_init(struct cg_hier *h, struct bw_error *err)
{
	size_t base = strlen(h->m.mountpoint);
	_cleanup_free_ char *p = xstrdup(h->dir);
	_cleanup_free_ char *parent = xstrdup(h->m.mountpoint);

	for (char *s = strchr(p + base + 1, '/');; s = strchr(s + 1, '/')) {
		if (s != NULL)
			*s = '\0';
		if (cpuset_copy(parent, p, "cpuset.cpus", err) < 0 ||
		    cpuset_copy(parent, p, "cpuset.mems", err) < 0)
			return bw_wrap(err, "initialise cpuset `%s`", p);
		free(parent);
		parent = xstrdup(p);
		if (s == NULL)
			break;
		*s = '/';
	}
	return 0;
}

/* Quota and period are checked together against the parent: if one order fails, try the other. */
int cg_v1_set_cfs(const char *dir, const struct oci_resources *r, bool update, struct bw_error *err)
{
	const struct oci_cpu *c = &r->cpu;
	bool q = c->quota.set && c->quota.v != 0, p = c->period.set && c->period.v != 0;
	char qs[32], ps[32];
	(void)update;
	snprintf(qs, sizeof(qs), "%" PRId64, q ? c->quota.v : 0);
	snprintf(ps, sizeof(ps), "%" PRIu64, p ? c->period.v : 0);
	if (p && cg_write(dir, "cpu.cfs_period_us", ps, err) < 0) {
		struct bw_error e = {0};
		if (!q || cg_write(dir, "cpu.cfs_quota_us", qs, &e) < 0 ||
		    cg_write(dir, "cpu.cfs_period_us", ps, err) < 0)
			return bw_wrap(err, "linux.resources.cpu.period");
		return 0;
	}
	if (q && cg_write(dir, "cpu.cfs_quota_us", qs, err) < 0)
		return bw_wrap(err, "linux.resources.cpu.quota");
	return 0;
}

static int write_limit(const char *dir, const char *file, int64_t v, const char *field,
		       struct bw_error *err)
{
	if (cg_writef(dir, file, err, "%" PRId64, v) < 0)
		return bw_wrap(err, "%s", field);
	return 0;
}

static int write_swap(const char *dir, int64_t swap, struct bw_error *err)
{
	if (!cg_has_file(dir, "memory.memsw.limit_in_bytes")) {
		if (swap == -1)
			return 0;
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: swap accounting is not "
			       "enabled on this host");
	}
	return write_limit(dir, "memory.memsw.limit_in_bytes", swap, "linux.resources.memory.swap",
			   err);
}

/* memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, before or after any
 * single write: grow memsw first, shrink the limit first. */
static int set_limits(const char *dir, int64_t limit, int64_t swap, struct bw_error *err)
{
	const char *lf = "memory.limit_in_bytes", *field = "linux.resources.memory.limit";
	if (limit != 0 && swap != 0) {
		uint64_t cur;
		if (cg_read_u64(dir, lf, &cur, err) < 0)
			return bw_wrap(err, "%s", field);
		if (swap == -1 || cur < (uint64_t)swap)
			return write_swap(dir, swap, err) < 0
				   ? -1
				   : write_limit(dir, lf, limit, field, err);
		return write_limit(dir, lf, limit, field, err) < 0 ? -1
								   : write_swap(dir, swap, err);
	}
	if (limit != 0 && write_limit(dir, lf, limit, field, err) < 0)
		return -1;
	if (swap != 0 && write_swap(dir, swap, err) < 0)
		return -1;
	return 0;
}

/* memory.limit and memory.swap (memory plus swap, as memsw is). */
int cg_v1_set_memory(const char *dir, const struct oci_resources *r, bool update,
		     struct bw_error *err)
{
	const struct oci_memory *m = &r->memory;
	int64_t limit = m->limit.set ? m->limit.v : 0, swap = m->swap.set ? m->swap.v : 0;
	if (limit == -1 && swap == 0)
		swap = -1; /* unlimited memory with no word on swap: both unlimited */
	if (limit > 0 && update && m->check_before_update.set && m->check_before_update.v &&
	    cg_check_usage(dir, "memory.usage_in_bytes", limit, err) < 0)
		return -1;
	return set_limits(dir, limit, swap, err);
}

/* blkio.weight (CFQ) or blkio.bfq.weight (BFQ), whichever the kernel has. */
static const char *weight_file(const char *dir, bool device)
{
	if (cg_has_file(dir, device ? "blkio.weight_device" : "blkio.weight"))
		return device ? "blkio.weight_device" : "blkio.weight";
	if (cg_has_file(dir, device ? "blkio.bfq.weight_device" : "blkio.bfq.weight"))
		return device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";
	return NULL;
}

int cg_v1_set_blkio_weight(const char *dir, const struct oci_resources *r, bool update,
			   struct bw_error *err)
{
	const char *f = weight_file(dir, false);
	(void)update;
	if (f == NULL)
		return bw_fail(err, 0,
			       "linux.resources.blockIO.weight: no proportional "
			       "I/O scheduler (CFQ/BFQ) weight on this host");
	if (cg_writef(dir, f, err, "%" PRIu64, r->block_io.weight.v) < 0)
		return bw_wrap(err, "linux.resources.blockIO.weight");
	return 0;
}

int cg_v1_set_weight_devices(const char *dir, const struct oci_resources *r, bool update,
			     struct bw_error *err)
{
	const struct oci_block_io *b = &r->block_io;
	(void)update;
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *d = &b->weight_devices[i];
		if (!d->weight.set)
			continue;
		const char *f = weight_file(dir, true);
		if (f == NULL)
			return bw_fail(err, 0,
				       "linux.resources.blockIO.weightDevice[%zu]: no "
				       "per-device weight on this host",
				       i);
		if (cg_writef(dir, f, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
			      d->weight.v) < 0)
			return bw_wrap(err, "linux.resources.blockIO.weightDevice[%zu]", i);
	}
	return 0;
}

int cg_v1_set_throttle(const char *dir, const struct oci_resources *r, bool update,
		       struct bw_error *err)
{
	static const char *const files[OCI_THROTTLE_NKINDS] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	(void)update;
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < r->block_io.n_throttle[k]; i++) {
			const struct oci_throttle_device *t = &r->block_io.throttle[k][i];
			if (cg_writef(dir, files[k], err, "%" PRId64 ":%" PRId64 " %" PRIu64,
				      t->major, t->minor, t->rate) < 0)
				return bw_wrap(err, "linux.resources.blockIO (%s)", files[k]);
		}
	return 0;
}

int cg_v1_set_hugetlb(const char *dir, const struct oci_resources *r, bool update,
		      struct bw_error *err)
{
	(void)update;
	return cg_set_hugetlb(dir, r, "limit_in_bytes", "rsvd.limit_in_bytes", err);
}

int cg_v1_set_net_prio(const char *dir, const struct oci_resources *r, bool update,
		       struct bw_error *err)
{
	(void)update;
	for (size_t i = 0; i < r->n_net_priorities; i++) {
		const struct oci_net_priority *p = &r->net_priorities[i];
		if (cg_writef(dir, "net_prio.ifpriomap", err, "%s %" PRIu32, p->name, p->priority) <
		    0)
			return bw_wrap(err, "linux.resources.network.priorities[%zu]", i);
	}
	return 0;
}

static int set_devices(const char *dir, const struct oci_resources *r, enum cg_apply how,
		       struct bw_error *err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	_cleanup_free_ struct cg_v1_dev_write *w = NULL;
	size_t n, nw;
	if (how == CG_APPLY_UPDATE && r->n_devices == 0)
		return 0;
	if (cg_dev_rules_build(r, &rules, &n, err) < 0 ||
	    cg_devices_v1_plan(rules, n, &w, &nw, err) < 0)
		return -1;
	if (how == CG_APPLY_CREATE) /* validated; written by CG_APPLY_DEVICES */
		return 0;
	for (size_t i = 0; i < nw; i++)
		if (cg_write(dir, w[i].allow ? "devices.allow" : "devices.deny", w[i].rule, err) <
		    0)
			return bw_wrap(err, "linux.resources.devices");
	return 0;
}

static const char *v1_dir(struct cg_manager *cg, enum cg_ctrl c)
{
	struct cg_hier *h = cg_hier_for(cg, c);
	return h != NULL && !h->m.v2 ? h->dir : NULL;
}

/* The table's rows for every controller mounted as a v1 hierarchy, then the devices list. */
int cg_v1_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err)
{
	const char *dirs[CG_NCTRL], *d;

	if (how == CG_APPLY_DEVICES)
		return (d = v1_dir(cg, CG_DEVICES)) != NULL ? set_devices(d, r, how, err) : 0;
	for (int c = 0; c < CG_NCTRL; c++)
		dirs[c] = v1_dir(cg, c);
	if (cg_resources_available(cg, r, false, err) < 0 ||
	    cg_resources_write(dirs, false, r, how == CG_APPLY_UPDATE, err) < 0)
		return -1;
	if (dirs[CG_DEVICES] != NULL && set_devices(dirs[CG_DEVICES], r, how, err) < 0)
		return -1;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int cg_v1_freeze(const char *dir, bool freeze, struct bw_error *err)
{
	const char *want = freeze ? "FROZEN" : "THAWED";
	long waited = 0, step = 1;
	for (;;) {
		/* Re-writing while FREEZING nudges tasks that were busy the first time. */
		if (cg_write(dir, "freezer.state", want, err) < 0)
			return -1;
		_cleanup_free_ char *s = NULL;
		if (cg_read(dir, "freezer.state", &s, err) < 0)
			return -1;
		if (strcmp(s, want) == 0)
			return 0;
		if (waited >= 5000) {
			if (freeze) {
				struct bw_error e = {0};
				cg_write(dir, "freezer.state", "THAWED", &e);
			}
			return bw_fail(err, ETIMEDOUT, "`%s/freezer.state` stays %s", dir, s);
		}
		sleep_ms(step);
		waited += step;
		step = step < 16 ? step * 2 : step;
	}
}
