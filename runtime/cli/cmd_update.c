/* `bulwark update`: new resource limits for a running container, from a LinuxResources JSON
 * (--resources FILE or - for stdin) and/or runc's individual flags. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

struct update_flags {
	char *resources, *memory, *memory_reservation, *memory_swap, *kernel_memory,
	    *kernel_memory_tcp, *cpuset_cpus, *cpuset_mems, *cpu_period, *cpu_quota, *cpu_share,
	    *cpu_rt_period, *cpu_rt_runtime, *pids_limit, *blkio_weight, *l3_cache_schema,
	    *mem_bw_schema;
};

static int set_i64(const char *flag, const char *v, struct opt_i64 *o, bool bytes,
		   struct bw_error *err)
{
	int64_t x;
	if (v == NULL)
		return 0;
	if ((bytes ? parse_size(v, &x) : parse_i64(v, &x)) < 0)
		return bw_fail(err, 0, "--%s: invalid value \"%s\"", flag, v);
	o->set = true;
	o->v = x;
	return 0;
}

static int set_u64(const char *flag, const char *v, struct opt_u64 *o, struct bw_error *err)
{
	uint64_t x;
	if (v == NULL)
		return 0;
	if (parse_u64(v, &x) < 0)
		return bw_fail(err, 0, "--%s: invalid value \"%s\"", flag, v);
	o->set = true;
	o->v = x;
	return 0;
}

static int apply_flags(const struct update_flags *f, struct oci_resources *r, struct bw_error *err)
{
	if (set_i64("memory", f->memory, &r->memory.limit, true, err) < 0 ||
	    set_i64("memory-reservation", f->memory_reservation, &r->memory.reservation, true,
		    err) < 0 ||
	    set_i64("memory-swap", f->memory_swap, &r->memory.swap, true, err) < 0 ||
	    set_i64("kernel-memory", f->kernel_memory, &r->memory.kernel, true, err) < 0 ||
	    set_i64("kernel-memory-tcp", f->kernel_memory_tcp, &r->memory.kernel_tcp, true, err) <
		0 ||
	    set_u64("cpu-period", f->cpu_period, &r->cpu.period, err) < 0 ||
	    set_i64("cpu-quota", f->cpu_quota, &r->cpu.quota, false, err) < 0 ||
	    set_u64("cpu-share", f->cpu_share, &r->cpu.shares, err) < 0 ||
	    set_u64("cpu-rt-period", f->cpu_rt_period, &r->cpu.realtime_period, err) < 0 ||
	    set_i64("cpu-rt-runtime", f->cpu_rt_runtime, &r->cpu.realtime_runtime, false, err) <
		0 ||
	    set_i64("pids-limit", f->pids_limit, &r->pids_limit, false, err) < 0 ||
	    set_u64("blkio-weight", f->blkio_weight, &r->block_io.weight, err) < 0)
		return -1;
	if (r->pids_limit.set && r->pids_limit.v < -1)
		return bw_fail(err, 0, "--pids-limit: must be > 0, or -1 or 0 for unlimited");
	if (f->cpuset_cpus) {
		free(r->cpu.cpus);
		r->cpu.cpus = xstrdup(f->cpuset_cpus);
	}
	if (f->cpuset_mems) {
		free(r->cpu.mems);
		r->cpu.mems = xstrdup(f->cpuset_mems);
	}
	return 0;
}

static int load_resources(const char *file, struct oci_resources *r, struct bw_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	if (strcmp(file, "-") == 0) {
		if (fs_read_fd(STDIN_FILENO, 1 << 20, &json, &len, err) < 0)
			return bw_wrap(err, "--resources: stdin");
	} else if (fs_read_file(file, 1 << 20, &json, &len, err) < 0) {
		return bw_wrap(err, "--resources");
	}
	return oci_resources_parse(json, len, "resources", r, err);
}

static void update_flags_free(struct update_flags *f)
{
	char **all[] = {&f->resources,	     &f->memory,	&f->memory_reservation,
			&f->memory_swap,     &f->kernel_memory, &f->kernel_memory_tcp,
			&f->cpuset_cpus,     &f->cpuset_mems,	&f->cpu_period,
			&f->cpu_quota,	     &f->cpu_share,	&f->cpu_rt_period,
			&f->cpu_rt_runtime,  &f->pids_limit,	&f->blkio_weight,
			&f->l3_cache_schema, &f->mem_bw_schema};
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		free(*all[i]);
}

/* The parsed flags checked and applied to the running container id's cgroup. */
static int update_container(const struct global_opts *g, const char *id,
			    const struct update_flags *f, struct bw_error *err)
{
	struct oci_resources res = {0};
	struct container *c = NULL;
	struct cg_manager *cg = NULL;
	int r = -1;
	/* runc's wording for a host without Intel RDT; bulwark manages none. */
	if (f->l3_cache_schema != NULL) {
		bw_fail(err, 0, "Intel RDT/CAT: l3 cache schema is not enabled");
		goto out;
	}
	if (f->mem_bw_schema != NULL) {
		bw_fail(err, 0, "Intel RDT/MBA: memory bandwidth schema is not enabled");
		goto out;
	}
	if (f->resources != NULL && load_resources(f->resources, &res, err) < 0)
		goto out;
	if (apply_flags(f, &res, err) < 0)
		goto out;
	if (container_load(cli_state_root(g), id, &c, err) < 0)
		goto out;
	if (container_status(c) == OCI_STATUS_STOPPED) {
		bw_fail(err, 0, "container not running");
		goto out;
	}
	if (c->state.cgroup_path == NULL) {
		bw_fail(err, 0,
			"the container has no cgroup (created without root): no limit can "
			"be updated");
		goto out;
	}
	if (lifecycle_cgroup_open(c, c->state.cgroup_path, &cg, err) < 0)
		goto out;
	r = cg_update(cg, &res, err);
out:
	cg_free(cg);
	container_free(c);
	oci_resources_free_fields(&res);
	return r;
}

VERB(update)
{
	struct update_flags f = {0};
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"resources", 'r', CLI_STRING, &f.resources, "FILE",
	     "LinuxResources JSON (- for stdin)"},
	    {"memory", 0, CLI_STRING, &f.memory, "BYTES", "memory limit (k, m, g suffixes)"},
	    {"memory-reservation", 0, CLI_STRING, &f.memory_reservation, "BYTES", "soft limit"},
	    {"memory-swap", 0, CLI_STRING, &f.memory_swap, "BYTES", "memory+swap limit"},
	    {"kernel-memory", 0, CLI_STRING, &f.kernel_memory, "BYTES", "ignored (deprecated)"},
	    {"kernel-memory-tcp", 0, CLI_STRING, &f.kernel_memory_tcp, "BYTES", "TCP buffers"},
	    {"cpuset-cpus", 0, CLI_STRING, &f.cpuset_cpus, "LIST", "CPUs allowed"},
	    {"cpuset-mems", 0, CLI_STRING, &f.cpuset_mems, "LIST", "memory nodes allowed"},
	    {"cpu-period", 0, CLI_STRING, &f.cpu_period, "US", "CFS period"},
	    {"cpu-quota", 0, CLI_STRING, &f.cpu_quota, "US", "CFS quota"},
	    {"cpu-share", 0, CLI_STRING, &f.cpu_share, "N", "CPU shares"},
	    {"cpu-rt-period", 0, CLI_STRING, &f.cpu_rt_period, "US", "realtime period"},
	    {"cpu-rt-runtime", 0, CLI_STRING, &f.cpu_rt_runtime, "US", "realtime runtime"},
	    {"pids-limit", 0, CLI_STRING, &f.pids_limit, "N", "maximum number of tasks"},
	    {"blkio-weight", 0, CLI_STRING, &f.blkio_weight, "N", "block IO weight (10-1000)"},
	    {"l3-cache-schema", 0, CLI_STRING, &f.l3_cache_schema, "SCHEMA",
	     "Intel RDT L3 cache schema (not supported)"},
	    {"mem-bw-schema", 0, CLI_STRING, &f.mem_bw_schema, "SCHEMA",
	     "Intel RDT memory bandwidth schema (not supported)"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark update [command options] <container-id>",
			       "Change a container's resource limits. For --resources payloads a 0 "
			       "means \"leave unchanged\".",
			       opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r == 0 && argc - consumed != 1)
		r = bw_fail(err, 0, "update: expected exactly one container id");
	if (r == 0)
		r = update_container(g, argv[consumed], &f, err);
	update_flags_free(&f);
	return r < 0 ? -1 : 0;
}
