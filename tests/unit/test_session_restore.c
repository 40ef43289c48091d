/* What `session restore` accepts from DIR: session.json bounded, config.json held to a
 * checkpointable session's (runtime/session/session_restore_check.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec.h"
#include "runtime/session/session_restore.h"

#define META "{\"version\":1,\"lifetime_ms\":3600000,\"lifetime_left_ms\":%s,\"idle_timeout_ms\":0}"

static int meta(const char *left, struct bw_error *err)
{
	char buf[256];
	snprintf(buf, sizeof(buf), META, left);
	struct session_meta m;
	return session_meta_parse(buf, strlen(buf), &m, err);
}

Test(session_restore, meta_bounded)
{
	struct bw_error err = {0};
	cr_assert_eq(meta("3000000", &err), 0, "%s", err.msg);
	cr_assert_eq(meta("4000000", &err), -1);
	cr_assert(strstr(err.msg, "lifetime_left_ms: more than lifetime_ms") != NULL, "%s",
		  err.msg);
	cr_assert_eq(meta("\"x\"", &err), -1);
	cr_assert(strstr(err.msg, "session.json: lifetime_left_ms: missing or not an integer"));
	const char *v2 = "{\"version\":2}";
	struct session_meta m;
	cr_assert_eq(session_meta_parse(v2, strlen(v2), &m, &err), -1);
	cr_assert(strstr(err.msg, "session.json: version: 2 is out of range") != NULL, "%s",
		  err.msg);
	cr_assert_eq(session_meta_parse("[1", 2, &m, &err), -1);
}

/* A checkpointable session's config.json, reduced to what the checks read; %s: extra. */
static const char *const config =
    "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"bulwark-session\"],\"cwd\":\"/\","
    "\"user\":{\"uid\":1000,\"gid\":1000},\"noNewPrivileges\":true,"
    "\"capabilities\":{\"bounding\":[%s]}},"
    "\"root\":{\"path\":\"/\",\"readonly\":true},"
    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/usr\",\"type\":\"bind\",\"source\":\"/usr\",\"options\":[\"rbind\","
    "\"ro\"]}%s],"
    "\"annotations\":{\"run.bulwark.session\":\"1\",\"run.bulwark.session.checkpointable\":"
    "\"1\",\"run.bulwark.landlock\":\"off\",\"run.bulwark.apparmor\":\"off\"},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"},{\"type\":\"user\"}],"
    "\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":65536}],"
    "\"gidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":65536}],"
    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"},"
    "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"pids\":{\"limit\":"
    "1024},\"memory\":{\"limit\":1073741824}}}}";

static int check(const char *caps, const char *mounts, unsigned base, uint32_t *out,
		 struct bw_error *err)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), config, caps, mounts, base, base);
	struct oci_spec *spec = NULL;
	if (oci_spec_parse(buf, strlen(buf), "config.json", &spec, err) < 0)
		return -2;
	int r = session_restore_check_spec(spec, out, err);
	oci_spec_free(spec);
	return r;
}

Test(session_restore, a_checkpointable_sessions_config_passes)
{
	struct bw_error err = {0};
	uint32_t base = 0;
	cr_assert_eq(check("", "", 100065536u + 3 * 65536u, &base, &err), 0, "%s", err.msg);
	cr_assert_eq(base, 100065536u + 3 * 65536u);
}

Test(session_restore, more_than_a_session_may_is_refused)
{
	struct bw_error err = {0};
	uint32_t base = 0;
	cr_assert_eq(check("\"CAP_SYS_ADMIN\"", "", 100065536u, &base, &err), -1);
	cr_assert(strstr(err.msg, "process.capabilities.bounding: a session has no capabilities "
				  "(asks for CAP_SYS_ADMIN)"),
		  "%s", err.msg);
	cr_assert_eq(check("",
			   ",{\"destination\":\"/host\",\"type\":\"bind\",\"source\":\"/\","
			   "\"options\":[\"rbind\",\"ro\"]}",
			   100065536u, &base, &err),
		     -1);
	cr_assert(strstr(err.msg, "mounts[2]: a bind of `/` at `/host`"), "%s", err.msg);
	cr_assert_eq(check("", "", 0, &base, &err), -1);
	cr_assert(strstr(err.msg, "linux.uidMappings: 0+65536 is not one of bulwark's"), "%s",
		  err.msg);
	cr_assert_eq(check("", "", 100065536u + 7, &base, &err), -1);
}
