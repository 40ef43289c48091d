/* The nftables ruleset: what fw_render writes for each kind of rule, and that real nftables
 * accepts it (loaded by fw_apply into a fresh network namespace when running as root). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "netns/firewall.h"
#include "netns/portrange.h"
#include "oci/policy.h"

static void parse_ok(const char *doc, struct sandbox_policy *p)
{
	struct bw_error err = {0};
	char *j = xstrdup(doc);
	for (char *c = j; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	int r = policy_parse(j, strlen(j), "policy.json", p, &err);
	free(j);
	cr_assert_eq(r, 0, "unexpected error: %s", err.msg);
}

static char *render(const char *doc, const struct fw_options *o)
{
	struct sandbox_policy p;
	parse_ok(doc, &p);
	char *s = fw_render(&p, o);
	policy_free(&p);
	return s;
}

#define HAS(s, sub) cr_assert(strstr((s), (sub)) != NULL, "missing [%s] in:\n%s", (sub), (s))
#define HASNT(s, sub) cr_assert(strstr((s), (sub)) == NULL, "unexpected [%s] in:\n%s", (sub), (s))

Test(fw_render, default_policy_drops_all_but_loopback)
{
	char *s = render("{}", NULL);
	HAS(s, "add table inet bulwark\ndelete table inet bulwark\ntable inet bulwark {\n");
	HAS(s, "type filter hook output priority filter; policy drop;\n\t\toif \"lo\" accept\n");
	HAS(s, "type filter hook input priority filter; policy drop;\n\t\tiif \"lo\" accept\n");
	HAS(s, "ct state established,related accept");
	HAS(s,
	    "ip6 hoplimit 255 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	    "nd-router-solicit, nd-router-advert } accept\n\t\tip6 daddr ff02::/16 icmpv6 type { "
	    "mld-listener-report, mld-listener-done, mld2-listener-report } counter drop\n"
	    "\t\tip daddr @deny4");
	HAS(s, "nd-router-advert } accept\n\t\tip saddr @deny4");
	HAS(s, "counter log prefix \"bulwark out default \" group 7001 drop");
	HAS(s, "counter log prefix \"bulwark in default \" group 7001 drop");
	HAS(s, "set allow4 { type ipv4_addr; flags timeout; size 16384; }");
	HAS(s, "set allow6 { type ipv6_addr; flags timeout; size 16384; }");
	HAS(s, "set allowp4 { type ipv4_addr . inet_proto . inet_service; flags timeout; size "
	       "16384; }");
	HAS(s, "set allowp6 { type ipv6_addr . inet_proto . inet_service; flags timeout; size "
	       "16384; }");
	HASNT(s, "hook output priority dstnat");
	free(s);
}

Test(fw_render, fixed_deny_list_comes_before_any_rule)
{
	struct pol_cidr host[2];
	const char *why;
	cr_assert_eq(policy_parse_cidr("198.51.100.7", &host[0], &why), 0);
	cr_assert_eq(policy_parse_cidr("2001:db8::7", &host[1], &why), 0);
	struct fw_options o = {.extra_deny = host, .n_extra_deny = 2};
	char *s = render("{'egress':[{'action':'allow'}]}", &o);
	HAS(s, "169.254.0.0/16, 224.0.0.0/4, 255.255.255.255, 198.51.100.7/32 }");
	HAS(s, "fe80::/10, ff00::/8, 2001:db8::7/128 }");
	char *deny = strstr(s, "ip daddr @deny4 counter log prefix \"bulwark out fixed \"");
	char *allow = strstr(s, "\t\t counter accept\n");
	cr_assert(deny != NULL && allow != NULL && deny < allow, "%s", s);
	cr_assert(strstr(s, "ct state established") > deny, "established after the fixed list");
	free(s);
}

Test(fw_render, rules_in_order_with_ports_protocols_and_comments)
{
	char *s = render(
	    "{'egress':["
	    "{'action':'deny','protocol':'udp','port':'1000-2000','cidr':'192.0.2.0/24'},"
	    "{'action':'allow','protocol':'tcp','port':443,'cidr':'192.0.2.0/24',"
	    "'description':'api \\\"quoted\\\"'},"
	    "{'action':'allow','protocol':'icmp','cidr':'2001:db8::/32'},"
	    "{'action':'allow','protocol':'icmp'}],"
	    "'ingress':[{'action':'allow','protocol':'tcp','port':8080,'cidr':'203.0.113.0/24'}]}",
	    NULL);
	char *a = strstr(s, "ip daddr 192.0.2.0/24 meta l4proto udp th dport 1000-2000 counter log "
			    "prefix \"bulwark out r0 \" group 7001 drop\n");
	char *b = strstr(s, "ip daddr 192.0.2.0/24 meta l4proto tcp th dport 443 counter accept "
			    "comment \"api _quoted_\"\n");
	cr_assert(a != NULL && b != NULL && a < b, "%s", s);
	HAS(s, "ip6 daddr 2001:db8::/32 meta l4proto ipv6-icmp counter accept");
	HAS(s, "meta l4proto { icmp, ipv6-icmp } counter accept");
	HAS(s, "ip saddr 203.0.113.0/24 meta l4proto tcp th dport 8080 counter accept");
	free(s);
}

Test(fw_render, dns_redirect_when_a_proxy_runs)
{
	struct fw_options o = {.dns_port = 53};
	char *s = render("{}", &o);
	HAS(s, "type nat hook output priority -100; policy accept;\n\t\tmeta l4proto { udp, tcp } "
	       "th dport 53 redirect to :53\n");
	HAS(s, "ip daddr 127.0.0.0/8 accept");
	HAS(s, "ip daddr @allow4 counter accept\n\t\tip6 daddr @allow6 counter accept\n"
	       "\t\tip daddr . meta l4proto . th dport @allowp4 counter accept\n"
	       "\t\tip6 daddr . meta l4proto . th dport @allowp6 counter accept\n");
	free(s);
}

Test(fw_render, annotations_narrow_through_their_own_chain)
{
	struct sandbox_policy p;
	struct bw_error err = {0};
	parse_ok("{'egress':[{'action':'allow'}]}", &p);
	struct oci_kv kv = {"run.bulwark.net.egress",
			    "[{\"action\":\"allow\",\"protocol\":\"tcp\",\"port\":80}]"};
	cr_assert_eq(policy_apply_annotations(&p, &kv, 1, &err), 0, "%s", err.msg);
	char *s = fw_render(&p, NULL);
	HAS(s, "chain narrow_out {\n\t\t meta l4proto tcp th dport 80 counter return\n");
	HAS(s, "ip daddr @allow4 return\n");
	HAS(s, "ip daddr . meta l4proto . th dport @allowp4 return\n");
	HAS(s, "log prefix \"bulwark out annotations \" group 7001 drop\n\t}");
	HAS(s, "ct state invalid drop\n\t\tjump narrow_out\n");
	HASNT(s, "chain narrow_in");
	free(s);
	policy_free(&p);
}

/* ---- loading into the kernel (root only) ---- */

static int new_netns(void)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(self >= 0);
	cr_assert_eq(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(self);
	return fd;
}

static void load_ok(const char *doc, const struct fw_options *o, char **listing)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	struct sandbox_policy p;
	struct bw_error err = {0};
	parse_ok(doc, &p);
	int ns = new_netns();
	cr_assert_eq(fw_apply(ns, &p, o, &err), 0, "%s", err.msg);
	cr_assert_eq(fw_run_script(ns, "list table inet bulwark", listing, &err), 0, "%s", err.msg);
	close(ns);
	policy_free(&p);
}

Test(fw_load, every_rule_kind_loads)
{
	char *l = NULL;
	struct fw_options o = {.dns_port = 53};
	load_ok(
	    "{'egress':["
	    "{'action':'deny','protocol':'udp','port':'1000-2000','cidr':'192.0.2.0/24'},"
	    "{'action':'allow','protocol':'tcp','port':443,'cidr':'192.0.2.0/24',"
	    "'description':'api'},"
	    "{'action':'allow','protocol':'icmp','cidr':'2001:db8::/32'},"
	    "{'action':'allow','protocol':'icmp'},{'action':'deny','cidr':'10.0.0.0/8'}],"
	    "'ingress':[{'action':'allow','protocol':'tcp','port':8080,'cidr':'203.0.113.0/24'}]}",
	    &o, &l);
	cr_assert(strstr(l, "tcp dport 443") != NULL, "%s", l);
	cr_assert(strstr(l, "redirect to :53") != NULL, "%s", l);
	cr_assert(strstr(l, "169.254.0.0/16") != NULL, "%s", l);
	free(l);
}

Test(fw_load, the_caller_namespace_is_unchanged_and_reapply_replaces)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	struct sandbox_policy p;
	struct bw_error err = {0};
	char before[64] = "", after[64] = "";
	cr_assert_gt(readlink("/proc/self/ns/net", before, sizeof(before) - 1), 0);
	parse_ok("{}", &p);
	int ns = new_netns();
	cr_assert_eq(fw_apply(ns, &p, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(fw_apply(ns, &p, NULL, &err), 0, "%s", err.msg);
	cr_assert_gt(readlink("/proc/self/ns/net", after, sizeof(after) - 1), 0);
	cr_assert_str_eq(before, after);
	char *l = NULL;
	cr_assert_eq(fw_run_script(ns, "list tables", &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(l, "table inet bulwark\n");
	free(l);
	close(ns);
	policy_free(&p);
}

Test(fw_load, ten_thousand_cidr_rules_load)
{
	size_t n = 10000, cap = n * 96 + 64, o = 0;
	char *doc = xmalloc(cap);
	o += (size_t)snprintf(doc + o, cap - o, "{'egress':[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(
		    doc + o, cap - o,
		    "%s{'action':'%s','protocol':'tcp','port':%zu,'cidr':'10.%zu.%zu.0/24'}",
		    i ? "," : "", i % 3 ? "allow" : "deny", 1 + i % 60000, i / 256, i % 256);
	snprintf(doc + o, cap - o, "]}");
	char *l = NULL;
	load_ok(doc, NULL, &l);
	cr_assert(strstr(l, "10.39.15.0/24") != NULL, "%s", l + strlen(l) - 500);
	free(l);
	free(doc);
}

Test(fw_load, nft_errors_come_back_on_one_line)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	struct bw_error err = {0};
	int ns = new_netns();
	cr_assert_eq(fw_run_script(ns, "add rule inet nosuch output drop\n", NULL, &err), -1);
	cr_assert(strstr(err.msg, "nftables: Error:") == err.msg, "%s", err.msg);
	cr_assert_null(strchr(err.msg, '\n'));
	close(ns);
}

Test(fw_load, bad_namespace_fd_is_reported)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	struct bw_error err = {0};
	int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(fw_run_script(fd, "list tables\n", NULL, &err), -1);
	cr_assert(strstr(err.msg, "join the sandbox network namespace: setns:") == err.msg, "%s",
		  err.msg);
	close(fd);
}

/* ---- the caller's ephemeral UDP ports (portrange.h) ---- */

static void ports_ok(const char *range, const char *reserved, const char *nft, const char *sysr,
		     const char *holes)
{
	struct port_set s;
	const char *why = NULL;
	char buf[1024], r[32], h[1024];
	cr_assert_eq(portrange_parse(range, reserved, &s, &why), 0, "[%s] [%s]: %s", range,
		     reserved, why);
	portrange_nft(&s, buf, sizeof(buf));
	cr_assert_str_eq(buf, nft);
	portrange_sysctls(&s, r, sizeof(r), h, sizeof(h));
	cr_assert_str_eq(r, sysr);
	cr_assert_str_eq(h, holes);
}

static void ports_refused(const char *range, const char *reserved)
{
	struct port_set s;
	const char *why = NULL;
	cr_assert_eq(portrange_parse(range, reserved, &s, &why), -1, "[%s] [%s] accepted", range,
		     reserved);
	cr_assert(why != NULL && why[0] != '\0');
}

Test(portrange, the_kernels_default_and_a_range_with_reserved_ports)
{
	ports_ok("32768\t60999\n", "\n", "32768-60999", "32768 60999", "");
	ports_ok("40000 50000\n", "", "40000-50000", "40000 50000", "");
	ports_ok("40000\t50000\n", "8080,45000,49990-50000\n", "{ 40000-44999, 45001-49989 }",
		 "40000 49989", "45000");
	ports_ok("40000 40000", "", "40000", "40000 40000", "");
	ports_ok("40000 40010", "40002-40003,40006", "{ 40000-40001, 40004-40005, 40007-40010 }",
		 "40000 40010", "40002-40003,40006");
}

Test(portrange, hostile_text_is_refused)
{
	const char *bad_range[] = {
	    "",	    "abc",	    "40000", "1 2 3", "70000 80000", "50000 40000",
	    "0 10", "40000 50000x", "-1 5",  "+1 5",  "000040000 5", "40000\0 50000"};
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++)
		ports_refused(bad_range[i], "");
	const char *bad_reserved[] = {"1,,2", "9-3", "-5", "99999", "5 6",
				      "a",    "5-",  ",5", "1-2-3"};
	for (size_t i = 0; i < sizeof(bad_reserved) / sizeof(bad_reserved[0]); i++)
		ports_refused("32768 60999", bad_reserved[i]);
	ports_refused("40000 40010", "39000-41000");
	/* A reserved list that shreds the range into more parts than the table's set takes. */
	char many[4096] = "";
	for (int p = 40001; p < 40400; p += 2)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d",
			 p > 40001 ? "," : "", p);
	ports_refused("40000 40400", many);
}

Test(fw_render, pasta_udp_source_ports_are_the_callers)
{
	struct fw_options o = {.pasta = true, .udp_ports = "{ 40000-44999, 45001-50000 }"};
	char *s = render("{'egress':[{'action':'allow'}]}", &o);
	HAS(s, "udp sport != { 40000-44999, 45001-50000 }");
	free(s);
	struct fw_options d = {.pasta = true};
	s = render("{'egress':[{'action':'allow'}]}", &d);
	HAS(s, "udp sport != " FW_PASTA_UDP_PORTS);
	free(s);
}

Test(fw_load, pasta_udp_port_set_loads)
{
	char *l = NULL;
	struct fw_options o = {.pasta = true, .udp_ports = "{ 40000-44999, 45001-50000 }"};
	load_ok("{'egress':[{'action':'allow'}]}", &o, &l);
	cr_assert(strstr(l, "udp sport != { 40000-44999, 45001-50000 }") != NULL, "%s", l);
	free(l);
}
