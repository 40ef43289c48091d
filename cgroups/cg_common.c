/* The manager itself: which hierarchies exist and which serves each controller, the resolved
 * path, small file helpers, and the writers and checks both back-ends share (the back-ends
 * never call each other). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define CG_FILE_MAX (4u << 20)

int cg_write(const char *dir, const char *file, const char *value, struct bw_error *err)
{
	_cleanup_free_ char *p = fs_path_join(dir, file);
	return fs_write_file(p, value, err);
}

int cg_writef(const char *dir, const char *file, struct bw_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *v = NULL;
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (v == NULL)
		return bw_fail(err, ENOMEM, "format a value for `%s`", file);
	return cg_write(dir, file, v, err);
}

int cg_read(const char *dir, const char *file, char **out, struct bw_error *err)
{
	_cleanup_free_ char *p = fs_path_join(dir, file);
	char *s;
	size_t len;
	if (fs_read_file(p, CG_FILE_MAX, &s, &len, err) < 0)
		return -1;
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	*out = s;
	return 0;
}

bool cg_has_file(const char *dir, const char *file)
{
	_cleanup_free_ char *p = fs_path_join(dir, file);
	return access(p, F_OK) == 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct bw_error *err)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(dir, file, &s, err) < 0)
		return -1;
	if (strcmp(s, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	/* v1 reports "unlimited" as a huge page-rounded number, and some files a negative -1. */
	if (strcmp(s, "-1") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	if (parse_u64(s, out) < 0)
		return bw_fail(err, EINVAL, "`%s/%s`: not a number: `%s`", dir, file, s);
	return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
		  struct bw_error *err)
{
	_cleanup_free_ char *s = NULL;
	size_t kl = strlen(key);
	if (cg_read(dir, file, &s, err) < 0)
		return -1;
	for (char *l = s; l != NULL && *l != '\0';) {
		char *nl = strchr(l, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return parse_u64(l + kl + 1, out) < 0
				   ? bw_fail(err, EINVAL, "`%s/%s`: bad `%s` line", dir, file, key)
				   : 0;
		l = nl == NULL ? NULL : nl + 1;
	}
	*out = 0;
	return 0;
}

static int read_mounts(struct cg_mount **m, size_t *n, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	if (fs_read_file("/proc/self/mountinfo", 16u << 20, &text, NULL, err) < 0)
		return -1;
	return cg_mountinfo_parse(text, m, n, err);
}

enum cg_mode cg_detect_mode(void)
{
	struct cg_mount *m = NULL;
	size_t n = 0;
	struct bw_error e = {0};
	if (read_mounts(&m, &n, &e) < 0)
		return CG_MODE_UNIFIED;
	int mode = cg_mode_from_mounts(m, n);
	cg_mounts_free(m, n);
	return mode < 0 ? CG_MODE_UNIFIED : (enum cg_mode)mode;
}

static void add_hier(struct cg_manager *cg, const struct cg_mount *src)
{
	cg->h = xrealloc(cg->h, (cg->nh + 1) * sizeof(*cg->h));
	struct cg_hier *h = &cg->h[cg->nh++];
	memset(h, 0, sizeof(*h));
	h->m = *src;
	h->m.mountpoint = xstrdup(src->mountpoint);
	h->m.root = xstrdup(src->root);
	h->m.name = src->name == NULL ? NULL : xstrdup(src->name);
	h->m.label = xstrdup(src->label);
	h->dir = cg_dir_in_mount(h->m.mountpoint, h->m.root, cg->path);
}

/* Which hierarchy serves each controller: v1 mounts first, then what the cgroup2 root
 * offers (and, on v2, the core device and freezer features). */
static void locate_controllers(struct cg_manager *cg)
{
	for (int c = 0; c < CG_NCTRL; c++)
		cg->ctrl_at[c] = -1;
	for (size_t i = 0; i < cg->nh; i++)
		for (int c = 0; c < CG_NCTRL; c++)
			if (!cg->h[i].m.v2 && (cg->h[i].m.ctrls & (1u << c)) && cg->ctrl_at[c] < 0)
				cg->ctrl_at[c] = (int)i;
	if (cg->v2 < 0)
		return;
	_cleanup_free_ char *avail = NULL;
	struct bw_error e = {0};
	if (cg_read(cg->h[cg->v2].m.mountpoint, "cgroup.controllers", &avail, &e) < 0)
		avail = xstrdup("");
	char *save = NULL;
	for (char *t = strtok_r(avail, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		int c = cg_ctrl_from_v2_name(t);
		if (c >= 0 && cg->ctrl_at[c] < 0)
			cg->ctrl_at[c] = cg->v2;
	}
	const enum cg_ctrl core[] = {CG_CPUACCT, CG_DEVICES, CG_FREEZER};
	for (size_t k = 0; k < ARRAY_SIZE(core); k++)
		if (cg->ctrl_at[core[k]] < 0)
			cg->ctrl_at[core[k]] = cg->v2;
}

static int own_cgroup(bool want_v2, char **out, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	if (fs_read_file("/proc/self/cgroup", 1u << 20, &text, NULL, err) < 0)
		return -1;
	*out = cg_own_cgroup_parse(text, want_v2);
	return 0;
}

static int build_manager(struct cg_manager *cg, const struct cg_mount *m, size_t n)
{
	int top = -1;
	for (size_t i = 0; i < n; i++)
		if (m[i].v2 && (top < 0 || strcmp(m[i].mountpoint, "/sys/fs/cgroup") == 0))
			top = (int)i;
	for (size_t i = 0; i < n; i++) {
		if (m[i].v2 && (int)i != top)
			continue;
		if (!m[i].v2 && cg->mode == CG_MODE_UNIFIED)
			continue;
		if (m[i].v2)
			cg->v2 = (int)cg->nh;
		add_hier(cg, &m[i]);
	}
	locate_controllers(cg);
	return 0;
}

/* own: the cgroup relative paths are below (NULL: the caller's own, read when needed). */
static int open_with(const char *cgroups_path, const char *id, const char *own_in,
		     struct cg_manager **out, struct bw_error *err)
{
	struct cg_mount *m = NULL;
	size_t n = 0;
	if (read_mounts(&m, &n, err) < 0)
		return bw_wrap(err, "discover cgroup hierarchies");
	int mode = cg_mode_from_mounts(m, n);
	if (mode < 0) {
		cg_mounts_free(m, n);
		return bw_fail(err, 0, "no cgroup hierarchy is mounted");
	}
	_cleanup_free_ char *own = own_in == NULL ? NULL : xstrdup(own_in);
	if (own == NULL && cgroups_path != NULL && cgroups_path[0] != '\0' &&
	    cgroups_path[0] != '/' && own_cgroup(mode != CG_MODE_LEGACY, &own, err) < 0) {
		cg_mounts_free(m, n);
		return -1;
	}
	struct cg_manager *cg = xcalloc(1, sizeof(*cg));
	cg->mode = (enum cg_mode)mode;
	cg->v2 = -1;
	cg->clone_fd = -1;
	cg->place_lock = -1;
	cg->unpriv = geteuid() != 0;
	if (cg_resolve_path(cgroups_path, id, own, &cg->path, err) < 0) {
		cg_mounts_free(m, n);
		free(cg);
		return -1;
	}
	build_manager(cg, m, n);
	cg_mounts_free(m, n);
	*out = cg;
	return 0;
}

int cg_open(const char *cgroups_path, const char *id, struct cg_manager **out, struct bw_error *err)
{
	return open_with(cgroups_path, id, NULL, out, err);
}

/* Writable by the caller as a delegated cgroup is: the directory (to make children), its
 * cgroup.procs (to move processes out) and cgroup.subtree_control (to enable controllers). */
static bool writable_cgroup(const char *dir)
{
	static const char *const files[] = {".", "cgroup.procs", "cgroup.subtree_control"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = fs_path_join(dir, files[i]);
		if (faccessat(AT_FDCWD, p, W_OK, AT_EACCESS) < 0)
			return false;
	}
	return true;
}

int cg_delegated(struct cg_delegation *d, struct bw_error *err)
{
	*d = (struct cg_delegation){0};
	if (geteuid() == 0)
		return 0;
	struct cg_mount *m = NULL;
	size_t n = 0;
	if (read_mounts(&m, &n, err) < 0)
		return bw_wrap(err, "discover cgroup hierarchies");
	const struct cg_mount *v2 = NULL;
	if (cg_mode_from_mounts(m, n) == CG_MODE_UNIFIED)
		for (size_t i = 0; i < n && v2 == NULL; i++)
			if (m[i].v2)
				v2 = &m[i];
	_cleanup_free_ char *own = NULL;
	int got = v2 == NULL ? 0 : own_cgroup(true, &own, err);
	if (got < 0 || own == NULL || strcmp(own, "/") == 0) {
		cg_mounts_free(m, n);
		return got;
	}
	/* The leaf an earlier create moved the caller into: the delegated cgroup is its parent. */
	char *slash = strrchr(own, '/');
	char *cands[2] = {NULL, xstrdup(own)};
	if (slash != NULL && slash != own && strcmp(slash + 1, CG_DELEG_LEAF) == 0)
		cands[0] = xstrndup(own, (size_t)(slash - own));
	int r = 0;
	for (size_t i = 0; i < 2 && r == 0; i++) {
		if (cands[i] == NULL)
			continue;
		_cleanup_free_ char *dir = cg_dir_in_mount(v2->mountpoint, v2->root, cands[i]);
		struct bw_error e = {0};
		if (!writable_cgroup(dir) ||
		    cg_read(dir, "cgroup.controllers", &d->controllers, &e) < 0)
			continue;
		d->base = xstrdup(cands[i]);
		r = 1;
	}
	free(cands[0]);
	free(cands[1]);
	cg_mounts_free(m, n);
	return r;
}

void cg_delegation_free(struct cg_delegation *d)
{
	free(d->base);
	free(d->controllers);
	*d = (struct cg_delegation){0};
}

bool cg_delegation_offers(const struct cg_delegation *d, const char *controller)
{
	size_t l = strlen(controller);
	for (const char *p = d->controllers; p != NULL && (p = strstr(p, controller)) != NULL;
	     p += l)
		if ((p == d->controllers || p[-1] == ' ') &&
		    (p[l] == '\0' || p[l] == ' ' || p[l] == '\n'))
			return true;
	return false;
}

int cg_open_delegated(const char *cgroups_path, const char *id, const struct cg_delegation *d,
		      struct cg_manager **out, struct bw_error *err)
{
	_cleanup_free_ char *def = NULL, *check = NULL;
	if (cgroups_path == NULL || cgroups_path[0] == '\0') {
		/* The id is checked as for the default path, then placed below base. */
		if (cg_resolve_path(NULL, id, NULL, &check, err) < 0)
			return -1;
		def = xasprintf("bulwark/%s", id);
		cgroups_path = def;
	}
	if (open_with(cgroups_path, id, d->base, out, err) < 0)
		return -1;
	size_t bl = strlen(d->base);
	const char *p = (*out)->path;
	if ((*out)->mode == CG_MODE_UNIFIED && strncmp(p, d->base, bl) == 0 && p[bl] == '/' &&
	    p[bl + 1] != '\0')
		(*out)->deleg = xstrdup(d->base);
	return 0;
}

int cg_open_systemd(const char *cgroups_path, const char *id, struct cg_manager **out,
		    struct bw_error *err)
{
	struct cg_sd_name n = {0};
	if (cg_systemd_parse(cgroups_path, id, &n, err) < 0)
		return -1;
	if (cg_open(n.path, id, out, err) < 0) {
		cg_sd_name_free(&n);
		return -1;
	}
	(*out)->sd_unit = steal_ptr(&n.unit);
	(*out)->sd_slice = steal_ptr(&n.slice);
	(*out)->sd_desc = xasprintf("bulwark container %s", id);
	cg_sd_name_free(&n);
	return 0;
}

int cg_attach_systemd_unit(struct cg_manager *cg, const char *unit, const char *id,
			   struct bw_error *err)
{
	if (!cg_systemd_unit_valid(unit))
		return bw_fail(err, 0, "systemd unit `%s`: not a scope name", unit);
	free(cg->sd_unit);
	cg->sd_unit = xstrdup(unit);
	free(cg->sd_desc);
	cg->sd_desc = xasprintf("bulwark container %s", id);
	cg->sd_started = true;
	cg->sd_attached = true;
	return 0;
}

void cg_systemd_set_owner(struct cg_manager *cg, const char *state_dir)
{
	if (cg->sd_unit == NULL)
		return;
	free(cg->sd_desc);
	cg->sd_desc = xasprintf("bulwark container %s", state_dir);
}

const char *cg_systemd_unit(const struct cg_manager *cg)
{
	return cg->sd_unit;
}

void cg_free(struct cg_manager *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->nh; i++) {
		free(cg->h[i].m.mountpoint);
		free(cg->h[i].m.root);
		free(cg->h[i].m.name);
		free(cg->h[i].m.label);
		free(cg->h[i].dir);
		strv_free(cg->h[i].made);
	}
	strv_free(cg->parents_made);
	if (cg->clone_fd >= 0)
		close(cg->clone_fd);
	if (cg->place_lock >= 0)
		close(cg->place_lock);
	free(cg->h);
	free(cg->path);
	free(cg->sd_unit);
	free(cg->sd_slice);
	free(cg->sd_desc);
	free(cg->deleg);
	free(cg);
}

const char *cg_path(const struct cg_manager *cg)
{
	return cg->path;
}

enum cg_mode cg_manager_mode(const struct cg_manager *cg)
{
	return cg->mode;
}

struct cg_hier *cg_hier_for(struct cg_manager *cg, enum cg_ctrl c)
{
	return cg->ctrl_at[c] < 0 ? NULL : &cg->h[cg->ctrl_at[c]];
}

void cg_placed(struct cg_manager *cg)
{
	if (cg != NULL && cg->place_lock >= 0) {
		close(cg->place_lock);
		cg->place_lock = -1;
	}
}

int cg_clone_fd(struct cg_manager *cg)
{
	/* A scope is made with its first process in it (cg_enter): before that, no fd. */
	if (cg->mode != CG_MODE_UNIFIED || cg->v2 < 0 || (cg->sd_unit != NULL && !cg->sd_started))
		return -1;
	if (cg->clone_fd < 0)
		cg->clone_fd = open(cg->h[cg->v2].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return cg->clone_fd;
}

/* ---- writers and checks both back-ends use ---- */

static char *read_present(const char *path, const char *fallback)
{
	struct bw_error e = {0};
	char *s;
	if (fs_read_file(path, 65536, &s, NULL, &e) == 0)
		return s;
	return xstrdup(fallback);
}

int cg_cpuset_check(const struct oci_cpu *c, struct bw_error *err)
{
	if (c->cpus != NULL && c->cpus[0] != '\0') {
		_cleanup_free_ char *cpus = read_present("/sys/devices/system/cpu/present", "0");
		if (cg_cpulist_check("linux.resources.cpu.cpus", "CPU", c->cpus, cpus, err) < 0)
			return -1;
	}
	if (c->mems != NULL && c->mems[0] != '\0') {
		_cleanup_free_ char *nodes = read_present("/sys/devices/system/node/possible", "0");
		if (cg_cpulist_check("linux.resources.cpu.mems", "memory node", c->mems, nodes,
				     err) < 0)
			return -1;
	}
	return 0;
}

int cg_set_cpus(const char *dir, const struct oci_resources *r, bool update, struct bw_error *err)
{
	(void)update;
	if (cg_write(dir, "cpuset.cpus", r->cpu.cpus, err) < 0)
		return bw_wrap(err, "linux.resources.cpu.cpus");
	return 0;
}

int cg_set_mems(const char *dir, const struct oci_resources *r, bool update, struct bw_error *err)
{
	(void)update;
	if (cg_write(dir, "cpuset.mems", r->cpu.mems, err) < 0)
		return bw_wrap(err, "linux.resources.cpu.mems");
	return 0;
}

/* checkBeforeUpdate: never set a limit below what is already used. */
int cg_check_usage(const char *dir, const char *usage_file, int64_t limit, struct bw_error *err)
{
	uint64_t used;
	if (limit <= 0)
		return 0;
	if (cg_read_u64(dir, usage_file, &used, err) < 0)
		return bw_wrap(err, "linux.resources.memory.checkBeforeUpdate");
	if (used > (uint64_t)limit)
		return bw_fail(err, 0,
			       "linux.resources.memory.limit: %" PRId64 " is below the current "
			       "usage of %" PRIu64 " bytes",
			       limit, used);
	return 0;
}

int cg_set_hugetlb(const char *dir, const struct oci_resources *r, const char *suffix,
		   const char *rsvd_suffix, struct bw_error *err)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *l = &r->hugepage_limits[i];
		const char *ps = l->page_size == NULL ? "" : l->page_size;
		_cleanup_free_ char *f = xasprintf("hugetlb.%s.%s", ps, suffix);
		_cleanup_free_ char *rf = xasprintf("hugetlb.%s.%s", ps, rsvd_suffix);
		if (!cg_hugepage_size_valid(ps) || !cg_has_file(dir, f))
			return bw_fail(
			    err, 0,
			    "linux.resources.hugepageLimits[%zu].pageSize: hugepage size "
			    "`%s` is not supported on this host",
			    i, ps);
		if (cg_writef(dir, f, err, "%" PRIu64, l->limit) < 0 ||
		    (cg_has_file(dir, rf) && cg_writef(dir, rf, err, "%" PRIu64, l->limit) < 0))
			return bw_wrap(err, "linux.resources.hugepageLimits[%zu].limit", i);
	}
	return 0;
}

/* rdma.max has the same syntax in both versions; the device names are checked (cg_table.c). */
int cg_set_rdma(const char *dir, const struct oci_resources *r, bool update, struct bw_error *err)
{
	(void)update;
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct oci_rdma *d = &r->rdma[i];
		if (!d->hca_handles.set && !d->hca_objects.set)
			continue;
		char h[40] = "", o[40] = "";
		if (d->hca_handles.set)
			snprintf(h, sizeof(h), " hca_handle=%" PRIu64, d->hca_handles.v);
		if (d->hca_objects.set)
			snprintf(o, sizeof(o), " hca_object=%" PRIu64, d->hca_objects.v);
		if (cg_writef(dir, "rdma.max", err, "%s%s%s", d->device, h, o) < 0)
			return bw_wrap(err, "linux.resources.rdma.%s", d->device);
	}
	return 0;
}
