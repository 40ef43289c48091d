/* state.json: the exact runc shape engines parse, the private fields surviving a round trip,
 * and RFC 3339 timestamps like Go's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "oci/state.h"

static struct oci_kv annotations[] = {{"io.container.manager", "libpod"}, {"b", ""}};

static struct oci_state sample(void)
{
	struct oci_state st = {
	    .oci_version = "1.0.2-dev",
	    .id = "t2",
	    .status = OCI_STATUS_CREATED,
	    .pid = 16313,
	    .bundle = "/abs/bundle",
	    .rootfs = "/abs/bundle/rootfs",
	    .created = "2026-11-22T12:14:31.23411935Z",
	    .owner = "",
	};
	return st;
}

static char *render(const struct oci_state *st, bool public_only, bool pretty)
{
	char *out = NULL;
	size_t len = 0;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_to_json(st, public_only, pretty, &out, &len, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(len, strlen(out));
	return out;
}

Test(state_json, compact_public_form_is_runcs)
{
	struct oci_state st = sample();
	char *out = render(&st, true, false);
	cr_assert_str_eq(out,
			 "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"t2\",\"pid\":16313,"
			 "\"status\":\"created\",\"bundle\":\"/abs/bundle\",\"rootfs\":"
			 "\"/abs/bundle/rootfs\",\"created\":\"2026-11-22T12:14:31.23411935Z\","
			 "\"owner\":\"\"}");
	free(out);
}

Test(state_json, pretty_form_is_indented_by_two_spaces)
{
	struct oci_state st = sample();
	char *out = render(&st, true, true);
	cr_assert_str_eq(out, "{\n"
			      "  \"ociVersion\": \"1.0.2-dev\",\n"
			      "  \"id\": \"t2\",\n"
			      "  \"pid\": 16313,\n"
			      "  \"status\": \"created\",\n"
			      "  \"bundle\": \"/abs/bundle\",\n"
			      "  \"rootfs\": \"/abs/bundle/rootfs\",\n"
			      "  \"created\": \"2026-11-22T12:14:31.23411935Z\",\n"
			      "  \"owner\": \"\"\n"
			      "}");
	free(out);
}

Test(state_json, annotations_appear_only_when_present)
{
	struct oci_state st = sample();
	st.annotations = annotations;
	st.n_annotations = 1;
	char *out = render(&st, true, false);
	cr_assert(str_has_suffix(out, ",\"owner\":\"\",\"annotations\":{\"io.container.manager\":"
				      "\"libpod\"}}"),
		  "%s", out);
	free(out);
	st.n_annotations = 0;
	out = render(&st, true, false);
	cr_assert_null(strstr(out, "annotations"));
	free(out);
}

Test(state_json, public_form_has_no_private_fields)
{
	struct oci_state st = sample();
	st.cgroup_path = "/docker/t2";
	st.init_start_time = 12345;
	char *out = render(&st, true, false);
	cr_assert_null(strstr(out, "bulwark"));
	cr_assert_null(strstr(out, "/docker/t2"));
	free(out);
}

Test(state_json, stored_form_round_trips)
{
	struct oci_state st = sample();
	st.status = OCI_STATUS_PAUSED;
	st.annotations = annotations;
	st.n_annotations = 2;
	st.init_start_time = UINT64_MAX;
	st.cgroup_path = "/docker/t2";
	st.own_pid_ns = true;
	st.config_digest = "sha256:abcd";
	state_cleanup_add_str(&st, STATE_CLEANUP_FILE, "/run/x.pid");
	state_cleanup_add_pid(&st, STATE_CLEANUP_AGENT, 4242, 99);
	char *out = render(&st, false, true);

	struct oci_state back;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(out, strlen(out), &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.oci_version, "1.0.2-dev");
	cr_assert_str_eq(back.id, "t2");
	cr_assert_eq(back.status, OCI_STATUS_PAUSED);
	cr_assert_eq(back.pid, 16313);
	cr_assert_str_eq(back.bundle, "/abs/bundle");
	cr_assert_str_eq(back.rootfs, "/abs/bundle/rootfs");
	cr_assert_str_eq(back.created, "2026-11-22T12:14:31.23411935Z");
	cr_assert_str_eq(back.owner, "");
	cr_assert_eq(back.n_annotations, 2);
	cr_assert_str_eq(back.annotations[0].value, "libpod");
	cr_assert_str_eq(back.annotations[1].key, "b");
	cr_assert_eq(back.init_start_time, UINT64_MAX);
	cr_assert_str_eq(back.cgroup_path, "/docker/t2");
	cr_assert(back.own_pid_ns);
	cr_assert_str_eq(back.config_digest, "sha256:abcd");
	cr_assert_eq(back.n_cleanup, 2);
	cr_assert_str_eq(back.cleanup[0].str, "/run/x.pid");
	cr_assert_eq(back.cleanup[1].kind, STATE_CLEANUP_AGENT);
	cr_assert_eq(back.cleanup[1].pid, 4242);
	cr_assert_eq(back.cleanup[1].start, 99);

	/* and renders to the same bytes again */
	char *again = render(&back, false, true);
	cr_assert_str_eq(again, out);
	free(again);
	free(out);
	state_cleanup_free(&st);
	oci_state_free_fields(&back);
	cr_assert_null(back.id);
}

Test(state_json, non_utf8_paths_survive_our_own_file)
{
	struct oci_state st = sample();
	st.bundle = "/tmp/b\xff\xfe";
	char *out = render(&st, false, false);
	struct oci_state back;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(out, strlen(out), &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.bundle, "/tmp/b\xff\xfe");
	oci_state_free_fields(&back);
	free(out);
}

Test(state_json, missing_private_fields_read_as_zero)
{
	const char *doc = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"pid\":0,\"status\":"
			  "\"stopped\",\"bundle\":\"/b\",\"future\":[1]}";
	struct oci_state st;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(doc, strlen(doc), &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.status, OCI_STATUS_STOPPED);
	cr_assert_null(st.cgroup_path);
	cr_assert_null(st.cleanup);
	cr_assert_eq(st.n_cleanup, 0);
	cr_assert_eq(st.init_start_time, 0);
	oci_state_free_fields(&st);
}

static void parse_fails(const char *doc, const char *msg)
{
	struct oci_state st;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_parse(doc, strlen(doc), &st, &err), -1, "accepted %s", doc);
	cr_assert_str_eq(err.msg, msg);
	cr_assert_null(st.id);
}

Test(state_json, invalid_documents_are_refused)
{
	parse_fails("{\"id\":\"c\",\"pid\":1,\"status\":\"zombie\"}",
		    "state.json: status: unknown status \"zombie\"");
	parse_fails("{\"id\":\"c\",\"pid\":1}", "state.json: status: required");
	parse_fails("{\"id\":\"c\",\"pid\":-1,\"status\":\"running\"}",
		    "state.json: pid: must be >= 0");
	parse_fails("{\"id\":\"c\",\"pid\":4294967296,\"status\":\"running\"}",
		    "state.json: pid: must be <= 2147483647");
	parse_fails("{\"id\":\"\",\"status\":\"running\"}", "state.json: id: must not be empty");
	parse_fails("{\"id\":\"c\",\"status\":\"running\",\"bulwark\":{\"ownPidNs\":1}}",
		    "state.json: bulwark.ownPidNs: must be a boolean");
	parse_fails("{\"id\":", "state.json: invalid JSON: parse error: premature EOF");
}

Test(state_json, creating_is_a_status_too)
{
	struct oci_state st = sample();
	st.status = OCI_STATUS_CREATING;
	char *out = render(&st, true, false);
	cr_assert_not_null(strstr(out, "\"status\":\"creating\""));
	free(out);
	st.status = (enum oci_status)42;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_to_json(&st, true, false, &out, NULL, &err), -1);
	cr_assert_str_eq(err.msg, "state.json: invalid status 42");
}

Test(status, names_round_trip)
{
	const char *names[] = {"creating", "created", "running", "paused", "stopped"};
	for (int i = 0; i < 5; i++) {
		cr_assert_str_eq(oci_status_name((enum oci_status)i), names[i]);
		cr_assert_eq(oci_status_from_name(names[i]), i);
	}
	cr_assert_eq(oci_status_from_name("Running"), -1);
	cr_assert_null(oci_status_name((enum oci_status)5));
}

Test(rfc3339, trims_trailing_zeros_like_go)
{
	struct timespec ts = {.tv_sec = 1795349671, .tv_nsec = 234119350};
	char *s = oci_time_rfc3339(&ts);
	cr_assert_str_eq(s, "2026-11-22T12:14:31.23411935Z");
	free(s);
	ts.tv_nsec = 500000000;
	s = oci_time_rfc3339(&ts);
	cr_assert_str_eq(s, "2026-11-22T12:14:31.5Z");
	free(s);
	ts.tv_nsec = 1;
	s = oci_time_rfc3339(&ts);
	cr_assert_str_eq(s, "2026-11-22T12:14:31.000000001Z");
	free(s);
}

Test(rfc3339, whole_seconds_have_no_fraction)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
	char *s = oci_time_rfc3339(&ts);
	cr_assert_str_eq(s, "1970-01-01T00:00:00Z");
	free(s);
}

Test(rfc3339, now_is_utc_and_current)
{
	char *s = oci_time_now_rfc3339();
	cr_assert(str_has_suffix(s, "Z"));
	struct tm tm = {0};
	char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	cr_assert_not_null(rest);
	cr_assert(rest[0] == '.' || rest[0] == 'Z');
	time_t t = timegm(&tm);
	cr_assert_lt(labs((long)(time(NULL) - t)), 5);
	free(s);
}

/* The stdin of hooks: the runtime-spec's State and nothing of `state`'s extras, in runc's key
 * order; a stopped container has no pid. */
Test(state_json, spec_state_for_hooks_is_runcs)
{
	struct oci_state st = sample();
	st.annotations = annotations;
	st.n_annotations = 2;
	char *out = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_state_spec_json(&st, &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out, "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"t2\",\"status\":\"created\","
			      "\"pid\":16313,\"bundle\":\"/abs/bundle\",\"annotations\":{"
			      "\"io.container.manager\":\"libpod\",\"b\":\"\"}}");
	free(out);
	st.status = OCI_STATUS_STOPPED;
	st.pid = 0;
	st.n_annotations = 0;
	cr_assert_eq(oci_state_spec_json(&st, &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out, "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"t2\",\"status\":\"stopped\","
			      "\"bundle\":\"/abs/bundle\"}");
	free(out);
}
