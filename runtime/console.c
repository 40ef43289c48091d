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
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
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
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return bw_fail(err, errno, "send terminal to console socket `%s`", socket_path);
	return 0;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	return fs_write_all(to, buf, (size_t)n) == 0;
}

int64_t console_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_timeout(int64_t deadline_ms, int dflt)
{
	if (deadline_ms <= 0)
		return dflt;
	int64_t left = deadline_ms - console_now_ms();
	if (left < 0)
		left = 0;
	if (dflt >= 0 && left > dflt)
		return dflt;
	return left > 86400000 ? 86400000 : (int)left;
}

int console_relay(int master, int pidfd, int64_t deadline_ms, struct bw_error *err)
{
	int timed_out = 0;
	struct termios saved, raw;
	bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	sigset_t mask;
	sigfillset(&mask);
	sigdelset(&mask, SIGCHLD);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return bw_fail(err, errno, "signalfd");
	if (is_tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_winsize(STDIN_FILENO, master);
	}
	bool in_open = true, child_alive = true;
	while (true) {
		struct pollfd p[4] = {{master, POLLIN, 0}, {sfd, POLLIN, 0}, {pidfd, POLLIN, 0},
				      {STDIN_FILENO, in_open ? POLLIN : 0, 0}};
		if (poll(p, 4, poll_timeout(deadline_ms, child_alive ? -1 : 50)) < 0 && errno != EINTR)
			break;
		if (deadline_ms > 0 && child_alive && console_now_ms() >= deadline_ms) {
			timed_out = 1;
			break;
		}
		if (p[0].revents & POLLIN) {
			if (!pump(master, STDOUT_FILENO))
				break;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			break;
		} else if (!child_alive) {
			break;
		}
		if (p[3].revents & (POLLIN | POLLHUP))
			in_open = pump(STDIN_FILENO, master);
		if (p[2].revents & POLLIN)
			child_alive = false;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					copy_winsize(STDIN_FILENO, master);
				else
					syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
			}
		}
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return timed_out;
}
