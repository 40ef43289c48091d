/* The watchdog: a small process tied to one container that releases it when nobody else will.
 * Two cases: a maximum lifetime (annotation run.bulwark.lifetime, for create/run and engines)
 * kills and releases the container at its deadline even with no runtime process in the
 * foreground; and an owner (the `sandbox` process) whose death, however sudden, releases the
 * sandbox. It quits by itself when the init exits first (lifetime) or when delete stops it. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/cli.h"
#include "runtime/container.h"

#define WATCHDOG_LIFETIME_ANNOTATION "run.bulwark.lifetime"

/* The lifetime the spec asks for in ms (0: none), or -1 with a one-line error. */
int watchdog_lifetime(const struct oci_spec *spec, int64_t *ms, struct bw_error *err);
/* Start the watchdog if the container needs one (lifetime_ms > 0 or owner > 0); records it in
 * the state. init_pidfd stays the caller's. */
int watchdog_start(const struct global_opts *g, struct container *c, int init_pidfd,
		   int64_t lifetime_ms, pid_t owner, struct bw_error *err);
void watchdog_stop(struct container *c);
