/* runtime/cp_mounts.c: the read-write mounts of mountinfo text (what cp guards in other
 * mount namespaces): "ro" of the mount or of its file system leaves a mount out; an overlay's
 * upperdir is found with its escapes undone; a malformed line is an error. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/error.h"
#include "runtime/cp_mounts.h"

static const char *info =
    "22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/l,upperdir=/var/u\\054p"
    "\\040q,workdir=/w\n"
    "23 22 8:1 /data /ws rw,nosuid master:3 - ext4 /dev/sda1 rw\n"
    "24 22 8:1 /etc /etc ro,nosuid - ext4 /dev/sda1 rw\n"
    "25 22 8:2 / /x\\040y rw - ext4 /dev/sdb1 ro,errors=continue\n"
    "26 22 0:5 / /rw rw - tmpfs tmpfs rw,size=1k,mode=755\n";

Test(cp_mounts, keeps_only_read_write_mounts)
{
	struct cp_mount *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_eq(cp_mounts_writable(info, &m, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(m[0].mountpoint, "/");
	cr_assert_str_eq(m[0].upperdir, "/var/u,p q");
	cr_assert_str_eq(m[1].mountpoint, "/ws");
	cr_assert_null(m[1].upperdir);
	cr_assert_str_eq(m[2].mountpoint, "/rw");
	cp_mounts_free(m, n);
}

Test(cp_mounts, a_malformed_line_is_an_error)
{
	struct cp_mount *m;
	size_t n;
	struct bw_error err = {0};
	cr_assert_lt(cp_mounts_writable("22 1 0:21 / / rw\n", &m, &n, &err), 0);
	cr_assert(strstr(err.msg, "malformed line 1") != NULL, "%s", err.msg);
	cr_assert_lt(cp_mounts_writable("22 1 0:21 / / rw - ext4\n", &m, &n, &err), 0);
}
