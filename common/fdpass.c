/* SCM_RIGHTS sends and the blocked-signal set shared by the runtime's waiting processes. */
#include "common/fdpass.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

ssize_t fdpass_send(int sock, const struct iovec *iov, size_t iovlen, const int *fds, size_t nfds,
		    int flags)
{
	union {
		char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;
	if (nfds > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovlen};
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

void sigset_all_but_faults(sigset_t *set, bool with_chld)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	if (!with_chld)
		sigdelset(set, SIGCHLD);
}
