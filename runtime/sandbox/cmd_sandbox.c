/* `bulwark sandbox`: one command in a throw-away hardened sandbox. The spec is built in memory
 * from the hardened default plus the flags, then runs through the same create/start/teardown
 * as any container; nothing is left behind. */
#include "runtime/idpool.h"
#include "runtime/sandbox/kdenials.h"
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

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

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "cgroups/cgroup.h"
#include "common/util.h"
#include "profiles/seccomp.h"
#include "oci/policy.h"
#include "runtime/hostpath.h"
#include "runtime/init_reaper.h"
#include "runtime/network.h"
#include "runtime/sandbox/report.h"
#include "runtime/sandbox/sandbox_budget.h"
#include "runtime/sandbox/sandbox_net.h"
#include "runtime/sandbox/sandbox_view.h"
#include "runtime/sandbox/specgen.h"
#include "runtime/sandbox/subids.h"
#include "runtime/sandbox/watchdog.h"
#include "runtime/sandbox/workspace.h"
#include "runtime/rootfs/rootfs_mountinfo.h"
#include "runtime/sandbox/sandbox.h"

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
 * helper, the state root (state.json's cleanup list and config.json's hooks run as the caller
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
static int refuse_writable_reaching_runtime(const struct global_opts *g, const struct specgen *sg,
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

static int parse_bind(const char *s, struct specgen *sg, struct hostpath_list *known,
		      struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *parts[3] = {copy, NULL, NULL};
	int n = 1;
	for (char *p = copy; *p && n < 3; p++)
		if (*p == ':') {
			*p = '\0';
			parts[n++] = p + 1;
		}
	bool readonly = true;
	const char *mode = NULL, *dst = parts[0];
	if (n == 2 && (strcmp(parts[1], "ro") == 0 || strcmp(parts[1], "rw") == 0))
		mode = parts[1];
	else if (n >= 2)
		dst = parts[1];
	if (n == 3)
		mode = parts[2];
	if (mode != NULL && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return bw_fail(err, 0, "--bind %s: mode must be ro or rw", s);
	if (mode != NULL)
		readonly = strcmp(mode, "ro") == 0;
	if (parts[0][0] != '/' || dst[0] != '/')
		return bw_fail(err, 0, "--bind %s: paths must be absolute", s);
	/* Opened once, through no symbolic link (one an earlier sandbox planted in a directory
	 * it could write would turn SRC into ~/.ssh or /etc); the init binds exactly this file or
	 * refuses. */
	_cleanup_free_ char *label = xasprintf("--bind %s", s);
	struct hostpath hp;
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, parts[0], false, label, err);
	if (fd < 0 || hostpath_from_fd(fd, label, false, &hp, err) < 0)
		return -1;
	/* Clean, so that the parents-first order (specgen.c) sees the place mounted: "W/x/.."
	 * must sort as W. */
	_cleanup_free_ char *clean_dst = fs_path_clean(dst);
	sandbox_view_push_bind(sg, hp.path, clean_dst, readonly);
	hostpath_list_add(known, &hp);
	return 0;
}

/* --ro PATH: the host path, opened once, read-only at the same place. */
static int parse_ro(const char *path, struct specgen *sg, struct hostpath_list *known,
		    struct bw_error *err)
{
	if (path[0] != '/')
		return bw_fail(err, 0, "--ro %s: the path must be absolute", path);
	_cleanup_free_ char *dst = fs_path_clean(path);
	if (strcmp(dst, "/") == 0)
		return bw_fail(err, 0, "--ro %s: not the whole root (that is --host-view full)",
			       path);
	_cleanup_free_ char *label = xasprintf("--ro %s", path);
	struct hostpath hp;
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, path, false, label, err);
	if (fd < 0 || hostpath_from_fd(fd, label, false, &hp, err) < 0)
		return -1;
	sandbox_view_push_bind(sg, hp.path, dst, true);
	hostpath_list_add(known, &hp);
	return 0;
}

static int parse_user(const char *s, uint32_t *uid, uint32_t *gid, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');
	if (colon != NULL)
		*colon++ = '\0';
	if (parse_u32(copy, uid) < 0 || (colon && parse_u32(colon, gid) < 0) || *uid > 65535 ||
	    *gid > 65535)
		return bw_fail(err, 0, "--user: expected UID[:GID] between 0 and 65535, got \"%s\"",
			       s);
	if (colon == NULL)
		*gid = *uid;
	return 0;
}

/* One line of an --env file, with Docker's meaning: leading blanks skipped, blank lines and
 * `#` comments ignored, KEY=VALUE taken verbatim (no quotes, no expansion), KEY alone takes the
 * caller's value if it has one and is skipped otherwise. */
static int env_file_line(const char *file, size_t lineno, char *line, size_t len, char ***env,
			 struct bw_error *err)
{
	if (memchr(line, '\0', len) != NULL)
		return bw_fail(err, 0, "--env-file %s:%zu: contains a NUL byte", file, lineno);
	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	size_t klen = strcspn(line, "=");
	if (klen == 0)
		return bw_fail(err, 0, "--env-file %s:%zu: no variable name before '='", file,
			       lineno);
	for (size_t i = 0; i < klen; i++)
		if (isspace((unsigned char)line[i]))
			return bw_fail(
			    err, 0, "--env-file %s:%zu: variable name \"%.*s\" contains whitespace",
			    file, lineno, (int)klen, line);
	if (line[klen] == '=') {
		strv_setenv(env, line);
		return 0;
	}
	const char *value = getenv(line);
	if (value != NULL) {
		_cleanup_free_ char *kv = xasprintf("%s=%s", line, value);
		strv_setenv(env, kv);
	}
	return 0;
}

/* A file a flag names, read once: through no symbolic link but the caller's own streams
 * (/dev/stdin, <(...)): a link an earlier sandbox planted (.env -> ~/.npmrc) would hand a
 * secret, or another policy, to this one. flag names it in errors. */
static int read_flag_file(const char *flag, const char *file, size_t max, char **text, size_t *len,
			  struct bw_error *err)
{
	if (fs_is_callers_stream(file)) {
		if (fs_read_file(file, max, text, len, err) < 0)
			return bw_wrap(err, "%s", flag);
		return 0;
	}
	struct stat st;
	char self[32];
	_cleanup_free_ char *label = xasprintf("%s %s", flag, file);
	_cleanup_close_ int path_fd = hostpath_open(AT_FDCWD, file, false, label, err);
	if (path_fd < 0)
		return -1;
	/* The file just checked, opened for reading through its fd. */
	_cleanup_close_ int fd = open(fs_fd_path(path_fd, self), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "%s %s", flag, file);
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return bw_fail(err, 0, "%s %s: not a regular file or a pipe", flag, file);
	if (fs_read_fd(fd, max, text, len, err) < 0)
		return bw_wrap(err, "%s %s", flag, file);
	return 0;
}

static int load_env_file(const char *file, char ***env, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (read_flag_file("--env-file", file, 1 << 20, &text, &len, err) < 0)
		return -1;
	char *p = text, *end = text + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte-order mark */
		p += 3;
	for (size_t lineno = 1; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *stop = nl ? nl : end;
		if (stop > p && stop[-1] == '\r') /* CRLF files */
			stop--;
		size_t n = (size_t)(stop - p);
		*stop = '\0';
		if (env_file_line(file, lineno, p, n, env, err) < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int build_env(const struct sandbox_flags *f, const struct specgen *sg, char ***env,
		     struct bw_error *err)
{
	strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	strv_push(env, sg->home ? "HOME=/home" : "HOME=/tmp");
	if (f->tty)
		strv_push(env, "TERM=xterm");
	if (f->env_file != NULL && load_env_file(f->env_file, env, err) < 0)
		return -1;
	for (size_t i = 0; f->env && f->env[i]; i++) {
		const char *kv = f->env[i];
		if (kv[0] == '=' || kv[0] == '\0')
			return bw_fail(err, 0, "--env: expected KEY=VALUE or KEY, got \"%s\"", kv);
		if (strchr(kv, '=') != NULL) {
			strv_setenv(env, kv);
			continue;
		}
		/* KEY alone: the caller's value, and nothing where the caller has none (docker run
		 * -e KEY). */
		const char *value = getenv(kv);
		if (value != NULL) {
			_cleanup_free_ char *pair = xasprintf("%s=%s", kv, value);
			strv_setenv(env, pair);
		}
	}
	return 0;
}

/* --rootfs, or the host's / for the host views: opened once (*rootfd); /home is looked up
 * below that fd. */
static int open_rootfs(const char *rootfs, struct specgen *sg, struct hostpath_list *known,
		       int *rootfd, struct bw_error *err)
{
	_cleanup_free_ char *label = xasprintf("--rootfs %s", rootfs);
	_cleanup_close_ int fd = hostpath_open(AT_FDCWD, rootfs, false, label, err);
	struct hostpath hp;
	struct stat st;
	if (fd < 0 || hostpath_from_fd(fd, label, false, &hp, err) < 0)
		return -1;
	hostpath_list_add(known, &hp);
	if (!S_ISDIR(hp.mode))
		return bw_fail(err, 0, "%s: not a directory", label);
	sg->root_path = xstrdup(hp.path);
	sg->home = fstatat(fd, "home", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)
		       ? "/home"
		       : NULL;
	/* --rootfs / (however spelled) is the default view of the host, with its protections
	 * (the host's /run and /var/tmp hidden), not a refusal. */
	struct stat host;
	if (stat("/", &host) == 0 && host.st_dev == hp.dev && host.st_ino == hp.ino)
		sg->host_root = true;
	*rootfd = steal_fd(&fd);
	return 0;
}

/* --rootfs DIR, else the host's / as --host-view says: minimal, a fresh tmpfs root with the
 * allowlist bound on it, made by the init in the sandbox's own mount namespace; full, the
 * host's / read-only. `--rootfs /` is the full view. */
static int plan_root(const struct sandbox_flags *f, struct specgen *sg, struct root_plan *rp,
		     struct hostpath_list *known, struct bw_error *err)
{
	if (sandbox_view_parse(f->host_view, &rp->view, err) < 0)
		return -1;
	if (f->rootfs != NULL && f->host_view != NULL)
		return bw_fail(err, 0, "--host-view: not with --rootfs (the root is then DIR)");
	_cleanup_close_ int fd = -1;
	if (open_rootfs(f->rootfs ? f->rootfs : "/", sg, known, &fd, err) < 0)
		return -1;
	if (f->rootfs != NULL)
		rp->view = sg->host_root ? SANDBOX_VIEW_FULL : SANDBOX_VIEW_ROOTFS;
	if (rp->view != SANDBOX_VIEW_MINIMAL)
		return 0;
	sg->root_tmpfs = true;
	sg->home = "/home"; /* made on the tmpfs root */
	return sandbox_view_minimal(fd, sg, &rp->links, known, err);
}

static int build_spec(struct sandbox_flags *f, char **args, struct specgen *sg,
		      struct root_plan *rp, struct hostpath_list *known, struct sandbox_budget *b,
		      struct bw_error *err)
{
	specgen_defaults(sg);
	sg->root_path = NULL; /* owned from here on: free_spec releases them */
	sg->env = NULL;
	sg->terminal = f->tty;
	sg->args = args;
	sg->host_root = f->rootfs == NULL;
	sg->root_readonly = true;
	/* HOME is a private tmpfs; /home is used where the root has it, so that nothing is
	 * created in a root we do not own. */
	if (plan_root(f, sg, rp, known, err) < 0)
		return -1;
	if (f->user != NULL && parse_user(f->user, &sg->uid, &sg->gid, err) < 0)
		return -1;
	if (f->cwd != NULL && f->cwd[0] != '/')
		return bw_fail(err, 0, "--cwd: must be an absolute path");
	sg->cwd = f->cwd ? f->cwd : "/";
	/* After the view's own binds: a --bind or --ro may go below one of them. */
	rp->user_binds = sg->n_binds;
	for (size_t i = 0; f->binds != NULL && f->binds[i] != NULL; i++)
		if (parse_bind(f->binds[i], sg, known, err) < 0)
			return -1;
	for (size_t i = 0; f->ro != NULL && f->ro[i] != NULL; i++)
		if (parse_ro(f->ro[i], sg, known, err) < 0)
			return -1;
	/* Limits: modest defaults (docs/security.md "What a sandbox can spend"). */
	if (sandbox_budget_apply(&f->lim, sg, b, err) < 0)
		return -1;
	/* No real-time scheduling or raised priority, whatever the caller's limits allow: a
	 * SCHED_FIFO loop would not be held by the CPU quota where RT group scheduling is off. */
	sg->no_rt_sched = true;
	struct oci_seccomp *sc = NULL;
	if (seccomp_default_profile(&sc, err) < 0)
		return -1;
	sg->seccomp = sc; /* free_spec frees it */
	if (f->seccomp_complain)
		strv_push(&sg->annotations, "run.bulwark.seccomp=complain");
	return 0;
}

/* --workspace and --keep-changes: checked before anything exists; each workspace is bound at
 * its own path (rw and overlay ones from what workspace_prepare stacks there) and the first
 * one is the default working directory. */
static int add_workspaces(const struct global_opts *g, const struct sandbox_flags *f,
			  struct specgen *sg, struct workspace_set *ws, struct bw_error *err)
{
	if (f->keep_changes != NULL && f->workspaces == NULL)
		return bw_fail(err, 0, "--keep-changes: needs --workspace DIR:overlay");
	if (workspace_parse(f->workspaces, f->keep_changes, cli_state_root(g), ws, err) < 0)
		return -1;
	sg->binds = xrealloc(sg->binds, (sg->n_binds + ws->n + 1) * sizeof(*sg->binds));
	for (size_t i = 0; i < ws->n; i++)
		sg->binds[sg->n_binds++] = (struct specgen_bind){
		    .source = xstrdup(ws->v[i].path),
		    .destination = xstrdup(ws->v[i].path),
		    .readonly = ws->v[i].mode == WORKSPACE_RO,
		};
	if (f->cwd == NULL && ws->n > 0)
		sg->cwd = ws->v[0].path;
	return 0;
}

/* The owner of a rw/overlay workspace is shown as the sandbox user, whose host ids follow from
 * the spec's user namespace map. The overlay's scratch memory is charged to the sandbox's
 * cgroup anyway; its size cap is the memory limit, so a runaway write ends in ENOSPC. */
/* An rw workspace or an rw --bind is written in place on the host's disk: the sandbox must not
 * be able to leave a set-user-ID or set-group-ID file there (its own mounts are nosuid, the
 * host's are not; a file owned by the sandbox's host uid would run as that uid, every
 * sandbox's). Overlay workspaces write to a scratch tmpfs, and --keep-changes copies without
 * set-id bits. sg->binds[first, first + n) are --bind's. */
static int forbid_setid_if_rw(const struct workspace_set *ws, size_t first, size_t n, bool complain,
			      struct specgen *sg, struct bw_error *err)
{
	bool rw = false;
	for (size_t i = 0; i < ws->n; i++)
		rw |= ws->v[i].mode == WORKSPACE_RW;
	for (size_t i = first; i < first + n && i < sg->n_binds; i++)
		rw |= !sg->binds[i].readonly;
	if (!rw)
		return 0;
	/* Complain mode turns every refusal into a log line, this one included. */
	if (complain)
		return bw_fail(err, 0,
			       "--seccomp-complain: not with an rw workspace or rw --bind (the "
			       "guard against setuid files there would only log); use overlay");
	seccomp_profile_forbid_setid_files(sg->seccomp);
	/* RLIMIT_FSIZE bounds each file written there; fallocate must not get around it. */
	if (sg->fsize > 0)
		seccomp_profile_bound_fallocate(sg->seccomp);
	return 0;
}

static int prepare_workspaces(const struct specgen *sg, const struct sandbox_budget *b,
			      struct workspace_set *ws, struct bw_error *err)
{
	struct workspace_ids ids = {.base_uid = sg->host_uid,
				    .base_gid = sg->host_gid,
				    .size = sg->map_size,
				    .uid = sg->uid,
				    .gid = sg->gid};
	return workspace_prepare(ws, &ids, b->scratch, err);
}

static void free_spec(struct specgen *sg)
{
	strv_free(sg->annotations);
	free((char *)sg->root_path);
	strv_free(sg->env);
	for (size_t i = 0; i < sg->n_binds; i++) {
		free(sg->binds[i].source);
		free(sg->binds[i].destination);
	}
	free(sg->binds);
	seccomp_profile_free(sg->seccomp);
}

int sandbox_exit_status(const struct bw_error *err)
{
	if (strstr(err->msg, "executable file not found") || strstr(err->msg, "no such file"))
		return 127;
	if (strstr(err->msg, "permission denied") || strcasestr(err->msg, "exec format error"))
		return 126;
	return 125;
}

/* Rootless in a delegated cgroup v2 subtree (docs/rootless.md): the limits apply there as with
 * root. A limit flag whose controller the subtree does not offer is refused naming both; a
 * default one is left out, and said so once on stderr and in the report (tasks then fall back
 * to RLIMIT_NPROC). */
static int delegated_plan(const struct sandbox_flags *f, struct specgen *sg,
			  struct sandbox_run *run, const struct cg_delegation *d,
			  struct bw_error *err)
{
	static char note[1024];
	const struct sandbox_limit_flags *l = &f->lim;
	const struct {
		const char *flag, *ctrl;
		bool given;
	} want[] = {{"--memory", "memory", l->memory != NULL},
		    {"--cpus", "cpu", l->cpus != NULL},
		    {"--pids", "pids", l->pids != NULL}};
	char missing[64] = "";
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		if (cg_delegation_offers(d, want[i].ctrl))
			continue;
		if (want[i].given)
			return bw_fail(
			    err, 0,
			    "%s: the %s controller is not delegated to uid %d (its cgroup "
			    "`%s` offers: %s), so the limit cannot be enforced",
			    want[i].flag, want[i].ctrl, (int)geteuid(), d->base,
			    d->controllers[0] != '\0' ? d->controllers : "none");
		size_t n = strlen(missing);
		snprintf(missing + n, sizeof(missing) - n, "%s%s", n > 0 ? ", " : "", want[i].ctrl);
	}
	if (!cg_delegation_offers(d, "memory"))
		sg->memory_limit = 0;
	if (!cg_delegation_offers(d, "cpu")) {
		sg->cpu_quota = sg->cpu_period = 0;
		sg->cpu_shares = sg->cpu_weight = 0;
	}
	if (!cg_delegation_offers(d, "pids")) {
		sg->nproc = (uint64_t)sg->pids_limit;
		run->budget.nproc = sg->pids_limit;
		sg->pids_limit = 0;
	}
	if (missing[0] == '\0') {
		snprintf(note, sizeof(note), "delegated cgroup `%s`: every limit applies", d->base);
	} else {
		snprintf(note, sizeof(note),
			 "delegated cgroup `%s` without the %s controller(s): those default limits "
			 "are not applied%s",
			 d->base, missing,
			 cg_delegation_offers(d, "pids") ? "" : " (tasks bounded by RLIMIT_NPROC)");
		run->warning = note;
	}
	run->rep.rootless_limits = note;
	return 0;
}

/* Rootless on pure cgroup v2 outside a delegated cgroup (a login shell's session scope): the
 * caller's own systemd makes one, as podman does - a transient scope with Delegate=yes that this
 * process moves into before it forks anything; from there the delegated path is the same. The
 * scope ends with its last process (this runtime, the sandbox), and systemd removes its cgroup
 * then: on every path, failures included. Why there is none goes into why. */
static int user_scope(const struct sandbox_run *run, struct cg_delegation *d, char *why, size_t n,
		      struct bw_error *err)
{
	_cleanup_free_ char *unit = xasprintf("bulwark-%s.scope", run->id);
	_cleanup_free_ char *desc = xasprintf("bulwark sandbox %s", run->id);
	char w[BW_ERROR_MAX + 64] = "";
	int r = cg_user_scope_delegation(unit, desc, d, w, sizeof(w), err);
	if (w[0] != '\0')
		snprintf(why, n, ", and %s", w);
	return r;
}

/* Without root (issue 14 §2): the same confinement that needs no privilege. The one id the
 * kernel lets us map is ours, shown as the sandbox user; an egress allowlist goes through
 * pasta (network.c) under the same table and DNS proxy (loopback only needs nothing). In a
 * delegated cgroup v2 subtree (the caller's own, or a scope its systemd makes: user_scope) the
 * limits apply there (delegated_plan). Where no cgroup can be written (a hybrid or v1 host, v2
 * without delegation and without a user manager), limits asked for with flags are refused
 * at create (lifecycle.c), and the default ones are replaced by what the kernel enforces:
 * RLIMIT_NPROC counts the tasks of the sandbox's own user namespace. */
static int rootless_plan(const struct sandbox_flags *f, struct specgen *sg, struct sandbox_run *run,
			 struct bw_error *err)
{
	if (geteuid() == 0)
		return 0;
	if ((run->net.policy_doc != NULL || run->net.policy != NULL) && network_pasta(err) == NULL)
		return bw_wrap(err, "--allow/--allow-domain/--policy");
	sg->map_uid = sg->uid;
	sg->map_gid = sg->gid;
	sg->host_uid = (uint32_t)geteuid();
	sg->host_gid = (uint32_t)getegid();
	sg->map_size = 1;
	/* The caller's subordinate ranges where it has them: the sandbox user stays its own id,
	 * the other ids of an image show as their owners instead of nobody. */
	sg->subids = sg->uid < 65536 && sg->gid < 65536 &&
		     subids_for_caller(65535, &sg->sub_uid, &sg->sub_gid);
	struct cg_delegation d = {0};
	char why[BW_ERROR_MAX + 128] = "";
	int dr = cg_delegated(&d, err);
	if (dr == 0)
		dr = user_scope(run, &d, why, sizeof(why), err);
	if (dr < 0)
		return bw_wrap(err, "find a delegated cgroup");
	if (dr == 1) {
		dr = delegated_plan(f, sg, run, &d, err);
		cg_delegation_free(&d);
		return dr;
	}
	const struct sandbox_limit_flags *l = &f->lim;
	const char *flag = l->memory ? "--memory" : l->cpus ? "--cpus" : l->pids ? "--pids" : NULL;
	if (flag != NULL)
		return bw_fail(
		    err, 0,
		    "%s: a limit needs a cgroup, which bulwark cannot write without root here "
		    "(no delegated cgroup v2 subtree%s; rootless sandboxes get RLIMIT_NPROC and "
		    "--timeout instead)",
		    flag, why);
	sandbox_budget_no_cgroup(sg, &run->budget);
	if (l->pids == NULL) {
		sg->nproc = (uint64_t)sg->pids_limit;
		run->budget.nproc = sg->pids_limit;
		sg->pids_limit = 0;
	}
	run->rep.rootless_limits =
	    "no writable cgroup: tasks bounded by RLIMIT_NPROC (1024) in the sandbox's own user "
	    "namespace; memory and CPU not bounded, no CPU weight (--timeout bounds time); "
	    "--disk and --max-file-size apply";
	run->warning = "rootless without a writable cgroup: memory and CPU are not bounded; tasks "
		       "by RLIMIT_NPROC";
	return 0;
}

/* As root, a host id range of its own (idpool.h), instead of the range every `spec` bundle
 * shares: per-user kernel counts and file ownership are then never shared between sandboxes. */
static int own_id_range(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
			struct bw_error *err)
{
	if (geteuid() != 0)
		return 0;
	if (idpool_acquire(cli_state_root(g), run->id, &run->slot, err) < 0)
		return -1;
	sg->host_uid = sg->host_gid = run->slot.base;
	return 0;
}

static int new_id(struct sandbox_run *run, struct bw_error *err)
{
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return bw_fail(err, errno, "getrandom");
	snprintf(run->id, sizeof(run->id), "sandbox-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5]);
	return 0;
}

/* The sandbox's policy document (the flags', or the bytes of its policy file read once) lives
 * next to the state (the runtime's own directory) for as long as the sandbox; create, the
 * helper and the agent read it by path. */
static int write_policy(const struct global_opts *g, struct sandbox_run *run, struct bw_error *err)
{
	if (run->net.policy_doc == NULL)
		return 0;
	if (fs_mkdir_p(cli_state_root(g), 0700, err) < 0)
		return -1;
	/* A name of this run's own: two session creates of one name (only one can win the id)
	 * must never load, or unlink, each other's policy. */
	uint64_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return bw_fail(err, errno, "getrandom");
	_cleanup_free_ char *name =
	    xasprintf(".%s.%016llx.policy.json", run->id, (unsigned long long)nonce);
	run->policy_file = fs_path_join(cli_state_root(g), name);
	return fs_write_atomic(run->policy_file, run->net.policy_doc, strlen(run->net.policy_doc),
			       0600, err);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The command is the child of bulwark's pid 1 (init_reaper.c), which reports its wait status
 * before exiting: the report and our exit status are the command's, as if it were pid 1 (after
 * a timeout the status stays 124; the report has how the command ended, if it ended before the
 * SIGKILL). Closes status_fd. */
static void payload_status(int status_fd, struct sandbox_run *run, int *status)
{
	struct init_reaper_status st;
	if (status_fd < 0)
		return;
	if (*status >= 0 && read(status_fd, &st, sizeof(st)) == sizeof(st)) {
		int ws = st.wait_status;
		run->rep.wait_status = ws;
		run->rep.budgets.written_known = st.written >= 0;
		run->rep.budgets.written = st.written;
		if (!run->rep.timed_out)
			*status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	}
	close(status_fd);
}

void sandbox_plan_warn(struct sandbox_run *run)
{
	if (run->warning != NULL)
		log_warn("sandbox: %s", run->warning);
	run->warning = NULL;
}

int sandbox_launch(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		   struct stdio_guard *sio, int64_t lifetime_ms, struct created *cr,
		   struct bw_error *err)
{
	run->g2 = *g;
	/* What an earlier sandbox left when it and its watchdog were both SIGKILLed. */
	bw_phase("sandbox: flags+plan");
	watchdog_sweep_root(cli_state_root(g));
	bw_phase("sandbox: sweep");
	if (write_policy(g, run, err) < 0)
		return -1;
	if (run->net.policy != NULL || run->policy_file != NULL)
		run->g2.policy = run->policy_file ? run->policy_file : (char *)run->net.policy;
	for (size_t i = 0; run->net.annotations != NULL && run->net.annotations[i] != NULL; i++)
		strv_push(&sg->annotations, run->net.annotations[i]);
	if (run->want_report) {
		run->kd = kd_open(run->rep.kernel_seccomp, sizeof(run->rep.kernel_seccomp));
		kd_landlock_reported(run->kd, run->rep.kernel_landlock,
				     sizeof(run->rep.kernel_landlock));
		if (run->kd != NULL)
			strv_push(&sg->annotations, KD_ANNOTATION "=true");
	}
	_cleanup_free_ char *json = specgen_render(sg, false);
	bw_phase("sandbox: render");
	struct oci_spec *spec = NULL;
	if (oci_spec_parse(json, strlen(json), "sandbox spec", &spec, err) < 0)
		return -1;
	bw_phase("sandbox: spec parsed");
	struct create_opts o = {.id = run->id,
				.bundle = "/",
				.spec = spec,
				.config_json = json,
				.keep_master = sg->terminal,
				.owner = getpid(),
				.remove_file = run->policy_file,
				.id_slot = run->slot.path,
				.known = &run->known,
				.allow_host_root = sg->host_root,
				.root_tmpfs = sg->root_tmpfs,
				.root_links = run->root.links,
				.root_sealed = true,
				.ns_owner =
				    run->slot.path != NULL ? idpool_owner(run->slot.base) : 0,
				.stdio = sio,
				.stdio_relay = sio != NULL,
				.lifetime_ms = lifetime_ms,
				.session = run->session};
	run->t0 = mono_ms();
	int r = lifecycle_create(&run->g2, &o, cr, err);
	bw_phase("sandbox: created");
	oci_spec_free(spec);
	if (r == 0)
		sandbox_plan_warn(run);
	/* Before start: no code of the sandbox has run yet. */
	if (r == 0 && run->want_report)
		sandbox_budget_hold(&run->budget, cr->pid, sg->home);
	if (r < 0) {
		if (sio != NULL)
			stdio_guard_close(sio);
		if (run->policy_file != NULL)
			unlink(run->policy_file);
		return -1;
	}
	if (lifecycle_start(cr->c, NULL, err) < 0) {
		struct bw_error e2 = {0};
		if (sio != NULL)
			stdio_guard_close(sio);
		lifecycle_teardown(cr->c, &e2);
		container_free(cr->c);
		close(cr->pidfd);
		if (cr->status_fd >= 0)
			close(cr->status_fd);
		if (cr->master >= 0)
			close(cr->master);
		return -1;
	}
	bw_phase("sandbox: started");
	run->rep.started = true;
	struct bw_error kerr = {0};
	if (run->kd != NULL && kd_start(run->kd, cr->pid, &kerr) < 0) {
		/* The sandbox runs anyway: only the report loses the kernel's refusals. */
		char text[sizeof(run->rep.kernel_seccomp)] = "unavailable: ";
		size_t used = strlen(text);
		bw_error_text(&kerr, text + used, sizeof(text) - used);
		memcpy(run->rep.kernel_seccomp, text, sizeof(text));
		memcpy(run->rep.kernel_landlock, text, sizeof(text));
		kd_free(run->kd);
		run->kd = NULL;
	}
	/* Unlocked while it runs, as `run` does: list, state, kill and delete from elsewhere must
	 * not hang on a long sandbox. */
	close(cr->c->lockfd);
	cr->c->lockfd = -1;
	return 0;
}

int sandbox_release(struct sandbox_run *run, int status, struct bw_error *err)
{
	struct container *c = NULL;
	struct bw_error e2 = {0};
	if (container_load(cli_state_root(&run->g2), run->id, &c, &e2) < 0) {
		kd_finish(run->kd, &run->rep, run->id, run->g2.audit);
		run->kd = NULL;
		return status; /* deleted from elsewhere meanwhile: nothing left to release */
	}
	bw_phase("sandbox: reloaded");
	kd_finish(run->kd, &run->rep, run->id, lifecycle_audit_path(&run->g2, c));
	run->kd = NULL;
	/* The agent flushes its last denial counts as it stops; the cgroup still exists. */
	network_stop_agent(c);
	if (run->want_report) {
		report_collect(&run->rep, c);
		sandbox_budget_collect(&run->budget, c, &run->rep);
	}
	sandbox_budget_release(&run->budget);
	if (status >= 0)
		lifecycle_audit_exit(&run->g2, c, status, run->rep.timed_out);
	bw_phase("sandbox: teardown begins");
	if (lifecycle_teardown(c, &e2) < 0 && status >= 0) {
		*err = e2;
		status = -1;
	}
	bw_phase("sandbox: torn down");
	container_free(c);
	return status;
}

static int run_sandbox(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		       struct bw_error *err)
{
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigprocmask(SIG_BLOCK, &all, NULL);
	/* Without -t the sandbox never gets our terminal: pipes that we relay (stdio_guard.h). */
	struct stdio_guard sio = STDIO_GUARD_INIT;
	/* The watchdog keeps --timeout too, 2 s after the owner's SIGKILL would come (the
	 * deadline plus --kill-after), for an owner that cannot (stopped). */
	int64_t lifetime_ms = run->timeout_ms > 0 ? run->timeout_ms + run->kill_after_ms + 2000 : 0;
	struct created cr;
	if (sandbox_launch(g, sg, run, &sio, lifetime_ms, &cr, err) < 0)
		return -1;
	/* A killed watchdog is replaced at once: the sandbox is never left unguarded. */
	struct watchdog_guard *guard =
	    watchdog_guard_start(cli_state_root(g), run->id, cr.pidfd, getpid());
	if (guard == NULL)
		log_warn("sandbox: cannot watch the watchdog: %s", strerror(errno));
	bw_phase("sandbox: guard");
	struct console_io io = stdio_guard_io(&sio, cr.master);
	int status = lifecycle_wait_raw(cr.pid, cr.pidfd, &io, run->timeout_ms, run->kill_after_ms,
					&run->rep.timed_out, &run->rep.wait_status, err);
	bw_phase("sandbox: waited");
	stdio_guard_close(&sio);
	watchdog_guard_stop(guard);
	payload_status(cr.status_fd, run, &status);
	run->rep.wall_ms = mono_ms() - run->t0;
	if (run->rep.timed_out)
		log_warn("sandbox: stopped at the --timeout deadline");
	close(cr.pidfd);
	if (cr.master >= 0)
		close(cr.master);
	bw_phase("sandbox: guard stopped");
	container_free(cr.c);
	return sandbox_release(run, status, err);
}

/* The report is written whatever happened, once the run is over (r: the run's status or -1
 * with err). A report that cannot be written turns success into bulwark's failure. */
static int finish_report(const struct sandbox_flags *f, struct sandbox_run *run, int r,
			 struct bw_error *err)
{
	if (f->report == NULL || run->id[0] == '\0')
		return r;
	run->rep.exit_code = r >= 0 ? r : err->exit_status ? err->exit_status : 125;
	if (r < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(err, text, sizeof(text));
		run->rep.error = xstrdup(text);
	}
	struct bw_error e2 = {0};
	if (report_write(&run->rep, &run->report, &e2) < 0 && r >= 0) {
		*err = e2;
		err->exit_status = 125;
		return -1;
	}
	return r;
}

void sandbox_flag_table(struct sandbox_flags *f, struct cli_opt opts[SANDBOX_FLAG_COUNT])
{
	const struct cli_opt table[] = {
	    {"rootfs", 0, CLI_STRING, &f->rootfs, "DIR",
	     "root filesystem (default: a minimal view of the host, see --host-view)"},
	    {"host-view", 0, CLI_STRING, &f->host_view, "minimal|full",
	     "minimal (default): only /usr, /bin, /sbin, /lib*, /etc of the host, read-only; "
	     "full: the host's whole / read-only"},
	    {"ro", 0, CLI_STRV, &f->ro, "PATH",
	     "show one more host path, read-only, at the same place (repeatable)"},
	    {"bind", 0, CLI_STRV, &f->binds, "SRC[:DST][:ro|rw]",
	     "bind a host path (default ro); DST need not exist on the host"},
	    {"user", 'u', CLI_STRING, &f->user, "UID[:GID]",
	     "user inside the sandbox (default 1000)"},
	    {"env", 'e', CLI_STRV, &f->env, "KEY[=VALUE]",
	     "set an environment variable (KEY alone: the caller's value, if it has one)"},
	    {"env-file", 0, CLI_STRING, &f->env_file, "FILE",
	     "KEY=VALUE lines (# comments; KEY alone: the caller's value), before --env"},
	    {"workspace", 0, CLI_STRV, &f->workspaces, "DIR[:ro|rw|overlay]",
	     "mount DIR at the same path (default ro); rw: written as DIR's owner; overlay: "
	     "writes go to a scratch layer, DIR stays untouched"},
	    {"keep-changes", 0, CLI_STRING, &f->keep_changes, "DIR",
	     "after the run, save the overlay workspace's changes in DIR (an upper directory)"},
	    {"cwd", 0, CLI_STRING, &f->cwd, "DIR",
	     "working directory (default: the workspace, else /)"},
	    {"tty", 't', CLI_BOOL, &f->tty, NULL, "give the command a terminal"},
	    {"memory", 'm', CLI_STRING, &f->lim.memory, "SIZE",
	     "memory limit, no swap (default 1g; max: none)"},
	    {"cpus", 0, CLI_STRING, &f->lim.cpus, "N",
	     "CPU time, in CPUs (e.g. 0.5; default: all but one online CPU; max: none)"},
	    {"pids", 0, CLI_STRING, &f->lim.pids, "N", "maximum number of tasks (default 1024)"},
	    {"nofile", 0, CLI_STRING, &f->lim.nofile, "N", "open files limit (default 1024)"},
	    {"tmp-size", 0, CLI_STRING, &f->lim.tmp_size, "SIZE",
	     "size of /tmp and of /var/tmp, each (default 256m, at most --disk)"},
	    {"home-size", 0, CLI_STRING, &f->lim.home_size, "SIZE",
	     "size of HOME (default 64m, at most --disk)"},
	    {"disk", 0, CLI_STRING, &f->lim.disk, "SIZE",
	     "most that each writable scratch (/tmp, /var/tmp, HOME, an overlay's changes) holds; "
	     "one file per 4 KiB (default 1g)"},
	    {"max-file-size", 0, CLI_STRING, &f->lim.max_file_size, "SIZE",
	     "largest file the sandbox may write, rw workspaces included (default --disk; max: "
	     "none)"},
	    {"timeout", 0, CLI_STRING, &f->timeout, "DURATION",
	     "after DURATION (30s, 5m, 1h) send the command SIGTERM, then kill the whole sandbox "
	     "--kill-after later; exit 124"},
	    {"kill-after", 0, CLI_STRING, &f->kill_after, "DURATION",
	     "grace between --timeout's SIGTERM and SIGKILL (default 10s; 0: SIGKILL at once)"},
	    {"seccomp-complain", 0, CLI_BOOL, &f->seccomp_complain, NULL,
	     "log what the seccomp profile would refuse instead of refusing it (profiling)"},
	    {"network", 0, CLI_STRING, &f->net.network, "none",
	     "no network but loopback (the default unless --allow/--allow-domain/--policy)"},
	    {"allow", 0, CLI_STRV, &f->net.allow, "CIDR[:PORT[-PORT]][/tcp|udp]",
	     "allow egress to CIDR (IPv6 with a port: [CIDR]:PORT); everything else is denied"},
	    {"allow-domain", 0, CLI_STRV, &f->net.allow_domain, "NAME[:PORT[/tcp|udp][,...]]",
	     "allow NAME (or *.suffix) through the DNS proxy, and the addresses it resolves to "
	     "(only on PORTs when given: pypi.org:443/tcp)"},
	    {"dns", 0, CLI_STRV, &f->net.dns, "IP",
	     "resolver the DNS proxy asks (default: the host's)"},
	    {"policy", 0, CLI_STRING, &f->net.policy, "FILE",
	     "network policy document (docs/network.md); --allow/--allow-domain then narrow it"},
	    {"report", 0, CLI_STRING, &f->report, "FILE|-",
	     "write a JSON report (docs/report.md) to FILE, or to stdout after the command's "
	     "output"},
	};
	_Static_assert(ARRAY_SIZE(table) == SANDBOX_FLAG_COUNT, "SANDBOX_FLAG_COUNT");
	memcpy(opts, table, sizeof(table));
}

void sandbox_flags_free(struct sandbox_flags *f)
{
	sandbox_net_flags_free(&f->net);
	free(f->report);
	free(f->rootfs);
	free(f->user);
	free(f->cwd);
	sandbox_limit_flags_free(&f->lim);
	free(f->timeout);
	free(f->kill_after);
	strv_free(f->binds);
	strv_free(f->ro);
	free(f->host_view);
	strv_free(f->env);
	strv_free(f->workspaces);
	free(f->keep_changes);
	free(f->env_file);
}

void sandbox_run_init(struct sandbox_run *run)
{
	*run = (struct sandbox_run){.rep = {.workspace_bytes = -1},
				    .report = {.fd = -1, .dirfd = -1},
				    .budget = {.fds = {-1, -1, -1, -1}},
				    .slot = {.fd = -1}};
}

/* A policy file (--policy, or the global one) is read here, once, and checked; the runtime's
 * private copy of those bytes (write_policy) is what create, the audit digest and bulwark-net
 * then read: a file replaced meanwhile cannot give them different policies. */
static int read_policy_once(const struct global_opts *g, struct sandbox_net_plan *net,
			    struct bw_error *err)
{
	/* The global --policy with no network flag to narrow it is the sandbox's policy too. */
	if (net->policy == NULL && net->policy_doc == NULL)
		net->policy = g->policy;
	if (net->policy == NULL)
		return 0;
	const char *flag = "--policy";
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct sandbox_policy p;
	if (read_flag_file(flag, net->policy, POLICY_MAX_BYTES, &text, &len, err) < 0)
		return -1;
	if (memchr(text, '\0', len) != NULL)
		return bw_fail(err, 0, "%s %s: a NUL byte in the document", flag, net->policy);
	_cleanup_free_ char *what = xasprintf("%s %s", flag, net->policy);
	if (policy_parse(text, len, what, &p, err) < 0)
		return -1;
	policy_free(&p);
	net->policy_doc = steal_ptr(&text);
	net->policy = NULL;
	return 0;
}

int sandbox_plan(const struct global_opts *g, struct sandbox_flags *f, char **args,
		 struct specgen *sg, struct workspace_set *ws, struct sandbox_run *run,
		 struct bw_error *err)
{
	int r = sandbox_net_plan(&f->net, g->policy, &run->net, err);
	if (r == 0)
		r = read_policy_once(g, &run->net, err);
	if (r == 0)
		r = build_spec(f, args, sg, &run->root, &run->known, &run->budget, err);
	if (r == 0)
		run->rep.host_view = sandbox_view_name(run->root.view);
	if (r == 0)
		r = rootless_plan(f, sg, run, err);
	if (r == 0)
		r = own_id_range(g, sg, run, err);
	if (r == 0)
		r = add_workspaces(g, f, sg, ws, err);
	if (r == 0)
		r = refuse_writable_reaching_runtime(g, sg, &run->known, ws, err);
	/* Read after every host path is resolved: a slow --env-file (a pipe) cannot widen any
	 * window between a path's check and its use (there is none: each is held by an fd). */
	if (r == 0)
		r = build_env(f, sg, &sg->env, err);
	if (r == 0)
		r = forbid_setid_if_rw(ws, run->root.user_binds, strv_len(f->binds),
				       f->seccomp_complain, sg, err);
	if (r == 0)
		r = prepare_workspaces(sg, &run->budget, ws, err);
	if (r == 0)
		r = workspace_sources(ws, &run->known, err);
	return r;
}

void sandbox_run_free(struct sandbox_run *run, struct specgen *sg, struct workspace_set *ws)
{
	/* Released first: a report path inside a workspace must reach the real directory, not
	 * the mounts this process stacked there. */
	workspace_release(ws);
	/* Released at teardown already when the sandbox ran; here when it never did (a
	 * teardown that failed left the state, and the range stays held with it). */
	struct stat held;
	if (run->slot.holder != NULL && lstat(run->slot.holder, &held) < 0 && errno == ENOENT)
		idpool_release(run->slot.path, run->slot.holder);
	idpool_slot_close(&run->slot);
	sandbox_budget_release(&run->budget);
	hostpath_list_free(&run->known);
	strv_free(run->root.links);
	sandbox_net_plan_free(&run->net);
	free(run->policy_file);
	kd_free(run->kd);
	report_free(&run->rep);
	free_spec(sg);
}

VERB(sandbox)
{
	struct sandbox_flags f = {0};
	int consumed = 0;
	struct cli_opt opts[SANDBOX_FLAG_COUNT];
	sandbox_flag_table(&f, opts);
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark sandbox [options] -- COMMAND [ARGS...]",
		    "Run COMMAND in a throw-away sandbox: of the host only /usr, /bin, /sbin, "
		    "/lib* "
		    "and\n"
		    "/etc read-only (--host-view full: the whole /; or --rootfs), fresh /proc /dev "
		    "/tmp\n"
		    "/var/tmp /run and HOME, a new user namespace with a non-root user, no\n"
		    "capabilities, no_new_privs, the default seccomp profile, every namespace new "
		    "and\n"
		    "only loopback networking. Exits with the command's status (125: bulwark "
		    "failed,\n"
		    "126: not executable, 127: not found).\n\n"
		    "Examples:\n"
		    "  bulwark sandbox -- sh -c 'id; cat /etc/os-release'\n"
		    "  bulwark sandbox --workspace \"$PWD:overlay\" --keep-changes /tmp/diff -- "
		    "make test\n"
		    "  bulwark sandbox --allow-domain pypi.org:443/tcp --allow-domain "
		    "files.pythonhosted.org:443/tcp \\\n"
		    "      --timeout 10m --memory 2g --report - -- pip download requests\n"
		    "  bulwark sandbox --allow 203.0.113.0/24:443/tcp --report - -- curl "
		    "https://203.0.113.5/",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r == 0) {
		/* Before anything exists: a sealed copy re-executes us from the start. */
		dev_t rw_devs[64];
		size_t n_rw = workspace_rw_devs(f.workspaces, rw_devs, ARRAY_SIZE(rw_devs));
		if (cli_seal_for_sandbox(rw_devs, n_rw, err) < 0)
			r = -1;
	}
	struct specgen sg = {0};
	struct workspace_set ws = {0};
	struct sandbox_run run;
	sandbox_run_init(&run);
	if (r == 0 && new_id(&run, err) < 0)
		r = -1;
	if (r < 0) {
		err->exit_status = 125;
		goto out;
	}
	if (argc - consumed < 1) {
		r = bw_fail(err, 0, "sandbox: expected a command (bulwark sandbox -- CMD ARGS...)");
		err->exit_status = 125;
		goto out;
	}
	int64_t timeout_ms = 0;
	if (f.report != NULL && f.report[0] == '\0') {
		r = bw_fail(err, 0, "--report: expected a file name or -");
		err->exit_status = 125;
		goto out;
	}
	if (f.timeout != NULL &&
	    (parse_duration_ms(f.timeout, &timeout_ms) < 0 || timeout_ms <= 0)) {
		r = bw_fail(err, 0,
			    "--timeout: expected a duration such as 30s, 5m or 1h, got \"%s\"",
			    f.timeout);
		err->exit_status = 125;
		goto out;
	}
	run.timeout_ms = timeout_ms;
	run.kill_after_ms = 10000;
	if (f.kill_after != NULL &&
	    (f.timeout == NULL || parse_duration_ms(f.kill_after, &run.kill_after_ms) < 0 ||
	     run.kill_after_ms > (int64_t)365 * 86400000)) {
		r = bw_fail(
		    err, 0,
		    f.timeout == NULL
			? "--kill-after: needs --timeout"
			: "--kill-after: expected a duration such as 0, 5s or 1m, got \"%s\"",
		    f.kill_after);
		err->exit_status = 125;
		goto out;
	}
	/* Resolved now, before the sandbox can touch anything near it. */
	if (f.report != NULL && report_target_open(f.report, &run.report, err) < 0) {
		run.id[0] = '\0'; /* nothing to report to */
		r = -1;
		err->exit_status = 125;
		goto out;
	}
	run.want_report = f.report != NULL;
	run.rep.id = run.id;
	run.rep.command = argv + consumed;
	r = sandbox_plan(g, &f, argv + consumed, &sg, &ws, &run, err);
	if (r < 0) {
		err->exit_status = 125;
		goto out;
	}
	r = run_sandbox(g, &sg, &run, err);
	if (r < 0) {
		err->exit_status = sandbox_exit_status(err);
		goto out;
	}
	/* The sandbox has ended: workspace_bytes_written(&ws) is valid until workspace_release. */
	if (ws.n > 0)
		run.rep.workspace_bytes = workspace_bytes_written(&ws);
	if (run.want_report)
		sandbox_budget_workspaces(&ws, &run.rep);
	if (workspace_keep_changes(&ws, err) < 0) {
		r = -1;
		err->exit_status = 125;
	}
out:
	workspace_release(&ws); /* before the report: see sandbox_run_free */
	r = finish_report(&f, &run, r, err);
	report_target_close(&run.report);
	sandbox_run_free(&run, &sg, &ws);
	sandbox_flags_free(&f);
	return r;
}
