/* The parent's work on a cloned child before it may go on (SYNC_GO): its user namespace's id
 * maps, the host paths reopened inside its mount namespace, its cgroup, its OOM score and the
 * state the hooks get. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/sync.h"

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
			const char *field, struct bw_error *err)
{
	char buf[340 * 36 + 1];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(buf) - 40; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u %u %u\n", m[i].container_id,
				      m[i].host_id, m[i].size);
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "%s: open %s", field, file);
	if (write(fd, buf, o) != (ssize_t)o)
		return bw_fail(err, errno, "%s: write %s", field, file);
	return 0;
}

/* Is m exactly one entry of size 1 whose host id is ours: what an unprivileged process may write
 * itself (with setgroups denied for the gid map)? */
static bool own_id_only(const struct oci_id_mapping *m, size_t n, uint32_t own)
{
	return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

/* tool in /usr/bin or /bin (malloc'd), or NULL. */
static char *find_newidmap(const char *tool)
{
	static const char *const dirs[] = {"/usr/bin/", "/bin/"};
	char *exe = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && exe == NULL; i++) {
		char *p = xasprintf("%s%s", dirs[i], tool);
		if (access(p, X_OK) == 0)
			exe = p;
		else
			free(p);
	}
	return exe;
}

/* exe run with argv, stdin and stdout /dev/null: 0 when it exits 0, or -1 with the first line
 * of its stderr in err. */
static int run_tool(const char *exe, char **argv, const char *tool, const char *field,
		    struct bw_error *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "%s: pipe", field);
	pid_t c = fork();
	if (c == 0) {
		dup2(pipefd[1], 2);
		int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
		}
		execv(exe, argv);
		_exit(127);
	}
	close(pipefd[1]);
	char msg[512];
	size_t got = 0;
	ssize_t k;
	while ((k = read(pipefd[0], msg + got, sizeof(msg) - 1 - got)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0)
			got += (size_t)k;
	close(pipefd[0]);
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	int st = 0;
	if (c < 0)
		return bw_fail(err, errno, "%s: fork %s", field, tool);
	if (waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return bw_fail(err, 0, "%s: %s refused the mapping: %s", field, tool,
			       msg[0] ? msg : "no reason given");
	return 0;
}

/* newuidmap/newgidmap (shadow's uidmap package, setuid root): they check every range against
 * /etc/subuid and /etc/subgid. Run from a fixed path, never from PATH. */
static int run_newidmap(pid_t pid, const char *tool, const struct oci_id_mapping *m, size_t n,
			const char *field, struct bw_error *err)
{
	_cleanup_free_ char *exe = find_newidmap(tool);
	if (exe == NULL)
		return bw_fail(err, 0,
			       "%s: mapping more than the caller's own id without root needs %s "
			       "(Debian package uidmap) and a range in /etc/sub%cid",
			       field, tool, tool[3] == 'u' ? 'u' : 'g');
	char **argv = xcalloc(3 + 3 * n + 1, sizeof(char *));
	size_t a = 0;
	argv[a++] = xstrdup(tool);
	argv[a++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[a++] = xasprintf("%u", m[i].container_id);
		argv[a++] = xasprintf("%u", m[i].host_id);
		argv[a++] = xasprintf("%u", m[i].size);
	}
	int r = run_tool(exe, argv, tool, field, err);
	for (size_t i = 0; i < a; i++)
		free(argv[i]);
	free(argv);
	return r;
}

/* The maps of a new user namespace. Root writes them; an unprivileged runtime writes a map of
 * its own id itself (denying setgroups first, as the kernel requires for the gid map) and
 * hands anything larger to newuidmap/newgidmap. */
static int write_id_maps(pid_t pid, const struct oci_linux *l, struct bw_error *err)
{
	if (geteuid() == 0)
		return write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
				    "linux.uidMappings", err) < 0 ||
			       write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
					    "linux.gidMappings", err) < 0
			   ? -1
			   : 0;
	if (own_id_only(l->uid_mappings, l->n_uid_mappings, (uint32_t)geteuid())
		? write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
			       "linux.uidMappings", err) < 0
		: run_newidmap(pid, "newuidmap", l->uid_mappings, l->n_uid_mappings,
			       "linux.uidMappings", err) < 0)
		return -1;
	if (own_id_only(l->gid_mappings, l->n_gid_mappings, (uint32_t)getegid())) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if (fs_write_file(path, "deny", err) < 0)
			return bw_wrap(err, "linux.gidMappings: deny setgroups");
		return write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
				    "linux.gidMappings", err);
	}
	return run_newidmap(pid, "newgidmap", l->gid_mappings, l->n_gid_mappings,
			    "linux.gidMappings", err);
}

/* The host paths of a new container (root.path, bind sources) reopened from inside the init's
 * new mount namespace, where the init can use them (open_tree clones only mounts of the
 * caller's namespace), but with the runtime's credentials: the ids of a user namespace may
 * not enter a parent directory (a 0700 home, mktemp -d) that the runtime's can. A thread does
 * it, with a private fs_struct so that only it enters the namespace. The same reopen checks
 * apply as in the init (hostpath_reopen: no symlinks, the same file). */
struct host_reopen {
	const struct spawn_config *cfg;
	pid_t pid;
	int pidfd;
	bool entered, failed;
	struct bw_error err;
};

/* One reopened path to the init at once (then closed here): however many bind sources, the
 * runtime holds one of them at a time. */
static void reopen_send(struct host_reopen *h, const struct hostpath *hp, int flags,
			const char *idx)
{
	int fd = hostpath_reopen(hp, flags, &h->err);
	if (fd < 0 ||
	    sync_send(h->cfg->sock_parent, SYNC_HOSTFD, 0, idx, strlen(idx), fd, &h->err) < 0)
		h->failed = true;
	if (fd >= 0)
		close(fd);
}

static void *reopen_thread(void *arg)
{
	struct host_reopen *h = arg;
	const struct spawn_config *cfg = h->cfg;
	int nsfd = h->pidfd;
	_cleanup_close_ int own = -1;
	if (nsfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)h->pid);
		nsfd = own = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* Without the privilege for this (a rootless runtime) the init reopens them itself,
	 * with the same ids as ours. */
	if (nsfd < 0 || unshare(CLONE_FS) < 0 || setns(nsfd, CLONE_NEWNS) < 0) {
		log_debug("host paths: the init reopens them itself (%s)", strerror(errno));
		return NULL;
	}
	h->entered = true;
	reopen_send(h, cfg->root_src, O_DIRECTORY, "root");
	for (size_t i = 0; !h->failed && cfg->mount_srcs != NULL && i < cfg->spec->n_mounts; i++) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", i);
		if (cfg->mount_srcs[i].path != NULL)
			reopen_send(h, &cfg->mount_srcs[i], 0, idx);
	}
	return NULL;
}

static int send_host_paths(const struct spawn_config *cfg, pid_t pid, int pidfd,
			   struct bw_error *err)
{
	if (cfg->is_exec || cfg->root_src == NULL || !(cfg->new_ns_flags & CLONE_NEWUSER) ||
	    !(cfg->new_ns_flags & CLONE_NEWNS))
		return 0;
	struct host_reopen h = {.cfg = cfg, .pid = pid, .pidfd = pidfd};
	pthread_t t;
	int r = pthread_create(&t, NULL, reopen_thread, &h);
	if (r != 0)
		return bw_fail(err, r, "start the host path thread");
	pthread_join(t, NULL);
	if (h.failed) {
		*err = h.err;
		return -1;
	}
	return 0;
}

int spawn_after_clone(struct spawn_config *cfg, pid_t pid, int pidfd, struct bw_error *err)
{
	const struct oci_spec *spec = cfg->spec;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER) &&
	    write_id_maps(pid, &spec->linux, err) < 0)
		return -1;
	if (cfg->rootless && !cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER)) {
		/* A rootless network helper needs them later, when the init is no longer dumpable
		 * and its mm (made in our namespace) keeps /proc/PID/ns closed to us. */
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		cfg->init_netns = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		cfg->init_userns = open(path, O_RDONLY | O_CLOEXEC);
		if (cfg->init_netns < 0 || cfg->init_userns < 0)
			return bw_fail(err, errno, "open the init's namespaces");
	}
	bw_phase("spawn: id maps");
	if (send_host_paths(cfg, pid, pidfd, err) < 0)
		return -1;
	bw_phase("spawn: host paths");
	/* Not cloned into it (v1, or a rootless exec made in the container's user namespace): moved
	 * before it runs anything of its own (a rootless container's cgroup is in a delegated
	 * subtree, docs/rootless.md). */
	if (cfg->cg != NULL && !cfg->cg_in_place && cg_enter(cfg->cg, pid, err) < 0)
		return -1;
	cg_placed(cfg->cg);
	bw_phase("spawn: cgroup entered");
	if (cfg->process->oom_score_adj.set && !cfg->rootless) {
		char path[64], val[32];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(val, sizeof(val), "%lld", (long long)cfg->process->oom_score_adj.v);
		if (fs_write_file(path, val, err) < 0)
			return bw_wrap(err, "process.oomScoreAdj");
	}
	free(cfg->state_json);
	cfg->state_json = NULL;
	if (cfg->on_started != NULL && cfg->on_started(cfg->cb_ctx, pid, &cfg->state_json, err) < 0)
		return -1;
	bw_phase("spawn: state json");
	const char *sj = cfg->state_json ? cfg->state_json : "{}";
	return sync_send(cfg->sock_parent, SYNC_GO, 0, sj, strlen(sj), -1, err);
}
