/* Usage statistics in the shape of runc's `events --stats` "data" object, read from whichever
 * hierarchy serves each controller (v1 or v2 files), and the OOM-kill counter. Best effort per
 * value: a file the kernel does not have reads as 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/util.h"

static uint64_t rd(const char *dir, const char *file)
{
	struct bw_error e = {0};
	uint64_t v = 0;
	if (dir == NULL || cg_read_u64(dir, file, &v, &e) < 0)
		return 0;
	return v;
}

static uint64_t rk(const char *dir, const char *file, const char *key)
{
	struct bw_error e = {0};
	uint64_t v = 0;
	if (dir == NULL || cg_read_keyed(dir, file, key, &v, &e) < 0)
		return 0;
	return v;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static const char *dir_of(struct cg_manager *cg, enum cg_ctrl c, bool *v2)
{
	struct cg_hier *h = cg_hier_for(cg, c);
	*v2 = h != NULL && h->m.v2;
	return h == NULL ? NULL : h->dir;
}

static void write_percpu(FILE *f, const char *dir)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error e = {0};
	fputs("[", f);
	if (dir != NULL && cg_read(dir, "cpuacct.usage_percpu", &s, &e) == 0) {
		char *save = NULL;
		bool first = true;
		for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			uint64_t v;
			if (parse_u64(t, &v) == 0) {
				fprintf(f, "%s%" PRIu64, first ? "" : ",", v);
				first = false;
			}
		}
	}
	fputs("]", f);
}

static void write_cpu(struct cg_manager *cg, FILE *f)
{
	bool v2, cv2;
	const char *acct = dir_of(cg, CG_CPUACCT, &v2);
	const char *cpu = dir_of(cg, CG_CPU, &cv2);
	uint64_t total, user, kernel;
	if (v2) {
		total = rk(acct, "cpu.stat", "usage_usec") * 1000;
		user = rk(acct, "cpu.stat", "user_usec") * 1000;
		kernel = rk(acct, "cpu.stat", "system_usec") * 1000;
	} else {
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t tick = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
		total = rd(acct, "cpuacct.usage");
		user = rk(acct, "cpuacct.stat", "user") * tick;
		kernel = rk(acct, "cpuacct.stat", "system") * tick;
	}
	fprintf(f, "\"cpu\":{\"usage\":{\"total\":%" PRIu64 ",\"percpu\":", total);
	write_percpu(f, v2 ? NULL : acct);
	fprintf(f, ",\"kernel\":%" PRIu64 ",\"user\":%" PRIu64 "},", kernel, user);
	const char *sd = cpu != NULL ? cpu : acct;
	bool sv2 = cpu != NULL ? cv2 : v2;
	uint64_t ttime = sv2 ? rk(sd, "cpu.stat", "throttled_usec") * 1000
			     : rk(sd, "cpu.stat", "throttled_time");
	fprintf(f,
		"\"throttling\":{\"periods\":%" PRIu64 ",\"throttledPeriods\":%" PRIu64
		",\"throttledTime\":%" PRIu64 "}}",
		rk(sd, "cpu.stat", "nr_periods"), rk(sd, "cpu.stat", "nr_throttled"), ttime);
}

static void write_entry(FILE *f, const char *name, uint64_t limit, uint64_t usage, uint64_t max,
			uint64_t failcnt)
{
	fprintf(f,
		"\"%s\":{\"limit\":%" PRIu64 ",\"usage\":%" PRIu64 ",\"max\":%" PRIu64
		",\"failcnt\":%" PRIu64 "}",
		name, limit, usage, max, failcnt);
}

/* memory.stat as {"key":value,...}, as runc's "raw"; only plain identifier keys are copied.
 * Nothing else: OOM kills are the stream's own {"type":"oom"} lines, and a stats line that
 * said "oom" before any kill fooled readers that watch the stream for that word (runc's
 * `events oom` test deleted the container before its hog was killed). */
static void write_raw(FILE *f, const char *dir, uint64_t *cache, const char *cache_key)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error e = {0};
	bool first = true;
	fputs("\"raw\":{", f);
	if (dir != NULL && cg_read(dir, "memory.stat", &s, &e) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(l, ' ');
			uint64_t v;
			if (sp == NULL)
				continue;
			*sp = '\0';
			if (l[0] == '\0' || l[strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789_")] ||
			    parse_u64(sp + 1, &v) < 0)
				continue;
			if (strcmp(l, cache_key) == 0)
				*cache = v;
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", l, v);
			first = false;
		}
	}
	fputs("}", f);
}

static void write_memory(struct cg_manager *cg, FILE *f)
{
	bool v2;
	const char *d = dir_of(cg, CG_MEMORY, &v2);
	uint64_t cache = 0;
	fputs("\"memory\":{", f);
	if (v2) {
		uint64_t cur = rd(d, "memory.current"), lim = rd(d, "memory.max");
		write_entry(f, "usage", lim, cur, rd(d, "memory.peak"),
			    rk(d, "memory.events", "max"));
		fputs(",", f);
		/* Like v1's memsw: swap figures include memory. */
		write_entry(f, "swap", sat_add(rd(d, "memory.swap.max"), lim),
			    cur + rd(d, "memory.swap.current"), 0,
			    rk(d, "memory.swap.events", "max"));
		fputs(",", f);
		write_raw(f, d, &cache, "file");
	} else {
		write_entry(f, "usage", rd(d, "memory.limit_in_bytes"),
			    rd(d, "memory.usage_in_bytes"), rd(d, "memory.max_usage_in_bytes"),
			    rd(d, "memory.failcnt"));
		fputs(",", f);
		write_entry(f, "swap", rd(d, "memory.memsw.limit_in_bytes"),
			    rd(d, "memory.memsw.usage_in_bytes"),
			    rd(d, "memory.memsw.max_usage_in_bytes"),
			    rd(d, "memory.memsw.failcnt"));
		fputs(",", f);
		write_entry(f, "kernel", rd(d, "memory.kmem.limit_in_bytes"),
			    rd(d, "memory.kmem.usage_in_bytes"),
			    rd(d, "memory.kmem.max_usage_in_bytes"), rd(d, "memory.kmem.failcnt"));
		fputs(",", f);
		write_raw(f, d, &cache, "cache");
	}
	fprintf(f, ",\"cache\":%" PRIu64 "}", cache);
}

static void write_pids(struct cg_manager *cg, FILE *f)
{
	bool v2;
	const char *d = dir_of(cg, CG_PIDS, &v2);
	uint64_t lim = rd(d, "pids.max");
	fprintf(f, "\"pids\":{\"current\":%" PRIu64 ",\"limit\":%" PRIu64 "}",
		rd(d, "pids.current"), lim == UINT64_MAX ? 0 : lim);
}

static void blk_entry(FILE *f, bool *first, unsigned maj, unsigned min, const char *op, uint64_t v)
{
	fprintf(f, "%s{\"major\":%u,\"minor\":%u,\"op\":\"%s\",\"value\":%" PRIu64 "}",
		*first ? "" : ",", maj, min, op, v);
	*first = false;
}

/* v1: "8:0 Read 4096" lines; v2: "8:0 rbytes=.. wbytes=.. rios=.. wios=.." lines. */
static void write_blk_list(FILE *f, const char *name, const char *dir, bool v2, const char *v1file,
			   const char *rkey, const char *wkey)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error e = {0};
	bool first = true;
	fprintf(f, "\"%s\":[", name);
	if (dir != NULL && cg_read(dir, v2 ? "io.stat" : v1file, &s, &e) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			unsigned maj, min;
			char op[16];
			uint64_t v;
			if (!v2 && sscanf(l, "%u:%u %15s %" SCNu64, &maj, &min, op, &v) == 4) {
				blk_entry(f, &first, maj, min, op, v);
			} else if (v2 && sscanf(l, "%u:%u", &maj, &min) == 2) {
				char *r = strstr(l, rkey), *w = strstr(l, wkey);
				if (r != NULL)
					blk_entry(f, &first, maj, min, "Read",
						  strtoull(r + strlen(rkey), NULL, 10));
				if (w != NULL)
					blk_entry(f, &first, maj, min, "Write",
						  strtoull(w + strlen(wkey), NULL, 10));
			}
		}
	}
	fputs("]", f);
}

static void write_blkio(struct cg_manager *cg, FILE *f)
{
	bool v2;
	const char *d = dir_of(cg, CG_BLKIO, &v2);
	fputs("\"blkio\":{", f);
	write_blk_list(f, "ioServiceBytesRecursive", d, v2,
		       "blkio.throttle.io_service_bytes_recursive", " rbytes=", " wbytes=");
	fputs(",", f);
	write_blk_list(f, "ioServicedRecursive", d, v2, "blkio.throttle.io_serviced_recursive",
		       " rios=", " wios=");
	fputs("}", f);
}

/* hugepages-2048kB -> "2MB" (the cgroup file names' unit). */
static bool hugepage_name(const char *dname, char out[static 32])
{
	unsigned long kb;
	if (sscanf(dname, "hugepages-%lukB", &kb) != 1 || kb == 0)
		return false;
	if (kb % (1024 * 1024) == 0)
		snprintf(out, 32, "%luGB", kb / (1024 * 1024));
	else if (kb % 1024 == 0)
		snprintf(out, 32, "%luMB", kb / 1024);
	else
		snprintf(out, 32, "%luKB", kb);
	return true;
}

static void write_hugetlb(struct cg_manager *cg, FILE *f)
{
	bool v2, first = true;
	const char *d = dir_of(cg, CG_HUGETLB, &v2);
	DIR *dd = d == NULL ? NULL : opendir("/sys/kernel/mm/hugepages");
	fputs("\"hugetlb\":{", f);
	for (struct dirent *de; dd != NULL && (de = readdir(dd)) != NULL;) {
		char sz[32];
		if (!hugepage_name(de->d_name, sz))
			continue;
		_cleanup_free_ char *u =
		    xasprintf("hugetlb.%s.%s", sz, v2 ? "current" : "usage_in_bytes");
		_cleanup_free_ char *m = xasprintf("hugetlb.%s.max_usage_in_bytes", sz);
		_cleanup_free_ char *fc = xasprintf("hugetlb.%s.%s", sz, v2 ? "events" : "failcnt");
		uint64_t failcnt = v2 ? rk(d, fc, "max") : rd(d, fc);
		fprintf(f,
			"%s\"%s\":{\"usage\":%" PRIu64 ",\"max\":%" PRIu64 ",\"failcnt\":%" PRIu64
			"}",
			first ? "" : ",", sz, rd(d, u), v2 ? 0 : rd(d, m), failcnt);
		first = false;
	}
	if (dd != NULL)
		closedir(dd);
	fputs("}", f);
}

int cg_stats_write(struct cg_manager *cg, FILE *f, struct bw_error *err)
{
	fputs("{", f);
	write_cpu(cg, f);
	fputs(",", f);
	write_memory(cg, f);
	fputs(",", f);
	write_pids(cg, f);
	fputs(",", f);
	write_blkio(cg, f);
	fputs(",", f);
	write_hugetlb(cg, f);
	fputs("}", f);
	return 0;
}

int cg_stats_json(struct cg_manager *cg, char **json, struct bw_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return bw_fail(err, errno, "open_memstream");
	cg_stats_write(cg, f, err);
	if (fclose(f) != 0) {
		free(buf);
		return bw_fail(err, errno, "build the stats JSON");
	}
	*json = buf;
	return 0;
}

int cg_oom_kills(struct cg_manager *cg, uint64_t *count, struct bw_error *err)
{
	bool v2;
	const char *d = dir_of(cg, CG_MEMORY, &v2);
	*count = 0;
	if (d == NULL)
		return 0;
	if (cg_read_keyed(d, v2 ? "memory.events" : "memory.oom_control", "oom_kill", count, err) <
	    0)
		return bw_wrap(err, "read the OOM kill count of `%s`", cg->path);
	return 0;
}

int cg_usage(struct cg_manager *cg, struct cg_usage *u, struct bw_error *err)
{
	bool v2, mv2;
	const char *acct = dir_of(cg, CG_CPUACCT, &v2);
	const char *mem = dir_of(cg, CG_MEMORY, &mv2);
	memset(u, 0, sizeof(*u));
	if (v2) {
		u->cpu_user_ns = rk(acct, "cpu.stat", "user_usec") * 1000;
		u->cpu_system_ns = rk(acct, "cpu.stat", "system_usec") * 1000;
	} else {
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t tick = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
		u->cpu_user_ns = rk(acct, "cpuacct.stat", "user") * tick;
		u->cpu_system_ns = rk(acct, "cpuacct.stat", "system") * tick;
	}
	/* memory.peak exists from Linux 5.19; v1 has always had the high-water mark. */
	u->memory_peak = rd(mem, mv2 ? "memory.peak" : "memory.max_usage_in_bytes");
	return cg_oom_kills(cg, &u->oom_kills, err);
}

/* "QUOTA PERIOD" or "max PERIOD" (v2 cpu.max). */
static void read_cpu_max(const char *dir, struct cg_budget *b)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error e = {0};
	if (dir == NULL || cg_read(dir, "cpu.max", &s, &e) < 0)
		return;
	char *sp = strchr(s, ' ');
	if (sp == NULL)
		return;
	*sp = '\0';
	if (strcmp(s, "max") != 0 && parse_u64(s, &b->cpu_quota_us) < 0)
		b->cpu_quota_us = UINT64_MAX;
	if (parse_u64(sp + 1, &b->cpu_period_us) < 0)
		b->cpu_period_us = 0;
}

static void read_cpu_budget(struct cg_manager *cg, struct cg_budget *b)
{
	bool v2;
	const char *d = dir_of(cg, CG_CPU, &v2);
	b->cpu_v2 = v2;
	b->cpu_quota_us = UINT64_MAX;
	if (d == NULL)
		return;
	if (v2) {
		read_cpu_max(d, b);
		b->cpu_weight = rd(d, "cpu.weight");
		b->cpu_throttled_us = rk(d, "cpu.stat", "throttled_usec");
	} else {
		b->cpu_quota_us = rd(d, "cpu.cfs_quota_us"); /* -1 reads as UINT64_MAX */
		b->cpu_period_us = rd(d, "cpu.cfs_period_us");
		b->cpu_shares = rd(d, "cpu.shares");
		b->cpu_throttled_us = rk(d, "cpu.stat", "throttled_time") / 1000;
	}
	b->cpu_throttled_periods = rk(d, "cpu.stat", "nr_throttled");
}

int cg_budget(struct cg_manager *cg, struct cg_budget *b)
{
	bool v2;
	memset(b, 0, sizeof(*b));
	read_cpu_budget(cg, b);
	const char *mem = dir_of(cg, CG_MEMORY, &v2);
	b->memory_limit = UINT64_MAX;
	if (mem != NULL) {
		b->memory_limit = rd(mem, v2 ? "memory.max" : "memory.limit_in_bytes");
		/* v1's "no limit" is the largest page-aligned number. */
		if (!v2 && b->memory_limit >= (UINT64_MAX >> 2))
			b->memory_limit = UINT64_MAX;
		b->memory_max_events =
		    v2 ? rk(mem, "memory.events", "max") : rd(mem, "memory.failcnt");
	}
	const char *pids = dir_of(cg, CG_PIDS, &v2);
	b->pids_limit = UINT64_MAX;
	if (pids != NULL) {
		b->pids_limit = rd(pids, "pids.max");
		b->pids_max_events = rk(pids, "pids.events", "max");
	}
	return 0;
}

bool cg_peak_window_shared(struct cg_manager *cg)
{
	bool v2;
	return dir_of(cg, CG_MEMORY, &v2) != NULL && !v2;
}

int cg_peak_window_open(struct cg_manager *cg)
{
	bool v2;
	const char *mem = dir_of(cg, CG_MEMORY, &v2);
	if (mem == NULL)
		return -1;
	_cleanup_free_ char *path =
	    xasprintf("%s/%s", mem, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	/* v2 before Linux 6.12 cannot be written: no window then. */
	if (write(fd, "0\n", 2) != 2) {
		close(fd);
		return -1;
	}
	return fd;
}

uint64_t cg_peak_window_read(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t v = 0;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u64(buf, &v) < 0 ? 0 : v;
}
