/* The network flags of `bulwark sandbox`: --network none (the default: loopback only),
 * --allow CIDR[:PORT[-PORT]][/tcp|udp], --allow-domain NAME, --policy FILE. Without any policy
 * file the flags become the sandbox's own policy document; under a policy file (the sandbox's
 * --policy or the host's global one) they can only narrow it, as annotations do. */
#pragma once

#include "common/error.h"

struct sandbox_net_flags {
	char *network; /* "none" or NULL */
	char **allow;
	char **allow_domain;
	char *policy; /* the sandbox's own --policy */
	char **dns;   /* --dns: upstream resolvers for the generated policy */
};

struct sandbox_net_plan {
	char *policy_doc;   /* a policy document to write and use, or NULL: generated here, or
			     * (cmd_sandbox.c) the bytes of the policy file, read once */
	const char *policy; /* the policy file named (NULL: none, or the generated one); the
			     * sandbox reads it into policy_doc and clears this */
	char **annotations; /* run.bulwark.net.* "key=value" entries to add to the spec */
};

/* host_policy: the global --policy (NULL if none). Every bad value is a one-line error naming
 * the flag and the reason. */
int sandbox_net_plan(const struct sandbox_net_flags *f, const char *host_policy,
		     struct sandbox_net_plan *out, struct bw_error *err);
void sandbox_net_plan_free(struct sandbox_net_plan *p);
void sandbox_net_flags_free(struct sandbox_net_flags *f);
