/* Domain rule lookup: first matching rule among exact names and "*.suffix" wildcards, in time
 * that grows with the number of labels of the name, not with the number of rules. */
#pragma once

#include <stddef.h>

#include "oci/policy.h"

struct dom_index;

/* Indexes d (which must outlive the index: names are borrowed). */
struct dom_index *dom_index_build(const struct pol_domains *d);
void dom_index_free(struct dom_index *idx);
/* Position of the first rule matching name (lowercase, no final dot), or -1. */
long dom_index_match(const struct dom_index *idx, const char *name);

/* Both layers of a sandbox policy. */
struct dom_policy {
	const struct sandbox_policy *p;
	struct dom_index *host, *narrow;
};

void dom_policy_init(struct dom_policy *dp, const struct sandbox_policy *p);
void dom_policy_free(struct dom_policy *dp);
/* Verdict for a query name in any case, with or without the final dot. *why (may be NULL)
 * gets a short static description of the deciding rule ("rule", "default", "invalid name"). */
enum pol_action dom_policy_verdict(const struct dom_policy *dp, const char *qname,
				   const char **why);
