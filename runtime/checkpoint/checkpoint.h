/* Checkpoint and restore of a container through CRIU's command line (`criu dump`, `criu
 * restore`), with runc's flags. What CRIU cannot carry over faithfully (Landlock domains,
 * bulwark's firewall agent, the lifetime watchdog, a sandbox's owner) is refused, never
 * restored weaker. docs/checkpoint.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/cli/cli.h"

/* What `checkpoint` takes (runc 1.1's flags). NULL strings: the defaults. */
struct checkpoint_opts {
	const char *image_path;		 /* default ./checkpoint */
	const char *work_path;		 /* logs and CRIU's work files; default: the image path */
	const char *parent_path;	 /* a previous (pre-)dump, relative to the image path */
	const char *manage_cgroups_mode; /* soft, full, strict, ignore */
	const char *empty_ns;		 /* only "network" */
	bool leave_running, tcp_established, ext_unix_sk, shell_job, file_locks, pre_dump;
	bool auto_dedup, lazy_pages;
};

/* What `restore` takes, the shared CRIU flags included. */
struct restore_opts {
	struct checkpoint_opts ck; /* image_path, work_path, CRIU flags; leave_running unused */
	const char *bundle;	   /* NULL: cwd */
	const char *pid_file;
	const char *console_socket;
	bool detach, no_subreaper, no_pivot;
};

/* The CRIU binary: --criu if given, else "criu" from PATH. */
const char *checkpoint_criu_binary(const struct global_opts *g);

/* Dump container id into the image path. Without leave_running/pre_dump the container is
 * released afterwards, as runc does. On failure the container keeps running untouched and the
 * error quotes CRIU's own first error line from its log. */
int checkpoint_container(const struct global_opts *g, const char *id,
			 const struct checkpoint_opts *o, struct bw_error *err);

struct container;
/* `session checkpoint`: dump the session's container c (loaded, locked) into dir, which must
 * not exist and is made 0700, with the refusals of checkpoint_container, but for a session's
 * own helpers (its supervisor and watchdog are outside the dumped tree). CRIU ends the
 * session's tree: its supervisor then releases everything as at `session rm`. */
struct image_dir;
/* On success *out holds DIR by fd, for the files the caller adds (image_dir_close it). */
int checkpoint_session(const struct global_opts *g, struct container *c, const char *dir,
		       struct image_dir *out, struct bw_error *err);

struct oci_spec;
/* `session restore`: what the new supervisor prepared for CRIU. */
struct session_restore_plan {
	const struct oci_spec *spec; /* DIR's config.json, checked (session_restore_check.c) */
	const struct image_dir *img; /* DIR, held: CRIU's image and work directory */
	const char *state_dir;	     /* the new session's, absolute */
	const char *cgroup;	     /* its cgroup, made with the config's limits */
	const char *init_copy;	     /* the new session's copy of bulwark for pid 1 */
	const char *boot_id;	     /* a fresh file for the session's boot id */
	char *const *links;	     /* the root's top-level links: "name", "target"... */
	uint32_t base;		     /* the session's id range, re-acquired */
};
/* Restore the session's tree as the caller's child (CRIU's sibling) into its cgroup; *pid
 * the restored init, checked confined as config.json says and on the session's id range. */
int checkpoint_restore_session(const struct global_opts *g, const struct session_restore_plan *p,
			       pid_t *pid, struct bw_error *err);

/* Restore container id from the image path with the bundle's config.json. With detach it
 * returns once the container runs (0); otherwise it waits and returns the container's exit
 * status, releasing it afterwards, as `run` does. */
int restore_container(const struct global_opts *g, const char *id, const struct restore_opts *o,
		      struct bw_error *err);

/* The first "Error (file:line): message" of a CRIU log that is not a helper child's "exited,
 * status=N" (else the first of those), as "message" (malloc'd), or NULL.
 * Pure, for the unit tests. */
char *checkpoint_criu_log_reason(const char *log_text);
