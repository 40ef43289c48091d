/* What processes in other mount namespaces can write on the host, for `bulwark cp`'s host
 * walk (cp_hostpath.c): every read-write mount of every other mount namespace (any runtime's
 * container, any state root), recognised by the device and inode of its root, and the upper
 * directory of each read-write overlay. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct cp_mount {
	char *mountpoint; /* unescaped, in that namespace */
	char *upperdir;	  /* an overlay's upperdir= (a path of the mounter's), or NULL */
};

/* The read-write mounts of mountinfo text: neither the mount ("ro" in its options) nor its
 * file system (super options) read-only. Pure; a malformed line is an error. */
int cp_mounts_writable(const char *text, struct cp_mount **out, size_t *n, struct bw_error *err);
void cp_mounts_free(struct cp_mount *m, size_t n);

typedef void (*cp_mounts_add_fn)(void *ctx, dev_t dev, ino_t ino);
/* add() for each directory a process in another mount namespace can write (a read-write
 * mount's root, resolved inside that process's root; an overlay's upperdir), and for the root
 * of each process of ours chrooted elsewhere. A mount that is also a mount of ours at the same
 * place is not added (a service's private namespace keeps the host's own mounts: "/" would
 * otherwise guard everything). Processes that vanish or are not ours to read are skipped;
 * more than CP_MOUNTS_MAX_NS namespaces fail closed. */
#define CP_MOUNTS_MAX_NS 4096
int cp_mounts_foreign(cp_mounts_add_fn add, void *ctx, struct bw_error *err);
