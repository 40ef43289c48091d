/* Root filesystem assembly, run by the init inside its new mount namespace: every mount of
 * the spec in order, default devices, linux.devices, propagation, pivot_root, masked and
 * read-only paths. All paths inside the rootfs are resolved component by component below a
 * root fd and every mount is attached through an fd (new mount API), never by a string
 * re-resolved later. docs/rootfs.md describes the behaviour and the attacks it withstands. */
#pragma once

#include <stdbool.h>

#include "common/error.h"
#include "oci/spec.h"

struct rootfs_ctx {
	const struct oci_spec *spec;
	const char *rootfs; /* absolute host path of the root (already resolved) */
	const char *bundle; /* absolute bundle dir: relative bind sources are below it */
	/* root.path and bind sources as resolved once by the runtime (hostpath.h), reopened
	 * here without symlinks and checked to be the same files; NULL: exec, nothing mounted */
	const struct hostpath *root_src;
	const struct hostpath *mount_srcs; /* like spec->mounts; path NULL where not a bind */
	bool userns;   /* the init is in a new user namespace (devices are bind-mounted) */
	bool no_pivot; /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
	bool terminal; /* /dev/console will be bound to the pty slave */
	/* The root is a fresh, empty tmpfs attached over root.path in the container's own mount
	 * namespace (sandbox's minimal host view); root_links: "name", "target" pairs, made as
	 * symlinks at its top (/bin -> usr/bin) before any mount. */
	bool root_tmpfs;
	char *const *root_links;
	/* The mounts below root.path (a sandbox's host view or --rootfs) are made read-only,
	 * nosuid and nodev as soon as the root is cloned; the root's own mount becomes read-only
	 * at the end, as root.readonly says, once the mountpoints are made. */
	bool root_sealed;
	/* userns: asks the runtime for linux.devices[i] made on the host side
	 * (rootfs_host_device): a detached mount, or -1 with err set */
	int (*host_device)(void *arg, size_t i, struct bw_error *err);
	void *host_device_arg; /* also host_create's */
	/* userns: asks the runtime to make the mountpoint `name` (a directory, or an empty
	 * file) in dirfd, a directory of the rootfs the init's ids may not write (a root-made
	 * bundle); used by rootfs_prepare only where the init's own attempt was refused */
	int (*host_create)(void *arg, int dirfd, const char *name, bool file, struct bw_error *err);
	/* A rootless overlay workspace (hostpath.overlay) at mounts[i]: hands its scratch tmpfs
	 * (fd, still ours to close) to the runtime */
	int (*host_scratch)(void *arg, size_t i, int fd, struct bw_error *err);
};

struct hostpath;
/* Is mount m a bind (type "bind" or a bind/rbind option)? Pure. */
bool rootfs_mount_is_bind(const struct oci_mount *m);
/* Runtime side, for a container in a new user namespace (whose init may not mknod): the node
 * of linux.devices[i] made on a private tmpfs with the spec's type, numbers, mode and owner
 * (container ids mapped to host ids through linux.uid/gidMappings), as a detached mount of
 * that one file for the init to attach. Access stays the devices cgroup's to grant. */
int rootfs_host_device(const struct oci_spec *spec, size_t i, struct bw_error *err);
/* Before pivot: root propagation, bind the root onto itself, every mount, /dev set-up.
 * Also keeps (O_CLOEXEC) a private procfs instance and a verified clone of the host's
 * /dev/null for the later steps; rootfs_release() closes them. */
int rootfs_prepare(const struct rootfs_ctx *ctx, struct bw_error *err);
/* pivot_root (or MS_MOVE + chroot) and detach the old root; cwd is "/" afterwards. */
int rootfs_pivot(const struct rootfs_ctx *ctx, struct bw_error *err);
/* After pivot: masked paths, read-only paths, read-only root, final propagation. */
int rootfs_finalize(const struct rootfs_ctx *ctx, struct bw_error *err);
/* Last: the read-only tmpfs and /dev mounts become read-only (runc's order), after the
 * console was bound below them. */
int rootfs_readonly_late(struct bw_error *err);
/* After pivot: bind the pty slave (an fd) onto a /dev/console that this function creates,
 * refusing a symlinked /dev, /dev/pts or /dev/console. */
int rootfs_setup_console(int slave_fd, struct bw_error *err);
/* A masked boot id reads a fresh random one of the container's own (rootfs_finalize). */
#define ROOTFS_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* Is the sysctl `key` (dotted or slashed) namespaced by a namespace the spec has?
 * net.* needs a network namespace, kernel.msg*|sem|shm*|fs.mqueue.* an ipc one,
 * kernel.hostname|domainname a uts one; anything else is refused. Pure, no syscalls. */
bool rootfs_sysctl_allowed(const struct oci_spec *spec, const char *key, struct bw_error *err);
/* Write one sysctl below /proc/sys of the private procfs opened by rootfs_prepare (never the
 * container's /proc), after checking the opened file really is on procfs. */
int rootfs_write_proc_sys(const char *key, const char *value, struct bw_error *err);
/* Close the fds kept between the steps (all O_CLOEXEC anyway). Idempotent. */
void rootfs_release(void);
