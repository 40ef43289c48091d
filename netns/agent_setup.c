/* The network agent's set-up in the caller, before the fork: the upstream resolvers, the
 * sockets in the sandbox's namespace, the log files, the pidfd and the caller's known local
 * prefixes. */
#include "netns/agent.h"
#include "netns/agent_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fs.h"
#include "common/util.h"
#include "netns/firewall.h"
#include "netns/nfset.h"
#include "netns/ns.h"

void agent_close(struct agent *a)
{
	int *fds[] = {&a->pidfd,    &a->nflog_fd, &a->nft_fd, &a->events_fd,
		      &a->audit_fd, &a->devnull,  &a->udp[0], &a->udp[1],
		      &a->tcp[0],   &a->tcp[1],	  &a->rt_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close_fd(fds[i]);
}

/* ---- upstream resolvers ---- */

static bool to_sockaddr(int family, const uint8_t *addr, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(53);
		memcpy(&s->sin_addr, addr, 4);
		*len = sizeof(*s);
		return true;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(53);
		memcpy(&s->sin6_addr, addr, 16);
		*len = sizeof(*s);
		return true;
	}
	return false;
}

size_t agent_parse_resolv_conf(const char *text, struct sockaddr_storage *out, socklen_t *lens,
			       size_t max)
{
	size_t n = 0;
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char word[16], addr[64];
		uint8_t bin[16];
		if (sscanf(line, " %15s %63s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
			continue;
		int family = inet_pton(AF_INET, addr, bin) == 1	   ? AF_INET
			     : inet_pton(AF_INET6, addr, bin) == 1 ? AF_INET6
								   : 0;
		if (family != 0 && to_sockaddr(family, bin, &out[n], &lens[n]))
			n++;
	}
	return n;
}

static int find_upstreams(struct agent *a, struct bw_error *err)
{
	const struct sandbox_policy *p = a->p;
	for (size_t i = 0; i < p->n_upstreams; i++)
		if (to_sockaddr(p->upstreams[i].family, p->upstreams[i].addr, &a->up[a->n_up],
				&a->up_len[a->n_up]))
			a->n_up++;
	if (a->n_up > 0 || a->o->no_dns)
		return 0;
	const char *path = a->o->resolv_conf != NULL ? a->o->resolv_conf : "/etc/resolv.conf";
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(path, 1 << 20, &text, &len, err) < 0)
		return bw_wrap(err, "no dns.upstream in the policy");
	a->n_up = agent_parse_resolv_conf(text, a->up, a->up_len, POLICY_MAX_UPSTREAMS);
	if (a->n_up == 0)
		return bw_fail(err, 0,
			       "no upstream resolver: no dns.upstream in the policy and no "
			       "nameserver in `%s`",
			       path);
	return 0;
}

/* ---- set-up in the caller ---- */

static int open_log(const char *path, const char *what, struct bw_error *err)
{
	_cleanup_close_ int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
	    0600);
	struct stat st;
	if (fd < 0)
		return bw_fail(err, errno, "%s: open `%s`", what, path);
	/* A FIFO or a device could block or divert the daemon. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return bw_fail(err, 0, "%s: `%s` is not a regular file", what, path);
	return steal_fd(&fd);
}

/* A listener on 127.0.0.1 or ::1; -2 (no error) when the namespace has no IPv6 loopback. */
static int listen_on(int family, int type, uint16_t port, struct bw_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	static const uint8_t lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1};
	int one = 1;
	_cleanup_close_ int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		return -2;
	if (fd < 0)
		return bw_fail(err, errno, "DNS listener: socket");
	to_sockaddr(family, family == AF_INET ? lo4 : lo6, &ss, &len);
	((struct sockaddr_in *)&ss)->sin_port = htons(port); /* same offset for sin6_port */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		if (family == AF_INET6 && errno == EADDRNOTAVAIL)
			return -2;
		return bw_fail(err, errno, "DNS listener: bind %s port %u in the sandbox",
			       family == AF_INET ? "127.0.0.1" : "::1", port);
	}
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		return bw_fail(err, errno, "DNS listener: listen");
	return steal_fd(&fd);
}

static int sandbox_sockets(struct agent *a, struct bw_error *err)
{
	if (!a->o->no_dns) {
		if (ns_loopback_up(err) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			int family = i == 0 ? AF_INET : AF_INET6;
			a->udp[i] = listen_on(family, SOCK_DGRAM, a->o->dns_port, err);
			if (a->udp[i] == -1)
				return -1;
			a->tcp[i] = listen_on(family, SOCK_STREAM, a->o->dns_port, err);
			if (a->tcp[i] == -1)
				return -1;
		}
	}
	a->nflog_fd = nflog_open(FW_LOG_GROUP, err);
	if (a->nflog_fd < 0)
		return -1;
	a->nft_fd = nfset_open(err);
	return a->nft_fd < 0 ? -1 : 0;
}

/* The sandbox's sockets, made by a child that joined the user namespace owning the sandbox's
 * network namespace (no way back from there) and handed over on a socket pair: one message
 * with the error text, or with the fds that exist (IPv6 listeners may not) in a fixed order.
 * The daemon, in the caller's own namespaces, owns that user namespace, which is what the
 * kernel checks for CAP_NET_ADMIN on each set update. */
enum { SOCK_UDP4, SOCK_UDP6, SOCK_TCP4, SOCK_TCP6, SOCK_NFLOG, SOCK_NFT, SOCK_N };
_Static_assert(SOCK_N <= FDPASS_MAX, "the agent's sockets ride on one message");

struct sockets_msg {
	int ok;
	unsigned int present; /* bit i: fd i of the order above is attached */
	char text[BW_ERROR_MAX];
};

static int *sock_slot(struct agent *a, int i)
{
	int *slots[SOCK_N] = {&a->udp[0], &a->udp[1],	&a->tcp[0],
			      &a->tcp[1], &a->nflog_fd, &a->nft_fd};
	return slots[i];
}

static void __attribute__((noreturn)) sockets_child(struct agent *a, int sandbox, int out)
{
	struct sockets_msg m = {0};
	struct bw_error e = {0};
	int fds[SOCK_N], n = 0;
	if (ns_enter_net(sandbox) < 0)
		bw_fail(&e, errno, "join the sandbox's user and network namespaces");
	else if (sandbox_sockets(a, &e) == 0) {
		m.ok = 1;
		for (int i = 0; i < SOCK_N; i++)
			if (*sock_slot(a, i) >= 0) {
				m.present |= 1u << i;
				fds[n++] = *sock_slot(a, i);
			}
	}
	if (!m.ok)
		bw_error_text(&e, m.text, sizeof(m.text));
	struct iovec iov = {&m, sizeof(m)};
	_exit(fdpass_send(out, &iov, 1, fds, (size_t)n, 0) == (ssize_t)sizeof(m) ? 0 : 1);
}

static int sockets_from_child(struct agent *a, int sandbox, struct bw_error *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return bw_fail(err, errno, "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return bw_fail(err, errno, "fork");
	}
	if (pid == 0) {
		close(sp[0]);
		sockets_child(a, sandbox, sp[1]);
	}
	close(sp[1]);
	_cleanup_close_ int in = sp[0];
	struct sockets_msg m = {0};
	union {
		char buf[CMSG_SPACE(SOCK_N * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t got;
	do
		got = recvmsg(in, &mh, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int fds[SOCK_N], n = 0;
	struct cmsghdr *c = got > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), (size_t)n * sizeof(int));
	}
	int want = __builtin_popcount(m.present);
	if (got != (ssize_t)sizeof(m) || !m.ok || (mh.msg_flags & MSG_CTRUNC) || n != want) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		m.text[sizeof(m.text) - 1] = '\0';
		return bw_fail(
		    err, 0, "%s",
		    got == (ssize_t)sizeof(m) && !m.ok
			? m.text
			: "the sandbox's sockets did not arrive from the namespace child");
	}
	for (int i = 0, k = 0; i < SOCK_N; i++)
		*sock_slot(a, i) = (m.present & (1u << i)) ? fds[k++] : -1;
	return 0;
}

/* Into the sandbox's namespace for its sockets, then into the upstream namespace (or back
 * home) for good: the daemon inherits that one. */
static int open_sockets(struct agent *a, struct bw_error *err)
{
	_cleanup_close_ int sandbox = ns_open_path(OCI_NS_NETWORK, a->o->netns, "--netns", err);
	if (sandbox < 0)
		return -1;
	if (ns_owner_userns_set()) {
		if (a->o->upstream_ns != NULL)
			return bw_fail(err, 0,
				       "--upstream-netns: not available with --userns (a namespace "
				       "this process cannot leave and re-enter)");
		return sockets_from_child(a, sandbox, err);
	}
	_cleanup_close_ int home =
	    a->o->upstream_ns != NULL
		? ns_open_path(OCI_NS_NETWORK, a->o->upstream_ns, "--upstream-netns", err)
		: open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return a->o->upstream_ns != NULL ? -1 : bw_fail(err, errno, "open own namespace");
	if (setns(sandbox, CLONE_NEWNET) < 0)
		return bw_fail(err, errno, "setns into the sandbox's network namespace");
	int r = sandbox_sockets(a, err);
	if (setns(home, CLONE_NEWNET) < 0)
		return bw_fail(err, errno, "setns into the upstream network namespace");
	return r;
}

/* fds 0-2 exist, so nothing the set-up opens lands there and /dev/null can replace them. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd)
				close(n);
		}
}

/* The caller's local prefix routes now (subscribed already: a later one is an event). */
static int known_prefixes(struct agent *a, struct bw_error *err)
{
	_cleanup_free_ struct pol_cidr *v = NULL;
	size_t n = 0;
	if (fw_host_addresses(&v, &n, err) < 0)
		return bw_wrap(err, "the caller's local routes");
	for (size_t i = 0; i < n; i++) {
		if (v[i].prefix == (v[i].family == AF_INET ? 32 : 128))
			continue;
		if (a->n_known == AGENT_MAX_PREFIXES)
			return bw_fail(err, 0,
				       "more than %d local prefix routes in the caller's "
				       "namespace: egress through pasta is refused",
				       AGENT_MAX_PREFIXES);
		a->known[a->n_known++] = v[i];
	}
	return 0;
}

int agent_setup(struct agent *a, struct bw_error *err)
{
	ensure_std_fds();
	if (find_upstreams(a, err) < 0)
		return -1;
	a->pidfd = (int)syscall(SYS_pidfd_open, a->o->pid, 0);
	if (a->pidfd < 0)
		return bw_fail(err, errno, "--pid %d: pidfd_open", (int)a->o->pid);
	const char *audit = a->o->audit_path != NULL ? a->o->audit_path : a->p->audit_path;
	if (a->o->events_path != NULL &&
	    (a->events_fd = open_log(a->o->events_path, "--events", err)) < 0)
		return -1;
	if (audit != NULL && (a->audit_fd = open_log(audit, "audit", err)) < 0)
		return -1;
	a->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (a->devnull < 0)
		return bw_fail(err, errno, "open /dev/null");
	if (a->o->watch_local) {
		/* In our own namespace, the caller's, where pasta's sockets live; subscribed before
		 * the table takes its snapshot of the caller's addresses. */
		a->rt_fd =
		    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
					 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
						      RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE};
		int rcvbuf = 1 << 20; /* a burst of address changes must not overflow it */
		if (a->rt_fd >= 0)
			(void)setsockopt(a->rt_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (a->rt_fd < 0 || bind(a->rt_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return bw_fail(err, errno, "rtnetlink: watch the caller's addresses");
		if (known_prefixes(a, err) < 0)
			return -1;
	}
	return open_sockets(a, err);
}
