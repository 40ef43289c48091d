/* Direct-mode plumbing (no engine): a veth pair from the host into the sandbox's network
 * namespace with a /30 from bulwark's pool, a default route, and the host's side: forwarding
 * and NAT in its own table `ip bulwark-nat`, removed with the last sandbox. Uses libnl, so it
 * is built into bulwark-net only; the runtime runs `bulwark-net plumb` for sandboxes whose
 * policy allows egress. */
#pragma once

#include <stdint.h>

#include "common/error.h"

/* 10.213.0.0/16: one /30 per sandbox (host .1, sandbox .2). Documented in docs/network.md. */
#define PLUMB_POOL "10.213.0.0/16"
#define PLUMB_NAT_TABLE "bulwark-nat"
#define PLUMB_LOCK "/run/bulwark-net.lock"

struct plumb_info {
	char host_if[16]; /* "bw-<hash of the id>" */
	uint32_t host_ip; /* network order */
	uint32_t sandbox_ip;
};

/* The host interface name for a sandbox id (stable, so delete can find it). */
void plumb_ifname(const char *id, char out[16]);
/* Create the pair, address both ends, route, NAT. On failure nothing is left behind. */
int plumb_up(const char *id, int netns_fd, struct plumb_info *out, struct bw_error *err);
/* Remove the host end (the sandbox end goes with it) and, when no sandbox is left, the NAT
 * table. Idempotent. */
int plumb_down(const char *id, struct bw_error *err);
