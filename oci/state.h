/* state.json: the runc-shaped public state (what `bulwark state` prints and hooks read on
 * stdin) plus bulwark's private fields kept under a "bulwark" key in the stored file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"
#include "oci/spec.h"

enum oci_status {
	OCI_STATUS_CREATING,
	OCI_STATUS_CREATED,
	OCI_STATUS_RUNNING,
	OCI_STATUS_PAUSED,
	OCI_STATUS_STOPPED
};

/* The private record of what delete is to undo and which helper processes belong to the
 * container, one entry per thing: {"kind": "file", "path": "..."} in state.json. */
enum state_cleanup_kind {
	/* path: the --audit log that start and delete write to */
	STATE_CLEANUP_AUDIT,
	/* path: a file delete removes (--remove-file, a session's copy of the runtime) */
	STATE_CLEANUP_FILE,
	/* path: a directory of such files, removed after them when empty (session restore) */
	STATE_CLEANUP_DIR,
	/* path: the slot file of the id pool (runtime/idpool.h) that delete releases */
	STATE_CLEANUP_IDSLOT,
	/* path: a parent cgroup this create made (outermost first), removed when empty */
	STATE_CLEANUP_CGPARENT,
	/* marks: the config has poststart (poststop) hooks, so start (delete) re-reads it */
	STATE_CLEANUP_HOOKS_POSTSTART,
	STATE_CLEANUP_HOOKS_POSTSTOP,
	/* mark: saved before the cgroup was made (an owner's, for its watchdog): it may yet be
	 * refused as another container's, so teardown kills nothing in it. Dropped at the
	 * create's last save. */
	STATE_CLEANUP_CGROUP_PENDING,
	/* mark: rootless without a cgroup, none to look for */
	STATE_CLEANUP_CGROUP_NONE,
	/* mark: the network helper plumbed host-side egress, to be unplumbed */
	STATE_CLEANUP_NET_PLUMB,
	/* deadline_ms (CLOCK_BOOTTIME) and lifetime_ms: the watchdog's, for a replacement */
	STATE_CLEANUP_DEADLINE,
	/* pid and start: helper processes (container_record_helper); the session's supervisor */
	STATE_CLEANUP_WATCHDOG,
	STATE_CLEANUP_OWNER,
	STATE_CLEANUP_AGENT,
	STATE_CLEANUP_PASTA,
	STATE_CLEANUP_SESSION,
	/* dev and ino: the creator's pid namespace, which the recorded pids are of */
	STATE_CLEANUP_PIDNS,
	STATE_CLEANUP_NKINDS
};

/* The kernel's PID_MAX_LIMIT: no pid is larger. */
#define STATE_PID_MAX 4194304
/* Bounds on a hostile state.json: entries, bytes of a path. */
#define STATE_CLEANUP_MAX 4096
#define STATE_CLEANUP_STR_MAX 4095

struct state_cleanup {
	enum state_cleanup_kind kind;
	char *str;	/* a path, never empty */
	pid_t pid;	/* a helper: 2..STATE_PID_MAX */
	uint64_t start; /* ... and its start time (/proc/<pid>/stat field 22) */
	uint64_t dev;	/* pidns: st_dev and st_ino of /proc/self/ns/pid */
	uint64_t ino;
	int64_t deadline_ms; /* deadline: >= 0 */
	int64_t lifetime_ms;
};

struct oci_state {
	char *oci_version;
	char *id;
	enum oci_status status;
	pid_t pid;
	char *bundle;
	char *rootfs;
	char *created; /* RFC3339Nano UTC */
	char *owner;
	struct oci_kv *annotations;
	size_t n_annotations;

	/* private: how to find and tear down what `create` made */
	uint64_t init_start_time;      /* /proc/<pid>/stat field 22, guards against pid reuse */
	char *cgroup_path;	       /* the resolved cgroupsPath */
	bool own_pid_ns;	       /* the container has its own pid namespace */
	char *config_digest;	       /* sha256 of config.json as loaded (for the audit log) */
	struct state_cleanup *cleanup; /* what to release on delete, in the order recorded */
	size_t n_cleanup;
};

const char *oci_status_name(enum oci_status s);
int oci_status_from_name(const char *name); /* -1 if unknown */

/* public = true: only the runc-shaped fields (for `state`, hooks); false: everything.
 * pretty: 2-space indent like runc. *out is malloc'd, NUL-terminated, no trailing newline. */
int oci_state_to_json(const struct oci_state *st, bool public_only, bool pretty, char **out,
		      size_t *len, struct bw_error *err);
/* The runtime-spec's State only (ociVersion, id, status, pid unless 0, bundle, annotations),
 * compact: the stdin of hooks, as runc passes it. */
int oci_state_spec_json(const struct oci_state *st, char **out, struct bw_error *err);
/* Errors are prefixed "state.json: ". On failure *out is zeroed and owns nothing. */
int oci_state_parse(const char *json, size_t len, struct oci_state *out, struct bw_error *err);
void oci_state_free_fields(struct oci_state *st);

/* The cleanup record. Adding what the parser would refuse (an empty path, a pid out of range, a
 * field the kind does not have) records nothing: a saved state must read back. */
const char *state_cleanup_kind_name(enum state_cleanup_kind kind); /* "file", NULL if unknown */
void state_cleanup_add(struct oci_state *st, enum state_cleanup_kind kind); /* a mark, once */
void state_cleanup_add_str(struct oci_state *st, enum state_cleanup_kind kind, const char *s);
void state_cleanup_add_pid(struct oci_state *st, enum state_cleanup_kind kind, pid_t pid,
			   uint64_t start);
void state_cleanup_add_pidns(struct oci_state *st, uint64_t dev, uint64_t ino);
void state_cleanup_add_deadline(struct oci_state *st, int64_t deadline_ms, int64_t lifetime_ms);
/* The next entry of that kind at or after *pos (start at 0), which moves past it; NULL after
 * the last. */
const struct state_cleanup *state_cleanup_next(const struct oci_state *st,
					       enum state_cleanup_kind kind, size_t *pos);
const struct state_cleanup *state_cleanup_find(const struct oci_state *st,
					       enum state_cleanup_kind kind);
bool state_cleanup_has(const struct oci_state *st, enum state_cleanup_kind kind);
/* Drops every entry of that kind. */
void state_cleanup_remove(struct oci_state *st, enum state_cleanup_kind kind);
void state_cleanup_free(struct oci_state *st);

/* "2026-11-22T12:14:31.23411935Z" for now (malloc'd). */
char *oci_time_now_rfc3339(void);
/* The same for a given CLOCK_REALTIME time: UTC, nanoseconds with trailing zeros trimmed
 * (no fraction at all when 0), like Go's time.RFC3339Nano. */
char *oci_time_rfc3339(const struct timespec *ts);
