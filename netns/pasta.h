/* Egress without root: pasta (Debian's passt package), a user-mode network stack that gives
 * the sandbox's network namespace a tap interface and carries its traffic out through
 * ordinary sockets of the caller's own namespace. The sandbox's nftables table still decides
 * what may leave; pasta is started so that it adds no way around it (no port forwarding in
 * either direction, no mapping of the gateway address to the caller's loopback). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "netns/portrange.h"

/* Start pasta for the network namespace netns (a path) owned by the user namespace userns;
 * returns once the interface is configured, with the daemon's pid in *pid. udp/icmp: whether
 * the policy can let such packets out at all (pasta's handlers are off otherwise). pasta gets
 * no fd of ours but the two namespaces. */
int pasta_up(const char *program, const char *netns, const char *userns, bool udp, bool icmp,
	     pid_t *pid, struct bw_error *err);
/* pasta outlives the namespace it serves: a small watcher (detached, no fds but three pidfds)
 * kills it when the sandbox's init or the network agent ends (the agent closes the caller's
 * new addresses to the sandbox), even if the runtime itself was killed. */
int pasta_watch(pid_t pasta, pid_t init, pid_t agent, struct bw_error *err);
/* SIGKILL the daemon (checked with a pidfd) and wait up to a second for it to go. */
void pasta_down(pid_t pid);
/* The sandbox's own ephemeral range and reserved ports (in its namespace netns_fd, joined
 * as ns_enter_net does) set to the ports of set, so that the ports its kernel picks are ones
 * the table lets out. */
int pasta_set_ports(int netns_fd, const struct port_set *set, struct bw_error *err);
/* The caller's ephemeral UDP ports (this process's namespace): 0 with *set, or -1 with *why
 * (a static reason) when the files cannot be read or parsed. */
int pasta_callers_ports(struct port_set *set, const char **why);
