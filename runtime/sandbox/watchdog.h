/* The watchdog: a small process tied to one container that releases it when nobody else will.
 * Two cases: a maximum lifetime (annotation run.bulwark.lifetime, for create/run and engines)
 * kills and releases the container at its deadline even with no runtime process in the
 * foreground; and an owner (the `sandbox` process) whose death, however sudden, releases the
 * sandbox. It quits by itself when the init exits first (lifetime) or when delete stops it.
 * It runs as `bulwark-watchdog ID --root ROOT ...` and ignores every signal but SIGKILL; a
 * killed one is replaced by its owner (the guard) or by the next `bulwark list` (the sweep). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"

#define WATCHDOG_LIFETIME_ANNOTATION "run.bulwark.lifetime"

/* The lifetime the spec asks for in ms (0: none), or -1 with a one-line error. */
int watchdog_lifetime(const struct oci_spec *spec, int64_t *ms, struct bw_error *err);
/* Start the watchdog if the container needs one (lifetime_ms > 0 or owner > 0); records it in
 * the state. init_pidfd stays the caller's. */
int watchdog_start(const struct global_opts *g, struct container *c, int init_pidfd,
		   int64_t lifetime_ms, pid_t owner, struct bw_error *err);
/* An owner's watchdog (owner > 0), started before the init exists so that no moment of the
 * create is unguarded: recorded in the state like watchdog_start's; *init_sock is where
 * watchdog_hand_init sends it the init's pidfd once there is one. */
int watchdog_start_owned(const struct global_opts *g, struct container *c, int64_t lifetime_ms,
			 pid_t owner, int *init_sock, struct bw_error *err);
/* Send the init's pidfd (-1: none, the create failed) and close *init_sock. */
void watchdog_hand_init(int *init_sock, int init_pidfd);
void watchdog_stop(struct container *c);
/* The watchdog's own entry point (argv[0] "bulwark-watchdog"); never returns on success. */
int watchdog_main(int argc, char **argv);
/* Milliseconds on the clock deadlines are recorded in (CLOCK_BOOTTIME). */
int64_t watchdog_now_ms(void);
/* In the process waiting on the init (its lock released): a thread that replaces the
 * container's watchdog, if it has one, whenever it dies, with the same deadline and owner (0:
 * none). NULL if it cannot start. Stop it before tearing down. */
struct watchdog_guard *watchdog_guard_start(const char *root, const char *id, int init_pidfd,
					    pid_t owner);
void watchdog_guard_stop(struct watchdog_guard *gd);
bool watchdog_recorded(const struct container *c);
/* For a loaded (locked) container created in the caller's pid namespace: when its watchdog is
 * dead (or stopped: then killed) and its owner too, or its lifetime is over, tear it down
 * (returns 1 once torn down; 0 if that failed); otherwise a dead watchdog is replaced. */
int watchdog_sweep(struct container *c);
/* watchdog_sweep over every container of the state root whose lock is free right now. */
void watchdog_sweep_root(const char *root);
