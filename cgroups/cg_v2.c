/* The cgroup v2 back-end: controller delegation down the tree, linux.resources written to the
 * unified interface files, the eBPF device filter, and cgroup.freeze. It serves every
 * controller that lives in the cgroup2 hierarchy (all of them on a unified host, whatever the
 * cgroup2 mount offers on a hybrid one). */
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

static int fail_field(struct bw_error *err, const char *field)
{
	return bw_wrap(err, "%s", field);
}

static int set_cpu(const char *dir, const struct oci_cpu *c, struct bw_error *err)
{
	char buf[64];
	bool write;
	if (c->realtime_runtime.set && c->realtime_runtime.v != 0)
		return bw_fail(err, 0,
			       "linux.resources.cpu.realtimeRuntime: not supported on "
			       "cgroup v2");
	if (c->realtime_period.set && c->realtime_period.v != 0)
		return bw_fail(err, 0,
			       "linux.resources.cpu.realtimePeriod: not supported on "
			       "cgroup v2");
	if (cg_cpu_validate(c, err) < 0)
		return -1;
	if (c->shares.set && c->shares.v != 0 &&
	    cg_writef(dir, "cpu.weight", err, "%" PRIu64, cg_shares_to_weight(c->shares.v)) < 0)
		return fail_field(err, "linux.resources.cpu.shares");
	_cleanup_free_ char *cur = NULL;
	if (((c->quota.set && c->quota.v) || (c->period.set && c->period.v)) &&
	    cg_read(dir, "cpu.max", &cur, err) < 0)
		return fail_field(err, "linux.resources.cpu.quota");
	if (cg_cpu_max_string(c, cur, buf, &write, err) < 0)
		return -1;
	if (write && cg_write(dir, "cpu.max", buf, err) < 0)
		return fail_field(err, "linux.resources.cpu.quota");
	if (c->burst.set && cg_writef(dir, "cpu.max.burst", err, "%" PRIu64, c->burst.v) < 0)
		return fail_field(err, "linux.resources.cpu.burst");
	if (c->idle.set && cg_writef(dir, "cpu.idle", err, "%" PRId64, c->idle.v) < 0)
		return fail_field(err, "linux.resources.cpu.idle");
	return 0;
}

static int read_present(const char *path, const char *fallback, char **out)
{
	struct bw_error e = {0};
	size_t len;
	if (fs_read_file(path, 65536, out, &len, &e) == 0)
		return 0;
	*out = xstrdup(fallback);
	return 0;
}

/* cpus/mems, checked against what the host has (shared with v1). */
int cg_cpuset_check(const struct oci_cpu *c, struct bw_error *err)
{
	_cleanup_free_ char *cpus = NULL, *nodes = NULL;
	if (c->cpus != NULL && c->cpus[0] != '\0') {
		read_present("/sys/devices/system/cpu/present", "0", &cpus);
		if (cg_cpulist_check("linux.resources.cpu.cpus", "CPU", c->cpus, cpus, err) < 0)
			return -1;
	}
	if (c->mems != NULL && c->mems[0] != '\0') {
		read_present("/sys/devices/system/node/possible", "0", &nodes);
		if (cg_cpulist_check("linux.resources.cpu.mems", "memory node", c->mems, nodes,
				     err) < 0)
			return -1;
	}
	return 0;
}

static int set_cpuset(const char *dir, const struct oci_cpu *c, struct bw_error *err)
{
	if (cg_cpuset_check(c, err) < 0)
		return -1;
	if (c->cpus != NULL && c->cpus[0] != '\0' && cg_write(dir, "cpuset.cpus", c->cpus, err) < 0)
		return fail_field(err, "linux.resources.cpu.cpus");
	if (c->mems != NULL && c->mems[0] != '\0' && cg_write(dir, "cpuset.mems", c->mems, err) < 0)
		return fail_field(err, "linux.resources.cpu.mems");
	return 0;
}

static int64_t as_limit(uint64_t v)
{
	return v == UINT64_MAX || v > INT64_MAX ? -1 : (int64_t)v;
}

/* checkBeforeUpdate: never set a limit below what is already used. */
int cg_check_usage(const char *dir, const char *usage_file, int64_t limit, struct bw_error *err)
{
	uint64_t used;
	if (limit <= 0)
		return 0;
	if (cg_read_u64(dir, usage_file, &used, err) < 0)
		return fail_field(err, "linux.resources.memory.checkBeforeUpdate");
	if (used > (uint64_t)limit)
		return bw_fail(err, 0,
			       "linux.resources.memory.limit: %" PRId64 " is below the current "
			       "usage of %" PRIu64 " bytes",
			       limit, used);
	return 0;
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
				return fail_field(err, "linux.resources.memory.swap");
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
		return fail_field(err, "linux.resources.memory.swap");
	return 0;
}

static int check_swappiness(const struct oci_memory *m, struct bw_error *err)
{
	if (!m->swappiness.set)
		return 0;
	_cleanup_free_ char *s = NULL;
	uint64_t host = 60;
	struct bw_error e = {0};
	if (fs_read_file("/proc/sys/vm/swappiness", 64, &s, NULL, &e) == 0) {
		s[strcspn(s, "\n")] = '\0';
		parse_u64(s, &host);
	}
	if (m->swappiness.v != host)
		return bw_fail(err, 0,
			       "linux.resources.memory.swappiness: not supported on cgroup "
			       "v2 (only the host's value %" PRIu64 ")",
			       host);
	return 0;
}

static int set_memory(const char *dir, const struct oci_memory *m, bool update,
		      struct bw_error *err)
{
	if (m->limit.set && m->limit.v < -1)
		return bw_fail(err, 0, "linux.resources.memory.limit: must be -1 or positive");
	if (m->reservation.set && m->reservation.v < -1)
		return bw_fail(err, 0,
			       "linux.resources.memory.reservation: must be -1 or positive");
	if (m->disable_oom_killer.set && m->disable_oom_killer.v)
		return bw_fail(err, 0,
			       "linux.resources.memory.disableOOMKiller: not supported on "
			       "cgroup v2");
	if (check_swappiness(m, err) < 0)
		return -1;
	if ((m->kernel.set && m->kernel.v) || (m->kernel_tcp.set && m->kernel_tcp.v))
		log_debug("linux.resources.memory.kernel/kernelTCP: ignored on cgroup v2");
	bool limit = m->limit.set && m->limit.v != 0;
	if (limit && update && m->check_before_update.set && m->check_before_update.v &&
	    cg_check_usage(dir, "memory.current", m->limit.v, err) < 0)
		return -1;
	/* memory.max and memory.swap.max are independent on v2: no ordering to respect. */
	if (limit &&
	    (m->limit.v < 0 ? cg_write(dir, "memory.max", "max", err)
			    : cg_writef(dir, "memory.max", err, "%" PRId64, m->limit.v)) < 0)
		return fail_field(err, "linux.resources.memory.limit");
	if (set_swap(dir, m, err) < 0)
		return -1;
	if (m->reservation.set && m->reservation.v != 0 &&
	    (m->reservation.v < 0
		 ? cg_write(dir, "memory.low", "max", err)
		 : cg_writef(dir, "memory.low", err, "%" PRId64, m->reservation.v)) < 0)
		return fail_field(err, "linux.resources.memory.reservation");
	return 0;
}

static int set_pids(const char *dir, const struct opt_i64 *p, struct bw_error *err)
{
	if (!p->set || p->v == 0)
		return 0;
	if ((p->v < 0 ? cg_write(dir, "pids.max", "max", err)
		      : cg_writef(dir, "pids.max", err, "%" PRId64, p->v)) < 0)
		return fail_field(err, "linux.resources.pids.limit");
	return 0;
}

static int set_io_weights(const char *dir, const struct oci_block_io *b, struct bw_error *err)
{
	bool bfq = cg_has_file(dir, "io.bfq.weight");
	const char *file = bfq ? "io.bfq.weight" : "io.weight";
	bool weighted = b->weight.set && b->weight.v != 0;

	for (size_t i = 0; !weighted && i < b->n_weight_devices; i++)
		weighted = b->weight_devices[i].weight.set;
	if (weighted && !bfq && !cg_has_file(dir, "io.weight"))
		return bw_fail(err, 0,
			       "linux.resources.blockIO.%s: no proportional I/O scheduler "
			       "(BFQ) or io.weight (blk-iocost) on this host",
			       b->weight.set && b->weight.v != 0 ? "weight" : "weightDevice");
	if (b->weight.set && b->weight.v != 0 &&
	    cg_writef(dir, file, err, "%" PRIu64,
		      bfq ? b->weight.v : cg_blkio_weight_to_io(b->weight.v)) < 0)
		return fail_field(err, "linux.resources.blockIO.weight");
	if (b->leaf_weight.set && b->leaf_weight.v != 0)
		log_debug("linux.resources.blockIO.leafWeight: ignored on cgroup v2");
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *d = &b->weight_devices[i];
		if (!d->weight.set)
			continue;
		uint64_t w = bfq ? d->weight.v : cg_blkio_weight_to_io(d->weight.v);
		if (cg_writef(dir, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
			      d->minor, w) < 0)
			return bw_wrap(err, "linux.resources.blockIO.weightDevice[%zu]", i);
	}
	return 0;
}

static int set_io(const char *dir, const struct oci_block_io *b, struct bw_error *err)
{
	if (cg_blkio_validate(b, err) < 0 || set_io_weights(dir, b, err) < 0)
		return -1;
	_cleanup_strv_ char **lines = cg_io_max_lines(b);
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
		if (cg_write(dir, "io.max", lines[i], err) < 0)
			return fail_field(err, "linux.resources.blockIO.throttle");
	return 0;
}

/* Shared with v1: hugetlb.<size>.<suffix>. */
int cg_set_hugetlb(const char *dir, const struct oci_resources *r, const char *suffix,
		   const char *rsvd_suffix, struct bw_error *err)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *l = &r->hugepage_limits[i];
		const char *ps = l->page_size == NULL ? "" : l->page_size;
		_cleanup_free_ char *f = xasprintf("hugetlb.%s.%s", ps, suffix);
		_cleanup_free_ char *rf = xasprintf("hugetlb.%s.%s", ps, rsvd_suffix);
		if (!cg_hugepage_size_valid(ps) || !cg_has_file(dir, f))
			return bw_fail(
			    err, 0,
			    "linux.resources.hugepageLimits[%zu].pageSize: hugepage size "
			    "`%s` is not supported on this host",
			    i, ps);
		if (cg_writef(dir, f, err, "%" PRIu64, l->limit) < 0 ||
		    (cg_has_file(dir, rf) && cg_writef(dir, rf, err, "%" PRIu64, l->limit) < 0))
			return bw_wrap(err, "linux.resources.hugepageLimits[%zu].limit", i);
	}
	return 0;
}

/* Shared with v1: rdma.max has the same syntax in both. */
int cg_set_rdma(const char *dir, const struct oci_resources *r, struct bw_error *err)
{
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct oci_rdma *d = &r->rdma[i];
		if (d->device == NULL || d->device[0] == '\0' ||
		    strpbrk(d->device, " \t\n/=") != NULL)
			return bw_fail(err, 0, "linux.resources.rdma: invalid device name");
		if (!d->hca_handles.set && !d->hca_objects.set)
			continue;
		char h[40] = "", o[40] = "";
		if (d->hca_handles.set)
			snprintf(h, sizeof(h), " hca_handle=%" PRIu64, d->hca_handles.v);
		if (d->hca_objects.set)
			snprintf(o, sizeof(o), " hca_object=%" PRIu64, d->hca_objects.v);
		if (cg_writef(dir, "rdma.max", err, "%s%s%s", d->device, h, o) < 0)
			return bw_wrap(err, "linux.resources.rdma.%s", d->device);
	}
	return 0;
}

static int set_unified(struct cg_manager *cg, const char *dir, const struct oci_resources *r,
		       struct bw_error *err)
{
	_cleanup_free_ char *enabled = NULL;
	if (r->n_unified == 0)
		return 0;
	if (cg_read(dir, "cgroup.controllers", &enabled, err) < 0)
		return fail_field(err, "linux.resources.unified");
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
		return fail_field(err, "linux.resources.devices");
	return 0;
}

static bool at_v2(struct cg_manager *cg, enum cg_ctrl c)
{
	return cg->v2 >= 0 && cg->ctrl_at[c] == cg->v2;
}

static int need(struct cg_manager *cg, uint32_t needed, enum cg_ctrl c, bool *here,
		struct bw_error *err)
{
	*here = at_v2(cg, c);
	if ((needed & (1u << c)) && cg->ctrl_at[c] < 0)
		return bw_fail(err, 0, "%s: the %s controller is not available on this host",
			       cg_ctrl_field(c),
			       cg_ctrl_v2_name(c) ? cg_ctrl_v2_name(c) : cg_ctrl_v1_name(c));
	return 0;
}

int cg_v2_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err)
{
	uint32_t needed = cg_resources_needed(r);
	const char *dir = cg->v2 >= 0 ? cg->h[cg->v2].dir : NULL;
	bool update = how == CG_APPLY_UPDATE, here;

	if (how == CG_APPLY_DEVICES)
		return at_v2(cg, CG_DEVICES) ? set_devices(dir, r, how, err) : 0;

	if (need(cg, needed, CG_CPU, &here, err) < 0 || (here && set_cpu(dir, &r->cpu, err) < 0))
		return -1;
	if (need(cg, needed, CG_CPUSET, &here, err) < 0 ||
	    (here && set_cpuset(dir, &r->cpu, err) < 0))
		return -1;
	if (need(cg, needed, CG_MEMORY, &here, err) < 0 ||
	    (here && set_memory(dir, &r->memory, update, err) < 0))
		return -1;
	if (need(cg, needed, CG_PIDS, &here, err) < 0 ||
	    (here && set_pids(dir, &r->pids_limit, err) < 0))
		return -1;
	if (need(cg, needed, CG_BLKIO, &here, err) < 0 ||
	    (here && set_io(dir, &r->block_io, err) < 0))
		return -1;
	if (need(cg, needed, CG_HUGETLB, &here, err) < 0 ||
	    (here && cg_set_hugetlb(dir, r, "max", "rsvd.max", err) < 0))
		return -1;
	if (need(cg, needed, CG_RDMA, &here, err) < 0 || (here && cg_set_rdma(dir, r, err) < 0))
		return -1;
	if (at_v2(cg, CG_DEVICES) && set_devices(dir, r, how, err) < 0)
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
