/* /dev inside the container: the OCI default devices and links when /dev is a tmpfs of the
 * spec, then linux.devices. Outside a user namespace nodes are made with mknod (before the
 * devices cgroup rules go in, see cgroup.h, so a node the container may not open still exists,
 * as the spec asks); inside one (where mknod is refused) the host's node is bind-mounted after
 * checking it is the device the spec asks for; so it is when mknod is refused otherwise.
 * /dev/core is deliberately not created (it would expose /proc/kcore). */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

struct dev_node {
	const char *path; /* inside the container, absolute */
	mode_t type;	  /* S_IFCHR | S_IFBLK | S_IFIFO */
	unsigned major, minor;
	mode_t perm;
	uid_t uid;
	gid_t gid;
};

static const struct dev_node default_devices[] = {
    {"/dev/null", S_IFCHR, 1, 3, 0666, 0, 0},	 {"/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0},
    {"/dev/full", S_IFCHR, 1, 7, 0666, 0, 0},	 {"/dev/random", S_IFCHR, 1, 8, 0666, 0, 0},
    {"/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0}, {"/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0},
};

static const char *const default_links[][2] = {
    {"ptmx", "pts/ptmx"},	   {"fd", "/proc/self/fd"},	  {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/* Split "/dev/x/y" into its parent directory (opened, created if needed) and its name. */
static int open_parent(const char *path, char **name, struct bw_error *err)
{
	_cleanup_free_ char *clean = fs_path_clean(path);
	char *slash = strrchr(clean, '/');
	if (slash[1] == '\0')
		return bw_fail(err, EINVAL, "`%s` is not a file path", path);
	*name = xstrdup(slash + 1);
	*slash = '\0';
	const char *dir = clean[0] != '\0' ? clean : "/";
	int fd =
	    rootfs_walk(rootfs_state.rootfd, dir, true, true, rootfs_path_is_sensitive(clean), err);
	if (fd < 0) {
		free(*name);
		*name = NULL;
	}
	return fd;
}

/* Outside a user namespace: a real node with the asked mode and owner. */
static int node_mknod(int dirfd, const char *name, const struct dev_node *d, struct bw_error *err)
{
	if (mknodat(dirfd, name, d->type | d->perm, makedev(d->major, d->minor)) < 0)
		return bw_fail(err, errno, "mknod `%s`", d->path);
	if (fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(err, errno, "chown `%s`", d->path);
	if (fchmodat(dirfd, name, d->perm, 0) < 0) /* mknod's mode went through the umask */
		return bw_fail(err, errno, "chmod `%s`", d->path);
	return 0;
}

/* In a user namespace: bind the host's node, after checking it is that very device. */
static int node_bind(int dirfd, const char *name, const struct dev_node *d, struct bw_error *err)
{
	struct stat st;
	_cleanup_close_ int tree =
	    open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return bw_fail(err, errno, "host node `%s` (needed for a bind in a user namespace)",
			       d->path);
	if (fstat(tree, &st) < 0)
		return bw_fail(err, errno, "stat host node `%s`", d->path);
	if ((st.st_mode & S_IFMT) != d->type || major(st.st_rdev) != d->major ||
	    minor(st.st_rdev) != d->minor)
		return bw_fail(err, ENODEV, "host node `%s` is not the device %u:%u", d->path,
			       d->major, d->minor);
	_cleanup_close_ int target =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (target < 0)
		return bw_fail(err, errno, "create `%s`", d->path);
	return rootfs_attach(tree, target, err);
}

/* In a user namespace: the node the runtime made (rootfs_host_device), else the host's. */
static int node_from_runtime(const struct rootfs_ctx *ctx, int dirfd, const char *name,
			     const struct dev_node *d, ssize_t spec_i, struct bw_error *err)
{
	struct bw_error why = {0};
	_cleanup_close_ int tree =
	    spec_i >= 0 && ctx->host_device != NULL
		? ctx->host_device(ctx->host_device_arg, (size_t)spec_i, &why)
		: -1;
	if (tree < 0 && bw_error_is_set(&why) && why.code != EPERM)
		return bw_fail(err, why.code, "%s", why.msg);
	if (tree < 0) {
		/* A default device, or mknod refused to the runtime too: the host's node. */
		if (node_bind(dirfd, name, d, err) == 0)
			return 0;
		return bw_error_is_set(&why)
			   ? bw_wrap(err, "the runtime could not make it (%s)", why.msg)
			   : -1;
	}
	_cleanup_close_ int target =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (target < 0)
		return bw_fail(err, errno, "create `%s`", d->path);
	return rootfs_attach(tree, target, err);
}

static int make_node(const struct rootfs_ctx *ctx, const struct dev_node *d, ssize_t spec_i,
		     struct bw_error *err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dirfd = open_parent(d->path, &name, err);
	if (dirfd < 0)
		return -1;
	/* Whatever the image has there (file, symlink, node) is replaced, never followed. */
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return bw_fail(err, errno, "remove the image's `%s`", d->path);
	if (ctx->userns && d->type != S_IFIFO)
		return node_from_runtime(ctx, dirfd, name, d, spec_i, err);
	if (node_mknod(dirfd, name, d, err) == 0)
		return 0;
	/* mknod refused all the same (a devices cgroup above ours, no CAP_MKNOD): bind the
	 * host's node instead, as in a user namespace. */
	if (err == NULL || err->code != EPERM || d->type == S_IFIFO)
		return -1;
	bw_error_clear(err);
	if (node_bind(dirfd, name, d, err) < 0)
		return bw_wrap(err, "mknod `%s` refused, and no host node to bind", d->path);
	return 0;
}

static int spec_device(const struct oci_device *sd, struct dev_node *d, size_t i,
		       struct bw_error *err)
{
	*d = (struct dev_node){.path = sd->path, .perm = 0666};
	switch (sd->type) {
	case 'c':
	case 'u':
		d->type = S_IFCHR;
		break;
	case 'b':
		d->type = S_IFBLK;
		break;
	case 'p':
		d->type = S_IFIFO;
		break;
	default:
		return bw_fail(err, EINVAL, "linux.devices[%zu].type: `%c`", i, sd->type);
	}
	if (sd->path == NULL || sd->path[0] != '/')
		return bw_fail(err, EINVAL, "linux.devices[%zu].path: must be absolute", i);
	if (sd->major < 0 || sd->minor < 0 || sd->major > 0xfff || sd->minor > 0xfffff)
		return bw_fail(err, EINVAL, "linux.devices[%zu]: bad major/minor", i);
	d->major = (unsigned)sd->major;
	d->minor = (unsigned)sd->minor;
	if (sd->file_mode_set)
		d->perm = sd->file_mode & 07777;
	d->uid = sd->uid_set ? sd->uid : 0;
	d->gid = sd->gid_set ? sd->gid : 0;
	return 0;
}

static bool dev_is_our_tmpfs(const struct oci_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		_cleanup_free_ char *dest = fs_path_clean(m->destination);
		if (strcmp(dest, "/dev") == 0)
			return m->type != NULL && strcmp(m->type, "tmpfs") == 0;
	}
	return false;
}

static bool spec_lists(const struct oci_linux *l, const char *path)
{
	for (size_t i = 0; i < l->n_devices; i++) {
		if (l->devices[i].path == NULL)
			continue;
		_cleanup_free_ char *clean = fs_path_clean(l->devices[i].path);
		if (strcmp(clean, path) == 0)
			return true;
	}
	return false;
}

static int default_nodes(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	for (size_t k = 0; k < ARRAY_SIZE(default_devices); k++)
		if (!spec_lists(&ctx->spec->linux, default_devices[k].path) &&
		    make_node(ctx, &default_devices[k], -1, err) < 0)
			return bw_wrap(err, "default device");
	return 0;
}

/* ptmx always points at the container's own devpts instance, even when linux.devices
 * listed the host's /dev/ptmx; the other links are left alone when they exist. */
static int default_links_make(struct bw_error *err)
{
	_cleanup_close_ int dev = rootfs_walk(rootfs_state.rootfd, "/dev", false, true, true, err);
	if (dev < 0)
		return -1;
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return bw_fail(err, errno, "remove /dev/ptmx");
	for (size_t k = 0; k < ARRAY_SIZE(default_links); k++)
		if (symlinkat(default_links[k][1], dev, default_links[k][0]) < 0 && errno != EEXIST)
			return bw_fail(err, errno, "symlink /dev/%s", default_links[k][0]);
	return 0;
}

int rootfs_setup_dev(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	const struct oci_linux *l = &ctx->spec->linux;
	bool ours = dev_is_our_tmpfs(ctx->spec);
	if (ours && default_nodes(ctx, err) < 0)
		return -1;
	for (size_t i = 0; i < l->n_devices; i++) {
		struct dev_node d;
		if (spec_device(&l->devices[i], &d, i, err) < 0)
			return -1;
		if (make_node(ctx, &d, (ssize_t)i, err) < 0)
			return bw_wrap(err, "linux.devices[%zu]", i);
	}
	return ours ? default_links_make(err) : 0;
}

static int map_to_host(const struct oci_id_mapping *m, size_t n, uint32_t id, uint32_t *out)
{
	for (size_t k = 0; k < n; k++)
		if (id >= m[k].container_id && id - m[k].container_id < m[k].size) {
			*out = m[k].host_id + (id - m[k].container_id);
			return 0;
		}
	return -1;
}

int rootfs_host_device(const struct oci_spec *spec, size_t i, struct bw_error *err)
{
	const struct oci_linux *l = &spec->linux;
	struct dev_node d;
	uint32_t uid, gid;
	if (i >= l->n_devices)
		return bw_fail(err, EPROTO, "linux.devices[%zu]: no such entry", i);
	if (spec_device(&l->devices[i], &d, i, err) < 0)
		return -1;
	if (map_to_host(l->uid_mappings, l->n_uid_mappings, d.uid, &uid) < 0 ||
	    map_to_host(l->gid_mappings, l->n_gid_mappings, d.gid, &gid) < 0)
		return bw_fail(err, EINVAL, "linux.devices[%zu]: owner %u:%u is not mapped", i,
			       (unsigned)d.uid, (unsigned)d.gid);
	struct rootfs_mount_opts o = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};
	_cleanup_close_ int tmp = rootfs_fs_create("tmpfs", "tmpfs", &o, err);
	if (tmp < 0)
		return bw_wrap(err, "linux.devices[%zu]", i);
	if (mknodat(tmp, "node", d.type | d.perm, makedev(d.major, d.minor)) < 0)
		return bw_fail(err, errno, "linux.devices[%zu]: mknod `%s`", i, d.path);
	if (fchownat(tmp, "node", uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(tmp, "node", d.perm, 0) < 0)
		return bw_fail(err, errno, "linux.devices[%zu]: chown/chmod `%s`", i, d.path);
	int tree = open_tree(tmp, "node", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return bw_fail(err, errno, "linux.devices[%zu]: clone `%s`", i, d.path);
	return tree;
}
