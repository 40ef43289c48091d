/* What one `bulwark sandbox` may spend (issue 13 §3): the limit flags turned into the spec's
 * cgroup limits, tmpfs sizes and rlimits, and, once the sandbox ran, how much of each budget
 * it used, for the report. docs/security.md has the table of what bounds what. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/specgen.h"

struct workspace_set;

/* The flags as given (NULL: the default). */
struct sandbox_limit_flags {
	char *memory, *cpus, *pids, *nofile, *tmp_size, *home_size, *disk, *max_file_size;
};
void sandbox_limit_flags_free(struct sandbox_limit_flags *f);

#define SANDBOX_DISK_DEFAULT (1LL << 30)
#define SANDBOX_TMP_DEFAULT (256LL << 20)
#define SANDBOX_HOME_DEFAULT (64LL << 20)
/* The default CPU weight, below the host's services' (v1 cpu.shares 1024, v2 cpu.weight 100). */
#define SANDBOX_CPU_SHARES 512
#define SANDBOX_CPU_WEIGHT 50

struct sandbox_budget {
	int64_t disk;	    /* --disk: the cap of every scratch file system */
	int64_t tmp, home;  /* each /tmp and /var/tmp tmpfs, HOME's */
	int64_t scratch;    /* each overlay workspace's upper layer (tmpfs) */
	int64_t fsize;	    /* RLIMIT_FSIZE (0: none) */
	int64_t nproc;	    /* rootless: RLIMIT_NPROC, standing in for the task cgroup */
	bool cgroup;	    /* the limits are a cgroup's (false: rootless without one) */
	int fds[SCRATCH_N]; /* O_PATH fds of the sandbox's tmpfs mounts, from create on; -1 */
};

/* Check the limit flags and put them in the spec: memory, tasks, open files, CPU (by default
 * all but one online CPU and a weight below the host's), the tmpfs sizes (each at most --disk;
 * a size given above --disk is refused) with one file per 4 KiB, and RLIMIT_FSIZE (default
 * --disk). Every bad value is one line naming the flag. */
int sandbox_budget_apply(const struct sandbox_limit_flags *f, struct specgen *sg,
			 struct sandbox_budget *b, struct bw_error *err);
/* Without a writable cgroup: no CPU, memory or task cgroup limit (the caller sets what stands
 * in); the disk and file-size budgets stay. */
void sandbox_budget_no_cgroup(struct specgen *sg, struct sandbox_budget *b);
/* After create, before start (no code of the sandbox has run yet): hold the sandbox's /tmp,
 * /var/tmp and HOME tmpfs mounts by O_PATH fds opened through /proc/PID/root, so that their use
 * can be read after the sandbox ended, whatever way it ended. Best effort: a mount that is not
 * a tmpfs where expected is not held (its use is reported unknown). */
void sandbox_budget_hold(struct sandbox_budget *b, pid_t init_pid, const char *home);
/* Before teardown: the cgroup's limits and events and the held tmpfs mounts' use into
 * r->budgets; releases the held mounts. */
void sandbox_budget_collect(struct sandbox_budget *b, struct container *c, struct report *r);
/* After the run, before workspace_release: the overlay upper layers' use. */
void sandbox_budget_workspaces(const struct workspace_set *ws, struct report *r);
void sandbox_budget_release(struct sandbox_budget *b);
