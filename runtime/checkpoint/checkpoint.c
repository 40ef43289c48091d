/* `bulwark checkpoint` and `session checkpoint`: the dump through CRIU (the init's stdio
 * recorded, bind mounts and device files named external, bulwark's helpers refused) into the
 * image directory held by fd. */
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

/* --parent-path names an earlier (pre-)dump, relative to the image directory as CRIU's
 * --prev-images-dir: it must be a directory now (runc checks the same, on the lexically joined
 * path, before anything else of the dump), so a typo is one line naming the flag, not CRIU's
 * log. The image directory itself need not exist yet ("../parent" next to it). */
static int check_parent(const char *img, const char *parent, struct bw_error *err)
{
	if (parent == NULL)
		return 0;
	_cleanup_free_ char *joined = fs_path_join(img, parent);
	_cleanup_free_ char *p = fs_path_clean(joined);
	struct stat st;
	if (stat(p, &st) < 0)
		return bw_fail(err, errno, "--parent-path: `%s` (as `%s`)", parent, p);
	if (!S_ISDIR(st.st_mode))
		return bw_fail(err, ENOTDIR, "--parent-path: `%s` (as `%s`)", parent, p);
	return 0;
}

/* The same parent as CRIU will find it, from the image directory held (not from its name),
 * which CRIU reads and, with --auto-dedup, punches holes in: the caller's, writable by no one
 * else. CRIU links it by name (`parent`), so its path must stay where only root writes. */
static int check_parent_at(const struct image_dir *img, const char *parent, struct bw_error *err)
{
	if (parent == NULL)
		return image_dir_check_parents(img, NULL, err);
	_cleanup_close_ int fd = openat(img->fd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "--parent-path: `%s` (from `%s`)", parent, img->path);
	_cleanup_close_ int holder = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (holder < 0)
		return bw_fail(err, errno, "--parent-path: `%s` (from `%s`)", parent, img->path);
	if (image_dir_check_owner(fd, "--parent-path", parent, err) < 0 ||
	    image_dir_check_owner(holder, "--parent-path", parent, err) < 0 ||
	    image_dir_check_entries(fd, "--parent-path", parent, err) < 0)
		return -1;
	/* CRIU keeps a `parent` link that is there: it must be this one, and so must the chain
	 * of earlier dumps it leads on to. */
	return image_dir_check_parents(img, parent, err);
}

/* session: a session's watchdog and owner (its supervisor) stay outside the dumped tree and
 * release the session as CRIU ends it; the network's helpers are refused all the same. */
static int check_helpers(struct container *c, bool session, struct bw_error *err)
{
	static const struct {
		enum state_cleanup_kind kind;
		const char *what;
	} helpers[] = {
	    {STATE_CLEANUP_AGENT, "the network agent (nft table, DNS)"},
	    {STATE_CLEANUP_PASTA, "rootless egress (pasta)"},
	    {STATE_CLEANUP_WATCHDOG, "the lifetime watchdog"},
	    {STATE_CLEANUP_OWNER, "a sandbox's owner"},
	};
	size_t n = session ? 2 : ARRAY_SIZE(helpers);
	for (size_t k = 0; k < n; k++)
		if (state_cleanup_has(&c->state, helpers[k].kind))
			return bw_fail(
			    err, 0,
			    "checkpoint: the container has %s, which CRIU does not carry "
			    "over",
			    helpers[k].what);
	return 0;
}

/* runc's descriptors.json: the targets of the init's fds 0-2, for the restore's --inherit-fd.
 * Read before the dump (which may end the init), written after it succeeded. */
#define DESCRIPTORS_MAX (3 * (PATH_MAX * 6 + 8) + 8)
static size_t read_init_descriptors(pid_t pid, char buf[DESCRIPTORS_MAX])
{
	size_t off = 0;
	buf[off++] = '[';
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			n = 0;
		target[n] = '\0';
		off += (size_t)snprintf(buf + off, DESCRIPTORS_MAX - off, "%s\"", fd ? "," : "");
		for (ssize_t i = 0; i < n && off < DESCRIPTORS_MAX - 16; i++) {
			unsigned char ch = (unsigned char)target[i];
			if (ch == '"' || ch == '\\')
				buf[off++] = '\\';
			if (ch < 0x20)
				off += (size_t)snprintf(buf + off, DESCRIPTORS_MAX - off, "\\u%04x",
							ch);
			else
				buf[off++] = (char)ch;
		}
		buf[off++] = '"';
	}
	buf[off++] = ']';
	return off;
}

/* Every device node bound over a file of the container (the host's /dev/null over a masked
 * file; in a user namespace, the host's /dev/null, /dev/tty... that no mknod can make there)
 * is external to the image: named by its path, mapped back at restore. */
static void external_file_mounts(struct argv_buf *a, pid_t pid, const struct oci_spec *spec)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f != NULL && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		_cleanup_free_ char *dest = mountinfo_unescape(mp);
		_cleanup_free_ char *in = xasprintf("/proc/%d/root%s", (int)pid, dest);
		/* The sandbox's own boot id (rootfs.c): one file of a tmpfs mounted nowhere else,
		 * which CRIU cannot dump ("doesn't have a proper root mount"); stacked twice (the
		 * /proc/sys remount), named once. */
		const char *sep = strstr(line, " - ");
		char fstype[64] = "", source[64] = "";
		bool boot_id = sep != NULL && sscanf(sep + 3, "%63s %63s", fstype, source) == 2 &&
			       strcmp(source, BOOT_ID_SOURCE) == 0;
		struct stat st;
		if (dest[0] != '/' || strpbrk(dest, ":[],") != NULL ||
		    ck_is_spec_bind(spec, dest) || lstat(in, &st) < 0 ||
		    (!S_ISCHR(st.st_mode) && !boot_id))
			continue;
		bool named = false;
		_cleanup_free_ char *key = xasprintf("--external=mnt[%s]:%s", dest, dest);
		for (size_t i = 0; i < a->n && !named; i++)
			named = strcmp(a->v[i], key) == 0;
		if (!named)
			ck_arg_add(a, key);
	}
}

static bool mount_in_ns(pid_t pid, int mnt_id)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f != NULL && getline(&line, &cap, f) > 0)
		if (atoi(line) == mnt_id)
			return true;
	return false;
}

/* The init's stdio on a file outside its mount namespace (the host's /dev/null as an engine
 * passes it) is external to the image (CRIU's "file[mnt_id:inode]"); restore hands its own fd
 * of the same number in its place. Pipes are CRIU's own business (descriptors.json). */
static size_t external_stdio(struct argv_buf *a, pid_t pid, char *out, size_t cap)
{
	size_t off = 0;
	for (int fd = 0; fd < 3; fd++) {
		char path[64], target[PATH_MAX], info[256];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		struct stat st;
		if (n <= 0 || target[0] != '/' || stat(path, &st) < 0)
			continue;
		snprintf(info, sizeof(info), "/proc/%d/fdinfo/%d", (int)pid, fd);
		_cleanup_fclose_ FILE *f = fopen(info, "re");
		int mnt = -1;
		while (f != NULL && fgets(info, sizeof(info), f) != NULL)
			if (sscanf(info, "mnt_id: %d", &mnt) == 1)
				break;
		if (mnt < 0 || mount_in_ns(pid, mnt))
			continue;
		char key[64];
		snprintf(key, sizeof(key), "file[%x:%llx]", (unsigned)mnt,
			 (unsigned long long)st.st_ino);
		ck_arg_add(a, "--external");
		ck_arg_add(a, key);
		off += (size_t)snprintf(out + off, cap - off, "%d %s\n", fd, key);
	}
	return off;
}

static int dump_args(struct argv_buf *a, struct container *c, const struct oci_spec *spec,
		     const struct checkpoint_opts *o, const char *img, const char *work)
{
	ck_arg_add(a, "criu");
	ck_arg_add(a, o->pre_dump ? "pre-dump" : "dump");
	ck_arg_add(a, "--tree");
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)c->state.pid);
	ck_arg_add(a, pid);
	ck_common_args(a, o, img, work, DUMP_LOG);
	ck_arg_add(a, "--root");
	ck_arg_add(a, c->state.rootfs);
	if (o->parent_path != NULL) {
		ck_arg_add(a, "--prev-images-dir");
		ck_arg_add(a, o->parent_path);
	}
	if (o->pre_dump || o->parent_path != NULL)
		ck_arg_add(a, "--track-mem");
	if (o->leave_running && !o->pre_dump)
		ck_arg_add(a, "--leave-running");
	if (o->auto_dedup)
		ck_arg_add(a, "--auto-dedup");
	ck_external_mounts(a, spec, NULL, false);
	external_file_mounts(a, c->state.pid, spec);
	const struct oci_namespace *net = oci_spec_namespace(spec, OCI_NS_NETWORK);
	if (net != NULL && net->path != NULL && (o->empty_ns == NULL || !o->empty_ns[0])) {
		struct stat st;
		if (stat(net->path, &st) == 0) {
			char key[64];
			snprintf(key, sizeof(key), "%llu", (unsigned long long)st.st_ino);
			ck_arg_addf(a, "--external=net[%s]:%s", key, "extRootNetNS");
		}
	}
	return 0;
}

/* The dump of the loaded (locked) container c. session: `session checkpoint` (the image
 * directory made here, must not exist; the session's supervisor releases it as CRIU ends it).
 * d: the directories, opened here, closed by the caller. */
static int dump_container(const struct global_opts *g, struct container *c,
			  const struct checkpoint_opts *o, const char *img, const char *work,
			  bool session, struct ck_dirs *d, struct bw_error *err)
{
	const char *verb = session ? "session checkpoint" : "checkpoint";
	struct oci_spec *spec = NULL;
	struct argv_buf a = {0};
	_cleanup_free_ char *desc = NULL;
	time_t start = time(NULL);
	int r = -1;
	ck_dirs_init(d);
	enum oci_status st = container_status(c);
	if (st != OCI_STATUS_RUNNING) {
		r = bw_fail(err, 0, "%s: %s %s is %s, not running", verb,
			    session ? "session" : "container", c->id, oci_status_name(st));
		goto out;
	}
	if (check_parent(img, o->parent_path, err) < 0 || lifecycle_load_spec(c, &spec, err) < 0 ||
	    ck_check_confinement(g, spec, verb, session, err) < 0 ||
	    check_helpers(c, session, err) < 0)
		goto out;
	if (c->state.cgroup_path == NULL) {
		r = bw_fail(err, 0, "%s: the container has no cgroup (created without root)", verb);
		goto out;
	}
	if (ck_dirs_open(d, img, work, session ? IMAGE_DIR_NEW : IMAGE_DIR_CREATE,
			 session ? "session checkpoint: DIR" : "--image-path", err) < 0 ||
	    check_parent_at(&d->img, o->parent_path, err) < 0 ||
	    image_dir_prepare_log(d->work, DUMP_LOG, err) < 0)
		goto rm_dir;
	dump_args(&a, c, spec, o, d->img.proc, d->work->proc);
	desc = xmalloc(DESCRIPTORS_MAX);
	size_t desc_len = read_init_descriptors(c->state.pid, desc);
	char ext[256];
	size_t ext_len = external_stdio(&a, c->state.pid, ext, sizeof(ext));
	struct criu_child ch = {.keep_fd = {d->img.fd, d->work->fd, -1}};
	int rc = ck_criu_exec(g, &a, &ch, err);
	if (rc < 0)
		goto fail_image;
	if (rc != 0) {
		_cleanup_free_ char *why = ck_log_reason(d->work, DUMP_LOG);
		bool left = image_dir_drop_partial(&d->img, DESCRIPTORS, start);
		bw_fail(err, 0, "%s: criu %s failed: %s (log: %s/%s; %s%s%s)", verb,
			o->pre_dump ? "pre-dump" : "dump", why, work, DUMP_LOG,
			left ? "the image in `" : "no image was written", left ? img : "",
			left ? "` is incomplete" : "");
		goto rm_dir;
	}
	r = fs_write_atomic_at(d->img.fd, DESCRIPTORS, desc, desc_len, 0600, err);
	if (r == 0)
		r = fs_write_atomic_at(d->img.fd, STDIO_EXTERNAL, ext, ext_len, 0600, err);
	/* CRIU killed it: release it, as runc (a session's supervisor does that). */
	if (!session && !o->leave_running && !o->pre_dump) {
		struct bw_error e2 = {0};
		if (lifecycle_teardown(c, r < 0 ? &e2 : err) < 0)
			r = -1;
	}
	goto out;
fail_image:
	image_dir_drop_partial(&d->img, DESCRIPTORS, start);
rm_dir:
	/* A failed dump resumes the tasks it seized. What we made and CRIU left empty goes (a
	 * session's DIR, too, when CRIU did not even write its log). */
	image_dir_drop_empty(d->work, DUMP_LOG); /* CRIU never ran */
	image_dir_remove_made(&d->img);		 /* only if empty */
	image_dir_remove_made(&d->own_work);
out:
	ck_arg_free(&a);
	oci_spec_free(spec);
	return r;
}

int checkpoint_container(const struct global_opts *g, const char *id,
			 const struct checkpoint_opts *o, struct bw_error *err)
{
	if (ck_check_mode(o, err) < 0)
		return -1;
	_cleanup_free_ char *img = ck_abs_dir(o->image_path ? o->image_path : "checkpoint");
	_cleanup_free_ char *work = o->work_path ? ck_abs_dir(o->work_path) : xstrdup(img);
	if (img == NULL || work == NULL)
		return bw_fail(err, errno, "--image-path: getcwd");
	struct container *c = NULL;
	if (container_load(cli_state_root(g), id, &c, err) < 0)
		return -1;
	struct ck_dirs d;
	int r = dump_container(g, c, o, img, work, false, &d, err);
	ck_dirs_close(&d);
	container_free(c);
	return r;
}

int checkpoint_session(const struct global_opts *g, struct container *c, const char *dir,
		       struct image_dir *out, struct bw_error *err)
{
	_cleanup_free_ char *img = ck_abs_dir(dir);
	out->fd = out->parent = -1;
	out->base = NULL;
	if (img == NULL)
		return bw_fail(err, errno, "session checkpoint: DIR: getcwd");
	struct checkpoint_opts o = {0};
	struct ck_dirs d;
	int r = dump_container(g, c, &o, img, img, true, &d, err);
	if (r == 0) { /* the caller writes into DIR through this fd */
		*out = d.img;
		out->path = dir;
		d.img.fd = d.img.parent = -1;
		d.img.base = NULL;
	}
	ck_dirs_close(&d);
	return r;
}
