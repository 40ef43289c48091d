/* Workspaces of `bulwark sandbox`: checking the flags, and the host side of rw and overlay
 * workspaces. The sandbox runs in a user namespace, where the kernel refuses to idmap a host
 * file system, so the runtime (real root) builds the mounts itself in a private mount namespace
 * that the sandbox's namespace copies; the overlay's scratch is a tmpfs attached nowhere. */
#include "runtime/sandbox/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/hostpath.h"

static const char *const mode_names[] = {"ro", "rw", "overlay"};

/* ---- checking the flags (nothing is changed) ------------------------------------------------ */

/* "DIR[:MODE]": the last colon starts a mode unless what follows it looks like a path. */
static int split_mode(const char *arg, char **dir, enum workspace_mode *mode, struct bw_error *err)
{
	const char *colon = strrchr(arg, ':');
	*mode = WORKSPACE_RO;
	if (colon == NULL || strchr(colon, '/') != NULL) {
		*dir = xstrdup(arg);
		return 0;
	}
	for (size_t m = 0; m < ARRAY_SIZE(mode_names); m++)
		if (strcmp(colon + 1, mode_names[m]) == 0) {
			*mode = (enum workspace_mode)m;
			*dir = xstrndup(arg, (size_t)(colon - arg));
			return 0;
		}
	return bw_fail(err, 0, "--workspace %s: mode must be ro, rw or overlay, got \"%s\"", arg,
		       colon + 1);
}

size_t workspace_rw_devs(char *const *args, dev_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		_cleanup_free_ char *dir = NULL;
		enum workspace_mode mode;
		struct bw_error e = {0};
		struct stat st;
		if (split_mode(args[i], &dir, &mode, &e) < 0)
			continue; /* refused later, by workspace_parse */
		if (mode != WORKSPACE_RW)
			continue;
		if (n == max || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return SIZE_MAX;
		out[n++] = st.st_dev;
	}
	return n;
}

static int parse_one(const char *arg, struct workspace *w, struct bw_error *err)
{
	_cleanup_free_ char *dir = NULL;
	if (split_mode(arg, &dir, &w->mode, err) < 0)
		return -1;
	if (dir[0] == '\0')
		return bw_fail(err, 0, "--workspace %s: expected DIR[:ro|rw|overlay]", arg);
	w->label = xasprintf("--workspace %s", arg);
	/* A symlink on the way (one a sandbox may have planted in an earlier run, or is
	 * swapping right now) could turn the workspace into /etc or ~/.ssh: none is followed. */
	w->fd = hostpath_open(AT_FDCWD, dir, false, w->label, err);
	if (w->fd < 0)
		return -1;
	struct stat st;
	if (fstat(w->fd, &st) < 0)
		return bw_fail(err, errno, "%s", w->label);
	if (!S_ISDIR(st.st_mode))
		return bw_fail(err, 0, "%s: not a directory", w->label);
	if ((w->path = hostpath_fd_path(w->fd, err)) == NULL)
		return bw_wrap(err, "%s", w->label);
	if (strcmp(w->path, "/") == 0)
		return bw_fail(err, 0,
			       "--workspace %s: the whole file system cannot be a workspace", arg);
	const char *const system[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < ARRAY_SIZE(system); i++)
		if (fs_path_within(w->path, system[i]))
			return bw_fail(err, 0, "--workspace %s: %s belongs to the sandbox itself",
				       arg, system[i]);
	w->owner_uid = st.st_uid;
	w->owner_gid = st.st_gid;
	w->root_mode = st.st_mode & 07777;
	/* Rootless, the sandbox's one mapped id is the caller's: DIR is written as the caller,
	 * bound as it is (no idmapped mount, which needs root); an overlay is built by the
	 * sandbox's init in its own user namespace, where only the caller's files can be copied
	 * up (another owner's are unmapped). */
	if (geteuid() != 0 && w->mode != WORKSPACE_RO && st.st_uid != geteuid())
		return bw_fail(err, 0,
			       "--workspace %s: owned by uid %u; without root an %s workspace must "
			       "be the caller's own",
			       arg, (unsigned)st.st_uid, mode_names[w->mode]);
	return 0;
}

static int check_overlaps(const struct workspace_set *ws, const char *state_root,
			  struct bw_error *err)
{
	_cleanup_free_ char *root = state_root ? realpath(state_root, NULL) : NULL;
	if (root == NULL && state_root != NULL && state_root[0] == '/')
		root = fs_path_clean(state_root); /* not created yet */
	for (size_t i = 0; i < ws->n; i++) {
		const char *p = ws->v[i].path;
		if (root != NULL && (fs_path_within(p, root) || fs_path_within(root, p)))
			return bw_fail(err, 0,
				       "--workspace %s: overlaps bulwark's state directory %s", p,
				       root);
		for (size_t k = 0; k < i; k++)
			if (fs_path_within(p, ws->v[k].path) || fs_path_within(ws->v[k].path, p))
				return bw_fail(err, 0, "--workspace %s: overlaps --workspace %s", p,
					       ws->v[k].path);
	}
	return 0;
}

static int dir_is_empty(int dirfd, const char *name, const char *path, struct bw_error *err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno == ENOTDIR ? 0 : errno, "--keep-changes %s: %s", path,
			       errno == ENOTDIR ? "exists and is not a directory" : "open");
	DIR *d = fdopendir(fd);
	if (d == NULL)
		return bw_fail(err, errno, "--keep-changes %s", path);
	fd = -1; /* owned by d now */
	int entries = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			entries++;
	closedir(d);
	if (entries > 0)
		return bw_fail(err, 0, "--keep-changes %s: must not exist or be an empty directory",
			       path);
	return 0;
}

/* The directory itself may not exist yet: resolve its parent, keep its last name. */
static int parse_keep(const char *keep, struct workspace_set *ws, struct bw_error *err)
{
	size_t overlays = 0;
	for (size_t i = 0; i < ws->n; i++)
		overlays += ws->v[i].mode == WORKSPACE_OVERLAY;
	if (overlays != 1)
		return bw_fail(
		    err, 0, "--keep-changes: needs exactly one --workspace DIR:overlay (%zu given)",
		    overlays);
	_cleanup_free_ char *copy = xstrdup(keep), *copy2 = xstrdup(keep);
	char *base = basename(copy), *parent = dirname(copy2);
	if (keep[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0)
		return bw_fail(err, 0, "--keep-changes \"%s\": expected a directory to create",
			       keep);
	/* No symlink on the way to the parent, which is opened once: the directory is made and
	 * filled below that fd, whatever happens to the path meanwhile. */
	_cleanup_free_ char *label = xasprintf("--keep-changes %s: parent directory", keep);
	ws->keep_parent_fd = hostpath_open(AT_FDCWD, parent, false, label, err);
	if (ws->keep_parent_fd < 0)
		return -1;
	_cleanup_free_ char *real_parent = hostpath_fd_path(ws->keep_parent_fd, err);
	if (real_parent == NULL)
		return bw_wrap(err, "%s", label);
	ws->keep_name = xstrdup(base);
	char *full = fs_path_join(real_parent, base);
	ws->keep_dir = full;
	for (size_t i = 0; i < ws->n; i++)
		if (fs_path_within(full, ws->v[i].path))
			return bw_fail(err, 0,
				       "--keep-changes %s: must not be inside the workspace %s",
				       keep, ws->v[i].path);
	struct stat st;
	if (fstatat(ws->keep_parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "--keep-changes %s", keep);
	return dir_is_empty(ws->keep_parent_fd, base, full, err);
}

static int private_mount_ns(struct bw_error *err)
{
	static bool done;
	if (done)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return bw_fail(err, errno, "--workspace: a private mount namespace (needs root)");
	/* Our mounts must not propagate back into the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return bw_fail(err, errno, "--workspace: make the private mount namespace a slave");
	done = true;
	return 0;
}

/* Is any workspace rw or overlay (the mode as split_mode reads it)? */
static bool needs_private_ns(char *const *args)
{
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		const char *colon = strrchr(args[i], ':');
		if (colon != NULL && (strcmp(colon, ":rw") == 0 || strcmp(colon, ":overlay") == 0))
			return true;
	}
	return false;
}

int workspace_parse(char *const *args, const char *keep, const char *state_root,
		    struct workspace_set *ws, struct bw_error *err)
{
	ws->n = strv_len(args);
	ws->v = xcalloc(ws->n + 1, sizeof(*ws->v));
	ws->keep_parent_fd = -1;
	for (size_t i = 0; i < ws->n; i++)
		ws->v[i].scratch_fd = ws->v[i].fd = ws->v[i].mnt_fd = -1;
	/* The mounts are stacked through the fds opened below: they must be of the namespace
	 * the mounts go into (move_mount refuses another namespace's). */
	if (geteuid() == 0 && needs_private_ns(args) && private_mount_ns(err) < 0)
		return -1;
	for (size_t i = 0; i < ws->n; i++)
		if (parse_one(args[i], &ws->v[i], err) < 0)
			return -1;
	if (check_overlaps(ws, state_root, err) < 0)
		return -1;
	return keep != NULL ? parse_keep(keep, ws, err) : 0;
}

/* ---- id mapping ----------------------------------------------------------------------------- */

static char *map_append(char *text, uint32_t disk, uint32_t host, uint32_t count)
{
	if (count == 0)
		return text;
	char *next = xasprintf("%s%u %u %u\n", text, disk, host, count);
	free(text);
	return next;
}

char *workspace_idmap(uint32_t owner, uint32_t target, uint32_t base, uint32_t size)
{
	uint32_t lo = owner < target ? owner : target, hi = owner < target ? target : owner;
	uint32_t points[2] = {lo, hi};
	size_t np = owner == target ? 1 : 2;
	char *text = xstrdup("");
	uint32_t from = 0;
	for (size_t k = 0; k < np && points[k] < size; k++) {
		uint32_t p = points[k];
		text = map_append(text, from, base + from, p - from);
		if (p == owner)
			text = map_append(text, p, base + target, 1);
		else if (owner < size) /* p is the target: it takes the owner's place */
			text = map_append(text, p, base + owner, 1);
		from = p + 1;
	}
	if (from < size)
		text = map_append(text, from, base + from, size - from);
	if (owner >= size) /* outside the map: only the owner itself is shown, as the target */
		text = map_append(text, owner, base + target, 1);
	return text;
}

/* A user namespace carrying the maps, held by an fd; the process that made it is gone. */
static int idmap_userns(const char *umap, const char *gmap, struct bw_error *err)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		char c = unshare(CLONE_NEWUSER) == 0 ? 0 : 1;
		(void)!write(ready[1], &c, 1);
		pause(); /* until killed below */
		_exit(0);
	}
	close(ready[1]);
	char c = 1;
	int fd = -1;
	if (pid > 0 && read(ready[0], &c, 1) == 1 && c == 0) {
		_cleanup_free_ char *u = xasprintf("/proc/%d/uid_map", (int)pid);
		_cleanup_free_ char *g = xasprintf("/proc/%d/gid_map", (int)pid);
		_cleanup_free_ char *ns = xasprintf("/proc/%d/ns/user", (int)pid);
		if (fs_write_file(u, umap, err) == 0 && fs_write_file(g, gmap, err) == 0 &&
		    (fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0)
			bw_fail(err, errno, "open `%s`", ns);
	} else {
		bw_fail(err, pid < 0 ? errno : EPERM, "user namespace for an idmapped mount");
	}
	close(ready[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return fd;
}

/* A detached, non-recursive clone of DIR on which the owner's files are the sandbox user's. */
static int idmapped_clone(const struct workspace *w, const struct workspace_ids *ids,
			  struct bw_error *err)
{
	const char *mode = mode_names[w->mode];
	_cleanup_close_ int tree =
	    open_tree(w->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return bw_fail(err, errno, "--workspace %s:%s: open_tree", w->path, mode);
	_cleanup_free_ char *umap =
	    workspace_idmap(w->owner_uid, ids->uid, ids->base_uid, ids->size);
	_cleanup_free_ char *gmap =
	    workspace_idmap(w->owner_gid, ids->gid, ids->base_gid, ids->size);
	_cleanup_close_ int ns = idmap_userns(umap, gmap, err);
	if (ns < 0)
		return bw_wrap(err, "--workspace %s:%s", w->path, mode);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return bw_fail(
		    err, errno,
		    "--workspace %s:%s: its file system cannot do idmapped mounts, which "
		    "%s needs so that the sandbox user writes as the directory's owner",
		    w->path, mode, mode);
	return steal_fd(&tree);
}

/* ---- overlay -------------------------------------------------------------------------------- */

int workspace_scratch_tmpfs(int64_t size, uid_t uid, gid_t gid, mode_t mode, struct bw_error *err)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return bw_fail(err, errno, "fsopen tmpfs");
	_cleanup_free_ char *sz = size > 0 ? xasprintf("%lld", (long long)size) : xstrdup("50%");
	/* Files as bytes: one per 4 KiB page of the size (sandbox --disk). */
	_cleanup_free_ char *ino =
	    size >= 4096 ? xasprintf("%lld", (long long)(size / 4096)) : NULL;
	if (fs_config_str(fs, "source", "bulwark-scratch", err) < 0 ||
	    fs_config_str(fs, "size", sz, err) < 0 || fs_config_str(fs, "mode", "0700", err) < 0 ||
	    (ino != NULL && fs_config_str(fs, "nr_inodes", ino, err) < 0))
		return -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return bw_fail(err, errno, "create the scratch tmpfs");
	_cleanup_close_ int mnt =
	    fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return bw_fail(err, errno, "fsmount the scratch tmpfs");
	if (mkdirat(mnt, "upper", 0700) < 0 || fchownat(mnt, "upper", uid, gid, 0) < 0 ||
	    fchmodat(mnt, "upper", mode, 0) < 0 || mkdirat(mnt, "work", 0700) < 0)
		return bw_fail(err, errno, "prepare the scratch tmpfs");
	return steal_fd(&mnt);
}

/* Layers are named through /proc/self/fd: the kernel accepts the root of a detached mount. */
static int overlay_mount(int lower, int scratch, struct bw_error *err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return bw_fail(err, errno, "fsopen overlay");
	char buf[32];
	_cleanup_free_ char *upper = xasprintf("%s/upper", fs_fd_path(scratch, buf));
	_cleanup_free_ char *work = xasprintf("%s/work", fs_fd_path(scratch, buf));
	/* redirect_dir: a directory from the lower layer can be renamed (else EXDEV);
	 * no metacopy: a changed file is whole in the upper layer. */
	if (fs_config_str(fs, "source", "bulwark-workspace", err) < 0 ||
	    fs_config_str(fs, "lowerdir", fs_fd_path(lower, buf), err) < 0 ||
	    fs_config_str(fs, "upperdir", upper, err) < 0 ||
	    fs_config_str(fs, "workdir", work, err) < 0 ||
	    fs_config_str(fs, "redirect_dir", "on", err) < 0 ||
	    fs_config_str(fs, "metacopy", "off", err) < 0 ||
	    fs_config_str(fs, "index", "off", err) < 0)
		return -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return bw_fail(err, errno, "create the overlay");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return bw_fail(err, errno, "fsmount the overlay");
	return mnt;
}

static int stack(struct workspace *w, const struct workspace_ids *ids, int64_t scratch_size,
		 struct bw_error *err)
{
	_cleanup_close_ int top = idmapped_clone(w, ids, err);
	if (top < 0)
		return -1;
	if (w->mode == WORKSPACE_OVERLAY) {
		/* upper/ is the overlay's root: DIR's mode, and the sandbox user's ids as the
		 * idmapped lower shows them for DIR's owner. */
		w->scratch_fd =
		    workspace_scratch_tmpfs(scratch_size, ids->base_uid + ids->uid,
					    ids->base_gid + ids->gid, w->root_mode, err);
		int ov = w->scratch_fd < 0 ? -1 : overlay_mount(top, w->scratch_fd, err);
		if (ov < 0)
			return bw_wrap(err, "--workspace %s:overlay", w->path);
		close(top);
		top = ov;
	}
	/* Onto the directory checked, never onto what its path names now. */
	if (move_mount(top, "", w->fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return bw_fail(err, errno, "--workspace %s: attach in the private mount namespace",
			       w->path);
	w->stacked = true;
	/* Our namespace is a slave of the host's, and so was the clone: a host mount made under
	 * DIR before the sandbox's init turns everything private would show up inside. */
	struct mount_attr priv = {.propagation = MS_PRIVATE};
	if (mount_setattr(top, "", AT_EMPTY_PATH, &priv, sizeof(priv)) < 0)
		return bw_fail(err, errno, "--workspace %s: make the mount private", w->path);
	w->mnt_fd = steal_fd(&top);
	return 0;
}

int workspace_prepare(struct workspace_set *ws, const struct workspace_ids *ids,
		      int64_t scratch_size, struct bw_error *err)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct workspace *w = &ws->v[i];
		w->scratch_size = scratch_size;
		if (w->mode == WORKSPACE_RO || w->stacked || geteuid() != 0)
			continue;
		if (stack(w, ids, scratch_size, err) < 0)
			return -1;
	}
	return 0;
}

int workspace_sources(struct workspace_set *ws, struct hostpath_list *out, struct bw_error *err)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct workspace *w = &ws->v[i];
		struct hostpath hp;
		bool stacked = w->mnt_fd >= 0;
		if (hostpath_from_fd(stacked ? w->mnt_fd : w->fd, w->label, stacked, &hp, err) < 0)
			return -1;
		/* The path the spec names (DIR's when it was opened): the directory may have been
		 * renamed since, and the init must then refuse, not follow it. */
		free(hp.path);
		hp.path = xstrdup(w->path);
		/* Rootless: nothing was stacked; the init builds the overlay (hostpath.h), once:
		 * a --bind or --ro of the same directory would be a second overlay with its own
		 * upper layer, and --keep-changes would keep only one of them. */
		if (w->mode == WORKSPACE_OVERLAY && !stacked && hostpath_find(out, w->path) != NULL)
			return bw_fail(err, 0,
				       "%s: the directory is also given to --bind or --ro; "
				       "without root an overlay workspace is shown at its own path "
				       "only",
				       w->label);
		if (w->mode == WORKSPACE_OVERLAY && !stacked) {
			hp.overlay = true;
			hp.scratch_size = w->scratch_size;
			hp.scratch_out = &w->scratch_fd;
		}
		hostpath_list_add(out, &hp);
	}
	return 0;
}

int64_t workspace_bytes_written(const struct workspace_set *ws)
{
	int64_t total = 0;
	if (ws->n == 0)
		return -1;
	for (size_t i = 0; i < ws->n; i++) {
		const struct workspace *w = &ws->v[i];
		struct statfs sf;
		if (w->mode == WORKSPACE_RO)
			continue;
		if (w->mode == WORKSPACE_RW || w->scratch_fd < 0 || fstatfs(w->scratch_fd, &sf) < 0)
			return -1;
		total += (int64_t)(sf.f_blocks - sf.f_bfree) * (int64_t)sf.f_bsize;
	}
	return total;
}

static const struct workspace *the_overlay(const struct workspace_set *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		if (ws->v[i].mode == WORKSPACE_OVERLAY)
			return &ws->v[i];
	return NULL;
}

/* Created (or found empty) now: the run may have taken long. Until the copy is complete the
 * directory is root's and 0700, so that nobody can swap what we create in it for a link. */
static int open_keep_dir(const struct workspace_set *ws, bool *created, mode_t *orig_mode,
			 struct bw_error *err)
{
	const char *path = ws->keep_dir;
	int parent = ws->keep_parent_fd;
	*created = mkdirat(parent, ws->keep_name, 0700) == 0;
	if (!*created && errno != EEXIST)
		return bw_fail(err, errno, "--keep-changes: mkdir `%s`", path);
	if (!*created && dir_is_empty(parent, ws->keep_name, path, err) < 0)
		return -1;
	_cleanup_close_ int fd =
	    openat(parent, ws->keep_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "--keep-changes: open `%s`", path);
	*orig_mode = st.st_mode & 07777;
	if (fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0700) < 0)
		return bw_fail(err, errno, "--keep-changes: chown `%s`", path);
	return steal_fd(&fd);
}

/* Undo a failed copy through the fd (the path may have been replaced meanwhile). */
static void empty_keep_dir(int fd, const struct workspace_set *ws, bool created, mode_t orig_mode)
{
	const char *path = ws->keep_dir;
	struct bw_error e = {0};
	char buf[32];
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup < 0 ? NULL : fdopendir(dup);
	for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", fs_fd_path(fd, buf), de->d_name);
		fs_remove_tree(p, &e);
	}
	if (d != NULL)
		closedir(d);
	if (created && unlinkat(ws->keep_parent_fd, ws->keep_name, AT_REMOVEDIR) < 0)
		log_warn("--keep-changes: remove `%s`: %s", path, strerror(errno));
	if (!created && fchmod(fd, orig_mode) < 0)
		log_warn("--keep-changes: restore the mode of `%s`: %s", path, strerror(errno));
}

/* The group the kept changes get: DIR's, unless the caller (without root) may not give it. */
static gid_t keep_gid(gid_t owner_gid)
{
	if (geteuid() == 0 || getegid() == owner_gid)
		return owner_gid;
	int n = getgroups(0, NULL);
	_cleanup_free_ gid_t *groups = n > 0 ? xcalloc((size_t)n, sizeof(*groups)) : NULL;
	n = groups != NULL ? getgroups(n, groups) : 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == owner_gid)
			return owner_gid;
	return getegid();
}

int workspace_keep_changes(const struct workspace_set *ws, struct bw_error *err)
{
	const struct workspace *w = the_overlay(ws);
	if (ws->keep_dir == NULL || w == NULL)
		return 0;
	if (w->scratch_fd < 0)
		return bw_fail(err, 0, "--keep-changes: the overlay was never set up");
	_cleanup_close_ int src =
	    openat(w->scratch_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return bw_fail(err, errno, "--keep-changes: open the upper layer");
	bool created = false;
	mode_t orig_mode = 0;
	_cleanup_close_ int dst = open_keep_dir(ws, &created, &orig_mode, err);
	if (dst < 0)
		return -1;
	mode_t mode = created ? (w->root_mode & 0777) : orig_mode;
	/* What the scratch layer holds, plus room for rounding: no more may reach the host. */
	int64_t budget = workspace_bytes_written(ws);
	budget = (budget < 0 ? 0 : budget) + (1 << 20);
	gid_t gid = keep_gid(w->owner_gid);
	if (workspace_copy_tree(src, dst, w->owner_uid, gid, budget, err) < 0 ||
	    fchown(dst, w->owner_uid, gid) < 0 || fchmod(dst, mode) < 0) {
		if (errno != 0 && !bw_error_is_set(err))
			bw_fail(err, errno, "chown");
		empty_keep_dir(dst, ws, created, orig_mode);
		return bw_wrap(err, "--keep-changes %s", ws->keep_dir);
	}
	return 0;
}

void workspace_release(struct workspace_set *ws)
{
	char buf[32];
	for (size_t i = 0; i < ws->n; i++) {
		struct workspace *w = &ws->v[i];
		/* The stacked mount itself, through its fd: its path may name something else now.
		 */
		if (w->stacked && umount2(fs_fd_path(w->mnt_fd, buf), MNT_DETACH) < 0)
			log_warn("--workspace %s: unmount: %s", w->path, strerror(errno));
		int *fds[] = {&w->scratch_fd, &w->mnt_fd, &w->fd};
		for (size_t k = 0; k < ARRAY_SIZE(fds); k++)
			if (*fds[k] >= 0)
				close(*fds[k]);
		free(w->path);
		free(w->label);
	}
	/* keep_parent_fd is set (-1 or open) once workspace_parse has run, which v says. */
	if (ws->v != NULL && ws->keep_parent_fd >= 0)
		close(ws->keep_parent_fd);
	free(ws->v);
	free(ws->keep_dir);
	free(ws->keep_name);
	memset(ws, 0, sizeof(*ws));
}
