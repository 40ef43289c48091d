/* notify_msg.c: the container's notify directory, and what of its datagrams the caller gets. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/notify.h"

static char *filter(const char *msg, bool *ready)
{
	static char out[NOTIFY_MSG_MAX + 2];
	notify_filter(msg, strlen(msg), out, sizeof(out), ready);
	return out;
}

Test(notify, the_callers_clean_absolute_path_is_the_directory_as_crun_does)
{
	char *d = notify_container_dir("/run/systemd/notify");
	cr_assert_str_eq(d, "/run/systemd/notify");
	free(d);
}

Test(notify, abstract_relative_unclean_or_root_paths_fall_back_to_run_notify)
{
	const char *odd[] = {"@sd-notify", "relative/sock", "/run/../etc", "/",
			     "/a//b",	   "/a/./b",	    "/a/"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *d = notify_container_dir(odd[i]);
		cr_assert_str_eq(d, "/run/notify", "%s", odd[i]);
		free(d);
	}
}

Test(notify, ready_and_status_pass_mainpid_is_dropped)
{
	bool ready;
	cr_assert_str_eq(filter("MAINPID=1\nREADY=1\nSTATUS=up and running", &ready),
			 "READY=1\nSTATUS=up and running");
	cr_assert(ready);
	cr_assert_str_eq(filter("MAINPID=4242", &ready), "");
	cr_assert_not(ready);
}

Test(notify, only_the_listed_fields_with_valid_values_pass)
{
	bool ready;
	cr_assert_str_eq(filter("FDSTORE=1\nFDNAME=x\nBARRIER=1\nNOTIFYACCESS=all\nX=1\nREADY=2\n"
				"READY=1x\nWATCHDOG=trigger\nWATCHDOG_USEC=1\nERRNO=abc\nERRNO=\n",
				&ready),
			 "");
	cr_assert_not(ready);
	cr_assert_str_eq(filter("RELOADING=1\nMONOTONIC_USEC=123\nSTOPPING=1\nERRNO=5\n"
				"EXTEND_TIMEOUT_USEC=1000000\nWATCHDOG=1\nBUSERROR=org.x.Err",
				&ready),
			 "RELOADING=1\nMONOTONIC_USEC=123\nSTOPPING=1\nERRNO=5\n"
			 "EXTEND_TIMEOUT_USEC=1000000\nWATCHDOG=1\nBUSERROR=org.x.Err");
}

Test(notify, control_and_non_ascii_bytes_drop_the_line)
{
	bool ready;
	cr_assert_str_eq(filter("STATUS=a\tb\nSTATUS=\x1b[2J\nSTATUS=\xc3\xa9\nREADY=1", &ready),
			 "READY=1");
	cr_assert(ready);
	/* A NUL in the datagram ends nothing: the line holding it is dropped. */
	const char msg[] = "STATUS=a\0b\nREADY=1";
	char out[64];
	notify_filter(msg, sizeof(msg) - 1, out, sizeof(out), &ready);
	cr_assert_str_eq(out, "READY=1");
}

Test(notify, the_output_never_exceeds_its_buffer)
{
	bool ready;
	char out[16];
	size_t n = notify_filter("STATUS=0123456789abcdef\nREADY=1", 31, out, sizeof(out), &ready);
	cr_assert_eq(n, 7);
	cr_assert_str_eq(out, "READY=1");
	/* Exactly full: "READY=1\nSTOPPING=1" and its NUL in 19 bytes, not in 18. */
	char out19[19], out18[18];
	cr_assert_eq(notify_filter("READY=1\nSTOPPING=1", 18, out19, sizeof(out19), &ready), 18);
	cr_assert_eq(notify_filter("READY=1\nSTOPPING=1", 18, out18, sizeof(out18), &ready), 7);
	cr_assert_eq(notify_filter("READY=1", 7, out, 0, &ready), 0);
}
