/* The watchdog process: double-forked from the runtime (so it is nobody's child but the
 * reaper's), then re-executed as `bulwark-watchdog ID ...` (its own name: nothing aimed at
 * `bulwark sandbox` hits it; the state root comes through a pipe, not its command line, which
 * every user can read), holding only pidfds of the init and of the owner and the container's
 * state directory (O_PATH: what finds a state root's helpers). Only
 * SIGKILL ends it early; the owner replaces it then (watchdog_guard_start). When its time comes
 * it does exactly what `delete --force` does, under the container's lock. */
#include "runtime/sandbox/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/sandbox/audit.h"
#include "runtime/lifecycle.h"

#define LIFETIME_MAX_MS (366LL * 24 * 3600 * 1000)

int watchdog_lifetime(const struct oci_spec *spec, int64_t *ms, struct bw_error *err)
{
	const char *v = oci_spec_annotation(spec, WATCHDOG_LIFETIME_ANNOTATION);
	*ms = 0;
	if (v == NULL)
		return 0;
	if (parse_duration_ms(v, ms) < 0 || *ms <= 0 || *ms > LIFETIME_MAX_MS)
		return bw_fail(
		    err, 0,
		    "annotations: " WATCHDOG_LIFETIME_ANNOTATION
		    ": expected a duration such as 30s, 10m or 2h (at most 366 days), got \"%s\"",
		    v);
	return 0;
}

/* Deadlines count suspended time too, and are absolute so that a replacement inherits them. */
int64_t watchdog_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kill and release the container, as `delete --force` would. */
static void release(const char *root, const char *id, bool expired, int64_t lifetime_ms)
{
	struct container *c = NULL;
	struct bw_error e = {0};
	if (container_load(root, id, &c, &e) < 0)
		return; /* already deleted */
	if (expired) {
		struct audit_rec *a = audit_begin(id, "expired");
		audit_int(a, "lifetime_ms", lifetime_ms);
		audit_commit_warn(a, lifecycle_audit_path(NULL, c));
	}
	lifecycle_teardown(c, &e);
	container_free(c);
}

static bool is_pidfd(int fd)
{
	char path[32], target[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[pidfd]") == 0;
}

/* The init's pidfd, sent by the owner once the init exists (watchdog_hand_init); -1 if the
 * owner closed the socket without one. */
static int receive_init(int sock)
{
	char byte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	int fd = -1;
	if (h != NULL && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	if (fd >= 0 && !is_pidfd(fd)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* init_sock >= 0 (an owner's sandbox watched from before its init exists): the init's pidfd
 * comes through it; until then only the owner is watched. */
static __attribute__((noreturn)) void watch(const char *root, const char *id, int init_fd,
					    int init_sock, int owner_fd, int64_t deadline,
					    int64_t lifetime_ms)
{
	for (;;) {
		struct pollfd p[3] = {
		    {init_fd, POLLIN, 0}, {owner_fd, POLLIN, 0}, {init_sock, POLLIN, 0}};
		int timeout = -1;
		if (deadline > 0) {
			int64_t left = deadline - watchdog_now_ms();
			if (left <= 0) {
				/* First, without the lock: a stopped owner may hold it. */
				if (init_fd >= 0)
					syscall(SYS_pidfd_send_signal, init_fd, SIGKILL, NULL, 0);
				release(root, id, true, lifetime_ms);
				_exit(0);
			}
			timeout = left > 86400000 ? 86400000 : (int)left;
		}
		/* With an owner, the init's exit changes nothing: the owner tears down. */
		int r = owner_fd >= 0 ? poll(p + 1, init_sock >= 0 ? 2 : 1, timeout)
				      : poll(p, 1, timeout);
		if ((r < 0 && errno != EINTR) ||
		    ((p[0].revents | p[1].revents | p[2].revents) & POLLNVAL))
			_exit(1);
		if (init_sock >= 0 && p[2].revents != 0) {
			/* In the socket's place (fd 3), as a watchdog started with the pidfd has
			 * it. */
			int got = receive_init(init_sock);
			if (got >= 0 && dup3(got, init_sock, O_CLOEXEC) == init_sock) {
				close(got);
				init_fd = init_sock;
			} else {
				if (got >= 0)
					close(got);
				close(init_sock);
			}
			init_sock = -1;
		}
		if (owner_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			release(root, id, false, 0);
			_exit(0);
		}
		if (owner_fd < 0 && (p[0].revents & (POLLIN | POLLHUP)))
			_exit(0); /* the init is gone: its engine deletes the container */
	}
}

/* The state root, written whole into the pipe at fd 5 before we were started; NULL if not. */
static char *read_root(void)
{
	static char root[PATH_MAX];
	struct stat st;
	size_t got = 0;
	ssize_t n;
	if (fstat(5, &st) < 0 || !S_ISFIFO(st.st_mode))
		return NULL;
	while (got < sizeof(root) - 1 &&
	       ((n = read(5, root + got, sizeof(root) - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(5);
	root[got] = '\0';
	return got > 0 && root[0] == '/' && strlen(root) == got ? root : NULL;
}

/* `bulwark-watchdog ID DEADLINE LIFETIME OWNER`, fd 3 the init's pidfd, with OWNER 1 fd 4 the
 * owner's, and fd 5 a pipe with the state root. OWNER 2: as 1, but fd 3 is a socket the
 * init's pidfd will come through (started before the init exists). Termination requests are
 * ignored: a watchdog that left on SIGTERM would leave its sandbox to whoever sent it. */
int watchdog_main(int argc, char **argv)
{
	int64_t deadline, lifetime_ms;
	char *root = NULL;
	bool early = argc == 5 && strcmp(argv[4], "2") == 0;
	struct stat sock;
	if (argc != 5 || parse_i64(argv[2], &deadline) < 0 ||
	    parse_i64(argv[3], &lifetime_ms) < 0 ||
	    (strcmp(argv[4], "0") != 0 && strcmp(argv[4], "1") != 0 && !early) ||
	    (early ? fstat(3, &sock) < 0 || !S_ISSOCK(sock.st_mode) : !is_pidfd(3)) ||
	    (strcmp(argv[4], "0") != 0 && !is_pidfd(4)) || (root = read_root()) == NULL) {
		fprintf(stderr, "bulwark-watchdog: started by bulwark only\n");
		return 2;
	}
	/* Ours alone: the teardown's poststop hooks and `bulwark-net unplumb` get neither. */
	fcntl(3, F_SETFD, FD_CLOEXEC);
	if (strcmp(argv[4], "0") != 0)
		fcntl(4, F_SETFD, FD_CLOEXEC);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGSEGV && s != SIGBUS &&
		    s != SIGILL && s != SIGFPE && s != SIGABRT && s != SIGTRAP && s != SIGSYS)
			signal(s, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "bulwark-watch");
	/* A few pages of memory: the OOM killer has better choices. */
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1000", 5) < 0) {
			/* best effort */
		}
		close(fd);
	}
	bool owner = strcmp(argv[4], "0") != 0;
	/* Held, unused, for as long as we watch: `ls -l /proc/PID/fd` names the container. */
	char state[PATH_MAX + 256];
	snprintf(state, sizeof(state), "%s/%s", root, argv[1]);
	(void)!open(state, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	watch(root, argv[1], early ? -1 : 3, early ? 3 : -1, owner ? 4 : -1, deadline, lifetime_ms);
}

/* A watchdog that cannot start says so to the runtime, whose memory it still shares. */
static __attribute__((noreturn)) void fail_spawn(uint64_t *start)
{
	*start = 0;
	_exit(1);
}

/* In the grandchild, which still runs in our memory (CLONE_VM) on a stack of its own until its
 * execve: nothing but the root's pipe, the two pidfds and /dev/null survives the exec. System
 * calls only, no allocation. Every signal stays blocked through the exec; watchdog_main sets
 * its dispositions before it unblocks them. */
static __attribute__((noreturn)) void become_watchdog(int root_fd, int init_pidfd, pid_t owner,
						      char **argv, char **envp, uint64_t *start)
{
	int owner_fd = owner > 0 ? (int)syscall(SYS_pidfd_open, owner, 0) : -1;
	if (owner > 0 && owner_fd < 0)
		fail_spawn(start);
	/* Out of the way first: any may already sit at 3, 4 or 5. dup2 clears CLOEXEC. */
	int rfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 10);
	int ifd = fcntl(init_pidfd, F_DUPFD_CLOEXEC, 10);
	int ofd = owner_fd >= 0 ? fcntl(owner_fd, F_DUPFD_CLOEXEC, 10) : -1;
	if (rfd < 0 || ifd < 0 || (owner_fd >= 0 && ofd < 0) || dup2(ifd, 3) < 0 ||
	    (ofd >= 0 && dup2(ofd, 4) < 0) || dup2(rfd, 5) < 0)
		fail_spawn(start);
	if (ofd < 0)
		close(4);
	syscall(SYS_close_range, 6, ~0U, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		fail_spawn(start);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	execve("/proc/self/exe", argv, envp);
	fail_spawn(start);
}

struct helper_id {
	pid_t pid;
	uint64_t start;
};

/* The two processes of a spawn share our memory (CLONE_VM | CLONE_VFORK, as posix_spawn does):
 * no copy of our page tables and no copy-on-write faults afterwards, which fork() cost us on
 * every sandbox. Each parent is suspended until its child has exec'd or exited, so only one
 * of the three runs at a time, each on its own stack. */
struct wd_spawn {
	int root_fd; /* the read end of a pipe holding the state root */
	int init_pidfd;
	pid_t owner;
	char **argv, **envp;
	char *grandchild_stack; /* its top */
	struct helper_id out;
};

#define WD_STACK_SIZE (16 << 10)

/* The watchdog reads its own start time (reading it from outside would wait for its exec to
 * finish); a failed exec takes it back. */
static int wd_grandchild(void *arg)
{
	struct wd_spawn *s = arg;
	s->out.start = proc_start_time(getpid());
	become_watchdog(s->root_fd, s->init_pidfd, s->owner, s->argv, s->envp, &s->out.start);
}

/* The intermediate process: a session of its own for the watchdog, then it exits and leaves the
 * watchdog to the reaper. */
static int wd_child(void *arg)
{
	struct wd_spawn *s = arg;
	setsid();
	s->out.pid = clone(wd_grandchild, s->grandchild_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, s);
	return 0;
}

/* Start one watchdog process; safe to call from any thread of the runtime. */
static int spawn_watchdog(const char *root, const char *id, int init_pidfd, int64_t deadline,
			  int64_t lifetime_ms, pid_t owner, bool early, struct helper_id *out)
{
	char dl[32], lt[32];
	snprintf(dl, sizeof(dl), "%" PRId64, deadline);
	snprintf(lt, sizeof(lt), "%" PRId64, lifetime_ms);
	char *argv[] = {
	    "bulwark-watchdog", (char *)id, dl, lt, owner <= 0 ? "0" : early ? "2" : "1", NULL};
	/* The root through a pipe, filled now (a path fits in its buffer): the command line is
	 * every user's to read. */
	int rp[2];
	size_t rlen = strlen(root);
	if (rlen == 0 || rlen >= PATH_MAX || pipe2(rp, O_CLOEXEC) < 0)
		return -EINVAL;
	if (write(rp[1], root, rlen) != (ssize_t)rlen) {
		close(rp[0]);
		close(rp[1]);
		return -EIO;
	}
	close(rp[1]);
	/* Only where the network helper is (network.c): the watchdog's teardown runs `bulwark-net
	 * unplumb`, found beside the original binary, not from the memfd it runs from. */
	char *envp[3] = {NULL, NULL, NULL};
	_cleanup_free_ char *self = NULL, *helper = NULL;
	size_t ne = 0;
	const char *v = getenv("BULWARK_SELF_EXE");
	if (v != NULL)
		envp[ne++] = self = xasprintf("BULWARK_SELF_EXE=%s", v);
	if ((v = getenv("BULWARK_NET_HELPER")) != NULL)
		envp[ne++] = helper = xasprintf("BULWARK_NET_HELPER=%s", v);
	/* The children's stacks: in this frame, which stays untouched while we are suspended. */
	_Alignas(16) char stacks[2][WD_STACK_SIZE];
	struct wd_spawn s = {.root_fd = rp[0],
			     .init_pidfd = init_pidfd,
			     .owner = owner,
			     .argv = argv,
			     .envp = envp,
			     .grandchild_stack = stacks[1] + WD_STACK_SIZE,
			     .out = {-1, 0}};
	/* Blocked in both children (our handlers must never run on their stacks), through the
	 * watchdog's exec too. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t child =
	    clone(wd_child, stacks[0] + WD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (child < 0) {
		close(rp[0]);
		return -e;
	}
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	close(rp[0]);
	if (s.out.pid <= 1 || s.out.start == 0)
		return -EIO;
	*out = s.out;
	return 0;
}

int watchdog_start(const struct global_opts *g, struct container *c, int init_pidfd,
		   int64_t lifetime_ms, pid_t owner, struct bw_error *err)
{
	if (lifetime_ms <= 0 && owner <= 0)
		return 0;
	int64_t deadline = lifetime_ms > 0 ? watchdog_now_ms() + lifetime_ms : 0;
	struct helper_id w;
	int r = spawn_watchdog(cli_state_root(g), c->id, init_pidfd, deadline, lifetime_ms, owner,
			       false, &w);
	if (r < 0)
		return bw_fail(err, -r, "watchdog: could not start it");
	/* Saved with the rest of the state at the end of create (one write on the hot path). A
	 * replacement watchdog, and the sweep of orphans, read them back. */
	container_record_helper(c, STATE_CLEANUP_WATCHDOG, w.pid, w.start);
	container_record_pidns(c);
	if (owner > 0)
		container_record_helper(c, STATE_CLEANUP_OWNER, owner, 0);
	if (deadline > 0)
		state_cleanup_add_deadline(&c->state, deadline, lifetime_ms);
	return 0;
}

int watchdog_start_owned(const struct global_opts *g, struct container *c, int64_t lifetime_ms,
			 pid_t owner, int *init_sock, struct bw_error *err)
{
	int sv[2];
	*init_sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return bw_fail(err, errno, "watchdog: socketpair");
	int64_t deadline = lifetime_ms > 0 ? watchdog_now_ms() + lifetime_ms : 0;
	struct helper_id w;
	int r =
	    spawn_watchdog(cli_state_root(g), c->id, sv[1], deadline, lifetime_ms, owner, true, &w);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return bw_fail(err, -r, "watchdog: could not start it");
	}
	container_record_helper(c, STATE_CLEANUP_WATCHDOG, w.pid, w.start);
	container_record_pidns(c); /* the sweep from another pid namespace must not act on it */
	container_record_helper(c, STATE_CLEANUP_OWNER, owner, 0);
	if (deadline > 0)
		state_cleanup_add_deadline(&c->state, deadline, lifetime_ms);
	*init_sock = sv[0];
	return 0;
}

void watchdog_hand_init(int *init_sock, int init_pidfd)
{
	char byte = 'i';
	struct iovec iov = {&byte, 1};
	if (*init_sock >= 0 && init_pidfd >= 0 &&
	    fdpass_send(*init_sock, &iov, 1, &init_pidfd, 1, MSG_DONTWAIT) < 0)
		log_warn("watchdog: could not hand it the init: %s", strerror(errno));
	if (*init_sock >= 0)
		close(*init_sock);
	*init_sock = -1;
}

void watchdog_stop(struct container *c)
{
	container_stop_helper(c, STATE_CLEANUP_WATCHDOG, SIGKILL, 1000);
}

/* The recorded absolute deadline (0: none) and the lifetime it came from. */
static int64_t recorded_deadline(const struct container *c, int64_t *lifetime_ms)
{
	const struct state_cleanup *e = state_cleanup_find(&c->state, STATE_CLEANUP_DEADLINE);
	*lifetime_ms = e != NULL ? e->lifetime_ms : 0;
	return e != NULL ? e->deadline_ms : 0;
}

/* Start a replacement for a dead watchdog, with the first one's deadline; c is locked. */
static int replace_watchdog(struct container *c, int init_pidfd, pid_t owner)
{
	int64_t lifetime_ms, deadline = recorded_deadline(c, &lifetime_ms);
	struct helper_id w;
	struct bw_error e = {0};
	if (spawn_watchdog(c->root, c->id, init_pidfd, deadline, lifetime_ms, owner, false, &w) < 0)
		return -1;
	container_replace_helper(c, STATE_CLEANUP_WATCHDOG, w.pid, w.start);
	return container_save(c, &e);
}

bool watchdog_recorded(const struct container *c)
{
	return state_cleanup_has(&c->state, STATE_CLEANUP_WATCHDOG);
}

struct watchdog_guard {
	pthread_t thread;
	int stop[2];
	char *root, *id;
	int init_pidfd;
	pid_t owner;
};

/* One pass: under the lock, a pidfd of the live watchdog, replaced first if it died; -1 when
 * there is nothing left to guard (deleted, or the init is gone: the owner tears down), -2 when
 * a replacement could not be started (tried again shortly). */
static int guard_pass(struct watchdog_guard *gd)
{
	struct container *c = NULL;
	struct bw_error e = {0};
	if (container_load(gd->root, gd->id, &c, &e) < 0)
		return -1;
	int fd = -1;
	int ipfd = watchdog_recorded(c) ? container_pidfd(c, NULL) : -1;
	if (ipfd >= 0) {
		fd = container_helper_pidfd(c, STATE_CLEANUP_WATCHDOG);
		if (fd < 0 && replace_watchdog(c, gd->init_pidfd, gd->owner) == 0)
			fd = container_helper_pidfd(c, STATE_CLEANUP_WATCHDOG);
		if (fd < 0)
			fd = -2;
		close(ipfd);
	}
	container_free(c);
	return fd;
}

static void *guard_main(void *arg)
{
	struct watchdog_guard *gd = arg;
	for (;;) {
		int fd = guard_pass(gd);
		if (fd == -1)
			return NULL;
		struct pollfd p[2] = {{fd, POLLIN, 0}, {gd->stop[0], POLLIN, 0}};
		while (poll(p, 2, fd >= 0 ? -1 : 200) < 0 && errno == EINTR)
			;
		if (fd >= 0)
			close(fd);
		if (p[1].revents != 0)
			return NULL;
	}
}

struct watchdog_guard *watchdog_guard_start(const char *root, const char *id, int init_pidfd,
					    pid_t owner)
{
	struct watchdog_guard *gd = xcalloc(1, sizeof(*gd));
	gd->owner = owner;
	gd->root = xstrdup(root);
	gd->id = xstrdup(id);
	gd->init_pidfd = fcntl(init_pidfd, F_DUPFD_CLOEXEC, 3);
	if (gd->init_pidfd < 0 || pipe2(gd->stop, O_CLOEXEC) < 0)
		goto fail;
	if (pthread_create(&gd->thread, NULL, guard_main, gd) != 0) {
		close(gd->stop[0]);
		close(gd->stop[1]);
		goto fail;
	}
	return gd;
fail:
	if (gd->init_pidfd >= 0)
		close(gd->init_pidfd);
	free(gd->root);
	free(gd->id);
	free(gd);
	return NULL;
}

void watchdog_guard_stop(struct watchdog_guard *gd)
{
	if (gd == NULL)
		return;
	if (write(gd->stop[1], "x", 1) < 0) {
		/* a pipe of our own: cannot fail */
	}
	pthread_join(gd->thread, NULL);
	close(gd->stop[0]);
	close(gd->stop[1]);
	close(gd->init_pidfd);
	free(gd->root);
	free(gd->id);
	free(gd);
}

/* The recorded owner's pid, 0 if none. */
static pid_t recorded_owner(const struct container *c)
{
	const struct state_cleanup *e = state_cleanup_find(&c->state, STATE_CLEANUP_OWNER);
	return e != NULL ? e->pid : 0;
}

int watchdog_sweep(struct container *c)
{
	/* The pids in the state are the creator's pid namespace's: seen from another one, every
	 * helper would look dead. */
	if (!container_same_pidns(c))
		return 0;
	/* A stopped (or traced) watchdog keeps no deadline: it counts as dead, and is killed so
	 * that it cannot wake up next to its replacement. */
	if (container_helper_stopped(c, STATE_CLEANUP_WATCHDOG))
		container_stop_helper(c, STATE_CLEANUP_WATCHDOG, SIGKILL, 1000);
	if (container_helper_alive(c, STATE_CLEANUP_WATCHDOG))
		return 0;
	int64_t lifetime_ms, deadline = recorded_deadline(c, &lifetime_ms);
	pid_t owner = recorded_owner(c);
	bool orphan = owner > 0 && container_helper_check(c, STATE_CLEANUP_OWNER) == 0;
	bool expired = deadline > 0 && watchdog_now_ms() >= deadline;
	struct bw_error e = {0};
	if (orphan || expired) {
		if (expired) {
			struct audit_rec *a = audit_begin(c->id, "expired");
			audit_int(a, "lifetime_ms", lifetime_ms);
			audit_commit_warn(a, lifecycle_audit_path(NULL, c));
		}
		/* Only a container that is really gone stops being listed. */
		return lifecycle_teardown(c, &e) == 0 ? 1 : 0;
	}
	/* A detached container's lifetime watchdog was killed, or a sandbox's while its owner
	 * (and with it the owner's guard) is stopped: the deadline and the owner still hold. */
	int ipfd = deadline > 0 || owner > 0 ? container_pidfd(c, NULL) : -1;
	if (ipfd >= 0) {
		replace_watchdog(c, ipfd, owner);
		close(ipfd);
	}
	return 0;
}

void watchdog_sweep_root(const char *root)
{
	DIR *d = opendir(root);
	for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
		struct container *c = NULL;
		struct bw_error e = {0};
		if (container_reap_gone(root, de->d_name) || de->d_name[0] == '.' ||
		    de->d_type != DT_DIR || container_try_load(root, de->d_name, &c, &e) < 0)
			continue;
		watchdog_sweep(c);
		container_free(c);
	}
	if (d != NULL)
		closedir(d);
}
