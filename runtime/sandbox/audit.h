/* The audit log (`--audit FILE`, or the policy's "audit" key): one JSON line per lifecycle event
 * of every container (created, started, exited, expired, deleted). The network agent appends
 * the denials it sees to the same file. Lines are written with one write() on an O_APPEND file,
 * so the many writers (runtimes, agents) never interleave within a line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct audit_rec;

/* A record for container id; "time", "sandbox" and "event" come first. */
struct audit_rec *audit_begin(const char *id, const char *event);
void audit_str(struct audit_rec *a, const char *key, const char *value); /* NULL: null */
void audit_int(struct audit_rec *a, const char *key, int64_t value);
void audit_bool(struct audit_rec *a, const char *key, bool value);
/* Open/close a nested object member. */
void audit_map_open(struct audit_rec *a, const char *key);
void audit_map_close(struct audit_rec *a);
/* Append the line to path (created 0600; a symlink is refused) and free a. A NULL path only
 * frees it. */
int audit_commit(struct audit_rec *a, const char *path, struct bw_error *err);
/* The same, for events after which nothing can be refused any more: a failure is a warning. */
void audit_commit_warn(struct audit_rec *a, const char *path);
/* Check that path can be appended to (at create: an audit log that cannot be written means the
 * container is not started). */
int audit_check(const char *path, struct bw_error *err);
