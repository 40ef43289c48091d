/* Copying files between the host and a running container of the state root (`bulwark cp`,
 * `session cp`). The container side runs in a child that has entered the container's user and
 * mount namespaces with the container process's ids and no capability, resolving every path
 * inside the container's root; the host side never resolves a container path, and never
 * follows a symlink the container could have planted in one of its writable host mounts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/cli/cli.h"

struct cp_limits {
	uint64_t max_bytes; /* the budget of file data, 0 for none */
	int64_t timeout_ms; /* the whole copy, from the call on; 0: CP_DEFAULT_TIMEOUT_MS */
};

/* host_src (file or directory tree) into the container as ctr_dst (cp -r semantics: into an
 * existing directory, else as the new name). */
int container_cp_in(const struct global_opts *g, const char *id, const char *host_src,
		    const char *ctr_dst, const struct cp_limits *lim, struct bw_error *err);
/* ctr_src out of the container to host_dst, the same way. */
int container_cp_out(const struct global_opts *g, const char *id, const char *ctr_src,
		     const char *host_dst, const struct cp_limits *lim, struct bw_error *err);

/* "ID:PATH" names a path in a container when ID is a valid id (so has no "/"): a host path
 * with a colon is written "./a:b". On success *id is malloc'd and *path points into arg. */
bool cp_split_ref(const char *arg, char **id, const char **path);
