/* `bulwark checkpoint` and `bulwark restore`: runc 1.1's flags, parsed here; the work is in
 * checkpoint.c. */
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/cli/cli.h"

#include "common/util.h"

/* The CRIU flags both verbs take, as runc lists them. */
#define CRIU_FLAG_COUNT 10
static void criu_flag_table(struct checkpoint_opts *o, struct cli_opt t[CRIU_FLAG_COUNT])
{
	const struct cli_opt f[CRIU_FLAG_COUNT] = {
	    {"image-path", 0, CLI_STRING, &o->image_path, "DIR",
	     "path for saving criu image files (default: ./checkpoint)"},
	    {"work-path", 0, CLI_STRING, &o->work_path, "DIR",
	     "path for saving work files and logs (default: the image path)"},
	    {"tcp-established", 0, CLI_BOOL, &o->tcp_established, NULL,
	     "allow open tcp connections"},
	    {"ext-unix-sk", 0, CLI_BOOL, &o->ext_unix_sk, NULL, "allow external unix sockets"},
	    {"shell-job", 0, CLI_BOOL, &o->shell_job, NULL, "allow shell jobs"},
	    {"file-locks", 0, CLI_BOOL, &o->file_locks, NULL, "handle file locks"},
	    {"manage-cgroups-mode", 0, CLI_STRING, &o->manage_cgroups_mode, "MODE",
	     "cgroups mode: soft (default), full, strict or ignore"},
	    {"empty-ns", 0, CLI_STRING, &o->empty_ns, "NS",
	     "create a namespace, but do not restore its properties (only network)"},
	    {"auto-dedup", 0, CLI_BOOL, &o->auto_dedup, NULL,
	     "enable auto deduplication of memory images"},
	    {"lazy-pages", 0, CLI_BOOL, &o->lazy_pages, NULL,
	     "use userfaultfd to lazily restore memory pages (refused: not supported)"},
	};
	for (size_t i = 0; i < CRIU_FLAG_COUNT; i++)
		t[i] = f[i];
}

static int one_id(int argc, int consumed, struct bw_error *err)
{
	if (argc - consumed != 1)
		return bw_fail(err, 0, "expected exactly one container id");
	return 0;
}

VERB(checkpoint)
{
	struct checkpoint_opts o = {0};
	struct cli_opt opts[CRIU_FLAG_COUNT + 3] = {
	    {"parent-path", 0, CLI_STRING, &o.parent_path, "DIR",
	     "path for previous criu image files in pre-dump (relative to the image path)"},
	    {"leave-running", 0, CLI_BOOL, &o.leave_running, NULL,
	     "leave the process running after checkpointing"},
	    {"pre-dump", 0, CLI_BOOL, &o.pre_dump, NULL,
	     "dump the container's memory information only, leave the container running after "
	     "this"},
	};
	criu_flag_table(&o, opts + 3);
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark checkpoint [command options] <container-id>",
		    "Checkpoint a running container with CRIU (docs/checkpoint.md). The "
		    "container is released afterwards unless --leave-running or --pre-dump.",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0 || one_id(argc, consumed, err) < 0)
		return -1;
	return checkpoint_container(g, argv[consumed], &o, err);
}

VERB(restore)
{
	struct restore_opts o = {0};
	struct cli_opt opts[CRIU_FLAG_COUNT + 6] = {
	    {"bundle", 'b', CLI_STRING, &o.bundle, "DIR",
	     "path to the root of the bundle directory (default: the current directory)"},
	    {"detach", 'd', CLI_BOOL, &o.detach, NULL, "detach from the container's process"},
	    {"pid-file", 0, CLI_STRING, &o.pid_file, "FILE",
	     "specify the file to write the process id to"},
	    {"console-socket", 0, CLI_STRING, &o.console_socket, "PATH",
	     "a unix socket for the pseudoterminal master (refused: terminals are not restored)"},
	    {"no-subreaper", 0, CLI_BOOL, &o.no_subreaper, NULL,
	     "disable the use of the subreaper used to reap reparented processes"},
	    {"no-pivot", 0, CLI_BOOL, &o.no_pivot, NULL,
	     "accepted for runc compatibility (CRIU sets up the root itself)"},
	};
	criu_flag_table(&o.ck, opts + 6);
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark restore [command options] <container-id>",
		    "Restore a container from a CRIU image with the bundle's config.json "
		    "(docs/checkpoint.md).",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0 || one_id(argc, consumed, err) < 0)
		return -1;
	return restore_container(g, argv[consumed], &o, err);
}
