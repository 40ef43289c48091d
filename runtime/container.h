/* The container store: one directory per container under the state root holding state.json,
 * exec.fifo and a lock file; status is derived from the live process, never trusted from disk. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/state.h"

struct container {
	char *root;
	char *id;
	char *dir;
	int dirfd;
	int lockfd;
	struct oci_state state;
};

/* Letters, digits and _ - . +; 1..255 bytes (it is a directory name). */
#define CONTAINER_ID_MAX 255
int container_validate_id(const char *id, struct bw_error *err);
/* Create <root>/<id> exclusively and lock it. "container with id exists: ID" if taken. */
int container_new(const char *root, const char *id, struct container **out, struct bw_error *err);
/* Open and lock an existing container. "container does not exist", returning -ENOENT, if unknown,
 * or -ESTALE if it was removed (and its id perhaps taken again) while we waited for the lock.
 */
int container_load(const char *root, const char *id, struct container **out, struct bw_error *err);
/* The same without waiting: -1 (EWOULDBLOCK) if someone holds the lock. */
int container_try_load(const char *root, const char *id, struct container **out,
		       struct bw_error *err);
int container_save(struct container *c, struct bw_error *err);
/* Live status: stopped when the init is gone (or its pid was reused). */
enum oci_status container_status(struct container *c);
/* A pidfd of the init, verified to be the same process (start time); -1 + ESRCH if gone. */
int container_pidfd(struct container *c, struct bw_error *err);
/* Remove the state directory (the lock goes with it). */
int container_remove(struct container *c, struct bw_error *err);
/* For each entry name of root a verb reads anyway (list, the sandbox's sweep): a ".gone~"
 * tombstone a killed remover left is removed, and true returned; false for any other name. */
bool container_reap_gone(const char *root, const char *name);
/* delete --force of an id whose directory has no lock file (a teardown that failed halfway,
 * or one in progress): whatever is left of the directory is removed. 0 when nothing is left. */
int container_remove_leftover(const char *root, const char *id, struct bw_error *err);
/* Let other verbs in (kill, delete) while this one waits on something the container controls;
 * its in-memory state must not be saved after this. */
void container_unlock(struct container *c);
void container_free(struct container *c);

/* Helper processes that must not outlive the container (network agent, watchdog) are recorded
 * in the state's cleanup record as an entry of their kind (STATE_CLEANUP_WATCHDOG, ...) with
 * pid and start time (saved with the state). Stopping one sends sig, waits up to wait_ms for
 * it to exit, then SIGKILLs it; a recorded pid whose start time no longer matches belongs to
 * someone else now and is left alone. start: the helper's start time if the caller has it (0:
 * read it now). */
void container_record_helper(struct container *c, enum state_cleanup_kind kind, pid_t pid,
			     uint64_t start);
void container_stop_helper(struct container *c, enum state_cleanup_kind kind, int sig, int wait_ms);
/* A pidfd of the recorded helper if it still runs (its start time matches), else -1. */
int container_helper_pidfd(struct container *c, enum state_cleanup_kind kind);
bool container_helper_alive(struct container *c, enum state_cleanup_kind kind);
/* 1: the recorded helper runs; 0: it is gone; -1: cannot tell (pidfd_open failed otherwise
 * than ESRCH). "Cannot tell" is never "dead": container_helper_alive counts it as alive. */
int container_helper_check(struct container *c, enum state_cleanup_kind kind);
/* The recorded helper runs but is stopped or traced (/proc/<pid>/stat state T or t). */
bool container_helper_stopped(struct container *c, enum state_cleanup_kind kind);
/* The pids in the state are the creator's pid namespace's: recorded as a "pidns" entry, the
 * st_dev and st_ino of its /proc/self/ns/pid (not saved); same: whether the caller's is that
 * one (true when none is recorded, false when the caller's cannot be read). */
void container_record_pidns(struct container *c);
bool container_same_pidns(const struct container *c);
/* Forget every recorded helper of that kind and record this one instead (not saved). */
void container_replace_helper(struct container *c, enum state_cleanup_kind kind, pid_t pid,
			      uint64_t start);

/* /proc/<pid>/stat field 22 (start time in clock ticks); 0 if the process is gone. */
uint64_t proc_start_time(pid_t pid);
/* Whether the init still has the exec.fifo open for writing, i.e. was not started yet. */
bool container_fifo_exists(struct container *c);

/* A container without a cgroup (rootless, lifecycle/lifecycle_cgroup.c): the processes of the
 * init's pid namespace (malloc'd), found by their /proc/PID/ns/pid link; without a pid namespace of
 * its own, the init alone. */
int container_pidns_members(pid_t init, pid_t **pids, size_t *n, struct bw_error *err);
/* Is pid (now) in the pid namespace of init? */
bool container_pid_shares_pidns(pid_t pid, pid_t init);
