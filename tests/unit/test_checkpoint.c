/* CRIU's reason from its log: the first "Error (file:line): message" line that is not a helper
 * child's exit, one printable line. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "runtime/checkpoint/checkpoint.h"

Test(checkpoint, first_error_line_is_the_reason)
{
	const char *log =
	    "(00.000010) Version: 3.17.1 (gitid 0)\n"
	    "(00.161512) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
	    "(00.161516) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n";
	char *r = checkpoint_criu_log_reason(log);
	cr_assert_str_eq(r, "vdso: Unexpected rt vDSO area bounds");
	free(r);
}

/* The 6.18 host's log: two helper children's exits come first, then the reason. */
Test(checkpoint, a_helper_childs_exit_is_not_the_reason)
{
	const char *log =
	    "(00.023671) Error (criu/util.c:642): exited, status=1\n"
	    "(00.050486) Error (criu/util.c:642): exited, status=1\n"
	    "(00.162780) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
	    "(00.162837) Error (criu/crtools.c:260): Could not initialize kernel features\n";
	char *r = checkpoint_criu_log_reason(log);
	cr_assert_str_eq(r, "vdso: Unexpected rt vDSO area bounds");
	free(r);
	/* Only exits: the first of them, rather than nothing. */
	r = checkpoint_criu_log_reason("(0.1) Error (criu/util.c:642): exited, status=3\n");
	cr_assert_str_eq(r, "exited, status=3");
	free(r);
}

Test(checkpoint, no_error_line_is_null)
{
	cr_assert_null(checkpoint_criu_log_reason("(00.1) Warn (x.c:1): nothing\n"));
	cr_assert_null(checkpoint_criu_log_reason(""));
	cr_assert_null(checkpoint_criu_log_reason(NULL));
}

Test(checkpoint, reason_is_one_printable_bounded_line)
{
	char log[2048];
	memset(log, 'a', sizeof(log));
	memcpy(log, "Error (c.c:1): x\033y\rz", 21);
	log[sizeof(log) - 1] = '\0';
	char *r = checkpoint_criu_log_reason(log);
	cr_assert_not_null(r);
	cr_assert_eq(strncmp(r, "x y z", 5), 0);
	cr_assert_leq(strlen(r), 400);
	free(r);
}
