/* The stdio of a container's process when the caller's fds 0-2 are a terminal and the process
 * did not ask for one: pipes relayed by the waiting bulwark, or /dev/null when detached. */
#include "stdio_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"

bool stdio_is_terminal(int fd)
{
	struct stat st;
	if (isatty(fd))
		return true;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	/* Legacy ptys (2, 3), ttys and consoles (4, 5: /dev/tty, /dev/console, /dev/ptmx), Unix98
	 * pty masters and slaves (128-143). */
	unsigned int m = major(st.st_rdev);
	return m == 2 || m == 3 || m == 4 || m == 5 || (m >= 128 && m <= 143);
}

/* Above stdio: with one of fds 0-2 closed, a new fd could otherwise take its number. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return d;
}

int stdio_guard_relay(struct stdio_guard *g, struct bw_error *err)
{
	return stdio_guard_relay_output(g, false, err);
}

/* A pipe in place of our fd (0: the child reads, we write; 1, 2: the other way). */
static int relay_pipe(struct stdio_guard *g, int fd, struct bw_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe for the %s relay", fd ? "output" : "input");
	p[0] = above_stdio(p[0]);
	p[1] = above_stdio(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return bw_fail(err, e, "pipe for the stdio relay");
	}
	/* Only our ends are non-blocking: the child's are its own business, and the caller's
	 * terminal is shared with its shell. */
	g->child[fd] = p[fd == 0 ? 0 : 1];
	g->ours[fd] = p[fd == 0 ? 1 : 0];
	fcntl(g->ours[fd], F_SETFL, O_NONBLOCK);
	return 0;
}

int stdio_guard_relay_output(struct stdio_guard *g, bool output, struct bw_error *err)
{
	for (int fd = 0; fd < 3; fd++)
		if ((stdio_is_terminal(fd) || (output && fd > 0)) && relay_pipe(g, fd, err) < 0)
			return -1;
	return 0;
}

int stdio_guard_session(struct stdio_guard *g, bool input, struct bw_error *err)
{
	if (!input) {
		g->child[0] = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
		if (g->child[0] < 0)
			return bw_fail(err, errno, "open /dev/null");
	}
	for (int fd = input ? 0 : 1; fd < 3; fd++)
		if (relay_pipe(g, fd, err) < 0)
			return -1;
	return 0;
}

int stdio_guard_detached(struct stdio_guard *g, struct bw_error *err)
{
	static const char *const names[3] = {"stdin", "stdout", "stderr"};
	const char *hit[3];
	int n = 0;
	for (int fd = 0; fd < 3; fd++) {
		if (!stdio_is_terminal(fd))
			continue;
		g->child[fd] = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
		if (g->child[fd] < 0)
			return bw_fail(err, errno, "open /dev/null");
		hit[n++] = names[fd];
	}
	if (n == 0)
		return 0;
	char which[40];
	if (n == 1)
		snprintf(which, sizeof(which), "%s is", hit[0]);
	else if (n == 2)
		snprintf(which, sizeof(which), "%s and %s are", hit[0], hit[1]);
	else
		snprintf(which, sizeof(which), "%s, %s and %s are", hit[0], hit[1], hit[2]);
	log_info("%s a terminal and process.terminal is false: the container gets /dev/null "
		 "there (use -t or --console-socket for a terminal, or redirect)",
		 which);
	return 0;
}

void stdio_guard_close_child(struct stdio_guard *g)
{
	for (int fd = 0; fd < 3; fd++)
		if (g->child[fd] >= 0) {
			close(g->child[fd]);
			g->child[fd] = -1;
		}
}

void stdio_guard_close(struct stdio_guard *g)
{
	stdio_guard_close_child(g);
	for (int fd = 0; fd < 3; fd++)
		if (g->ours[fd] >= 0) {
			close(g->ours[fd]);
			g->ours[fd] = -1;
		}
}

struct console_io stdio_guard_io(const struct stdio_guard *g, int master)
{
	return (struct console_io){
	    .master = master, .in = g->ours[0], .out = g->ours[1], .err = g->ours[2]};
}
