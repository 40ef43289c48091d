/* Starting a process inside a container: clone3 with the namespace flags (or into an existing
 * container's namespaces for exec), then the parent and the child walk the sync protocol of
 * sync.h. The child side (init.c) never returns: it execs or exits. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroups/cgroup.h"
#include "common/error.h"
#include "oci/spec.h"
#include "profiles/apparmor.h"
#include "profiles/caps.h"
#include "profiles/landlock.h"
#include "profiles/seccomp.h"
#include "runtime/hostpath.h"

/* /proc/sys/user keys of a user namespace's own inotify/fanotify limits, in the order of
 * spawn_config.user_counts. */
#define SPAWN_USER_COUNTS 4
extern const char *const spawn_user_count_keys[SPAWN_USER_COUNTS];

struct spawn_config {
	const struct oci_spec *spec;	   /* the container's config */
	const struct oci_process *process; /* what to run (spec's or exec's) */
	const char *id;
	const char *bundle;
	const char *rootfs; /* absolute */
	/* create: root.path and bind sources as resolved once (hostpath.h); mount_srcs is
	 * indexed like spec->mounts, path NULL where not a bind */
	struct hostpath *root_src;
	struct hostpath *mount_srcs;
	const char *state_root;
	/* create/run in a new user namespace: mountpoints the init's ids may not make in the
	 * rootfs are made by the runtime (a root-made bundle, as runc and crun would make them
	 * as root). Never for a sandbox: its rootfs may be the host's own. */
	bool host_mountpoints;
	/* sandbox: the root is a fresh tmpfs with these top-level symlinks (rootfs_ctx) */
	bool root_tmpfs;
	char *const *root_links;
	bool root_sealed;  /* sandbox: rootfs_ctx.root_sealed */
	uint32_t ns_owner; /* the new user namespace's owner (uid and gid), 0: root */
	bool is_exec;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds; /* extra fds after stdio to keep (LISTEN_FDS included) */
	int stdio[3];	  /* the process's fds 0-2 (stdio_guard.h); -1: the caller's */
	int fifo_fd;	  /* create: O_PATH fd of exec.fifo, else -1 */
	const char *console_socket;
	bool keep_master;     /* run -t without a socket: the parent relays */
	bool die_with_parent; /* sandbox: the init is SIGKILLed when its creator dies */
	int status_fd; /* sandbox: pid 1 is bulwark's (init_reaper.h) and reports the payload's
			* wait status here; -1: the payload is pid 1 */
	/* session: with status_fd, pid 1 starts no payload at all (init_reaper_hold) */
	bool session_init;
	struct caps_plan caps;
	struct seccomp_prog *seccomp; /* NULL: none */
	/* The tty guard (seccomp_tty_guard_for_spec), loaded before `seccomp`; filter NULL: none.
	 * Owned by the caller. */
	struct seccomp_prog tty_guard;
	struct landlock_plan landlock;
	struct apparmor_plan apparmor;
	struct cg_manager *cg;
	/* create: fds of namespaces to join (or -1), and CLONE_NEW* flags to create */
	int ns_fds[OCI_NS_NTYPES];
	int new_ns_flags;
	/* exec: pidfd of the container init and the namespaces to enter */
	int target_pidfd;
	int target_ns_flags;
	bool exec_in_userns; /* internal: a rootless exec was born in the user namespace */
	bool rootless;	     /* internal: the runtime runs without root (set by the parent) */
	/* rootless create: the init's network and user namespaces, opened by the parent while
	 * the init's /proc files still open to it (until SYNC_GO); the caller closes them */
	int init_netns, init_userns;
	/* internal: the host's per-user inotify/fanotify limits, read by the parent before a
	 * new user namespace is made (init_container.c caps the namespace's own at a share);
	 * 0: none */
	long long user_counts[4];
	/* Called by the parent right after clone with the child's pid: records it (so a crash
	 * from here on is cleaned up by delete --force) and returns the state JSON for hooks. */
	int (*on_started)(void *ctx, pid_t pid, char **state_json, struct bw_error *err);
	void *cb_ctx;
	char *state_json; /* filled by the parent from on_started; sent to the child in SYNC_GO */
	int sock_parent;  /* internal: the parent's end of the sync socket */
	bool cg_in_place; /* internal: the child was cloned into its cgroup */
	bool cg_child_enters; /* internal: the child moves itself in (cg_enter_self) */
};

struct spawn_result {
	pid_t pid;
	int pidfd;
	int master; /* keep_master: pty master, else -1 */
};

void spawn_config_init(struct spawn_config *cfg);
/* Run the whole parent side. On success the child is blocked on exec.fifo (create) or has
 * exec'd (exec). On failure the child is killed and reaped; the caller cleans the rest. */
int spawn_container_process(struct spawn_config *cfg, struct spawn_result *res,
			    struct bw_error *err);
/* The child side, in init.c. */
void __attribute__((noreturn)) init_main(struct spawn_config *cfg, int sock);
