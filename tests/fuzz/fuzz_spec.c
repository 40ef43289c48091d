/* libFuzzer target for everything oci/ reads from outside: config.json, process.json,
 * update --resources documents and state.json. Besides the sanitizers it checks that errors
 * stay on one line and that a state document re-renders to itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec.h"
#include "oci/state.h"

static void check_one_line(const struct bw_error *err)
{
	if (strchr(err->msg, '\n') != NULL || err->msg[0] == '\0') {
		fprintf(stderr, "bad error message: [%s]\n", err->msg);
		abort();
	}
}

static void fuzz_spec(const char *data, size_t size)
{
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	if (oci_spec_parse(data, size, "config.json", &spec, &err) < 0) {
		check_one_line(&err);
		return;
	}
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		(void)oci_spec_namespace(spec, (enum oci_ns_type)t);
	(void)oci_spec_annotation(spec, "run.bulwark.net");
	oci_spec_free(spec);
}

static void fuzz_process(const char *data, size_t size)
{
	struct bw_error err = {0};
	struct oci_process p;
	if (oci_process_parse(data, size, "process.json", &p, &err) < 0)
		check_one_line(&err);
	oci_process_free_fields(&p);
}

static void fuzz_resources(const char *data, size_t size)
{
	struct bw_error err = {0};
	struct oci_resources r;
	if (oci_resources_parse(data, size, "resources", &r, &err) < 0)
		check_one_line(&err);
	oci_resources_free_fields(&r);
}

static char *render(const struct oci_state *st, bool pretty)
{
	struct bw_error err = {0};
	char *out = NULL;
	if (oci_state_to_json(st, false, pretty, &out, NULL, &err) < 0) {
		fprintf(stderr, "cannot render a parsed state: %s\n", err.msg);
		abort();
	}
	return out;
}

/* parse -> render -> parse -> render must reach a fixed point */
static void fuzz_state(const char *data, size_t size)
{
	struct bw_error err = {0};
	struct oci_state st, again;
	if (oci_state_parse(data, size, &st, &err) < 0) {
		check_one_line(&err);
		return;
	}
	char *first = render(&st, true);
	if (oci_state_parse(first, strlen(first), &again, &err) < 0) {
		fprintf(stderr, "cannot re-read our own state: %s\n%s\n", err.msg, first);
		abort();
	}
	char *second = render(&again, true);
	if (strcmp(first, second) != 0) {
		fprintf(stderr, "state does not round-trip:\n%s\n%s\n", first, second);
		abort();
	}
	free(first);
	free(second);
	oci_state_free_fields(&st);
	oci_state_free_fields(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	fuzz_spec(s, size);
	fuzz_process(s, size);
	fuzz_resources(s, size);
	fuzz_state(s, size);
	return 0;
}
