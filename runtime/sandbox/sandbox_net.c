/* Turning the sandbox's network flags into policy rules. Everything is validated here with the
 * policy module's own parsers, so a bad flag fails before anything exists. */
#include "runtime/sandbox/sandbox_net.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "oci/policy.h"

struct allow_rule {
	char *cidr;
	const char *proto; /* NULL: tcp and udp when there is a port, else any */
	uint32_t lo, hi;   /* 0: every port */
};

static int parse_ports(const char *s, struct allow_rule *r)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *dash = strchr(copy, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (parse_u32(copy, &r->lo) < 0 || r->lo < 1 || r->lo > 65535)
		return -1;
	r->hi = r->lo;
	if (dash != NULL && (parse_u32(dash, &r->hi) < 0 || r->hi < r->lo || r->hi > 65535))
		return -1;
	return 0;
}

/* CIDR[:PORT[-PORT]][/tcp|/udp]; an IPv6 CIDR with a port goes in brackets. */
static int parse_allow(const char *s, struct allow_rule *r, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	memset(r, 0, sizeof(*r));
	char *last = strrchr(copy, '/');
	if (last != NULL && (strcmp(last, "/tcp") == 0 || strcmp(last, "/udp") == 0)) {
		r->proto = last[1] == 't' ? "tcp" : "udp";
		*last = '\0';
	}
	char *addr = copy, *port = NULL;
	if (copy[0] == '[') {
		char *close = strchr(copy, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return bw_fail(err, 0, "--allow %s: expected [IPv6-CIDR]:PORT", s);
		*close = '\0';
		addr = copy + 1;
		port = close[1] == ':' ? close + 2 : NULL;
	} else if (strchr(copy, ':') != NULL && strchr(copy, ':') == strrchr(copy, ':')) {
		port = strchr(copy, ':');
		*port++ = '\0';
	}
	struct pol_cidr c;
	const char *why;
	if (policy_parse_cidr(addr, &c, &why) < 0)
		return bw_fail(err, 0, "--allow %s: %s \"%s\"", s, why, addr);
	if (port != NULL && parse_ports(port, r) < 0)
		return bw_fail(
		    err, 0,
		    "--allow %s: expected a port or PORT-PORT between 1 and 65535, got \"%s\"", s,
		    port);
	char buf[64];
	r->cidr = xstrdup(policy_cidr_str(&c, buf, sizeof(buf)));
	return 0;
}

#define S(str) json_str(g, (str))

static void gen_rule(yajl_gen g, const struct allow_rule *r, const char *proto)
{
	yajl_gen_map_open(g);
	S("action");
	S("allow");
	S("cidr");
	S(r->cidr);
	if (proto != NULL) {
		S("protocol");
		S(proto);
	}
	if (r->lo != 0 && r->lo == r->hi) {
		S("port");
		yajl_gen_integer(g, r->lo);
	} else if (r->lo != 0) {
		char ports[16];
		snprintf(ports, sizeof(ports), "%u-%u", r->lo, r->hi);
		S("port");
		S(ports);
	}
	yajl_gen_map_close(g);
}

static void gen_rules(yajl_gen g, const struct allow_rule *v, size_t n)
{
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		if (v[i].proto == NULL && v[i].lo != 0) {
			gen_rule(g, &v[i], "tcp");
			gen_rule(g, &v[i], "udp");
		} else {
			gen_rule(g, &v[i], v[i].proto);
		}
	}
	yajl_gen_array_close(g);
}

/* "ports": ["443/tcp", ...] from the validated text after the colon of --allow-domain. */
static void gen_domain_ports(yajl_gen g, const char *ports)
{
	_cleanup_free_ char *copy = xstrdup(ports);
	char *save = NULL;
	S("ports");
	yajl_gen_array_open(g);
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		S(tok);
	yajl_gen_array_close(g);
}

static char *policy_document(const struct allow_rule *rules, size_t n, char **domains,
			     char **dports, char **dns)
{
	yajl_gen g = json_gen_new(false);
	yajl_gen_map_open(g);
	if (dns != NULL) {
		S("dns");
		yajl_gen_map_open(g);
		S("upstream");
		yajl_gen_array_open(g);
		for (size_t i = 0; dns[i] != NULL; i++)
			S(dns[i]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	S("egress");
	gen_rules(g, rules, n);
	if (domains != NULL) {
		S("domains");
		yajl_gen_map_open(g);
		S("default");
		S("deny");
		S("rules");
		yajl_gen_array_open(g);
		for (size_t i = 0; domains[i] != NULL; i++) {
			yajl_gen_map_open(g);
			S("action");
			S("allow");
			S("name");
			S(domains[i]);
			if (dports[i][0] != '\0')
				gen_domain_ports(g, dports[i]);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return json_take(g, false, NULL);
}

/* NAME[:PORT[/tcp|/udp][,PORT...]]: the name goes to domains, the checked ports (or "") to
 * dports, index for index. */
static int parse_allow_domain(const char *s, char ***domains, char ***dports, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *ports = strchr(copy, ':'), *name = NULL, *save = NULL;
	bool wild;
	const char *why;
	if (ports != NULL)
		*ports++ = '\0';
	if (policy_parse_domain(copy, &name, &wild, &why) < 0)
		return bw_fail(err, 0, "--allow-domain %s: %s", s, why);
	strv_push_take(domains, wild ? xasprintf("*.%s", name) : xstrdup(name));
	free(name);
	strv_push_take(dports, xstrdup(ports != NULL ? ports : ""));
	if (ports == NULL)
		return 0;
	struct pol_domain_rule r = {.action = POL_ALLOW};
	_cleanup_free_ char *list = xstrdup(ports);
	char *tok = strtok_r(list, ",", &save);
	if (tok == NULL)
		return bw_fail(err, 0, "--allow-domain %s: no port after the colon", s);
	for (; tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (policy_parse_domain_port(tok, &r, &why) < 0)
			return bw_fail(err, 0, "--allow-domain %s: %s, got \"%s\"", s, why, tok);
	return 0;
}

static void free_rules(struct allow_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].cidr);
	free(v);
}

int sandbox_net_plan(const struct sandbox_net_flags *f, const char *host_policy,
		     struct sandbox_net_plan *out, struct bw_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t n = strv_len(f->allow);
	bool any = n > 0 || f->allow_domain != NULL || f->policy != NULL;
	if (f->network != NULL && strcmp(f->network, "none") != 0)
		return bw_fail(err, 0,
			       "--network: only \"none\" (the default); open the network with "
			       "--allow, --allow-domain or --policy");
	if (f->network != NULL && any)
		return bw_fail(
		    err, 0,
		    "--network none: cannot be combined with --allow, --allow-domain or --policy");
	if (f->policy != NULL && host_policy != NULL)
		return bw_fail(err, 0,
			       "--policy: the host policy is already set (global --policy); narrow "
			       "it with --allow and --allow-domain");
	if (f->dns != NULL && f->allow_domain == NULL)
		return bw_fail(err, 0,
			       "--dns: only with --allow-domain (the resolver the DNS proxy asks)");
	if (f->dns != NULL && (f->policy != NULL || host_policy != NULL))
		return bw_fail(err, 0, "--dns: a policy file is in use; set dns.upstream there");
	if (strv_len(f->dns) > POLICY_MAX_UPSTREAMS)
		return bw_fail(err, 0, "--dns: at most %d resolvers", POLICY_MAX_UPSTREAMS);
	for (size_t i = 0; f->dns != NULL && f->dns[i] != NULL; i++) {
		struct pol_cidr c;
		const char *why;
		if (policy_parse_cidr(f->dns[i], &c, &why) < 0 || strchr(f->dns[i], '/') != NULL)
			return bw_fail(err, 0, "--dns %s: expected an IPv4 or IPv6 address",
				       f->dns[i]);
	}
	struct allow_rule *rules = xcalloc(n + 1, sizeof(*rules));
	char **domains = NULL, **dports = NULL;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = parse_allow(f->allow[i], &rules[i], err);
	for (size_t i = 0; f->allow_domain != NULL && f->allow_domain[i] != NULL && r == 0; i++) {
		r = parse_allow_domain(f->allow_domain[i], &domains, &dports, err);
		if (r == 0 && dports[i][0] != '\0' && (f->policy != NULL || host_policy != NULL))
			r = bw_fail(err, 0,
				    "--allow-domain %s: ports only without a policy file; put "
				    "\"ports\" in its domain rules",
				    f->allow_domain[i]);
	}
	if (r == 0 && any) {
		const char *file = f->policy ? f->policy : host_policy;
		if (file == NULL) {
			out->policy_doc = policy_document(rules, n, domains, dports, f->dns);
		} else {
			out->policy = file;
			if (n > 0) {
				yajl_gen g = json_gen_new(false);
				gen_rules(g, rules, n);
				_cleanup_free_ char *json = json_take(g, false, NULL);
				strv_push_take(
				    &out->annotations,
				    xasprintf(POLICY_ANNOTATION_PREFIX "egress=%s", json));
			}
			if (domains != NULL) {
				char *kv = xstrdup(POLICY_ANNOTATION_PREFIX "allow-domains=");
				for (size_t i = 0; domains[i] != NULL; i++) {
					char *next =
					    xasprintf("%s%s%s", kv, i ? "," : "", domains[i]);
					free(kv);
					kv = next;
				}
				strv_push_take(&out->annotations, kv);
			}
		}
	}
	free_rules(rules, n);
	strv_free(domains);
	strv_free(dports);
	return r;
}

void sandbox_net_plan_free(struct sandbox_net_plan *p)
{
	free(p->policy_doc);
	strv_free(p->annotations);
	memset(p, 0, sizeof(*p));
}

void sandbox_net_flags_free(struct sandbox_net_flags *f)
{
	free(f->network);
	free(f->policy);
	strv_free(f->allow);
	strv_free(f->allow_domain);
	strv_free(f->dns);
}
