/* `bulwark session restore NAME DIR`: a session checkpointed by `session checkpoint` comes back
 * under NAME. DIR is hostile input: held by fd, its files size-bounded and never followed
 * through a symlink, config.json held to what a checkpointable session is
 * (session_restore_check.c), NAME free, all before anything is made. A new supervisor then
 * re-acquires the session's id range, makes its state, cgroup, pid 1's copy and boot id, runs
 * CRIU (its restored init becomes the supervisor's child) and supervises it as `session
 * create`'s does, with the lifetime that was left. docs/sessions.md, "restore". */
#include "runtime/session/session_restore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/checkpoint/checkpoint.h"
#include "runtime/checkpoint/checkpoint_internal.h"
#include "runtime/checkpoint/image_dir.h"
#include "runtime/idpool.h"
#include "runtime/lifecycle.h"
#include "runtime/proctitle.h"
#include "runtime/sandbox/watchdog.h"
#include "runtime/session/session.h"
#include "runtime/session/session_seal.h"

#define CONFIG_MAX (4 << 20) /* as a bundle's config.json */
#define BOOT_ID_FILE "boot_id"
/* Root's, 0711: a directory per restored session for the files CRIU binds into it. */
#define SESSION_FILES_ROOT "/run/bulwark-session-files"

/* What the supervisor made outside the state: their directory, the boot id, pid 1's copy. */
struct made {
	char *files, *boot, *copy;
};

/* What the caller checked and the supervisor restores. */
struct restore_in {
	const struct global_opts *g;
	const char *name;
	struct image_dir img;
	char *abs_dir; /* DIR, absolute: img.path */
	char *raw;     /* config.json */
	size_t raw_len;
	struct oci_spec *spec;
	struct session_meta meta;
	uint32_t base;
};

/* One of DIR's files, bounded and never through a symlink (also checked at open, for all). */
static char *read_dir_file(const struct image_dir *d, const char *name, size_t max, size_t *len,
			   struct bw_error *err)
{
	struct stat st;
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bw_fail(err, errno,
			       "session restore: DIR: %s (not a session checkpoint's "
			       "directory)",
			       name),
		       NULL;
	if (!S_ISREG(st.st_mode))
		return bw_fail(err, 0, "session restore: DIR: %s is not a regular file: refused",
			       name),
		       NULL;
	if ((size_t)st.st_size > max)
		return bw_fail(err, 0, "session restore: DIR: %s is larger than %zu bytes: refused",
			       name, max),
		       NULL;
	char *text = image_dir_read(d, name, max, len);
	if (text == NULL)
		bw_fail(err, 0, "session restore: DIR: %s: unreadable, or not a file of one link",
			name);
	return text;
}

/* Everything about DIR and NAME, before anything is made. */
static int check_input(const struct global_opts *g, const char *dir, struct restore_in *in,
		       struct bw_error *err)
{
	_cleanup_free_ char *path = fs_path_join(cli_state_root(g), in->name);
	struct stat st;
	if (lstat(path, &st) == 0)
		return bw_fail(err, EEXIST,
			       "session restore: session %s: a container or session "
			       "with that name exists",
			       in->name);
	if (geteuid() != 0)
		return bw_fail(err, 0,
			       "session restore: needs root (as session create "
			       "--checkpointable)");
	/* Absolute: CRIU's child opens it again by path, after the supervisor's chdir("/"). */
	in->abs_dir = ck_abs_dir(dir);
	if (in->abs_dir == NULL)
		return bw_fail(err, errno, "session restore: DIR: getcwd");
	if (image_dir_open(&in->img, "session restore: DIR", in->abs_dir, IMAGE_DIR_EXISTING, err) <
	    0)
		return -1;
	in->img.path = in->abs_dir;
	/* Before anything in DIR is read: only an image this host's bulwark wrote. */
	if (session_seal_check(in->img.fd, cli_state_root(g), err) < 0)
		return bw_wrap(err, "session restore");
	if (fstatat(in->img.fd, "inventory.img", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return bw_fail(err, 0,
			       "session restore: DIR: `%s` holds no CRIU image (no "
			       "inventory.img)",
			       dir);
	/* CRIU follows `parent` to earlier dumps; a session checkpoint never has one. */
	if (fstatat(in->img.fd, "parent", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return bw_fail(err, 0,
			       "session restore: DIR: parent: a session checkpoint has no "
			       "earlier dump: refused");
	size_t len = 0;
	_cleanup_free_ char *meta =
	    read_dir_file(&in->img, "session.json", SESSION_META_MAX, &len, err);
	if (meta == NULL || session_meta_parse(meta, len, &in->meta, err) < 0)
		return bw_wrap(err, "session restore");
	in->raw = read_dir_file(&in->img, "config.json", CONFIG_MAX, &in->raw_len, err);
	if (in->raw == NULL)
		return -1;
	if (oci_spec_parse(in->raw, in->raw_len, "config.json", &in->spec, err) < 0 ||
	    session_restore_check_spec(in->spec, &in->base, err) < 0)
		return bw_wrap(err, "session restore");
	return ck_check_confinement(g, in->spec, "session restore", true, err);
}

/* The host's top-level links of the minimal view (merged /usr: bin -> usr/bin), as now. */
static char **host_links(void)
{
	static const char *const names[] = {"bin",   "sbin",   "lib", "lib32",
					    "lib64", "libx32", "usr", "etc"};
	char **links = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[32], target[256];
		snprintf(path, sizeof(path), "/%s", names[i]);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		strv_push(&links, names[i]);
		strv_push(&links, target);
	}
	return links;
}

/* A fresh boot id for the session (the old one was a file of a tmpfs gone with it). */
static int write_boot_id(const char *path, struct bw_error *err)
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return bw_fail(err, errno, "getrandom");
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	char id[40];
	int n = snprintf(id, sizeof(id),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
			 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
			 r[12], r[13], r[14], r[15]);
	return fs_write_atomic(path, id, (size_t)n, 0444, err);
}

/* The files CRIU binds into the session (pid 1's copy, the boot id): CRIU opens them from
 * inside the session's user namespace, which cannot pass the 0700 state root, so they live
 * in a directory of their own, root's and readable by the session's gid 0 only. */
static int make_files_dir(const char *name, uint32_t base, char **out, struct bw_error *err)
{
	if (mkdir(SESSION_FILES_ROOT, 0711) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "mkdir " SESSION_FILES_ROOT);
	_cleanup_close_ int fd =
	    open(SESSION_FILES_ROOT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "open " SESSION_FILES_ROOT);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return bw_fail(err, 0,
			       SESSION_FILES_ROOT " must be root's and writable by no one "
						  "else");
	char *dir = xasprintf(SESSION_FILES_ROOT "/%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return bw_fail(err, errno, "mkdtemp in " SESSION_FILES_ROOT);
	}
	*out = dir;
	if (chown(dir, 0, base) < 0 || chmod(dir, 0750) < 0)
		return bw_fail(err, errno, "chown `%s`", dir);
	return 0;
}

/* The new session's state, cgroup and files; everything recorded for its teardown. */
static int make_session(struct restore_in *in, struct idpool_slot *slot, struct made *m,
			struct container **c, struct cg_manager **cg, struct bw_error *err)
{
	const struct global_opts *g = in->g;
	if (idpool_acquire_at(cli_state_root(g), in->name, in->base, slot, err) < 0 ||
	    container_new(cli_state_root(g), in->name, c, err) < 0)
		return -1;
	state_cleanup_add_str(&(*c)->state, STATE_CLEANUP_IDSLOT, slot->path);
	if (fs_write_atomic_at((*c)->dirfd, "config.json", in->raw, in->raw_len, 0600, err) < 0 ||
	    cg_open(NULL, in->name, cg, err) < 0)
		return -1;
	lifecycle_fill_state(*c, in->spec, "/", "/", cg_path(*cg));
	(*c)->state.own_pid_ns = true;
	(*c)->state.status = OCI_STATUS_CREATING;
	int r = make_files_dir(in->name, in->base, &m->files, err);
	if (m->files != NULL) {
		state_cleanup_add_str(&(*c)->state, STATE_CLEANUP_DIR, m->files);
		m->boot = fs_path_join(m->files, BOOT_ID_FILE);
		state_cleanup_add_str(&(*c)->state, STATE_CLEANUP_FILE, m->boot);
	}
	if (r == 0)
		r = session_init_copy(m->files, in->name, &m->copy, err);
	if (m->copy != NULL)
		state_cleanup_add_str(&(*c)->state, STATE_CLEANUP_FILE, m->copy);
	if (r < 0 || write_boot_id(m->boot, err) < 0 || container_save(*c, err) < 0)
		return -1;
	const struct oci_resources *res = &in->spec->linux.resources;
	if (cg_create(*cg, in->spec->linux.has_resources ? res : NULL, err) < 0)
		return -1;
	char **parents = cg_parents_made(*cg);
	for (size_t i = 0; parents != NULL && parents[i] != NULL; i++)
		state_cleanup_add_str(&(*c)->state, STATE_CLEANUP_CGPARENT, parents[i]);
	strv_free(parents);
	return container_save(*c, err);
}

/* The restored init recorded as the session's, with its supervisor (us), busy file and
 * watchdog; the state unlocked while it runs. */
static int adopt(struct restore_in *in, struct container *c, pid_t pid, int pidfd,
		 struct bw_error *err)
{
	c->state.pid = pid;
	c->state.init_start_time = proc_start_time(pid);
	c->state.status = OCI_STATUS_RUNNING;
	container_record_pidns(c);
	int fd = openat(c->dirfd, SESSION_BUSY_FILE, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "create %s", SESSION_BUSY_FILE);
	close(fd);
	container_record_helper(c, STATE_CLEANUP_SESSION, getpid(), 0);
	if (container_save(c, err) < 0)
		return -1;
	int64_t left = in->meta.lifetime_left_ms;
	if (watchdog_start(in->g, c, pidfd, left > 0 ? left + 2000 : 0, getpid(), err) < 0)
		return -1;
	close(c->lockfd);
	c->lockfd = -1;
	return 0;
}

/* Made but not restored, or restored but refused: nothing of it is left. */
static void undo(struct container *c, struct cg_manager *cg, pid_t pid, struct idpool_slot *slot,
		 const struct made *m)
{
	struct bw_error e = {0};
	if (cg != NULL)
		cg_kill_all(cg, SIGKILL, &e);
	if (pid > 0) /* our child (CRIU's sibling) */
		waitpid(pid, NULL, 0);
	if (c != NULL)
		lifecycle_teardown(c, &e);
	else if (slot->path != NULL)
		idpool_release(slot->path, slot->holder);
	if (m->copy != NULL) /* also when the state never recorded them */
		unlink(m->copy);
	if (m->boot != NULL)
		unlink(m->boot);
	if (m->files != NULL)
		rmdir(m->files);
}

static int restore_main(void *arg, int report_fd)
{
	struct restore_in *in = arg;
	/* NAME and DIR were in our argv, which proctitle_hide clears. */
	_cleanup_free_ char *name = xstrdup(in->name), *dir_name = xstrdup(in->img.path);
	in->name = name;
	in->img.path = dir_name;
	char title[300];
	int tl = snprintf(title, sizeof(title), "bulwark-session%c%s", '\0', in->name);
	proctitle_hide(title, (size_t)tl + 1);
	sigset_t all;
	sigset_all_but_faults(&all, true);
	sigprocmask(SIG_BLOCK, &all, NULL);
	struct bw_error e = {0}, *err = &e;
	struct idpool_slot slot = {.fd = -1};
	struct container *c = NULL;
	struct cg_manager *cg = NULL;
	struct made m = {0};
	_cleanup_strv_ char **links = host_links();
	char dir[PATH_MAX];
	pid_t pid = 0;
	int pidfd = -1;
	int r = make_session(in, &slot, &m, &c, &cg, err);
	if (r == 0 && realpath(c->dir, dir) == NULL)
		r = bw_fail(err, errno, "state directory");
	struct session_restore_plan p = {in->spec, &in->img, dir,   r == 0 ? cg_path(cg) : NULL,
					 m.copy,   m.boot,   links, in->base};
	if (r == 0)
		r = checkpoint_restore_session(in->g, &p, &pid, err);
	if (r == 0 && (pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		r = bw_fail(err, errno, "pidfd_open of the restored init %d", (int)pid);
	if (r == 0)
		r = adopt(in, c, pid, pidfd, err);
	if (r < 0) { /* gone before the caller hears of it */
		if (pidfd >= 0)
			close(pidfd);
		undo(c, cg, pid, &slot, &m);
	}
	session_report_to_caller(report_fd, r, err);
	if (r == 0) {
		struct created cr = {.c = c, .pid = pid, .pidfd = pidfd, .status_fd = -1};
		struct watchdog_guard *guard =
		    watchdog_guard_start(cli_state_root(in->g), in->name, pidfd, getpid());
		session_supervise(in->meta.lifetime_left_ms, in->meta.idle_timeout_ms, &cr,
				  c->dirfd);
		watchdog_guard_stop(guard);
		close(pidfd);
		struct container *again = NULL;
		if (container_load(cli_state_root(in->g), in->name, &again, &e) == 0) {
			lifecycle_teardown(again, &e);
			container_free(again);
		}
	}
	free(m.files);
	free(m.boot);
	free(m.copy);
	idpool_slot_close(&slot); /* released at teardown (its file is recorded in the state) */
	cg_free(cg);
	container_free(c);
	return 0;
}

/* The supervisor's stdio on /dev/null and its cwd at /: nothing of the caller held. */
static int restore_detached(void *arg, int report_fd)
{
	int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
	if (chdir("/") < 0)
		return 1;
	return restore_main(arg, report_fd);
}

int session_restore(const struct global_opts *g, int argc, char **argv, struct bw_error *err)
{
	if (argc == 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		cli_print_help(
		    "bulwark session restore NAME DIR",
		    "Restore the session checkpointed into DIR (by `session checkpoint`) "
		    "as the session NAME,\nwith the lifetime it had left. See "
		    "docs/sessions.md.",
		    NULL, 0);
		return 0;
	}
	if (argc != 2)
		return bw_fail(err, 0, "session restore: expected NAME and DIR");
	struct restore_in in = {.g = g, .name = argv[0], .img = {.fd = -1, .parent = -1}};
	int r = 0;
	if (argv[1][0] == '\0')
		r = bw_fail(err, 0, "session restore: DIR is empty");
	else if (container_validate_id(in.name, err) < 0)
		r = bw_wrap(err, "session name");
	if (r == 0)
		r = check_input(g, argv[1], &in, err);
	if (r == 0)
		r = session_spawn_supervisor(in.name, restore_detached, &in, err);
	image_dir_close(&in.img);
	free(in.abs_dir);
	free(in.raw);
	oci_spec_free(in.spec);
	if (r == 0)
		printf("%s\n", in.name);
	return r;
}
