/* Container lifecycle shared by the verbs: create, start, wait, signal and tear down. `run` and
 * `sandbox` are compositions of these. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "cgroups/cgroup.h"
#include "oci/spec.h"
#include "runtime/cli/cli.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/stdio_guard.h"

struct hostpath_list;

struct create_opts {
	const char *id;
	const char *bundle; /* NULL: cwd */
	const char *config; /* NULL: config.json; relative: to the bundle (crun's --config) */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	bool keep_master;	 /* run -t without a console socket */
	struct oci_spec *spec;	 /* preloaded (sandbox), else read from the bundle */
	const char *config_json; /* raw text of spec when preloaded */
	pid_t owner;		 /* sandbox: release the container when this process dies */
	const char *remove_file; /* a file of the caller's to delete with the container */
	const char *id_slot;  /* sandbox: its id range's slot file (idpool.h), released at delete */
	bool allow_host_root; /* sandbox: root.path may be the host's "/" (mounted read-only) */
	/* sandbox's minimal host view: the root is a fresh tmpfs attached over root.path in the
	 * container's own mount namespace, with these top-level symlinks ("name", "target"...) */
	bool root_tmpfs;
	char *const *root_links;
	/* sandbox: every mount below root.path (a host view, --rootfs) read-only, nosuid and
	 * nodev, not only the top one (rootfs_ctx.root_sealed) */
	bool root_sealed;
	/* sandbox: the host id (uid and gid) that owns its user namespace (idpool_owner), 0: root
	 */
	uint32_t ns_owner;
	/* sandbox: host paths it resolved itself (root, binds); trusted over a new lookup */
	const struct hostpath_list *known;
	/* Non-NULL: the caller's terminal is kept from a process without process.terminal
	 * (stdio_guard.h): by pipes the caller relays when stdio_relay, else by /dev/null. */
	struct stdio_guard *stdio;
	bool stdio_relay;
	int64_t lifetime_ms; /* sandbox: the watchdog's deadline too (0: the config's) */
	bool session;	     /* with owner: pid 1 runs no payload (init_reaper_hold) */
};

/* The flags `create` and `run` share (their table is filled by create_flag_table). */
struct create_flags {
	char *bundle, *pid_file, *console, *config;
	bool no_pivot, no_new_keyring;
	int preserve;
};
#define CREATE_FLAG_COUNT 7
void create_flag_table(struct create_flags *f, struct cli_opt opts[CREATE_FLAG_COUNT]);
void create_flags_free(struct create_flags *f);
/* The create_opts that create and run fill from their shared flags, with the stdio guard
 * (stdio_guard.h) the caller owns. */
struct create_opts create_opts_from_flags(const struct create_flags *f, const char *id,
					  struct stdio_guard *stdio);

struct created {
	struct container *c;
	pid_t pid;
	int pidfd;  /* valid in the creating process */
	int master; /* keep_master */
	/* owner (sandbox): the read end the payload's wait status comes through, else -1 */
	int status_fd;
};

int lifecycle_create(const struct global_opts *g, const struct create_opts *o, struct created *out,
		     struct bw_error *err);
/* A new container's state from its spec: version, bundle, rootfs, creation time, cgroup, pid
 * namespace and annotations (create and restore). */
void lifecycle_fill_state(struct container *c, const struct oci_spec *spec, const char *bundle,
			  const char *rootfs, const char *cgroup_path);
struct notify_relay;
/* Release the init blocked on exec.fifo; runs poststart hooks. With NOTIFY_SOCKET (notify.h)
 * and relay NULL it first waits, bounded, for the container's READY=1; with relay non-NULL the
 * caller gets the relay (or NULL) to run while it waits for the container itself. */
int lifecycle_start(struct container *c, struct notify_relay **relay, struct bw_error *err);
/* Send sig to the init through pidfd; one the init would drop for want of a handler waits
 * briefly for it (a signal right after start). */
int lifecycle_kill_init(struct container *c, int pidfd, int sig, struct bw_error *err);
/* Kill what remains, run poststop hooks, remove cgroup and state. Idempotent. */
int lifecycle_teardown(struct container *c, struct bw_error *err);
/* Wait for pid (our child) forwarding signals, or relaying io (NULL: nothing); returns the
 * shell-style exit status (code, or 128+signal). With timeout_ms > 0 the init is killed at the
 * deadline (and with it its whole pid namespace), *timed_out is set and 124 returned, as
 * timeout(1). */
int lifecycle_wait(pid_t pid, int pidfd, const struct console_io *io, int64_t timeout_ms,
		   bool *timed_out, struct bw_error *err);
/* The same, also giving the wait status as waitpid(2) reported it. With kill_after_ms > 0 the
 * init gets SIGTERM at the deadline (it passes it to the command) and SIGKILL kill_after_ms
 * later, as timeout -k; ending in between is a timeout too (124). */
int lifecycle_wait_raw(pid_t pid, int pidfd, const struct console_io *io, int64_t timeout_ms,
		       int64_t kill_after_ms, bool *timed_out, int *raw_status,
		       struct bw_error *err);
/* The audit log of a container: --audit (g may be NULL), else the one recorded at create, else
 * NULL. */
const char *lifecycle_audit_path(const struct global_opts *g, const struct container *c);
/* The "exited" audit event (run, sandbox: the processes that see the exit status). */
void lifecycle_audit_exit(const struct global_opts *g, const struct container *c, int status,
			  bool timed_out);
/* cg_open of a container's cgroup at path, with its systemd scope attached when it was made
 * with --systemd-cgroup (for cg_update and cg_destroy). */
int lifecycle_cgroup_open(struct container *c, const char *path, struct cg_manager **out,
			  struct bw_error *err);
/* Load the container's own copy of config.json. */
int lifecycle_load_spec(struct container *c, struct oci_spec **spec, struct bw_error *err);
