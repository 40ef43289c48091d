/* The DNS allowlist proxy's pure half: messages read with libresolv's ns_initparse/ns_parserr/
 * ns_name_uncompress and written with dn_comp (the checks of a client's query, the error
 * answers, the query rebuilt for the upstream from the parsed question, the verdict with its
 * rule, the walk of an upstream answer along the CNAME chain, which addresses are private).
 * Unit-tested without sockets; dnsproxy.c runs the listeners and exchanges on top. */
#include "netns/dnsproxy.h"

#include <ctype.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The client's EDNS0 buffer size, from its one OPT record (owner the root). The rest of the
 * additional section is read only to be checked: nothing of it is forwarded. */
static int read_opt(ns_msg *m, struct dns_question *q)
{
	ns_rr rr;
	int ar = ns_msg_count(*m, ns_s_ar);
	for (int i = 0; i < ar; i++) {
		if (ns_parserr(m, ns_s_ar, i, &rr) < 0)
			return -1;
		if (ns_rr_type(rr) != ns_t_opt)
			continue;
		if (q->edns || strcmp(ns_rr_name(rr), ".") != 0)
			return -1; /* two OPT records, or one not owned by the root (RFC 6891) */
		q->edns = true;
		q->udp_size = ns_rr_class(rr);
	}
	return 0;
}

int dnsproxy_parse_query(const uint8_t *msg, size_t len, struct dns_question *q)
{
	q->edns = false;
	q->udp_size = 0;
	ns_msg m;
	ns_rr rr;
	q->has_question = false;
	q->name[0] = '\0';
	if (len < NS_HFIXEDSZ || len > NS_MAXMSG)
		return DNSQ_DROP;
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if (q->flags & 0x8000) /* a response: answering it could start a loop */
		return DNSQ_DROP;
	if (ns_initparse(msg, (int)len, &m) < 0 || ns_msg_count(m, ns_s_qd) != 1 ||
	    ns_parserr(&m, ns_s_qd, 0, &rr) < 0)
		return ns_r_formerr;
	snprintf(q->name, sizeof(q->name), "%s", ns_rr_name(rr));
	q->type = ns_rr_type(rr);
	q->class = ns_rr_class(rr);
	q->has_question = true;
	if (((q->flags >> 11) & 0xf) != ns_o_query)
		return ns_r_notimpl;
	if (ns_msg_count(m, ns_s_an) != 0 || ns_msg_count(m, ns_s_ns) != 0 || read_opt(&m, q) < 0)
		return ns_r_formerr;
	if (q->class != ns_c_in)
		return ns_r_refused;
	return DNSQ_OK;
}

bool dnsproxy_type_forwarded(uint16_t type)
{
	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
	case ns_t_cname:
	case 65: /* HTTPS */
	case 64: /* SVCB */
	case ns_t_mx:
	case ns_t_txt:
	case ns_t_srv:
	case 257: /* CAA */
	case ns_t_ptr:
		return true;
	default:
		return false;
	}
}

/* Only a plain name (letters, digits, '-', '_') is ever forwarded: lower-casing it byte by
 * byte is exact. */
size_t dnsproxy_build_query(const struct dns_question *q, uint16_t id, uint8_t *out, size_t cap)
{
	char low[NS_MAXDNAME];
	size_t i = 0;
	for (; q->name[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)q->name[i]);
	low[i] = '\0';
	size_t opt = q->edns ? 11 : 0;
	if (!q->has_question || cap < NS_HFIXEDSZ + 1 + NS_QFIXEDSZ + opt)
		return 0;
	memset(out, 0, NS_HFIXEDSZ);
	put16(out, id);
	put16(out + 2, q->flags & 0x0100); /* RD only: opcode QUERY, no AD, no CD */
	put16(out + 4, 1);
	put16(out + 10, q->edns ? 1 : 0);
	size_t len = NS_HFIXEDSZ;
	int n = dn_comp(low, out + len, (int)(cap - len - NS_QFIXEDSZ - opt), NULL, NULL);
	if (n <= 0)
		return 0;
	len += (size_t)n;
	put16(out + len, q->type);
	put16(out + len + 2, ns_c_in);
	len += NS_QFIXEDSZ;
	if (q->edns) {
		uint16_t size = q->udp_size < 512		 ? 512
				: q->udp_size > DNS_EDNS_UDP_MAX ? DNS_EDNS_UDP_MAX
								 : q->udp_size;
		memset(out + len, 0, 11); /* root owner; extended rcode, version, flags, rdlen 0 */
		put16(out + len + 1, ns_t_opt);
		put16(out + len + 3, size);
		len += 11;
	}
	return len;
}

void dnsproxy_restore_case(uint8_t *msg, size_t len, const struct dns_question *q)
{
	uint8_t wire[NS_MAXCDNAME];
	int n = dn_comp(q->name, wire, sizeof(wire), NULL, NULL);
	if (n <= 0 || len < NS_HFIXEDSZ + (size_t)n)
		return;
	/* Label lengths are below 64, so lower-casing every byte compares them exactly. */
	for (int i = 0; i < n; i++)
		if (tolower(msg[NS_HFIXEDSZ + i]) != tolower(wire[i]))
			return;
	memcpy(msg + NS_HFIXEDSZ, wire, (size_t)n);
}

size_t dnsproxy_error_reply(const struct dns_question *q, int rcode, bool tc, uint8_t *out,
			    size_t cap)
{
	if (cap < NS_HFIXEDSZ)
		return 0;
	/* QR, the query's opcode and RD, RA, TC when asked, the rcode. */
	uint16_t flags =
	    (uint16_t)(0x8000 | (q->flags & 0x7900) | 0x0080 | (tc ? 0x0200 : 0) | (rcode & 0xf));
	memset(out, 0, NS_HFIXEDSZ);
	put16(out, q->id);
	put16(out + 2, flags);
	size_t len = NS_HFIXEDSZ;
	if (q->has_question && cap >= NS_HFIXEDSZ + NS_QFIXEDSZ + 1) {
		int n = dn_comp(q->name, out + len, (int)(cap - len - NS_QFIXEDSZ), NULL, NULL);
		if (n > 0) {
			len += (size_t)n;
			put16(out + len, q->type);
			put16(out + len + 2, q->class);
			len += NS_QFIXEDSZ;
			put16(out + 4, 1);
		}
	}
	return len;
}

/* Letters, digits, '-', '_' in non-empty labels: what a domain rule can name. Anything else
 * (escaped dots or bytes in a label) could make the presentation form end in an allowed
 * suffix that the wire name does not have. */
static bool name_is_plain(const char *s)
{
	size_t len = strlen(s), lab = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			lab++;
		} else {
			return false;
		}
	}
	return true;
}

enum pol_action dnsproxy_verdict(const struct dom_policy *dp, const char *name, char *rule,
				 size_t rule_len)
{
	char low[NS_MAXDNAME];
	const char *why;
	if (!name_is_plain(name)) {
		snprintf(rule, rule_len, "invalid name");
		return POL_DENY;
	}
	enum pol_action a = dom_policy_verdict(dp, name, &why);
	size_t i = 0;
	for (; name[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	long idx = -1;
	if (strcmp(why, "rule") == 0 && (idx = dom_index_match(dp->host, low)) >= 0) {
		snprintf(rule, rule_len, "rule %ld", idx);
	} else if (strcmp(why, "annotation") == 0) {
		idx = dp->narrow != NULL ? dom_index_match(dp->narrow, low) : -1;
		if (idx >= 0)
			snprintf(rule, rule_len, "annotation rule %ld", idx);
		else
			snprintf(rule, rule_len, "annotations");
	} else {
		snprintf(rule, rule_len, "%s", why);
	}
	return a;
}

static bool has_port(const struct pol_dport *v, size_t n, struct pol_dport d)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].proto == d.proto && v[i].port == d.port)
			return true;
	return false;
}

int dnsproxy_ports(const struct dom_policy *dp, char names[][NS_MAXDNAME], size_t n,
		   struct pol_dport out[POL_MAX_DOMAIN_PORTS])
{
	int have = -1;
	for (size_t i = 0; i < n; i++) {
		char low[NS_MAXDNAME];
		size_t k = 0;
		for (; names[i][k] != '\0' && k < sizeof(low) - 1; k++)
			low[k] = (char)tolower((unsigned char)names[i][k]);
		low[k] = '\0';
		long idx = dom_index_match(dp->host, low);
		if (idx < 0)
			continue;
		const struct pol_domain_rule *r = &dp->p->host.domains.v[idx];
		if (r->action != POL_ALLOW || r->n_ports == 0)
			continue;
		if (have < 0) {
			memcpy(out, r->ports, r->n_ports * sizeof(r->ports[0]));
			have = (int)r->n_ports;
			continue;
		}
		int kept = 0;
		for (int j = 0; j < have; j++)
			if (has_port(r->ports, r->n_ports, out[j]))
				out[kept++] = out[j];
		have = kept;
	}
	return have;
}

uint32_t dnsproxy_clamp_ttl(uint32_t ttl, uint32_t floor, uint32_t cap)
{
	if (ttl < floor)
		return floor;
	return ttl > cap ? cap : ttl;
}

static bool on_chain(char chain[][NS_MAXDNAME], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(chain[i], name) == 0)
			return true;
	return false;
}

/* The target of the CNAME owned by owner: 1 found, 0 none, -1 unreadable records. */
static int find_cname(ns_msg *m, int an, const char *owner, char target[NS_MAXDNAME])
{
	ns_rr rr;
	for (int i = 0; i < an; i++) {
		if (ns_parserr(m, ns_s_an, i, &rr) < 0)
			return -1;
		if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
		    strcasecmp(ns_rr_name(rr), owner) != 0)
			continue;
		int used = ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), ns_rr_rdata(rr),
					      target, NS_MAXDNAME);
		if (used < 0 || (size_t)used > ns_rr_rdlen(rr))
			return -1;
		return 1;
	}
	return 0;
}

static void add_addr(struct dns_addr *out, size_t max, size_t *n, int family, const uint8_t *a,
		     uint32_t ttl)
{
	size_t alen = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < *n; i++)
		if (out[i].family == family && memcmp(out[i].addr, a, alen) == 0) {
			if (ttl > out[i].ttl)
				out[i].ttl = ttl;
			return;
		}
	if (*n >= max)
		return;
	memset(&out[*n], 0, sizeof(out[*n]));
	out[*n].family = family;
	memcpy(out[*n].addr, a, alen);
	out[*n].ttl = ttl;
	(*n)++;
}

static bool question_matches(ns_msg *m, const struct dns_question *q)
{
	ns_rr rr;
	return ns_msg_count(*m, ns_s_qd) == 1 && ns_parserr(m, ns_s_qd, 0, &rr) == 0 &&
	       strcasecmp(ns_rr_name(rr), q->name) == 0 && ns_rr_type(rr) == q->type &&
	       ns_rr_class(rr) == q->class;
}

static enum dns_reply_status collect(ns_msg *m, int an, char chain[][NS_MAXDNAME], size_t nchain,
				     struct dns_addr *out, size_t max, size_t *n)
{
	ns_rr rr;
	for (int i = 0; i < an; i++) {
		if (ns_parserr(m, ns_s_an, i, &rr) < 0)
			return DNSR_BAD;
		uint16_t t = ns_rr_type(rr);
		size_t want = t == ns_t_a ? 4 : t == ns_t_aaaa ? 16 : 0;
		if (want == 0 || ns_rr_class(rr) != ns_c_in || ns_rr_rdlen(rr) != want ||
		    !on_chain(chain, nchain, ns_rr_name(rr)))
			continue;
		add_addr(out, max, n, t == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr),
			 ns_rr_ttl(rr));
	}
	return DNSR_OK;
}

enum dns_reply_status dnsproxy_read_reply(const uint8_t *msg, size_t len, uint16_t id,
					  const struct dns_question *q, struct dns_addr *out,
					  size_t max, size_t *n, struct dns_chain *names)
{
	char chain[DNS_MAX_CHAIN][NS_MAXDNAME];
	ns_msg m;
	*n = 0;
	if (len < NS_HFIXEDSZ || len > NS_MAXMSG || get16(msg) != id || !(msg[2] & 0x80))
		return DNSR_FOREIGN;
	if (ns_initparse(msg, (int)len, &m) < 0)
		return DNSR_BAD;
	if (!question_matches(&m, q))
		return DNSR_FOREIGN;
	int an = ns_msg_count(m, ns_s_an);
	if (an > DNS_MAX_ANSWERS)
		an = DNS_MAX_ANSWERS;
	snprintf(chain[0], NS_MAXDNAME, "%s", q->name);
	size_t nchain = 1;
	while (nchain < DNS_MAX_CHAIN) {
		int r = find_cname(&m, an, chain[nchain - 1], chain[nchain]);
		if (r < 0)
			return DNSR_BAD;
		if (r == 0 || on_chain(chain, nchain, chain[nchain]))
			break; /* the end of the chain, or a CNAME loop */
		nchain++;
	}
	if (names != NULL) {
		memcpy(names->names, chain, nchain * sizeof(chain[0]));
		names->n = nchain;
	}
	return collect(&m, an, chain, nchain, out, max, n);
}

static bool in4(const uint8_t *a, uint32_t net, int bits)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
	return (v & mask) == net;
}

bool dnsproxy_private_addr(int family, const uint8_t *a)
{
	static const struct {
		uint32_t net;
		int bits;
	} v4[] = {
	    {0x00000000, 8},  /* "this network" */
	    {0x0a000000, 8},  /* 10/8 */
	    {0x64400000, 10}, /* 100.64/10 CGNAT */
	    {0x7f000000, 8},  /* loopback */
	    {0xa9fe0000, 16}, /* link-local, metadata */
	    {0xac100000, 12}, /* 172.16/12 */
	    {0xc0000000, 24}, /* 192.0.0/24 protocol assignments */
	    {0xc0a80000, 16}, /* 192.168/16 */
	    {0xc6120000, 15}, /* 198.18/15 benchmarking */
	    {0xe0000000, 3},  /* multicast, reserved, broadcast */
	};
	static const uint8_t zero[12] = {0},
			     mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
			     nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0},
			     nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
	if (family == AF_INET6) {
		if (memcmp(a, zero, 12) == 0 || memcmp(a, mapped, 12) == 0)
			return true; /* ::, ::1, IPv4-compatible and -mapped: all of them */
		/* IPv4 carried inside: NAT64 (64:ff9b::/96) and 6to4 (2002::/16) are private
		 * when their IPv4 address is; the local-use NAT64 prefix 64:ff9b:1::/48 always. */
		if (memcmp(a, nat64, 12) == 0)
			return dnsproxy_private_addr(AF_INET, a + 12);
		if (a[0] == 0x20 && a[1] == 0x02)
			return dnsproxy_private_addr(AF_INET, a + 2);
		if (memcmp(a, nat64_local, 6) == 0)
			return true;
		return (a[0] & 0xfe) == 0xfc ||			  /* fc00::/7 ULA */
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* fec0::/10 site-local */
		       a[0] == 0xff;				  /* multicast */
	}
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		if (in4(a, v4[i].net, v4[i].bits))
			return true;
	return false;
}
