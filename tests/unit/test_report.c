/* runtime/report.c: folding the agent's denial lines and rendering the versioned document. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <yajl/yajl_tree.h>

#include "runtime/report.h"

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
	cr_assert_eq(LINE("{\"time\":\"t1\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":\"packet\",\"direction\":\"egress\",\"proto\":\"tcp\",\"destination\":\"198.51.100.20\",\"port\":80,\"rule\":\"default\",\"count\":3}"), 0);
	cr_assert_eq(LINE("{\"time\":\"t2\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":\"packet\",\"direction\":\"egress\",\"proto\":\"tcp\",\"destination\":\"198.51.100.20\",\"port\":80,\"rule\":\"default\",\"count\":2}"), 0);
	cr_assert_eq(LINE("{\"time\":\"t2\",\"sandbox\":\"sb\",\"event\":\"denied\",\"kind\":\"dns\",\"name\":\"denied.test\",\"qtype\":\"A\",\"rule\":\"default\",\"count\":1}"), 0);
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
	cr_assert_eq(LINE("{\"event\":\"denied\",\"kind\":\"dns\",\"name\":\"a\",\"count\":-5}"), 0);
	cr_assert_eq(r.n_denials, 1);
	cr_assert_eq(r.denials[0].count, 1, "a nonsense count counts once");
	report_free(&r);
}

Test(report, distinct_denials_are_capped)
{
	struct report r = {.id = "sb"};
	char line[256];
	for (int i = 0; i < REPORT_MAX_DENIALS + 50; i++) {
		snprintf(line, sizeof(line), "{\"event\":\"denied\",\"kind\":\"packet\",\"port\":%d}", i);
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
	struct report r = {.id = "sb", .command = cmd, .started = true, .exit_code = 3,
			   .wait_status = 3 << 8, .wall_ms = 12, .workspace_bytes = -1,
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
	struct report r = {.id = "sb", .started = true, .exit_code = 124, .timed_out = true,
			   .wait_status = SIGKILL, .workspace_bytes = 10, .usage_known = true,
			   .usage = {.oom_kills = 1}};
	char *doc = report_render(&r);
	yajl_val v = parse(doc);
	cr_assert_str_eq(YAJL_GET_STRING(get(v, "signal", NULL)), "SIGKILL");
	cr_assert(YAJL_IS_TRUE(get(v, "timed_out", NULL)));
	cr_assert(YAJL_IS_TRUE(get(v, "oom_killed", NULL)));
	cr_assert(YAJL_IS_NULL(get(v, "command_exit_code", NULL)));
	cr_assert_eq(YAJL_GET_INTEGER(get(v, "workspace_bytes_written", NULL)), 10);
	yajl_tree_free(v);
	free(doc);
}
