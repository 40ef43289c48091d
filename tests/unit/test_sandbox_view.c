/* runtime/sandbox/sandbox_view.c: --host-view's values, and the minimal view planned from a root
 * directory: directories of the allowlist become read-only binds, symlinks are kept as links,
 * everything else is left out. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/sandbox/sandbox_view.h"

Test(sandbox_view, host_view_values)
{
	enum sandbox_view v = SANDBOX_VIEW_FULL;
	struct bw_error e = {0};
	cr_assert_eq(sandbox_view_parse(NULL, &v, &e), 0);
	cr_assert_eq(v, SANDBOX_VIEW_MINIMAL);
	cr_assert_eq(sandbox_view_parse("full", &v, &e), 0);
	cr_assert_eq(v, SANDBOX_VIEW_FULL);
	cr_assert_eq(sandbox_view_parse("minimal", &v, &e), 0);
	cr_assert_eq(v, SANDBOX_VIEW_MINIMAL);
	cr_assert_eq(sandbox_view_parse("Full", &v, &e), -1);
	cr_assert_str_eq(e.msg, "--host-view: expected minimal or full, got \"Full\"");
	cr_assert_str_eq(sandbox_view_name(SANDBOX_VIEW_MINIMAL), "minimal");
	cr_assert_str_eq(sandbox_view_name(SANDBOX_VIEW_FULL), "full");
	cr_assert_str_eq(sandbox_view_name(SANDBOX_VIEW_ROOTFS), "rootfs");
}

static char *make_root(void)
{
	char tmpl[] = "/tmp/bw-view-XXXXXX";
	char *d = mkdtemp(tmpl);
	cr_assert_not_null(d);
	char *root = xstrdup(d);
	char path[256];
	const char *dirs[] = {"usr", "usr/bin", "etc", "lib32", "srv", "opt", "home", "var"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	snprintf(path, sizeof(path), "%s/bin", root);
	cr_assert_eq(symlink("usr/bin", path), 0);
	snprintf(path, sizeof(path), "%s/sbin", root);
	cr_assert_eq(symlink("/usr/sbin", path), 0); /* absolute, and dangling: kept as is */
	snprintf(path, sizeof(path), "%s/lib64", root);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644); /* not a directory: left out */
	cr_assert_geq(fd, 0);
	close(fd);
	return root;
}

Test(sandbox_view, minimal_binds_directories_and_keeps_symlinks)
{
	char *root = make_root();
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rootfd, 0);
	struct specgen sg = {0};
	struct hostpath_list known = {0};
	char **links = NULL;
	struct bw_error e = {0};
	cr_assert_eq(sandbox_view_minimal(rootfd, &sg, &links, &known, &e), 0, "%s", e.msg);
	/* In allowlist order: usr, lib32, etc; nothing of srv, opt, home, var; not lib64. */
	cr_assert_eq(sg.n_binds, 3);
	const char *names[] = {"usr", "lib32", "etc"};
	for (size_t i = 0; i < 3; i++) {
		char *src = xasprintf("%s/%s", root, names[i]);
		char *dst = xasprintf("/%s", names[i]);
		cr_assert_str_eq(sg.binds[i].source, src);
		cr_assert_str_eq(sg.binds[i].destination, dst);
		cr_assert(sg.binds[i].readonly);
		cr_assert_not_null(hostpath_find(&known, src), "%s not resolved", src);
		free(src);
		free(dst);
	}
	cr_assert_eq(strv_len(links), 4);
	cr_assert_str_eq(links[0], "bin");
	cr_assert_str_eq(links[1], "usr/bin");
	cr_assert_str_eq(links[2], "sbin");
	cr_assert_str_eq(links[3], "/usr/sbin");
	strv_free(links);
	for (size_t i = 0; i < sg.n_binds; i++) {
		free(sg.binds[i].source);
		free(sg.binds[i].destination);
	}
	free(sg.binds);
	hostpath_list_free(&known);
	close(rootfd);
	char *cmd = xasprintf("rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	free(root);
}
