/* The "idmap"/"ridmap" mount options: a throwaway child enters a new user namespace, its maps
 * are written from the mount's uidMappings/gidMappings (host ids translated into the init's own
 * user namespace), and that namespace is attached to the detached bind with MOUNT_ATTR_IDMAP. */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

/* Host id range -> the same range as seen from the init's user namespace (its own map). */
static int translate(const char *own_map, uint32_t host, uint32_t size, uint32_t *out)
{
	const char *p = own_map;
	while (*p != '\0') {
		unsigned long long in, outside, count;
		int used = 0;
		if (sscanf(p, "%llu %llu %llu%n", &in, &outside, &count, &used) != 3)
			break;
		if (host >= outside && (unsigned long long)host + size <= outside + count) {
			*out = (uint32_t)(in + (host - outside));
			return 0;
		}
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return -1;
}

static char *render_map(const struct oci_id_mapping *maps, size_t n, const char *own_map,
			const char *field, struct bw_error *err)
{
	char *text = xstrdup("");
	for (size_t k = 0; k < n; k++) {
		uint32_t inside;
		if (translate(own_map, maps[k].host_id, maps[k].size, &inside) < 0) {
			free(text);
			bw_fail(err, EOVERFLOW,
				"%s[%zu]: host ids %" PRIu32 "+%" PRIu32
				" are not mapped in the container's user namespace",
				field, k, maps[k].host_id, maps[k].size);
			return NULL;
		}
		char *next = xasprintf("%s%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", text,
				       maps[k].container_id, inside, maps[k].size);
		free(text);
		text = next;
	}
	return text;
}

static int write_maps(const struct rootfs_ctx *ctx, size_t i, pid_t pid, struct bw_error *err)
{
	const struct oci_mount *m = &ctx->spec->mounts[i];
	const struct oci_id_mapping *uids = m->uid_mappings, *gids = m->gid_mappings;
	size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;
	if (nu == 0 && ng == 0) { /* OCI: default to the container's own mappings */
		uids = ctx->spec->linux.uid_mappings, nu = ctx->spec->linux.n_uid_mappings;
		gids = ctx->spec->linux.gid_mappings, ng = ctx->spec->linux.n_gid_mappings;
	}
	if (nu == 0 || ng == 0)
		return bw_fail(err, EINVAL,
			       "mounts[%zu].options: idmap needs uidMappings and "
			       "gidMappings",
			       i);
	_cleanup_free_ char *own_uid = NULL, *own_gid = NULL, *umap = NULL, *gmap = NULL;
	if (fs_read_file_at(rootfs_state.procfd, "self/uid_map", 1 << 16, &own_uid, err) < 0 ||
	    fs_read_file_at(rootfs_state.procfd, "self/gid_map", 1 << 16, &own_gid, err) < 0)
		return -1;
	umap = render_map(uids, nu, own_uid, "uidMappings", err);
	gmap = umap != NULL ? render_map(gids, ng, own_gid, "gidMappings", err) : NULL;
	if (gmap == NULL)
		return bw_wrap(err, "mounts[%zu]", i);
	_cleanup_free_ char *up = xasprintf("%d/uid_map", (int)pid);
	_cleanup_free_ char *gp = xasprintf("%d/gid_map", (int)pid);
	if (fs_write_file_at(rootfs_state.procfd, up, umap, err) < 0 ||
	    fs_write_file_at(rootfs_state.procfd, gp, gmap, err) < 0)
		return bw_wrap(err, "mounts[%zu]: idmap", i);
	return 0;
}

/* A child parked in a fresh user namespace until *hold is closed. */
static pid_t userns_child(int *hold, struct bw_error *err)
{
	int ready[2], park[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	if (pipe2(park, O_CLOEXEC) < 0) {
		close(ready[0]), close(ready[1]);
		return bw_fail(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]), close(park[1]); /* so that closing *hold reaches EOF here */
		char c = unshare(CLONE_NEWUSER) == 0 ? 0 : (char)errno, x;
		/* Entering a user namespace made us non-dumpable, which hands our /proc files to
		 * the host's root: the init could not write our maps from a user namespace. */
		if (c == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			c = (char)errno;
		(void)!write(ready[1], &c, 1);
		(void)!read(park[0], &x, 1);
		_exit(0);
	}
	int e = errno;
	char c = 1;
	close(ready[1]), close(park[0]);
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		c = EIO;
	close(ready[0]);
	*hold = park[1];
	if (pid < 0 || c != 0) {
		close(park[1]);
		*hold = -1;
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return bw_fail(err, pid < 0 ? e : c, "user namespace for an idmapped mount");
	}
	return pid;
}

int rootfs_idmap(const struct rootfs_ctx *ctx, size_t i, int mntfd, bool recursive,
		 struct bw_error *err)
{
	int hold = -1, r = -1;
	if (rootfs_procfd(err) < 0)
		return bw_wrap(err, "mounts[%zu].options: idmap", i);
	pid_t pid = userns_child(&hold, err);
	if (pid < 0)
		return bw_wrap(err, "mounts[%zu].options", i);
	if (write_maps(ctx, i, pid, err) == 0) {
		_cleanup_free_ char *ns = xasprintf("%d/ns/user", (int)pid);
		_cleanup_close_ int nsfd = openat(rootfs_state.procfd, ns, O_RDONLY | O_CLOEXEC);
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
					  .userns_fd = (uint64_t)nsfd};
		unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
		if (nsfd < 0)
			bw_fail(err, errno, "mounts[%zu].options: open the idmap user namespace",
				i);
		else if (mount_setattr(mntfd, "", flags, &attr, sizeof(attr)) < 0)
			bw_fail(err, errno,
				"mounts[%zu].options: idmapped mount (the source "
				"filesystem must support it and be owned by this user "
				"namespace)",
				i);
		else
			r = 0;
	}
	close(hold);
	waitpid(pid, NULL, 0);
	return r;
}
