/* Host paths bulwark acts on for a container (workspaces, --bind, --rootfs, root.path, bind
 * sources), resolved once: opened when first read, checked on that fd, and, where another
 * process must open the path again (the init, in its copy of the mount namespace), reopened
 * without following any symlink and refused unless it is still the same file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct hostpath {
	char *path; /* canonical: where the fd was, as /proc/self/fd shows it */
	dev_t dev;  /* identity of the file checked */
	ino_t ino;
	mode_t mode;	 /* its type and mode when checked */
	bool mount_root; /* the reopened path must be a mount's root (a mount we stacked) */
	char *label;	 /* the flag or field that named it, for errors; never NULL */
	/* The init only: the path as the runtime reopened it from inside the init's mount
	 * namespace with the host's credentials (spawn/spawn_prepare.c), which a user namespace's
	 * ids may lack (0700 homes). hostpath_reopen hands out duplicates of it. */
	bool held;
	int held_fd;
	/* A rootless overlay workspace (workspace.c): the init builds the overlay itself, with
	 * this directory as its lower layer and a fresh tmpfs of scratch_size bytes (0: tmpfs's
	 * default) for the upper one, and hands that tmpfs to the runtime, which keeps it in
	 * *scratch_out (the workspace's scratch_fd) for --keep-changes and the report. */
	bool overlay;
	int64_t scratch_size;
	int *scratch_out;
};

struct hostpath_list {
	struct hostpath *v;
	size_t n;
};

/* One resolution of path (relative ones below dirfd) into an O_PATH fd: with follow, the
 * caller's own symlinks are followed this once; without, any symlink on the way is refused
 * (openat2 RESOLVE_NO_SYMLINKS). label names the flag in the error. */
int hostpath_open(int dirfd, const char *path, bool follow, const char *label,
		  struct bw_error *err);
/* The canonical path of fd (readlink of /proc/self/fd/N); NULL with err set. */
char *hostpath_fd_path(int fd, struct bw_error *err);
/* Record what fd is (path, dev, ino) into *hp; label is copied. */
int hostpath_from_fd(int fd, const char *label, bool mount_root, struct hostpath *hp,
		     struct bw_error *err);
/* Open hp->path again (O_PATH | extra flags), following no symlink, and check that it is the
 * file recorded: the one place a checked path is opened by name a second time. Where the
 * runtime already did so for the init (hp->held), a duplicate of that fd. */
int hostpath_reopen(const struct hostpath *hp, int flags, struct bw_error *err);
/* The entry of list whose canonical path is path, or NULL. */
const struct hostpath *hostpath_find(const struct hostpath_list *list, const char *path);
/* Take hp into list, replacing an earlier record of the same path. */
void hostpath_list_add(struct hostpath_list *list, const struct hostpath *hp);
void hostpath_clear(struct hostpath *hp);
/* The init, once its mounts are made: close the fd the runtime handed over (held). */
void hostpath_drop_held(struct hostpath *hp);
void hostpath_list_free(struct hostpath_list *list);
