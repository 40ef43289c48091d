/* What one `bulwark sandbox` may spend (issue 13 §3): the limit flags in, the spec's limits
 * out, and after the run each budget's use for the report. The cgroup (CPU, memory, tasks)
 * bounds the rates and totals the kernel accounts per cgroup; the tmpfs sizes bound the scratch
 * file systems, bytes and files; RLIMIT_FSIZE bounds each file written where no file system
 * bound applies (rw workspaces and binds, written in place on the host). */
#include "runtime/sandbox/sandbox_budget.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/container.h"
#include "runtime/sandbox/workspace.h"

void sandbox_limit_flags_free(struct sandbox_limit_flags *f)
{
	free(f->memory);
	free(f->cpus);
	free(f->pids);
	free(f->nofile);
	free(f->tmp_size);
	free(f->home_size);
	free(f->disk);
	free(f->max_file_size);
}

static int parse_min_size(const char *flag, const char *s, int64_t min, const char *what,
			  int64_t *out, struct bw_error *err)
{
	if (parse_size(s, out) < 0 || *out < min)
		return bw_fail(
		    err, 0, "%s: expected a size of at least %s such as 256m or 1GiB, got \"%s\"",
		    flag, what, s);
	return 0;
}

static int apply_memory(const struct sandbox_limit_flags *f, struct specgen *sg,
			struct bw_error *err)
{
	int64_t v;
	sg->memory_limit = 1LL << 30;
	if (f->memory == NULL)
		return 0;
	if (strcmp(f->memory, "max") == 0)
		sg->memory_limit = 0;
	else if (parse_size(f->memory, &v) < 0 || v < (4LL << 20))
		return bw_fail(
		    err, 0,
		    "--memory: expected a size of at least 4MiB (e.g. 512m, 2GiB) or max, "
		    "got \"%s\"",
		    f->memory);
	else
		sg->memory_limit = v;
	return 0;
}

/* --cpus N (or max: no quota); by default all but one online CPU, none on a one-CPU host. The
 * weight is lowered whatever the quota: under contention the host's own services come first.
 * On a cgroup v2 host cpu.weight is set as such (the shares conversion would give 20, not 50). */
static int apply_cpu(const struct sandbox_limit_flags *f, struct specgen *sg, struct bw_error *err)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	double c = online > 1 ? (double)(online - 1) : 0;
	if (f->cpus != NULL && strcmp(f->cpus, "max") == 0) {
		c = 0;
	} else if (f->cpus != NULL) {
		char *end;
		c = strtod(f->cpus, &end);
		if (end == f->cpus || *end != '\0' || !(c >= 0.01 && c <= 1024))
			return bw_fail(
			    err, 0,
			    "--cpus: expected a number of CPUs such as 0.5 or 2, or max, "
			    "got \"%s\"",
			    f->cpus);
		if (online > 0 && c > (double)online)
			return bw_fail(err, 0, "--cpus: %s is more than the host's %ld online CPUs",
				       f->cpus, online);
	}
	if (c > 0) {
		sg->cpu_period = 100000;
		sg->cpu_quota = (int64_t)(c * 100000);
	}
	sg->cpu_shares = SANDBOX_CPU_SHARES;
	sg->cpu_weight = cg_detect_mode() == CG_MODE_UNIFIED ? SANDBOX_CPU_WEIGHT : 0;
	return 0;
}

static int apply_tasks(const struct sandbox_limit_flags *f, struct specgen *sg,
		       struct bw_error *err)
{
	int64_t v;
	if (f->pids != NULL && (parse_i64(f->pids, &v) < 0 || v < 1))
		return bw_fail(err, 0, "--pids: expected a positive number of tasks, got \"%s\"",
			       f->pids);
	if (f->pids != NULL)
		sg->pids_limit = v;
	if (f->nofile != NULL && (parse_i64(f->nofile, &v) < 0 || v < 16 || v > 1048576))
		return bw_fail(err, 0, "--nofile: expected 16 to 1048576 open files, got \"%s\"",
			       f->nofile);
	if (f->nofile != NULL)
		sg->nofile = (uint64_t)v;
	return 0;
}

/* One scratch tmpfs's size: the flag's (refused above --disk), else min(default, --disk). */
static int scratch_size(const char *flag, const char *s, int64_t def, int64_t disk, int64_t *out,
			struct bw_error *err)
{
	*out = def < disk ? def : disk;
	if (s == NULL)
		return 0;
	if (parse_min_size(flag, s, 4096, "4KiB", out, err) < 0)
		return -1;
	if (*out > disk)
		return bw_fail(err, 0,
			       "%s: %s is more than --disk (%" PRId64
			       " bytes), which bounds every scratch file system; raise --disk too",
			       flag, s, disk);
	return 0;
}

/* --disk bounds each file system the sandbox can fill (bytes, and one file per 4 KiB);
 * --max-file-size (default --disk; max: none) each file it writes, rw workspaces included. */
static int apply_disk(const struct sandbox_limit_flags *f, struct specgen *sg,
		      struct sandbox_budget *b, struct bw_error *err)
{
	b->disk = SANDBOX_DISK_DEFAULT;
	if (f->disk != NULL &&
	    parse_min_size("--disk", f->disk, 1LL << 20, "1MiB", &b->disk, err) < 0)
		return -1;
	if (scratch_size("--tmp-size", f->tmp_size, SANDBOX_TMP_DEFAULT, b->disk, &b->tmp, err) <
		0 ||
	    scratch_size("--home-size", f->home_size, SANDBOX_HOME_DEFAULT, b->disk, &b->home,
			 err) < 0)
		return -1;
	b->scratch =
	    sg->memory_limit > 0 && sg->memory_limit < b->disk ? sg->memory_limit : b->disk;
	b->fsize = b->disk;
	/* The caller's own lower limit (ulimit -f) stays: the default never raises it. */
	struct rlimit own;
	if (f->max_file_size == NULL && getrlimit(RLIMIT_FSIZE, &own) == 0 &&
	    own.rlim_cur != RLIM_INFINITY && (int64_t)own.rlim_cur < b->fsize)
		b->fsize = own.rlim_cur > 0 ? (int64_t)own.rlim_cur : 1;
	if (f->max_file_size != NULL && strcmp(f->max_file_size, "max") == 0)
		b->fsize = 0;
	else if (f->max_file_size != NULL &&
		 (parse_size(f->max_file_size, &b->fsize) < 0 || b->fsize < 4096))
		return bw_fail(err, 0,
			       "--max-file-size: expected a size of at least 4KiB such as 256m or "
			       "1GiB, or max, got \"%s\"",
			       f->max_file_size);
	sg->tmp_bytes = b->tmp;
	sg->home_bytes = b->home;
	sg->fsize = (uint64_t)b->fsize;
	return 0;
}

int sandbox_budget_apply(const struct sandbox_limit_flags *f, struct specgen *sg,
			 struct sandbox_budget *b, struct bw_error *err)
{
	for (int i = 0; i < SCRATCH_N; i++)
		b->fds[i] = -1;
	b->cgroup = true;
	if (apply_memory(f, sg, err) < 0 || apply_cpu(f, sg, err) < 0 ||
	    apply_tasks(f, sg, err) < 0 || apply_disk(f, sg, b, err) < 0)
		return -1;
	return 0;
}

void sandbox_budget_no_cgroup(struct specgen *sg, struct sandbox_budget *b)
{
	sg->memory_limit = 0;
	sg->cpu_quota = sg->cpu_period = 0;
	sg->cpu_shares = sg->cpu_weight = 0;
	b->cgroup = false;
}

void sandbox_budget_hold(struct sandbox_budget *b, pid_t init_pid, const char *home)
{
	const char *where[SCRATCH_N] = {"/tmp", "/var/tmp", home, NULL};
	char path[40];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)init_pid);
	_cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < SCRATCH_N && root >= 0; i++) {
		struct bw_error e = {0};
		struct statfs sf;
		if (where[i] == NULL)
			continue;
		/* Symlinks are resolved inside the sandbox's root, never out of it. */
		_cleanup_close_ int fd =
		    fs_open_in_root(root, where[i], O_PATH | O_DIRECTORY, 0, &e);
		if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
			b->fds[i] = steal_fd(&fd);
	}
}

static void fs_budget(int fd, struct report_fs_budget *out)
{
	struct statfs sf;
	if (fd < 0 || fstatfs(fd, &sf) < 0)
		return;
	int64_t bs = (int64_t)sf.f_bsize;
	out->known = true;
	out->limit = (int64_t)sf.f_blocks * bs;
	out->used = (int64_t)(sf.f_blocks - sf.f_bfree) * bs;
	out->files_limit = (int64_t)sf.f_files;
	out->files_used = (int64_t)(sf.f_files - sf.f_ffree);
	out->hit = sf.f_bfree == 0 || sf.f_ffree == 0;
}

void sandbox_budget_collect(struct sandbox_budget *b, struct container *c, struct report *r)
{
	struct report_budgets *rb = &r->budgets;
	struct bw_error e = {0};
	rb->known = true;
	rb->cgroup = b->cgroup;
	rb->disk = b->disk;
	rb->fsize = b->fsize;
	rb->nproc = b->nproc;
	for (int i = 0; i < SCRATCH_N; i++)
		fs_budget(b->fds[i], &rb->fs[i]);
	sandbox_budget_release(b);
	if (!b->cgroup || c->state.cgroup_path == NULL)
		return;
	struct cg_manager *cg = NULL;
	if (cg_open(c->state.cgroup_path, c->id, &cg, &e) == 0 && cg_budget(cg, &rb->cg) == 0)
		rb->cg_known = true;
	cg_free(cg);
}

void sandbox_budget_workspaces(const struct workspace_set *ws, struct report *r)
{
	struct report_fs_budget *out = &r->budgets.fs[SCRATCH_WORKSPACE];
	for (size_t i = 0; i < ws->n; i++) {
		struct report_fs_budget one = {0};
		if (ws->v[i].mode != WORKSPACE_OVERLAY)
			continue;
		fs_budget(ws->v[i].scratch_fd, &one);
		if (!one.known)
			continue;
		out->known = true;
		out->limit += one.limit;
		out->used += one.used;
		out->files_limit += one.files_limit;
		out->files_used += one.files_used;
		out->hit |= one.hit;
	}
}

void sandbox_budget_release(struct sandbox_budget *b)
{
	for (int i = 0; i < SCRATCH_N; i++)
		if (b->fds[i] >= 0) {
			close(b->fds[i]);
			b->fds[i] = -1;
		}
}
