/* /proc/self/mountinfo as a list, and where each mount stands relative to the container's
 * root mount: inside it, one of its ancestors, or elsewhere. Pure (no syscalls): --no-pivot
 * uses it to find the host mounts that must leave the container's mount namespace. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct mountinfo {
	int id, parent;
	char *root;	  /* the path of the filesystem shown here ("/": all of it) */
	char *mountpoint; /* unescaped */
	char *fstype;
};

enum mountinfo_place {
	MOUNTINFO_OUTSIDE,  /* neither the root, below it, nor above it */
	MOUNTINFO_INSIDE,   /* the root mount or a mount below it */
	MOUNTINFO_ANCESTOR, /* a mount the root mount sits on, directly or not */
};

/* Parse mountinfo text; a malformed line is an error (the kernel writes this file). */
int mountinfo_parse(const char *text, struct mountinfo **out, size_t *n, struct bw_error *err);
void mountinfo_free(struct mountinfo *m, size_t n);
/* place[i] for each m[i], relative to the mount with id root_id. A cycle or a parent missing
 * from the list ends a chain (such a mount counts as outside). */
void mountinfo_classify(const struct mountinfo *m, size_t n, int root_id,
			enum mountinfo_place *place);
/* A whole procfs or sysfs: what lets the kernel allow a new instance in a nested user
 * namespace (fs/namespace.c mnt_already_visible). */
bool mountinfo_is_full_pseudofs(const struct mountinfo *m);
/* Is some mount in m stacked directly on the root of m[i] (parent m[i], same mount point)? */
bool mountinfo_is_covered(const struct mountinfo *m, size_t n, size_t i);
