/* `bulwark start`: release a created container's init. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include "common/util.h"

VERB(start)
{
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, NULL, 0, &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark start <container-id>", "Start a created container.", NULL,
			       0);
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "start: expected exactly one container id");
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	switch (container_status(c)) {
	case OCI_STATUS_CREATED:
		r = lifecycle_start(c, NULL, err);
		break;
	case OCI_STATUS_STOPPED:
		r = bw_fail(err, 0, "cannot start a container that has stopped");
		break;
	case OCI_STATUS_CREATING:
		r = bw_fail(err, 0, "cannot start a container that is still being created");
		break;
	default:
		r = bw_fail(err, 0, "cannot start an already running container");
	}
	container_free(c);
	return r < 0 ? -1 : 0;
}
