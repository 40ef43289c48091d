/* The per-sandbox network agent (`bulwark-net ... agent`): the DNS allowlist proxy and the
 * audit of dropped packets in one small daemon that lives exactly as long as the sandbox's
 * init (a pidfd). All set-up happens in the calling process, which reports any failure and
 * leaves nothing running; the daemon then drops what it no longer needs and serves. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/policy.h"

struct agent_options {
	const char *id;		 /* sandbox id, in every audit line */
	const char *netns;	 /* the sandbox's network namespace (path) */
	const char *upstream_ns; /* where upstream sockets live; NULL: the caller's own */
	pid_t pid;		 /* the sandbox's init: the daemon exits with it */
	uint16_t dns_port;	 /* the proxy's port on 127.0.0.1 and ::1 in the sandbox */
	bool no_dns;		 /* audit only */
	/* egress through pasta: addresses the caller's namespace gains while the sandbox runs
	 * are closed as they appear (sets local4/local6) */
	bool watch_local;
	const char *events_path; /* per-sandbox JSON lines, or NULL */
	const char *audit_path;	 /* shared JSON lines; NULL: the policy's "audit", if any */
	const char *resolv_conf; /* NULL: /etc/resolv.conf (tests point elsewhere) */
};

/* Set up everything, fork the daemon and wait until it runs; *daemon gets its pid. The
 * policy must stay valid until this returns (the daemon has its own copy). */
int agent_start(const struct agent_options *o, const struct sandbox_policy *p, pid_t *daemon,
		struct bw_error *err);

/* The nameservers of a resolv.conf text (port 53), at most max; scoped IPv6 addresses are
 * skipped. Returns how many. */
size_t agent_parse_resolv_conf(const char *text, struct sockaddr_storage *out, socklen_t *lens,
			       size_t max);
