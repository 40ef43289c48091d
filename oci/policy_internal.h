/* What the policy's files (policy.c, policy_json.c, policy_annotations.c) share. */
#pragma once

#include <yajl/yajl_tree.h>

#include "oci/policy.h"
#include "oci/spec_internal.h"

#define TTL_FLOOR_DEFAULT 5
#define TTL_CAP_DEFAULT 3600
#define TTL_MAX 604800 /* a week: the most a document may give the DNS TTLs */

void pol_rules_free(struct pol_rules *r);
void pol_domains_free(struct pol_domains *d);
/* The rule list at obj's key (absent: none), as in a policy document. */
int policy_json_rules(struct jp *p, yajl_val obj, const char *key, struct pol_rules *out);
