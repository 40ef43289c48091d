/* `sandbox`'s view of the host (--host-view, --ro): what of the host's file system the
 * sandbox's root is made of. docs/sandbox.md ("What the sandbox sees") lists it. */
#pragma once

#include "common/error.h"
#include "runtime/hostpath.h"
#include "runtime/sandbox/specgen.h"

enum sandbox_view {
	SANDBOX_VIEW_MINIMAL, /* a fresh tmpfs root with an allowlist of host paths (default) */
	SANDBOX_VIEW_FULL,    /* the host's / read-only (--host-view full, --rootfs /) */
	SANDBOX_VIEW_ROOTFS,  /* --rootfs DIR */
};

/* --host-view's value (NULL: the default, minimal). Pure. */
int sandbox_view_parse(const char *s, enum sandbox_view *v, struct bw_error *err);
/* "minimal", "full" or "rootfs", as the report says it. */
const char *sandbox_view_name(enum sandbox_view v);
/* The minimal view's host side: each allowlisted top-level entry of rootfd (the host's /,
 * already resolved) is opened once, without following it. A directory becomes a read-only
 * bind at the same place, appended to sg->binds and recorded in known; a symlink (merged
 * /usr: /bin -> usr/bin) is added to *links as "name", "target", to be made on the tmpfs
 * root; anything else, or nothing, is left out. */
int sandbox_view_minimal(int rootfd, struct specgen *sg, char ***links, struct hostpath_list *known,
			 struct bw_error *err);
/* Append one bind (copies of src and dst) to sg->binds. */
void sandbox_view_push_bind(struct specgen *sg, const char *src, const char *dst, bool readonly);
