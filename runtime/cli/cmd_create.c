/* `bulwark create`: set the container up and leave its init blocked on exec.fifo. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

void create_flag_table(struct create_flags *f, struct cli_opt opts[CREATE_FLAG_COUNT])
{
	const struct cli_opt t[CREATE_FLAG_COUNT] = {
	    {"bundle", 'b', CLI_STRING, &f->bundle, "DIR", "bundle directory (default: cwd)"},
	    {"pid-file", 0, CLI_STRING, &f->pid_file, "FILE", "write the init's pid to FILE"},
	    {"console-socket", 0, CLI_STRING, &f->console, "PATH",
	     "unix socket that receives the pty master"},
	    {"no-pivot", 0, CLI_BOOL, &f->no_pivot, NULL,
	     "use MS_MOVE + chroot instead of pivot_root"},
	    {"no-new-keyring", 0, CLI_BOOL, &f->no_new_keyring, NULL,
	     "keep the caller's session keyring"},
	    {"preserve-fds", 0, CLI_INT, &f->preserve, "N",
	     "pass N fds after stdio to the container"},
	    {"config", 'f', CLI_STRING, &f->config, "FILE",
	     "read the config from FILE (relative: to the bundle) instead of config.json"},
	};
	memcpy(opts, t, sizeof(t));
}

struct create_opts create_opts_from_flags(const struct create_flags *f, const char *id,
					  struct stdio_guard *stdio)
{
	return (struct create_opts){.id = id,
				    .bundle = f->bundle,
				    .config = f->config,
				    .pid_file = f->pid_file,
				    .console_socket = f->console,
				    .no_pivot = f->no_pivot,
				    .no_new_keyring = f->no_new_keyring,
				    .preserve_fds = f->preserve,
				    .stdio = stdio};
}

void create_flags_free(struct create_flags *f)
{
	free(f->bundle);
	free(f->pid_file);
	free(f->console);
	free(f->config);
}

VERB(create)
{
	struct create_flags f = {0};
	struct cli_opt opts[CREATE_FLAG_COUNT];
	int consumed = 0;
	create_flag_table(&f, opts);
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark create [command options] <container-id>",
			       "Create a container from the bundle's config.json; `start` runs it.",
			       opts, ARRAY_SIZE(opts));
		create_flags_free(&f);
		return 0;
	}
	if (r == 0 && argc - consumed != 1)
		r = bw_fail(err, 0, "create: expected exactly one container id");
	if (r == 0 && f.preserve < 0)
		r = bw_fail(err, 0, "--preserve-fds: must be >= 0");
	if (r < 0) {
		create_flags_free(&f);
		return -1;
	}
	/* Nobody will relay for the container: a terminal of ours becomes /dev/null there. */
	struct stdio_guard sg = STDIO_GUARD_INIT;
	struct create_opts o = create_opts_from_flags(&f, argv[consumed], &sg);
	struct created cr;
	r = lifecycle_create(g, &o, &cr, err);
	stdio_guard_close(&sg);
	if (r == 0) {
		close(cr.pidfd);
		container_free(cr.c);
	}
	create_flags_free(&f);
	return r < 0 ? bw_wrap(err, "create failed") : 0;
}
