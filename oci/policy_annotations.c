/* The run.bulwark.net.* annotations of a spec, read into a layer of their own and merged into
 * the host's policy: narrowing by default, widening only when the host allows it. */
#include "oci/policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/policy_internal.h"

/* A JSON array of rules in an annotation value, read as the document {"<key>": value} so that
 * errors read "annotations: run.bulwark.net.egress[0].cidr: ...". */
static int ann_rules(const char *key, const char *value, struct pol_rules *out,
		     struct bw_error *err)
{
	_cleanup_free_ char *doc = xasprintf("{\"%s\":%s}", key, value);
	_cleanup_free_ char *what = xasprintf("annotations: %s", key);
	yajl_val root = NULL;
	struct jp p;
	if (oj_parse(doc, strlen(doc), what, false, &root, err) < 0)
		return -1;
	jp_init(&p, "annotations", err);
	int r = 0;
	if (oj_get(root, key) == NULL || oj_get(root, key)->type != yajl_t_array)
		r = jp_fail_at(&p, key, "must be a JSON array of rules");
	if (r == 0)
		r = policy_json_rules(&p, root, key, out);
	oj_free(root);
	if (r < 0)
		pol_rules_free(out);
	return r;
}

/* "a.example.com, *.example.org" appended to d with the given action. */
static int ann_domains(const char *key, const char *value, enum pol_action action,
		       struct pol_domains *d, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL, q[JP_QUOTE_MAX];
	size_t i = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save), i++) {
		while (isspace((unsigned char)*tok))
			tok++;
		for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		struct pol_domain_rule r = {.action = action};
		const char *why;
		if (policy_parse_domain(tok, &r.name, &r.wildcard, &why) < 0)
			return bw_fail(err, 0, "annotations: %s[%zu]: %s %s", key, i, why,
				       jp_quote(q, tok));
		if (d->n >= POLICY_MAX_RULES) {
			free(r.name);
			return bw_fail(err, 0, "annotations: %s: too many names", key);
		}
		d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
		d->v[d->n++] = r;
	}
	return 0;
}

static int ann_default(const char *key, const char *value, struct pol_domains *d, bool *set,
		       struct bw_error *err)
{
	char q[JP_QUOTE_MAX];
	if (strcmp(value, "allow") != 0 && strcmp(value, "deny") != 0)
		return bw_fail(err, 0, "annotations: %s: unknown action %s (allow or deny)", key,
			       jp_quote(q, value));
	d->def = value[0] == 'a' ? POL_ALLOW : POL_DENY;
	*set = true;
	return 0;
}

/* What the annotations said, before it is merged. */
struct ann_layer {
	struct pol_rules rules[POL_NDIRS];
	bool has_rules[POL_NDIRS];
	struct pol_domains deny, allow, def;
	bool def_set;
};

static int ann_read(const struct oci_kv *kv, struct ann_layer *a, struct bw_error *err)
{
	const char *name = kv->key + strlen(POLICY_ANNOTATION_PREFIX);
	char q[JP_QUOTE_MAX];
	int dir = strcmp(name, "egress") == 0	 ? POL_EGRESS
		  : strcmp(name, "ingress") == 0 ? POL_INGRESS
						 : -1;
	if (dir >= 0) {
		if (a->has_rules[dir])
			return bw_fail(err, 0, "annotations: %s: given twice", kv->key);
		a->has_rules[dir] = true;
		return ann_rules(kv->key, kv->value, &a->rules[dir], err);
	}
	if (strcmp(name, "allow-domains") == 0)
		return ann_domains(kv->key, kv->value, POL_ALLOW, &a->allow, err);
	if (strcmp(name, "deny-domains") == 0)
		return ann_domains(kv->key, kv->value, POL_DENY, &a->deny, err);
	if (strcmp(name, "domain-default") == 0)
		return ann_default(kv->key, kv->value, &a->def, &a->def_set, err);
	return bw_fail(err, 0,
		       "annotations: %s: unknown network annotation (known: egress, "
		       "ingress, allow-domains, deny-domains, domain-default)",
		       jp_quote(q, kv->key));
}

static void ann_free(struct ann_layer *a)
{
	for (int d = 0; d < POL_NDIRS; d++)
		pol_rules_free(&a->rules[d]);
	pol_domains_free(&a->deny);
	pol_domains_free(&a->allow);
}

/* dst = front ++ dst; front is emptied. */
static void prepend(void **dst, size_t *n, void **front, size_t *nf, size_t size)
{
	if (*nf == 0)
		return;
	char *v = xmalloc((*n + *nf) * size);
	if (*nf > 0)
		memcpy(v, *front, *nf * size);
	if (*n > 0)
		memcpy(v + *nf * size, *dst, *n * size);
	free(*dst);
	free(*front);
	*dst = v;
	*n += *nf;
	*front = NULL;
	*nf = 0;
}

/* Denies first, then allows: within one annotation layer a name both denied and allowed is
 * denied. */
static void merge_domains(struct pol_domains *into, struct ann_layer *a)
{
	prepend((void **)&into->v, &into->n, (void **)&a->allow.v, &a->allow.n,
		sizeof(struct pol_domain_rule));
	prepend((void **)&into->v, &into->n, (void **)&a->deny.v, &a->deny.n,
		sizeof(struct pol_domain_rule));
}

static void merge(struct sandbox_policy *p, struct ann_layer *a)
{
	bool names = a->deny.n > 0 || a->allow.n > 0 || a->def_set;
	if (p->allow_override) {
		for (int d = 0; d < POL_NDIRS; d++)
			prepend((void **)&p->host.rules[d].v, &p->host.rules[d].n,
				(void **)&a->rules[d].v, &a->rules[d].n, sizeof(struct pol_rule));
		merge_domains(&p->host.domains, a);
		if (a->def_set)
			p->host.domains.def = a->def.def;
		p->host.has_domains |= names;
		return;
	}
	for (int d = 0; d < POL_NDIRS; d++) {
		if (!a->has_rules[d])
			continue;
		p->has_narrow = true;
		p->narrow_dir[d] = true;
		prepend((void **)&p->narrow.rules[d].v, &p->narrow.rules[d].n,
			(void **)&a->rules[d].v, &a->rules[d].n, sizeof(struct pol_rule));
	}
	if (!names)
		return;
	p->has_narrow = true;
	p->narrow.has_domains = true;
	/* An allowlist in an annotation means "only these": unlisted names are denied. */
	p->narrow.domains.def = a->def_set ? a->def.def : a->allow.n > 0 ? POL_DENY : POL_ALLOW;
	merge_domains(&p->narrow.domains, a);
}

int policy_apply_annotations(struct sandbox_policy *p, const struct oci_kv *ann, size_t n,
			     struct bw_error *err)
{
	struct ann_layer a = {0};
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		if (str_has_prefix(ann[i].key, POLICY_ANNOTATION_PREFIX))
			r = ann_read(&ann[i], &a, err);
	if (r == 0)
		merge(p, &a);
	ann_free(&a);
	return r;
}

int policy_for_spec(const char *host_path, const struct oci_spec *spec, struct sandbox_policy *out,
		    struct bw_error *err)
{
	if (host_path != NULL && policy_load(host_path, out, err) < 0)
		return -1;
	if (host_path == NULL)
		policy_init_default(out);
	if (policy_apply_annotations(out, spec->annotations, spec->n_annotations, err) < 0) {
		policy_free(out);
		return -1;
	}
	return 0;
}
