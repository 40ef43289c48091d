/* The sandbox network policy document: parsing and validation of the host's JSON file and of
 * the run.bulwark.net.* annotations, and their merge (narrowing by default, widening only when
 * the host allows it). Every error names the document, the path and the reason. */
#include "oci/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/policy_internal.h"

void policy_init_default(struct sandbox_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->host.domains.def = POL_DENY;
	p->narrow.domains.def = POL_ALLOW;
	p->ttl_floor = TTL_FLOOR_DEFAULT;
	p->ttl_cap = TTL_CAP_DEFAULT;
}

void pol_rules_free(struct pol_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].description);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

void pol_domains_free(struct pol_domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static void layer_free(struct pol_layer *l)
{
	for (int d = 0; d < POL_NDIRS; d++)
		pol_rules_free(&l->rules[d]);
	pol_domains_free(&l->domains);
}

void policy_free(struct sandbox_policy *p)
{
	free(p->audit_path);
	layer_free(&p->host);
	layer_free(&p->narrow);
	policy_init_default(p);
}

/* ---- scalar syntaxes ---- */

static bool host_bits_clear(const uint8_t *a, size_t bytes, unsigned prefix)
{
	for (size_t bit = prefix; bit < bytes * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int policy_parse_cidr(const char *s, struct pol_cidr *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	memset(out, 0, sizeof(*out));
	*why = "invalid CIDR";
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	unsigned max = out->family == AF_INET ? 32 : 128;
	uint32_t prefix = max;
	if (slash != NULL &&
	    (!isdigit((unsigned char)slash[1]) || parse_u32(slash + 1, &prefix) < 0 ||
	     prefix > max || (slash[1] == '0' && slash[2] != '\0')))
		return -1;
	if (!host_bits_clear(out->addr, max / 8, prefix)) {
		*why = "host bits set in CIDR";
		return -1;
	}
	out->prefix = (uint8_t)prefix;
	return 0;
}

const char *policy_cidr_str(const struct pol_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (c->family == 0) {
		snprintf(buf, len, "any");
		return buf;
	}
	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
	return buf;
}

static bool label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Labels of 1-63 letters, digits, '-' or '_', not starting or ending with '-'. */
static bool name_valid(const char *s)
{
	size_t len = strlen(s), lab = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
				return false;
			lab = 0;
		} else if (!label_char(s[i])) {
			return false;
		} else {
			lab++;
		}
	}
	return true;
}

int policy_parse_domain(const char *s, char **name, bool *wildcard, const char **why)
{
	*wildcard = str_has_prefix(s, "*.");
	const char *body = *wildcard ? s + 2 : s;
	if (strchr(body, '*') != NULL) {
		*why = "bad wildcard";
		return -1;
	}
	_cleanup_free_ char *n = xstrdup(body);
	size_t len = strlen(n);
	if (len > 0 && n[len - 1] == '.')
		n[--len] = '\0';
	for (char *c = n; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!name_valid(n)) {
		*why = "invalid domain name";
		return -1;
	}
	*name = steal_ptr(&n);
	return 0;
}

int policy_parse_domain_port(const char *s, struct pol_domain_rule *r, const char **why)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *slash = strchr(copy, '/');
	uint32_t port;
	bool tcp = true, udp = true;
	if (slash != NULL) {
		*slash++ = '\0';
		tcp = strcmp(slash, "tcp") == 0;
		udp = strcmp(slash, "udp") == 0;
	}
	if ((!tcp && !udp) || parse_u32(copy, &port) < 0 || port == 0 || port > 65535) {
		*why = "expected PORT, PORT/tcp or PORT/udp (one port, 1-65535)";
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		uint8_t proto = i == 0 ? IPPROTO_TCP : IPPROTO_UDP;
		if (!(i == 0 ? tcp : udp))
			continue;
		bool dup = false;
		for (size_t k = 0; k < r->n_ports; k++)
			dup |= r->ports[k].proto == proto && r->ports[k].port == port;
		if (dup)
			continue;
		if (r->n_ports == POL_MAX_DOMAIN_PORTS) {
			*why = "too many ports (at most 8 port/protocol pairs a rule)";
			return -1;
		}
		r->ports[r->n_ports++] = (struct pol_dport){proto, (uint16_t)port};
	}
	return 0;
}

const char *policy_proto_name(enum pol_proto p)
{
	static const char *names[] = {"any", "tcp", "udp", "icmp"};
	return names[p];
}

/* ---- questions the enforcement asks ---- */

static bool layer_names_allow_any(const struct pol_layer *l)
{
	if (!l->has_domains)
		return false;
	if (l->domains.def == POL_ALLOW)
		return true;
	for (size_t i = 0; i < l->domains.n; i++)
		if (l->domains.v[i].action == POL_ALLOW)
			return true;
	return false;
}

bool policy_uses_domains(const struct sandbox_policy *p)
{
	return layer_names_allow_any(&p->host) &&
	       (!p->has_narrow || !p->narrow.has_domains || layer_names_allow_any(&p->narrow));
}

bool policy_allows_egress_proto(const struct sandbox_policy *p, enum pol_proto proto)
{
	const struct pol_rules *r = &p->host.rules[POL_EGRESS];
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == POL_ALLOW &&
		    (r->v[i].proto == POL_PROTO_ANY || r->v[i].proto == proto))
			return true;
	if (!policy_uses_domains(p))
		return false;
	const struct pol_domains *d = &p->host.domains;
	if (!p->host.has_domains || d->def == POL_ALLOW)
		return true;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].action != POL_ALLOW)
			continue;
		if (d->v[i].n_ports == 0)
			return true;
		for (size_t k = 0; k < d->v[i].n_ports; k++)
			if (proto == POL_PROTO_UDP && d->v[i].ports[k].proto == IPPROTO_UDP)
				return true;
	}
	return false;
}

bool policy_allows_egress(const struct sandbox_policy *p)
{
	if (policy_uses_domains(p))
		return true;
	const struct pol_rules *r = &p->host.rules[POL_EGRESS];
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == POL_ALLOW)
			return true;
	return false;
}
