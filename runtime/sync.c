/* SOCK_SEQPACKET messages with an optional SCM_RIGHTS fd between the runtime and the init. */
#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/util.h"

struct wire_hdr {
	uint32_t type;
	int32_t code;
	uint32_t len;
};

int sync_send(int sock, enum sync_type type, int code, const void *data, size_t len, int fd,
	      struct bw_error *err)
{
	struct wire_hdr h = {.type = type, .code = code, .len = (uint32_t)len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, len}};

	if (len > SYNC_MAX_DATA)
		return bw_fail(err, EMSGSIZE, "sync message too large");
	if (fdpass_send(sock, iov, len > 0 ? 2 : 1, &fd, fd >= 0 ? 1 : 0, 0) < 0)
		return bw_fail(err, errno, "send sync message");
	return 0;
}

int sync_recv(int sock, struct sync_msg *msg, struct bw_error *err)
{
	_cleanup_free_ char *buf = xmalloc(sizeof(struct wire_hdr) + SYNC_MAX_DATA + 1);
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(struct wire_hdr) + SYNC_MAX_DATA};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t r;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return bw_fail(err, errno, "receive sync message");
	if (r == 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&msg->fd, CMSG_DATA(c), sizeof(int));
	struct wire_hdr h;
	if ((size_t)r < sizeof(h) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (msg->fd >= 0)
			close(msg->fd);
		return bw_fail(err, EPROTO, "malformed sync message");
	}
	memcpy(&h, buf, sizeof(h));
	if (h.len != (size_t)r - sizeof(h)) {
		if (msg->fd >= 0)
			close(msg->fd);
		return bw_fail(err, EPROTO, "malformed sync message");
	}
	msg->type = h.type;
	msg->code = h.code;
	msg->len = h.len;
	msg->data = xmalloc(h.len + 1);
	memcpy(msg->data, buf + sizeof(h), h.len);
	msg->data[h.len] = '\0';
	return 1;
}

int sync_expect(int sock, enum sync_type type, struct sync_msg *msg, struct bw_error *err)
{
	int r = sync_recv(sock, msg, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return bw_fail(err, 0, "container init exited unexpectedly");
	if (msg->type == SYNC_ERROR) {
		bw_fail(err, msg->code, "%s", msg->data);
		sync_msg_free(msg);
		return -1;
	}
	if (msg->type != (uint32_t)type) {
		sync_msg_free(msg);
		return bw_fail(err, EPROTO, "unexpected sync message %u (wanted %d)", msg->type,
			       type);
	}
	return 0;
}

void sync_msg_free(struct sync_msg *msg)
{
	free(msg->data);
	msg->data = NULL;
	if (msg->fd >= 0)
		close(msg->fd);
	msg->fd = -1;
}

void sync_send_error(int sock, const struct bw_error *err)
{
	sync_send(sock, SYNC_ERROR, err->code, err->msg, strlen(err->msg), -1, NULL);
}
