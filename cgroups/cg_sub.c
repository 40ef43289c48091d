/* `exec --cgroup`: run an exec'd process in a sub-cgroup of the container's own cgroup, as
 * runc 1.1 does. The path comes from the caller and the sub-cgroups from the container (its
 * cgroup may be writable inside): nothing may lead outside the container's cgroup. */
#include "cgroups/cg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

int cg_sub_path_check(const char *sub, struct bw_error *err)
{
	char q[160];
	if (strlen(sub) > 1024)
		return bw_fail(err, 0, "--cgroup: sub-cgroup path too long");
	for (const char *p = sub; *p != '\0';) {
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return bw_fail(err, 0, "--cgroup: %s is not a sub cgroup path",
				       log_escape(q, sizeof(q), sub));
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return bw_fail(err, 0,
					       "--cgroup: %s: control character in the path",
					       log_quote(q, sizeof(q), sub));
		p += len;
		p += strspn(p, "/");
	}
	return 0;
}

/* Point h at dir/sub after checking, below h's own directory and without following anything
 * that is not a plain directory of the same file system, that the sub-cgroup exists. */
static int descend(struct cg_hier *h, const char *sub, struct bw_error *err)
{
	const char *rel = sub + strspn(sub, "/");
	if (rel[0] == '\0')
		return 0;
	_cleanup_close_ int base = open(h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return bw_fail(err, errno, "--cgroup: open `%s`", h->dir);
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, base, rel, &how, sizeof(how));
	if (fd < 0) {
		/* runc's wording, which names the file it could not write ("no such file ..."). */
		char q[160], why[128];
		snprintf(why, sizeof(why), "%s", strerror(errno));
		why[0] = (char)tolower((unsigned char)why[0]);
		return bw_fail(err, 0, "--cgroup: adding pid to cgroups: %s/%s/cgroup.procs: %s",
			       h->dir, log_escape(q, sizeof(q), rel), why);
	}
	char *dir = xasprintf("%s/%s", h->dir, rel);
	/* No trailing slashes: the path is joined with file names later. */
	for (size_t l = strlen(dir); l > 0 && dir[l - 1] == '/'; l--)
		dir[l - 1] = '\0';
	free(h->dir);
	h->dir = dir;
	return 0;
}

static int select_ctrl(struct cg_manager *cg, const char *name, bool *pick, struct bw_error *err)
{
	char q[80];
	int k = cg_ctrl_from_v1_name(name);
	if (cg->mode == CG_MODE_UNIFIED || k < 0 || cg->ctrl_at[k] < 0 ||
	    cg->h[cg->ctrl_at[k]].m.v2)
		return bw_fail(err, 0, "--cgroup: unknown controller %s",
			       log_quote(q, sizeof(q), name));
	pick[cg->ctrl_at[k]] = true;
	return 0;
}

int cg_select_sub(struct cg_manager *cg, const char *ctrls, const char *sub, struct bw_error *err)
{
	if (cg_sub_path_check(sub, err) < 0)
		return -1;
	_cleanup_free_ bool *pick = xcalloc(cg->nh, sizeof(bool));
	if (ctrls == NULL) {
		for (size_t i = 0; i < cg->nh; i++)
			pick[i] = true;
	} else {
		_cleanup_free_ char *list = xstrdup(ctrls);
		char *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save))
			if (select_ctrl(cg, t, pick, err) < 0)
				return -1;
	}
	for (size_t i = 0; i < cg->nh; i++)
		if (pick[i] && descend(&cg->h[i], sub, err) < 0)
			return -1;
	/* The container may freeze a sub-cgroup it can write: the exec'd process would stop
	 * there before reporting back, and exec would wait for it with the lock held. */
	if (cg_refuse_frozen(cg, err) < 0)
		return bw_wrap(err, "--cgroup");
	if (cg->clone_fd >= 0) {
		close(cg->clone_fd);
		cg->clone_fd = -1;
	}
	return 0;
}
