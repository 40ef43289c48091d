/* The host side's paths for `bulwark cp` (cp_hostpath.h). The destination is walked one
 * component at a time from "/", each opened O_PATH|O_NOFOLLOW: a symlink is followed (as the
 * caller's lookup would) only while the walk is outside every directory the container can
 * write; inside one it is refused, since the container may have planted it. */
#include "runtime/cp_hostpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define WALK_MAX_DEPTH 256
#define WALK_MAX_LINKS 40

struct guards {
	dev_t dev[64];
	ino_t ino[64];
	size_t n;
};

static void guard_add(struct guards *g, const char *path)
{
	struct stat st;
	if (g->n < ARRAY_SIZE(g->dev) && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		g->dev[g->n] = st.st_dev;
		g->ino[g->n++] = st.st_ino;
	}
}

static bool guarded(const struct guards *g, const struct stat *st)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->dev[i] == st->st_dev && g->ino[i] == st->st_ino)
			return true;
	return false;
}

static bool mount_is_writable_bind(const struct oci_mount *m)
{
	bool bind = m->type != NULL && strcmp(m->type, "bind") == 0;
	for (size_t i = 0; m->options && m->options[i]; i++) {
		if (strcmp(m->options[i], "ro") == 0)
			return false;
		if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
			bind = true;
	}
	return bind && m->source != NULL;
}

/* The host directories the container can write: its root unless read-only, its rw binds. */
static void guards_collect(const struct container *c, const struct oci_spec *spec, struct guards *g)
{
	const char *bundle = c->state.bundle ? c->state.bundle : "/";
	if (!spec->root_readonly && c->state.rootfs != NULL)
		guard_add(g, c->state.rootfs);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		if (!mount_is_writable_bind(m))
			continue;
		_cleanup_free_ char *src =
		    m->source[0] == '/' ? xstrdup(m->source) : fs_path_join(bundle, m->source);
		guard_add(g, src);
	}
}

static char *absolute(const char *path, struct bw_error *err)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		bw_fail(err, errno, "getcwd");
		return NULL;
	}
	return fs_path_join(cwd, path);
}

struct walk {
	int fd[WALK_MAX_DEPTH];
	bool inside[WALK_MAX_DEPTH];
	int n;
};

static void walk_reset(struct walk *w)
{
	while (w->n > 0)
		close(w->fd[--w->n]);
}

static int walk_push(struct walk *w, int fd, bool inside, const char *shown, struct bw_error *err)
{
	if (w->n >= WALK_MAX_DEPTH) {
		close(fd);
		return bw_fail(err, ENAMETOOLONG, "`%s`", shown);
	}
	w->fd[w->n] = fd;
	w->inside[w->n++] = inside;
	return 0;
}

static int walk_root(struct walk *w, const struct guards *g, const char *shown,
		     struct bw_error *err)
{
	struct stat st;
	walk_reset(w);
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "open /");
	return walk_push(w, fd, guarded(g, &st), shown, err);
}

/* One component of the walk; *todo is replaced by a link's expansion when one is followed. */
static int walk_step(struct walk *w, const struct guards *g, const char *comp, char **todo,
		     const char *rest, int *links, const char *shown, struct bw_error *err)
{
	struct stat st;
	int top = w->fd[w->n - 1];
	int fd = openat(top, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "`%s`", shown);
	if (S_ISDIR(st.st_mode))
		return walk_push(w, fd, w->inside[w->n - 1] || guarded(g, &st), shown, err);
	if (!S_ISLNK(st.st_mode)) {
		close(fd);
		return bw_fail(err, ENOTDIR, "`%s`", shown);
	}
	char target[PATH_MAX];
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (w->inside[w->n - 1])
		return bw_fail(err, ELOOP,
			       "`%s`: `%s` is a symlink in a directory the container can write "
			       "(not followed)",
			       shown, comp);
	if (n <= 0 || ++*links > WALK_MAX_LINKS)
		return bw_fail(err, n < 0 ? errno : ELOOP, "`%s`", shown);
	target[n] = '\0';
	char *next = xasprintf("%s/%s", target, rest);
	free(*todo);
	*todo = next;
	return target[0] == '/' ? walk_root(w, g, shown, err) : 0;
}

/* The directory at path, walked as described above; an O_PATH fd. */
static int walk_dir(const char *path, const struct guards *g, struct bw_error *err)
{
	struct walk w = {.n = 0};
	int links = 0;
	char *todo = absolute(path, err);
	if (todo == NULL || walk_root(&w, g, path, err) < 0)
		goto fail;
	size_t pos = 0;
	for (;;) {
		while (todo[pos] == '/')
			pos++;
		if (todo[pos] == '\0')
			break;
		size_t len = strcspn(todo + pos, "/");
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX) {
			bw_fail(err, ENAMETOOLONG, "`%s`", path);
			goto fail;
		}
		memcpy(comp, todo + pos, len);
		comp[len] = '\0';
		pos += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (w.n > 1)
				close(w.fd[--w.n]);
			continue;
		}
		_cleanup_free_ char *rest = xstrdup(todo + pos);
		char *before = todo;
		if (walk_step(&w, g, comp, &todo, rest, &links, path, err) < 0)
			goto fail;
		if (todo != before)
			pos = 0;
	}
	free(todo);
	int fd = w.fd[--w.n];
	walk_reset(&w);
	return fd;
fail:
	free(todo);
	walk_reset(&w);
	return -1;
}

int cp_host_open_dest(const char *path, const struct container *c, const struct oci_spec *spec,
		      struct cp_host_dst *out, struct bw_error *err)
{
	struct guards g = {.n = 0};
	*out = (struct cp_host_dst){.dirfd = -1, .name = NULL};
	guards_collect(c, spec, &g);
	size_t n = strlen(path);
	if (n == 0)
		return bw_fail(err, 0, "an empty destination path");
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	/* "dir/", ".", "..": a directory the copy goes into. */
	if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		out->dirfd = walk_dir(path, &g, err);
		return out->dirfd < 0 ? -1 : 0;
	}
	_cleanup_free_ char *parent =
	    slash ? xstrndup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	_cleanup_close_ int pfd = walk_dir(parent, &g, err);
	struct stat st;
	if (pfd < 0)
		return -1;
	if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return bw_fail(err, ELOOP,
				       "`%s`: is a symlink (a destination is never "
				       "followed through one)",
				       path);
		if (S_ISDIR(st.st_mode)) {
			out->dirfd =
			    openat(pfd, last, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			return out->dirfd < 0 ? bw_fail(err, errno, "`%s`", path) : 0;
		}
	} else if (errno != ENOENT) {
		return bw_fail(err, errno, "`%s`", path);
	}
	out->dirfd = steal_fd(&pfd);
	out->name = xstrdup(last);
	return 0;
}

void cp_host_dst_free(struct cp_host_dst *d)
{
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
	free(d->name);
	d->name = NULL;
}

int cp_host_open_source(const char *path, struct bw_error *err)
{
	struct stat a, b;
	_cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &a) < 0)
		return bw_fail(err, errno, "`%s`", path);
	if (S_ISDIR(a.st_mode))
		return openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!S_ISREG(a.st_mode))
		return bw_fail(err, 0, "`%s`: not a regular file or a directory", path);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "`%s`", path);
	if (fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return bw_fail(err, 0, "`%s` changed while being opened", path);
	}
	return fd;
}

char *cp_host_base_name(const char *path)
{
	struct bw_error ignored = {0};
	_cleanup_free_ char *abs = absolute(path, &ignored);
	_cleanup_free_ char *clean = fs_path_clean(abs ? abs : "/");
	const char *b = strrchr(clean, '/');
	b = b ? b + 1 : clean;
	return xstrdup(*b ? b : "root");
}
