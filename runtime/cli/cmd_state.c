/* `bulwark state`: the runc-shaped state JSON with the live status. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <stdio.h>
#include <stdlib.h>

VERB(state)
{
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, NULL, 0, &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark state <container-id>",
			       "Print the state of a container as JSON.", NULL, 0);
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "state: expected exactly one container id");
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	c->state.status = container_status(c);
	if (c->state.status == OCI_STATUS_STOPPED)
		c->state.pid = 0;
	char *json = NULL;
	size_t len;
	r = oci_state_to_json(&c->state, true, true, &json, &len, err);
	if (r == 0)
		printf("%s\n", json);
	free(json);
	container_free(c);
	return r < 0 ? -1 : 0;
}
