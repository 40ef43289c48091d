/* Namespace type tables and the checked opening of namespace paths given in config.json. */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	int flag;
	const char *proc;
} ns_table[OCI_NS_NTYPES] = {
    [OCI_NS_PID] = {CLONE_NEWPID, "pid"},	   [OCI_NS_NETWORK] = {CLONE_NEWNET, "net"},
    [OCI_NS_MOUNT] = {CLONE_NEWNS, "mnt"},	   [OCI_NS_IPC] = {CLONE_NEWIPC, "ipc"},
    [OCI_NS_UTS] = {CLONE_NEWUTS, "uts"},	   [OCI_NS_USER] = {CLONE_NEWUSER, "user"},
    [OCI_NS_CGROUP] = {CLONE_NEWCGROUP, "cgroup"}, [OCI_NS_TIME] = {CLONE_NEWTIME, "time"},
};

int ns_clone_flag(enum oci_ns_type t)
{
	return ns_table[t].flag;
}

const char *ns_proc_name(enum oci_ns_type t)
{
	return ns_table[t].proc;
}

int ns_open_path(enum oci_ns_type t, const char *path, const char *field, struct bw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bw_fail(err, errno, "%s: open namespace `%s`", field, path);
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return bw_fail(err, errno == ENOTTY ? 0 : errno, "%s: `%s` is not a namespace file",
			       field, path);
	if (type != ns_table[t].flag)
		return bw_fail(err, 0, "%s: `%s` is not a %s namespace", field, path,
			       oci_ns_type_name(t));
	return steal_fd(&fd);
}

int ns_differing_flags(pid_t pid, int *flags, struct bw_error *err)
{
	*flags = 0;
	for (int t = 0; t < OCI_NS_NTYPES; t++) {
		char path[64];
		struct stat a, b;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_table[t].proc);
		if (stat(path, &a) < 0) {
			if (errno == ENOENT)
				continue; /* kernel without this namespace type */
			return bw_fail(err, errno, "stat `%s`", path);
		}
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_table[t].proc);
		if (stat(path, &b) < 0)
			return bw_fail(err, errno, "stat `%s`", path);
		if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			*flags |= ns_table[t].flag;
	}
	return 0;
}

int ns_loopback_up(struct bw_error *err)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return bw_fail(err, errno, "loopback: socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return bw_fail(err, errno, "loopback: get flags");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return bw_fail(err, errno, "loopback: bring up");
	return 0;
}

static int owner_userns = -1;

void ns_set_owner_userns(int userns_fd)
{
	owner_userns = userns_fd;
}

bool ns_owner_userns_set(void)
{
	return owner_userns >= 0;
}

int ns_enter_net(int netns_fd)
{
	if (owner_userns >= 0 && setns(owner_userns, CLONE_NEWUSER) < 0)
		return -1;
	return setns(netns_fd, CLONE_NEWNET);
}
