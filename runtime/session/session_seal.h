/* A session checkpoint's seal: an HMAC-SHA256, under a key only host root can read, over every
 * file `session checkpoint` left in DIR. `session restore` refuses a DIR whose seal does not
 * match: CRIU restores whatever the image says (credentials, capabilities, seccomp, mounts) as
 * root, so an image is only ever restored if this host's bulwark wrote it, never one a session
 * wrote into a workspace or copied out with `session cp`. */
#pragma once

#include "common/error.h"

#define SESSION_SEAL_FILE "bulwark.seal"

/* Seal the directory dirfd (its regular files, by name, content and size), writing
 * SESSION_SEAL_FILE there; the key is made on first use. state_root: the fallback home of the
 * key where /var/lib/bulwark cannot be made (a read-only /var). */
int session_seal_write(int dirfd, const char *state_root, struct bw_error *err);
/* The key, made now if missing: before the dump ends the session, so a key that cannot be had
 * refuses the checkpoint instead of leaving an image that can never be restored. */
int session_seal_key_ready(const char *state_root, struct bw_error *err);
/* 0 if dirfd's files match its seal under this host's key, else refused by name. */
int session_seal_check(int dirfd, const char *state_root, struct bw_error *err);
