/* State directory handling: exclusive creation, locking, atomic state writes, live status. */
#include "container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

/* The id names the state directory and the cgroup leaf: one path component (NAME_MAX).
 * Messages quote it bounded and escaped, as the id is untrusted. */
int container_validate_id(const char *id, struct bw_error *err)
{
	char q[48];
	size_t n = strlen(id);
	if (n == 0)
		return bw_fail(err, 0, "invalid container id: must not be empty");
	if (n > CONTAINER_ID_MAX)
		return bw_fail(err, ENAMETOOLONG,
			       "invalid container id %s (%zu bytes): must be at most %d bytes",
			       log_quote(q, sizeof(q), id), n, CONTAINER_ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return bw_fail(err, 0, "invalid container id \"%s\"", id);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)id[i];
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' && ch != '+')
			return bw_fail(
			    err, 0,
			    "invalid container id %s: only letters, digits and _ - . + are allowed",
			    log_quote(q, sizeof(q), id));
	}
	return 0;
}

static struct container *container_alloc(const char *root, const char *id)
{
	struct container *c = xcalloc(1, sizeof(*c));
	c->root = xstrdup(root);
	c->id = xstrdup(id);
	c->dir = fs_path_join(root, id);
	c->dirfd = -1;
	c->lockfd = -1;
	return c;
}

/* Only container_new makes the lock file. A loader that made it again could put it back into a
 * directory its holder is removing (lock unlinked, rmdir next): rmdir then fails "not empty"
 * and the directory stays for good. A missing lock is a container on its way out. */
static int container_lock_how(struct container *c, int how, bool create, struct bw_error *err)
{
	c->lockfd = openat(c->dirfd, "lock",
			   O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	if (c->lockfd < 0 && errno == ENOENT && !create) {
		bw_fail(err, 0, "container does not exist");
		return -ENOENT;
	}
	if (c->lockfd < 0)
		return bw_fail(err, errno, "open lock of container %s", c->id);
	while (flock(c->lockfd, how) < 0)
		if (errno != EINTR)
			return bw_fail(err, errno, "lock container %s", c->id);
	return 0;
}

void container_unlock(struct container *c)
{
	if (c->lockfd >= 0) {
		close(c->lockfd);
		c->lockfd = -1;
	}
}

static int container_lock(struct container *c, struct bw_error *err)
{
	return container_lock_how(c, LOCK_EX, true, err);
}

int container_new(const char *root, const char *id, struct container **out, struct bw_error *err)
{
	if (container_validate_id(id, err) < 0)
		return -1;
	if (fs_mkdir_p(root, 0711, err) < 0)
		return bw_wrap(err, "state root");
	struct container *c = container_alloc(root, id);
	if (mkdir(c->dir, 0711) < 0) {
		int e = errno;
		container_free(c);
		if (e == EEXIST)
			return bw_fail(err, 0, "container with id exists: %s", id);
		return bw_fail(err, e, "create state directory for %s", id);
	}
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->dirfd < 0 || container_lock(c, err) < 0) {
		if (c->dirfd < 0)
			bw_fail(err, errno, "open state directory `%s`", c->dir);
		rmdir(c->dir);
		container_free(c);
		return -1;
	}
	c->state.id = xstrdup(id);
	c->state.status = OCI_STATUS_CREATING;
	*out = c;
	return 0;
}

static int load(const char *root, const char *id, int how, struct container **out,
		struct bw_error *err);

/* Whether <root>/<id> is still the directory we hold (not renamed away into a tombstone,
 * unlinked, or replaced by a new container of the same id): every path-based step needs it. */
static bool container_dir_is_ours(const struct container *c)
{
	struct stat held, named;
	return fstat(c->dirfd, &held) == 0 && held.st_nlink > 0 && lstat(c->dir, &named) == 0 &&
	       named.st_dev == held.st_dev && named.st_ino == held.st_ino;
}

int container_load(const char *root, const char *id, struct container **out, struct bw_error *err)
{
	return load(root, id, LOCK_EX, out, err);
}

int container_try_load(const char *root, const char *id, struct container **out,
		       struct bw_error *err)
{
	return load(root, id, LOCK_EX | LOCK_NB, out, err);
}

static int load(const char *root, const char *id, int how, struct container **out,
		struct bw_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	if (container_validate_id(id, err) < 0)
		return -1;
	struct container *c = container_alloc(root, id);
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->dirfd < 0) {
		int e = errno;
		container_free(c);
		if (e == ENOENT) {
			bw_fail(err, 0, "container does not exist");
			return -ENOENT;
		}
		return bw_fail(err, e, "open state of container %s", id);
	}
	int lr = container_lock_how(c, how, false, err);
	if (lr < 0) {
		container_free(c);
		return lr == -ENOENT ? -ENOENT : -1;
	}
	/* Whoever held the lock before us may have deleted the container (a watchdog's
	 * teardown): its directory is then renamed away or unlinked, and a new one of the same
	 * id is not ours. */
	if (!container_dir_is_ours(c)) {
		container_free(c);
		bw_fail(err, 0, "container does not exist");
		return -ESTALE;
	}
	_cleanup_close_ int fd = openat(c->dirfd, "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		/* A directory without state: a create that died before writing anything, or a
		 * delete racing us. Report it as absent; delete --force removes the directory. */
		*out = c;
		c->state.id = xstrdup(id);
		c->state.status = OCI_STATUS_STOPPED;
		if (e == ENOENT)
			return 0;
		return bw_fail(err, e, "open state of container %s", id);
	}
	if (fs_read_fd(fd, 1 << 20, &json, &len, err) < 0 ||
	    oci_state_parse(json, len, &c->state, err) < 0) {
		container_free(c);
		return bw_wrap(err, "state of container %s", id);
	}
	*out = c;
	return 0;
}

int container_save(struct container *c, struct bw_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	if (oci_state_to_json(&c->state, false, false, &json, &len, err) < 0)
		return -1;
	return fs_write_atomic_at(c->dirfd, "state.json", json, len, 0600, err);
}

uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	p += 2;
	/* p is at field 3 (state); a zombie has exited: treat as gone. */
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}

bool container_fifo_exists(struct container *c)
{
	struct stat st;
	return fstatat(c->dirfd, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool init_alive(struct container *c)
{
	if (c->state.pid <= 0)
		return false;
	uint64_t t = proc_start_time(c->state.pid);
	return t != 0 && t == c->state.init_start_time;
}

enum oci_status container_status(struct container *c)
{
	if (c->state.status == OCI_STATUS_CREATING)
		return init_alive(c) || c->state.pid == 0 ? OCI_STATUS_CREATING
							  : OCI_STATUS_STOPPED;
	if (!init_alive(c))
		return OCI_STATUS_STOPPED;
	if (container_fifo_exists(c))
		return OCI_STATUS_CREATED;
	if (c->state.cgroup_path != NULL) {
		struct cg_manager *cg = NULL;
		bool frozen = false;
		if (cg_open(c->state.cgroup_path, c->id, &cg, NULL) == 0) {
			cg_is_frozen(cg, &frozen, NULL);
			cg_free(cg);
		}
		if (frozen)
			return OCI_STATUS_PAUSED;
	}
	return OCI_STATUS_RUNNING;
}

int container_pidfd(struct container *c, struct bw_error *err)
{
	if (c->state.pid <= 0)
		return bw_fail(err, ESRCH, "container %s has no process", c->id);
	int fd = (int)syscall(SYS_pidfd_open, c->state.pid, 0);
	if (fd < 0)
		return bw_fail(err, errno, "pidfd_open %d", (int)c->state.pid);
	/* Checked after opening: if the start time still matches, the fd is the init's. */
	if (!init_alive(c)) {
		close(fd);
		return bw_fail(err, ESRCH, "container %s is not running", c->id);
	}
	return fd;
}

void container_record_helper(struct container *c, enum state_cleanup_kind kind, pid_t pid,
			     uint64_t start)
{
	if (start == 0)
		start = proc_start_time(pid);
	state_cleanup_add_pid(&c->state, kind, pid, start);
}

int container_helper_pidfd(struct container *c, enum state_cleanup_kind kind)
{
	const struct state_cleanup *e;
	for (size_t i = 0; (e = state_cleanup_next(&c->state, kind, &i)) != NULL;) {
		int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
		/* Checked after opening: a matching start time makes the fd the helper's own. */
		if (fd >= 0 && proc_start_time(e->pid) == e->start)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/* /proc/<pid>/stat field 3; 0 if unreadable. */
static char proc_state(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

int container_helper_check(struct container *c, enum state_cleanup_kind kind)
{
	const struct state_cleanup *e;
	bool unknown = false;
	for (size_t i = 0; (e = state_cleanup_next(&c->state, kind, &i)) != NULL;) {
		_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
		if (fd < 0 && errno != ESRCH)
			unknown = true; /* out of fds, a seccomp refusal: not a death */
		if (fd >= 0 && proc_start_time(e->pid) == e->start)
			return 1;
	}
	return unknown ? -1 : 0;
}

bool container_helper_alive(struct container *c, enum state_cleanup_kind kind)
{
	return container_helper_check(c, kind) != 0;
}

bool container_helper_stopped(struct container *c, enum state_cleanup_kind kind)
{
	const struct state_cleanup *e;
	for (size_t i = 0; (e = state_cleanup_next(&c->state, kind, &i)) != NULL;) {
		char st = proc_state(e->pid);
		if ((st == 'T' || st == 't') && proc_start_time(e->pid) == e->start)
			return true;
	}
	return false;
}

/* The pid namespace pids in the state belong to: the creator's. */
static bool own_pidns(struct stat *st)
{
	return stat("/proc/self/ns/pid", st) == 0;
}

void container_record_pidns(struct container *c)
{
	struct stat st;
	if (own_pidns(&st))
		state_cleanup_add_pidns(&c->state, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

bool container_same_pidns(const struct container *c)
{
	struct stat st;
	const struct state_cleanup *e = state_cleanup_find(&c->state, STATE_CLEANUP_PIDNS);
	if (e == NULL)
		return true; /* recorded before pid namespaces were: as before */
	return own_pidns(&st) && (uint64_t)st.st_dev == e->dev && (uint64_t)st.st_ino == e->ino;
}

void container_replace_helper(struct container *c, enum state_cleanup_kind kind, pid_t pid,
			      uint64_t start)
{
	state_cleanup_remove(&c->state, kind);
	container_record_helper(c, kind, pid, start);
}

void container_stop_helper(struct container *c, enum state_cleanup_kind kind, int sig, int wait_ms)
{
	const struct state_cleanup *e;
	for (size_t i = 0; (e = state_cleanup_next(&c->state, kind, &i)) != NULL;) {
		/* The watchdog releasing an expired container runs this very teardown. */
		if (e->pid == getpid())
			continue;
		_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
		/* Checked after opening: a matching start time makes the fd the helper's own. */
		if (fd < 0 || proc_start_time(e->pid) != e->start)
			continue;
		struct pollfd p = {fd, POLLIN, 0};
		syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
		if (poll(&p, 1, wait_ms) == 1)
			continue;
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		poll(&p, 1, 1000);
	}
}

/* '~' is no id's character: a tombstone is never a container's directory. */
#define GONE_PREFIX ".gone~"

/* The directory is first renamed out of the way in one step: a remover killed halfway (a
 * watchdog's SIGKILL) leaves a ".gone~" tombstone that container_reap_gone finishes, never a
 * directory without its lock that no later command would load, and the id is free at once. */
static char *tombstone_path(const char *root)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return xasprintf("%s/" GONE_PREFIX "%d~%lld%09ld", root, (int)getpid(),
			 (long long)ts.tv_sec, ts.tv_nsec);
}

int container_remove(struct container *c, struct bw_error *err)
{
	_cleanup_free_ char *gone = tombstone_path(c->root);
	/* Under our lock nobody else renames it; a directory that is no longer ours was renamed
	 * away already (a tombstone the reaper finishes): never remove its successor. */
	if (c->dirfd >= 0 && !container_dir_is_ours(c))
		return 0;
	bool moved = rename(c->dir, gone) == 0;
	if (fs_remove_tree(moved ? gone : c->dir, err) < 0) {
		/* What cannot be removed (an immutable file) goes back under its id, where list
		 * shows it and delete --force retries, rather than hide in a tombstone. */
		if (moved)
			renameat2(AT_FDCWD, gone, AT_FDCWD, c->dir, RENAME_NOREPLACE);
		return bw_wrap(err, "remove state of container %s", c->id);
	}
	return 0;
}

bool container_reap_gone(const char *root, const char *name)
{
	if (!str_has_prefix(name, GONE_PREFIX))
		return false;
	struct bw_error e = {0};
	struct stat rs, ts;
	_cleanup_free_ char *path = fs_path_join(root, name);
	/* Never a mount point: the tree must be on the state root's own file system. */
	if (stat(root, &rs) == 0 && lstat(path, &ts) == 0 && S_ISDIR(ts.st_mode) &&
	    ts.st_dev == rs.st_dev && fs_remove_tree(path, &e) < 0)
		log_debug("state root: `%s` left: %s", name, e.msg);
	return true;
}

int container_remove_leftover(const char *root, const char *id, struct bw_error *err)
{
	struct stat held, moved;
	if (container_validate_id(id, err) < 0)
		return -1;
	_cleanup_free_ char *dir = fs_path_join(root, id);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return bw_fail(err, errno == ELOOP ? ENOTDIR : errno, "state of container %s", id);
	/* With a lock it is a container again (a create of the same id came in between): not
	 * what is left of the one asked for. */
	if (faccessat(fd, "lock", F_OK, AT_SYMLINK_NOFOLLOW) == 0 || fstat(fd, &held) < 0)
		return 0;
	_cleanup_free_ char *gone = tombstone_path(root);
	if (rename(dir, gone) < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "state of container %s", id);
	if (lstat(gone, &moved) < 0 || moved.st_dev != held.st_dev || moved.st_ino != held.st_ino) {
		/* Another directory took the name between our open and the rename: put it back. */
		if (renameat2(AT_FDCWD, gone, AT_FDCWD, dir, RENAME_NOREPLACE) < 0)
			log_warn("state of container %s: moved to `%s`", id, gone);
		return 0;
	}
	if (fs_remove_tree(gone, err) < 0 && err->code != ENOENT)
		return bw_wrap(err, "remove what is left of container %s", id);
	bw_error_clear(err);
	return 0;
}

void container_free(struct container *c)
{
	if (c == NULL)
		return;
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	oci_state_free_fields(&c->state);
	free(c->root);
	free(c->id);
	free(c->dir);
	free(c);
}

/* A container without a cgroup (rootless, lifecycle/lifecycle_cgroup.c): the processes of the
 * init's pid namespace, found by their /proc/PID/ns/pid link; without one of its own, the init
 * alone. */
/* The /proc/PID/ns/pid link of pid into buf (64 bytes); false if it cannot be read. */
static bool pidns_link(pid_t pid, char *buf)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	ssize_t l = readlink(path, buf, 63);
	if (l < 0)
		return false;
	buf[l] = '\0';
	return true;
}

bool container_pid_shares_pidns(pid_t pid, pid_t init)
{
	char a[64], b[64];
	return pidns_link(pid, a) && pidns_link(init, b) && strcmp(a, b) == 0;
}

int container_pidns_members(pid_t init, pid_t **pids, size_t *n, struct bw_error *err)
{
	char want[64], self[64], got[64];
	*pids = NULL;
	*n = 0;
	if (init <= 0)
		return 0;
	if (!pidns_link(init, want))
		return bw_fail(err, errno, "the pid namespace of pid %d", (int)init);
	if (pidns_link(getpid(), self) && strcmp(self, want) == 0) {
		*pids = xmalloc(sizeof(pid_t));
		(*pids)[(*n)++] = init;
		return 0;
	}
	DIR *d = opendir("/proc");
	if (d == NULL)
		return bw_fail(err, errno, "/proc");
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int64_t v;
		if (parse_i64(e->d_name, &v) < 0 || v <= 0 || v > INT32_MAX ||
		    !pidns_link((pid_t)v, got) || strcmp(got, want) != 0)
			continue;
		*pids = xrealloc(*pids, (*n + 1) * sizeof(pid_t));
		(*pids)[(*n)++] = (pid_t)v;
	}
	closedir(d);
	return 0;
}
