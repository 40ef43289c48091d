/* cg_setup_timer: the cgroup slice of `bulwark create`, alone. Loads a bundle's config.json
 * and times N rounds of cg_open + cg_create (its linux.resources applied) + cg_destroy, the
 * same calls create and delete make. Prints "create_us destroy_us" medians. Used by
 * tests/bench/cgroup-bench.sh; needs root. Usage: cg_setup_timer BUNDLE N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cgroups/cgroup.h"
#include "oci/spec.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int fail(const char *what, const struct bw_error *err)
{
	char buf[1200];
	bw_error_text(err, buf, sizeof(buf));
	fprintf(stderr, "cg_setup_timer: %s: %s\n", what, buf);
	return 1;
}

int main(int argc, char **argv)
{
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	if (argc != 3 || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: cg_setup_timer BUNDLE N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (oci_spec_load(argv[1], &spec, &err) < 0)
		return fail("config.json", &err);
	const struct oci_resources *res = spec->linux.has_resources ? &spec->linux.resources : NULL;
	double *tc = calloc((size_t)n, sizeof(double)), *td = calloc((size_t)n, sizeof(double));
	if (tc == NULL || td == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		struct cg_manager *cg = NULL;
		double t0 = now_us();
		if (cg_open(spec->linux.cgroups_path, "cgbench", &cg, &err) < 0)
			return fail("cg_open", &err);
		if (cg_create(cg, res, &err) < 0)
			return fail("cg_create", &err);
		if (cg_apply_devices(cg, res, &err) < 0)
			return fail("cg_apply_devices", &err);
		double t1 = now_us();
		if (cg_destroy(cg, &err) < 0)
			return fail("cg_destroy", &err);
		cg_free(cg);
		tc[i] = t1 - t0;
		td[i] = now_us() - t1;
	}
	qsort(tc, (size_t)n, sizeof(double), cmp);
	qsort(td, (size_t)n, sizeof(double), cmp);
	printf("%.0f %.0f\n", tc[n / 2], td[n / 2]);
	free(tc);
	free(td);
	oci_spec_free(spec);
	return 0;
}
