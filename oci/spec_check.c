/* Rules that span several members of config.json: namespaces versus id mappings, time
 * offsets, hostname and sysctls. A sysctl that no namespace of the container isolates would
 * change the host, so it is refused here rather than discovered in the init. */
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/spec_internal.h"

static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",		"kernel.sem", "kernel.shmall",
    "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
static const char *const uts_sysctls[] = {"kernel.hostname", "kernel.domainname", NULL};

static int check_user_ns(struct jp *p, const struct oci_spec *spec)
{
	const struct oci_linux *l = &spec->linux;
	const struct oci_namespace *user = oci_spec_namespace(spec, OCI_NS_USER);
	if (user == NULL) {
		if (l->n_uid_mappings > 0)
			return jp_fail_at(p, "linux.uidMappings", "requires a user namespace");
		if (l->n_gid_mappings > 0)
			return jp_fail_at(p, "linux.gidMappings", "requires a user namespace");
		return 0;
	}
	if (user->path != NULL)
		return 0;
	if (l->n_uid_mappings == 0)
		return jp_fail_at(p, "linux.uidMappings", "required for a new user namespace");
	if (l->n_gid_mappings == 0)
		return jp_fail_at(p, "linux.gidMappings", "required for a new user namespace");
	return 0;
}

/* Offsets can only be written before the first process enters the namespace. */
static int check_time_ns(struct jp *p, const struct oci_spec *spec)
{
	const struct oci_namespace *t = oci_spec_namespace(spec, OCI_NS_TIME);
	bool offsets = spec->linux.time_monotonic.set || spec->linux.time_boottime.set;
	if (offsets && (t == NULL || t->path != NULL))
		return jp_fail_at(p, "linux.timeOffsets", "requires a new time namespace");
	return 0;
}

static int check_uts(struct jp *p, const struct oci_spec *spec)
{
	bool uts = oci_spec_namespace(spec, OCI_NS_UTS) != NULL;
	if (!uts && spec->hostname != NULL && spec->hostname[0] != '\0')
		return jp_fail_at(p, "hostname", "requires a UTS namespace");
	if (!uts && spec->domainname != NULL && spec->domainname[0] != '\0')
		return jp_fail_at(p, "domainname", "requires a UTS namespace");
	return 0;
}

/* The namespace that isolates a sysctl, or -1 when none does. */
static int sysctl_namespace(const char *key)
{
	_cleanup_free_ char *dotted = xstrdup(key);
	if (strchr(key, '/') != NULL)
		for (char *c = dotted; *c != '\0'; c++)
			if (*c == '/')
				*c = '.';
	if (str_has_prefix(dotted, "net."))
		return OCI_NS_NETWORK;
	if (str_has_prefix(dotted, "fs.mqueue.") || strv_contains((char **)ipc_sysctls, dotted))
		return OCI_NS_IPC;
	if (strv_contains((char **)uts_sysctls, dotted))
		return OCI_NS_UTS;
	return -1;
}

/* kernel.hostname has its own field in the spec (refused by runc and crun alike); a
 * kernel.domainname other than the spec's domainname would silently override it (crun). */
static const char *sysctl_conflict(const struct oci_spec *spec, const struct oci_kv *kv)
{
	_cleanup_free_ char *dotted = xstrdup(kv->key);
	for (char *c = dotted; *c != '\0'; c++)
		if (*c == '/')
			*c = '.';
	if (strcmp(dotted, "kernel.hostname") == 0)
		return "hostname";
	if (strcmp(dotted, "kernel.domainname") == 0 && spec->domainname != NULL &&
	    spec->domainname[0] != '\0' && strcmp(kv->value, spec->domainname) != 0)
		return "domainname";
	return NULL;
}

static int check_sysctls(struct jp *p, const struct oci_spec *spec)
{
	for (size_t i = 0; i < spec->linux.n_sysctl; i++) {
		const char *key = spec->linux.sysctl[i].key;
		const char *field = sysctl_conflict(spec, &spec->linux.sysctl[i]);
		int ns = sysctl_namespace(key);
		if (field == NULL && ns >= 0 &&
		    oci_spec_namespace(spec, (enum oci_ns_type)ns) != NULL)
			continue;
		size_t mark = jp_key(p, "linux.sysctl");
		jp_mapkey(p, key);
		if (field != NULL)
			jp_fail(p, "conflicts with the field \"%s\" (set that instead)", field);
		else if (ns < 0)
			jp_fail(p, "not isolated by any namespace (it would change the host)");
		else
			jp_fail(p, "requires a%s %s namespace", ns == OCI_NS_IPC ? "n" : "",
				ns == OCI_NS_UTS   ? "UTS"
				: ns == OCI_NS_IPC ? "IPC"
						   : "network");
		jp_pop(p, mark);
		return -1;
	}
	return 0;
}

int oci_check_cross(struct jp *p, const struct oci_spec *spec)
{
	if (check_user_ns(p, spec) < 0 || check_time_ns(p, spec) < 0 || check_uts(p, spec) < 0 ||
	    check_sysctls(p, spec) < 0)
		return -1;
	return 0;
}
