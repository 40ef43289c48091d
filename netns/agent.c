/* The network agent's daemon: its epoll loop over the DNS proxy, NFLOG and route events, and
 * agent_start, which sets it up (agent_setup.c), hardens it (agent_harden.c) and forks it.
 * The daemon stays in the upstream namespace, so each upstream query's fresh socket is made
 * there by a plain socket(): no setns after set-up, and CAP_SYS_ADMIN can go. */
#include "netns/agent.h"
#include "netns/agent_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "netns/firewall.h"
#include "netns/nfset.h"

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

/* A DNS event about q, refused by `rule`. */
static void dns_event(struct audit_event *ev, const struct dns_question *q, const char *rule)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = AUDIT_DNS;
	/* Names are at most 253 characters in presentation form, escapes aside: cut those. */
	size_t len = strnlen(q->name, sizeof(ev->name) - 1);
	memcpy(ev->name, q->name, len);
	snprintf(ev->rule, sizeof(ev->rule), "%s", rule);
	ev->qtype = q->type;
}

static void on_dns_deny(void *ctx, const struct dns_question *q, const char *rule)
{
	struct agent *a = ctx;
	struct audit_event ev;
	dns_event(&ev, q, rule);
	audit_note(a->audit, &ev, dnsproxy_now_ms());
}

static void on_dns_private(void *ctx, const struct dns_question *q, const struct dns_addr *addr)
{
	struct agent *a = ctx;
	struct audit_event ev;
	dns_event(&ev, q, "private address");
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
	agent_close_others(a, sync_fd);
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
	if (agent_harden_caps(err) < 0 || agent_harden_landlock(err) < 0)
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
	if (agent_setup(&a, err) < 0 || pipe2(sync, O_CLOEXEC) < 0) {
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
