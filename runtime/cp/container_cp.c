/* `bulwark cp` (container_cp.h): the container side in a child that enters the container's
 * user and mount namespaces from the init's pidfd, chroots into the init's root, takes the
 * container process's ids without any capability, and streams the tree (cp_stream.h) to or
 * from the host side over a socketpair. The host side never resolves a container path. */
#include "runtime/cp/container_cp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "netns/ns.h"
#include "oci/spec.h"
#include "profiles/landlock.h"
#include "runtime/container.h"
#include "runtime/cp/cp_hostpath.h"
#include "runtime/cp/cp_stream.h"
#include "runtime/lifecycle.h"

struct cp_job {
	bool out; /* container -> host */
	const char *id;
	char *ctr_path;	   /* absolute, lexically clean */
	bool ctr_must_dir; /* written with a trailing "/" (or "/.") */
	uint64_t max_bytes;
	int64_t deadline_ms; /* cp_now_ms() when the whole copy ends */
	struct container *c;
	struct oci_spec *spec;
	int pidfd;
	int ns_flags;
};

static void job_free(struct cp_job *j)
{
	if (j->pidfd >= 0)
		close(j->pidfd);
	oci_spec_free(j->spec);
	container_free(j->c);
	free(j->ctr_path);
}

/* The container path as the process would name it: relative to its cwd, cleaned. */
static int job_path(struct cp_job *j, const char *path, struct bw_error *err)
{
	size_t n = strlen(path);
	if (n == 0)
		return bw_fail(err, 0, "%s: an empty path in the container", j->id);
	j->ctr_must_dir = path[n - 1] == '/' || (n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
			  strcmp(path, ".") == 0;
	const char *cwd = j->spec->process.cwd ? j->spec->process.cwd : "/";
	_cleanup_free_ char *abs = path[0] == '/' ? xstrdup(path) : fs_path_join(cwd, path);
	j->ctr_path = fs_path_clean(abs);
	return 0;
}

static int job_open(const struct global_opts *g, const char *id, const char *path, bool out,
		    const struct cp_limits *lim, struct cp_job *j, struct bw_error *err)
{
	int64_t timeout = lim->timeout_ms > 0 ? lim->timeout_ms : CP_DEFAULT_TIMEOUT_MS;
	*j = (struct cp_job){.out = out,
			     .id = id,
			     .max_bytes = lim->max_bytes,
			     .deadline_ms = cp_now_ms() + timeout,
			     .pidfd = -1};
	if (container_load(cli_state_root(g), id, &j->c, err) < 0)
		return bw_wrap(err, "%s", id);
	enum oci_status st = container_status(j->c);
	if (st != OCI_STATUS_RUNNING && st != OCI_STATUS_PAUSED && st != OCI_STATUS_CREATED)
		return bw_fail(err, 0, "container %s is not running", id);
	if (lifecycle_load_spec(j->c, &j->spec, err) < 0 || job_path(j, path, err) < 0)
		return -1;
	j->pidfd = container_pidfd(j->c, err);
	if (j->pidfd < 0 || ns_differing_flags(j->c->state.pid, &j->ns_flags, err) < 0)
		return -1;
	/* kill and delete may proceed meanwhile: the child holds what it needs. */
	container_unlock(j->c);
	return 0;
}

/* ---- the container side (in the child) ---- */

/* Whether the init's user namespace denies setgroups (/proc/PID/setgroups "deny", read from
 * the host's /proc before any setns): only then may our own setgroups fail. */
static bool setgroups_denied(pid_t pid)
{
	char path[64], buf[16] = {0};
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && strncmp(buf, "deny", 4) == 0;
}

static int drop_privileges(const struct oci_user *u, bool groups_denied, struct bw_error *err)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};
	gid_t gids[64];
	size_t ng = u->n_additional_gids < 64 ? u->n_additional_gids : 64;
	for (size_t i = 0; i < ng; i++)
		gids[i] = u->additional_gids[i];
	/* A user namespace that denies setgroups (a rootless one) makes every process in it
	 * keep the groups it came with, the container's as ours. Anywhere else a failure would
	 * leave us the host root's groups: fail closed. */
	if (setgroups(ng, gids) < 0 && !(errno == EPERM && groups_denied))
		return bw_fail(err, errno, "setgroups (process.user.additionalGids)");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return bw_fail(err, errno, "setresgid %u (process.user.gid)", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return bw_fail(err, errno, "setresuid %u (process.user.uid)", u->uid);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &h, d) < 0)
		return bw_fail(err, errno, "drop capabilities");
	/* setresuid makes us dumpable again unless the ids stay the same: say it once more. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return bw_fail(err, errno, "prctl");
	return 0;
}

/* The init's own root (a pivot_root or, with --no-pivot, a chroot), then made ours: nothing
 * of the host stays reachable from this process, which runs with ids the container has.
 * /proc/PID/root needs ptrace access to the init: from the host's user namespace for an init
 * that never exec'd (a sandbox's pid 1 keeps the host's as its mm's), from the container's
 * for a rootless one. Where neither may, the root of its mount namespace (where pivot_root
 * and --no-pivot's move both put the rootfs) is the same place. A mount namespace the host's
 * user namespace owns (a sandbox's) is entered before the user namespace, one the
 * container's owns (rootless) after. */
static int enter_container(const struct cp_job *j, int *rootfd, struct bw_error *err)
{
	char path[64];
	bool want_mnt = j->ns_flags & CLONE_NEWNS, in_mnt = false;
	bool groups_denied = setgroups_denied(j->c->state.pid);
	pid_t parent = getppid();
	snprintf(path, sizeof(path), "/proc/%d/root", (int)j->c->state.pid);
	*rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int open_errno = errno;
	if (want_mnt && setns(j->pidfd, CLONE_NEWNS) == 0)
		in_mnt = true;
	else if (want_mnt && errno != EPERM)
		return bw_fail(err, errno, "enter the mount namespace of container %s", j->id);
	if ((j->ns_flags & CLONE_NEWUSER) && setns(j->pidfd, CLONE_NEWUSER) < 0)
		return bw_fail(err, errno, "enter the user namespace of container %s", j->id);
	if (*rootfd < 0 && !in_mnt) {
		*rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		open_errno = errno;
	}
	/* The pid was the init's when the pidfd was taken: still alive, so still the init. */
	if (syscall(SYS_pidfd_send_signal, j->pidfd, 0, NULL, 0) < 0)
		return bw_fail(err, errno, "container %s stopped", j->id);
	if (want_mnt && !in_mnt && setns(j->pidfd, CLONE_NEWNS) < 0)
		return bw_fail(err, errno, "enter the mount namespace of container %s", j->id);
	if (*rootfd < 0 && want_mnt)
		*rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return bw_fail(err, open_errno, "open the root of container %s", j->id);
	if (fchdir(*rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return bw_fail(err, errno, "chroot into the root of container %s", j->id);
	if (drop_privileges(&j->spec->process.user, groups_denied, err) < 0)
		return -1;
	/* setresuid cleared the parent-death signal: a helper the host side no longer waits
	 * for (killed) must not stay, stopped or stalled in a read, in the container. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		return bw_fail(err, errno, "the copy's host side is gone");
	/* Never more than the container's processes may: its Landlock rules too. */
	struct landlock_plan plan = {0};
	int r = landlock_plan_from_spec(j->spec, &plan, err);
	if (r == 0)
		r = landlock_apply(&plan, -1, err);
	landlock_plan_free(&plan);
	return r;
}

static const char *base_name(const char *clean, const char *fallback)
{
	const char *b = strrchr(clean, '/');
	b = b ? b + 1 : clean;
	return *b ? b : fallback;
}

/* Open what the path names in the container (symlinks resolved inside its root), for reading:
 * a directory or a regular file (reopened, and checked to be the same). */
static int open_source(int rootfd, const char *path, const char *shown, struct bw_error *err)
{
	struct stat a, b;
	_cleanup_close_ int pfd = fs_open_in_root(rootfd, path, O_PATH, 0, err);
	if (pfd < 0 || fstat(pfd, &a) < 0)
		return bw_fail(err, errno, "`%s`", shown);
	if (S_ISDIR(a.st_mode))
		return openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!S_ISREG(a.st_mode))
		return bw_fail(err, 0, "`%s`: not a regular file or a directory", shown);
	int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, err);
	if (fd < 0)
		return bw_fail(err, errno, "`%s`", shown);
	if ((fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
		close(fd);
		return bw_fail(err, 0, "`%s` changed while being opened", shown);
	}
	return fd;
}

static int child_send(const struct cp_job *j, int rootfd, int sock, struct bw_error *err)
{
	_cleanup_free_ char *shown = xasprintf("%s:%s", j->id, j->ctr_path);
	_cleanup_close_ int fd = open_source(rootfd, j->ctr_path, shown, err);
	if (fd < 0)
		return -1;
	struct cp_send_opts o = {.sock = sock,
				 .timeout_ms = CP_IDLE_TIMEOUT_MS,
				 .deadline_ms = j->deadline_ms,
				 .warn_inband = true};
	return cp_send_tree(&o, fd, base_name(j->ctr_path, j->id), shown, err);
}

/* cp -r's destination: an existing directory (symlinks resolved inside the root) receives
 * the tree under its own name; otherwise the last component is the new name, created in its
 * parent without following whatever is there. */
static int child_recv(const struct cp_job *j, int rootfd, int sock, struct bw_error *err)
{
	_cleanup_free_ char *shown = xasprintf("%s:%s", j->id, j->ctr_path);
	struct cp_recv_opts o = {.sock = sock,
				 .timeout_ms = CP_IDLE_TIMEOUT_MS,
				 .deadline_ms = j->deadline_ms,
				 .max_bytes = j->max_bytes,
				 .shown = shown};
	struct bw_error ignored = {0};
	_cleanup_close_ int dfd =
	    fs_open_in_root(rootfd, j->ctr_path, O_PATH | O_DIRECTORY, 0, &ignored);
	if (dfd >= 0)
		return cp_recv_tree(&o, dfd, NULL, err);
	if ((errno != ENOENT && errno != ENOTDIR) || j->ctr_must_dir ||
	    strcmp(j->ctr_path, "/") == 0)
		return bw_fail(err, errno, "`%s`", shown);
	_cleanup_free_ char *parent = xstrdup(j->ctr_path);
	*strrchr(parent, '/') = '\0';
	_cleanup_close_ int pfd =
	    fs_open_in_root(rootfd, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, 0, &ignored);
	if (pfd < 0)
		return bw_fail(err, errno, "`%s`: its directory", shown);
	return cp_recv_tree(&o, pfd, base_name(j->ctr_path, NULL), err);
}

static void close_all_but(int a, int b, int c)
{
	int keep[3] = {a, b, c};
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (keep[k] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[k];
				keep[k] = t;
			}
	unsigned from = 3;
	for (int i = 0; i < 3; i++) {
		if (keep[i] > (int)from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
		if (keep[i] >= (int)from)
			from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static __attribute__((noreturn)) void child_main(const struct cp_job *j, pid_t parent, int sock,
						 int errfd)
{
	struct bw_error e = {0};
	int rootfd = -1;
	/* First of all, before any setns: while we are host root in a namespace the container
	 * shares (its pid namespace may be the host's), a dumpable process could be ptraced by
	 * one holding CAP_SYS_PTRACE in the container's user namespace. Never dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(1);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	/* ^C at the terminal reaches us too: the host side decides, and we clean up when the
	 * stream ends (or die with it, PDEATHSIG). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* Nothing of the host (state dir, lock, the host side's fds) goes along. */
	close_all_but(sock, errfd, j->pidfd);
	int r = enter_container(j, &rootfd, &e);
	if (r == 0)
		r = j->out ? child_send(j, rootfd, sock, &e) : child_recv(j, rootfd, sock, &e);
	if (r < 0) {
		char text[BW_ERROR_MAX + 128];
		bw_error_text(&e, text, sizeof(text));
		(void)!write(errfd, text, strlen(text));
	}
	_exit(r < 0 ? 1 : 0);
}

/* ---- the host side ---- */

static void on_interrupt(int sig)
{
	(void)sig;
	cp_stream_interrupted = 1;
}

/* ^C, a hang-up or a TERM stop the copy at its next step, which then undoes what it made
 * (and the container side, seeing the stream end, does the same) instead of leaving a
 * half-made tree. No SA_RESTART: a wait returns at once. */
static void catch_interrupts(struct sigaction old[3])
{
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
}

static void restore_interrupts(const struct sigaction old[3])
{
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

struct cp_child {
	pid_t pid;
	int pidfd, sock, errfd;
};

static int child_start(const struct cp_job *j, struct cp_child *ch, struct bw_error *err)
{
	int sv[2], ep[2];
	*ch = (struct cp_child){.pid = -1, .pidfd = -1, .sock = -1, .errfd = -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return bw_fail(err, errno, "socketpair");
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return bw_fail(err, errno, "pipe");
	}
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(ep[0]);
		child_main(j, self, sv[1], ep[1]);
	}
	int e = errno;
	close(sv[1]);
	close(ep[1]);
	ch->sock = sv[0];
	ch->errfd = ep[0];
	if (pid < 0)
		return bw_fail(err, e, "fork");
	ch->pid = pid;
	ch->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* Wait for the child (it cleans up after a broken stream), at most the idle timeout, and
 * take its error when it has one and ours is only that the stream broke. */
static int child_finish(struct cp_child *ch, int64_t deadline_ms, int r, struct bw_error *err)
{
	close_fd(&ch->sock);
	struct pollfd p = {ch->pidfd, POLLIN, 0};
	/* A child that already stalled the stream gets no second wait, nor one past the
	 * copy's deadline. */
	int64_t left = deadline_ms - cp_now_ms();
	int n, wait_ms = r < 0 && err->code == ETIMEDOUT ? 0 : CP_IDLE_TIMEOUT_MS;
	if (left < wait_ms)
		wait_ms = left > 0 ? (int)left : 0;
	do
		n = ch->pidfd >= 0 ? poll(&p, 1, wait_ms) : 1;
	while (n < 0 && errno == EINTR);
	bool timed_out = n == 0;
	if (timed_out)
		syscall(SYS_pidfd_send_signal, ch->pidfd, SIGKILL, NULL, 0);
	int status = 0;
	while (waitpid(ch->pid, &status, 0) < 0 && errno == EINTR)
		;
	char text[BW_ERROR_MAX];
	ssize_t len = read(ch->errfd, text, sizeof(text) - 1);
	close_fd(&ch->errfd);
	close_fd(&ch->pidfd);
	text[len > 0 ? len : 0] = '\0';
	text[strcspn(text, "\n")] = '\0';
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (r < 0 && text[0] != '\0' && (err->code == EPIPE || err->code == ECONNRESET)) {
		bw_error_clear(err);
		return bw_fail(err, 0, "%s", text);
	}
	if (r < 0)
		return -1;
	if (timed_out)
		return bw_fail(err, ETIMEDOUT, "the copy in the container did not finish");
	if (!ok)
		return bw_fail(err, 0, "%s", text[0] ? text : "the copy in the container failed");
	return 0;
}

int container_cp_in(const struct global_opts *g, const char *id, const char *host_src,
		    const char *ctr_dst, const struct cp_limits *lim, struct bw_error *err)
{
	struct cp_job j;
	struct cp_child ch = {.pid = -1, .pidfd = -1, .sock = -1, .errfd = -1};
	int r = -1;
	if (job_open(g, id, ctr_dst, false, lim, &j, err) < 0) {
		job_free(&j);
		return -1;
	}
	_cleanup_close_ int src = cp_host_open_source(host_src, err);
	if (src >= 0) {
		if (child_start(&j, &ch, err) == 0) {
			_cleanup_free_ char *top = cp_host_base_name(host_src);
			struct cp_send_opts o = {.sock = ch.sock,
						 .timeout_ms = CP_IDLE_TIMEOUT_MS,
						 .deadline_ms = j.deadline_ms};
			struct sigaction old[3];
			catch_interrupts(old);
			r = cp_send_tree(&o, src, top, host_src, err);
			r = child_finish(&ch, j.deadline_ms, r, err);
			restore_interrupts(old);
		}
	}
	job_free(&j);
	return r;
}

/* 5% of the destination file system's size: what a copy out always leaves free there. */
static uint64_t space_reserve(int fd)
{
	struct statvfs v;
	if (fstatvfs(fd, &v) < 0)
		return UINT64_MAX; /* the receiver's own check reports why */
	return (uint64_t)v.f_blocks * v.f_frsize / 20;
}

int container_cp_out(const struct global_opts *g, const char *id, const char *ctr_src,
		     const char *host_dst, const struct cp_limits *lim, struct bw_error *err)
{
	struct cp_job j;
	struct cp_child ch = {.pid = -1, .pidfd = -1, .sock = -1, .errfd = -1};
	int r = -1;
	if (job_open(g, id, ctr_src, true, lim, &j, err) < 0) {
		job_free(&j);
		return -1;
	}
	struct cp_host_dst dst;
	if (cp_host_open_dest(host_dst, &dst, err) == 0) {
		if (child_start(&j, &ch, err) == 0) {
			/* Into a directory: the name is ours, never one the stream could choose. */
			const char *name = dst.name ? dst.name : base_name(j.ctr_path, j.id);
			_cleanup_free_ char *shown =
			    dst.name ? xstrdup(host_dst) : fs_path_join(host_dst, name);
			/* Without --max-bytes the budget is the destination's free space: the
			 * copy never takes the last 5% of its file system. */
			struct cp_recv_opts o = {.sock = ch.sock,
						 .timeout_ms = CP_IDLE_TIMEOUT_MS,
						 .deadline_ms = j.deadline_ms,
						 .max_bytes = lim->max_bytes,
						 .shown = shown,
						 .keep_space = true,
						 .space_fd = dst.dirfd,
						 .space_reserve = space_reserve(dst.dirfd)};
			struct sigaction old[3];
			catch_interrupts(old);
			r = cp_recv_tree(&o, dst.dirfd, name, err);
			r = child_finish(&ch, j.deadline_ms, r, err);
			restore_interrupts(old);
		}
		cp_host_dst_free(&dst);
	}
	job_free(&j);
	return r;
}

bool cp_split_ref(const char *arg, char **id, const char **path)
{
	const char *colon = strchr(arg, ':');
	struct bw_error ignored = {0};
	if (colon == NULL || colon == arg || memchr(arg, '/', (size_t)(colon - arg)) != NULL)
		return false;
	char *s = xstrndup(arg, (size_t)(colon - arg));
	if (container_validate_id(s, &ignored) < 0) {
		free(s);
		return false;
	}
	*id = s;
	*path = colon + 1;
	return true;
}
