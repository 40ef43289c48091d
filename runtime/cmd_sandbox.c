/* `bulwark sandbox`: one command in a throw-away hardened sandbox. The spec is built in memory
 * from the hardened default plus the flags, then runs through the same create/start/teardown
 * as any container; nothing is left behind. */
#include "runtime/cli.h"
#include "runtime/lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "profiles/seccomp.h"
#include "runtime/specgen.h"

struct sandbox_flags {
	char *rootfs, *user, *cwd, *memory, *cpus, *pids, *nofile, *timeout, *tmp_size;
	char **binds, **env;
	bool tty, seccomp_complain;
};

static int parse_bind(const char *s, struct specgen_bind *b, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *parts[3] = {copy, NULL, NULL};
	int n = 1;
	for (char *p = copy; *p && n < 3; p++)
		if (*p == ':') {
			*p = '\0';
			parts[n++] = p + 1;
		}
	b->readonly = true;
	const char *mode = NULL, *dst = parts[0];
	if (n == 2 && (strcmp(parts[1], "ro") == 0 || strcmp(parts[1], "rw") == 0))
		mode = parts[1];
	else if (n >= 2)
		dst = parts[1];
	if (n == 3)
		mode = parts[2];
	if (mode != NULL && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return bw_fail(err, 0, "--bind %s: mode must be ro or rw", s);
	if (mode != NULL)
		b->readonly = strcmp(mode, "ro") == 0;
	if (parts[0][0] != '/' || dst[0] != '/')
		return bw_fail(err, 0, "--bind %s: paths must be absolute", s);
	struct stat st;
	if (stat(parts[0], &st) < 0)
		return bw_fail(err, errno, "--bind %s: source", s);
	char *real = realpath(parts[0], NULL);
	if (real == NULL)
		return bw_fail(err, errno, "--bind %s: source", s);
	b->source = real;
	b->destination = xstrdup(dst);
	return 0;
}

static int parse_user(const char *s, uint32_t *uid, uint32_t *gid, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');
	if (colon != NULL)
		*colon++ = '\0';
	if (parse_u32(copy, uid) < 0 || (colon && parse_u32(colon, gid) < 0) || *uid > 65535 ||
	    *gid > 65535)
		return bw_fail(err, 0, "--user: expected UID[:GID] between 0 and 65535, got \"%s\"", s);
	if (colon == NULL)
		*gid = *uid;
	return 0;
}

/* Limits: modest defaults (1 GiB without swap, 1024 tasks, 1024 files), all overridable;
 * "max"/"0" lifts a limit where that makes sense. */
static int apply_limits(const struct sandbox_flags *f, struct specgen *sg, struct bw_error *err)
{
	int64_t v;
	sg->memory_limit = 1LL << 30;
	if (f->memory != NULL) {
		if (strcmp(f->memory, "max") == 0)
			sg->memory_limit = 0;
		else if (parse_size(f->memory, &v) < 0 || v < (4LL << 20))
			return bw_fail(err, 0, "--memory: expected a size of at least 4m (e.g. 512m, 2g) or max, got \"%s\"",
				       f->memory);
		else
			sg->memory_limit = v;
	}
	if (f->cpus != NULL) {
		char *end;
		double c = strtod(f->cpus, &end);
		if (end == f->cpus || *end != '\0' || !(c >= 0.01 && c <= 1024))
			return bw_fail(err, 0, "--cpus: expected a number of CPUs such as 0.5 or 2, got \"%s\"",
				       f->cpus);
		sg->cpu_period = 100000;
		sg->cpu_quota = (int64_t)(c * 100000);
	}
	if (f->pids != NULL && (parse_i64(f->pids, &v) < 0 || v < 1))
		return bw_fail(err, 0, "--pids: expected a positive number of tasks, got \"%s\"", f->pids);
	if (f->pids != NULL)
		sg->pids_limit = v;
	if (f->nofile != NULL && (parse_i64(f->nofile, &v) < 0 || v < 16 || v > 1048576))
		return bw_fail(err, 0, "--nofile: expected 16 to 1048576 open files, got \"%s\"",
			       f->nofile);
	if (f->nofile != NULL)
		sg->nofile = (uint64_t)v;
	if (f->tmp_size != NULL && (parse_size(f->tmp_size, &v) < 0 || v < 4096))
		return bw_fail(err, 0, "--tmp-size: expected a size such as 256m, got \"%s\"", f->tmp_size);
	sg->tmp_size = f->tmp_size;
	return 0;
}

static int build_spec(const struct sandbox_flags *f, char **args, struct specgen *sg,
		      struct bw_error *err)
{
	specgen_defaults(sg);
	sg->root_path = NULL; /* owned from here on: free_spec releases them */
	sg->env = NULL;
	sg->terminal = f->tty;
	sg->args = args;
	sg->host_root = f->rootfs == NULL;
	char *root = NULL;
	if (f->rootfs != NULL && (root = realpath(f->rootfs, NULL)) == NULL)
		return bw_fail(err, errno, "--rootfs `%s`", f->rootfs);
	sg->root_path = root ? root : xstrdup("/");
	sg->root_readonly = true;
	if (f->user != NULL && parse_user(f->user, &sg->uid, &sg->gid, err) < 0)
		return -1;
	/* HOME is a private tmpfs; /home is used where the root has it, so that nothing is
	 * created in a root we do not own. */
	_cleanup_free_ char *home = fs_path_join(sg->root_path, "home");
	sg->home = fs_exists(home) ? "/home" : NULL;
	char **env = NULL;
	strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	strv_push(&env, sg->home ? "HOME=/home" : "HOME=/tmp");
	if (f->tty)
		strv_push(&env, "TERM=xterm");
	for (size_t i = 0; f->env && f->env[i]; i++) {
		if (strchr(f->env[i], '=') == NULL || f->env[i][0] == '=')
			return bw_fail(err, 0, "--env: expected KEY=VALUE, got \"%s\"", f->env[i]);
		strv_push(&env, f->env[i]);
	}
	sg->env = env;
	if (f->cwd != NULL && f->cwd[0] != '/')
		return bw_fail(err, 0, "--cwd: must be an absolute path");
	sg->cwd = f->cwd ? f->cwd : "/";
	sg->n_binds = strv_len(f->binds);
	sg->binds = xcalloc(sg->n_binds + 1, sizeof(struct specgen_bind));
	for (size_t i = 0; i < sg->n_binds; i++)
		if (parse_bind(f->binds[i], &sg->binds[i], err) < 0)
			return -1;
	if (apply_limits(f, sg, err) < 0)
		return -1;
	sg->seccomp_json = seccomp_default_profile_json();
	if (f->seccomp_complain)
		strv_push(&sg->annotations, "run.bulwark.seccomp=complain");
	return 0;
}

static void free_spec(struct specgen *sg)
{
	strv_free(sg->annotations);
	free((char *)sg->root_path);
	strv_free(sg->env);
	for (size_t i = 0; i < sg->n_binds; i++) {
		free(sg->binds[i].source);
		free(sg->binds[i].destination);
	}
	free(sg->binds);
}

/* Docker's convention: 125 the runtime failed, 126 cannot execute, 127 not found. */
static int exit_status_for(const struct bw_error *err)
{
	if (strstr(err->msg, "executable file not found") || strstr(err->msg, "no such file"))
		return 127;
	if (strstr(err->msg, "permission denied"))
		return 126;
	return 125;
}

static int run_sandbox(const struct global_opts *g, struct specgen *sg, int64_t timeout_ms,
		       struct bw_error *err)
{
	unsigned char rnd[6];
	char id[64];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return bw_fail(err, errno, "getrandom");
	snprintf(id, sizeof(id), "sandbox-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5]);
	_cleanup_free_ char *json = specgen_render(sg, false);
	struct oci_spec *spec = NULL;
	if (oci_spec_parse(json, strlen(json), "sandbox spec", &spec, err) < 0)
		return -1;
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigprocmask(SIG_BLOCK, &all, NULL);
	struct create_opts o = {.id = id, .bundle = "/", .spec = spec, .config_json = json,
				.keep_master = sg->terminal};
	struct created cr;
	int r = lifecycle_create(g, &o, &cr, err);
	oci_spec_free(spec);
	if (r < 0)
		return -1;
	if (lifecycle_start(cr.c, err) < 0) {
		struct bw_error e2 = {0};
		lifecycle_teardown(cr.c, &e2);
		container_free(cr.c);
		close(cr.pidfd);
		return -1;
	}
	bool timed_out = false;
	int status = lifecycle_wait(cr.pid, cr.pidfd, cr.master, timeout_ms, &timed_out, err);
	if (timed_out)
		log_warn("sandbox: killed at the --timeout deadline");
	close(cr.pidfd);
	if (cr.master >= 0)
		close(cr.master);
	struct bw_error e2 = {0};
	if (lifecycle_teardown(cr.c, &e2) < 0 && status >= 0) {
		*err = e2;
		status = -1;
	}
	container_free(cr.c);
	return status;
}

VERB(sandbox)
{
	struct sandbox_flags f = {0};
	int consumed = 0;
	struct cli_opt opts[] = {
		{"rootfs", 0, CLI_STRING, &f.rootfs, "DIR", "root filesystem (default: the host's /, read-only)"},
		{"bind", 0, CLI_STRV, &f.binds, "SRC[:DST][:ro|rw]", "bind a host path (default ro)"},
		{"user", 'u', CLI_STRING, &f.user, "UID[:GID]", "user inside the sandbox (default 1000)"},
		{"env", 'e', CLI_STRV, &f.env, "KEY=VALUE", "add an environment variable"},
		{"cwd", 0, CLI_STRING, &f.cwd, "DIR", "working directory (default /)"},
		{"tty", 't', CLI_BOOL, &f.tty, NULL, "give the command a terminal"},
		{"memory", 'm', CLI_STRING, &f.memory, "SIZE", "memory limit, no swap (default 1g; max: none)"},
		{"cpus", 0, CLI_STRING, &f.cpus, "N", "CPU time, in CPUs (e.g. 0.5)"},
		{"pids", 0, CLI_STRING, &f.pids, "N", "maximum number of tasks (default 1024)"},
		{"nofile", 0, CLI_STRING, &f.nofile, "N", "open files limit (default 1024)"},
		{"tmp-size", 0, CLI_STRING, &f.tmp_size, "SIZE", "size of the writable /tmp (default 256m)"},
		{"timeout", 0, CLI_STRING, &f.timeout, "DURATION",
		 "kill the whole sandbox after DURATION (30s, 5m, 1h); exit 124"},
		{"seccomp-complain", 0, CLI_BOOL, &f.seccomp_complain, NULL,
		 "log what the seccomp profile would refuse instead of refusing it (profiling)"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
			"bulwark sandbox [options] -- COMMAND [ARGS...]",
			"Run COMMAND in a throw-away sandbox: the host's / read-only (or --rootfs), fresh\n"
			"/proc /dev /tmp and HOME, a new user namespace with a non-root user, no\n"
			"capabilities, no_new_privs, the default seccomp profile, every namespace new and\n"
			"only loopback networking. Exits with the command's status (125: bulwark failed,\n"
			"126: not executable, 127: not found).\n\n"
			"Example: bulwark sandbox -- sh -c 'id; cat /etc/os-release'",
			opts, ARRAY_SIZE(opts));
		return 0;
	}
	struct specgen sg = {0};
	if (r < 0) {
		err->exit_status = 125;
		goto out;
	}
	if (argc - consumed < 1) {
		r = bw_fail(err, 0, "sandbox: expected a command (bulwark sandbox -- CMD ARGS...)");
		err->exit_status = 125;
		goto out;
	}
	int64_t timeout_ms = 0;
	if (f.timeout != NULL && (parse_duration_ms(f.timeout, &timeout_ms) < 0 || timeout_ms <= 0)) {
		r = bw_fail(err, 0, "--timeout: expected a duration such as 30s, 5m or 1h, got \"%s\"",
			    f.timeout);
		err->exit_status = 125;
		goto out;
	}
	r = build_spec(&f, argv + consumed, &sg, err);
	if (r < 0) {
		err->exit_status = 125;
		goto out;
	}
	r = run_sandbox(g, &sg, timeout_ms, err);
	if (r < 0)
		err->exit_status = exit_status_for(err);
out:
	free_spec(&sg);
	free(f.rootfs);
	free(f.user);
	free(f.cwd);
	free(f.memory);
	free(f.cpus);
	free(f.pids);
	free(f.nofile);
	free(f.timeout);
	free(f.tmp_size);
	strv_free(f.binds);
	strv_free(f.env);
	return r;
}
