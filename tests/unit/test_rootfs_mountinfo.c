/* runtime/rootfs/rootfs_mountinfo.c: mountinfo parsing and the place of each mount relative to the
 * container's root mount, which --no-pivot uses to find the host mounts to take away. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/error.h"
#include "runtime/rootfs/rootfs_mountinfo.h"

/* The host's "/" (1) with /proc (2), /sys (3) and /work (4); the rootfs (5) is bound at
 * /work/b/rootfs with the container's /proc (6) in it; a proc stacked over /proc (7); a
 * sysfs subtree (8) shown at a path with a space. */
static const char *text = "1 1 8:1 / / rw - ext4 /dev/sda rw\n"
			  "2 1 0:20 / /proc rw,nosuid shared:5 - proc proc rw\n"
			  "3 1 0:21 / /sys rw master:2 - sysfs sysfs rw\n"
			  "4 1 8:2 / /work rw - ext4 /dev/sdb rw\n"
			  "5 4 8:2 /b/rootfs /work/b/rootfs rw - ext4 /dev/sdb rw\n"
			  "6 5 0:30 / /work/b/rootfs/proc rw - proc proc rw\n"
			  "7 2 0:20 / /proc rw - proc proc rw\n"
			  "8 1 0:21 /kernel /my\\040sys rw - sysfs sysfs rw\n";

Test(mountinfo, parses_fields_and_unescapes)
{
	struct mountinfo *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(mountinfo_parse(text, &m, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 8);
	cr_assert_eq(m[4].id, 5);
	cr_assert_eq(m[4].parent, 4);
	cr_assert_str_eq(m[4].root, "/b/rootfs");
	cr_assert_str_eq(m[4].mountpoint, "/work/b/rootfs");
	cr_assert_str_eq(m[1].fstype, "proc"); /* past the optional field */
	cr_assert_str_eq(m[7].mountpoint, "/my sys");
	mountinfo_free(m, n);
}

Test(mountinfo, malformed_line_is_an_error)
{
	struct mountinfo *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_lt(mountinfo_parse("1 1 8:1 / / rw\n", &m, &n, &err), 0);
	cr_assert_lt(mountinfo_parse("x 1 8:1 / / rw - ext4 a rw\n", &m, &n, &err), 0);
}

Test(mountinfo, classifies_inside_ancestors_and_outside)
{
	struct mountinfo *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(mountinfo_parse(text, &m, &n, &err), 0);
	enum mountinfo_place p[8];
	mountinfo_classify(m, n, 5, p);
	enum mountinfo_place want[8] = {MOUNTINFO_ANCESTOR, MOUNTINFO_OUTSIDE, MOUNTINFO_OUTSIDE,
					MOUNTINFO_ANCESTOR, MOUNTINFO_INSIDE,  MOUNTINFO_INSIDE,
					MOUNTINFO_OUTSIDE,  MOUNTINFO_OUTSIDE};
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(p[i], want[i], "mount %d", m[i].id);
	mountinfo_free(m, n);
}

Test(mountinfo, a_parent_cycle_ends_the_chain)
{
	struct mountinfo *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(mountinfo_parse("1 2 0:1 / /a rw - tmpfs t rw\n2 1 0:2 / /b rw - tmpfs t rw\n"
				     "3 3 0:3 / / rw - tmpfs t rw\n",
				     &m, &n, &err),
		     0);
	enum mountinfo_place p[3];
	mountinfo_classify(m, n, 3, p);
	cr_assert_eq(p[0], MOUNTINFO_OUTSIDE);
	cr_assert_eq(p[1], MOUNTINFO_OUTSIDE);
	cr_assert_eq(p[2], MOUNTINFO_INSIDE);
	mountinfo_free(m, n);
}

Test(mountinfo, full_pseudofs_and_cover)
{
	struct mountinfo *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(mountinfo_parse(text, &m, &n, &err), 0);
	cr_assert(mountinfo_is_full_pseudofs(&m[1]));
	cr_assert(mountinfo_is_full_pseudofs(&m[2]));
	cr_assert_not(mountinfo_is_full_pseudofs(&m[0]));
	cr_assert_not(mountinfo_is_full_pseudofs(&m[7])); /* a subtree of sysfs */
	cr_assert(mountinfo_is_covered(m, n, 1));	  /* 7 is stacked on 2 */
	cr_assert_not(mountinfo_is_covered(m, n, 2));
	cr_assert_not(mountinfo_is_covered(m, n, 6));
	mountinfo_free(m, n);
}
