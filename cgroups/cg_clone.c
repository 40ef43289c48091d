/* A container's process born in its cgroup on v1 and hybrid hosts (issue 18).
 *
 * Moving another process into a cgroup (its pid written to cgroup.procs) takes the kernel's
 * global threadgroup lock for writing, and the first such write after an idle spell waits for
 * an RCU grace period: 13-15 ms on the development machine, more than the rest of a start.
 * cgroup v2 avoids it with clone3(CLONE_INTO_CGROUP); v1 has no such flag. What the kernel
 * does skip the lock for is a thread moving itself ("0" written to `tasks`). So the process
 * that clones the container's init moves itself into the v1 cgroups first (the cgroup2
 * hierarchy of a hybrid host is entered by CLONE_INTO_CGROUP): a short-lived helper the
 * runtime forks for a new container (spawn/spawn_clone.c), never the runtime itself, which
 * stays in its own cgroups, out of reach of the container's limits, freezer and OOM killer;
 * an exec'd process moves itself, first thing (init.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

/* A memory limit this small could have the helper killed in the clone (a task, its
 * namespaces, page tables are charged to the new cgroup): such a container takes the old path,
 * whose messages explain the limit. A helper killed anyway (a tight limit on a cgroup above)
 * fails the create, in a message that says so: it may have cloned an init already. */
#define CLONE_MEMORY_FLOOR (16LL << 20)

static bool below_floor(const struct opt_i64 *v)
{
	return v->set && v->v >= 0 && v->v < CLONE_MEMORY_FLOOR;
}

/* v1 hierarchies to enter, and the cgroup2 one's fd (hybrid) into c->fd. */
static int self_enter_plan(struct cg_manager *cg, struct cg_clone *c, const char *what)
{
	if (cg->v2 >= 0) {
		c->fd = open(cg->h[cg->v2].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c->fd < 0) {
			log_debug("cgroup: %s in place: %s: %s", what, cg->h[cg->v2].dir,
				  strerror(errno));
			return -1;
		}
		c->own_fd = true;
	}
	c->self_enter = c->in_place = true;
	return c->fd;
}

int cg_clone_begin(struct cg_manager *cg, const struct oci_resources *res, struct cg_clone *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (cg->mode == CG_MODE_UNIFIED || cg->sd_unit != NULL) {
		c->fd = cg_clone_fd(cg);
		c->in_place = c->fd >= 0;
		return c->fd;
	}
	/* Only into cgroups this create made: one that was there may hold processes, or be
	 * frozen by whoever made it. */
	for (size_t i = 0; i < cg->nh; i++)
		if (cg->h[i].existed || cg->allow_populated) {
			log_debug("cgroup: clone in place: %s existed before", cg->h[i].dir);
			return -1;
		}
	if (res != NULL &&
	    (below_floor(&res->memory.limit) || below_floor(&res->memory.swap) ||
	     below_floor(&res->memory.kernel) ||
	     (res->memory.disable_oom_killer.set && res->memory.disable_oom_killer.v) ||
	     (res->pids_limit.set && res->pids_limit.v > 0 && res->pids_limit.v < 2))) {
		log_debug("cgroup: clone in place: not under a memory limit below 16 MiB, no OOM "
			  "killer or pids.max 1");
		return -1;
	}
	return self_enter_plan(cg, c, "clone");
}

int cg_exec_clone_begin(struct cg_manager *cg, struct cg_clone *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (cg->sd_unit != NULL && !cg->sd_started)
		return -1;
	if (cg->mode == CG_MODE_UNIFIED) {
		c->fd = cg_clone_fd(cg);
		c->in_place = c->fd >= 0;
		return c->fd;
	}
	return self_enter_plan(cg, c, "exec");
}

void cg_clone_end(struct cg_clone *c)
{
	/* The cgroup2 fd of a hybrid host is ours; cg_clone_fd's belongs to the manager. */
	if (c->own_fd)
		close(c->fd);
	c->own_fd = c->in_place = c->self_enter = false;
	c->fd = -1;
}

static int write_self(const char *dir)
{
	_cleanup_free_ char *path = fs_path_join(dir, "tasks");
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = write(fd, "0", 1) == 1 ? 0 : -errno;
	close(fd);
	return r;
}

int cg_enter_self(const struct cg_manager *cg, struct bw_error *err)
{
	for (size_t i = 0; i < cg->nh; i++) {
		if (cg->h[i].m.v2)
			continue;
		int r = write_self(cg->h[i].dir);
		if (r < 0)
			return bw_fail(err, -r, "move into the %s cgroup %s", cg->h[i].m.label,
				       cg->h[i].dir);
	}
	return 0;
}
