/* libFuzzer target for what the network code reads from outside: the host policy document,
 * the run.bulwark.net.* annotations and query names checked against the domain rules. The
 * first byte picks the input kind. Errors must stay on one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns/domains.h"
#include "netns/firewall.h"
#include "oci/policy.h"

static void check_one_line(const struct bw_error *err)
{
	if (strchr(err->msg, '\n') != NULL || err->msg[0] == '\0') {
		fprintf(stderr, "bad error message: [%s]\n", err->msg);
		abort();
	}
}

static const struct sandbox_policy *fixed_policy(void)
{
	static struct sandbox_policy p;
	static bool done;
	static const char doc[] = "{\"domains\":{\"default\":\"deny\",\"rules\":["
				  "{\"action\":\"deny\",\"name\":\"bad.example.com\"},"
				  "{\"action\":\"allow\",\"name\":\"*.example.com\"},"
				  "{\"action\":\"allow\",\"name\":\"example.org\"}]}}";
	struct bw_error err = {0};
	if (!done && policy_parse(doc, strlen(doc), "policy.json", &p, &err) < 0)
		abort();
	done = true;
	return &p;
}

static void fuzz_policy(const char *data, size_t size)
{
	struct bw_error err = {0};
	struct sandbox_policy p;
	if (policy_parse(data, size, "policy.json", &p, &err) < 0) {
		check_one_line(&err);
		return;
	}
	free(fw_render(&p, NULL));
	struct dom_policy dp;
	dom_policy_init(&dp, &p);
	(void)dom_policy_verdict(&dp, "www.example.com", NULL);
	dom_policy_free(&dp);
	policy_free(&p);
}

/* "KEY\0VALUE" */
static void fuzz_annotation(const char *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	if (nul == NULL)
		return;
	struct oci_kv kv = {.key = strndup(data, (size_t)(nul - data)),
			    .value = strndup(nul + 1, size - (size_t)(nul - data) - 1)};
	struct sandbox_policy p;
	struct bw_error err = {0};
	policy_init_default(&p);
	p.allow_override = size % 2;
	if (policy_apply_annotations(&p, &kv, 1, &err) < 0)
		check_one_line(&err);
	else
		free(fw_render(&p, NULL));
	policy_free(&p);
	free(kv.key);
	free(kv.value);
}

static void fuzz_name(const char *data, size_t size)
{
	char *name = strndup(data, size);
	struct dom_policy dp;
	dom_policy_init(&dp, fixed_policy());
	(void)dom_policy_verdict(&dp, name, NULL);
	dom_policy_free(&dp);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *d = (const char *)data + 1;
	switch (data[0] % 3) {
	case 0:
		fuzz_policy(d, size - 1);
		break;
	case 1:
		fuzz_annotation(d, size - 1);
		break;
	default:
		fuzz_name(d, size - 1);
	}
	return 0;
}
