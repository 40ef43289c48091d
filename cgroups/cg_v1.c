/* The cgroup v1 back-end: linux.resources written to the legacy per-controller files for the
 * controllers mounted as v1 hierarchies (legacy and hybrid hosts), the devices whitelist,
 * cpuset initialisation, and freezer.state. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

static int fail_field(struct bw_error *err, const char *field)
{
	return bw_wrap(err, "%s", field);
}

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
static int set_cfs(const char *dir, const struct oci_cpu *c, struct bw_error *err)
{
	bool q = c->quota.set && c->quota.v != 0, p = c->period.set && c->period.v != 0;
	char qs[32], ps[32];
	snprintf(qs, sizeof(qs), "%" PRId64, q ? c->quota.v : 0);
	snprintf(ps, sizeof(ps), "%" PRIu64, p ? c->period.v : 0);
	if (p && cg_write(dir, "cpu.cfs_period_us", ps, err) < 0) {
		struct bw_error e = {0};
		if (!q || cg_write(dir, "cpu.cfs_quota_us", qs, &e) < 0 ||
		    cg_write(dir, "cpu.cfs_period_us", ps, err) < 0)
			return fail_field(err, "linux.resources.cpu.period");
		return 0;
	}
	if (q && cg_write(dir, "cpu.cfs_quota_us", qs, err) < 0)
		return fail_field(err, "linux.resources.cpu.quota");
	return 0;
}

static int set_cpu(const char *dir, const struct oci_cpu *c, struct bw_error *err)
{
	if (cg_cpu_validate(c, err) < 0)
		return -1;
	if (c->shares.set && c->shares.v != 0 &&
	    cg_writef(dir, "cpu.shares", err, "%" PRIu64, c->shares.v) < 0)
		return fail_field(err, "linux.resources.cpu.shares");
	if (set_cfs(dir, c, err) < 0)
		return -1;
	if (c->burst.set && cg_writef(dir, "cpu.cfs_burst_us", err, "%" PRIu64, c->burst.v) < 0)
		return fail_field(err, "linux.resources.cpu.burst");
	if (c->idle.set && cg_writef(dir, "cpu.idle", err, "%" PRId64, c->idle.v) < 0)
		return fail_field(err, "linux.resources.cpu.idle");
	/* The runtime budget must fit the period: period first. */
	if (c->realtime_period.set && c->realtime_period.v != 0 &&
	    cg_writef(dir, "cpu.rt_period_us", err, "%" PRIu64, c->realtime_period.v) < 0)
		return fail_field(err, "linux.resources.cpu.realtimePeriod");
	if (c->realtime_runtime.set && c->realtime_runtime.v != 0 &&
	    cg_writef(dir, "cpu.rt_runtime_us", err, "%" PRId64, c->realtime_runtime.v) < 0)
		return fail_field(err, "linux.resources.cpu.realtimeRuntime");
	return 0;
}

static int set_cpuset(const char *dir, const struct oci_cpu *c, struct bw_error *err)
{
	if (cg_cpuset_check(c, err) < 0)
		return -1;
	if (c->cpus != NULL && c->cpus[0] != '\0' && cg_write(dir, "cpuset.cpus", c->cpus, err) < 0)
		return fail_field(err, "linux.resources.cpu.cpus");
	if (c->mems != NULL && c->mems[0] != '\0' && cg_write(dir, "cpuset.mems", c->mems, err) < 0)
		return fail_field(err, "linux.resources.cpu.mems");
	return 0;
}

static int write_limit(const char *dir, const char *file, int64_t v, const char *field,
		       struct bw_error *err)
{
	if (cg_writef(dir, file, err, "%" PRId64, v) < 0)
		return fail_field(err, field);
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
			return fail_field(err, field);
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

static int check_memory(const struct oci_memory *m, struct bw_error *err)
{
	if (m->limit.set && m->limit.v < -1)
		return bw_fail(err, 0, "linux.resources.memory.limit: must be -1 or positive");
	if (m->reservation.set && m->reservation.v < -1)
		return bw_fail(err, 0,
			       "linux.resources.memory.reservation: must be -1 or positive");
	if (m->swap.set && m->swap.v < -1)
		return bw_fail(err, 0, "linux.resources.memory.swap: must be -1 or positive");
	if (m->swap.set && m->swap.v > 0 && m->limit.set && m->limit.v > 0 &&
	    m->swap.v < m->limit.v)
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: must be at least memory.limit (it is "
			       "memory plus swap)");
	if (m->swappiness.set && m->swappiness.v > 100)
		return bw_fail(err, 0,
			       "linux.resources.memory.swappiness: must be between 0 and 100");
	return 0;
}

static int set_memory(const char *dir, const struct oci_memory *m, bool update,
		      struct bw_error *err)
{
	if (check_memory(m, err) < 0)
		return -1;
	int64_t limit = m->limit.set ? m->limit.v : 0, swap = m->swap.set ? m->swap.v : 0;
	if (limit == -1 && swap == 0)
		swap = -1; /* unlimited memory with no word on swap: both unlimited */
	if (limit > 0 && update && m->check_before_update.set && m->check_before_update.v &&
	    cg_check_usage(dir, "memory.usage_in_bytes", limit, err) < 0)
		return -1;
	if (set_limits(dir, limit, swap, err) < 0)
		return -1;
	if (m->reservation.set && m->reservation.v != 0 &&
	    write_limit(dir, "memory.soft_limit_in_bytes", m->reservation.v,
			"linux.resources.memory.reservation", err) < 0)
		return -1;
	/* The kernel accepts and ignores memory.kmem.limit_in_bytes since 5.16 (and drops it
	 * later); the TCP buffer limit still works where the file exists. */
	if (m->kernel.set && m->kernel.v)
		log_debug("linux.resources.memory.kernel: ignored (deprecated by the kernel)");
	if (m->kernel_tcp.set && m->kernel_tcp.v) {
		if (!cg_has_file(dir, "memory.kmem.tcp.limit_in_bytes"))
			log_debug("linux.resources.memory.kernelTCP: ignored (not supported by "
				  "this kernel)");
		else if (write_limit(dir, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp.v,
				     "linux.resources.memory.kernelTCP", err) < 0)
			return -1;
	}
	if (m->swappiness.set &&
	    cg_writef(dir, "memory.swappiness", err, "%" PRIu64, m->swappiness.v) < 0)
		return fail_field(err, "linux.resources.memory.swappiness");
	if (m->disable_oom_killer.set && (m->disable_oom_killer.v || update) &&
	    cg_write(dir, "memory.oom_control", m->disable_oom_killer.v ? "1" : "0", err) < 0)
		return fail_field(err, "linux.resources.memory.disableOOMKiller");
	return 0;
}

static int set_pids(const char *dir, const struct opt_i64 *p, struct bw_error *err)
{
	if (!p->set || p->v == 0)
		return 0;
	if ((p->v < 0 ? cg_write(dir, "pids.max", "max", err)
		      : cg_writef(dir, "pids.max", err, "%" PRId64, p->v)) < 0)
		return fail_field(err, "linux.resources.pids.limit");
	return 0;
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

static int set_blkio_weights(const char *dir, const struct oci_block_io *b, struct bw_error *err)
{
	if (b->weight.set && b->weight.v != 0) {
		const char *f = weight_file(dir, false);
		if (f == NULL)
			return bw_fail(err, 0,
				       "linux.resources.blockIO.weight: no proportional "
				       "I/O scheduler (CFQ/BFQ) weight on this host");
		if (cg_writef(dir, f, err, "%" PRIu64, b->weight.v) < 0)
			return fail_field(err, "linux.resources.blockIO.weight");
	}
	if (b->leaf_weight.set && b->leaf_weight.v != 0) {
		if (cg_has_file(dir, "blkio.leaf_weight")) {
			if (cg_writef(dir, "blkio.leaf_weight", err, "%" PRIu64, b->leaf_weight.v) <
			    0)
				return fail_field(err, "linux.resources.blockIO.leafWeight");
		} else {
			log_debug(
			    "linux.resources.blockIO.leafWeight: not supported by this kernel");
		}
	}
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

static int set_blkio(const char *dir, const struct oci_block_io *b, struct bw_error *err)
{
	static const char *const files[OCI_THROTTLE_NKINDS] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	if (cg_blkio_validate(b, err) < 0 || set_blkio_weights(dir, b, err) < 0)
		return -1;
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < b->n_throttle[k]; i++) {
			const struct oci_throttle_device *t = &b->throttle[k][i];
			if (cg_writef(dir, files[k], err, "%" PRId64 ":%" PRId64 " %" PRIu64,
				      t->major, t->minor, t->rate) < 0)
				return bw_wrap(err, "linux.resources.blockIO (%s)", files[k]);
		}
	return 0;
}

static int set_net(const char *dir_cls, const char *dir_prio, const struct oci_resources *r,
		   struct bw_error *err)
{
	if (r->net_class_id.set &&
	    cg_writef(dir_cls, "net_cls.classid", err, "%" PRIu64, r->net_class_id.v) < 0)
		return fail_field(err, "linux.resources.network.classID");
	for (size_t i = 0; i < r->n_net_priorities; i++) {
		const struct oci_net_priority *p = &r->net_priorities[i];
		if (p->name == NULL || p->name[0] == '\0' || strpbrk(p->name, " \t\n/") != NULL)
			return bw_fail(err, 0,
				       "linux.resources.network.priorities[%zu].name: "
				       "invalid interface name",
				       i);
		if (cg_writef(dir_prio, "net_prio.ifpriomap", err, "%s %" PRIu32, p->name,
			      p->priority) < 0)
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
			return fail_field(err, "linux.resources.devices");
	return 0;
}

static const char *v1_dir(struct cg_manager *cg, enum cg_ctrl c)
{
	struct cg_hier *h = cg_hier_for(cg, c);
	return h != NULL && !h->m.v2 ? h->dir : NULL;
}

static int need_v1(struct cg_manager *cg, uint32_t needed, enum cg_ctrl c, const char **dir,
		   struct bw_error *err)
{
	*dir = v1_dir(cg, c);
	if ((needed & (1u << c)) && cg->ctrl_at[c] < 0)
		return bw_fail(err, 0, "%s: the %s controller is not available on this host",
			       cg_ctrl_field(c), cg_ctrl_v1_name(c));
	return 0;
}

int cg_v1_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err)
{
	uint32_t needed = cg_resources_needed(r);
	bool update = how == CG_APPLY_UPDATE;
	const char *d, *d2;

	if (how == CG_APPLY_DEVICES)
		return (d = v1_dir(cg, CG_DEVICES)) != NULL ? set_devices(d, r, how, err) : 0;

	if (need_v1(cg, needed, CG_CPU, &d, err) < 0 || (d && set_cpu(d, &r->cpu, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_CPUSET, &d, err) < 0 || (d && set_cpuset(d, &r->cpu, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_MEMORY, &d, err) < 0 ||
	    (d && set_memory(d, &r->memory, update, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_PIDS, &d, err) < 0 ||
	    (d && set_pids(d, &r->pids_limit, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_BLKIO, &d, err) < 0 ||
	    (d && set_blkio(d, &r->block_io, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_HUGETLB, &d, err) < 0 ||
	    (d && cg_set_hugetlb(d, r, "limit_in_bytes", "rsvd.limit_in_bytes", err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_RDMA, &d, err) < 0 || (d && cg_set_rdma(d, r, err) < 0))
		return -1;
	if (need_v1(cg, needed, CG_NET_CLS, &d, err) < 0 ||
	    need_v1(cg, needed, CG_NET_PRIO, &d2, err) < 0 ||
	    ((d || d2) && set_net(d, d2, r, err) < 0))
		return -1;
	if ((d = v1_dir(cg, CG_DEVICES)) != NULL && set_devices(d, r, how, err) < 0)
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
