/* NFT_MSG_NEWSETELEM batches for the allow sets, and the netlink builder they are made with.
 * Without NLM_F_EXCL an existing element is not an error, and recent kernels replace its timeout
 * and expiry with the new ones (checked on the 6.18 test kernel by test_dnsproxy), so
 * a repeated answer refreshes the address without a delete. */
#include "netns/nfset.h"

#include <errno.h>
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define ALIGN4(n) (((n) + 3) & ~(size_t)3)

static void *reserve(struct nfset_buf *b, size_t n)
{
	size_t need = b->len + ALIGN4(n);
	if (need > b->cap) {
		b->cap = need * 2 > 4096 ? need * 2 : 4096;
		b->data = xrealloc(b->data, b->cap);
	}
	void *p = b->data + b->len;
	memset(p, 0, ALIGN4(n));
	b->len = need;
	return p;
}

void nfset_msg_begin(struct nfset_buf *b, uint16_t type, uint16_t flags, uint32_t seq,
		     uint8_t family, uint16_t res_id)
{
	b->msg = b->len;
	struct nlmsghdr *h = reserve(b, NLMSG_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	struct nfgenmsg *g = reserve(b, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htobe16(res_id);
}

void nfset_msg_end(struct nfset_buf *b)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(b->data + b->msg);
	h->nlmsg_len = (uint32_t)(b->len - b->msg);
	b->n_msgs++;
}

void nfset_nla_put(struct nfset_buf *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = reserve(b, NLA_HDRLEN + len);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
}

size_t nfset_nla_nest_begin(struct nfset_buf *b, uint16_t type)
{
	size_t off = b->len;
	struct nlattr *a = reserve(b, NLA_HDRLEN);
	a->nla_type = type | NLA_F_NESTED;
	return off;
}

void nfset_nla_nest_end(struct nfset_buf *b, size_t nest)
{
	struct nlattr *a = (struct nlattr *)(b->data + nest);
	a->nla_len = (uint16_t)(b->len - nest);
}

/* The key as the kernel stores it: each field of a concatenation in its own 32-bit
 * register, zero-padded (address, then the protocol byte, then the port in network order). */
static size_t elem_key(const struct nfset_elem *e, uint8_t key[24])
{
	size_t alen = e->family == AF_INET ? 4 : 16;
	memset(key, 0, 24);
	memcpy(key, e->addr, alen);
	if (e->proto == 0)
		return alen;
	key[alen] = e->proto;
	key[alen + 4] = (uint8_t)(e->port >> 8);
	key[alen + 5] = (uint8_t)e->port;
	return alen + 8;
}

static void put_elements(struct nfset_buf *b, const char *table, const char *set, int family,
			 bool ported, bool local, const struct nfset_elem *v, size_t n,
			 uint32_t seq)
{
	uint8_t k[24];
	nfset_msg_begin(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM,
			NLM_F_CREATE | NLM_F_ACK, seq, NFPROTO_INET, 0);
	nfset_nla_put(b, NFTA_SET_ELEM_LIST_TABLE, table, strlen(table) + 1);
	nfset_nla_put(b, NFTA_SET_ELEM_LIST_SET, set, strlen(set) + 1);
	size_t list = nfset_nla_nest_begin(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (size_t i = 0; i < n; i++) {
		if (v[i].family != family || v[i].local != local ||
		    (!local && (v[i].proto != 0) != ported))
			continue;
		size_t elem = nfset_nla_nest_begin(b, NFTA_LIST_ELEM);
		size_t key = nfset_nla_nest_begin(b, NFTA_SET_ELEM_KEY);
		nfset_nla_put(b, NFTA_DATA_VALUE, k, elem_key(&v[i], k));
		nfset_nla_nest_end(b, key);
		if (!v[i].local) {
			uint64_t ms = htobe64((uint64_t)v[i].timeout_s * 1000);
			nfset_nla_put(b, NFTA_SET_ELEM_TIMEOUT, &ms, sizeof(ms));
		}
		nfset_nla_nest_end(b, elem);
	}
	nfset_nla_nest_end(b, list);
	nfset_msg_end(b);
}

uint32_t nfset_build(struct nfset_buf *b, const char *table, const struct nfset_elem *v, size_t n,
		     uint32_t seq)
{
	static const char *const sets[6] = {"allow4",  "allow6", "allowp4",
					    "allowp6", "local4", "local6"};
	bool has[6] = {false, false, false, false, false, false};
	uint32_t acks = 0;
	for (size_t i = 0; i < n; i++)
		has[(v[i].family == AF_INET6) + (v[i].local ? 4 : (v[i].proto != 0) * 2)] = true;
	nfset_msg_begin(b, NFNL_MSG_BATCH_BEGIN, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nfset_msg_end(b);
	for (int s = 0; s < 6; s++) {
		if (!has[s])
			continue;
		put_elements(b, table, sets[s], s % 2 ? AF_INET6 : AF_INET, s >= 2 && s < 4, s >= 4,
			     v, n, seq + 1 + acks);
		acks++;
	}
	nfset_msg_begin(b, NFNL_MSG_BATCH_END, 0, seq + 1 + acks, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nfset_msg_end(b);
	return acks;
}

int nfset_open(struct bw_error *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return bw_fail(err, errno, "nftables netlink socket");
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return bw_fail(err, e, "bind nftables netlink socket");
	}
	return fd;
}

/* Counts the acks of messages seq_lo..seq_hi-1 in one datagram; the first error wins. */
static int read_acks(const uint8_t *buf, size_t len, uint32_t seq_lo, uint32_t seq_hi,
		     uint32_t *acked, int *error)
{
	for (size_t off = 0; off + NLMSG_HDRLEN <= len;) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
		if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - off)
			return -1;
		off += NLMSG_ALIGN(h->nlmsg_len);
		if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < seq_lo || h->nlmsg_seq >= seq_hi)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			return -1;
		const struct nlmsgerr *e = NLMSG_DATA(h);
		if (e->error != 0 && *error == 0)
			*error = -e->error;
		(*acked)++;
	}
	return 0;
}

static int wait_acks(int fd, uint32_t seq_lo, uint32_t n, struct bw_error *err)
{
	uint8_t buf[8192];
	uint32_t acked = 0;
	int error = 0;
	while (acked < n && error == 0) {
		/* The batch ran inside sendmsg: the acks are queued already; the wait only
		 * guards against a kernel that would defer them. */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN && poll(&p, 1, 1000) == 1)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bw_fail(err, errno == EAGAIN ? ETIMEDOUT : errno,
				       "nfnetlink: no ack");
		if (read_acks(buf, (size_t)r, seq_lo, seq_lo + n, &acked, &error) < 0)
			return bw_fail(err, 0, "nfnetlink: malformed ack");
	}
	if (error != 0)
		return bw_fail(err, error, "nfnetlink: refused");
	return 0;
}

int nfset_transact(int fd, const struct nfset_buf *b, uint32_t seq_lo, uint32_t n_acks,
		   struct bw_error *err)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t w = sendto(fd, b->data, b->len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	if (w < 0)
		return bw_fail(err, errno, "nfnetlink: send");
	if ((size_t)w != b->len)
		return bw_fail(err, EIO, "nfnetlink: short send");
	return wait_acks(fd, seq_lo, n_acks, err);
}

int nfset_add(int fd, const char *table, const struct nfset_elem *v, size_t n, struct bw_error *err)
{
	static uint32_t seq = 1;
	struct nfset_buf b = {0};
	if (n == 0)
		return 0;
	uint32_t base = seq;
	uint32_t acks = nfset_build(&b, table, v, n, base);
	seq += acks + 2;
	int r = nfset_transact(fd, &b, base + 1, acks, err);
	free(b.data);
	return r < 0 ? bw_wrap(err, "allow-set update") : 0;
}
