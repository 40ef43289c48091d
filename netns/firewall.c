/* Loading nft scripts into a sandbox's network namespace: a forked child joins the namespace
 * (the runtime's own threads never change namespace) and runs the script through libnftables,
 * dlopen'd there so the runtime binary does not link it. Also: the host addresses that join
 * the deny list. */
#include "netns/firewall.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* In the forked child: never returns. */
static void __attribute__((noreturn)) child_run(int netns_fd, const char *script, int out)
{
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

static int child_result(int status, char *text, struct bw_error *err)
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
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return bw_fail(err, errno, "fork the nftables loader");
	}
	if (pid == 0) {
		close(pfd[0]);
		child_run(netns_fd, script, pfd[1]);
	}
	close(pfd[1]);
	_cleanup_close_ int rfd = pfd[0];
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct bw_error rerr = {0};
	int rr = fs_read_fd(rfd, FW_OUTPUT_MAX, &text, &len, &rerr);
	if (rr < 0)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "wait for the nftables loader");
	if (rr < 0) {
		*err = rerr;
		return bw_wrap(err, "nftables loader output");
	}
	if (child_result(status, text, err) < 0)
		return -1;
	if (out != NULL)
		*out = steal_ptr(&text);
	return 0;
}

static bool keep_host_address(const struct sockaddr *sa, struct pol_cidr *c)
{
	memset(c, 0, sizeof(*c));
	if (sa->sa_family == AF_INET) {
		const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (a[0] == 127 || (a[0] == 169 && a[1] == 254) || a[0] == 0)
			return false;
		memcpy(c->addr, a, 4);
		c->prefix = 32;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a))
			return false;
		memcpy(c->addr, a, 16);
		c->prefix = 128;
	} else {
		return false;
	}
	c->family = sa->sa_family;
	return true;
}

int fw_host_addresses(struct pol_cidr **out, size_t *n, struct bw_error *err)
{
	struct ifaddrs *ifa = NULL;
	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return bw_fail(err, errno, "getifaddrs");
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		struct pol_cidr c;
		if (i->ifa_addr == NULL || !keep_host_address(i->ifa_addr, &c))
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(c));
		(*out)[(*n)++] = c;
	}
	freeifaddrs(ifa);
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

int fw_pasta_table(int netns_fd)
{
	struct bw_error e = {0};
	return fw_run_script(netns_fd, "list set inet " FW_TABLE " local4", NULL, &e) == 0;
}

int fw_close_local(int netns_fd, struct bw_error *err)
{
	_cleanup_free_ struct pol_cidr *v = NULL;
	size_t n = 0;
	if (fw_host_addresses(&v, &n, err) < 0)
		return bw_wrap(err, "the caller's addresses");
	if (n == 0)
		return 0;
	size_t cap = 64 + n * (INET6_ADDRSTRLEN + 64);
	_cleanup_free_ char *script = xmalloc(cap);
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		char text[INET6_ADDRSTRLEN];
		if (inet_ntop(v[i].family, v[i].addr, text, sizeof(text)) == NULL)
			continue;
		used += (size_t)snprintf(script + used, cap - used,
					 "add element inet " FW_TABLE " local%c { %s }\n",
					 v[i].family == AF_INET ? '4' : '6', text);
	}
	if (fw_run_script(netns_fd, script, NULL, err) < 0)
		return bw_wrap(err, "close the caller's addresses to the sandbox");
	return 0;
}
