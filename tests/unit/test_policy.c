/* The sandbox network policy: the host document's syntax and every validation message, the
 * annotations (narrowing, widening when allowed), and domain rule lookup at scale. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "netns/domains.h"
#include "oci/policy.h"

/* Tests write JSON with single quotes; this turns them into double quotes. */
static char *json(const char *s)
{
	char *d = xstrdup(s);
	for (char *c = d; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	return d;
}

static void parse_ok(const char *doc, struct sandbox_policy *p)
{
	struct bw_error err = {0};
	char *j = json(doc);
	int r = policy_parse(j, strlen(j), "policy.json", p, &err);
	free(j);
	cr_assert_eq(r, 0, "unexpected error: %s", err.msg);
}

static void parse_fails(const char *doc, const char *msg)
{
	struct bw_error err = {0};
	struct sandbox_policy p;
	char *j = json(doc);
	int r = policy_parse(j, strlen(j), "policy.json", &p, &err);
	free(j);
	cr_assert_eq(r, -1, "accepted: %s", doc);
	cr_assert_str_eq(err.msg, msg);
}

static int annotate(struct sandbox_policy *p, const char *key, const char *value,
		    struct bw_error *err)
{
	char *v = json(value);
	struct oci_kv kv = {(char *)key, v};
	int r = policy_apply_annotations(p, &kv, 1, err);
	free(v);
	return r;
}

Test(policy, empty_document_denies_everything)
{
	struct sandbox_policy p;
	parse_ok("{}", &p);
	cr_assert_eq(p.host.rules[POL_EGRESS].n, 0);
	cr_assert_not(policy_allows_egress(&p));
	cr_assert_not(policy_uses_domains(&p));
	cr_assert_eq(p.ttl_floor, 5);
	cr_assert_eq(p.ttl_cap, 3600);
	policy_free(&p);
}

Test(policy, rules_keep_order_and_fields)
{
	struct sandbox_policy p;
	parse_ok("{'egress':[{'action':'deny','protocol':'tcp','port':'8000-8080',"
		 "'cidr':'203.0.113.0/24','description':'no alt http'},"
		 "{'action':'allow','protocol':'udp','port':53,'cidr':'2001:db8::/32'},"
		 "{'action':'allow','protocol':'icmp'}],"
		 "'ingress':[{'action':'allow','protocol':'tcp','port':22}]}",
		 &p);
	const struct pol_rules *e = &p.host.rules[POL_EGRESS];
	char buf[64];
	cr_assert_eq(e->n, 3);
	cr_assert_eq(e->v[0].action, POL_DENY);
	cr_assert_eq(e->v[0].proto, POL_PROTO_TCP);
	cr_assert_eq(e->v[0].port_lo, 8000);
	cr_assert_eq(e->v[0].port_hi, 8080);
	cr_assert_str_eq(policy_cidr_str(&e->v[0].cidr, buf, sizeof(buf)), "203.0.113.0/24");
	cr_assert_str_eq(e->v[0].description, "no alt http");
	cr_assert_eq(e->v[1].port_lo, 53);
	cr_assert_str_eq(policy_cidr_str(&e->v[1].cidr, buf, sizeof(buf)), "2001:db8::/32");
	cr_assert_eq(e->v[2].cidr.family, 0);
	cr_assert_eq(p.host.rules[POL_INGRESS].n, 1);
	cr_assert(policy_allows_egress(&p));
	policy_free(&p);
}

Test(policy, bad_cidr_names_path_and_value)
{
	parse_fails("{'egress':[{'action':'allow'},{'action':'allow'},{'action':'allow'},"
		    "{'action':'allow','cidr':'10.0.0.0/33'}]}",
		    "policy.json: egress[3].cidr: invalid CIDR \"10.0.0.0/33\"");
	parse_fails("{'egress':[{'action':'allow','cidr':'10.0.0.1/8'}]}",
		    "policy.json: egress[0].cidr: host bits set in CIDR \"10.0.0.1/8\"");
	parse_fails("{'ingress':[{'action':'allow','cidr':'fe80::/129'}]}",
		    "policy.json: ingress[0].cidr: invalid CIDR \"fe80::/129\"");
	parse_fails("{'egress':[{'action':'allow','cidr':'10.0.0.0/'}]}",
		    "policy.json: egress[0].cidr: invalid CIDR \"10.0.0.0/\"");
	parse_fails("{'egress':[{'action':'allow','cidr':'example.com'}]}",
		    "policy.json: egress[0].cidr: invalid CIDR \"example.com\"");
}

Test(policy, rule_fields_are_checked)
{
	parse_fails("{'egress':[{'protocol':'tcp'}]}",
		    "policy.json: egress[0].action: required (allow or deny)");
	parse_fails("{'egress':[{'action':'permit'}]}",
		    "policy.json: egress[0].action: unknown action \"permit\" (allow or deny)");
	parse_fails("{'egress':[{'action':'allow','protocol':'sctp'}]}",
		    "policy.json: egress[0].protocol: unknown protocol \"sctp\" (tcp, udp, icmp or "
		    "any)");
	parse_fails("{'egress':[{'action':'allow','protocol':'icmp','port':80}]}",
		    "policy.json: egress[0].port: ports need protocol tcp or udp");
	parse_fails("{'egress':[{'action':'allow','protocol':'tcp','port':'90-80'}]}",
		    "policy.json: egress[0].port: invalid port or range \"90-80\" (1-65535, "
		    "\"lo-hi\")");
	parse_fails("{'egress':[{'action':'allow','protocol':'tcp','port':70000}]}",
		    "policy.json: egress[0].port: must be <= 65535");
	parse_fails("{'egress':[{'action':'allow','cdir':'10.0.0.0/8'}]}",
		    "policy.json: egress[0][\"cdir\"]: unknown member");
	parse_fails("{'egres':[]}", "policy.json: [\"egres\"]: unknown member");
}

Test(policy, malformed_json_is_refused)
{
	struct bw_error err = {0};
	struct sandbox_policy p;
	cr_assert_eq(policy_parse("{\"egress\":[", 11, "policy.json", &p, &err), -1);
	cr_assert(strstr(err.msg, "policy.json: invalid JSON") == err.msg, "%s", err.msg);
}

Test(policy, domains_need_an_explicit_default)
{
	parse_fails("{'domains':{'rules':[{'action':'allow','name':'example.com'}]}}",
		    "policy.json: domains.default: required (allow or deny): say what unlisted "
		    "names get");
	parse_fails(
	    "{'domains':{'default':'deny','rules':[{'action':'allow','name':'foo.*.com'}]}}",
	    "policy.json: domains.rules[0].name: bad wildcard \"foo.*.com\"");
	parse_fails("{'domains':{'default':'deny','rules':[{'action':'allow','name':'a..b'}]}}",
		    "policy.json: domains.rules[0].name: invalid domain name \"a..b\"");
}

Test(policy, domain_rules_may_name_ports)
{
	struct sandbox_policy p;
	parse_ok("{'domains':{'default':'deny','rules':[{'action':'allow','name':'pypi.org',"
		 "'ports':['443/tcp','53','443/tcp']},{'action':'allow','name':'*.example.com'}]}}",
		 &p);
	const struct pol_domain_rule *r = &p.host.domains.v[0];
	cr_assert_eq(r->n_ports, 3, "443/tcp, 53/tcp, 53/udp; the repeat merged");
	cr_assert_eq(r->ports[0].proto, IPPROTO_TCP);
	cr_assert_eq(r->ports[0].port, 443);
	cr_assert_eq(r->ports[2].proto, IPPROTO_UDP);
	cr_assert_eq(r->ports[2].port, 53);
	cr_assert_eq(p.host.domains.v[1].n_ports, 0);
	policy_free(&p);
	parse_fails("{'domains':{'default':'deny','rules':[{'action':'deny','name':'a.test',"
		    "'ports':['80/tcp']}]}}",
		    "policy.json: domains.rules[0].ports: only allow rules have ports");
	parse_fails(
	    "{'domains':{'default':'deny','rules':[{'action':'allow','name':'a.test',"
	    "'ports':['80-90/tcp']}]}}",
	    "policy.json: domains.rules[0].ports[0]: expected PORT, PORT/tcp or PORT/udp (one "
	    "port, 1-65535), got \"80-90/tcp\"");
	parse_fails(
	    "{'domains':{'default':'deny','rules':[{'action':'allow','name':'a.test',"
	    "'ports':['1','2','3','4','5']}]}}",
	    "policy.json: domains.rules[0].ports[4]: too many ports (at most 8 port/protocol "
	    "pairs a rule), got \"5\"");
	parse_fails("{'domains':{'default':'deny','rules':[{'action':'allow','name':'a.test',"
		    "'ports':[]}]}}",
		    "policy.json: domains.rules[0].ports: empty (leave it out for every port)");
}

Test(policy, dns_settings)
{
	struct sandbox_policy p;
	parse_ok("{'dns':{'upstream':['192.0.2.53','2001:db8::53'],'ttlFloor':1,'ttlCap':60}}", &p);
	cr_assert_eq(p.n_upstreams, 2);
	cr_assert_eq(p.upstreams[1].family, AF_INET6);
	cr_assert_eq(p.ttl_floor, 1);
	cr_assert_eq(p.ttl_cap, 60);
	cr_assert_not(p.open_private_answers, "private answers stay closed by default");
	policy_free(&p);
	parse_ok("{'dns':{'openPrivateAnswers':true}}", &p);
	cr_assert(p.open_private_answers);
	policy_free(&p);
	parse_fails("{'dns':{'openPrivateAnswers':1}}",
		    "policy.json: dns.openPrivateAnswers: must be a boolean");
	parse_fails("{'dns':{'upstream':['192.0.2.0/24']}}",
		    "policy.json: dns.upstream[0]: not an IP address: \"192.0.2.0/24\"");
	parse_fails("{'dns':{'ttlFloor':100,'ttlCap':10}}",
		    "policy.json: dns: need 0 < ttlFloor <= ttlCap (have 100, 10)");
}

Test(policy, audit_path_must_be_absolute_and_clean)
{
	struct sandbox_policy p;
	parse_ok("{'audit':'/var/log/bulwark/audit.jsonl'}", &p);
	cr_assert_str_eq(p.audit_path, "/var/log/bulwark/audit.jsonl");
	policy_free(&p);
	cr_assert_null(p.audit_path);
	parse_ok("{}", &p);
	cr_assert_null(p.audit_path);
	parse_fails(
	    "{'audit':'audit.jsonl'}",
	    "policy.json: audit: must be an absolute, clean file path, got \"audit.jsonl\"");
	parse_fails("{'audit':'/var/log/../etc/x'}",
		    "policy.json: audit: must be an absolute, clean file path, got "
		    "\"/var/log/../etc/x\"");
	parse_fails("{'audit':'/var/log/'}",
		    "policy.json: audit: must be an absolute, clean file path, got \"/var/log/\"");
	parse_fails("{'audit':7}", "policy.json: audit: must be a string");
}

Test(policy, annotation_bad_wildcard_names_the_entry)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	policy_init_default(&p);
	cr_assert_eq(annotate(&p, "run.bulwark.net.allow-domains", "example.com, foo.*.com", &err),
		     -1);
	cr_assert_str_eq(
	    err.msg, "annotations: run.bulwark.net.allow-domains[1]: bad wildcard \"foo.*.com\"");
	policy_free(&p);
}

Test(policy, annotation_rules_errors_name_the_annotation)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	policy_init_default(&p);
	cr_assert_eq(
	    annotate(&p, "run.bulwark.net.egress", "[{'action':'allow','cidr':'x'}]", &err), -1);
	cr_assert_str_eq(err.msg,
			 "annotations: run.bulwark.net.egress[0].cidr: invalid CIDR \"x\"");
	bw_error_clear(&err);
	cr_assert_eq(annotate(&p, "run.bulwark.net.egress", "{}", &err), -1);
	cr_assert_str_eq(err.msg,
			 "annotations: run.bulwark.net.egress: must be a JSON array of rules");
	bw_error_clear(&err);
	cr_assert_eq(annotate(&p, "run.bulwark.net.egres", "[]", &err), -1);
	cr_assert(strstr(err.msg, "unknown network annotation") != NULL, "%s", err.msg);
	bw_error_clear(&err);
	cr_assert_eq(annotate(&p, "run.bulwark.net.ingress", "[", &err), -1);
	cr_assert(strstr(err.msg, "annotations: run.bulwark.net.ingress: invalid JSON") == err.msg,
		  "%s", err.msg);
	policy_free(&p);
}

static const char *verdict(const struct sandbox_policy *p, const char *name)
{
	struct dom_policy dp;
	dom_policy_init(&dp, p);
	enum pol_action a = dom_policy_verdict(&dp, name, NULL);
	dom_policy_free(&dp);
	return a == POL_ALLOW ? "allow" : "deny";
}

Test(policy, annotations_only_narrow_by_default)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	parse_ok("{'egress':[{'action':'allow'}],'domains':{'default':'allow','rules':[]}}", &p);
	cr_assert_eq(annotate(&p, "run.bulwark.net.allow-domains", "*.example.com", &err), 0);
	cr_assert_eq(annotate(&p, "run.bulwark.net.egress",
			      "[{'action':'allow','cidr':'192.0.2.0/24'}]", &err),
		     0);
	cr_assert(p.has_narrow);
	cr_assert(p.narrow_dir[POL_EGRESS]);
	cr_assert_not(p.narrow_dir[POL_INGRESS]);
	cr_assert_eq(p.host.rules[POL_EGRESS].n, 1, "host rules untouched");
	cr_assert_eq(p.narrow.rules[POL_EGRESS].n, 1);
	cr_assert_str_eq(verdict(&p, "www.example.com"), "allow");
	cr_assert_str_eq(verdict(&p, "example.org"), "deny");
	policy_free(&p);
}

Test(policy, annotation_cannot_allow_what_the_host_denies)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	parse_ok("{'domains':{'default':'deny','rules':[{'action':'allow','name':'a.example'}]}}",
		 &p);
	cr_assert_eq(annotate(&p, "run.bulwark.net.allow-domains", "b.example", &err), 0);
	cr_assert_str_eq(verdict(&p, "b.example"), "deny");
	cr_assert_str_eq(verdict(&p, "a.example"), "deny", "narrowed to b.example only");
	policy_free(&p);
}

Test(policy, annotations_widen_when_the_host_allows_override)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	parse_ok("{'allowOverride':true,'egress':[{'action':'deny'}],"
		 "'domains':{'default':'deny','rules':[{'action':'deny','name':'*.example'}]}}",
		 &p);
	cr_assert_eq(annotate(&p, "run.bulwark.net.allow-domains", "ok.example", &err), 0);
	cr_assert_eq(
	    annotate(&p, "run.bulwark.net.egress", "[{'action':'allow','cidr':'192.0.2.1'}]", &err),
	    0);
	cr_assert_not(p.has_narrow);
	cr_assert_eq(p.host.rules[POL_EGRESS].n, 2);
	cr_assert_eq(p.host.rules[POL_EGRESS].v[0].action, POL_ALLOW, "annotation rule first");
	cr_assert_str_eq(verdict(&p, "ok.example"), "allow");
	cr_assert_str_eq(verdict(&p, "other.example"), "deny");
	policy_free(&p);
}

Test(policy, domain_rules_first_match_wins)
{
	struct sandbox_policy p;
	parse_ok("{'domains':{'default':'deny','rules':["
		 "{'action':'deny','name':'bad.example.com'},"
		 "{'action':'allow','name':'*.example.com'},"
		 "{'action':'deny','name':'*.evil.example.com'},"
		 "{'action':'allow','name':'Example.NET.'}]}}",
		 &p);
	cr_assert_str_eq(verdict(&p, "bad.example.com"), "deny");
	cr_assert_str_eq(verdict(&p, "WWW.Example.Com."), "allow");
	cr_assert_str_eq(verdict(&p, "x.evil.example.com"), "allow", "the earlier wildcard wins");
	cr_assert_str_eq(verdict(&p, "example.com"), "deny", "*.x does not match x");
	cr_assert_str_eq(verdict(&p, "example.net"), "allow");
	cr_assert_str_eq(verdict(&p, "a.example.net"), "deny");
	cr_assert_str_eq(verdict(&p, ""), "deny");
	cr_assert_str_eq(verdict(&p, "a b.example.com"), "deny");
	policy_free(&p);
}

/* 20,000 rules; lookups must not cost a scan: a million of them stay far below a linear scan's
 * cost (which would be 2e10 comparisons). */
Test(policy, ten_thousand_domain_rules_load_and_match_fast)
{
	size_t n = 20000, cap = n * 64 + 128, o = 0;
	char *doc = xmalloc(cap);
	o += (size_t)snprintf(doc + o, cap - o, "{\"domains\":{\"default\":\"deny\",\"rules\":[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(
		    doc + o, cap - o, "%s{\"action\":\"%s\",\"name\":\"%sh%zu.example\"}",
		    i ? "," : "", i % 2 ? "allow" : "deny", i % 4 < 2 ? "*." : "", i);
	o += (size_t)snprintf(doc + o, cap - o, "]}}");
	struct sandbox_policy p;
	struct bw_error err = {0};
	cr_assert_eq(policy_parse(doc, o, "policy.json", &p, &err), 0, "%s", err.msg);
	free(doc);
	cr_assert_eq(p.host.domains.n, n);
	struct dom_policy dp;
	dom_policy_init(&dp, &p);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	size_t allowed = 0;
	for (size_t i = 0; i < 1000000; i++) {
		char name[64];
		size_t k = i % n;
		snprintf(name, sizeof(name), "%sh%zu.example", k % 4 < 2 ? "www.a." : "", k);
		allowed += dom_policy_verdict(&dp, name, NULL) == POL_ALLOW;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cr_assert_eq(allowed, 500000);
	cr_assert_lt(secs, 5.0, "a million lookups took %.2fs", secs);
	cr_assert_eq(dom_policy_verdict(&dp, "h19999.example", NULL), POL_ALLOW);
	cr_assert_eq(dom_policy_verdict(&dp, "unlisted.example", NULL), POL_DENY);
	dom_policy_free(&dp);
	policy_free(&p);
}
