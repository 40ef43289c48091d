/* The cgroup manager: one interface, two back-ends chosen at run time (v2 unified; v1 on
 * legacy and hybrid hosts, where every mounted hierarchy - named ones and the cgroup2
 * "unified" mount included - gets the container at exactly linux.cgroupsPath). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

enum cg_mode { CG_MODE_UNIFIED, CG_MODE_HYBRID, CG_MODE_LEGACY };

struct cg_manager;

enum cg_mode cg_detect_mode(void);

/* Resolve the cgroup for a container: cgroups_path (linux.cgroupsPath) or, when NULL/empty,
 * "/bulwark/<id>". Relative paths are taken below the caller's own cgroup (its "0::" line, or
 * name=systemd on legacy hosts) and the result is used in every hierarchy. Systemd
 * "slice:prefix:name" paths, ".." components and the root cgroup are errors. Creates nothing:
 * reads mountinfo, /proc/self/cgroup and the cgroup2 root's cgroup.controllers. */
int cg_open(const char *cgroups_path, const char *id, struct cg_manager **out,
	    struct bw_error *err);
/* Rootless on a pure cgroup v2 host: the caller's own cgroup ("0::" of /proc/self/cgroup) when
 * it is delegated to the caller (the directory, its cgroup.procs and cgroup.subtree_control
 * writable by the caller, as systemd's Delegate=yes leaves them). When the caller runs in the
 * leaf cgroup_create made for it (CG_DELEG_LEAF), the delegated cgroup is the leaf's parent. */
#define CG_DELEG_LEAF "bulwark-leaf"
struct cg_delegation {
	char *base;	   /* the delegated cgroup, as a cgroup path ("/user.slice/...") */
	char *controllers; /* its cgroup.controllers: what may be enabled below it */
};
/* 1 and d filled when there is one, 0 when not (root, not pure v2, not delegated), -1 on a
 * read error of /proc. */
int cg_delegated(struct cg_delegation *d, struct bw_error *err);
void cg_delegation_free(struct cg_delegation *d);
/* Whether the delegated cgroup offers a controller by its v2 name ("memory"). */
bool cg_delegation_offers(const struct cg_delegation *d, const char *controller);
/* cg_open for a container of a rootless caller in its delegated cgroup: an empty cgroups_path
 * is "<base>/bulwark/<id>", a relative one is taken below base (not below the caller's own
 * cgroup, which may be the leaf), an absolute one is used as it is. A cgroup below base is
 * created as a delegated one: cg_create checks that base offers every controller the resources
 * need (else an error naming the field and the controller), and before it enables controllers
 * in base it moves base's processes (the caller's) into base/CG_DELEG_LEAF, which cgroup v2's
 * "no internal processes" rule needs; it moves nothing when no controller is needed. */
int cg_open_delegated(const char *cgroups_path, const char *id, const struct cg_delegation *d,
		      struct cg_manager **out, struct bw_error *err);
/* Rootless on a pure cgroup v2 host outside a delegated cgroup: ask the caller's own systemd
 * (its user manager, over $XDG_RUNTIME_DIR/systemd/private or $XDG_RUNTIME_DIR/bus, each used
 * only when it is the caller's) for the transient scope unit with Delegate=yes, and move the
 * calling process into it, as podman does. The scope ends, and systemd removes its cgroup,
 * when its last process has exited; cg_delegated then finds it. */
int cg_sd_user_scope(const char *unit, const char *desc, struct bw_error *err);
/* Rootless on pure cgroup v2 where cg_delegated found nothing: cg_sd_user_scope, then
 * cg_delegated again. 0 (and why it did not happen in why, n bytes) when there is no scope or it
 * is not delegated, 1 and d filled when there is, -1 on a read error of /proc. */
int cg_user_scope_delegation(const char *unit, const char *desc, struct cg_delegation *d, char *why,
			     size_t n, struct bw_error *err);
/* The user scope a rootless container's cgroup path is in (".../bulwark-ID-HEX.scope/bulwark/ID"),
 * or NULL; the caller frees it. */
char *cg_user_scope_unit(const char *cgroup_path);
/* Move the calling process into sub (a cgroup path below the unit's, e.g. "/bulwark-leaf") of
 * the caller's user manager's scope unit: AttachProcessesToUnit over the same checked socket. */
int cg_sd_user_attach(const char *unit, const char *sub, struct bw_error *err);
/* --systemd-cgroup: linux.cgroupsPath is "slice:prefix:name" (empty: "system.slice:bulwark:<id>")
 * and the cgroup is systemd's transient scope "prefix-name.scope" in that slice (nested slices
 * expanded: "a-b.slice" is /a.slice/a-b.slice). cg_create asks systemd whether it is there;
 * cg_enter starts the unit with the init in it (Delegate=yes, the resource properties systemd
 * knows, the rest in the files as for cgroupfs); cg_update sets the unit's properties too;
 * cg_destroy stops the unit and resets it. Nothing is asked of systemd here. */
int cg_open_systemd(const char *cgroups_path, const char *id, struct cg_manager **out,
		    struct bw_error *err);
/* An existing container's scope unit (cg_systemd_unit at its create), for cg_update and
 * cg_destroy. The name is checked; cg_destroy stops the unit, kills and removes only when
 * systemd says the unit is this container's (its Description names id) or has no such unit. */
int cg_attach_systemd_unit(struct cg_manager *cg, const char *unit, const char *id,
			   struct bw_error *err);
/* The unit, or NULL for the cgroupfs driver. */
const char *cg_systemd_unit(const struct cg_manager *cg);
/* The unit's Description names the container's state directory (absolute), not only its id:
 * the same id under another --root is another container, whose unit is never ours. */
void cg_systemd_set_owner(struct cg_manager *cg, const char *state_dir);
/* "slice:prefix:name" (which --systemd-cgroup needs) rather than a path. */
bool cg_is_systemd_path(const char *cgroups_path);
bool cg_systemd_unit_valid(const char *unit);
/* Whether this build has the systemd driver (sd-bus's header was there at build time). */
bool cg_systemd_built(void);
/* A cgroupsPath that already has processes is refused by cg_create (they would share the
 * container's kill --all, delete and limits); allowed, it is a warning, as runc gives. */
void cg_allow_populated(struct cg_manager *cg, bool allow);
void cg_free(struct cg_manager *cg);
/* The resolved absolute path (e.g. "/docker/<id>"), to store in the state. */
const char *cg_path(const struct cg_manager *cg);
enum cg_mode cg_manager_mode(const struct cg_manager *cg);

/* mkdir in every hierarchy (enabling v2 controllers in the ancestors as needed) and apply
 * resources (may be NULL), except the devices rules, which are only validated here: they would
 * refuse the mknod of linux.devices nodes, so cg_apply_devices sets them once the init has made
 * those (as runc does). On failure everything created is removed again. */
int cg_create(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err);
/* The parent directories cg_create made above the container's own cgroup, in every hierarchy,
 * outermost first (a new strv). The caller records them so that delete removes them, and
 * only them: a parent that existed before is never touched. */
char **cg_parents_made(const struct cg_manager *cg);
/* rmdir dirs deepest first (the reverse of their order), each only if it is a directory of a
 * cgroup file system; one still in use (sub-cgroups, processes) or already gone stays as it
 * is: rmdir never removes a cgroup that is not empty. */
void cg_remove_parents(char *const *dirs);
/* The devices rules of res (NULL: bulwark's defaults only), after cg_create. No process of the
 * container may run its own code before this. */
int cg_apply_devices(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err);
/* An O_PATH|O_DIRECTORY fd of the v2 cgroup for clone3(CLONE_INTO_CGROUP), or -1 when the
 * process must instead be moved with cg_enter (v1/hybrid). Owned by the manager. */
int cg_clone_fd(struct cg_manager *cg);
/* Around the clone of a container's first process (cg_clone.c). cg_clone_begin returns the fd
 * for clone3(CLONE_INTO_CGROUP), or -1. in_place: the child is born in every hierarchy and
 * needs no cg_enter; with self_enter (a v1 or hybrid host, cgroupfs driver), only when the
 * process that clones it has moved itself into the v1 cgroups first (cg_enter_self): a helper
 * the runtime forks for that. Not for a cgroup that existed before, nor a memory limit under
 * 16 MiB or pids.max 1 in res (may be NULL): the old path, clone then cg_enter. cg_clone_end
 * releases what begin took. */
struct cg_clone {
	int fd;
	bool in_place, self_enter, own_fd;
};
int cg_clone_begin(struct cg_manager *cg, const struct oci_resources *res, struct cg_clone *c);
/* The same for a process exec'd into a running container; with self_enter, the child moves
 * itself (cg_enter_self) first thing, before it joins any namespace. */
int cg_exec_clone_begin(struct cg_manager *cg, struct cg_clone *c);
void cg_clone_end(struct cg_clone *c);
/* Move the calling thread into the container's v1 cgroups ("0" into each `tasks`). */
int cg_enter_self(const struct cg_manager *cg, struct bw_error *err);
/* The container's init is in its cgroup: another create of the same cgroupsPath, which
 * waited in cg_create, may go on (and find it populated). cg_free does it too. */
void cg_placed(struct cg_manager *cg);
/* Move pid into the cgroup in every hierarchy. */
int cg_enter(struct cg_manager *cg, pid_t pid, struct bw_error *err);
/* Apply a LinuxResources update: absent fields stay unchanged (and, for engine payloads,
 * zero values mean "leave unchanged" as runc does). */
int cg_update(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err);
/* Pids in the cgroup (all of its processes), malloc'd. */
int cg_pids(struct cg_manager *cg, pid_t **pids, size_t *n, struct bw_error *err);
/* Signal every process (cgroup.kill for SIGKILL on v2 when present). */
int cg_kill_all(struct cg_manager *cg, int sig, struct bw_error *err);
int cg_freeze(struct cg_manager *cg, struct bw_error *err);
int cg_thaw(struct cg_manager *cg, struct bw_error *err);
/* Whether the cgroup is frozen (v2 cgroup.freeze / v1 freezer.state FROZEN). */
int cg_is_frozen(struct cg_manager *cg, bool *frozen, struct bw_error *err);
/* Kill what lingers, wait (bounded, ~1 s), rmdir the cgroup and its sub-cgroups in every
 * hierarchy. Idempotent: missing dirs are fine. Parent directories are left in place (see
 * cg_remove_parents). */
int cg_destroy(struct cg_manager *cg, struct bw_error *err);
/* Remove the cgroup (and its sub-cgroups) once its processes are gone, killing none: waits up
 * to wait_ms, then EBUSY. For a cgroup that may be another's (cgroupfs only). */
int cg_remove_when_empty(struct cg_manager *cg, long wait_ms, struct bw_error *err);
/* runc-shaped `events --stats` JSON object ({"cpu":..,"memory":..,"pids":..,...}). */
int cg_stats_json(struct cg_manager *cg, char **json, struct bw_error *err);
/* Number of OOM kills so far (memory.events oom_kill / v1 memory.oom_control). */
int cg_oom_kills(struct cg_manager *cg, uint64_t *count, struct bw_error *err);
/* What a finished workload used, for `sandbox --report`: CPU time split as the kernel accounts
 * it, the memory high-water mark (0 where the kernel has none), and OOM kills. */
struct cg_usage {
	uint64_t cpu_user_ns, cpu_system_ns;
	uint64_t memory_peak;
	uint64_t oom_kills;
};
int cg_usage(struct cg_manager *cg, struct cg_usage *u, struct bw_error *err);
/* The limits in force and how often each was reached, for `sandbox --report`'s budgets, read
 * from whichever hierarchy serves each controller. UINT64_MAX: no limit (or not readable). */
struct cg_budget {
	bool cpu_v2;			      /* weight is cpu.weight; else shares is cpu.shares */
	uint64_t cpu_quota_us, cpu_period_us; /* quota UINT64_MAX: none */
	uint64_t cpu_weight, cpu_shares;      /* the one of the hierarchy; the other 0 */
	uint64_t cpu_throttled_periods, cpu_throttled_us;
	uint64_t memory_limit;
	uint64_t memory_max_events; /* v2 memory.events "max"; v1 memory.failcnt */
	uint64_t pids_limit;
	uint64_t pids_max_events; /* pids.events "max": forks refused at the limit */
};
int cg_budget(struct cg_manager *cg, struct cg_budget *b);
/* A window on the memory high-water mark: an fd whose peak was reset to the current usage
 * when it was opened, so that cg_peak_window_read gives the peak since then. v2 (memory.peak,
 * Linux 6.12+) resets it for that fd alone; v1 (memory.max_usage_in_bytes) for the cgroup, so
 * two windows at once disturb each other (cg_peak_window_shared: the caller serialises). -1
 * where the kernel cannot (older v2 kernels, no write access). */
bool cg_peak_window_shared(struct cg_manager *cg);
int cg_peak_window_open(struct cg_manager *cg);
/* The peak seen through the window's fd since it was opened (0: unreadable). */
uint64_t cg_peak_window_read(int fd);

/* `exec --cgroup [CTRL[,CTRL...]:]PATH`: move the manager's view to the sub-cgroup PATH of the
 * container's cgroup, in the hierarchies of the named v1 controllers (ctrls) or in every
 * hierarchy (ctrls NULL). PATH is relative to the container's cgroup ("/" is the cgroup
 * itself); "." and ".." components are refused, as are controllers the host does not have
 * (and any controller prefix on a unified host), and a sub-cgroup that does not exist. */
int cg_select_sub(struct cg_manager *cg, const char *ctrls, const char *sub, struct bw_error *err);
/* The syntax check of cg_select_sub's PATH alone (pure). */
int cg_sub_path_check(const char *sub, struct bw_error *err);
