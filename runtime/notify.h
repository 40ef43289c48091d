/* sd_notify for containers (NOTIFY_SOCKET in the runtime's environment): create gives the
 * container a directory of the state dir at the caller's socket path; start binds a datagram
 * socket in it and relays READY=1 and a few harmless fields to the caller's socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/spec.h"

struct container;
struct hostpath;

/* The largest datagram the relay reads; a longer one is dropped whole. */
#define NOTIFY_MSG_MAX 4096
/* How long start (and run --detach) waits for READY=1: systemd's DefaultTimeoutStartSec, after
 * which a Type=notify unit has failed anyway. */
#define NOTIFY_READY_TIMEOUT_MS 90000

/* Where the container finds the directory: the caller's socket path when it is an absolute,
 * clean path other than "/" (crun's layout), else /run/notify (runc's place). Pure; malloc'd. */
char *notify_container_dir(const char *host_socket);

/* The fields of one datagram that may reach the caller, joined by newlines as sd_notify(3)
 * sends them (no newline after the last: "READY=1" exactly), into out (cap bytes, NUL-terminated):
 * READY=1, STATUS=, RELOADING=1, STOPPING=1, ERRNO=, BUSERROR=, EXTEND_TIMEOUT_USEC=,
 * MONOTONIC_USEC=, WATCHDOG=1 with printable ASCII values. Everything else is dropped: MAINPID= (a
 * pid the container names means nothing on the host, or names a host process), FDSTORE=, BARRIER=,
 * unknown keys. Returns the length; *ready says whether READY=1 was among them. Pure. */
size_t notify_filter(const char *msg, size_t n, char *out, size_t cap, bool *ready);

/* create: with NOTIFY_SOCKET set, make <state>/notify, add its bind mount (read-only) to spec
 * and NOTIFY_SOCKET=<dir>/notify to process.env; *src gets the resolved source. Returns 1 if
 * set up, 0 if NOTIFY_SOCKET is unset. */
int notify_prepare(struct container *c, struct oci_spec *spec, struct hostpath *src,
		   struct bw_error *err);

/* The mountpoint dir (notify_container_dir) made in root.path with the runtime's own ids, as
 * runc's and crun's root would make it, through fs_mkpath_in_root (a symlink in the image is
 * followed inside root.path only): a user namespace's root may not write a root-owned image's
 * /run. Best effort (a read-only image; a tmpfs the config mounts there serves as well): 0 if
 * made or there. Call only where lifecycle/lifecycle_sources.c lets the runtime make mountpoints.
 */
int notify_make_mountpoint(const struct hostpath *root, const char *dir);

struct notify_relay;
/* start: the relay for a container created with a notify directory while NOTIFY_SOCKET is
 * set, with its socket bound; NULL (and no error) otherwise. */
int notify_relay_open(struct container *c, struct notify_relay **out, struct bw_error *err);
/* Relay until READY=1 has been forwarded, the process behind pidfd ends, or
 * NOTIFY_READY_TIMEOUT_MS pass (a warning). */
void notify_relay_until_ready(struct notify_relay *r, int pidfd);
/* Relay from a thread of its own until notify_relay_stop (run in the foreground). */
int notify_relay_thread(struct notify_relay *r, struct bw_error *err);
/* Stops the thread if any, closes and unlinks the socket, frees r. NULL is fine. */
void notify_relay_close(struct notify_relay *r);
