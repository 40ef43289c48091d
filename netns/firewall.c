/* Loading nft scripts into a sandbox's network namespace: a forked child joins the namespace
 * (the runtime's own threads never change namespace) and runs the script through libnftables,
 * dlopen'd there so the runtime binary does not link it. Also: the host addresses that join
 * the deny list. */
#include "netns/firewall.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "netns/ns.h"

#define FW_OUTPUT_MAX ((size_t)64 << 20)

enum { CHILD_OK = 0, CHILD_NFT = 1, CHILD_SETNS = 2, CHILD_DLOPEN = 3 };

struct nft_api {
	__typeof__(&nft_ctx_new) ctx_new;
	__typeof__(&nft_ctx_buffer_output) buffer_output;
	__typeof__(&nft_ctx_buffer_error) buffer_error;
	__typeof__(&nft_ctx_get_output_buffer) get_output;
	__typeof__(&nft_ctx_get_error_buffer) get_error;
	__typeof__(&nft_run_cmd_from_buffer) run;
};

static bool nft_api_load(struct nft_api *a)
{
	void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return false;
	a->ctx_new = (__typeof__(a->ctx_new))dlsym(h, "nft_ctx_new");
	a->buffer_output = (__typeof__(a->buffer_output))dlsym(h, "nft_ctx_buffer_output");
	a->buffer_error = (__typeof__(a->buffer_error))dlsym(h, "nft_ctx_buffer_error");
	a->get_output = (__typeof__(a->get_output))dlsym(h, "nft_ctx_get_output_buffer");
	a->get_error = (__typeof__(a->get_error))dlsym(h, "nft_ctx_get_error_buffer");
	a->run = (__typeof__(a->run))dlsym(h, "nft_run_cmd_from_buffer");
	return a->ctx_new && a->buffer_output && a->buffer_error && a->get_output && a->get_error &&
	       a->run;
}

static void child_say(int fd, const char *s)
{
	if (s != NULL)
		fs_write_all(fd, s, strlen(s));
}

struct loader_job {
	int netns_fd;
	const char *script;
};

/* In the forked child: never returns. */
static void __attribute__((noreturn)) loader_child(void *arg, int out)
{
	const struct loader_job *job = arg;
	int netns_fd = job->netns_fd;
	const char *script = job->script;
	struct nft_api api;
	char msg[128];
	if (netns_fd >= 0 && ns_enter_net(netns_fd) < 0) {
		snprintf(msg, sizeof(msg), "setns: %s", strerror(errno));
		child_say(out, msg);
		_exit(CHILD_SETNS);
	}
	if (!nft_api_load(&api)) {
		child_say(out, dlerror());
		_exit(CHILD_DLOPEN);
	}
	struct nft_ctx *ctx = api.ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		_exit(CHILD_NFT);
	api.buffer_output(ctx);
	api.buffer_error(ctx);
	int r = api.run(ctx, script);
	child_say(out, r == 0 ? api.get_output(ctx) : api.get_error(ctx));
	_exit(r == 0 ? CHILD_OK : CHILD_NFT);
}

/* nft's error text spans lines (the offending line and a caret line): keep it on one. */
static void one_line(char *s)
{
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	for (char *c = s; *c != '\0'; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	if (len > 600)
		strcpy(s + 597, "...");
}

static int loader_result(int status, char *text, struct bw_error *err)
{
	if (!WIFEXITED(status))
		return bw_fail(err, 0, "nftables loader died (signal %d)", WTERMSIG(status));
	if (WEXITSTATUS(status) == CHILD_OK)
		return 0;
	one_line(text);
	switch (WEXITSTATUS(status)) {
	case CHILD_SETNS:
		return bw_fail(err, 0, "join the sandbox network namespace: %s", text);
	case CHILD_DLOPEN:
		return bw_fail(err, 0, "load libnftables: %s", text);
	default:
		return bw_fail(err, 0, "nftables: %s", text[0] ? text : "failed");
	}
}

int fw_run_script(int netns_fd, const char *script, char **out, struct bw_error *err)
{
	struct loader_job job = {netns_fd, script};
	struct child_spec spec = {.name = "the nftables loader",
				  .fn = loader_child,
				  .arg = &job,
				  .output_max = FW_OUTPUT_MAX};
	struct child_result res;
	if (child_run(&spec, &res, err) < 0)
		return -1;
	_cleanup_free_ char *text = res.output;
	if (loader_result(res.status, text, err) < 0)
		return -1;
	if (out != NULL)
		*out = steal_ptr(&text);
	return 0;
}

/* A local destination of the caller's, unless it lies wholly in what the table handles
 * otherwise: loopback (the sandbox's own), link-local and multicast (the fixed deny list), and
 * 0.0.0.0/8. A shorter prefix that only starts there (0.0.0.0/0 made local) is kept. */
static bool keep_local(const struct pol_cidr *c)
{
	const uint8_t *a = c->addr;
	if (c->family == AF_INET)
		return !((a[0] == 127 && c->prefix >= 8) || (a[0] == 0 && c->prefix >= 8) ||
			 (a[0] == 169 && a[1] == 254 && c->prefix >= 16));
	const struct in6_addr *a6 = (const struct in6_addr *)a;
	return !((IN6_IS_ADDR_LOOPBACK(a6) && c->prefix == 128) ||
		 (IN6_IS_ADDR_LINKLOCAL(a6) && c->prefix >= 10) ||
		 (IN6_IS_ADDR_MULTICAST(a6) && c->prefix >= 8));
}

bool fw_local_route(const struct nlmsghdr *h, struct pol_cidr *c)
{
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return false;
	const struct rtmsg *r = NLMSG_DATA(h);
	size_t alen = r->rtm_family == AF_INET ? 4 : r->rtm_family == AF_INET6 ? 16 : 0;
	if (alen == 0 || (r->rtm_type != RTN_LOCAL && r->rtm_type != RTN_ANYCAST) ||
	    r->rtm_dst_len > alen * 8)
		return false;
	uint32_t table = r->rtm_table;
	bool have_dst = false;
	memset(c, 0, sizeof(*c));
	int left = (int)RTM_PAYLOAD(h);
	for (const struct rtattr *a = RTM_RTA(r); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == sizeof(uint32_t))
			memcpy(&table, RTA_DATA(a), sizeof(table));
		else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == alen) {
			memcpy(c->addr, RTA_DATA(a), alen);
			have_dst = true;
		}
	}
	/* A default local route (0.0.0.0/0 local) has no RTA_DST: all-zero, prefix 0. */
	if (table != RT_TABLE_LOCAL || (!have_dst && r->rtm_dst_len != 0))
		return false;
	c->family = r->rtm_family;
	c->prefix = r->rtm_dst_len;
	return keep_local(c);
}

/* One family's routes of the local table (RTN_LOCAL and RTN_ANYCAST: every address of the
 * caller's, and whole prefixes made local, "AnyIP"), appended to *out. */
static int dump_local(int family, struct pol_cidr **out, size_t *n, struct bw_error *err)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return bw_fail(err, errno, "rtnetlink socket");
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
	} req = {.h = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_GETROUTE,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1},
		 .r = {.rtm_family = (uint8_t)family, .rtm_table = RT_TABLE_LOCAL}};
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return bw_fail(err, errno, "rtnetlink: dump the local routes");
	_cleanup_free_ uint8_t *buf = xmalloc(65536);
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t got = recvfrom(fd, buf, 65536, 0, (struct sockaddr *)&from, &flen);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return bw_fail(err, got < 0 ? errno : EIO,
				       "rtnetlink: read the local routes");
		if (flen != sizeof(from) || from.nl_pid != 0)
			continue;
		int len = (int)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; len > 0 && NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				int code =
				    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EIO;
				return bw_fail(err, code, "rtnetlink: dump the local routes");
			}
			struct pol_cidr c;
			if (!fw_local_route(h, &c))
				continue;
			*out = xrealloc(*out, (*n + 1) * sizeof(c));
			(*out)[(*n)++] = c;
		}
	}
}

int fw_host_addresses(struct pol_cidr **out, size_t *n, struct bw_error *err)
{
	*out = NULL;
	*n = 0;
	if (dump_local(AF_INET, out, n, err) < 0 || dump_local(AF_INET6, out, n, err) < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int fw_apply(int netns_fd, const struct sandbox_policy *p, const struct fw_options *o,
	     struct bw_error *err)
{
	_cleanup_free_ struct pol_cidr *deny = NULL;
	size_t n = 0;
	struct fw_options opts = {0};
	if (o != NULL)
		opts = *o;
	if (fw_host_addresses(&deny, &n, err) < 0)
		return bw_wrap(err, "firewall");
	deny = xrealloc(deny, (n + opts.n_extra_deny + 1) * sizeof(*deny));
	if (opts.n_extra_deny > 0)
		memcpy(deny + n, opts.extra_deny, opts.n_extra_deny * sizeof(*deny));
	opts.extra_deny = deny;
	opts.n_extra_deny = n + opts.n_extra_deny;
	_cleanup_free_ char *script = fw_render(p, &opts);
	if (fw_run_script(netns_fd, script, NULL, err) < 0)
		return bw_wrap(err, "firewall");
	return 0;
}

int fw_pasta_table(int netns_fd, struct bw_error *err)
{
	_cleanup_free_ char *out = NULL;
	struct bw_error e = {0};
	if (fw_run_script(netns_fd, "list table inet " FW_TABLE, &out, &e) < 0) {
		if (strstr(e.msg, "No such file or directory") != NULL)
			return 0; /* no table yet */
		*err = e;
		return bw_wrap(err, "is the sandbox's table a pasta one");
	}
	return strstr(out, "set local4 ") != NULL ? 1 : 0;
}

/* Elements per nft run: a batch of some thousands is too long for one netlink message. */
#define CLOSE_CHUNK 512

int fw_close_local(int netns_fd, struct bw_error *err)
{
	_cleanup_free_ struct pol_cidr *v = NULL;
	size_t n = 0;
	if (fw_host_addresses(&v, &n, err) < 0)
		return bw_wrap(err, "the caller's addresses");
	size_t cap = 128 + CLOSE_CHUNK * (INET6_ADDRSTRLEN + 64);
	_cleanup_free_ char *script = xmalloc(cap);
	for (size_t i = 0; i < n; i += CLOSE_CHUNK) {
		size_t used = 0;
		for (size_t j = i; j < n && j < i + CLOSE_CHUNK; j++) {
			char text[64];
			used += (size_t)snprintf(script + used, cap - used,
						 "add element inet " FW_TABLE " deny%c { %s }\n",
						 v[j].family == AF_INET ? '4' : '6',
						 policy_cidr_str(&v[j], text, sizeof(text)));
		}
		if (fw_run_script(netns_fd, script, NULL, err) < 0)
			return bw_wrap(err, "close the caller's addresses to the sandbox");
	}
	return 0;
}
