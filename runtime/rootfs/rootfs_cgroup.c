/* The "cgroup" mount type. On a unified host: a fresh cgroup2 with a cgroup namespace, else a
 * bind of the container's own cgroup directory. On a v1/hybrid host: a tmpfs with one mount
 * per hierarchy (cpu, memory, ..., systemd, unified), each showing only the container's own
 * cgroup (a fresh mount with a cgroup namespace, else a bind of the host directory). */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define CG_ROOT "/sys/fs/cgroup"

struct cg_hier {
	char *mountpoint; /* /sys/fs/cgroup/memory */
	char *root;	  /* the mount's root inside the hierarchy */
	char *fstype;	  /* cgroup | cgroup2 */
	char *superopts;  /* rw,memory */
};

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Does the /proc/self/cgroup controller list `ctrls` name exactly this hierarchy? */
static bool hier_matches(const struct cg_hier *h, const char *id, const char *ctrls)
{
	if (strcmp(h->fstype, "cgroup2") == 0)
		return strcmp(id, "0") == 0;
	if (strcmp(id, "0") == 0 || ctrls[0] == '\0')
		return false;
	_cleanup_free_ char *copy = xstrdup(ctrls);
	char *save = NULL;
	for (char *c = strtok_r(copy, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save))
		if (!list_has(h->superopts, c))
			return false;
	return true;
}

/* The container's path in hierarchy h, from /proc/self/cgroup ("4:memory:/docker/x"). */
static int own_cgroup_path(const struct cg_hier *h, const char *self_cgroup, char **path,
			   char **ctrls, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(self_cgroup);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c1 = *c2 = '\0';
		if (hier_matches(h, line, c1 + 1)) {
			*path = xstrdup(c2 + 1);
			*ctrls = xstrdup(c1 + 1);
			return 0;
		}
	}
	return bw_fail(err, ENOENT, "no line of /proc/self/cgroup for `%s`", h->mountpoint);
}

static void hier_free(struct cg_hier *h)
{
	free(h->mountpoint);
	free(h->root);
	free(h->fstype);
	free(h->superopts);
}

/* Parse one mountinfo line; true when it is a cgroup hierarchy directly below CG_ROOT. */
static bool parse_hier(char *line, struct cg_hier *h)
{
	char *f[6] = {0}, *save = NULL, *dash = strstr(line, " - ");
	if (dash == NULL)
		return false;
	*dash = '\0';
	f[0] = strtok_r(line, " ", &save);
	for (int k = 1; k < 5 && f[k - 1] != NULL; k++)
		f[k] = strtok_r(NULL, " ", &save);
	char *fstype = strtok_r(dash + 3, " ", &save);
	strtok_r(NULL, " ", &save); /* source */
	char *superopts = strtok_r(NULL, " ", &save);
	if (f[4] == NULL || fstype == NULL || superopts == NULL)
		return false;
	if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
		return false;
	const char *slash = strrchr(f[4], '/');
	if (slash == NULL || (size_t)(slash - f[4]) != strlen(CG_ROOT) ||
	    strncmp(f[4], CG_ROOT, strlen(CG_ROOT)) != 0)
		return false;
	*h = (struct cg_hier){xstrdup(f[4]), xstrdup(f[3]), xstrdup(fstype), xstrdup(superopts)};
	return true;
}

/* A tree showing only the container's cgroup of hierarchy h. */
static int hier_tree(const struct rootfs_ctx *ctx, const struct cg_hier *h, const char *cgpath,
		     const char *ctrls, struct bw_error *err)
{
	struct rootfs_mount_opts fresh = {0};
	if (oci_spec_namespace(ctx->spec, OCI_NS_CGROUP) != NULL) {
		if (strcmp(h->fstype, "cgroup") == 0) {
			_cleanup_free_ char *copy = xstrdup(ctrls);
			char *save = NULL;
			for (char *c = strtok_r(copy, ",", &save); c != NULL;
			     c = strtok_r(NULL, ",", &save))
				strv_push(&fresh.data, c);
		}
		int fd = rootfs_fs_create(h->fstype, "cgroup", &fresh, err);
		rootfs_mount_opts_free(&fresh);
		return fd;
	}
	const char *rel = cgpath;
	size_t rl = strlen(h->root);
	if (strcmp(h->root, "/") != 0) {
		if (strncmp(cgpath, h->root, rl) != 0 || (cgpath[rl] != '/' && cgpath[rl] != '\0'))
			return bw_fail(err, EXDEV, "cgroup `%s` is outside the mount `%s`", cgpath,
				       h->mountpoint);
		rel = cgpath + rl;
	}
	_cleanup_free_ char *src = fs_path_join(h->mountpoint, rel);
	int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open_tree `%s`", src);
	return fd;
}

/* Co-mounted controllers ("cpu,cpuacct") also get one symlink per controller name. */
static int add_controller_links(int dirfd, const char *name, struct bw_error *err)
{
	if (strchr(name, ',') == NULL)
		return 0;
	_cleanup_free_ char *copy = xstrdup(name);
	char *save = NULL;
	for (char *c = strtok_r(copy, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save))
		if (strchr(c, '=') == NULL && symlinkat(name, dirfd, c) < 0 && errno != EEXIST)
			return bw_fail(err, errno, "symlink `%s` -> `%s`", c, name);
	return 0;
}

static int mount_hier(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o, int dirfd,
		      const struct cg_hier *h, const char *self_cgroup, struct bw_error *err)
{
	_cleanup_free_ char *cgpath = NULL, *ctrls = NULL;
	const char *name = strrchr(h->mountpoint, '/') + 1;
	if (own_cgroup_path(h, self_cgroup, &cgpath, &ctrls, err) < 0)
		return -1;
	_cleanup_close_ int tree = hier_tree(ctx, h, cgpath, ctrls, err);
	if (tree < 0)
		return bw_wrap(err, "hierarchy `%s`", name);
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "mkdir `%s`", name);
	_cleanup_close_ int target =
	    openat(dirfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (target < 0)
		return bw_fail(err, errno, "open `%s`", name);
	uint64_t set = o->attr_set | o->rattr_set, clr = o->attr_clr | o->rattr_clr;
	if (rootfs_setattr(tree, set, clr, true, err) < 0 || rootfs_attach(tree, target, err) < 0)
		return bw_wrap(err, "hierarchy `%s`", name);
	return add_controller_links(dirfd, name, err);
}

static int mount_v1_hierarchies(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o,
				int dirfd, struct bw_error *err)
{
	_cleanup_free_ char *mountinfo = NULL, *self = NULL;
	if (fs_read_file("/proc/self/mountinfo", 4 << 20, &mountinfo, NULL, err) < 0 ||
	    fs_read_file("/proc/self/cgroup", 1 << 20, &self, NULL, err) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(mountinfo, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct cg_hier h;
		if (!parse_hier(line, &h))
			continue;
		int r = mount_hier(ctx, o, dirfd, &h, self, err);
		hier_free(&h);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* v1/hybrid: a tmpfs holding one mount per hierarchy, read-only at the end if asked. */
static int mount_v1(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o, int target,
		    struct bw_error *err)
{
	struct rootfs_mount_opts t = {.attr_set = o->attr_set & ~(uint64_t)MOUNT_ATTR_RDONLY};
	strv_push(&t.data, "mode=755");
	_cleanup_close_ int tmpfs = rootfs_fs_create("tmpfs", "cgroup", &t, err);
	rootfs_mount_opts_free(&t);
	if (tmpfs < 0 || rootfs_attach(tmpfs, target, err) < 0)
		return -1;
	if (rootfs_set_propagation(tmpfs, o->propagation, o->propagation_rec, err) < 0)
		return -1;
	if (mount_v1_hierarchies(ctx, o, tmpfs, err) < 0)
		return -1;
	return rootfs_setattr(tmpfs, o->attr_set & MOUNT_ATTR_RDONLY, 0, false, err);
}

static int mount_unified(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o,
			 int target, struct bw_error *err)
{
	_cleanup_free_ char *self = NULL;
	if (fs_read_file("/proc/self/cgroup", 1 << 20, &self, NULL, err) < 0)
		return -1;
	struct cg_hier h = {CG_ROOT, "/", "cgroup2", "rw"};
	_cleanup_free_ char *cgpath = NULL, *ctrls = NULL;
	if (own_cgroup_path(&h, self, &cgpath, &ctrls, err) < 0)
		return -1;
	_cleanup_close_ int tree = hier_tree(ctx, &h, cgpath, ctrls, err);
	if (tree < 0)
		return -1;
	uint64_t set = o->attr_set | o->rattr_set, clr = o->attr_clr | o->rattr_clr;
	if (rootfs_setattr(tree, set, clr, true, err) < 0 || rootfs_attach(tree, target, err) < 0)
		return -1;
	return rootfs_set_propagation(tree, o->propagation, o->propagation_rec, err);
}

int rootfs_cgroup_mount(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o, int target,
			struct bw_error *err)
{
	struct statfs sfs;
	if (statfs(CG_ROOT, &sfs) < 0)
		return bw_fail(err, errno, "statfs `%s`", CG_ROOT);
	if (sfs.f_type == CGROUP2_SUPER_MAGIC)
		return mount_unified(ctx, o, target, err);
	return mount_v1(ctx, o, target, err);
}
