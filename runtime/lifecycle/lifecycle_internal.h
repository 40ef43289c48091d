/* Shared between runtime/lifecycle.c (create) and the runtime/lifecycle/ files only: the steps
 * a create takes (host paths, security plan, cgroup, audit) and what start and teardown reuse. */
#pragma once

#include "common/error.h"
#include "runtime/container.h"

/* What hooks (and a seccomp agent) read: the runtime-spec's State (lifecycle.c). */
char *lifecycle_hook_state_json(struct container *c, struct bw_error *err);
