/* `bulwark delete [--force] ID`: tear down a stopped (or, forced, any) container. */
#include "runtime/cli.h"
#include "runtime/lifecycle.h"

#include <errno.h>

#include "common/util.h"

VERB(delete)
{
	bool force = false;
	int consumed = 0;
	struct cli_opt opts[] = {
		{"force", 'f', CLI_BOOL, &force, NULL, "kill a running container first"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark delete [command options] <container-id>",
			       "Delete a container: its processes, cgroup and state.", opts,
			       ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "delete: expected exactly one container id");
	struct container *c;
	r = container_load(cli_state_root(g), argv[consumed], &c, err);
	if (r == -ENOENT && force) {
		bw_error_clear(err);
		return container_remove_leftover(cli_state_root(g), argv[consumed], err);
	}
	if (r < 0)
		return -1;
	enum oci_status st = container_status(c);
	if (!force && (st == OCI_STATUS_RUNNING || st == OCI_STATUS_PAUSED))
		r = bw_fail(err, 0, "cannot delete container %s that is not stopped: %s", c->id,
			    oci_status_name(st));
	else
		r = lifecycle_teardown(c, err);
	container_free(c);
	return r < 0 ? -1 : 0;
}
