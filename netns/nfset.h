/* Adding DNS-learned addresses to the sandbox table's allow4/allow6 sets: one nfnetlink batch
 * of NFT_MSG_NEWSETELEM per DNS answer, built here by hand (a few nested attributes) and sent
 * on a NETLINK_NETFILTER socket opened in the sandbox's namespace. Also the small netlink
 * message builder that netns/nflog.c uses for its configuration messages. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define NFSET_MAX_ELEMS 128

/* A netlink message buffer: messages and (nested) attributes appended in place. */
struct nfset_buf {
	uint8_t *data;
	size_t len, cap;
	size_t msg; /* offset of the message being built */
	uint32_t n_msgs;
};

/* Start a message with an nfgenmsg header; nla_* append to it, msg_end closes it. */
void nfset_msg_begin(struct nfset_buf *b, uint16_t type, uint16_t flags, uint32_t seq,
		     uint8_t family, uint16_t res_id);
void nfset_msg_end(struct nfset_buf *b);
void nfset_nla_put(struct nfset_buf *b, uint16_t type, const void *data, size_t len);
/* Returns the offset of the nest, for nla_nest_end. */
size_t nfset_nla_nest_begin(struct nfset_buf *b, uint16_t type);
void nfset_nla_nest_end(struct nfset_buf *b, size_t nest);

struct nfset_elem {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t timeout_s;
	/* 0: the address with every port (sets allow4/allow6); else one protocol (IPPROTO_TCP,
	 * IPPROTO_UDP) and port of it (sets allowp4/allowp6: address . protocol . port) */
	uint8_t proto;
	uint16_t port;
	/* sets local4/local6 instead (no timeout): an address of the caller's, closed for good */
	bool local;
};

/* The batch (begin, one NEWSETELEM per set with elements, end) for table `inet <table>` sets
 * allow4/allow6/allowp4/allowp6, every message but the batch markers asking for an ack. Pure: the
 * result is in b->data[0..b->len) (malloc'd, the caller frees b->data). Returns the number of acks
 * to expect. */
uint32_t nfset_build(struct nfset_buf *b, const char *table, const struct nfset_elem *v, size_t n,
		     uint32_t seq);

/* Send the messages of b (seq numbers seq_lo.. for the n_acks that ask for an ack) and wait
 * for every ack; the first error reported wins. */
int nfset_transact(int fd, const struct nfset_buf *b, uint32_t seq_lo, uint32_t n_acks,
		   struct bw_error *err);

/* A NETLINK_NETFILTER socket in the caller's current network namespace. */
int nfset_open(struct bw_error *err);
/* Add (or refresh the timeout of) the elements; returns when the kernel has committed the
 * batch (nfnetlink processes a batch within sendmsg) and acknowledged every message. */
int nfset_add(int fd, const char *table, const struct nfset_elem *v, size_t n,
	      struct bw_error *err);
