/* Argument handling: runc's flag forms, signals, container ids, the state root default. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>

#include "common/util.h"
#include "cgroups/cgroup.h"
#include "runtime/cli/cli.h"
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
	char *argv[] = {"--bundle", "/b",  "-d", "--preserve-fds=3", "-e", "A=1",
			"-env",	    "B=2", "id", "--not-a-flag"};
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
	cr_assert_eq(cli_parse_signal("0", &sig, &err), 0, "0 is kill(2)'s existence probe");
	cr_assert_eq(sig, 0);
	cr_assert_eq(cli_parse_signal("kill", &sig, &err), 0);
	cr_assert_eq(sig, SIGKILL);
	cr_assert_eq(cli_parse_signal("sigusr2", &sig, &err), 0);
	cr_assert_eq(sig, SIGUSR2);
	cr_assert_eq(cli_parse_signal("SIGHUP", &sig, &err), 0);
	cr_assert_eq(sig, SIGHUP);
	cr_assert_lt(cli_parse_signal("-1", &sig, &err), 0);
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

/* runc's urfave/cli moves flags in front of the arguments: `update ID --memory 1M`. */
Test(cli, any_order_takes_flags_after_the_arguments)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"id", "--bundle", "/b", "-d", "--env=A=1"};
	struct cli_opt opts[] = {
	    {"bundle", 'b', CLI_STRING, &f.bundle, "DIR", ""},
	    {"detach", 'd', CLI_BOOL, &f.detach, NULL, ""},
	    {"env", 'e', CLI_STRV, &f.env, "K=V", ""},
	};
	cr_assert_eq(cli_parse_any_order(5, argv, opts, ARRAY_SIZE(opts), &consumed, &err), 0);
	cr_assert_str_eq(f.bundle, "/b");
	cr_assert(f.detach);
	cr_assert_str_eq(f.env[0], "A=1");
	cr_assert_eq(consumed, 4);
	cr_assert_str_eq(argv[consumed], "id");
	free(f.bundle);
	strv_free(f.env);
}

Test(cli, any_order_keeps_argument_order_and_negative_values)
{
	char *mem = NULL;
	bool all = false;
	int consumed;
	struct cli_opt opts[] = {
	    {"memory", 0, CLI_STRING, &mem, "BYTES", ""},
	    {"all", 'a', CLI_BOOL, &all, NULL, ""},
	};
	char *argv[] = {"-a", "ct", "--memory", "-1", "0"};
	cr_assert_eq(cli_parse_any_order(5, argv, opts, ARRAY_SIZE(opts), &consumed, &err), 0);
	cr_assert(all);
	cr_assert_str_eq(mem, "-1", "a value that looks like a flag still belongs to --memory");
	cr_assert_eq(consumed, 3);
	cr_assert_str_eq(argv[3], "ct");
	cr_assert_str_eq(argv[4], "0");
	free(mem);
}

Test(cli, any_order_double_dash_ends_the_flags)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"id", "--", "-d", "x"};
	struct cli_opt opts[] = {{"detach", 'd', CLI_BOOL, &f.detach, NULL, ""}};
	cr_assert_eq(cli_parse_any_order(4, argv, opts, 1, &consumed, &err), 0);
	cr_assert_not(f.detach);
	cr_assert_eq(consumed, 1);
	cr_assert_str_eq(argv[1], "id");
	cr_assert_str_eq(argv[2], "-d");
	cr_assert_str_eq(argv[3], "x");
}

Test(cli, any_order_unknown_flag_after_the_id_is_an_error)
{
	struct flags f = {0};
	int consumed;
	char *argv[] = {"id", "--bogus"};
	struct cli_opt opts[] = {{"detach", 'd', CLI_BOOL, &f.detach, NULL, ""}};
	cr_assert_lt(cli_parse_any_order(2, argv, opts, 1, &consumed, &err), 0);
	cr_assert_str_eq(err.msg, "unknown flag: --bogus");
}

Test(cli, go_durations)
{
	int64_t ns;
	cr_assert_eq(cli_parse_go_duration("100ms", &ns), 0);
	cr_assert_eq(ns, 100000000);
	cr_assert_eq(cli_parse_go_duration("1s", &ns), 0);
	cr_assert_eq(ns, 1000000000);
	cr_assert_eq(cli_parse_go_duration("1.5s", &ns), 0);
	cr_assert_eq(ns, 1500000000);
	cr_assert_eq(cli_parse_go_duration("1m30s", &ns), 0);
	cr_assert_eq(ns, 90000000000LL);
	cr_assert_eq(cli_parse_go_duration("2h45m", &ns), 0);
	cr_assert_eq(ns, (2 * 3600 + 45 * 60) * 1000000000LL);
	cr_assert_eq(cli_parse_go_duration("250us", &ns), 0);
	cr_assert_eq(ns, 250000);
	cr_assert_eq(cli_parse_go_duration("3\xc2\xb5s", &ns), 0);
	cr_assert_eq(ns, 3000);
	cr_assert_eq(cli_parse_go_duration(".5s", &ns), 0);
	cr_assert_eq(ns, 500000000);
	cr_assert_eq(cli_parse_go_duration("0", &ns), 0);
	cr_assert_eq(ns, 0);
	cr_assert_eq(cli_parse_go_duration("-1s", &ns), 0);
	cr_assert_eq(ns, -1000000000);
	cr_assert_lt(cli_parse_go_duration("5", &ns), 0, "a unit is required");
	cr_assert_lt(cli_parse_go_duration("", &ns), 0);
	cr_assert_lt(cli_parse_go_duration("s", &ns), 0);
	cr_assert_lt(cli_parse_go_duration("1x", &ns), 0);
	cr_assert_lt(cli_parse_go_duration("1s ", &ns), 0);
	cr_assert_lt(cli_parse_go_duration("9999999999h", &ns), 0, "overflow");
}

Test(cli, help_uses_runc_layout)
{
	cli_set_prog("/usr/local/bin/runc");
	cr_assert_str_eq(cli_prog(), "runc");
	cli_set_prog("/x/evil\x1b[2J");
	cr_assert_str_eq(cli_prog(), "bulwark", "an odd argv[0] is not echoed");
	cli_set_prog("bulwark");
}

/* exec --cgroup PATH stays below the container's cgroup: no "." or ".." step, no controls. */
Test(cli, exec_sub_cgroup_path_check)
{
	cr_assert_eq(cg_sub_path_check("sub", &err), 0);
	cr_assert_eq(cg_sub_path_check("/", &err), 0);
	cr_assert_eq(cg_sub_path_check("/a/b/", &err), 0);
	cr_assert_eq(cg_sub_path_check("a..b/.c", &err), 0);
	cr_assert_lt(cg_sub_path_check("..", &err), 0);
	cr_assert_str_eq(err.msg, "--cgroup: .. is not a sub cgroup path");
	cr_assert_lt(cg_sub_path_check("a/../..", &err), 0);
	cr_assert_lt(cg_sub_path_check("/../x", &err), 0);
	cr_assert_lt(cg_sub_path_check("a/./b", &err), 0);
	cr_assert_lt(cg_sub_path_check("a/..", &err), 0);
	cr_assert_lt(cg_sub_path_check("a\nb", &err), 0);
}
