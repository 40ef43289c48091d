/* pty creation in the container, the console-socket handshake and the `run -t` relay. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fs.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int console_open_pty(uint32_t rows, uint32_t cols, int *master, int *slave, struct bw_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bw_fail(err, errno, "open /");
	_cleanup_close_ int m = fs_open_in_root(root, "/dev/ptmx", O_RDWR | O_NOCTTY, 0, err);
	if (m < 0)
		return bw_wrap(err, "terminal");
	struct stat st;
	/* A ptmx that is not the pty multiplexer (5:2) is something planted by the image. */
	if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2)
		return bw_fail(err, 0, "terminal: /dev/ptmx is not the pty multiplexer");
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return bw_fail(err, errno, "terminal: unlockpt");
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return bw_fail(err, errno, "terminal: open pty peer");
	if (rows > 0 && cols > 0) {
		struct winsize ws = {.ws_row = (unsigned short)rows,
				     .ws_col = (unsigned short)cols};
		ioctl(m, TIOCSWINSZ, &ws);
	}
	*master = steal_fd(&m);
	*slave = s;
	return 0;
}

int console_make_controlling(int slave, struct bw_error *err)
{
	if (setsid() < 0 && errno != EPERM)
		return bw_fail(err, errno, "terminal: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return bw_fail(err, errno, "terminal: set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return bw_fail(err, errno, "terminal: dup2");
	return 0;
}

int console_send_master(const char *socket_path, int master, struct bw_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return bw_fail(err, ENAMETOOLONG, "--console-socket `%s`", socket_path);
	strcpy(sa.sun_path, socket_path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return bw_fail(err, errno, "console socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return bw_fail(err, errno, "connect to console socket `%s`", socket_path);
	char payload[] = "/dev/ptmx";
	struct iovec iov = {payload, sizeof(payload) - 1};
	if (fdpass_send(s, &iov, 1, &master, 1, 0) < 0)
		return bw_fail(err, errno, "send terminal to console socket `%s`", socket_path);
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

int64_t console_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After the waited process exits, output is relayed until end-of-file, or until it has been
 * quiet this long, or for at most DRAIN_MAX_MS: what the process itself wrote is already in
 * the pipe or pty, and a grandchild that keeps the stream open must not keep us forever. */
#define DRAIN_QUIET_MS 100
#define DRAIN_MAX_MS 5000

/* One direction of the relay. Only the relay's own ends are non-blocking; the caller's
 * terminal is shared with its shell, so it is polled and written as it is. */
struct chan {
	int from, to;
	bool input;    /* from our stdin: stops when the process exits */
	bool close_to; /* `to` is the child's stdin pipe: closed at end-of-file */
	bool open, discard;
	size_t len, off;
	char buf[16384];
};

/* Reading the controlling terminal from a background job would fail (SIGTTIN is blocked):
 * input waits until we are in the foreground again. */
static bool input_suspended(const struct chan *c)
{
	if (!c->input)
		return false;
	pid_t fg = tcgetpgrp(c->from);
	return fg >= 0 && fg != getpgrp();
}

static void chan_end(struct chan *c)
{
	c->open = false;
	c->len = 0;
	if (c->close_to && c->to >= 0) {
		close(c->to);
		c->to = -1;
	}
}

static void chan_flush(struct chan *c)
{
	while (c->len > c->off) {
		ssize_t n = write(c->to, c->buf + c->off, c->len - c->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* EPIPE: the child closed its stdin; EIO: our terminal hung up. Output is
			 * still read (and dropped) so that the child never blocks on it. */
			if (c->input)
				chan_end(c);
			c->discard = true;
			break;
		}
		c->off += (size_t)n;
	}
	c->len = c->off = 0;
}

/* Returns true when something was read. */
static bool chan_read(struct chan *c)
{
	ssize_t n = read(c->from, c->buf, sizeof(c->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN || (errno == EIO && input_suspended(c))))
		return false;
	if (n <= 0) { /* end-of-file; EIO: the pty's other side is gone, or a hangup */
		chan_end(c);
		return false;
	}
	if (!c->discard) {
		c->len = (size_t)n;
		c->off = 0;
		chan_flush(c);
	}
	return true;
}

static int chan_setup(const struct console_io *io, struct chan *ch)
{
	int n = 0;
	struct {
		int from, to;
		bool input, close_to;
	} want[4] = {
	    {STDIN_FILENO, io->master, true, false},
	    {io->master, STDOUT_FILENO, false, false},
	    {STDIN_FILENO, io->in, true, true},
	    {io->out, STDOUT_FILENO, false, false},
	};
	for (int i = 0; i < 4; i++)
		if (want[i].from >= 0 && want[i].to >= 0)
			ch[n++] = (struct chan){.from = want[i].from,
						.to = want[i].to,
						.input = want[i].input,
						.close_to = want[i].close_to,
						.open = true};
	if (io->err >= 0)
		ch[n++] = (struct chan){.from = io->err, .to = STDERR_FILENO, .open = true};
	return n;
}

static void forward_signals(int sfd, int pidfd, int master)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH) {
			if (master >= 0)
				copy_winsize(STDIN_FILENO, master);
		} else if (si.ssi_signo != SIGPIPE) { /* SIGPIPE: our own write to a closed pipe */
			syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
		}
	}
}

static int relay_timeout(int64_t deadline_ms, bool alive, bool suspended, int64_t drain_end)
{
	int64_t now = console_now_ms(), t = -1;
	if (!alive)
		t = drain_end - now < DRAIN_QUIET_MS ? drain_end - now : DRAIN_QUIET_MS;
	else if (deadline_ms > 0)
		t = deadline_ms - now;
	if (alive && suspended && (t < 0 || t > 250))
		t = 250; /* look again whether we are back in the foreground */
	if (t < 0 && (!alive || deadline_ms > 0))
		t = 0;
	return t > 86400000 ? 86400000 : (int)t;
}

int console_relay(const struct console_io *io, int pidfd, int64_t deadline_ms, struct bw_error *err)
{
	int timed_out = 0;
	struct termios saved, raw;
	bool is_tty =
	    io->master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	sigset_t mask;
	sigset_all_but_faults(&mask, false);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return bw_fail(err, errno, "signalfd");
	if (is_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_winsize(STDIN_FILENO, io->master);
	}
	if (io->master >= 0) /* ours alone: the init closed its copy */
		fcntl(io->master, F_SETFL, O_NONBLOCK);
	struct chan ch[4];
	int nch = chan_setup(io, ch);
	bool alive = true;
	int64_t drain_end = 0;
	for (;;) {
		struct pollfd p[6] = {{sfd, POLLIN, 0}, {alive ? pidfd : -1, POLLIN, 0}};
		bool suspended = false, outputs = false;
		for (int i = 0; i < nch; i++) {
			struct chan *c = &ch[i];
			bool held = c->open && c->len == 0 && input_suspended(c);
			bool wait_in = c->open && c->len == 0 && !held;
			suspended |= held;
			p[2 + i] = (struct pollfd){c->len    ? c->to
						   : wait_in ? c->from
							     : -1,
						   c->len ? POLLOUT : POLLIN, 0};
			outputs |= c->open && !c->input;
		}
		if (!alive && !outputs)
			break;
		int r = poll(p, 2 + nch, relay_timeout(deadline_ms, alive, suspended, drain_end));
		if (r < 0 && errno != EINTR)
			break;
		if (alive && deadline_ms > 0 && console_now_ms() >= deadline_ms) {
			timed_out = 1;
			break;
		}
		if (p[0].revents & POLLIN)
			forward_signals(sfd, pidfd, io->master);
		bool moved = false;
		for (int i = 0; i < nch; i++) {
			struct chan *c = &ch[i];
			if (c->len && (p[2 + i].revents & (POLLOUT | POLLERR | POLLHUP)))
				chan_flush(c);
			else if (!c->len && p[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
				moved |= chan_read(c);
		}
		if (alive && (p[1].revents & POLLIN)) {
			alive = false;
			drain_end = console_now_ms() + DRAIN_MAX_MS;
			/* The caller's terminal is its shell's again: nothing more is read. */
			for (int i = 0; i < nch; i++)
				if (ch[i].input)
					chan_end(&ch[i]);
			continue;
		}
		if (!alive && ((r == 0 && !moved) || console_now_ms() >= drain_end))
			break;
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return timed_out;
}
