/* The container's network, from the runtime's side: the firewall, direct-mode plumbing and the
 * per-container network agent (DNS allowlist proxy + audit of dropped packets) are all made by
 * the bulwark-net helper (libnftables and libnl stay out of the static runtime); this module
 * runs it, records what it made in the state's cleanup record and undoes it at delete. Also home
 * of the small "process tied to a container" helpers the watchdog shares. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/policy.h"
#include "runtime/cli/cli.h"
#include "runtime/container.h"
#include "runtime/spawn.h"

/* The DNS proxy's port inside the sandbox (all port-53 traffic is redirected to it). */
#define NETWORK_DNS_PORT 53

/* Whether the container gets a firewall: a host policy or run.bulwark.net.* annotations. */
bool network_wanted(const struct global_opts *g, const struct oci_spec *spec);
/* Refuse capabilities that would let the container get around the firewall. */
int network_check_caps(const struct oci_spec *spec, struct bw_error *err);
/* Load the firewall into the container's network namespace (pid: its init), plumb direct mode
 * when the policy allows egress from a fresh namespace, and start the network agent. Fails
 * closed: the caller kills the init and calls network_release. audit: the audit log or NULL. */
int network_setup(const struct global_opts *g, struct container *c, const struct spawn_config *cfg,
		  pid_t pid, const struct sandbox_policy *pol, const char *audit,
		  struct bw_error *err);
/* Stop the agent (it flushes its pending denial counts to events.jsonl) and wait for it. */
void network_stop_agent(struct container *c);
/* The pasta program for a rootless sandbox's egress; NULL with err set when it is not installed
 * or /dev/net/tun is missing. */
const char *network_pasta(struct bw_error *err);
/* The network helper this process runs (the path, as resolved once), and the path of the
 * running binary (before its sealed copy; NULL if unknown). */
const char *network_helper_path(void);
const char *network_self_exe(void);
/* network_stop_agent, then stop pasta or remove the direct-mode plumbing. Idempotent. */
void network_release(struct container *c);
