/* The network agent: set-up in the caller (sockets in the sandbox's namespace, files, pidfd),
 * the daemon's hardening (capabilities down to CAP_NET_ADMIN for the set updates, no new
 * privileges, Landlock: no file access, TCP connect to port 53 only) and its epoll loop.
 * The daemon stays in the upstream namespace, so each upstream query's fresh socket is made
 * there by a plain socket(): no setns after set-up, and CAP_SYS_ADMIN can go. */
#include "netns/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "netns/dnsproxy.h"
#include "netns/domains.h"
#include "netns/firewall.h"
#include "netns/nflog.h"
#include "netns/nfset.h"
#include "netns/ns.h"

#define TICK_MS 250
/* Local prefix routes of the caller's known at start; more refuse the start. */
#define AGENT_MAX_PREFIXES 256
/* How long the caller's local addresses may stay unclosed before egress ends. */
#define RESYNC_GIVE_UP_MS 2000

struct agent;

struct agent_src {
	struct ev_source ev;
	struct agent *a;
};

struct agent {
	const struct agent_options *o;
	const struct sandbox_policy *p;
	int pidfd, nflog_fd, nft_fd, events_fd, audit_fd, devnull, rt_fd;
	int udp[2], tcp[2];
	struct sockaddr_storage up[POLICY_MAX_UPSTREAMS];
	socklen_t up_len[POLICY_MAX_UPSTREAMS];
	size_t n_up;
	/* the daemon */
	int epfd, sigfd;
	struct agent_src pid_src, sig_src, nflog_src, rt_src;
	struct dom_policy dp;
	struct audit *audit;
	struct dnsproxy *proxy;
	bool stop;
	/* The caller's addresses must be closed again from a fresh list (an add failed: the
	 * table was not loaded yet, or events were lost); since when (ms), for the audit. */
	bool local_resync;
	uint64_t local_resync_since;
	/* The caller's local prefixes (AnyIP routes) at start: the table's snapshot, taken
	 * after, holds them; any other that appears ends egress (fail closed). */
	struct pol_cidr known[AGENT_MAX_PREFIXES];
	size_t n_known;
	uint8_t buf[65536];
};

static void agent_close(struct agent *a)
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
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	_exit(sendmsg(out, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : 1);
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

static int setup(struct agent *a, struct bw_error *err)
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

/* ---- the daemon's hardening ---- */

/* Landlock ABI as of Linux 6.12 (the Debian 12 headers predate the net and scope fields). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_net_port_attr {
	uint64_t allowed_access, port;
};
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_RULE_NET_PORT 2
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

static uint64_t ll_fs_rights(long abi)
{
	return abi >= 5	  ? (1ULL << 16) - 1
	       : abi >= 3 ? (1ULL << 15) - 1
	       : abi >= 2 ? (1ULL << 14) - 1
			  : (1ULL << 13) - 1;
}

/* No file may be opened, created or executed; TCP may only connect to port 53 (the upstream
 * resolvers) and never bind; no signals or abstract sockets beyond the daemon. A kernel
 * without Landlock gets the rest of the hardening only. */
static int harden_landlock(struct bw_error *err)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);
	if (abi < 0)
		return 0;
	struct ll_ruleset_attr attr = {.handled_access_fs = ll_fs_rights(abi)};
	size_t size = sizeof(uint64_t);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	_cleanup_close_ int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return bw_fail(err, errno, "landlock_create_ruleset");
	struct ll_net_port_attr dns = {.allowed_access = LL_NET_CONNECT_TCP, .port = 53};
	if (abi >= 4 && syscall(SYS_landlock_add_rule, fd, LL_RULE_NET_PORT, &dns, 0) < 0)
		return bw_fail(err, errno, "landlock_add_rule");
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		return bw_fail(err, errno, "landlock_restrict_self");
	return 0;
}

/* Only CAP_NET_ADMIN stays (nfnetlink checks it on every set update), locked so that no
 * execve or uid change could bring the others back. */
static int harden_caps(struct bw_error *err)
{
	struct __user_cap_header_struct hh = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct have[2] = {{0}};
	if (syscall(SYS_capget, &hh, have) < 0)
		return bw_fail(err, errno, "capget");
	/* Without root (--userns) the daemon holds no capability to drop, nor CAP_SETPCAP to lock
	 * the bits; it owns the sandbox's user namespace, which is what the set updates need. */
	if (have[0].permitted == 0 && have[1].permitted == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return bw_fail(err, errno, "PR_SET_NO_NEW_PRIVS");
		return 0;
	}
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					 SECBIT_NO_CAP_AMBIENT_RAISE |
					 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return bw_fail(err, errno, "PR_SET_SECUREBITS");
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, cap) < 0)
			return bw_fail(err, errno, "PR_CAPBSET_DROP %d", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return bw_fail(err, errno, "PR_CAP_AMBIENT_CLEAR_ALL");
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &h, d) < 0)
		return bw_fail(err, errno, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return bw_fail(err, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

/* Everything but what the daemon uses is closed (the caller's fds included). */
static void close_others(struct agent *a, int sync_fd)
{
	int keep[] = {a->pidfd,	  a->nflog_fd, a->nft_fd, a->events_fd, a->audit_fd,
		      a->devnull, a->udp[0],   a->udp[1], a->tcp[0],	a->tcp[1],
		      a->epfd,	  a->sigfd,    sync_fd,	  a->rt_fd};
	size_t n = ARRAY_SIZE(keep);
	for (size_t i = 1; i < n; i++) /* insertion sort: 14 numbers */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned int from = 3;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from)
			close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/* ---- the daemon ---- */

static void on_exit_event(struct ev_source *s, uint32_t events)
{
	struct agent_src *src = (struct agent_src *)s;
	struct signalfd_siginfo si;
	if (s->fd == src->a->sigfd)
		(void)!read(s->fd, &si, sizeof(si));
	src->a->stop = true;
}

static void on_packet(void *ctx, const struct audit_event *ev)
{
	struct agent *a = ctx;
	audit_note(a->audit, ev, dnsproxy_now_ms());
}

/* Read up to max queued NFLOG messages. */
static void read_nflog(struct agent *a, int fd, int max)
{
	for (int i = 0; i < max; i++) {
		ssize_t r = recv(fd, a->buf, sizeof(a->buf), MSG_DONTWAIT);
		if (r < 0 && errno == ENOBUFS) {
			/* The kernel dropped log messages: count them as one "other" event. */
			struct audit_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.kind = AUDIT_OTHER;
			on_packet(a, &ev);
			continue;
		}
		if (r <= 0)
			return;
		nflog_parse(a->buf, (size_t)r, on_packet, a);
	}
}

static void on_nflog(struct ev_source *s, uint32_t events)
{
	read_nflog(((struct agent_src *)s)->a, s->fd, 64);
}

static void audit_other(struct agent *a, const char *what);

static void want_resync(struct agent *a)
{
	if (!a->local_resync)
		a->local_resync_since = dnsproxy_now_ms();
	a->local_resync = true;
}

static bool full_length(const struct pol_cidr *c)
{
	return c->prefix == (c->family == AF_INET ? 32 : 128);
}

static bool is_known(const struct agent *a, const struct pol_cidr *c)
{
	for (size_t i = 0; i < a->n_known; i++)
		if (a->known[i].family == c->family && a->known[i].prefix == c->prefix &&
		    memcmp(a->known[i].addr, c->addr, sizeof(c->addr)) == 0)
			return true;
	return false;
}

/* Egress cannot stay safe: the agent ends, and its end ends pasta (pasta_watch). */
static void end_egress(struct agent *a, const char *why)
{
	audit_other(a, why);
	a->stop = true;
}

/* An address the caller's namespace gained: closed to the sandbox (sets local4/local6), since
 * pasta would reach the caller's own services there. A failure (the table is not loaded yet:
 * the agent starts before it; a full set; the kernel refused) schedules a resync. */
static void close_local(struct agent *a, const struct pol_cidr *c)
{
	if (!full_length(c)) {
		if (!is_known(a, c))
			end_egress(a, "a new local prefix route: egress ended");
		return;
	}
	struct nfset_elem e = {.family = c->family, .local = true};
	memcpy(e.addr, c->addr, sizeof(e.addr));
	struct bw_error err = {0};
	if (nfset_add(a->nft_fd, FW_TABLE, &e, 1, &err) != 0)
		want_resync(a);
}

/* Every local address the caller's namespace has now, closed to the sandbox, one batch per
 * family and chunk (a failed one does not stop the others); until that all succeeds it is
 * retried at every tick, and after RESYNC_GIVE_UP_MS egress ends (a full set, say: an address
 * left open is never an option). */
static void resync_local(struct agent *a, uint64_t now)
{
	_cleanup_free_ struct pol_cidr *v = NULL;
	size_t n = 0;
	struct bw_error err = {0};
	bool ok = fw_host_addresses(&v, &n, &err) == 0;
	for (int f = 0; f < 2 && n > 0; f++) {
		int family = f == 0 ? AF_INET : AF_INET6;
		struct nfset_elem e[NFSET_MAX_ELEMS];
		size_t k = 0;
		for (size_t i = 0; i <= n; i++) {
			if (i < n && v[i].family == family && !full_length(&v[i]) &&
			    !is_known(a, &v[i])) {
				end_egress(a, "a new local prefix route: egress ended");
				return;
			}
			if (i < n && v[i].family == family && full_length(&v[i])) {
				memset(&e[k], 0, sizeof(e[k]));
				e[k].family = family;
				e[k].local = true;
				memcpy(e[k].addr, v[i].addr, sizeof(e[k].addr));
				k++;
			}
			if (k > 0 && (k == NFSET_MAX_ELEMS || i == n)) {
				if (nfset_add(a->nft_fd, FW_TABLE, e, k, &err) != 0)
					ok = false;
				k = 0;
			}
		}
	}
	if (ok)
		a->local_resync = false;
	else if (now - a->local_resync_since > RESYNC_GIVE_UP_MS)
		end_egress(a, "local addresses not closed: egress ended");
}

static void audit_other(struct agent *a, const char *what)
{
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_OTHER;
	snprintf(ev.rule, sizeof(ev.rule), "%s", what);
	audit_note(a->audit, &ev, dnsproxy_now_ms());
}

/* Only the kernel's messages count (a process of the caller's could unicast to our port);
 * a length kept signed, so a malformed last message ends the walk. Lost events (the socket
 * overflowed) are audited: those addresses stay open until the sandbox ends. */
static void on_rtnl(struct ev_source *s, uint32_t events)
{
	struct agent *a = ((struct agent_src *)s)->a;
	for (int round = 0; round < 16; round++) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(s->fd, a->buf, sizeof(a->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: the whole list is closed again at the next tick. */
			want_resync(a);
			continue;
		}
		if (n <= 0)
			return;
		if (flen != sizeof(from) || from.nl_pid != 0)
			continue;
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)a->buf;
		     len > 0 && NLMSG_OK(h, len) && !a->stop; h = NLMSG_NEXT(h, len)) {
			struct pol_cidr c;
			if (fw_local_route(h, &c)) {
				close_local(a, &c);
				continue;
			}
			if (h->nlmsg_type != RTM_NEWADDR ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
				continue;
			struct ifaddrmsg *ifa = NLMSG_DATA(h);
			size_t alen = ifa->ifa_family == AF_INET    ? 4
				      : ifa->ifa_family == AF_INET6 ? 16
								    : 0;
			if (alen == 0)
				continue;
			int left = (int)IFA_PAYLOAD(h);
			for (struct rtattr *r = IFA_RTA(ifa); RTA_OK(r, left);
			     r = RTA_NEXT(r, left)) {
				if ((r->rta_type != IFA_LOCAL && r->rta_type != IFA_ADDRESS) ||
				    RTA_PAYLOAD(r) != alen)
					continue;
				memset(&c, 0, sizeof(c));
				c.family = ifa->ifa_family;
				c.prefix = (uint8_t)(alen * 8);
				memcpy(c.addr, RTA_DATA(r), alen);
				close_local(a, &c);
			}
		}
	}
}

static void on_dns_deny(void *ctx, const struct dns_question *q, const char *rule)
{
	struct agent *a = ctx;
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_DNS;
	/* Names are at most 253 characters in presentation form, escapes aside: cut those. */
	size_t len = strnlen(q->name, sizeof(ev.name) - 1);
	memcpy(ev.name, q->name, len);
	snprintf(ev.rule, sizeof(ev.rule), "%s", rule);
	ev.qtype = q->type;
	audit_note(a->audit, &ev, dnsproxy_now_ms());
}

static void on_dns_private(void *ctx, const struct dns_question *q, const struct dns_addr *addr)
{
	struct agent *a = ctx;
	struct audit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AUDIT_DNS;
	size_t len = strnlen(q->name, sizeof(ev.name) - 1);
	memcpy(ev.name, q->name, len);
	snprintf(ev.rule, sizeof(ev.rule), "private address");
	ev.qtype = q->type;
	ev.family = addr->family;
	memcpy(ev.addr, addr->addr, sizeof(ev.addr));
	audit_note(a->audit, &ev, dnsproxy_now_ms());
}

static int watch_src(struct agent *a, struct agent_src *src, int fd,
		     void (*ready)(struct ev_source *, uint32_t), struct bw_error *err)
{
	*src = (struct agent_src){{fd, ready}, a};
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = &src->ev};
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		return bw_fail(err, errno, "epoll_ctl");
	return 0;
}

static int daemon_prepare(struct agent *a, int sync_fd, struct bw_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (setsid() < 0 || chdir("/") < 0)
		return bw_fail(err, errno, "setsid/chdir");
	umask(077);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->epfd < 0)
		return bw_fail(err, errno, "signalfd/epoll");
	close_others(a, sync_fd);
	if (watch_src(a, &a->pid_src, a->pidfd, on_exit_event, err) < 0 ||
	    watch_src(a, &a->sig_src, a->sigfd, on_exit_event, err) < 0 ||
	    watch_src(a, &a->nflog_src, a->nflog_fd, on_nflog, err) < 0 ||
	    (a->rt_fd >= 0 && watch_src(a, &a->rt_src, a->rt_fd, on_rtnl, err) < 0))
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(a->devnull, fd) < 0)
			return bw_fail(err, errno, "dup2 /dev/null");
	close_fd(&a->devnull);
	dom_policy_init(&a->dp, a->p);
	a->audit = audit_new(a->o->id, a->events_fd, a->audit_fd);
	if (!a->o->no_dns) {
		struct dnsproxy_config c = {.epfd = a->epfd,
					    .udp = {a->udp[0], a->udp[1]},
					    .tcp = {a->tcp[0], a->tcp[1]},
					    .nft_fd = a->nft_fd,
					    .n_upstream = a->n_up,
					    .dp = &a->dp,
					    .ttl_floor = a->p->ttl_floor,
					    .ttl_cap = a->p->ttl_cap,
					    .on_deny = on_dns_deny,
					    .open_private = a->p->open_private_answers,
					    .on_private = on_dns_private,
					    .ctx = a};
		memcpy(c.upstream, a->up, sizeof(c.upstream));
		memcpy(c.upstream_len, a->up_len, sizeof(c.upstream_len));
		a->proxy = dnsproxy_new(&c);
		a->udp[0] = a->udp[1] = a->tcp[0] = a->tcp[1] = -1; /* the proxy's now */
	}
	if (harden_caps(err) < 0 || harden_landlock(err) < 0)
		return -1;
	return 0;
}

static void daemon_loop(struct agent *a)
{
	struct epoll_event ev[64];
	uint64_t next_tick = dnsproxy_now_ms() + TICK_MS;
	while (!a->stop) {
		uint64_t now = dnsproxy_now_ms();
		int n = epoll_wait(a->epfd, ev, 64, next_tick > now ? (int)(next_tick - now) : 0);
		for (int i = 0; i < n && !a->stop; i++) {
			struct ev_source *s = ev[i].data.ptr;
			s->ready(s, ev[i].events);
		}
		if (a->proxy != NULL)
			dnsproxy_reap(a->proxy);
		now = dnsproxy_now_ms();
		if (now < next_tick)
			continue;
		if (a->proxy != NULL) {
			dnsproxy_tick(a->proxy, now);
			dnsproxy_reap(a->proxy);
		}
		if (a->local_resync)
			resync_local(a, now);
		audit_tick(a->audit, now);
		next_tick = now + TICK_MS;
	}
	/* What the sandbox's last packets left queued is counted before the final flush. */
	if (a->nflog_fd >= 0)
		read_nflog(a, a->nflog_fd, 4096);
	audit_flush(a->audit);
}

static void __attribute__((noreturn)) daemon_main(struct agent *a, int sync_fd)
{
	struct bw_error err = {0};
	if (daemon_prepare(a, sync_fd, &err) < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(&err, text, sizeof(text));
		(void)!write(sync_fd, text, strlen(text));
		_exit(1);
	}
	(void)!write(sync_fd, "k", 1);
	close(sync_fd);
	daemon_loop(a);
	dnsproxy_free(a->proxy);
	audit_free(a->audit);
	dom_policy_free(&a->dp);
	_exit(0);
}

/* The daemon says "k" once it serves, or why it could not. */
static int wait_ready(pid_t pid, int sync_fd, struct bw_error *err)
{
	char text[BW_ERROR_MAX + 64];
	ssize_t n;
	do
		n = read(sync_fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && text[0] == 'k')
		return 0;
	waitpid(pid, NULL, 0);
	if (n <= 0)
		return bw_fail(err, 0, "agent daemon died during set-up");
	text[n] = '\0';
	return bw_fail(err, 0, "agent daemon: %s", text);
}

int agent_start(const struct agent_options *o, const struct sandbox_policy *p, pid_t *daemon,
		struct bw_error *err)
{
	static struct agent a; /* the daemon's whole state: 64 KiB of buffer, not on the stack */
	int sync[2];
	a = (struct agent){.o = o,
			   .p = p,
			   .pidfd = -1,
			   .nflog_fd = -1,
			   .nft_fd = -1,
			   .events_fd = -1,
			   .audit_fd = -1,
			   .devnull = -1,
			   .rt_fd = -1,
			   .udp = {-1, -1},
			   .tcp = {-1, -1},
			   .epfd = -1,
			   .sigfd = -1};
	if (o->id == NULL || o->id[0] == '\0' || strlen(o->id) > 256)
		return bw_fail(err, 0, "--id: 1 to 256 characters");
	if (o->pid <= 0)
		return bw_fail(err, 0, "--pid: the sandbox's init process is required");
	if (!o->no_dns && o->dns_port == 0)
		return bw_fail(err, 0, "--dns-port: required (or --no-dns)");
	if (setup(&a, err) < 0 || pipe2(sync, O_CLOEXEC) < 0) {
		if (!bw_error_is_set(err))
			bw_fail(err, errno, "pipe");
		agent_close(&a);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sync[0]);
		daemon_main(&a, sync[1]);
	}
	int e = errno;
	close(sync[1]);
	agent_close(&a);
	if (pid < 0) {
		close(sync[0]);
		return bw_fail(err, e, "fork");
	}
	int r = wait_ready(pid, sync[0], err);
	close(sync[0]);
	*daemon = pid;
	return r;
}
