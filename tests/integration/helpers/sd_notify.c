/* sd_notify: sends one datagram to $NOTIFY_SOCKET from inside a container and prints the errno
 * of sendmsg (0 on success), as systemd-notify would, plus the hostile variants the notify tests
 * need. Usage:
 *   sd_notify TEXT            TEXT as one datagram ("\n" in TEXT stays a backslash-n; use
 *                             several lines with $'...' in the shell)
 *   sd_notify --fd PATH TEXT  the same, with PATH opened and passed along (SCM_RIGHTS)
 *   sd_notify --huge N        one datagram "STATUS=" + N bytes of 'x' + "\nREADY=1"
 * Built statically by the test (gcc -static -O2): the busybox rootfs has no libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || argc < 2) {
		fprintf(stderr, "sd_notify: NOTIFY_SOCKET unset or no message\n");
		return 2;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 3;
	int fd = -1;
	char *text = argv[1];
	if (strcmp(argv[1], "--fd") == 0 && argc >= 4) {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 4;
		text = argv[3];
	} else if (strcmp(argv[1], "--huge") == 0 && argc >= 3) {
		size_t n = strtoul(argv[2], NULL, 10);
		text = malloc(n + 32);
		if (text == NULL)
			return 5;
		strcpy(text, "STATUS=");
		memset(text + 7, 'x', n);
		strcpy(text + 7 + n, "\nREADY=1");
	}
	struct iovec iov = {text, strlen(text)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {
	    .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	int e = sendmsg(s, &mh, MSG_NOSIGNAL) < 0 ? errno : 0;
	printf("%d\n", e);
	return 0;
}
