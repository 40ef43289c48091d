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
	uint64_t init_start_time; /* /proc/<pid>/stat field 22, guards against pid reuse */
	char *cgroup_path;	  /* the resolved cgroupsPath */
	bool own_pid_ns;	  /* the container has its own pid namespace */
	char *config_digest;	  /* sha256 of config.json as loaded (for the audit log) */
	char **cleanup;		  /* extra resources to release on delete ("netns:/run/..", ...) */
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
/* "2026-11-22T12:14:31.23411935Z" for now (malloc'd). */
char *oci_time_now_rfc3339(void);
/* The same for a given CLOCK_REALTIME time: UTC, nanoseconds with trailing zeros trimmed
 * (no fraction at all when 0), like Go's time.RFC3339Nano. */
char *oci_time_rfc3339(const struct timespec *ts);
