/* The host side of `bulwark cp`: the source opened as the caller, and the destination
 * resolved so that no symlink a container could have planted is followed: never at the last
 * component, and not at all below a host directory a container can write (the root and every
 * bind source of each container of the state root, as create recorded them and as their
 * paths name them now, and every read-write mount of every other mount namespace,
 * cp_mounts.h), nor when it or its directory is not root's or the caller's or that directory
 * is group/other-writable. */
#pragma once

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/container.h"

/* A directory (O_RDONLY) or regular file (O_RDONLY, the inode the walk found); anything else
 * is refused. Walked like the destination: a symlink a container could have planted (at or
 * below a directory a container of c's state root can write, or not root's or the caller's)
 * is never followed, the last component included. */
int cp_host_open_source(const char *path, const struct container *c, const struct oci_spec *spec,
			struct bw_error *err);
/* The name a tree copied from path gets inside an existing directory (malloc'd). */
char *cp_host_base_name(const char *path);

struct cp_host_dst {
	int dirfd;  /* O_PATH of the directory that receives the entry */
	char *name; /* the new entry's name, or NULL: the source's own name (into a directory) */
};
int cp_host_open_dest(const char *path, const struct container *c, const struct oci_spec *spec,
		      struct cp_host_dst *out, struct bw_error *err);
void cp_host_dst_free(struct cp_host_dst *d);

/* At create: record in st (writable_dirs) the host directories the container can write, so
 * that a later cp guards the directories actually mounted, not what their paths name then. */
void cp_host_record_writable(struct oci_state *st, const struct oci_spec *spec);
