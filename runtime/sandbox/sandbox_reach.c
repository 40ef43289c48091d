/* Which host paths of a sandbox reach the runtime's own files (its state root, its binary):
 * every writable one that does is refused, whatever alias (bind mount, hard link) it uses. */
#include "runtime/sandbox/sandbox.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "oci/policy.h"
#include "profiles/seccomp.h"
#include "runtime/cli/cli.h"
#include "runtime/hostpath.h"
#include "runtime/idpool.h"
#include "runtime/init_reaper.h"
#include "runtime/lifecycle.h"
#include "runtime/network.h"
#include "runtime/rootfs/rootfs_mountinfo.h"
#include "runtime/sandbox/kdenials.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/sandbox/sandbox_net.h"
#include "runtime/sandbox/sandbox_view.h"
#include "runtime/sandbox/specgen.h"
#include "runtime/sandbox/watchdog.h"
#include "runtime/sandbox/workspace.h"
#include "runtime/sandbox/sandbox_internal.h"

/* Where fd is on its file system: the device and the path from that file system's root
 * (mountinfo's root of fd's mount, plus the path below the mount point), so that every bind
 * mount or other alias of one directory gives the same answer. */
struct fs_place {
	dev_t dev;
	char *rel;
	bool multi_link; /* a regular file with other hard links */
};

static int fs_place_of(int fd, const struct mountinfo *m, size_t n, struct fs_place *out,
		       struct bw_error *err)
{
	struct stat st;
	char self[32], path[4096];
	_cleanup_free_ char *info = NULL;
	snprintf(self, sizeof(self), "/proc/self/fdinfo/%d", fd);
	if (fstat(fd, &st) < 0 || fs_read_file(self, 4096, &info, NULL, err) < 0)
		return bw_fail(err, errno, "fdinfo");
	const char *mid = strstr(info, "mnt_id:");
	ssize_t len = readlink(fs_fd_path(fd, self), path, sizeof(path) - 1);
	if (mid == NULL || len <= 0 || (size_t)len >= sizeof(path) - 1 || path[0] != '/')
		return bw_fail(err, 0, "the place of fd %d is unknown", fd);
	path[len] = '\0';
	int id = atoi(mid + 7);
	for (size_t i = 0; i < n; i++) {
		if (m[i].id != id || !fs_path_within(path, m[i].mountpoint))
			continue;
		size_t skip = strcmp(m[i].mountpoint, "/") == 0 ? 0 : strlen(m[i].mountpoint);
		_cleanup_free_ char *joined = xasprintf("%s/%s", m[i].root, path + skip);
		out->dev = st.st_dev;
		out->rel = fs_path_clean(joined);
		out->multi_link = S_ISREG(st.st_mode) && st.st_nlink > 1;
		return 0;
	}
	return bw_fail(err, 0, "the mount of %s is not in mountinfo", path);
}

/* The fd of path, or of its nearest existing ancestor (a state root made later is made
 * there); -1 when path is not absolute. */
static int open_or_ancestor(const char *path)
{
	if (path == NULL || path[0] != '/')
		return -1;
	_cleanup_free_ char *p = fs_path_clean(path);
	for (;;) {
		int fd = open(p, O_PATH | O_CLOEXEC);
		if (fd >= 0 || strcmp(p, "/") == 0)
			return fd;
		char *slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* A directory the sandbox may write (an rw workspace, written as its directory's owner,
 * root's too; an rw bind) must not reach what bulwark runs or trusts: the binary, its network
 * helper, the state root (state.json's cleanup record and config.json's hooks run as the caller
 * at teardown), the id pool. Judged by file system and path from its root, not by the names
 * used: a bind mount elsewhere of the same directory is the same directory; a program with
 * other hard links on the same file system counts as reached. */
static int refuse_reaching_runtime(int const *dirs, char *const *labels, size_t n,
				   const char *state_root, struct bw_error *err)
{
	if (n == 0)
		return 0;
	const char *helper = network_helper_path();
	if (helper == NULL || helper[0] != '/')
		return bw_fail(err, 0,
			       "network helper `%s`: not an absolute path (BULWARK_NET_HELPER)",
			       helper ? helper : "");
	const char *names[] = {network_self_exe(), helper, state_root, IDPOOL_DIR};
	struct mountinfo *m = NULL;
	size_t nm = 0;
	_cleanup_free_ char *text = NULL;
	int r = fs_read_file("/proc/self/mountinfo", 64u << 20, &text, NULL, err);
	if (r == 0)
		r = mountinfo_parse(text, &m, &nm, err);
	for (size_t t = 0; r == 0 && t < ARRAY_SIZE(names); t++) {
		_cleanup_close_ int tfd = open_or_ancestor(names[t]);
		struct fs_place tp = {0};
		if (tfd < 0)
			continue;
		if (fs_place_of(tfd, m, nm, &tp, err) < 0) {
			r = bw_wrap(err, "%s", names[t]);
			break;
		}
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct fs_place dp = {0};
			if (fs_place_of(dirs[i], m, nm, &dp, err) < 0) {
				r = bw_wrap(err, "%s", labels[i]);
				break;
			}
			if (dp.dev == tp.dev && (tp.multi_link || fs_path_within(tp.rel, dp.rel)))
				r = bw_fail(
				    err, 0,
				    "%s: it reaches %s, which bulwark runs or trusts (a path of "
				    "its file system, or a hard link): the sandbox could replace "
				    "it; make it read-only (or :overlay), or keep bulwark and its "
				    "state elsewhere",
				    labels[i], names[t]);
			free(dp.rel);
		}
		free(tp.rel);
	}
	mountinfo_free(m, nm);
	if (r < 0 && err->msg[0] == '\0')
		bw_fail(err, 0, "checking what the sandbox may write");
	return r;
}

/* Every rw workspace and rw --bind, checked by refuse_reaching_runtime. */
int sandbox_refuse_writable_reaching_runtime(const struct global_opts *g, const struct specgen *sg,
					     const struct hostpath_list *known,
					     const struct workspace_set *ws, struct bw_error *err)
{
	size_t cap = ws->n + sg->n_binds, n = 0;
	int *dirs = xcalloc(cap ? cap : 1, sizeof(*dirs));
	char **labels = xcalloc(cap ? cap : 1, sizeof(*labels));
	int r = 0;
	dev_t bin_dev;
	bool unsealed = cli_seal_skipped(&bin_dev);
	struct stat st;
	for (size_t i = 0; i < ws->n; i++)
		if (ws->v[i].mode == WORKSPACE_RW) {
			/* Decided by name before the flags were opened: the opened one must agree.
			 */
			if (unsealed && (fstat(ws->v[i].fd, &st) < 0 || st.st_dev == bin_dev))
				r = bw_fail(
				    err, 0,
				    "%s: changed while bulwark started (now on the binary's "
				    "file system)",
				    ws->v[i].label);
			dirs[n] = dup(ws->v[i].fd);
			labels[n++] = xstrdup(ws->v[i].label);
		}
	for (size_t j = 0; r == 0 && j < sg->n_binds; j++) {
		bool workspace = false;
		for (size_t i = 0; i < ws->n; i++)
			workspace = workspace || strcmp(ws->v[i].path, sg->binds[j].source) == 0;
		const struct hostpath *hp = hostpath_find(known, sg->binds[j].source);
		if (sg->binds[j].readonly || workspace || hp == NULL)
			continue;
		dirs[n] = hostpath_reopen(hp, 0, err);
		labels[n] = xstrdup(hp->label);
		if (dirs[n++] < 0)
			r = -1;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (dirs[i] < 0)
			r = bw_fail(err, errno, "%s", labels[i]);
	if (r == 0)
		r = refuse_reaching_runtime(dirs, labels, n, cli_state_root(g), err);
	for (size_t i = 0; i < n; i++) {
		if (dirs[i] >= 0)
			close(dirs[i]);
		free(labels[i]);
	}
	free(dirs);
	free(labels);
	return r;
}
