/* The sandbox network policy: the host's JSON document (--policy FILE) merged with the
 * container's `run.bulwark.net.*` annotations, validated with path-naming errors. Pure data:
 * the firewall (netns/firewall.c) and the DNS proxy (netns/dnsproxy.c) consume it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

#define POLICY_MAX_BYTES ((size_t)4 << 20)
#define POLICY_MAX_RULES 100000
#define POLICY_MAX_UPSTREAMS 4
#define POLICY_ANNOTATION_PREFIX "run.bulwark.net."

enum pol_dir { POL_EGRESS, POL_INGRESS, POL_NDIRS };
enum pol_action { POL_DENY, POL_ALLOW };
enum pol_proto { POL_PROTO_ANY, POL_PROTO_TCP, POL_PROTO_UDP, POL_PROTO_ICMP };

/* family 0: any address of either family. Host bits below the prefix are always zero. */
struct pol_cidr {
	int family; /* 0, AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct pol_rule {
	enum pol_action action;
	enum pol_proto proto;
	uint16_t port_lo, port_hi; /* 0/0: every port (always so for icmp and any) */
	struct pol_cidr cidr;
	char *description; /* may be NULL */
};

struct pol_rules {
	struct pol_rule *v;
	size_t n;
};

/* A name is "example.com" (exact) or "*.example.com" (strict subdomains), lowercase, without
 * the final dot. */
#define POL_MAX_DOMAIN_PORTS 8

/* One port of a domain rule ("443/tcp"). */
struct pol_dport {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

struct pol_domain_rule {
	enum pol_action action;
	bool wildcard;
	char *name; /* the suffix after "*." for wildcards */
	/* allow rules: the learned addresses open only these (0: every port and protocol) */
	struct pol_dport ports[POL_MAX_DOMAIN_PORTS];
	size_t n_ports;
};

struct pol_domains {
	struct pol_domain_rule *v;
	size_t n;
	enum pol_action def; /* when no rule matches */
};

/* One layer of rules. A sandbox policy is the host layer, optionally followed by a narrowing
 * layer from annotations: a packet or a name must then be allowed by both. */
struct pol_layer {
	struct pol_rules rules[POL_NDIRS];
	struct pol_domains domains;
	bool has_domains; /* the layer says anything about names */
};

struct sandbox_policy {
	bool allow_override; /* annotations may widen: their rules go first in the host layer */
	struct pol_layer host;
	bool has_narrow;
	bool narrow_dir[POL_NDIRS]; /* the narrowing layer filters this direction */
	struct pol_layer narrow;
	struct pol_cidr upstreams[POLICY_MAX_UPSTREAMS]; /* resolvers; none: the host's */
	size_t n_upstreams;
	uint32_t ttl_floor, ttl_cap; /* seconds, clamp for learned addresses */
	/* dns.openPrivateAnswers: DNS answers may open private and internal addresses (RFC 1918,
	 * CGNAT, loopback, ULA...). Off by default: a name the rules allow must not become a way
	 * into the owner's internal network (DNS rebinding). */
	bool open_private_answers;
	char *audit_path; /* "audit": absolute path of the shared JSON-lines audit log, or NULL */
};

/* The default policy: deny everything but loopback, no names. */
void policy_init_default(struct sandbox_policy *p);
/* Parse a host policy document; `what` names it in errors ("policy.json: egress[3].cidr: ..."). */
int policy_parse(const char *json, size_t len, const char *what, struct sandbox_policy *out,
		 struct bw_error *err);
int policy_load(const char *path, struct sandbox_policy *out, struct bw_error *err);
/* Merge the spec's run.bulwark.net.* annotations into p. Unknown keys under the prefix are
 * errors (a typo must not silently widen or skip a restriction). */
int policy_apply_annotations(struct sandbox_policy *p, const struct oci_kv *ann, size_t n,
			     struct bw_error *err);
/* The whole thing for a container: host file (NULL: default policy) + annotations. */
int policy_for_spec(const char *host_path, const struct oci_spec *spec, struct sandbox_policy *out,
		    struct bw_error *err);
void policy_free(struct sandbox_policy *p);

/* Can anything leave the sandbox (an allow rule, an allowed name)? If not, the sandbox is
 * loopback-only and needs no plumbing and no DNS proxy. */
bool policy_allows_egress(const struct sandbox_policy *p);
/* Can packets of this protocol (UDP, ICMP) leave: a rule allowing it or any protocol, or an
 * allowed name whose rule does not narrow it to other protocols. Conservative: true when in
 * doubt. */
bool policy_allows_egress_proto(const struct sandbox_policy *p, enum pol_proto proto);
bool policy_uses_domains(const struct sandbox_policy *p);

/* Parsers shared with the annotations and the tests. */
int policy_parse_cidr(const char *s, struct pol_cidr *out, const char **why);
/* Lowercases and strips a final dot; *wildcard is set for "*.suffix". */
int policy_parse_domain(const char *s, char **name, bool *wildcard, const char **why);
/* A domain rule's port, "PORT/tcp", "PORT/udp" or "PORT" (both), appended to r->ports. */
int policy_parse_domain_port(const char *s, struct pol_domain_rule *r, const char **why);
/* Text form ("10.0.0.0/8", "2001:db8::/32"); buf of at least 64 bytes. */
const char *policy_cidr_str(const struct pol_cidr *c, char *buf, size_t len);
const char *policy_proto_name(enum pol_proto p);
