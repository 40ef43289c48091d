/* What spawn.c, init.c and the files of runtime/spawn/ share among themselves (spawn.h is what
 * the rest of the runtime uses): the parent's steps, and the child's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/spawn.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* spawn_clone.c: clone3 with CLONE_PIDFD (into the cgroup cgroup_fd unless -1). */
pid_t spawn_do_clone(uint64_t flags, int cgroup_fd, int *pidfd);
/* This thread's effective ids switched to cfg->ns_owner's for the clone of a sandbox's init, and
 * back (spawn_clone.c says why). */
struct spawn_ns_owner {
	bool active;
	int dumpable, pdeath, secbits;
};
int spawn_ns_owner_become(const struct spawn_config *cfg, struct spawn_ns_owner *o,
			  struct bw_error *err);
void spawn_ns_owner_restore(struct spawn_ns_owner *o);
pid_t spawn_clone_from_userns(struct spawn_config *cfg, int *pidfd);
pid_t spawn_clone_via_helper(const struct spawn_config *cfg, uint64_t flags, int cgroup_fd,
			     int *pidfd, bool *fallback, struct bw_error *err);

/* spawn_prepare.c: everything between the clone and SYNC_GO. */
int spawn_after_clone(struct spawn_config *cfg, pid_t pid, int pidfd, struct bw_error *err);

/* spawn_serve.c: the init's requests until SYNC_READY (0) or a failure. */
int spawn_serve_child(struct spawn_config *cfg, pid_t pid, int sock, struct spawn_result *res,
		      bool *died, struct bw_error *err);

/* The child (init.c, init_*.c). The init's /proc/<pid> when its root has none (init.c), and
 * the process's environment (init_setup_process). */
extern int init_proc_self;
extern char **init_env;
/* init_container.c */
int init_become_ns_root(const struct spawn_config *cfg, struct bw_error *err);
int init_run_hooks(const struct spawn_config *cfg, enum oci_hook_kind kind, const char *cwd,
		   struct bw_error *err);
int init_setup_container(const struct spawn_config *cfg, int sock, struct bw_error *err);
int init_join_container(const struct spawn_config *cfg, int sock, struct bw_error *err);
/* init_process.c */
int init_load_seccomp_with_listener(const struct spawn_config *cfg, int sock, struct bw_error *err);
int init_setup_process(const struct spawn_config *cfg, char **exe, uint64_t *held,
		       struct bw_error *err);
