/* config.json "linux": namespaces, id mappings, time offsets, devices, sysctl, paths and the
 * small knobs; resources and seccomp have their own files. Fields bulwark cannot honour
 * (SELinux, Intel RDT, net devices) are refused by name, never dropped. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/spec_internal.h"

static const char *const propagations[] = {"shared",	 "slave",	"private",
					   "unbindable", "rshared",	"rslave",
					   "rprivate",	 "runbindable", NULL};
static const char *const mpol_modes[] = {
    "MPOL_DEFAULT",   "MPOL_BIND",	     "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",	NULL};
static const char *const mpol_flags[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
					 "MPOL_F_STATIC_NODES", NULL};

static bool in_list(const char *const *list, const char *s)
{
	return strv_contains((char *const *)list, s);
}

/* An empty optional string means the same as an absent one. */
static void drop_empty(char **s)
{
	if (*s != NULL && (*s)[0] == '\0') {
		free(*s);
		*s = NULL;
	}
}

static int parse_namespace(struct jp *p, yajl_val v, void *elem)
{
	struct oci_namespace *ns = elem;
	_cleanup_free_ char *type = NULL;
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, "type", &type) < 0 || oj_f_string(p, v, "path", &ns->path) < 0)
		return -1;
	if (type == NULL)
		return jp_fail_at(p, "type", "required");
	int t = oci_ns_type_from_name(type);
	if (t < 0)
		return jp_fail_at(p, "type", "unknown namespace type %s", jp_quote(q, type));
	ns->type = (enum oci_ns_type)t;
	drop_empty(&ns->path);
	if (ns->path != NULL && !oci_path_is_abs(ns->path))
		return jp_fail_at(p, "path", "must be an absolute path");
	return 0;
}

static int parse_namespaces(struct jp *p, yajl_val v, struct oci_linux *l)
{
	if (oj_f_objects(p, v, "namespaces", sizeof(struct oci_namespace), 0,
			 (void **)&l->namespaces, &l->n_namespaces, parse_namespace) < 0)
		return -1;
	for (size_t i = 1; i < l->n_namespaces; i++)
		for (size_t j = 0; j < i; j++) {
			if (l->namespaces[i].type != l->namespaces[j].type)
				continue;
			size_t mark = jp_key(p, "namespaces");
			jp_idx(p, i);
			jp_fail_at(p, "type", "duplicate \"%s\"",
				   oci_ns_type_name(l->namespaces[i].type));
			jp_pop(p, mark);
			return -1;
		}
	return 0;
}

/* The kernel's rules for uid_map/gid_map lines, so a bad map fails before anything runs. */
static int parse_id_mapping(struct jp *p, yajl_val v, void *elem)
{
	struct oci_id_mapping *m = elem;
	if (oj_f_u32(p, v, "containerID", &m->container_id, NULL) < 0 ||
	    oj_f_u32(p, v, "hostID", &m->host_id, NULL) < 0 ||
	    oj_f_u32(p, v, "size", &m->size, NULL) < 0)
		return -1;
	if (m->size == 0)
		return jp_fail_at(p, "size", "must be > 0");
	if ((uint64_t)m->container_id + m->size > UINT32_MAX)
		return jp_fail(p, "containerID + size must be <= %u", UINT32_MAX);
	if ((uint64_t)m->host_id + m->size > UINT32_MAX)
		return jp_fail(p, "hostID + size must be <= %u", UINT32_MAX);
	return 0;
}

static bool ranges_overlap(uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b)
{
	return (uint64_t)a < (uint64_t)b + size_b && (uint64_t)b < (uint64_t)a + size_a;
}

int oci_parse_id_mappings(struct jp *p, yajl_val obj, const char *key, struct oci_id_mapping **out,
			  size_t *n)
{
	if (oj_f_objects(p, obj, key, sizeof(struct oci_id_mapping), OCI_MAX_ID_MAPPINGS,
			 (void **)out, n, parse_id_mapping) < 0)
		return -1;
	const struct oci_id_mapping *m = *out;
	for (size_t i = 1; i < *n; i++)
		for (size_t j = 0; j < i; j++) {
			if (!ranges_overlap(m[i].container_id, m[j].container_id, m[i].size,
					    m[j].size) &&
			    !ranges_overlap(m[i].host_id, m[j].host_id, m[i].size, m[j].size))
				continue;
			size_t mark = jp_key(p, key);
			jp_idx(p, i);
			jp_fail(p, "overlaps entry %zu", j);
			jp_pop(p, mark);
			return -1;
		}
	return 0;
}

static int parse_time_offset(struct jp *p, yajl_val v, void *out)
{
	struct oci_time_offset *t = out;
	if (oj_f_i64(p, v, "secs", INT64_MIN, INT64_MAX, &t->secs, NULL) < 0 ||
	    oj_f_u32(p, v, "nanosecs", &t->nanosecs, NULL) < 0)
		return -1;
	if (t->nanosecs > 999999999)
		return jp_fail_at(p, "nanosecs", "must be <= 999999999");
	t->set = true;
	return 0;
}

static int parse_time_offsets(struct jp *p, yajl_val obj, struct oci_linux *l)
{
	yajl_val v = NULL;
	char q[JP_QUOTE_MAX];
	if (oj_f_value(p, obj, "timeOffsets", yajl_t_object, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t mark = jp_key(p, "timeOffsets");
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *clock = v->u.object.keys[i];
		if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0) {
			jp_mapkey(p, clock);
			return jp_fail(p, "unknown clock %s (expected monotonic or boottime)",
				       jp_quote(q, clock));
		}
	}
	if (oci_parse_member(p, v, "monotonic", &l->time_monotonic, parse_time_offset) < 0 ||
	    oci_parse_member(p, v, "boottime", &l->time_boottime, parse_time_offset) < 0)
		return -1;
	jp_pop(p, mark);
	return 0;
}

static int check_device_path(struct jp *p, struct oci_device *d)
{
	if (d->path == NULL)
		return jp_fail_at(p, "path", "required");
	if (!oci_path_is_abs(d->path))
		return jp_fail_at(p, "path", "must be an absolute path");
	char *clean = fs_path_clean(d->path);
	free(d->path);
	d->path = clean;
	if (strcmp(clean, "/dev") == 0 || strcmp(clean, "/") == 0)
		return jp_fail_at(p, "path", "must not be %s", clean);
	return 0;
}

static int parse_device(struct jp *p, yajl_val v, void *elem)
{
	struct oci_device *d = elem;
	_cleanup_free_ char *type = NULL;
	bool has_major = false, has_minor = false;
	uint64_t mode = 0, uid = 0, gid = 0;
	if (oj_f_string(p, v, "type", &type) < 0 || oj_f_string(p, v, "path", &d->path) < 0 ||
	    oj_f_i64(p, v, "major", 0, UINT32_MAX, &d->major, &has_major) < 0 ||
	    oj_f_i64(p, v, "minor", 0, UINT32_MAX, &d->minor, &has_minor) < 0 ||
	    oj_f_u64(p, v, "fileMode", UINT32_MAX, &mode, &d->file_mode_set) < 0 ||
	    oj_f_u64(p, v, "uid", OCI_ID_MAX, &uid, &d->uid_set) < 0 ||
	    oj_f_u64(p, v, "gid", OCI_ID_MAX, &gid, &d->gid_set) < 0)
		return -1;
	d->uid = (uint32_t)uid; /* chown reads (uid_t)-1 as "unchanged" */
	d->gid = (uint32_t)gid;
	if (type == NULL || strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
		return jp_fail_at(p, "type", "must be one of c, b, u, p");
	d->type = type[0];
	/* Podman sends st_mode as is (S_IFCHR|0666): the file-type bits are accepted when they
	 * agree with "type", and dropped. */
	uint64_t fmt = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	if ((mode & ~(uint64_t)07777) != 0 && (mode & ~(uint64_t)07777) != fmt)
		return jp_fail_at(p, "fileMode",
				  "must be permission bits (<= 07777), optionally with the file "
				  "type of \"type\"");
	d->file_mode = (uint32_t)(mode & 07777);
	if (check_device_path(p, d) < 0)
		return -1;
	if (d->type != 'p' && !has_major)
		return jp_fail_at(p, "major", "required for type %c", d->type);
	if (d->type != 'p' && !has_minor)
		return jp_fail_at(p, "minor", "required for type %c", d->type);
	return 0;
}

static int check_abs_paths(struct jp *p, const char *key, char **paths)
{
	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
		if (oci_path_is_abs(paths[i]))
			continue;
		size_t mark = jp_key(p, key);
		jp_idx(p, i);
		jp_fail(p, "must be an absolute path");
		jp_pop(p, mark);
		return -1;
	}
	return 0;
}

/* Keys name files under /proc/sys: dotted ("net.ipv4.ip_forward") or, when they hold a '/',
 * slashed with literal dots ("net/ipv4/conf/eth0.100/forwarding"). Neither may climb out. */
static int check_sysctl_key(struct jp *p, const char *key)
{
	if (key[0] == '\0')
		return jp_fail(p, "key must not be empty");
	char sep = strchr(key, '/') != NULL ? '/' : '.';
	for (const char *c = key;;) {
		const char *end = strchr(c, sep);
		size_t n = end != NULL ? (size_t)(end - c) : strlen(c);
		if (n == 0)
			return jp_fail(p, "key has an empty component");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return jp_fail(p, "key must not contain \".\" or \"..\" components");
		if (end == NULL)
			return 0;
		c = end + 1;
	}
}

static int parse_personality(struct jp *p, yajl_val v, void *out)
{
	struct oci_personality *pers = out;
	char q[JP_QUOTE_MAX];
	pers->set = true;
	if (oj_f_string(p, v, "domain", &pers->domain) < 0 ||
	    oj_f_strv(p, v, "flags", &pers->flags) < 0)
		return -1;
	if (pers->domain == NULL)
		return jp_fail_at(p, "domain", "required");
	if (strcmp(pers->domain, "LINUX") != 0 && strcmp(pers->domain, "LINUX32") != 0)
		return jp_fail_at(p, "domain", "unknown domain %s (expected LINUX or LINUX32)",
				  jp_quote(q, pers->domain));
	if (strv_len(pers->flags) > 0)
		return jp_fail_at(p, "flags", "must be empty");
	return 0;
}

static int check_mpol_flags(struct jp *p, struct oci_memory_policy *m)
{
	char q[JP_QUOTE_MAX];
	for (size_t i = 0; m->flags != NULL && m->flags[i] != NULL; i++)
		if (!in_list(mpol_flags, m->flags[i])) {
			size_t mark = jp_key(p, "flags");
			jp_idx(p, i);
			jp_fail(p, "unknown flag %s", jp_quote(q, m->flags[i]));
			jp_pop(p, mark);
			return -1;
		}
	if (strv_contains(m->flags, "MPOL_F_STATIC_NODES") &&
	    strv_contains(m->flags, "MPOL_F_RELATIVE_NODES"))
		return jp_fail_at(p, "flags",
				  "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are exclusive");
	return 0;
}

static int parse_memory_policy(struct jp *p, yajl_val v, void *out)
{
	struct oci_memory_policy *m = out;
	char q[JP_QUOTE_MAX];
	m->set = true;
	if (oj_f_string(p, v, "mode", &m->mode) < 0 ||
	    oci_parse_cpu_list(p, v, "nodes", &m->nodes) < 0 ||
	    oj_f_strv(p, v, "flags", &m->flags) < 0)
		return -1;
	if (m->mode == NULL)
		return jp_fail_at(p, "mode", "required");
	if (!in_list(mpol_modes, m->mode))
		return jp_fail_at(p, "mode", "unknown mode %s", jp_quote(q, m->mode));
	bool nodeless = strcmp(m->mode, "MPOL_DEFAULT") == 0 || strcmp(m->mode, "MPOL_LOCAL") == 0;
	if (nodeless && m->nodes != NULL)
		return jp_fail_at(p, "nodes", "must be empty for %s", m->mode);
	/* MPOL_PREFERRED without nodes means "local"; the others need a node set */
	if (!nodeless && strcmp(m->mode, "MPOL_PREFERRED") != 0 && m->nodes == NULL)
		return jp_fail_at(p, "nodes", "required for %s", m->mode);
	return check_mpol_flags(p, m);
}

static int parse_resources_member(struct jp *p, yajl_val v, void *out)
{
	struct oci_linux *l = out;
	l->has_resources = true;
	return oci_parse_resources(p, v, &l->resources);
}

static int seccomp_member(struct jp *p, yajl_val v, void *out)
{
	struct oci_linux *l = out;
	l->seccomp = xcalloc(1, sizeof(*l->seccomp));
	return oci_parse_seccomp(p, v, l->seccomp);
}

/* Refused rather than ignored: the user asked for a protection we cannot give. */
static int refuse_unsupported(struct jp *p, yajl_val v, struct oci_linux *l)
{
	yajl_val nd = NULL;
	if (oj_f_string(p, v, "mountLabel", &l->mount_label) < 0)
		return -1;
	if (l->mount_label != NULL && l->mount_label[0] != '\0')
		return jp_fail_at(p, "mountLabel", "SELinux is not supported");
	drop_empty(&l->mount_label);
	if (oj_get(v, "intelRdt") != NULL)
		return jp_fail_at(p, "intelRdt", "not supported");
	if (oj_f_value(p, v, "netDevices", yajl_t_object, &nd) < 0)
		return -1;
	if (nd != NULL && nd->u.object.len > 0)
		return jp_fail_at(p, "netDevices", "not supported");
	return 0;
}

static int parse_paths(struct jp *p, yajl_val v, struct oci_linux *l)
{
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, "cgroupsPath", &l->cgroups_path) < 0 ||
	    oj_f_string(p, v, "rootfsPropagation", &l->rootfs_propagation) < 0 ||
	    oj_f_strv(p, v, "maskedPaths", &l->masked_paths) < 0 ||
	    oj_f_strv(p, v, "readonlyPaths", &l->readonly_paths) < 0)
		return -1;
	drop_empty(&l->cgroups_path);
	if (l->cgroups_path != NULL && oci_path_has_dotdot(l->cgroups_path))
		return jp_fail_at(p, "cgroupsPath", "must not contain \"..\"");
	drop_empty(&l->rootfs_propagation);
	if (l->rootfs_propagation != NULL && !in_list(propagations, l->rootfs_propagation))
		return jp_fail_at(p, "rootfsPropagation", "unknown propagation %s",
				  jp_quote(q, l->rootfs_propagation));
	if (check_abs_paths(p, "maskedPaths", l->masked_paths) < 0 ||
	    check_abs_paths(p, "readonlyPaths", l->readonly_paths) < 0)
		return -1;
	return 0;
}

int oci_parse_linux(struct jp *p, yajl_val v, struct oci_linux *l)
{
	if (parse_namespaces(p, v, l) < 0 ||
	    oci_parse_id_mappings(p, v, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
	    oci_parse_id_mappings(p, v, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
	    parse_time_offsets(p, v, l) < 0 ||
	    oj_f_objects(p, v, "devices", sizeof(struct oci_device), 0, (void **)&l->devices,
			 &l->n_devices, parse_device) < 0 ||
	    oci_parse_member(p, v, "resources", l, parse_resources_member) < 0 ||
	    oj_f_string_map(p, v, "sysctl", &l->sysctl, &l->n_sysctl, check_sysctl_key) < 0 ||
	    oci_parse_member(p, v, "seccomp", l, seccomp_member) < 0 || parse_paths(p, v, l) < 0 ||
	    oci_parse_member(p, v, "personality", &l->personality, parse_personality) < 0 ||
	    oci_parse_member(p, v, "memoryPolicy", &l->memory_policy, parse_memory_policy) < 0 ||
	    refuse_unsupported(p, v, l) < 0)
		return -1;
	return 0;
}
