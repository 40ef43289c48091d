/* Rendering a sandbox policy as one nftables table. Order in each base chain: loopback, the
 * fixed deny list (which therefore no rule can open), established/related, the narrowing layer
 * from annotations, the policy's rules (first match wins), the DNS-learned address sets, and a
 * counted, logged drop. */
#include "netns/firewall.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->s = xrealloc(b->s, b->cap);
	}
}

static const char *const dir_name[POL_NDIRS] = {"out", "in"};

/* Descriptions become nft comments: printable, no quotes, bounded. */
static void put_comment(struct buf *b, const char *desc)
{
	char c[101];
	size_t o = 0;
	if (desc == NULL || *desc == '\0')
		return;
	for (; *desc != '\0' && o < sizeof(c) - 1; desc++) {
		unsigned char ch = (unsigned char)*desc;
		c[o++] = (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') ? '_' : (char)ch;
	}
	c[o] = '\0';
	put(b, " comment \"%s\"", c);
}

static void put_verdict_drop(struct buf *b, const char *dir, const char *tag)
{
	put(b, " counter log prefix \"bulwark %s %s \" group %d drop", dir, tag, FW_LOG_GROUP);
}

/* The match part of a rule: address on the side away from the sandbox, then protocol/port. */
static void put_match(struct buf *b, const struct pol_rule *r, enum pol_dir d)
{
	char cidr[64];
	const char *side = d == POL_EGRESS ? "daddr" : "saddr";
	if (r->cidr.family != 0)
		put(b, " %s %s %s", r->cidr.family == AF_INET ? "ip" : "ip6", side,
		    policy_cidr_str(&r->cidr, cidr, sizeof(cidr)));
	switch (r->proto) {
	case POL_PROTO_TCP:
	case POL_PROTO_UDP:
		put(b, " meta l4proto %s", policy_proto_name(r->proto));
		if (r->port_lo == r->port_hi && r->port_lo != 0)
			put(b, " th dport %u", r->port_lo);
		else if (r->port_lo != 0)
			put(b, " th dport %u-%u", r->port_lo, r->port_hi);
		break;
	case POL_PROTO_ICMP:
		if (r->cidr.family == AF_INET)
			put(b, " meta l4proto icmp");
		else if (r->cidr.family == AF_INET6)
			put(b, " meta l4proto ipv6-icmp");
		else
			put(b, " meta l4proto { icmp, ipv6-icmp }");
		break;
	case POL_PROTO_ANY:
		break;
	}
}

/* allow_verdict: "accept" in the policy chains, "return" in the narrowing chains. */
static void put_rules(struct buf *b, const struct pol_rules *rs, enum pol_dir d,
		      const char *allow_verdict, const char *layer)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct pol_rule *r = &rs->v[i];
		char tag[48];
		put(b, "\t\t");
		put_match(b, r, d);
		if (r->action == POL_ALLOW) {
			put(b, " counter %s", allow_verdict);
		} else {
			snprintf(tag, sizeof(tag), "%s%zu", layer, i);
			put_verdict_drop(b, dir_name[d], tag);
		}
		put_comment(b, r->description);
		put(b, "\n");
	}
}

static void put_elements(struct buf *b, int family, const struct fw_options *o,
			 const char *const *fixed)
{
	char cidr[64];
	const char *sep = "";
	put(b, " elements = { ");
	for (; *fixed != NULL; fixed++, sep = ", ")
		put(b, "%s%s", sep, *fixed);
	for (size_t i = 0; o != NULL && i < o->n_extra_deny; i++)
		if (o->extra_deny[i].family == family)
			put(b, ", %s", policy_cidr_str(&o->extra_deny[i], cidr, sizeof(cidr)));
	put(b, " }");
}

static void put_sets(struct buf *b, const struct fw_options *o)
{
	/* Link-local (the cloud metadata address 169.254.169.254 among it), multicast, broadcast,
	 * "this network" (0.0.0.0/8: the host itself), unspecified and v4-mapped IPv6. */
	static const char *const deny4[] = {"0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4",
					    "255.255.255.255", NULL};
	static const char *const deny6[] = {"::/128", "::ffff:0:0/96", "fe80::/10", "ff00::/8",
					    NULL};
	/* Bounded: a sandbox resolving ever new names must not grow kernel memory without end;
	 * when a set is full the proxy answers SERVFAIL. */
	put(b, "\tset allow4 { type ipv4_addr; flags timeout; size %d; }\n", FW_ALLOW_SET_SIZE);
	put(b, "\tset allow6 { type ipv6_addr; flags timeout; size %d; }\n", FW_ALLOW_SET_SIZE);
	/* Names whose rule lists ports ("443/tcp") open only those on their addresses. */
	put(b,
	    "\tset allowp4 { type ipv4_addr . inet_proto . inet_service; flags timeout; size "
	    "%d; }\n",
	    FW_ALLOW_SET_SIZE);
	put(b,
	    "\tset allowp6 { type ipv6_addr . inet_proto . inet_service; flags timeout; size "
	    "%d; }\n",
	    FW_ALLOW_SET_SIZE);
	if (o != NULL && o->pasta)
		put(b,
		    "\tset local4 { type ipv4_addr; size %d; }\n"
		    "\tset local6 { type ipv6_addr; size %d; }\n",
		    FW_ALLOW_SET_SIZE, FW_ALLOW_SET_SIZE);
	put(b, "\tset deny4 { type ipv4_addr; flags interval; auto-merge;");
	put_elements(b, AF_INET, o, deny4);
	put(b, "; }\n\tset deny6 { type ipv6_addr; flags interval; auto-merge;");
	put_elements(b, AF_INET6, o, deny6);
	put(b, "; }\n");
}

static void put_narrow_chain(struct buf *b, const struct sandbox_policy *p, enum pol_dir d)
{
	const char *side = d == POL_EGRESS ? "daddr" : "saddr";
	put(b, "\tchain narrow_%s {\n", dir_name[d]);
	put_rules(b, &p->narrow.rules[d], d, "return", "a");
	if (d == POL_EGRESS)
		put(b,
		    "\t\tip %s @allow4 return\n\t\tip6 %s @allow6 return\n"
		    "\t\tip %s . meta l4proto . th dport @allowp4 return\n"
		    "\t\tip6 %s . meta l4proto . th dport @allowp6 return\n",
		    side, side, side, side);
	put(b, "\t\t");
	put_verdict_drop(b, dir_name[d], "annotations");
	put(b, "\n\t}\n");
}

static void put_base_chain(struct buf *b, const struct sandbox_policy *p, enum pol_dir d,
			   const struct fw_options *o)
{
	bool out = d == POL_EGRESS;
	const char *side = out ? "daddr" : "saddr";
	put(b, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy drop;\n",
	    out ? "output" : "input", out ? "output" : "input");
	put(b, "\t\t%s \"lo\" accept\n", out ? "oif" : "iif");
	/* Redirected DNS is addressed to the loopback address but still carries its old oif. */
	if (out)
		put(b, "\t\tip daddr 127.0.0.0/8 accept\n\t\tip6 daddr ::1 accept\n");
	/* IPv6 needs neighbour discovery (multicast, so before the fixed list); hop limit 255
	 * proves the packet is link-local. */
	put(b, "\t\tip6 hoplimit 255 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
	       "nd-router-solicit, nd-router-advert } accept\n");
	/* The kernel's own multicast listener reports (sent when an interface comes up) are
	 * dropped quietly: no program asked for them, so they are not denials to report. */
	if (out)
		put(b, "\t\tip6 daddr ff02::/16 icmpv6 type { mld-listener-report, "
		       "mld-listener-done, mld2-listener-report } counter drop\n");
	put(b, "\t\tip %s @deny4", side);
	put_verdict_drop(b, dir_name[d], "fixed");
	put(b, "\n\t\tip6 %s @deny6", side);
	put_verdict_drop(b, dir_name[d], "fixed");
	if (out && o != NULL && o->pasta) {
		put(b, "\n\t\tip daddr @local4");
		put_verdict_drop(b, dir_name[d], "fixed");
		put(b, "\n\t\tip6 daddr @local6");
		put_verdict_drop(b, dir_name[d], "fixed");
		put(b, "\n\t\tudp sport != %s",
		    o->udp_ports != NULL ? o->udp_ports : FW_PASTA_UDP_PORTS);
		put_verdict_drop(b, dir_name[d], "fixed");
	}
	put(b, "\n\t\tct state established,related accept\n\t\tct state invalid drop\n");
	if (p->has_narrow && p->narrow_dir[d])
		put(b, "\t\tjump narrow_%s\n", dir_name[d]);
	put_rules(b, &p->host.rules[d], d, "accept", "r");
	if (out)
		put(b, "\t\tip daddr @allow4 counter accept\n\t\tip6 daddr @allow6 counter accept\n"
		       "\t\tip daddr . meta l4proto . th dport @allowp4 counter accept\n"
		       "\t\tip6 daddr . meta l4proto . th dport @allowp6 counter accept\n");
	put(b, "\t\t");
	put_verdict_drop(b, dir_name[d], "default");
	put(b, "\n\t}\n");
}

static void put_dns_redirect(struct buf *b, uint16_t port)
{
	put(b, "\tchain dns {\n\t\ttype nat hook output priority -100; policy accept;\n");
	put(b, "\t\tmeta l4proto { udp, tcp } th dport 53 redirect to :%u\n\t}\n", port);
}

char *fw_render(const struct sandbox_policy *p, const struct fw_options *o)
{
	struct buf b = {xmalloc(4096), 0, 4096};
	/* add + delete + define: replaces an existing table in the same transaction. */
	put(&b, "add table inet " FW_TABLE "\ndelete table inet " FW_TABLE "\n");
	put(&b, "table inet " FW_TABLE " {\n");
	put_sets(&b, o);
	for (int d = 0; d < POL_NDIRS; d++)
		if (p->has_narrow && p->narrow_dir[d])
			put_narrow_chain(&b, p, (enum pol_dir)d);
	put_base_chain(&b, p, POL_EGRESS, o);
	put_base_chain(&b, p, POL_INGRESS, o);
	if (o != NULL && o->dns_port != 0)
		put_dns_redirect(&b, o->dns_port);
	put(&b, "}\n");
	return b.s;
}
