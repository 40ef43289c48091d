/* OCI hooks: each one forked and exec'd with the container state JSON on stdin, bounded by its
 * timeout. Before start a failure stops the run (the caller tears the container down); a
 * failing poststart or poststop hook is a warning and the remaining hooks still run. */
#pragma once

#include "common/error.h"
#include "oci/spec.h"

struct hooks_ctx {
	const char *state_json; /* on each hook's stdin */
	const char *cwd;	/* the hooks' working directory (NULL: ours) */
	/* For hooks without `env`: as runc and crun, the environment of whoever runs them
	 * (NULL: the runtime's own; the init passes the container process's). */
	char *const *env;
};

/* 0, or -1 with err naming the first failed hook (never for poststart and poststop: those
 * failures are logged as warnings). A hook's stdout and stderr are collected, not passed on
 * (runc); a failure message ends with the start of what it wrote. */
int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, const struct hooks_ctx *ctx,
	      struct bw_error *err);
