/* config.json parsing: every validation rule with its exact message, the engines' real
 * configs, process.json and update --resources documents, loading from a bundle. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "oci/spec.h"

/* Tests write JSON with single quotes; this turns them into double quotes. */
static char *json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *json(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	cr_assert(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	for (char *c = s; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

#define BASE "'ociVersion':'1.2.0','root':{'path':'rootfs'}"
#define PROC "'args':['/bin/sh'],'cwd':'/'"

static struct oci_spec *parse_ok(const char *doc)
{
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	int r = oci_spec_parse(doc, strlen(doc), "config.json", &spec, &err);
	cr_assert_eq(r, 0, "unexpected error: %s\n  for %s", err.msg, doc);
	cr_assert_not_null(spec);
	return spec;
}

static void parse_fails(const char *doc, const char *msg)
{
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	int r = oci_spec_parse(doc, strlen(doc), "config.json", &spec, &err);
	cr_assert_eq(r, -1, "accepted: %s", doc);
	cr_assert_null(spec);
	cr_assert_str_eq(err.msg, msg, "for %s", doc);
}

/* A whole document given as the members after ociVersion and root. */
static struct oci_spec *spec_ok(const char *members)
{
	char *doc = json("{" BASE "%s%s}", members[0] ? "," : "", members);
	struct oci_spec *spec = parse_ok(doc);
	free(doc);
	return spec;
}

static void spec_fails(const char *members, const char *msg)
{
	char *doc = json("{" BASE "%s%s}", members[0] ? "," : "", members);
	parse_fails(doc, msg);
	free(doc);
}

static struct oci_spec *process_ok(const char *members)
{
	char *doc = json("{" BASE ",'process':{" PROC ",%s}}", members);
	struct oci_spec *spec = parse_ok(doc);
	free(doc);
	return spec;
}

static void process_fails(const char *members, const char *msg)
{
	char *doc = json("{" BASE ",'process':{" PROC ",%s}}", members);
	parse_fails(doc, msg);
	free(doc);
}

/* "linux" members; the namespaces list is given separately so rules can depend on it. */
static struct oci_spec *linux_ok(const char *members)
{
	char *doc = json("{" BASE ",'linux':{%s}}", members);
	struct oci_spec *spec = parse_ok(doc);
	free(doc);
	return spec;
}

static void linux_fails(const char *members, const char *msg)
{
	char *doc = json("{" BASE ",'linux':{%s}}", members);
	parse_fails(doc, msg);
	free(doc);
}

static void resources_fails(const char *members, const char *msg)
{
	char *m = json("'resources':{%s}", members);
	linux_fails(m, msg);
	free(m);
}

static void seccomp_fails(const char *members, const char *msg)
{
	char *m = json("'seccomp':{%s}", members);
	linux_fails(m, msg);
	free(m);
}

static char *read_data(const char *name, size_t *len)
{
	/* __FILE__ is relative to the build directory, where meson runs the tests */
	char *dir = xstrdup(__FILE__);
	*strrchr(dir, '/') = '\0';
	char *path = xasprintf("%s/data/%s", dir, name);
	char *buf = NULL;
	struct bw_error err = {0};
	cr_assert_eq(fs_read_file(path, 1 << 22, &buf, len, &err), 0, "%s", err.msg);
	free(path);
	free(dir);
	return buf;
}

static struct oci_spec *engine_config(const char *name)
{
	size_t len;
	char *buf = read_data(name, &len);
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	cr_assert_eq(oci_spec_parse(buf, len, "config.json", &spec, &err), 0, "%s: %s", name,
		     err.msg);
	free(buf);
	return spec;
}

/* ---- the engines' own configs ---- */

Test(engines, every_reference_config_parses)
{
	const char *names[] = {"containerd-tty.config.json",
			       "containerd.config.json",
			       "docker-bridge-hook.config.json",
			       "docker-tty.config.json",
			       "docker.config.json",
			       "podman-netavark.config.json",
			       "podman-tty.config.json",
			       "podman.config.json"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		oci_spec_free(engine_config(names[i]));
}

Test(engines, docker_config_has_its_seccomp_sysctls_and_empty_hooks)
{
	struct oci_spec *s = engine_config("docker.config.json");
	cr_assert_str_eq(s->oci_version, "1.0.2-dev");
	cr_assert_not_null(s->linux.seccomp);
	cr_assert_str_eq(s->linux.seccomp->default_action, "SCMP_ACT_ERRNO");
	cr_assert_gt(s->linux.seccomp->n_syscalls, 0);
	cr_assert_gt(s->linux.n_sysctl, 0);
	for (int k = 0; k < OCI_HOOK_NKINDS; k++)
		cr_assert_eq(s->hooks.n[k], 0);
	cr_assert(s->linux.has_resources);
	cr_assert_eq(s->linux.resources.devices[0].allow, false);
	cr_assert_eq(s->linux.resources.devices[0].type, 'a');
	cr_assert_eq(s->linux.resources.devices[0].major, -1);
	oci_spec_free(s);
}

Test(engines, docker_network_config_keeps_the_prestart_hook)
{
	struct oci_spec *s = engine_config("docker-bridge-hook.config.json");
	cr_assert_eq(s->hooks.n[OCI_HOOK_PRESTART], 1);
	cr_assert(str_has_prefix(s->hooks.list[OCI_HOOK_PRESTART][0].path, "/proc/"));
	cr_assert_str_eq(s->hooks.list[OCI_HOOK_PRESTART][0].args[0], "libnetwork-setkey");
	oci_spec_free(s);
}

Test(engines, containerd_config_has_a_relative_root_and_rlimits)
{
	struct oci_spec *s = engine_config("containerd.config.json");
	cr_assert_str_eq(s->root_path, "rootfs");
	cr_assert_eq(s->process.n_rlimits, 1);
	cr_assert_eq(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	cr_assert(s->process.no_new_privileges);
	oci_spec_free(s);
}

Test(engines, podman_config_has_umask_annotations_and_netns_path)
{
	struct oci_spec *s = engine_config("podman-netavark.config.json");
	cr_assert(s->process.user.umask_set);
	cr_assert_eq(s->process.user.umask, 18);
	cr_assert_str_eq(oci_spec_annotation(s, "io.container.manager"), "libpod");
	const struct oci_namespace *net = oci_spec_namespace(s, OCI_NS_NETWORK);
	cr_assert_not_null(net);
	cr_assert(str_has_prefix(net->path, "/run/netns/"));
	cr_assert(s->linux.seccomp->default_errno_ret.set);
	cr_assert_eq(s->linux.seccomp->default_errno_ret.v, 38);
	oci_spec_free(s);
}

/* ---- the document itself ---- */

Test(document, malformed_json_gives_one_line_with_yajls_reason)
{
	parse_fails("{\"ociVersion\":", "config.json: invalid JSON: parse error: premature EOF");
	parse_fails("{\"a\":}",
		    "config.json: invalid JSON: parse error: unallowed token at this point in JSON "
		    "text");
	parse_fails("{} x", "config.json: invalid JSON: parse error: trailing garbage");
}

Test(document, comments_are_not_json)
{
	parse_fails("/* c */{}", "config.json: invalid JSON: lexical error: probable comment found "
				 "in input text, comments are not enabled.");
}

Test(document, must_be_an_object)
{
	parse_fails("[1]", "config.json: invalid JSON: the document must be an object");
	parse_fails("", "config.json: invalid JSON: parse error: premature EOF");
}

Test(document, over_4_mib_is_too_large)
{
	size_t n = (4u << 20) + 1;
	char *big = xmalloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	struct bw_error err = {0};
	struct oci_spec *spec = NULL;
	cr_assert_eq(oci_spec_parse(big, n, "config.json", &spec, &err), -1);
	cr_assert_str_eq(err.msg, "config.json: too large");
	free(big);
}

static char *nested(int depth)
{
	/* {"x": [[[...]]]} with `depth` containers in all */
	char *s = xmalloc((size_t)depth * 2 + 64);
	size_t o = (size_t)sprintf(s, "{"
				      "\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"x\":");
	for (int i = 1; i < depth; i++)
		s[o++] = '[';
	for (int i = 1; i < depth; i++)
		s[o++] = ']';
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

Test(document, nesting_over_64_is_refused_and_64_is_fine)
{
	char *ok = nested(64), *deep = nested(65);
	oci_spec_free(parse_ok(ok));
	parse_fails(deep, "config.json: too deeply nested");
	free(ok);
	free(deep);
}

Test(document, nul_characters_in_strings_are_refused)
{
	char *doc = json("{" BASE ",'hostname':'a\\u0000b'}");
	parse_fails(doc, "config.json: invalid JSON: NUL character in a string");
	free(doc);
}

Test(document, duplicate_keys_are_refused)
{
	char *doc = json("{" BASE ",'hostname':'a','hostname':'b'}");
	parse_fails(doc, "config.json: invalid JSON: duplicate key in an object");
	free(doc);
}

Test(document, invalid_utf8_is_refused)
{
	parse_fails("{\"hostname\":\"\xff\"}",
		    "config.json: invalid JSON: lexical error: invalid bytes in UTF8 string.");
}

Test(document, unknown_properties_are_ignored_at_every_level)
{
	struct oci_spec *s =
	    spec_ok("'future':{'x':[1,2.5,null]},'windows':{'layerFolders':[]},"
		    "'process':{" PROC ",'newThing':true,'user':{'uid':1,'username':'x'}},"
		    "'linux':{'resources':{'memory':{'limit':1,'later':3},'misc':{}},'vendor':1},"
		    "'hooks':{'prestart':[],'onReboot':[{'path':'rel'}]}");
	cr_assert_eq(s->process.user.uid, 1);
	cr_assert_eq(s->linux.resources.memory.limit.v, 1);
	oci_spec_free(s);
}

Test(document, null_means_absent)
{
	struct oci_spec *s = spec_ok("'process':null,'hostname':null,'mounts':null,'hooks':null,"
				     "'annotations':null,'linux':{'seccomp':null,'resources':null,"
				     "'intelRdt':null,'netDevices':null,'sysctl':null}");
	cr_assert_not(s->has_process);
	cr_assert_null(s->hostname);
	cr_assert_null(s->linux.seccomp);
	cr_assert_not(s->linux.has_resources);
	oci_spec_free(s);
}

/* ---- ociVersion, root, hostname ---- */

Test(version, any_1x_is_accepted)
{
	const char *versions[] = {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0", "1.0.0-rc5"};
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		char *doc = json("{'ociVersion':'%s','root':{'path':'r'}}", versions[i]);
		struct oci_spec *s = parse_ok(doc);
		cr_assert_str_eq(s->oci_version, versions[i]);
		oci_spec_free(s);
		free(doc);
	}
}

Test(version, others_are_refused)
{
	parse_fails("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
		    "config.json: ociVersion: unsupported version \"2.0.0\" (need 1.x)");
	parse_fails("{\"ociVersion\":\"1.x\",\"root\":{\"path\":\"r\"}}",
		    "config.json: ociVersion: unsupported version \"1.x\" (need 1.x)");
	parse_fails("{\"root\":{\"path\":\"r\"}}", "config.json: ociVersion: required");
	parse_fails("{\"ociVersion\":1}", "config.json: ociVersion: must be a string");
}

Test(root, is_required_with_a_path)
{
	parse_fails("{\"ociVersion\":\"1.0.0\"}", "config.json: root: required");
	parse_fails("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}",
		    "config.json: root.path: must not be empty");
	parse_fails("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":1}}",
		    "config.json: root.readonly: must be a boolean");
}

Test(root, readonly_is_read)
{
	struct oci_spec *s = parse_ok("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/b/r\","
				      "\"readonly\":true}}");
	cr_assert_str_eq(s->root_path, "/b/r");
	cr_assert(s->root_readonly);
	oci_spec_free(s);
}

Test(hostname, needs_a_uts_namespace)
{
	spec_fails("'hostname':'box'", "config.json: hostname: requires a UTS namespace");
	spec_fails("'domainname':'example.org'",
		   "config.json: domainname: requires a UTS namespace");
	struct oci_spec *s = spec_ok("'hostname':'box','linux':{'namespaces':[{'type':'uts'}]}");
	cr_assert_str_eq(s->hostname, "box");
	oci_spec_free(s);
}

/* ---- process ---- */

Test(process, args_must_not_be_empty)
{
	spec_fails("'process':{'cwd':'/'}", "config.json: process.args: must not be empty");
	spec_fails("'process':{'args':[],'cwd':'/'}",
		   "config.json: process.args: must not be empty");
	spec_fails("'process':{'args':[''],'cwd':'/'}",
		   "config.json: process.args[0]: must not be empty");
	spec_fails("'process':{'args':'sh','cwd':'/'}",
		   "config.json: process.args: must be an array");
	spec_fails("'process':{'args':['sh',1],'cwd':'/'}",
		   "config.json: process.args[1]: must be a string");
	spec_fails("'process':[]", "config.json: process: must be an object");
}

Test(process, cwd_must_be_absolute)
{
	spec_fails("'process':{'args':['sh']}", "config.json: process.cwd: required");
	spec_fails("'process':{'args':['sh'],'cwd':'tmp'}",
		   "config.json: process.cwd: must be an absolute path");
}

Test(process, env_entries_need_an_equals_sign)
{
	process_fails("'env':['PATH=/bin','JUNK']",
		      "config.json: process.env[1]: must be of the form NAME=VALUE");
	process_fails("'env':['=x']",
		      "config.json: process.env[0]: must be of the form NAME=VALUE");
	struct oci_spec *s = process_ok("'env':['EMPTY=','A=b=c']");
	cr_assert_str_eq(s->process.env[1], "A=b=c");
	oci_spec_free(s);
}

Test(process, terminal_and_console_size)
{
	process_fails("'terminal':'yes'", "config.json: process.terminal: must be a boolean");
	process_fails("'consoleSize':{'height':70000,'width':80}",
		      "config.json: process.consoleSize.height: must be <= 65535");
	struct oci_spec *s = process_ok("'terminal':true,'consoleSize':{'height':24,'width':80}");
	cr_assert(s->process.terminal);
	cr_assert(s->process.console_size_set);
	cr_assert_eq(s->process.console_width, 80);
	oci_spec_free(s);
}

Test(process, user_ids_are_0_to_2147483647)
{
	process_fails("'user':{'uid':-1}", "config.json: process.user.uid: must be >= 0");
	process_fails("'user':{'gid':4294967296}",
		      "config.json: process.user.gid: must be <= 2147483647");
	process_fails("'user':{'uid':1.5}", "config.json: process.user.uid: must be an integer");
	process_fails("'user':{'uid':1e3}", "config.json: process.user.uid: must be an integer");
	process_fails("'user':{'uid':'0'}", "config.json: process.user.uid: must be an integer");
	process_fails("'user':{'additionalGids':[1,'2']}",
		      "config.json: process.user.additionalGids[1]: must be an integer");
	struct oci_spec *s = process_ok("'user':{'uid':2147483647,'gid':5,'additionalGids':[7,8]}");
	cr_assert_eq(s->process.user.uid, 2147483647u);
	cr_assert_eq(s->process.user.n_additional_gids, 2);
	cr_assert_eq(s->process.user.additional_gids[1], 8);
	cr_assert_not(s->process.user.umask_set);
	oci_spec_free(s);
}

Test(process, umask_is_at_most_0777)
{
	process_fails("'user':{'umask':512}", "config.json: process.user.umask: must be <= 0777");
	struct oci_spec *s = process_ok("'user':{'umask':0}");
	cr_assert(s->process.user.umask_set);
	cr_assert_eq(s->process.user.umask, 0);
	oci_spec_free(s);
}

Test(process, capability_names_look_like_CAP_X)
{
	process_fails("'capabilities':{'bounding':['CAP_CHOWN','chown']}",
		      "config.json: process.capabilities.bounding[1]: invalid capability name "
		      "\"chown\"");
	process_fails("'capabilities':{'ambient':['CAP_']}",
		      "config.json: process.capabilities.ambient[0]: invalid capability name "
		      "\"CAP_\"");
	process_fails("'capabilities':{'effective':['CAP_sys_admin']}",
		      "config.json: process.capabilities.effective[0]: invalid capability name "
		      "\"CAP_sys_admin\"");
	struct oci_spec *s = process_ok("'capabilities':{'bounding':['CAP_NET_BIND_SERVICE'],"
					"'permitted':[],'inheritable':null}");
	cr_assert(s->process.caps.set);
	cr_assert_str_eq(s->process.caps.sets[OCI_CAP_BOUNDING][0], "CAP_NET_BIND_SERVICE");
	cr_assert_null(s->process.caps.sets[OCI_CAP_PERMITTED][0]);
	cr_assert_null(s->process.caps.sets[OCI_CAP_INHERITABLE]);
	oci_spec_free(s);
}

Test(process, rlimit_type_must_be_known)
{
	process_fails("'rlimits':[{'type':'RLIMIT_FOO','hard':1,'soft':1}]",
		      "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
	process_fails("'rlimits':[{'hard':1,'soft':1}]",
		      "config.json: process.rlimits[0].type: required");
}

Test(process, rlimit_soft_must_not_exceed_hard)
{
	process_fails("'rlimits':[{'type':'RLIMIT_NOFILE','hard':10,'soft':11}]",
		      "config.json: process.rlimits[0]: soft limit must be <= hard limit");
}

Test(process, rlimit_types_are_unique)
{
	process_fails("'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':1},"
		      "{'type':'RLIMIT_CORE','hard':0,'soft':0},"
		      "{'type':'RLIMIT_NOFILE','hard':2,'soft':2}]",
		      "config.json: process.rlimits[2].type: duplicate \"RLIMIT_NOFILE\"");
}

Test(process, rlimits_carry_the_full_uint64_range)
{
	struct oci_spec *s = process_ok("'rlimits':[{'type':'RLIMIT_MEMLOCK',"
					"'hard':18446744073709551615,'soft':9223372036854775808}]");
	cr_assert_eq(s->process.rlimits[0].resource, RLIMIT_MEMLOCK);
	cr_assert_eq(s->process.rlimits[0].hard, UINT64_MAX);
	cr_assert_eq(s->process.rlimits[0].soft, (uint64_t)1 << 63);
	cr_assert_eq(s->process.rlimits[0].hard, (uint64_t)RLIM_INFINITY);
	oci_spec_free(s);
	process_fails("'rlimits':[{'type':'RLIMIT_CORE','hard':18446744073709551616,'soft':0}]",
		      "config.json: process.rlimits[0].hard: must be <= 18446744073709551615");
	process_fails("'rlimits':[{'type':'RLIMIT_CORE','hard':1,'soft':-1}]",
		      "config.json: process.rlimits[0].soft: must be >= 0");
}

Test(process, oom_score_adj_is_between_minus_1000_and_1000)
{
	process_fails("'oomScoreAdj':1001", "config.json: process.oomScoreAdj: must be <= 1000");
	process_fails("'oomScoreAdj':-1001", "config.json: process.oomScoreAdj: must be >= -1000");
	struct oci_spec *s = process_ok("'oomScoreAdj':-1000");
	cr_assert(s->process.oom_score_adj.set);
	cr_assert_eq(s->process.oom_score_adj.v, -1000);
	oci_spec_free(s);
}

Test(process, io_priority_class_and_level)
{
	process_fails("'ioPriority':{'class':'IOPRIO_CLASS_NONE','priority':0}",
		      "config.json: process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\"");
	process_fails("'ioPriority':{'priority':1}",
		      "config.json: process.ioPriority.class: required");
	process_fails("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}",
		      "config.json: process.ioPriority.priority: must be <= 7");
	process_fails("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':-1}",
		      "config.json: process.ioPriority.priority: must be >= 0");
	struct oci_spec *s = process_ok("'ioPriority':{'class':'IOPRIO_CLASS_IDLE','priority':7}");
	cr_assert(s->process.io_priority.set);
	cr_assert_str_eq(s->process.io_priority.klass, "IOPRIO_CLASS_IDLE");
	cr_assert_eq(s->process.io_priority.priority, 7);
	oci_spec_free(s);
}

Test(process, scheduler_policy_and_nice)
{
	process_fails("'scheduler':{'policy':'SCHED_FAST'}",
		      "config.json: process.scheduler.policy: unknown policy \"SCHED_FAST\"");
	process_fails("'scheduler':{'nice':1}", "config.json: process.scheduler.policy: required");
	process_fails("'scheduler':{'policy':'SCHED_OTHER','nice':20}",
		      "config.json: process.scheduler.nice: must be <= 19");
	process_fails("'scheduler':{'policy':'SCHED_OTHER','nice':-21}",
		      "config.json: process.scheduler.nice: must be >= -20");
	process_fails("'scheduler':{'policy':'SCHED_OTHER','flags':['SCHED_FLAG_X']}",
		      "config.json: process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_X\"");
	struct oci_spec *s = process_ok("'scheduler':{'policy':'SCHED_BATCH','nice':-20,"
					"'flags':['SCHED_FLAG_RESET_ON_FORK']}");
	cr_assert(s->process.scheduler.set);
	cr_assert_eq(s->process.scheduler.nice, -20);
	oci_spec_free(s);
}

Test(process, scheduler_priority_follows_the_kernel_rules)
{
	process_fails("'scheduler':{'policy':'SCHED_FIFO','priority':0}",
		      "config.json: process.scheduler.priority: must be between 1 and 99 for "
		      "SCHED_FIFO");
	process_fails("'scheduler':{'policy':'SCHED_OTHER','priority':5}",
		      "config.json: process.scheduler.priority: must be 0 for SCHED_OTHER");
	process_fails("'scheduler':{'policy':'SCHED_DEADLINE','runtime':2000,'deadline':1000}",
		      "config.json: process.scheduler: SCHED_DEADLINE needs 1024 <= runtime <= "
		      "deadline <= period");
	struct oci_spec *s = process_ok("'scheduler':{'policy':'SCHED_DEADLINE','runtime':10000,"
					"'deadline':20000,'period':30000}");
	cr_assert_eq(s->process.scheduler.period, 30000);
	oci_spec_free(s);
}

Test(process, exec_cpu_affinity_is_a_cpu_list)
{
	process_fails("'execCPUAffinity':{'initial':'0-'}",
		      "config.json: process.execCPUAffinity.initial: invalid cpu list \"0-\"");
	process_fails("'execCPUAffinity':{'final':'3-1'}",
		      "config.json: process.execCPUAffinity.final: invalid cpu list \"3-1\"");
	struct oci_spec *s = process_ok("'execCPUAffinity':{'initial':'0-3,7','final':'1'}");
	cr_assert_str_eq(s->process.exec_cpu_affinity.initial, "0-3,7");
	oci_spec_free(s);
}

Test(process, selinux_label_is_refused_and_empty_apparmor_is_absent)
{
	process_fails("'selinuxLabel':'system_u:system_r:container_t:s0'",
		      "config.json: process.selinuxLabel: SELinux is not supported");
	struct oci_spec *s = process_ok("'selinuxLabel':'','apparmorProfile':''");
	cr_assert_null(s->process.apparmor_profile);
	cr_assert_null(s->process.selinux_label);
	oci_spec_free(s);
	s = process_ok("'apparmorProfile':'bulwark-default','noNewPrivileges':true");
	cr_assert_str_eq(s->process.apparmor_profile, "bulwark-default");
	cr_assert(s->process.no_new_privileges);
	oci_spec_free(s);
}

/* ---- mounts ---- */

Test(mounts, destination_must_be_absolute_and_inside)
{
	spec_fails("'mounts':[{'destination':'proc','type':'proc'}]",
		   "config.json: mounts[0].destination: must be an absolute path");
	spec_fails("'mounts':[{'type':'proc'}]", "config.json: mounts[0].destination: required");
	spec_fails("'mounts':[{'destination':'/a/../../etc'}]",
		   "config.json: mounts[0].destination: must not escape the root");
	spec_fails("'mounts':[{'destination':'/x','source':7}]",
		   "config.json: mounts[0].source: must be a string");
	spec_fails("'mounts':[{'destination':'/x','options':'ro'}]",
		   "config.json: mounts[0].options: must be an array");
	spec_fails("'mounts':{}", "config.json: mounts: must be an array");
}

Test(mounts, destination_is_stored_clean)
{
	struct oci_spec *s = spec_ok("'mounts':[{'destination':'//proc/./sys/../','type':'proc',"
				     "'source':'proc','options':['nosuid','noexec']}]");
	cr_assert_str_eq(s->mounts[0].destination, "/proc");
	cr_assert_str_eq(s->mounts[0].options[1], "noexec");
	oci_spec_free(s);
}

Test(mounts, idmap_needs_both_maps)
{
	spec_fails("'mounts':[{'destination':'/x','uidMappings':[{'containerID':0,'hostID':1000,"
		   "'size':1}]}]",
		   "config.json: mounts[0]: uidMappings and gidMappings must be given together");
	spec_fails("'mounts':[{'destination':'/x','uidMappings':[{'containerID':0,'hostID':1,"
		   "'size':0}],'gidMappings':[]}]",
		   "config.json: mounts[0].uidMappings[0].size: must be > 0");
}

/* ---- hooks ---- */

Test(hooks, docker_empty_object_is_fine)
{
	struct oci_spec *s = spec_ok("'hooks':{}");
	for (int k = 0; k < OCI_HOOK_NKINDS; k++)
		cr_assert_eq(s->hooks.n[k], 0);
	oci_spec_free(s);
}

Test(hooks, all_six_kinds_are_read)
{
	struct oci_spec *s =
	    spec_ok("'hooks':{'prestart':[{'path':'/a'}],'createRuntime':[{'path':'/b'}],"
		    "'createContainer':[{'path':'/c'}],'startContainer':[{'path':'/d'}],"
		    "'poststart':[{'path':'/e','args':['e','1'],'env':['X=1'],'timeout':5}],"
		    "'poststop':[{'path':'/f'},{'path':'/g'}]}");
	cr_assert_str_eq(s->hooks.list[OCI_HOOK_CREATE_CONTAINER][0].path, "/c");
	cr_assert_str_eq(s->hooks.list[OCI_HOOK_START_CONTAINER][0].path, "/d");
	struct oci_hook *h = &s->hooks.list[OCI_HOOK_POSTSTART][0];
	cr_assert(h->timeout.set);
	cr_assert_eq(h->timeout.v, 5);
	cr_assert_str_eq(h->env[0], "X=1");
	cr_assert_eq(s->hooks.n[OCI_HOOK_POSTSTOP], 2);
	oci_spec_free(s);
}

Test(hooks, path_absolute_and_timeout_positive)
{
	spec_fails("'hooks':{'prestart':[{'path':'hook'}]}",
		   "config.json: hooks.prestart[0].path: must be an absolute path");
	spec_fails("'hooks':{'poststop':[{'args':[]}]}",
		   "config.json: hooks.poststop[0].path: required");
	spec_fails("'hooks':{'createRuntime':[{'path':'/h','timeout':0}]}",
		   "config.json: hooks.createRuntime[0].timeout: must be > 0");
	spec_fails("'hooks':{'poststart':[{'path':'/h','env':['NOEQ']}]}",
		   "config.json: hooks.poststart[0].env[0]: must be of the form NAME=VALUE");
	spec_fails("'hooks':{'prestart':{}}", "config.json: hooks.prestart: must be an array");
	spec_fails("'hooks':{'prestart':['x']}",
		   "config.json: hooks.prestart[0]: must be an object");
}

/* ---- annotations ---- */

Test(annotations, are_string_to_string)
{
	spec_fails("'annotations':{'a':1}", "config.json: annotations[\"a\"]: must be a string");
	spec_fails("'annotations':{'':'x'}",
		   "config.json: annotations[\"\"]: key must not be empty");
	struct oci_spec *s = spec_ok("'annotations':{'run.bulwark.net':'none','b':''}");
	cr_assert_eq(s->n_annotations, 2);
	cr_assert_str_eq(oci_spec_annotation(s, "run.bulwark.net"), "none");
	cr_assert_null(oci_spec_annotation(s, "c"));
	oci_spec_free(s);
}

Test(annotations, hostile_keys_are_printed_safely)
{
	char *doc = json("{" BASE ",'annotations':{'a\\nb\\u001b[31m':1}}");
	parse_fails(doc, "config.json: annotations[\"a?b?[31m\"]: must be a string");
	free(doc);
}

/* ---- linux: namespaces and id mappings ---- */

Test(namespaces, type_known_unique_path_absolute)
{
	linux_fails("'namespaces':[{'type':'pids'}]",
		    "config.json: linux.namespaces[0].type: unknown namespace type \"pids\"");
	linux_fails("'namespaces':[{'path':'/x'}]",
		    "config.json: linux.namespaces[0].type: required");
	linux_fails("'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]",
		    "config.json: linux.namespaces[2].type: duplicate \"pid\"");
	linux_fails("'namespaces':[{'type':'network','path':'run/netns/x'}]",
		    "config.json: linux.namespaces[0].path: must be an absolute path");
}

Test(namespaces, all_types_and_paths_are_read)
{
	struct oci_spec *s = linux_ok("'namespaces':[{'type':'pid'},{'type':'network','path':"
				      "'/run/netns/n'},{'type':'mount'},{'type':'ipc'},{'type':"
				      "'uts'},{'type':'cgroup'},{'type':'time','path':''}]");
	cr_assert_eq(s->linux.n_namespaces, 7);
	cr_assert_str_eq(oci_spec_namespace(s, OCI_NS_NETWORK)->path, "/run/netns/n");
	cr_assert_null(oci_spec_namespace(s, OCI_NS_TIME)->path);
	cr_assert_null(oci_spec_namespace(s, OCI_NS_USER));
	oci_spec_free(s);
}

#define USERNS "'namespaces':[{'type':'user'}],"
#define GIDMAP "'gidMappings':[{'containerID':0,'hostID':100000,'size':65536}]"

Test(idmap, size_must_be_positive)
{
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':1000,'size':0}]," GIDMAP,
		    "config.json: linux.uidMappings[0].size: must be > 0");
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':1000}]," GIDMAP,
		    "config.json: linux.uidMappings[0].size: must be > 0");
}

Test(idmap, ranges_must_not_overflow_uint32)
{
	linux_fails(USERNS "'uidMappings':[{'containerID':4294967295,'hostID':0,'size':1}]," GIDMAP,
		    "config.json: linux.uidMappings[0]: containerID + size must be <= 4294967295");
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':4294967290,'size':6}]," GIDMAP,
		    "config.json: linux.uidMappings[0]: hostID + size must be <= 4294967295");
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':0,'size':4294967296}]," GIDMAP,
		    "config.json: linux.uidMappings[0].size: must be <= 4294967295");
}

Test(idmap, ranges_must_not_overlap)
{
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':1000,'size':10},"
			   "{'containerID':5,'hostID':5000,'size':10}]," GIDMAP,
		    "config.json: linux.uidMappings[1]: overlaps entry 0");
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':1000,'size':10},"
			   "{'containerID':10,'hostID':1009,'size':1}]," GIDMAP,
		    "config.json: linux.uidMappings[1]: overlaps entry 0");
}

Test(idmap, at_most_340_entries)
{
	size_t cap = 341 * 64 + 256;
	char *list = xmalloc(cap), *o = list;
	for (int i = 0; i < 341; i++)
		o += sprintf(o, "%s{'containerID':%d,'hostID':%d,'size':1}", i ? "," : "", i,
			     1000 + i);
	char *m = json(USERNS "'uidMappings':[%.*s]," GIDMAP, (int)(o - list), list);
	linux_fails(m, "config.json: linux.uidMappings: too many entries (max 340)");
	free(m);
	/* 340 is fine */
	char *last = strrchr(list, '{');
	last[-1] = '\0';
	m = json(USERNS "'uidMappings':[%s]," GIDMAP, list);
	struct oci_spec *s = linux_ok(m);
	cr_assert_eq(s->linux.n_uid_mappings, 340);
	oci_spec_free(s);
	free(m);
	free(list);
}

Test(idmap, new_user_namespace_needs_both_maps)
{
	linux_fails(USERNS GIDMAP, "config.json: linux.uidMappings: required for a new user "
				   "namespace");
	linux_fails(USERNS "'uidMappings':[{'containerID':0,'hostID':1,'size':1}]",
		    "config.json: linux.gidMappings: required for a new user namespace");
	struct oci_spec *s = linux_ok("'namespaces':[{'type':'user','path':'/proc/1/ns/user'}]");
	cr_assert_eq(s->linux.n_uid_mappings, 0);
	oci_spec_free(s);
}

Test(idmap, maps_without_user_namespace_are_refused)
{
	linux_fails(GIDMAP, "config.json: linux.gidMappings: requires a user namespace");
	linux_fails("'uidMappings':[{'containerID':0,'hostID':1,'size':1}]",
		    "config.json: linux.uidMappings: requires a user namespace");
}

Test(idmap, valid_maps_are_read)
{
	struct oci_spec *s = linux_ok(USERNS "'uidMappings':[{'containerID':0,'hostID':100000,"
					     "'size':65536}]," GIDMAP);
	cr_assert_eq(s->linux.uid_mappings[0].host_id, 100000);
	cr_assert_eq(s->linux.gid_mappings[0].size, 65536);
	oci_spec_free(s);
}

/* ---- linux: time offsets ---- */

Test(time_offsets, keys_and_values)
{
	linux_fails("'namespaces':[{'type':'time'}],'timeOffsets':{'realtime':{'secs':1}}",
		    "config.json: linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\" "
		    "(expected monotonic or boottime)");
	linux_fails("'namespaces':[{'type':'time'}],'timeOffsets':{'boottime':{'nanosecs':"
		    "1000000000}}",
		    "config.json: linux.timeOffsets.boottime.nanosecs: must be <= 999999999");
	linux_fails("'timeOffsets':{'monotonic':{'secs':1}}",
		    "config.json: linux.timeOffsets: requires a new time namespace");
	struct oci_spec *s = linux_ok("'namespaces':[{'type':'time'}],'timeOffsets':{'monotonic':"
				      "{'secs':-86400,'nanosecs':5}}");
	cr_assert(s->linux.time_monotonic.set);
	cr_assert_eq(s->linux.time_monotonic.secs, -86400);
	cr_assert_not(s->linux.time_boottime.set);
	oci_spec_free(s);
}

/* ---- linux: devices ---- */

Test(devices, type_path_and_numbers)
{
	linux_fails("'devices':[{'type':'x','path':'/dev/x','major':1,'minor':1}]",
		    "config.json: linux.devices[0].type: must be one of c, b, u, p");
	linux_fails("'devices':[{'type':'c','path':'dev/x','major':1,'minor':1}]",
		    "config.json: linux.devices[0].path: must be an absolute path");
	linux_fails("'devices':[{'type':'c','path':'/dev/','major':1,'minor':1}]",
		    "config.json: linux.devices[0].path: must not be /dev");
	linux_fails("'devices':[{'type':'c','path':'/dev/x','minor':1}]",
		    "config.json: linux.devices[0].major: required for type c");
	linux_fails("'devices':[{'type':'b','path':'/dev/x','major':8}]",
		    "config.json: linux.devices[0].minor: required for type b");
	linux_fails("'devices':[{'type':'c','path':'/dev/x','major':1,'minor':1,'fileMode':"
		    "4096}]",
		    "config.json: linux.devices[0].fileMode: must be permission bits (<= 07777), "
		    "optionally "
		    "with the file type of \"type\"");
	/* Podman's --privileged devices: S_IFCHR|0666 and S_IFBLK|0600. */
	linux_fails("'devices':[{'type':'b','path':'/dev/x','major':1,'minor':1,'fileMode':8630}]",
		    "config.json: linux.devices[0].fileMode: must be permission bits (<= 07777), "
		    "optionally "
		    "with the file type of \"type\"");
	linux_fails("'devices':[{'type':'c','path':'/dev/x','major':-1,'minor':1}]",
		    "config.json: linux.devices[0].major: must be >= 0");
}

Test(devices, fifo_needs_no_numbers_and_fields_are_read)
{
	struct oci_spec *s = linux_ok("'devices':[{'type':'p','path':'/dev/fifo'},{'type':'c',"
				      "'path':'/dev/fuse','major':10,'minor':229,'fileMode':438,"
				      "'uid':0,'gid':5}]");
	cr_assert_eq(s->linux.devices[0].type, 'p');
	cr_assert_eq(s->linux.devices[1].minor, 229);
	cr_assert_eq(s->linux.devices[1].file_mode, 0666);
	cr_assert(s->linux.devices[1].gid_set);
	cr_assert_eq(s->linux.devices[1].gid, 5);
	cr_assert_not(s->linux.devices[0].uid_set);
	oci_spec_free(s);
}

/* ---- linux: resources ---- */

Test(resources, device_rules)
{
	resources_fails("'devices':[{'allow':true,'type':'x'}]",
			"config.json: linux.resources.devices[0].type: must be one of a, c, b");
	resources_fails("'devices':[{'allow':true,'access':'rwx'}]",
			"config.json: linux.resources.devices[0].access: must be a subset of "
			"\"rwm\"");
	resources_fails("'devices':[{'access':'r'}]",
			"config.json: linux.resources.devices[0].allow: required");
	/* An empty access grants and denies nothing (the kernel reads it so); runc accepts it. */
	char *doc = json("{" BASE ",'linux':{'resources':{'devices':[{'allow':false,'type':'c',"
			 "'major':10,'minor':200,'access':''}]}}}");
	struct oci_spec *s = parse_ok(doc);
	cr_assert_str_eq(s->linux.resources.devices[0].access, "");
	oci_spec_free(s);
	free(doc);
	resources_fails("'devices':[{'allow':true,'major':-2}]",
			"config.json: linux.resources.devices[0].major: must be >= -1");
}

Test(resources, memory_values_are_at_least_minus_one)
{
	resources_fails("'memory':{'limit':-2}",
			"config.json: linux.resources.memory.limit: must be >= -1");
	resources_fails("'memory':{'swap':-5}",
			"config.json: linux.resources.memory.swap: must be >= -1");
	resources_fails("'memory':{'swappiness':101}",
			"config.json: linux.resources.memory.swappiness: must be <= 100");
	resources_fails("'memory':{'disableOOMKiller':0}",
			"config.json: linux.resources.memory.disableOOMKiller: must be a boolean");
}

Test(resources, cpu_lists_and_ranges)
{
	resources_fails("'cpu':{'cpus':'0-3,'}",
			"config.json: linux.resources.cpu.cpus: invalid cpu list \"0-3,\"");
	resources_fails("'cpu':{'mems':'a'}",
			"config.json: linux.resources.cpu.mems: invalid cpu list \"a\"");
	resources_fails("'cpu':{'quota':-2}",
			"config.json: linux.resources.cpu.quota: must be >= -1");
	resources_fails("'cpu':{'idle':2}", "config.json: linux.resources.cpu.idle: must be <= 1");
	resources_fails("'cpu':{'shares':-1}",
			"config.json: linux.resources.cpu.shares: must be >= 0");
}

Test(resources, block_io_weights)
{
	resources_fails("'blockIO':{'weight':5}",
			"config.json: linux.resources.blockIO.weight: must be 0 or between 10 and "
			"1000");
	resources_fails("'blockIO':{'leafWeight':1001}",
			"config.json: linux.resources.blockIO.leafWeight: must be 0 or between 10 "
			"and 1000");
	resources_fails("'blockIO':{'weightDevice':[{'major':8,'minor':0,'weight':9}]}",
			"config.json: linux.resources.blockIO.weightDevice[0].weight: must be 0 or "
			"between 10 and 1000");
	resources_fails("'blockIO':{'weightDevice':[{'minor':0,'weight':100}]}",
			"config.json: linux.resources.blockIO.weightDevice[0].major: required");
	resources_fails("'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':-1}]}",
			"config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: must "
			"be >= 0");
}

Test(resources, hugepage_sizes)
{
	resources_fails("'hugepageLimits':[{'pageSize':'3MB','limit':1}]",
			"config.json: linux.resources.hugepageLimits[0].pageSize: must be a size "
			"like \"2MB\"");
	resources_fails("'hugepageLimits':[{'pageSize':'2M','limit':1}]",
			"config.json: linux.resources.hugepageLimits[0].pageSize: must be a size "
			"like \"2MB\"");
	resources_fails("'hugepageLimits':[{'limit':1}]",
			"config.json: linux.resources.hugepageLimits[0].pageSize: required");
}

Test(resources, unified_keys_are_controller_files)
{
	resources_fails("'unified':{'cpu':'1'}",
			"config.json: linux.resources.unified[\"cpu\"]: must be "
			"\"<controller>.<file>\"");
	resources_fails("'unified':{'../memory.max':'1'}",
			"config.json: linux.resources.unified[\"../memory.max\"]: must be "
			"\"<controller>.<file>\"");
	resources_fails("'unified':{'..':'1'}",
			"config.json: linux.resources.unified[\"..\"]: must be "
			"\"<controller>.<file>\"");
	resources_fails("'unified':{'memory.max':1}",
			"config.json: linux.resources.unified[\"memory.max\"]: must be a string");
}

Test(resources, network_and_rdma)
{
	resources_fails("'network':{'classID':4294967296}",
			"config.json: linux.resources.network.classID: must be <= 4294967295");
	resources_fails(
	    "'network':{'priorities':[{'priority':1}]}",
	    "config.json: linux.resources.network.priorities[0].name: must not be empty");
	resources_fails("'rdma':{'mlx5_0':{'hcaHandles':-1}}",
			"config.json: linux.resources.rdma[\"mlx5_0\"].hcaHandles: must be >= 0");
}

Test(resources, everything_is_read)
{
	struct oci_spec *s = linux_ok(
	    "'resources':{'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c',"
	    "'major':1,'minor':3,'access':'rw'}],'memory':{'limit':67108864,'reservation':0,"
	    "'swap':-1,'kernel':0,'kernelTCP':1,'swappiness':18446744073709551615,"
	    "'disableOOMKiller':false,'useHierarchy':true,'checkBeforeUpdate':true},"
	    "'cpu':{'shares':1024,'quota':50000,'burst':10,'period':100000,'realtimeRuntime':-1,"
	    "'realtimePeriod':1,'cpus':'0-1','mems':'0','idle':1},'pids':{'limit':-1},"
	    "'blockIO':{'weight':0,'leafWeight':10,'weightDevice':[{'major':8,'minor':0,"
	    "'weight':1000}],'throttleWriteIOPSDevice':[{'major':8,'minor':16,'rate':300}]},"
	    "'hugepageLimits':[{'pageSize':'1GB','limit':0},{'pageSize':'64KB','limit':1}],"
	    "'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':5}]},"
	    "'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':1000}},"
	    "'unified':{'memory.high':'max','io.weight':'default 100'}}");
	const struct oci_resources *r = &s->linux.resources;
	cr_assert_eq(r->n_devices, 2);
	cr_assert_eq(r->devices[1].type, 'c');
	cr_assert_str_eq(r->devices[1].access, "rw");
	cr_assert_eq(r->memory.limit.v, 67108864);
	cr_assert_eq(r->memory.swap.v, -1);
	cr_assert_not(r->memory.swappiness.set, "uint64(-1) means unset");
	cr_assert(r->memory.check_before_update.v);
	cr_assert(r->memory.disable_oom_killer.set);
	cr_assert_not(r->memory.disable_oom_killer.v);
	cr_assert_eq(r->cpu.quota.v, 50000);
	cr_assert_str_eq(r->cpu.cpus, "0-1");
	cr_assert_eq(r->cpu.idle.v, 1);
	cr_assert(r->pids_limit.set);
	cr_assert_eq(r->pids_limit.v, -1);
	cr_assert(r->block_io.weight.set);
	cr_assert_eq(r->block_io.weight.v, 0);
	cr_assert_eq(r->block_io.weight_devices[0].weight.v, 1000);
	cr_assert_eq(r->block_io.throttle[OCI_THROTTLE_WRITE_IOPS][0].rate, 300);
	cr_assert_eq(r->block_io.n_throttle[OCI_THROTTLE_READ_BPS], 0);
	cr_assert_str_eq(r->hugepage_limits[1].page_size, "64KB");
	cr_assert_eq(r->net_class_id.v, 1048577);
	cr_assert_str_eq(r->net_priorities[0].name, "eth0");
	cr_assert_str_eq(r->rdma[0].device, "mlx5_1");
	cr_assert_eq(r->rdma[0].hca_objects.v, 1000);
	cr_assert_str_eq(r->unified[1].value, "default 100");
	oci_spec_free(s);
}

/* ---- linux: sysctl ---- */

Test(sysctl, keys_cannot_escape_proc_sys)
{
	linux_fails("'namespaces':[{'type':'network'}],'sysctl':{'':'1'}",
		    "config.json: linux.sysctl[\"\"]: key must not be empty");
	linux_fails("'namespaces':[{'type':'network'}],'sysctl':{'net/../../etc/x':'1'}",
		    "config.json: linux.sysctl[\"net/../../etc/x\"]: key must not contain \".\" or "
		    "\"..\" components");
	linux_fails("'namespaces':[{'type':'network'}],'sysctl':{'net..ipv4':'1'}",
		    "config.json: linux.sysctl[\"net..ipv4\"]: key has an empty component");
	linux_fails("'namespaces':[{'type':'network'}],'sysctl':{'/net/x':'1'}",
		    "config.json: linux.sysctl[\"/net/x\"]: key has an empty component");
	linux_fails("'namespaces':[{'type':'network'}],'sysctl':{'net.ipv4.x':1}",
		    "config.json: linux.sysctl[\"net.ipv4.x\"]: must be a string");
}

Test(sysctl, each_needs_the_namespace_that_isolates_it)
{
	linux_fails("'sysctl':{'net.ipv4.ip_forward':'1'}",
		    "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network "
		    "namespace");
	linux_fails("'sysctl':{'kernel.shmmax':'1'}",
		    "config.json: linux.sysctl[\"kernel.shmmax\"]: requires an IPC namespace");
	linux_fails("'sysctl':{'kernel.domainname':'x'}",
		    "config.json: linux.sysctl[\"kernel.domainname\"]: requires a UTS namespace");
	linux_fails("'namespaces':[{'type':'network'},{'type':'ipc'},{'type':'uts'}],"
		    "'sysctl':{'vm.swappiness':'0'}",
		    "config.json: linux.sysctl[\"vm.swappiness\"]: not isolated by any namespace "
		    "(it would change the host)");
	struct oci_spec *s = linux_ok("'namespaces':[{'type':'network'},{'type':'ipc'}],"
				      "'sysctl':{'net/ipv4/conf/eth0.100/forwarding':'1',"
				      "'fs.mqueue.msg_max':'20','kernel.sem':'1 2 3 4'}");
	cr_assert_eq(s->linux.n_sysctl, 3);
	cr_assert_str_eq(s->linux.sysctl[2].value, "1 2 3 4");
	oci_spec_free(s);
}

Test(sysctl, kernel_hostname_and_a_different_domainname_conflict_with_their_fields)
{
	linux_fails("'namespaces':[{'type':'uts'}],'sysctl':{'kernel.hostname':'x'}",
		    "config.json: linux.sysctl[\"kernel.hostname\"]: conflicts with the field "
		    "\"hostname\" (set that instead)");
	linux_fails("'namespaces':[{'type':'uts'}],'sysctl':{'kernel/hostname':'x'}",
		    "config.json: linux.sysctl[\"kernel/hostname\"]: conflicts with the field "
		    "\"hostname\" (set that instead)");
	struct oci_spec *s =
	    linux_ok("'namespaces':[{'type':'uts'}],'sysctl':{'kernel.domainname':'x'}");
	oci_spec_free(s);
}

/* ---- linux: seccomp ---- */

Test(seccomp, actions_must_be_known)
{
	seccomp_fails("'defaultAction':'SCMP_ACT_DENY'",
		      "config.json: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_DENY\"");
	seccomp_fails("'architectures':['SCMP_ARCH_X86_64']",
		      "config.json: linux.seccomp.defaultAction: required");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],"
		      "'action':'ALLOW'}]",
		      "config.json: linux.seccomp.syscalls[0].action: unknown action \"ALLOW\"");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read']}]",
		      "config.json: linux.seccomp.syscalls[0].action: required");
}

Test(seccomp, syscall_entries_need_names)
{
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],"
		      "'action':'SCMP_ACT_ERRNO'}]",
		      "config.json: linux.seccomp.syscalls[0].names: must not be empty");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'action':'SCMP_ACT_ERRNO'}]",
		      "config.json: linux.seccomp.syscalls[0].names: must not be empty");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read',''],"
		      "'action':'SCMP_ACT_ERRNO'}]",
		      "config.json: linux.seccomp.syscalls[0].names[1]: must not be empty");
}

Test(seccomp, args_index_and_operator)
{
	seccomp_fails(
	    "'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['personality'],"
	    "'action':'SCMP_ACT_ERRNO','args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]",
	    "config.json: linux.seccomp.syscalls[0].args[0].index: must be <= 5");
	seccomp_fails(
	    "'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['personality'],"
	    "'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'SCMP_CMP_IN'}]}]",
	    "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator "
	    "\"SCMP_CMP_IN\"");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['personality'],"
		      "'action':'SCMP_ACT_ERRNO','args':[{'value':1,'op':'SCMP_CMP_EQ'}]}]",
		      "config.json: linux.seccomp.syscalls[0].args[0].index: required");
}

Test(seccomp, architectures_and_flags_must_be_known)
{
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64',"
		      "'SCMP_ARCH_VAX']",
		      "config.json: linux.seccomp.architectures[1]: unknown architecture "
		      "\"SCMP_ARCH_VAX\"");
	seccomp_fails(
	    "'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_NEW_LISTENER']",
	    "config.json: linux.seccomp.flags[0]: unknown flag "
	    "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");
}

Test(seccomp, listener_path_absolute_and_required_by_notify)
{
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'run/l.sock'",
		      "config.json: linux.seccomp.listenerPath: must be an absolute path");
	seccomp_fails("'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['mount'],"
		      "'action':'SCMP_ACT_NOTIFY'}]",
		      "config.json: linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
}

Test(seccomp, a_full_profile_is_read)
{
	struct oci_spec *s =
	    linux_ok("'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':38,"
		     "'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86','SCMP_ARCH_X32',"
		     "'SCMP_ARCH_AARCH64','SCMP_ARCH_RISCV64','SCMP_ARCH_LOONGARCH64'],"
		     "'flags':['SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
		     "'listenerPath':'/run/seccomp.sock','listenerMetadata':'m',"
		     "'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
		     "{'names':['clone'],'action':'SCMP_ACT_ERRNO','errnoRet':1,'args':[{'index':0,"
		     "'value':2114060288,'valueTwo':0,'op':'SCMP_CMP_MASKED_EQ'}]},"
		     "{'names':['ioctl'],'action':'SCMP_ACT_NOTIFY','args':[{'index':1,"
		     "'value':18446744073709551615,'op':'SCMP_CMP_EQ'}]}]}");
	const struct oci_seccomp *sc = s->linux.seccomp;
	cr_assert_eq(sc->default_errno_ret.v, 38);
	cr_assert_eq(sc->n_syscalls, 3);
	cr_assert_str_eq(sc->syscalls[0].names[1], "write");
	cr_assert_eq(sc->syscalls[1].errno_ret.v, 1);
	cr_assert_eq(sc->syscalls[1].args[0].value, 2114060288);
	cr_assert_eq(sc->syscalls[2].args[0].value, UINT64_MAX);
	cr_assert_eq(sc->syscalls[2].args[0].index, 1);
	cr_assert_str_eq(sc->listener_path, "/run/seccomp.sock");
	oci_spec_free(s);
}

/* ---- linux: the rest ---- */

Test(linux_misc, rootfs_propagation_is_one_of_eight)
{
	linux_fails("'rootfsPropagation':'recursive'",
		    "config.json: linux.rootfsPropagation: unknown propagation \"recursive\"");
	const char *ok[] = {"shared",  "slave",	 "private",  "unbindable",
			    "rshared", "rslave", "rprivate", "runbindable"};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char *m = json("'rootfsPropagation':'%s'", ok[i]);
		struct oci_spec *s = linux_ok(m);
		cr_assert_str_eq(s->linux.rootfs_propagation, ok[i]);
		oci_spec_free(s);
		free(m);
	}
}

Test(linux_misc, masked_and_readonly_paths_are_absolute)
{
	linux_fails("'maskedPaths':['/proc/kcore','proc/keys']",
		    "config.json: linux.maskedPaths[1]: must be an absolute path");
	linux_fails("'readonlyPaths':['sys']",
		    "config.json: linux.readonlyPaths[0]: must be an absolute path");
}

Test(linux_misc, cgroups_path_cannot_climb)
{
	linux_fails("'cgroupsPath':'/docker/../../x'",
		    "config.json: linux.cgroupsPath: must not contain \"..\"");
	struct oci_spec *s = linux_ok("'cgroupsPath':'/docker/a..b'");
	cr_assert_str_eq(s->linux.cgroups_path, "/docker/a..b");
	oci_spec_free(s);
}

Test(linux_misc, personality_domain_and_no_flags)
{
	linux_fails("'personality':{'domain':'BSD'}",
		    "config.json: linux.personality.domain: unknown domain \"BSD\" (expected LINUX "
		    "or LINUX32)");
	linux_fails("'personality':{'domain':'LINUX32','flags':['ADDR_NO_RANDOMIZE']}",
		    "config.json: linux.personality.flags: must be empty");
	struct oci_spec *s = linux_ok("'personality':{'domain':'LINUX32','flags':[]}");
	cr_assert(s->linux.personality.set);
	cr_assert_str_eq(s->linux.personality.domain, "LINUX32");
	oci_spec_free(s);
}

Test(linux_misc, memory_policy_rules)
{
	linux_fails("'memoryPolicy':{'mode':'MPOL_ANY'}",
		    "config.json: linux.memoryPolicy.mode: unknown mode \"MPOL_ANY\"");
	linux_fails("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0','flags':['MPOL_F_X']}",
		    "config.json: linux.memoryPolicy.flags[0]: unknown flag \"MPOL_F_X\"");
	linux_fails("'memoryPolicy':{'mode':'MPOL_DEFAULT','nodes':'0'}",
		    "config.json: linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT");
	linux_fails("'memoryPolicy':{'mode':'MPOL_INTERLEAVE'}",
		    "config.json: linux.memoryPolicy.nodes: required for MPOL_INTERLEAVE");
	linux_fails("'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0','flags':"
		    "['MPOL_F_STATIC_NODES','MPOL_F_RELATIVE_NODES']}",
		    "config.json: linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and "
		    "MPOL_F_RELATIVE_NODES are exclusive");
	struct oci_spec *s = linux_ok("'memoryPolicy':{'mode':'MPOL_WEIGHTED_INTERLEAVE',"
				      "'nodes':'0-1','flags':['MPOL_F_NUMA_BALANCING']}");
	cr_assert_str_eq(s->linux.memory_policy.nodes, "0-1");
	oci_spec_free(s);
}

Test(linux_misc, unsupported_features_are_named)
{
	linux_fails("'mountLabel':'system_u:object_r:container_file_t:s0'",
		    "config.json: linux.mountLabel: SELinux is not supported");
	linux_fails("'intelRdt':{'closID':'x'}", "config.json: linux.intelRdt: not supported");
	linux_fails("'intelRdt':{}", "config.json: linux.intelRdt: not supported");
	linux_fails("'netDevices':{'eth1':{'name':'eth0'}}",
		    "config.json: linux.netDevices: not supported");
	linux_fails("'netDevices':[]", "config.json: linux.netDevices: must be an object");
	struct oci_spec *s = linux_ok("'mountLabel':'','netDevices':{}");
	cr_assert_null(s->linux.mount_label);
	oci_spec_free(s);
}

/* ---- process.json and update --resources ---- */

Test(process_json, docker_exec_document)
{
	const char *doc = "{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\",\"-c\",\"id\"],"
			  "\"env\":[\"PATH=/usr/bin\"],\"cwd\":\"/\",\"capabilities\":{"
			  "\"bounding\":[\"CAP_KILL\"]},\"noNewPrivileges\":true,"
			  "\"terminal\":false,\"apparmorProfile\":\"docker-default\"}";
	struct oci_process p;
	struct bw_error err = {0};
	cr_assert_eq(oci_process_parse(doc, strlen(doc), "process.json", &p, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(p.args[2], "id");
	cr_assert_str_eq(p.apparmor_profile, "docker-default");
	oci_process_free_fields(&p);
	cr_assert_null(p.args);
}

Test(process_json, errors_use_the_given_name_and_leave_nothing)
{
	const char *doc =
	    "{\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":[\"A=1\"],\"user\":{\"uid\":-1}}";
	struct oci_process p;
	struct bw_error err = {0};
	cr_assert_eq(oci_process_parse(doc, strlen(doc), "process.json", &p, &err), -1);
	cr_assert_str_eq(err.msg, "process.json: user.uid: must be >= 0");
	cr_assert_null(p.args);
	cr_assert_null(p.env);
}

Test(resources_json, docker_update_payload)
{
	const char *doc = "{\"memory\":{\"limit\":67108864,\"reservation\":0,\"swap\":134217728,"
			  "\"kernel\":0},\"cpu\":{\"shares\":512,\"quota\":0,\"period\":0},"
			  "\"pids\":{\"limit\":100},\"blockIO\":{\"weight\":0}}";
	struct oci_resources r;
	struct bw_error err = {0};
	cr_assert_eq(oci_resources_parse(doc, strlen(doc), "resources", &r, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(r.memory.limit.v, 67108864);
	cr_assert(r.memory.reservation.set);
	cr_assert_eq(r.memory.swap.v, 134217728);
	cr_assert_eq(r.cpu.shares.v, 512);
	cr_assert(r.cpu.quota.set);
	cr_assert_eq(r.pids_limit.v, 100);
	cr_assert(r.block_io.weight.set);
	cr_assert_not(r.memory.kernel_tcp.set);
	oci_resources_free_fields(&r);
}

Test(resources_json, podman_update_payload)
{
	const char *doc = "{\"memory\":{\"limit\":33554432,\"swap\":67108864},\"cpu\":{\"shares\":"
			  "512,\"quota\":50000,\"period\":100000}}";
	struct oci_resources r;
	struct bw_error err = {0};
	cr_assert_eq(oci_resources_parse(doc, strlen(doc), "resources", &r, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(r.cpu.period.v, 100000);
	cr_assert_not(r.pids_limit.set);
	oci_resources_free_fields(&r);
}

Test(resources_json, errors_use_the_given_name)
{
	const char *doc = "{\"memory\":{\"limit\":\"64m\"}}";
	struct oci_resources r;
	struct bw_error err = {0};
	cr_assert_eq(oci_resources_parse(doc, strlen(doc), "resources", &r, &err), -1);
	cr_assert_str_eq(err.msg, "resources: memory.limit: must be an integer");
	cr_assert_eq(oci_resources_parse("[]", 2, "resources", &r, &err), -1);
	cr_assert_str_eq(err.msg, "resources: invalid JSON: the document must be an object");
}

/* ---- loading a bundle ---- */

static char *make_bundle(void)
{
	char *dir = xstrdup("/tmp/test-oci-bundle-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void remove_bundle(char *dir)
{
	char *cfg = xasprintf("%s/config.json", dir);
	unlink(cfg);
	rmdir(dir);
	free(cfg);
	free(dir);
}

Test(load, reads_bundle_config)
{
	char *dir = make_bundle();
	char *cfg = xasprintf("%s/config.json", dir);
	const char *doc = "{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"rootfs\"}}";
	struct bw_error err = {0};
	cr_assert_eq(fs_write_atomic(cfg, doc, strlen(doc), 0644, &err), 0, "%s", err.msg);
	struct oci_spec *s = NULL;
	cr_assert_eq(oci_spec_load(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s->root_path, "rootfs");
	oci_spec_free(s);
	free(cfg);
	remove_bundle(dir);
}

Test(load, missing_file_is_named)
{
	char *dir = make_bundle();
	struct bw_error err = {0};
	struct oci_spec *s = NULL;
	cr_assert_eq(oci_spec_load(dir, &s, &err), -1);
	char *want = xasprintf("config.json: open `%s/config.json`", dir);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(err.code, ENOENT);
	free(want);
	remove_bundle(dir);
}

Test(load, a_fifo_is_refused_without_blocking)
{
	char *dir = make_bundle();
	char *cfg = xasprintf("%s/config.json", dir);
	cr_assert_eq(mkfifo(cfg, 0600), 0);
	struct bw_error err = {0};
	struct oci_spec *s = NULL;
	cr_assert_eq(oci_spec_load(dir, &s, &err), -1);
	char *want = xasprintf("config.json: `%s` is not a regular file", cfg);
	cr_assert_str_eq(err.msg, want);
	free(want);
	free(cfg);
	remove_bundle(dir);
}

Test(load, a_huge_file_is_too_large)
{
	char *dir = make_bundle();
	char *cfg = xasprintf("%s/config.json", dir);
	int fd = open(cfg, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (4 << 20) + 1), 0);
	close(fd);
	struct bw_error err = {0};
	struct oci_spec *s = NULL;
	cr_assert_eq(oci_spec_load(dir, &s, &err), -1);
	cr_assert_str_eq(err.msg, "config.json: too large");
	free(cfg);
	remove_bundle(dir);
}

/* ---- name helpers ---- */

Test(helpers, namespace_names_round_trip)
{
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		cr_assert_eq(oci_ns_type_from_name(oci_ns_type_name((enum oci_ns_type)t)), t);
	cr_assert_str_eq(oci_ns_type_name(OCI_NS_NETWORK), "network");
	cr_assert_eq(oci_ns_type_from_name("net"), -1);
	cr_assert_null(oci_ns_type_name(OCI_NS_NTYPES));
}

Test(helpers, hook_kind_names_are_the_json_keys)
{
	cr_assert_str_eq(oci_hook_kind_name(OCI_HOOK_CREATE_RUNTIME), "createRuntime");
	cr_assert_str_eq(oci_hook_kind_name(OCI_HOOK_POSTSTOP), "poststop");
	cr_assert_null(oci_hook_kind_name(OCI_HOOK_NKINDS));
}

Test(helpers, rlimit_names_map_to_numbers)
{
	cr_assert_eq(oci_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	cr_assert_eq(oci_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	cr_assert_eq(oci_rlimit_from_name("NOFILE"), -1);
}

Test(linux, device_file_mode_may_carry_its_own_file_type_as_podman_sends_it)
{
	struct oci_spec *s =
	    linux_ok("'devices':[{'type':'c','path':'/dev/x','major':1,'minor':3,'fileMode':8630},"
		     "{'type':'b','path':'/dev/y','major':8,'minor':0,'fileMode':24960}]");
	cr_assert_eq(s->linux.devices[0].file_mode, 0666);
	cr_assert_eq(s->linux.devices[1].file_mode, 0600);
	oci_spec_free(s);
}

/* The kernel reads (uid_t)-1 as "leave unchanged": 4294967295 would keep the runtime's uid 0. */
Test(process, user_ids_the_kernel_reads_as_unchanged_are_refused)
{
	process_fails("'user':{'uid':4294967295}",
		      "config.json: process.user.uid: must be <= 2147483647");
	process_fails("'user':{'gid':4294967295}",
		      "config.json: process.user.gid: must be <= 2147483647");
	process_fails("'user':{'uid':2147483648}",
		      "config.json: process.user.uid: must be <= 2147483647");
	process_fails("'user':{'additionalGids':[5,4294967295]}",
		      "config.json: process.user.additionalGids[1]: must be <= 2147483647");
	linux_fails("'devices':[{'type':'c','path':'/dev/x','major':1,'minor':3,'uid':4294967295}]",
		    "config.json: linux.devices[0].uid: must be <= 2147483647");
}

Test(process, process_json_user_ids_follow_the_same_rule)
{
	struct oci_process p;
	struct bw_error err = {0};
	const char *doc = "{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":4294967295}}";
	cr_assert_eq(oci_process_parse(doc, strlen(doc), "process.json", &p, &err), -1);
	cr_assert_str_eq(err.msg, "process.json: user.uid: must be <= 2147483647");
}

/* -1 and 0 are "unlimited" (Docker sends both); below -1 runc silently lifted the limit. */
Test(resources, pids_limit_below_minus_one_is_refused)
{
	resources_fails("'pids':{'limit':-5}",
			"config.json: linux.resources.pids.limit: must be > 0, "
			"or -1 or 0 for unlimited (got -5)");
	resources_fails("'pids':{'limit':-9223372036854775808}",
			"config.json: linux.resources.pids.limit: must be > 0, or -1 or 0 for "
			"unlimited (got -9223372036854775808)");
	for (int v = -1; v <= 1; v++) {
		char *m = json("'resources':{'pids':{'limit':%d}}", v);
		struct oci_spec *s = linux_ok(m);
		cr_assert_eq(s->linux.resources.pids_limit.v, v);
		oci_spec_free(s);
		free(m);
	}
}

/* A relative root.path is inside the bundle; ".." may move within it but not out of it. */
Test(root, relative_path_must_stay_inside_the_bundle)
{
	const char *bad[] = {"..", "../rootfs", "rootfs/../..", "./a/../../b", "a/b/../../../c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *doc = json("{'ociVersion':'1.0.0','root':{'path':'%s'}}", bad[i]);
		parse_fails(doc,
			    "config.json: root.path: invalid rootfs: a relative path must stay "
			    "inside the bundle");
		free(doc);
	}
	const char *good[] = {"rootfs", "a/../rootfs", "./rootfs/", "rootfs/..", "/abs/../../x"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *doc = json("{'ociVersion':'1.0.0','root':{'path':'%s'}}", good[i]);
		oci_spec_free(parse_ok(doc));
		free(doc);
	}
}
