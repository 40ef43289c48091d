/* The sandbox firewall: one nftables table `inet bulwark` in the sandbox's network namespace,
 * rendered from a sandbox_policy (pure, fw_render) and loaded by fw_apply from a short-lived
 * child that joins the namespace and calls libnftables (dlopen'd: only sandboxes with a
 * firewall pay for it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/policy.h"

#define FW_TABLE "bulwark"
/* NFLOG group of denied packets (an audit reader in the namespace may subscribe). */
#define FW_LOG_GROUP 7001
/* Addresses the DNS proxy may hold open at once, per family. */
#define FW_ALLOW_SET_SIZE 16384

struct fw_options {
	/* Local port of the DNS proxy in the sandbox: all udp/tcp port 53 leaving the sandbox is
	 * redirected to it (127.0.0.1 / ::1). 0: no proxy, port 53 is governed by the rules. */
	uint16_t dns_port;
	/* Addresses no rule can open besides the fixed list (the host's own, gateways). */
	const struct pol_cidr *extra_deny;
	size_t n_extra_deny;
	/* Egress leaves through pasta (rootless): sets local4/local6 of the caller's addresses
	 * that appeared after set-up (the agent fills them), and UDP only from the ephemeral
	 * ports, since pasta binds each UDP source port of the sandbox in the caller's
	 * namespace. */
	bool pasta;
	/* With pasta: the UDP source ports let out, as an nftables port expression ("N-M" or
	 * "{ N-M, ... }", portrange.h): the caller's ephemeral ones. NULL: FW_PASTA_UDP_PORTS. */
	const char *udp_ports;
};

/* The kernel's default ephemeral range: the UDP source ports when the caller's cannot be read. */
#define FW_PASTA_UDP_PORTS "32768-60999"

/* The nft script that atomically (re)places the table. Pure; the result is malloc'd. */
char *fw_render(const struct sandbox_policy *p, const struct fw_options *o);

/* Load the table into the network namespace netns_fd (an nsfs fd: /proc/<pid>/ns/net or a
 * path an engine gave). The caller's own addresses (its network namespace is the host's) join
 * the deny list. The caller's namespaces are never changed: the work happens in a child.
 * o may be NULL. */
int fw_apply(int netns_fd, const struct sandbox_policy *p, const struct fw_options *o,
	     struct bw_error *err);

/* Run an nft script in netns_fd (-1: the caller's namespace) the same way; the output of list
 * commands goes to *out (malloc'd) when out is not NULL. */
int fw_run_script(int netns_fd, const char *script, char **out, struct bw_error *err);

/* The caller's local destinations: the routes of its local table (RTN_LOCAL and RTN_ANYCAST:
 * every address of its, and whole prefixes made local, "AnyIP"), without loopback, link-local,
 * multicast and 0.0.0.0/8 ones. */
int fw_host_addresses(struct pol_cidr **out, size_t *n, struct bw_error *err);
/* One rtnetlink message: true if it is such a local route (*c: its prefix). */
struct nlmsghdr;
bool fw_local_route(const struct nlmsghdr *h, struct pol_cidr *c);

/* Rootless egress (pasta): every local destination of the caller's now, added to the loaded
 * table's deny sets. Run once the table is loaded: one that appeared while it loaded is in
 * neither its snapshot nor the agent's sets. */
int fw_close_local(int netns_fd, struct bw_error *err);
/* 1 if the table loaded in netns_fd is a pasta one (it has the local sets), 0 if it is not or
 * there is none, -1 with err if that cannot be told. */
int fw_pasta_table(int netns_fd, struct bw_error *err);
