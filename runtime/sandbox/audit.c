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
#include "common/log.h"
#include "common/util.h"
#include "oci/state.h"

struct audit_rec {
	yajl_gen g;
};

static void key(struct audit_rec *a, const char *k)
{
	yajl_gen_string(a->g, (const unsigned char *)k, strlen(k));
}

void audit_str(struct audit_rec *a, const char *k, const char *v)
{
	key(a, k);
	if (v == NULL)
		yajl_gen_null(a->g);
	else
		yajl_gen_string(a->g, (const unsigned char *)v, strlen(v));
}

void audit_int(struct audit_rec *a, const char *k, int64_t v)
{
	key(a, k);
	yajl_gen_integer(a->g, (long long)v);
}

void audit_bool(struct audit_rec *a, const char *k, bool v)
{
	key(a, k);
	yajl_gen_bool(a->g, v);
}

void audit_map_open(struct audit_rec *a, const char *k)
{
	key(a, k);
	yajl_gen_map_open(a->g);
}

void audit_map_close(struct audit_rec *a)
{
	yajl_gen_map_close(a->g);
}

struct audit_rec *audit_begin(const char *id, const char *event)
{
	struct audit_rec *a = xcalloc(1, sizeof(*a));
	a->g = yajl_gen_alloc(NULL);
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
	if (path != NULL) {
		const unsigned char *buf;
		size_t len;
		yajl_gen_map_close(a->g);
		yajl_gen_get_buf(a->g, &buf, &len);
		_cleanup_free_ char *line = xmalloc(len + 1);
		memcpy(line, buf, len);
		line[len] = '\n';
		_cleanup_close_ int fd = open_log(path, err);
		if (fd < 0)
			r = -1;
		else if (write(fd, line, len + 1) != (ssize_t)(len + 1))
			r = bw_fail(err, errno, "audit log `%s`: short write", path);
	}
	yajl_gen_free(a->g);
	free(a);
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
