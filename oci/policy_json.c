/* The sandbox network policy as a JSON document (the host's file, --policy): every key checked,
 * every error naming the document, the path and the reason. */
#include "oci/policy.h"

#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/policy_internal.h"

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

int policy_json_rules(struct jp *p, yajl_val obj, const char *key, struct pol_rules *out)
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
	    policy_json_rules(p, root, "egress", &out->host.rules[POL_EGRESS]) < 0 ||
	    policy_json_rules(p, root, "ingress", &out->host.rules[POL_INGRESS]) < 0 ||
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
