/* The processes of a container's cgroup: listing them (sub-cgroups included), signalling them
 * all without racing forks, and pausing them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

/* The hierarchy whose tree lists the processes: cgroup2 when present, else pids, devices,
 * or the first v1 one. */
static struct cg_hier *procs_hier(struct cg_manager *cg)
{
	if (cg->v2 >= 0)
		return &cg->h[cg->v2];
	struct cg_hier *h = cg_hier_for(cg, CG_PIDS);
	if (h == NULL)
		h = cg_hier_for(cg, CG_DEVICES);
	return h != NULL ? h : cg->nh > 0 ? &cg->h[0] : NULL;
}

static void push_pid(pid_t **v, size_t *n, pid_t p)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == p)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(pid_t));
	(*v)[(*n)++] = p;
}

static int collect(const char *dir, int depth, pid_t **v, size_t *n, struct bw_error *err)
{
	_cleanup_free_ char *s = NULL;
	if (depth > 32)
		return bw_fail(err, ELOOP, "cgroup tree `%s` too deep", dir);
	if (cg_read(dir, "cgroup.procs", &s, err) < 0)
		return err->code == ENOENT && depth == 0 ? (bw_error_clear(err), 0) : -1;
	char *save = NULL;
	for (char *t = strtok_r(s, "\n", &save); t != NULL; t = strtok_r(NULL, "\n", &save)) {
		int p;
		if (parse_int(t, &p) == 0 && p > 0)
			push_pid(v, n, p);
	}
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "open `%s`", dir);
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d)) != NULL;) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = fs_path_join(dir, de->d_name);
		r = collect(sub, depth + 1, v, n, err);
	}
	closedir(d);
	return r;
}

int cg_pids(struct cg_manager *cg, pid_t **pids, size_t *n, struct bw_error *err)
{
	struct cg_hier *h = procs_hier(cg);
	*pids = NULL;
	*n = 0;
	if (h == NULL)
		return 0;
	if (collect(h->dir, 0, pids, n, err) < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return bw_wrap(err, "list processes of cgroup `%s`", cg->path);
	}
	return 0;
}

static int freeze_at(struct cg_hier *h, bool freeze, struct bw_error *err)
{
	return h->m.v2 ? cg_v2_freeze(h->dir, freeze, err) : cg_v1_freeze(h->dir, freeze, err);
}

int cg_freeze(struct cg_manager *cg, struct bw_error *err)
{
	struct cg_hier *h = cg_hier_for(cg, CG_FREEZER);
	if (h == NULL)
		return bw_fail(err, 0, "pause: no freezer cgroup on this host");
	if (freeze_at(h, true, err) < 0)
		return bw_wrap(err, "freeze cgroup `%s`", cg->path);
	return 0;
}

int cg_thaw(struct cg_manager *cg, struct bw_error *err)
{
	struct cg_hier *h = cg_hier_for(cg, CG_FREEZER);
	if (h == NULL)
		return bw_fail(err, 0, "resume: no freezer cgroup on this host");
	if (freeze_at(h, false, err) < 0)
		return bw_wrap(err, "thaw cgroup `%s`", cg->path);
	return 0;
}

int cg_is_frozen(struct cg_manager *cg, bool *frozen, struct bw_error *err)
{
	struct cg_hier *h = cg_hier_for(cg, CG_FREEZER);
	_cleanup_free_ char *s = NULL;
	*frozen = false;
	if (h == NULL)
		return 0;
	if (cg_read(h->dir, h->m.v2 ? "cgroup.freeze" : "freezer.state", &s, err) < 0)
		return bw_wrap(err, "read the freezer state of `%s`", cg->path);
	*frozen = h->m.v2 ? strcmp(s, "1") == 0 : strcmp(s, "FROZEN") == 0;
	return 0;
}

static int signal_pids(struct cg_manager *cg, int sig, size_t *sent, struct bw_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	*sent = 0;
	if (cg_pids(cg, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (kill(pids[i], sig) == 0)
			(*sent)++;
		else if (errno != ESRCH)
			return bw_fail(err, errno, "kill pid %d", (int)pids[i]);
	}
	return 0;
}

/* Without cgroup.kill: freeze so nothing forks between listing and signalling, signal every
 * listed process, then thaw (always for SIGKILL: a frozen v1 task dies only once thawed). */
static int kill_frozen(struct cg_manager *cg, int sig, struct bw_error *err)
{
	struct cg_hier *fz = cg_hier_for(cg, CG_FREEZER);
	bool was_frozen = false, froze = false;
	size_t sent;

	if (fz != NULL && cg_is_frozen(cg, &was_frozen, err) == 0 && !was_frozen) {
		struct bw_error e = {0};
		froze = freeze_at(fz, true, &e) == 0;
		if (!froze)
			log_debug("kill: could not freeze first: %s", e.msg);
	}
	int r = signal_pids(cg, sig, &sent, err);
	if (fz == NULL) {
		/* No freezer: repeat until a pass finds nothing new to signal. */
		for (int i = 0; r == 0 && sent > 0 && sig == SIGKILL && i < 8; i++)
			r = signal_pids(cg, sig, &sent, err);
	}
	if (froze || (was_frozen && sig == SIGKILL)) {
		struct bw_error e = {0};
		if (freeze_at(fz, false, &e) < 0 && r == 0)
			r = bw_fail(err, e.code, "%s", e.msg);
	}
	return r;
}

int cg_kill_all(struct cg_manager *cg, int sig, struct bw_error *err)
{
	/* cgroup.kill only when the freezer is v2 too: a task frozen by a v1 freezer would not
	 * die until thawed, which kill_frozen takes care of. */
	if (sig == SIGKILL && cg->v2 >= 0 && cg->ctrl_at[CG_FREEZER] == cg->v2 &&
	    cg_has_file(cg->h[cg->v2].dir, "cgroup.kill")) {
		struct bw_error e = {0};
		if (cg_write(cg->h[cg->v2].dir, "cgroup.kill", "1", &e) == 0)
			return 0;
		if (e.code == ENOENT)
			return 0;
		log_debug("cgroup.kill failed, signalling one by one: %s", e.msg);
	}
	if (kill_frozen(cg, sig, err) < 0)
		return bw_wrap(err, "signal the processes of cgroup `%s`", cg->path);
	return 0;
}
