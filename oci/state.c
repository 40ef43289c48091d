/* state.json: writing the runc-shaped state that engines parse (and hooks read on stdin),
 * with bulwark's private fields under "bulwark" in the stored copy; reading it back; and the
 * RFC 3339 timestamps it carries. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "oci/spec_internal.h"
#include "oci/state.h"

static const char *const status_names[] = {
    [OCI_STATUS_CREATING] = "creating", [OCI_STATUS_CREATED] = "created",
    [OCI_STATUS_RUNNING] = "running",	[OCI_STATUS_PAUSED] = "paused",
    [OCI_STATUS_STOPPED] = "stopped",
};

const char *oci_status_name(enum oci_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : NULL;
}

int oci_status_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (strcmp(status_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Like Go's RFC3339Nano: UTC, "Z", fraction without trailing zeros (none at all when 0). */
char *oci_time_rfc3339(const struct timespec *ts)
{
	struct tm tm;
	char date[64], frac[16] = "";
	time_t secs = ts->tv_sec;
	if (gmtime_r(&secs, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	long ns = ts->tv_nsec;
	if (ns > 0 && ns < 1000000000L) {
		snprintf(frac, sizeof(frac), ".%09ld", ns);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	return xasprintf("%s%sZ", date, frac);
}

char *oci_time_now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return oci_time_rfc3339(&ts);
}

static void gen_str(yajl_gen g, const char *s)
{
	s = s != NULL ? s : "";
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kv(yajl_gen g, const char *key, const char *value)
{
	gen_str(g, key);
	gen_str(g, value);
}

static void gen_private(yajl_gen g, const struct oci_state *st)
{
	char num[32];
	gen_str(g, "bulwark");
	yajl_gen_map_open(g);
	gen_str(g, "initStartTime");
	snprintf(num, sizeof(num), "%" PRIu64, st->init_start_time);
	yajl_gen_number(g, num, strlen(num));
	if (st->cgroup_path != NULL)
		gen_kv(g, "cgroupPath", st->cgroup_path);
	gen_str(g, "ownPidNs");
	yajl_gen_bool(g, st->own_pid_ns);
	if (st->config_digest != NULL)
		gen_kv(g, "configDigest", st->config_digest);
	oci_gen_state_cleanup(g, st);
	yajl_gen_map_close(g);
}

static void gen_annotations(yajl_gen g, const struct oci_state *st)
{
	if (st->n_annotations == 0)
		return;
	gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < st->n_annotations; i++)
		gen_kv(g, st->annotations[i].key, st->annotations[i].value);
	yajl_gen_map_close(g);
}

static void gen_state(yajl_gen g, const struct oci_state *st, bool public_only)
{
	yajl_gen_map_open(g);
	gen_kv(g, "ociVersion", st->oci_version);
	gen_kv(g, "id", st->id);
	gen_str(g, "pid");
	yajl_gen_integer(g, st->pid);
	gen_kv(g, "status", oci_status_name(st->status));
	gen_kv(g, "bundle", st->bundle);
	gen_kv(g, "rootfs", st->rootfs);
	gen_kv(g, "created", st->created);
	gen_kv(g, "owner", st->owner);
	gen_annotations(g, st);
	if (!public_only)
		gen_private(g, st);
	yajl_gen_map_close(g);
}

/* The runtime-spec's State, nothing more: what hooks and a seccomp agent read. */
static void gen_spec_state(yajl_gen g, const struct oci_state *st)
{
	yajl_gen_map_open(g);
	gen_kv(g, "ociVersion", st->oci_version);
	gen_kv(g, "id", st->id);
	gen_kv(g, "status", oci_status_name(st->status));
	if (st->pid > 0) {
		gen_str(g, "pid");
		yajl_gen_integer(g, st->pid);
	}
	gen_kv(g, "bundle", st->bundle);
	gen_annotations(g, st);
	yajl_gen_map_close(g);
}

static int gen_to_string(yajl_gen g, char **out, size_t *len)
{
	size_t n;
	char *s = json_take(g, false, &n);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	*out = s;
	if (len != NULL)
		*len = n;
	return 0;
}

int oci_state_spec_json(const struct oci_state *st, char **out, struct bw_error *err)
{
	if (oci_status_name(st->status) == NULL)
		return bw_fail(err, 0, "state.json: invalid status %d", (int)st->status);
	yajl_gen g = json_gen_new(false);
	gen_spec_state(g, st);
	return gen_to_string(g, out, NULL);
}

int oci_state_to_json(const struct oci_state *st, bool public_only, bool pretty, char **out,
		      size_t *len, struct bw_error *err)
{
	if (oci_status_name(st->status) == NULL)
		return bw_fail(err, 0, "state.json: invalid status %d", (int)st->status);
	yajl_gen g = json_gen_new(false);
	yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	gen_state(g, st, public_only);
	return gen_to_string(g, out, len);
}

static int parse_private(struct jp *p, yajl_val v, void *out)
{
	struct oci_state *st = out;
	if (oj_f_u64(p, v, "initStartTime", UINT64_MAX, &st->init_start_time, NULL) < 0 ||
	    oj_f_string(p, v, "cgroupPath", &st->cgroup_path) < 0 ||
	    oj_f_bool(p, v, "ownPidNs", &st->own_pid_ns) < 0 ||
	    oj_f_string(p, v, "configDigest", &st->config_digest) < 0 ||
	    oci_parse_state_cleanup(p, v, st) < 0)
		return -1;
	return 0;
}

static int parse_status(struct jp *p, yajl_val v, struct oci_state *st)
{
	_cleanup_free_ char *status = NULL;
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, "status", &status) < 0)
		return -1;
	if (status == NULL)
		return jp_fail_at(p, "status", "required");
	int s = oci_status_from_name(status);
	if (s < 0)
		return jp_fail_at(p, "status", "unknown status %s", jp_quote(q, status));
	st->status = (enum oci_status)s;
	return 0;
}

static int parse_state(struct jp *p, yajl_val v, struct oci_state *st)
{
	int64_t pid = 0;
	if (oj_f_string(p, v, "ociVersion", &st->oci_version) < 0 ||
	    oj_f_string(p, v, "id", &st->id) < 0 ||
	    oj_f_i64(p, v, "pid", 0, INT32_MAX, &pid, NULL) < 0 || parse_status(p, v, st) < 0 ||
	    oj_f_string(p, v, "bundle", &st->bundle) < 0 ||
	    oj_f_string(p, v, "rootfs", &st->rootfs) < 0 ||
	    oj_f_string(p, v, "created", &st->created) < 0 ||
	    oj_f_string(p, v, "owner", &st->owner) < 0 ||
	    oj_f_string_map(p, v, "annotations", &st->annotations, &st->n_annotations, NULL) < 0 ||
	    oci_parse_member(p, v, "bulwark", st, parse_private) < 0)
		return -1;
	st->pid = (pid_t)pid;
	if (st->id == NULL || st->id[0] == '\0')
		return jp_fail_at(p, "id", "must not be empty");
	return 0;
}

int oci_state_parse(const char *json, size_t len, struct oci_state *out, struct bw_error *err)
{
	yajl_val root;
	memset(out, 0, sizeof(*out));
	if (oj_parse(json, len, "state.json", true, &root, err) < 0)
		return -1;
	struct jp p;
	jp_init(&p, "state.json", err);
	int r = parse_state(&p, root, out);
	oj_free(root);
	if (r < 0)
		oci_state_free_fields(out);
	return r;
}

void oci_state_free_fields(struct oci_state *st)
{
	free(st->oci_version);
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	oci_kv_free(st->annotations, st->n_annotations);
	free(st->cgroup_path);
	free(st->config_digest);
	state_cleanup_free(st);
	memset(st, 0, sizeof(*st));
}
