/* Shared between the rootfs_*.c files only: the state kept from rootfs_prepare to the later
 * steps, mount option parsing, the in-root path walker and the per-type mount helpers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/rootfs/rootfs.h"

/* fds kept by rootfs_prepare (all O_CLOEXEC, -1 when not open). */
struct rootfs_state {
	int rootfd;    /* the root of the container's own bind of the rootfs */
	int procfd;    /* a private, detached procfs of the container's pid namespace */
	int devnullfd; /* a mount clone of the host's /dev/null, checked to be char 1:3 */
	int emptyfd;   /* an empty read-only tmpfs, cloned onto masked directories (finalize) */
	bool devnull_attached; /* devnullfd was moved into the tree (kernels < 6.15) */
	int procfd_errno;      /* why procfd could not be made, when it could not */
	/* read-only tmpfs and /dev mounts, made read-only by rootfs_readonly_late (runc's order):
	 * until then mounts, devices and the console are made below them */
	struct rootfs_ro_later {
		int fd; /* the attached mount */
		size_t i;
		bool recursive;
	} * ro_later;
	size_t n_ro_later;
	/* during rootfs_prepare: the context whose host_create rootfs_walk may call */
	const struct rootfs_ctx *creating;
	/* root.path is the host's own / (a sandbox's --host-view full): missing mountpoints are
	 * made only on the file systems the init made itself (own_mnts: their mount ids) */
	bool root_is_host;
	uint64_t *own_mnts;
	size_t n_own_mnts;
};
extern struct rootfs_state rootfs_state;

/* A spec mount's options, split by what applies them. */
struct rootfs_mount_opts {
	uint64_t attr_set, attr_clr;   /* MOUNT_ATTR_* on this mount */
	uint64_t rattr_set, rattr_clr; /* MOUNT_ATTR_* on the whole tree (rro, rnosuid...) */
	unsigned long propagation;     /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE or 0 */
	bool propagation_rec;
	bool bind, rec, remount, tmpcopyup, idmap, ridmap;
	char **sb_flags; /* superblock flags by fsconfig name ("sync", "dirsync"...) */
	char **data;	 /* everything else, one fsconfig parameter each ("mode=755") */
};

/* Pure: parse options into *out (freed with rootfs_mount_opts_free). Never fails: an
 * unknown option is filesystem data, which the kernel validates. */
void rootfs_mount_opts_parse(char *const *options, struct rootfs_mount_opts *out);
void rootfs_mount_opts_free(struct rootfs_mount_opts *o);

/* Resolve `path` below rootfd one component at a time, every symlink (even dangling) expanded
 * inside the root, creating missing directories and, when !is_dir, an empty file as the last
 * component. With no_symlinks any symlink on the way is ELOOP. Returns an O_PATH fd. */
int rootfs_walk(int rootfd, const char *path, bool create, bool is_dir, bool no_symlinks,
		struct bw_error *err);
/* Is `clean` (a cleaned absolute path) /proc, /sys, /dev or below one of them? */
bool rootfs_path_is_sensitive(const char *clean);

/* Mount helpers (rootfs_opts.c). */
/* A new filesystem as a detached mount (fsopen/fsconfig/fsmount); o->attr_set applies. */
/* The kernel's last line in the fs context's log, as " (line)", or "" (fsconfig failures). */
void rootfs_fs_log_message(int fsfd, char *buf, size_t len);
int rootfs_fs_create(const char *type, const char *source, const struct rootfs_mount_opts *o,
		     struct bw_error *err);
/* The "remount" option: reconfigure the superblock of the mount at targetfd. */
int rootfs_fs_reconfigure(int targetfd, const struct rootfs_mount_opts *o, struct bw_error *err);
int rootfs_setattr(int mntfd, uint64_t set, uint64_t clr, bool recursive, struct bw_error *err);
int rootfs_set_propagation(int mntfd, unsigned long propagation, bool recursive,
			   struct bw_error *err);
/* Attach the detached mount mntfd onto the object targetfd refers to (move_mount). */
int rootfs_attach(int mntfd, int targetfd, struct bw_error *err);

/* The spec's mounts in order (rootfs_mount.c). */
int rootfs_mount_all(const struct rootfs_ctx *ctx, struct bw_error *err);
/* A "cgroup" mount attached at target (rootfs_cgroup.c). */
int rootfs_cgroup_mount(const struct rootfs_ctx *ctx, const struct rootfs_mount_opts *o, int target,
			struct bw_error *err);
/* Copy the directory dirfd (the image's content) into the fresh detached tmpfs mntfd
 * (rootfs_copyup.c). */
int rootfs_copy_up(int dirfd, int mntfd, struct bw_error *err);
/* Make the detached tree mntfd an idmapped mount for mounts[i]'s mappings (rootfs_idmap.c). */
int rootfs_idmap(const struct rootfs_ctx *ctx, size_t i, int mntfd, bool recursive,
		 struct bw_error *err);

/* The private procfs, or -1 with err set saying why there is none. */
int rootfs_procfd(struct bw_error *err);

/* --no-pivot (rootfs_nopivot.c): detach every mount that is neither the rootfs, below it, nor
 * one it sits on; a procfs or sysfs that cannot be detached (locked by a user namespace) is
 * covered. Fails when a whole procfs or sysfs would stay visible outside the rootfs. */
int rootfs_hide_host_mounts(struct bw_error *err);

/* Devices (rootfs_dev.c). */
int rootfs_setup_dev(const struct rootfs_ctx *ctx, struct bw_error *err);
