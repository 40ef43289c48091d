/* runtime/hostpath.c: a host path is resolved once; reopening it refuses a symlink planted
 * after the check, a rename, or another file in its place. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/util.h"
#include "runtime/hostpath.h"

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/bw-hostpath.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	char *p = xasprintf("%s/real", tmp), *t = xasprintf("%s/target", tmp),
	     *l = xasprintf("%s/link", tmp);
	cr_assert_eq(mkdir(p, 0755), 0);
	cr_assert_eq(mkdir(t, 0755), 0);
	cr_assert_eq(symlink(p, l), 0);
	free(p);
	free(t);
	free(l);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

static char *at(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

TestSuite(hostpath, .init = setup, .fini = teardown);

Test(hostpath, follow_takes_the_callers_own_link_once)
{
	struct bw_error e = {0};
	_cleanup_free_ char *l = at("link"), *real = at("real");
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, l, true, "--x", &e);
	cr_assert_geq(fd, 0);
	struct hostpath hp;
	cr_assert_eq(hostpath_from_fd(fd, "--x", false, &hp, &e), 0);
	_cleanup_free_ char *canon = realpath(real, NULL);
	cr_assert_str_eq(hp.path, canon);
	cr_assert(S_ISDIR(hp.mode));
	hostpath_clear(&hp);
}

Test(hostpath, no_follow_refuses_a_link_anywhere_on_the_way)
{
	struct bw_error e = {0};
	_cleanup_free_ char *l = at("link"), *below = at("link/.");
	cr_assert_eq(hostpath_open(AT_FDCWD, l, false, "--workspace l:rw", &e), -1);
	cr_assert(strstr(e.msg, "--workspace l:rw: the path goes through a symbolic link") != NULL,
		  "%s", e.msg);
	cr_assert_eq(hostpath_open(AT_FDCWD, below, false, "--x", &e), -1);
}

/* The attack: checked as a directory, then swapped for a symlink to another directory. */
Test(hostpath, reopen_refuses_a_symlink_planted_after_the_check)
{
	struct bw_error e = {0};
	_cleanup_free_ char *real = at("real"), *moved = at("moved"), *target = at("target");
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, real, false, "--bind r", &e);
	struct hostpath hp;
	cr_assert_eq(hostpath_from_fd(fd, "--bind r", false, &hp, &e), 0);
	_cleanup_close_ int again = hostpath_reopen(&hp, 0, &e);
	cr_assert_geq(again, 0, "%s", e.msg);
	cr_assert_eq(rename(real, moved), 0);
	cr_assert_eq(symlink(target, real), 0);
	cr_assert_eq(hostpath_reopen(&hp, 0, &e), -1);
	cr_assert(strstr(e.msg, "--bind r: ") == e.msg, "%s", e.msg);
	cr_assert(strstr(e.msg, "changed after it was checked (a symbolic link") != NULL, "%s",
		  e.msg);
	hostpath_clear(&hp);
}

Test(hostpath, reopen_refuses_another_directory_in_its_place)
{
	struct bw_error e = {0};
	_cleanup_free_ char *real = at("real"), *moved = at("moved"), *target = at("target");
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, real, false, "--rootfs r", &e);
	struct hostpath hp;
	cr_assert_eq(hostpath_from_fd(fd, "--rootfs r", false, &hp, &e), 0);
	cr_assert_eq(rename(real, moved), 0);
	cr_assert_eq(rename(target, real), 0);
	cr_assert_eq(hostpath_reopen(&hp, 0, &e), -1);
	cr_assert(strstr(e.msg, "it now names another file") != NULL, "%s", e.msg);
	hostpath_clear(&hp);
}

Test(hostpath, reopen_of_a_stacked_mount_refuses_the_bare_directory)
{
	struct bw_error e = {0};
	_cleanup_free_ char *real = at("real");
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, real, false, "--workspace r:rw", &e);
	struct hostpath hp;
	cr_assert_eq(hostpath_from_fd(fd, "--workspace r:rw", true, &hp, &e), 0);
	cr_assert_eq(hostpath_reopen(&hp, 0, &e), -1);
	cr_assert(strstr(e.msg, "not the mount bulwark prepared") != NULL, "%s", e.msg);
	hostpath_clear(&hp);
}

Test(hostpath, a_later_record_of_the_same_path_wins)
{
	struct hostpath_list list = {0};
	struct hostpath a = {.path = xstrdup("/w"), .label = xstrdup("--bind /w"), .ino = 1};
	struct hostpath b = {.path = xstrdup("/w"),
			     .label = xstrdup("--workspace /w:overlay"),
			     .ino = 2,
			     .mount_root = true};
	hostpath_list_add(&list, &a);
	hostpath_list_add(&list, &b);
	cr_assert_eq(list.n, 1);
	const struct hostpath *k = hostpath_find(&list, "/w");
	cr_assert_not_null(k);
	cr_assert_eq(k->ino, 2);
	cr_assert(k->mount_root);
	cr_assert_null(hostpath_find(&list, "/x"));
	hostpath_list_free(&list);
}
