/* `sandbox`'s view of the host. The minimal view (the default) is planned here, on the
 * runtime side, from an allowlist of the host's top-level entries; the container's init makes
 * the tmpfs root they are bound on, in its own mount namespace (rootfs_ctx.root_tmpfs), so
 * nothing is ever written on the host. */
#include "runtime/sandbox/sandbox_view.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

/* What every program needs: its binaries, libraries and configuration. Nothing else of the
 * host (/home, /srv, /opt, /var, /mnt, /media, /root, /boot, the host's /run and /tmp...). */
static const char *const allowlist[] = {"usr",	 "bin",	  "sbin",   "lib",
					"lib32", "lib64", "libx32", "etc"};

int sandbox_view_parse(const char *s, enum sandbox_view *v, struct bw_error *err)
{
	if (s == NULL || strcmp(s, "minimal") == 0)
		*v = SANDBOX_VIEW_MINIMAL;
	else if (strcmp(s, "full") == 0)
		*v = SANDBOX_VIEW_FULL;
	else
		return bw_fail(err, 0, "--host-view: expected minimal or full, got \"%s\"", s);
	return 0;
}

const char *sandbox_view_name(enum sandbox_view v)
{
	switch (v) {
	case SANDBOX_VIEW_MINIMAL:
		return "minimal";
	case SANDBOX_VIEW_FULL:
		return "full";
	case SANDBOX_VIEW_ROOTFS:
		return "rootfs";
	}
	return "unknown";
}

void sandbox_view_push_bind(struct specgen *sg, const char *src, const char *dst, bool readonly)
{
	sg->binds = xrealloc(sg->binds, (sg->n_binds + 2) * sizeof(*sg->binds));
	sg->binds[sg->n_binds++] = (struct specgen_bind){
	    .source = xstrdup(src), .destination = xstrdup(dst), .readonly = readonly};
	memset(&sg->binds[sg->n_binds], 0, sizeof(*sg->binds));
}

static int add_link(int fd, const char *name, char ***links, struct bw_error *err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
	if (n < 0)
		return bw_fail(err, errno, "host view: readlink `/%s`", name);
	target[n] = '\0';
	strv_push(links, name);
	strv_push(links, target);
	return 0;
}

/* One allowlisted entry, opened once (O_NOFOLLOW: a symlink is recreated, not followed). */
static int add_entry(int rootfd, const char *name, struct specgen *sg, char ***links,
		     struct hostpath_list *known, struct bw_error *err)
{
	struct stat st;
	_cleanup_close_ int fd = openat(rootfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "host view: open `/%s`", name);
	if (S_ISLNK(st.st_mode))
		return add_link(fd, name, links, err);
	if (!S_ISDIR(st.st_mode))
		return 0;
	_cleanup_free_ char *label = xasprintf("host view `/%s`", name);
	_cleanup_free_ char *dst = xasprintf("/%s", name);
	struct hostpath hp;
	if (hostpath_from_fd(fd, label, false, &hp, err) < 0)
		return -1;
	sandbox_view_push_bind(sg, hp.path, dst, true);
	hostpath_list_add(known, &hp);
	return 0;
}

int sandbox_view_minimal(int rootfd, struct specgen *sg, char ***links, struct hostpath_list *known,
			 struct bw_error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowlist); i++)
		if (add_entry(rootfd, allowlist[i], sg, links, known, err) < 0)
			return -1;
	return 0;
}
