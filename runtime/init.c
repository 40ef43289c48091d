/* The child side of the spawn: everything the container's first process (or an exec'd
 * process) does between clone3 and execve, in the order DESIGN.md §2 gives (the container's
 * set-up in runtime/spawn/init_container.c, the process's in init_process.c). Never returns:
 * on failure it reports over the sync socket and exits. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "oci/spec.h"
#include "runtime/init_reaper.h"
#include "runtime/process.h"
#include "runtime/sync.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The init's /proc/<pid>, kept when its root has no /proc (a chroot without a mount
 * namespace): the exec fifo is reopened through it. O_CLOEXEC, closed after the fifo. */
int init_proc_self = -1;
/* The process's environment (process_env_final), made in init_setup_process. */
char **init_env;

/* The exec fifo's write end, open (O_CLOEXEC) from the start signal until execve. */
static int init_exec_fifo = -1;

static void __attribute__((noreturn)) init_fail(int sock, struct bw_error *err)
{
	sync_send_error(sock, err);
	_exit(1);
}

/* SYNC_GO, after the host paths the runtime reopened for us (SYNC_HOSTFD, spawn_prepare.c): each is
 * kept in its record, where hostpath_reopen finds it. */
static int receive_go(struct spawn_config *cfg, int sock, struct sync_msg *m, struct bw_error *err)
{
	for (;;) {
		if (sync_recv(sock, m, err) <= 0)
			return -1;
		if (m->type != SYNC_HOSTFD)
			break;
		struct hostpath *hp = NULL;
		uint64_t i = 0;
		if (m->data != NULL && strcmp(m->data, "root") == 0)
			hp = cfg->root_src;
		else if (m->data != NULL && parse_u64(m->data, &i) == 0 &&
			 i < cfg->spec->n_mounts && cfg->mount_srcs != NULL)
			hp = &cfg->mount_srcs[i];
		if (hp == NULL || hp->path == NULL || hp->held || m->fd < 0) {
			sync_msg_free(m);
			return bw_fail(err, EPROTO, "unexpected host path message");
		}
		hp->held = true;
		hp->held_fd = steal_fd(&m->fd);
		sync_msg_free(m);
	}
	if (m->type != SYNC_GO) {
		sync_msg_free(m);
		return bw_fail(err, EPROTO, "expected the go-ahead, got message %u", m->type);
	}
	return 0;
}

/* Blocks until `start` opens the fifo, then writes its byte and keeps the write end open:
 * `start` reads to EOF, which comes only when execve (close-on-exec) or death closes it. So
 * start returns once the user's program runs, and a signal sent after it reaches that program,
 * never an init whose default dispositions a pid namespace's init drops (runc keeps the fifo
 * open the same way). */
static int wait_for_start(const struct spawn_config *cfg, struct bw_error *err)
{
	char path[32];
	int fd;
	if (init_proc_self >= 0)
		snprintf(path, sizeof(path), "fd/%d", cfg->fifo_fd);
	else
		fs_fd_path(cfg->fifo_fd, path);
	do
		fd = openat(init_proc_self >= 0 ? init_proc_self : AT_FDCWD, path,
			    O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (init_proc_self >= 0) {
		close(init_proc_self);
		init_proc_self = -1;
	}
	if (fd < 0)
		return bw_fail(err, errno, "open exec fifo");
	if (write(fd, "0", 1) != 1) {
		close(fd);
		return bw_fail(err, errno, "write exec fifo");
	}
	init_exec_fifo = fd;
	close(cfg->fifo_fd);
	return 0;
}

/* The parent's fds (the state lock above all: flock belongs to the open file, so an inherited
 * copy would keep the container locked) are closed first; only what the init needs stays. */
static void close_inherited_fds(const struct spawn_config *cfg, int sock)
{
	int keep[OCI_NS_NTYPES + 5], n = 0;
	keep[n++] = sock;
	keep[n++] = cfg->fifo_fd;
	keep[n++] = cfg->target_pidfd;
	keep[n++] = log_fd();
	keep[n++] = cfg->status_fd;
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		keep[n++] = cfg->ns_fds[t];
	unsigned int from = 3 + (unsigned int)cfg->preserve_fds;
	for (;;) {
		int next = -1; /* lowest kept fd >= from */
		for (int i = 0; i < n; i++)
			if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			syscall(SYS_close_range, from, ~0U, 0);
			return;
		}
		if ((unsigned int)next > from)
			syscall(SYS_close_range, from, (unsigned int)next - 1, 0);
		from = (unsigned int)next + 1;
	}
}

/* The signals whose disposition is not the default (ignored or caught), from one read of
 * /proc/self/status (the host's procfs still) instead of a sigaction call for each of the 64;
 * every signal when it cannot be read. */
static uint64_t non_default_signals(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ~UINT64_C(0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ~UINT64_C(0);
	buf[n] = '\0';
	const char *ign = strstr(buf, "\nSigIgn:\t"), *cgt = strstr(buf, "\nSigCgt:\t");
	char *e1, *e2;
	if (ign == NULL || cgt == NULL)
		return ~UINT64_C(0);
	uint64_t i = strtoull(ign + 9, &e1, 16), c = strtoull(cgt + 9, &e2, 16);
	if (e1 == ign + 9 || *e1 != '\n' || e2 == cgt + 9 || *e2 != '\n')
		return ~UINT64_C(0);
	return i | c;
}

/* After the sync socket is closed, errors go to the container's stderr, and once `start` was
 * called also to the fifo, for `start` to report. */
static void __attribute__((noreturn)) init_die(struct bw_error *err)
{
	char text[BW_ERROR_MAX + 64];
	bw_error_text(err, text, sizeof(text));
	dprintf(STDERR_FILENO, "bulwark: %s\n", text);
	if (init_exec_fifo >= 0)
		dprintf(init_exec_fifo, "%s", text);
	_exit(1);
}

/* The container's filter, then dropping what was held for it. */
static void load_filter(const struct spawn_config *cfg, bool load, uint64_t held)
{
	struct bw_error err = {0};
	if (load && seccomp_prog_load(cfg->seccomp, NULL, &err) < 0)
		init_die(&err);
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0)
		init_die(&err);
}

/* The runtime's last steps: the filter (unless startContainer hooks needed it earlier), then
 * execve. Nothing else of the runtime's runs under the container's filter (startContainer
 * hooks and a listener filter aside, see init_main). */
static void __attribute__((noreturn))
exec_under_filter(const struct spawn_config *cfg, const char *exe, bool load, uint64_t held)
{
	load_filter(cfg, load, held);
	bw_phase("exec: filter loaded, execve");
	execve(exe, cfg->process->args, init_env ? init_env : (char *[]){NULL});
	int e = errno;
	char q[256];
	dprintf(STDERR_FILENO, "bulwark: exec: %s: %s\n",
		log_quote(q, sizeof(q), cfg->process->args[0]), strerror(e));
	if (init_exec_fifo >= 0)
		dprintf(init_exec_fifo, "exec: %s: %s", q, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

struct payload {
	const struct spawn_config *cfg;
	const char *exe;
	bool load;
	uint64_t held;
};

static int payload_main(void *arg)
{
	const struct payload *p = arg;
	close(p->cfg->status_fd);
	exec_under_filter(p->cfg, p->exe, p->load, p->held);
}

/* A sandbox's pid 1 stays bulwark's (init_reaper.c): the payload is its child, under the same
 * Landlock domain, credentials and capability sets; only the child loads the container's
 * filter, right before its execve. */
static void __attribute__((noreturn))
exec_under_reaper(const struct spawn_config *cfg, const char *exe, bool load, uint64_t held)
{
	struct bw_error err = {0};
	sigset_t old;
	struct payload p = {.cfg = cfg, .exe = exe, .load = load, .held = held};
	bw_phase("init: reaper spawn");
	pid_t pid = init_reaper_spawn(payload_main, &p, &old);
	if (pid < 0) {
		bw_fail(&err, errno, "start the sandbox's command");
		init_die(&err);
	}
	if (init_exec_fifo >= 0) { /* the command's execve ends `start`, not this reaper */
		close(init_exec_fifo);
		init_exec_fifo = -1;
	}
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0) {
		kill(pid, SIGKILL);
		init_die(&err);
	}
	init_reaper_serve(pid, cfg->status_fd);
}

/* A session's pid 1 (init_reaper_hold): `start` returns once it got here; the payload-less
 * init never loads the container's filter (it runs nothing of the session's), and execs come
 * through `session exec`, each confined as the spec says. It stays non-dumpable, except
 * rootless: the runtime, with no privilege, may join its namespaces (setns through a pidfd)
 * only if it may ptrace it. It is made dumpable only under its own Landlock domain: every
 * process of the session has a Landlock domain of its own, not an ancestor of pid 1's, so
 * Landlock refuses them ptrace and /proc/1/mem of the one process without the seccomp filter.
 * A sandbox's spec needs Landlock (run.bulwark.landlock=default: create fails without it);
 * were it off, the init would stay non-dumpable and rootless execs could not join it. */
static void __attribute__((noreturn)) hold_session(const struct spawn_config *cfg, uint64_t held)
{
	struct bw_error err = {0};
	if (held != 0 && caps_release_held(&cfg->caps, &err) < 0)
		init_die(&err);
	if (init_exec_fifo >= 0) {
		close(init_exec_fifo);
		init_exec_fifo = -1;
	}
	close(cfg->status_fd);
	const char *exe = oci_spec_annotation(cfg->spec, INIT_SESSION_EXE_ANNOTATION);
	if (exe != NULL) {
		/* A checkpointable session (init_reaper.h): the same hold, from the read-only
		 * file bound at the one path, with nothing of ours inherited (every fd past 2 is
		 * close-on-exec). It never falls back to the memfd: such a session would dump
		 * but could never be restored. */
		char *argv[] = {INIT_SESSION_ARGV0, NULL}, *envp[] = {NULL};
		if (strcmp(exe, INIT_SESSION_EXE) == 0)
			execve(INIT_SESSION_EXE, argv, envp);
		bw_fail(&err, strcmp(exe, INIT_SESSION_EXE) == 0 ? errno : 0,
			"session init: exec " INIT_SESSION_EXE_ANNOTATION "=%s", exe);
		init_die(&err);
	}
	init_reaper_hold(cfg->rootless && cfg->landlock.mode != LANDLOCK_OFF &&
			 landlock_abi_version() >= 1);
}

/* The parent may block signals (for signalfd) or ignore some: none of that may reach the
 * container's process through execve. */
static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	uint64_t set = non_default_signals();
	for (int s = 1; s < NSIG && s <= 64; s++)
		if (s != SIGKILL && s != SIGSTOP && (set & (UINT64_C(1) << (s - 1))))
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* First, what the runtime left us is put right: cgroups (exec), stdio, fds, signals. */
static void reset_inherited(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* An exec'd process enters the container's v1 cgroups itself, before anything else. */
	if (cfg->cg_child_enters && cg_enter_self(cfg->cg, err) < 0)
		init_fail(sock, err);
	/* The stand-ins for the caller's terminal (pipes or /dev/null, all above fd 2) first:
	 * close_inherited_fds closes their originals. */
	for (int fd = 0; fd < 3; fd++)
		if (cfg->stdio[fd] >= 0 && dup2(cfg->stdio[fd], fd) < 0) {
			bw_fail(err, errno, "dup2 the stdio stand-in to fd %d", fd);
			init_fail(sock, err);
		}
	close_inherited_fds(cfg, sock);
	/* Cloned by a thread that had switched to the namespace's owner id (spawn_clone.c), which
	 * made us non-dumpable, so our /proc files are root's, which this namespace does not map:
	 * as the runtime was until the code below makes us non-dumpable. */
	if (cfg->ns_owner != 0 && !cfg->is_exec)
		prctl(PR_SET_DUMPABLE, 1);
	if (cfg->status_fd >= 0 && !cfg->is_exec)
		init_reaper_open_io();
	reset_signals();
}

/* Until SYNC_GO (the parent's set-up done, spawn_after_clone): non-dumpable, a session of our
 * own, the initial CPU affinity; then the state for the hooks. */
static void wait_for_go(struct spawn_config *cfg, int sock, struct bw_error *err)
{
	struct sync_msg m;
	/* Non-dumpable until execve: nothing in the container may open our /proc files. */
	/* A rootless runtime may not write the /proc files of a non-dumpable process: the init
	 * sets its own score first (raising it needs no privilege; lowering is refused). */
	if (cfg->rootless && cfg->process->oom_score_adj.set) {
		char val[32];
		snprintf(val, sizeof(val), "%lld", (long long)cfg->process->oom_score_adj.v);
		if (fs_write_file("/proc/self/oom_score_adj", val, err) < 0) {
			bw_wrap(err, "process.oomScoreAdj");
			init_fail(sock, err);
		}
	}
	/* A rootless runtime writes our id maps with its own ids, which /proc refuses for a
	 * non-dumpable process: then after SYNC_GO (nothing of the container runs before it). */
	bool rootless = cfg->rootless;
	if (!rootless)
		prctl(PR_SET_DUMPABLE, 0);
	if (getppid() == 1 && !cfg->is_exec)
		_exit(1);
	/* A session of its own, always: the caller's terminal stays the caller's controlling
	 * terminal and not the container's, so /dev/tty inside cannot reach it and TIOCSTI on
	 * an inherited terminal fd needs CAP_SYS_ADMIN (the seccomp tty guard refuses even
	 * that). With process.terminal, the container's own pty becomes its terminal below. */
	if (setsid() < 0) {
		bw_fail(err, errno, "setsid");
		init_fail(sock, err);
	}
	if (process_set_cpu_affinity(cfg->process->exec_cpu_affinity.initial,
				     "process.execCPUAffinity.initial", err) < 0)
		init_fail(sock, err);
	if (receive_go(cfg, sock, &m, err) < 0)
		_exit(1);
	bw_phase("init: go");
	if (rootless)
		prctl(PR_SET_DUMPABLE, 0);
	free(cfg->state_json);
	cfg->state_json = steal_ptr(&m.data);
	sync_msg_free(&m);
}

/* Set up: no host fd past execve, a filter with a listener loaded, the parent-death signal
 * for good, then SYNC_READY. Returns whether the container's filter is still to be loaded. */
static bool report_ready(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	/* No host fd may reach the container (CVE-2024-21626): everything past stdio and the
	 * preserved fds is closed at execve. */
	syscall(SYS_close_range, 3 + cfg->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	bool late = cfg->seccomp != NULL;
	if (late && cfg->seccomp->needs_listener) {
		/* The listener must reach the agent before `create` returns, so such a filter
		 * goes in now and must allow what is left (sync socket, fifo, hooks, capset). */
		if (init_load_seccomp_with_listener(cfg, sock, err) < 0)
			init_fail(sock, err);
		late = false;
	}
	/* Until now the init died with its creator; a sandbox's keeps doing so for good (armed
	 * again after the credential changes that cleared it): SIGKILL to a pid namespace's init
	 * ends the namespace, so the sandbox cannot outlive its owner even when nobody is left to
	 * tear it down. Armed before READY: a creator already dead makes that send fail. */
	prctl(PR_SET_PDEATHSIG, cfg->die_with_parent ? SIGKILL : 0);
	if (sync_send(sock, SYNC_READY, 0, NULL, 0, -1, err) < 0)
		_exit(1);
	bw_phase("init: READY sent");
	return late;
}

/* A new container's init waits for `start`, then runs the startContainer hooks. */
static void start_container(const struct spawn_config *cfg, bool reaper, bool *late, uint64_t *held,
			    struct bw_error *err)
{
	if (wait_for_start(cfg, err) < 0)
		init_die(err);
	/* startContainer hooks run under the container's filter, as in runc and crun: they are
	 * programs of the container's (a sandbox's reaper loads none). */
	if (cfg->spec->hooks.n[OCI_HOOK_START_CONTAINER] > 0 && !reaper) {
		load_filter(cfg, *late, *held);
		*late = false;
		*held = 0;
	}
	if (init_run_hooks(cfg, OCI_HOOK_START_CONTAINER, NULL, err) < 0)
		init_die(err);
}

void init_main(struct spawn_config *cfg, int sock)
{
	struct bw_error err = {0};
	_cleanup_free_ char *exe = NULL;
	bool created_userns = cfg->new_ns_flags & CLONE_NEWUSER;
	uint64_t held = 0;

	bw_phase("init: start");
	reset_inherited(cfg, sock, &err);
	bw_phase("init: fds+signals");
	wait_for_go(cfg, sock, &err);
	if (created_userns && init_become_ns_root(cfg, &err) < 0)
		init_fail(sock, &err);
	bw_phase("init: ns root");
	if ((cfg->is_exec ? init_join_container(cfg, sock, &err)
			  : init_setup_container(cfg, sock, &err)) < 0)
		init_fail(sock, &err);
	bw_phase("init: container set up");
	if (init_setup_process(cfg, &exe, &held, &err) < 0)
		init_fail(sock, &err);
	bw_phase("init: process set up");

	bool late = report_ready(cfg, sock, &err);
	bool reaper = cfg->status_fd >= 0 && !cfg->is_exec;
	if (!cfg->is_exec)
		start_container(cfg, reaper, &late, &held, &err);
	bw_phase("init: started");
	close(sock);
	if (reaper && cfg->session_init)
		hold_session(cfg, held);
	if (reaper)
		exec_under_reaper(cfg, exe, late, held);
	exec_under_filter(cfg, exe, late, held);
}
