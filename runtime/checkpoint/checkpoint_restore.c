/* `bulwark restore`: CRIU's restore into a new container (state, cgroup, the root in a private
 * mount namespace), the image treated as hostile input, and the restored init checked to be
 * confined as config.json says. */
#include "runtime/checkpoint/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/spec.h"
#include "profiles/apparmor.h"
#include "profiles/landlock.h"
#include "runtime/checkpoint/checkpoint_internal.h"
#include "runtime/checkpoint/image_dir.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/network.h"
#include "runtime/sandbox/watchdog.h"

/* The restore's side: a masked file maps to the host's /dev/null, a device to the host's node
 * of the same path (keys the image does not have are not used). */
void ck_external_file_maps(struct argv_buf *a, const struct oci_spec *spec, char *const *skip)
{
	static const char *const devs[] = {"/dev/null",	  "/dev/zero",	  "/dev/full",
					   "/dev/random", "/dev/urandom", "/dev/tty"};
	for (size_t i = 0; spec->linux.masked_paths && spec->linux.masked_paths[i]; i++)
		if (!strv_contains(skip, spec->linux.masked_paths[i]))
			ck_arg_addf(a, "--ext-mount-map=%s:%s", spec->linux.masked_paths[i],
				    "/dev/null");
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		if (!ck_is_spec_bind(spec, devs[i]))
			ck_arg_addf(a, "--ext-mount-map=%s:%s", devs[i], devs[i]);
	for (size_t i = 0; i < spec->linux.n_devices; i++)
		if (strpbrk(spec->linux.devices[i].path, ":[],") == NULL &&
		    !ck_is_spec_bind(spec, spec->linux.devices[i].path))
			ck_arg_addf(a, "--ext-mount-map=%s:%s", spec->linux.devices[i].path,
				    spec->linux.devices[i].path);
}

/* ---- restore ---- */

static int read_descriptors(const struct image_dir *img, char *fds[3])
{
	size_t len = 0;
	_cleanup_free_ char *text = image_dir_read(img, DESCRIPTORS, 1 << 16, &len);
	fds[0] = fds[1] = fds[2] = NULL;
	if (text == NULL)
		return 0; /* not one of ours: CRIU reopens what it recorded */
	const char *p = text;
	for (int i = 0; i < 3; i++) {
		p = strchr(p, '"');
		if (p == NULL)
			return 0;
		const char *q = ++p;
		while (*q && *q != '"')
			q += (*q == '\\' && q[1]) ? 2 : 1;
		fds[i] = xstrndup(p, (size_t)(q - p));
		p = *q ? q + 1 : q;
	}
	return 0;
}

/* The restored stdio is ours: a pipe or an outside file of the old caller's is the new
 * caller's (descriptors.json, bulwark-stdio-external in img). */
void ck_stdio_inherit(struct argv_buf *a, const struct image_dir *img)
{
	bool inherited[3] = {false, false, false};
	char *fds[3];
	read_descriptors(img, fds);
	for (int i = 0; i < 3; i++) {
		if (fds[i] != NULL && str_has_prefix(fds[i], "pipe:")) {
			char k[16];
			snprintf(k, sizeof(k), "fd[%d]", i);
			ck_arg_addf(a, "--inherit-fd=%s:%s", k, fds[i]);
			inherited[i] = true;
		}
		free(fds[i]);
	}
	size_t len = 0;
	_cleanup_free_ char *ext = image_dir_read(img, STDIO_EXTERNAL, 4096, &len);
	if (ext != NULL) {
		char *save = NULL;
		for (char *l = strtok_r(ext, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			int fd = -1;
			char key[64];
			/* One key per fd: the file is the image's, which may be anyone's. */
			if (sscanf(l, "%d %63s", &fd, key) == 2 && fd >= 0 && fd < 3 &&
			    !inherited[fd] && str_has_prefix(key, "file[") &&
			    strpbrk(key, ",") == NULL) {
				char k[16];
				snprintf(k, sizeof(k), "fd[%d]", fd);
				ck_arg_addf(a, "--inherit-fd=%s:%s", k, key);
				inherited[fd] = true;
			}
		}
	}
}

static int restore_args(struct argv_buf *a, const struct oci_spec *spec,
			const struct restore_opts *o, const char *bundle, const struct ck_dirs *d,
			const char *root_mnt, const char *cgpath, const char *pidfile,
			bool null_stdio[3])
{
	ck_arg_add(a, "criu");
	ck_arg_add(a, "restore");
	ck_common_args(a, &o->ck, d->img.proc, d->work->proc, RESTORE_LOG);
	ck_arg_add(a, "--root");
	ck_arg_add(a, root_mnt);
	ck_arg_add(a, "--restore-detached");
	ck_arg_add(a, "--pidfile");
	ck_arg_add(a, pidfile);
	ck_arg_add(a, "--cgroup-root");
	ck_arg_add(a, cgpath);
	if (o->ck.auto_dedup)
		ck_arg_add(a, "--auto-dedup");
	ck_external_mounts(a, spec, bundle, true);
	ck_external_file_maps(a, spec, NULL);
	ck_stdio_inherit(a, &d->img);
	/* Not only the inherited ones: with --shell-job CRIU hands its own stdin to a pty slave
	 * of the image. */
	for (int i = 0; i < 3; i++)
		null_stdio[i] = isatty(i);
	return 0;
}

static int restore_state(struct container *c, const struct oci_spec *spec, const char *raw,
			 size_t raw_len, const char *bundle, const char *rootfs,
			 struct cg_manager *cg, struct bw_error *err)
{
	if (fs_write_atomic_at(c->dirfd, "config.json", raw, raw_len, 0600, err) < 0)
		return -1;
	lifecycle_fill_state(c, spec, bundle, rootfs, cg_path(cg));
	c->state.own_pid_ns = true;
	c->state.status = OCI_STATUS_CREATING;
	if (spec->hooks.n[OCI_HOOK_POSTSTOP] > 0)
		state_cleanup_add(&c->state, STATE_CLEANUP_HOOKS_POSTSTOP);
	return container_save(c, err);
}

int ck_read_pidfile(const char *path, pid_t *pid, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int v = 0;
	if (fs_read_file(path, 64, &text, &len, err) < 0)
		return bw_wrap(err, "criu's pid file");
	text[strcspn(text, "\n")] = '\0';
	if (parse_int(text, &v) < 0 || v <= 1)
		return bw_fail(err, 0, "criu's pid file: `%s` is not a pid", text);
	*pid = v;
	return 0;
}

static int load_bundle_spec(const char *bundle_flag, char **bundle, char **raw, size_t *len,
			    struct oci_spec **spec, struct bw_error *err)
{
	char buf[PATH_MAX];
	if (realpath(bundle_flag ? bundle_flag : ".", buf) == NULL)
		return bw_fail(err, errno, "--bundle: `%s`", bundle_flag ? bundle_flag : ".");
	*bundle = xstrdup(buf);
	_cleanup_free_ char *path = fs_path_join(buf, "config.json");
	if (fs_read_file(path, 4 << 20, raw, len, err) < 0)
		return bw_wrap(err, "config.json");
	return oci_spec_parse(*raw, *len, "config.json", spec, err);
}

static int rootfs_of(const char *bundle, const struct oci_spec *spec, char **out,
		     struct bw_error *err)
{
	_cleanup_free_ char *p = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
							   : fs_path_join(bundle, spec->root_path);
	char buf[PATH_MAX];
	if (realpath(p, buf) == NULL)
		return bw_fail(err, errno, "root.path: `%s`", p);
	*out = xstrdup(buf);
	return 0;
}

/* After criu restore: the state gets the restored init, then the caller's pid file. */
static int adopt_restored(struct container *c, const char *pidfile, const struct restore_opts *o,
			  pid_t *out, struct bw_error *err)
{
	pid_t pid = 0;
	if (ck_read_pidfile(pidfile, &pid, err) < 0)
		return -1;
	c->state.pid = pid;
	c->state.init_start_time = proc_start_time(pid);
	c->state.status = OCI_STATUS_RUNNING;
	container_record_pidns(c);
	if (c->state.init_start_time == 0)
		return bw_fail(err, ESRCH, "the restored init (pid %d) is gone", (int)pid);
	if (container_save(c, err) < 0)
		return -1;
	if (o->pid_file != NULL) {
		char b[32];
		int n = snprintf(b, sizeof(b), "%d", (int)pid);
		if (fs_write_atomic(o->pid_file, b, (size_t)n, 0644, err) < 0)
			return bw_wrap(err, "--pid-file");
	}
	*out = pid;
	return 0;
}

/* The restored init must be confined at least as config.json says: a CRIU that drops
 * no_new_privs or a seccomp filter is caught here, and the container killed. */
int ck_check_restored(pid_t pid, const struct oci_spec *spec, struct bw_error *err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (fs_read_file(path, 1 << 16, &text, &len, err) < 0)
		return bw_wrap(err, "the restored init");
	if (spec->process.no_new_privileges && strstr(text, "\nNoNewPrivs:\t1\n") == NULL)
		return bw_fail(err, 0,
			       "restore: the restored init lacks no_new_privs "
			       "(process.noNewPrivileges): refused, the container was killed");
	if (spec->process.apparmor_profile != NULL && apparmor_enabled()) {
		_cleanup_free_ char *label = NULL;
		size_t n = strlen(spec->process.apparmor_profile);
		snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
		struct bw_error e = {0};
		if (fs_read_file(path, 4096, &label, &len, &e) < 0 ||
		    strncmp(label, spec->process.apparmor_profile, n) != 0 ||
		    (label[n] != ' ' && label[n] != '\n' && label[n] != '\0'))
			return bw_fail(err, 0,
				       "restore: the restored init is not confined by the AppArmor "
				       "profile `%s` (process.apparmorProfile): refused, the "
				       "container was killed",
				       spec->process.apparmor_profile);
	}
	if (spec->linux.seccomp != NULL && strstr(text, "\nSeccomp:\t2\n") == NULL)
		return bw_fail(err, 0,
			       "restore: the restored init has no seccomp filter (linux.seccomp): "
			       "refused, the container was killed");
	return 0;
}

/* In a user namespace CRIU's restored tasks read their images as the container's root: the
 * image (flat, regular files only) gets that root's host gid, read-only, never ownership (an
 * owner could chmod and rewrite the image a later restore would trust). */
int ck_share_image_with_userns(const struct image_dir *img, const struct oci_spec *spec,
			       struct bw_error *err)
{
	if (oci_spec_namespace(spec, OCI_NS_USER) == NULL)
		return 0;
	gid_t gid = (gid_t)-1;
	for (size_t i = 0; i < spec->linux.n_gid_mappings; i++)
		if (spec->linux.gid_mappings[i].container_id == 0)
			gid = spec->linux.gid_mappings[i].host_id;
	if (gid == (gid_t)-1)
		return bw_fail(err, 0,
			       "restore: linux.gidMappings: no host gid for the container's 0");
	int dfd = img->fd, ddup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = ddup < 0 ? NULL : fdopendir(ddup);
	if (d == NULL) {
		if (ddup >= 0)
			close(ddup);
		return bw_fail(err, errno, "--image-path: read `%s`", img->path);
	}
	rewinddir(d);
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		struct stat st, held;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* A hard link to a host file must not be handed to the container's group. */
		_cleanup_close_ int fd = openat(
		    dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &held) < 0)
			r = bw_fail(err, errno, "--image-path: open `%s`", e->d_name);
		else if (!S_ISREG(held.st_mode) || held.st_nlink != 1 || held.st_uid != geteuid() ||
			 held.st_ino != st.st_ino || held.st_dev != st.st_dev)
			r = bw_fail(
			    err, 0,
			    "--image-path: `%s` is not a file of the caller's own with one link: "
			    "refused",
			    e->d_name);
		else if (fchown(fd, (uid_t)-1, gid) < 0 ||
			 fchmod(fd, (st.st_mode & 0600) | 0040) < 0)
			r = bw_fail(err, errno, "--image-path: give `%s` to the container's group",
				    e->d_name);
	}
	closedir(d);
	if (r == 0 && (fchown(dfd, (uid_t)-1, gid) < 0 || fchmod(dfd, 0750) < 0))
		r = bw_fail(err, errno, "--image-path: give `%s` to the container's group",
			    img->path);
	return r;
}

void ck_unshare_image(const struct image_dir *img, const struct oci_spec *spec)
{
	if (oci_spec_namespace(spec, OCI_NS_USER) == NULL || img->fd < 0)
		return;
	int ddup = fcntl(img->fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = ddup < 0 ? NULL : fdopendir(ddup);
	if (d == NULL) {
		if (ddup >= 0)
			close(ddup);
		return;
	}
	rewinddir(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat st;
		_cleanup_close_ int fd = openat(
		    img->fd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
		    st.st_uid != geteuid())
			continue;
		if (fchown(fd, (uid_t)-1, getegid()) < 0 || fchmod(fd, st.st_mode & 0600) < 0)
			log_warn("--image-path: `%s` stays readable by the container's group",
				 e->d_name);
	}
	closedir(d);
	struct stat st;
	if (fstat(img->fd, &st) < 0 || fchown(img->fd, (uid_t)-1, getegid()) < 0 ||
	    fchmod(img->fd, st.st_mode & 0705) < 0)
		log_warn("--image-path: `%s` stays open to the container's group", img->path);
}

static int run_restore(const struct global_opts *g, struct container *c,
		       const struct oci_spec *spec, const struct restore_opts *o,
		       const char *bundle, const struct ck_dirs *d, struct cg_manager *cg,
		       pid_t *pid, struct bw_error *err)
{
	char dir[PATH_MAX];
	if (realpath(c->dir, dir) == NULL)
		return bw_fail(err, errno, "state directory");
	_cleanup_free_ char *root_mnt = fs_path_join(dir, "criu-root");
	_cleanup_free_ char *pidfile = fs_path_join(dir, "criu.pid");
	if (ck_share_image_with_userns(&d->img, spec, err) < 0)
		return -1;
	if (mkdir(root_mnt, 0700) < 0) {
		bw_fail(err, errno, "mkdir `%s`", root_mnt);
		ck_unshare_image(&d->img, spec);
		return -1;
	}
	struct argv_buf a = {0};
	bool null_stdio[3];
	restore_args(&a, spec, o, bundle, d, root_mnt, cg_path(cg), pidfile, null_stdio);
	/* A joined network namespace was named external at dump (extRootNetNS): CRIU gets it
	 * back as an inherited fd, open across its exec only. */
	const struct oci_namespace *net = oci_spec_namespace(spec, OCI_NS_NETWORK);
	_cleanup_close_ int netfd = -1;
	if (net != NULL && net->path != NULL && (o->ck.empty_ns == NULL || !o->ck.empty_ns[0])) {
		netfd = open(net->path, O_RDONLY | O_CLOEXEC);
		if (netfd < 0) {
			ck_arg_free(&a);
			return bw_fail(err, errno, "linux.namespaces: network path `%s`",
				       net->path);
		}
		char k[32];
		snprintf(k, sizeof(k), "fd[%d]", netfd);
		ck_arg_addf(&a, "--inherit-fd=%s:%s", k, "extRootNetNS");
	}
	struct criu_child ch = {.bind_root = c->state.rootfs,
				.root_mnt = root_mnt,
				.keep_fd = {netfd, d->img.fd, d->work->fd},
				.null_stdio = {null_stdio[0], null_stdio[1], null_stdio[2]},
				.reopen = {&d->img, d->work != &d->img ? d->work : NULL},
				.no_new_privs = spec->process.no_new_privileges};
	int rc = ck_criu_exec(g, &a, &ch, err);
	ck_unshare_image(&d->img, spec); /* CRIU has read what it restores */
	ck_arg_free(&a);
	rmdir(root_mnt);
	if (rc > 0) {
		_cleanup_free_ char *why = ck_log_reason(d->work, RESTORE_LOG);
		rc = bw_fail(err, 0, "restore: criu restore failed: %s (log: %s/%s)", why,
			     d->work->path, RESTORE_LOG);
	}
	if (rc == 0)
		rc = adopt_restored(c, pidfile, o, pid, err);
	if (rc == 0)
		rc = ck_check_restored(*pid, spec, err);
	unlink(pidfile);
	return rc;
}

/* Without --detach: wait for the restored init as `run` waits, then release the container. */
static int wait_restored(struct container *c, pid_t pid, bool child, struct bw_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;
	if (pidfd < 0)
		return bw_fail(err, errno, "pidfd_open of the restored init %d", (int)pid);
	container_unlock(c);
	if (child) {
		bool timed_out = false;
		status = lifecycle_wait(pid, pidfd, NULL, 0, &timed_out, err);
	} else {
		struct pollfd p = {pidfd, POLLIN, 0};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	close(pidfd);
	struct container *again = NULL;
	struct bw_error e = {0};
	if (container_load(c->root, c->id, &again, &e) == 0) {
		lifecycle_teardown(again, &e);
		container_free(again);
	}
	return status;
}

/* The container's cgroup with its limits; the parents this made go with the container, never
 * one that was there before. */
static int restore_cgroup(struct container *c, const struct oci_spec *spec, struct cg_manager *cg,
			  struct bw_error *err)
{
	if (cg_create(cg, spec->linux.has_resources ? &spec->linux.resources : NULL, err) < 0)
		return -1;
	char **parents = cg_parents_made(cg);
	for (size_t i = 0; parents != NULL && parents[i] != NULL; i++)
		state_cleanup_add_str(&c->state, STATE_CLEANUP_CGPARENT, parents[i]);
	strv_free(parents);
	return container_save(c, err);
}

/* --image-path: a CRIU image (inventory.img) whose chain of earlier dumps passes the checks. */
static int open_image(struct image_dir *img, const char *path, struct bw_error *err)
{
	struct stat inv;
	if (image_dir_open(img, "--image-path", path, IMAGE_DIR_EXISTING, err) < 0)
		return -1;
	if (fstatat(img->fd, "inventory.img", &inv, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(inv.st_mode))
		return bw_fail(err, 0, "--image-path: `%s` holds no CRIU image (no inventory.img)",
			       path);
	return image_dir_check_parents(img, NULL, err);
}

int restore_container(const struct global_opts *g, const char *id, const struct restore_opts *o,
		      struct bw_error *err)
{
	if (container_validate_id(id, err) < 0 || ck_check_mode(&o->ck, err) < 0)
		return -1;
	if (o->console_socket != NULL)
		return bw_fail(err, 0,
			       "--console-socket: containers with a terminal cannot be restored by "
			       "bulwark");
	_cleanup_free_ char *img = ck_abs_dir(o->ck.image_path ? o->ck.image_path : "checkpoint");
	_cleanup_free_ char *work = o->ck.work_path ? ck_abs_dir(o->ck.work_path) : xstrdup(img);
	if (img == NULL || work == NULL)
		return bw_fail(err, errno, "--image-path: getcwd");
	struct ck_dirs d;
	_cleanup_free_ char *bundle = NULL, *raw = NULL, *rootfs = NULL;
	struct oci_spec *spec = NULL;
	struct container *c = NULL;
	struct cg_manager *cg = NULL;
	size_t len = 0;
	pid_t pid = 0;
	int r = -1;
	/* The image and the bundle first, then the work directory (made if missing, and removed
	 * again when CRIU never ran), all before the container's state and cgroup exist. */
	ck_dirs_init(&d);
	if (open_image(&d.img, img, err) < 0 ||
	    load_bundle_spec(o->bundle, &bundle, &raw, &len, &spec, err) < 0 ||
	    ck_check_confinement(g, spec, "restore", false, err) < 0 ||
	    rootfs_of(bundle, spec, &rootfs, err) < 0)
		goto out;
	if (g->systemd_cgroup) {
		bw_fail(err, 0, "restore: --systemd-cgroup is not supported by restore");
		goto out;
	}
	if (strcmp(img, work) == 0)
		d.work = &d.img;
	else if (image_dir_open(&d.own_work, "--work-path", work, IMAGE_DIR_CREATE, err) < 0)
		goto fail_dirs;
	if (image_dir_prepare_log(d.work, RESTORE_LOG, err) < 0 ||
	    container_new(cli_state_root(g), id, &c, err) < 0)
		goto fail_dirs;
	if (cg_open(spec->linux.cgroups_path, id, &cg, err) < 0 ||
	    restore_state(c, spec, raw, len, bundle, rootfs, cg, err) < 0 ||
	    restore_cgroup(c, spec, cg, err) < 0)
		goto fail;
	if (!o->detach && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		bw_fail(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
		goto fail;
	}
	if (run_restore(g, c, spec, o, bundle, &d, cg, &pid, err) < 0)
		goto fail;
	if (o->detach) {
		r = 0;
		goto out;
	}
	cg_free(cg);
	cg = NULL;
	r = wait_restored(c, pid, !o->no_subreaper, err);
	goto out;
fail:
	if (c != NULL) {
		struct bw_error e2 = {0};
		if (cg != NULL)
			cg_kill_all(cg, SIGKILL, &e2);
		lifecycle_teardown(c, &e2);
	}
fail_dirs:
	image_dir_drop_empty(d.work, RESTORE_LOG); /* CRIU never ran */
	image_dir_remove_made(&d.own_work);
out:
	ck_dirs_close(&d);
	cg_free(cg);
	container_free(c);
	oci_spec_free(spec);
	return r;
}
