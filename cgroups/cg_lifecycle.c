/* A container's cgroup from birth to removal: create in every hierarchy (undone on failure),
 * apply and update resources through the back-ends, move processes in, destroy. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

static const struct oci_resources no_resources;

/* Controllers named by linux.resources.unified keys: enabled for the cgroup when possible,
 * and otherwise reported against the key itself. */
static uint32_t unified_needed(const struct oci_resources *r)
{
	uint32_t m = 0;
	for (size_t i = 0; i < r->n_unified; i++) {
		_cleanup_free_ char *ctl = cg_key_controller(r->unified[i].key);
		int k = cg_ctrl_from_v2_name(ctl);
		if (k >= 0)
			m |= 1u << k;
	}
	return m;
}

/* mkdir -p below the mount point, remembering what was made so a failure can undo it. A
 * parent another container's delete removes between two of our mkdirs (ENOENT: it made it
 * and found it empty) is made again, a few times. */
static int make_dirs(struct cg_hier *h, struct bw_error *err)
{
	size_t base = strlen(h->m.mountpoint);
	/* The usual case first, in one call: the parents are there (EEXIST: so is the cgroup). */
	if (mkdir(h->dir, 0755) == 0) {
		h->existed = false;
		strv_push(&h->made, h->dir);
		return 0;
	}
	h->existed = errno == EEXIST;
	if (errno != ENOENT)
		return h->existed ? 0 : bw_fail(err, errno, "mkdir `%s`", h->dir);
	_cleanup_free_ char *p = xstrdup(h->dir);
	for (int tries = 0;; tries++) {
		int r = 0;
		for (char *s = p + base + 1;; s++) {
			if (*s != '/' && *s != '\0')
				continue;
			char saved = *s;
			*s = '\0';
			if (mkdir(p, 0755) == 0)
				strv_push(&h->made, p);
			else if (errno != EEXIST)
				r = -errno;
			*s = saved;
			if (saved == '\0' || r < 0)
				break;
		}
		if (r == 0)
			return 0;
		if (r != -ENOENT || tries == 3)
			return bw_fail(err, -r, "mkdir `%s`", h->dir);
	}
}

static bool has_procs(const char *dir)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error e = {0};
	return cg_read(dir, "cgroup.procs", &s, &e) == 0 && s[0] != '\0';
}

static void undo_create(struct cg_manager *cg)
{
	for (size_t i = cg->nh; i-- > 0;) {
		struct cg_hier *h = &cg->h[i];
		for (size_t k = strv_len(h->made); k-- > 0;)
			if (rmdir(h->made[k]) < 0 && errno != ENOENT)
				log_debug("cgroup rollback: rmdir `%s`: %s", h->made[k],
					  strerror(errno));
		strv_free(h->made);
		h->made = NULL;
	}
}

static uint32_t v2_mask(struct cg_manager *cg)
{
	uint32_t m = 0;
	for (int c = 0; c < CG_NCTRL; c++)
		if (cg->ctrl_at[c] == cg->v2 && cg_ctrl_v2_name(c) != NULL)
			m |= 1u << c;
	return m;
}

/* A process moved into a frozen cgroup (a pre-existing one, or below a frozen parent) stops
 * before it can report back, and create would wait for it forever: refused, as runc does. Both
 * the freezer hierarchy and, on hybrid hosts, the cgroup2 one can freeze. */
int cg_refuse_frozen(struct cg_manager *cg, struct bw_error *err)
{
	for (size_t i = 0; i < cg->nh; i++) {
		struct cg_hier *h = &cg->h[i];
		_cleanup_free_ char *s = NULL;
		uint64_t frozen = 0;
		struct bw_error e = {0};
		bool is = false;
		if (h->m.v2)
			is = (cg_read_keyed(h->dir, "cgroup.events", "frozen", &frozen, &e) == 0 &&
			      frozen != 0) ||
			     (cg_read(h->dir, "cgroup.freeze", &s, &e) == 0 && strcmp(s, "0") != 0);
		else if (h->m.ctrls & (1u << CG_FREEZER))
			is = cg_read(h->dir, "freezer.state", &s, &e) == 0 &&
			     strcmp(s, "THAWED") != 0;
		if (is)
			return bw_fail(err, 0, "container's cgroup unexpectedly frozen (`%s`)",
				       h->dir);
	}
	return 0;
}

/* Move every process of the delegated cgroup dir into its leaf child (made if missing), until
 * none is left: new ones (a fork between two reads) are moved in the next round. */
static int move_to_leaf(const char *dir, struct bw_error *err)
{
	_cleanup_free_ char *leaf = fs_path_join(dir, CG_DELEG_LEAF);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "mkdir `%s`", leaf);
	for (int round = 0; round < 32; round++) {
		_cleanup_free_ char *s = NULL;
		if (cg_read(dir, "cgroup.procs", &s, err) < 0)
			return -1;
		if (s[0] == '\0')
			return 0;
		char *save = NULL;
		for (char *t = strtok_r(s, "\n", &save); t != NULL;
		     t = strtok_r(NULL, "\n", &save)) {
			struct bw_error e = {0};
			if (cg_write(leaf, "cgroup.procs", t, &e) < 0 && e.code != ESRCH) {
				*err = e;
				return bw_wrap(err, "move pid %s of the delegated cgroup into `%s`",
					       t, leaf);
			}
		}
	}
	return bw_fail(err, EBUSY, "move the processes of `%s` into `%s`: new ones keep coming",
		       dir, leaf);
}

/* A rootless container below a delegated cgroup (cg_open_delegated): every controller the
 * resources need must be offered there (fail closed: a limit is never dropped), only those
 * are enabled, and the caller's processes leave the delegated cgroup first when a controller
 * has to be enabled in it (cgroup v2 allows no process in a cgroup that hands controllers to
 * its children). With nothing needed, nothing is moved and nothing enabled there. */
static int deleg_prepare(struct cg_manager *cg, uint32_t need, uint32_t *want, struct bw_error *err)
{
	struct cg_hier *h = &cg->h[cg->v2];
	_cleanup_free_ char *dir = cg_dir_in_mount(h->m.mountpoint, h->m.root, cg->deleg);
	_cleanup_free_ char *avail = NULL, *on = NULL;
	if (cg_read(dir, "cgroup.controllers", &avail, err) < 0 ||
	    cg_read(dir, "cgroup.subtree_control", &on, err) < 0)
		return -1;
	struct cg_delegation d = {.base = cg->deleg, .controllers = avail};
	uint32_t offered = 0;
	for (int c = 0; c < CG_NCTRL; c++) {
		const char *name = cg_ctrl_v2_name(c);
		if (name == NULL || !(v2_mask(cg) & (1u << c)))
			continue;
		if (cg_delegation_offers(&d, name))
			offered |= 1u << c;
		else if (need & (1u << c))
			return bw_fail(
			    err, 0,
			    "%s: the %s controller is not delegated to uid %d (`%s` "
			    "offers: %s), so the limit cannot be enforced",
			    cg_ctrl_field(c) != NULL ? cg_ctrl_field(c) : "linux.resources", name,
			    (int)geteuid(), dir, avail[0] != '\0' ? avail : "none");
	}
	*want &= offered;
	d.controllers = on;
	bool all_on = true;
	for (int c = 0; c < CG_NCTRL; c++)
		if ((*want & (1u << c)) && !cg_delegation_offers(&d, cg_ctrl_v2_name(c)))
			all_on = false;
	if (all_on || !has_procs(dir))
		return 0;
	if (need == 0) {
		*want = 0;
		return 0;
	}
	return move_to_leaf(dir, err);
}

/* The default parent of every container without a cgroupsPath (sandboxes among them), made
 * here: it gets half the default CPU weight, so that all those containers together yield to
 * host services under contention (issue 13 §3). Set once, when made: a weight an
 * administrator gives the parent while it exists is theirs. */
static int weigh_default_parent(struct cg_manager *cg, struct bw_error *err)
{
	struct cg_hier *h = cg_hier_for(cg, CG_CPU);
	if (h == NULL)
		return 0;
	_cleanup_free_ char *parent = fs_path_join(h->m.mountpoint, CG_DEFAULT_PARENT);
	bool made = false;
	for (size_t k = 0; h->made != NULL && h->made[k] != NULL; k++)
		made |= strcmp(h->made[k], parent) == 0 && strcmp(h->made[k], h->dir) != 0;
	if (!made)
		return 0;
	const char *file = h->m.v2 ? "cpu.weight" : "cpu.shares";
	_cleanup_free_ char *path = fs_path_join(parent, file);
	if (access(path, F_OK) < 0)
		return 0; /* cgroup2 with cpu not enabled above the parent: no weight to give */
	return cg_write(parent, file, h->m.v2 ? CG_DEFAULT_PARENT_WEIGHT : CG_DEFAULT_PARENT_SHARES,
			err);
}

static int create_steps(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err)
{
	for (size_t i = 0; i < cg->nh; i++)
		if (make_dirs(&cg->h[i], err) < 0)
			return -1;
	/* Two creates with one cgroupsPath: whichever made the directory, each holds the leaf's
	 * lock until its init is in (cg_placed), and the other then finds it populated below.
	 * Without it both would see an empty cgroup and share it unasked. */
	bool taken = false;
	if (cg->sd_unit == NULL && cg->nh > 0) {
		cg->place_lock = open(cg->h[0].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->place_lock < 0 || flock(cg->place_lock, LOCK_EX) < 0)
			return bw_fail(err, errno, "lock `%s`", cg->h[0].dir);
		taken = !cg->h[0].existed && has_procs(cg->h[0].dir);
	}
	if (cg_refuse_frozen(cg, err) < 0)
		return -1;
	for (size_t i = 0; cg->sd_unit == NULL && i < cg->nh; i++) {
		if (!(cg->h[i].existed || (i == 0 && taken)) || !has_procs(cg->h[i].dir))
			continue;
		if (!cg->allow_populated)
			return bw_fail(err, 0,
				       "linux.cgroupsPath: cgroup `%s` already has processes "
				       "(run.bulwark.cgroup-shared=allow shares it)",
				       cg->h[i].dir);
		log_warn(
		    "linux.cgroupsPath: cgroup `%s` already has processes: the container shares "
		    "it with them (kill --all and delete reach them too)",
		    cg->h[i].dir);
		break;
	}
	struct cg_hier *cs = cg_hier_for(cg, CG_CPUSET);
	if (cs != NULL && !cs->m.v2 && cg_v1_cpuset_init(cs, err) < 0)
		return -1;
	if (cg->v2 >= 0) {
		uint32_t need = cg_resources_needed(r) & v2_mask(cg);
		/* On a unified host every available controller is enabled (stats need them); on a
		 * hybrid one the cgroup2 mount is left alone unless a resource needs it. */
		uint32_t want = cg->mode == CG_MODE_UNIFIED && cg->sd_unit == NULL
				    ? v2_mask(cg)
				    : need | (unified_needed(r) & v2_mask(cg));
		/* systemd enables what it delegates to the scope: its slices are left to it, but
		 * for what a resource needs and systemd does not manage (hugetlb...). */
		if (cg->sd_unit != NULL)
			want = need;
		if (cg->deleg != NULL && deleg_prepare(cg, need, &want, err) < 0)
			return -1;
		if (want != 0 && cg_v2_enable_controllers(cg, want, need, err) < 0)
			return -1;
	}
	if (weigh_default_parent(cg, err) < 0)
		return -1;
	if (cg_v1_apply(cg, r, CG_APPLY_CREATE, err) < 0 ||
	    cg_v2_apply(cg, r, CG_APPLY_CREATE, err) < 0)
		return -1;
	return 0;
}

/* An error that names its JSON field is complete as it is; others get the cgroup as context. */
static int wrap_unless_field(struct bw_error *err, const char *verb, const char *path)
{
	if (str_has_prefix(err->msg, "linux."))
		return -1;
	return bw_wrap(err, "%s cgroup `%s`", verb, path);
}

/* The devices controller is a v1 hierarchy, which systemd writes for the scope (on v2 it
 * attaches no device program of its own without DevicePolicy, and bulwark's eBPF one holds). */
static bool sd_v1_devices(struct cg_manager *cg)
{
	struct cg_hier *dev = cg_hier_for(cg, CG_DEVICES);
	return cg->sd_unit != NULL && dev != NULL && !dev->m.v2;
}

/* The scope exists once systemd has the init in it (cg_enter): here systemd is only asked
 * whether it is there, and the resources are checked as far as they can be without a cgroup. */
static int sd_create(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err)
{
	struct cg_sd_prop *p = NULL;
	size_t n = 0;
	if (cg_sd_props(res, cg->mode == CG_MODE_UNIFIED, &p, &n, err) < 0)
		return -1;
	cg_sd_props_free(p, n);
	if (cg_sd_check(err) < 0)
		return -1;
	/* On a v1 devices hierarchy systemd rewrites the scope's devices files from its own
	 * DevicePolicy/DeviceAllow whenever it re-realizes the unit (SetUnitProperties, a
	 * daemon-reload): the rules must have a systemd form, checked before any unit exists. */
	if (sd_v1_devices(cg)) {
		_cleanup_free_ struct cg_dev_rule *rules = NULL;
		_cleanup_free_ struct cg_sd_dev *d = NULL;
		size_t nr = 0, nd = 0;
		bool all = false;
		if (cg_dev_rules_build(res, &rules, &nr, err) < 0 ||
		    cg_devices_sd_plan(rules, nr, &all, &d, &nd, err) < 0)
			return -1;
	}
	cg->sd_res = res;
	return 0;
}

/* Start the scope with pid in it, then as cg_create does for cgroupfs: the other hierarchies'
 * directories, the files; on failure the unit is stopped again. */
static int sd_enter(struct cg_manager *cg, pid_t pid, struct bw_error *err)
{
	const struct oci_resources *res = cg->sd_res != NULL ? cg->sd_res : &no_resources;
	if (cg_sd_start(cg, pid, res, err) < 0)
		return -1;
	cg->sd_started = true;
	if (create_steps(cg, res, err) < 0) {
		struct bw_error e = {0};
		undo_create(cg);
		if (cg_sd_stop(cg, &e) < 0)
			log_debug("cgroup rollback: %s", e.msg);
		return wrap_unless_field(err, "create", cg->path);
	}
	for (size_t i = 0; i < cg->nh; i++) {
		strv_free(cg->h[i].made);
		cg->h[i].made = NULL;
	}
	return 0;
}

int cg_create(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err)
{
	if (cg->sd_unit != NULL)
		return sd_create(cg, res == NULL ? &no_resources : res, err);
	if (create_steps(cg, res == NULL ? &no_resources : res, err) < 0) {
		undo_create(cg);
		return wrap_unless_field(err, "create", cg->path);
	}
	for (size_t i = 0; i < cg->nh; i++) {
		for (size_t k = 0; cg->h[i].made != NULL && cg->h[i].made[k] != NULL; k++)
			if (strcmp(cg->h[i].made[k], cg->h[i].dir) != 0)
				strv_push(&cg->parents_made, cg->h[i].made[k]);
		strv_free(cg->h[i].made);
		cg->h[i].made = NULL;
	}
	return 0;
}

void cg_allow_populated(struct cg_manager *cg, bool allow)
{
	cg->allow_populated = allow;
}

char **cg_parents_made(const struct cg_manager *cg)
{
	return strv_dup(cg->parents_made);
}

void cg_remove_parents(char *const *dirs)
{
	for (size_t k = strv_len(dirs); k-- > 0;) {
		struct statfs sf;
		if (statfs(dirs[k], &sf) < 0 ||
		    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
			continue;
		if (rmdir(dirs[k]) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
			log_debug("remove parent cgroup `%s`: %s", dirs[k], strerror(errno));
	}
}

/* SetUnitProperties re-realizes the scope: on a v1 devices hierarchy systemd writes "deny a"
 * and then its allow list, and a container process opening /dev/null in between would fail. So
 * the container is frozen for the request (as runc does), unless it is paused already. */
/* On a v1 devices hierarchy systemd rewrites the device files when it re-realizes the scope
 * (SetUnitProperties): the container stays frozen (*thaw: by us) until bulwark has written its
 * own device lines again after it, in cg_update, so no access opens or closes in between. */
static int sd_update(struct cg_manager *cg, const struct oci_resources *res, bool *thaw,
		     struct bw_error *err)
{
	bool frozen = true;
	*thaw = false;
	if (sd_v1_devices(cg) && cg_hier_for(cg, CG_FREEZER) != NULL &&
	    cg_is_frozen(cg, &frozen, err) < 0)
		return -1;
	if (!frozen && cg_freeze(cg, err) < 0)
		return -1;
	*thaw = !frozen;
	int q = cg_sd_set(cg, res, err);
	if (q == 0 && res->n_devices != 0 && sd_v1_devices(cg))
		q = cg_sd_set_devices(cg, res, err);
	return q;
}

int cg_update(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err)
{
	for (size_t i = 0; i < cg->nh; i++)
		if (!fs_exists(cg->h[i].dir))
			return bw_fail(err, ENOENT, "cgroup `%s`", cg->h[i].dir);
	bool thaw = false;
	int q = 0;
	if (cg->sd_unit != NULL) {
		/* The unit's name can be another container's (the same id under another state
		 * root, after this one's ended): its limits, and its cgroup, are not ours. */
		int own = cg->sd_attached ? cg_sd_owner_check(cg, err) : 0;
		if (own < 0)
			return wrap_unless_field(err, "update", cg->path);
		if (own == 1)
			return bw_fail(err, 0,
				       "update: systemd unit `%s` belongs to another container",
				       cg->sd_unit);
		q = sd_update(cg, res, &thaw, err);
	}
	if (q == 0 && (cg_v1_apply(cg, res, CG_APPLY_UPDATE, err) < 0 ||
		       cg_v2_apply(cg, res, CG_APPLY_UPDATE, err) < 0))
		q = -1;
	struct bw_error e = {0};
	if (thaw && cg_thaw(cg, &e) < 0 && q == 0) {
		*err = e;
		q = -1;
	}
	return q < 0 ? wrap_unless_field(err, "update", cg->path) : 0;
}

int cg_apply_devices(struct cg_manager *cg, const struct oci_resources *res, struct bw_error *err)
{
	if (res == NULL)
		res = &no_resources;
	/* systemd's policy first: it writes "deny a" and its list; the files then as always, which
	 * hold the same rules between re-realizations. */
	if (sd_v1_devices(cg) && cg_sd_set_devices(cg, res, err) < 0)
		return wrap_unless_field(err, "set devices of", cg->path);
	if (cg_v1_apply(cg, res, CG_APPLY_DEVICES, err) < 0 ||
	    cg_v2_apply(cg, res, CG_APPLY_DEVICES, err) < 0)
		return wrap_unless_field(err, "set devices of", cg->path);
	return 0;
}

int cg_enter(struct cg_manager *cg, pid_t pid, struct bw_error *err)
{
	if (cg->sd_unit != NULL && !cg->sd_started && sd_enter(cg, pid, err) < 0)
		return -1;
	for (size_t i = 0; i < cg->nh; i++)
		if (cg_writef(cg->h[i].dir, "cgroup.procs", err, "%d", (int)pid) < 0)
			return bw_wrap(err, "move pid %d into the %s cgroup", (int)pid,
				       cg->h[i].m.label);
	return 0;
}

/* Thaw a cgroup and its sub-cgroups: a container that can write its cgroup may have frozen a
 * sub-cgroup of its own, and a v1-frozen task does not die of SIGKILL until thawed. */
static void thaw_tree(int parent, const char *name, int depth)
{
	if (depth > 32)
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	static const char *const files[][2] = {{"freezer.state", "THAWED"}, {"cgroup.freeze", "0"}};
	for (size_t k = 0; k < ARRAY_SIZE(files); k++) {
		int f = openat(fd, files[k][0], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f >= 0) {
			(void)!write(f, files[k][1], strlen(files[k][1]));
			close(f);
		}
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			thaw_tree(dirfd(d), de->d_name, depth + 1);
	closedir(d);
}

/* One pass over every hierarchy: 1 when all are gone, 0 when some are busy. */
static int remove_pass(struct cg_manager *cg, struct bw_error *err)
{
	bool busy = false;
	for (size_t i = 0; i < cg->nh; i++) {
		int r = fs_rmdir_tree_at(AT_FDCWD, cg->h[i].dir);
		if (r == -EBUSY || r == -ENOTEMPTY)
			busy = true;
		else if (r < 0)
			return bw_fail(err, -r, "remove cgroup `%s`", cg->h[i].dir);
	}
	return busy ? 0 : 1;
}

/* Before systemd stops the scope, nothing may be left in it: stopping would send SIGTERM and
 * wait for TimeoutStopSec. Killed as cg_destroy kills; bounded the same way. */
static void sd_empty(struct cg_manager *cg)
{
	for (int round = 0; round < 40; round++) {
		pid_t *pids = NULL;
		size_t n = 0;
		struct bw_error e = {0};
		if (cg_pids(cg, &pids, &n, &e) < 0 || n == 0) {
			free(pids);
			return;
		}
		free(pids);
		for (size_t i = 0; i < cg->nh; i++)
			thaw_tree(AT_FDCWD, cg->h[i].dir, 0);
		cg_kill_all(cg, SIGKILL, &e);
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

#define CG_DESTROY_WAIT_MS 5000

static long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cg_remove_when_empty(struct cg_manager *cg, long wait_ms, struct bw_error *err)
{
	long start = monotonic_ms(), step = 1;
	for (;;) {
		int r = remove_pass(cg, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
		if (monotonic_ms() - start >= wait_ms)
			return bw_fail(err, EBUSY, "remove cgroup `%s`: it still has processes",
				       cg->path);
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		step = step < 64 ? step * 2 : step;
	}
}

int cg_destroy(struct cg_manager *cg, struct bw_error *err)
{
	long start = monotonic_ms(), step = 1;
	if (cg->sd_unit != NULL) {
		/* Not started by us (refused: the name is another container's): nothing at its
		 * path is ours to kill or remove. */
		if (!cg->sd_started)
			return 0;
		/* A create that died before systemd refused it the name (another container's)
		 * recorded that name all the same. */
		int own = cg->sd_attached ? cg_sd_owner_check(cg, err) : 0;
		if (own < 0)
			return -1;
		if (own == 1) {
			log_warn("systemd unit `%s` belongs to another container: left alone",
				 cg->sd_unit);
			return 0;
		}
		sd_empty(cg);
		if (cg_sd_stop(cg, err) < 0)
			return -1;
	}
	for (int round = 0;; round++) {
		int r = remove_pass(cg, err);
		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
		/* Killed tasks need CPU to exit: on a loaded host, in a cgroup of low weight
		 * (the /bulwark parent's), that can take seconds. */
		if (monotonic_ms() - start >= CG_DESTROY_WAIT_MS)
			return bw_fail(err, EBUSY,
				       "remove cgroup `%s`: processes linger after SIGKILL",
				       cg->path);
		if (round % 4 == 0) {
			struct bw_error e = {0};
			for (size_t i = 0; i < cg->nh; i++)
				thaw_tree(AT_FDCWD, cg->h[i].dir, 0);
			if (cg_kill_all(cg, SIGKILL, &e) < 0)
				log_debug("cgroup destroy: %s", e.msg);
		}
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
		step = step < 64 ? step * 2 : step;
	}
}
