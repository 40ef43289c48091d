/* `bulwark pause` / `bulwark resume`: freeze and thaw the container's cgroup. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include "cgroups/cgroup.h"
#include "common/util.h"

static int freeze_verb(const struct global_opts *g, int argc, char **argv, bool freeze,
		       struct bw_error *err)
{
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, NULL, 0, &consumed, err);
	if (r == 1) {
		cli_print_help(
		    freeze ? "bulwark pause <container-id>" : "bulwark resume <container-id>",
		    freeze ? "Freeze every process of the container." : "Thaw a paused container.",
		    NULL, 0);
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "expected exactly one container id");
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	enum oci_status st = container_status(c);
	struct cg_manager *cg = NULL;
	if (freeze && st != OCI_STATUS_RUNNING && st != OCI_STATUS_CREATED)
		r = bw_fail(err, 0, "container not running");
	else if (!freeze && st != OCI_STATUS_PAUSED)
		r = bw_fail(err, 0, "container not paused");
	else if (c->state.cgroup_path == NULL)
		r = bw_fail(err, 0,
			    "the container has no cgroup (created without root): nothing can "
			    "freeze it");
	else if (cg_open(c->state.cgroup_path, c->id, &cg, err) < 0)
		r = -1;
	else
		r = freeze ? cg_freeze(cg, err) : cg_thaw(cg, err);
	if (r == 0) {
		c->state.status = freeze ? OCI_STATUS_PAUSED : OCI_STATUS_RUNNING;
		r = container_save(c, err);
	}
	cg_free(cg);
	container_free(c);
	return r < 0 ? -1 : 0;
}

VERB(pause)
{
	return freeze_verb(g, argc, argv, true, err);
}

VERB(resume)
{
	return freeze_verb(g, argc, argv, false, err);
}
