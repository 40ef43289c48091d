/* The OCI resources as systemd unit properties (CPUWeight, MemoryMax, AllowedCPUs, ...), for
 * the systemd driver's StartTransientUnit and SetUnitProperties: pure, nothing here talks to
 * systemd. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/util.h"

static void props_push(struct cg_sd_prop **v, size_t *n, const char *name, uint64_t val)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct cg_sd_prop){.name = name, .u64 = val};
}

/* A cpu or node list as systemd's bitmask: byte i bit j is CPU 8i+j. */
static int props_push_mask(struct cg_sd_prop **v, size_t *n, const char *name, const char *list,
			   const char *field, struct bw_error *err)
{
	uint64_t *bits = NULL;
	size_t nwords = 0;
	unsigned max = 0;
	if (cg_cpulist_parse(list, &bits, &nwords, &max) < 0)
		return bw_fail(err, 0, "%s: `%s` is not a list of numbers", field, list);
	size_t nb = max / 8 + 1;
	uint8_t *b = xcalloc(nb, 1);
	for (unsigned i = 0; i <= max; i++)
		if (bits[i / 64] & (1ull << (i % 64)))
			b[i / 8] |= (uint8_t)(1u << (i % 8));
	free(bits);
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct cg_sd_prop){.name = name, .bytes = b, .nbytes = nb};
	return 0;
}

static uint64_t limit_or_infinity(int64_t v)
{
	return v < 0 ? UINT64_MAX : (uint64_t)v;
}

/* runc's rule: systemd keeps CPUQuotaPerSecUSec in whole 10 ms steps, so round up (cpu.max,
 * written afterwards, holds the exact value). */
static uint64_t quota_per_sec(int64_t quota, uint64_t period)
{
	if (quota < 0)
		return UINT64_MAX;
	uint64_t q = (uint64_t)quota * 1000000u / period;
	return q % 10000 != 0 ? (q / 10000 + 1) * 10000 : q;
}

static int props_cpu(const struct oci_cpu *c, bool v2, struct cg_sd_prop **v, size_t *n,
		     struct bw_error *err)
{
	if (c->shares.set && c->shares.v != 0)
		props_push(v, n, v2 ? "CPUWeight" : "CPUShares",
			   v2 ? cg_shares_to_weight(c->shares.v) : c->shares.v);
	uint64_t period = c->period.set && c->period.v != 0 ? c->period.v : 100000;
	if (c->quota.set && c->quota.v != 0)
		props_push(v, n, "CPUQuotaPerSecUSec", quota_per_sec(c->quota.v, period));
	if (c->period.set && c->period.v != 0)
		props_push(v, n, "CPUQuotaPeriodUSec", c->period.v);
	if (v2 && c->cpus != NULL && c->cpus[0] != '\0' &&
	    props_push_mask(v, n, "AllowedCPUs", c->cpus, "linux.resources.cpu.cpus", err) < 0)
		return -1;
	if (v2 && c->mems != NULL && c->mems[0] != '\0' &&
	    props_push_mask(v, n, "AllowedMemoryNodes", c->mems, "linux.resources.cpu.mems", err) <
		0)
		return -1;
	return 0;
}

/* A cgroup v2 file's value as systemd's property: a number, or "max" (infinity). */
static bool unified_number(const char *value, uint64_t *out)
{
	if (strcmp(value, "max") == 0) {
		*out = UINT64_MAX;
		return true;
	}
	return parse_u64(value, out) == 0;
}

/* linux.resources.unified keys that systemd also manages become its properties too, after the
 * structured fields (they win there as in the files): else a daemon-reload or an update,
 * re-realizing the scope, would write systemd's own value (memory.high "max") over the one
 * bulwark wrote. Keys systemd does not manage stay files only. A value not in the plain form
 * is left to the file writer, which checks it. */
static int props_unified(const struct oci_resources *r, struct cg_sd_prop **v, size_t *n,
			 struct bw_error *err)
{
	static const struct {
		const char *key, *prop;
	} plain[] = {{"memory.high", "MemoryHigh"},	   {"memory.min", "MemoryMin"},
		     {"memory.low", "MemoryLow"},	   {"memory.max", "MemoryMax"},
		     {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"},
		     {"cpu.weight", "CPUWeight"},	   {"io.weight", "IOWeight"}};
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *key = r->unified[i].key, *val = r->unified[i].value;
		uint64_t x;
		for (size_t k = 0; k < ARRAY_SIZE(plain); k++)
			if (strcmp(key, plain[k].key) == 0 && unified_number(val, &x))
				props_push(v, n, plain[k].prop, x);
		if (strcmp(key, "cpu.max") == 0) {
			char quota[32];
			uint64_t q = 0, period = 100000;
			int got = sscanf(val, "%31s %" SCNu64, quota, &period);
			if (got >= 1 && period > 0 &&
			    (strcmp(quota, "max") == 0 ||
			     (parse_u64(quota, &q) == 0 && q <= UINT64_MAX / 1000000u))) {
				props_push(v, n, "CPUQuotaPerSecUSec",
					   strcmp(quota, "max") == 0
					       ? UINT64_MAX
					       : quota_per_sec((int64_t)q, period));
				if (got == 2)
					props_push(v, n, "CPUQuotaPeriodUSec", period);
			}
		}
		if (strcmp(key, "cpuset.cpus") == 0 && val[0] != '\0' &&
		    props_push_mask(v, n, "AllowedCPUs", val, "linux.resources.unified.cpuset.cpus",
				    err) < 0)
			return -1;
		if (strcmp(key, "cpuset.mems") == 0 && val[0] != '\0' &&
		    props_push_mask(v, n, "AllowedMemoryNodes", val,
				    "linux.resources.unified.cpuset.mems", err) < 0)
			return -1;
	}
	return 0;
}

/* Before systemd is told anything: a value the file writers would refuse must not first
 * become a property (-2 would read as "infinity" here). */
static int props_check(const struct oci_resources *r, struct bw_error *err)
{
	const struct oci_memory *m = &r->memory;
	const struct {
		const struct opt_i64 *o;
		const char *field;
	} lim[] = {{&m->limit, "linux.resources.memory.limit"},
		   {&m->reservation, "linux.resources.memory.reservation"},
		   {&m->swap, "linux.resources.memory.swap"}};
	for (size_t i = 0; i < ARRAY_SIZE(lim); i++)
		if (lim[i].o->set && lim[i].o->v < -1)
			return bw_fail(err, 0, "%s: %" PRId64 " is neither a limit nor -1 (none)",
				       lim[i].field, lim[i].o->v);
	if (r->cpu.quota.set && r->cpu.quota.v > (int64_t)(UINT64_MAX / 1000000u))
		return bw_fail(err, 0, "linux.resources.cpu.quota: %" PRId64 " is too large",
			       r->cpu.quota.v);
	return 0;
}

int cg_sd_props(const struct oci_resources *r, bool v2, struct cg_sd_prop **out, size_t *n,
		struct bw_error *err)
{
	struct cg_sd_prop *v = NULL;
	size_t k = 0;
	const struct oci_memory *m = &r->memory;
	if (props_check(r, err) < 0)
		goto fail;
	if (cg_cpu_validate(&r->cpu, err) < 0 || props_cpu(&r->cpu, v2, &v, &k, err) < 0)
		goto fail;
	if (m->limit.set && m->limit.v != 0)
		props_push(&v, &k, v2 ? "MemoryMax" : "MemoryLimit", limit_or_infinity(m->limit.v));
	if (v2 && m->reservation.set && m->reservation.v != 0)
		props_push(&v, &k, "MemoryLow", limit_or_infinity(m->reservation.v));
	/* Swap only beside a limit: alone, it is relative to the current memory.max, which the
	 * file writer reads. */
	if (v2 && m->swap.set && m->swap.v != 0 && m->limit.set && m->limit.v != 0) {
		char sw[32];
		uint64_t x = 0;
		if (cg_swap_to_v2(m->swap.v, m->limit.v, sw, err) < 0)
			goto fail;
		props_push(&v, &k, "MemorySwapMax",
			   strcmp(sw, "max") == 0 || parse_u64(sw, &x) < 0 ? UINT64_MAX : x);
	}
	if (r->pids_limit.set && r->pids_limit.v != 0)
		props_push(&v, &k, "TasksMax", limit_or_infinity(r->pids_limit.v));
	if (r->block_io.weight.set && r->block_io.weight.v != 0)
		props_push(&v, &k, v2 ? "IOWeight" : "BlockIOWeight",
			   v2 ? cg_blkio_weight_to_io(r->block_io.weight.v) : r->block_io.weight.v);
	if (v2 && props_unified(r, &v, &k, err) < 0)
		goto fail;
	*out = v;
	*n = k;
	return 0;
fail:
	cg_sd_props_free(v, k);
	return -1;
}

void cg_sd_props_free(struct cg_sd_prop *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	free(v);
}
