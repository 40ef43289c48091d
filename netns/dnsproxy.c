/* The DNS allowlist proxy. First half, pure: messages read with libresolv's ns_initparse/
 * ns_parserr/ns_name_uncompress and written with dn_comp (the checks of a client's query, the
 * error answers, the query rebuilt for the upstream from the parsed question, the verdict with
 * its rule, the walk of an upstream answer along the CNAME chain). Second half: the UDP/TCP
 * listeners, the upstream exchanges and the allow sets. */
#include "netns/dnsproxy.h"

#include <ctype.h>
#include <errno.h>
#include <resolv.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "netns/firewall.h"
#include "netns/nfset.h"

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

/* ---- the proxy: listeners, upstream exchanges, allow sets ---- */

#define MAX_QUERIES 256
#define MAX_TCP_CLIENTS 16 /* per sandbox; when full, the longest idle one makes room */
#define ACCEPT_BATCH 16
#define QUERY_TIMEOUT_MS 5000
#define RETRY_MS 1500 /* UDP: the next upstream resolver gets a try */
#define TCP_IDLE_MS 10000
#define UDP_BATCH 32
#define TCP_FRAME_MAX (2 + 65535)

/* The head of every watched object the proxy allocates. */
struct node {
	struct ev_source ev;
	bool dead, is_query;
	struct node *grave;
};

struct tcp_client;

/* Where an answer goes: a UDP peer of a listener, or a TCP client. */
struct client {
	int udp_fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct tcp_client *tc;
};

struct query {
	struct node n;
	struct dnsproxy *p;
	struct dns_question q;
	struct client c;
	uint16_t up_id;
	size_t upstream, tries;
	bool tcp;
	uint64_t start, deadline;
	uint8_t *msg; /* as sent upstream, framed for TCP */
	size_t msg_len, sent;
	uint8_t *reply; /* TCP: the framed reply read so far */
	size_t reply_len;
};

struct tcp_client {
	struct node n;
	struct dnsproxy *p;
	uint8_t *in; /* the framed query being read */
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off;
	struct query *busy; /* one query at a time: no reading meanwhile */
	bool eof;
	uint32_t events;
	uint64_t deadline;
};

struct listener {
	struct ev_source ev;
	struct dnsproxy *p;
};

struct dnsproxy {
	struct dnsproxy_config c;
	struct listener udp[2], tcp[2];
	struct query *queries[MAX_QUERIES];
	size_t n_queries;
	struct tcp_client *clients[MAX_TCP_CLIENTS];
	struct node *graves;
	uint8_t buf[TCP_FRAME_MAX];
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

uint64_t dnsproxy_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void watch(struct dnsproxy *p, struct ev_source *s, int op, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = s};
	(void)epoll_ctl(p->c.epfd, op, s->fd, &e);
}

static void bury(struct dnsproxy *p, struct node *n)
{
	if (n->dead)
		return;
	n->dead = true;
	if (n->ev.fd >= 0) {
		(void)epoll_ctl(p->c.epfd, EPOLL_CTL_DEL, n->ev.fd, NULL);
		close(n->ev.fd);
		n->ev.fd = -1;
	}
	n->grave = p->graves;
	p->graves = n;
}

static void tcp_close(struct tcp_client *t);
static void tcp_update(struct tcp_client *t);

static void tcp_flush(struct tcp_client *t)
{
	while (t->out_off < t->out_len) {
		ssize_t w = send(t->n.ev.fd, t->out + t->out_off, t->out_len - t->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (w <= 0) {
			tcp_close(t);
			return;
		}
		t->out_off += (size_t)w;
	}
	if (t->out_off == t->out_len)
		t->out_off = t->out_len = 0;
	tcp_update(t);
}

static void deliver(const struct client *c, const uint8_t *msg, size_t len)
{
	struct tcp_client *t = c->tc;
	if (t == NULL) {
		(void)sendto(c->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&c->peer, c->peer_len);
		return;
	}
	if (t->n.dead || len > 65535)
		return;
	t->out = xrealloc(t->out, t->out_len + 2 + len);
	put16(t->out + t->out_len, (uint16_t)len);
	memcpy(t->out + t->out_len + 2, msg, len);
	t->out_len += 2 + len;
	tcp_flush(t);
}

static void reply_error(const struct client *c, const struct dns_question *q, int rcode, bool tc)
{
	uint8_t out[NS_HFIXEDSZ + NS_MAXCDNAME + NS_QFIXEDSZ];
	size_t len = dnsproxy_error_reply(q, rcode, tc, out, sizeof(out));
	if (len > 0)
		deliver(c, out, len);
}

/* ---- queries to the upstream resolvers ---- */

static void query_ready(struct ev_source *s, uint32_t events);

static uint16_t random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)(dnsproxy_now_ms() * 2654435761u >> 7);
	return id;
}

static void query_release(struct query *x)
{
	struct dnsproxy *p = x->p;
	for (size_t i = 0; i < MAX_QUERIES; i++)
		if (p->queries[i] == x) {
			p->queries[i] = NULL;
			p->n_queries--;
		}
	bury(p, &x->n);
}

/* The client has its answer: free the slot and let a TCP client send its next query. */
static void query_done(struct query *x)
{
	struct tcp_client *t = x->c.tc;
	query_release(x);
	if (t != NULL && !t->n.dead) {
		t->busy = NULL;
		t->deadline = dnsproxy_now_ms() + TCP_IDLE_MS;
		tcp_update(t);
	}
}

static void query_fail(struct query *x, int rcode, bool tc)
{
	reply_error(&x->c, &x->q, rcode, tc);
	query_done(x);
}

/* A fresh socket per attempt (a random source port from the kernel) to upstream[x->upstream],
 * and a fresh random id. The daemon lives in the upstream namespace: socket() lands there. */
static int query_send(struct query *x)
{
	struct dnsproxy *p = x->p;
	const struct sockaddr_storage *up = &p->c.upstream[x->upstream];
	if (x->n.ev.fd >= 0) {
		(void)epoll_ctl(p->c.epfd, EPOLL_CTL_DEL, x->n.ev.fd, NULL);
		close(x->n.ev.fd);
	}
	x->tries++;
	x->sent = x->reply_len = 0;
	x->up_id = random_id();
	put16(x->msg + (x->tcp ? 2 : 0), x->up_id);
	x->n.ev.fd = socket(up->ss_family,
			    (x->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->n.ev.fd < 0)
		return -1;
	if (connect(x->n.ev.fd, (const struct sockaddr *)up, p->c.upstream_len[x->upstream]) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	if (x->tcp) {
		watch(p, &x->n.ev, EPOLL_CTL_ADD, EPOLLOUT | EPOLLIN);
		return 0;
	}
	if (send(x->n.ev.fd, x->msg, x->msg_len, MSG_NOSIGNAL) != (ssize_t)x->msg_len)
		return -1;
	watch(p, &x->n.ev, EPOLL_CTL_ADD, EPOLLIN);
	return 0;
}

/* Try the upstream resolvers in turn from the next one; SERVFAIL when all were tried. */
static void query_next_upstream(struct query *x)
{
	size_t n = x->p->c.n_upstream;
	while (x->tries < n) {
		x->upstream = (x->upstream + 1) % n;
		if (query_send(x) == 0)
			return;
	}
	query_fail(x, ns_r_servfail, false);
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

/* The public addresses of an answer go into the allow sets; private ones (unless the policy
 * opens them) are reported and left closed. The answer itself is passed on unchanged. */
static int allow_addresses(struct dnsproxy *p, const struct dns_question *q,
			   const struct dns_addr *a, size_t n, const struct pol_dport *ports,
			   int n_ports)
{
	/* 32 KiB: not on the stack; single-threaded */
	static struct nfset_elem e[DNS_MAX_ADDRS * POL_MAX_DOMAIN_PORTS];
	struct bw_error err = {0};
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!p->c.open_private && dnsproxy_private_addr(a[i].family, a[i].addr)) {
			if (p->c.on_private != NULL)
				p->c.on_private(p->c.ctx, q, &a[i]);
			continue;
		}
		for (int j = 0; j < (n_ports < 0 ? 1 : n_ports); j++) {
			memset(&e[k], 0, sizeof(e[k]));
			e[k].family = a[i].family;
			memcpy(e[k].addr, a[i].addr, sizeof(e[k].addr));
			e[k].timeout_s = dnsproxy_clamp_ttl(a[i].ttl, p->c.ttl_floor, p->c.ttl_cap);
			if (n_ports >= 0) {
				e[k].proto = ports[j].proto;
				e[k].port = ports[j].port;
			}
			k++;
		}
	}
	return k == 0 ? 0 : nfset_add(p->c.nft_fd, FW_TABLE, e, k, &err);
}

/* An upstream message: true when the query is finished with. The addresses are in the allow
 * sets before the client sees them. */
/* An allowed name may be an alias of a denied one: every name on the chain must be allowed too,
 * else the addresses stay closed and the client gets REFUSED for the denied name. */
static bool chain_denied(struct query *x, const struct dns_chain *chain)
{
	char rule[64];
	for (size_t i = 1; i < chain->n; i++) {
		if (dnsproxy_verdict(x->p->c.dp, chain->names[i], rule, sizeof(rule)) != POL_DENY)
			continue;
		struct dns_question denied = x->q;
		snprintf(denied.name, sizeof(denied.name), "%s", chain->names[i]);
		if (x->p->c.on_deny != NULL)
			x->p->c.on_deny(x->p->c.ctx, &denied, rule);
		return true;
	}
	return false;
}

static bool query_reply(struct query *x, uint8_t *msg, size_t len)
{
	struct dns_addr a[DNS_MAX_ADDRS];
	static struct dns_chain chain; /* 16 KiB: not on the stack; single-threaded */
	size_t n;
	switch (dnsproxy_read_reply(msg, len, x->up_id, &x->q, a, DNS_MAX_ADDRS, &n, &chain)) {
	case DNSR_FOREIGN:
		if (!x->tcp)
			return false; /* a stray datagram: keep waiting */
		query_fail(x, ns_r_servfail, false);
		return true;
	case DNSR_BAD:
		/* A truncated answer that cannot be read still tells the client to use TCP. */
		if (msg[2] & 0x02)
			query_fail(x, ns_r_noerror, true);
		else
			query_fail(x, ns_r_servfail, false);
		return true;
	case DNSR_OK:
		break;
	}
	if (chain_denied(x, &chain)) {
		query_fail(x, ns_r_refused, false);
		return true;
	}
	struct pol_dport ports[POL_MAX_DOMAIN_PORTS];
	int n_ports = dnsproxy_ports(x->p->c.dp, chain.names, chain.n, ports);
	if (n > 0 && allow_addresses(x->p, &x->q, a, n, ports, n_ports) < 0) {
		query_fail(x, ns_r_servfail, false);
		return true;
	}
	put16(msg, x->q.id);
	dnsproxy_restore_case(msg, len, &x->q);
	deliver(&x->c, msg, len);
	query_done(x);
	return true;
}

static void query_udp_ready(struct query *x)
{
	struct dnsproxy *p = x->p;
	for (int i = 0; i < 16; i++) {
		ssize_t r = recv(x->n.ev.fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r < 0) { /* ICMP unreachable and the like */
			query_next_upstream(x);
			return;
		}
		if (query_reply(x, p->buf, (size_t)r))
			return;
	}
}

static void query_tcp_read(struct query *x)
{
	if (x->reply == NULL)
		x->reply = xmalloc(TCP_FRAME_MAX);
	size_t need = x->reply_len < 2 ? 2 : 2 + (size_t)get16(x->reply);
	ssize_t r = recv(x->n.ev.fd, x->reply + x->reply_len, need - x->reply_len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		query_next_upstream(x);
		return;
	}
	x->reply_len += (size_t)r;
	if (x->reply_len > 2 && x->reply_len == 2 + (size_t)get16(x->reply))
		query_reply(x, x->reply + 2, x->reply_len - 2);
	else if (x->reply_len == 2 && get16(x->reply) < NS_HFIXEDSZ)
		query_next_upstream(x);
}

static void query_tcp_ready(struct query *x, uint32_t events)
{
	if (events & EPOLLERR) {
		query_next_upstream(x);
		return;
	}
	if (x->sent < x->msg_len && (events & (EPOLLOUT | EPOLLHUP))) {
		ssize_t w = send(x->n.ev.fd, x->msg + x->sent, x->msg_len - x->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0) {
			query_next_upstream(x);
			return;
		}
		x->sent += (size_t)w;
		if (x->sent == x->msg_len)
			watch(x->p, &x->n.ev, EPOLL_CTL_MOD, EPOLLIN);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP))
		query_tcp_read(x);
}

static void query_ready(struct ev_source *s, uint32_t events)
{
	struct query *x = container_of(s, struct query, n.ev);
	if (x->n.dead)
		return;
	if (x->tcp)
		query_tcp_ready(x, events);
	else
		query_udp_ready(x);
}

/* The query goes upstream as the proxy rebuilt it from q, never as the client's bytes. */
static void query_start(struct dnsproxy *p, const struct dns_question *q, const struct client *c)
{
	uint8_t msg[NS_HFIXEDSZ + NS_MAXCDNAME + NS_QFIXEDSZ + 11];
	size_t len = dnsproxy_build_query(q, 0, msg, sizeof(msg));
	if (len == 0) {
		reply_error(c, q, ns_r_formerr, false);
		return;
	}
	size_t slot = 0;
	while (slot < MAX_QUERIES && p->queries[slot] != NULL)
		slot++;
	struct query *x = xcalloc(1, sizeof(*x));
	x->n.ev = (struct ev_source){.fd = -1, .ready = query_ready};
	x->n.is_query = true;
	x->p = p;
	x->q = *q;
	x->c = *c;
	x->tcp = c->tc != NULL;
	x->msg_len = len + (x->tcp ? 2 : 0);
	x->msg = xmalloc(x->msg_len);
	if (x->tcp)
		put16(x->msg, (uint16_t)len);
	memcpy(x->msg + (x->tcp ? 2 : 0), msg, len);
	x->start = dnsproxy_now_ms();
	x->deadline = x->start + QUERY_TIMEOUT_MS;
	p->queries[slot] = x;
	p->n_queries++;
	if (x->tcp)
		c->tc->busy = x;
	x->upstream = p->c.n_upstream - 1; /* query_next_upstream starts at the first */
	query_next_upstream(x);
}

/* ---- clients ---- */

static void handle_query(struct dnsproxy *p, const uint8_t *msg, size_t len, const struct client *c)
{
	struct dns_question q;
	char rule[64];
	int rc = dnsproxy_parse_query(msg, len, &q);
	if (rc == DNSQ_DROP)
		return;
	if (rc != DNSQ_OK) {
		reply_error(c, &q, rc, false);
		return;
	}
	if (dnsproxy_verdict(p->c.dp, q.name, rule, sizeof(rule)) == POL_DENY) {
		if (p->c.on_deny != NULL)
			p->c.on_deny(p->c.ctx, &q, rule);
		reply_error(c, &q, ns_r_refused, false);
		return;
	}
	if (!dnsproxy_type_forwarded(q.type)) {
		if (p->c.on_deny != NULL)
			p->c.on_deny(p->c.ctx, &q, "query type");
		reply_error(c, &q, ns_r_refused, false);
		return;
	}
	if (p->n_queries >= MAX_QUERIES || p->c.n_upstream == 0) {
		reply_error(c, &q, ns_r_servfail, false);
		return;
	}
	query_start(p, &q, c);
}

static void udp_ready(struct ev_source *s, uint32_t events)
{
	struct listener *l = container_of(s, struct listener, ev);
	for (int i = 0; i < UDP_BATCH; i++) {
		struct client c = {.udp_fd = s->fd, .peer_len = sizeof(c.peer)};
		ssize_t r =
		    recvfrom(s->fd, l->p->buf, DNS_MAX_UDP_QUERY + 1, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&c.peer, &c.peer_len);
		if (r < 0)
			return;
		if ((size_t)r <= DNS_MAX_UDP_QUERY)
			handle_query(l->p, l->p->buf, (size_t)r, &c);
	}
}

static void tcp_update(struct tcp_client *t)
{
	if (t->n.dead)
		return;
	bool drained = t->out_off == t->out_len;
	if (t->eof && t->busy == NULL && drained) {
		tcp_close(t);
		return;
	}
	uint32_t want =
	    (t->busy == NULL && !t->eof && drained ? EPOLLIN : 0) | (drained ? 0 : EPOLLOUT);
	if (want != t->events) {
		watch(t->p, &t->n.ev, EPOLL_CTL_MOD, want);
		t->events = want;
	}
}

static void tcp_close(struct tcp_client *t)
{
	struct dnsproxy *p = t->p;
	if (t->busy != NULL)
		query_release(t->busy);
	t->busy = NULL;
	for (size_t i = 0; i < MAX_TCP_CLIENTS; i++)
		if (p->clients[i] == t)
			p->clients[i] = NULL;
	bury(p, &t->n);
}

/* Reads exactly one framed message, never more: what follows stays in the kernel until this
 * one is answered. */
static void tcp_read(struct tcp_client *t)
{
	while (!t->n.dead && t->busy == NULL && t->out_len == 0 && !t->eof) {
		size_t need = t->in_len < 2 ? 2 : 2 + (size_t)get16(t->in);
		ssize_t r = recv(t->n.ev.fd, t->in + t->in_len, need - t->in_len, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r < 0) {
			tcp_close(t);
			return;
		}
		if (r == 0) {
			t->eof = true;
			break;
		}
		t->in_len += (size_t)r;
		if (t->in_len == 2 && get16(t->in) < NS_HFIXEDSZ) {
			tcp_close(t);
			return;
		}
		if (t->in_len > 2 && t->in_len == 2 + (size_t)get16(t->in)) {
			struct client c = {.udp_fd = -1, .tc = t};
			size_t len = t->in_len - 2;
			t->in_len = 0;
			handle_query(t->p, t->in + 2, len, &c);
		}
	}
	tcp_update(t);
}

static void tcp_client_ready(struct ev_source *s, uint32_t events)
{
	struct tcp_client *t = container_of(s, struct tcp_client, n.ev);
	if (t->n.dead)
		return;
	if (events & EPOLLERR) {
		tcp_close(t);
		return;
	}
	if (events & EPOLLOUT)
		tcp_flush(t);
	if (!t->n.dead && (events & (EPOLLIN | EPOLLHUP)))
		tcp_read(t);
}

/* A free slot, else the slot of the idle client (no query upstream) whose idle time ends
 * first, closed to make room: a client that holds every connection it can only shortens its
 * own connections' lives and cannot shut out the next one. MAX_TCP_CLIENTS when every client
 * has a query under way (each ends within QUERY_TIMEOUT_MS). */
static size_t tcp_slot(struct dnsproxy *p)
{
	size_t victim = MAX_TCP_CLIENTS;
	for (size_t i = 0; i < MAX_TCP_CLIENTS; i++) {
		struct tcp_client *t = p->clients[i];
		if (t == NULL)
			return i;
		if (t->busy == NULL &&
		    (victim == MAX_TCP_CLIENTS || t->deadline < p->clients[victim]->deadline))
			victim = i;
	}
	if (victim < MAX_TCP_CLIENTS)
		tcp_close(p->clients[victim]);
	return victim;
}

/* A batch at a time, as for UDP: a flood of connections leaves the loop to the others. */
static void tcp_accept_ready(struct ev_source *s, uint32_t events)
{
	struct listener *l = container_of(s, struct listener, ev);
	struct dnsproxy *p = l->p;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		size_t slot = tcp_slot(p);
		if (slot == MAX_TCP_CLIENTS) {
			close(fd); /* all busy: the client retries or gives up, nothing piles up */
			continue;
		}
		struct tcp_client *t = xcalloc(1, sizeof(*t));
		t->n.ev = (struct ev_source){.fd = fd, .ready = tcp_client_ready};
		t->p = p;
		t->in = xmalloc(TCP_FRAME_MAX);
		t->events = EPOLLIN;
		t->deadline = dnsproxy_now_ms() + TCP_IDLE_MS;
		p->clients[slot] = t;
		watch(p, &t->n.ev, EPOLL_CTL_ADD, EPOLLIN);
	}
}

/* ---- life cycle ---- */

struct dnsproxy *dnsproxy_new(const struct dnsproxy_config *c)
{
	struct dnsproxy *p = xcalloc(1, sizeof(*p));
	p->c = *c;
	for (int i = 0; i < 2; i++) {
		p->udp[i] = (struct listener){{c->udp[i], udp_ready}, p};
		p->tcp[i] = (struct listener){{c->tcp[i], tcp_accept_ready}, p};
		if (c->udp[i] >= 0)
			watch(p, &p->udp[i].ev, EPOLL_CTL_ADD, EPOLLIN);
		if (c->tcp[i] >= 0)
			watch(p, &p->tcp[i].ev, EPOLL_CTL_ADD, EPOLLIN);
	}
	return p;
}

void dnsproxy_tick(struct dnsproxy *p, uint64_t now_ms)
{
	for (size_t i = 0; i < MAX_QUERIES; i++) {
		struct query *x = p->queries[i];
		if (x == NULL)
			continue;
		if (now_ms >= x->deadline)
			query_fail(x, ns_r_servfail, false);
		else if (!x->tcp && x->tries < p->c.n_upstream &&
			 now_ms >= x->start + RETRY_MS * x->tries)
			query_next_upstream(x);
	}
	for (size_t i = 0; i < MAX_TCP_CLIENTS; i++) {
		struct tcp_client *t = p->clients[i];
		if (t != NULL && t->busy == NULL && now_ms >= t->deadline)
			tcp_close(t);
	}
}

void dnsproxy_reap(struct dnsproxy *p)
{
	while (p->graves != NULL) {
		struct node *n = p->graves;
		p->graves = n->grave;
		if (n->is_query) {
			struct query *x = container_of(n, struct query, n);
			free(x->msg);
			free(x->reply);
		} else {
			struct tcp_client *t = container_of(n, struct tcp_client, n);
			free(t->in);
			free(t->out);
		}
		free(n);
	}
}

void dnsproxy_free(struct dnsproxy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < MAX_TCP_CLIENTS; i++)
		if (p->clients[i] != NULL)
			tcp_close(p->clients[i]);
	for (size_t i = 0; i < MAX_QUERIES; i++)
		if (p->queries[i] != NULL)
			query_release(p->queries[i]);
	dnsproxy_reap(p);
	for (int i = 0; i < 2; i++) {
		if (p->udp[i].ev.fd >= 0)
			close(p->udp[i].ev.fd);
		if (p->tcp[i].ev.fd >= 0)
			close(p->tcp[i].ev.fd);
	}
	free(p);
}
