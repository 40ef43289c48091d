/* veth, addresses and routes through libnl; the sandbox side is configured from a child that
 * joined the namespace; the host's NAT table through firewall.c's nft loader. Allocation of
 * the /30 is serialised by a lock file: concurrent creates must not pick the same subnet. */
#include "netns/plumb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "netns/firewall.h"

#define POOL_BASE 0x0ad50000u /* 10.213.0.0 */
#define POOL_SLOTS 16384u

void plumb_ifname(const char *id, char out[16])
{
	uint64_t h = 14695981039346656037ull;
	for (const char *c = id; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	snprintf(out, 16, "bw-%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

static struct nl_sock *nl_open(struct bw_error *err)
{
	struct nl_sock *s = nl_socket_alloc();
	if (s == NULL) {
		bw_fail(err, ENOMEM, "netlink socket");
		return NULL;
	}
	int r = nl_connect(s, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(s);
		bw_fail(err, 0, "netlink connect: %s", nl_geterror(r));
		return NULL;
	}
	return s;
}

/* The lowest /30 of the pool that no interface of the host uses. */
static int pick_slot(uint32_t *slot, struct bw_error *err)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return bw_fail(err, errno, "getifaddrs");
	static uint8_t used[POOL_SLOTS / 8];
	memset(used, 0, sizeof(used));
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		if ((a & 0xffff0000u) == POOL_BASE)
			used[((a & 0xffff) >> 2) / 8] |= (uint8_t)(1 << (((a & 0xffff) >> 2) % 8));
	}
	freeifaddrs(ifa);
	for (uint32_t s = 0; s < POOL_SLOTS; s++)
		if (!(used[s / 8] & (1 << (s % 8)))) {
			*slot = s;
			return 0;
		}
	return bw_fail(err, ENOSPC, "address pool " PLUMB_POOL " exhausted");
}

static int add_addr(struct nl_sock *s, int ifindex, uint32_t ip, struct bw_error *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &ip, 4);
	nl_addr_set_prefixlen(local, 30);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	int r = rtnl_addr_add(s, a, 0);
	nl_addr_put(local);
	rtnl_addr_put(a);
	if (r < 0)
		return bw_fail(err, 0, "add address: %s", nl_geterror(r));
	return 0;
}

static int link_up(struct nl_sock *s, const char *name, int *ifindex, struct bw_error *err)
{
	struct rtnl_link *l = NULL, *change = rtnl_link_alloc();
	int r = rtnl_link_get_kernel(s, 0, name, &l);
	if (r == 0) {
		*ifindex = rtnl_link_get_ifindex(l);
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(s, l, change, 0);
	}
	rtnl_link_put(change);
	if (l != NULL)
		rtnl_link_put(l);
	if (r < 0)
		return bw_fail(err, 0, "bring `%s` up: %s", name, nl_geterror(r));
	return 0;
}

static int add_default_route(struct nl_sock *s, int ifindex, uint32_t gw, struct bw_error *err)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(AF_INET, &(uint32_t){0}, 4);
	struct nl_addr *via = nl_addr_build(AF_INET, &gw, 4);
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(rt, nh);
	int r = rtnl_route_add(s, rt, NLM_F_CREATE);
	nl_addr_put(dst);
	nl_addr_put(via);
	rtnl_route_put(rt);
	if (r < 0)
		return bw_fail(err, 0, "add default route: %s", nl_geterror(r));
	return 0;
}

/* In a child that joined the sandbox's namespace: eth0 up with its address and route. */
static int sandbox_side(int netns_fd, const struct plumb_info *pi, struct bw_error *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return bw_fail(err, errno, "fork");
	if (pid == 0) {
		struct bw_error e = {0};
		int ifindex = 0;
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(2);
		struct nl_sock *s = nl_open(&e);
		if (s == NULL || link_up(s, "eth0", &ifindex, &e) < 0 ||
		    add_addr(s, ifindex, pi->sandbox_ip, &e) < 0 ||
		    add_default_route(s, ifindex, pi->host_ip, &e) < 0)
			_exit(1);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return bw_fail(err, 0, "configure the sandbox end of the veth pair (status %d)",
			       status);
	return 0;
}

static int create_pair(struct nl_sock *s, const char *host_if, int netns_fd, struct bw_error *err)
{
	struct rtnl_link *veth = rtnl_link_veth_alloc();
	if (veth == NULL)
		return bw_fail(err, ENOMEM, "veth");
	struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host_if);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, netns_fd);
	int r = rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(veth);
	if (r < 0)
		return bw_fail(err, 0, "create veth pair `%s`: %s", host_if, nl_geterror(r));
	return 0;
}

/* ip_forward as the host had it before the first sandbox needed it; restored with the last. */
#define PLUMB_FORWARD_SAVE "/run/bulwark-net.ip_forward"

static int enable_forwarding(struct bw_error *err)
{
	char *old = NULL;
	if (access(PLUMB_FORWARD_SAVE, F_OK) != 0 &&
	    fs_read_file("/proc/sys/net/ipv4/ip_forward", 16, &old, NULL, err) == 0) {
		old[strcspn(old, "\n")] = '\0';
		int r = fs_write_atomic(PLUMB_FORWARD_SAVE, old, strlen(old), 0600, err);
		free(old);
		if (r < 0)
			return -1;
	}
	return fs_write_file("/proc/sys/net/ipv4/ip_forward", "1", err);
}

static int restore_forwarding(struct bw_error *err)
{
	char *old = NULL;
	if (fs_read_file(PLUMB_FORWARD_SAVE, 16, &old, NULL, err) < 0) {
		if (err->code != ENOENT)
			return -1;
		bw_error_clear(err);
		return 0;
	}
	int r = 0;
	if (strcmp(old, "0") == 0 || strcmp(old, "1") == 0)
		r = fs_write_file("/proc/sys/net/ipv4/ip_forward", old, err);
	free(old);
	unlink(PLUMB_FORWARD_SAVE);
	return r;
}

/* Sandboxes reach the world through NAT but neither each other nor the host's services. */
static int nat_table(struct bw_error *err)
{
	static const char script[] =
	    "table ip " PLUMB_NAT_TABLE " {\n"
	    "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	    "\t\tip saddr " PLUMB_POOL " oifname != \"bw-*\" masquerade\n\t}\n"
	    "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
	    "\t\tiifname \"bw-*\" oifname \"bw-*\" drop\n\t}\n"
	    "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
	    "\t\tiifname \"bw-*\" ct state established,related accept\n"
	    "\t\tiifname \"bw-*\" drop\n\t}\n}\n";
	if (fw_run_script(-1, script, NULL, err) < 0)
		return bw_wrap(err, "host NAT table");
	return enable_forwarding(err);
}

static int plumb_up_locked(const char *id, int netns_fd, struct plumb_info *pi,
			   struct bw_error *err)
{
	uint32_t slot = 0;
	int ifindex = 0;
	if (pick_slot(&slot, err) < 0)
		return -1;
	pi->host_ip = htonl(POOL_BASE + slot * 4 + 1);
	pi->sandbox_ip = htonl(POOL_BASE + slot * 4 + 2);
	plumb_ifname(id, pi->host_if);
	struct nl_sock *s = nl_open(err);
	if (s == NULL)
		return -1;
	int r = create_pair(s, pi->host_if, netns_fd, err);
	if (r == 0)
		r = add_addr(s, (int)if_nametoindex(pi->host_if), pi->host_ip, err);
	if (r == 0)
		r = link_up(s, pi->host_if, &ifindex, err);
	nl_socket_free(s);
	if (r == 0)
		r = sandbox_side(netns_fd, pi, err);
	if (r == 0)
		r = nat_table(err);
	return r;
}

static int lock_pool(struct bw_error *err)
{
	int fd = open(PLUMB_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", PLUMB_LOCK);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return bw_fail(err, errno, "lock `%s`", PLUMB_LOCK);
	}
	return fd;
}

int plumb_up(const char *id, int netns_fd, struct plumb_info *out, struct bw_error *err)
{
	_cleanup_close_ int lock = lock_pool(err);
	if (lock < 0)
		return -1;
	if (plumb_up_locked(id, netns_fd, out, err) < 0) {
		struct bw_error e2 = {0};
		plumb_down(id, &e2);
		return bw_wrap(err, "network plumbing");
	}
	return 0;
}

static bool any_sandbox_left(void)
{
	struct if_nameindex *ni = if_nameindex();
	bool any = false;
	for (struct if_nameindex *i = ni; i != NULL && i->if_index != 0; i++)
		any |= strncmp(i->if_name, "bw-", 3) == 0;
	if (ni != NULL)
		if_freenameindex(ni);
	return any;
}

int plumb_down(const char *id, struct bw_error *err)
{
	char name[16];
	plumb_ifname(id, name);
	struct nl_sock *s = nl_open(err);
	if (s == NULL)
		return -1;
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(s, 0, name, &l);
	if (r == 0) {
		r = rtnl_link_delete(s, l);
		rtnl_link_put(l);
	} else if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV) {
		r = 0;
	}
	nl_socket_free(s);
	if (r < 0)
		return bw_fail(err, 0, "delete `%s`: %s", name, nl_geterror(r));
	if (!any_sandbox_left()) {
		if (fw_run_script(-1,
				  "add table ip " PLUMB_NAT_TABLE
				  "\ndelete table ip " PLUMB_NAT_TABLE "\n",
				  NULL, err) < 0)
			return -1;
		return restore_forwarding(err);
	}
	return 0;
}
