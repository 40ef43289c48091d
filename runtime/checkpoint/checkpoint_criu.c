/* CRIU's command line as dump and restore share it: the argument list and the runner, the
 * flags both pass, the refusals of what CRIU would not carry over, CRIU's reason from its
 * log, and the image and work directories (held by fd, image_dir.c). */
#include "runtime/checkpoint/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/spec.h"
#include "profiles/apparmor.h"
#include "profiles/landlock.h"
#include "runtime/checkpoint/checkpoint_internal.h"
#include "runtime/checkpoint/image_dir.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/network.h"
#include "runtime/sandbox/watchdog.h"

void ck_arg_add(struct argv_buf *a, const char *s)
{
	if (a->n < MAX_ARGS - 1)
		a->v[a->n++] = xstrdup(s);
	else
		a->overflow = true;
}

void ck_arg_addf(struct argv_buf *a, const char *fmt, const char *x, const char *y)
{
	if (a->n < MAX_ARGS - 1)
		a->v[a->n++] = xasprintf(fmt, x, y);
	else
		a->overflow = true;
}

void ck_arg_free(struct argv_buf *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

const char *checkpoint_criu_binary(const struct global_opts *g)
{
	return g->criu != NULL && g->criu[0] != '\0' ? g->criu : "criu";
}

/* CRIU's reason from the log in dir (through its fd), or a fallback naming the log. */
char *ck_log_reason(const struct image_dir *dir, const char *name)
{
	size_t len = 0;
	_cleanup_free_ char *text = image_dir_read(dir, name, 64 << 20, &len);
	char *r = text != NULL ? checkpoint_criu_log_reason(text) : NULL;
	return r != NULL ? r : xasprintf("no error line in its log %s/%s", dir->path, name);
}

/* A directory path from a flag: absolute after this (CRIU runs with our cwd, but the message
 * and the state must not depend on it). */
char *ck_abs_dir(const char *p)
{
	if (p[0] == '/')
		return fs_path_clean(p);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	_cleanup_free_ char *j = fs_path_join(cwd, p);
	return fs_path_clean(j);
}

/* In CRIU's child, after its unshare: d's fd number names the same directory through the new
 * namespace's mounts. */
static int reopen_in_ns(const struct image_dir *d)
{
	struct stat held, now;
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &now) < 0 || fstat(d->fd, &held) < 0 || now.st_dev != held.st_dev ||
	    now.st_ino != held.st_ino || dup2(fd, d->fd) < 0)
		return -1;
	close(fd);
	return 0;
}

/* mkdir -p of path (absolute) under dirfd. */
static int skel_mkdirs(int dirfd, const char *path, bool last_is_file)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path + 1) >= (int)sizeof(buf))
		return -1;
	for (char *p = buf; p != NULL && *p != '\0';) {
		char *slash = strchr(p, '/');
		if (slash != NULL)
			*slash = '\0';
		bool last = slash == NULL || slash[1] == '\0';
		int r = last && last_is_file
			    ? openat(dirfd, buf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0444)
			    : mkdirat(dirfd, buf, 0755);
		if (r < 0 && errno != EEXIST)
			return -1;
		if (last && last_is_file)
			close(r);
		if (slash != NULL)
			*slash = '/';
		p = slash != NULL ? slash + 1 : NULL;
	}
	return 0;
}

/* In CRIU's child, its own mount namespace: a session's root, a fresh tmpfs like the one the
 * session was made on (sandbox_view.c), with the mount points and top-level links of its
 * skeleton, never the host's /. CRIU restores the mounts on it. */
static int make_skeleton(const struct criu_child *ch)
{
	char opts[64];
	snprintf(opts, sizeof(opts), "mode=755,size=1m,uid=%u,gid=%u", ch->skel_uid, ch->skel_uid);
	if (mount("tmpfs", ch->root_mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -1;
	int dirfd = open(ch->root_mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && ch->skeleton[i] != NULL; i++) {
		const char *e = ch->skeleton[i];
		if (e[0] == 'l') {
			char name[NAME_MAX + 1];
			const char *to = strchr(e + 2, ' ');
			if (to == NULL || (size_t)(to - e - 2) > NAME_MAX)
				r = -1;
			else {
				snprintf(name, sizeof(name), "%.*s", (int)(to - e - 2), e + 2);
				r = symlinkat(to + 1, dirfd, name) < 0 && errno != EEXIST ? -1 : 0;
			}
		} else if (e[2] == '/') {
			r = skel_mkdirs(dirfd, e + 2, e[0] == 'f');
		}
		if (r == 0 && e[0] != 'l' && e[2] == '/' &&
		    fchownat(dirfd, e + 3, ch->skel_uid, ch->skel_uid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			r = -1;
	}
	close(dirfd);
	return r;
}

int ck_criu_exec(const struct global_opts *g, struct argv_buf *a, const struct criu_child *ch,
		 struct bw_error *err)
{
	const char *bin = checkpoint_criu_binary(g);
	if (a->overflow)
		return bw_fail(err, E2BIG, "criu: more than %d arguments", MAX_ARGS - 1);
	a->v[0] = xstrdup(bin);
	a->v[a->n] = NULL;
	if (g->debug) {
		for (size_t i = 0; i < a->n; i++)
			log_debug("criu argv[%zu]: %s", i, a->v[i]);
	}
	pid_t pid = fork();
	if (pid < 0)
		return bw_fail(err, errno, "fork for criu");
	if (pid == 0) {
		if (ch != NULL && (ch->bind_root != NULL || ch->skeleton != NULL) &&
		    (unshare(CLONE_NEWNS) < 0 ||
		     mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0))
			_exit(126);
		if (ch != NULL && ch->bind_root != NULL &&
		    mount(ch->bind_root, ch->root_mnt, NULL, MS_BIND | MS_REC, NULL) < 0)
			_exit(126);
		if (ch != NULL && ch->skeleton != NULL && make_skeleton(ch) < 0)
			_exit(126);
		for (size_t i = 0; ch != NULL && i < ARRAY_SIZE(ch->reopen); i++)
			if (ch->reopen[i] != NULL && reopen_in_ns(ch->reopen[i]) < 0)
				_exit(126);
		if (ch != NULL && ch->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(126);
		for (size_t i = 0; ch != NULL && i < ARRAY_SIZE(ch->keep_fd); i++)
			if (ch->keep_fd[i] >= 0 && fcntl(ch->keep_fd[i], F_SETFD, 0) < 0)
				_exit(126);
		for (int i = 0; ch != NULL && i < 3; i++) {
			int nul = ch->null_stdio[i] ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
			if (ch->null_stdio[i] && (nul < 0 || dup2(nul, i) < 0))
				_exit(126);
		}
		umask(077); /* memory images are the caller's alone */
		sig_reset_for_exec();
		execvp(bin, a->v);
		_exit(errno == ENOENT ? 127 : 126);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait for criu");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return bw_fail(
		    err, ENOENT,
		    "criu: `%s` not found (install Debian's criu package, or pass --criu "
		    "PATH)",
		    bin);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 126 && ch != NULL &&
	    (ch->bind_root != NULL || ch->skeleton != NULL))
		return bw_fail(err, 0,
			       "criu: could not prepare the root `%s`, open the image directories "
			       "again or run `%s`",
			       ch->bind_root ? ch->bind_root : "(a fresh tmpfs)", bin);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int ck_check_mode(const struct checkpoint_opts *o, struct bw_error *err)
{
	const char *m = o->manage_cgroups_mode;
	if (m != NULL && m[0] != '\0' && strcmp(m, "soft") != 0 && strcmp(m, "full") != 0 &&
	    strcmp(m, "strict") != 0 && strcmp(m, "ignore") != 0)
		return bw_fail(
		    err, 0, "--manage-cgroups-mode: `%s` is not one of soft, full, strict, ignore",
		    m);
	if (o->empty_ns != NULL && o->empty_ns[0] != '\0' && strcmp(o->empty_ns, "network") != 0)
		return bw_fail(err, 0,
			       "--empty-ns: `%s` is not supported (only `network`, as runc's)",
			       o->empty_ns);
	if (o->lazy_pages)
		return bw_fail(err, 0,
			       "--lazy-pages: not supported by bulwark (it needs CRIU's lazy-pages "
			       "daemon and a page server)");
	if (o->parent_path != NULL && (o->parent_path[0] == '\0' || o->parent_path[0] == '/'))
		return bw_fail(err, 0,
			       "--parent-path: `%s` must be a path relative to the image path (as "
			       "CRIU's --prev-images-dir)",
			       o->parent_path);
	return 0;
}

/* An executable name found in PATH. */
static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy =
	    xstrdup(path != NULL && path[0] ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *f = fs_path_join(d, name);
		if (access(f, X_OK) == 0)
			return true;
	}
	return false;
}

/* The flags dump and restore share. */
void ck_common_args(struct argv_buf *a, const struct checkpoint_opts *o, const char *img,
		    const char *work, const char *log)
{
	/* What we run is what this code says: /etc/criu/default.conf (a test suite may leave
	 * one behind) must not change the log file we read the reason from, or the dump. */
	ck_arg_add(a, "--no-default-config");
	ck_arg_add(a, "--images-dir");
	ck_arg_add(a, img);
	ck_arg_add(a, "--work-dir");
	ck_arg_add(a, work);
	ck_arg_add(a, "--log-file");
	ck_arg_add(a, log);
	ck_arg_add(a, "-v4");
	/* CRIU locks a dumped network namespace with iptables-restore by default; a host with
	 * only nft (bulwark's own firewall needs nothing else) has none, and the dump fails.
	 * Debian's CRIU is built with libnftables: nftables then, the same choice at dump and
	 * restore. */
	if (!in_path("iptables-restore"))
		ck_arg_add(a, "--network-lock=nftables");
	const char *m = o->manage_cgroups_mode;
	ck_arg_addf(a, "--manage-cgroups=%s%s", m != NULL && m[0] ? m : "soft", "");
	if (o->tcp_established)
		ck_arg_add(a, "--tcp-established");
	if (o->ext_unix_sk)
		ck_arg_add(a, "--ext-unix-sk");
	if (o->shell_job)
		ck_arg_add(a, "--shell-job");
	if (o->file_locks)
		ck_arg_add(a, "--file-locks");
	if (o->empty_ns != NULL && o->empty_ns[0] != '\0')
		ck_arg_add(a, "--empty-ns=net");
}

static bool is_bind(const struct oci_mount *m)
{
	if (m->type != NULL && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; m->options != NULL && m->options[i] != NULL; i++)
		if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
			return true;
	return false;
}

/* Host bind mounts and masked files (binds of /dev/null) are external to the image: dump
 * names them by their destination, restore maps each back to its source (runc's way). */
void ck_external_mounts(struct argv_buf *a, const struct oci_spec *spec, const char *bundle,
			bool restore)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		if (!is_bind(m) || m->source == NULL)
			continue;
		if (!restore) {
			ck_arg_addf(a, "--external=mnt[%s]:%s", m->destination, m->destination);
			continue;
		}
		_cleanup_free_ char *src = m->source[0] == '/' || bundle == NULL
					       ? xstrdup(m->source)
					       : fs_path_join(bundle, m->source);
		ck_arg_addf(a, "--ext-mount-map=%s:%s", m->destination, src);
	}
}

/* A destination that CRIU's "mnt[KEY]:VALUE" syntax could misread. */
static int check_mount_keys(const struct oci_spec *spec, const char *verb, struct bw_error *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (is_bind(&spec->mounts[i]) &&
		    (strpbrk(spec->mounts[i].destination, ":[],") != NULL ||
		     (spec->mounts[i].source && strpbrk(spec->mounts[i].source, ":,") != NULL)))
			return bw_fail(err, 0,
				       "%s: mounts[%zu]: a bind mount with `:`, `,`, `[` or `]` in "
				       "its path cannot be named to CRIU",
				       verb, i);
	for (size_t i = 0; spec->linux.masked_paths && spec->linux.masked_paths[i]; i++)
		if (strpbrk(spec->linux.masked_paths[i], ":[],") != NULL)
			return bw_fail(err, 0,
				       "%s: linux.maskedPaths[%zu]: `:`, `,`, `[` or `]` in the "
				       "path cannot be named to CRIU",
				       verb, i);
	return 0;
}

/* What CRIU cannot carry over is refused before anything is touched. */
int ck_check_confinement(const struct global_opts *g, const struct oci_spec *spec, const char *verb,
			 bool session, struct bw_error *err)
{
	if (check_mount_keys(spec, verb, err) < 0)
		return -1;
	const char *ll = oci_spec_annotation(spec, LANDLOCK_ANNOTATION);
	if (ll != NULL && strcmp(ll, "off") != 0)
		return bw_fail(err, 0,
			       "%s: the %s is confined by Landlock (" LANDLOCK_ANNOTATION
			       "=%s), which CRIU cannot checkpoint or restore: it would come back "
			       "without it%s",
			       verb, session ? "session" : "container", ll,
			       session ? " (only a session made with session create "
					 "--checkpointable can be checkpointed)"
				       : "");
	const char *aa = oci_spec_annotation(spec, APPARMOR_ANNOTATION);
	if (aa != NULL && strcmp(aa, "off") != 0 && strcmp(aa, "") != 0)
		return bw_fail(err, 0,
			       "%s: the container runs under bulwark's generated AppArmor profile "
			       "(" APPARMOR_ANNOTATION "=%s), which a restore would not load again",
			       verb, aa);
	if (spec->process.terminal)
		return bw_fail(err, 0,
			       "%s: the container has a terminal (process.terminal): not supported "
			       "by bulwark's checkpoint/restore",
			       verb);
	int64_t life = 0;
	struct bw_error e = {0};
	/* A session's lifetime is its supervisor's, recorded with the image (session.json). */
	if (!session && (watchdog_lifetime(spec, &life, &e) < 0 || life > 0))
		return bw_fail(err, 0,
			       "%s: the container has a lifetime (" WATCHDOG_LIFETIME_ANNOTATION
			       ") whose watchdog a restore would not bring back",
			       verb);
	if (network_wanted(g, spec))
		return bw_fail(err, 0,
			       "%s: the container's network policy (bulwark's nft table and DNS "
			       "agent) is not carried over by CRIU",
			       verb);
	const struct oci_namespace *pidns = oci_spec_namespace(spec, OCI_NS_PID);
	if (pidns == NULL || pidns->path != NULL)
		return bw_fail(err, 0,
			       "%s: the container needs a pid namespace of its own (CRIU restores "
			       "its pids there)",
			       verb);
	return 0;
}

bool ck_is_spec_bind(const struct oci_spec *spec, const char *dest)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (is_bind(&spec->mounts[i]) && strcmp(spec->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

void ck_dirs_init(struct ck_dirs *d)
{
	memset(d, 0, sizeof(*d));
	d->img.fd = d->img.parent = d->own_work.fd = d->own_work.parent = -1;
	d->work = &d->own_work;
}

int ck_dirs_open(struct ck_dirs *d, const char *img, const char *work, enum image_dir_mode img_mode,
		 const char *img_flag, struct bw_error *err)
{
	ck_dirs_init(d);
	if (image_dir_open(&d->img, img_flag, img, img_mode, err) < 0)
		return -1;
	if (strcmp(img, work) == 0) {
		d->work = &d->img;
		return 0;
	}
	return image_dir_open(&d->own_work, "--work-path", work, IMAGE_DIR_CREATE, err);
}

void ck_dirs_close(struct ck_dirs *d)
{
	image_dir_close(&d->img);
	image_dir_close(&d->own_work);
}
