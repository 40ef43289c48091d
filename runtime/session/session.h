/* `bulwark session`: long-lived sandboxes (docs/sessions.md). A session is a sandbox container
 * whose pid 1 runs no payload (init_reaper_hold), owned by a supervisor process that enforces
 * its lifetime and idle timeout and tears it down as a sandbox's end; commands run in it with
 * `session exec`. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"

#define SESSION_ANNOTATION "run.bulwark.session"
#define SESSION_IDLE_ANNOTATION "run.bulwark.session.idle-timeout"
#define SESSION_LIFETIME_ANNOTATION "run.bulwark.session.lifetime"
#define SESSION_LIMITS_ANNOTATION "run.bulwark.session.limits"
/* "1": made with --checkpointable (no Landlock, no generated AppArmor profile): the only
 * sessions `session checkpoint` dumps. */
#define SESSION_CHECKPOINTABLE_ANNOTATION "run.bulwark.session.checkpointable"
/* --disk in bytes: also the budget of each `session cp`. */
#define SESSION_DISK_ANNOTATION "run.bulwark.session.disk"
/* In the session's state directory: every exec holds a shared lock on it while it runs and sets
 * its mtime as it starts and ends; the supervisor's idle check takes it exclusively. */
#define SESSION_BUSY_FILE "session.busy"
/* In the session's state directory, where the cgroup's memory high-water mark can only be
 * reset for the whole cgroup (v1): a reporting exec resets it under an exclusive OFD lock,
 * then holds a shared one until it ends; an exec that finds it held reports no peak. */
#define SESSION_PEAK_FILE "session.peak"

/* One command in a session, with the session's identity, environment and confinement. */
struct session_exec {
	char **args;
	char **env; /* KEY=VALUE, replacing the session's */
	const char *cwd;
	bool tty;
	bool interactive;   /* stdin relayed (closed when it ends); else /dev/null */
	int64_t timeout_ms; /* 0: none; else the process group is SIGKILLed at the deadline */
	/* out */
	bool started, timed_out;
	int wait_status;
};

/* Runs it in the loaded (locked) container c and waits: the command's shell-style status (124
 * on timeout), or -1 with err. */
int session_exec_in(const struct global_opts *g, struct container *c, struct session_exec *x,
		    struct bw_error *err);

/* The session's annotation key (NULL: none). */
const char *session_annotation(const struct container *c, const char *key);
/* The session NAME, loaded and locked; "does not exist" / "is a container" otherwise. */
int session_load(const struct global_opts *g, const char *name, struct container **c,
		 struct bw_error *err);
/* Waits up to ms for the pidfd to be readable (the process ended). */
bool session_ended_within(int pidfd, int ms);
/* Whether busy (an fd of the session's SESSION_BUSY_FILE, locked) is still c's: "ended while
 * this command waited" otherwise. */
int session_busy_is_current(const struct container *c, int busy, const char *name,
			    struct bw_error *err);

/* The running binary copied for a checkpointable session's init (cmd_session.c): root's, 0555,
 * `.ID.NONCE.init` in dir (the state root); *copy is the caller's to unlink, also on failure. */
int session_init_copy(const char *dir, const char *id, char **copy, struct bw_error *err);
struct created;
/* The session's life in its supervisor: until the init ends, a SIGTERM or SIGINT, the
 * lifetime (0: none) or the idle timeout (0: none); the init is then SIGKILLed and reaped. */
void session_supervise(int64_t lifetime_ms, int64_t idle_ms, struct created *cr, int dirfd);
/* Forks the supervisor fn(arg, report_fd) out of the caller's session and process group and
 * waits for its word on report_fd (session_report_to_caller). */
int session_spawn_supervisor(const char *name, int (*fn)(void *arg, int report_fd), void *arg,
			     struct bw_error *err);
/* The supervisor's word: a NUL byte on success (r == 0), else the exit status and the error. */
void session_report_to_caller(int report_fd, int r, const struct bw_error *err);

int session_create(const struct global_opts *g, int argc, char **argv, struct bw_error *err);
/* `session checkpoint NAME DIR` (session_checkpoint.c). */
int session_checkpoint(const struct global_opts *g, int argc, char **argv, struct bw_error *err);
/* `session restore NAME DIR` (session_restore.c). */
int session_restore(const struct global_opts *g, int argc, char **argv, struct bw_error *err);
