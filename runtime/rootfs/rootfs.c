/* The three steps of building the container's root (prepare, pivot, finalize), the console,
 * and sysctl writes. The mounts themselves are in rootfs_mount.c, devices in rootfs_dev.c,
 * the in-root path walker in rootfs_walk.c. */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/hostpath.h"

struct rootfs_state rootfs_state = {.rootfd = -1, .procfd = -1, .devnullfd = -1, .emptyfd = -1};

void rootfs_release(void)
{
	int *fds[] = {&rootfs_state.rootfd, &rootfs_state.procfd, &rootfs_state.devnullfd,
		      &rootfs_state.emptyfd};
	for (size_t k = 0; k < ARRAY_SIZE(fds); k++)
		if (*fds[k] >= 0) {
			close(*fds[k]);
			*fds[k] = -1;
		}
	rootfs_state.devnull_attached = false;
	for (size_t k = 0; k < rootfs_state.n_ro_later; k++)
		close(rootfs_state.ro_later[k].fd);
	free(rootfs_state.ro_later);
	rootfs_state.ro_later = NULL;
	free(rootfs_state.own_mnts);
	rootfs_state.own_mnts = NULL;
	rootfs_state.n_own_mnts = 0;
	rootfs_state.root_is_host = false;
	rootfs_state.n_ro_later = 0;
}

/* linux.rootfsPropagation -> the propagation type, and whether it is recursive. */
static int parse_propagation(const char *s, unsigned long *prop, bool *rec, struct bw_error *err)
{
	static const struct {
		const char *name;
		unsigned long prop;
	} names[] = {{"shared", MS_SHARED},
		     {"slave", MS_SLAVE},
		     {"private", MS_PRIVATE},
		     {"unbindable", MS_UNBINDABLE}};
	*prop = 0;
	*rec = false;
	if (s == NULL || s[0] == '\0')
		return 0;
	*rec = s[0] == 'r';
	for (size_t k = 0; k < ARRAY_SIZE(names); k++)
		if (strcmp(s + (*rec ? 1 : 0), names[k].name) == 0) {
			*prop = names[k].prop;
			return 0;
		}
	return bw_fail(err, EINVAL, "linux.rootfsPropagation: unknown value `%s`", s);
}

/* Nothing mounted from here on may reach the host: "/" becomes a recursive slave (host
 * events still come in, like runc), or recursively private when the spec asks private.
 * shared and unbindable are applied to the container's root at the end (finalize). */
static int root_propagation(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	unsigned long prop;
	bool rec;
	if (parse_propagation(ctx->spec->linux.rootfs_propagation, &prop, &rec, err) < 0)
		return -1;
	unsigned long flags = MS_REC | (prop == MS_PRIVATE ? MS_PRIVATE : MS_SLAVE);
	if (mount(NULL, "/", NULL, flags, NULL) < 0)
		return bw_fail(err, errno, "make / %s", prop == MS_PRIVATE ? "rprivate" : "rslave");
	return 0;
}

/* A procfs of the container's pid namespace that the container never sees: sysctl writes
 * and idmap user namespaces go through it, not through a /proc the image could shape. */
static void open_private_proc(void)
{
	struct rootfs_mount_opts o = {.attr_set =
					  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	struct bw_error e = {0};
	struct statfs sfs;
	int fd = rootfs_fs_create("proc", "proc", &o, &e);
	if (fd >= 0 && (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		close(fd);
		fd = -1;
		e.code = EXDEV;
	}
	rootfs_state.procfd = fd;
	rootfs_state.procfd_errno = fd < 0 ? e.code : 0;
}

int rootfs_procfd(struct bw_error *err)
{
	if (rootfs_state.procfd < 0)
		return bw_fail(err, rootfs_state.procfd_errno ? rootfs_state.procfd_errno : EBADF,
			       "no private procfs (it is made by rootfs_prepare)");
	return rootfs_state.procfd;
}

static int check_devnull(int fd, struct bw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "stat /dev/null");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return bw_fail(err, EPERM,
			       "refusing to mask with something that is not /dev/null "
			       "(char 1:3)");
	return 0;
}

/* The host's /dev/null, cloned now: masking never uses the container's /dev/null, which
 * the image or a hook could have replaced (CVE-2025-31133). */
static int open_devnull(struct bw_error *err)
{
	int fd = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open_tree the host's /dev/null");
	rootfs_state.devnullfd = fd;
	return check_devnull(fd, err);
}

/* One name of the root's top level: a single component, not "." or "..". */
static bool top_level_name(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* rootfs_ctx.root_tmpfs: the root is a fresh, empty tmpfs of the container's own, attached
 * over root.path in this mount namespace only (nothing of root.path is in it, nothing is
 * written to it). The symlinks asked for are made at its top before any mount; mountpoints
 * are then made in it as in any root the container owns. */
static int tmpfs_root(const struct rootfs_ctx *ctx, int target, struct bw_error *err)
{
	char *data[] = {"mode=755", "size=1m", "nr_inodes=4096", NULL};
	struct rootfs_mount_opts o = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, .data = data};
	int tree = rootfs_fs_create("tmpfs", "tmpfs", &o, err);
	if (tree < 0)
		return bw_wrap(err, "root: a tmpfs root");
	rootfs_state.rootfd = tree;
	for (size_t k = 0; ctx->root_links != NULL && ctx->root_links[k] != NULL; k += 2) {
		const char *name = ctx->root_links[k], *to = ctx->root_links[k + 1];
		if (to == NULL || !top_level_name(name))
			return bw_fail(err, EINVAL, "root: bad top-level symlink `%s`", name);
		if (symlinkat(to, tree, name) < 0)
			return bw_fail(err, errno, "root: symlink `/%s` -> `%s`", name, to);
	}
	if (rootfs_attach(tree, target, err) < 0)
		return bw_wrap(err, "root: attach the tmpfs root over `%s`", ctx->rootfs);
	return 0;
}

/* pivot_root needs the root to be a mount point: bind it onto itself (recursively). */
static int bind_root(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	_cleanup_close_ int target = ctx->root_src != NULL
					 ? hostpath_reopen(ctx->root_src, O_DIRECTORY, err)
					 : open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (target < 0 && ctx->root_src != NULL)
		return -1;
	if (target < 0)
		return bw_fail(err, errno, "root.path: open `%s`", ctx->rootfs);
	/* Over the namespace's own root, only pivot_root detaches the host's tree below it. */
	if (ctx->root_tmpfs && ctx->no_pivot)
		return bw_fail(err, EINVAL, "root: a tmpfs root needs pivot_root, not --no-pivot");
	if (ctx->root_tmpfs)
		return tmpfs_root(ctx, target, err);
	int tree = open_tree(target, "",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return bw_fail(err, errno, "root.path: bind `%s`", ctx->rootfs);
	rootfs_state.rootfd = tree;
	/* Host mounts below a sandbox's root are no way in: read-only, nosuid, nodev all the way
	 * down at once; the top is read-only later (root.readonly), after the mountpoints. A top
	 * that was read-only already (a locked flag) stays so. */
	if (ctx->root_sealed &&
	    (rootfs_setattr(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, true,
			    err) < 0 ||
	     (rootfs_setattr(tree, 0, MOUNT_ATTR_RDONLY, false, err) < 0 && err->code != EPERM)))
		return bw_wrap(err, "root.path: seal the mounts below `%s`", ctx->rootfs);
	bw_error_clear(err);
	if (rootfs_attach(tree, target, err) < 0)
		return bw_wrap(err, "root.path: bind `%s` onto itself", ctx->rootfs);
	return 0;
}

/* An empty regular file made by us, the target of rootfs_setup_console. */
static int make_console_file(int rootfd, struct bw_error *err)
{
	_cleanup_close_ int dev = rootfs_walk(rootfd, "/dev", true, true, true, err);
	if (dev < 0)
		return bw_wrap(err, "/dev/console");
	if (unlinkat(dev, "console", 0) < 0 && errno != ENOENT)
		return bw_fail(err, errno, "remove the image's /dev/console");
	int fd = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "create /dev/console");
	return fd;
}

int rootfs_prepare(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	rootfs_release();
	if (ctx->rootfs == NULL || ctx->rootfs[0] != '/')
		return bw_fail(err, EINVAL, "root.path: the rootfs must be an absolute path");
	if (root_propagation(ctx, err) < 0 || open_devnull(err) < 0)
		return -1;
	open_private_proc();
	rootfs_state.creating = ctx;
	rootfs_state.root_is_host = strcmp(ctx->rootfs, "/") == 0;
	bw_phase("rootfs: propagation, devnull, private proc");
	int r = bind_root(ctx, err) < 0 ? -1 : 0;
	bw_phase("rootfs: root");
	if (r == 0)
		r = rootfs_mount_all(ctx, err);
	bw_phase("rootfs: mounts");
	if (r == 0)
		r = rootfs_setup_dev(ctx, err);
	bw_phase("rootfs: dev");
	rootfs_state.creating = NULL;
	if (r < 0)
		return -1;
	if (ctx->terminal) {
		int fd = make_console_file(rootfs_state.rootfd, err);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int rootfs_pivot(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	if (rootfs_state.rootfd < 0)
		return bw_fail(err, EBADF, "rootfs_pivot before rootfs_prepare");
	if (ctx->no_pivot && rootfs_hide_host_mounts(err) < 0)
		return -1;
	if (fchdir(rootfs_state.rootfd) < 0)
		return bw_fail(err, errno, "chdir to the rootfs");
	if (ctx->no_pivot) {
		/* Weaker than pivot_root: the filesystems the rootfs sits on stay reachable to
		 * whoever can escape a chroot (CAP_SYS_CHROOT); kept only for --no-pivot (ramfs
		 * roots). Every other host mount is gone (rootfs_hide_host_mounts). */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return bw_fail(err, errno, "no-pivot: move the rootfs onto /");
		if (chroot(".") < 0)
			return bw_fail(err, errno, "no-pivot: chroot");
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return bw_fail(err, errno, "pivot_root");
		/* The old root is stacked under "."; a slave's unmount does not propagate. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return bw_fail(err, errno, "make the old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			return bw_fail(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return bw_fail(err, errno, "chdir /");
	bw_phase("rootfs: pivoted");
	return 0;
}

/* A masked or read-only path's target as an fd, or -1 with *skip when it does not exist. One
 * openat2 resolves it inside the root as the walker would, a component at a time (symlinks
 * expanded inside the root, ".." never above it); what openat2 refuses and the walker may
 * still take (a magic link on the way, a rename or mount meanwhile) goes to the walker. */
static int open_existing(int rootfd, const char *path, bool *skip, struct bw_error *err)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	*skip = fd < 0 && errno == ENOENT;
	if (fd >= 0 || *skip)
		return fd;
	if (errno != ELOOP && errno != EXDEV && errno != EAGAIN && errno != ENOSYS)
		return bw_fail(err, errno, "`%s`", path);
	fd = rootfs_walk(rootfd, path, false, true, false, err);
	*skip = fd < 0 && err->code == ENOENT;
	if (*skip)
		bw_error_clear(err);
	return fd;
}

static int devnull_clone(struct bw_error *err)
{
	int fd = open_tree(rootfs_state.devnullfd, "",
			   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (fd < 0 && errno == EINVAL && !rootfs_state.devnull_attached) {
		/* Kernels before 6.15 cannot clone a detached mount: use it itself once; once
		 * attached it can be cloned for the next masked file. */
		fd = fcntl(rootfs_state.devnullfd, F_DUPFD_CLOEXEC, 3);
		rootfs_state.devnull_attached = fd >= 0;
	}
	if (fd < 0)
		return bw_fail(err, errno, "clone /dev/null");
	if (check_devnull(fd, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The kernel prints boot_id as a version 4 UUID and a newline. */
#define BOOT_ID_LEN 37

static void boot_id_format(const uint8_t rnd[16], char out[BOOT_ID_LEN + 1])
{
	uint8_t b[16];
	memcpy(b, rnd, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char *p = out;
	for (size_t k = 0; k < sizeof(b); k++) {
		if (k == 4 || k == 6 || k == 8 || k == 10)
			*p++ = '-';
		p += sprintf(p, "%02x", b[k]);
	}
	*p++ = '\n';
	*p = '\0';
}

/* Kernels before 6.15 cannot clone from a detached mount: attach the tmpfs for a moment onto
 * the boot id's own directory (nothing of the container runs yet), clone the file there, and
 * detach the tmpfs again through the working directory, so no path is looked up. */
static int clone_via_attach(int fs, int rootfd, struct bw_error *err)
{
	_cleanup_close_ int dir =
	    rootfs_walk(rootfd, "/proc/sys/kernel/random", false, true, false, err);
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	if (cwd < 0)
		return bw_fail(err, errno, "open the working directory");
	if (rootfs_attach(fs, dir, err) < 0)
		return -1;
	int tree = open_tree(fs, "boot_id", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int saved = errno;
	if (fchdir(fs) < 0 || umount2(".", MNT_DETACH) < 0 || fchdir(cwd) < 0) {
		saved = errno;
		if (tree >= 0)
			close(tree);
		return bw_fail(err, saved, "detach the boot id's tmpfs");
	}
	if (tree < 0)
		return bw_fail(err, saved, "clone the boot id");
	return tree;
}

/* A boot id of the container's own, as a clone of a read-only file on a private tmpfs that
 * nothing else mounts: never a host file, and made (like the tmpfs) in the container's user
 * namespace, so it can only ever be the container's own. */
static int boot_id_clone(int rootfd, struct bw_error *err)
{
	uint8_t rnd[16];
	char id[BOOT_ID_LEN + 1];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return bw_fail(err, errno, "getrandom");
	boot_id_format(rnd, id);
	struct rootfs_mount_opts o = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	    .data = (char *[]){"size=4k", "nr_inodes=4", "mode=0555", NULL}};
	_cleanup_close_ int fs = rootfs_fs_create("tmpfs", "bulwark-boot-id", &o, err);
	if (fs < 0)
		return -1;
	int f = openat(fs, "boot_id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (f < 0)
		return bw_fail(err, errno, "create a boot id");
	ssize_t n = write(f, id, BOOT_ID_LEN);
	close(f); /* no writer may remain: the mount becomes read-only */
	if (n != BOOT_ID_LEN)
		return bw_fail(err, n < 0 ? errno : EIO, "write a boot id");
	if (rootfs_setattr(fs, MOUNT_ATTR_RDONLY, 0, false, err) < 0)
		return -1;
	int tree = open_tree(fs, "boot_id", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0 && errno == EINVAL)
		return clone_via_attach(fs, rootfd, err);
	if (tree < 0)
		return bw_fail(err, errno, "clone the boot id");
	return tree;
}

/* What masks a file: /dev/null, or for the boot id a fresh random one (software parses it;
 * an empty one breaks journald-style tools). */
static int mask_file_tree(int rootfd, const char *path, struct bw_error *err)
{
	_cleanup_free_ char *clean = fs_path_clean(path);
	if (strcmp(clean, ROOTFS_BOOT_ID_PATH) == 0)
		return boot_id_clone(rootfd, err);
	return devnull_clone(err);
}

/* What masks a directory: an empty read-only tmpfs of the container's own, one for all of them
 * (each mask is a clone of its mount: one superblock, not one per directory). Kernels before
 * 6.15 cannot clone a detached mount: a fresh tmpfs each there. */
static int empty_dir_tree(struct bw_error *err)
{
	struct rootfs_mount_opts o = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
						  MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	if (rootfs_state.emptyfd < 0) {
		rootfs_state.emptyfd = rootfs_fs_create("tmpfs", "tmpfs", &o, err);
		if (rootfs_state.emptyfd < 0)
			return -1;
	}
	int fd = open_tree(rootfs_state.emptyfd, "",
			   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (fd >= 0 || errno != EINVAL)
		return fd >= 0 ? fd : bw_fail(err, errno, "clone the empty tmpfs");
	return rootfs_fs_create("tmpfs", "tmpfs", &o, err);
}

static int mask_one(int rootfd, const char *path, struct bw_error *err)
{
	bool skip;
	struct stat st;
	_cleanup_close_ int target = open_existing(rootfd, path, &skip, err);
	if (skip)
		return 0;
	if (target < 0 || fstat(target, &st) < 0)
		return target < 0 ? -1 : bw_fail(err, errno, "stat");
	_cleanup_close_ int tree = -1;
	if (S_ISDIR(st.st_mode)) {
		tree = empty_dir_tree(err);
	} else {
		tree = mask_file_tree(rootfd, path, err);
	}
	if (tree < 0 || rootfs_attach(tree, target, err) < 0)
		return -1;
	return 0;
}

static int readonly_one(int rootfd, const char *path, struct bw_error *err)
{
	bool skip;
	_cleanup_close_ int target = open_existing(rootfd, path, &skip, err);
	if (skip)
		return 0;
	if (target < 0)
		return -1;
	_cleanup_close_ int tree = open_tree(
	    target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return bw_fail(err, errno, "bind onto itself");
	/* mount_setattr keeps every flag it is not told to change (the locked nosuid, nodev,
	 * noexec of a user namespace included). */
	if (rootfs_setattr(tree, MOUNT_ATTR_RDONLY, 0, true, err) < 0)
		return -1;
	return rootfs_attach(tree, target, err);
}

static int final_propagation(const struct rootfs_ctx *ctx, int rootfd, struct bw_error *err)
{
	unsigned long prop;
	bool rec;
	if (parse_propagation(ctx->spec->linux.rootfs_propagation, &prop, &rec, err) < 0)
		return -1;
	if (rootfs_set_propagation(rootfd, prop, rec, err) < 0)
		return bw_wrap(err, "linux.rootfsPropagation `%s`",
			       ctx->spec->linux.rootfs_propagation);
	return 0;
}

int rootfs_readonly_late(struct bw_error *err)
{
	for (size_t k = 0; k < rootfs_state.n_ro_later; k++) {
		const struct rootfs_ro_later *r = &rootfs_state.ro_later[k];
		if (rootfs_setattr(r->fd, MOUNT_ATTR_RDONLY, 0, r->recursive, err) < 0)
			return bw_wrap(err, "mounts[%zu]: make read-only", r->i);
	}
	return 0;
}

int rootfs_finalize(const struct rootfs_ctx *ctx, struct bw_error *err)
{
	const struct oci_linux *l = &ctx->spec->linux;
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return bw_fail(err, errno, "open /");
	for (size_t i = 0; l->masked_paths != NULL && l->masked_paths[i] != NULL; i++)
		if (mask_one(rootfd, l->masked_paths[i], err) < 0)
			return bw_wrap(err, "linux.maskedPaths[%zu] `%s`", i, l->masked_paths[i]);
	if (rootfs_state.emptyfd >= 0) {
		close(rootfs_state.emptyfd);
		rootfs_state.emptyfd = -1;
	}
	bw_phase("rootfs: masked");
	for (size_t i = 0; l->readonly_paths != NULL && l->readonly_paths[i] != NULL; i++)
		if (readonly_one(rootfd, l->readonly_paths[i], err) < 0)
			return bw_wrap(err, "linux.readonlyPaths[%zu] `%s`", i,
				       l->readonly_paths[i]);
	if (ctx->spec->root_readonly &&
	    rootfs_setattr(rootfd, MOUNT_ATTR_RDONLY, 0, false, err) < 0)
		return bw_wrap(err, "root.readonly");
	bw_phase("rootfs: read-only paths");
	return final_propagation(ctx, rootfd, err);
}

static int check_pty_slave(int fd, struct bw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "console: stat the pty slave");
	/* UNIX98 pty slaves use majors 136-143. */
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) < 136 || major(st.st_rdev) > 143)
		return bw_fail(err, EINVAL, "console: fd %d is not a pty slave", fd);
	return 0;
}

int rootfs_setup_console(int slave_fd, struct bw_error *err)
{
	struct stat st;
	if (check_pty_slave(slave_fd, err) < 0)
		return -1;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bw_fail(err, errno, "console: open /");
	_cleanup_close_ int dev = rootfs_walk(root, "/dev", false, true, true, err);
	if (dev < 0)
		return bw_wrap(err, "console");
	if (fstatat(dev, "pts", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return bw_fail(err, ELOOP, "console: /dev/pts is a symlink in the rootfs");
	_cleanup_close_ int target = make_console_file(root, err);
	if (target < 0)
		return bw_wrap(err, "console");
	_cleanup_close_ int tree =
	    open_tree(slave_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return bw_fail(err, errno,
			       "console: clone the pty slave (it must be opened from "
			       "the container's own /dev/pts, after the pivot)");
	if (rootfs_attach(tree, target, err) < 0)
		return bw_wrap(err, "console: bind the pty slave onto /dev/console");
	return 0;
}
