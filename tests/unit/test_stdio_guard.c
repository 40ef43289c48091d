/* stdio_guard: which fds count as a terminal, and what the detached plan hands the process. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/stdio_guard.h"

Test(stdio_guard, a_pty_is_a_terminal_pipes_files_and_dev_null_are_not)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(m, 0);
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(s, 0);
	cr_assert(stdio_is_terminal(s), "pty slave");
	cr_assert(stdio_is_terminal(m), "pty master");
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_not(stdio_is_terminal(p[0]));
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_assert_not(stdio_is_terminal(null));
	int f = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	cr_assert_not(stdio_is_terminal(f));
	cr_assert_not(stdio_is_terminal(-1));
}

/* Run in a child whose fds 0-2 are: a pty, a pipe, a pty. */
Test(stdio_guard, relay_replaces_only_the_terminals_by_pipes_above_stdio)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	grantpt(m);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	dup2(s, 0);
	dup2(p[1], 1);
	dup2(s, 2);
	struct stdio_guard g = STDIO_GUARD_INIT;
	struct bw_error err = {0};
	int r = stdio_guard_relay(&g, &err);
	int fl = fcntl(g.ours[0], F_GETFL);
	cr_assert_eq(r, 0);
	cr_assert(g.child[0] > 2 && g.ours[0] > 2 && g.child[2] > 2 && g.ours[2] > 2);
	cr_assert_eq(g.child[1], -1);
	cr_assert_eq(g.ours[1], -1);
	cr_assert(fl & O_NONBLOCK, "our end is non-blocking");
	cr_assert_not(fcntl(g.child[0], F_GETFL) & O_NONBLOCK, "the child's end is not");
	cr_assert_eq(write(g.ours[0], "x", 1), 1);
	char c = 0;
	cr_assert_eq(read(g.child[0], &c, 1), 1);
	cr_assert_eq(c, 'x');
	stdio_guard_close(&g);
	cr_assert_eq(g.child[0], -1);
	cr_assert_eq(g.ours[2], -1);
}

Test(stdio_guard, detached_gives_dev_null_for_the_terminals)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	grantpt(m);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	dup2(s, 1);
	int null = open("/dev/null", O_RDONLY);
	dup2(null, 0);
	dup2(null, 2);
	struct stdio_guard g = STDIO_GUARD_INIT;
	struct bw_error err = {0};
	cr_assert_eq(stdio_guard_detached(&g, &err), 0);
	cr_assert_eq(g.child[0], -1);
	cr_assert_eq(g.child[2], -1);
	cr_assert_gt(g.child[1], 2);
	char path[64], target[64] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", g.child[1]);
	cr_assert_gt(readlink(path, target, sizeof(target) - 1), 0);
	cr_assert_str_eq(target, "/dev/null");
	stdio_guard_close(&g);
}
