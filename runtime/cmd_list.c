/* `bulwark list`: every container under the state root, as a table or JSON. */
#include "runtime/cli.h"
#include "runtime/lifecycle.h"
#include "runtime/watchdog.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void print_entry(struct container *c, const char *format, bool quiet, bool *first)
{
	enum oci_status st = container_status(c);
	c->state.status = st;
	if (st == OCI_STATUS_STOPPED)
		c->state.pid = 0;
	if (quiet) {
		printf("%s\n", c->id);
	} else if (strcmp(format, "json") == 0) {
		char *json = NULL;
		size_t len;
		if (oci_state_to_json(&c->state, true, false, &json, &len, NULL) == 0)
			printf("%s%s", *first ? "" : ",", json);
		free(json);
	} else {
		printf("%-20s %-8d %-10s %-40s %-32s %s\n", c->id, (int)c->state.pid,
		       oci_status_name(st), c->state.bundle ? c->state.bundle : "",
		       c->state.created ? c->state.created : "", c->state.owner ? c->state.owner : "");
	}
	*first = false;
}

VERB(list)
{
	char *format = NULL;
	bool quiet = false;
	int consumed = 0;
	struct cli_opt opts[] = {
		{"format", 'f', CLI_STRING, &format, "FMT", "table or json"},
		{"quiet", 'q', CLI_BOOL, &quiet, NULL, "print only the ids"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark list [options]", "List containers.", opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	const char *fmt = format ? format : "table";
	if (strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0) {
		free(format);
		return bw_fail(err, 0, "--format: must be table or json");
	}
	bool first = true, json = strcmp(fmt, "json") == 0;
	if (json && !quiet)
		printf("[");
	else if (!quiet)
		printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
		       "OWNER");
	DIR *d = opendir(cli_state_root(g));
	for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		struct container *c;
		struct bw_error e2 = {0};
		if (container_load(cli_state_root(g), de->d_name, &c, &e2) < 0)
			continue;
		/* Sandboxes whose owner and watchdog both died are released here. */
		if (watchdog_sweep(c) == 1) {
			container_free(c);
			continue;
		}
		print_entry(c, fmt, quiet, &first);
		container_free(c);
	}
	if (d != NULL)
		closedir(d);
	if (json && !quiet)
		printf("]\n");
	free(format);
	return 0;
}
