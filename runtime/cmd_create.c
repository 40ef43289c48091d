/* `bulwark create`: set the container up and leave its init blocked on exec.fifo. */
#include "runtime/cli.h"
#include "runtime/lifecycle.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"

VERB(create)
{
	char *bundle = NULL, *pid_file = NULL, *console = NULL;
	bool no_pivot = false, no_new_keyring = false;
	int preserve = 0, consumed = 0;
	struct cli_opt opts[] = {
		{"bundle", 'b', CLI_STRING, &bundle, "DIR", "bundle directory (default: cwd)"},
		{"pid-file", 0, CLI_STRING, &pid_file, "FILE", "write the init's pid to FILE"},
		{"console-socket", 0, CLI_STRING, &console, "PATH",
		 "unix socket that receives the pty master"},
		{"no-pivot", 0, CLI_BOOL, &no_pivot, NULL, "use MS_MOVE + chroot instead of pivot_root"},
		{"no-new-keyring", 0, CLI_BOOL, &no_new_keyring, NULL, "keep the caller's session keyring"},
		{"preserve-fds", 0, CLI_INT, &preserve, "N", "pass N fds after stdio to the container"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark create [options] ID",
			       "Create a container from the bundle's config.json; `start` runs it.",
			       opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	if (argc - consumed != 1)
		return bw_fail(err, 0, "create: expected exactly one container id");
	if (preserve < 0)
		return bw_fail(err, 0, "--preserve-fds: must be >= 0");
	struct create_opts o = {.id = argv[consumed], .bundle = bundle, .pid_file = pid_file,
				.console_socket = console, .no_pivot = no_pivot,
				.no_new_keyring = no_new_keyring, .preserve_fds = preserve};
	struct created cr;
	r = lifecycle_create(g, &o, &cr, err);
	if (r == 0) {
		close(cr.pidfd);
		container_free(cr.c);
	}
	free(bundle);
	free(pid_file);
	free(console);
	return r < 0 ? bw_wrap(err, "create failed") : 0;
}
