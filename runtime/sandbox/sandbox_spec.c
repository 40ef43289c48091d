/* The sandbox's flags into its spec: binds, --ro, the user, the environment (--env,
 * --env-file), the root (--rootfs or the host view) and the workspaces. Pure checks first; host
 * paths are each resolved once and held by an fd. */
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
int sandbox_read_flag_file(const char *flag, const char *file, size_t max, char **text, size_t *len,
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
	if (sandbox_read_flag_file("--env-file", file, 1 << 20, &text, &len, err) < 0)
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

int sandbox_build_env(const struct sandbox_flags *f, const struct specgen *sg, char ***env,
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

int sandbox_build_spec(struct sandbox_flags *f, char **args, struct specgen *sg,
		       struct root_plan *rp, struct hostpath_list *known, struct sandbox_budget *b,
		       struct bw_error *err)
{
	specgen_defaults(sg);
	sg->root_path = NULL; /* owned from here on: sandbox_free_spec releases them */
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
	sg->seccomp = sc; /* sandbox_free_spec frees it */
	if (f->seccomp_complain)
		strv_push(&sg->annotations, "run.bulwark.seccomp=complain");
	return 0;
}

/* --workspace and --keep-changes: checked before anything exists; each workspace is bound at
 * its own path (rw and overlay ones from what workspace_prepare stacks there) and the first
 * one is the default working directory. */
int sandbox_add_workspaces(const struct global_opts *g, const struct sandbox_flags *f,
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
int sandbox_forbid_setid_if_rw(const struct workspace_set *ws, size_t first, size_t n,
			       bool complain, struct specgen *sg, struct bw_error *err)
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

int sandbox_prepare_workspaces(const struct specgen *sg, const struct sandbox_budget *b,
			       struct workspace_set *ws, struct bw_error *err)
{
	struct workspace_ids ids = {.base_uid = sg->host_uid,
				    .base_gid = sg->host_gid,
				    .size = sg->map_size,
				    .uid = sg->uid,
				    .gid = sg->gid};
	return workspace_prepare(ws, &ids, b->scratch, err);
}

void sandbox_free_spec(struct specgen *sg)
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
