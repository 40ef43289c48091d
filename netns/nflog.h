/* The audit of denied traffic: the NFLOG reader of the firewall's drops (group FW_LOG_GROUP,
 * prefix "bulwark <out|in> <tag> ") with the parsing of the packets' first bytes, and the
 * audit lines (JSON, aggregated to at most one line per distinct event and second) that both
 * the dropped packets and the DNS proxy's refusals become. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "oci/policy.h"

/* Bytes of each dropped packet the kernel copies to us: the IP header and the ports. */
#define NFLOG_COPY_RANGE 80
#define AUDIT_MAX_KEYS 1024
#define AUDIT_LINE_MAX 4096
/* A sandbox decides how many denials it causes: lines are rationed (a token bucket; what
 * cannot be written now stays counted and goes out later, or under "other" for new keys) and
 * each file gets at most AUDIT_FILE_MAX bytes from one agent. */
#define AUDIT_LINES_PER_S 50
#define AUDIT_LINES_BURST 500
#define AUDIT_FILE_MAX ((uint64_t)48 << 20)

enum audit_kind { AUDIT_PACKET, AUDIT_DNS, AUDIT_OTHER };

/* One denial; zero it before filling it in: the whole struct is the aggregation key. */
struct audit_event {
	enum audit_kind kind;
	/* packets */
	enum pol_dir dir;
	int family;
	uint8_t addr[16]; /* destination (egress) or source (ingress) */
	uint8_t proto;
	bool has_port;
	uint16_t port; /* destination port (for ingress: the sandbox's own) */
	char rule[48]; /* "default", "fixed", "annotations", "rule N", "annotation rule N" */
	/* names */
	char name[256];
	uint16_t qtype;
};

/* ---- NFLOG ---- */

/* A NETLINK_NETFILTER socket bound to NFLOG group `group` in the caller's current namespace,
 * copying NFLOG_COPY_RANGE bytes of each packet. */
int nflog_open(uint16_t group, struct bw_error *err);
/* "bulwark out r3 " -> dir, rule "rule 3". False for prefixes that are not ours. */
bool nflog_parse_prefix(const char *prefix, struct audit_event *ev);
/* The IPv4/IPv6 header (and TCP/UDP ports) at the start of a packet. False if unreadable. */
bool nflog_parse_packet(const uint8_t *p, size_t len, struct audit_event *ev);
/* Every NFULNL_MSG_PACKET in one datagram from the NFLOG socket, as events. */
void nflog_parse(const uint8_t *buf, size_t len, void (*fn)(void *ctx, const struct audit_event *),
		 void *ctx);

/* ---- audit lines ---- */

/* "A", "AAAA", ... or "TYPE<n>"; buf of at least 16 bytes. */
const char *audit_qtype_name(uint16_t type, char *buf, size_t len);
/* One line (with the final newline) for `count` events like ev; time is CLOCK_REALTIME. The
 * line's length, or 0 (and nothing written) when it would not fit in cap. */
size_t audit_format(const struct audit_event *ev, const char *sandbox, uint64_t count,
		    const struct timespec *time, char *out, size_t cap);

struct audit;
/* Lines go to each fd >= 0 (O_APPEND files: one write() per line). */
struct audit *audit_new(const char *sandbox, int events_fd, int audit_fd);
/* Count an event (now: CLOCK_MONOTONIC ms); writes a line now if its key had none in the last
 * second, otherwise the count waits for audit_tick. */
void audit_note(struct audit *a, const struct audit_event *ev, uint64_t now_ms);
/* Lines for keys whose counts waited a second, and forgetting idle keys. */
void audit_tick(struct audit *a, uint64_t now_ms);
/* Every pending count, now (at exit). */
void audit_flush(struct audit *a);
void audit_free(struct audit *a);
