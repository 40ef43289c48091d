/* Host paths resolved once (see hostpath.h and docs/security-paths). A path is looked up by
 * name exactly once when bulwark first reads it; afterwards only its fd, or its recorded
 * identity, is trusted. */
#include "runtime/hostpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

int hostpath_open(int dirfd, const char *path, bool follow, const char *label, struct bw_error *err)
{
	int flags = O_PATH | O_CLOEXEC;
	int fd = follow ? openat(dirfd, path, flags) : fs_open_nolinks(dirfd, path, flags);
	if (fd >= 0)
		return fd;
	if (!follow && errno == ELOOP)
		return bw_fail(err, 0,
			       "%s: the path goes through a symbolic link, which bulwark does not "
			       "follow (an earlier sandbox could have planted it); check where it "
			       "leads before naming another path",
			       label);
	return bw_fail(err, errno, "%s", label);
}

char *hostpath_fd_path(int fd, struct bw_error *err)
{
	char buf[32], target[PATH_MAX];
	ssize_t n = readlink(fs_fd_path(fd, buf), target, sizeof(target) - 1);
	if (n < 0 || (size_t)n >= sizeof(target) - 1)
		return bw_fail(err, n < 0 ? errno : ENAMETOOLONG, "readlink `%s`", buf), NULL;
	target[n] = '\0';
	if (target[0] != '/')
		return bw_fail(err, ENOENT, "`%s` has no path (%s)", buf, target), NULL;
	return xstrdup(target);
}

int hostpath_from_fd(int fd, const char *label, bool mount_root, struct hostpath *hp,
		     struct bw_error *err)
{
	struct stat st;
	memset(hp, 0, sizeof(*hp));
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "%s: stat", label);
	hp->path = hostpath_fd_path(fd, err);
	if (hp->path == NULL)
		return bw_wrap(err, "%s", label);
	hp->dev = st.st_dev;
	hp->ino = st.st_ino;
	hp->mode = st.st_mode;
	hp->mount_root = mount_root;
	hp->label = xstrdup(label);
	return 0;
}

static bool is_mount_root(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0)
		return false;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int hostpath_reopen(const struct hostpath *hp, int flags, struct bw_error *err)
{
	if (hp->held) {
		int d = fcntl(hp->held_fd, F_DUPFD_CLOEXEC, 3);
		return d >= 0 ? d : bw_fail(err, errno, "%s: dup", hp->label);
	}
	_cleanup_close_ int fd = fs_open_nolinks(AT_FDCWD, hp->path, O_PATH | O_CLOEXEC | flags);
	if (fd < 0 && errno == ELOOP)
		return bw_fail(err, 0,
			       "%s: `%s` changed after it was checked (a symbolic link is now on "
			       "the way); refusing",
			       hp->label, hp->path);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return bw_fail(err, errno,
			       "%s: `%s` cannot be opened from the container's user namespace (a "
			       "parent directory is closed to its ids, e.g. a 0700 home)",
			       hp->label, hp->path);
	if (fd < 0 && errno == ENOENT)
		return bw_fail(err, errno,
			       "%s: `%s` changed after it was checked (it is gone); refusing",
			       hp->label, hp->path);
	if (fd < 0)
		return bw_fail(err, errno, "%s: reopen `%s`", hp->label, hp->path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "%s: stat `%s`", hp->label, hp->path);
	if (st.st_dev != hp->dev || st.st_ino != hp->ino)
		return bw_fail(err, 0,
			       "%s: `%s` changed after it was checked (it now names another "
			       "file); refusing",
			       hp->label, hp->path);
	if (hp->mount_root && !is_mount_root(fd))
		return bw_fail(err, 0,
			       "%s: `%s` changed after it was checked (not the mount bulwark "
			       "prepared); refusing",
			       hp->label, hp->path);
	return steal_fd(&fd);
}

const struct hostpath *hostpath_find(const struct hostpath_list *list, const char *path)
{
	for (size_t i = 0; list != NULL && i < list->n; i++)
		if (strcmp(list->v[i].path, path) == 0)
			return &list->v[i];
	return NULL;
}

void hostpath_list_add(struct hostpath_list *list, const struct hostpath *hp)
{
	/* A later record of the same path wins: a workspace's stacked mount covers a --bind of
	 * the same directory, and the init's lookup of that path then finds the mount. */
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->v[i].path, hp->path) == 0) {
			hostpath_clear(&list->v[i]);
			list->v[i] = *hp;
			return;
		}
	list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
	list->v[list->n++] = *hp;
}

void hostpath_clear(struct hostpath *hp)
{
	free(hp->path);
	free(hp->label);
	memset(hp, 0, sizeof(*hp));
}

void hostpath_drop_held(struct hostpath *hp)
{
	if (hp == NULL || !hp->held)
		return;
	close(hp->held_fd);
	hp->held = false;
	hp->held_fd = -1;
}

void hostpath_list_free(struct hostpath_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		hostpath_clear(&list->v[i]);
	free(list->v);
	memset(list, 0, sizeof(*list));
}
