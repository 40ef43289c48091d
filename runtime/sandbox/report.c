/* Building the sandbox report. The agent's events.jsonl holds one line per denial key and
 * second, each with a count; lines are folded here by key, so the report lists each distinct
 * denial once with its total. */
#include "runtime/sandbox/report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/fs.h"
#include "common/util.h"

#define EVENTS_MAX_BYTES ((size_t)64 << 20)

/* A scalar of a denial line as it was (strings, integers, booleans; anything else: null). */
static void gen_scalar(yajl_gen g, yajl_val x)
{
	if (YAJL_IS_STRING(x))
		json_str(g, x->u.string);
	else if (YAJL_IS_INTEGER(x))
		yajl_gen_integer(g, YAJL_GET_INTEGER(x));
	else if (YAJL_IS_TRUE(x) || YAJL_IS_FALSE(x))
		yajl_gen_bool(g, YAJL_IS_TRUE(x));
	else
		yajl_gen_null(g);
}

/* Re-emit the members of a denial line that identify it (everything but time, count, event
 * and sandbox), in the line's order: the agent writes them in a fixed order. */
static char *denial_key(yajl_val v)
{
	yajl_gen g = json_gen_new(false);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		yajl_val x = v->u.object.values[i];
		if (strcmp(k, "time") == 0 || strcmp(k, "count") == 0 || strcmp(k, "event") == 0 ||
		    strcmp(k, "sandbox") == 0)
			continue;
		json_str(g, k);
		gen_scalar(g, x);
	}
	yajl_gen_map_close(g);
	return json_take(g, false, NULL);
}

int report_add_event_line(struct report *r, const char *line, size_t len)
{
	char ebuf[128];
	_cleanup_free_ char *text = xstrndup(line, len);
	yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (v == NULL || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return -1;
	}
	const char *ev_path[] = {"event", NULL}, *kind_path[] = {"kind", NULL},
		   *count_path[] = {"count", NULL};
	yajl_val ev = yajl_tree_get(v, ev_path, yajl_t_string);
	yajl_val kind = yajl_tree_get(v, kind_path, yajl_t_string);
	yajl_val cnt = yajl_tree_get(v, count_path, yajl_t_number);
	if (ev == NULL || strcmp(ev->u.string, "denied") != 0 || kind == NULL) {
		yajl_tree_free(v);
		return ev == NULL || kind == NULL ? -1 : 0;
	}
	uint64_t n = cnt != NULL && YAJL_IS_INTEGER(cnt) && YAJL_GET_INTEGER(cnt) > 0
			 ? (uint64_t)YAJL_GET_INTEGER(cnt)
			 : 1;
	char *key = denial_key(v);
	r->denials_total += n;
	for (size_t i = 0; i < r->n_denials; i++)
		if (strcmp(r->denials[i].key, key) == 0) {
			r->denials[i].count += n;
			free(key);
			yajl_tree_free(v);
			return 0;
		}
	if (r->n_denials >= REPORT_MAX_DENIALS) {
		r->denials_truncated = true;
		free(key);
		yajl_tree_free(v);
		return 0;
	}
	r->denials = xrealloc(r->denials, (r->n_denials + 1) * sizeof(*r->denials));
	r->denials[r->n_denials++] =
	    (struct report_denial){.kind = xstrdup(kind->u.string), .key = key, .count = n};
	yajl_tree_free(v);
	return 0;
}

void report_collect(struct report *r, struct container *c)
{
	struct bw_error e = {0};
	if (c->state.cgroup_path != NULL) {
		struct cg_manager *cg = NULL;
		if (cg_open(c->state.cgroup_path, c->id, &cg, &e) == 0 &&
		    cg_usage(cg, &r->usage, &e) == 0)
			r->usage_known = true;
		cg_free(cg);
	}
	_cleanup_close_ int fd =
	    openat(c->dirfd, "events.jsonl", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (fd < 0 || fs_read_fd(fd, EVENTS_MAX_BYTES, &text, &len, &e) < 0)
		return;
	for (char *p = text, *nl; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL)
			nl = text + len;
		if (nl > p)
			report_add_event_line(r, p, (size_t)(nl - p));
	}
}

#define S(s) json_str(g, (s))

static void gen_int_or_null(yajl_gen g, const char *k, bool known, int64_t v)
{
	S(k);
	if (known)
		yajl_gen_integer(g, (long long)v);
	else
		yajl_gen_null(g);
}

static void gen_outcome(yajl_gen g, const struct report *r)
{
	/* After a --timeout too: a command that handled the SIGTERM and exited in the grace
	 * period has its own status here (bulwark still exits 124). */
	bool exited = r->started && WIFEXITED(r->wait_status);
	bool signalled = r->started && WIFSIGNALED(r->wait_status);
	S("exit_code");
	yajl_gen_integer(g, r->exit_code);
	gen_int_or_null(g, "command_exit_code", exited, exited ? WEXITSTATUS(r->wait_status) : 0);
	S("signal");
	if (signalled) {
		const char *name = sigabbrev_np(WTERMSIG(r->wait_status));
		char buf[32];
		snprintf(buf, sizeof(buf), "SIG%s", name ? name : "UNKNOWN");
		S(buf);
	} else {
		yajl_gen_null(g);
	}
	S("timed_out");
	yajl_gen_bool(g, r->timed_out);
	S("rootless");
	yajl_gen_bool(g, geteuid() != 0);
	if (r->rootless_limits != NULL) {
		S("rootless_limits");
		S(r->rootless_limits);
	}
	S("oom_killed");
	yajl_gen_bool(g, r->usage_known && r->usage.oom_kills > 0);
	S("error");
	if (r->error != NULL)
		S(r->error);
	else
		yajl_gen_null(g);
}

static void gen_usage(yajl_gen g, const struct report *r)
{
	gen_int_or_null(g, "wall_time_ms", true, r->wall_ms);
	S("cpu_time_ms");
	if (r->usage_known) {
		yajl_gen_map_open(g);
		S("user");
		yajl_gen_integer(g, (long long)(r->usage.cpu_user_ns / 1000000));
		S("system");
		yajl_gen_integer(g, (long long)(r->usage.cpu_system_ns / 1000000));
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
	gen_int_or_null(g, "peak_memory_bytes", r->usage_known && r->usage.memory_peak > 0,
			(int64_t)r->usage.memory_peak);
	gen_int_or_null(g, "workspace_bytes_written", r->workspace_bytes >= 0, r->workspace_bytes);
}

/* A cgroup value; UINT64_MAX (no limit) and 0 (unreadable) are null. */
static void gen_limit(yajl_gen g, const char *k, bool known, uint64_t v)
{
	gen_int_or_null(g, k, known && v != UINT64_MAX && v != 0 && v <= INT64_MAX, (int64_t)v);
}

static void gen_cpu_budget(yajl_gen g, const struct report_budgets *b)
{
	const struct cg_budget *c = &b->cg;
	bool k = b->cg_known;
	S("cpu");
	yajl_gen_map_open(g);
	S("limit"); /* in CPUs */
	if (k && c->cpu_quota_us != UINT64_MAX && c->cpu_period_us > 0)
		yajl_gen_double(g, (double)c->cpu_quota_us / (double)c->cpu_period_us);
	else
		yajl_gen_null(g);
	gen_limit(g, "weight", k && c->cpu_v2, c->cpu_weight);
	gen_limit(g, "shares", k && !c->cpu_v2, c->cpu_shares);
	gen_int_or_null(g, "throttled_periods", k, (int64_t)c->cpu_throttled_periods);
	gen_int_or_null(g, "throttled_usec", k, (int64_t)c->cpu_throttled_us);
	S("hit");
	yajl_gen_bool(g, k && c->cpu_throttled_periods > 0);
	yajl_gen_map_close(g);
}

static void gen_cg_budgets(yajl_gen g, const struct report *r)
{
	const struct report_budgets *b = &r->budgets;
	const struct cg_budget *c = &b->cg;
	bool k = b->cg_known;
	gen_cpu_budget(g, b);
	S("memory");
	yajl_gen_map_open(g);
	gen_limit(g, "limit", k, c->memory_limit);
	gen_int_or_null(g, "peak", r->usage_known && r->usage.memory_peak > 0,
			(int64_t)r->usage.memory_peak);
	S("hit");
	yajl_gen_bool(g, (k && c->memory_max_events > 0) ||
			     (r->usage_known && r->usage.oom_kills > 0));
	gen_int_or_null(g, "oom_kills", r->usage_known, (int64_t)r->usage.oom_kills);
	yajl_gen_map_close(g);
	S("pids");
	yajl_gen_map_open(g);
	if (b->cgroup)
		gen_limit(g, "limit", k, c->pids_limit);
	else
		gen_int_or_null(g, "limit", b->nproc > 0, b->nproc);
	S("hit");
	if (b->cgroup)
		yajl_gen_bool(g, k && c->pids_max_events > 0);
	else
		yajl_gen_null(g); /* RLIMIT_NPROC's refusals are not counted anywhere */
	gen_int_or_null(g, "refused_forks", k, (int64_t)c->pids_max_events);
	yajl_gen_map_close(g);
}

static void gen_fs_budget(yajl_gen g, const char *name, const struct report_fs_budget *f)
{
	S(name);
	if (!f->known) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_map_open(g);
	gen_int_or_null(g, "limit", true, f->limit);
	gen_int_or_null(g, "used", true, f->used);
	gen_int_or_null(g, "files_limit", true, f->files_limit);
	gen_int_or_null(g, "files_used", true, f->files_used);
	S("hit");
	yajl_gen_bool(g, f->hit);
	yajl_gen_map_close(g);
}

/* What the sandbox could spend and what it spent (docs/report.md "budgets"); null when it
 * never started. */
static void gen_budgets(yajl_gen g, const struct report *r)
{
	static const char *const names[SCRATCH_N] = {"tmp", "var_tmp", "home", "workspace"};
	const struct report_budgets *b = &r->budgets;
	S("budgets");
	if (!b->known) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_map_open(g);
	gen_cg_budgets(g, r);
	int64_t used = 0;
	bool hit = false, known = false;
	for (int i = 0; i < SCRATCH_N; i++) {
		gen_fs_budget(g, names[i], &b->fs[i]);
		if (b->fs[i].known) {
			used += b->fs[i].used;
			hit |= b->fs[i].hit;
			known = true;
		}
	}
	S("disk");
	yajl_gen_map_open(g);
	gen_int_or_null(g, "limit", true, b->disk);
	gen_int_or_null(g, "used", known, used);
	S("hit");
	yajl_gen_bool(g, hit);
	yajl_gen_map_close(g);
	S("fsize");
	yajl_gen_map_open(g);
	gen_int_or_null(g, "limit", b->fsize > 0, b->fsize);
	gen_int_or_null(g, "written", b->written_known, b->written);
	S("hit"); /* seen when the command itself was killed by SIGXFSZ */
	yajl_gen_bool(g, r->started && WIFSIGNALED(r->wait_status) &&
			     WTERMSIG(r->wait_status) == SIGXFSZ);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void gen_denials(yajl_gen g, const struct report *r)
{
	S("denials");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n_denials; i++) {
		char ebuf[64];
		yajl_val v = yajl_tree_parse(r->denials[i].key, ebuf, sizeof(ebuf));
		yajl_gen_map_open(g);
		for (size_t j = 0; v != NULL && j < v->u.object.len; j++) {
			S(v->u.object.keys[j]);
			gen_scalar(g, v->u.object.values[j]);
		}
		S("count");
		yajl_gen_integer(g, (long long)r->denials[i].count);
		yajl_gen_map_close(g);
		yajl_tree_free(v);
	}
	yajl_gen_array_close(g);
	S("denials_total");
	yajl_gen_integer(g, (long long)r->denials_total);
	S("denials_truncated");
	yajl_gen_bool(g, r->denials_truncated);
	/* Which of the kernel's refusals could be collected at all (docs/report.md). */
	S("kernel_denials");
	yajl_gen_map_open(g);
	S("seccomp");
	S(r->kernel_seccomp[0] ? r->kernel_seccomp : "unavailable: the sandbox did not start");
	S("landlock");
	S(r->kernel_landlock[0] ? r->kernel_landlock : "unavailable: the sandbox did not start");
	yajl_gen_map_close(g);
}

static void gen_names(yajl_gen g, const char *k, const char *const *names)
{
	S(k);
	yajl_gen_array_open(g);
	for (size_t i = 0; names[i] != NULL; i++)
		S(names[i]);
	yajl_gen_array_close(g);
}

/* A session exec's document: what each value measures (docs/report.md, "scope"). Fixed:
 * session_exec_verb fills exactly these. */
static void gen_session_scope(yajl_gen g)
{
	static const char *const command[] = {
	    "exit_code",    "command_exit_code", "signal", "timed_out", "error",
	    "wall_time_ms", "budgets.fsize.hit", NULL};
	static const char *const during[] = {"cpu_time_ms",
					     "peak_memory_bytes",
					     "oom_killed",
					     "budgets.cpu.throttled_periods",
					     "budgets.cpu.throttled_usec",
					     "budgets.cpu.hit",
					     "budgets.memory.peak",
					     "budgets.memory.hit",
					     "budgets.memory.oom_kills",
					     "budgets.pids.hit",
					     "budgets.pids.refused_forks",
					     NULL};
	static const char *const session[] = {"budgets.cpu.limit",
					      "budgets.cpu.weight",
					      "budgets.cpu.shares",
					      "budgets.memory.limit",
					      "budgets.pids.limit",
					      "budgets.disk.limit",
					      NULL};
	static const char *const not_collected[] = {
	    "workspace_bytes_written", "budgets.tmp",
	    "budgets.var_tmp",	       "budgets.home",
	    "budgets.workspace",       "budgets.disk.used",
	    "budgets.disk.hit",	       "budgets.fsize.limit",
	    "budgets.fsize.written",   "denials",
	    "kernel_denials",	       NULL};
	S("scope");
	yajl_gen_map_open(g);
	gen_names(g, "command", command);
	gen_names(g, "session_during_command", during);
	gen_names(g, "session", session);
	gen_names(g, "not_collected", not_collected);
	yajl_gen_map_close(g);
}

char *report_render(const struct report *r)
{
	yajl_gen g = json_gen_new(false);
	yajl_gen_config(g, yajl_gen_beautify, 1); /* yajl's four-space indent */
	yajl_gen_map_open(g);
	S("version");
	yajl_gen_integer(g, REPORT_VERSION);
	S("sandbox");
	S(r->id);
	S("command");
	yajl_gen_array_open(g);
	for (size_t i = 0; r->command != NULL && r->command[i] != NULL; i++)
		S(r->command[i]);
	yajl_gen_array_close(g);
	/* What of the host the sandbox saw (docs/sandbox.md): "full" is the host's whole /. */
	S("host_view");
	if (r->host_view != NULL)
		S(r->host_view);
	else
		yajl_gen_null(g);
	gen_outcome(g, r);
	gen_usage(g, r);
	gen_budgets(g, r);
	gen_denials(g, r);
	if (r->session_exec)
		gen_session_scope(g);
	yajl_gen_map_close(g);
	return json_take(g, true, NULL);
}

static int write_all(int fd, const char *doc, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, doc + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* A regular file (or a new one) is replaced whole, atomically. A character device (/dev/null,
 * a terminal) or a pipe or FIFO of the caller's (/dev/stderr) is written to, as a shell
 * redirection would: renaming over it would replace a device node with a file. Opened without
 * blocking, so a FIFO nobody reads cannot hang the sandbox. */
/* dirfd < 0: path is the caller's own stream (followed); else name below dirfd, not a link. */
static int open_stream(int dirfd, const char *name, const char *path, struct report_target *t,
		       struct bw_error *err)
{
	struct stat st;
	int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	t->fd = dirfd < 0 ? open(path, flags) : openat(dirfd, name, flags | O_NOFOLLOW);
	if (t->fd < 0 || fstat(t->fd, &st) < 0)
		return bw_fail(err, errno, "--report `%s`", path);
	if (!S_ISCHR(st.st_mode) && !(S_ISFIFO(st.st_mode) && st.st_uid == geteuid()))
		return bw_fail(err, 0,
			       "--report `%s`: not a regular file, a character device or a pipe of "
			       "ours",
			       path);
	int fl = fcntl(t->fd, F_GETFL);
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return bw_fail(err, errno, "--report `%s`", path);
	return 0;
}

/* Proved before the command runs, by doing what the final write does (a new file in the
 * directory, then a rename over the name): a read-only file system, a directory we may not
 * write, or a sticky one holding someone else's file under that name would otherwise only be
 * found after the run, costing the command's exit status and the report. The probe file is
 * removed at once. */
static int probe_dir(struct report_target *t, const char *dir, struct bw_error *err)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)getpid();
	_cleanup_free_ char *probe = xasprintf(".%s.probe.%016" PRIx64, t->name, rnd);
	int fd = openat(t->dirfd, probe,
			O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "--report `%s`: cannot create a file in `%s`", t->path,
			       dir);
	close(fd);
	unlinkat(t->dirfd, probe, 0);
	struct stat d, f;
	if (fstat(t->dirfd, &d) == 0 && (d.st_mode & S_ISVTX) &&
	    fstatat(t->dirfd, t->name, &f, AT_SYMLINK_NOFOLLOW) == 0 && geteuid() != 0 &&
	    f.st_uid != geteuid() && d.st_uid != geteuid())
		return bw_fail(err, EPERM,
			       "--report `%s`: the file belongs to uid %u in a sticky directory",
			       t->path, (unsigned)f.st_uid);
	return 0;
}

int report_target_open(const char *path, struct report_target *t, struct bw_error *err)
{
	*t = (struct report_target){.path = path, .fd = -1, .dirfd = -1};
	struct stat st;
	if (strcmp(path, "-") == 0)
		return 0;
	/* The caller's own streams (/dev/stderr, /dev/fd/N) are links by nature; any other
	 * path goes through none: a link an earlier sandbox planted in its workspace would send
	 * the report into another directory or onto a device (a tty, /dev/watchdog). */
	if (fs_is_callers_stream(path))
		return open_stream(-1, NULL, path, t, err);
	_cleanup_free_ char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *dir = slash == NULL ? "." : slash == copy ? "/" : copy;
	const char *name = slash == NULL ? copy : slash + 1;
	if (slash != NULL)
		*slash = '\0';
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return bw_fail(err, 0, "--report `%s`: expected a file name", path);
	t->dirfd = fs_open_nolinks(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0 && errno == ELOOP)
		return bw_fail(err, 0,
			       "--report `%s`: directory `%s` goes through a symbolic link, which "
			       "bulwark does not follow; name the real path",
			       path, dir);
	if (t->dirfd < 0)
		return bw_fail(err, errno, "--report `%s`: directory `%s`", path, dir);
	t->name = xstrdup(name);
	/* A device or pipe named directly (not through a link) is written as a stream; a link
	 * as the file's own name is replaced by the final rename, never followed. */
	if (fstatat(t->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISLNK(st.st_mode)) {
		int dfd = t->dirfd;
		t->dirfd = -1;
		int r = open_stream(dfd, name, path, t, err);
		close(dfd);
		return r;
	}
	return probe_dir(t, dir, err);
}

void report_target_close(struct report_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->name);
	t->fd = t->dirfd = -1;
	t->name = NULL;
}

int report_write(const struct report *r, const struct report_target *t, struct bw_error *err)
{
	_cleanup_free_ char *doc = report_render(r);
	size_t len = strlen(doc);
	if (t->fd < 0 && t->dirfd < 0) {
		fflush(stdout);
		return write_all(STDOUT_FILENO, doc, len) < 0
			   ? bw_fail(err, errno, "--report -: write to stdout")
			   : 0;
	}
	if (t->fd >= 0)
		return write_all(t->fd, doc, len) < 0
			   ? bw_fail(err, errno, "--report `%s`", t->path)
			   : 0;
	/* Below the directory opened at the start: a link planted in the path meanwhile is not
	 * followed (and one planted as the file's name is replaced, as rename does). */
	return fs_write_atomic_at(t->dirfd, t->name, doc, len, 0644, err) < 0
		   ? bw_wrap(err, "--report `%s`", t->path)
		   : 0;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_denials; i++) {
		free(r->denials[i].kind);
		free(r->denials[i].key);
	}
	free(r->denials);
	free(r->error);
	r->denials = NULL;
	r->n_denials = 0;
}
