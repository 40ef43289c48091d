/* libFuzzer target for what the network agent reads from outside: DNS queries from the
 * sandbox (checked, given a verdict, answered with an error), DNS answers from upstream
 * (matched against their own question and walked along the CNAME chain) and NFLOG messages
 * (turned into audit lines). The first byte picks the path. Aborts when an error answer does
 * not parse back, or an audit line is not one bounded line. */
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netns/dnsproxy.h"
#include "netns/domains.h"
#include "netns/nflog.h"
#include "oci/policy.h"

static const struct dom_policy *fixed_policy(void)
{
	static struct sandbox_policy p;
	static struct dom_policy dp;
	static bool done;
	static const char doc[] = "{\"domains\":{\"default\":\"deny\",\"rules\":["
				  "{\"action\":\"deny\",\"name\":\"denied.test\"},"
				  "{\"action\":\"allow\",\"name\":\"*.test\"}]}}";
	struct bw_error err = {0};
	if (!done) {
		if (policy_parse(doc, strlen(doc), "policy.json", &p, &err) < 0)
			abort();
		dom_policy_init(&dp, &p);
		done = true;
	}
	return &dp;
}

/* What goes upstream parses back as one question and at most one empty OPT record. */
static void check_forwarded(const struct dns_question *q)
{
	uint8_t fwd[NS_HFIXEDSZ + NS_MAXCDNAME + NS_QFIXEDSZ + 11];
	struct dns_question back;
	size_t len = dnsproxy_build_query(q, 1, fwd, sizeof(fwd));
	if (len == 0 || dnsproxy_parse_query(fwd, len, &back) != DNSQ_OK ||
	    strcasecmp(back.name, q->name) != 0 || back.edns != q->edns ||
	    len != NS_HFIXEDSZ + strlen(q->name) + 2 + NS_QFIXEDSZ + (q->edns ? 11 : 0)) {
		fprintf(stderr, "forwarded query does not parse back (%zu bytes)\n", len);
		abort();
	}
}

static void fuzz_query(const uint8_t *d, size_t n)
{
	struct dns_question q;
	uint8_t out[NS_HFIXEDSZ + NS_MAXCDNAME + NS_QFIXEDSZ];
	char rule[64];
	ns_msg m;
	int rc = dnsproxy_parse_query(d, n, &q);
	if (rc == DNSQ_DROP)
		return;
	if (rc == DNSQ_OK &&
	    dnsproxy_verdict(fixed_policy(), q.name, rule, sizeof(rule)) == POL_DENY)
		rc = ns_r_refused;
	if (rc == DNSQ_OK && dnsproxy_type_forwarded(q.type))
		check_forwarded(&q);
	size_t len = dnsproxy_error_reply(&q, rc, false, out, sizeof(out));
	if (len < NS_HFIXEDSZ || ns_initparse(out, (int)len, &m) < 0) {
		fprintf(stderr, "error answer does not parse (%zu bytes)\n", len);
		abort();
	}
}

/* The answer's own question and id, so that the walk runs instead of stopping at "foreign". */
static void fuzz_answer(const uint8_t *d, size_t n)
{
	struct dns_question q = {.has_question = true};
	struct dns_addr a[DNS_MAX_ADDRS];
	size_t got;
	ns_msg m;
	ns_rr rr;
	if (n < NS_HFIXEDSZ || ns_initparse(d, (int)n, &m) < 0 || ns_msg_count(m, ns_s_qd) < 1 ||
	    ns_parserr(&m, ns_s_qd, 0, &rr) < 0)
		return;
	snprintf(q.name, sizeof(q.name), "%s", ns_rr_name(rr));
	q.type = ns_rr_type(rr);
	q.class = ns_rr_class(rr);
	uint16_t id = (uint16_t)(d[0] << 8 | d[1]);
	static struct dns_chain chain;
	if (dnsproxy_read_reply(d, n, id, &q, a, DNS_MAX_ADDRS, &got, &chain) == DNSR_OK &&
	    (got > DNS_MAX_ADDRS || chain.n < 1 || chain.n > DNS_MAX_CHAIN))
		abort();
}

static void check_line(void *ctx, const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX];
	struct timespec ts = {0};
	size_t len = audit_format(ev, "fuzz", 1, &ts, line, sizeof(line));
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL) {
		fprintf(stderr, "bad audit line\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 70000)
		return 0;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0:
		fuzz_query(d, n);
		break;
	case 1:
		fuzz_answer(d, n);
		break;
	default: {
		/* netlink messages want 4-byte alignment */
		uint8_t *copy = malloc(n + 1);
		memcpy(copy, d, n);
		nflog_parse(copy, n, check_line, NULL);
		free(copy);
	}
	}
	return 0;
}
