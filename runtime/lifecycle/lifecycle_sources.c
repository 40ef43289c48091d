/* The host paths a create resolves once: root.path and every bind source (hostpath.h), the
 * refusal of the host's own root, whether root.path's mountpoints may be made, and
 * NOTIFY_SOCKET's notify directory as one more bind mount. */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/hostpath.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/notify.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_mountinfo.h"

/* A host path of the spec, resolved once (relative ones below the bundle's fd), unless the
 * caller (sandbox) resolved its paths itself: then its record is the only one trusted, and a
 * path it did not resolve is refused rather than looked up a second time. */
static int resolve_one(int bundlefd, const char *path, const struct hostpath_list *known,
		       const char *label, struct hostpath *hp, struct bw_error *err)
{
	if (known != NULL) {
		const struct hostpath *k = hostpath_find(known, path);
		if (k == NULL)
			return bw_fail(err, 0,
				       "%s: `%s` was not resolved when it was read; refusing",
				       label, path);
		*hp = *k;
		hp->path = xstrdup(k->path);
		hp->label = xstrdup(k->label);
		return 0;
	}
	_cleanup_close_ int fd = hostpath_open(bundlefd, path, true, label, err);
	if (fd < 0 || hostpath_from_fd(fd, label, false, hp, err) < 0)
		return -1;
	return 0;
}

/* root.path and every bind source are opened here, once, and what they are is recorded; the
 * init opens the canonical path again without following symlinks and refuses anything else
 * (it cannot use our fds: the kernel clones only mounts of the caller's own namespace). */
int lifecycle_resolve_sources(const char *bundle, const struct oci_spec *spec,
			      const struct hostpath_list *known, struct hostpath *root,
			      struct hostpath **mounts, struct bw_error *err)
{
	_cleanup_close_ int bfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return bw_fail(err, errno, "bundle `%s`", bundle);
	_cleanup_free_ char *rlabel = xasprintf("root.path `%s`", spec->root_path);
	if (resolve_one(bfd, spec->root_path, known, rlabel, root, err) < 0)
		return -1;
	if (!S_ISDIR(root->mode))
		return bw_fail(err, ENOTDIR, "root.path: `%s`", spec->root_path);
	*mounts = xcalloc(spec->n_mounts + 1, sizeof(**mounts));
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		if (!rootfs_mount_is_bind(m) || m->source == NULL || m->source[0] == '\0')
			continue;
		_cleanup_free_ char *label = xasprintf("mounts[%zu].source `%s`", i, m->source);
		if (resolve_one(bfd, m->source, known, label, &(*mounts)[i], err) < 0)
			return -1;
	}
	return 0;
}

void lifecycle_free_sources(struct hostpath *root, struct hostpath *mounts, size_t n)
{
	hostpath_clear(root);
	for (size_t i = 0; mounts != NULL && i < n; i++)
		hostpath_clear(&mounts[i]);
	free(mounts);
}

/* The host's root directory as a container's root, however reached (/, /tmp/.., a link or a
 * bind mount of /), is refused: a container on it would own the host. A symlink the bundle's
 * author placed (bundle/rootfs -> /images/x) is resolved once and grants nothing an absolute
 * root.path would not (runc 1.1.5 refuses every symlink on the way: "invalid rootfs"). */
int lifecycle_check_not_host_root(const struct hostpath *root, bool allow_host_root,
				  struct bw_error *err)
{
	struct stat host;
	char q[160];
	if (allow_host_root)
		return 0;
	if (stat("/", &host) < 0)
		return bw_fail(err, errno, "stat /");
	if (root->dev == host.st_dev && root->ino == host.st_ino)
		return bw_fail(err, 0,
			       "root.path: invalid rootfs %s: it is the host's root directory",
			       log_quote(q, sizeof(q), root->path));
	return 0;
}

/* Where path is on its file system: the path from that file system's root (the root of the
 * topmost mount holding path, plus the rest), so that a bind mount elsewhere of a directory
 * gives the same answer as the directory. NULL: not found. */
static char *fs_relative(const struct mountinfo *m, size_t n, const char *path)
{
	size_t best = n, best_len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(m[i].mountpoint);
		if (fs_path_within(path, m[i].mountpoint) && (best == n || len >= best_len)) {
			best = i;
			best_len = len;
		}
	}
	if (best == n)
		return NULL;
	const char *rest = strcmp(m[best].mountpoint, "/") == 0 ? path : path + best_len;
	_cleanup_free_ char *joined = xasprintf("%s/%s", m[best].root, rest);
	return fs_path_clean(joined);
}

/* Whether hp is outside each of system[] on its file system, by the path from that file
 * system's root (fs_relative); false when mountinfo cannot tell. */
static bool outside_system_trees(const struct hostpath *hp, const char *const *system,
				 size_t n_system)
{
	const char *root = hp->path;
	struct stat t;
	struct mountinfo *m = NULL;
	size_t nm = 0;
	_cleanup_free_ char *text = NULL;
	struct bw_error e = {0};
	if (fs_read_file("/proc/self/mountinfo", 64u << 20, &text, NULL, &e) < 0 ||
	    mountinfo_parse(text, &m, &nm, &e) < 0)
		return false;
	char *rel = fs_relative(m, nm, root);
	bool ok = rel != NULL;
	for (size_t i = 0; ok && i < n_system; i++) {
		_cleanup_free_ char *srel = NULL;
		if (stat(system[i], &t) < 0 || t.st_dev != hp->dev)
			continue;
		srel = fs_relative(m, nm, system[i]);
		ok = srel != NULL && !fs_path_within(rel, srel);
	}
	free(rel);
	mountinfo_free(m, nm);
	return ok;
}

/* May the runtime make the top-level mountpoints of a root.path the container's ids cannot
 * write (spawn.c serve_create)? Not in the host's own system directories, which a config
 * could name as its root (/etc would get /etc/proc...): only below a directory two levels
 * down, outside those trees. */
bool lifecycle_mountpoints_may_be_made(const struct hostpath *hp)
{
	const char *root = hp->path;
	static const char *const system[] = {"/etc",   "/usr",	 "/bin",    "/sbin", "/lib",
					     "/lib32", "/lib64", "/libx32", "/boot", "/proc",
					     "/sys",   "/dev",	 "/run",    "/root"};
	if (root == NULL || root[0] != '/')
		return false;
	/* ... nor any top-level directory of the host's reached another way (a bind mount of
	 * /etc at /srv/x): compared by inode. */
	static const char *const tops[] = {
	    "/",    "/etc", "/usr",  "/bin", "/sbin", "/lib", "/lib64", "/boot", "/var",  "/home",
	    "/opt", "/srv", "/root", "/run", "/tmp",  "/mnt", "/media", "/dev",	 "/proc", "/sys"};
	const char *second = strchr(root + 1, '/');
	if (second == NULL || second[1] == '\0')
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(system); i++)
		if (fs_path_within(root, system[i]))
			return false;
	struct stat t;
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++)
		if (stat(tops[i], &t) == 0 && t.st_dev == hp->dev && t.st_ino == hp->ino)
			return false;
	/* ... nor a directory below a system tree reached through a bind mount of it or of a
	 * part of it (/usr/local bound at /srv/x: /srv/x/img is /usr/local/img): compared by
	 * file system and the path from its root. Unknown: not made. */
	return outside_system_trees(hp, system, ARRAY_SIZE(system));
}

/* NOTIFY_SOCKET (notify.h): the container's notify directory as one more bind mount, its source
 * resolved here like the config's. Never for a sandbox or a session (they are not services). */
int lifecycle_add_notify_mount(struct container *c, struct oci_spec *spec,
			       const struct hostpath *root, struct hostpath **mounts,
			       struct bw_error *err)
{
	struct hostpath src = {0};
	int r = notify_prepare(c, spec, &src, err);
	if (r <= 0) {
		hostpath_clear(&src);
		return r;
	}
	if (lifecycle_mountpoints_may_be_made(root))
		notify_make_mountpoint(root, spec->mounts[spec->n_mounts - 1].destination);
	*mounts = xrealloc(*mounts, (spec->n_mounts + 1) * sizeof(**mounts));
	(*mounts)[spec->n_mounts - 1] = src;
	memset(&(*mounts)[spec->n_mounts], 0, sizeof(**mounts));
	return 1;
}

/* A failure at the notify mount names NOTIFY_SOCKET: the config has no such mounts[] entry. */
void lifecycle_explain_notify_failure(const struct oci_spec *spec, bool added, struct bw_error *err)
{
	char at[32];
	snprintf(at, sizeof(at), "mounts[%zu]", spec->n_mounts - 1);
	if (added && strstr(err->msg, at) != NULL)
		bw_wrap(
		    err,
		    "NOTIFY_SOCKET: the notify directory's mount at `%s` (%s, added by bulwark)",
		    spec->mounts[spec->n_mounts - 1].destination, at);
}
