/* The resource table: one row per linux.resources limit, saying which OCI field it is, what
 * checks it, which controller it needs and what each cgroup version writes for it. Both
 * back-ends apply it, and the controllers a config needs are read off it: a new limit is a
 * new row (and, when it is not one number in one file, a writer in cg_v1.c / cg_v2.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/log.h"
#include "common/util.h"

/* ---- OCI field accessors: set, and not one of Docker's zero values for "unchanged" ---- */

/* An opt_u64 / opt_i64 field (a u64 travels as its bits). */
#define GET_OPT(name, expr, cond)                                                                  \
	static bool name(const struct oci_resources *r, bool update, int64_t *v)                   \
	{                                                                                          \
		(void)update;                                                                      \
		const __typeof__(expr) *o = &(expr);                                               \
		*v = (int64_t)o->v;                                                                \
		return o->set && (cond);                                                           \
	}
#define GET_ANY(name, cond)                                                                        \
	static bool name(const struct oci_resources *r, bool update, int64_t *v)                   \
	{                                                                                          \
		(void)update;                                                                      \
		*v = 0;                                                                            \
		return (cond);                                                                     \
	}

GET_OPT(get_shares, r->cpu.shares, o->v != 0)
GET_ANY(get_cfs, (r->cpu.quota.set && r->cpu.quota.v) || (r->cpu.period.set && r->cpu.period.v))
GET_OPT(get_burst, r->cpu.burst, true)
GET_OPT(get_idle, r->cpu.idle, true)
GET_OPT(get_rt_period, r->cpu.realtime_period, o->v != 0)
GET_OPT(get_rt_runtime, r->cpu.realtime_runtime, o->v != 0)
GET_ANY(get_cpus, r->cpu.cpus != NULL && r->cpu.cpus[0] != '\0')
GET_ANY(get_mems, r->cpu.mems != NULL && r->cpu.mems[0] != '\0')
GET_ANY(get_mem_limits,
	(r->memory.limit.set && r->memory.limit.v) || (r->memory.swap.set && r->memory.swap.v))
GET_OPT(get_reservation, r->memory.reservation, o->v != 0)
GET_OPT(get_kernel, r->memory.kernel, o->v != 0)
GET_OPT(get_kernel_tcp, r->memory.kernel_tcp, o->v != 0)
GET_OPT(get_swappiness, r->memory.swappiness, true)
GET_OPT(get_pids, r->pids_limit, o->v != 0)
GET_OPT(get_blkio_weight, r->block_io.weight, o->v != 0)
GET_OPT(get_blkio_leaf, r->block_io.leaf_weight, o->v != 0)
GET_ANY(get_weight_devices, r->block_io.n_weight_devices > 0)
GET_ANY(get_hugetlb, r->n_hugepage_limits > 0)
GET_ANY(get_rdma, r->n_rdma > 0)
GET_OPT(get_classid, r->net_class_id, true)
GET_ANY(get_net_prio, r->n_net_priorities > 0)

/* disableOOMKiller: true asks for the memory controller; false is only written by an update
 * (turning the killer back on). */
static bool get_oom(const struct oci_resources *r, bool update, int64_t *v)
{
	const struct opt_bool *o = &r->memory.disable_oom_killer;
	*v = o->v ? 1 : 0;
	return o->set && (o->v || update);
}

static bool get_throttle(const struct oci_resources *r, bool update, int64_t *v)
{
	(void)update;
	*v = 0;
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		if (r->block_io.n_throttle[k] > 0)
			return true;
	return false;
}

/* ---- checks that hold on both versions ---- */

static int check_cpu(const struct oci_resources *r, struct bw_error *err)
{
	return cg_cpu_validate(&r->cpu, err);
}

static int check_cpuset(const struct oci_resources *r, struct bw_error *err)
{
	return cg_cpuset_check(&r->cpu, err);
}

static int check_mem_limits(const struct oci_resources *r, struct bw_error *err)
{
	const struct oci_memory *m = &r->memory;
	if (m->limit.set && m->limit.v < -1)
		return bw_fail(err, 0, "linux.resources.memory.limit: must be -1 or positive");
	if (m->swap.set && m->swap.v < -1)
		return bw_fail(err, 0, "linux.resources.memory.swap: must be -1 or positive");
	if (m->swap.set && m->swap.v > 0 && m->limit.set && m->limit.v > 0 &&
	    m->swap.v < m->limit.v)
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: must be at least memory.limit (it is "
			       "memory plus swap)");
	return 0;
}

static int check_reservation(const struct oci_resources *r, struct bw_error *err)
{
	if (r->memory.reservation.v < -1)
		return bw_fail(err, 0,
			       "linux.resources.memory.reservation: must be -1 or positive");
	return 0;
}

static int check_blkio(const struct oci_resources *r, struct bw_error *err)
{
	return cg_blkio_validate(&r->block_io, err);
}

static int check_rdma(const struct oci_resources *r, struct bw_error *err)
{
	for (size_t i = 0; i < r->n_rdma; i++) {
		const char *d = r->rdma[i].device;
		if (d == NULL || d[0] == '\0' || strpbrk(d, " \t\n/=") != NULL)
			return bw_fail(err, 0, "linux.resources.rdma: invalid device name");
	}
	return 0;
}

static int check_net_prio(const struct oci_resources *r, struct bw_error *err)
{
	for (size_t i = 0; i < r->n_net_priorities; i++) {
		const char *n = r->net_priorities[i].name;
		if (n == NULL || n[0] == '\0' || strpbrk(n, " \t\n/") != NULL)
			return bw_fail(err, 0,
				       "linux.resources.network.priorities[%zu].name: invalid "
				       "interface name",
				       i);
	}
	return 0;
}

/* ---- the table ---- */

#define FILE_AS(h, f)                                                                              \
	{                                                                                          \
		.how = (h), .file = (f)                                                            \
	}
#define WRITER(fn)                                                                                 \
	{                                                                                          \
		.how = CG_FN, .set = (fn)                                                          \
	}
#define NOT_HERE                                                                                   \
	{                                                                                          \
		.how = CG_NOT_HERE                                                                 \
	}
#define REFUSED                                                                                    \
	{                                                                                          \
		.how = CG_REFUSED                                                                  \
	}
#define F(x) "linux.resources." x

/* swappiness and the blockIO weights' ranges are the parser's (their only source is JSON). */
static const struct cg_resource table[] = {
    {F("cpu.shares"), CG_CPU, get_shares, .is_unsigned = true, .check = check_cpu,
     .v1 = FILE_AS(CG_DEC, "cpu.shares"), .v2 = FILE_AS(CG_WEIGHT, "cpu.weight")},
    {F("cpu.quota"), CG_CPU, get_cfs, .check = check_cpu, .v1 = WRITER(cg_v1_set_cfs),
     .v2 = WRITER(cg_v2_set_cpu_max)},
    {F("cpu.burst"), CG_CPU, get_burst, .is_unsigned = true, .check = check_cpu,
     .v1 = FILE_AS(CG_DEC, "cpu.cfs_burst_us"), .v2 = FILE_AS(CG_DEC, "cpu.max.burst")},
    {F("cpu.idle"), CG_CPU, get_idle, .check = check_cpu, .v1 = FILE_AS(CG_DEC, "cpu.idle"),
     .v2 = FILE_AS(CG_DEC, "cpu.idle")},
    /* The runtime budget must fit the period: period first. */
    {F("cpu.realtimePeriod"), CG_CPU, get_rt_period, .is_unsigned = true, .check = check_cpu,
     .v1 = FILE_AS(CG_DEC, "cpu.rt_period_us"), .v2 = REFUSED},
    {F("cpu.realtimeRuntime"), CG_CPU, get_rt_runtime, .check = check_cpu,
     .v1 = FILE_AS(CG_DEC, "cpu.rt_runtime_us"), .v2 = REFUSED},
    {F("cpu.cpus"), CG_CPUSET, get_cpus, .check = check_cpuset, .v1 = WRITER(cg_set_cpus),
     .v2 = WRITER(cg_set_cpus)},
    {F("cpu.mems"), CG_CPUSET, get_mems, .check = check_cpuset, .v1 = WRITER(cg_set_mems),
     .v2 = WRITER(cg_set_mems)},
    /* limit and swap together: on v1 their order matters, on v2 swap is counted from limit. */
    {F("memory.limit"), CG_MEMORY, get_mem_limits, .check = check_mem_limits,
     .v1 = WRITER(cg_v1_set_memory), .v2 = WRITER(cg_v2_set_memory)},
    {F("memory.reservation"), CG_MEMORY, get_reservation, .check = check_reservation,
     .v1 = FILE_AS(CG_DEC, "memory.soft_limit_in_bytes"), .v2 = FILE_AS(CG_MAX, "memory.low")},
    /* The kernel accepts and ignores memory.kmem.limit_in_bytes since 5.16 (and drops it
     * later); the TCP buffer limit still works where the file exists. */
    {F("memory.kernel"), CG_MEMORY, get_kernel, .best_effort = true, .v1 = NOT_HERE,
     .v2 = NOT_HERE},
    {F("memory.kernelTCP"), CG_MEMORY, get_kernel_tcp, .best_effort = true,
     .v1 = {.how = CG_DEC, .file = "memory.kmem.tcp.limit_in_bytes", .optional = true},
     .v2 = NOT_HERE},
    {F("memory.swappiness"), CG_MEMORY, get_swappiness, .is_unsigned = true,
     .v1 = FILE_AS(CG_DEC, "memory.swappiness"),
     .v2 = {.how = CG_CHECKED, .check = cg_v2_check_swappiness}},
    {F("memory.disableOOMKiller"), CG_MEMORY, get_oom, .v1 = FILE_AS(CG_DEC, "memory.oom_control"),
     .v2 = REFUSED},
    {F("pids.limit"), CG_PIDS, get_pids, .v1 = FILE_AS(CG_MAX, "pids.max"),
     .v2 = FILE_AS(CG_MAX, "pids.max")},
    {F("blockIO.weight"), CG_BLKIO, get_blkio_weight, .is_unsigned = true, .check = check_blkio,
     .v1 = WRITER(cg_v1_set_blkio_weight), .v2 = WRITER(cg_v2_set_io_weight)},
    {F("blockIO.leafWeight"), CG_BLKIO, get_blkio_leaf, .is_unsigned = true, .best_effort = true,
     .check = check_blkio, .v1 = {.how = CG_DEC, .file = "blkio.leaf_weight", .optional = true},
     .v2 = NOT_HERE},
    {F("blockIO.weightDevice"), CG_BLKIO, get_weight_devices, .check = check_blkio,
     .v1 = WRITER(cg_v1_set_weight_devices), .v2 = WRITER(cg_v2_set_io_weight_devices)},
    {F("blockIO.throttle"), CG_BLKIO, get_throttle, .check = check_blkio,
     .v1 = WRITER(cg_v1_set_throttle), .v2 = WRITER(cg_v2_set_io_max)},
    {F("hugepageLimits"), CG_HUGETLB, get_hugetlb, .v1 = WRITER(cg_v1_set_hugetlb),
     .v2 = WRITER(cg_v2_set_hugetlb)},
    {F("rdma"), CG_RDMA, get_rdma, .check = check_rdma, .v1 = WRITER(cg_set_rdma),
     .v2 = WRITER(cg_set_rdma)},
    {F("network.classID"), CG_NET_CLS, get_classid, .is_unsigned = true,
     .v1 = FILE_AS(CG_DEC, "net_cls.classid"), .v2 = NOT_HERE},
    {F("network.priorities"), CG_NET_PRIO, get_net_prio, .check = check_net_prio,
     .v1 = WRITER(cg_v1_set_net_prio), .v2 = NOT_HERE},
};

const struct cg_resource *cg_resource_table(size_t *n)
{
	*n = ARRAY_SIZE(table);
	return table;
}

bool cg_resource_requested(const struct cg_resource *row, const struct oci_resources *r)
{
	int64_t v;
	return row->get(r, false, &v);
}

uint32_t cg_resources_needed(const struct oci_resources *r)
{
	uint32_t m = 0;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (!table[i].best_effort && cg_resource_requested(&table[i], r))
			m |= 1u << table[i].ctrl;
	return m;
}

int cg_resources_available(struct cg_manager *cg, const struct oci_resources *r, bool v2_names,
			   struct bw_error *err)
{
	uint32_t needed = cg_resources_needed(r);
	for (int c = 0; c < CG_NCTRL; c++) {
		const char *name = v2_names ? cg_ctrl_v2_name(c) : NULL;
		if ((needed & (1u << c)) && cg->ctrl_at[c] < 0)
			return bw_fail(err, 0,
				       "%s: the %s controller is not available on this host",
				       cg_ctrl_field(c), name != NULL ? name : cg_ctrl_v1_name(c));
	}
	return 0;
}

void cg_resource_format(const struct cg_resource *row, enum cg_how how, int64_t v,
			char out[static 32])
{
	if (how == CG_MAX && v < 0)
		strcpy(out, "max");
	else if (how == CG_WEIGHT)
		snprintf(out, 32, "%" PRIu64, cg_shares_to_weight((uint64_t)v));
	else if (row->is_unsigned)
		snprintf(out, 32, "%" PRIu64, (uint64_t)v);
	else
		snprintf(out, 32, "%" PRId64, v);
}

/* Everything refused before anything is written. Rows that share a check run it once. */
static int check_rows(const char *const dirs[CG_NCTRL], bool v2, const struct oci_resources *r,
		      struct bw_error *err)
{
	cg_check_fn done = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct cg_resource *row = &table[i];
		const struct cg_file *f = v2 ? &row->v2 : &row->v1;
		if (dirs[row->ctrl] == NULL || !cg_resource_requested(row, r))
			continue;
		if (f->how == CG_REFUSED)
			return bw_fail(err, 0, "%s: not supported on cgroup v%d", row->field,
				       v2 ? 2 : 1);
		if (f->check != NULL && f->check(r, err) < 0)
			return -1;
		if (row->check != NULL && row->check != done && row->check(r, err) < 0)
			return -1;
		done = row->check != NULL ? row->check : done;
	}
	return 0;
}

static int write_row(const struct cg_resource *row, const struct cg_file *f, const char *dir,
		     const struct oci_resources *r, bool update, int64_t v, struct bw_error *err)
{
	char buf[32];
	switch (f->how) {
	case CG_NOT_HERE:
		log_debug("%s: ignored on this cgroup version", row->field);
		return 0;
	case CG_REFUSED:
	case CG_CHECKED:
		return 0;
	case CG_FN:
		return f->set(dir, r, update, err);
	case CG_DEC:
	case CG_MAX:
	case CG_WEIGHT:
		break;
	}
	if (f->optional && !cg_has_file(dir, f->file)) {
		log_debug("%s: not supported by this kernel", row->field);
		return 0;
	}
	cg_resource_format(row, f->how, v, buf);
	if (cg_write(dir, f->file, buf, err) < 0)
		return bw_wrap(err, "%s", row->field);
	return 0;
}

int cg_resources_write(const char *const dirs[CG_NCTRL], bool v2, const struct oci_resources *r,
		       bool update, struct bw_error *err)
{
	if (check_rows(dirs, v2, r, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct cg_resource *row = &table[i];
		int64_t v;
		if (dirs[row->ctrl] == NULL || !row->get(r, update, &v))
			continue;
		if (write_row(row, v2 ? &row->v2 : &row->v1, dirs[row->ctrl], r, update, v, err) <
		    0)
			return -1;
	}
	return 0;
}
