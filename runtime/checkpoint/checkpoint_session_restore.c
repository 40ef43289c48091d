/* `session restore`'s CRIU run: the session's tree restored from DIR onto a fresh tmpfs root
 * (the mount points and top-level links of the minimal view), its binds mapped to the host's
 * own paths and pid 1's file to the new session's copy, the boot id to a fresh file, as a
 * sibling of CRIU: the caller (the new supervisor) is the restored init's parent. */
#include "runtime/checkpoint/checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/spec.h"
#include "runtime/checkpoint/checkpoint_internal.h"
#include "runtime/checkpoint/image_dir.h"
#include "runtime/idpool.h"
#include "runtime/init_reaper.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static bool under_other_mount(const struct oci_spec *spec, const char *dst)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		size_t n = strlen(spec->mounts[i].destination);
		if (n > 1 && strncmp(dst, spec->mounts[i].destination, n) == 0 && dst[n] == '/')
			return true;
	}
	return false;
}

/* The tmpfs root's skeleton: each outermost mount point, and the host's top-level links. */
static char **root_skeleton(const struct oci_spec *spec, char *const *links)
{
	char **sk = NULL;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const char *d = spec->mounts[i].destination;
		if (strcmp(d, "/") == 0 || under_other_mount(spec, d))
			continue;
		strv_push_take(&sk, xasprintf("%c %s", strcmp(d, INIT_SESSION_EXE) ? 'd' : 'f', d));
	}
	for (size_t k = 0; links != NULL && links[k] != NULL && links[k + 1] != NULL; k += 2)
		strv_push_take(&sk, xasprintf("l %s %s", links[k], links[k + 1]));
	return sk;
}

static void session_args(struct argv_buf *a, const struct session_restore_plan *p,
			 const char *root_mnt, const char *pidfile)
{
	struct checkpoint_opts o = {0};
	ck_arg_add(a, "criu");
	ck_arg_add(a, "restore");
	ck_common_args(a, &o, p->img->proc, p->img->proc, RESTORE_LOG);
	ck_arg_add(a, "--root");
	ck_arg_add(a, root_mnt);
	/* The init becomes our child: its PR_SET_PDEATHSIG is tied to the supervisor again. */
	ck_arg_add(a, "--restore-detached");
	ck_arg_add(a, "--restore-sibling");
	ck_arg_add(a, "--pidfile");
	ck_arg_add(a, pidfile);
	ck_arg_add(a, "--cgroup-root");
	ck_arg_add(a, p->cgroup);
	for (size_t i = 0; i < p->spec->n_mounts; i++) {
		const struct oci_mount *m = &p->spec->mounts[i];
		if (m->source == NULL || m->source[0] != '/' || strcmp(m->destination, "/") == 0 ||
		    !ck_is_spec_bind(p->spec, m->destination))
			continue;
		bool init = strcmp(m->destination, INIT_SESSION_EXE) == 0;
		ck_arg_addf(a, "--ext-mount-map=%s:%s", m->destination,
			    init ? p->init_copy : m->source);
	}
	ck_arg_addf(a, "--ext-mount-map=%s:%s", BOOT_ID_PATH, p->boot_id);
	char *skip[] = {BOOT_ID_PATH, NULL};
	ck_external_file_maps(a, p->spec, skip);
	ck_stdio_inherit(a, p->img);
}

/* The restored tasks run on the session's own range, whatever the image said. */
static int check_ids(pid_t pid, uint32_t base, struct bw_error *err)
{
	char path[64], want[64];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, k ? "gid_map" : "uid_map");
		if (fs_read_file(path, 4096, &text, &len, err) < 0)
			return bw_wrap(err, "the restored init");
		unsigned a = 1, b = 0, c = 0;
		int n = 0;
		snprintf(want, sizeof(want), "%u", base);
		if (sscanf(text, "%u %u %u %n", &a, &b, &c, &n) != 3 || a != 0 || b != base ||
		    c != IDPOOL_RANGE || text[n] != '\0')
			return bw_fail(
			    err, 0,
			    "session restore: the restored init's %s is not the session's "
			    "range %s+65536: refused, the session was killed",
			    k ? "gid_map" : "uid_map", want);
		free(text);
		text = NULL;
	}
	return 0;
}

int checkpoint_restore_session(const struct global_opts *g, const struct session_restore_plan *p,
			       pid_t *pid, struct bw_error *err)
{
	_cleanup_free_ char *root_mnt = fs_path_join(p->state_dir, "criu-root");
	_cleanup_free_ char *pidfile = fs_path_join(p->state_dir, "criu.pid");
	if (ck_share_image_with_userns(p->img, p->spec, err) < 0 ||
	    image_dir_prepare_log(p->img, RESTORE_LOG, err) < 0)
		return bw_wrap(err, "session restore");
	if (mkdir(root_mnt, 0700) < 0) {
		bw_fail(err, errno, "session restore: mkdir `%s`", root_mnt);
		ck_unshare_image(p->img, p->spec);
		return -1;
	}
	struct argv_buf a = {0};
	session_args(&a, p, root_mnt, pidfile);
	char **skel = root_skeleton(p->spec, p->links);
	struct criu_child ch = {.root_mnt = root_mnt,
				.skeleton = skel,
				.skel_uid = p->base,
				.keep_fd = {p->img->fd, -1, -1},
				.reopen = {p->img, NULL},
				.no_new_privs = true};
	for (int i = 0; i < 3; i++)
		ch.null_stdio[i] = isatty(i);
	int rc = ck_criu_exec(g, &a, &ch, err);
	ck_unshare_image(p->img, p->spec); /* CRIU has read what it restores */
	ck_arg_free(&a);
	strv_free(skel);
	rmdir(root_mnt);
	if (rc != 0)
		image_dir_drop_empty(p->img, RESTORE_LOG); /* CRIU never ran */
	if (rc > 0) {
		_cleanup_free_ char *why = ck_log_reason(p->img, RESTORE_LOG);
		rc = bw_fail(err, 0, "session restore: criu restore failed: %s (log: %s/%s)", why,
			     p->img->path, RESTORE_LOG);
	}
	if (rc == 0)
		rc = ck_read_pidfile(pidfile, pid, err);
	unlink(pidfile);
	if (rc == 0)
		rc = ck_check_restored(*pid, p->spec, err);
	if (rc == 0)
		rc = check_ids(*pid, p->base, err);
	return rc;
}
