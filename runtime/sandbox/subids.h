/* A rootless sandbox's subordinate ids (issue 14 §2): the caller's ranges in /etc/subuid and
 * /etc/subgid, given to the sandbox's user namespace by newuidmap/newgidmap, so that an image
 * whose files belong to several ids shows them as their owners. Without a range, or without
 * the tools, the sandbox maps the caller's own id alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The start of the first range in FILE (subuid/subgid format: "name-or-id:start:count") for
 * the user NAME or ID with at least NEED ids; false: none. Lines that do not parse are
 * skipped, as shadow's tools do. */
bool subids_find(const char *file, const char *name, uint32_t id, uint32_t need, uint32_t *start);
/* The caller's ranges of at least NEED ids in both files, and newuidmap and newgidmap
 * installed (in /usr/bin or /bin, as spawn/spawn_prepare.c runs them); false: map the caller's own
 * id. */
bool subids_for_caller(uint32_t need, uint32_t *uid_start, uint32_t *gid_start);
