/* Per-process set-up in the init before execve. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

int process_set_rlimits(const struct oci_process *p, struct bw_error *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *r = &p->rlimits[i];
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
		if (setrlimit(r->resource, &rl) < 0)
			return bw_fail(
			    err, errno, "process.rlimits[%zu]: setrlimit %s (soft %llu, hard %llu)",
			    i, r->type, (unsigned long long)r->soft, (unsigned long long)r->hard);
	}
	return 0;
}

static int ioprio_class(const char *k)
{
	if (strcmp(k, "IOPRIO_CLASS_RT") == 0)
		return IOPRIO_CLASS_RT;
	if (strcmp(k, "IOPRIO_CLASS_BE") == 0)
		return IOPRIO_CLASS_BE;
	return IOPRIO_CLASS_IDLE;
}

static const struct {
	const char *name;
	int policy;
} sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},	  {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},	{"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static uint64_t sched_flag(const char *f)
{
	static const char *names[] = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
				      "SCHED_FLAG_DL_OVERRUN",	  "SCHED_FLAG_KEEP_POLICY",
				      "SCHED_FLAG_KEEP_PARAMS",	  "SCHED_FLAG_UTIL_CLAMP_MIN",
				      "SCHED_FLAG_UTIL_CLAMP_MAX"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(f, names[i]) == 0)
			return 1ULL << i;
	return 0;
}

int process_set_scheduling(const struct oci_process *p, struct bw_error *err)
{
	if (p->io_priority.set) {
		int v =
		    IOPRIO_PRIO_VALUE(ioprio_class(p->io_priority.klass), p->io_priority.priority);
		if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, v) < 0)
			return bw_fail(err, errno, "process.ioPriority: ioprio_set");
	}
	if (p->scheduler.set) {
		struct sched_attr_v1 a = {.size = sizeof(a)};
		int policy = -1;
		for (size_t i = 0; i < ARRAY_SIZE(sched_policies); i++)
			if (strcmp(p->scheduler.policy, sched_policies[i].name) == 0)
				policy = sched_policies[i].policy;
		if (policy < 0)
			return bw_fail(err, 0, "process.scheduler.policy: unknown policy \"%s\"",
				       p->scheduler.policy);
		a.sched_policy = (uint32_t)policy;
		a.sched_nice = p->scheduler.nice;
		a.sched_priority = (uint32_t)p->scheduler.priority;
		a.sched_runtime = p->scheduler.runtime;
		a.sched_deadline = p->scheduler.deadline;
		a.sched_period = p->scheduler.period;
		for (size_t i = 0; p->scheduler.flags && p->scheduler.flags[i]; i++)
			a.sched_flags |= sched_flag(p->scheduler.flags[i]);
		if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
			return bw_fail(err, errno, "process.scheduler: sched_setattr");
	}
	return 0;
}

int process_parse_cpu_list(const char *list, void *set, size_t setsize)
{
	cpu_set_t *s = set;
	const char *p = list;
	CPU_ZERO_S(setsize, s);
	while (*p != '\0') {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;
		if (end == p)
			return -1;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return -1;
		}
		if (b >= setsize * 8)
			return -1;
		for (unsigned long c = a; c <= b; c++)
			CPU_SET_S(c, setsize, s);
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	return 0;
}

int process_set_cpu_affinity(const char *list, const char *field, struct bw_error *err)
{
	cpu_set_t set;
	if (list == NULL || list[0] == '\0')
		return 0;
	if (process_parse_cpu_list(list, &set, sizeof(set)) < 0)
		return bw_fail(err, 0, "%s: invalid cpu list \"%s\"", field, list);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return bw_fail(err, errno, "%s: sched_setaffinity \"%s\"", field, list);
	return 0;
}

int process_set_personality(const struct oci_personality *pers, struct bw_error *err)
{
	if (!pers->set)
		return 0;
	unsigned long persona = strcmp(pers->domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
	if (personality(persona) < 0)
		return bw_fail(err, errno, "linux.personality: personality(%s)", pers->domain);
	return 0;
}

static const struct {
	const char *name;
	int mode;
} mpol_modes[] = {
    {"MPOL_DEFAULT", 0},
    {"MPOL_PREFERRED", 1},
    {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3},
    {"MPOL_LOCAL", 4},
    {"MPOL_PREFERRED_MANY", 5},
    {"MPOL_WEIGHTED_INTERLEAVE", 6},
};

int process_set_memory_policy(const struct oci_memory_policy *mp, struct bw_error *err)
{
	unsigned long mask[16] = {0};
	int mode = -1;
	if (!mp->set)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(mpol_modes); i++)
		if (strcmp(mp->mode, mpol_modes[i].name) == 0)
			mode = mpol_modes[i].mode;
	if (mode < 0)
		return bw_fail(err, 0, "linux.memoryPolicy.mode: unknown mode \"%s\"", mp->mode);
	for (size_t i = 0; mp->flags && mp->flags[i]; i++) {
		if (strcmp(mp->flags[i], "MPOL_F_STATIC_NODES") == 0)
			mode |= 1 << 15;
		else if (strcmp(mp->flags[i], "MPOL_F_RELATIVE_NODES") == 0)
			mode |= 1 << 14;
		else if (strcmp(mp->flags[i], "MPOL_F_NUMA_BALANCING") == 0)
			mode |= 1 << 13;
	}
	if (mp->nodes != NULL && mp->nodes[0] != '\0' &&
	    process_parse_cpu_list(mp->nodes, mask, sizeof(mask)) < 0)
		return bw_fail(err, 0, "linux.memoryPolicy.nodes: invalid node list \"%s\"",
			       mp->nodes);
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(mask); i++)
		any |= mask[i] != 0;
	if (syscall(SYS_set_mempolicy, mode, any ? mask : NULL, any ? sizeof(mask) * 8 : 0) < 0)
		return bw_fail(err, errno, "linux.memoryPolicy: set_mempolicy");
	return 0;
}

int process_set_user(const struct oci_process *p, bool keep_groups, struct bw_error *err)
{
	const struct oci_user *u = &p->user;
	size_t n = u->n_additional_gids;
	/* The parsers refuse these; (uid_t)-1 here would leave us root, so check again. */
	if (u->uid > OCI_ID_MAX || u->gid > OCI_ID_MAX)
		return bw_fail(err, 0, "process.user: uid %u / gid %u: must be <= %u", u->uid,
			       u->gid, OCI_ID_MAX);
	_cleanup_free_ gid_t *groups = xcalloc(n + 1, sizeof(gid_t));
	for (size_t i = 0; i < n; i++) {
		if (u->additional_gids[i] > OCI_ID_MAX)
			return bw_fail(err, 0, "process.user.additionalGids[%zu]: must be <= %u", i,
				       OCI_ID_MAX);
		groups[i] = u->additional_gids[i];
	}
	if ((n > 0 || !keep_groups) && setgroups(n, groups) < 0 && !(errno == EPERM && n == 0))
		return bw_fail(err, errno, "process.user.additionalGids: setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return bw_fail(err, errno, "process.user.gid: setresgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return bw_fail(err, errno, "process.user.uid: setresuid %u", u->uid);
	umask(u->umask_set ? (mode_t)u->umask : 0022);
	return 0;
}

void process_give_stdio_pipes(uid_t uid, const int ours[3])
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		struct statfs sfs;
		/* Only the relay pipes bulwark made (stdio_guard.h). The caller's own pipe stays
		 * the caller's: given to the user, a process of the container could reopen it for
		 * reading (/proc/PID/fd/1) and take what other host processes write into it. */
		if (ours[fd] < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) ||
		    st.st_uid == uid || fstatfs(fd, &sfs) < 0 || sfs.f_type != PIPEFS_MAGIC)
			continue;
		/* Best effort, as runc: an owner or uid the user namespace does not map stays. */
		(void)!fchown(fd, uid, (gid_t)-1);
	}
}

static const char *env_get(char *const *env, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], key, k) == 0 && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

char *process_passwd_home(const char *passwd, uid_t uid)
{
	char uidstr[16];
	snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)uid);
	for (const char *line = passwd; line != NULL && *line != '\0';) {
		const char *end = strchrnul(line, '\n');
		/* name:password:uid:gid:gecos:home:shell */
		const char *f[7] = {line};
		size_t nf = 1;
		for (const char *c = line; c < end && nf < 7; c++)
			if (*c == ':')
				f[nf++] = c + 1;
		if (nf == 7 && (size_t)(f[3] - f[2] - 1) == strlen(uidstr) &&
		    strncmp(f[2], uidstr, strlen(uidstr)) == 0 && f[6] - f[5] > 1)
			return xstrndup(f[5], (size_t)(f[6] - f[5] - 1));
		line = *end != '\0' ? end + 1 : NULL;
	}
	return NULL;
}

/* The container's /etc/passwd, read inside "/" without magic links; only a regular file, at
 * most 4 MiB (never a FIFO or device the image planted there). NULL when there is none. */
static char *read_passwd(void)
{
	struct bw_error ignored = {0};
	struct stat st;
	char *text = NULL;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return NULL;
	_cleanup_close_ int fd =
	    fs_open_in_root(root, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &ignored);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fs_read_fd(fd, 4u << 20, &text, NULL, &ignored) < 0)
		return NULL;
	return text;
}

char **process_env_dedup(char *const *env)
{
	char **out = xcalloc(1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		size_t klen = strcspn(env[i], "=");
		size_t k = 0;
		while (k < n && !(strncmp(out[k], env[i], klen) == 0 && out[k][klen] == '='))
			k++;
		if (k < n) {
			free(out[k]);
			out[k] = xstrdup(env[i]);
			continue;
		}
		out = xrealloc(out, (n + 2) * sizeof(char *));
		out[n++] = xstrdup(env[i]);
		out[n] = NULL;
	}
	return out;
}

char **process_env_final(const struct oci_process *p)
{
	char **env = process_env_dedup(p->env);
	const char *home = env_get(env, "HOME");
	if (home != NULL && home[0] != '\0')
		return env;
	_cleanup_free_ char *passwd = read_passwd();
	_cleanup_free_ char *dir = passwd ? process_passwd_home(passwd, p->user.uid) : NULL;
	for (size_t i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "HOME=", 5) == 0) { /* an empty HOME= */
			free(env[i]);
			env[i] = xasprintf("HOME=%s", dir ? dir : "/");
			return env;
		}
	strv_push_take(&env, xasprintf("HOME=%s", dir ? dir : "/"));
	return env;
}

static int check_executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	if (access(path, X_OK) < 0)
		return -errno;
	return 0;
}

int process_find_executable(const char *arg0, char *const *env, char **out, struct bw_error *err)
{
	if (strchr(arg0, '/') != NULL) {
		int r = check_executable(arg0);
		if (r == -ENOENT || r == -ENOTDIR)
			return bw_fail(err, 0, "exec: \"%s\": stat %s: no such file or directory",
				       arg0, arg0);
		if (r < 0)
			return bw_fail(err, 0, "exec: \"%s\": %s", arg0,
				       r == -EACCES ? "permission denied" : strerror(-r));
		*out = xstrdup(arg0);
		return 0;
	}
	const char *path = env_get(env, "PATH");
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = xstrdup(path);
	bool denied = false;
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", dir[0] ? dir : ".", arg0);
		int r = check_executable(cand);
		if (r == 0) {
			*out = steal_ptr(&cand);
			return 0;
		}
		denied |= r == -EACCES;
	}
	if (denied)
		return bw_fail(err, 0, "exec: \"%s\": permission denied", arg0);
	return bw_fail(err, 0, "exec: \"%s\": executable file not found in $PATH", arg0);
}

int process_chdir(const char *cwd, struct bw_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bw_fail(err, errno, "open /");
	_cleanup_close_ int fd = fs_open_in_root(root, cwd, O_PATH | O_DIRECTORY, 0, err);
	if (fd < 0)
		return bw_wrap(err, "process.cwd");
	if (fchdir(fd) < 0)
		return bw_fail(err, errno, "process.cwd: chdir `%s`", cwd);
	char buf[4096];
	/* getcwd() reports "(unreachable)" (ENOENT) when the cwd is outside our root. */
	if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
		return bw_fail(err, 0, "process.cwd: `%s` is outside the container", cwd);
	return 0;
}
