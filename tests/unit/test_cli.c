/* Argument handling: runc's flag forms, signals, container ids, the state root default. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>

#include "common/util.h"
#include "runtime/cli.h"
#include "runtime/container.h"

static struct bw_error err;

struct flags {
	char *bundle;
	bool detach;
	int n;
	char **env;
};

static int parse(struct flags *f, int argc, char **argv, int *consumed)
{
	struct cli_opt opts[] = {
		{"bundle", 'b', CLI_STRING, &f->bundle, "DIR", ""},
		{"detach", 'd', CLI_BOOL, &f->detach, NULL, ""},
		{"preserve-fds", 0, CLI_INT, &f->n, "N", ""},
		{"env", 'e', CLI_STRV, &f->env, "K=V", ""},
	};
	bw_error_clear(&err);
	return cli_parse(argc, argv, opts, ARRAY_SIZE(opts), consumed, &err);
}

Test(cli, accepts_space_equals_single_dash_and_short_forms)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"--bundle", "/b", "-d", "--preserve-fds=3", "-e", "A=1", "-env", "B=2",
			"id", "--not-a-flag"};
	cr_assert_eq(parse(&f, 10, argv, &consumed), 0);
	cr_assert_str_eq(f.bundle, "/b");
	cr_assert(f.detach);
	cr_assert_eq(f.n, 3);
	cr_assert_eq(strv_len(f.env), 2);
	cr_assert_str_eq(f.env[1], "B=2");
	cr_assert_eq(consumed, 8, "parsing stops at the first positional argument");
	free(f.bundle);
	strv_free(f.env);
}

Test(cli, bundle_equals_form_and_double_dash_terminator)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"--bundle=/x", "--", "-d"};
	cr_assert_eq(parse(&f, 3, argv, &consumed), 0);
	cr_assert_str_eq(f.bundle, "/x");
	cr_assert_not(f.detach);
	cr_assert_eq(consumed, 2);
	free(f.bundle);
}

Test(cli, unknown_flag_is_an_error_naming_it)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"--bogus", "x"};
	cr_assert_lt(parse(&f, 2, argv, &consumed), 0);
	cr_assert_str_eq(err.msg, "unknown flag: --bogus");
}

Test(cli, missing_value_and_bad_int)
{
	struct flags f = {0};
	int consumed;
	char *a1[] = {"--bundle"};
	cr_assert_lt(parse(&f, 1, a1, &consumed), 0);
	cr_assert_str_eq(err.msg, "flag needs an argument: --bundle");
	char *a2[] = {"--preserve-fds", "many"};
	cr_assert_lt(parse(&f, 2, a2, &consumed), 0);
	cr_assert_str_eq(err.msg, "--preserve-fds: not an integer: \"many\"");
}

Test(cli, help_is_reported)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"--help"};
	cr_assert_eq(parse(&f, 1, argv, &consumed), 1);
	char *argv2[] = {"-h"};
	cr_assert_eq(parse(&f, 1, argv2, &consumed), 1);
}

Test(cli, signals_by_number_and_name)
{
	int sig;
	cr_assert_eq(cli_parse_signal("9", &sig, &err), 0);
	cr_assert_eq(sig, SIGKILL);
	cr_assert_eq(cli_parse_signal("SIGUSR1", &sig, &err), 0);
	cr_assert_eq(sig, SIGUSR1);
	cr_assert_eq(cli_parse_signal("term", &sig, &err), 0);
	cr_assert_eq(sig, SIGTERM);
	cr_assert_eq(cli_parse_signal("RTMIN+2", &sig, &err), 0);
	cr_assert_eq(sig, SIGRTMIN + 2);
	cr_assert_lt(cli_parse_signal("0", &sig, &err), 0);
	cr_assert_lt(cli_parse_signal("99", &sig, &err), 0);
	cr_assert_lt(cli_parse_signal("SIGBOGUS", &sig, &err), 0);
	cr_assert_str_eq(err.msg, "invalid signal: SIGBOGUS");
}

Test(cli, container_ids)
{
	cr_assert_eq(container_validate_id("abc-1.2_x+y", &err), 0);
	cr_assert_lt(container_validate_id("", &err), 0);
	cr_assert_lt(container_validate_id("..", &err), 0);
	cr_assert_lt(container_validate_id("a/b", &err), 0);
	cr_assert_lt(container_validate_id("a b", &err), 0);
	cr_assert_lt(container_validate_id("../../etc", &err), 0);
}

Test(cli, state_root_default_and_override)
{
	struct global_opts g = {0};
	if (geteuid() == 0)
		cr_assert_str_eq(cli_state_root(&g), "/run/bulwark");
	g.root = "/tmp/r";
	cr_assert_str_eq(cli_state_root(&g), "/tmp/r");
}

/* The id is a directory name: over NAME_MAX it failed late with "File name too long". */
Test(cli, container_id_length_is_bounded_and_named)
{
	char id[300];
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	cr_assert_lt(container_validate_id(id, &err), 0);
	cr_assert(strstr(err.msg, "(299 bytes): must be at most 255 bytes") != NULL, "%s", err.msg);
	cr_assert(strncmp(err.msg, "invalid container id \"aaaa", 26) == 0, "%s", err.msg);
	id[255] = '\0';
	cr_assert_eq(container_validate_id(id, &err), 0);
}

Test(cli, container_id_with_controls_is_quoted_escaped)
{
	cr_assert_lt(container_validate_id("a\x1b[31mb\n", &err), 0);
	cr_assert_str_eq(err.msg, "invalid container id \"a\\x1b[31mb\\x0a\": only letters, "
				  "digits and _ - . + are allowed");
}
