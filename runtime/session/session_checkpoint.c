/* `bulwark session checkpoint NAME DIR`: the session's tree dumped by CRIU into a new directory
 * DIR (runtime/checkpoint/checkpoint.c), with what the session was made with beside the image
 * (session.json, config.json). Only a session made with --checkpointable: CRIU can carry over
 * neither Landlock nor bulwark's generated AppArmor profile, and a session's are never dropped
 * silently. docs/sessions.md, "checkpoint". */
#include "runtime/session/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/checkpoint/image_dir.h"
#include "runtime/session/session_seal.h"

#define SESSION_IMAGE_META "session.json"
#define SESSION_IMAGE_CONFIG "config.json"
#define SESSION_IMAGE_VERSION 1
/* The session's config.json is bounded as a bundle's is (checkpoint.c's load_bundle_spec). */
#define SESSION_CONFIG_MAX (4 << 20)

static void gen_str(yajl_gen y, const char *s)
{
	yajl_gen_string(y, (const unsigned char *)s, strlen(s));
}

static void gen_kv(yajl_gen y, const char *k, const char *v)
{
	gen_str(y, k);
	gen_str(y, v != NULL ? v : "");
}

static void gen_ki(yajl_gen y, const char *k, long long v)
{
	gen_str(y, k);
	yajl_gen_integer(y, v);
}

/* What the session was made with and how far its lifetime had run: session.json. */
static char *session_meta(const struct container *c, long long checkpointed, long long age_s)
{
	const char *v;
	long long lifetime =
	    (v = session_annotation(c, SESSION_LIFETIME_ANNOTATION)) ? atoll(v) : 0;
	long long idle = (v = session_annotation(c, SESSION_IDLE_ANNOTATION)) ? atoll(v) : 0;
	long long disk = (v = session_annotation(c, SESSION_DISK_ANNOTATION)) ? atoll(v) : 0;
	long long left = lifetime > 0 ? lifetime - age_s * 1000 : 0;
	yajl_gen y = yajl_gen_alloc(NULL);
	yajl_gen_config(y, yajl_gen_beautify, 1);
	yajl_gen_map_open(y);
	gen_ki(y, "version", SESSION_IMAGE_VERSION);
	gen_kv(y, "name", c->id);
	gen_ki(y, "checkpointed", checkpointed);
	gen_ki(y, "age_seconds", age_s);
	gen_ki(y, "idle_timeout_ms", idle);
	gen_ki(y, "lifetime_ms", lifetime);
	gen_ki(y, "lifetime_left_ms", left > 0 ? left : (lifetime > 0 ? 1 : 0));
	gen_ki(y, "disk_bytes", disk);
	gen_kv(y, "limits", session_annotation(c, SESSION_LIMITS_ANNOTATION));
	yajl_gen_map_close(y);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(y, &buf, &len);
	char *out = xstrndup((const char *)buf, len);
	yajl_gen_free(y);
	return out;
}

/* No exec or cp may run through the dump (its processes' parents are outside the session's
 * tree, which CRIU refuses), and none may start: the busy file held exclusively (*busy), which
 * also holds off the idle release (session.h). The session loaded into *c; on failure, none. */
static int hold_idle_session(const struct global_opts *g, const char *name, int *busy,
			     struct container **c, struct bw_error *err)
{
	_cleanup_free_ char *busy_path =
	    xasprintf("%s/%s/%s", cli_state_root(g), name, SESSION_BUSY_FILE);
	*busy = open(busy_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*busy < 0 && session_load(g, name, c, err) < 0)
		return -1;
	if (*busy < 0) {
		container_free(*c);
		*c = NULL;
		return bw_fail(err, 0, "session %s is still starting", name);
	}
	if (flock(*busy, LOCK_EX | LOCK_NB) < 0)
		return bw_fail(
		    err, 0,
		    "session checkpoint: session %s has an exec or cp running (checkpoint "
		    "it when none runs)",
		    name);
	if (session_load(g, name, c, err) < 0)
		return -1;
	if (session_busy_is_current(*c, *busy, name, err) < 0) {
		container_free(*c);
		*c = NULL;
		return -1;
	}
	return 0;
}

/* What the dump needs first: the session's config.json (cfd) read, and its supervisor (sup). */
static int check_before_dump(const char *name, int cfd, int sup, char **config, size_t *config_len,
			     struct bw_error *err)
{
	if (cfd < 0)
		return bw_fail(err, errno, "session %s: its config.json", name);
	if (fs_read_fd(cfd, SESSION_CONFIG_MAX, config, config_len, err) < 0)
		return bw_wrap(err, "session %s: its config.json", name);
	if (sup < 0)
		return bw_fail(err, 0,
			       "session checkpoint: session %s has no supervisor (session rm "
			       "--force releases it)",
			       name);
	return 0;
}

int session_checkpoint(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		cli_print_help(
		    "bulwark session checkpoint NAME DIR",
		    "Dump the session NAME with CRIU into the new directory DIR and release it (as "
		    "session rm).\nOnly a session made with `session create --checkpointable`; "
		    "never while an exec or cp runs.\nSee docs/sessions.md.",
		    NULL, 0);
		return 0;
	}
	if (argc != 2)
		return bw_fail(err, 0, "session checkpoint: expected NAME and DIR");
	const char *name = argv[0], *dir = argv[1];
	if (dir[0] == '\0')
		return bw_fail(err, 0, "session checkpoint: DIR is empty");
	if (container_validate_id(name, err) < 0)
		return bw_wrap(err, "session name");
	_cleanup_close_ int busy = -1;
	struct container *c = NULL;
	if (hold_idle_session(g, name, &busy, &c, err) < 0)
		return -1;
	/* Read before the dump: the supervisor removes the state as CRIU ends the session. */
	_cleanup_free_ char *config = NULL;
	size_t config_len = 0;
	_cleanup_close_ int cfd =
	    openat(c->dirfd, SESSION_IMAGE_CONFIG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int sup = container_helper_pidfd(c, STATE_CLEANUP_SESSION);
	const char *v = session_annotation(c, SESSION_ANNOTATION ".created");
	long long t = (long long)time(NULL), age = v != NULL ? t - atoll(v) : 0;
	_cleanup_free_ char *meta = session_meta(c, t, age < 0 ? 0 : age);
	int r = check_before_dump(name, cfd, sup, &config, &config_len, err);
	if (r == 0 && session_seal_key_ready(cli_state_root(g), err) < 0)
		r = bw_wrap(err, "session checkpoint");
	struct image_dir img = {.fd = -1, .parent = -1};
	if (r == 0)
		r = checkpoint_session(g, c, dir, &img, err);
	container_free(c); /* unlocked: the supervisor's teardown takes the lock */
	/* Into the directory made and held by fd: never through a symlink planted meanwhile. */
	if (r == 0 &&
	    (fs_write_atomic_at(img.fd, SESSION_IMAGE_META, meta, strlen(meta), 0600, err) < 0 ||
	     fs_write_atomic_at(img.fd, SESSION_IMAGE_CONFIG, config, config_len, 0600, err) < 0 ||
	     session_seal_write(img.fd, cli_state_root(g), err) < 0))
		r = bw_wrap(err, "session checkpoint: write into DIR `%s`", dir);
	image_dir_close(&img);
	if (r < 0)
		return -1;
	/* CRIU ended the session's init: its supervisor releases the rest (as at rm). */
	if (!session_ended_within(sup, 10000))
		return bw_fail(err, 0,
			       "session checkpoint: the image is in `%s`, but session %s's "
			       "supervisor did not release it within 10 s (session rm --force)",
			       dir, name);
	return 0;
}
