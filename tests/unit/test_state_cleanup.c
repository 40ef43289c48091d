/* state.json's cleanup record: every kind round-trips as a typed object, the old "tag:value"
 * strings are converted on reading, and a hostile record is refused naming the entry and field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/state.h"

#define DOC_HEAD "{\"id\":\"c\",\"status\":\"running\",\"bulwark\":{\"cleanup\":["
#define DOC_TAIL "]}}"

static char *doc_with(const char *entries)
{
	return xasprintf(DOC_HEAD "%s" DOC_TAIL, entries);
}

static void parse_ok(const char *entries, struct oci_state *st)
{
	char *doc = doc_with(entries);
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(doc, strlen(doc), st, &err), 0, "%s: %s", doc, err.msg);
	free(doc);
}

static void parse_fails(const char *entries, const char *msg)
{
	char *doc = doc_with(entries);
	struct oci_state st;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(doc, strlen(doc), &st, &err), -1, "accepted %s", doc);
	cr_assert_str_eq(err.msg, msg);
	cr_assert_eq(st.n_cleanup, 0);
	cr_assert_null(st.cleanup);
	free(doc);
}

/* The private form, and just its cleanup array. */
static char *render(const struct oci_state *st)
{
	char *out = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_to_json(st, false, false, &out, NULL, &err), 0, "%s", err.msg);
	return out;
}

static char *cleanup_json(const struct oci_state *st)
{
	char *out = render(st);
	char *a = strstr(out, "\"cleanup\":");
	cr_assert_not_null(a, "%s", out);
	char *s = xstrndup(a + 10, strlen(a + 10) - 2); /* without the closing "}}" */
	free(out);
	return s;
}

static struct oci_state every_kind(void)
{
	struct oci_state st = {.id = "c", .status = OCI_STATUS_RUNNING};
	state_cleanup_add_str(&st, STATE_CLEANUP_AUDIT, "/var/log/a.jsonl");
	state_cleanup_add_str(&st, STATE_CLEANUP_FILE, "/tmp/x:y");
	state_cleanup_add_str(&st, STATE_CLEANUP_DIR, "/run/bulwark-session-files/s.1");
	state_cleanup_add_str(&st, STATE_CLEANUP_IDSLOT, "/run/bulwark-idpool/3");
	state_cleanup_add_str(&st, STATE_CLEANUP_CGPARENT, "/sys/fs/cgroup/a");
	state_cleanup_add(&st, STATE_CLEANUP_HOOKS_POSTSTART);
	state_cleanup_add(&st, STATE_CLEANUP_HOOKS_POSTSTOP);
	state_cleanup_add(&st, STATE_CLEANUP_CGROUP_PENDING);
	state_cleanup_add(&st, STATE_CLEANUP_CGROUP_NONE);
	state_cleanup_add(&st, STATE_CLEANUP_NET_PLUMB);
	state_cleanup_add_deadline(&st, 123456789, 60000);
	state_cleanup_add_pid(&st, STATE_CLEANUP_WATCHDOG, 4194304, UINT64_MAX);
	state_cleanup_add_pid(&st, STATE_CLEANUP_OWNER, 2, 0);
	state_cleanup_add_pid(&st, STATE_CLEANUP_AGENT, 300, 7);
	state_cleanup_add_pid(&st, STATE_CLEANUP_PASTA, 301, 8);
	state_cleanup_add_pid(&st, STATE_CLEANUP_SESSION, 302, 9);
	state_cleanup_add_pidns(&st, 4, UINT64_MAX);
	return st;
}

static void assert_same_entries(const struct oci_state *a, const struct oci_state *b)
{
	cr_assert_eq(a->n_cleanup, b->n_cleanup);
	for (size_t i = 0; i < a->n_cleanup; i++) {
		const struct state_cleanup *x = &a->cleanup[i], *y = &b->cleanup[i];
		cr_assert_eq(x->kind, y->kind, "entry %zu", i);
		cr_assert_str_eq(x->str != NULL ? x->str : "", y->str != NULL ? y->str : "");
		cr_assert_eq(x->pid, y->pid, "entry %zu", i);
		cr_assert_eq(x->start, y->start, "entry %zu", i);
		cr_assert_eq(x->dev, y->dev, "entry %zu", i);
		cr_assert_eq(x->ino, y->ino, "entry %zu", i);
		cr_assert_eq(x->deadline_ms, y->deadline_ms, "entry %zu", i);
		cr_assert_eq(x->lifetime_ms, y->lifetime_ms, "entry %zu", i);
	}
}

Test(state_cleanup, every_kind_round_trips)
{
	struct oci_state st = every_kind();
	cr_assert_eq(st.n_cleanup, STATE_CLEANUP_NKINDS);
	char *out = render(&st);
	struct oci_state back;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(out, strlen(out), &back, &err), 0, "%s", err.msg);
	assert_same_entries(&st, &back);
	char *again = render(&back);
	cr_assert_str_eq(again, out);
	free(again);
	free(out);
	oci_state_free_fields(&back);
	state_cleanup_free(&st);
}

Test(state_cleanup, entries_are_objects_with_a_kind)
{
	struct oci_state st = every_kind();
	char *json = cleanup_json(&st);
	cr_assert_str_eq(
	    json,
	    "[{\"kind\":\"audit\",\"path\":\"/var/log/a.jsonl\"},"
	    "{\"kind\":\"file\",\"path\":\"/tmp/x:y\"},"
	    "{\"kind\":\"dir\",\"path\":\"/run/bulwark-session-files/s.1\"},"
	    "{\"kind\":\"idslot\",\"path\":\"/run/"
	    "bulwark-idpool/3\"},"
	    "{\"kind\":\"cgparent\",\"path\":\"/sys/fs/cgroup/a\"},"
	    "{\"kind\":\"hooks-poststart\"},{\"kind\":\"hooks-poststop\"},"
	    "{\"kind\":\"cgroup-pending\"},{\"kind\":\"cgroup-none\"},{\"kind\":\"net-plumb\"},"
	    "{\"kind\":\"deadline\",\"deadlineMs\":123456789,\"lifetimeMs\":60000},"
	    "{\"kind\":\"watchdog\",\"pid\":4194304,\"start\":18446744073709551615},"
	    "{\"kind\":\"owner\",\"pid\":2,\"start\":0},"
	    "{\"kind\":\"agent\",\"pid\":300,\"start\":7},"
	    "{\"kind\":\"pasta\",\"pid\":301,\"start\":8},"
	    "{\"kind\":\"session\",\"pid\":302,\"start\":9},"
	    "{\"kind\":\"pidns\",\"dev\":4,\"ino\":18446744073709551615}]");
	free(json);
	state_cleanup_free(&st);
}

Test(state_cleanup, public_form_has_no_cleanup)
{
	struct oci_state st = every_kind();
	char *out = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_to_json(&st, true, false, &out, NULL, &err), 0, "%s", err.msg);
	cr_assert_null(strstr(out, "cleanup"));
	cr_assert_null(strstr(out, "watchdog"));
	free(out);
	state_cleanup_free(&st);
}

/* A state.json written by an earlier version: the same record, as "tag:value" strings. */
Test(state_cleanup, old_string_form_is_converted)
{
	struct oci_state want = every_kind(), st;
	parse_ok("\"audit:/var/log/a.jsonl\",\"file:/tmp/x:y\","
		 "\"dir:/run/bulwark-session-files/s.1\",\"idslot:/run/bulwark-idpool/3\","
		 "\"cgparent:/sys/fs/cgroup/a\",\"hooks:poststart\",\"hooks:poststop\","
		 "\"cgroup:pending\",\"cgroup:none\",\"net-plumb\",\"deadline:123456789:60000\","
		 "\"watchdog:4194304:18446744073709551615\",\"owner:2:0\",\"agent:300:7\","
		 "\"pasta:301:8\",\"session:302:9\",\"pidns:4:18446744073709551615\"",
		 &st);
	assert_same_entries(&want, &st);
	/* and is written back in the typed form */
	char *a = cleanup_json(&want), *b = cleanup_json(&st);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	oci_state_free_fields(&st);
	state_cleanup_free(&want);
}

Test(state_cleanup, old_and_typed_entries_mix)
{
	struct oci_state st;
	parse_ok("\"net-plumb\",{\"kind\":\"file\",\"path\":\"/f\"}", &st);
	cr_assert_eq(st.n_cleanup, 2);
	cr_assert(state_cleanup_has(&st, STATE_CLEANUP_NET_PLUMB));
	cr_assert_str_eq(state_cleanup_find(&st, STATE_CLEANUP_FILE)->str, "/f");
	oci_state_free_fields(&st);
}

Test(state_cleanup, unknown_kinds_are_refused)
{
	parse_fails("{\"kind\":\"netns\",\"path\":\"/run/x\"}",
		    "state.json: bulwark.cleanup[0].kind: unknown kind \"netns\"");
	parse_fails("\"net-plumb\",{\"path\":\"/x\"}",
		    "state.json: bulwark.cleanup[1].kind: required");
	parse_fails("{\"kind\":7}", "state.json: bulwark.cleanup[0].kind: must be a string");
	parse_fails("\"netns:/run/x\"",
		    "state.json: bulwark.cleanup[0]: unknown entry \"netns:/run/x\"");
	parse_fails("\"hooks:prestart\"",
		    "state.json: bulwark.cleanup[0]: unknown entry \"hooks:prestart\"");
	parse_fails("\"net-plumb:x\"",
		    "state.json: bulwark.cleanup[0]: unknown entry \"net-plumb:x\"");
}

Test(state_cleanup, ill_typed_fields_are_refused)
{
	parse_fails("{\"kind\":\"watchdog\",\"pid\":\"12\",\"start\":1}",
		    "state.json: bulwark.cleanup[0].pid: must be an integer");
	parse_fails("{\"kind\":\"watchdog\",\"pid\":12,\"start\":1.5}",
		    "state.json: bulwark.cleanup[0].start: must be an integer");
	parse_fails("{\"kind\":\"file\",\"path\":[\"/x\"]}",
		    "state.json: bulwark.cleanup[0].path: must be a string");
	parse_fails("{\"kind\":\"pidns\",\"dev\":-1,\"ino\":2}",
		    "state.json: bulwark.cleanup[0].dev: must be >= 0");
	parse_fails("{\"kind\":\"deadline\",\"deadlineMs\":-5,\"lifetimeMs\":1}",
		    "state.json: bulwark.cleanup[0].deadlineMs: must be >= 0");
	parse_fails("[\"file:/x\"]", "state.json: bulwark.cleanup[0]: must be an object");
	parse_fails("7", "state.json: bulwark.cleanup[0]: must be an object");
	char *doc = xasprintf("{\"id\":\"c\",\"status\":\"running\",\"bulwark\":{\"cleanup\":{}}}");
	struct oci_state st;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(doc, strlen(doc), &st, &err), -1);
	cr_assert_str_eq(err.msg, "state.json: bulwark.cleanup: must be an array");
	free(doc);
}

Test(state_cleanup, pids_out_of_range_are_refused)
{
	parse_fails("{\"kind\":\"agent\",\"pid\":4194305,\"start\":1}",
		    "state.json: bulwark.cleanup[0].pid: must be <= 4194304");
	parse_fails("{\"kind\":\"agent\",\"pid\":99999999999999999999999,\"start\":1}",
		    "state.json: bulwark.cleanup[0].pid: must be <= 4194304");
	parse_fails("{\"kind\":\"owner\",\"pid\":1,\"start\":1}",
		    "state.json: bulwark.cleanup[0].pid: must be >= 2");
	parse_fails("{\"kind\":\"owner\",\"pid\":-3,\"start\":1}",
		    "state.json: bulwark.cleanup[0].pid: must be >= 2");
	parse_fails("{\"kind\":\"owner\",\"pid\":5,\"start\":18446744073709551616}",
		    "state.json: bulwark.cleanup[0].start: must be <= 18446744073709551615");
	parse_fails("\"watchdog:4294967297:1\"",
		    "state.json: bulwark.cleanup[0]: malformed watchdog entry "
		    "\"watchdog:4294967297:1\"");
	parse_fails("\"owner:1:5\"", "state.json: bulwark.cleanup[0]: malformed owner entry "
				     "\"owner:1:5\"");
}

Test(state_cleanup, missing_fields_are_named)
{
	parse_fails("{\"kind\":\"watchdog\",\"pid\":12}",
		    "state.json: bulwark.cleanup[0].start: required");
	parse_fails("{\"kind\":\"watchdog\",\"start\":12}",
		    "state.json: bulwark.cleanup[0].pid: required");
	parse_fails("\"net-plumb\",{\"kind\":\"file\"}",
		    "state.json: bulwark.cleanup[1].path: required");
	parse_fails("{\"kind\":\"idslot\",\"name\":\"x\"}",
		    "state.json: bulwark.cleanup[0].path: required");
	parse_fails("{\"kind\":\"pidns\",\"dev\":1,\"ino\":null}",
		    "state.json: bulwark.cleanup[0].ino: required");
	parse_fails("{\"kind\":\"deadline\",\"deadlineMs\":5}",
		    "state.json: bulwark.cleanup[0].lifetimeMs: required");
	parse_fails("{\"kind\":\"audit\",\"path\":\"\"}",
		    "state.json: bulwark.cleanup[0].path: must not be empty");
}

Test(state_cleanup, malformed_old_entries_are_refused)
{
	parse_fails("\"watchdog:12\"",
		    "state.json: bulwark.cleanup[0]: malformed watchdog entry \"watchdog:12\"");
	parse_fails("\"agent:12:x\"",
		    "state.json: bulwark.cleanup[0]: malformed agent entry \"agent:12:x\"");
	parse_fails("\"pidns:1: 2\"",
		    "state.json: bulwark.cleanup[0]: malformed pidns entry \"pidns:1: 2\"");
	parse_fails("\"deadline:-1:5\"",
		    "state.json: bulwark.cleanup[0]: malformed deadline entry \"deadline:-1:5\"");
	parse_fails("\"file:\"", "state.json: bulwark.cleanup[0]: malformed file entry \"file:\"");
}

Test(state_cleanup, too_many_entries_are_refused)
{
	size_t n = STATE_CLEANUP_MAX + 1;
	char *entries = xmalloc(n * 12 + 1), *p = entries;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\"net-plumb\"", i > 0 ? "," : "");
	parse_fails(entries, "state.json: bulwark.cleanup: too many entries (max 4096)");
	free(entries);
}

Test(state_cleanup, long_paths_are_refused)
{
	char *path = xmalloc(STATE_CLEANUP_STR_MAX + 2);
	memset(path, 'a', STATE_CLEANUP_STR_MAX + 1);
	path[STATE_CLEANUP_STR_MAX + 1] = '\0';
	char *entry = xasprintf("{\"kind\":\"file\",\"path\":\"%s\"}", path);
	parse_fails(entry, "state.json: bulwark.cleanup[0].path: longer than 4095 bytes");
	struct oci_state st = {0};
	state_cleanup_add_str(&st, STATE_CLEANUP_FILE, path); /* would not read back */
	cr_assert_eq(st.n_cleanup, 0);
	free(entry);
	free(path);
}

Test(state_cleanup, helpers_find_and_remove_by_kind)
{
	struct oci_state st = {0};
	state_cleanup_add_str(&st, STATE_CLEANUP_CGPARENT, "/a");
	state_cleanup_add_pid(&st, STATE_CLEANUP_WATCHDOG, 10, 1);
	state_cleanup_add_str(&st, STATE_CLEANUP_CGPARENT, "/a/b");
	state_cleanup_add_pid(&st, STATE_CLEANUP_WATCHDOG, 11, 2);
	cr_assert_eq(state_cleanup_find(&st, STATE_CLEANUP_WATCHDOG)->pid, 10);
	cr_assert_null(state_cleanup_find(&st, STATE_CLEANUP_OWNER));
	const struct state_cleanup *e;
	const char *seen[3] = {0};
	size_t n = 0;
	for (size_t i = 0; (e = state_cleanup_next(&st, STATE_CLEANUP_CGPARENT, &i)) != NULL;)
		seen[n++] = e->str;
	cr_assert_eq(n, 2);
	cr_assert_str_eq(seen[0], "/a");
	cr_assert_str_eq(seen[1], "/a/b");
	state_cleanup_remove(&st, STATE_CLEANUP_WATCHDOG);
	cr_assert_eq(st.n_cleanup, 2);
	cr_assert_not(state_cleanup_has(&st, STATE_CLEANUP_WATCHDOG));
	cr_assert_str_eq(st.cleanup[1].str, "/a/b");
	state_cleanup_free(&st);
	cr_assert_null(st.cleanup);
}

/* The adders record nothing the parser would refuse, so a saved state always reads back. */
Test(state_cleanup, adders_refuse_what_would_not_read_back)
{
	struct oci_state st = {0};
	state_cleanup_add(&st, STATE_CLEANUP_NET_PLUMB);
	state_cleanup_add(&st, STATE_CLEANUP_NET_PLUMB); /* a mark, once */
	state_cleanup_add(&st, STATE_CLEANUP_FILE);	 /* needs a path */
	state_cleanup_add_str(&st, STATE_CLEANUP_FILE, "");
	state_cleanup_add_str(&st, STATE_CLEANUP_FILE, NULL);
	state_cleanup_add_str(&st, STATE_CLEANUP_WATCHDOG, "/x");
	state_cleanup_add_pid(&st, STATE_CLEANUP_OWNER, 1, 5);
	state_cleanup_add_pid(&st, STATE_CLEANUP_OWNER, 0, 5);
	state_cleanup_add_pid(&st, STATE_CLEANUP_OWNER, STATE_PID_MAX + 1, 5);
	state_cleanup_add_pid(&st, STATE_CLEANUP_FILE, 5, 5);
	state_cleanup_add_deadline(&st, -1, 5);
	cr_assert_eq(st.n_cleanup, 1);
	cr_assert_eq(st.cleanup[0].kind, STATE_CLEANUP_NET_PLUMB);
	state_cleanup_free(&st);
}

Test(state_cleanup, kind_names)
{
	cr_assert_str_eq(state_cleanup_kind_name(STATE_CLEANUP_HOOKS_POSTSTOP), "hooks-poststop");
	cr_assert_str_eq(state_cleanup_kind_name(STATE_CLEANUP_PIDNS), "pidns");
	cr_assert_null(state_cleanup_kind_name(STATE_CLEANUP_NKINDS));
}
