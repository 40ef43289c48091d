/* The sealed runtime (CVE-2019-5736): see sealed.c. */
#ifndef BW_RUNTIME_SEALED_H
#define BW_RUNTIME_SEALED_H

#include <stdbool.h>

#include "common/error.h"

/* Is fd (of /proc/self/exe) a binary no one can write: a sealed memfd, or a read-only
 * overlay in no mount namespace (what sealed_exec makes)? */
bool sealed_fd(int fd);
/* The same for the running binary. */
bool sealed_self(void);
/* Which: "a sealed memfd copy", "a read-only overlay", or NULL (not sealed). */
const char *sealed_kind(void);
/* Re-execute argv from a copy no container can write: a detached read-only overlay of the
 * binary's directory where the kernel and our privileges allow, else a sealed memfd copy.
 * Returns only on failure, with err set: the caller must not go on running containers from a
 * writable binary. */
int sealed_exec(char **argv, struct bw_error *err);

#endif
