/* `sandbox --report`: what happened to one sandbox, as a JSON document with a stable, versioned
 * schema (docs/report.md): how the command ended, what it used, what it wrote in its workspace
 * and every denial the sandbox saw, aggregated with counts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroups/cgroup.h"
#include "common/error.h"
#include "runtime/container.h"

#define REPORT_VERSION 1
/* Distinct denials listed; the rest are only counted (denials_truncated). */
#define REPORT_MAX_DENIALS 1000

struct report_denial {
	char *kind; /* "dns", "packet", "syscall", "landlock", "other" */
	char *key;  /* the denial's identifying members as a canonical JSON object text */
	uint64_t count;
};

/* One scratch file system's budget: bytes and files, as statfs saw it when the sandbox ended. */
enum report_scratch { SCRATCH_TMP, SCRATCH_VAR_TMP, SCRATCH_HOME, SCRATCH_WORKSPACE, SCRATCH_N };
struct report_fs_budget {
	bool known;
	int64_t limit, used, files_limit, files_used;
	bool hit; /* no free block or no free file left */
};

/* What the sandbox could spend and what it spent (docs/report.md "budgets"). */
struct report_budgets {
	bool known;  /* the sandbox started */
	bool cgroup; /* cpu, memory and pids are a cgroup's; false: rootless without one */
	bool cg_known;
	struct cg_budget cg;
	int64_t nproc; /* rootless: RLIMIT_NPROC standing in for pids */
	struct report_fs_budget fs[SCRATCH_N];
	int64_t disk, fsize; /* --disk; RLIMIT_FSIZE (0: none) */
	/* bytes dirtied on disk-backed file systems by the processes pid 1 reaped (rw workspaces
	 * and binds): init_reaper.h */
	bool written_known;
	int64_t written;
};

struct report {
	const char *id;
	char *const *command;
	bool started;	 /* false: the command never ran (exit_code 125/126/127 from bulwark) */
	int wait_status; /* as waitpid(2) gives it */
	int exit_code;	 /* what `sandbox` itself exits with */
	bool timed_out;
	bool usage_known;
	struct cg_usage usage;
	int64_t wall_ms;
	int64_t workspace_bytes; /* -1: unknown / no writable workspace */
	const char *host_view; /* "minimal", "full", "rootfs"; NULL: not decided (an early error) */
	char *error;	       /* bulwark's own failure, if any */
	struct report_denial *denials;
	size_t n_denials;
	uint64_t denials_total;
	bool denials_truncated;
	/* Whether the kernel's refusals could be collected: "reported" or "unavailable: why";
	 * empty when the sandbox never got that far. */
	char kernel_seccomp[160], kernel_landlock[160];
	/* Rootless without a writable cgroup: what stands in for the default limits (NULL: the
	 * sandbox ran as root, or with its cgroup). */
	const char *rootless_limits;
	struct report_budgets budgets;
	/* `session exec --report`: the document also says which values are the command's, which
	 * the whole session's while it ran, which the session's settings and which are not
	 * collected ("scope", docs/report.md). */
	bool session_exec;
};

/* Before teardown: the container's cgroup usage and the agent's events.jsonl (the agent must
 * have been stopped so that its last counts are flushed). Best effort: what cannot be read is
 * reported as unknown. */
void report_collect(struct report *r, struct container *c);
/* Add one events.jsonl line (exported for the unit tests). Returns -1 on a malformed line. */
int report_add_event_line(struct report *r, const char *line, size_t len);
/* The JSON document (malloc'd, ends with a newline). */
char *report_render(const struct report *r);
/* Where --report goes, resolved once when the flag is read (the sandbox may write near it
 * meanwhile): stdout, a device or pipe opened at once, or a file name below its directory's fd,
 * replaced atomically at the end. */
struct report_target {
	const char *path; /* as given, for errors */
	int fd;		  /* a character device or a pipe of ours; else -1 */
	int dirfd;	  /* the file's directory (O_PATH); else -1 */
	char *name;	  /* the file's name in dirfd */
};
int report_target_open(const char *path, struct report_target *t, struct bw_error *err);
void report_target_close(struct report_target *t);
/* Write the report to t. */
int report_write(const struct report *r, const struct report_target *t, struct bw_error *err);
void report_free(struct report *r);
