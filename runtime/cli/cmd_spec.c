/* `bulwark spec` (the hardened default config.json) and `bulwark features` (what this build and
 * this host support, in the shape of runc's features document). */
#include "runtime/cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "config.h"
#include "profiles/apparmor.h"
#include "profiles/caps.h"
#include "profiles/landlock.h"
#include "profiles/seccomp.h"
#include "runtime/sandbox/specgen.h"

VERB(spec)
{
	char *bundle = NULL;
	bool rootless = false;
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"bundle", 'b', CLI_STRING, &bundle, "DIR",
	     "where to write config.json (default: cwd)"},
	    {"rootless", 0, CLI_BOOL, &rootless, NULL, "map only the caller's own uid and gid"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark spec [command options]",
			       "Write bulwark's hardened default config.json (see "
			       "docs/hardened-default.md).",
			       opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	_cleanup_free_ char *dir = bundle;
	struct specgen sg;
	specgen_defaults(&sg);
	struct oci_seccomp *sc = NULL;
	if (seccomp_default_profile(&sc, err) < 0)
		return -1;
	sg.seccomp = sc;
	if (rootless) {
		sg.host_uid = (uint32_t)getuid();
		sg.host_gid = (uint32_t)getgid();
		sg.map_size = 1;
		sg.uid = sg.gid = 0;
		/* As runc's rootless spec: no limit that only a cgroup enforces, which an
		 * unprivileged user may have no way to write (create refuses such limits then). */
		sg.pids_limit = 0;
	}
	_cleanup_free_ char *json = specgen_render(&sg, true);
	seccomp_profile_free(sc);
	_cleanup_free_ char *path = fs_path_join(dir ? dir : ".", "config.json");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return bw_fail(err, 0, "spec: %s exists, remove it first", path);
	if (fd < 0)
		return bw_fail(err, errno, "spec: create %s", path);
	if (fs_write_all(fd, json, strlen(json)) < 0)
		return bw_fail(err, errno, "spec: write %s", path);
	return 0;
}

static void print_list(const char *key, const char *const *v, bool comma)
{
	printf("\"%s\":[", key);
	for (size_t i = 0; v[i]; i++)
		printf("%s\"%s\"", i ? "," : "", v[i]);
	printf("]%s", comma ? "," : "");
}

static void print_names(const char *key, const char *const *v)
{
	printf("\"%s\":[", key);
	for (size_t i = 0; v && v[i]; i++)
		printf("%s\"%s\"", i ? "," : "", v[i]);
	printf("]");
}

static void print_seccomp(void)
{
	char **archs = seccomp_arch_names();
	const char *const *flags = seccomp_flag_names();
	printf("\"seccomp\":{\"enabled\":true,");
	print_names("actions", seccomp_action_names());
	printf(",");
	print_names("operators", seccomp_operator_names());
	printf(",");
	print_names("archs", (const char *const *)archs);
	printf(",");
	print_names("knownFlags", flags);
	printf(",\"supportedFlags\":[");
	for (size_t i = 0, n = 0; flags && flags[i]; i++)
		if (seccomp_flag_supported(flags[i]) == 1)
			printf("%s\"%s\"", n++ ? "," : "", flags[i]);
	printf("]},");
	strv_free(archs);
}

VERB(features)
{
	static const char *const hooks[] = {"prestart",
					    "createRuntime",
					    "createContainer",
					    "startContainer",
					    "poststart",
					    "poststop",
					    NULL};
	static const char *const mount_opts[] = {
	    "async",	   "atime",	    "bind",	  "defaults",	 "dev",	       "diratime",
	    "dirsync",	   "exec",	    "idmap",	  "lazytime",	 "loud",       "mand",
	    "noatime",	   "nodev",	    "nodiratime", "noexec",	 "nolazytime", "nomand",
	    "norelatime",  "nostrictatime", "nosuid",	  "nosymfollow", "private",    "rbind",
	    "relatime",	   "remount",	    "ridmap",	  "ro",		 "rprivate",   "rshared",
	    "rslave",	   "runbindable",   "rw",	  "shared",	 "silent",     "slave",
	    "strictatime", "suid",	    "symfollow",  "sync",	 "tmpcopyup",  "unbindable",
	    NULL};
	static const char *const ns[] = {"cgroup", "ipc",  "mount", "network", "pid",
					 "time",   "user", "uts",   NULL};
	static const char *const annotations[] = {NULL};
	int consumed = 0;
	int r = cli_parse_any_order(argc, argv, NULL, 0, &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark features", "Print the features document (JSON).", NULL, 0);
		return 0;
	}
	if (r < 0)
		return -1;
	printf("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.3.0\",");
	print_list("hooks", hooks, true);
	print_list("mountOptions", mount_opts, true);
	printf("\"linux\":{");
	print_list("namespaces", ns, true);
	printf("\"capabilities\":[");
	for (int c = 0; c <= caps_last_cap(); c++) {
		char *name = cap_to_name((cap_value_t)c);
		if (name == NULL)
			continue;
		printf("%s\"", c ? "," : "");
		if (strncmp(name, "cap_", 4) != 0)
			printf("CAP_%d", c);
		else
			for (char *p = name; *p; p++)
				putchar(toupper((unsigned char)*p));
		printf("\"");
		cap_free(name);
	}
	enum cg_mode mode = cg_detect_mode();
	/* systemd: the driver is built in (sd-bus is loaded when a container asks for it). */
	printf("],\"cgroup\":{\"v1\":%s,\"v2\":true,\"systemd\":%s,\"systemdUser\":false,"
	       "\"rdma\":true},",
	       mode == CG_MODE_UNIFIED ? "false" : "true", cg_systemd_built() ? "true" : "false");
	print_seccomp();
	printf("\"apparmor\":{\"enabled\":%s},", apparmor_enabled() ? "true" : "false");
	printf("\"selinux\":{\"enabled\":false},\"intelRdt\":{\"enabled\":false},");
	printf("\"mountExtensions\":{\"idmap\":{\"enabled\":true}}},");
	printf(
	    "\"annotations\":{\"run.bulwark.version\":\"%s\",\"run.bulwark.landlock.abi\":\"%d\","
	    "\"run.bulwark.annotations\":\"run.bulwark.landlock run.bulwark.landlock.rules "
	    "run.bulwark.landlock.net run.bulwark.landlock.scope run.bulwark.apparmor "
	    "run.bulwark.seccomp run.bulwark.tty-guard run.bulwark.log-denials "
	    "run.bulwark.net.egress "
	    "run.bulwark.net.ingress "
	    "run.bulwark.net.allow-domains run.bulwark.net.deny-domains "
	    "run.bulwark.net.domain-default run.bulwark.lifetime\"},",
	    BULWARK_VERSION, landlock_abi_version() < 0 ? 0 : landlock_abi_version());
	print_list("potentiallyUnsafeConfigAnnotations", annotations, false);
	printf("}\n");
	return 0;
}
