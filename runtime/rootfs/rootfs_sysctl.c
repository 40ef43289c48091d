/* linux.sysctl: which keys a container may set (only those its own namespaces isolate), and
 * the write itself, through the private procfs with the opened file checked to be on procfs
 * (CVE-2019-16884, CVE-2025-52881). */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

static const char *const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",	 "kernel.msgmni",
				       "kernel.sem",	"kernel.shmall",	 "kernel.shmmax",
				       "kernel.shmmni", "kernel.shm_rmid_forced"};

/* Keys are dotted ("net.ipv4.ip_forward") or slashed ("net/ipv4/conf/eth0.1/forwarding",
 * needed when a component holds a dot). No empty, "." or ".." component, no odd bytes. */
static bool key_valid(const char *key)
{
	bool slashed = strchr(key, '/') != NULL;
	char sep = slashed ? '/' : '.';
	if (key[0] == '\0' || key[0] == sep || strlen(key) > 256)
		return false;
	for (const char *p = key; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && strchr("_-.:/@+", *p) == NULL)
			return false;
	const char seps[2] = {sep, '\0'}, twice[3] = {sep, sep, '\0'};
	if (strstr(key, twice) != NULL)
		return false; /* an empty component */
	_cleanup_free_ char *copy = xstrdup(key);
	char *save = NULL;
	size_t n = 0;
	for (char *c = strtok_r(copy, seps, &save); c != NULL; c = strtok_r(NULL, seps, &save), n++)
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
			return false;
	return n > 0 && key[strlen(key) - 1] != sep;
}

/* The key in dotted form, for the namespace rules. */
static char *key_dotted(const char *key)
{
	char *d = xstrdup(key);
	if (strchr(d, '/') != NULL)
		for (char *p = d; *p != '\0'; p++)
			if (*p == '/')
				*p = '.';
	return d;
}

bool rootfs_sysctl_allowed(const struct oci_spec *spec, const char *key, struct bw_error *err)
{
	if (key == NULL || !key_valid(key)) {
		bw_fail(err, EINVAL, "linux.sysctl: invalid key `%s`", key ? key : "");
		return false;
	}
	_cleanup_free_ char *d = key_dotted(key);
	enum oci_ns_type need = OCI_NS_NTYPES;
	for (size_t k = 0; k < ARRAY_SIZE(ipc_keys); k++)
		if (strcmp(d, ipc_keys[k]) == 0)
			need = OCI_NS_IPC;
	if (str_has_prefix(d, "fs.mqueue."))
		need = OCI_NS_IPC;
	if (strcmp(d, "kernel.hostname") == 0 || strcmp(d, "kernel.domainname") == 0)
		need = OCI_NS_UTS;
	if (str_has_prefix(d, "net."))
		need = OCI_NS_NETWORK;
	if (need == OCI_NS_NTYPES) {
		bw_fail(err, EPERM,
			"linux.sysctl `%s`: not isolated by any namespace, it would "
			"change the host",
			key);
		return false;
	}
	if (oci_spec_namespace(spec, need) == NULL) {
		bw_fail(err, EPERM,
			"linux.sysctl `%s`: needs a %s namespace, which the container "
			"does not have",
			key, oci_ns_type_name(need));
		return false;
	}
	return true;
}

int rootfs_write_proc_sys(const char *key, const char *value, struct bw_error *err)
{
	if (key == NULL || value == NULL || !key_valid(key))
		return bw_fail(err, EINVAL, "linux.sysctl: invalid key `%s`", key ? key : "");
	int procfd = rootfs_procfd(err);
	if (procfd < 0)
		return bw_wrap(err, "linux.sysctl `%s`", key);
	_cleanup_free_ char *path = xasprintf("sys/%s", key);
	if (strchr(key, '/') == NULL)
		for (char *p = path; *p != '\0'; p++)
			if (*p == '.')
				*p = '/';
	struct open_how how = {
	    .flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, procfd, path, &how, sizeof(how));
	if (fd < 0)
		return bw_fail(err, errno, "linux.sysctl `%s`: open /proc/%s", key, path);
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return bw_fail(err, EXDEV, "linux.sysctl `%s`: /proc/%s is not on procfs", key,
			       path);
	int r = fs_write_all(fd, value, strlen(value));
	if (r < 0)
		return bw_fail(err, -r, "linux.sysctl `%s`: write `%s`", key, value);
	return 0;
}
