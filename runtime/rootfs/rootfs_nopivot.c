/* --no-pivot: the host's mounts leave the container's mount namespace before the rootfs is
 * moved onto "/" and chrooted into. pivot_root takes them away with the old root; a chroot
 * leaves them in the namespace, where a whole procfs or sysfs lets a nested user namespace
 * mount a fresh instance without the masks (the kernel's mnt_already_visible), as in runc's
 * test "runc run --no-pivot must not expose bare /proc". */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/rootfs/rootfs_mountinfo.h"

/* glibc 2.36's struct statx predates stx_mnt_id: the kernel puts it at offset 0x90, the
 * first word of glibc's padding. */
_Static_assert(sizeof(struct statx) >= 0x98, "struct statx too small for stx_mnt_id");

static int mount_id_of(int fd, int *id)
{
	struct statx stx;
	uint64_t v;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	memcpy(&v, (const char *)&stx + 0x90, sizeof(v));
	*id = (int)v;
	return 0;
}

/* Our own mountinfo, through the private procfs when there is one. */
static int read_mountinfo(struct mountinfo **m, size_t *n, struct bw_error *err)
{
	struct bw_error ignored = {0};
	struct statfs sfs;
	_cleanup_free_ char *text = NULL;
	int proc = rootfs_procfd(&ignored);
	_cleanup_close_ int fd = proc >= 0 ? openat(proc, "self/mountinfo", O_RDONLY | O_CLOEXEC)
					   : open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open mountinfo");
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return bw_fail(err, EXDEV, "mountinfo is not on procfs");
	if (fs_read_fd(fd, 64u << 20, &text, NULL, err) < 0)
		return bw_wrap(err, "read mountinfo");
	return mountinfo_parse(text, m, n, err);
}

/* An O_PATH fd of what is at m's mount point now, and the id of the topmost mount there. */
static int open_mount(const struct mountinfo *m, int *top_id)
{
	int fd = open(m->mountpoint, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && mount_id_of(fd, top_id) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct mount_list {
	struct mountinfo *m;
	enum mountinfo_place *place;
	size_t n;
};

static void mount_list_free(struct mount_list *l)
{
	mountinfo_free(l->m, l->n);
	free(l->place);
	*l = (struct mount_list){0};
}

static int mount_list_read(struct mount_list *l, int root_id, struct bw_error *err)
{
	mount_list_free(l);
	if (read_mountinfo(&l->m, &l->n, err) < 0)
		return -1;
	l->place = xcalloc(l->n + 1, sizeof(*l->place));
	mountinfo_classify(l->m, l->n, root_id, l->place);
	return 0;
}

/* Detach each outside mount that is on top at its mount point; a mount locked by a user
 * namespace (EINVAL) stays. Returns how many went. */
static size_t detach_pass(const struct mount_list *l)
{
	size_t done = 0;
	for (size_t i = 0; i < l->n; i++) {
		int top = -1;
		if (l->place[i] != MOUNTINFO_OUTSIDE)
			continue;
		_cleanup_close_ int fd = open_mount(&l->m[i], &top);
		if (fd >= 0 && top == l->m[i].id &&
		    umount2(l->m[i].mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			done++;
	}
	return done;
}

/* A locked procfs or sysfs gets an empty read-only tmpfs over its root: with a child that
 * covers more than an empty directory it no longer counts as visible. */
static int cover(const struct mountinfo *m, struct bw_error *err)
{
	int top = -1;
	_cleanup_close_ int fd = open_mount(m, &top);
	if (fd < 0 || top != m->id)
		return bw_fail(err, EPERM,
			       "the host's %s at `%s` can neither be detached nor covered",
			       m->fstype, m->mountpoint);
	struct rootfs_mount_opts o = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
						  MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	_cleanup_close_ int tree = rootfs_fs_create("tmpfs", "tmpfs", &o, err);
	if (tree < 0 || rootfs_attach(tree, fd, err) < 0)
		return bw_wrap(err, "cover the host's %s at `%s`", m->fstype, m->mountpoint);
	return 0;
}

static bool exposed(const struct mount_list *l, size_t i)
{
	return l->place[i] != MOUNTINFO_INSIDE && mountinfo_is_full_pseudofs(&l->m[i]) &&
	       !mountinfo_is_covered(l->m, l->n, i);
}

static int hide(int root_id, struct bw_error *err)
{
	struct mount_list l = {0};
	int r = 0;
	/* Each pass detaches at least one mount, or it is the last. */
	do
		r = mount_list_read(&l, root_id, err);
	while (r == 0 && detach_pass(&l) > 0);
	for (size_t i = 0; r == 0 && i < l.n; i++)
		if (exposed(&l, i))
			r = cover(&l.m[i], err);
	/* Check the result, not the steps. */
	if (r == 0)
		r = mount_list_read(&l, root_id, err);
	for (size_t i = 0; r == 0 && i < l.n; i++)
		if (exposed(&l, i))
			r = bw_fail(err, EPERM, "the host's %s at `%s` stays visible",
				    l.m[i].fstype, l.m[i].mountpoint);
	mount_list_free(&l);
	return r;
}

int rootfs_hide_host_mounts(struct bw_error *err)
{
	int root_id;
	int r = mount_id_of(rootfs_state.rootfd, &root_id);
	if (r < 0)
		return bw_fail(err, -r, "no-pivot: statx the rootfs mount");
	if (hide(root_id, err) < 0)
		return bw_wrap(err, "no-pivot");
	return 0;
}
