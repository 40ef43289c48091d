/* The host side of `bulwark cp`: source and destination walked from "/" one component at a
 * time, following no symbolic link at all (a container could have planted one in any
 * directory it can write, and which those are cannot be known for sure: another runtime's
 * containers, a mount a process detached). The caller names real paths; the error says where
 * a link leads now. */
#pragma once

#include "common/error.h"

/* A directory (O_RDONLY) or regular file (O_RDONLY, the inode the walk found); anything else
 * is refused. */
int cp_host_open_source(const char *path, struct bw_error *err);
/* The name a tree copied from path gets inside an existing directory (malloc'd). */
char *cp_host_base_name(const char *path);

struct cp_host_dst {
	int dirfd;  /* O_PATH of the directory that receives the entry */
	char *name; /* the new entry's name, or NULL: the source's own name (into a directory) */
};
int cp_host_open_dest(const char *path, struct cp_host_dst *out, struct bw_error *err);
void cp_host_dst_free(struct cp_host_dst *d);
