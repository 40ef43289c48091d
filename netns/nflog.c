/* NFLOG messages of the firewall's drops read into audit events, and the audit lines: JSON,
 * one write() per line, aggregated per distinct event so that a flood of drops costs a line
 * per second and key, with a bounded key table (the overflow is counted under one key). */
#include "netns/nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "netns/nfset.h"

#define NFLOG_FLUSH_CS 10 /* hundredths of a second */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int nflog_open(uint16_t group, struct bw_error *err)
{
	_cleanup_close_ int fd = nfset_open(err);
	if (fd < 0)
		return -1;
	/* Drops come in bursts; a larger buffer loses fewer of them (the count is best effort). */
	int size = 1 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct nfset_buf b = {0};
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(NFLOG_COPY_RANGE),
					      .copy_mode = NFULNL_COPY_PACKET};
	nfset_msg_begin(&b, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_ACK, 1, AF_UNSPEC,
			group);
	nfset_nla_put(&b, NFULA_CFG_CMD, &cmd, sizeof(cmd));
	nfset_msg_end(&b);
	nfset_msg_begin(&b, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_ACK, 2, AF_UNSPEC,
			group);
	nfset_nla_put(&b, NFULA_CFG_MODE, &mode, sizeof(mode));
	/* Every packet is handed over at once (a queue threshold of 1): a drop is in our socket
	 * by the time the sandbox's send returns, so the drain at exit sees the last ones. The
	 * timeout only matters for a larger threshold. */
	uint32_t timeout = htonl(NFLOG_FLUSH_CS), qthresh = htonl(1);
	nfset_nla_put(&b, NFULA_CFG_TIMEOUT, &timeout, sizeof(timeout));
	nfset_nla_put(&b, NFULA_CFG_QTHRESH, &qthresh, sizeof(qthresh));
	nfset_msg_end(&b);
	int r = nfset_transact(fd, &b, 1, 2, err);
	free(b.data);
	if (r < 0)
		return bw_wrap(err, "bind NFLOG group %u", group);
	return steal_fd(&fd);
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 6)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool nflog_parse_prefix(const char *prefix, struct audit_event *ev)
{
	const char *s = prefix;
	if (strncmp(s, "bulwark ", 8) != 0)
		return false;
	s += 8;
	if (strncmp(s, "out ", 4) == 0) {
		ev->dir = POL_EGRESS;
		s += 4;
	} else if (strncmp(s, "in ", 3) == 0) {
		ev->dir = POL_INGRESS;
		s += 3;
	} else {
		return false;
	}
	const char *end = strchr(s, ' ');
	if (end == NULL || end[1] != '\0')
		return false;
	size_t n = (size_t)(end - s);
	if ((n == 5 && strncmp(s, "fixed", 5) == 0) || (n == 7 && strncmp(s, "default", 7) == 0) ||
	    (n == 11 && strncmp(s, "annotations", 11) == 0))
		snprintf(ev->rule, sizeof(ev->rule), "%.*s", (int)n, s);
	else if (s[0] == 'r' && all_digits(s + 1, n - 1))
		snprintf(ev->rule, sizeof(ev->rule), "rule %.*s", (int)n - 1, s + 1);
	else if (s[0] == 'a' && all_digits(s + 1, n - 1))
		snprintf(ev->rule, sizeof(ev->rule), "annotation rule %.*s", (int)n - 1, s + 1);
	else
		return false;
	return true;
}

/* Skips IPv6 extension headers; *l4 ends at the transport header, *proto names it. */
static void skip_ipv6_ext(const uint8_t *p, size_t len, uint8_t *proto, size_t *l4,
			  bool *first_fragment)
{
	for (int i = 0; i < 8; i++) {
		size_t hlen;
		if (*l4 + 8 > len)
			return;
		switch (*proto) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			hlen = ((size_t)p[*l4 + 1] + 1) * 8;
			break;
		case 44: /* fragment */
			*first_fragment = (get16(p + *l4 + 2) & 0xfff8) == 0;
			hlen = 8;
			break;
		case 51: /* authentication header */
			hlen = ((size_t)p[*l4 + 1] + 2) * 4;
			break;
		default:
			return;
		}
		*proto = p[*l4];
		*l4 += hlen;
	}
}

bool nflog_parse_packet(const uint8_t *p, size_t len, struct audit_event *ev)
{
	const uint8_t *src, *dst;
	size_t l4, alen;
	bool first_fragment = true;
	if (len >= 20 && p[0] >> 4 == 4) {
		l4 = (size_t)(p[0] & 0xf) * 4;
		if (l4 < 20)
			return false;
		ev->family = AF_INET;
		ev->proto = p[9];
		first_fragment = (get16(p + 6) & 0x1fff) == 0;
		src = p + 12;
		dst = p + 16;
		alen = 4;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		ev->family = AF_INET6;
		ev->proto = p[6];
		src = p + 8;
		dst = p + 24;
		alen = 16;
		l4 = 40;
		skip_ipv6_ext(p, len, &ev->proto, &l4, &first_fragment);
	} else {
		return false;
	}
	memcpy(ev->addr, ev->dir == POL_EGRESS ? dst : src, alen);
	bool ports = ev->proto == IPPROTO_TCP || ev->proto == IPPROTO_UDP ||
		     ev->proto == IPPROTO_SCTP || ev->proto == IPPROTO_UDPLITE;
	if (ports && first_fragment && l4 + 4 <= len) {
		ev->has_port = true;
		ev->port = get16(p + l4 + 2);
	}
	return true;
}

static void parse_packet_msg(const struct nlmsghdr *h,
			     void (*fn)(void *, const struct audit_event *), void *ctx)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	const uint8_t *base = (const uint8_t *)h;
	const uint8_t *payload = NULL;
	size_t payload_len = 0;
	char prefix[64] = "";
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)(base + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
			return;
		size_t dlen = a->nla_len - NLA_HDRLEN;
		const uint8_t *d = base + off + NLA_HDRLEN;
		uint16_t type = a->nla_type & NLA_TYPE_MASK;
		if (type == NFULA_PREFIX)
			snprintf(prefix, sizeof(prefix), "%.*s",
				 (int)strnlen((const char *)d, dlen), (const char *)d);
		else if (type == NFULA_PAYLOAD) {
			payload = d;
			payload_len = dlen;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_PACKET;
	if (!nflog_parse_prefix(prefix, &ev))
		return;
	if (payload == NULL || !nflog_parse_packet(payload, payload_len, &ev)) {
		ev.family = 0;
		ev.proto = 0;
		memset(ev.addr, 0, sizeof(ev.addr));
	}
	fn(ctx, &ev);
}

void nflog_parse(const uint8_t *buf, size_t len, void (*fn)(void *ctx, const struct audit_event *),
		 void *ctx)
{
	/* Not NLMSG_OK/NEXT: their size arithmetic underflows on an unaligned last length. */
	for (size_t off = 0; off + NLMSG_HDRLEN <= len;) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - off)
			return;
		if (h->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) &&
		    h->nlmsg_len >= NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)))
			parse_packet_msg(h, fn, ctx);
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
}

/* ---- lines ---- */

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

const char *audit_qtype_name(uint16_t t, char *buf, size_t len)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {{1, "A"},	    {2, "NS"},	  {5, "CNAME"}, {6, "SOA"},  {12, "PTR"},
		     {15, "MX"},    {16, "TXT"},  {28, "AAAA"}, {33, "SRV"}, {64, "SVCB"},
		     {65, "HTTPS"}, {255, "ANY"}, {257, "CAA"}};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].t == t)
			return names[i].n;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/* "kind" and what follows it: packet, dns or other. */
static void gen_body(yajl_gen g, const struct audit_event *ev)
{
	char addr[INET6_ADDRSTRLEN] = "", tmp[16];
	switch (ev->kind) {
	case AUDIT_DNS:
		json_key_str(g, "kind", "dns");
		json_key_str(g, "name", ev->name);
		json_key_str(g, "qtype", audit_qtype_name(ev->qtype, tmp, sizeof(tmp)));
		json_key_str(g, "rule", ev->rule);
		/* A private answer that was not opened carries its address. */
		if (ev->family != 0)
			json_key_str(g, "address",
				     inet_ntop(ev->family, ev->addr, addr, sizeof(addr)));
		return;
	case AUDIT_PACKET:
		if (ev->family != 0)
			inet_ntop(ev->family, ev->addr, addr, sizeof(addr));
		json_key_str(g, "kind", "packet");
		json_key_str(g, "direction", ev->dir == POL_EGRESS ? "egress" : "ingress");
		json_key_str(g, "proto", proto_name(ev->proto, tmp, sizeof(tmp)));
		json_key_str(g, ev->dir == POL_EGRESS ? "destination" : "source", addr);
		if (ev->has_port)
			json_key_int(g, "port", ev->port);
		json_key_str(g, "rule", ev->rule);
		return;
	case AUDIT_OTHER:
		break;
	}
	json_key_str(g, "kind", "other");
}

size_t audit_format(const struct audit_event *ev, const char *sandbox, uint64_t count,
		    const struct timespec *time, char *out, size_t cap)
{
	char when[64];
	struct tm tm;
	gmtime_r(&time->tv_sec, &tm);
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", time->tv_nsec / 1000000);
	yajl_gen g = json_gen_new(false);
	yajl_gen_map_open(g);
	json_key_str(g, "time", when);
	json_key_str(g, "sandbox", sandbox);
	json_key_str(g, "event", "denied");
	gen_body(g, ev);
	/* yajl's integers are signed: the count as its decimal digits. */
	char digits[24];
	int d = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)count);
	json_str(g, "count");
	yajl_gen_number(g, digits, (size_t)d);
	yajl_gen_map_close(g);
	size_t len;
	_cleanup_free_ char *line = json_take(g, true, &len);
	if (len >= cap)
		return 0; /* whole lines only */
	memcpy(out, line, len + 1);
	return len;
}

/* ---- aggregation ---- */

struct audit_entry {
	struct audit_event ev;
	uint64_t last_ms;
	uint64_t pending;
	bool written;
};

struct audit {
	char *sandbox;
	int fds[2];
	uint64_t bytes[2];
	double tokens;
	uint64_t refill_ms;
	struct audit_entry *v;
	size_t n;
	uint32_t *index; /* entry + 1, 0: empty; open addressing over 2 * AUDIT_MAX_KEYS */
	struct audit_entry other;
};

#define INDEX_SLOTS (2 * AUDIT_MAX_KEYS)

static uint32_t event_hash(const struct audit_event *ev)
{
	const uint8_t *b = (const uint8_t *)ev;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(*ev); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t *index_slot(struct audit *a, const struct audit_event *ev)
{
	for (uint32_t i = event_hash(ev) & (INDEX_SLOTS - 1);; i = (i + 1) & (INDEX_SLOTS - 1)) {
		uint32_t e = a->index[i];
		if (e == 0 || memcmp(&a->v[e - 1].ev, ev, sizeof(*ev)) == 0)
			return &a->index[i];
	}
}

struct audit *audit_new(const char *sandbox, int events_fd, int audit_fd)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	a->sandbox = xstrdup(sandbox);
	a->fds[0] = events_fd;
	a->fds[1] = audit_fd;
	a->v = xcalloc(AUDIT_MAX_KEYS, sizeof(*a->v));
	a->index = xcalloc(INDEX_SLOTS, sizeof(*a->index));
	a->other.ev.kind = AUDIT_OTHER;
	a->tokens = AUDIT_LINES_BURST;
	return a;
}

static bool take_token(struct audit *a, uint64_t now_ms)
{
	if (now_ms > a->refill_ms) {
		a->tokens += (double)(now_ms - a->refill_ms) * AUDIT_LINES_PER_S / 1000.0;
		if (a->tokens > AUDIT_LINES_BURST)
			a->tokens = AUDIT_LINES_BURST;
		a->refill_ms = now_ms;
	}
	if (a->tokens < 1)
		return false;
	a->tokens -= 1;
	return true;
}

static void emit(struct audit *a, struct audit_entry *e, uint64_t now_ms)
{
	char line[AUDIT_LINE_MAX];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	size_t len = audit_format(&e->ev, a->sandbox, e->pending, &ts, line, sizeof(line));
	for (int i = 0; i < 2 && len > 0; i++)
		if (a->fds[i] >= 0 && a->bytes[i] + len <= AUDIT_FILE_MAX) {
			(void)!write(a->fds[i], line, len);
			a->bytes[i] += len;
		}
	e->pending = 0;
	e->last_ms = now_ms;
	e->written = true;
}

void audit_note(struct audit *a, const struct audit_event *ev, uint64_t now_ms)
{
	uint32_t *slot = index_slot(a, ev);
	struct audit_entry *e;
	if (*slot != 0) {
		e = &a->v[*slot - 1];
	} else if (a->n < AUDIT_MAX_KEYS && take_token(a, now_ms)) {
		e = &a->v[a->n];
		memset(e, 0, sizeof(*e));
		memcpy(&e->ev, ev, sizeof(*ev));
		*slot = (uint32_t)++a->n;
		e->pending++;
		emit(a, e, now_ms); /* a new key's first line, paid for above */
		return;
	} else {
		e = &a->other;
	}
	e->pending++;
	if ((!e->written || now_ms - e->last_ms >= 1000) && take_token(a, now_ms))
		emit(a, e, now_ms);
}

/* Keys without anything pending for a second behave exactly like unknown keys: drop them. */
static void forget_idle(struct audit *a, uint64_t now_ms)
{
	size_t o = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pending > 0 || now_ms - a->v[i].last_ms < 1000)
			memmove(&a->v[o++], &a->v[i], sizeof(a->v[i]));
	if (o == a->n)
		return;
	a->n = o;
	memset(a->index, 0, INDEX_SLOTS * sizeof(*a->index));
	for (size_t i = 0; i < a->n; i++)
		*index_slot(a, &a->v[i].ev) = (uint32_t)i + 1;
}

void audit_tick(struct audit *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pending > 0 && now_ms - a->v[i].last_ms >= 1000 &&
		    take_token(a, now_ms))
			emit(a, &a->v[i], now_ms);
	if (a->other.pending > 0 && now_ms - a->other.last_ms >= 1000 && take_token(a, now_ms))
		emit(a, &a->other, now_ms);
	forget_idle(a, now_ms);
}

void audit_flush(struct audit *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pending > 0)
			emit(a, &a->v[i], a->v[i].last_ms);
	if (a->other.pending > 0)
		emit(a, &a->other, a->other.last_ms);
}

void audit_free(struct audit *a)
{
	if (a == NULL)
		return;
	free(a->sandbox);
	free(a->v);
	free(a->index);
	free(a);
}
