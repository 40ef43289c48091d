/* runtime/sandbox/report.c: folding the agent's denial lines and rendering the versioned document.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <yajl/yajl_tree.h>

#include "runtime/sandbox/kdenials.h"
#include "runtime/sandbox/report.h"

static yajl_val parse(const char *doc)
{
	char ebuf[128];
	yajl_val v = yajl_tree_parse(doc, ebuf, sizeof(ebuf));
	cr_assert_not_null(v, "not JSON: %s (%s)", ebuf, doc);
	return v;
}

static yajl_val get(yajl_val v, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	return yajl_tree_get(v, path, yajl_t_any);
}

#define LINE(s) report_add_event_line(&r, s, strlen(s))

Test(report, denials_fold_by_key_and_sum_counts)
{
	struct report r = {.id = "sb"};
	cr_assert_eq(LINE("{\"time\":\"t1\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":"
			  "\"packet\",\"direction\":\"egress\",\"proto\":\"tcp\",\"destination\":"
			  "\"198.51.100.20\",\"port\":80,\"rule\":\"default\",\"count\":3}"),
		     0);
	cr_assert_eq(LINE("{\"time\":\"t2\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":"
			  "\"packet\",\"direction\":\"egress\",\"proto\":\"tcp\",\"destination\":"
			  "\"198.51.100.20\",\"port\":80,\"rule\":\"default\",\"count\":2}"),
		     0);
	cr_assert_eq(
	    LINE("{\"time\":\"t2\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":\"dns\","
		 "\"name\":\"denied.test\",\"qtype\":\"A\",\"rule\":\"default\",\"count\":1}"),
	    0);
	cr_assert_eq(r.n_denials, 2);
	cr_assert_eq(r.denials_total, 6);
	cr_assert_eq(r.denials[0].count, 5);
	cr_assert_str_eq(r.denials[1].kind, "dns");
	report_free(&r);
}

Test(report, malformed_and_foreign_lines)
{
	struct report r = {.id = "sb"};
	cr_assert_eq(LINE("{not json"), -1);
	cr_assert_eq(LINE("[1,2]"), -1);
	cr_assert_eq(LINE("{\"event\":\"started\",\"kind\":\"x\"}"), 0);
	cr_assert_eq(LINE("{\"event\":\"denied\",\"kind\":\"dns\",\"name\":\"a\",\"count\":-5}"),
		     0);
	cr_assert_eq(r.n_denials, 1);
	cr_assert_eq(r.denials[0].count, 1, "a nonsense count counts once");
	report_free(&r);
}

Test(report, distinct_denials_are_capped)
{
	struct report r = {.id = "sb"};
	char line[256];
	for (int i = 0; i < REPORT_MAX_DENIALS + 50; i++) {
		snprintf(line, sizeof(line),
			 "{\"event\":\"denied\",\"kind\":\"packet\",\"port\":%d}", i);
		cr_assert_eq(report_add_event_line(&r, line, strlen(line)), 0);
	}
	cr_assert_eq(r.n_denials, REPORT_MAX_DENIALS);
	cr_assert(r.denials_truncated);
	cr_assert_eq(r.denials_total, REPORT_MAX_DENIALS + 50);
	report_free(&r);
}

Test(report, document_has_the_schema_fields)
{
	char *cmd[] = {"sh", "-c", "exit 3", NULL};
	struct report r = {.id = "sb",
			   .command = cmd,
			   .started = true,
			   .exit_code = 3,
			   .wait_status = 3 << 8,
			   .wall_ms = 12,
			   .workspace_bytes = -1,
			   .usage_known = true,
			   .usage = {.cpu_user_ns = 5000000, .memory_peak = 4096, .oom_kills = 0}};
	LINE("{\"event\":\"denied\",\"kind\":\"dns\",\"name\":\"x\\\"y\",\"count\":2}");
	char *doc = report_render(&r);
	yajl_val v = parse(doc);
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "version", NULL)), REPORT_VERSION);
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "exit_code", NULL)), 3);
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "command_exit_code", NULL)), 3);
	cr_assert(YAJL_IS_NULL(get(v, "signal", NULL)));
	cr_assert(YAJL_IS_FALSE(get(v, "timed_out", NULL)));
	cr_assert(YAJL_IS_FALSE(get(v, "oom_killed", NULL)));
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "cpu_time_ms", "user")), 5);
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "peak_memory_bytes", NULL)), 4096);
	cr_assert(YAJL_IS_NULL(get(v, "workspace_bytes_written", NULL)));
	cr_assert(YAJL_IS_NULL(get(v, "host_view", NULL)));
	yajl_val d = get(v, "denials", NULL);
	cr_assert(YAJL_IS_ARRAY(d) && d->u.array.len == 1);
	const char *np[] = {"name", NULL};
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(d->u.array.values[0], np, yajl_t_string)),
			 "x\"y");
	yajl_tree_free(v);
	free(doc);
	report_free(&r);
}

Test(report, signal_timeout_and_oom)
{
	struct report r = {.id = "sb",
			   .started = true,
			   .exit_code = 124,
			   .timed_out = true,
			   .wait_status = SIGKILL,
			   .workspace_bytes = 10,
			   .usage_known = true,
			   .usage = {.oom_kills = 1},
			   .host_view = "full"};
	char *doc = report_render(&r);
	yajl_val v = parse(doc);
	cr_assert_str_eq(YAJL_GET_STRING(get(v, "signal", NULL)), "SIGKILL");
	cr_assert(YAJL_IS_TRUE(get(v, "timed_out", NULL)));
	cr_assert(YAJL_IS_TRUE(get(v, "oom_killed", NULL)));
	cr_assert(YAJL_IS_NULL(get(v, "command_exit_code", NULL)));
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "workspace_bytes_written", NULL)), 10);
	cr_assert_str_eq(YAJL_GET_STRING(get(v, "host_view", NULL)), "full");
	yajl_tree_free(v);
	free(doc);
}

/* Each budget: its limit (null: none), its use, whether it was hit. */
Test(report, budgets)
{
	struct report r = {.id = "sb", .started = false, .workspace_bytes = -1};
	char *doc = report_render(&r);
	yajl_val v = parse(doc);
	cr_assert(YAJL_IS_NULL(get(v, "budgets", NULL)), "not started: null");
	yajl_tree_free(v);
	free(doc);
	r = (struct report){
	    .id = "sb",
	    .started = true,
	    .wait_status = SIGXFSZ,
	    .workspace_bytes = -1,
	    .usage_known = true,
	    .usage = {.memory_peak = 8192, .oom_kills = 0},
	    .budgets = {.known = true,
			.cgroup = true,
			.cg_known = true,
			.cg = {.cpu_quota_us = 50000,
			       .cpu_period_us = 100000,
			       .cpu_shares = 512,
			       .cpu_throttled_periods = 7,
			       .cpu_throttled_us = 1234,
			       .memory_limit = UINT64_MAX,
			       .memory_max_events = 0,
			       .pids_limit = 16,
			       .pids_max_events = 3},
			.fs = {[SCRATCH_TMP] = {.known = true,
						.limit = 1 << 20,
						.used = 1 << 20,
						.files_limit = 256,
						.files_used = 2,
						.hit = true},
			       [SCRATCH_HOME] = {.known = true, .limit = 4096, .used = 0}},
			.disk = 1 << 30,
			.fsize = 1 << 20,
			.written_known = true,
			.written = 4096}};
	doc = report_render(&r);
	v = parse(doc);
	yajl_val b = get(v, "budgets", NULL);
	cr_assert(YAJL_IS_DOUBLE(get(b, "cpu", "limit")));
	cr_assert_float_eq(YAJL_GET_DOUBLE(get(b, "cpu", "limit")), 0.5, 1e-9);
	cr_assert(YAJL_IS_NULL(get(b, "cpu", "weight")), "v1: shares, not weight");
	cr_assert_eq(YAJL_GET_INTEGER(get(b, "cpu", "shares")), 512);
	cr_assert(YAJL_IS_TRUE(get(b, "cpu", "hit")));
	cr_assert(YAJL_IS_NULL(get(b, "memory", "limit")), "no limit: null");
	cr_assert(YAJL_IS_FALSE(get(b, "memory", "hit")));
	cr_assert_eq(YAJL_GET_INTEGER(get(b, "pids", "refused_forks")), 3);
	cr_assert(YAJL_IS_TRUE(get(b, "pids", "hit")));
	cr_assert(YAJL_IS_TRUE(get(b, "tmp", "hit")));
	cr_assert(YAJL_IS_NULL(get(b, "var_tmp", NULL)), "not measured: null");
	cr_assert(YAJL_IS_NULL(get(b, "workspace", NULL)));
	cr_assert_eq(YAJL_GET_INTEGER(get(b, "disk", "used")), 1 << 20);
	cr_assert(YAJL_IS_TRUE(get(b, "disk", "hit")));
	cr_assert_eq(YAJL_GET_INTEGER(get(b, "fsize", "limit")), 1 << 20);
	cr_assert(YAJL_IS_TRUE(get(b, "fsize", "hit")), "the command died of SIGXFSZ");
	cr_assert_eq(YAJL_GET_INTEGER(get(b, "fsize", "written")), 4096);
	yajl_tree_free(v);
	free(doc);
}

/* ---- kernel denials: audit records as the kernel writes them (6.18) ---- */

#define REC(type, text, out) kd_parse_record(type, text, strlen(text), out)

Test(kdenials, seccomp_record)
{
	struct kd_record r;
	cr_assert(REC(1326,
		      "audit(1795368723.439:92): auid=0 uid=100001000 gid=100001000 ses=17 "
		      "subj=unconfined pid=24764 comm=\"unshare\" exe=\"/usr/bin/unshare\" sig=0 "
		      "arch=c000003e syscall=272 compat=0 ip=0x7f9466c6d0f7 code=0x50001",
		      &r));
	cr_assert_eq(r.kind, KD_SYSCALL);
	cr_assert_eq(r.ses, 17);
	cr_assert_eq(r.arch, 0xc000003eU);
	cr_assert_eq(r.nr, 272);
	cr_assert_eq(r.action, 0x00050000U, "errno, whatever the errno value");
	cr_assert_eq(r.pid, 24764);
	/* A complain-mode record, and the unset session. */
	cr_assert(REC(
	    1326, "auid=4294967295 ses=4294967295 arch=c000003e syscall=165 code=0x7ffc0000", &r));
	cr_assert_eq(r.ses, 4294967295U);
	cr_assert_eq(r.action, 0x7ffc0000U);
	/* "xses=" or "myarch=" are not the fields; missing fields make the record unreadable. */
	cr_assert_not(REC(1326, "xses=1 arch=c000003e syscall=1 code=0x50000", &r));
	cr_assert_not(REC(1326, "ses=1 myarch=c000003e syscall=1 code=0x50000", &r));
	cr_assert_not(REC(1326, "ses=1 arch=c000003e syscall=-1 code=0x50000", &r));
	cr_assert_not(REC(1326, "ses=1 arch=c000003e syscall=1 code=", &r));
	cr_assert_not(REC(1300, "ses=1 arch=c000003e syscall=1 code=0x50000", &r), "not SECCOMP");
}

Test(kdenials, landlock_records)
{
	struct kd_record r;
	cr_assert(REC(1423,
		      "audit(1795368901.331:101): domain=1f27a74f8 blockers=fs.write_file "
		      "path=\"/tmp/ll-test\" dev=\"vda\" ino=10956373",
		      &r));
	cr_assert_eq(r.kind, KD_LANDLOCK_ACCESS);
	cr_assert_eq(r.domain, 0x1f27a74f8ULL);
	cr_assert_str_eq(r.blockers, "fs.write_file");
	cr_assert_str_eq(r.object, "/tmp/ll-test");
	/* Audit writes unusual strings in hex: a space and a quote in the name. */
	cr_assert(
	    REC(1423, "domain=a blockers=fs.make_reg,fs.refer path=2F7420782227 dev=\"vda\"", &r));
	cr_assert_str_eq(r.blockers, "fs.make_reg,fs.refer");
	cr_assert_str_eq(r.object, "/t x\"'");
	/* Bytes a sandbox chose that are not printable ASCII come out as \xNN. */
	cr_assert(REC(1423, "domain=a blockers=fs.read_file path=2FFF0A5C", &r));
	cr_assert_str_eq(r.object, "/\\xff\\x0a\\x5c");
	/* Not a file: the object's fields as logged. */
	cr_assert(REC(1423, "domain=a blockers=net.connect_tcp daddr=192.0.2.1 dest=443", &r));
	cr_assert_str_eq(r.object, "daddr=192.0.2.1 dest=443");
	cr_assert(REC(1424,
		      "domain=1f27a74f8 status=allocated mode=enforcing pid=2076 uid=0 "
		      "exe=\"/x\" comm=\"python3\"",
		      &r));
	cr_assert_eq(r.kind, KD_LANDLOCK_DOMAIN);
	cr_assert(r.allocated);
	cr_assert_eq(r.pid, 2076);
	cr_assert(REC(1424, "domain=1f27a74f8 status=deallocated denials=1", &r));
	cr_assert_not(r.allocated);
	cr_assert_not(REC(1424, "domain=zz status=allocated pid=1", &r));
	cr_assert_not(REC(1424, "domain=1 status=allocated pid=x", &r));
	cr_assert_not(REC(1423, "domain=1 path=\"/x\"", &r), "no blockers");
	/* A quoted value that never closes stays inside the record. */
	cr_assert(REC(1423, "domain=1 blockers=fs.read_file path=\"/unterminated", &r));
	cr_assert_str_eq(r.object, "/unterminated");
}
