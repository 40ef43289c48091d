/* Device access rules: linux.resources.devices validated and completed with bulwark's default
 * allowed devices, and their translation to v1 devices.allow/deny writes. The v2 eBPF form is
 * in cg_devices_bpf.c. All pure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/util.h"

/* The devices every container may use (mknod is not among them). */
static const struct cg_dev_rule default_rules[] = {
    {true, 'c', 1, 3, CG_ACC_ALL, 0},	 /* /dev/null */
    {true, 'c', 1, 5, CG_ACC_ALL, 0},	 /* /dev/zero */
    {true, 'c', 1, 7, CG_ACC_ALL, 0},	 /* /dev/full */
    {true, 'c', 1, 8, CG_ACC_ALL, 0},	 /* /dev/random */
    {true, 'c', 1, 9, CG_ACC_ALL, 0},	 /* /dev/urandom */
    {true, 'c', 5, 0, CG_ACC_ALL, 0},	 /* /dev/tty */
    {true, 'c', 5, 1, CG_ACC_ALL, 0},	 /* /dev/console */
    {true, 'c', 5, 2, CG_ACC_ALL, 0},	 /* /dev/ptmx */
    {true, 'c', 136, -1, CG_ACC_ALL, 0}, /* /dev/pts/N */
};

const struct cg_dev_rule *cg_dev_default_rules(size_t *n)
{
	*n = ARRAY_SIZE(default_rules);
	return default_rules;
}

static int parse_access(const char *s, unsigned *out)
{
	unsigned a = 0;
	if (s == NULL) {
		*out = CG_ACC_ALL;
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (*s == 'r')
			a |= CG_ACC_READ;
		else if (*s == 'w')
			a |= CG_ACC_WRITE;
		else if (*s == 'm')
			a |= CG_ACC_MKNOD;
		else
			return -1;
	}
	*out = a;
	return 0;
}

int cg_dev_rules_build(const struct oci_resources *r, struct cg_dev_rule **out, size_t *n,
		       struct bw_error *err)
{
	size_t nspec = r == NULL ? 0 : r->n_devices;
	/* An "a" rule may become a "c" and a "b" one (below): room for two each. */
	struct cg_dev_rule *v = xcalloc(2 * nspec + ARRAY_SIZE(default_rules), sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < nspec; i++) {
		const struct oci_device_cgroup *d = &r->devices[i];
		struct cg_dev_rule *x = &v[k];
		x->allow = d->allow;
		x->type = d->type == '\0' ? 'a' : d->type;
		x->major = d->major;
		x->minor = d->minor;
		if (x->type != 'a' && x->type != 'c' && x->type != 'b') {
			free(v);
			return bw_fail(err, 0,
				       "linux.resources.devices[%zu].type: must be a, c or b", i);
		}
		if (x->major < -1 || x->major > 0xfff || x->minor < -1 || x->minor > 0xfffff) {
			free(v);
			return bw_fail(err, 0,
				       "linux.resources.devices[%zu]: invalid device number", i);
		}
		if (parse_access(d->access, &x->access) < 0) {
			free(v);
			return bw_fail(
			    err, 0, "linux.resources.devices[%zu].access: must be made of r, w, m",
			    i);
		}
		x->src = i;
		if (x->access == 0)
			continue;
		k++;
		/* The kernel reads only the first letter of a v1 devices line: any line starting
		 * with "a" resets the cgroup to everything (allow) or nothing (deny), whatever
		 * follows. So "a" stays only as the whole wildcard with every access; any other
		 * "a" rule is the same rule for char and for block devices. */
		if (x->type == 'a' &&
		    !(x->major == -1 && x->minor == -1 && x->access == CG_ACC_ALL)) {
			x->type = 'c';
			v[k] = *x;
			v[k].type = 'b';
			k++;
		}
	}
	memcpy(&v[k], default_rules, sizeof(default_rules));
	*out = v;
	*n = k + ARRAY_SIZE(default_rules);
	return 0;
}

void cg_dev_rule_format(const struct cg_dev_rule *r, char buf[static 64])
{
	char maj[24] = "*", min[24] = "*", acc[4];
	size_t a = 0;
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, r->minor);
	if (r->access & CG_ACC_READ)
		acc[a++] = 'r';
	if (r->access & CG_ACC_WRITE)
		acc[a++] = 'w';
	if (r->access & CG_ACC_MKNOD)
		acc[a++] = 'm';
	acc[a] = '\0';
	snprintf(buf, 64, "%c %s:%s %s", r->type, maj, min, acc);
}

static bool is_wildcard_all(const struct cg_dev_rule *r)
{
	return r->type == 'a' && r->major == -1 && r->minor == -1 && r->access == CG_ACC_ALL;
}

/* Does a cover every device b names (ignoring access)? */
static bool covers(const struct cg_dev_rule *a, const struct cg_dev_rule *b)
{
	return (a->type == 'a' || a->type == b->type) && (a->major == -1 || a->major == b->major) &&
	       (a->minor == -1 || a->minor == b->minor);
}

static bool overlaps(const struct cg_dev_rule *a, const struct cg_dev_rule *b)
{
	return (a->type == 'a' || b->type == 'a' || a->type == b->type) &&
	       (a->major == -1 || b->major == -1 || a->major == b->major) &&
	       (a->minor == -1 || b->minor == -1 || a->minor == b->minor) &&
	       (a->access & b->access) != 0;
}

static bool same_dev(const struct cg_dev_rule *a, const struct cg_dev_rule *b)
{
	return a->type == b->type && a->major == b->major && a->minor == b->minor;
}

static void push(struct cg_v1_dev_write **out, size_t *n, bool allow, const struct cg_dev_rule *r)
{
	*out = xrealloc(*out, (*n + 1) * sizeof(**out));
	(*out)[*n].allow = allow;
	if (r == NULL)
		strcpy((*out)[*n].rule, "a");
	else
		cg_dev_rule_format(r, (*out)[*n].rule);
	(*n)++;
}

/* The kernel keeps a default (allow or deny) and a list of exceptions; an exception is only
 * ever removed by a rule naming exactly its type:major:minor. Track that list, so that a rule
 * against the default is turned into exact removals, or refused when v1 cannot express it. */
struct v1_state {
	bool default_allow;
	struct cg_dev_rule *ex;
	size_t nex;
};

static int plan_against(struct v1_state *st, const struct cg_dev_rule *r,
			struct cg_v1_dev_write **out, size_t *n, struct bw_error *err)
{
	for (size_t j = 0; j < st->nex; j++) {
		struct cg_dev_rule *e = &st->ex[j];
		if (!overlaps(e, r))
			continue;
		if (!covers(r, e))
			return bw_fail(err, 0,
				       "linux.resources.devices[%zu]: cgroup v1 cannot %s part of "
				       "an earlier rule's devices",
				       r->src, r->allow ? "allow" : "deny");
		struct cg_dev_rule w = *e;
		w.access = r->access & e->access;
		push(out, n, r->allow, &w);
		e->access &= ~r->access;
	}
	size_t k = 0;
	for (size_t j = 0; j < st->nex; j++)
		if (st->ex[j].access != 0)
			st->ex[k++] = st->ex[j];
	st->nex = k;
	return 0;
}

static void plan_exception(struct v1_state *st, const struct cg_dev_rule *r,
			   struct cg_v1_dev_write **out, size_t *n)
{
	push(out, n, r->allow, r);
	for (size_t j = 0; j < st->nex; j++)
		if (same_dev(&st->ex[j], r)) {
			st->ex[j].access |= r->access;
			return;
		}
	st->ex = xrealloc(st->ex, (st->nex + 1) * sizeof(*st->ex));
	st->ex[st->nex++] = *r;
}

/* Run the rules through the kernel's model: the writes that get there, and the state they leave
 * (st, the caller frees st->ex). */
static int v1_simulate(const struct cg_dev_rule *r, size_t n, struct v1_state *st,
		       struct cg_v1_dev_write **out, size_t *nout, struct bw_error *err)
{
	struct cg_v1_dev_write *w = NULL;
	size_t nw = 0;

	push(&w, &nw, false, NULL);
	for (size_t i = 0; i < n; i++) {
		if (is_wildcard_all(&r[i])) {
			/* "a" resets the default and empties the exception list. */
			st->default_allow = r[i].allow;
			st->nex = 0;
			push(&w, &nw, r[i].allow, NULL);
		} else if (r[i].allow == st->default_allow) {
			if (plan_against(st, &r[i], &w, &nw, err) < 0) {
				free(w);
				return -1;
			}
		} else {
			plan_exception(st, &r[i], &w, &nw);
		}
	}
	*out = w;
	*nout = nw;
	return 0;
}

int cg_devices_v1_plan(const struct cg_dev_rule *r, size_t n, struct cg_v1_dev_write **out,
		       size_t *nout, struct bw_error *err)
{
	struct v1_state st = {0};
	int q = v1_simulate(r, n, &st, out, nout, err);
	free(st.ex);
	return q;
}

/* One allowed exception as DeviceAllow entries (an "a" one is a char and a block entry). */
static int sd_entries(const struct cg_dev_rule *e, struct cg_sd_dev **out, size_t *n,
		      struct bw_error *err)
{
	char buf[64];
	if (e->major == -1 && e->minor != -1) {
		cg_dev_rule_format(e, buf);
		return bw_fail(
		    err, 0,
		    "linux.resources.devices: `%s` (any major, one minor) has no systemd "
		    "DeviceAllow form; use the cgroupfs driver",
		    buf);
	}
	const char *types = e->type == 'a' ? "cb" : e->type == 'c' ? "c" : "b";
	for (const char *t = types; *t != '\0'; t++) {
		const char *group = *t == 'c' ? "char" : "block";
		struct cg_sd_dev d = {0};
		if (e->major == -1)
			snprintf(d.path, sizeof(d.path), "%s-*", group);
		else if (e->minor == -1)
			snprintf(d.path, sizeof(d.path), "%s-%" PRId64, group, e->major);
		else
			snprintf(d.path, sizeof(d.path), "/dev/%s/%" PRId64 ":%" PRId64, group,
				 e->major, e->minor);
		size_t a = 0;
		if (e->access & CG_ACC_READ)
			d.perms[a++] = 'r';
		if (e->access & CG_ACC_WRITE)
			d.perms[a++] = 'w';
		if (e->access & CG_ACC_MKNOD)
			d.perms[a++] = 'm';
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = d;
	}
	return 0;
}

int cg_devices_sd_plan(const struct cg_dev_rule *r, size_t n, bool *allow_all,
		       struct cg_sd_dev **out, size_t *nout, struct bw_error *err)
{
	struct v1_state st = {0};
	struct cg_v1_dev_write *w = NULL;
	struct cg_sd_dev *v = NULL;
	size_t nw = 0, k = 0;
	int q = v1_simulate(r, n, &st, &w, &nw, err);
	free(w);
	if (q == 0 && st.default_allow && st.nex != 0)
		q = bw_fail(
		    err, 0,
		    "linux.resources.devices: a deny rule after allowing all devices has no "
		    "systemd form (DeviceAllow only allows); use the cgroupfs driver");
	for (size_t j = 0; q == 0 && !st.default_allow && j < st.nex; j++)
		q = sd_entries(&st.ex[j], &v, &k, err);
	free(st.ex);
	if (q < 0) {
		free(v);
		return -1;
	}
	*allow_all = st.default_allow;
	*out = v;
	*nout = k;
	return 0;
}
