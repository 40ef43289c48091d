/* Other mount namespaces' writable directories (cp_mounts.h): a parser of mountinfo's
 * read-write mounts (pure) and the walk over /proc that resolves them to (dev, ino). */
#include "runtime/cp_mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

/* Is `word` one of the comma-separated options of opts? */
static bool has_opt(const char *opts, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = opts; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, word, wl) == 0 && (p[wl] == ',' || p[wl] == '\0'))
			return true;
	return false;
}

/* "upperdir=..." of overlay's super options (seq_show_option escapes ",", "=", space and
 * "\\" as \ooo, as mountinfo_unescape undoes). */
static char *upper_dir(const char *opts)
{
	const char *p = opts;
	while (p != NULL && strncmp(p, "upperdir=", 9) != 0) {
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	if (p == NULL)
		return NULL;
	p += 9;
	_cleanup_free_ char *raw = xstrndup(p, strcspn(p, ","));
	return mountinfo_unescape(raw);
}

/* "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
static int parse_line(char *line, struct cp_mount *m, bool *writable)
{
	char *f[6], *save = NULL, *tok = strtok_r(line, " ", &save);
	for (int i = 0; i < 6; i++, tok = strtok_r(NULL, " ", &save)) {
		if (tok == NULL)
			return -1;
		f[i] = tok;
	}
	while (tok != NULL && strcmp(tok, "-") != 0) /* optional fields */
		tok = strtok_r(NULL, " ", &save);
	char *fstype = tok ? strtok_r(NULL, " ", &save) : NULL;
	char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
	char *super = source ? strtok_r(NULL, " ", &save) : NULL;
	if (super == NULL)
		return -1;
	*writable = !has_opt(f[5], "ro") && !has_opt(super, "ro");
	if (!*writable)
		return 0;
	m->mountpoint = mountinfo_unescape(f[4]);
	m->upperdir = strcmp(fstype, "overlay") == 0 ? upper_dir(super) : NULL;
	return 0;
}

int cp_mounts_writable(const char *text, struct cp_mount **out, size_t *n, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct cp_mount *v = NULL;
	size_t cnt = 0, line_no = 0;
	char *save = NULL;
	*out = NULL;
	*n = 0;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct cp_mount m = {NULL, NULL};
		bool writable;
		line_no++;
		if (parse_line(line, &m, &writable) < 0) {
			cp_mounts_free(v, cnt);
			return bw_fail(err, EINVAL, "mountinfo: malformed line %zu", line_no);
		}
		if (!writable)
			continue;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = m;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void cp_mounts_free(struct cp_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].mountpoint);
		free(m[i].upperdir);
	}
	free(m);
}

/* A mount of ours at the same place, on the same directory: the host's own mount, kept in
 * a private namespace (a systemd service's), not a directory handed to a container. */
static bool ours_too(const char *mountpoint, const struct stat *st)
{
	struct statx sx;
	if (statx(AT_FDCWD, mountpoint, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_INO, &sx) < 0)
		return false;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) && sx.stx_ino == st->st_ino &&
	       makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev;
}

static void add_dir(cp_mounts_add_fn add, void *ctx, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		add(ctx, st->st_dev, st->st_ino);
}

/* One other namespace, through one of its processes: its mounts resolved inside the
 * process's root (a symlink it planted on the way leads nowhere outside it). A mountinfo that
 * cannot be read whole (too large, malformed) fails the copy: never a namespace left out. */
static int scan_ns(pid_t pid, cp_mounts_add_fn add, void *ctx, struct bw_error *err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct bw_error e = {0};
	struct cp_mount *m = NULL;
	size_t n = 0;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	_cleanup_close_ int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : bw_fail(err, errno, "open %s", path);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	if (fs_read_file(path, 16 << 20, &text, &len, &e) < 0)
		return e.code == ENOENT || e.code == ESRCH
			   ? 0
			   : bw_fail(err, e.code, "%s: cannot be read whole", path);
	if (cp_mounts_writable(text, &m, &n, &e) < 0)
		return bw_fail(err, e.code, "%s: %s", path, e.msg);
	for (size_t i = 0; i < n; i++) {
		struct open_how how = {.flags = O_PATH | O_CLOEXEC,
				       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
		struct stat st;
		int fd = (int)syscall(SYS_openat2, rootfd, m[i].mountpoint, &how, sizeof(how));
		if (fd >= 0 && fstat(fd, &st) == 0 && !ours_too(m[i].mountpoint, &st))
			add_dir(add, ctx, &st);
		if (fd >= 0)
			close(fd);
		if (m[i].upperdir != NULL && stat(m[i].upperdir, &st) == 0)
			add_dir(add, ctx, &st);
	}
	cp_mounts_free(m, n);
	return 0;
}

/* Can pid write files as host root or as the caller (the only owners of links the host side
 * follows, cp_hostpath.c)? Its user namespace must map one of them: an unprivileged user's
 * namespaces (any number of them) cannot, and are not scanned. */
static bool writes_as_trusted(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	_cleanup_free_ char *text = NULL;
	struct bw_error e = {0};
	if (fs_read_file(path, 1 << 16, &text, NULL, &e) < 0)
		return e.code != ENOENT && e.code != ESRCH; /* unreadable: assume it can */
	unsigned long long me = geteuid();
	for (char *line = text; line != NULL && *line != '\0';) {
		unsigned long long inside, outside, count;
		if (sscanf(line, "%llu %llu %llu", &inside, &outside, &count) == 3 &&
		    ((outside == 0 && count > 0) || (me >= outside && me - outside < count)))
			return true;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return false;
}

struct ns_seen {
	struct ns_key {
		ino_t ns;
		dev_t root_dev;
		ino_t root_ino;
	} * v;
	size_t n;
};

static bool seen_add(struct ns_seen *s, const struct ns_key *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ns == k->ns && s->v[i].root_dev == k->root_dev &&
		    s->v[i].root_ino == k->root_ino)
			return false;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = *k;
	return true;
}

/* One process: a new (namespace, root) pair is scanned, so a chrooted process cannot hide
 * its namespace's mounts from the others'; a process of ours chrooted elsewhere guards its
 * root. */
static int scan_pid(pid_t pid, const struct stat *self_ns, const struct stat *self_root,
		    struct ns_seen *seen, cp_mounts_add_fn add, void *ctx, struct bw_error *err)
{
	char path[64];
	struct stat ns, root;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	if (stat(path, &ns) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	if (stat(path, &root) < 0)
		return 0;
	if (ns.st_ino == self_ns->st_ino && ns.st_dev == self_ns->st_dev) {
		if (root.st_dev != self_root->st_dev || root.st_ino != self_root->st_ino)
			add_dir(add, ctx, &root);
		return 0;
	}
	if (!writes_as_trusted(pid))
		return 0;
	struct ns_key k = {.ns = ns.st_ino, .root_dev = root.st_dev, .root_ino = root.st_ino};
	if (!seen_add(seen, &k))
		return 0;
	if (seen->n > CP_MOUNTS_MAX_NS)
		return bw_fail(err, 0, "more than %d mount namespaces to check", CP_MOUNTS_MAX_NS);
	return scan_ns(pid, add, ctx, err);
}

int cp_mounts_foreign(cp_mounts_add_fn add, void *ctx, struct bw_error *err)
{
	struct stat self_ns, self_root;
	struct ns_seen seen = {.v = NULL, .n = 0};
	if (stat("/proc/self/ns/mnt", &self_ns) < 0 || stat("/", &self_root) < 0)
		return bw_fail(err, errno, "stat /proc/self/ns/mnt");
	DIR *d = opendir("/proc");
	if (d == NULL)
		return bw_fail(err, errno, "open /proc");
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		int pid;
		if (parse_int(e->d_name, &pid) == 0 && pid > 0)
			r = scan_pid(pid, &self_ns, &self_root, &seen, add, ctx, err);
	}
	closedir(d);
	free(seen.v);
	return r;
}
