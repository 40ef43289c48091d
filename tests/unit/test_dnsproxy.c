/* The network agent's pure parts: DNS queries checked and answered with errors, upstream
 * answers matched and walked along CNAME chains (loops and compression loops included), TTL
 * clamping, the audit lines (JSON escaping, format, aggregation), the NFLOG messages and the
 * set-element batches; as root also a real set update and timeout refresh in a namespace. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <criterion/criterion.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "netns/agent.h"
#include "netns/dnsproxy.h"
#include "netns/domains.h"
#include "netns/firewall.h"
#include "netns/nflog.h"
#include "netns/nfset.h"
#include "oci/policy.h"

/* ---- building DNS messages by hand ---- */

struct msg {
	uint8_t b[8192];
	size_t n;
};

static void m_u16(struct msg *m, uint16_t v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, (uint16_t)(v >> 16));
	m_u16(m, (uint16_t)v);
}

static void m_name(struct msg *m, const char *name)
{
	const char *s = name;
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);
		m->b[m->n++] = (uint8_t)len;
		memcpy(m->b + m->n, s, len);
		m->n += len;
		s += len + (dot != NULL);
	}
	m->b[m->n++] = 0;
}

static void m_header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		     uint16_t ar)
{
	m->n = 0;
	m_u16(m, id);
	m_u16(m, flags);
	m_u16(m, qd);
	m_u16(m, an);
	m_u16(m, 0);
	m_u16(m, ar);
}

static void m_question(struct msg *m, const char *name, uint16_t type)
{
	m_name(m, name);
	m_u16(m, type);
	m_u16(m, ns_c_in);
}

static void m_rr(struct msg *m, const char *name, uint16_t type, uint32_t ttl, const void *rd,
		 size_t rdlen)
{
	m_name(m, name);
	m_u16(m, type);
	m_u16(m, ns_c_in);
	m_u32(m, ttl);
	m_u16(m, (uint16_t)rdlen);
	memcpy(m->b + m->n, rd, rdlen);
	m->n += rdlen;
}

static void m_a(struct msg *m, const char *name, uint32_t ttl, const char *addr)
{
	uint8_t a[16];
	int v6 = strchr(addr, ':') != NULL;
	inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
	m_rr(m, name, v6 ? ns_t_aaaa : ns_t_a, ttl, a, v6 ? 16 : 4);
}

static void m_cname(struct msg *m, const char *name, const char *target)
{
	struct msg t = {.n = 0};
	m_name(&t, target);
	m_rr(m, name, ns_t_cname, 60, t.b, t.n);
}

static void query(struct msg *m, const char *name, uint16_t type)
{
	m_header(m, 0xbeef, 0x0100, 1, 0, 0);
	m_question(m, name, type);
}

static struct dns_question question(const char *name, uint16_t type)
{
	struct dns_question q = {
	    .id = 0xbeef, .flags = 0x0100, .has_question = true, .type = type, .class = ns_c_in};
	snprintf(q.name, sizeof(q.name), "%s", name);
	return q;
}

static const char *addr_str(const struct dns_addr *a, char *buf)
{
	return inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN);
}

/* ---- queries ---- */

Test(dnsproxy, query_with_one_question_is_accepted)
{
	struct msg m;
	struct dns_question q;
	query(&m, "Allowed.Test", ns_t_aaaa);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_OK);
	cr_assert_str_eq(q.name, "Allowed.Test");
	cr_assert_eq(q.type, ns_t_aaaa);
	cr_assert_eq(q.id, 0xbeef);
}

Test(dnsproxy, edns0_opt_record_is_accepted)
{
	struct msg m;
	struct dns_question q;
	m_header(&m, 1, 0x0100, 1, 0, 1);
	m_question(&m, "allowed.test", ns_t_a);
	m.b[m.n++] = 0; /* root owner */
	m_u16(&m, ns_t_opt);
	m_u16(&m, 1232); /* UDP size */
	m_u32(&m, 0);
	m_u16(&m, 0);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_OK);
}

Test(dnsproxy, bad_queries_get_the_right_rcode)
{
	struct msg m = {.n = 0};
	struct dns_question q;
	cr_assert_eq(dnsproxy_parse_query(m.b, 11, &q), DNSQ_DROP);
	m_header(&m, 1, 0x8180, 1, 0, 0); /* a response */
	m_question(&m, "a.test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_DROP);
	m_header(&m, 1, 0x0100, 2, 0, 0);
	m_question(&m, "a.test", ns_t_a);
	m_question(&m, "b.test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_formerr);
	m_header(&m, 1, 0x1100, 1, 0, 0); /* opcode 2: STATUS */
	m_question(&m, "a.test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_notimpl);
	cr_assert(q.has_question);
	/* Zone transfers read well but are not forwarded: see query_types_outside_the_list. */
	query(&m, "a.test", ns_t_axfr);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_OK);
	query(&m, "a.test", ns_t_a);
	m.b[m.n - 1] = ns_c_chaos;
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_refused);
	query(&m, "a.test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n - 1, &q), ns_r_formerr);
}

Test(dnsproxy, compression_loop_in_the_question_is_formerr)
{
	struct msg m;
	struct dns_question q;
	m_header(&m, 1, 0x0100, 1, 0, 0);
	m.b[m.n++] = 0xc0; /* a pointer to itself */
	m.b[m.n++] = 12;
	m_u16(&m, ns_t_a);
	m_u16(&m, ns_c_in);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_formerr);
}

Test(dnsproxy, error_reply_echoes_id_and_question)
{
	struct msg m;
	struct dns_question q;
	uint8_t out[512];
	query(&m, "denied.test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_OK);
	size_t len = dnsproxy_error_reply(&q, ns_r_refused, false, out, sizeof(out));
	cr_assert_eq(len, m.n);
	cr_assert_eq(out[0], 0xbe);
	cr_assert_eq(out[1], 0xef);
	cr_assert_eq(out[2], 0x81); /* QR, RD */
	cr_assert_eq(out[3], 0x85); /* RA, REFUSED */
	cr_assert_eq(out[5], 1);
	cr_assert_eq(memcmp(out + 12, m.b + 12, m.n - 12), 0);
	len = dnsproxy_error_reply(&q, 0, true, out, sizeof(out));
	cr_assert_eq(out[2], 0x83); /* TC */
	q.has_question = false;
	cr_assert_eq(dnsproxy_error_reply(&q, ns_r_formerr, false, out, sizeof(out)), 12);
	cr_assert_eq(out[5], 0);
	cr_assert_eq(dnsproxy_error_reply(&q, ns_r_formerr, false, out, 11), 0);
}

/* ---- the query sent upstream ---- */

/* An OPT record: buffer size, the DO bit, and options (code, length, payload bytes). */
static void m_opt(struct msg *m, const char *owner, uint16_t size, bool dnssec_ok,
		  const uint8_t *opts, size_t opts_len)
{
	m_name(m, owner);
	m_u16(m, ns_t_opt);
	m_u16(m, size);
	m_u32(m, dnssec_ok ? 0x8000 : 0);
	m_u16(m, (uint16_t)opts_len);
	if (opts_len > 0) /* opts may be NULL then: memcpy's arguments are never NULL */
		memcpy(m->b + m->n, opts, opts_len);
	m->n += opts_len;
}

/* Bytes in, bytes out: what the proxy would send upstream for a client's query. */
static size_t rebuild(const struct msg *in, uint8_t *out, size_t cap)
{
	struct dns_question q;
	cr_assert_eq(dnsproxy_parse_query(in->b, in->n, &q), DNSQ_OK);
	return dnsproxy_build_query(&q, 0x4242, out, cap);
}

Test(dnsproxy, forwarded_query_is_rebuilt_from_the_question_alone)
{
	/* Mixed case, CD and AD set, an answer-sized TXT record and a TSIG-like record in the
	 * additional section, and an OPT with DO, a 4096-byte buffer, client subnet and cookie. */
	static const uint8_t opts[] = {0, 8,  0, 7, 0, 1, 24, 0, 192, 0, 2,	/* ECS 192.0.2/24 */
				       0, 10, 0, 8, 1, 2, 3,  4, 5,   6, 7, 8}; /* cookie */
	static struct msg m;
	uint8_t txt[1000], out[512];
	memset(txt, 'x', sizeof(txt));
	txt[0] = 255;
	m_header(&m, 0xbeef, 0x0130, 1, 0, 3); /* RD, AD, CD */
	m_question(&m, "WwW.AlloWed.TEST", ns_t_aaaa);
	m_rr(&m, "smuggled.test", ns_t_txt, 60, txt, sizeof(txt));
	m_opt(&m, "", 4096, true, opts, sizeof(opts));
	m_rr(&m, "key.test", 250, 0, "sig", 3);
	size_t len = rebuild(&m, out, sizeof(out));
	static struct msg want;
	m_header(&want, 0x4242, 0x0100, 1, 0, 1);
	m_question(&want, "www.allowed.test", ns_t_aaaa);
	m_opt(&want, "", DNS_EDNS_UDP_MAX, false, NULL, 0);
	cr_assert_eq(len, want.n);
	cr_assert_eq(memcmp(out, want.b, len), 0);
}

Test(dnsproxy, forwarded_query_without_edns_has_no_opt_and_small_buffers_are_raised)
{
	static struct msg m, want;
	uint8_t out[512];
	m_header(&m, 1, 0x0000, 1, 0, 0); /* no RD: passed on as it is */
	m_question(&m, "a.test", ns_t_mx);
	m_header(&want, 0x4242, 0x0000, 1, 0, 0);
	m_question(&want, "a.test", ns_t_mx);
	cr_assert_eq(rebuild(&m, out, sizeof(out)), want.n);
	cr_assert_eq(memcmp(out, want.b, want.n), 0);
	m_header(&m, 1, 0x0100, 1, 0, 1);
	m_question(&m, "a.test", ns_t_a);
	m_opt(&m, "", 100, false, NULL, 0);
	m_header(&want, 0x4242, 0x0100, 1, 0, 1);
	m_question(&want, "a.test", ns_t_a);
	m_opt(&want, "", 512, false, NULL, 0);
	cr_assert_eq(rebuild(&m, out, sizeof(out)), want.n);
	cr_assert_eq(memcmp(out, want.b, want.n), 0);
	cr_assert_eq(rebuild(&m, out, want.n - 1), 0, "no room: nothing written");
}

Test(dnsproxy, two_opt_records_or_one_not_at_the_root_are_formerr)
{
	static struct msg m;
	struct dns_question q;
	m_header(&m, 1, 0x0100, 1, 0, 2);
	m_question(&m, "a.test", ns_t_a);
	m_opt(&m, "", 1232, false, NULL, 0);
	m_opt(&m, "", 1232, false, NULL, 0);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_formerr);
	m_header(&m, 1, 0x0100, 1, 0, 1);
	m_question(&m, "a.test", ns_t_a);
	m_opt(&m, "a.test", 1232, false, NULL, 0);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_formerr);
	m_header(&m, 1, 0x0100, 1, 0, 2); /* says two, has one */
	m_question(&m, "a.test", ns_t_a);
	m_opt(&m, "", 1232, false, NULL, 0);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), ns_r_formerr);
}

Test(dnsproxy, query_types_outside_the_list_are_not_forwarded)
{
	static const uint16_t yes[] = {ns_t_a,	ns_t_aaaa, ns_t_cname, 65,  64,
				       ns_t_mx, ns_t_txt,  ns_t_srv,   257, ns_t_ptr};
	static const uint16_t no[] = {
	    0,		ns_t_ns,  ns_t_soa,  ns_t_null,	      ns_t_any,	   ns_t_axfr, ns_t_ixfr,
	    ns_t_maila, ns_t_opt, ns_t_tsig, 48 /* DNSKEY */, 43 /* DS */, 65280,     65535};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(dnsproxy_type_forwarded(yes[i]), "type %u", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert(!dnsproxy_type_forwarded(no[i]), "type %u", no[i]);
}

Test(dnsproxy, reply_gets_the_clients_case_back)
{
	static struct msg m, reply;
	struct dns_question q;
	query(&m, "WwW.Allowed.Test", ns_t_a);
	cr_assert_eq(dnsproxy_parse_query(m.b, m.n, &q), DNSQ_OK);
	m_header(&reply, 0xbeef, 0x8180, 1, 1, 0);
	m_question(&reply, "www.allowed.test", ns_t_a);
	reply.b[reply.n++] = 0xc0;
	reply.b[reply.n++] = 12;
	m_u16(&reply, ns_t_a);
	m_u16(&reply, ns_c_in);
	m_u32(&reply, 60);
	m_u16(&reply, 4);
	m_u32(&reply, 0xc633640a);
	size_t n = reply.n;
	dnsproxy_restore_case(reply.b, reply.n, &q);
	cr_assert_eq(memcmp(reply.b + 12, m.b + 12, m.n - 12 - 4), 0);
	cr_assert_eq(reply.n, n);
	/* Another name is left alone (read_reply would have called it foreign anyway). */
	m_header(&reply, 0xbeef, 0x8180, 1, 0, 0);
	m_question(&reply, "www.allowed.tesx", ns_t_a);
	dnsproxy_restore_case(reply.b, reply.n, &q);
	cr_assert_eq(memcmp(reply.b + 12, "\3www", 4), 0);
	dnsproxy_restore_case(reply.b, 14, &q); /* too short: untouched, no overread */
}

/* ---- verdicts ---- */

static void policy(const char *doc, struct sandbox_policy *p)
{
	struct bw_error err = {0};
	char *j = xstrdup(doc);
	for (char *c = j; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	cr_assert_eq(policy_parse(j, strlen(j), "policy.json", p, &err), 0, "%s", err.msg);
	free(j);
}

Test(dnsproxy, verdict_names_the_deciding_rule)
{
	struct sandbox_policy p;
	struct dom_policy dp;
	char rule[64];
	policy("{'domains':{'default':'deny','rules':[{'action':'deny','name':'bad.example.com'},"
	       "{'action':'allow','name':'*.example.com'}]}}",
	       &p);
	dom_policy_init(&dp, &p);
	cr_assert_eq(dnsproxy_verdict(&dp, "BAD.example.com", rule, sizeof(rule)), POL_DENY);
	cr_assert_str_eq(rule, "rule 0");
	cr_assert_eq(dnsproxy_verdict(&dp, "www.example.com", rule, sizeof(rule)), POL_ALLOW);
	cr_assert_eq(dnsproxy_verdict(&dp, "example.com", rule, sizeof(rule)), POL_DENY);
	cr_assert_str_eq(rule, "default");
	/* An escaped dot would look like a subdomain of an allowed name. */
	cr_assert_eq(dnsproxy_verdict(&dp, "evil\\.example.com", rule, sizeof(rule)), POL_DENY);
	cr_assert_str_eq(rule, "invalid name");
	cr_assert_eq(dnsproxy_verdict(&dp, "a..example.com", rule, sizeof(rule)), POL_DENY);
	cr_assert_eq(dnsproxy_verdict(&dp, ".", rule, sizeof(rule)), POL_DENY);
	dom_policy_free(&dp);
	struct oci_kv kv = {"run.bulwark.net.deny-domains", "www.example.com"};
	struct bw_error err = {0};
	cr_assert_eq(policy_apply_annotations(&p, &kv, 1, &err), 0);
	dom_policy_init(&dp, &p);
	cr_assert_eq(dnsproxy_verdict(&dp, "www.example.com", rule, sizeof(rule)), POL_DENY);
	cr_assert_str_eq(rule, "annotation rule 0");
	dom_policy_free(&dp);
	policy_free(&p);
}

/* ---- answers ---- */

Test(dnsproxy, cname_chain_allows_the_targets_addresses_only)
{
	struct msg m;
	struct dns_addr a[8];
	size_t n;
	char s[INET6_ADDRSTRLEN];
	struct dns_question q = question("www.alias.test", ns_t_a);
	m_header(&m, 7, 0x8180, 1, 4, 0);
	m_question(&m, "www.alias.test", ns_t_a);
	/* Out of order, and with an unrelated record a hostile server slipped in. */
	m_a(&m, "target.cdn.test", 30, "198.51.100.11");
	m_a(&m, "other.test", 30, "203.0.113.9");
	m_cname(&m, "WWW.alias.test", "mid.alias.test");
	m_cname(&m, "mid.alias.test", "target.cdn.test");
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 7, &q, a, 8, &n, NULL), DNSR_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(addr_str(&a[0], s), "198.51.100.11");
	cr_assert_eq(a[0].ttl, 30);
}

Test(dnsproxy, cname_loop_ends)
{
	struct msg m;
	struct dns_addr a[8];
	size_t n;
	struct dns_question q = question("a.test", ns_t_a);
	m_header(&m, 7, 0x8180, 1, 3, 0);
	m_question(&m, "a.test", ns_t_a);
	m_cname(&m, "a.test", "b.test");
	m_cname(&m, "b.test", "a.test");
	m_a(&m, "b.test", 5, "198.51.100.12");
	static struct dns_chain chain;
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 7, &q, a, 8, &n, &chain), DNSR_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(chain.n, 2, "the chain stops at the loop");
	cr_assert_str_eq(chain.names[1], "b.test");
}

Test(dnsproxy, compressed_names_are_followed_and_compression_loops_rejected)
{
	struct msg m;
	struct dns_addr a[8];
	size_t n;
	uint8_t rd[4] = {198, 51, 100, 10};
	struct dns_question q = question("allowed.test", ns_t_a);
	m_header(&m, 9, 0x8180, 1, 1, 0);
	m_question(&m, "allowed.test", ns_t_a);
	m.b[m.n++] = 0xc0; /* owner: pointer to the question's name */
	m.b[m.n++] = 12;
	m_u16(&m, ns_t_a);
	m_u16(&m, ns_c_in);
	m_u32(&m, 60);
	m_u16(&m, 4);
	memcpy(m.b + m.n, rd, 4);
	m.n += 4;
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &q, a, 8, &n, NULL), DNSR_OK);
	cr_assert_eq(n, 1);
	size_t owner = m.n - 16;
	m.b[owner + 1] = (uint8_t)owner; /* now a pointer to itself */
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &q, a, 8, &n, NULL), DNSR_BAD);
}

Test(dnsproxy, replies_to_other_questions_are_foreign)
{
	struct msg m;
	struct dns_addr a[8];
	size_t n;
	struct dns_question q = question("allowed.test", ns_t_a);
	m_header(&m, 9, 0x8180, 1, 1, 0);
	m_question(&m, "ALLOWED.test", ns_t_a);
	m_a(&m, "allowed.test", 60, "198.51.100.10");
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &q, a, 8, &n, NULL), DNSR_OK);
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 10, &q, a, 8, &n, NULL), DNSR_FOREIGN);
	struct dns_question other = question("denied.test", ns_t_a);
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &other, a, 8, &n, NULL), DNSR_FOREIGN);
	other = question("allowed.test", ns_t_aaaa);
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &other, a, 8, &n, NULL), DNSR_FOREIGN);
	m.b[2] &= 0x7f; /* not a response */
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 9, &q, a, 8, &n, NULL), DNSR_FOREIGN);
	m.b[2] |= 0x80;
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n - 3, 9, &q, a, 8, &n, NULL), DNSR_BAD);
}

Test(dnsproxy, addresses_are_deduplicated_checked_and_bounded)
{
	struct msg m;
	struct dns_addr a[2];
	size_t n;
	char s[INET6_ADDRSTRLEN];
	uint8_t five[5] = {1, 2, 3, 4, 5};
	struct dns_question q = question("x.test", ns_t_a);
	m_header(&m, 1, 0x8180, 1, 5, 0);
	m_question(&m, "x.test", ns_t_a);
	m_a(&m, "x.test", 10, "198.51.100.1");
	m_a(&m, "x.test", 90, "198.51.100.1");
	m_rr(&m, "x.test", ns_t_a, 10, five, 5);
	m_a(&m, "x.test", 10, "2001:db8::1");
	m_a(&m, "x.test", 10, "198.51.100.2");
	cr_assert_eq(dnsproxy_read_reply(m.b, m.n, 1, &q, a, 2, &n, NULL), DNSR_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(addr_str(&a[0], s), "198.51.100.1");
	cr_assert_eq(a[0].ttl, 90);
	cr_assert_str_eq(addr_str(&a[1], s), "2001:db8::1");
}

Test(dnsproxy, ttl_is_clamped)
{
	cr_assert_eq(dnsproxy_clamp_ttl(0, 5, 3600), 5);
	cr_assert_eq(dnsproxy_clamp_ttl(60, 5, 3600), 60);
	cr_assert_eq(dnsproxy_clamp_ttl(86400, 5, 3600), 3600);
}

static bool priv(const char *text)
{
	uint8_t a[16];
	int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(family, text, a), 1, "%s", text);
	return dnsproxy_private_addr(family, a);
}

Test(dnsproxy, private_and_internal_answers_are_recognised)
{
	static const char *const closed[] = {
	    "0.0.0.0",
	    "10.0.0.1",
	    "10.255.255.255",
	    "100.64.0.1",
	    "100.127.255.254",
	    "127.0.0.1",
	    "169.254.169.254",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.0.0.8",
	    "192.168.1.1",
	    "198.18.0.1",
	    "198.19.255.255",
	    "224.0.0.1",
	    "240.0.0.1",
	    "255.255.255.255",
	    "::",
	    "::1",
	    "::ffff:8.8.8.8",
	    "::10.0.0.1",
	    "fc00::1",
	    "fd12:3456::1",
	    "fe80::1",
	    "fec0::1",
	    "ff02::1",
	    "64:ff9b::a9fe:a9fe",
	    "64:ff9b::10.1.2.3",
	    "64:ff9b:1::1",
	    "2002:0a00:0001::1",
	    "2002:c0a8:0101::",
	};
	static const char *const open[] = {
	    "1.1.1.1",	   "9.255.255.255",    "11.0.0.0",	    "100.63.255.255",
	    "100.128.0.0", "172.15.255.255",   "172.32.0.0",	    "192.0.2.1",
	    "192.169.0.0", "198.17.255.255",   "198.20.0.0",	    "198.51.100.10",
	    "203.0.113.5", "223.255.255.255",  "2001:db8::1",	    "2606:4700::1111",
	    "fbff::1",	   "64:ff9b::808:808", "2002:0808:0808::1",
	};
	for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++)
		cr_assert(priv(closed[i]), "%s should count as private", closed[i]);
	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		cr_assert_not(priv(open[i]), "%s should count as public", open[i]);
}

/* ---- audit lines ---- */

Test(audit, names_keep_utf8_and_escape_controls)
{
	struct audit_event ev;
	struct timespec ts = {0};
	char line[AUDIT_LINE_MAX];
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_DNS;
	strcpy(ev.name, "a\"b\\c\n\x01\xff\xc3\xa9");
	strcpy(ev.rule, "default");
	cr_assert(audit_format(&ev, "sb1", 1, &ts, line, sizeof(line)) > 0);
	cr_assert(strstr(line, "\"name\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\"") != NULL,
		  "%s", line);
	cr_assert_eq(audit_format(&ev, "sb1", 1, &ts, line, 20), 0,
		     "a line that does not fit is not cut");
}

Test(audit, line_formats)
{
	struct audit_event ev;
	struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789};
	char line[AUDIT_LINE_MAX];
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_PACKET;
	ev.family = AF_INET;
	inet_pton(AF_INET, "198.51.100.20", ev.addr);
	ev.proto = 6;
	ev.has_port = true;
	ev.port = 80;
	strcpy(ev.rule, "default");
	audit_format(&ev, "sb1", 3, &ts, line, sizeof(line));
	cr_assert_str_eq(line, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"sandbox\":\"sb1\","
			       "\"event\":\"denied\",\"kind\":\"packet\",\"direction\":\"egress\","
			       "\"proto\":\"tcp\",\"destination\":\"198.51.100.20\",\"port\":80,"
			       "\"rule\":\"default\",\"count\":3}\n");
	ev.dir = POL_INGRESS;
	ev.proto = 1;
	ev.has_port = false;
	audit_format(&ev, "sb1", 1, &ts, line, sizeof(line));
	cr_assert(strstr(line, "\"direction\":\"ingress\",\"proto\":\"icmp\",\"source\":"
			       "\"198.51.100.20\",\"rule\"") != NULL,
		  "%s", line);
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_DNS;
	strcpy(ev.name, "x\"y.test");
	ev.qtype = 28;
	strcpy(ev.rule, "rule 2");
	audit_format(&ev, "s\"b", 1, &ts, line, sizeof(line));
	cr_assert(strstr(line, "\"sandbox\":\"s\\\"b\",\"event\":\"denied\",\"kind\":\"dns\","
			       "\"name\":\"x\\\"y.test\",\"qtype\":\"AAAA\",\"rule\":\"rule 2\","
			       "\"count\":1}\n") != NULL,
		  "%s", line);
}

Test(audit, longest_line_fits)
{
	struct audit_event ev;
	struct timespec ts = {0};
	char line[AUDIT_LINE_MAX], id[257];
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_DNS;
	memset(ev.name, '\x01', sizeof(ev.name) - 1);
	memset(id, '"', sizeof(id) - 1);
	id[256] = '\0';
	size_t n = audit_format(&ev, id, UINT64_MAX, &ts, line, sizeof(line));
	cr_assert(n > 0 && n < AUDIT_LINE_MAX);
}

static size_t read_lines(int fd, char *buf, size_t cap)
{
	off_t end = lseek(fd, 0, SEEK_END);
	ssize_t r = pread(fd, buf, cap - 1, 0);
	cr_assert_eq(r, end);
	buf[r] = '\0';
	size_t lines = 0;
	for (char *c = buf; *c != '\0'; c++)
		lines += *c == '\n';
	return lines;
}

static struct audit_event packet_to(uint16_t port)
{
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_PACKET;
	ev.family = AF_INET;
	ev.proto = 17;
	ev.has_port = true;
	ev.port = port;
	strcpy(ev.rule, "default");
	return ev;
}

Test(audit, one_line_per_key_and_second_with_counts)
{
	int fd = memfd_create("events", 0);
	static char buf[1 << 20];
	struct audit *a = audit_new("sb", fd, -1);
	struct audit_event ev = packet_to(53);
	audit_note(a, &ev, 10000);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 1);
	cr_assert(strstr(buf, "\"count\":1}") != NULL);
	for (int i = 1; i <= 5; i++)
		audit_note(a, &ev, 10000 + (uint64_t)i * 150);
	audit_tick(a, 10999);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 1);
	audit_tick(a, 11000);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 2);
	cr_assert(strstr(buf, "\"count\":5}") != NULL, "%s", buf);
	audit_note(a, &ev, 11200);
	audit_flush(a);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 3);
	audit_free(a);
	close(fd);
}

Test(audit, new_keys_are_rationed_and_overflow_into_other)
{
	int fd = memfd_create("events", 0);
	static char buf[1 << 20];
	struct audit *a = audit_new("sb", -1, fd);
	/* A burst of new keys: the first AUDIT_LINES_BURST get their line at once, the rest are
	 * counted under "other" (twice each). */
	for (int i = 0; i < AUDIT_MAX_KEYS + 10; i++) {
		struct audit_event ev = packet_to((uint16_t)(i + 1));
		audit_note(a, &ev, 5000);
		audit_note(a, &ev, 5001);
	}
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), AUDIT_LINES_BURST);
	audit_flush(a);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 2 * AUDIT_LINES_BURST + 1);
	char other[64];
	snprintf(other, sizeof(other), "\"kind\":\"other\",\"count\":%d}",
		 2 * (AUDIT_MAX_KEYS + 10 - AUDIT_LINES_BURST));
	cr_assert(strstr(buf, other) != NULL, "no %s", other);
	/* Two seconds later the idle keys are forgotten, the bucket has refilled, and a new key
	 * gets its line again. */
	audit_tick(a, 7000);
	struct audit_event ev = packet_to(65000);
	audit_note(a, &ev, 7001);
	cr_assert_eq(read_lines(fd, buf, sizeof(buf)), 2 * AUDIT_LINES_BURST + 2);
	cr_assert(strstr(buf, "\"port\":65000") != NULL);
	audit_free(a);
	close(fd);
}

/* Steady flooding at many times the budget: the lines written stay near the budget, and the
 * counts still add up to every denial. */
Test(audit, flood_stays_within_the_line_budget)
{
	int fd = memfd_create("events", 0);
	static char buf[4 << 20];
	struct audit *a = audit_new("sb", -1, fd);
	uint64_t total = 0;
	for (uint64_t t = 10000; t < 20000; t += 10) { /* 10 s, 100 ticks a second */
		for (int i = 0; i < 20; i++, total++) {
			struct audit_event ev = packet_to((uint16_t)(1 + (total % 60000)));
			audit_note(a, &ev, t);
		}
		audit_tick(a, t);
	}
	audit_flush(a);
	size_t lines = read_lines(fd, buf, sizeof(buf));
	cr_assert_leq(lines, AUDIT_LINES_BURST + 10 * AUDIT_LINES_PER_S + AUDIT_MAX_KEYS + 1,
		      "%zu lines", lines);
	uint64_t sum = 0;
	for (char *p = strstr(buf, "\"count\":"); p != NULL; p = strstr(p + 1, "\"count\":"))
		sum += strtoull(p + 8, NULL, 10);
	cr_assert_eq(sum, total);
	audit_free(a);
	close(fd);
}

/* ---- NFLOG ---- */

Test(nflog, prefixes)
{
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	cr_assert(nflog_parse_prefix("bulwark out default ", &ev));
	cr_assert_eq(ev.dir, POL_EGRESS);
	cr_assert_str_eq(ev.rule, "default");
	cr_assert(nflog_parse_prefix("bulwark in r12 ", &ev));
	cr_assert_eq(ev.dir, POL_INGRESS);
	cr_assert_str_eq(ev.rule, "rule 12");
	cr_assert(nflog_parse_prefix("bulwark out a3 ", &ev));
	cr_assert_str_eq(ev.rule, "annotation rule 3");
	cr_assert(nflog_parse_prefix("bulwark out fixed ", &ev));
	cr_assert(nflog_parse_prefix("bulwark in annotations ", &ev));
	const char *bad[] = {"bulwark out r ",
			     "bulwark up default ",
			     "other out default ",
			     "bulwark out default",
			     "bulwark out r1x ",
			     "bulwark out nope ",
			     "",
			     "bulwark out default x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_not(nflog_parse_prefix(bad[i], &ev), "%s", bad[i]);
}

static size_t ipv4_tcp(uint8_t *p, const char *src, const char *dst, uint16_t dport, uint16_t frag)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[9] = 6;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return 40;
}

Test(nflog, ipv4_and_ipv6_headers)
{
	uint8_t p[80];
	char s[INET6_ADDRSTRLEN];
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	size_t n = ipv4_tcp(p, "203.0.113.2", "198.51.100.20", 80, 0);
	cr_assert(nflog_parse_packet(p, n, &ev));
	cr_assert_str_eq(inet_ntop(AF_INET, ev.addr, s, sizeof(s)), "198.51.100.20");
	cr_assert(ev.has_port);
	cr_assert_eq(ev.port, 80);
	memset(&ev, 0, sizeof(ev));
	ev.dir = POL_INGRESS;
	cr_assert(nflog_parse_packet(p, n, &ev));
	cr_assert_str_eq(inet_ntop(AF_INET, ev.addr, s, sizeof(s)), "203.0.113.2");
	memset(&ev, 0, sizeof(ev));
	ipv4_tcp(p, "203.0.113.2", "198.51.100.20", 80, 100); /* not the first fragment */
	cr_assert(nflog_parse_packet(p, n, &ev));
	cr_assert_not(ev.has_port);
	cr_assert_not(nflog_parse_packet(p, 19, &ev));
	/* IPv6, a hop-by-hop header, then UDP to port 9999. */
	memset(p, 0, sizeof(p));
	memset(&ev, 0, sizeof(ev));
	p[0] = 0x60;
	p[6] = 0;
	inet_pton(AF_INET6, "2001:db8:1::10", p + 24);
	p[40] = 17; /* next: UDP */
	p[41] = 0;  /* 8 bytes */
	p[50] = 0x27;
	p[51] = 0x0f;
	cr_assert(nflog_parse_packet(p, 56, &ev));
	cr_assert_eq(ev.proto, 17);
	cr_assert_eq(ev.port, 9999);
	cr_assert_str_eq(inet_ntop(AF_INET6, ev.addr, s, sizeof(s)), "2001:db8:1::10");
	memset(&ev, 0, sizeof(ev));
	cr_assert(nflog_parse_packet(p, 50, &ev)); /* cut before the ports */
	cr_assert_not(ev.has_port);
}

static int seen;
static struct audit_event last;

static void count_event(void *ctx, const struct audit_event *ev)
{
	seen++;
	last = *ev;
}

Test(nflog, netlink_messages)
{
	struct nfset_buf b = {0};
	uint8_t p[40];
	size_t n = ipv4_tcp(p, "203.0.113.2", "198.51.100.20", 443, 0);
	for (int i = 0; i < 2; i++) {
		nfset_msg_begin(&b, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET, 0, 0, AF_INET,
				7001);
		static const char prefix[2][16] = {"bulwark out r4 ", "someone else "};
		nfset_nla_put(&b, NFULA_PREFIX, prefix[i], sizeof(prefix[i]));
		nfset_nla_put(&b, NFULA_PAYLOAD, p, n);
		nfset_msg_end(&b);
	}
	seen = 0;
	nflog_parse(b.data, b.len, count_event, NULL);
	cr_assert_eq(seen, 1);
	cr_assert_str_eq(last.rule, "rule 4");
	cr_assert_eq(last.port, 443);
	/* A lying attribute length stops the walk of that message. */
	b.data[NLMSG_HDRLEN + 4] = 0xff;
	seen = 0;
	nflog_parse(b.data, b.len, count_event, NULL);
	cr_assert_eq(seen, 0);
	free(b.data);
}

/* ---- set updates ---- */

static const struct nlattr *find_attr(const uint8_t *start, size_t len, uint16_t type)
{
	size_t off = 0;
	while (off + NLA_HDRLEN <= len) {
		const struct nlattr *a = (const struct nlattr *)(start + off);
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		off += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

Test(nfset, batch_layout)
{
	struct nfset_buf b = {0};
	struct nfset_elem e[2] = {{.family = AF_INET, .timeout_s = 30},
				  {.family = AF_INET6, .timeout_s = 60}};
	inet_pton(AF_INET, "198.51.100.10", e[0].addr);
	inet_pton(AF_INET6, "2001:db8:1::10", e[1].addr);
	cr_assert_eq(nfset_build(&b, "bulwark", e, 2, 100), 2);
	const struct nlmsghdr *h = (const struct nlmsghdr *)b.data;
	cr_assert_eq(h->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	h = (const struct nlmsghdr *)(b.data + h->nlmsg_len);
	cr_assert_eq(h->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM);
	cr_assert(h->nlmsg_flags & NLM_F_ACK);
	cr_assert_not(h->nlmsg_flags & NLM_F_EXCL);
	const uint8_t *attrs = (const uint8_t *)h + NLMSG_HDRLEN + 4;
	size_t alen = h->nlmsg_len - NLMSG_HDRLEN - 4;
	const struct nlattr *set = find_attr(attrs, alen, NFTA_SET_ELEM_LIST_SET);
	cr_assert_str_eq((const char *)(set + 1), "allow4");
	const struct nlattr *list = find_attr(attrs, alen, NFTA_SET_ELEM_LIST_ELEMENTS);
	const struct nlattr *elem = (const struct nlattr *)(list + 1);
	const struct nlattr *t = find_attr((const uint8_t *)(elem + 1), elem->nla_len - NLA_HDRLEN,
					   NFTA_SET_ELEM_TIMEOUT);
	uint64_t ms;
	memcpy(&ms, t + 1, 8);
	cr_assert_eq(be64toh(ms), 30000);
	size_t total = 0;
	int msgs = 0;
	for (h = (const struct nlmsghdr *)b.data; total < b.len;
	     total += h->nlmsg_len, h = (const struct nlmsghdr *)(b.data + total))
		msgs++;
	cr_assert_eq(msgs, 4);
	cr_assert_eq(h, (const struct nlmsghdr *)(b.data + b.len));
	free(b.data);
}

Test(nfset, port_elements_go_to_the_concatenated_sets)
{
	struct nfset_buf b = {0};
	struct nfset_elem e[3] = {{.family = AF_INET, .timeout_s = 30},
				  {.family = AF_INET, .timeout_s = 30, .proto = 6, .port = 443},
				  {.family = AF_INET6, .timeout_s = 30, .proto = 17, .port = 53}};
	static const char *const want[] = {"allow4", "allowp4", "allowp6"};
	static const size_t key_len[] = {4, 12, 24};
	static const uint8_t key4[12] = {198, 51, 100, 10, 6, 0, 0, 0, 1, 187, 0, 0};
	inet_pton(AF_INET, "198.51.100.10", e[1].addr);
	cr_assert_eq(nfset_build(&b, "bulwark", e, 3, 1), 3, "allow4, allowp4, allowp6");
	const struct nlmsghdr *h = (const struct nlmsghdr *)b.data;
	for (int i = 0; i < 3; i++) {
		h = (const struct nlmsghdr *)((const uint8_t *)h + h->nlmsg_len);
		const uint8_t *attrs = (const uint8_t *)h + NLMSG_HDRLEN + 4;
		size_t alen = h->nlmsg_len - NLMSG_HDRLEN - 4;
		const struct nlattr *set = find_attr(attrs, alen, NFTA_SET_ELEM_LIST_SET);
		cr_assert_str_eq((const char *)(set + 1), want[i]);
		const struct nlattr *list = find_attr(attrs, alen, NFTA_SET_ELEM_LIST_ELEMENTS);
		const struct nlattr *elem = (const struct nlattr *)(list + 1);
		const struct nlattr *key = find_attr((const uint8_t *)(elem + 1),
						     elem->nla_len - NLA_HDRLEN, NFTA_SET_ELEM_KEY);
		const struct nlattr *val = (const struct nlattr *)(key + 1);
		size_t klen = val->nla_len - NLA_HDRLEN;
		cr_assert_eq(klen, key_len[i]);
		if (i == 1)
			cr_assert_eq(memcmp(val + 1, key4, 12), 0,
				     "address, proto, port: 4 bytes each");
	}
	free(b.data);
}

Test(dnsproxy, ports_of_a_chain_are_those_every_name_allows)
{
	struct sandbox_policy p;
	struct dom_policy dp;
	static char names[3][NS_MAXDNAME];
	struct pol_dport out[POL_MAX_DOMAIN_PORTS];
	policy("{'domains':{'default':'allow','rules':["
	       "{'action':'allow','name':'web.test','ports':['80/tcp','443/tcp']},"
	       "{'action':'allow','name':'*.cdn.test','ports':['443/tcp','443/udp']},"
	       "{'action':'allow','name':'ssh.test','ports':['22/tcp']},"
	       "{'action':'allow','name':'any.test'}]}}",
	       &p);
	dom_policy_init(&dp, &p);
	snprintf(names[0], NS_MAXDNAME, "Web.Test");
	cr_assert_eq(dnsproxy_ports(&dp, names, 1, out), 2);
	cr_assert_eq(out[1].port, 443);
	snprintf(names[1], NS_MAXDNAME, "edge.cdn.test");
	cr_assert_eq(dnsproxy_ports(&dp, names, 2, out), 1, "443/tcp only");
	cr_assert_eq(out[0].port, 443);
	cr_assert_eq(out[0].proto, IPPROTO_TCP);
	snprintf(names[2], NS_MAXDNAME, "ssh.test");
	cr_assert_eq(dnsproxy_ports(&dp, names, 3, out), 0, "nothing in common: nothing opens");
	snprintf(names[0], NS_MAXDNAME, "any.test");
	cr_assert_eq(dnsproxy_ports(&dp, names, 1, out), -1, "no ports: every port");
	snprintf(names[0], NS_MAXDNAME, "unlisted.test"); /* the default allows */
	cr_assert_eq(dnsproxy_ports(&dp, names, 1, out), -1);
	snprintf(names[1], NS_MAXDNAME, "ssh.test");
	cr_assert_eq(dnsproxy_ports(&dp, names, 2, out), 1);
	dom_policy_free(&dp);
	policy_free(&p);
}

/* As root in a fresh namespace: the batch is accepted, and a second add of the same address
 * replaces its timeout (the refresh the proxy relies on). */
Test(nfset, kernel_accepts_and_refreshes_elements)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		cr_skip_test("needs root");
	struct bw_error err = {0};
	char *out = NULL;
	struct nfset_elem e = {.family = AF_INET, .timeout_s = 100};
	inet_pton(AF_INET, "198.51.100.10", e.addr);
	int r = fw_run_script(-1,
			      "add table inet bulwark\n"
			      "add set inet bulwark allow4 { type ipv4_addr; flags timeout; }\n"
			      "add set inet bulwark allow6 { type ipv6_addr; flags timeout; }\n"
			      "add set inet bulwark allowp4 { type ipv4_addr . inet_proto . "
			      "inet_service; flags timeout; }\n",
			      NULL, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	int fd = nfset_open(&err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	cr_assert_eq(nfset_add(fd, FW_TABLE, &e, 1, &err), 0, "%s", err.msg);
	e.timeout_s = 300;
	cr_assert_eq(nfset_add(fd, FW_TABLE, &e, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(fw_run_script(-1, "list set inet bulwark allow4", &out, &err), 0);
	/* The second timeout replaced the first (expires 5m within the same millisecond). */
	cr_assert(strstr(out, "198.51.100.10 timeout 5m expires 4m") != NULL ||
		      strstr(out, "198.51.100.10 timeout 5m expires 5m") != NULL,
		  "%s", out);
	free(out);
	struct nfset_elem pe = e;
	pe.proto = IPPROTO_TCP;
	pe.port = 443;
	cr_assert_eq(nfset_add(fd, FW_TABLE, &pe, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(fw_run_script(-1, "list set inet bulwark allowp4", &out, &err), 0);
	cr_assert(strstr(out, "198.51.100.10 . tcp . 443 timeout 5m") != NULL, "%s", out);
	free(out);
	cr_assert_lt(nfset_add(fd, "missing", &e, 1, &err), 0);
	cr_assert(strstr(err.msg, "allow-set update") != NULL, "%s", err.msg);
	close(fd);
}

/* ---- resolv.conf ---- */

Test(agent, resolv_conf_nameservers)
{
	struct sockaddr_storage ss[4];
	socklen_t len[4];
	size_t n = agent_parse_resolv_conf("# comment\nsearch example.com\nnameserver 192.0.2.53\n"
					   "nameserver fe80::1%eth0\n  nameserver\t2001:db8::53\n"
					   "nameserver bogus\nnameserver 192.0.2.54\n"
					   "nameserver 192.0.2.55\nnameserver 192.0.2.56\n",
					   ss, len, 4);
	cr_assert_eq(n, 4);
	cr_assert_eq(ss[0].ss_family, AF_INET);
	cr_assert_eq(ntohs(((struct sockaddr_in *)&ss[0])->sin_port), 53);
	cr_assert_eq(ss[1].ss_family, AF_INET6);
	cr_assert_eq(len[1], sizeof(struct sockaddr_in6));
	cr_assert_eq(agent_parse_resolv_conf("", ss, len, 4), 0);
}
