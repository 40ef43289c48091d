/* The container's cgroup: a new one opened (cgroupfs, a delegated subtree, the user's systemd
 * scope, or --systemd-cgroup's scope), none when rootless where no cgroup can be written, the
 * parents a create made, and the cgroup found again and removed by teardown. */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/lifecycle/lifecycle_internal.h"

/* The parents of the container's cgroup that this create made ("cgparent" entries, outermost
 * first): delete removes them when they are empty, and never one that was there before. */
void lifecycle_record_cgroup_parents(struct container *c, const struct cg_manager *cg)
{
	char **made = cg_parents_made(cg);
	for (size_t i = 0; made != NULL && made[i] != NULL; i++)
		state_cleanup_add_str(&c->state, STATE_CLEANUP_CGPARENT, made[i]);
	strv_free(made);
}

void lifecycle_remove_cgroup_parents(const struct container *c)
{
	char **dirs = NULL;
	const struct state_cleanup *e;
	for (size_t i = 0;
	     c != NULL && (e = state_cleanup_next(&c->state, STATE_CLEANUP_CGPARENT, &i)) != NULL;)
		strv_push(&dirs, e->str);
	cg_remove_parents(dirs);
	strv_free(dirs);
}

/* The first limit of res that only a cgroup can enforce (devices rules aside: in a user
 * namespace no device node can be made, and the host's nodes bound in keep their own
 * permissions), as its config field; NULL if none. */
static const char *cgroup_only_limit(const struct oci_spec *spec)
{
	const struct oci_resources *r = &spec->linux.resources;
	const struct oci_memory *m = &r->memory;
	const struct oci_cpu *cpu = &r->cpu;
	const struct oci_block_io *b = &r->block_io;
	if (!spec->linux.has_resources)
		return NULL;
	if (m->limit.set || m->reservation.set || m->swap.set || m->kernel.set ||
	    m->kernel_tcp.set || m->swappiness.set || m->disable_oom_killer.set)
		return "linux.resources.memory";
	if (cpu->shares.set || cpu->quota.set || cpu->burst.set || cpu->period.set ||
	    cpu->realtime_runtime.set || cpu->realtime_period.set || cpu->cpus || cpu->mems ||
	    cpu->idle.set)
		return "linux.resources.cpu";
	if (r->pids_limit.set && r->pids_limit.v > 0)
		return "linux.resources.pids.limit";
	bool throttle = false;
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		throttle = throttle || b->n_throttle[k] > 0;
	if (b->weight.set || b->leaf_weight.set || b->n_weight_devices > 0 || throttle)
		return "linux.resources.blockIO";
	if (r->n_hugepage_limits > 0)
		return "linux.resources.hugepageLimits";
	if (r->net_class_id.set || r->n_net_priorities > 0)
		return "linux.resources.network";
	if (r->n_rdma > 0)
		return "linux.resources.rdma";
	if (r->n_unified > 0)
		return "linux.resources.unified";
	return NULL;
}

/* Why the user's systemd gave no scope (open_cgroupfs), for the refusal below. */
static char user_scope_why[BW_ERROR_MAX + 64];

/* Rootless, where cg_create was refused (no cgroup this user may write: a hybrid or v1 host,
 * or v2 without a delegated subtree): the container runs without one, as runc's rootless
 * mode does, unless the config asks for a limit only a cgroup enforces: that is refused, never
 * silently dropped. Its pid namespace still ends every process with the init. */
int lifecycle_rootless_without_cgroup(struct container *c, const struct oci_spec *spec,
				      struct bw_error *err)
{
	if (geteuid() == 0 || !(err->code == EACCES || err->code == EPERM || err->code == EROFS))
		return -1;
	char why[BW_ERROR_MAX + 64];
	bw_error_text(err, why, sizeof(why));
	const char *field = cgroup_only_limit(spec);
	if (field != NULL)
		return bw_fail(err, 0,
			       "%s: no cgroup can be written by uid %d on this host, so the limit "
			       "cannot be enforced (remove it, run as root, or use a host with a "
			       "delegated cgroup v2 subtree%s%s): %s",
			       field, (int)geteuid(), user_scope_why[0] != '\0' ? "; " : "",
			       user_scope_why, why);
	*err = (struct bw_error){0};
	log_debug("rootless: running without a cgroup (%s)", why);
	free(c->state.cgroup_path);
	c->state.cgroup_path = NULL;
	state_cleanup_add(&c->state, STATE_CLEANUP_CGROUP_NONE);
	return 0;
}

/* The container's systemd scope, recorded in its state directory as soon as it is named (before
 * systemd makes it), so that delete finds it even after a create that died half-way. */
#define SYSTEMD_UNIT_FILE "systemd-unit"
#define CGROUP_PATH_FILE "cgroup-path"

/* The container's state directory as an absolute path (what the id pool and a systemd unit's
 * Description name), or c->dir as it is when it cannot be resolved. */
const char *lifecycle_abs_state_dir(const struct container *c, char dir[PATH_MAX])
{
	return realpath(c->dir, dir) != NULL ? dir : c->dir;
}

static void systemd_owner(const struct container *c, struct cg_manager *cg)
{
	char dir[PATH_MAX];
	cg_systemd_set_owner(cg, lifecycle_abs_state_dir(c, dir));
}

/* Rootless outside a delegated cgroup: a scope from the caller's own systemd (docs/rootless.md),
 * which this process enters before it forks the init, as podman does. The container keeps it
 * alive; systemd removes it once delete has ended the container and removed its cgroup, or
 * when a create that failed exits. Its name has a random part: the same id under another
 * --root is another container. */
static int user_scope(const char *id, struct cg_delegation *d, struct bw_error *err)
{
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return bw_fail(err, errno, "getrandom");
	_cleanup_free_ char *unit = xasprintf("bulwark-%s-%08x.scope", id, rnd);
	_cleanup_free_ char *desc = xasprintf("bulwark container %s", id);
	return cg_user_scope_delegation(unit, desc, d, user_scope_why, sizeof(user_scope_why), err);
}

/* The cgroupfs driver's cgroup for a new container: without root, below the caller's delegated
 * cgroup v2 subtree when it has one (docs/rootless.md), else where root would put it (a create
 * there is refused with EACCES: rootless_without_cgroup). */
static int open_cgroupfs(const struct oci_spec *spec, const char *id, bool probe,
			 struct cg_manager **cg, struct bw_error *err)
{
	struct cg_delegation d = {0};
	int r = geteuid() == 0 ? 0 : cg_delegated(&d, err);
	if (r == 0 && geteuid() != 0 && !probe)
		r = user_scope(id, &d, err);
	if (r < 0)
		return bw_wrap(err, "find a delegated cgroup");
	if (r == 0)
		return cg_open(spec->linux.cgroups_path, id, cg, err);
	log_debug("rootless: delegated cgroup `%s` (controllers: %s)", d.base, d.controllers);
	r = cg_open_delegated(spec->linux.cgroups_path, id, &d, cg, err);
	cg_delegation_free(&d);
	return r;
}

int lifecycle_open_new_cgroup(const struct global_opts *g, struct container *c,
			      const struct oci_spec *spec, struct cg_manager **cg,
			      struct bw_error *err)
{
	if (!g->systemd_cgroup) {
		if (open_cgroupfs(spec, c->id, false, cg, err) < 0)
			return -1;
		/* Rootless, the cgroup may be in a user scope of a random name: where it is, for a
		 * delete after a create that crashed before state.json. */
		if (geteuid() != 0 && fs_write_atomic_at(c->dirfd, CGROUP_PATH_FILE, cg_path(*cg),
							 strlen(cg_path(*cg)), 0600, err) < 0) {
			cg_free(*cg);
			*cg = NULL;
			return -1;
		}
		return 0;
	}
	if (geteuid() != 0)
		return bw_fail(err, 0,
			       "--systemd-cgroup: only root may use the systemd cgroup driver here "
			       "(a user's systemd instance is not supported)");
	if (cg_open_systemd(spec->linux.cgroups_path, c->id, cg, err) < 0)
		return -1;
	systemd_owner(c, *cg);
	const char *unit = cg_systemd_unit(*cg);
	if (fs_write_atomic_at(c->dirfd, SYSTEMD_UNIT_FILE, unit, strlen(unit), 0600, err) < 0) {
		cg_free(*cg);
		*cg = NULL;
		return bw_wrap(err, "record the systemd unit");
	}
	return 0;
}

int lifecycle_cgroup_open(struct container *c, const char *path, struct cg_manager **out,
			  struct bw_error *err)
{
	_cleanup_free_ char *unit = NULL;
	struct bw_error e = {0};
	if (cg_open(path, c->id, out, err) < 0)
		return -1;
	if (fs_read_file_at(c->dirfd, SYSTEMD_UNIT_FILE, 512, &unit, &e) < 0)
		return 0;
	unit[strcspn(unit, "\n")] = '\0';
	if (cg_attach_systemd_unit(*out, unit, c->id, err) < 0) {
		cg_free(*out);
		*out = NULL;
		return -1;
	}
	systemd_owner(c, *out);
	return 0;
}

/* A create that crashed before writing state.json left at most its config copy: the
 * cgroup (and any stray init in it) is found from there. NULL: not found, or not wanted. */
static char *cgroup_of_crashed_create(struct container *c, struct bw_error *e2)
{
	struct oci_spec *spec = NULL;
	char *cg_path_buf = NULL;
	if (c->state.cgroup_path != NULL ||
	    state_cleanup_has(&c->state, STATE_CLEANUP_CGROUP_NONE) ||
	    lifecycle_load_spec(c, &spec, e2) != 0)
		return NULL;
	struct cg_manager *probe = NULL;
	_cleanup_free_ char *unit = NULL, *recorded = NULL;
	if (fs_read_file_at(c->dirfd, SYSTEMD_UNIT_FILE, 512, &unit, e2) == 0 &&
	    cg_open_systemd(spec->linux.cgroups_path, c->id, &probe, e2) == 0)
		cg_path_buf = xstrdup(cg_path(probe));
	else if (unit == NULL &&
		 fs_read_file_at(c->dirfd, CGROUP_PATH_FILE, 4096, &recorded, e2) == 0)
		cg_path_buf = steal_ptr(&recorded);
	else if (unit == NULL && open_cgroupfs(spec, c->id, true, &probe, e2) == 0)
		cg_path_buf = xstrdup(cg_path(probe));
	cg_free(probe);
	oci_spec_free(spec);
	return cg_path_buf;
}

int lifecycle_cgroup_remove(struct container *c, struct bw_error *e2, struct bw_error *err)
{
	_cleanup_free_ char *cg_path_buf = cgroup_of_crashed_create(c, e2);
	const char *cgp = c->state.cgroup_path ? c->state.cgroup_path : cg_path_buf;
	if (cgp == NULL)
		return 0;
	struct cg_manager *cg = NULL;
	if (lifecycle_cgroup_open(c, cgp, &cg, err) < 0)
		return -1;
	/* Saved by a create before its cgroup was made (an owner's, for its watchdog): that path
	 * may have been refused as another container's. Nothing in it is killed: ours empties as
	 * its init dies with the owner; one that stays populated is not ours, and is left. */
	if (state_cleanup_has(&c->state, STATE_CLEANUP_CGROUP_PENDING) &&
	    cg_systemd_unit(cg) == NULL) {
		if (cg_remove_when_empty(cg, 2000, e2) < 0)
			log_warn("teardown: %s: left alone", e2->msg);
		else
			lifecycle_remove_cgroup_parents(c);
		cg_free(cg);
		return 0;
	}
	cg_thaw(cg, e2);
	int r = cg_destroy(cg, err);
	cg_free(cg);
	if (r < 0)
		return -1;
	lifecycle_remove_cgroup_parents(c);
	return 0;
}
