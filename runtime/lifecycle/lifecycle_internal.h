/* Shared between runtime/lifecycle.c (create) and the runtime/lifecycle/ files only: the steps
 * a create takes (host paths, security plan, cgroup, audit) and what start and teardown reuse. */
#pragma once

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"

/* What hooks (and a seccomp agent) read: the runtime-spec's State (lifecycle.c). */
char *lifecycle_hook_state_json(struct container *c, struct bw_error *err);

/* lifecycle_audit.c: the "created" event in the audit log at path (NULL: none): the bundle,
 * pid, limits and network (with firewall, the digest of its policy). */
void lifecycle_audit_created(const struct global_opts *g, struct container *c,
			     const struct oci_spec *spec, bool firewall, const char *path);
