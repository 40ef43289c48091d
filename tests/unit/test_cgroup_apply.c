/* The cgroup back-ends end to end on a stand-in cgroup: a temporary directory holding the
 * interface files a v1 or v2 cgroup would have, written by cg_v1_apply / cg_v2_apply. What each
 * OCI field becomes in which file (cpu.weight from shares, cpu.max, memory.swap.max from the
 * OCI memory+swap figure, "max" for -1...) is read back. No root, no cgroupfs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

static const char *const v2_files[][2] = {
    {"cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma"},
    {"cpu.weight", "100"},
    {"cpu.max", "max 100000"},
    {"cpu.max.burst", "0"},
    {"cpu.idle", "0"},
    {"cpuset.cpus", ""},
    {"cpuset.mems", ""},
    {"memory.max", "max"},
    {"memory.current", "1048576"},
    {"memory.swap.max", "max"},
    {"memory.low", "0"},
    {"pids.max", "max"},
    {"io.weight", "default 100"},
    {"io.max", ""},
    {"hugetlb.2MB.max", "max"},
    {"rdma.max", ""},
};

static const char *const v1_files[][2] = {
    {"cpu.shares", "1024"},
    {"cpu.cfs_quota_us", "-1"},
    {"cpu.cfs_period_us", "100000"},
    {"cpu.cfs_burst_us", "0"},
    {"cpu.idle", "0"},
    {"cpu.rt_period_us", "1000000"},
    {"cpu.rt_runtime_us", "0"},
    {"cpuset.cpus", "0"},
    {"cpuset.mems", "0"},
    {"memory.limit_in_bytes", "9223372036854771712"},
    {"memory.memsw.limit_in_bytes", "9223372036854771712"},
    {"memory.usage_in_bytes", "1048576"},
    {"memory.soft_limit_in_bytes", "9223372036854771712"},
    {"memory.swappiness", "60"},
    {"memory.oom_control", "0"},
    {"memory.kmem.tcp.limit_in_bytes", "9223372036854771712"},
    {"pids.max", "max"},
    {"blkio.weight", "500"},
    {"blkio.leaf_weight", "500"},
    {"blkio.throttle.read_bps_device", ""},
    {"hugetlb.2MB.limit_in_bytes", "9223372036854771712"},
    {"net_cls.classid", "0"},
    {"net_prio.ifpriomap", ""},
};

static const enum cg_ctrl served[] = {CG_CPU,	  CG_CPUSET, CG_MEMORY,	 CG_PIDS,    CG_BLKIO,
				      CG_HUGETLB, CG_RDMA,   CG_NET_CLS, CG_NET_PRIO};

/* One hierarchy at a fresh temporary directory serving every controller above (the net ones
 * only on v1, as on a real host). */
static struct cg_manager *fake_cgroup(bool v2)
{
	char tmpl[] = "/tmp/bw-cgapply-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	struct cg_manager *cg = xcalloc(1, sizeof(*cg));
	cg->mode = v2 ? CG_MODE_UNIFIED : CG_MODE_LEGACY;
	cg->clone_fd = -1;
	cg->v2 = v2 ? 0 : -1;
	cg->nh = 1;
	cg->h = xcalloc(1, sizeof(*cg->h));
	cg->h[0].m.v2 = v2;
	cg->h[0].dir = xstrdup(tmpl);
	for (int c = 0; c < CG_NCTRL; c++)
		cg->ctrl_at[c] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(served); i++)
		if (!v2 || (served[i] != CG_NET_CLS && served[i] != CG_NET_PRIO))
			cg->ctrl_at[served[i]] = 0;
	size_t n = v2 ? ARRAY_SIZE(v2_files) : ARRAY_SIZE(v1_files);
	for (size_t i = 0; i < n; i++) {
		const char *const *f = v2 ? v2_files[i] : v1_files[i];
		_cleanup_free_ char *p = fs_path_join(tmpl, f[0]);
		FILE *fp = fopen(p, "w");
		cr_assert_not_null(fp, "%s", p);
		fputs(f[1], fp);
		fclose(fp);
	}
	return cg;
}

static void drop(struct cg_manager *cg)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", cg->h[0].dir);
	cr_assert_eq(system(cmd), 0);
	cg_free(cg);
}

static void set_file(struct cg_manager *cg, const char *file, const char *v)
{
	struct bw_error err = {0};
	cr_assert_eq(cg_write(cg->h[0].dir, file, v, &err), 0, "%s", err.msg);
}

#define assert_file(cg, file, want)                                                                \
	do {                                                                                       \
		_cleanup_free_ char *got_ = NULL;                                                  \
		struct bw_error e_ = {0};                                                          \
		cr_assert_eq(cg_read((cg)->h[0].dir, file, &got_, &e_), 0, "%s", e_.msg);          \
		cr_assert_str_eq(got_, want, "%s", file);                                          \
	} while (0)

static int apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		 struct bw_error *err)
{
	if (cg_v1_apply(cg, r, how, err) < 0 || cg_v2_apply(cg, r, how, err) < 0)
		return -1;
	return 0;
}

static void apply_ok(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how)
{
	struct bw_error err = {0};
	cr_assert_eq(apply(cg, r, how, &err), 0, "%s", err.msg);
}

static void apply_fails(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
			const char *prefix)
{
	struct bw_error err = {0};
	cr_assert_eq(apply(cg, r, how, &err), -1);
	cr_assert(str_has_prefix(err.msg, prefix), "%s", err.msg);
}

#define I64(x) ((struct opt_i64){true, (x)})
#define U64(x) ((struct opt_u64){true, (x)})
#define BOOL(x) ((struct opt_bool){true, (x)})

/* ---- v2 ---- */

Test(cgroup_apply_v2, shares_become_cpu_weight_and_quota_period_cpu_max)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.cpu.shares = U64(1024);
	r.cpu.quota = I64(50000);
	r.cpu.period = U64(200000);
	r.cpu.burst = U64(1000);
	r.cpu.idle = I64(1);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "cpu.weight", "39");
	assert_file(cg, "cpu.max", "50000 200000");
	assert_file(cg, "cpu.max.burst", "1000");
	assert_file(cg, "cpu.idle", "1");
	drop(cg);
}

Test(cgroup_apply_v2, a_period_alone_keeps_the_quota_in_place_and_minus_one_is_max)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	set_file(cg, "cpu.max", "30000 100000");
	r.cpu.period = U64(50000);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "cpu.max", "30000 50000");
	r.cpu.period = (struct opt_u64){0};
	r.cpu.quota = I64(-1);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "cpu.max", "max");
	drop(cg);
}

Test(cgroup_apply_v2, docker_zero_values_write_nothing)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.cpu.shares = U64(0);
	r.cpu.quota = I64(0);
	r.memory.limit = I64(0);
	r.memory.reservation = I64(0);
	r.pids_limit = I64(0);
	r.block_io.weight = U64(0);
	r.memory.disable_oom_killer = BOOL(false);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "cpu.weight", "100");
	assert_file(cg, "cpu.max", "max 100000");
	assert_file(cg, "memory.max", "max");
	assert_file(cg, "memory.low", "0");
	assert_file(cg, "pids.max", "max");
	assert_file(cg, "io.weight", "default 100");
	drop(cg);
}

Test(cgroup_apply_v2, swap_max_is_the_oci_swap_minus_the_limit)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.memory.limit = I64(64 << 20);
	r.memory.swap = I64(96 << 20);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "memory.max", "67108864");
	assert_file(cg, "memory.swap.max", "33554432");
	drop(cg);
}

Test(cgroup_apply_v2, swap_alone_is_counted_from_the_limit_in_place)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	set_file(cg, "memory.max", "33554432");
	r.memory.swap = I64(48 << 20);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "memory.swap.max", "16777216");
	r.memory.swap = I64(16 << 20);
	apply_fails(cg, &r, CG_APPLY_UPDATE, "linux.resources.memory.swap: must be at least");
	drop(cg);
}

Test(cgroup_apply_v2, unlimited_memory_makes_swap_unlimited_too)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	set_file(cg, "memory.max", "1000");
	set_file(cg, "memory.swap.max", "0");
	r.memory.limit = I64(-1);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "memory.max", "max");
	assert_file(cg, "memory.swap.max", "max");
	drop(cg);
}

Test(cgroup_apply_v2, swap_without_swap_accounting_is_refused_unless_unlimited)
{
	struct cg_manager *cg = fake_cgroup(true);
	_cleanup_free_ char *p = fs_path_join(cg->h[0].dir, "memory.swap.max");
	cr_assert_eq(unlink(p), 0);
	struct oci_resources r = {0};
	r.memory.limit = I64(1 << 20);
	r.memory.swap = I64(-1);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	r.memory.swap = I64(2 << 20);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.memory.swap: swap accounting is not enabled");
	drop(cg);
}

Test(cgroup_apply_v2, reservation_pids_and_io_weight)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.memory.reservation = I64(-1);
	r.pids_limit = I64(-1);
	r.block_io.weight = U64(500);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "memory.low", "max");
	assert_file(cg, "pids.max", "max");
	assert_file(cg, "io.weight", "4950");
	r.memory.reservation = I64(4096);
	r.pids_limit = I64(42);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "memory.low", "4096");
	assert_file(cg, "pids.max", "42");
	drop(cg);
}

Test(cgroup_apply_v2, cpuset_hugetlb_rdma_and_io_max)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	struct oci_hugepage_limit h = {.page_size = "2MB", .limit = 4 << 20};
	struct oci_rdma d = {.device = "mlx5_0", .hca_handles = U64(3)};
	struct oci_throttle_device t = {.major = 8, .minor = 0, .rate = 1024};
	r.cpu.cpus = "0";
	r.cpu.mems = "0";
	r.hugepage_limits = &h;
	r.n_hugepage_limits = 1;
	r.rdma = &d;
	r.n_rdma = 1;
	r.block_io.throttle[OCI_THROTTLE_READ_BPS] = &t;
	r.block_io.n_throttle[OCI_THROTTLE_READ_BPS] = 1;
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "cpuset.cpus", "0");
	assert_file(cg, "cpuset.mems", "0");
	assert_file(cg, "hugetlb.2MB.max", "4194304");
	assert_file(cg, "rdma.max", "mlx5_0 hca_handle=3");
	assert_file(cg, "io.max", "8:0 rbps=1024");
	h.page_size = "1GB";
	apply_fails(cg, &r, CG_APPLY_CREATE, "linux.resources.hugepageLimits[0].pageSize: ");
	drop(cg);
}

Test(cgroup_apply_v2, what_v2_cannot_express_is_refused_naming_the_field)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.cpu.realtime_runtime = I64(1000);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
	r = (struct oci_resources){0};
	r.cpu.realtime_period = U64(1000);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.cpu.realtimePeriod: not supported on cgroup v2");
	r = (struct oci_resources){0};
	r.memory.disable_oom_killer = BOOL(true);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
	r = (struct oci_resources){0};
	r.memory.swappiness = U64(101);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.memory.swappiness: not supported on cgroup v2");
	r = (struct oci_resources){0};
	r.cpu.shares = U64(1);
	apply_fails(cg, &r, CG_APPLY_CREATE, "linux.resources.cpu.shares: must be between");
	drop(cg);
}

Test(cgroup_apply_v2, check_before_update_refuses_a_limit_below_usage)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	r.memory.limit = I64(4096);
	r.memory.check_before_update = BOOL(true);
	apply_fails(cg, &r, CG_APPLY_UPDATE,
		    "linux.resources.memory.limit: 4096 is below the current usage");
	assert_file(cg, "memory.max", "max");
	drop(cg);
}

Test(cgroup_apply_v2, a_missing_controller_is_named)
{
	struct cg_manager *cg = fake_cgroup(true);
	struct oci_resources r = {0};
	cg->ctrl_at[CG_PIDS] = -1;
	r.pids_limit = I64(10);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.pids: the pids controller is not available on this host");
	drop(cg);
}

/* ---- v1 ---- */

Test(cgroup_apply_v1, cpu_files_take_the_oci_values_as_they_are)
{
	struct cg_manager *cg = fake_cgroup(false);
	struct oci_resources r = {0};
	r.cpu.shares = U64(512);
	r.cpu.quota = I64(20000);
	r.cpu.period = U64(50000);
	r.cpu.burst = U64(7);
	r.cpu.idle = I64(1);
	r.cpu.realtime_period = U64(900000);
	r.cpu.realtime_runtime = I64(1000);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "cpu.shares", "512");
	assert_file(cg, "cpu.cfs_quota_us", "20000");
	assert_file(cg, "cpu.cfs_period_us", "50000");
	assert_file(cg, "cpu.cfs_burst_us", "7");
	assert_file(cg, "cpu.idle", "1");
	assert_file(cg, "cpu.rt_period_us", "900000");
	assert_file(cg, "cpu.rt_runtime_us", "1000");
	drop(cg);
}

Test(cgroup_apply_v1, memory_limit_swap_and_the_rest)
{
	struct cg_manager *cg = fake_cgroup(false);
	struct oci_resources r = {0};
	r.memory.limit = I64(64 << 20);
	r.memory.swap = I64(96 << 20);
	r.memory.reservation = I64(-1);
	r.memory.swappiness = U64(30);
	r.memory.disable_oom_killer = BOOL(true);
	r.memory.kernel_tcp = I64(1 << 20);
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "memory.limit_in_bytes", "67108864");
	assert_file(cg, "memory.memsw.limit_in_bytes", "100663296");
	assert_file(cg, "memory.soft_limit_in_bytes", "-1");
	assert_file(cg, "memory.swappiness", "30");
	assert_file(cg, "memory.oom_control", "1");
	assert_file(cg, "memory.kmem.tcp.limit_in_bytes", "1048576");
	/* An update that turns the OOM killer back on writes it; a create leaves it alone. */
	r = (struct oci_resources){0};
	r.memory.disable_oom_killer = BOOL(false);
	apply_ok(cg, &r, CG_APPLY_UPDATE);
	assert_file(cg, "memory.oom_control", "0");
	drop(cg);
}

Test(cgroup_apply_v1, swap_below_the_limit_and_missing_swap_accounting_are_refused)
{
	struct cg_manager *cg = fake_cgroup(false);
	struct oci_resources r = {0};
	r.memory.limit = I64(2 << 20);
	r.memory.swap = I64(1 << 20);
	apply_fails(cg, &r, CG_APPLY_CREATE, "linux.resources.memory.swap: must be at least");
	_cleanup_free_ char *p = fs_path_join(cg->h[0].dir, "memory.memsw.limit_in_bytes");
	cr_assert_eq(unlink(p), 0);
	r.memory.swap = I64(4 << 20);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.memory.swap: swap accounting is not enabled");
	drop(cg);
}

Test(cgroup_apply_v1, pids_blkio_hugetlb_and_network)
{
	struct cg_manager *cg = fake_cgroup(false);
	struct oci_resources r = {0};
	struct oci_hugepage_limit h = {.page_size = "2MB", .limit = 2 << 20};
	struct oci_net_priority np = {.name = "eth0", .priority = 5};
	r.pids_limit = I64(-1);
	r.block_io.weight = U64(300);
	r.block_io.leaf_weight = U64(200);
	r.hugepage_limits = &h;
	r.n_hugepage_limits = 1;
	r.net_class_id = U64(0x100001);
	r.net_priorities = &np;
	r.n_net_priorities = 1;
	apply_ok(cg, &r, CG_APPLY_CREATE);
	assert_file(cg, "pids.max", "max");
	assert_file(cg, "blkio.weight", "300");
	assert_file(cg, "blkio.leaf_weight", "200");
	assert_file(cg, "hugetlb.2MB.limit_in_bytes", "2097152");
	assert_file(cg, "net_cls.classid", "1048577");
	assert_file(cg, "net_prio.ifpriomap", "eth0 5");
	drop(cg);
}

Test(cgroup_apply_v1, a_missing_controller_is_named)
{
	struct cg_manager *cg = fake_cgroup(false);
	struct oci_resources r = {0};
	cg->ctrl_at[CG_NET_CLS] = -1;
	r.net_class_id = U64(1);
	apply_fails(cg, &r, CG_APPLY_CREATE,
		    "linux.resources.network.classID: the net_cls controller is not available");
	drop(cg);
}

/* ---- the resource table ---- */

/* One way to set each row's field, by the row's name. A row without one here fails
 * every_row_has_a_setter: a new limit comes with its line. */
static struct oci_hugepage_limit t_huge = {.page_size = "2MB", .limit = 1};
static struct oci_rdma t_rdma = {.device = "mlx5_0", .hca_handles = {true, 1}};
static struct oci_net_priority t_prio = {.name = "eth0", .priority = 1};
static struct oci_weight_device t_wdev = {.major = 8, .minor = 0, .weight = {true, 100}};
static struct oci_throttle_device t_thr = {.major = 8, .minor = 0, .rate = 1};

static void set_row_field(const char *field, struct oci_resources *r)
{
	const char *f = field + strlen("linux.resources.");
	if (strcmp(f, "cpu.shares") == 0)
		r->cpu.shares = U64(1024);
	else if (strcmp(f, "cpu.quota") == 0)
		r->cpu.quota = I64(50000);
	else if (strcmp(f, "cpu.burst") == 0)
		r->cpu.burst = U64(0);
	else if (strcmp(f, "cpu.idle") == 0)
		r->cpu.idle = I64(0);
	else if (strcmp(f, "cpu.realtimePeriod") == 0)
		r->cpu.realtime_period = U64(1000000);
	else if (strcmp(f, "cpu.realtimeRuntime") == 0)
		r->cpu.realtime_runtime = I64(1000);
	else if (strcmp(f, "cpu.cpus") == 0)
		r->cpu.cpus = "0";
	else if (strcmp(f, "cpu.mems") == 0)
		r->cpu.mems = "0";
	else if (strcmp(f, "memory.limit") == 0)
		r->memory.limit = I64(1 << 20);
	else if (strcmp(f, "memory.reservation") == 0)
		r->memory.reservation = I64(1 << 20);
	else if (strcmp(f, "memory.kernel") == 0)
		r->memory.kernel = I64(1 << 20);
	else if (strcmp(f, "memory.kernelTCP") == 0)
		r->memory.kernel_tcp = I64(1 << 20);
	else if (strcmp(f, "memory.swappiness") == 0)
		r->memory.swappiness = U64(0);
	else if (strcmp(f, "memory.disableOOMKiller") == 0)
		r->memory.disable_oom_killer = BOOL(true);
	else if (strcmp(f, "pids.limit") == 0)
		r->pids_limit = I64(-1);
	else if (strcmp(f, "blockIO.weight") == 0)
		r->block_io.weight = U64(500);
	else if (strcmp(f, "blockIO.leafWeight") == 0)
		r->block_io.leaf_weight = U64(500);
	else if (strcmp(f, "blockIO.weightDevice") == 0) {
		r->block_io.weight_devices = &t_wdev;
		r->block_io.n_weight_devices = 1;
	} else if (strcmp(f, "blockIO.throttle") == 0) {
		r->block_io.throttle[OCI_THROTTLE_WRITE_IOPS] = &t_thr;
		r->block_io.n_throttle[OCI_THROTTLE_WRITE_IOPS] = 1;
	} else if (strcmp(f, "hugepageLimits") == 0) {
		r->hugepage_limits = &t_huge;
		r->n_hugepage_limits = 1;
	} else if (strcmp(f, "rdma") == 0) {
		r->rdma = &t_rdma;
		r->n_rdma = 1;
	} else if (strcmp(f, "network.classID") == 0)
		r->net_class_id = U64(0);
	else if (strcmp(f, "network.priorities") == 0) {
		r->net_priorities = &t_prio;
		r->n_net_priorities = 1;
	} else
		cr_assert_fail("no setter for table row %s: add one here", field);
}

Test(cgroup_table, every_row_has_a_setter_and_reports_its_controller_needed)
{
	size_t n;
	const struct cg_resource *t = cg_resource_table(&n);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		struct oci_resources r = {0};
		cr_assert_not(cg_resource_requested(&t[i], &r), "%s", t[i].field);
		set_row_field(t[i].field, &r);
		cr_assert(cg_resource_requested(&t[i], &r), "%s", t[i].field);
		uint32_t want = t[i].best_effort ? 0 : 1u << t[i].ctrl;
		cr_assert_eq(cg_resources_needed(&r), want, "%s needs %s: got 0x%x", t[i].field,
			     cg_ctrl_v1_name(t[i].ctrl), cg_resources_needed(&r));
	}
}

/* The controllers a config can ask for are exactly those the table has rows for. */
Test(cgroup_table, all_fields_set_need_every_resource_controller)
{
	size_t n;
	const struct cg_resource *t = cg_resource_table(&n);
	struct oci_resources r = {0};
	for (size_t i = 0; i < n; i++)
		set_row_field(t[i].field, &r);
	uint32_t want = (1u << CG_CPU) | (1u << CG_CPUSET) | (1u << CG_MEMORY) | (1u << CG_PIDS) |
			(1u << CG_BLKIO) | (1u << CG_HUGETLB) | (1u << CG_RDMA) |
			(1u << CG_NET_CLS) | (1u << CG_NET_PRIO);
	cr_assert_eq(cg_resources_needed(&r), want, "0x%x", cg_resources_needed(&r));
}

/* A row names a field of linux.resources, and says for both versions what it does: a file
 * (with its name), a writer, a refusal or an explicit "ignored". */
Test(cgroup_table, every_row_says_what_each_version_does)
{
	size_t n;
	const struct cg_resource *t = cg_resource_table(&n);
	for (size_t i = 0; i < n; i++) {
		cr_assert(str_has_prefix(t[i].field, "linux.resources."), "%s", t[i].field);
		cr_assert_not_null(t[i].get, "%s", t[i].field);
		const struct cg_file *v[2] = {&t[i].v1, &t[i].v2};
		for (int k = 0; k < 2; k++) {
			bool file =
			    v[k]->how == CG_DEC || v[k]->how == CG_MAX || v[k]->how == CG_WEIGHT;
			cr_assert(!file || v[k]->file != NULL, "%s v%d", t[i].field, k + 1);
			cr_assert(v[k]->how != CG_FN || v[k]->set != NULL, "%s v%d", t[i].field,
				  k + 1);
			cr_assert(v[k]->how != CG_CHECKED || v[k]->check != NULL, "%s v%d",
				  t[i].field, k + 1);
		}
	}
}

static const struct cg_resource *row(const char *field)
{
	size_t n;
	const struct cg_resource *t = cg_resource_table(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].field, field) == 0)
			return &t[i];
	cr_assert_fail("no row %s", field);
	return NULL;
}

Test(cgroup_table, file_values_as_each_version_spells_them)
{
	char out[32];
	const struct cg_resource *shares = row("linux.resources.cpu.shares");
	cg_resource_format(shares, shares->v2.how, 1024, out);
	cr_assert_str_eq(out, "39");
	cg_resource_format(shares, shares->v1.how, 1024, out);
	cr_assert_str_eq(out, "1024");
	const struct cg_resource *low = row("linux.resources.memory.reservation");
	cg_resource_format(low, low->v2.how, -1, out);
	cr_assert_str_eq(out, "max");
	cg_resource_format(low, low->v1.how, -1, out);
	cr_assert_str_eq(out, "-1");
	const struct cg_resource *burst = row("linux.resources.cpu.burst");
	cg_resource_format(burst, burst->v2.how, (int64_t)UINT64_MAX, out);
	cr_assert_str_eq(out, "18446744073709551615");
}
