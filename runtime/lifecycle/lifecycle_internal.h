/* Shared between runtime/lifecycle.c (create) and the runtime/lifecycle/ files only: the steps
 * a create takes (host paths, security plan, cgroup, audit) and what start and teardown reuse. */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "cgroups/cgroup.h"
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

/* lifecycle_cgroup.c */
/* The container's cgroup opened, not yet made: cgroupfs (rootless: a delegated subtree or a
 * scope of the user's systemd) or --systemd-cgroup's scope, recorded in the state directory
 * so that delete finds it after a create that died half-way. */
int lifecycle_open_new_cgroup(const struct global_opts *g, struct container *c,
			      const struct oci_spec *spec, struct cg_manager **cg,
			      struct bw_error *err);
/* After cg_create failed with err: rootless, the container runs without a cgroup (0, err
 * cleared) unless spec asks for a limit only a cgroup enforces; else -1, err kept or made. */
int lifecycle_rootless_without_cgroup(struct container *c, const struct oci_spec *spec,
				      struct bw_error *err);
/* The parents of the container's cgroup that this create made, recorded for delete. */
void lifecycle_record_cgroup_parents(struct container *c, const struct cg_manager *cg);
/* The recorded parents removed, those that are empty (c NULL: none). */
void lifecycle_remove_cgroup_parents(const struct container *c);
/* Teardown's part: the container's cgroup (the one its state names, else the one a crashed
 * create left) thawed and destroyed, then its recorded parents. e2: where errors that do not
 * stop teardown go. */
int lifecycle_cgroup_remove(struct container *c, struct bw_error *e2, struct bw_error *err);
/* The state directory as an absolute path (else c->dir as it is). */
const char *lifecycle_abs_state_dir(const struct container *c, char dir[PATH_MAX]);

/* lifecycle_sources.c */
struct hostpath;
struct hostpath_list;
/* root.path and every bind source of spec resolved once, relative ones below bundle; known
 * (a sandbox's): the only paths trusted. mounts[i]: mounts[i]'s source (n_mounts + 1). */
int lifecycle_resolve_sources(const char *bundle, const struct oci_spec *spec,
			      const struct hostpath_list *known, struct hostpath *root,
			      struct hostpath **mounts, struct bw_error *err);
void lifecycle_free_sources(struct hostpath *root, struct hostpath *mounts, size_t n);
/* The host's root directory as root.path is refused (unless allow_host_root). */
int lifecycle_check_not_host_root(const struct hostpath *root, bool allow_host_root,
				  struct bw_error *err);
/* May the runtime make root.path's top-level mountpoints (/proc, /dev...)? */
bool lifecycle_mountpoints_may_be_made(const struct hostpath *hp);
/* NOTIFY_SOCKET's directory as the last entry of spec->mounts, its source the last of *mounts:
 * 1 added, 0 not wanted, -1 error. */
int lifecycle_add_notify_mount(struct container *c, struct oci_spec *spec,
			       const struct hostpath *root, struct hostpath **mounts,
			       struct bw_error *err);
/* err, at the notify mount when added, says it was NOTIFY_SOCKET's. */
void lifecycle_explain_notify_failure(const struct oci_spec *spec, bool added,
				      struct bw_error *err);

/* lifecycle_security.c */
struct spawn_config;
struct seccomp_prog;
/* cfg's capabilities, Landlock, AppArmor and tty guard planned from spec, and its seccomp
 * profile, if it has one, compiled into prog (cfg->seccomp then points to it). */
int lifecycle_prepare_security(const struct global_opts *g, const struct oci_spec *spec,
			       struct spawn_config *cfg, struct seccomp_prog *prog,
			       struct bw_error *err);
/* cfg's namespaces: new ones as clone flags, the others opened by path (cfg->ns_fds). */
int lifecycle_plan_namespaces(const struct oci_spec *spec, struct spawn_config *cfg,
			      struct bw_error *err);
void lifecycle_close_ns_fds(struct spawn_config *cfg);
