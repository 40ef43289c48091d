/* runtime/sandbox/sandbox_budget.c: the limit flags turned into the spec's limits (defaults, --disk
 * capping the scratch sizes, refusals naming the flag), and the spec rendering them. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/sandbox/specgen.h"

static int apply(struct sandbox_limit_flags *f, struct specgen *sg, struct sandbox_budget *b,
		 struct bw_error *e)
{
	specgen_defaults(sg);
	memset(b, 0, sizeof(*b));
	return sandbox_budget_apply(f, sg, b, e);
}

Test(sandbox_budget, defaults)
{
	struct sandbox_limit_flags f = {0};
	struct specgen sg;
	struct sandbox_budget b;
	struct bw_error e = {0};
	cr_assert_eq(apply(&f, &sg, &b, &e), 0, "%s", e.msg);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cr_assert_eq(sg.cpu_quota, online > 1 ? (online - 1) * 100000 : 0);
	cr_assert_eq(sg.cpu_shares, 512);
	cr_assert_eq(sg.memory_limit, 1LL << 30);
	cr_assert_eq(b.disk, 1LL << 30);
	cr_assert_eq(b.tmp, 256LL << 20);
	cr_assert_eq(b.home, 64LL << 20);
	cr_assert_eq(b.scratch, 1LL << 30);
	cr_assert_eq(b.fsize, 1LL << 30);
	cr_assert_eq(sg.fsize, 1ULL << 30);
	for (int i = 0; i < SCRATCH_N; i++)
		cr_assert_eq(b.fds[i], -1);
}

Test(sandbox_budget, disk_caps_the_defaults_and_the_overlay)
{
	struct sandbox_limit_flags f = {.disk = "100m", .memory = "64m"};
	struct specgen sg;
	struct sandbox_budget b;
	struct bw_error e = {0};
	cr_assert_eq(apply(&f, &sg, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(b.tmp, 100LL << 20);
	cr_assert_eq(b.home, 64LL << 20);
	cr_assert_eq(b.scratch, 64LL << 20, "the smaller of --disk and --memory");
	cr_assert_eq(b.fsize, 100LL << 20);
	f = (struct sandbox_limit_flags){
	    .disk = "2g", .home_size = "1GiB", .max_file_size = "max", .cpus = "max"};
	cr_assert_eq(apply(&f, &sg, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(b.home, 1LL << 30);
	cr_assert_eq(b.fsize, 0);
	cr_assert_eq(sg.fsize, 0);
	cr_assert_eq(sg.cpu_quota, 0);
	cr_assert_eq(sg.cpu_shares, 512, "a lower weight without a quota too");
}

Test(sandbox_budget, bad_values_name_the_flag)
{
	static const struct {
		struct sandbox_limit_flags f;
		const char *msg;
	} cases[] = {
	    {{.disk = "1x"},
	     "--disk: expected a size of at least 1MiB such as 256m or 1GiB, got \"1x\""},
	    {{.disk = "1023k"}, "--disk: expected a size of at least 1MiB"},
	    {{.disk = "-1"}, "--disk: expected"},
	    {{.tmp_size = "2g"}, "--tmp-size: 2g is more than --disk (1073741824 bytes)"},
	    {{.disk = "10m", .home_size = "11m"}, "--home-size: 11m is more than --disk"},
	    {{.home_size = "4095"}, "--home-size: expected a size of at least 4KiB"},
	    {{.max_file_size = "1k"}, "--max-file-size: expected a size of at least 4KiB"},
	    {{.cpus = "0"}, "--cpus: expected a number of CPUs"},
	    {{.cpus = "Max"}, "--cpus: expected a number of CPUs"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sandbox_limit_flags f = cases[i].f;
		struct specgen sg;
		struct sandbox_budget b;
		struct bw_error e = {0};
		cr_assert_eq(apply(&f, &sg, &b, &e), -1, "case %zu", i);
		cr_assert(strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) == 0, "case %zu: %s",
			  i, e.msg);
	}
}

Test(sandbox_budget, the_spec_carries_sizes_files_and_rlimits)
{
	struct sandbox_limit_flags f = {.tmp_size = "8m", .home_size = "1m", .disk = "16m"};
	struct specgen sg;
	struct sandbox_budget b;
	struct bw_error e = {0};
	cr_assert_eq(apply(&f, &sg, &b, &e), 0, "%s", e.msg);
	sg.home = "/home";
	sg.host_root = true;
	sg.root_tmpfs = true;
	char *json = specgen_render(&sg, false);
	cr_assert(strstr(json, "\"size=8388608\",\"nr_inodes=2048\"") != NULL, "%s", json);
	cr_assert(strstr(json, "\"size=1048576\",\"nr_inodes=256\"") != NULL, "%s", json);
	cr_assert(strstr(json, "{\"type\":\"RLIMIT_FSIZE\",\"hard\":16777216,\"soft\":16777216}") !=
		  NULL);
	cr_assert(strstr(json, "\"shares\":512") != NULL);
	free(json);
	/* `bulwark spec` keeps its defaults: no file count, no RLIMIT_FSIZE, no CPU weight. */
	specgen_defaults(&sg);
	sg.home = "/home";
	json = specgen_render(&sg, false);
	cr_assert(strstr(json, "nr_inodes") == NULL && strstr(json, "RLIMIT_FSIZE") == NULL &&
		  strstr(json, "shares") == NULL && strstr(json, "\"size=64m\"") != NULL);
	free(json);
}
