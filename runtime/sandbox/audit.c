/* JSON lines for the audit log, built with yajl_gen (its string escaping handles whatever a
 * hostile config put into an id or a path). */
#include "runtime/sandbox/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/state.h"

struct audit_rec {
	yajl_gen g;
};

void audit_str(struct audit_rec *a, const char *k, const char *v)
{
	json_key_str(a->g, k, v);
}

void audit_int(struct audit_rec *a, const char *k, int64_t v)
{
	json_key_int(a->g, k, (long long)v);
}

void audit_bool(struct audit_rec *a, const char *k, bool v)
{
	json_str(a->g, k);
	yajl_gen_bool(a->g, v);
}

void audit_map_open(struct audit_rec *a, const char *k)
{
	json_str(a->g, k);
	yajl_gen_map_open(a->g);
}

void audit_map_close(struct audit_rec *a)
{
	yajl_gen_map_close(a->g);
}

struct audit_rec *audit_begin(const char *id, const char *event)
{
	struct audit_rec *a = xcalloc(1, sizeof(*a));
	a->g = json_gen_new(false);
	yajl_gen_map_open(a->g);
	_cleanup_free_ char *now = oci_time_now_rfc3339();
	audit_str(a, "time", now);
	audit_str(a, "sandbox", id);
	audit_str(a, "event", event);
	return a;
}

static int open_log(const char *path, struct bw_error *err)
{
	if (path[0] != '/')
		return bw_fail(err, 0, "audit log `%s`: must be an absolute path", path);
	int fd =
	    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "audit log `%s`", path);
	return fd;
}

int audit_check(const char *path, struct bw_error *err)
{
	int fd = open_log(path, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int audit_commit(struct audit_rec *a, const char *path, struct bw_error *err)
{
	int r = 0;
	yajl_gen_map_close(a->g);
	size_t len;
	_cleanup_free_ char *line = json_take(a->g, true, &len);
	free(a);
	if (path != NULL) {
		_cleanup_close_ int fd = open_log(path, err);
		if (fd < 0)
			r = -1;
		else if (write(fd, line, len) != (ssize_t)len)
			r = bw_fail(err, errno, "audit log `%s`: short write", path);
	}
	return r;
}

void audit_commit_warn(struct audit_rec *a, const char *path)
{
	struct bw_error e = {0};
	if (audit_commit(a, path, &e) < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(&e, text, sizeof(text));
		log_warn("%s", text);
	}
}
