/* The tree stream of `bulwark cp` (cp_stream.h): framed I/O with an idle timeout and the sending
 * walk (fds only, no symlink followed). The validating receiver is cp_recv.c. */
#include "runtime/cp/cp_stream.h"
#include "runtime/cp/cp_stream_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

volatile sig_atomic_t cp_stream_interrupted;

bool cp_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > CP_MAX_NAME || memchr(name, '/', len) != NULL ||
	    memchr(name, '\0', len) != NULL)
		return false;
	return !(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.');
}

/* ---- framed I/O ---- */

int64_t cp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Past the deadline (0: none): the copy ends, however it progresses. */
static int check_deadline(int64_t deadline_ms, struct bw_error *err)
{
	if (cp_stream_interrupted)
		return bw_fail(err, EINTR, "interrupted");
	if (deadline_ms != 0 && cp_now_ms() >= deadline_ms)
		return bw_fail(err, ETIMEDOUT, "the copy did not finish within its time limit");
	return 0;
}

static int wait_io(int fd, short events, int timeout_ms, int64_t deadline_ms, struct bw_error *err)
{
	struct pollfd p = {fd, events, 0};
	for (;;) {
		if (check_deadline(deadline_ms, err) < 0)
			return -1;
		int wait = timeout_ms;
		bool by_deadline = false;
		if (deadline_ms != 0 && deadline_ms - cp_now_ms() < wait) {
			wait = (int)(deadline_ms - cp_now_ms());
			wait = wait < 0 ? 0 : wait;
			by_deadline = true;
		}
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bw_fail(err, errno, "poll the copy stream");
		if (r == 0 && by_deadline)
			continue; /* check_deadline says so */
		if (r == 0)
			return bw_fail(err, ETIMEDOUT,
				       "the other side of the copy made no progress for %d s",
				       timeout_ms / 1000);
		return 0;
	}
}

int cp_io_write(const struct io *io, const void *buf, size_t n, struct bw_error *err)
{
	const char *p = buf;
	int fd = io->fd;
	if (check_deadline(io->deadline_ms, err) < 0)
		return -1;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (wait_io(fd, POLLOUT, io->timeout_ms, io->deadline_ms, err) < 0)
				return -1;
			continue;
		}
		if (w < 0)
			return bw_fail(err, errno, "the other side of the copy stopped reading");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cp_io_read(const struct io *io, void *buf, size_t n, struct bw_error *err)
{
	char *p = buf;
	int fd = io->fd;
	if (check_deadline(io->deadline_ms, err) < 0)
		return -1;
	while (n > 0) {
		ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			if (wait_io(fd, POLLIN, io->timeout_ms, io->deadline_ms, err) < 0)
				return -1;
			continue;
		}
		if (r < 0)
			return bw_fail(err, errno, "read the copy stream");
		if (r == 0)
			return bw_fail(err, EPIPE, "the other side ended the copy early");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- sender ---- */

struct sender {
	const struct cp_send_opts *o;
	struct io io;
	struct bw_error *err;
	unsigned depth;
	char buf[CP_BUF];
};

static int send_frame(struct sender *s, uint32_t type, uint32_t mode, const char *name,
		      uint64_t size)
{
	size_t len = name ? strlen(name) : 0;
	struct cp_frame f = {.type = type, .mode = mode, .name_len = (uint32_t)len, .size = size};
	if (cp_io_write(&s->io, &f, sizeof(f), s->err) < 0)
		return -1;
	return len ? cp_io_write(&s->io, name, len, s->err) : 0;
}

static int send_skip(struct sender *s, const char *path, const char *what)
{
	char msg[CP_MAX_WARN];
	int n = snprintf(msg, sizeof(msg), "skipped `%s`: %s", path, what);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (!s->o->warn_inband) {
		log_warn("%s", msg);
		return 0;
	}
	if (send_frame(s, CP_FRAME_WARN, 0, NULL, (uint64_t)n) < 0)
		return -1;
	return cp_io_write(&s->io, msg, (size_t)n, s->err);
}

/* Exactly st_size bytes, as announced: a file that shrinks meanwhile ends the copy. */
static int send_file(struct sender *s, int fd, const struct stat *st, const char *name,
		     const char *path)
{
	uint64_t left = (uint64_t)st->st_size;
	if (send_frame(s, CP_FRAME_FILE, st->st_mode & 0777, name, left) < 0)
		return -1;
	while (left > 0) {
		size_t want = left < sizeof(s->buf) ? (size_t)left : sizeof(s->buf);
		ssize_t r = read(fd, s->buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bw_fail(s->err, errno, "read `%s`", path);
		if (r == 0)
			return bw_fail(s->err, 0, "`%s` shrank while being copied", path);
		if (cp_io_write(&s->io, s->buf, (size_t)r, s->err) < 0)
			return -1;
		left -= (uint64_t)r;
	}
	return 0;
}

static int send_dir(struct sender *s, int fd, const struct stat *st, const char *name,
		    const char *path);

static int send_entry(struct sender *s, int dfd, const char *name, const char *path)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(s->err, errno, "stat `%s`", path);
	if (S_ISLNK(st.st_mode)) {
		char target[CP_MAX_LINK + 1];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));
		if (n < 0)
			return bw_fail(s->err, errno, "read the symlink `%s`", path);
		if (n == 0 || (size_t)n > CP_MAX_LINK)
			return send_skip(s, path, "a symlink with a target too long");
		if (send_frame(s, CP_FRAME_LINK, 0, name, (uint64_t)n) < 0)
			return -1;
		return cp_io_write(&s->io, target, (size_t)n, s->err);
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return send_skip(s, path,
				 S_ISFIFO(st.st_mode)	? "a fifo"
				 : S_ISSOCK(st.st_mode) ? "a socket"
							: "a device");
	/* O_NONBLOCK: something swapped in for a fifo must not hang the open. */
	int flags = S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK;
	_cleanup_close_ int fd = openat(dfd, name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	struct stat now;
	if (fd < 0 || fstat(fd, &now) < 0)
		return bw_fail(s->err, errno, "open `%s`", path);
	if (now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		return bw_fail(s->err, 0, "`%s` changed while being copied", path);
	return S_ISDIR(now.st_mode) ? send_dir(s, fd, &now, name, path)
				    : send_file(s, fd, &now, name, path);
}

static int send_dir(struct sender *s, int fd, const struct stat *st, const char *name,
		    const char *path)
{
	if (s->depth >= CP_MAX_DEPTH)
		return bw_fail(s->err, 0, "`%s`: deeper than %d directories", path, CP_MAX_DEPTH);
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (d == NULL) {
		if (dup >= 0)
			close(dup);
		return bw_fail(s->err, errno, "open the directory `%s`", path);
	}
	int r = send_frame(s, CP_FRAME_DIR, st->st_mode & 01777, name, 0);
	s->depth++;
	struct dirent *e;
	while (r == 0) {
		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			if (errno != 0)
				r = bw_fail(s->err, errno, "read the directory `%s`", path);
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", path, e->d_name);
		r = send_entry(s, dirfd(d), e->d_name, sub);
	}
	s->depth--;
	closedir(d);
	return r < 0 ? -1 : send_frame(s, CP_FRAME_END, 0, NULL, 0);
}

int cp_send_tree(const struct cp_send_opts *o, int srcfd, const char *top_name, const char *path,
		 struct bw_error *err)
{
	_cleanup_free_ struct sender *s = xcalloc(1, sizeof(*s));
	struct stat st;
	s->o = o;
	s->io = (struct io){o->sock, o->timeout_ms, o->deadline_ms};
	s->err = err;
	if (fstat(srcfd, &st) < 0)
		return bw_fail(err, errno, "stat `%s`", path);
	int r;
	if (S_ISDIR(st.st_mode))
		r = send_dir(s, srcfd, &st, top_name, path);
	else if (S_ISREG(st.st_mode))
		r = send_file(s, srcfd, &st, top_name, path);
	else
		return bw_fail(err, 0, "`%s`: not a regular file or a directory", path);
	return r < 0 ? -1 : send_frame(s, CP_FRAME_DONE, 0, NULL, 0);
}
