/* The cgroup v2 back-end: controller delegation down the tree, the resource table (cg_table.c)
 * applied with the writers it names for v2, the eBPF device filter, linux.resources.unified
 * and cgroup.freeze. It serves every controller that lives in the cgroup2 hierarchy (all of
 * them on a unified host, whatever the cgroup2 mount offers on a hybrid one). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

static bool word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);
	for (const char *p = list; (p = strstr(p, w)) != NULL; p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n'))
			return true;
	return false;
}

/* Enable controllers at one level: the dir's cgroup.subtree_control. */
static int enable_at(const char *dir, uint32_t wanted, uint32_t required, struct bw_error *err)
{
	_cleanup_free_ char *avail = NULL, *on = NULL;
	if (cg_read(dir, "cgroup.controllers", &avail, err) < 0 ||
	    cg_read(dir, "cgroup.subtree_control", &on, err) < 0)
		return -1;
	for (int c = 0; c < CG_NCTRL; c++) {
		const char *name = cg_ctrl_v2_name(c);
		if (!(wanted & (1u << c)) || name == NULL || word_in(on, name))
			continue;
		struct bw_error e = {0};
		if (word_in(avail, name) &&
		    cg_writef(dir, "cgroup.subtree_control", &e, "+%s", name) == 0)
			continue;
		if (required & (1u << c)) {
			if (!word_in(avail, name))
				return bw_fail(err, 0, "the %s controller is not available in `%s`",
					       name, dir);
			*err = e;
			return bw_wrap(err, "enable the %s controller", name);
		}
		log_debug("cgroup: %s not enabled in `%s`: %s", name, dir, e.msg);
	}
	return 0;
}

int cg_v2_enable_controllers(struct cg_manager *cg, uint32_t wanted, uint32_t required,
			     struct bw_error *err)
{
	struct cg_hier *h = &cg->h[cg->v2];
	size_t base = strlen(h->m.mountpoint);
	_cleanup_free_ char *p = xstrdup(h->dir);

	/* Every ancestor from the mount root down to the leaf's parent. */
	for (char *s = p + base; s != NULL && *s != '\0'; s = strchr(s + 1, '/')) {
		char saved = *s;
		*s = '\0';
		int r = enable_at(s == p + base ? h->m.mountpoint : p, wanted, required, err);
		*s = saved;
		if (r < 0)
			return -1;
	}
	return 0;
}

int cg_v2_set_cpu_max(const char *dir, const struct oci_resources *r, bool update,
		      struct bw_error *err)
{
	_cleanup_free_ char *cur = NULL;
	char buf[64];
	bool write;
	(void)update;
	if (cg_read(dir, "cpu.max", &cur, err) < 0)
		return bw_wrap(err, "linux.resources.cpu.quota");
	if (cg_cpu_max_string(&r->cpu, cur, buf, &write, err) < 0)
		return -1;
	if (write && cg_write(dir, "cpu.max", buf, err) < 0)
		return bw_wrap(err, "linux.resources.cpu.quota");
	return 0;
}

static int64_t as_limit(uint64_t v)
{
	return v == UINT64_MAX || v > INT64_MAX ? -1 : (int64_t)v;
}

static int set_swap(const char *dir, const struct oci_memory *m, struct bw_error *err)
{
	char buf[32];
	int64_t limit;
	bool limit_given = m->limit.set && m->limit.v != 0;

	if (m->swap.set && m->swap.v != 0) {
		if (limit_given) {
			limit = m->limit.v;
		} else {
			uint64_t cur;
			if (cg_read_u64(dir, "memory.max", &cur, err) < 0)
				return bw_wrap(err, "linux.resources.memory.swap");
			limit = as_limit(cur);
		}
		if (cg_swap_to_v2(m->swap.v, limit, buf, err) < 0)
			return -1;
	} else if (limit_given && m->limit.v == -1) {
		/* Unlimited memory with no word on swap: swap unlimited too, as on v1. */
		strcpy(buf, "max");
	} else {
		return 0;
	}
	if (!cg_has_file(dir, "memory.swap.max")) {
		if (strcmp(buf, "max") == 0)
			return 0;
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: swap accounting is not "
			       "enabled on this host");
	}
	if (cg_write(dir, "memory.swap.max", buf, err) < 0)
		return bw_wrap(err, "linux.resources.memory.swap");
	return 0;
}

/* v2 has no per-cgroup swappiness: only the host's value can be asked for. */
int cg_v2_check_swappiness(const struct oci_resources *r, struct bw_error *err)
{
	_cleanup_free_ char *s = NULL;
	uint64_t host = 60;
	struct bw_error e = {0};
	if (fs_read_file("/proc/sys/vm/swappiness", 64, &s, NULL, &e) == 0) {
		s[strcspn(s, "\n")] = '\0';
		parse_u64(s, &host);
	}
	if (r->memory.swappiness.v != host)
		return bw_fail(err, 0,
			       "linux.resources.memory.swappiness: not supported on cgroup "
			       "v2 (only the host's value %" PRIu64 ")",
			       host);
	return 0;
}

/* memory.max, and memory.swap.max from OCI's memory-plus-swap figure. The two are independent
 * on v2: no ordering to respect. */
int cg_v2_set_memory(const char *dir, const struct oci_resources *r, bool update,
		     struct bw_error *err)
{
	const struct oci_memory *m = &r->memory;
	bool limit = m->limit.set && m->limit.v != 0;
	if (limit && update && m->check_before_update.set && m->check_before_update.v &&
	    cg_check_usage(dir, "memory.current", m->limit.v, err) < 0)
		return -1;
	if (limit &&
	    (m->limit.v < 0 ? cg_write(dir, "memory.max", "max", err)
			    : cg_writef(dir, "memory.max", err, "%" PRId64, m->limit.v)) < 0)
		return bw_wrap(err, "linux.resources.memory.limit");
	return set_swap(dir, m, err);
}

/* io.bfq.weight takes blkio's 10..1000 as it is; io.weight (blk-iocost) its own range. */
static int io_weight_file(const char *dir, const char *field, bool *bfq, struct bw_error *err)
{
	*bfq = cg_has_file(dir, "io.bfq.weight");
	if (!*bfq && !cg_has_file(dir, "io.weight"))
		return bw_fail(err, 0,
			       "linux.resources.blockIO.%s: no proportional I/O scheduler "
			       "(BFQ) or io.weight (blk-iocost) on this host",
			       field);
	return 0;
}

int cg_v2_set_io_weight(const char *dir, const struct oci_resources *r, bool update,
			struct bw_error *err)
{
	uint64_t w = r->block_io.weight.v;
	bool bfq;
	(void)update;
	if (io_weight_file(dir, "weight", &bfq, err) < 0)
		return -1;
	if (cg_writef(dir, bfq ? "io.bfq.weight" : "io.weight", err, "%" PRIu64,
		      bfq ? w : cg_blkio_weight_to_io(w)) < 0)
		return bw_wrap(err, "linux.resources.blockIO.weight");
	return 0;
}

int cg_v2_set_io_weight_devices(const char *dir, const struct oci_resources *r, bool update,
				struct bw_error *err)
{
	const struct oci_block_io *b = &r->block_io;
	bool bfq;
	(void)update;
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *d = &b->weight_devices[i];
		if (!d->weight.set)
			continue;
		if (io_weight_file(dir, "weightDevice", &bfq, err) < 0)
			return -1;
		uint64_t w = bfq ? d->weight.v : cg_blkio_weight_to_io(d->weight.v);
		if (cg_writef(dir, bfq ? "io.bfq.weight" : "io.weight", err,
			      "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, w) < 0)
			return bw_wrap(err, "linux.resources.blockIO.weightDevice[%zu]", i);
	}
	return 0;
}

int cg_v2_set_io_max(const char *dir, const struct oci_resources *r, bool update,
		     struct bw_error *err)
{
	_cleanup_strv_ char **lines = cg_io_max_lines(&r->block_io);
	(void)update;
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
		if (cg_write(dir, "io.max", lines[i], err) < 0)
			return bw_wrap(err, "linux.resources.blockIO.throttle");
	return 0;
}

int cg_v2_set_hugetlb(const char *dir, const struct oci_resources *r, bool update,
		      struct bw_error *err)
{
	(void)update;
	return cg_set_hugetlb(dir, r, "max", "rsvd.max", err);
}

static int set_unified(struct cg_manager *cg, const char *dir, const struct oci_resources *r,
		       struct bw_error *err)
{
	_cleanup_free_ char *enabled = NULL;
	if (r->n_unified == 0)
		return 0;
	if (cg_read(dir, "cgroup.controllers", &enabled, err) < 0)
		return bw_wrap(err, "linux.resources.unified");
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *key = r->unified[i].key;
		if (cg_unified_key_check(key, err) < 0)
			return -1;
		_cleanup_free_ char *ctl = cg_key_controller(key);
		_cleanup_free_ char *path = fs_path_join(dir, key);
		struct stat st;
		bool core = strcmp(ctl, "cgroup") == 0;
		/* runc refuses unified on v1 outright; a hybrid host's cgroup2 mount serves some
		 * controllers (hugetlb here and there), and a key of any other is said so. */
		int k = cg_ctrl_from_v2_name(ctl);
		if (cg->mode != CG_MODE_UNIFIED && k >= 0 && cg->ctrl_at[k] >= 0 &&
		    cg->ctrl_at[k] != cg->v2)
			return bw_fail(
			    err, 0,
			    "linux.resources.unified.%s: invalid configuration: the %s "
			    "controller is cgroup v1 on this host, unified keys only reach "
			    "the controllers of its cgroup2 hierarchy",
			    key, ctl);
		if ((!core && !word_in(enabled, ctl)) || lstat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode) || !(st.st_mode & S_IWUSR))
			return bw_fail(err, 0,
				       "linux.resources.unified.%s: not a writable interface "
				       "file of a controller enabled for this cgroup",
				       key);
		if (cg_write(dir, key, r->unified[i].value, err) < 0)
			return bw_wrap(err, "linux.resources.unified.%s", key);
	}
	return 0;
}

static int set_devices(const char *dir, const struct oci_resources *r, enum cg_apply how,
		       struct bw_error *err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t n, ni;
	if (how == CG_APPLY_UPDATE && r->n_devices == 0)
		return 0;
	if (cg_dev_rules_build(r, &rules, &n, err) < 0 ||
	    cg_devices_bpf_build(rules, n, &insns, &ni, err) < 0)
		return -1;
	if (how == CG_APPLY_CREATE) /* validated; attached by CG_APPLY_DEVICES */
		return 0;
	if (cg_devices_bpf_attach(dir, insns, ni, how == CG_APPLY_UPDATE, err) < 0)
		return bw_wrap(err, "linux.resources.devices");
	return 0;
}

static bool at_v2(struct cg_manager *cg, enum cg_ctrl c)
{
	return cg->v2 >= 0 && cg->ctrl_at[c] == cg->v2;
}

/* The table's rows for every controller the cgroup2 hierarchy serves, the device filter, then
 * linux.resources.unified. */
int cg_v2_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err)
{
	const char *dir = cg->v2 >= 0 ? cg->h[cg->v2].dir : NULL;
	const char *dirs[CG_NCTRL];

	/* Without root no eBPF device filter can be loaded; a rootless container's user namespace
	 * can make no device node, and host nodes bound in keep their own permissions. */
	bool devices = at_v2(cg, CG_DEVICES) && !cg->unpriv;
	if (how == CG_APPLY_DEVICES)
		return devices ? set_devices(dir, r, how, err) : 0;
	for (int c = 0; c < CG_NCTRL; c++)
		dirs[c] = at_v2(cg, c) ? dir : NULL;
	if (cg_resources_available(cg, r, true, err) < 0 ||
	    cg_resources_write(dirs, true, r, how == CG_APPLY_UPDATE, err) < 0)
		return -1;
	if (devices && set_devices(dir, r, how, err) < 0)
		return -1;
	if (r->n_unified > 0 && cg->v2 < 0)
		return bw_fail(err, 0,
			       "linux.resources.unified: invalid configuration: cannot use unified "
			       "on cgroup v1 (this host does not mount cgroup2)");
	/* Last, so that explicit unified values win over the converted ones. */
	if (dir != NULL && set_unified(cg, dir, r, err) < 0)
		return -1;
	return 0;
}

/* Wait for cgroup.events to say "frozen <want>", woken by its POLLPRI notifications. */
static int wait_frozen(const char *dir, bool want, struct bw_error *err)
{
	_cleanup_free_ char *path = fs_path_join(dir, "cgroup.events");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", path);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char buf[512];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return bw_fail(err, errno, "read `%s`", path);
		buf[n] = '\0';
		const char *f = strstr(buf, "frozen ");
		if (f != NULL && (f[7] == '1') == want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms =
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= 5000)
			return bw_fail(err, ETIMEDOUT, "wait for `%s` to say frozen %d", path,
				       want);
		struct pollfd pfd = {.fd = fd, .events = POLLPRI};
		poll(&pfd, 1, (int)(ms > 4900 ? 5000 - ms : 100));
	}
}

int cg_v2_freeze(const char *dir, bool freeze, struct bw_error *err)
{
	if (cg_write(dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
		return -1;
	if (wait_frozen(dir, freeze, err) < 0) {
		if (freeze) {
			struct bw_error e = {0};
			cg_write(dir, "cgroup.freeze", "0", &e);
		}
		return -1;
	}
	return 0;
}
