/* bulwark's entry point: the re-exec guard against overwriting our own binary, global flags,
 * and the verb dispatch table. Every error is printed once, here. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/capability.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <yajl/yajl_version.h>

#include "config.h"
#include "version.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/cli/cli.h"
#include "runtime/init_reaper.h"
#include "runtime/sealed.h"
#include "runtime/sandbox/watchdog.h"

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
    {"checkpoint", cmd_checkpoint, false, "checkpoint a running container (CRIU)"},
    {"restore", cmd_restore, false, "restore a container from a checkpoint (CRIU)"},
    {"sandbox", cmd_sandbox, true, "run one command in a throw-away hardened sandbox"},
    {"session", cmd_session, true, "long-lived sandboxes: create, exec, ls, pause, rm, checkpoint"},
    {"cp", cmd_cp, true, "copy files into or out of a running container"},
};

/* A sandbox runs in a user namespace of its own, always: as root onto a host id range from
 * the pool (runtime/idpool.h, far above every account), without root onto the caller's id and
 * subordinate ids. Nothing in it then holds a host id that may write our binary when root owns
 * the file, no group or other write bit is set, no ACL adds anyone, and the file system decides
 * access by those bits alone (not overlayfs: its real upper or lower file has bits of its own
 * and no busy-text guard). An rw workspace is the exception: an idmapped view written as its
 * directory's owner, root's included, so one on the binary's file system is reason enough for
 * the copy (cli_seal_for_sandbox). Otherwise the sealed copy (2-3 ms of every start: a 2 MB
 * copy and a second exec) is redundant. Where the owner is anyone else (a build tree or
 * ~/bin a rootless caller owns: its own id is mapped), or on any other file system (FUSE, 9p,
 * NFS decide elsewhere), the copy is made as for every other verb. `why` says which. */
static char **main_argv;

static bool sandbox_binary_unwritable(const char **why)
{
	static const unsigned long local_fs[] = {
	    0xEF53UL,	  /* ext2/3/4 */
	    0x58465342UL, /* xfs */
	    0x9123683EUL, /* btrfs */
	    0x01021994UL, /* tmpfs */
	    0x73717368UL, /* squashfs */
	    0xE0F5E1E2UL, /* erofs */
	};
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct statfs sf;
	if (self < 0 || fstat(self, &st) < 0 || fstatfs(self, &sf) < 0) {
		*why = "made: the binary cannot be examined";
		return false;
	}
	if (st.st_uid != 0) {
		*why = "made: the binary is not owned by root";
		return false;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = "made: the binary is writable by its group or by others";
		return false;
	}
	char acl[1];
	if (fgetxattr(self, "system.posix_acl_access", acl, 0) >= 0 || errno != ENODATA) {
		*why = "made: the binary has an access ACL (or its ACL cannot be read)";
		return false;
	}
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(local_fs); i++)
		known = known || (unsigned long)sf.f_type == local_fs[i];
	if (!known) {
		*why = "made: the binary's file system may decide access by more than its mode";
		return false;
	}
	return true;
}

static bool seal_skipped;
static dev_t seal_skipped_dev;

bool cli_seal_skipped(dev_t *binary_dev)
{
	*binary_dev = seal_skipped_dev;
	return seal_skipped;
}

int cli_seal_for_sandbox(const dev_t *rw_devs, size_t n_rw, struct bw_error *err)
{
	if (sealed_self()) {
		log_debug("sealed runtime copy (CVE-2019-5736): running from it");
		return 0;
	}
	const char *why = NULL;
	bool skip = sandbox_binary_unwritable(&why);
	struct stat st;
	if (skip && stat("/proc/self/exe", &st) < 0) {
		skip = false;
		why = "made: the binary cannot be examined";
	}
	if (skip && n_rw == SIZE_MAX) {
		skip = false;
		why = "made: an rw workspace cannot be examined";
	}
	for (size_t i = 0; skip && n_rw != SIZE_MAX && i < n_rw; i++)
		if (rw_devs[i] == st.st_dev) {
			skip = false;
			why = "made: an rw workspace is on the binary's file system";
		}
	if (skip) {
		seal_skipped = true;
		seal_skipped_dev = st.st_dev;
		log_debug("sealed runtime copy (CVE-2019-5736): not made: the sandbox cannot write "
			  "the binary (root's, not writable by group or others, no ACL, on a local "
			  "file system without an rw workspace)");
		return 0;
	}
	log_debug("sealed runtime copy (CVE-2019-5736): %s", why);
	return sealed_exec(main_argv, err);
}

static void print_version(FILE *f)
{
	const struct scmp_version *sv = seccomp_version();
	fprintf(f, "bulwark version %s\ncommit: %s\nspec: %s\n", BULWARK_VERSION, BULWARK_COMMIT,
		BULWARK_OCI_VERSION);
	if (sv != NULL)
		fprintf(f, "libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
	/* The libraries linked into this binary (statically where the build could: their
	 * versions are the build's). libnftables and libnl are the network helper's. */
	int yv = yajl_version();
	fprintf(f, "yajl: %d.%d.%d\nlibcap: %d.%d\n", yv / 10000, yv / 100 % 100, yv % 100,
		LIBCAP_MAJOR, LIBCAP_MINOR);
	/* crun's feature line, which tools (crun's own tests) read. +SYSTEMD means there
	 * what it means for crun: the systemd cgroup manager, and NOTIFY_SOCKET (notify.h,
	 * always built). */
#ifdef HAVE_SD_BUS
	fprintf(f, "+SYSTEMD +SECCOMP +APPARMOR +CAP\n");
#else
	fprintf(f, "+SECCOMP +APPARMOR +CAP\n");
#endif
}

/* runc's (urfave/cli's) layout, so tools and people that know runc's help find their way. */
static void usage(FILE *f, const struct cli_opt *opts, size_t n)
{
	const char *prog = cli_prog();
	fprintf(f,
		"NAME:\n   %s - Open Container Initiative runtime (bulwark, hardened)\n\n"
		"%s runs containers from OCI bundles with runc's command line, with hardened\n"
		"defaults: `%s spec` writes a confined config.json and `%s sandbox` runs one\n"
		"command in a throw-away sandbox.\n\n"
		"To start a new instance of a container:\n\n"
		"    # %s run [ -b bundle ] <container-id>\n\n"
		"USAGE:\n   %s [global options] command [command options] [arguments...]\n\n"
		"VERSION:\n   ",
		prog, prog, prog, prog, prog, prog);
	/* runc prints its version lines here, the first without the "name version" prefix. */
	fprintf(f, "%s\ncommit: %s\nspec: %s\n\nCOMMANDS:\n", BULWARK_VERSION, BULWARK_COMMIT,
		BULWARK_OCI_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "   %-10s  %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "   %-10s  %s\n\nGLOBAL OPTIONS:\n", "help, h",
		"Shows a list of commands or help for one command");
	struct cli_opt all[32];
	size_t k = 0;
	for (size_t i = 0; i < n && k < ARRAY_SIZE(all) - 1; i++)
		if (strcmp(opts[i].name, "version") != 0)
			all[k++] = opts[i];
	all[k++] = (struct cli_opt){"help", 'h', CLI_BOOL, NULL, NULL, "show help"};
	for (size_t i = 0; i < n; i++)
		if (strcmp(opts[i].name, "version") == 0)
			all[k++] = opts[i];
	cli_print_flags(f, all, k);
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* urfave/cli's exit code when a help topic (a command) does not exist. */
#define EXIT_NO_TOPIC 3

static int no_topic(const char *name, struct bw_error *err)
{
	char q[160];
	log_escape(q, sizeof(q), name);
	bw_fail(err, 0, "No help topic for '%s'", q);
	err->exit_status = EXIT_NO_TOPIC;
	return -1;
}

#define GLOBAL_OPT_COUNT 11

/* Parsed before the verb; listed in this order by the help, as runc's. */
static void global_opt_table(struct global_opts *g, bool *version,
			     struct cli_opt opts[GLOBAL_OPT_COUNT])
{
	const struct cli_opt table[] = {
	    {"debug", 0, CLI_BOOL, &g->debug, NULL, "enable debug logging"},
	    {"log", 0, CLI_STRING, &g->log, "FILE", "append log lines to FILE (default: stderr)"},
	    {"log-format", 0, CLI_STRING, &g->log_format, "FMT", "text (default) or json"},
	    {"root", 0, CLI_STRING, &g->root, "DIR", "state directory (default: /run/bulwark)"},
	    {"criu", 0, CLI_STRING, &g->criu, "PATH",
	     "the CRIU binary for checkpoint and restore (default: criu)"},
	    {"systemd-cgroup", 0, CLI_BOOL, &g->systemd_cgroup, NULL,
	     "create the cgroup as a transient systemd scope (linux.cgroupsPath "
	     "slice:prefix:name)"},
	    {"cgroup-manager", 0, CLI_STRING, &g->cgroup_manager, "MGR",
	     "cgroupfs (the default) or systemd (as --systemd-cgroup), as crun's flag"},
	    {"rootless", 0, CLI_STRING, &(char *){NULL}, "BOOL", "accepted for runc compatibility"},
	    {"policy", 0, CLI_STRING, &g->policy, "FILE", "host sandbox policy"},
	    {"audit", 0, CLI_STRING, &g->audit, "FILE", "append a JSON line per lifecycle event"},
	    {"version", 'v', CLI_BOOL, version, NULL, "print the version"},
	};
	_Static_assert(ARRAY_SIZE(table) == GLOBAL_OPT_COUNT, "GLOBAL_OPT_COUNT");
	memcpy(opts, table, sizeof(table));
}

/* The verb argv names, found as run_verb finds it (a global flag's value is never a verb):
 * NULL when there is none or the global flags do not parse (run_verb then says why). */
static const struct verb *verb_of(int argc, char **argv)
{
	struct global_opts g = {0};
	bool version = false;
	struct cli_opt opts[GLOBAL_OPT_COUNT];
	struct bw_error e = {0};
	int consumed = 0;
	global_opt_table(&g, &version, opts);
	if (argc < 1 || cli_parse(argc - 1, argv + 1, opts, GLOBAL_OPT_COUNT, &consumed, &e) != 0 ||
	    version || 1 + consumed >= argc)
		return NULL;
	return find_verb(argv[1 + consumed]);
}

static int run_verb(int argc, char **argv, struct global_opts *g, struct bw_error *err)
{
	bool version = false;
	struct cli_opt opts[GLOBAL_OPT_COUNT];
	global_opt_table(g, &version, opts);
	int consumed = 0;
	int r = cli_parse(argc - 1, argv + 1, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		usage(stdout, opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (version) {
		print_version(stdout);
		return 0;
	}
	enum log_format fmt = LOG_FORMAT_TEXT;
	if (g->log_format != NULL && strcmp(g->log_format, "json") == 0)
		fmt = LOG_FORMAT_JSON;
	else if (g->log_format != NULL && g->log_format[0] != '\0' &&
		 strcmp(g->log_format, "text") != 0)
		return bw_fail(err, 0, "invalid log-format: %s", g->log_format);
	if (log_init(g->log, fmt, g->debug, err) < 0)
		return -1;
	int idx = 1 + consumed;
	/* As runc: no command, `help` and `h` print the help (to stdout, success); `help CMD` is
	 * CMD's own help. */
	if (idx >= argc) {
		usage(stdout, opts, ARRAY_SIZE(opts));
		return 0;
	}
	const char *name = argv[idx];
	if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
		if (idx + 1 >= argc) {
			usage(stdout, opts, ARRAY_SIZE(opts));
			return 0;
		}
		const struct verb *v = find_verb(argv[idx + 1]);
		if (v == NULL)
			return no_topic(argv[idx + 1], err);
		char *help_argv[] = {"--help", NULL};
		cli_set_verb_summary(v->summary);
		return v->fn(g, 1, help_argv, err);
	}
	const struct verb *v = find_verb(name);
	if (v == NULL)
		return no_topic(name, err);
	if (g->cgroup_manager != NULL) {
		if (strcmp(g->cgroup_manager, "systemd") == 0)
			g->systemd_cgroup = true;
		else if (strcmp(g->cgroup_manager, "cgroupfs") != 0)
			return bw_fail(
			    err, 0,
			    "--cgroup-manager: `%s` is not supported (cgroupfs and systemd are; "
			    "bulwark never runs a container without its cgroup)",
			    g->cgroup_manager);
	}
	bool help = argc - idx > 1 &&
		    (strcmp(argv[idx + 1], "--help") == 0 || strcmp(argv[idx + 1], "-h") == 0);
	if (v->fn != cmd_spec && v->fn != cmd_features && !help &&
	    cli_check_state_root(cli_state_root(g), err) < 0) {
		if (v->fn == cmd_sandbox || v->fn == cmd_session)
			err->exit_status = 125; /* bulwark's own failure, as docker's */
		return -1;
	}
	cli_set_verb_summary(v->summary);
	return v->fn(g, argc - idx - 1, argv + idx + 1, err);
}

int main(int argc, char **argv)
{
	struct global_opts g = {0};
	struct bw_error err = {0};

	/* A checkpointable session's pid 1, executed by its init (init_reaper.h): only as a pid
	 * namespace's init; anywhere else the name is an ordinary argv[0]. */
	if (argc == 1 && strcmp(argv[0], INIT_SESSION_ARGV0) == 0 && getpid() == 1)
		init_reaper_hold(false);

	/* Hooks, console and notify sockets, the --log file, stdout: every peer may close early,
	 * and that is its business; it must never kill us by signal halfway through a create
	 * (state, cgroup and an init left behind). Writes fail with EPIPE instead. Whatever we
	 * exec gets the default back (hooks, helpers, ps; the init resets every signal). */
	signal(SIGPIPE, SIG_IGN);
	/* Likewise a caller's `ulimit -f`: a write past it fails with EFBIG, never a silent death.
	 */
	signal(SIGXFSZ, SIG_IGN);
	/* A caller that ignores SIGCHLD would have the kernel reap our children for us: the
	 * container's init among them, whose pid we then could no longer trust (spawn.c). */
	signal(SIGCHLD, SIG_DFL);

	bw_phase("main");
	cli_set_prog(argc > 0 ? argv[0] : NULL);
	/* A watchdog re-executes us under its own name (runtime/sandbox/watchdog.c). */
	if (argc > 0 && strcmp(argv[0], "bulwark-watchdog") == 0)
		return watchdog_main(argc, argv);

	/* The verb decides, found as run_verb will find it. `sandbox` decides once its flags are
	 * known (cli_seal_for_sandbox). */
	main_argv = argv;
	const struct verb *v = verb_of(argc, argv);
	int r = 0;
	if (v != NULL && v->spawns && v->fn != cmd_sandbox && !sealed_self())
		r = sealed_exec(argv, &err);
	bw_phase("main: sealed, verb");
	if (r == 0)
		r = run_verb(argc, argv, &g, &err);
	bw_phase("main: verb done");
	if (r < 0) {
		log_error_report(&err);
		return err.exit_status ? err.exit_status : 1;
	}
	return r;
}
