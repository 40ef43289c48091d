/* `session restore NAME DIR` (session_restore.c) and what it accepts from DIR
 * (session_restore_check.c, pure). docs/sessions.md, "restore". */
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

#define SESSION_META_MAX (64 << 10)

/* session.json, as `session checkpoint` wrote it. */
struct session_meta {
	long long lifetime_ms, lifetime_left_ms, idle_timeout_ms;
};

/* session.json's text (len bytes): version 1, its durations bounded; one line naming the
 * field otherwise. */
int session_meta_parse(const char *text, size_t len, struct session_meta *m, struct bw_error *err);
/* config.json held to what `session create --checkpointable` makes; *base: its id range. */
int session_restore_check_spec(const struct oci_spec *spec, uint32_t *base, struct bw_error *err);
