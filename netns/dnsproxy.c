/* The DNS allowlist proxy's running half: the UDP/TCP listeners, the upstream exchanges and the
 * allow sets, on the agent's epoll loop. The messages themselves are read and written by
 * dnsproxy_msg.c. */
#include "netns/dnsproxy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
