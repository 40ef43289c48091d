/* Starting and stopping pasta for a sandbox without root (see pasta.h). */
#include "netns/pasta.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "netns/ns.h"

#define PASTA_PIDFD 3

/* The last non-empty line of what pasta said, on one line. */
static void last_line(int fd, char *out, size_t len)
{
	char buf[2048];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	const char *nl = strrchr(buf, '\n');
	const char *line = nl != NULL ? nl + 1 : buf;
	size_t keep = strlen(line) < len ? strlen(line) : len - 1;
	memcpy(out, line, keep);
	out[keep] = '\0';
}

/* An fd of ours at or above 10, so that the child can move each to its fixed place. */
static int high_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* No inbound forwarding (-t/-u), none from the namespace to the caller's loopback (-T/-U), the
 * gateway address is the real gateway (--no-map-gw), no DHCP or RA server, no DNS of its own:
 * the sandbox's DNS goes to bulwark's proxy. NDP stays: IPv6 needs it to find the gateway. The
 * namespaces are pasta's fds 4 and 5. argv: room for 32. */
static void pasta_args(const char *program, bool udp, bool icmp, const char **argv)
{
	/* clang-format off */
	static const char *const fixed[] = {
	    "--config-net", "--netns", "/proc/self/fd/4", "--userns", "/proc/self/fd/5",
	    "-t", "none", "-u", "none", "-T", "none", "-U", "none",
	    "--no-map-gw", "--no-dhcp", "--no-dhcpv6", "--no-ra", "-D", "none", "-I", "eth0",
	    "-q", "-P", "/dev/fd/3"};
	/* clang-format on */
	size_t na = 0;
	argv[na++] = program;
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		argv[na++] = fixed[i];
	if (!udp)
		argv[na++] = "--no-udp";
	if (!icmp)
		argv[na++] = "--no-icmp";
	argv[na] = NULL;
}

/* pasta's fds, each at or above 10 in the parent (high_fd), moved to their places in the
 * child: its pid file (PASTA_PIDFD), the namespaces (4, 5) and stderr (the log). */
struct pasta_fds {
	int pid, net, user, log;
};

static void __attribute__((noreturn))
pasta_exec(const char *program, const char **argv, const struct pasta_fds *f)
{
	int null = high_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(f->log, STDERR_FILENO) < 0 || dup2(f->pid, PASTA_PIDFD) < 0 ||
	    dup2(f->net, 4) < 0 || dup2(f->user, 5) < 0)
		_exit(126);
	/* Nothing else of ours (or of our caller's) reaches pasta, which reads the sandbox's
	 * frames. */
	close_range(6, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(program, (char *const *)argv);
	dprintf(STDERR_FILENO, "%s: %s\n", program, strerror(errno));
	_exit(127);
}

/* The daemon's pid from its pid file's pipe; the daemon may hold its end of the pipe: read
 * what is there, do not wait for EOF. False when there is none. */
static bool read_daemon_pid(int in, int *daemon)
{
	char buf[32] = "";
	if (fcntl(in, F_SETFL, O_NONBLOCK) == 0) {
		ssize_t n = read(in, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
	buf[strcspn(buf, "\n")] = '\0';
	return parse_int(buf, daemon) == 0 && *daemon > 1;
}

/* Fork and exec pasta with f's fds; *in: the read end of its pid file's pipe. */
static int pasta_spawn(const char *program, const char **argv, struct pasta_fds *f, int *in,
		       pid_t *child, struct bw_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	_cleanup_close_ int pid_hi = high_fd(p[1]);
	if (pid_hi < 0) {
		close(p[0]);
		close(p[1]);
		return bw_fail(err, errno, "dup");
	}
	f->pid = pid_hi;
	*child = fork();
	if (*child < 0) {
		close(p[0]);
		close(p[1]);
		return bw_fail(err, errno, "fork");
	}
	if (*child == 0)
		pasta_exec(program, argv, f);
	close(p[1]);
	*in = p[0];
	return 0;
}

int pasta_up(const char *program, const char *netns, const char *userns, bool udp, bool icmp,
	     pid_t *pid, struct bw_error *err)
{
	const char *argv[32];
	pasta_args(program, udp, icmp, argv);
	_cleanup_close_ int net_fd = open(netns, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int user_fd = open(userns, O_RDONLY | O_CLOEXEC);
	if (net_fd < 0 || user_fd < 0)
		return bw_fail(err, errno, "open the sandbox's namespaces for pasta");
	_cleanup_close_ int net_hi = high_fd(net_fd);
	_cleanup_close_ int user_hi = high_fd(user_fd);
	_cleanup_close_ int log = memfd_create("pasta-log", MFD_CLOEXEC);
	_cleanup_close_ int log_hi = high_fd(log);
	if (log < 0 || log_hi < 0 || net_hi < 0 || user_hi < 0)
		return bw_fail(err, errno, "memfd_create/dup");
	struct pasta_fds f = {.pid = -1, .net = net_hi, .user = user_hi, .log = log_hi};
	_cleanup_close_ int in = -1;
	pid_t child = -1;
	if (pasta_spawn(program, argv, &f, &in, &child, err) < 0)
		return -1;
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait for pasta");
	int daemon;
	bool have_pid = read_daemon_pid(in, &daemon);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[512];
		last_line(log, why, sizeof(why));
		if (have_pid)
			pasta_down(daemon);
		return bw_fail(err, 0, "`%s` failed (%s %d): %s", program,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			       why[0] ? why : "no message");
	}
	if (!have_pid)
		return bw_fail(err, 0, "`%s` did not write its pid", program);
	*pid = daemon;
	return 0;
}

int pasta_watch(pid_t pasta, pid_t init, pid_t agent, struct bw_error *err)
{
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pasta, 0);
	if (pfd < 0)
		return bw_fail(err, errno, "pidfd_open pasta %d", (int)pasta);
	_cleanup_close_ int ifd = (int)syscall(SYS_pidfd_open, init, 0);
	if (ifd < 0)
		return bw_fail(err, errno, "pidfd_open the sandbox's init %d", (int)init);
	_cleanup_close_ int afd = (int)syscall(SYS_pidfd_open, agent, 0);
	if (afd < 0)
		return bw_fail(err, errno, "pidfd_open the network agent %d", (int)agent);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	pid_t child = fork();
	if (child < 0) {
		close(ready[0]);
		close(ready[1]);
		return bw_fail(err, errno, "fork");
	}
	if (child == 0) {
		/* The middle process exits at once: the watcher is nobody's child to wait for. */
		close(ready[0]);
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		/* Kept: 3 the init, 4 pasta, 5 the agent, 6 the ready pipe until it is written. */
		int keep[] = {ifd, pfd, afd, ready[1]}, high[ARRAY_SIZE(keep)];
		for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
			if ((high[i] = fcntl(keep[i], F_DUPFD, 16)) < 0)
				_exit(1);
		for (int i = 0; i < (int)ARRAY_SIZE(keep); i++)
			if (dup2(high[i], 3 + i) < 0)
				_exit(1);
		close_range(3 + ARRAY_SIZE(keep), ~0U, 0);
		int null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		if (null > 2)
			close(null);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		char ok = 1;
		if (write(6, &ok, 1) != 1)
			_exit(1);
		close(6);
		/* The init's end, pasta's, or the agent's: without the agent, the caller's new
		 * addresses would no longer be closed to the sandbox, so pasta goes too. */
		struct pollfd w[3] = {{3, POLLIN, 0}, {4, POLLIN, 0}, {5, POLLIN, 0}};
		while (poll(w, 3, -1) < 0 && errno == EINTR)
			;
		syscall(SYS_pidfd_send_signal, 4, SIGKILL, NULL, 0);
		_exit(0);
	}
	close(ready[1]);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	char ok = 0;
	ssize_t n;
	do
		n = read(ready[0], &ok, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != 1 || ok != 1)
		return bw_fail(err, 0, "the watcher of pasta did not start");
	return 0;
}

void pasta_down(pid_t pid)
{
	kill_pid_wait(pid, 1000);
}

static int read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len);
	/* One read, below the buffer's size, with no NUL: anything else is not the file's
	 * usual text. */
	if (n < 0 || (size_t)n >= len || memchr(buf, '\0', (size_t)n) != NULL)
		return -1;
	buf[n] = '\0';
	return 0;
}

int pasta_callers_ports(struct port_set *set, const char **why)
{
	char range[128], reserved[4096];
	if (read_small("/proc/sys/net/ipv4/ip_local_port_range", range, sizeof(range)) < 0) {
		*why = "cannot read ip_local_port_range";
		return -1;
	}
	if (read_small("/proc/sys/net/ipv4/ip_local_reserved_ports", reserved, sizeof(reserved)) <
	    0) {
		*why = "cannot read ip_local_reserved_ports";
		return -1;
	}
	return portrange_parse(range, reserved, set, why);
}

static int write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)len ? 0 : -1;
}

int pasta_set_ports(int netns_fd, const struct port_set *set, struct bw_error *err)
{
	char range[32], holes[1024];
	portrange_sysctls(set, range, sizeof(range), holes, sizeof(holes));
	pid_t child = fork();
	if (child < 0)
		return bw_fail(err, errno, "fork");
	if (child == 0) {
		/* Reserved first: no moment in which the new range offers a hole. */
		if (ns_enter_net(netns_fd) < 0)
			_exit(1);
		if (holes[0] != '\0' &&
		    write_sysctl("/proc/sys/net/ipv4/ip_local_reserved_ports", holes) < 0)
			_exit(2);
		_exit(write_sysctl("/proc/sys/net/ipv4/ip_local_port_range", range) < 0 ? 3 : 0);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait");
	static const char *const step[] = {"", "join the sandbox's network namespace",
					   "write its ip_local_reserved_ports",
					   "write its ip_local_port_range"};
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return bw_fail(err, 0, "the sandbox's ephemeral ports (%s %s): %s", range, holes,
			       WIFEXITED(status) && WEXITSTATUS(status) < 4
				   ? step[WEXITSTATUS(status)]
				   : "killed");
	return 0;
}
