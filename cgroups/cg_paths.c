/* Where cgroups are: controller names, hierarchy discovery from mountinfo, the caller's own
 * cgroup from /proc/self/cgroup, and linux.cgroupsPath resolution. All pure: text in, data out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

static const char *const v1_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",		[CG_CPUACCT] = "cpuacct",
    [CG_CPUSET] = "cpuset",	[CG_MEMORY] = "memory",
    [CG_DEVICES] = "devices",	[CG_FREEZER] = "freezer",
    [CG_BLKIO] = "blkio",	[CG_PIDS] = "pids",
    [CG_HUGETLB] = "hugetlb",	[CG_NET_CLS] = "net_cls",
    [CG_NET_PRIO] = "net_prio", [CG_RDMA] = "rdma",
    [CG_MISC] = "misc",		[CG_PERF_EVENT] = "perf_event",
};

static const char *const v2_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",	[CG_CPUSET] = "cpuset",	  [CG_MEMORY] = "memory", [CG_BLKIO] = "io",
    [CG_PIDS] = "pids", [CG_HUGETLB] = "hugetlb", [CG_RDMA] = "rdma",	  [CG_MISC] = "misc",
};

const char *cg_ctrl_v1_name(enum cg_ctrl c)
{
	return v1_names[c];
}

const char *cg_ctrl_v2_name(enum cg_ctrl c)
{
	return v2_names[c];
}

static int ctrl_lookup(const char *const *names, const char *name)
{
	for (int i = 0; i < CG_NCTRL; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *cg_ctrl_field(enum cg_ctrl c)
{
	static const char *const field[CG_NCTRL] = {
	    [CG_CPU] = "linux.resources.cpu",
	    [CG_CPUSET] = "linux.resources.cpu.cpus",
	    [CG_MEMORY] = "linux.resources.memory",
	    [CG_BLKIO] = "linux.resources.blockIO",
	    [CG_PIDS] = "linux.resources.pids",
	    [CG_HUGETLB] = "linux.resources.hugepageLimits",
	    [CG_NET_CLS] = "linux.resources.network.classID",
	    [CG_NET_PRIO] = "linux.resources.network.priorities",
	    [CG_RDMA] = "linux.resources.rdma",
	};
	return field[c] != NULL ? field[c] : "linux.resources";
}

int cg_ctrl_from_v1_name(const char *name)
{
	return ctrl_lookup(v1_names, name);
}

int cg_ctrl_from_v2_name(const char *name)
{
	return ctrl_lookup(v2_names, name);
}

void cg_mounts_free(struct cg_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].mountpoint);
		free(m[i].root);
		free(m[i].name);
		free(m[i].label);
	}
	free(m);
}

/* Fill m from the super options of a v1 mount ("rw,cpu,cpuacct" / "rw,name=systemd"). */
static void parse_v1_opts(struct cg_mount *m, char *opts)
{
	char *save = NULL, *label = NULL;
	for (char *o = strtok_r(opts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
		int c = cg_ctrl_from_v1_name(o);
		if (c >= 0)
			m->ctrls |= 1u << c;
		else if (str_has_prefix(o, "name=") && o[5] != '\0' && m->name == NULL)
			m->name = xstrdup(o + 5);
		else
			continue;
		char *nl = label == NULL ? xstrdup(o) : xasprintf("%s,%s", label, o);
		free(label);
		label = nl;
	}
	m->label = label;
}

/* Split one mountinfo line; returns false when it is not a cgroup mount. */
static bool parse_line(char *line, struct cg_mount *m)
{
	char *f[6] = {0}, *save = NULL, *tok;
	int i = 0;
	for (tok = strtok_r(line, " ", &save); tok != NULL && i < 6;
	     tok = strtok_r(NULL, " ", &save))
		f[i++] = tok;
	if (i < 6)
		return false;
	/* Skip the optional fields up to the " - " separator. */
	while (tok != NULL && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " ", &save);
	char *fstype = strtok_r(NULL, " ", &save);
	char *source = strtok_r(NULL, " ", &save);
	char *superopts = strtok_r(NULL, " ", &save);
	if (fstype == NULL || source == NULL || superopts == NULL)
		return false;
	bool v2 = strcmp(fstype, "cgroup2") == 0;
	if (!v2 && strcmp(fstype, "cgroup") != 0)
		return false;
	if (sscanf(f[2], "%u:%u", &m->dev_major, &m->dev_minor) != 2)
		return false;
	m->v2 = v2;
	if (v2)
		m->label = xstrdup("unified");
	else
		parse_v1_opts(m, superopts);
	if (!v2 && m->ctrls == 0 && m->name == NULL) {
		free(m->label);
		return false;
	}
	m->root = mountinfo_unescape(f[3]);
	m->mountpoint = mountinfo_unescape(f[4]);
	return true;
}

int cg_mountinfo_parse(const char *text, struct cg_mount **out, size_t *n, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct cg_mount *v = NULL;
	size_t cnt = 0;
	char *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		struct cg_mount m = {0};
		if (!parse_line(l, &m))
			continue;
		bool dup = false;
		for (size_t i = 0; i < cnt; i++)
			dup |= v[i].dev_major == m.dev_major && v[i].dev_minor == m.dev_minor;
		if (dup) {
			free(m.mountpoint);
			free(m.root);
			free(m.name);
			free(m.label);
			continue;
		}
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = m;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int cg_mode_from_mounts(const struct cg_mount *m, size_t n)
{
	bool v1 = false, v2 = false, v2_at_top = false;
	for (size_t i = 0; i < n; i++) {
		if (!m[i].v2) {
			v1 = true;
			continue;
		}
		v2 = true;
		v2_at_top |= strcmp(m[i].mountpoint, "/sys/fs/cgroup") == 0;
	}
	if (v2_at_top || (v2 && !v1))
		return CG_MODE_UNIFIED;
	if (v1 && v2)
		return CG_MODE_HYBRID;
	if (v1)
		return CG_MODE_LEGACY;
	return -1;
}

char *cg_own_cgroup_parse(const char *text, bool want_v2)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *first = NULL, *systemd = NULL, *unified = NULL, *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':');
		char *c2 = c1 == NULL ? NULL : strchr(c1 + 1, ':');
		if (c2 == NULL)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		char *path = c2 + 1;
		if (first == NULL)
			first = path;
		if (strcmp(l, "0") == 0 && c1[1] == '\0')
			unified = path;
		else if (strcmp(c1 + 1, "name=systemd") == 0)
			systemd = path;
	}
	const char *pick = want_v2 && unified != NULL ? unified : systemd != NULL ? systemd : first;
	return pick == NULL ? NULL : xstrdup(pick);
}

/* "slice:prefix:name" is the systemd driver's form; plain paths never contain two colons
 * without a slash in front. */
static bool is_systemd_form(const char *p)
{
	if (p[0] == '/')
		return false;
	const char *c1 = strchr(p, ':');
	if (c1 == NULL)
		return false;
	const char *c2 = strchr(c1 + 1, ':');
	return c2 != NULL && strchr(c2 + 1, ':') == NULL &&
	       memchr(p, '/', (size_t)(c2 - p)) == NULL;
}

static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';
		if (start && end)
			return true;
	}
	return false;
}

int cg_resolve_path(const char *cgroups_path, const char *id, const char *own, char **out,
		    struct bw_error *err)
{
	_cleanup_free_ char *joined = NULL;
	const char *p = cgroups_path;

	if (p == NULL || p[0] == '\0') {
		if (id == NULL || id[0] == '\0' || strchr(id, '/') != NULL ||
		    strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
			return bw_fail(err, 0, "container id `%s` cannot name a cgroup",
				       id == NULL ? "" : id);
		joined = xasprintf(CG_DEFAULT_PARENT "/%s", id);
	} else if (is_systemd_form(p)) {
		return bw_fail(err, 0,
			       "linux.cgroupsPath: `%s` is a systemd path (slice:prefix:name): it "
			       "needs --systemd-cgroup",
			       p);
	} else if (has_dotdot(p)) {
		return bw_fail(err, 0, "linux.cgroupsPath: `%s` must not contain \"..\"", p);
	} else if (strpbrk(p, "\n\r") != NULL) {
		return bw_fail(err, 0, "linux.cgroupsPath: must not contain a newline");
	} else if (p[0] == '/') {
		joined = xstrdup(p);
	} else {
		joined = fs_path_join(own == NULL ? "/" : own, p);
	}
	char *clean = fs_path_clean(joined);
	if (strcmp(clean, "/") == 0) {
		free(clean);
		return bw_fail(err, 0, "linux.cgroupsPath: must not be the root cgroup");
	}
	*out = clean;
	return 0;
}

char *cg_dir_in_mount(const char *mountpoint, const char *root, const char *path)
{
	size_t rl = strlen(root);
	const char *rel = path;
	/* A mount of a sub-tree (a container's view without a cgroup namespace): paths inside it
	 * are taken relative to it, others are placed below it. */
	if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0 &&
	    (path[rl] == '/' || path[rl] == '\0'))
		rel = path + rl;
	return fs_path_join(mountpoint, rel);
}

bool cg_is_systemd_path(const char *p)
{
	return p != NULL && is_systemd_form(p);
}

/* The characters systemd allows in a unit name ("a-zA-Z0-9:-_.\\"), less "\\": escapes are
 * never needed here and would only make two spellings of one name. */
static bool unit_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == ':' || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* systemd escapes a unit's cgroup directory name (cg_escape: a leading "_" is added) when it
 * starts with "_" or ".", with "cgroup.", or when what precedes its last dot is a controller's
 * name ("cpu.scope" lives in "_cpu.scope"). Such names are refused: the path computed here
 * would not be the unit's, and could be another unit's. */
static bool needs_escape(const char *unit)
{
	static const char *const ctrl[] = {"cpu",
					   "cpuacct",
					   "cpuset",
					   "io",
					   "blkio",
					   "memory",
					   "devices",
					   "pids",
					   "freezer",
					   "net_cls",
					   "net_prio",
					   "perf_event",
					   "hugetlb",
					   "rdma",
					   "misc",
					   "bpf-firewall",
					   "bpf-devices",
					   "bpf-foreign",
					   "bpf-socket-bind",
					   "bpf-restrict-network-interfaces"};
	if (unit[0] == '_' || unit[0] == '.' || str_has_prefix(unit, "cgroup."))
		return true;
	const char *dot = strrchr(unit, '.');
	if (dot == NULL)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ctrl); i++)
		if (strlen(ctrl[i]) == (size_t)(dot - unit) &&
		    strncmp(unit, ctrl[i], (size_t)(dot - unit)) == 0)
			return true;
	return false;
}

/* runc's ExpandSlice: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice", "-.slice" -> "". */
static int expand_slice(const char *slice, char **out, struct bw_error *err)
{
	size_t n = strlen(slice);
	if (n <= 6 || !str_has_suffix(slice, ".slice") || !unit_chars_ok(slice, n))
		return bw_fail(err, 0,
			       "linux.cgroupsPath: slice `%s` is not a systemd slice name (it must "
			       "end in \".slice\", with letters, digits and \":-_.\" before it)",
			       slice);
	if (strcmp(slice, "-.slice") == 0) {
		*out = xstrdup("");
		return 0;
	}
	_cleanup_free_ char *name = xstrndup(slice, n - 6);
	_cleanup_free_ char *path = xstrdup(""), *prefix = xstrdup("");
	char *save = NULL;
	if (name[0] == '-' || name[strlen(name) - 1] == '-' || strstr(name, "--") != NULL)
		return bw_fail(err, 0, "linux.cgroupsPath: slice `%s` has an empty component",
			       slice);
	for (char *c = strtok_r(name, "-", &save); c != NULL; c = strtok_r(NULL, "-", &save)) {
		_cleanup_free_ char *unit = xasprintf("%s%s.slice", prefix, c);
		if (needs_escape(unit))
			return bw_fail(
			    err, 0,
			    "linux.cgroupsPath: slice `%s`: `%s` is a name systemd keeps "
			    "under another directory name (escaped); choose another",
			    slice, unit);
		char *np = xasprintf("%s/%s%s.slice", path, prefix, c);
		char *nx = xasprintf("%s%s-", prefix, c);
		free(path);
		free(prefix);
		path = np;
		prefix = nx;
	}
	*out = steal_ptr(&path);
	return 0;
}

int cg_systemd_parse(const char *cgroups_path, const char *id, struct cg_sd_name *out,
		     struct bw_error *err)
{
	_cleanup_free_ char *def = NULL, *slice_path = NULL;
	const char *p = cgroups_path;
	if (p == NULL || p[0] == '\0')
		p = def = xasprintf("system.slice:bulwark:%s", id == NULL ? "" : id);
	const char *c1 = strchr(p, ':'), *c2 = c1 == NULL ? NULL : strchr(c1 + 1, ':');
	if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
		return bw_fail(err, 0,
			       "linux.cgroupsPath: `%s` is not of the form \"slice:prefix:name\", "
			       "which --systemd-cgroup needs",
			       p);
	_cleanup_free_ char *slice = xstrndup(p, (size_t)(c1 - p));
	_cleanup_free_ char *prefix = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	const char *name = c2 + 1;
	if (slice[0] == '\0') {
		free(slice);
		slice = xstrdup("system.slice");
	}
	if (name[0] == '\0' || !unit_chars_ok(name, strlen(name)) ||
	    !unit_chars_ok(prefix, strlen(prefix)))
		return bw_fail(err, 0,
			       "linux.cgroupsPath: `%s`: the prefix and the name may hold only "
			       "letters, digits and \":-_.\", and the name must not be empty",
			       p);
	if (str_has_suffix(name, ".slice"))
		return bw_fail(err, 0,
			       "linux.cgroupsPath: `%s`: a container in a slice unit of its own is "
			       "not supported (only a scope)",
			       p);
	if (expand_slice(slice, &slice_path, err) < 0)
		return -1;
	char *unit = prefix[0] != '\0' ? xasprintf("%s-%s.scope", prefix, name)
				       : xasprintf("%s.scope", name);
	/* systemd's limit for a unit name; one rule with cg_systemd_unit_valid (what create
	 * accepts, delete must accept too); no name systemd escapes. */
	if (strlen(unit) > 255) {
		free(unit);
		return bw_fail(err, 0, "linux.cgroupsPath: `%s`: the unit name is too long", p);
	}
	if (!cg_systemd_unit_valid(unit) || needs_escape(unit)) {
		free(unit);
		return bw_fail(err, 0,
			       "linux.cgroupsPath: `%s`: the scope's name must not start with "
			       "\"-\", \".\" or \"_\", nor be one systemd escapes (a controller's "
			       "name before its dot, \"cgroup.\")",
			       p);
	}
	out->slice = steal_ptr(&slice);
	out->unit = unit;
	out->path = xasprintf("%s/%s", slice_path, unit);
	return 0;
}

bool cg_systemd_unit_valid(const char *unit)
{
	size_t n = unit == NULL ? 0 : strlen(unit);
	return n > 6 && n <= 255 && str_has_suffix(unit, ".scope") && unit_chars_ok(unit, n) &&
	       unit[0] != '.' && unit[0] != '-' && unit[0] != '_';
}

void cg_sd_name_free(struct cg_sd_name *n)
{
	free(n->slice);
	free(n->unit);
	free(n->path);
	*n = (struct cg_sd_name){0};
}
