/* runtime/sandbox/subids.c: the caller's range in /etc/subuid-style files, and the maps the
 * sandbox's spec gets from it (specgen.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/sandbox/specgen.h"
#include "runtime/sandbox/subids.h"

static char path[64];
static int memfd = -1;

/* The file's text in a memfd, named by its /proc/self/fd path: no file on disk to clean up. */
static void file_of(const char *text)
{
	memfd = memfd_create("bw-subids", MFD_CLOEXEC);
	cr_assert_geq(memfd, 0);
	cr_assert_eq(write(memfd, text, strlen(text)), (ssize_t)strlen(text));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
}

static void gone(void)
{
	close(memfd);
	memfd = -1;
}

Test(subids, by_name_or_by_number, .fini = gone)
{
	uint32_t s = 0;
	file_of("alice:100000:65536\n4252:300000:65536\n");
	cr_assert(subids_find(path, "alice", 1000, 65535, &s));
	cr_assert_eq(s, 100000);
	cr_assert(subids_find(path, "bob", 4252, 65535, &s));
	cr_assert_eq(s, 300000);
	cr_assert_not(subids_find(path, "bob", 4253, 1, &s));
	cr_assert_not(subids_find(path, NULL, 1000, 1, &s), "alice's range by a uid not hers");
}

Test(subids, first_range_large_enough, .fini = gone)
{
	uint32_t s = 0;
	file_of("alice:100000:1000\nalice:200000:65535\n");
	cr_assert(subids_find(path, "alice", 1000, 65535, &s));
	cr_assert_eq(s, 200000);
	cr_assert_not(subids_find(path, "alice", 1000, 65536, &s));
}

Test(subids, malformed_lines_skipped, .fini = gone)
{
	uint32_t s = 0;
	file_of("alice:x:65536\nalice:100000\nalice:100000:65536:extra\nalice:-5:65536\n"
		"alice:0:65536\nalice:4294967290:65536\n\n#alice:1:65536\nalice:500000:65536");
	cr_assert(subids_find(path, "alice", 1000, 65535, &s));
	cr_assert_eq(s, 500000, "only the last, well-formed line (no newline at the end)");
}

Test(subids, missing_file)
{
	uint32_t s = 0;
	cr_assert_not(subids_find("/nonexistent/subuid", "alice", 1000, 1, &s));
}

Test(subids, spec_maps_around_the_callers_id)
{
	struct specgen sg;
	specgen_defaults(&sg);
	sg.map_uid = sg.map_gid = 1000;
	sg.host_uid = 4252;
	sg.host_gid = 4253;
	sg.map_size = 1;
	sg.subids = true;
	sg.sub_uid = 300000;
	sg.sub_gid = 400000;
	char *json = specgen_render(&sg, false);
	cr_assert_not_null(
	    strstr(json, "\"uidMappings\":[{\"containerID\":0,\"hostID\":300000,"
			 "\"size\":1000},{\"containerID\":1000,\"hostID\":4252,\"size\":1},"
			 "{\"containerID\":1001,\"hostID\":301000,\"size\":64535}]"),
	    "%s", json);
	cr_assert_not_null(
	    strstr(json, "\"gidMappings\":[{\"containerID\":0,\"hostID\":400000,"
			 "\"size\":1000},{\"containerID\":1000,\"hostID\":4253,\"size\":1},"
			 "{\"containerID\":1001,\"hostID\":401000,\"size\":64535}]"),
	    "%s", json);
	free(json);
}
