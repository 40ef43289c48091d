/* The host side of `bulwark cp`: the source opened as the caller, and the destination
 * resolved so that no symlink a container could have planted is followed: never at the last
 * component, and not at all below a host directory the container can write (its writable
 * bind mounts and its root, from its config.json in the state dir). */
#pragma once

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/container.h"

/* A directory (O_RDONLY) or regular file (O_RDONLY, checked to be what the lookup found);
 * anything else is refused. The caller's normal lookup: the path is the caller's own. */
int cp_host_open_source(const char *path, struct bw_error *err);
/* The name a tree copied from path gets inside an existing directory (malloc'd). */
char *cp_host_base_name(const char *path);

struct cp_host_dst {
	int dirfd;  /* O_PATH of the directory that receives the entry */
	char *name; /* the new entry's name, or NULL: the source's own name (into a directory) */
};
int cp_host_open_dest(const char *path, const struct container *c, const struct oci_spec *spec,
		      struct cp_host_dst *out, struct bw_error *err);
void cp_host_dst_free(struct cp_host_dst *d);
