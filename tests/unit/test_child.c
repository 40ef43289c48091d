/* common/child.c: the child-process runner (exec or function, capture, status, deadline). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/child.h"
#include "common/cleanup.h"
#include "common/util.h"

static int run_sh(const char *script, size_t max, int64_t timeout_ms, struct child_result *res,
		  struct bw_error *err)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct child_spec s = {.name = "sh",
			       .path = "/bin/sh",
			       .argv = argv,
			       .envp = (char *const[]){"PATH=/usr/bin:/bin", NULL},
			       .output_max = max,
			       .timeout_ms = timeout_ms};
	return child_run(&s, res, err);
}

Test(child, exec_captures_stdout_and_stderr_and_the_exit_status)
{
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(
	    run_sh("echo out; echo err >&2; read x && echo stdin; exit 3", 0, 0, &res, &err), 0,
	    "%s", err.msg);
	_cleanup_free_ char *out = res.output;
	cr_assert_str_eq(out, "out\nerr\n", "stdin is /dev/null, so `read` fails");
	cr_assert_eq(res.len, 8);
	cr_assert_not(child_ok(&res));
	cr_assert_eq(child_exit_code(&res), 3);
}

Test(child, environment_is_the_given_one)
{
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(run_sh("echo \"$PATH|${HOME-unset}\"", 0, 0, &res, &err), 0);
	_cleanup_free_ char *out = res.output;
	cr_assert_str_eq(out, "/usr/bin:/bin|unset\n");
	cr_assert(child_ok(&res));
}

Test(child, a_signal_is_reported_as_128_plus_it)
{
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(run_sh("kill -TERM $$", 0, 0, &res, &err), 0);
	free(res.output);
	cr_assert_eq(child_exit_code(&res), 128 + SIGTERM);
}

Test(child, a_missing_program_says_so_and_exits_127)
{
	char *argv[] = {"nope", NULL};
	struct child_spec s = {.name = "nope", .path = "/nonexistent/nope", .argv = argv};
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(child_run(&s, &res, &err), 0);
	_cleanup_free_ char *out = res.output;
	cr_assert_eq(child_exit_code(&res), 127);
	cr_assert(strstr(out, "/nonexistent/nope") != NULL, "%s", out);
}

Test(child, output_over_the_limit_fails_instead_of_being_cut)
{
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(run_sh("head -c 5000 /dev/zero", 4096, 0, &res, &err), -1);
	cr_assert_eq(err.code, EFBIG);
	cr_assert(strstr(err.msg, "4096") != NULL, "%s", err.msg);
	cr_assert_null(res.output);
	cr_assert_eq(run_sh("head -c 4096 /dev/zero", 4096, 0, &res, &err), 0);
	cr_assert_eq(res.len, 4096);
	free(res.output);
}

Test(child, deadline_kills_and_reaps_the_child)
{
	struct child_result res;
	struct bw_error err = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(run_sh("echo $$; exec sleep 30", 0, 200, &res, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(err.code, ETIMEDOUT);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 5);
	/* Reaped: no child of ours is left, zombie or not. */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

static void say_and_exit(void *arg, int out)
{
	dprintf(out, "fn:%s", (const char *)arg);
	_exit(5);
}

Test(child, function_mode_runs_fn_with_the_pipe)
{
	struct child_spec s = {.name = "fn", .fn = say_and_exit, .arg = "hello"};
	struct child_result res;
	struct bw_error err = {0};
	cr_assert_eq(child_run(&s, &res, &err), 0);
	_cleanup_free_ char *out = res.output;
	cr_assert_str_eq(out, "fn:hello");
	cr_assert_eq(child_exit_code(&res), 5);
}
