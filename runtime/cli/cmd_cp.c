/* `bulwark cp SRC ID:DST` / `bulwark cp ID:SRC DST`: files and directory trees in and out of
 * a running container, in docker cp's shape (container_cp.h does the work). */
#include "runtime/cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/container.h"
#include "runtime/cp/container_cp.h"
#include "runtime/cp/cp_stream.h"

#define CP_FAILED_STATUS 125
#define CP_MAX_TIMEOUT_MS ((int64_t)30 * 86400 * 1000)

static int cp_run(const struct global_opts *g, const char *src, const char *dst,
		  const struct cp_limits *lim, struct bw_error *err)
{
	char *sid = NULL, *did = NULL;
	const char *sp = NULL, *dp = NULL;
	bool from = cp_split_ref(src, &sid, &sp), to = cp_split_ref(dst, &did, &dp);
	int r;
	if (from == to)
		r = bw_fail(err, 0,
			    from ? "copying between containers is not supported"
				 : "one of SRC and DST must be ID:PATH (a path in a container)");
	else if (from)
		r = container_cp_out(g, sid, sp, dst, lim, err);
	else
		r = container_cp_in(g, did, src, dp, lim, err);
	free(sid);
	free(did);
	return r;
}

VERB(cp)
{
	char *max_s = NULL, *timeout_s = NULL;
	int consumed = 0;
	struct cp_limits lim = {.max_bytes = 0, .timeout_ms = CP_DEFAULT_TIMEOUT_MS};
	struct cli_opt opts[] = {
	    {"max-bytes", 0, CLI_STRING, &max_s, "SIZE",
	     "stop (and undo) a copy of more file data than SIZE (k, m, g suffixes)"},
	    {"timeout", 0, CLI_STRING, &timeout_s, "DUR",
	     "stop (and undo) a copy still running after DUR (30s, 5m, 2h; default 1h)"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark cp [--max-bytes SIZE] [--timeout DUR] SRC ID:DST | ID:SRC DST",
		    "Copy a file or directory tree into or out of a running container. "
		    "Paths in the container are resolved inside its root; symlinks "
		    "inside the tree are copied as symlinks, never followed; "
		    "devices, fifos and sockets are skipped.",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r == 0 && argc - consumed != 2)
		r = bw_fail(err, 0, "expected SRC and DST");
	if (r == 0 && max_s != NULL) {
		int64_t v;
		if (parse_size(max_s, &v) < 0 || v <= 0)
			r = bw_fail(err, 0, "--max-bytes: expected a size > 0, got \"%s\"", max_s);
		else
			lim.max_bytes = (uint64_t)v;
	}
	if (r == 0 && timeout_s != NULL &&
	    (parse_duration_ms(timeout_s, &lim.timeout_ms) < 0 || lim.timeout_ms <= 0 ||
	     lim.timeout_ms > CP_MAX_TIMEOUT_MS))
		r = bw_fail(err, 0,
			    "--timeout: expected a duration > 0 and at most 30 days, got \"%s\"",
			    timeout_s);
	if (r == 0)
		r = cp_run(g, argv[consumed], argv[consumed + 1], &lim, err);
	free(max_s);
	free(timeout_s);
	if (r < 0)
		err->exit_status = CP_FAILED_STATUS;
	return r < 0 ? bw_wrap(err, "cp") : 0;
}
