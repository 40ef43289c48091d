/* runtime/process.c, the pure parts: HOME from the container's /etc/passwd. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/util.h"
#include "runtime/process.h"

static const char *passwd = "root:x:0:0:root:/root:/bin/sh\n"
			    "broken line without fields\n"
			    "short:x:10:10\n"
			    "u100:x:100:100::/home/u100:/bin/sh\n"
			    "u1000:x:1000:1000:A User,,,:/home/a user:/bin/bash\n"
			    "nohome:x:7:7:::/bin/sh\n"
			    "dup:x:100:100::/second:/bin/sh\n"
			    "last:x:42:42::/home/last:"; /* no newline at the end */

static void expect_home(uid_t uid, const char *want)
{
	char *h = process_passwd_home(passwd, uid);
	if (want == NULL) {
		cr_assert_null(h, "uid %u: got %s", (unsigned)uid, h);
	} else {
		cr_assert_not_null(h, "uid %u: no home", (unsigned)uid);
		cr_assert_str_eq(h, want);
	}
	free(h);
}

Test(passwd_home, finds_the_first_line_of_the_uid)
{
	expect_home(0, "/root");
	expect_home(100, "/home/u100");
	expect_home(1000, "/home/a user");
	expect_home(42, "/home/last");
}

Test(passwd_home, no_match_or_no_home_is_null)
{
	expect_home(10, NULL); /* too few fields */
	expect_home(7, NULL);  /* empty home */
	expect_home(1, NULL);
	expect_home(10000, NULL); /* not a prefix match of 1000 */
	expect_home(00, "/root");
	char *h = process_passwd_home("", 0);
	cr_assert_null(h);
}

Test(env_dedup, the_last_value_wins_in_the_place_of_the_first)
{
	char *env[] = {"PATH=/bin", "A=1",   "HOME=/",	"PATH=/usr/bin",
		       "A=",	    "B=x=y", "PATHX=3", NULL};
	char **out = process_env_dedup(env);
	const char *want[] = {"PATH=/usr/bin", "A=", "HOME=/", "B=x=y", "PATHX=3", NULL};
	for (size_t i = 0; want[i] != NULL; i++) {
		cr_assert_not_null(out[i], "entry %zu missing", i);
		cr_assert_str_eq(out[i], want[i]);
	}
	cr_assert_null(out[5]);
	strv_free(out);
	out = process_env_dedup(NULL);
	cr_assert_null(out[0]);
	strv_free(out);
}
