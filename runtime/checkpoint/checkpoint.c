/* Checkpoint/restore through CRIU's command line: the argument lists, the checks that refuse
 * what CRIU would not carry over (Landlock, bulwark's helpers), CRIU's reason from its log, and
 * the state of a restored container. */
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
#include "runtime/checkpoint/image_dir.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/network.h"
#include "runtime/sandbox/watchdog.h"

extern char **environ;

#define DUMP_LOG "dump.log"
#define BOOT_ID_SOURCE "bulwark-boot-id" /* rootfs.c's tmpfs for the boot id */
#define RESTORE_LOG "restore.log"
#define DESCRIPTORS "descriptors.json" /* runc's name: the init's fds 0-2 at dump time */
#define MAX_ARGS 256

struct argv_buf {
	char *v[MAX_ARGS];
	size_t n;
	bool overflow; /* an argument did not fit: CRIU is not run */
};

static void arg_add(struct argv_buf *a, const char *s)
{
	if (a->n < MAX_ARGS - 1)
		a->v[a->n++] = xstrdup(s);
	else
		a->overflow = true;
}

static void arg_addf(struct argv_buf *a, const char *fmt, const char *x, const char *y)
{
	if (a->n < MAX_ARGS - 1)
		a->v[a->n++] = xasprintf(fmt, x, y);
	else
		a->overflow = true;
}

static void arg_free(struct argv_buf *a)
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
static char *log_reason(const struct image_dir *dir, const char *name)
{
	size_t len = 0;
	_cleanup_free_ char *text = image_dir_read(dir, name, 64 << 20, &len);
	char *r = text != NULL ? checkpoint_criu_log_reason(text) : NULL;
	return r != NULL ? r : xasprintf("no error line in its log %s/%s", dir->path, name);
}

/* A directory path from a flag: absolute after this (CRIU runs with our cwd, but the message
 * and the state must not depend on it). */
static char *abs_dir(const char *p)
{
	if (p[0] == '/')
		return fs_path_clean(p);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	_cleanup_free_ char *j = fs_path_join(cwd, p);
	return fs_path_clean(j);
}

struct criu_child {
	const char *bind_root; /* restore: bind this onto root_mnt in a private mount namespace */
	const char *root_mnt;
	/* restore: CRIU 3.17 does not restore no_new_privs; set on CRIU itself, every task it
	 * forks inherits it and nothing can clear it. */
	bool no_new_privs;
	/* fds CRIU inherits (those >= 0), close-on-exec cleared in the child: the image and work
	 * directories it is given as /proc/self/fd/N, a joined network namespace. */
	int keep_fd[3];
	/* restore: these of CRIU's fds 0-2 are a terminal handed on to the restored init
	 * (--inherit-fd): /dev/null in their place, as the caller's terminal never reaches a
	 * container (run and exec relay it through pipes). */
	bool null_stdio[3];
	/* restore: the directories CRIU gets as /proc/self/fd/N, opened again in its private mount
	 * namespace (CRIU mounts its cgroup yard in the work directory, which must be a mount of
	 * its own namespace) and refused unless the same directory as the one held. */
	const struct image_dir *reopen[2];
};

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

static int criu_exec(const struct global_opts *g, struct argv_buf *a, const struct criu_child *ch,
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
		if (ch != NULL && ch->bind_root != NULL &&
		    (unshare(CLONE_NEWNS) < 0 ||
		     mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
		     mount(ch->bind_root, ch->root_mnt, NULL, MS_BIND | MS_REC, NULL) < 0))
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
	if (WIFEXITED(st) && WEXITSTATUS(st) == 126 && ch != NULL && ch->bind_root != NULL)
		return bw_fail(err, 0,
			       "criu: could not prepare the root `%s`, open the image directories "
			       "again or run `%s`",
			       ch->bind_root, bin);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int check_mode(const struct checkpoint_opts *o, struct bw_error *err)
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

/* --parent-path names an earlier (pre-)dump, relative to the image directory as CRIU's
 * --prev-images-dir: it must be a directory now (runc checks the same, on the lexically joined
 * path, before anything else of the dump), so a typo is one line naming the flag, not CRIU's
 * log. The image directory itself need not exist yet ("../parent" next to it). */
static int check_parent(const char *img, const char *parent, struct bw_error *err)
{
	if (parent == NULL)
		return 0;
	_cleanup_free_ char *joined = fs_path_join(img, parent);
	_cleanup_free_ char *p = fs_path_clean(joined);
	struct stat st;
	if (stat(p, &st) < 0)
		return bw_fail(err, errno, "--parent-path: `%s` (as `%s`)", parent, p);
	if (!S_ISDIR(st.st_mode))
		return bw_fail(err, ENOTDIR, "--parent-path: `%s` (as `%s`)", parent, p);
	return 0;
}

/* The same parent as CRIU will find it, from the image directory held (not from its name),
 * which CRIU reads and, with --auto-dedup, punches holes in: the caller's, writable by no one
 * else. CRIU links it by name (`parent`), so its path must stay where only root writes. */
static int check_parent_at(const struct image_dir *img, const char *parent, struct bw_error *err)
{
	if (parent == NULL)
		return 0;
	_cleanup_close_ int fd = openat(img->fd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "--parent-path: `%s` (from `%s`)", parent, img->path);
	return image_dir_check_owner(fd, "--parent-path", parent, err);
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
static void common_args(struct argv_buf *a, const struct checkpoint_opts *o, const char *img,
			const char *work, const char *log)
{
	/* What we run is what this code says: /etc/criu/default.conf (a test suite may leave
	 * one behind) must not change the log file we read the reason from, or the dump. */
	arg_add(a, "--no-default-config");
	arg_add(a, "--images-dir");
	arg_add(a, img);
	arg_add(a, "--work-dir");
	arg_add(a, work);
	arg_add(a, "--log-file");
	arg_add(a, log);
	arg_add(a, "-v4");
	/* CRIU locks a dumped network namespace with iptables-restore by default; a host with
	 * only nft (bulwark's own firewall needs nothing else) has none, and the dump fails.
	 * Debian's CRIU is built with libnftables: nftables then, the same choice at dump and
	 * restore. */
	if (!in_path("iptables-restore"))
		arg_add(a, "--network-lock=nftables");
	const char *m = o->manage_cgroups_mode;
	arg_addf(a, "--manage-cgroups=%s%s", m != NULL && m[0] ? m : "soft", "");
	if (o->tcp_established)
		arg_add(a, "--tcp-established");
	if (o->ext_unix_sk)
		arg_add(a, "--ext-unix-sk");
	if (o->shell_job)
		arg_add(a, "--shell-job");
	if (o->file_locks)
		arg_add(a, "--file-locks");
	if (o->empty_ns != NULL && o->empty_ns[0] != '\0')
		arg_add(a, "--empty-ns=net");
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
static void external_mounts(struct argv_buf *a, const struct oci_spec *spec, const char *bundle,
			    bool restore)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		if (!is_bind(m) || m->source == NULL)
			continue;
		if (!restore) {
			arg_addf(a, "--external=mnt[%s]:%s", m->destination, m->destination);
			continue;
		}
		_cleanup_free_ char *src = m->source[0] == '/' || bundle == NULL
					       ? xstrdup(m->source)
					       : fs_path_join(bundle, m->source);
		arg_addf(a, "--ext-mount-map=%s:%s", m->destination, src);
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
static int check_confinement(const struct global_opts *g, const struct oci_spec *spec,
			     const char *verb, bool session, struct bw_error *err)
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

/* session: a session's watchdog and owner (its supervisor) stay outside the dumped tree and
 * release the session as CRIU ends it; the network's helpers are refused all the same. */
static int check_helpers(struct container *c, bool session, struct bw_error *err)
{
	static const char *const tags[][2] = {
	    {"agent:", "the network agent (nft table, DNS)"},
	    {"pasta:", "rootless egress (pasta)"},
	    {"watchdog:", "the lifetime watchdog"},
	    {"owner:", "a sandbox's owner"},
	};
	size_t n = session ? 2 : ARRAY_SIZE(tags);
	for (size_t i = 0; c->state.cleanup != NULL && c->state.cleanup[i] != NULL; i++)
		for (size_t k = 0; k < n; k++)
			if (str_has_prefix(c->state.cleanup[i], tags[k][0]))
				return bw_fail(err, 0,
					       "checkpoint: the container has %s, which CRIU does "
					       "not carry over",
					       tags[k][1]);
	return 0;
}

/* runc's descriptors.json: the targets of the init's fds 0-2, for the restore's --inherit-fd.
 * Read before the dump (which may end the init), written after it succeeded. */
#define DESCRIPTORS_MAX (3 * (PATH_MAX * 6 + 8) + 8)
static size_t read_init_descriptors(pid_t pid, char buf[DESCRIPTORS_MAX])
{
	size_t off = 0;
	buf[off++] = '[';
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			n = 0;
		target[n] = '\0';
		off += (size_t)snprintf(buf + off, DESCRIPTORS_MAX - off, "%s\"", fd ? "," : "");
		for (ssize_t i = 0; i < n && off < DESCRIPTORS_MAX - 16; i++) {
			unsigned char ch = (unsigned char)target[i];
			if (ch == '"' || ch == '\\')
				buf[off++] = '\\';
			if (ch < 0x20)
				off += (size_t)snprintf(buf + off, DESCRIPTORS_MAX - off, "\\u%04x",
							ch);
			else
				buf[off++] = (char)ch;
		}
		buf[off++] = '"';
	}
	buf[off++] = ']';
	return off;
}

static bool is_spec_bind(const struct oci_spec *spec, const char *dest)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (is_bind(&spec->mounts[i]) && strcmp(spec->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

/* Every device node bound over a file of the container (the host's /dev/null over a masked
 * file; in a user namespace, the host's /dev/null, /dev/tty... that no mknod can make there)
 * is external to the image: named by its path, mapped back at restore. */
static void external_file_mounts(struct argv_buf *a, pid_t pid, const struct oci_spec *spec)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f != NULL && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		_cleanup_free_ char *dest = mountinfo_unescape(mp);
		_cleanup_free_ char *in = xasprintf("/proc/%d/root%s", (int)pid, dest);
		/* The sandbox's own boot id (rootfs.c): one file of a tmpfs mounted nowhere else,
		 * which CRIU cannot dump ("doesn't have a proper root mount"); stacked twice (the
		 * /proc/sys remount), named once. */
		const char *sep = strstr(line, " - ");
		char fstype[64] = "", source[64] = "";
		bool boot_id = sep != NULL && sscanf(sep + 3, "%63s %63s", fstype, source) == 2 &&
			       strcmp(source, BOOT_ID_SOURCE) == 0;
		struct stat st;
		if (dest[0] != '/' || strpbrk(dest, ":[],") != NULL || is_spec_bind(spec, dest) ||
		    lstat(in, &st) < 0 || (!S_ISCHR(st.st_mode) && !boot_id))
			continue;
		bool named = false;
		_cleanup_free_ char *key = xasprintf("--external=mnt[%s]:%s", dest, dest);
		for (size_t i = 0; i < a->n && !named; i++)
			named = strcmp(a->v[i], key) == 0;
		if (!named)
			arg_add(a, key);
	}
}

/* The restore's side: a masked file maps to the host's /dev/null, a device to the host's node
 * of the same path (keys the image does not have are not used). */
static void external_file_maps(struct argv_buf *a, const struct oci_spec *spec)
{
	static const char *const devs[] = {"/dev/null",	  "/dev/zero",	  "/dev/full",
					   "/dev/random", "/dev/urandom", "/dev/tty"};
	for (size_t i = 0; spec->linux.masked_paths && spec->linux.masked_paths[i]; i++)
		arg_addf(a, "--ext-mount-map=%s:%s", spec->linux.masked_paths[i], "/dev/null");
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		if (!is_spec_bind(spec, devs[i]))
			arg_addf(a, "--ext-mount-map=%s:%s", devs[i], devs[i]);
	for (size_t i = 0; i < spec->linux.n_devices; i++)
		if (strpbrk(spec->linux.devices[i].path, ":[],") == NULL &&
		    !is_spec_bind(spec, spec->linux.devices[i].path))
			arg_addf(a, "--ext-mount-map=%s:%s", spec->linux.devices[i].path,
				 spec->linux.devices[i].path);
}

#define STDIO_EXTERNAL "bulwark-stdio-external" /* "N file[mnt:ino]" lines */

static bool mount_in_ns(pid_t pid, int mnt_id)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f != NULL && getline(&line, &cap, f) > 0)
		if (atoi(line) == mnt_id)
			return true;
	return false;
}

/* The init's stdio on a file outside its mount namespace (the host's /dev/null as an engine
 * passes it) is external to the image (CRIU's "file[mnt_id:inode]"); restore hands its own fd
 * of the same number in its place. Pipes are CRIU's own business (descriptors.json). */
static size_t external_stdio(struct argv_buf *a, pid_t pid, char *out, size_t cap)
{
	size_t off = 0;
	for (int fd = 0; fd < 3; fd++) {
		char path[64], target[PATH_MAX], info[256];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		struct stat st;
		if (n <= 0 || target[0] != '/' || stat(path, &st) < 0)
			continue;
		snprintf(info, sizeof(info), "/proc/%d/fdinfo/%d", (int)pid, fd);
		_cleanup_fclose_ FILE *f = fopen(info, "re");
		int mnt = -1;
		while (f != NULL && fgets(info, sizeof(info), f) != NULL)
			if (sscanf(info, "mnt_id: %d", &mnt) == 1)
				break;
		if (mnt < 0 || mount_in_ns(pid, mnt))
			continue;
		char key[64];
		snprintf(key, sizeof(key), "file[%x:%llx]", (unsigned)mnt,
			 (unsigned long long)st.st_ino);
		arg_add(a, "--external");
		arg_add(a, key);
		off += (size_t)snprintf(out + off, cap - off, "%d %s\n", fd, key);
	}
	return off;
}

static int dump_args(struct argv_buf *a, struct container *c, const struct oci_spec *spec,
		     const struct checkpoint_opts *o, const char *img, const char *work)
{
	arg_add(a, "criu");
	arg_add(a, o->pre_dump ? "pre-dump" : "dump");
	arg_add(a, "--tree");
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)c->state.pid);
	arg_add(a, pid);
	common_args(a, o, img, work, DUMP_LOG);
	arg_add(a, "--root");
	arg_add(a, c->state.rootfs);
	if (o->parent_path != NULL) {
		arg_add(a, "--prev-images-dir");
		arg_add(a, o->parent_path);
	}
	if (o->pre_dump || o->parent_path != NULL)
		arg_add(a, "--track-mem");
	if (o->leave_running && !o->pre_dump)
		arg_add(a, "--leave-running");
	if (o->auto_dedup)
		arg_add(a, "--auto-dedup");
	external_mounts(a, spec, NULL, false);
	external_file_mounts(a, c->state.pid, spec);
	const struct oci_namespace *net = oci_spec_namespace(spec, OCI_NS_NETWORK);
	if (net != NULL && net->path != NULL && (o->empty_ns == NULL || !o->empty_ns[0])) {
		struct stat st;
		if (stat(net->path, &st) == 0) {
			char key[64];
			snprintf(key, sizeof(key), "%llu", (unsigned long long)st.st_ino);
			arg_addf(a, "--external=net[%s]:%s", key, "extRootNetNS");
		}
	}
	return 0;
}

/* The image and work directories of a dump or restore, opened once (image_dir.h). */
struct ck_dirs {
	struct image_dir img, own_work;
	struct image_dir *work; /* &img when both are one directory */
};

static void ck_dirs_init(struct ck_dirs *d)
{
	memset(d, 0, sizeof(*d));
	d->img.fd = d->img.parent = d->own_work.fd = d->own_work.parent = -1;
	d->work = &d->own_work;
}

static int ck_dirs_open(struct ck_dirs *d, const char *img, const char *work,
			enum image_dir_mode img_mode, const char *img_flag, struct bw_error *err)
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

static void ck_dirs_close(struct ck_dirs *d)
{
	image_dir_close(&d->img);
	image_dir_close(&d->own_work);
}

/* The dump of the loaded (locked) container c. session: `session checkpoint` (the image
 * directory made here, must not exist; the session's supervisor releases it as CRIU ends it).
 * d: the directories, opened here, closed by the caller. */
static int dump_container(const struct global_opts *g, struct container *c,
			  const struct checkpoint_opts *o, const char *img, const char *work,
			  bool session, struct ck_dirs *d, struct bw_error *err)
{
	const char *verb = session ? "session checkpoint" : "checkpoint";
	struct oci_spec *spec = NULL;
	struct argv_buf a = {0};
	_cleanup_free_ char *desc = NULL;
	time_t start = time(NULL);
	int r = -1;
	ck_dirs_init(d);
	enum oci_status st = container_status(c);
	if (st != OCI_STATUS_RUNNING) {
		r = bw_fail(err, 0, "%s: %s %s is %s, not running", verb,
			    session ? "session" : "container", c->id, oci_status_name(st));
		goto out;
	}
	if (check_parent(img, o->parent_path, err) < 0 || lifecycle_load_spec(c, &spec, err) < 0 ||
	    check_confinement(g, spec, verb, session, err) < 0 ||
	    check_helpers(c, session, err) < 0)
		goto out;
	if (c->state.cgroup_path == NULL) {
		r = bw_fail(err, 0, "%s: the container has no cgroup (created without root)", verb);
		goto out;
	}
	if (ck_dirs_open(d, img, work, session ? IMAGE_DIR_NEW : IMAGE_DIR_CREATE,
			 session ? "session checkpoint: DIR" : "--image-path", err) < 0 ||
	    check_parent_at(&d->img, o->parent_path, err) < 0 ||
	    image_dir_prepare_log(d->work, DUMP_LOG, err) < 0)
		goto rm_dir;
	dump_args(&a, c, spec, o, d->img.proc, d->work->proc);
	desc = xmalloc(DESCRIPTORS_MAX);
	size_t desc_len = read_init_descriptors(c->state.pid, desc);
	char ext[256];
	size_t ext_len = external_stdio(&a, c->state.pid, ext, sizeof(ext));
	struct criu_child ch = {.keep_fd = {d->img.fd, d->work->fd, -1}};
	int rc = criu_exec(g, &a, &ch, err);
	if (rc < 0)
		goto fail_image;
	if (rc != 0) {
		_cleanup_free_ char *why = log_reason(d->work, DUMP_LOG);
		bool left = image_dir_drop_partial(&d->img, DESCRIPTORS, start);
		bw_fail(err, 0, "%s: criu %s failed: %s (log: %s/%s; %s%s%s)", verb,
			o->pre_dump ? "pre-dump" : "dump", why, work, DUMP_LOG,
			left ? "the image in `" : "no image was written", left ? img : "",
			left ? "` is incomplete" : "");
		goto rm_dir;
	}
	r = fs_write_atomic_at(d->img.fd, DESCRIPTORS, desc, desc_len, 0600, err);
	if (r == 0)
		r = fs_write_atomic_at(d->img.fd, STDIO_EXTERNAL, ext, ext_len, 0600, err);
	/* CRIU killed it: release it, as runc (a session's supervisor does that). */
	if (!session && !o->leave_running && !o->pre_dump) {
		struct bw_error e2 = {0};
		if (lifecycle_teardown(c, r < 0 ? &e2 : err) < 0)
			r = -1;
	}
	goto out;
fail_image:
	image_dir_drop_partial(&d->img, DESCRIPTORS, start);
rm_dir:
	/* A failed dump resumes the tasks it seized. What we made and CRIU left empty goes (a
	 * session's DIR, too, when CRIU did not even write its log). */
	if (d->work->made)
		image_dir_drop_empty(d->work, DUMP_LOG);
	if (d->work != &d->img || session)
		image_dir_remove_made(&d->img);
	image_dir_remove_made(&d->own_work);
out:
	arg_free(&a);
	oci_spec_free(spec);
	return r;
}

int checkpoint_container(const struct global_opts *g, const char *id,
			 const struct checkpoint_opts *o, struct bw_error *err)
{
	if (check_mode(o, err) < 0)
		return -1;
	_cleanup_free_ char *img = abs_dir(o->image_path ? o->image_path : "checkpoint");
	_cleanup_free_ char *work = o->work_path ? abs_dir(o->work_path) : xstrdup(img);
	if (img == NULL || work == NULL)
		return bw_fail(err, errno, "--image-path: getcwd");
	struct container *c = NULL;
	if (container_load(cli_state_root(g), id, &c, err) < 0)
		return -1;
	struct ck_dirs d;
	int r = dump_container(g, c, o, img, work, false, &d, err);
	ck_dirs_close(&d);
	container_free(c);
	return r;
}

int checkpoint_session(const struct global_opts *g, struct container *c, const char *dir,
		       struct image_dir *out, struct bw_error *err)
{
	_cleanup_free_ char *img = abs_dir(dir);
	out->fd = out->parent = -1;
	out->base = NULL;
	if (img == NULL)
		return bw_fail(err, errno, "session checkpoint: DIR: getcwd");
	struct checkpoint_opts o = {0};
	struct ck_dirs d;
	int r = dump_container(g, c, &o, img, img, true, &d, err);
	if (r == 0) { /* the caller writes into DIR through this fd */
		*out = d.img;
		out->path = dir;
		d.img.fd = d.img.parent = -1;
		d.img.base = NULL;
	}
	ck_dirs_close(&d);
	return r;
}

/* ---- restore ---- */

static int read_descriptors(const struct image_dir *img, char *fds[3])
{
	size_t len = 0;
	_cleanup_free_ char *text = image_dir_read(img, DESCRIPTORS, 1 << 16, &len);
	fds[0] = fds[1] = fds[2] = NULL;
	if (text == NULL)
		return 0; /* not one of ours: CRIU reopens what it recorded */
	const char *p = text;
	for (int i = 0; i < 3; i++) {
		p = strchr(p, '"');
		if (p == NULL)
			return 0;
		const char *q = ++p;
		while (*q && *q != '"')
			q += (*q == '\\' && q[1]) ? 2 : 1;
		fds[i] = xstrndup(p, (size_t)(q - p));
		p = *q ? q + 1 : q;
	}
	return 0;
}

static int restore_args(struct argv_buf *a, const struct oci_spec *spec,
			const struct restore_opts *o, const char *bundle, const struct ck_dirs *d,
			const char *root_mnt, const char *cgpath, const char *pidfile,
			bool null_stdio[3])
{
	bool inherited[3] = {false, false, false};
	arg_add(a, "criu");
	arg_add(a, "restore");
	common_args(a, &o->ck, d->img.proc, d->work->proc, RESTORE_LOG);
	arg_add(a, "--root");
	arg_add(a, root_mnt);
	arg_add(a, "--restore-detached");
	arg_add(a, "--pidfile");
	arg_add(a, pidfile);
	arg_add(a, "--cgroup-root");
	arg_add(a, cgpath);
	if (o->ck.auto_dedup)
		arg_add(a, "--auto-dedup");
	external_mounts(a, spec, bundle, true);
	external_file_maps(a, spec);
	char *fds[3];
	read_descriptors(&d->img, fds);
	/* The restored stdio is ours: a pipe or an outside file of the old caller's is the new
	 * caller's. */
	for (int i = 0; i < 3; i++) {
		if (fds[i] != NULL && str_has_prefix(fds[i], "pipe:")) {
			char k[16];
			snprintf(k, sizeof(k), "fd[%d]", i);
			arg_addf(a, "--inherit-fd=%s:%s", k, fds[i]);
			inherited[i] = true;
		}
		free(fds[i]);
	}
	size_t len = 0;
	_cleanup_free_ char *ext = image_dir_read(&d->img, STDIO_EXTERNAL, 4096, &len);
	if (ext != NULL) {
		char *save = NULL;
		for (char *l = strtok_r(ext, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			int fd = -1;
			char key[64];
			/* One key per fd: the file is the image's, which may be anyone's. */
			if (sscanf(l, "%d %63s", &fd, key) == 2 && fd >= 0 && fd < 3 &&
			    !inherited[fd] && str_has_prefix(key, "file[") &&
			    strpbrk(key, ",") == NULL) {
				char k[16];
				snprintf(k, sizeof(k), "fd[%d]", fd);
				arg_addf(a, "--inherit-fd=%s:%s", k, key);
				inherited[fd] = true;
			}
		}
	}
	for (int i = 0; i < 3; i++)
		null_stdio[i] = inherited[i] && isatty(i);
	return 0;
}

static int restore_state(struct container *c, const struct oci_spec *spec, const char *raw,
			 size_t raw_len, const char *bundle, const char *rootfs,
			 struct cg_manager *cg, struct bw_error *err)
{
	if (fs_write_atomic_at(c->dirfd, "config.json", raw, raw_len, 0600, err) < 0)
		return -1;
	lifecycle_fill_state(c, spec, bundle, rootfs, cg_path(cg));
	c->state.own_pid_ns = true;
	c->state.status = OCI_STATUS_CREATING;
	if (spec->hooks.n[OCI_HOOK_POSTSTOP] > 0)
		strv_push(&c->state.cleanup, "hooks:poststop");
	return container_save(c, err);
}

static int read_pidfile(const char *path, pid_t *pid, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int v = 0;
	if (fs_read_file(path, 64, &text, &len, err) < 0)
		return bw_wrap(err, "criu's pid file");
	text[strcspn(text, "\n")] = '\0';
	if (parse_int(text, &v) < 0 || v <= 1)
		return bw_fail(err, 0, "criu's pid file: `%s` is not a pid", text);
	*pid = v;
	return 0;
}

static int load_bundle_spec(const char *bundle_flag, char **bundle, char **raw, size_t *len,
			    struct oci_spec **spec, struct bw_error *err)
{
	char buf[PATH_MAX];
	if (realpath(bundle_flag ? bundle_flag : ".", buf) == NULL)
		return bw_fail(err, errno, "--bundle: `%s`", bundle_flag ? bundle_flag : ".");
	*bundle = xstrdup(buf);
	_cleanup_free_ char *path = fs_path_join(buf, "config.json");
	if (fs_read_file(path, 4 << 20, raw, len, err) < 0)
		return bw_wrap(err, "config.json");
	return oci_spec_parse(*raw, *len, "config.json", spec, err);
}

static int rootfs_of(const char *bundle, const struct oci_spec *spec, char **out,
		     struct bw_error *err)
{
	_cleanup_free_ char *p = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
							   : fs_path_join(bundle, spec->root_path);
	char buf[PATH_MAX];
	if (realpath(p, buf) == NULL)
		return bw_fail(err, errno, "root.path: `%s`", p);
	*out = xstrdup(buf);
	return 0;
}

/* After criu restore: the state gets the restored init, then the caller's pid file. */
static int adopt_restored(struct container *c, const char *pidfile, const struct restore_opts *o,
			  pid_t *out, struct bw_error *err)
{
	pid_t pid = 0;
	if (read_pidfile(pidfile, &pid, err) < 0)
		return -1;
	c->state.pid = pid;
	c->state.init_start_time = proc_start_time(pid);
	c->state.status = OCI_STATUS_RUNNING;
	container_record_pidns(c);
	if (c->state.init_start_time == 0)
		return bw_fail(err, ESRCH, "the restored init (pid %d) is gone", (int)pid);
	if (container_save(c, err) < 0)
		return -1;
	if (o->pid_file != NULL) {
		char b[32];
		int n = snprintf(b, sizeof(b), "%d", (int)pid);
		if (fs_write_atomic(o->pid_file, b, (size_t)n, 0644, err) < 0)
			return bw_wrap(err, "--pid-file");
	}
	*out = pid;
	return 0;
}

/* The restored init must be confined at least as config.json says: a CRIU that drops
 * no_new_privs or a seccomp filter is caught here, and the container killed. */
static int check_restored(pid_t pid, const struct oci_spec *spec, struct bw_error *err)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (fs_read_file(path, 1 << 16, &text, &len, err) < 0)
		return bw_wrap(err, "the restored init");
	if (spec->process.no_new_privileges && strstr(text, "\nNoNewPrivs:\t1\n") == NULL)
		return bw_fail(err, 0,
			       "restore: the restored init lacks no_new_privs "
			       "(process.noNewPrivileges): refused, the container was killed");
	if (spec->process.apparmor_profile != NULL && apparmor_enabled()) {
		_cleanup_free_ char *label = NULL;
		size_t n = strlen(spec->process.apparmor_profile);
		snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
		struct bw_error e = {0};
		if (fs_read_file(path, 4096, &label, &len, &e) < 0 ||
		    strncmp(label, spec->process.apparmor_profile, n) != 0 ||
		    (label[n] != ' ' && label[n] != '\n' && label[n] != '\0'))
			return bw_fail(err, 0,
				       "restore: the restored init is not confined by the AppArmor "
				       "profile `%s` (process.apparmorProfile): refused, the "
				       "container was killed",
				       spec->process.apparmor_profile);
	}
	if (spec->linux.seccomp != NULL && strstr(text, "\nSeccomp:\t2\n") == NULL)
		return bw_fail(err, 0,
			       "restore: the restored init has no seccomp filter (linux.seccomp): "
			       "refused, the container was killed");
	return 0;
}

/* In a user namespace CRIU's restored tasks read their images as the container's root: the
 * image (flat, regular files only) gets that root's host gid, read-only, never ownership (an
 * owner could chmod and rewrite the image a later restore would trust). */
static int share_image_with_userns(const struct image_dir *img, const struct oci_spec *spec,
				   struct bw_error *err)
{
	if (oci_spec_namespace(spec, OCI_NS_USER) == NULL)
		return 0;
	gid_t gid = (gid_t)-1;
	for (size_t i = 0; i < spec->linux.n_gid_mappings; i++)
		if (spec->linux.gid_mappings[i].container_id == 0)
			gid = spec->linux.gid_mappings[i].host_id;
	if (gid == (gid_t)-1)
		return bw_fail(err, 0,
			       "restore: linux.gidMappings: no host gid for the container's 0");
	int dfd = img->fd, ddup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = ddup < 0 ? NULL : fdopendir(ddup);
	if (d == NULL) {
		if (ddup >= 0)
			close(ddup);
		return bw_fail(err, errno, "--image-path: read `%s`", img->path);
	}
	rewinddir(d);
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		struct stat st, held;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* A hard link to a host file must not be handed to the container's group. */
		_cleanup_close_ int fd = openat(
		    dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &held) < 0)
			r = bw_fail(err, errno, "--image-path: open `%s`", e->d_name);
		else if (!S_ISREG(held.st_mode) || held.st_nlink != 1 || held.st_uid != geteuid() ||
			 held.st_ino != st.st_ino || held.st_dev != st.st_dev)
			r = bw_fail(
			    err, 0,
			    "--image-path: `%s` is not a file of the caller's own with one link: "
			    "refused",
			    e->d_name);
		else if (fchown(fd, (uid_t)-1, gid) < 0 ||
			 fchmod(fd, (st.st_mode & 0600) | 0040) < 0)
			r = bw_fail(err, errno, "--image-path: give `%s` to the container's group",
				    e->d_name);
	}
	closedir(d);
	if (r == 0 && (fchown(dfd, (uid_t)-1, gid) < 0 || fchmod(dfd, 0750) < 0))
		r = bw_fail(err, errno, "--image-path: give `%s` to the container's group",
			    img->path);
	return r;
}

static int run_restore(const struct global_opts *g, struct container *c,
		       const struct oci_spec *spec, const struct restore_opts *o,
		       const char *bundle, const struct ck_dirs *d, struct cg_manager *cg,
		       pid_t *pid, struct bw_error *err)
{
	char dir[PATH_MAX];
	if (realpath(c->dir, dir) == NULL)
		return bw_fail(err, errno, "state directory");
	_cleanup_free_ char *root_mnt = fs_path_join(dir, "criu-root");
	_cleanup_free_ char *pidfile = fs_path_join(dir, "criu.pid");
	if (share_image_with_userns(&d->img, spec, err) < 0)
		return -1;
	if (mkdir(root_mnt, 0700) < 0)
		return bw_fail(err, errno, "mkdir `%s`", root_mnt);
	struct argv_buf a = {0};
	bool null_stdio[3];
	restore_args(&a, spec, o, bundle, d, root_mnt, cg_path(cg), pidfile, null_stdio);
	/* A joined network namespace was named external at dump (extRootNetNS): CRIU gets it
	 * back as an inherited fd, open across its exec only. */
	const struct oci_namespace *net = oci_spec_namespace(spec, OCI_NS_NETWORK);
	_cleanup_close_ int netfd = -1;
	if (net != NULL && net->path != NULL && (o->ck.empty_ns == NULL || !o->ck.empty_ns[0])) {
		netfd = open(net->path, O_RDONLY | O_CLOEXEC);
		if (netfd < 0) {
			arg_free(&a);
			return bw_fail(err, errno, "linux.namespaces: network path `%s`",
				       net->path);
		}
		char k[32];
		snprintf(k, sizeof(k), "fd[%d]", netfd);
		arg_addf(&a, "--inherit-fd=%s:%s", k, "extRootNetNS");
	}
	struct criu_child ch = {.bind_root = c->state.rootfs,
				.root_mnt = root_mnt,
				.keep_fd = {netfd, d->img.fd, d->work->fd},
				.null_stdio = {null_stdio[0], null_stdio[1], null_stdio[2]},
				.reopen = {&d->img, d->work != &d->img ? d->work : NULL},
				.no_new_privs = spec->process.no_new_privileges};
	int rc = criu_exec(g, &a, &ch, err);
	arg_free(&a);
	rmdir(root_mnt);
	if (rc > 0) {
		_cleanup_free_ char *why = log_reason(d->work, RESTORE_LOG);
		rc = bw_fail(err, 0, "restore: criu restore failed: %s (log: %s/%s)", why,
			     d->work->path, RESTORE_LOG);
	}
	if (rc == 0)
		rc = adopt_restored(c, pidfile, o, pid, err);
	if (rc == 0)
		rc = check_restored(*pid, spec, err);
	unlink(pidfile);
	return rc;
}

/* Without --detach: wait for the restored init as `run` waits, then release the container. */
static int wait_restored(struct container *c, pid_t pid, bool child, struct bw_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0;
	if (pidfd < 0)
		return bw_fail(err, errno, "pidfd_open of the restored init %d", (int)pid);
	container_unlock(c);
	if (child) {
		bool timed_out = false;
		status = lifecycle_wait(pid, pidfd, NULL, 0, &timed_out, err);
	} else {
		struct pollfd p = {pidfd, POLLIN, 0};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	close(pidfd);
	struct container *again = NULL;
	struct bw_error e = {0};
	if (container_load(c->root, c->id, &again, &e) == 0) {
		lifecycle_teardown(again, &e);
		container_free(again);
	}
	return status;
}

int restore_container(const struct global_opts *g, const char *id, const struct restore_opts *o,
		      struct bw_error *err)
{
	if (container_validate_id(id, err) < 0 || check_mode(&o->ck, err) < 0)
		return -1;
	if (o->console_socket != NULL)
		return bw_fail(err, 0,
			       "--console-socket: containers with a terminal cannot be restored by "
			       "bulwark");
	_cleanup_free_ char *img = abs_dir(o->ck.image_path ? o->ck.image_path : "checkpoint");
	_cleanup_free_ char *work = o->ck.work_path ? abs_dir(o->ck.work_path) : xstrdup(img);
	if (img == NULL || work == NULL)
		return bw_fail(err, errno, "--image-path: getcwd");
	struct ck_dirs d;
	struct stat inv;
	_cleanup_free_ char *bundle = NULL, *raw = NULL, *rootfs = NULL;
	struct oci_spec *spec = NULL;
	struct container *c = NULL;
	struct cg_manager *cg = NULL;
	size_t len = 0;
	pid_t pid = 0;
	int r = -1;
	/* The image and the bundle first: a missing work directory is made only as CRIU runs. */
	ck_dirs_init(&d);
	if (image_dir_open(&d.img, "--image-path", img, IMAGE_DIR_EXISTING, err) < 0)
		goto out;
	if (fstatat(d.img.fd, "inventory.img", &inv, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(inv.st_mode)) {
		bw_fail(err, 0, "--image-path: `%s` holds no CRIU image (no inventory.img)", img);
		goto out;
	}
	if (load_bundle_spec(o->bundle, &bundle, &raw, &len, &spec, err) < 0 ||
	    check_confinement(g, spec, "restore", false, err) < 0 ||
	    rootfs_of(bundle, spec, &rootfs, err) < 0)
		goto out;
	if (g->systemd_cgroup) {
		bw_fail(err, 0, "restore: --systemd-cgroup is not supported by restore");
		goto out;
	}
	if (container_new(cli_state_root(g), id, &c, err) < 0)
		goto out;
	if (cg_open(spec->linux.cgroups_path, id, &cg, err) < 0 ||
	    restore_state(c, spec, raw, len, bundle, rootfs, cg, err) < 0 ||
	    cg_create(cg, spec->linux.has_resources ? &spec->linux.resources : NULL, err) < 0)
		goto fail;
	/* The parents this made go with the container, never one that was there before. */
	char **parents = cg_parents_made(cg);
	for (size_t i = 0; parents != NULL && parents[i] != NULL; i++)
		strv_push_take(&c->state.cleanup, xasprintf("cgparent:%s", parents[i]));
	strv_free(parents);
	if (container_save(c, err) < 0)
		goto fail;
	if (!o->detach && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		bw_fail(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
		goto fail;
	}
	if (strcmp(img, work) == 0)
		d.work = &d.img;
	else if (image_dir_open(&d.own_work, "--work-path", work, IMAGE_DIR_CREATE, err) < 0)
		goto fail;
	if (image_dir_prepare_log(d.work, RESTORE_LOG, err) < 0 ||
	    run_restore(g, c, spec, o, bundle, &d, cg, &pid, err) < 0)
		goto fail;
	if (o->detach) {
		r = 0;
		goto out;
	}
	cg_free(cg);
	cg = NULL;
	r = wait_restored(c, pid, !o->no_subreaper, err);
	goto out;
fail:
	if (c != NULL) {
		struct bw_error e2 = {0};
		if (cg != NULL)
			cg_kill_all(cg, SIGKILL, &e2);
		lifecycle_teardown(c, &e2);
	}
	image_dir_drop_empty(d.work, RESTORE_LOG); /* CRIU never ran */
	image_dir_remove_made(&d.own_work);
out:
	ck_dirs_close(&d);
	cg_free(cg);
	container_free(c);
	oci_spec_free(spec);
	return r;
}
