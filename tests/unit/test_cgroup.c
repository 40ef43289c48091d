/* The cgroup manager's pure parts: v1 -> v2 conversions, cpu.max / io.max / swap strings, the
 * device rules as an eBPF program (run through a tiny interpreter) and as v1 writes, cpu lists,
 * cgroupsPath resolution and hierarchy discovery from mountinfo. No root, no cgroupfs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/util.h"

/* ---- conversions ---- */

Test(cgroup_convert, shares_map_onto_weight_range)
{
	cr_assert_eq(cg_shares_to_weight(2), 1);
	cr_assert_eq(cg_shares_to_weight(1024), 39);
	cr_assert_eq(cg_shares_to_weight(262144), 10000);
}

Test(cgroup_convert, blkio_weight_maps_onto_io_weight_range)
{
	cr_assert_eq(cg_blkio_weight_to_io(10), 1);
	cr_assert_eq(cg_blkio_weight_to_io(500), 4950);
	cr_assert_eq(cg_blkio_weight_to_io(1000), 10000);
}

Test(cgroup_convert, swap_max_is_swap_minus_limit)
{
	char out[32];
	struct bw_error err = {0};
	cr_assert_eq(cg_swap_to_v2(2 << 20, 1 << 20, out, &err), 0);
	cr_assert_str_eq(out, "1048576");
	cr_assert_eq(cg_swap_to_v2(1 << 20, 1 << 20, out, &err), 0);
	cr_assert_str_eq(out, "0");
	cr_assert_eq(cg_swap_to_v2(-1, 1 << 20, out, &err), 0);
	cr_assert_str_eq(out, "max");
}

Test(cgroup_convert, swap_below_limit_is_an_error_naming_the_field)
{
	char out[32];
	struct bw_error err = {0};
	cr_assert_eq(cg_swap_to_v2(1 << 20, 2 << 20, out, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.memory.swap: "), "%s", err.msg);
	cr_assert_eq(cg_swap_to_v2(1 << 20, -1, out, &err), -1);
	cr_assert(strstr(err.msg, "needs a memory limit") != NULL, "%s", err.msg);
}

static struct oci_cpu cpu_qp(int64_t quota, uint64_t period)
{
	struct oci_cpu c = {0};
	if (quota != 0)
		c.quota = (struct opt_i64){true, quota};
	if (period != 0)
		c.period = (struct opt_u64){true, period};
	return c;
}

Test(cgroup_convert, cpu_max_strings)
{
	char out[64];
	bool w;
	struct bw_error err = {0};
	struct oci_cpu c = cpu_qp(50000, 100000);
	cr_assert_eq(cg_cpu_max_string(&c, "max 100000", out, &w, &err), 0);
	cr_assert(w);
	cr_assert_str_eq(out, "50000 100000");
	c = cpu_qp(-1, 100000);
	cg_cpu_max_string(&c, "max 100000", out, &w, &err);
	cr_assert_str_eq(out, "max 100000");
	c = cpu_qp(25000, 0);
	cg_cpu_max_string(&c, "max 100000", out, &w, &err);
	cr_assert_str_eq(out, "25000");
}

Test(cgroup_convert, cpu_max_period_alone_keeps_the_current_quota)
{
	char out[64];
	bool w;
	struct bw_error err = {0};
	struct oci_cpu c = cpu_qp(0, 50000);
	cr_assert_eq(cg_cpu_max_string(&c, "20000 100000", out, &w, &err), 0);
	cr_assert_str_eq(out, "20000 50000");
}

Test(cgroup_convert, cpu_max_zero_quota_and_period_change_nothing)
{
	char out[64];
	bool w = true;
	struct bw_error err = {0};
	struct oci_cpu c = {.quota = {true, 0}, .period = {true, 0}, .shares = {true, 0}};
	cr_assert_eq(cg_cpu_max_string(&c, "max 100000", out, &w, &err), 0);
	cr_assert_not(w);
}

Test(cgroup_convert, cpu_values_out_of_range_name_the_field)
{
	char out[64];
	bool w;
	struct bw_error err = {0};
	struct oci_cpu c = cpu_qp(500, 100000);
	cr_assert_eq(cg_cpu_max_string(&c, "max 100000", out, &w, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.cpu.quota: "), "%s", err.msg);
	c = cpu_qp(50000, 5000000);
	cr_assert_eq(cg_cpu_validate(&c, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.cpu.period: "), "%s", err.msg);
	c = (struct oci_cpu){.shares = {true, 1}};
	cr_assert_eq(cg_cpu_validate(&c, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.cpu.shares: must be between 2 and 262144");
}

Test(cgroup_convert, io_max_has_one_line_per_device_with_all_its_limits)
{
	struct oci_throttle_device rb[] = {{8, 0, 1048576}, {8, 16, 0}};
	struct oci_throttle_device wi[] = {{8, 0, 100}};
	struct oci_block_io b = {0};
	b.throttle[OCI_THROTTLE_READ_BPS] = rb;
	b.n_throttle[OCI_THROTTLE_READ_BPS] = 2;
	b.throttle[OCI_THROTTLE_WRITE_IOPS] = wi;
	b.n_throttle[OCI_THROTTLE_WRITE_IOPS] = 1;
	char **l = cg_io_max_lines(&b);
	cr_assert_eq(strv_len(l), 2);
	cr_assert_str_eq(l[0], "8:0 rbps=1048576 wiops=100");
	cr_assert_str_eq(l[1], "8:16 rbps=max");
	strv_free(l);
}

Test(cgroup_convert, blkio_weight_out_of_range_is_an_error)
{
	struct oci_block_io b = {.weight = {true, 5}};
	struct bw_error err = {0};
	cr_assert_eq(cg_blkio_validate(&b, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.blockIO.weight: must be between 10 and 1000");
	b.weight.v = 0; /* Docker's "leave unchanged" */
	cr_assert_eq(cg_blkio_validate(&b, &err), 0);
}

Test(cgroup_convert, cpu_list_outside_the_host_names_the_cpu)
{
	struct bw_error err = {0};
	cr_assert_eq(cg_cpulist_check("linux.resources.cpu.cpus", "CPU", "0-1", "0-1", &err), 0);
	cr_assert_eq(cg_cpulist_check("linux.resources.cpu.cpus", "CPU", "1,99", "0-1\n", &err),
		     -1);
	cr_assert_str_eq(err.msg, "linux.resources.cpu.cpus: CPU 99 is not present on this host");
}

Test(cgroup_convert, cpu_list_syntax_errors)
{
	const char *bad[] = {"", "1-", "3-1", "a", "1,,2", "-1", "1 2", "0-99999999"};
	struct bw_error err = {0};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(cg_cpulist_check("f", "CPU", bad[i], "0-127", &err), -1, "%s", bad[i]);
	cr_assert_eq(cg_cpulist_check("f", "CPU", "0,2-3,5", "0-7", &err), 0);
}

Test(cgroup_convert, hugepage_sizes)
{
	cr_assert(cg_hugepage_size_valid("2MB"));
	cr_assert(cg_hugepage_size_valid("1GB"));
	cr_assert(cg_hugepage_size_valid("64KB"));
	cr_assert_not(cg_hugepage_size_valid("2mb"));
	cr_assert_not(cg_hugepage_size_valid("../2MB"));
	cr_assert_not(cg_hugepage_size_valid("MB"));
}

Test(cgroup_convert, unified_keys)
{
	struct bw_error err = {0};
	cr_assert_eq(cg_unified_key_check("memory.high", &err), 0);
	cr_assert_eq(cg_unified_key_check("cgroup.max.depth", &err), 0);
	cr_assert_eq(cg_unified_key_check("../memory.max", &err), -1);
	cr_assert_str_eq(err.msg,
			 "linux.resources.unified.../memory.max: not a cgroup interface file name");
	cr_assert_eq(cg_unified_key_check("cgroup.procs", &err), -1);
	cr_assert_eq(cg_unified_key_check("memory", &err), -1);
	cr_assert_eq(cg_unified_key_check("a/b.c", &err), -1);
}

/* ---- devices ---- */

/* Enough of the BPF machine for the generated programs. */
static int bpf_run(const struct bpf_insn *p, size_t n, unsigned type, unsigned acc, unsigned maj,
		   unsigned min)
{
	uint32_t ctx[3] = {(acc << 16) | type, maj, min};
	uint64_t r[11] = {0};
	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		uint8_t cls = BPF_CLASS(i->code);
		if (cls == BPF_LDX) {
			r[i->dst_reg] = ctx[i->off / 4];
		} else if (cls == BPF_ALU || cls == BPF_ALU64) {
			uint64_t src = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)i->imm;
			switch (BPF_OP(i->code)) {
			case BPF_MOV:
				r[i->dst_reg] = src;
				break;
			case BPF_AND:
				r[i->dst_reg] &= src;
				break;
			case BPF_RSH:
				r[i->dst_reg] >>= src;
				break;
			default:
				cr_assert_fail("op %x", i->code);
			}
			if (cls == BPF_ALU)
				r[i->dst_reg] &= 0xffffffff;
		} else if (i->code == (BPF_JMP | BPF_JNE | BPF_K)) {
			if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += (size_t)i->off;
		} else if (i->code == (BPF_JMP | BPF_JEQ | BPF_K)) {
			if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm)
				pc += (size_t)i->off;
		} else if (i->code == (BPF_JMP | BPF_EXIT)) {
			return (int)r[0];
		} else {
			cr_assert_fail("insn %x", i->code);
		}
	}
	cr_assert_fail("fell off the end");
	return -1;
}

enum { CHR = BPF_DEVCG_DEV_CHAR, BLK = BPF_DEVCG_DEV_BLOCK };
enum { R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD };

static struct bpf_insn *program_for(struct oci_device_cgroup *d, size_t nd, size_t *n)
{
	struct oci_resources res = {.devices = d, .n_devices = nd};
	struct cg_dev_rule *rules;
	struct bpf_insn *p;
	size_t nr;
	struct bw_error err = {0};
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &nr, &err), 0, "%s", err.msg);
	cr_assert_eq(cg_devices_bpf_build(rules, nr, &p, n, &err), 0, "%s", err.msg);
	free(rules);
	return p;
}

/* Docker's list: deny all, allow a few, deny 10:229. */
static struct oci_device_cgroup docker_rules[] = {
    {false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 5, "rwm"},     {true, 'c', 1, 3, "rwm"},
    {true, 'c', 5, 1, "rwm"},	 {false, 'c', 10, 229, "rwm"},
};

/* A rule with an empty access is dropped: it neither grants nor denies. */
Test(cgroup_devices, empty_access_is_a_rule_that_does_nothing)
{
	struct oci_device_cgroup d[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 10, 200, ""}};
	struct oci_resources res = {.devices = d, .n_devices = 1};
	struct cg_dev_rule *rules;
	size_t n1, n2;
	struct bw_error err = {0};
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &n1, &err), 0, "%s", err.msg);
	free(rules);
	res.n_devices = 2;
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &n2, &err), 0, "%s", err.msg);
	free(rules);
	cr_assert_eq(n1, n2);
}

Test(cgroup_devices, bpf_default_list_only_allows_the_basic_devices)
{
	struct oci_device_cgroup deny_all = {false, 'a', -1, -1, "rwm"}; /* Podman's only rule */
	size_t n;
	struct bpf_insn *p = program_for(&deny_all, 1, &n);
	cr_assert_eq(bpf_run(p, n, CHR, R | W, 1, 3), 1, "/dev/null");
	cr_assert_eq(bpf_run(p, n, CHR, R, 1, 9), 1, "/dev/urandom");
	cr_assert_eq(bpf_run(p, n, CHR, R | W, 136, 7), 1, "/dev/pts/7");
	cr_assert_eq(bpf_run(p, n, CHR, R | W, 5, 2), 1, "/dev/ptmx");
	cr_assert_eq(bpf_run(p, n, BLK, R, 254, 0), 0, "block disk");
	cr_assert_eq(bpf_run(p, n, CHR, R | W, 10, 200), 0, "tun");
	cr_assert_eq(bpf_run(p, n, CHR, M, 4, 1), 0, "mknod of another char device");
	free(p);
}

Test(cgroup_devices, bpf_last_match_wins_and_defaults_come_last)
{
	size_t n;
	struct bpf_insn *p = program_for(docker_rules, ARRAY_SIZE(docker_rules), &n);
	cr_assert_eq(bpf_run(p, n, CHR, R, 5, 1), 1);
	cr_assert_eq(bpf_run(p, n, CHR, R, 10, 229), 0);
	cr_assert_eq(bpf_run(p, n, BLK, M, 8, 0), 0);
	free(p);

	struct oci_device_cgroup revoke[] = {{true, 'c', 4, -1, "rwm"}, {false, 'c', 4, 2, "w"}};
	p = program_for(revoke, 2, &n);
	cr_assert_eq(bpf_run(p, n, CHR, R, 4, 2), 1, "read still allowed");
	cr_assert_eq(bpf_run(p, n, CHR, R | W, 4, 2), 0, "write revoked by the later rule");
	cr_assert_eq(bpf_run(p, n, CHR, W, 4, 3), 1);
	cr_assert_eq(bpf_run(p, n, CHR, M, 4, 2), 1, "mknod not named by the deny");
	free(p);
}

Test(cgroup_devices, bpf_access_subset_rule)
{
	struct oci_device_cgroup ro[] = {{true, 'b', 8, 0, "r"}};
	size_t n;
	struct bpf_insn *p = program_for(ro, 1, &n);
	cr_assert_eq(bpf_run(p, n, BLK, R, 8, 0), 1);
	cr_assert_eq(bpf_run(p, n, BLK, R | W, 8, 0), 0);
	cr_assert_eq(bpf_run(p, n, BLK, M, 8, 0), 0);
	cr_assert_eq(bpf_run(p, n, CHR, R, 8, 0), 0, "type must match");
	free(p);
}

Test(cgroup_devices, bpf_program_shape)
{
	size_t nd, n;
	const struct cg_dev_rule *d = cg_dev_default_rules(&nd);
	struct bpf_insn *p;
	struct bw_error err = {0};
	cr_assert_eq(cg_devices_bpf_build(d, nd, &p, &n, &err), 0);
	/* 6 prologue loads/shifts; 8 rules of type+major+minor+return (5); pts (4); default (2). */
	cr_assert_eq(n, 6 + 8 * 5 + 4 + 2);
	cr_assert_eq(p[0].code, BPF_LDX | BPF_MEM | BPF_W);
	/* The first rule tested is the last listed (pts, 136:*): type and major, then allow. */
	cr_assert_eq(p[6].code, BPF_JMP | BPF_JNE | BPF_K);
	cr_assert_eq(p[6].imm, BPF_DEVCG_DEV_CHAR);
	cr_assert_eq(p[6].off, 3);
	cr_assert_eq(p[7].imm, 136);
	cr_assert_eq(p[7].off, 2);
	cr_assert_eq(p[8].imm, 1);
	cr_assert_eq(p[9].code, BPF_JMP | BPF_EXIT);
	cr_assert_eq(p[n - 2].imm, 0, "default deny");
	cr_assert_eq(p[n - 1].code, BPF_JMP | BPF_EXIT);
	free(p);
}

Test(cgroup_devices, bpf_unconditional_rule_ends_the_program)
{
	/* Code after an unconditional match would be unreachable, which the verifier refuses. */
	struct cg_dev_rule all[] = {{false, 'c', 1, 3, CG_ACC_ALL, 0},
				    {true, 'a', -1, -1, CG_ACC_ALL, 0}};
	struct bpf_insn *p;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(cg_devices_bpf_build(all, 2, &p, &n, &err), 0);
	cr_assert_eq(n, 6 + 2);
	cr_assert_eq(bpf_run(p, n, BLK, R | W | M, 8, 0), 1);
	free(p);
}

Test(cgroup_devices, bad_rule_type_names_the_field)
{
	struct oci_device_cgroup d = {true, 'x', 1, 1, "rwm"};
	struct oci_resources res = {.devices = &d, .n_devices = 1};
	struct cg_dev_rule *rules;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &n, &err), -1);
	cr_assert_str_eq(err.msg, "linux.resources.devices[0].type: must be a, c or b");
	d = (struct oci_device_cgroup){true, 'c', 1, 1, "rwx"};
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &n, &err), -1);
}

static struct cg_v1_dev_write *plan_for(struct oci_device_cgroup *d, size_t nd, size_t *n,
					int expect)
{
	struct oci_resources res = {.devices = d, .n_devices = nd};
	struct cg_dev_rule *rules;
	struct cg_v1_dev_write *w = NULL;
	size_t nr;
	struct bw_error err = {0};
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &nr, &err), 0);
	cr_assert_eq(cg_devices_v1_plan(rules, nr, &w, n, &err), expect, "%s", err.msg);
	free(rules);
	return w;
}

Test(cgroup_devices, v1_lines_for_docker_rules)
{
	size_t n;
	struct cg_v1_dev_write *w = plan_for(docker_rules, ARRAY_SIZE(docker_rules), &n, 0);
	/* deny a (reset), deny a (rule 0), 3 allows, nothing for 10:229, 9 defaults. */
	cr_assert_eq(n, 2 + 3 + 9);
	cr_assert_not(w[0].allow);
	cr_assert_str_eq(w[0].rule, "a");
	cr_assert(w[2].allow);
	cr_assert_str_eq(w[2].rule, "c 1:5 rwm");
	cr_assert_str_eq(w[n - 1].rule, "c 136:* rwm");
	for (size_t i = 0; i < n; i++)
		cr_assert(strstr(w[i].rule, "10:229") == NULL);
	free(w);
}

/* The kernel reads only the first letter of a v1 devices line: "a 4:* m" written to
 * devices.allow would allow every device. No planned write may start with "a" but the bare
 * reset; a partial "a" rule becomes the same rule for char and for block devices. */
Test(cgroup_devices, v1_partial_a_rules_never_reach_the_kernel_as_a)
{
	struct oci_device_cgroup one[] = {{false, 'a', -1, -1, "rwm"}, {true, 'a', 4, -1, "m"}};
	struct oci_device_cgroup two[] = {{true, 'a', -1, -1, "r"}};
	struct oci_device_cgroup three[] = {{false, 'a', -1, -1, "rwm"}, {true, 'a', 4, 2, "rwm"}};
	struct {
		struct oci_device_cgroup *d;
		size_t n;
	} cases[] = {{one, 2}, {two, 1}, {three, 2}};
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		size_t n;
		struct cg_v1_dev_write *w = plan_for(cases[c].d, cases[c].n, &n, 0);
		bool saw_c = false, saw_b = false;
		for (size_t i = 0; i < n; i++) {
			cr_assert(w[i].rule[0] != 'a' || strcmp(w[i].rule, "a") == 0,
				  "case %zu: `%s` would reset the cgroup", c, w[i].rule);
			cr_assert(!(w[i].allow && strcmp(w[i].rule, "a") == 0),
				  "case %zu: allows every device", c);
			saw_c |= w[i].allow && w[i].rule[0] == 'c' &&
				 strstr(w[i].rule, "*:*") == NULL && c != 1 &&
				 strncmp(w[i].rule, "c 4:", 4) == 0;
			saw_b |= w[i].allow && strncmp(w[i].rule, "b ", 2) == 0;
		}
		cr_assert(saw_b, "case %zu: no block rule", c);
		if (c != 1)
			cr_assert(saw_c, "case %zu: no char rule for major 4", c);
		free(w);
	}
}

Test(cgroup_devices, v1_revoking_an_allowed_device_writes_an_exact_deny)
{
	struct oci_device_cgroup d[] = {{true, 'c', 4, 2, "rwm"}, {false, 'c', -1, -1, "w"}};
	size_t n;
	struct cg_v1_dev_write *w = plan_for(d, 2, &n, 0);
	cr_assert_eq(n, 3 + 9);
	cr_assert_not(w[2].allow);
	cr_assert_str_eq(w[2].rule, "c 4:2 w");
	free(w);
}

Test(cgroup_devices, v1_deny_inside_an_allowed_range_is_refused)
{
	struct oci_device_cgroup d[] = {{true, 'c', 4, -1, "rwm"}, {false, 'c', 4, 2, "rwm"}};
	size_t n;
	struct oci_resources res = {.devices = d, .n_devices = 2};
	struct cg_dev_rule *rules;
	struct cg_v1_dev_write *w = NULL;
	size_t nr;
	struct bw_error err = {0};
	cg_dev_rules_build(&res, &rules, &nr, &err);
	cr_assert_eq(cg_devices_v1_plan(rules, nr, &w, &n, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.devices[1]: cgroup v1 cannot deny"),
		  "%s", err.msg);
	free(rules);
}

Test(cgroup_devices, v1_privileged_allow_all)
{
	struct oci_device_cgroup d[] = {{true, 'a', -1, -1, "rwm"}};
	size_t n;
	struct cg_v1_dev_write *w = plan_for(d, 1, &n, 0);
	cr_assert_eq(n, 2);
	cr_assert(w[1].allow);
	cr_assert_str_eq(w[1].rule, "a");
	free(w);
}

/* systemd's form (DevicePolicy/DeviceAllow) of the rules, as runc maps them. */
static int sd_plan_for(struct oci_device_cgroup *d, size_t nd, bool *all, struct cg_sd_dev **out,
		       size_t *n, struct bw_error *err)
{
	struct oci_resources res = {.devices = d, .n_devices = nd};
	struct cg_dev_rule *rules;
	size_t nr;
	cr_assert_eq(cg_dev_rules_build(&res, &rules, &nr, err), 0);
	int q = cg_devices_sd_plan(rules, nr, all, out, n, err);
	free(rules);
	return q;
}

Test(cgroup_devices, systemd_allow_list_for_docker_rules)
{
	struct cg_sd_dev *d = NULL;
	size_t n = 0;
	bool all = true;
	struct bw_error err = {0};
	cr_assert_eq(sd_plan_for(docker_rules, ARRAY_SIZE(docker_rules), &all, &d, &n, &err), 0,
		     "%s", err.msg);
	cr_assert_not(all);
	/* 1:5, 1:3, 5:1, then the defaults not already there; never the denied 10:229. */
	cr_assert_eq(n, 3 + 6);
	cr_assert_str_eq(d[0].path, "/dev/char/1:5");
	cr_assert_str_eq(d[0].perms, "rwm");
	cr_assert_str_eq(d[n - 1].path, "char-136");
	for (size_t i = 0; i < n; i++)
		cr_assert(strstr(d[i].path, "10:229") == NULL);
	free(d);
}

Test(cgroup_devices, systemd_wildcards_and_types)
{
	struct oci_device_cgroup r[] = {{false, 'a', -1, -1, "rwm"},
					{true, 'b', -1, -1, "r"},
					{true, 'b', 8, -1, "rw"},
					{true, 'a', 4, -1, "m"},
					{true, 'c', 10, 200, "w"}};
	struct cg_sd_dev *d = NULL;
	size_t n = 0;
	bool all = true;
	struct bw_error err = {0};
	cr_assert_eq(sd_plan_for(r, ARRAY_SIZE(r), &all, &d, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 5 + 9);
	cr_assert_str_eq(d[0].path, "block-*");
	cr_assert_str_eq(d[0].perms, "r");
	cr_assert_str_eq(d[1].path, "block-8");
	cr_assert_str_eq(d[1].perms, "rw");
	/* An "a" rule is a char and a block entry. */
	cr_assert_str_eq(d[2].path, "char-4");
	cr_assert_str_eq(d[3].path, "block-4");
	cr_assert_str_eq(d[3].perms, "m");
	cr_assert_str_eq(d[4].path, "/dev/char/10:200");
	cr_assert_str_eq(d[4].perms, "w");
	free(d);
}

/* A revoked access narrows the entry (the kernel's exact deny), as the v1 files do. */
Test(cgroup_devices, systemd_revoked_access_narrows_the_entry)
{
	struct oci_device_cgroup r[] = {
	    {false, 'a', -1, -1, "rwm"}, {true, 'c', 4, 2, "rwm"}, {false, 'c', -1, -1, "w"}};
	struct cg_sd_dev *d = NULL;
	size_t n = 0;
	bool all = true;
	struct bw_error err = {0};
	cr_assert_eq(sd_plan_for(r, ARRAY_SIZE(r), &all, &d, &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d[0].path, "/dev/char/4:2");
	cr_assert_str_eq(d[0].perms, "rm");
	free(d);
}

Test(cgroup_devices, systemd_allow_all_is_policy_auto)
{
	struct oci_device_cgroup r[] = {{true, 'a', -1, -1, "rwm"}};
	struct cg_sd_dev *d = NULL;
	size_t n = 1;
	bool all = false;
	struct bw_error err = {0};
	cr_assert_eq(sd_plan_for(r, 1, &all, &d, &n, &err), 0, "%s", err.msg);
	cr_assert(all);
	cr_assert_eq(n, 0);
	free(d);
}

/* What DeviceAllow cannot say is refused, never widened or dropped. */
Test(cgroup_devices, systemd_refuses_deny_lists_and_any_major_rules)
{
	struct oci_device_cgroup deny[] = {{true, 'a', -1, -1, "rwm"}, {false, 'c', 10, 229, "w"}};
	struct oci_device_cgroup anymaj[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', -1, 3, "r"}};
	struct cg_sd_dev *d = NULL;
	size_t n = 0;
	bool all = false;
	struct bw_error err = {0};
	cr_assert_eq(sd_plan_for(deny, 2, &all, &d, &n, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.devices: a deny rule after allowing "
					  "all devices has no systemd form"),
		  "%s", err.msg);
	cr_assert_eq(sd_plan_for(anymaj, 2, &all, &d, &n, &err), -1);
	cr_assert(str_has_prefix(err.msg, "linux.resources.devices: `c *:3 r` (any major, one "
					  "minor) has no systemd DeviceAllow form"),
		  "%s", err.msg);
}

/* ---- paths ---- */

static char *resolve(const char *p, const char *own, struct bw_error *err)
{
	char *out = NULL;
	if (cg_resolve_path(p, "c1", own, &out, err) < 0)
		return NULL;
	return out;
}

Test(cgroup_paths, absolute_relative_and_empty)
{
	struct bw_error err = {0};
	char *s;
	cr_assert_str_eq(s = resolve("/docker/abc", "/x", &err), "/docker/abc");
	free(s);
	cr_assert_str_eq(s = resolve("/libpod_parent//libpod-abc/", "/", &err),
			 "/libpod_parent/libpod-abc");
	free(s);
	cr_assert_str_eq(s = resolve("sub/c1", "/user.slice/me", &err), "/user.slice/me/sub/c1");
	free(s);
	cr_assert_str_eq(s = resolve("", "/", &err), "/bulwark/c1");
	free(s);
	cr_assert_str_eq(s = resolve(NULL, "/", &err), "/bulwark/c1");
	free(s);
}

Test(cgroup_paths, systemd_form_needs_the_flag)
{
	struct bw_error err = {0};
	cr_assert_null(resolve("system.slice:docker:abc", "/", &err));
	cr_assert_str_eq(err.msg, "linux.cgroupsPath: `system.slice:docker:abc` is a systemd path "
				  "(slice:prefix:name): it needs --systemd-cgroup");
	cr_assert_null(resolve("machine.slice:libpod:abc", "/", &err));
	cr_assert(cg_is_systemd_path("machine.slice:libpod:abc"));
	cr_assert_not(cg_is_systemd_path("/docker/abc"));
}

static int sd_parse(const char *p, struct cg_sd_name *n, struct bw_error *err)
{
	*n = (struct cg_sd_name){0};
	*err = (struct bw_error){0};
	return cg_systemd_parse(p, "c1", n, err);
}

Test(cgroup_systemd, slice_prefix_name_gives_the_scope_and_its_cgroup)
{
	struct cg_sd_name n;
	struct bw_error err;
	cr_assert_eq(sd_parse("system.slice:docker:abc", &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.slice, "system.slice");
	cr_assert_str_eq(n.unit, "docker-abc.scope");
	cr_assert_str_eq(n.path, "/system.slice/docker-abc.scope");
	cg_sd_name_free(&n);
	/* runc: an empty slice is system.slice; crun: an empty prefix gives "name.scope". */
	cr_assert_eq(sd_parse(":libpod:x", &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.path, "/system.slice/libpod-x.scope");
	cg_sd_name_free(&n);
	cr_assert_eq(sd_parse("machine.slice::x", &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.unit, "x.scope");
	cg_sd_name_free(&n);
	/* Empty: the default. */
	cr_assert_eq(sd_parse("", &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.path, "/system.slice/bulwark-c1.scope");
	cg_sd_name_free(&n);
	cr_assert_eq(sd_parse(NULL, &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.unit, "bulwark-c1.scope");
	cg_sd_name_free(&n);
}

Test(cgroup_systemd, nested_slices_expand_as_systemd_does)
{
	struct cg_sd_name n;
	struct bw_error err;
	cr_assert_eq(sd_parse("kubepods-burstable-pod1.slice:cri-containerd:abc", &n, &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(n.slice, "kubepods-burstable-pod1.slice");
	cr_assert_str_eq(n.path, "/kubepods.slice/kubepods-burstable.slice/"
				 "kubepods-burstable-pod1.slice/cri-containerd-abc.scope");
	cg_sd_name_free(&n);
	cr_assert_eq(sd_parse("-.slice:p:x", &n, &err), 0, "%s", err.msg);
	cr_assert_str_eq(n.path, "/p-x.scope");
	cg_sd_name_free(&n);
}

Test(cgroup_systemd, malformed_paths_are_refused_naming_the_field)
{
	static const char *const bad[] = {
	    "nocolons",
	    "a:b",
	    "a:b:c:d",
	    "system:p:x",
	    "a--b.slice:p:x",
	    "-a.slice:p:x",
	    "a-.slice:p:x",
	    ".slice:p:x",
	    "system.slice:p:",
	    "system.slice:p:a/b",
	    "system.slice:p/q:x",
	    "system.slice:p:x.slice",
	    "sys/tem.slice:p:x",
	    "system.slice:p:a b",
	    "system.slice:p:a\\x",
	    "system.slice:p:a\nb",
	    /* Names systemd keeps under an escaped directory ("_cpu.scope"), and names create
	     * would accept that delete then refuses. */
	    "system.slice::cpu",
	    "system.slice::memory",
	    "memory.slice:p:x",
	    "..slice:p:x",
	    "system.slice::_x",
	    "system.slice::.x",
	    "system.slice::-foo",
	    "system.slice:-:x",
	    "system.slice:.:x",
	    "system.slice:_p:x",
	    "system.slice::cgroup.x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cg_sd_name n;
		struct bw_error err;
		cr_assert_eq(sd_parse(bad[i], &n, &err), -1, "accepted `%s`", bad[i]);
		cr_assert(str_has_prefix(err.msg, "linux.cgroupsPath: "), "%s", err.msg);
		cr_assert_null(n.unit);
	}
}

Test(cgroup_systemd, unit_names_from_the_state_are_checked)
{
	cr_assert(cg_systemd_unit_valid("docker-abc.scope"));
	cr_assert_not(cg_systemd_unit_valid("../x.scope"));
	cr_assert_not(cg_systemd_unit_valid("x.service"));
	cr_assert_not(cg_systemd_unit_valid(".scope"));
	cr_assert_not(cg_systemd_unit_valid("_x.scope"));
	cr_assert_not(cg_systemd_unit_valid(NULL));
}

Test(cgroup_systemd, user_scope_unit_is_named_only_by_a_bulwark_scope_path)
{
	char *u = cg_user_scope_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/"
				     "bulwark-c1-0a1b2c3d.scope/bulwark/c1");
	cr_assert_str_eq(u, "bulwark-c1-0a1b2c3d.scope");
	free(u);
	cr_assert_null(cg_user_scope_unit("/bulwark/c1"));
	cr_assert_null(cg_user_scope_unit("/user.slice/other.scope/bulwark/c1"));
	cr_assert_null(cg_user_scope_unit("/x/bulwark-c1.scope/notbulwark/c1"));
	cr_assert_null(cg_user_scope_unit("/x/bulwark-c1.service/bulwark/c1"));
	cr_assert_null(cg_user_scope_unit("bulwark-c1-x.scope/bulwark/c1"));
	cr_assert_null(cg_user_scope_unit(NULL));
}

Test(cgroup_systemd, a_limit_below_minus_one_is_refused_before_any_property)
{
	struct oci_resources r = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	struct bw_error err = {0};
	r.memory.limit.set = true;
	r.memory.limit.v = -2;
	cr_assert_eq(cg_sd_props(&r, true, &p, &n, &err), -1, "-2 became a property");
	cr_assert(strstr(err.msg, "linux.resources.memory.limit") != NULL, "%s", err.msg);
	r.memory.limit.v = -1;
	err = (struct bw_error){0};
	cr_assert_eq(cg_sd_props(&r, true, &p, &n, &err), 0, "%s", err.msg);
	cg_sd_props_free(p, n);
}

static const struct cg_sd_prop *prop(const struct cg_sd_prop *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return &p[i];
	return NULL;
}

/* The last property of that name (systemd keeps the last of a repeated one). */
static const struct cg_sd_prop *last_prop(const struct cg_sd_prop *p, size_t n, const char *name)
{
	const struct cg_sd_prop *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			found = &p[i];
	return found;
}

/* unified keys systemd manages become its properties too (a re-realized scope keeps them);
 * v1 gets none (unified is refused there); values not in the plain form are left to the files. */
Test(cgroup_systemd, unified_keys_become_unit_properties)
{
	struct oci_kv kv[] = {{"memory.high", "67108864"}, {"memory.min", "max"},
			      {"cpu.max", "50000 100000"}, {"io.weight", "default 100"},
			      {"memory.max", "134217728"}, {"hugetlb.2MB.max", "0"},
			      {"cpuset.cpus", "1"}};
	struct oci_resources r = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	struct bw_error err = {0};
	r.memory.limit = (typeof(r.memory.limit)){.set = true, .v = 67108864};
	r.unified = kv;
	r.n_unified = ARRAY_SIZE(kv);
	cr_assert_eq(cg_sd_props(&r, true, &p, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(prop(p, n, "MemoryHigh")->u64, 67108864);
	cr_assert_eq(prop(p, n, "MemoryMin")->u64, UINT64_MAX);
	cr_assert_eq(prop(p, n, "CPUQuotaPerSecUSec")->u64, 500000);
	cr_assert_eq(prop(p, n, "CPUQuotaPeriodUSec")->u64, 100000);
	cr_assert_null(prop(p, n, "IOWeight"), "\"default 100\" is the file's to check");
	cr_assert_eq(last_prop(p, n, "MemoryMax")->u64, 134217728, "unified wins, as in the files");
	cr_assert_eq(prop(p, n, "AllowedCPUs")->bytes[0], 0x02);
	cg_sd_props_free(p, n);
	cr_assert_eq(cg_sd_props(&r, false, &p, &n, &err), 0, "%s", err.msg);
	cr_assert_null(prop(p, n, "MemoryHigh"));
	cg_sd_props_free(p, n);
}

Test(cgroup_systemd, resources_become_unit_properties)
{
	struct oci_resources r = {0};
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	struct bw_error err = {0};
	r.memory.limit = (typeof(r.memory.limit)){.set = true, .v = 67108864};
	r.memory.swap = (typeof(r.memory.swap)){.set = true, .v = 134217728};
	r.memory.reservation = (typeof(r.memory.reservation)){.set = true, .v = 1024};
	r.cpu.shares = (typeof(r.cpu.shares)){.set = true, .v = 1024};
	r.cpu.quota = (typeof(r.cpu.quota)){.set = true, .v = 12345};
	r.cpu.period = (typeof(r.cpu.period)){.set = true, .v = 100000};
	r.cpu.cpus = "0,9-10";
	r.pids_limit = (typeof(r.pids_limit)){.set = true, .v = -1};
	cr_assert_eq(cg_sd_props(&r, true, &p, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(prop(p, n, "MemoryMax")->u64, 67108864);
	cr_assert_eq(prop(p, n, "MemorySwapMax")->u64, 67108864);
	cr_assert_eq(prop(p, n, "MemoryLow")->u64, 1024);
	cr_assert_eq(prop(p, n, "CPUWeight")->u64, 39);
	/* 123450 us a second, up to whole 10 ms as systemd keeps it. */
	cr_assert_eq(prop(p, n, "CPUQuotaPerSecUSec")->u64, 130000);
	cr_assert_eq(prop(p, n, "CPUQuotaPeriodUSec")->u64, 100000);
	cr_assert_eq(prop(p, n, "TasksMax")->u64, UINT64_MAX);
	const struct cg_sd_prop *cpus = prop(p, n, "AllowedCPUs");
	cr_assert_eq(cpus->nbytes, 2);
	cr_assert_eq(cpus->bytes[0], 0x01);
	cr_assert_eq(cpus->bytes[1], 0x06);
	cr_assert_null(prop(p, n, "IOWeight"));
	cg_sd_props_free(p, n);
	/* v1 names; zero values ("leave unchanged") give no property. */
	r.memory.swap.set = false;
	r.cpu.quota.v = 0;
	cr_assert_eq(cg_sd_props(&r, false, &p, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(prop(p, n, "MemoryLimit")->u64, 67108864);
	cr_assert_eq(prop(p, n, "CPUShares")->u64, 1024);
	cr_assert_null(prop(p, n, "CPUQuotaPerSecUSec"));
	cr_assert_null(prop(p, n, "AllowedCPUs"));
	cg_sd_props_free(p, n);
	/* The same range checks as the files: swap below the limit is refused. */
	r.memory.swap = (typeof(r.memory.swap)){.set = true, .v = 1024};
	cr_assert_eq(cg_sd_props(&r, true, &p, &n, &err), -1);
}

Test(cgroup_paths, dotdot_and_root_are_refused)
{
	struct bw_error err = {0};
	cr_assert_null(resolve("/docker/../../etc", "/", &err));
	cr_assert(str_has_prefix(err.msg, "linux.cgroupsPath: "), "%s", err.msg);
	cr_assert_null(resolve("..", "/a", &err));
	cr_assert_null(resolve("/", "/", &err));
	cr_assert(str_has_prefix(err.msg, "linux.cgroupsPath: "), "%s", err.msg);
	char *s = resolve("/a/..b/c", "/", &err);
	cr_assert_str_eq(s, "/a/..b/c");
	free(s);
}

Test(cgroup_paths, own_cgroup_prefers_the_unified_line)
{
	const char *text = "9:name=systemd:/sd\n4:memory:/process_api/x\n1:cpu:/\n0::/uni\n";
	char *s = cg_own_cgroup_parse(text, true);
	cr_assert_str_eq(s, "/uni");
	free(s);
	s = cg_own_cgroup_parse(text, false);
	cr_assert_str_eq(s, "/sd");
	free(s);
	s = cg_own_cgroup_parse("3:cpu,cpuacct:/a\n", false);
	cr_assert_str_eq(s, "/a");
	free(s);
}

Test(cgroup_paths, dir_in_mount)
{
	char *s = cg_dir_in_mount("/sys/fs/cgroup/memory", "/", "/docker/x");
	cr_assert_str_eq(s, "/sys/fs/cgroup/memory/docker/x");
	free(s);
	s = cg_dir_in_mount("/sys/fs/cgroup", "/docker/ctr", "/docker/ctr/sub");
	cr_assert_str_eq(s, "/sys/fs/cgroup/sub");
	free(s);
	s = cg_dir_in_mount("/sys/fs/cgroup", "/docker/ctr", "/bulwark/c1");
	cr_assert_str_eq(s, "/sys/fs/cgroup/bulwark/c1");
	free(s);
}

/* This host's /proc/self/mountinfo (hybrid). */
static const char host_mountinfo[] =
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

Test(cgroup_mounts, host_sample_is_hybrid_with_every_hierarchy)
{
	struct cg_mount *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(cg_mountinfo_parse(host_mountinfo, &m, &n, &err), 0);
	cr_assert_eq(n, 10);
	cr_assert_eq(cg_mode_from_mounts(m, n), CG_MODE_HYBRID);
	cr_assert_str_eq(m[0].mountpoint, "/sys/fs/cgroup/cpu");
	cr_assert_eq(m[0].ctrls, 1u << CG_CPU);
	cr_assert_eq(m[1].ctrls, 1u << CG_CPUACCT);
	cr_assert_str_eq(m[8].name, "systemd");
	cr_assert_str_eq(m[8].label, "name=systemd");
	cr_assert(m[9].v2);
	cr_assert_str_eq(m[9].mountpoint, "/sys/fs/cgroup/unified");
	cg_mounts_free(m, n);
}

Test(cgroup_mounts, comounted_cpu_cpuacct_and_escapes)
{
	const char *text =
	    "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup "
	    "rw,cpu,cpuacct\n"
	    "26 24 0:23 / /sys/fs/cgroup/net\\040cls rw shared:10 master:1 - cgroup cgroup "
	    "rw,net_cls,net_prio\n"
	    "27 24 0:22 / /mnt/again rw - cgroup cgroup rw,cpu,cpuacct\n";
	struct cg_mount *m;
	size_t n;
	struct bw_error err = {0};
	cg_mountinfo_parse(text, &m, &n, &err);
	cr_assert_eq(n, 2, "the second mount of the same hierarchy is dropped");
	cr_assert_eq(m[0].ctrls, (1u << CG_CPU) | (1u << CG_CPUACCT));
	cr_assert_str_eq(m[0].label, "cpu,cpuacct");
	cr_assert_str_eq(m[1].mountpoint, "/sys/fs/cgroup/net cls");
	cr_assert_eq(cg_mode_from_mounts(m, n), CG_MODE_LEGACY);
	cg_mounts_free(m, n);
}

Test(cgroup_mounts, pure_v2_sample_is_unified)
{
	const char *text =
	    "23 28 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	    "26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
	    "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
	struct cg_mount *m;
	size_t n;
	struct bw_error err = {0};
	cg_mountinfo_parse(text, &m, &n, &err);
	cr_assert_eq(n, 1);
	cr_assert(m[0].v2);
	cr_assert_str_eq(m[0].root, "/");
	cr_assert_eq(cg_mode_from_mounts(m, n), CG_MODE_UNIFIED);
	cg_mounts_free(m, n);
	cr_assert_eq(cg_mode_from_mounts(NULL, 0), -1);
}

Test(cgroup_resources, needed_controllers_ignore_docker_zero_values)
{
	struct oci_resources r = {0};
	r.cpu.shares = (struct opt_u64){true, 0};
	r.block_io.weight = (struct opt_u64){true, 0};
	r.memory.disable_oom_killer = (struct opt_bool){true, false};
	cr_assert_eq(cg_resources_needed(&r), 0);
	r.pids_limit = (struct opt_i64){true, 100};
	r.memory.limit = (struct opt_i64){true, 1 << 26};
	cr_assert_eq(cg_resources_needed(&r), (1u << CG_PIDS) | (1u << CG_MEMORY));
}

Test(cgroup_delegation, offers_matches_whole_controller_names)
{
	struct cg_delegation d = {.base = "/d", .controllers = "cpuset cpu io memory pids"};
	cr_assert(cg_delegation_offers(&d, "cpu"));
	cr_assert(cg_delegation_offers(&d, "cpuset"));
	cr_assert(cg_delegation_offers(&d, "pids"));
	cr_assert_not(cg_delegation_offers(&d, "mem"));
	cr_assert_not(cg_delegation_offers(&d, "hugetlb"));
	d.controllers = "memory";
	cr_assert_not(cg_delegation_offers(&d, "cpu"), "cpu is not a prefix match of cpuset");
	d.controllers = "cpuset";
	cr_assert_not(cg_delegation_offers(&d, "cpu"));
	d.controllers = "";
	cr_assert_not(cg_delegation_offers(&d, "memory"));
}
