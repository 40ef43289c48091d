/* `bulwark delete [--force] ID`: tear down a stopped (or, forced, any) container. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>

#include "common/util.h"

static int delete_one(const struct global_opts *g, const char *id, bool force, struct bw_error *err)
{
	struct container *c;
	int r = container_load(cli_state_root(g), id, &c, err);
	if (r == -ENOENT && force) {
		bw_error_clear(err);
		return container_remove_leftover(cli_state_root(g), id, err);
	}
	if (r == -ESTALE && force) { /* removed while we waited; the id may be another's now */
		bw_error_clear(err);
		return 0;
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

/* crun's `delete --regex RE`: every container whose id RE matches (POSIX extended, anywhere in
 * the id). Each one as `delete ID` would; the first failure is reported, the rest still go. */
static int delete_matching(const struct global_opts *g, const char *re, bool force,
			   struct bw_error *err)
{
	regex_t rx;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return bw_fail(err, 0, "--regex: invalid regular expression");
	struct dirent **names = NULL;
	int n = scandir(cli_state_root(g), &names, NULL, alphasort);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *id = names[i]->d_name;
		struct bw_error e = {0};
		if (id[0] != '.' && container_validate_id(id, &e) == 0 &&
		    regexec(&rx, id, 0, NULL, 0) == 0 && delete_one(g, id, force, &e) < 0 &&
		    r == 0) {
			*err = e;
			r = -1;
		}
		free(names[i]);
	}
	free(names);
	regfree(&rx);
	return r;
}

VERB(delete)
{
	bool force = false, regex = false;
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"force", 'f', CLI_BOOL, &force, NULL, "kill a running container first"},
	    {"regex", 'r', CLI_BOOL, &regex, NULL,
	     "the argument is a regular expression: delete every matching container (crun)"},
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
	if (regex)
		return delete_matching(g, argv[consumed], force, err);
	return delete_one(g, argv[consumed], force, err);
}
