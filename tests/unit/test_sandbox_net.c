/* runtime/sandbox/sandbox_net.c: the sandbox's network flags become a policy document or narrowing
 * annotations, and every bad value is a one-line error naming the flag. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"
#include "oci/policy.h"
#include "runtime/sandbox/sandbox_net.h"

static int plan(char **allow, char **domains, const char *network, const char *policy,
		const char *host, struct sandbox_net_plan *p, struct bw_error *e)
{
	struct sandbox_net_flags f = {.network = (char *)network,
				      .allow = allow,
				      .allow_domain = domains,
				      .policy = (char *)policy};
	return sandbox_net_plan(&f, host, p, e);
}

Test(sandbox_net, default_is_no_network)
{
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(plan(NULL, NULL, NULL, NULL, NULL, &p, &e), 0);
	cr_assert_null(p.policy_doc);
	cr_assert_null(p.policy);
	cr_assert_null(p.annotations);
	cr_assert_eq(plan(NULL, NULL, "none", NULL, NULL, &p, &e), 0);
}

Test(sandbox_net, flags_become_a_policy_the_policy_parser_accepts)
{
	char *allow[] = {"198.51.100.10:80/tcp", "203.0.113.0/24", "[2001:db8::/32]:443-444",
			 "192.0.2.7:53/udp", NULL};
	char *domains[] = {"Example.COM.", "*.pypi.org", NULL};
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(plan(allow, domains, NULL, NULL, NULL, &p, &e), 0, "%s", e.msg);
	cr_assert_not_null(p.policy_doc);
	struct sandbox_policy pol;
	cr_assert_eq(policy_parse(p.policy_doc, strlen(p.policy_doc), "gen", &pol, &e), 0, "%s: %s",
		     e.msg, p.policy_doc);
	/* tcp 80; any; tcp+udp 443-444 (a port without a protocol is both); udp 53 */
	cr_assert_eq(pol.host.rules[POL_EGRESS].n, 5);
	cr_assert_eq(pol.host.rules[POL_EGRESS].v[0].proto, POL_PROTO_TCP);
	cr_assert_eq(pol.host.rules[POL_EGRESS].v[0].port_lo, 80);
	cr_assert_eq(pol.host.rules[POL_EGRESS].v[1].proto, POL_PROTO_ANY);
	cr_assert_eq(pol.host.rules[POL_EGRESS].v[2].port_hi, 444);
	cr_assert_eq(pol.host.rules[POL_EGRESS].v[3].proto, POL_PROTO_UDP);
	cr_assert_eq(pol.host.domains.n, 2);
	cr_assert_eq(pol.host.domains.def, POL_DENY);
	cr_assert_str_eq(pol.host.domains.v[0].name, "example.com");
	cr_assert(pol.host.domains.v[1].wildcard);
	cr_assert(policy_allows_egress(&pol));
	policy_free(&pol);
	sandbox_net_plan_free(&p);
}

Test(sandbox_net, allow_domain_ports_go_into_the_domain_rule)
{
	char *domains[] = {"pypi.org:443/tcp", "*.example.com:80,443/udp", "plain.test", NULL};
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(plan(NULL, domains, NULL, NULL, NULL, &p, &e), 0, "%s", e.msg);
	struct sandbox_policy pol;
	cr_assert_eq(policy_parse(p.policy_doc, strlen(p.policy_doc), "gen", &pol, &e), 0, "%s: %s",
		     e.msg, p.policy_doc);
	cr_assert_str_eq(pol.host.domains.v[0].name, "pypi.org");
	cr_assert_eq(pol.host.domains.v[0].n_ports, 1);
	cr_assert_eq(pol.host.domains.v[0].ports[0].port, 443);
	cr_assert_eq(pol.host.domains.v[1].n_ports, 3, "80 tcp and udp, 443 udp");
	cr_assert_eq(pol.host.domains.v[2].n_ports, 0);
	policy_free(&pol);
	sandbox_net_plan_free(&p);
	char *bad[] = {"pypi.org:", NULL};
	cr_assert_lt(plan(NULL, bad, NULL, NULL, NULL, &p, &e), 0);
	cr_assert_str_eq(e.msg, "--allow-domain pypi.org:: no port after the colon");
	char *ok[] = {"pypi.org:443/tcp", NULL};
	cr_assert_lt(plan(NULL, ok, NULL, NULL, "/etc/host-policy.json", &p, &e), 0);
	cr_assert(strstr(e.msg, "ports only without a policy file") != NULL, "%s", e.msg);
}

Test(sandbox_net, dns_resolvers_go_into_the_generated_policy)
{
	char *domains[] = {"allowed.test", NULL}, *dns[] = {"198.51.100.53", "2001:db8::53", NULL};
	struct sandbox_net_flags f = {.allow_domain = domains, .dns = dns};
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(sandbox_net_plan(&f, NULL, &p, &e), 0, "%s", e.msg);
	struct sandbox_policy pol;
	cr_assert_eq(policy_parse(p.policy_doc, strlen(p.policy_doc), "gen", &pol, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(pol.n_upstreams, 2);
	policy_free(&pol);
	sandbox_net_plan_free(&p);
	char *bad1[] = {"10.0.0.0/8", NULL};
	f.dns = bad1;
	cr_assert_eq(sandbox_net_plan(&f, NULL, &p, &e), -1);
	cr_assert(strstr(e.msg, "--dns 10.0.0.0/8: expected an IPv4 or IPv6 address") != NULL, "%s",
		  e.msg);
	f.dns = dns;
	f.allow_domain = NULL;
	cr_assert_eq(sandbox_net_plan(&f, NULL, &p, &e), -1);
	cr_assert(strstr(e.msg, "only with --allow-domain") != NULL, "%s", e.msg);
}

Test(sandbox_net, under_a_policy_file_flags_only_narrow)
{
	char *allow[] = {"198.51.100.10:80/tcp", NULL};
	char *domains[] = {"a.test", "b.test", NULL};
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(plan(allow, domains, NULL, NULL, "/etc/host-policy.json", &p, &e), 0);
	cr_assert_null(p.policy_doc);
	cr_assert_str_eq(p.policy, "/etc/host-policy.json");
	cr_assert_eq(strv_len(p.annotations), 2);
	cr_assert_str_eq(p.annotations[0],
			 "run.bulwark.net.egress=[{\"action\":\"allow\",\"cidr\":\"198.51.100.10/"
			 "32\",\"protocol\":\"tcp\",\"port\":80}]");
	cr_assert_str_eq(p.annotations[1], "run.bulwark.net.allow-domains=a.test,b.test");
	sandbox_net_plan_free(&p);
	cr_assert_eq(plan(NULL, NULL, NULL, "/mine.json", NULL, &p, &e), 0);
	cr_assert_str_eq(p.policy, "/mine.json");
	sandbox_net_plan_free(&p);
}

static void bad(char *allow, char *domain, const char *network, const char *policy,
		const char *host, const char *want)
{
	char *a[] = {allow, NULL}, *d[] = {domain, NULL};
	struct sandbox_net_plan p;
	struct bw_error e = {0};
	cr_assert_eq(plan(allow ? a : NULL, domain ? d : NULL, network, policy, host, &p, &e), -1,
		     "accepted %s %s", allow, domain);
	cr_assert(strstr(e.msg, want) != NULL, "[%s] lacks [%s]", e.msg, want);
	cr_assert_null(strchr(e.msg, '\n'));
	sandbox_net_plan_free(&p);
}

Test(sandbox_net, bad_values_name_the_flag)
{
	bad("10.0.0.0/33", NULL, NULL, NULL, NULL, "--allow 10.0.0.0/33: invalid CIDR");
	bad("10.0.0.1/8", NULL, NULL, NULL, NULL, "host bits");
	bad("example.com", NULL, NULL, NULL, NULL, "--allow example.com");
	bad("10.0.0.1:0", NULL, NULL, NULL, NULL, "expected a port");
	bad("10.0.0.1:90-80", NULL, NULL, NULL, NULL, "expected a port");
	bad("10.0.0.1:70000/tcp", NULL, NULL, NULL, NULL, "expected a port");
	bad("[2001:db8::1:80", NULL, NULL, NULL, NULL, "[IPv6-CIDR]:PORT");
	bad(NULL, "foo.*.com", NULL, NULL, NULL, "--allow-domain foo.*.com: bad wildcard");
	bad(NULL, "bad_name!", NULL, NULL, NULL, "--allow-domain bad_name!");
	bad(NULL, NULL, "host", NULL, NULL, "--network: only \"none\"");
	bad("10.0.0.1", NULL, "none", NULL, NULL, "cannot be combined");
	bad(NULL, NULL, NULL, "/a.json", "/b.json", "already set");
}
