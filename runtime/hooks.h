/* OCI hooks: each one forked and exec'd with the container state JSON on stdin, bounded by its
 * timeout. The caller decides what a failure means (fatal before start, a warning after). */
#pragma once

#include "common/error.h"
#include "oci/spec.h"

int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, const char *state_json,
	      struct bw_error *err);
