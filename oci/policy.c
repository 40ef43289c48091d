/* The sandbox network policy document: parsing and validation of the host's JSON file and of
 * the run.bulwark.net.* annotations, and their merge (narrowing by default, widening only when
 * the host allows it). Every error names the document, the path and the reason. */
#include "oci/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/spec_internal.h"

#define TTL_FLOOR_DEFAULT 5
#define TTL_CAP_DEFAULT 3600
#define TTL_MAX 604800

void policy_init_default(struct sandbox_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->host.domains.def = POL_DENY;
	p->narrow.domains.def = POL_ALLOW;
	p->ttl_floor = TTL_FLOOR_DEFAULT;
	p->ttl_cap = TTL_CAP_DEFAULT;
}

static void rules_free(struct pol_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].description);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void domains_free(struct pol_domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static void layer_free(struct pol_layer *l)
{
	for (int d = 0; d < POL_NDIRS; d++)
		rules_free(&l->rules[d]);
	domains_free(&l->domains);
}

void policy_free(struct sandbox_policy *p)
{
	free(p->audit_path);
	layer_free(&p->host);
	layer_free(&p->narrow);
	policy_init_default(p);
}

/* ---- scalar syntaxes ---- */

static bool host_bits_clear(const uint8_t *a, size_t bytes, unsigned prefix)
{
	for (size_t bit = prefix; bit < bytes * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int policy_parse_cidr(const char *s, struct pol_cidr *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	memset(out, 0, sizeof(*out));
	*why = "invalid CIDR";
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	unsigned max = out->family == AF_INET ? 32 : 128;
	uint32_t prefix = max;
	if (slash != NULL &&
	    (!isdigit((unsigned char)slash[1]) || parse_u32(slash + 1, &prefix) < 0 ||
	     prefix > max || (slash[1] == '0' && slash[2] != '\0')))
		return -1;
	if (!host_bits_clear(out->addr, max / 8, prefix)) {
		*why = "host bits set in CIDR";
		return -1;
	}
	out->prefix = (uint8_t)prefix;
	return 0;
}

const char *policy_cidr_str(const struct pol_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (c->family == 0) {
		snprintf(buf, len, "any");
		return buf;
	}
	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
	return buf;
}

static bool label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Labels of 1-63 letters, digits, '-' or '_', not starting or ending with '-'. */
static bool name_valid(const char *s)
{
	size_t len = strlen(s), lab = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
				return false;
			lab = 0;
		} else if (!label_char(s[i])) {
			return false;
		} else {
			lab++;
		}
	}
	return true;
}

int policy_parse_domain(const char *s, char **name, bool *wildcard, const char **why)
{
	*wildcard = str_has_prefix(s, "*.");
	const char *body = *wildcard ? s + 2 : s;
	if (strchr(body, '*') != NULL) {
		*why = "bad wildcard";
		return -1;
	}
	_cleanup_free_ char *n = xstrdup(body);
	size_t len = strlen(n);
	if (len > 0 && n[len - 1] == '.')
		n[--len] = '\0';
	for (char *c = n; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!name_valid(n)) {
		*why = "invalid domain name";
		return -1;
	}
	*name = steal_ptr(&n);
	return 0;
}

int policy_parse_domain_port(const char *s, struct pol_domain_rule *r, const char **why)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *slash = strchr(copy, '/');
	uint32_t port;
	bool tcp = true, udp = true;
	if (slash != NULL) {
		*slash++ = '\0';
		tcp = strcmp(slash, "tcp") == 0;
		udp = strcmp(slash, "udp") == 0;
	}
	if ((!tcp && !udp) || parse_u32(copy, &port) < 0 || port == 0 || port > 65535) {
		*why = "expected PORT, PORT/tcp or PORT/udp (one port, 1-65535)";
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		uint8_t proto = i == 0 ? IPPROTO_TCP : IPPROTO_UDP;
		if (!(i == 0 ? tcp : udp))
			continue;
		bool dup = false;
		for (size_t k = 0; k < r->n_ports; k++)
			dup |= r->ports[k].proto == proto && r->ports[k].port == port;
		if (dup)
			continue;
		if (r->n_ports == POL_MAX_DOMAIN_PORTS) {
			*why = "too many ports (at most 8 port/protocol pairs a rule)";
			return -1;
		}
		r->ports[r->n_ports++] = (struct pol_dport){proto, (uint16_t)port};
	}
	return 0;
}

const char *policy_proto_name(enum pol_proto p)
{
	static const char *names[] = {"any", "tcp", "udp", "icmp"};
	return names[p];
}

static int parse_action(struct jp *p, const char *s, enum pol_action *out)
{
	char q[JP_QUOTE_MAX];
	if (strcmp(s, "allow") == 0)
		*out = POL_ALLOW;
	else if (strcmp(s, "deny") == 0)
		*out = POL_DENY;
	else
		return jp_fail(p, "unknown action %s (allow or deny)", jp_quote(q, s));
	return 0;
}

/* ---- JSON documents ---- */

/* Unknown members are errors: a misspelt "cidr" must not turn a rule into allow-any. */
static int check_keys(struct jp *p, yajl_val obj, const char *const *known)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		bool ok = false;
		for (const char *const *n = known; *n != NULL && !ok; n++)
			ok = strcmp(*n, k) == 0;
		if (!ok) {
			size_t mark = jp_mapkey(p, k);
			jp_fail(p, "unknown member");
			jp_pop(p, mark);
			return -1;
		}
	}
	return 0;
}

static int parse_port_string(struct jp *p, const char *s, struct pol_rule *r)
{
	char q[JP_QUOTE_MAX];
	_cleanup_free_ char *lo = xstrdup(s);
	char *dash = strchr(lo, '-');
	uint32_t a, b;
	if (dash != NULL)
		*dash = '\0';
	if (parse_u32(lo, &a) < 0 || (dash != NULL ? parse_u32(dash + 1, &b) : (b = a, 0)) < 0 ||
	    a == 0 || b > 65535 || a > b)
		return jp_fail(p, "invalid port or range %s (1-65535, \"lo-hi\")", jp_quote(q, s));
	r->port_lo = (uint16_t)a;
	r->port_hi = (uint16_t)b;
	return 0;
}

static int parse_port(struct jp *p, yajl_val obj, struct pol_rule *r)
{
	yajl_val v = oj_get(obj, "port");
	if (v == NULL)
		return 0;
	size_t mark = jp_key(p, "port");
	if (r->proto != POL_PROTO_TCP && r->proto != POL_PROTO_UDP)
		return jp_fail(p, "ports need protocol tcp or udp");
	if (v->type == yajl_t_string) {
		if (parse_port_string(p, v->u.string, r) < 0)
			return -1;
	} else {
		uint64_t n;
		if (oj_u64(p, v, 65535, &n) < 0)
			return -1;
		if (n == 0)
			return jp_fail(p, "port 0 is not a port");
		r->port_lo = r->port_hi = (uint16_t)n;
	}
	jp_pop(p, mark);
	return 0;
}

static int parse_proto(struct jp *p, yajl_val obj, enum pol_proto *out)
{
	_cleanup_free_ char *s = NULL;
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, obj, "protocol", &s) < 0)
		return -1;
	*out = POL_PROTO_ANY;
	if (s == NULL)
		return 0;
	for (int i = 0; i <= POL_PROTO_ICMP; i++)
		if (strcmp(s, policy_proto_name((enum pol_proto)i)) == 0) {
			*out = (enum pol_proto)i;
			return 0;
		}
	return jp_fail_at(p, "protocol", "unknown protocol %s (tcp, udp, icmp or any)",
			  jp_quote(q, s));
}

static int parse_rule(struct jp *p, yajl_val v, void *elem)
{
	static const char *const known[] = {"action", "protocol",    "port",
					    "cidr",   "description", NULL};
	struct pol_rule *r = elem;
	_cleanup_free_ char *action = NULL, *cidr = NULL;
	char q[JP_QUOTE_MAX];
	const char *why;
	if (check_keys(p, v, known) < 0 || oj_f_string(p, v, "action", &action) < 0 ||
	    oj_f_string(p, v, "cidr", &cidr) < 0 ||
	    oj_f_string(p, v, "description", &r->description) < 0)
		return -1;
	if (action == NULL)
		return jp_fail_at(p, "action", "required (allow or deny)");
	size_t mark = jp_key(p, "action");
	if (parse_action(p, action, &r->action) < 0)
		return -1;
	jp_pop(p, mark);
	if (parse_proto(p, v, &r->proto) < 0 || parse_port(p, v, r) < 0)
		return -1;
	if (cidr != NULL && policy_parse_cidr(cidr, &r->cidr, &why) < 0)
		return jp_fail_at(p, "cidr", "%s %s", why, jp_quote(q, cidr));
	return 0;
}

static int parse_rules(struct jp *p, yajl_val obj, const char *key, struct pol_rules *out)
{
	return oj_f_objects(p, obj, key, sizeof(struct pol_rule), POLICY_MAX_RULES,
			    (void **)&out->v, &out->n, parse_rule);
}

static int parse_domain_ports(struct jp *p, yajl_val v, struct pol_domain_rule *r)
{
	_cleanup_strv_ char **ports = NULL;
	char q[JP_QUOTE_MAX];
	const char *why;
	if (oj_get(v, "ports") == NULL)
		return 0;
	if (oj_f_strv(p, v, "ports", &ports) < 0)
		return -1;
	if (r->action != POL_ALLOW)
		return jp_fail_at(p, "ports", "only allow rules have ports");
	if (strv_len(ports) == 0)
		return jp_fail_at(p, "ports", "empty (leave it out for every port)");
	size_t mark = jp_key(p, "ports");
	for (size_t i = 0; ports[i] != NULL; i++) {
		size_t imark = jp_idx(p, i);
		if (policy_parse_domain_port(ports[i], r, &why) < 0)
			return jp_fail(p, "%s, got %s", why, jp_quote(q, ports[i]));
		jp_pop(p, imark);
	}
	jp_pop(p, mark);
	return 0;
}

static int parse_domain_rule(struct jp *p, yajl_val v, void *elem)
{
	static const char *const known[] = {"action", "name", "ports", NULL};
	struct pol_domain_rule *r = elem;
	_cleanup_free_ char *action = NULL, *name = NULL;
	char q[JP_QUOTE_MAX];
	const char *why;
	if (check_keys(p, v, known) < 0 || oj_f_string(p, v, "action", &action) < 0 ||
	    oj_f_string(p, v, "name", &name) < 0)
		return -1;
	if (action == NULL)
		return jp_fail_at(p, "action", "required (allow or deny)");
	if (name == NULL)
		return jp_fail_at(p, "name", "required");
	size_t mark = jp_key(p, "action");
	if (parse_action(p, action, &r->action) < 0)
		return -1;
	jp_pop(p, mark);
	if (policy_parse_domain(name, &r->name, &r->wildcard, &why) < 0)
		return jp_fail_at(p, "name", "%s %s", why, jp_quote(q, name));
	return parse_domain_ports(p, v, r);
}

static int parse_domains(struct jp *p, yajl_val v, void *out)
{
	static const char *const known[] = {"rules", "default", NULL};
	struct pol_domains *d = out;
	_cleanup_free_ char *def = NULL;
	if (check_keys(p, v, known) < 0 ||
	    oj_f_objects(p, v, "rules", sizeof(struct pol_domain_rule), POLICY_MAX_RULES,
			 (void **)&d->v, &d->n, parse_domain_rule) < 0 ||
	    oj_f_string(p, v, "default", &def) < 0)
		return -1;
	if (def == NULL)
		return jp_fail_at(p, "default",
				  "required (allow or deny): say what unlisted names get");
	size_t mark = jp_key(p, "default");
	if (parse_action(p, def, &d->def) < 0)
		return -1;
	jp_pop(p, mark);
	return 0;
}

static int parse_upstreams(struct jp *p, yajl_val dns, struct sandbox_policy *out)
{
	_cleanup_strv_ char **ups = NULL;
	char q[JP_QUOTE_MAX];
	const char *why;
	if (oj_f_strv(p, dns, "upstream", &ups) < 0)
		return -1;
	size_t n = strv_len(ups);
	if (n > POLICY_MAX_UPSTREAMS)
		return jp_fail_at(p, "upstream", "too many resolvers (max %d)",
				  POLICY_MAX_UPSTREAMS);
	size_t mark = jp_key(p, "upstream");
	for (size_t i = 0; i < n; i++) {
		size_t imark = jp_idx(p, i);
		struct pol_cidr *c = &out->upstreams[i];
		if (policy_parse_cidr(ups[i], c, &why) < 0 ||
		    c->prefix != (c->family == AF_INET ? 32 : 128))
			return jp_fail(p, "not an IP address: %s", jp_quote(q, ups[i]));
		jp_pop(p, imark);
	}
	jp_pop(p, mark);
	out->n_upstreams = n;
	return 0;
}

static int parse_dns(struct jp *p, yajl_val v, void *elem)
{
	static const char *const known[] = {"upstream", "ttlFloor", "ttlCap", "openPrivateAnswers",
					    NULL};
	struct sandbox_policy *out = elem;
	uint32_t floor = out->ttl_floor, cap = out->ttl_cap;
	uint64_t n;
	bool set = false;
	if (check_keys(p, v, known) < 0 || parse_upstreams(p, v, out) < 0)
		return -1;
	if (oj_f_u64(p, v, "ttlFloor", TTL_MAX, &n, &set) < 0)
		return -1;
	if (set)
		floor = (uint32_t)n;
	set = false;
	if (oj_f_u64(p, v, "ttlCap", TTL_MAX, &n, &set) < 0)
		return -1;
	if (set)
		cap = (uint32_t)n;
	if (floor == 0 || cap < floor)
		return jp_fail(p, "need 0 < ttlFloor <= ttlCap (have %u, %u)", floor, cap);
	if (oj_f_bool(p, v, "openPrivateAnswers", &out->open_private_answers) < 0)
		return -1;
	out->ttl_floor = floor;
	out->ttl_cap = cap;
	return 0;
}

/* An absolute, lexically clean file path: the audit log is opened by root processes, so it
 * must not depend on their working directory. */
static int parse_audit(struct jp *p, yajl_val root, struct sandbox_policy *out)
{
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, root, "audit", &out->audit_path) < 0)
		return -1;
	if (out->audit_path == NULL)
		return 0;
	const char *s = out->audit_path;
	size_t len = strlen(s);
	_cleanup_free_ char *clean = s[0] == '/' ? fs_path_clean(s) : NULL;
	if (clean == NULL || strcmp(clean, s) != 0 || len < 2 || len >= 4096 || s[len - 1] == '/')
		return jp_fail_at(p, "audit", "must be an absolute, clean file path, got %s",
				  jp_quote(q, s));
	return 0;
}

static int parse_document(struct jp *p, yajl_val root, struct sandbox_policy *out)
{
	static const char *const known[] = {"allowOverride", "egress", "ingress", "domains",
					    "dns",	     "audit",  NULL};
	if (check_keys(p, root, known) < 0 || parse_audit(p, root, out) < 0 ||
	    oj_f_bool(p, root, "allowOverride", &out->allow_override) < 0 ||
	    parse_rules(p, root, "egress", &out->host.rules[POL_EGRESS]) < 0 ||
	    parse_rules(p, root, "ingress", &out->host.rules[POL_INGRESS]) < 0 ||
	    oci_parse_member(p, root, "dns", out, parse_dns) < 0)
		return -1;
	out->host.has_domains = oj_get(root, "domains") != NULL;
	return oci_parse_member(p, root, "domains", &out->host.domains, parse_domains);
}

int policy_parse(const char *json, size_t len, const char *what, struct sandbox_policy *out,
		 struct bw_error *err)
{
	yajl_val root = NULL;
	struct jp p;
	policy_init_default(out);
	if (oj_parse(json, len, what, false, &root, err) < 0)
		return -1;
	jp_init(&p, what, err);
	int r = parse_document(&p, root, out);
	oj_free(root);
	if (r < 0)
		policy_free(out);
	return r;
}

int policy_load(const char *path, struct sandbox_policy *out, struct bw_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	policy_init_default(out);
	if (fs_read_file(path, POLICY_MAX_BYTES, &buf, &len, err) < 0)
		return bw_wrap(err, "policy");
	return policy_parse(buf, len, path, out, err);
}

/* ---- annotations ---- */

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
		r = parse_rules(&p, root, key, out);
	oj_free(root);
	if (r < 0)
		rules_free(out);
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
		rules_free(&a->rules[d]);
	domains_free(&a->deny);
	domains_free(&a->allow);
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

/* ---- questions the enforcement asks ---- */

static bool layer_names_allow_any(const struct pol_layer *l)
{
	if (!l->has_domains)
		return false;
	if (l->domains.def == POL_ALLOW)
		return true;
	for (size_t i = 0; i < l->domains.n; i++)
		if (l->domains.v[i].action == POL_ALLOW)
			return true;
	return false;
}

bool policy_uses_domains(const struct sandbox_policy *p)
{
	return layer_names_allow_any(&p->host) &&
	       (!p->has_narrow || !p->narrow.has_domains || layer_names_allow_any(&p->narrow));
}

bool policy_allows_egress_proto(const struct sandbox_policy *p, enum pol_proto proto)
{
	const struct pol_rules *r = &p->host.rules[POL_EGRESS];
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == POL_ALLOW &&
		    (r->v[i].proto == POL_PROTO_ANY || r->v[i].proto == proto))
			return true;
	if (!policy_uses_domains(p))
		return false;
	const struct pol_domains *d = &p->host.domains;
	if (!p->host.has_domains || d->def == POL_ALLOW)
		return true;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].action != POL_ALLOW)
			continue;
		if (d->v[i].n_ports == 0)
			return true;
		for (size_t k = 0; k < d->v[i].n_ports; k++)
			if (proto == POL_PROTO_UDP && d->v[i].ports[k].proto == IPPROTO_UDP)
				return true;
	}
	return false;
}

bool policy_allows_egress(const struct sandbox_policy *p)
{
	if (policy_uses_domains(p))
		return true;
	const struct pol_rules *r = &p->host.rules[POL_EGRESS];
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == POL_ALLOW)
			return true;
	return false;
}
