/* The sandbox's DNS allowlist proxy. The pure half reads and writes DNS messages with glibc's
 * libresolv (queries checked and answered with errors, upstream replies matched and their
 * answers walked along the CNAME chain); the I/O half serves the UDP and TCP listeners in the
 * sandbox, forwards allowed queries to the upstream resolvers and fills the allow sets before
 * it answers. Single-threaded, driven by the agent's epoll loop. */
#pragma once

#include <arpa/nameser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netns/domains.h"
#include "oci/policy.h"

#define DNS_MAX_ADDRS 64    /* addresses learned from one answer */
#define DNS_MAX_CHAIN 16    /* names on a CNAME chain */
#define DNS_MAX_ANSWERS 512 /* answer records looked at */
#define DNS_MAX_UDP_QUERY 4096
/* The EDNS0 UDP buffer size the proxy offers upstream at most (and 512 at least). */
#define DNS_EDNS_UDP_MAX 1232

struct dns_question {
	uint16_t id, flags; /* of the client's query */
	bool has_question;
	char name[NS_MAXDNAME]; /* presentation form, no final dot, the client's case */
	uint16_t type, class;
	bool edns;	   /* the query had an OPT record */
	uint16_t udp_size; /* its UDP buffer size */
};

/* dnsproxy_parse_query results besides an rcode (ns_r_formerr, ns_r_notimpl, ns_r_refused) */
#define DNSQ_OK 0
#define DNSQ_DROP (-1) /* not worth an answer: shorter than a header, or a response */

/* Check a client's query: one question, opcode QUERY, class IN, no answer or authority
 * records, at most one OPT record among the additional ones (anything else there is ignored:
 * it is never forwarded). q gets what could be read (id and flags always unless DNSQ_DROP; the
 * question when has_question; whether there was EDNS0 and its buffer size). */
int dnsproxy_parse_query(const uint8_t *msg, size_t len, struct dns_question *q);

/* The query types the proxy forwards: A, AAAA, CNAME, HTTPS, SVCB, MX, TXT, SRV, CAA, PTR.
 * Others are answered REFUSED and reported as denials with the rule "query type". */
bool dnsproxy_type_forwarded(uint16_t type);

/* The query the proxy sends upstream, made from the parsed question alone (never from the
 * client's bytes): id, RD as the client set it (no CD, no AD), one question with the name in
 * lower case, type and class IN, and when the client used EDNS0 an OPT record of our own
 * (buffer size clamped to [512, DNS_EDNS_UDP_MAX], no flags, no options: no client subnet,
 * no cookies, no padding). Returns its length, or 0 when cap is too small or the name cannot
 * be written. */
size_t dnsproxy_build_query(const struct dns_question *q, uint16_t id, uint8_t *out, size_t cap);

/* The upstream saw the name in lower case: give the reply's question (and the answer names
 * that point at it) the client's case back, for clients that check it (0x20). Only when the
 * reply's question, uncompressed at offset 12, is q's name but for case; else unchanged. */
void dnsproxy_restore_case(uint8_t *msg, size_t len, const struct dns_question *q);

/* An answer without records: the query's id, opcode and RD, the question (when q has one),
 * the rcode and TC when tc. Returns its length, or 0 when cap is too small. */
size_t dnsproxy_error_reply(const struct dns_question *q, int rcode, bool tc, uint8_t *out,
			    size_t cap);

/* The domain rules' verdict for a name; rule gets what decided it: "rule N" (host rule at
 * index N), "annotation rule N", "annotations", "default", "invalid name" or
 * "no domain rules". Names with characters no rule can name (escapes) are denied. */
enum pol_action dnsproxy_verdict(const struct dom_policy *dp, const char *name, char *rule,
				 size_t rule_len);

/* The ports the addresses of an answer open: the ports of the host rule that allowed each
 * name on the chain, intersected (a rule without ports allows every port). Returns -1 for
 * every port and protocol, else the number of (protocol, port) pairs in out (0: none, when
 * the names' rules have no port in common). */
int dnsproxy_ports(const struct dom_policy *dp, char names[][NS_MAXDNAME], size_t n,
		   struct pol_dport out[POL_MAX_DOMAIN_PORTS]);

struct dns_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl;
};

enum dns_reply_status {
	DNSR_OK,      /* our answer; addresses extracted */
	DNSR_FOREIGN, /* not the answer to this question (id, QR, question): ignore it */
	DNSR_BAD,     /* the answer, but its records cannot be read */
};

/* The names of a CNAME chain, the query's own first. */
struct dns_chain {
	char names[DNS_MAX_CHAIN][NS_MAXDNAME];
	size_t n;
};

/* Match a reply to (id, q), then collect the A/AAAA records of every name on the CNAME chain
 * that starts at q->name (at most max, duplicates merged with the longest TTL). chain (may be
 * NULL) receives the chain's names, so that each can be checked against the domain rules. */
enum dns_reply_status dnsproxy_read_reply(const uint8_t *msg, size_t len, uint16_t id,
					  const struct dns_question *q, struct dns_addr *out,
					  size_t max, size_t *n, struct dns_chain *chain);

uint32_t dnsproxy_clamp_ttl(uint32_t ttl, uint32_t floor, uint32_t cap);

/* An address a public name has no business resolving to: unspecified, loopback, RFC 1918,
 * CGNAT (100.64/10), IETF protocol assignments (192.0.0/24), benchmarking (198.18/15),
 * link-local, multicast and reserved; ULA (fc00::/7), site-local, link-local and multicast
 * IPv6, all IPv4-mapped and -compatible IPv6, local-use NAT64 (64:ff9b:1::/48), and NAT64 or
 * 6to4 addresses whose embedded IPv4 address is private. DNS answers with such addresses open
 * nothing unless the policy says dns.openPrivateAnswers (DNS rebinding into the owner's network).
 */
bool dnsproxy_private_addr(int family, const uint8_t *addr);

/* ---- the proxy ---- */

/* What an epoll event points at: the first member of every object the loop watches. */
struct ev_source {
	int fd;
	void (*ready)(struct ev_source *s, uint32_t events);
};

struct dnsproxy_config {
	int epfd;
	/* Listeners in the sandbox (-1: absent): UDP and TCP on 127.0.0.1 and ::1. */
	int udp[2], tcp[2];
	/* NETLINK_NETFILTER socket in the sandbox, for the allow sets. */
	int nft_fd;
	struct sockaddr_storage upstream[POLICY_MAX_UPSTREAMS];
	socklen_t upstream_len[POLICY_MAX_UPSTREAMS];
	size_t n_upstream;
	const struct dom_policy *dp;
	uint32_t ttl_floor, ttl_cap;
	/* Called for each refused name (rule as from dnsproxy_verdict). */
	void (*on_deny)(void *ctx, const struct dns_question *q, const char *rule);
	/* Private answers are opened like the others (dns.openPrivateAnswers). */
	bool open_private;
	/* Called for each private address of an answer that was not opened. */
	void (*on_private)(void *ctx, const struct dns_question *q, const struct dns_addr *a);
	void *ctx;
};

struct dnsproxy;

/* Takes the listeners (closed by dnsproxy_free) and registers them with epfd. */
struct dnsproxy *dnsproxy_new(const struct dnsproxy_config *c);
/* Time-outs (queries, idle TCP clients); now is CLOCK_MONOTONIC in ms. */
void dnsproxy_tick(struct dnsproxy *p, uint64_t now_ms);
/* Free what the handlers of one epoll batch closed (they may not free it themselves: a later
 * event of the same batch may still point at it). */
void dnsproxy_reap(struct dnsproxy *p);
void dnsproxy_free(struct dnsproxy *p);
uint64_t dnsproxy_now_ms(void);
