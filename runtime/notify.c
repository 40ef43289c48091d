/* sd_notify for containers: the notify directory of create, and the relay of start and run.
 * The container only ever writes datagrams to a socket bulwark owns; what reaches the caller's
 * socket is rebuilt here from a short list of fields, from bulwark's own pid. */
#include "runtime/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/hostpath.h"

/* <state>/<id>/notify (0700: no one else on the host may reach the socket through it) holds
 * the directory bound into the container, d (0755: every id of the container may send). The
 * container sees d through its bind mount only, never the path above it. */
#define NOTIFY_PRIV "notify"
#define NOTIFY_DIR NOTIFY_PRIV "/d"
#define NOTIFY_SOCK "notify"

/* The caller's address: a path, or an abstract name written "@name". */
static int host_address(const char *s, struct sockaddr_un *a, socklen_t *len, struct bw_error *err)
{
	size_t n = strlen(s);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(a->sun_path))
		return bw_fail(err, ENAMETOOLONG, "NOTIFY_SOCKET: `%s`", s);
	memcpy(a->sun_path, s, n);
	if (s[0] == '@')
		a->sun_path[0] = '\0';
	else if (s[0] != '/')
		return bw_fail(err, EINVAL, "NOTIFY_SOCKET: `%s`: neither a path nor @name", s);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (s[0] == '@' ? 0 : 1));
	return 0;
}

int notify_prepare(struct container *c, struct oci_spec *spec, struct hostpath *src,
		   struct bw_error *err)
{
	const char *host = getenv("NOTIFY_SOCKET");
	if (host == NULL || host[0] == '\0')
		return 0;
	/* An address start could not send to is refused now, before anything exists. */
	struct sockaddr_un a;
	socklen_t alen;
	if (host_address(host, &a, &alen, err) < 0)
		return -1;
	/* d: 0755 and read-only in the container: it may send to the socket, never add a
	 * file; its parent keeps every other host user out. */
	if (mkdirat(c->dirfd, NOTIFY_PRIV, 0700) < 0 ||
	    fchmodat(c->dirfd, NOTIFY_PRIV, 0700, 0) < 0 ||
	    mkdirat(c->dirfd, NOTIFY_DIR, 0755) < 0 || fchmodat(c->dirfd, NOTIFY_DIR, 0755, 0) < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: mkdir `%s/%s`", c->dir, NOTIFY_DIR);
	_cleanup_close_ int fd =
	    openat(c->dirfd, NOTIFY_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: open `%s/%s`", c->dir, NOTIFY_DIR);
	if (hostpath_from_fd(fd, "NOTIFY_SOCKET's directory", false, src, err) < 0)
		return -1;
	_cleanup_free_ char *dir = notify_container_dir(host);
	spec->mounts = xrealloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*spec->mounts));
	struct oci_mount *m = &spec->mounts[spec->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->destination = xstrdup(dir);
	m->type = xstrdup("bind");
	m->source = xstrdup(src->path);
	static const char *const opts[] = {"rbind", "ro", "nosuid", "nodev", "noexec"};
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		strv_push(&m->options, opts[i]);
	_cleanup_free_ char *kv = xasprintf("NOTIFY_SOCKET=%s/%s", dir, NOTIFY_SOCK);
	strv_setenv(&spec->process.env, kv);
	return 1;
}

int notify_make_mountpoint(const struct hostpath *root, const char *dir)
{
	struct bw_error e = {0};
	_cleanup_close_ int rfd = open(root->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (rfd < 0 || fstat(rfd, &st) < 0 || st.st_dev != root->dev || st.st_ino != root->ino)
		return -1;
	_cleanup_close_ int fd = fs_mkpath_in_root(rfd, dir, true, 0755, &e);
	if (fd < 0) {
		log_debug(
		    "NOTIFY_SOCKET: mountpoint `%s` not made in root.path (the init tries): %s",
		    dir, e.msg);
		return -1;
	}
	return 0;
}

struct notify_relay {
	int dirfd; /* <state>/notify */
	int sock;  /* bound there, the container's end */
	int out;   /* unbound datagram socket to the caller's */
	struct sockaddr_un host;
	socklen_t host_len;
	bool ready_sent;
	int stopfd; /* eventfd: the thread's end */
	pthread_t thread;
	bool has_thread;
};

/* Binds <state>/notify/notify through /proc/self/fd, whatever the state dir's length. */
static int bind_socket(struct notify_relay *r, struct bw_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", r->dirfd, NOTIFY_SOCK);
	/* A socket left by an earlier start of this container (its own state dir). */
	if (unlinkat(r->dirfd, NOTIFY_SOCK, 0) < 0 && errno != ENOENT)
		return bw_fail(err, errno, "NOTIFY_SOCKET: unlink the old socket");
	r->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->sock < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: socket");
	if (bind(r->sock, (struct sockaddr *)&a, sizeof(a)) < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: bind `%s`", a.sun_path);
	/* Any id of the container may notify (a user namespace's root is "others" here). */
	if (fchmodat(r->dirfd, NOTIFY_SOCK, 0622, 0) < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: chmod the socket");
	return 0;
}

int notify_relay_open(struct container *c, struct notify_relay **out, struct bw_error *err)
{
	*out = NULL;
	const char *host = getenv("NOTIFY_SOCKET");
	if (host == NULL || host[0] == '\0')
		return 0;
	int dirfd = openat(c->dirfd, NOTIFY_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT) /* created without NOTIFY_SOCKET */
		return 0;
	if (dirfd < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: open `%s/%s`", c->dir, NOTIFY_DIR);
	struct notify_relay *r = xcalloc(1, sizeof(*r));
	r->dirfd = dirfd;
	r->sock = r->out = r->stopfd = -1;
	if (host_address(host, &r->host, &r->host_len, err) < 0 || bind_socket(r, err) < 0) {
		notify_relay_close(r);
		return -1;
	}
	r->out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->out < 0) {
		bw_fail(err, errno, "NOTIFY_SOCKET: socket");
		notify_relay_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* One datagram from the container, filtered and sent on. No control buffer: fds passed with
 * it are closed by the kernel (MSG_CTRUNC); such a message, or a truncated one, is dropped. */
static void relay_one(struct notify_relay *r)
{
	char buf[NOTIFY_MSG_MAX], out[NOTIFY_MSG_MAX + 2];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(r->sock, &mh, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 || (size_t)n > sizeof(buf) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (n >= 0)
			log_debug("NOTIFY_SOCKET: a datagram of %zd bytes or with fds dropped", n);
		return;
	}
	bool ready;
	size_t len = notify_filter(buf, (size_t)n, out, sizeof(out), &ready);
	if (len == 0)
		return;
	if (sendto(r->out, out, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&r->host,
		   r->host_len) < 0)
		log_warn("NOTIFY_SOCKET: send to the caller's socket: %s", strerror(errno));
	else if (ready)
		r->ready_sent = true;
}

void notify_relay_until_ready(struct notify_relay *r, int pidfd)
{
	int64_t deadline = console_now_ms() + NOTIFY_READY_TIMEOUT_MS;
	while (!r->ready_sent) {
		int64_t left = deadline - console_now_ms();
		if (left <= 0) {
			log_warn("NOTIFY_SOCKET: no READY=1 from the container in %d s; later "
				 "messages are not relayed",
				 NOTIFY_READY_TIMEOUT_MS / 1000);
			return;
		}
		struct pollfd p[2] = {{r->sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
		if (poll(p, pidfd >= 0 ? 2 : 1, (int)left) < 0 && errno != EINTR)
			return;
		if (p[0].revents & POLLIN)
			relay_one(r);
		else if (p[1].revents & (POLLIN | POLLHUP))
			return; /* the container ended: nothing more will come */
	}
}

static void *relay_main(void *arg)
{
	struct notify_relay *r = arg;
	for (;;) {
		struct pollfd p[2] = {{r->sock, POLLIN, 0}, {r->stopfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (p[1].revents & POLLIN) {
			/* Stopped once the container has ended: what it sent last (STOPPING=1)
			 * may still be queued. Drained, boundedly (the queue holds a few hundred
			 * datagrams at most). */
			struct pollfd q = {r->sock, POLLIN, 0};
			for (int i = 0; i < 1024 && poll(&q, 1, 0) == 1 && (q.revents & POLLIN);
			     i++)
				relay_one(r);
			return NULL;
		}
		if (p[0].revents & POLLIN)
			relay_one(r);
	}
}

int notify_relay_thread(struct notify_relay *r, struct bw_error *err)
{
	r->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stopfd < 0)
		return bw_fail(err, errno, "NOTIFY_SOCKET: eventfd");
	int e = pthread_create(&r->thread, NULL, relay_main, r);
	if (e != 0)
		return bw_fail(err, e, "NOTIFY_SOCKET: relay thread");
	r->has_thread = true;
	return 0;
}

void notify_relay_close(struct notify_relay *r)
{
	if (r == NULL)
		return;
	if (r->has_thread) {
		uint64_t one = 1;
		if (write(r->stopfd, &one, sizeof(one)) < 0)
			pthread_cancel(r->thread);
		pthread_join(r->thread, NULL);
	}
	/* Gone, so a container that notifies later gets ENOENT at once instead of filling a
	 * queue nobody reads. */
	if (r->sock >= 0)
		unlinkat(r->dirfd, NOTIFY_SOCK, 0);
	close_fd(&r->sock);
	close_fd(&r->out);
	close_fd(&r->stopfd);
	close_fd(&r->dirfd);
	free(r);
}
