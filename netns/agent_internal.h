/* What the network agent's files share: the agent's state and the steps that agent.c, its
 * set-up (agent_setup.c) and its hardening (agent_harden.c) call across. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"
#include "netns/agent.h"
#include "netns/dnsproxy.h"
#include "netns/domains.h"
#include "netns/nflog.h"
#include "oci/policy.h"

#define TICK_MS 250
/* Local prefix routes of the caller's known at start; more refuse the start. */
#define AGENT_MAX_PREFIXES 256
/* How long the caller's local addresses may stay unclosed before egress ends. */
#define RESYNC_GIVE_UP_MS 2000

struct agent;

struct agent_src {
	struct ev_source ev;
	struct agent *a;
};

struct agent {
	const struct agent_options *o;
	const struct sandbox_policy *p;
	int pidfd, nflog_fd, nft_fd, events_fd, audit_fd, devnull, rt_fd;
	int udp[2], tcp[2];
	struct sockaddr_storage up[POLICY_MAX_UPSTREAMS];
	socklen_t up_len[POLICY_MAX_UPSTREAMS];
	size_t n_up;
	/* the daemon */
	int epfd, sigfd;
	struct agent_src pid_src, sig_src, nflog_src, rt_src;
	struct dom_policy dp;
	struct audit *audit;
	struct dnsproxy *proxy;
	bool stop;
	/* The caller's addresses must be closed again from a fresh list (an add failed: the
	 * table was not loaded yet, or events were lost); since when (ms), for the audit. */
	bool local_resync;
	uint64_t local_resync_since;
	/* The caller's local prefixes (AnyIP routes) at start: the table's snapshot, taken
	 * after, holds them; any other that appears ends egress (fail closed). */
	struct pol_cidr known[AGENT_MAX_PREFIXES];
	size_t n_known;
	uint8_t buf[65536];
};

/* agent_setup.c: everything in the caller before the fork (sockets in the sandbox's namespace,
 * files, pidfd, upstreams, known prefixes); agent_close closes what it opened. */
int agent_setup(struct agent *a, struct bw_error *err);
void agent_close(struct agent *a);
/* agent_harden.c: the daemon's hardening, in this order after close_others. */
void agent_close_others(struct agent *a, int sync_fd);
int agent_harden_caps(struct bw_error *err);
int agent_harden_landlock(struct bw_error *err);
