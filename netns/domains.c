/* Two open-addressing hash tables, one of exact names and one of wildcard suffixes, each
 * remembering the first rule for its key; a lookup probes the name and each of its parent
 * suffixes and keeps the earliest rule, so first-match order holds in O(labels). */
#include "netns/domains.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct dom_slot {
	const char *key; /* NULL: empty */
	uint32_t hash;
	uint32_t rule;
};

struct dom_table {
	struct dom_slot *slots;
	size_t mask;
};

struct dom_index {
	struct dom_table exact, wild;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void table_init(struct dom_table *t, size_t n)
{
	size_t cap = 8;
	while (cap < n * 2)
		cap *= 2;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->mask = cap - 1;
}

static struct dom_slot *table_find(const struct dom_table *t, const char *key, uint32_t h)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct dom_slot *s = &t->slots[i];
		if (s->key == NULL || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

/* Rules are inserted in order, so the first rule for a key stays. */
static void table_add(struct dom_table *t, const char *key, uint32_t rule)
{
	uint32_t h = name_hash(key);
	struct dom_slot *s = table_find(t, key, h);
	if (s->key != NULL)
		return;
	s->key = key;
	s->hash = h;
	s->rule = rule;
}

static long table_get(const struct dom_table *t, const char *key)
{
	const struct dom_slot *s = table_find(t, key, name_hash(key));
	return s->key == NULL ? -1 : (long)s->rule;
}

struct dom_index *dom_index_build(const struct pol_domains *d)
{
	struct dom_index *idx = xcalloc(1, sizeof(*idx));
	table_init(&idx->exact, d->n);
	table_init(&idx->wild, d->n);
	for (size_t i = 0; i < d->n; i++)
		table_add(d->v[i].wildcard ? &idx->wild : &idx->exact, d->v[i].name, (uint32_t)i);
	return idx;
}

void dom_index_free(struct dom_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->exact.slots);
	free(idx->wild.slots);
	free(idx);
}

static long earliest(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

long dom_index_match(const struct dom_index *idx, const char *name)
{
	long best = table_get(&idx->exact, name);
	/* "*.example.com" matches strict subdomains: probe each parent suffix. */
	for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		best = earliest(best, table_get(&idx->wild, dot + 1));
	return best;
}

void dom_policy_init(struct dom_policy *dp, const struct sandbox_policy *p)
{
	dp->p = p;
	dp->host = dom_index_build(&p->host.domains);
	dp->narrow =
	    p->has_narrow && p->narrow.has_domains ? dom_index_build(&p->narrow.domains) : NULL;
}

void dom_policy_free(struct dom_policy *dp)
{
	dom_index_free(dp->host);
	dom_index_free(dp->narrow);
	dp->host = dp->narrow = NULL;
}

static enum pol_action layer_verdict(const struct dom_index *idx, const struct pol_domains *d,
				     const char *name, const char **why)
{
	long r = dom_index_match(idx, name);
	if (r < 0) {
		*why = "default";
		return d->def;
	}
	*why = "rule";
	return d->v[r].action;
}

/* Lowercase without the final dot; false for what no rule could name. */
static bool normalise(const char *q, char out[static 256])
{
	size_t len = strlen(q);
	if (len > 0 && q[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)q[i];
		if (c <= ' ' || c >= 0x7f)
			return false;
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return true;
}

enum pol_action dom_policy_verdict(const struct dom_policy *dp, const char *qname, const char **why)
{
	char name[256];
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	if (!normalise(qname, name)) {
		*why = "invalid name";
		return POL_DENY;
	}
	if (!dp->p->host.has_domains) {
		*why = "no domain rules";
		return POL_DENY;
	}
	if (layer_verdict(dp->host, &dp->p->host.domains, name, why) == POL_DENY)
		return POL_DENY;
	if (dp->narrow != NULL &&
	    layer_verdict(dp->narrow, &dp->p->narrow.domains, name, why) == POL_DENY) {
		*why = "annotation";
		return POL_DENY;
	}
	return POL_ALLOW;
}
