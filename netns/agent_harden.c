/* The network agent daemon's hardening: every other fd closed, capabilities down to
 * CAP_NET_ADMIN (for the set updates), no new privileges, Landlock: no file access, TCP connect
 * to port 53 only. */
#include "netns/agent.h"
#include "netns/agent_internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "common/cleanup.h"

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
int agent_harden_landlock(struct bw_error *err)
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
int agent_harden_caps(struct bw_error *err)
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
void agent_close_others(struct agent *a, int sync_fd)
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
