/* bulwark's entry point: the re-exec guard against overwriting our own binary, global flags,
 * and the verb dispatch table. Every error is printed once, here. */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/cli.h"
#include "runtime/watchdog.h"

extern char **environ;

struct verb {
	const char *name;
	verb_fn fn;
	bool spawns; /* runs code inside a container: needs the sealed binary */
	const char *summary;
};

static const struct verb verbs[] = {
	{"create", cmd_create, true, "create a container"},
	{"start", cmd_start, false, "start a created container"},
	{"run", cmd_run, true, "create and start a container, wait for it"},
	{"exec", cmd_exec, true, "run a new process inside a container"},
	{"state", cmd_state, false, "print the state of a container"},
	{"kill", cmd_kill, false, "send a signal to a container's init (or all processes)"},
	{"delete", cmd_delete, false, "delete a container and everything it holds"},
	{"list", cmd_list, false, "list containers"},
	{"ps", cmd_ps, false, "list the processes of a container"},
	{"pause", cmd_pause, false, "freeze every process of a container"},
	{"resume", cmd_resume, false, "thaw a paused container"},
	{"update", cmd_update, false, "change the resource limits of a container"},
	{"events", cmd_events, false, "print resource usage and OOM events"},
	{"spec", cmd_spec, false, "write the hardened default config.json"},
	{"features", cmd_features, false, "print what this runtime supports (JSON)"},
	{"sandbox", cmd_sandbox, true, "run one command in a throw-away hardened sandbox"},
};

/* CVE-2019-5736: a container process must never be able to reach and rewrite the binary that
 * runs on the host. Every verb that executes inside a container runs from a sealed memfd copy
 * of ourselves, so /proc/<pid>/exe of anything we leave in the container is immutable. */
static int is_sealed_self(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & (F_SEAL_WRITE | F_SEAL_SEAL)) == (F_SEAL_WRITE | F_SEAL_SEAL);
}

/* Returns only on failure (the exec replaced us otherwise), with err set: the caller must not
 * go on running containers from a writable binary. */
static int reexec_sealed(char **argv, struct bw_error *err)
{
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (self < 0 || fstat(self, &st) < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): open /proc/self/exe");
	_cleanup_close_ int mfd = memfd_create("bulwark", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): memfd_create");
	/* A caller's `ulimit -f` below our size would end the copy in EFBIG: lifted for the copy
	 * only (soft up to hard, and hard up to our size where we may), then put back for
	 * everything we start. */
	struct rlimit fsize, lifted;
	if (getrlimit(RLIMIT_FSIZE, &fsize) < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): getrlimit");
	lifted.rlim_max = fsize.rlim_max;
	if (lifted.rlim_max != RLIM_INFINITY && lifted.rlim_max < (rlim_t)st.st_size)
		lifted.rlim_max = (rlim_t)st.st_size;
	lifted.rlim_cur = lifted.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &lifted) < 0)
		return bw_fail(
		    err, errno,
		    "sealed runtime copy (CVE-2019-5736): RLIMIT_FSIZE (ulimit -f) is %llu "
		    "bytes, below the runtime's own size (%lld bytes), and cannot be raised",
		    (unsigned long long)fsize.rlim_max, (long long)st.st_size);
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			setrlimit(RLIMIT_FSIZE, &fsize);
			return bw_fail(err, n < 0 ? errno : EIO,
				       "sealed runtime copy (CVE-2019-5736): copy");
		}
	}
	if (setrlimit(RLIMIT_FSIZE, &fsize) < 0)
		return bw_fail(err, errno,
			       "sealed runtime copy (CVE-2019-5736): restore RLIMIT_FSIZE");
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): seal");
	fexecve(mfd, argv, environ);
	return bw_fail(err, errno, "sealed runtime copy (CVE-2019-5736): exec");
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bulwark [global options] COMMAND [options] [arguments]\n\n"
		   "bulwark is a hardened OCI container runtime (runc command line).\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR          state directory (default /run/bulwark)\n"
		   "  --log FILE          append log lines to FILE\n"
		   "  --log-format FMT    text or json\n"
		   "  --debug             log debug messages\n"
		   "  --systemd-cgroup    use the systemd cgroup driver (unsupported)\n"
		   "  --policy FILE       host sandbox policy (network rules, limits)\n"
		   "  --audit FILE        append one JSON line per lifecycle event\n"
		   "  --version, -v       print the version\n"
		   "\nRun 'bulwark COMMAND --help' for a command's options.\n");
}

static void print_version(void)
{
	printf("bulwark version %s\nspec: %s\n", BULWARK_VERSION, BULWARK_OCI_VERSION);
}

static int run_verb(int argc, char **argv, struct global_opts *g, struct bw_error *err)
{
	bool version = false;
	struct cli_opt opts[] = {
		{"root", 0, CLI_STRING, &g->root, "DIR", ""},
		{"log", 0, CLI_STRING, &g->log, "FILE", ""},
		{"log-format", 0, CLI_STRING, &g->log_format, "FMT", ""},
		{"debug", 0, CLI_BOOL, &g->debug, NULL, ""},
		{"systemd-cgroup", 0, CLI_BOOL, &g->systemd_cgroup, NULL, ""},
		{"policy", 0, CLI_STRING, &g->policy, "FILE", ""},
		{"audit", 0, CLI_STRING, &g->audit, "FILE", ""},
		{"version", 'v', CLI_BOOL, &version, NULL, ""},
		/* accepted for runc compatibility; meaningless here */
		{"criu", 0, CLI_STRING, &(char *){NULL}, "PATH", ""},
		{"rootless", 0, CLI_STRING, &(char *){NULL}, "BOOL", ""},
	};
	int consumed = 0;
	int r = cli_parse(argc - 1, argv + 1, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		usage(stdout);
		return 0;
	}
	if (version) {
		print_version();
		return 0;
	}
	enum log_format fmt = LOG_FORMAT_TEXT;
	if (g->log_format != NULL && strcmp(g->log_format, "json") == 0)
		fmt = LOG_FORMAT_JSON;
	else if (g->log_format != NULL && strcmp(g->log_format, "text") != 0)
		return bw_fail(err, 0, "--log-format: must be text or json, not \"%s\"", g->log_format);
	if (log_init(g->log, fmt, g->debug, err) < 0)
		return -1;
	int idx = 1 + consumed;
	if (idx >= argc) {
		usage(stderr);
		return bw_fail(err, 0, "no command given");
	}
	const char *name = argv[idx];
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (strcmp(verbs[i].name, name) != 0)
			continue;
		if (g->systemd_cgroup)
			return bw_fail(err, 0,
				       "--systemd-cgroup: the systemd cgroup driver is not supported (no systemd on this host); use the cgroupfs driver");
		return verbs[i].fn(g, argc - idx - 1, argv + idx + 1, err);
	}
	return bw_fail(err, 0, "unknown command \"%s\" (see bulwark --help)", name);
}

int main(int argc, char **argv)
{
	struct global_opts g = {0};
	struct bw_error err = {0};

	/* Hooks, console and notify sockets, the --log file, stdout: every peer may close early,
	 * and that is its business; it must never kill us by signal halfway through a create
	 * (state, cgroup and an init left behind). Writes fail with EPIPE instead. Whatever we
	 * exec gets the default back (hooks, helpers, ps; the init resets every signal). */
	signal(SIGPIPE, SIG_IGN);
	/* Likewise a caller's `ulimit -f`: a write past it fails with EFBIG, never a silent death.
	 */
	signal(SIGXFSZ, SIG_IGN);

	/* A watchdog re-executes us under its own name (runtime/watchdog.c). */
	if (argc > 0 && strcmp(argv[0], "bulwark-watchdog") == 0)
		return watchdog_main(argc, argv);

	/* The first argument naming a verb decides (global flags come before it). */
	bool spawns = false;
	for (int i = 1; i < argc && !spawns; i++) {
		bool found = false;
		for (size_t k = 0; k < ARRAY_SIZE(verbs); k++)
			if (strcmp(argv[i], verbs[k].name) == 0) {
				spawns = verbs[k].spawns;
				found = true;
			}
		if (found)
			break;
	}
	int r = 0;
	if (spawns && !is_sealed_self())
		r = reexec_sealed(argv, &err);
	if (r == 0)
		r = run_verb(argc, argv, &g, &err);
	if (r < 0) {
		log_error_report(&err);
		return err.exit_status ? err.exit_status : 1;
	}
	return r;
}
