/* Pure translation of linux.resources values into cgroup file contents: the v1 -> v2 unit
 * conversions, range checks that name the JSON field, cpu/node lists, io.max lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/util.h"

/* Clamp v to lo..hi and map that range linearly onto v2's weights, 1..10000. */
static uint64_t to_v2_weight(uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return 1 + ((v - lo) * 9999) / (hi - lo);
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	return to_v2_weight(shares, 2, 262144);
}

uint64_t cg_blkio_weight_to_io(uint64_t weight)
{
	return to_v2_weight(weight, 10, 1000);
}

int cg_swap_to_v2(int64_t swap, int64_t limit, char out[static 32], struct bw_error *err)
{
	if (swap == -1) {
		strcpy(out, "max");
		return 0;
	}
	if (swap < -1)
		return bw_fail(err, 0, "linux.resources.memory.swap: must be -1 or positive");
	if (limit < 0)
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: a swap limit needs a memory limit");
	if (swap < limit)
		return bw_fail(err, 0,
			       "linux.resources.memory.swap: must be at least memory.limit (it is "
			       "memory plus swap)");
	snprintf(out, 32, "%" PRId64, swap - limit);
	return 0;
}

int cg_cpu_validate(const struct oci_cpu *c, struct bw_error *err)
{
	if (c->shares.set && c->shares.v != 0 && (c->shares.v < 2 || c->shares.v > 262144))
		return bw_fail(err, 0, "linux.resources.cpu.shares: must be between 2 and 262144");
	if (c->quota.set && c->quota.v != 0 && c->quota.v != -1 && c->quota.v < 1000)
		return bw_fail(err, 0,
			       "linux.resources.cpu.quota: must be -1 (no limit) or at least 1000");
	if (c->period.set && c->period.v != 0 && (c->period.v < 1000 || c->period.v > 1000000))
		return bw_fail(err, 0,
			       "linux.resources.cpu.period: must be between 1000 and 1000000");
	if (c->idle.set && c->idle.v != 0 && c->idle.v != 1)
		return bw_fail(err, 0, "linux.resources.cpu.idle: must be 0 or 1");
	if (c->realtime_runtime.set && c->realtime_runtime.v < -1)
		return bw_fail(err, 0,
			       "linux.resources.cpu.realtimeRuntime: must be -1 or positive");
	return 0;
}

int cg_cpu_max_string(const struct oci_cpu *c, const char *current, char out[static 64],
		      bool *write, struct bw_error *err)
{
	bool quota = c->quota.set && c->quota.v != 0;
	bool period = c->period.set && c->period.v != 0;

	*write = false;
	if (cg_cpu_validate(c, err) < 0)
		return -1;
	if (!quota && !period)
		return 0;
	char q[32];
	if (quota && c->quota.v > 0)
		snprintf(q, sizeof(q), "%" PRId64, c->quota.v);
	else if (quota)
		strcpy(q, "max");
	else
		/* A new period alone keeps the quota already in place. */
		snprintf(q, sizeof(q), "%.*s", (int)strcspn(current ? current : "max", " \n"),
			 current ? current : "max");
	if (q[0] == '\0')
		strcpy(q, "max");
	if (period)
		snprintf(out, 64, "%s %" PRIu64, q, c->period.v);
	else
		snprintf(out, 64, "%s", q);
	*write = true;
	return 0;
}

static int check_weight(const char *field, uint64_t w, struct bw_error *err)
{
	if (w < 10 || w > 1000)
		return bw_fail(err, 0, "%s: must be between 10 and 1000", field);
	return 0;
}

static const char *const throttle_field[OCI_THROTTLE_NKINDS] = {
    [OCI_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
    [OCI_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
    [OCI_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
    [OCI_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

static int check_dev(const char *field, size_t i, int64_t major, int64_t minor,
		     struct bw_error *err)
{
	if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff)
		return bw_fail(
		    err, 0, "linux.resources.blockIO.%s[%zu]: invalid device %" PRId64 ":%" PRId64,
		    field, i, major, minor);
	return 0;
}

int cg_blkio_validate(const struct oci_block_io *b, struct bw_error *err)
{
	if (b->weight.set && b->weight.v != 0 &&
	    check_weight("linux.resources.blockIO.weight", b->weight.v, err) < 0)
		return -1;
	if (b->leaf_weight.set && b->leaf_weight.v != 0 &&
	    check_weight("linux.resources.blockIO.leafWeight", b->leaf_weight.v, err) < 0)
		return -1;
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *d = &b->weight_devices[i];
		char field[80];
		if (check_dev("weightDevice", i, d->major, d->minor, err) < 0)
			return -1;
		snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu].weight",
			 i);
		if (d->weight.set && check_weight(field, d->weight.v, err) < 0)
			return -1;
	}
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < b->n_throttle[k]; i++)
			if (check_dev(throttle_field[k], i, b->throttle[k][i].major,
				      b->throttle[k][i].minor, err) < 0)
				return -1;
	return 0;
}

char **cg_io_max_lines(const struct oci_block_io *b)
{
	static const char *const key[OCI_THROTTLE_NKINDS] = {"rbps", "wbps", "riops", "wiops"};
	char **lines = NULL;
	struct {
		int64_t major, minor;
	} *devs = NULL;
	size_t nd = 0;

	/* One line per device, in order of first mention, carrying all of its limits. */
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		for (size_t i = 0; i < b->n_throttle[k]; i++) {
			const struct oci_throttle_device *t = &b->throttle[k][i];
			size_t j = 0;
			while (j < nd && (devs[j].major != t->major || devs[j].minor != t->minor))
				j++;
			if (j == nd) {
				devs = xrealloc(devs, (nd + 1) * sizeof(*devs));
				devs[nd].major = t->major;
				devs[nd++].minor = t->minor;
			}
		}
	for (size_t j = 0; j < nd; j++) {
		char *line = xasprintf("%" PRId64 ":%" PRId64, devs[j].major, devs[j].minor);
		for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
			for (size_t i = 0; i < b->n_throttle[k]; i++) {
				const struct oci_throttle_device *t = &b->throttle[k][i];
				if (t->major != devs[j].major || t->minor != devs[j].minor)
					continue;
				char *nl = t->rate == 0
					       ? xasprintf("%s %s=max", line, key[k])
					       : xasprintf("%s %s=%" PRIu64, line, key[k], t->rate);
				free(line);
				line = nl;
			}
		strv_push_take(&lines, line);
	}
	free(devs);
	return lines;
}

static void bit_set(uint64_t **bits, size_t *nwords, unsigned b)
{
	size_t w = b / 64;
	if (w >= *nwords) {
		*bits = xrealloc(*bits, (w + 1) * sizeof(uint64_t));
		memset(*bits + *nwords, 0, (w + 1 - *nwords) * sizeof(uint64_t));
		*nwords = w + 1;
	}
	(*bits)[w] |= 1ull << (b % 64);
}

static bool bit_get(const uint64_t *bits, size_t nwords, unsigned b)
{
	return b / 64 < nwords && (bits[b / 64] >> (b % 64)) & 1;
}

/* One decimal number of a list item; advances *s. */
static int list_num(const char **s, unsigned *out)
{
	char *end;
	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(*s, &end, 10);
	if (errno != 0 || v > 65535)
		return -1;
	*out = (unsigned)v;
	*s = end;
	return 0;
}

int cg_cpulist_parse(const char *list, uint64_t **bits, size_t *nwords, unsigned *max_out)
{
	const char *s = list;
	unsigned max = 0;

	*bits = NULL;
	*nwords = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != '\n') {
		unsigned a, b;
		if (list_num(&s, &a) < 0)
			goto bad;
		b = a;
		if (*s == '-') {
			s++;
			if (list_num(&s, &b) < 0 || b < a)
				goto bad;
		}
		for (unsigned i = a; i <= b; i++)
			bit_set(bits, nwords, i);
		if (b > max)
			max = b;
		if (*s == ',')
			s++;
		else if (*s != '\0' && *s != '\n')
			goto bad;
		else
			break;
	}
	if (*s == '\n' && s[1] != '\0')
		goto bad;
	if (max_out != NULL)
		*max_out = max;
	return 0;
bad:
	free(*bits);
	*bits = NULL;
	*nwords = 0;
	return -1;
}

int cg_cpulist_check(const char *field, const char *noun, const char *list, const char *present,
		     struct bw_error *err)
{
	_cleanup_free_ uint64_t *want = NULL, *have = NULL;
	size_t nw = 0, nh = 0;

	if (list[0] == '\0' || cg_cpulist_parse(list, &want, &nw, NULL) < 0 || nw == 0)
		return bw_fail(err, 0, "%s: `%s` is not a valid list (like \"0-3,7\")", field,
			       list);
	if (cg_cpulist_parse(present, &have, &nh, NULL) < 0)
		return bw_fail(err, 0, "%s: cannot parse the host's list `%s`", field, present);
	for (unsigned b = 0; b < nw * 64; b++)
		if (bit_get(want, nw, b) && !bit_get(have, nh, b))
			return bw_fail(err, 0, "%s: %s %u is not present on this host", field, noun,
				       b);
	return 0;
}

bool cg_hugepage_size_valid(const char *s)
{
	size_t d = strspn(s, "0123456789");
	if (d == 0 || d > 12 || s[0] == '0')
		return false;
	return strcmp(s + d, "KB") == 0 || strcmp(s + d, "MB") == 0 || strcmp(s + d, "GB") == 0;
}

char *cg_key_controller(const char *key)
{
	return xstrndup(key, strcspn(key, "."));
}

int cg_unified_key_check(const char *key, struct bw_error *err)
{
	/* Core files that would move processes, reshape the tree or act on it. */
	static const char *const core_ok[] = {"cgroup.max.depth", "cgroup.max.descendants"};
	const char *dot = strchr(key, '.');

	if (key[0] == '\0' || strpbrk(key, "/\\ \t\n") != NULL || key[0] == '.' || dot == NULL ||
	    dot[1] == '\0')
		return bw_fail(err, 0,
			       "linux.resources.unified.%s: not a cgroup interface file name", key);
	if (str_has_prefix(key, "cgroup.")) {
		for (size_t i = 0; i < ARRAY_SIZE(core_ok); i++)
			if (strcmp(key, core_ok[i]) == 0)
				return 0;
		return bw_fail(err, 0,
			       "linux.resources.unified.%s: core cgroup files cannot be set", key);
	}
	return 0;
}
