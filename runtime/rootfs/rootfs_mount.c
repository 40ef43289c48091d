/* The spec's mounts, in order: each one becomes a detached mount (open_tree for binds, fsmount
 * for filesystems), gets its attributes while still detached, and is attached with move_mount
 * onto the fd the in-root walker returned for its destination. */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/hostpath.h"
#include "runtime/sandbox/workspace.h"

struct mount_job {
	const struct rootfs_ctx *ctx;
	size_t i;
	const struct oci_mount *m;
	struct rootfs_mount_opts o;
	char *dest; /* cleaned absolute destination */
	const char *type;
	bool is_bind;
	bool ro_later, ro_later_rec; /* read-only at the end (rootfs_readonly_late) */
};

static bool type_is(const struct mount_job *j, const char *type)
{
	return strcmp(j->type, type) == 0;
}

static char *bind_source_path(const struct mount_job *j)
{
	const char *src = j->m->source;
	if (src[0] == '/' || j->ctx->bundle == NULL)
		return xstrdup(src);
	return fs_path_join(j->ctx->bundle, src);
}

/* The scratch tmpfs of a rootless overlay workspace, made in the container's user namespace:
 * upper/ the sandbox user's, with the lower directory's mode. */
static int overlay_scratch(const struct mount_job *j, const struct hostpath *hp, int lower,
			   struct bw_error *err)
{
	struct stat st;
	if (fstat(lower, &st) < 0)
		return bw_fail(err, errno, "stat the lower layer");
	const struct oci_user *u = &j->ctx->spec->process.user;
	return workspace_scratch_tmpfs(hp->scratch_size, u->uid, u->gid, st.st_mode & 07777, err);
}

/* A rootless overlay workspace: lower (the directory, reopened) under a scratch tmpfs that the
 * runtime keeps. In a user namespace the overlay keeps its attributes as user.overlay.*
 * (userxattr), where the file system has them; renaming a lower directory is then EXDEV. */
static int overlay_workspace(const struct mount_job *j, const struct hostpath *hp, int lower,
			     struct bw_error *err)
{
	if (j->ctx->host_scratch == NULL)
		return bw_fail(err, EPROTO, "mounts[%zu]: an overlay workspace here", j->i);
	_cleanup_close_ int scratch = overlay_scratch(j, hp, lower, err);
	if (scratch < 0)
		return bw_wrap(err, "mounts[%zu].source: overlay workspace `%s`", j->i, hp->path);
	char lb[32], sb[32];
	_cleanup_free_ char *upper = xasprintf("%s/upper", fs_fd_path(scratch, sb));
	_cleanup_free_ char *work = xasprintf("%s/work", fs_fd_path(scratch, sb));
	int mnt = -1;
	for (int userxattr = 1; userxattr >= 0 && mnt < 0; userxattr--) {
		_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
		if (fs < 0)
			return bw_fail(err, errno, "mounts[%zu]: fsopen overlay", j->i);
		if (fs_config_str(fs, "source", "bulwark-workspace", err) < 0 ||
		    fs_config_str(fs, "lowerdir", fs_fd_path(lower, lb), err) < 0 ||
		    fs_config_str(fs, "upperdir", upper, err) < 0 ||
		    fs_config_str(fs, "workdir", work, err) < 0 ||
		    (userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0))
			return bw_wrap(err, "mounts[%zu]: overlay workspace `%s`", j->i, hp->path);
		if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
			if (userxattr)
				continue; /* a kernel or upper file system without it */
			int e = errno;
			char why[300];
			rootfs_fs_log_message(fs, why, sizeof(why));
			return bw_fail(
			    err, e,
			    "mounts[%zu]: this kernel cannot mount an overlay over `%s` in "
			    "the sandbox's user namespace%s (without root an overlay "
			    "workspace needs that; use :ro or :rw, or run as root)",
			    j->i, hp->path, why);
		}
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
		if (mnt < 0)
			return bw_fail(err, errno, "mounts[%zu]: fsmount the overlay", j->i);
	}
	if (j->ctx->host_scratch(j->ctx->host_device_arg, j->i, scratch, err) < 0) {
		close(mnt);
		return bw_wrap(err, "mounts[%zu]: overlay workspace `%s`", j->i, hp->path);
	}
	return mnt;
}

static int open_bind_source(const struct mount_job *j, bool *is_dir, struct bw_error *err)
{
	if (j->m->source == NULL || j->m->source[0] == '\0')
		return bw_fail(err, EINVAL, "mounts[%zu].source: a bind mount needs a source",
			       j->i);
	_cleanup_free_ char *src = bind_source_path(j);
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (j->o.rec ? AT_RECURSIVE : 0);
	const struct hostpath *hp = j->ctx->mount_srcs ? &j->ctx->mount_srcs[j->i] : NULL;
	_cleanup_close_ int fd = -1;
	if (hp != NULL && hp->path != NULL) {
		/* Resolved once by the runtime: the same file, or nothing. */
		if ((fd = hostpath_reopen(hp, 0, err)) < 0)
			return -1;
		free(src);
		src = xstrdup(hp->path);
		if (hp->overlay)
			return overlay_workspace(j, hp, fd, err);
	}
	int tree =
	    fd >= 0 ? open_tree(fd, "", flags | AT_EMPTY_PATH) : open_tree(AT_FDCWD, src, flags);
	if (tree < 0)
		return bw_fail(err, errno, "mounts[%zu].source: open_tree `%s`", j->i, src);
	struct stat st;
	if (fstat(tree, &st) < 0) {
		close(tree);
		return bw_fail(err, errno, "mounts[%zu].source: stat `%s`", j->i, src);
	}
	*is_dir = S_ISDIR(st.st_mode);
	return tree;
}

/* sysfs belongs to a network namespace: from a user namespace that does not own one, the
 * kernel refuses a new instance, so the host's /sys is bound, read-only unless asked rw. */
static int sysfs_fallback(const struct mount_job *j, struct bw_error *err)
{
	int tree = open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return bw_fail(err, errno, "mounts[%zu]: bind of the host's /sys", j->i);
	uint64_t set = j->o.attr_set | j->o.rattr_set;
	if (!(j->o.attr_clr & MOUNT_ATTR_RDONLY))
		set |= MOUNT_ATTR_RDONLY;
	if (rootfs_setattr(tree, set, 0, true, err) < 0) {
		close(tree);
		return bw_wrap(err, "mounts[%zu]: bind of the host's /sys", j->i);
	}
	return tree;
}

static int make_tree(const struct mount_job *j, bool *is_dir, struct bw_error *err)
{
	*is_dir = true;
	if (j->is_bind)
		return open_bind_source(j, is_dir, err);
	int tree = rootfs_fs_create(j->type, j->m->source, &j->o, err);
	if (tree < 0 && type_is(j, "sysfs") && err->code == EPERM && j->ctx->userns) {
		bw_error_clear(err);
		return sysfs_fallback(j, err);
	}
	if (tree < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	return tree;
}

static int check_procfs(const struct mount_job *j, struct bw_error *err)
{
	_cleanup_close_ int fd = rootfs_walk(rootfs_state.rootfd, j->dest, false, true, true, err);
	struct statfs sfs;
	if (fd < 0)
		return bw_wrap(err, "mounts[%zu].destination", j->i);
	if (fstatfs(fd, &sfs) < 0)
		return bw_fail(err, errno, "mounts[%zu].destination: statfs `%s`", j->i, j->dest);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return bw_fail(err, EXDEV,
			       "mounts[%zu].destination: `%s` is not procfs after mounting", j->i,
			       j->dest);
	return 0;
}

/* Attributes of a bind: plain options on the top mount, r* options on the whole tree. */
static int bind_attrs(const struct mount_job *j, int tree, struct bw_error *err)
{
	if (rootfs_setattr(tree, j->o.attr_set, j->o.attr_clr, false, err) < 0 ||
	    rootfs_setattr(tree, j->o.rattr_set, j->o.rattr_clr, true, err) < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	return 0;
}

static int prepare_tree(const struct mount_job *j, int tree, int target, struct bw_error *err)
{
	if (j->is_bind && bind_attrs(j, tree, err) < 0)
		return -1;
	if (!j->is_bind && rootfs_setattr(tree, j->o.rattr_set, j->o.rattr_clr, true, err) < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	if (j->o.tmpcopyup) {
		if (!type_is(j, "tmpfs"))
			return bw_fail(err, EINVAL, "mounts[%zu].options: tmpcopyup needs a tmpfs",
				       j->i);
		_cleanup_close_ int dir = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0 || rootfs_copy_up(dir, tree, err) < 0)
			return dir < 0 ? bw_fail(err, errno, "mounts[%zu]: tmpcopyup", j->i)
				       : bw_wrap(err, "mounts[%zu]: tmpcopyup", j->i);
	}
	if (j->o.idmap) {
		if (!j->is_bind)
			return bw_fail(
			    err, EINVAL,
			    "mounts[%zu].options: idmap is only supported on bind mounts", j->i);
		if (rootfs_idmap(j->ctx, j->i, tree, j->o.ridmap, err) < 0)
			return -1;
	}
	return 0;
}

/* "remount": change the mount already at the destination instead of adding one. */
static int remount_existing(const struct mount_job *j, struct bw_error *err)
{
	bool sens = rootfs_path_is_sensitive(j->dest);
	_cleanup_close_ int target =
	    rootfs_walk(rootfs_state.rootfd, j->dest, false, true, sens, err);
	if (target < 0)
		return bw_wrap(err, "mounts[%zu].destination", j->i);
	if (!j->is_bind && rootfs_fs_reconfigure(target, &j->o, err) < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	if (bind_attrs(j, target, err) < 0)
		return -1;
	if (rootfs_set_propagation(target, j->o.propagation, j->o.propagation_rec, err) < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	return 0;
}

/* cgroup: several mounts below the destination, attached one by one (rootfs_cgroup.c). */
static int mount_cgroup(const struct mount_job *j, struct bw_error *err)
{
	bool sens = rootfs_path_is_sensitive(j->dest);
	_cleanup_close_ int target =
	    rootfs_walk(rootfs_state.rootfd, j->dest, true, true, sens, err);
	if (target < 0)
		return bw_wrap(err, "mounts[%zu].destination", j->i);
	if (rootfs_cgroup_mount(j->ctx, &j->o, target, err) < 0)
		return bw_wrap(err, "mounts[%zu] (cgroup on `%s`)", j->i, j->dest);
	return 0;
}

/* A read-only tmpfs, or a read-only /dev, stays writable until the end, as in runc:
 * /dev/pts, /dev/shm, devices and the console are made below it first. Binds and other
 * filesystems are read-only from the start. */
static void plan_readonly(struct mount_job *j)
{
	if (j->is_bind || (!type_is(j, "tmpfs") && strcmp(j->dest, "/dev") != 0))
		return;
	j->ro_later_rec = j->o.rattr_set & MOUNT_ATTR_RDONLY;
	j->ro_later = j->ro_later_rec || (j->o.attr_set & MOUNT_ATTR_RDONLY);
	j->o.attr_set &= ~(uint64_t)MOUNT_ATTR_RDONLY;
	j->o.rattr_set &= ~(uint64_t)MOUNT_ATTR_RDONLY;
}

static int defer_readonly(const struct mount_job *j, int tree, struct bw_error *err)
{
	struct rootfs_state *s = &rootfs_state;
	int fd = fcntl(tree, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return bw_fail(err, errno, "mounts[%zu]: keep the mount to make it read-only",
			       j->i);
	s->ro_later = xrealloc(s->ro_later, (s->n_ro_later + 1) * sizeof(*s->ro_later));
	s->ro_later[s->n_ro_later++] =
	    (struct rootfs_ro_later){.fd = fd, .i = j->i, .recursive = j->ro_later_rec};
	return 0;
}

static int mount_new(const struct mount_job *j, struct bw_error *err)
{
	bool is_dir, sens = rootfs_path_is_sensitive(j->dest);
	if (!j->is_bind && (type_is(j, "cgroup") || type_is(j, "cgroup2")))
		return mount_cgroup(j, err);
	_cleanup_close_ int tree = make_tree(j, &is_dir, err);
	if (tree < 0)
		return -1;
	_cleanup_close_ int target =
	    rootfs_walk(rootfs_state.rootfd, j->dest, true, is_dir, sens, err);
	if (target < 0)
		return bw_wrap(err, "mounts[%zu].destination", j->i);
	if (prepare_tree(j, tree, target, err) < 0)
		return -1;
	if (rootfs_attach(tree, target, err) < 0)
		return bw_wrap(err, "mounts[%zu].destination `%s`", j->i, j->dest);
	if (rootfs_set_propagation(tree, j->o.propagation, j->o.propagation_rec, err) < 0)
		return bw_wrap(err, "mounts[%zu].options", j->i);
	if (j->ro_later && defer_readonly(j, tree, err) < 0)
		return -1;
	if (type_is(j, "proc"))
		return check_procfs(j, err);
	return 0;
}

bool rootfs_mount_is_bind(const struct oci_mount *m)
{
	struct rootfs_mount_opts o;
	rootfs_mount_opts_parse(m->options, &o);
	bool bind = o.bind || (m->type != NULL && strcmp(m->type, "bind") == 0) ||
		    ((m->type == NULL || m->type[0] == '\0') && o.bind);
	rootfs_mount_opts_free(&o);
	return bind;
}

static int mount_one(const struct rootfs_ctx *ctx, size_t i, struct bw_error *err)
{
	struct mount_job j = {.ctx = ctx, .i = i, .m = &ctx->spec->mounts[i]};
	int r;

	if (j.m->destination == NULL || j.m->destination[0] == '\0')
		return bw_fail(err, EINVAL, "mounts[%zu].destination: missing", i);
	rootfs_mount_opts_parse(j.m->options, &j.o);
	j.dest = fs_path_clean(j.m->destination);
	j.type = j.m->type != NULL && j.m->type[0] != '\0' ? j.m->type : (j.o.bind ? "bind" : NULL);
	j.is_bind = j.o.bind || (j.type != NULL && strcmp(j.type, "bind") == 0);
	if (j.type == NULL)
		r = bw_fail(err, EINVAL, "mounts[%zu].type: missing for a mount that is not a bind",
			    i);
	else if (strcmp(j.dest, "/") == 0)
		r = bw_fail(err, EINVAL, "mounts[%zu].destination: cannot mount over the root", i);
	else if (j.o.remount)
		r = remount_existing(&j, err);
	else {
		plan_readonly(&j);
		r = mount_new(&j, err);
	}
	rootfs_mount_opts_free(&j.o);
	free(j.dest);
	return r;
}

int rootfs_mount_all(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	for (size_t i = 0; i < ctx->spec->n_mounts; i++)
		if (mount_one(ctx, i, err) < 0)
			return -1;
	return 0;
}
