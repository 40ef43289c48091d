/* Landlock: the plan built from annotations and mounts (pure), then the real thing in a forked
 * child on this kernel: denied reads and writes give EACCES, granted ones work, TCP ports and
 * signal scoping are enforced. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "profiles/landlock.h"

#define MOUNTS_JSON                                                                                \
	"\"mounts\": ["                                                                            \
	"{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\","                   \
	" \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"                                      \
	"{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","                  \
	" \"options\": [\"nosuid\", \"noexec\"]},"                                                 \
	"{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","            \
	" \"options\": [\"nosuid\", \"noexec\"]},"                                                 \
	"{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","                  \
	" \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"                              \
	"{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","                  \
	" \"options\": [\"nosuid\", \"nodev\"]},"                                                  \
	"{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv\","                   \
	" \"options\": [\"rbind\", \"ro\", \"noexec\"]}]"

static struct oci_spec *spec_with(bool root_ro, const char *annotations, const char *extra)
{
	_cleanup_free_ char *json = xasprintf(
	    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": %s},"
	    " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, "
	    "\"gid\": 0}}, %s, \"annotations\": {%s}, \"linux\": {%s}}",
	    root_ro ? "true" : "false", MOUNTS_JSON, annotations,
	    extra ? extra
		  : "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, "
		    "{\"type\": \"mount\"}]");
	struct oci_spec *spec = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_spec_parse(json, strlen(json), "config.json", &spec, &err), 0, "%s",
		     err.msg);
	return spec;
}

static const struct landlock_rule *rule_for(const struct landlock_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].path, path) == 0)
			return &p->rules[i];
	return NULL;
}

static int plan_of(const char *annotations, bool root_ro, struct landlock_plan *p,
		   struct bw_error *err)
{
	struct oci_spec *spec = spec_with(root_ro, annotations, NULL);
	int r = landlock_plan_from_spec(spec, p, err);
	oci_spec_free(spec);
	return r;
}

Test(landlock_plan, absent_annotation_is_off)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("", true, &p, &err), 0);
	cr_assert_eq(p.mode, LANDLOCK_OFF);
	cr_assert_eq(p.n_rules, 0);
}

Test(landlock_plan, unknown_mode_names_the_annotation)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"strict\"", true, &p, &err), -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.landlock: unknown mode \"strict\" (off, default, enforce)");
}

Test(landlock_plan, refinement_without_the_switch_is_an_error)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock.net\": \"none\"", true, &p, &err), -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.landlock.net is set but run.bulwark.landlock is off");
}

Test(landlock_plan, readonly_root_gets_read_and_execute_only)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\"", true, &p, &err), 0);
	const struct landlock_rule *r = rule_for(&p, "/");
	cr_assert_not_null(r);
	cr_assert_eq(r->access, LL_FS_READ | LL_FS_EXECUTE);
	cr_assert_eq(p.min_abi, 1);
	landlock_plan_free(&p);
}

Test(landlock_plan, mounts_follow_their_flags)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\"", true, &p, &err), 0);
	cr_assert_eq(rule_for(&p, "/tmp")->access, LL_FS_READ | LL_FS_WRITE | LL_FS_EXECUTE);
	cr_assert_eq(rule_for(&p, "/data")->access, LL_FS_READ);
	cr_assert_eq(rule_for(&p, "/sys")->access, LL_FS_READ);
	cr_assert_eq(rule_for(&p, "/proc")->access, LL_FS_READ);
	cr_assert_eq(rule_for(&p, "/dev")->access, LL_FS_READ_DIR);
	cr_assert_eq(rule_for(&p, "/dev/pts")->access,
		     LL_FS_READ | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV);
	cr_assert_eq(rule_for(&p, "/dev/null")->access,
		     LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV);
	cr_assert_not_null(rule_for(&p, "/dev/urandom"));
	landlock_plan_free(&p);
}

Test(landlock_plan, readonly_root_keeps_dev_nodes_out_of_its_grant)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\"", true, &p, &err), 0);
	const struct landlock_rule *r = rule_for(&p, "/");
	/* /proc and /sys are mounted noexec: the root's read grant adds nothing there. */
	cr_assert_not_null(r->except);
	cr_assert_str_eq(r->except[0], "/dev");
	cr_assert_null(r->except[1]);
	landlock_plan_free(&p);
}

Test(landlock_plan, writable_root_does_not_reach_proc_or_readonly_leaves)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\"", false, &p, &err), 0);
	const struct landlock_rule *r = rule_for(&p, "/");
	cr_assert_eq(r->access, LL_FS_READ | LL_FS_WRITE | LL_FS_EXECUTE);
	cr_assert(strv_contains(r->except, "/proc"));
	cr_assert(strv_contains(r->except, "/dev"));
	/* ro and noexec mounts: the kernel refuses the rest already, no split needed. */
	cr_assert(!strv_contains(r->except, "/sys"));
	cr_assert(!strv_contains(r->except, "/data"));
	/* Nested below an exception: not listed twice. */
	cr_assert(!strv_contains(r->except, "/dev/pts"));
	landlock_plan_free(&p);
}

Test(landlock_plan, devices_from_the_spec_get_device_rights)
{
	struct oci_spec *spec = spec_with(true, "\"run.bulwark.landlock\": \"default\"",
					  "\"devices\": [{\"type\": \"c\", \"path\": "
					  "\"/dev/fuse\", \"major\": 10, \"minor\": 229}]");
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(landlock_plan_from_spec(spec, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(rule_for(&p, "/dev/fuse")->access,
		     LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV);
	landlock_plan_free(&p);
	oci_spec_free(spec);
}

Test(landlock_plan, annotation_rules_add_paths)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.rules\": \"rw:/var/cache/,rx:/opt/tool\"",
			     true, &p, &err),
		     0, "%s", err.msg);
	cr_assert_eq(rule_for(&p, "/var/cache")->access, LL_FS_READ | LL_FS_WRITE);
	cr_assert_eq(rule_for(&p, "/opt/tool")->access, LL_FS_READ | LL_FS_EXECUTE);
	landlock_plan_free(&p);
}

Test(landlock_plan, bad_rules_name_the_annotation)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.rules\": \"rwx:/a,all:/b\"",
			     true, &p, &err),
		     -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.landlock.rules: unknown mode \"all\" (ro, rx, rw, rwx)");
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.rules\": \"ro:relative\"",
			     true, &p, &err),
		     -1);
	cr_assert_str_eq(err.msg, "run.bulwark.landlock.rules: \"relative\": not an absolute path");
}

Test(landlock_plan, net_ports_merge_and_raise_the_abi)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(
	    plan_of("\"run.bulwark.landlock\": \"default\", "
		    "\"run.bulwark.landlock.net\": \"connect:443,bind:8080,connect:8080-8081\"",
		    true, &p, &err),
	    0, "%s", err.msg);
	cr_assert(p.net);
	cr_assert_eq(p.n_ports, 3);
	cr_assert_eq(p.ports[0].port, 443);
	cr_assert_eq(p.ports[0].access, LL_NET_CONNECT_TCP);
	cr_assert_eq(p.ports[1].port, 8080);
	cr_assert_eq(p.ports[1].access, LL_NET_CONNECT_TCP | LL_NET_BIND_TCP);
	cr_assert_eq(p.ports[2].port, 8081);
	cr_assert_eq(p.min_abi, 4);
	cr_assert_str_eq(p.min_abi_reason, "run.bulwark.landlock.net");
	landlock_plan_free(&p);
}

Test(landlock_plan, net_none_handles_tcp_with_no_port)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.net\": \"none\"",
			     true, &p, &err),
		     0);
	cr_assert(p.net);
	cr_assert_eq(p.n_ports, 0);
	landlock_plan_free(&p);
}

Test(landlock_plan, bad_ports_are_refused)
{
	const char *bad[] = {"connect:65536", "connect:",   "listen:80", "bind:90-80",
			     "bind:-1",	      "connect:8O", ","};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct landlock_plan p;
		struct bw_error err = {0};
		_cleanup_free_ char *a = xasprintf("\"run.bulwark.landlock\": \"default\", "
						   "\"run.bulwark.landlock.net\": \"%s\"",
						   bad[i]);
		cr_assert_eq(plan_of(a, true, &p, &err), -1, "%s accepted", bad[i]);
		cr_assert(str_has_prefix(err.msg, "run.bulwark.landlock.net: "), "%s", err.msg);
	}
}

Test(landlock_plan, scope_defaults_to_what_the_namespaces_share)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\"", true, &p, &err), 0);
	cr_assert_eq(p.scope, 0);
	landlock_plan_free(&p);
	struct oci_spec *spec = spec_with(true, "\"run.bulwark.landlock\": \"default\"",
					  "\"namespaces\": [{\"type\": \"mount\"}]");
	cr_assert_eq(landlock_plan_from_spec(spec, &p, &err), 0);
	cr_assert_eq(p.scope, LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX);
	cr_assert(!p.scope_required);
	cr_assert_eq(p.min_abi, 1); /* best effort in default mode */
	landlock_plan_free(&p);
	oci_spec_free(spec);
}

Test(landlock_plan, explicit_scope_is_required)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.scope\": \"signal\"",
			     true, &p, &err),
		     0);
	cr_assert_eq(p.scope, LL_SCOPE_SIGNAL);
	cr_assert_eq(p.min_abi, 6);
	cr_assert_eq(landlock_plan_check(&p, 5, &err), -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.landlock.scope: needs Landlock ABI 6, the kernel has ABI 5");
	landlock_plan_free(&p);
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"default\", "
			     "\"run.bulwark.landlock.scope\": \"ipc\"",
			     true, &p, &err),
		     -1);
}

Test(landlock_plan, enforce_needs_the_full_file_system_abi)
{
	struct landlock_plan p;
	struct bw_error err = {0};
	cr_assert_eq(plan_of("\"run.bulwark.landlock\": \"enforce\"", true, &p, &err), 0);
	cr_assert_eq(p.min_abi, 5);
	cr_assert_eq(landlock_plan_check(&p, 4, &err), -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.landlock: needs Landlock ABI 5, the kernel has ABI 4");
	cr_assert_eq(landlock_plan_check(&p, 0, &err), -1);
	cr_assert_str_eq(err.msg, "run.bulwark.landlock: Landlock is not available on this kernel "
				  "(disabled or too old)");
	cr_assert_eq(landlock_plan_check(&p, 7, &err), 0);
	landlock_plan_free(&p);
}

Test(landlock_plan, rights_per_abi)
{
	cr_assert_eq(landlock_fs_rights_for_abi(0), 0);
	cr_assert_eq(landlock_fs_rights_for_abi(1) & (LL_FS_REFER | LL_FS_TRUNCATE), 0);
	cr_assert(landlock_fs_rights_for_abi(2) & LL_FS_REFER);
	cr_assert(landlock_fs_rights_for_abi(3) & LL_FS_TRUNCATE);
	cr_assert_eq(landlock_fs_rights_for_abi(4) & LL_FS_IOCTL_DEV, 0);
	cr_assert(landlock_fs_rights_for_abi(5) & LL_FS_IOCTL_DEV);
	cr_assert_eq(landlock_fs_rights_for_abi(7), landlock_fs_rights_for_abi(5));
}

/* ---- the kernel ------------------------------------------------------------------------------ */

static char tmpdir[] = "/tmp/bw-landlock.XXXXXX";

static void make_tree(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	const char *dirs[] = {"ro", "rw", "outside", "split", "split/open", "split/closed"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", tmpdir, dirs[i]);
		cr_assert_eq(mkdir(d, 0755), 0);
		_cleanup_free_ char *f = xasprintf("%s/file", d);
		struct bw_error err = {0};
		cr_assert_eq(fs_write_atomic(f, "x\n", 2, 0644, &err), 0);
	}
}

static void remove_tree(void)
{
	struct bw_error err = {0};
	fs_remove_tree(tmpdir, &err);
}

static struct landlock_rule rule(const char *sub, uint64_t access)
{
	return (struct landlock_rule){
	    .path = xasprintf("%s/%s", tmpdir, sub), .access = access, .origin = "test"};
}

/* Run fn in a forked child after applying plan; the child's exit status is fn's result. On a
 * kernel older than the plan's min_abi, the result says whether the apply failed closed. */
static int in_landlocked_child(struct landlock_plan *plan, int (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct bw_error err = {0};
		/* An older kernel must refuse the plan, naming what it lacks. */
		if (landlock_abi_version() < plan->min_abi)
			_exit(landlock_apply(plan, -1, &err) == -1 &&
				      strstr(err.msg, "needs Landlock ABI") != NULL
				  ? 0
				  : 101);
		if (landlock_apply(plan, -1, &err) < 0) {
			fprintf(stderr, "apply: %s (%s)\n", err.msg, strerror(err.code));
			_exit(100);
		}
		_exit(fn());
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int open_errno(const char *sub, int flags)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", tmpdir, sub);
	int fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int check_fs(void)
{
	if (open_errno("ro/file", O_RDONLY) != 0)
		return 1;
	if (open_errno("ro/file", O_WRONLY) != EACCES)
		return 2;
	if (open_errno("ro/new", O_WRONLY | O_CREAT) != EACCES)
		return 3;
	if (open_errno("rw/file", O_RDWR) != 0 || open_errno("rw/new", O_WRONLY | O_CREAT) != 0)
		return 4;
	if (open_errno("outside/file", O_RDONLY) != EACCES)
		return 5;
	if (open_errno("../../etc/hostname", O_RDONLY) != EACCES)
		return 6;
	_cleanup_free_ char *f = xasprintf("%s/ro/file", tmpdir);
	if (landlock_abi_version() >= 3 && (truncate(f, 0) == 0 || errno != EACCES))
		return 7;
	return 0;
}

Test(landlock_kernel, denies_outside_and_writes_below_read_only, .init = make_tree,
     .fini = remove_tree)
{
	cr_assert_geq(landlock_abi_version(), 1, "Landlock is enabled on this host");
	struct landlock_rule rules[] = {rule("ro", LL_FS_READ),
					rule("rw", LL_FS_READ | LL_FS_WRITE)};
	struct landlock_plan plan = {
	    .mode = LANDLOCK_DEFAULT, .min_abi = 1, .rules = rules, .n_rules = 2};
	cr_assert_eq(in_landlocked_child(&plan, check_fs), 0);
	free(rules[0].path);
	free(rules[1].path);
}

static int check_split(void)
{
	if (open_errno("split/open/file", O_RDWR) != 0)
		return 1;
	if (open_errno("split/closed/file", O_RDONLY) != 0)
		return 2;
	if (open_errno("split/closed/file", O_WRONLY) != EACCES)
		return 3;
	if (open_errno("split/file", O_WRONLY) != 0) /* a file entry gets the grant too */
		return 4;
	if (open_errno("split/new", O_WRONLY | O_CREAT) != EACCES) /* the split dir itself: no */
		return 5;
	_cleanup_free_ char *d = xasprintf("%s/split", tmpdir);
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* but it can be listed */
	if (fd < 0)
		return 6;
	close(fd);
	return 0;
}

Test(landlock_kernel, a_split_grant_skips_its_exceptions, .init = make_tree, .fini = remove_tree)
{
	struct landlock_rule rules[] = {rule("split", LL_FS_READ | LL_FS_WRITE),
					rule("split/closed", LL_FS_READ)};
	char *except[] = {rules[1].path, NULL};
	rules[0].except = except;
	struct landlock_plan plan = {
	    .mode = LANDLOCK_DEFAULT, .min_abi = 1, .rules = rules, .n_rules = 2};
	cr_assert_eq(in_landlocked_child(&plan, check_split), 0);
	free(rules[0].path);
	free(rules[1].path);
}

static int allowed_port, other_port;

static int listen_on(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 4), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return s;
}

static int connect_errno(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons((uint16_t)port)};
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int check_net(void)
{
	if (connect_errno(allowed_port) != 0)
		return 1;
	if (connect_errno(other_port) != EACCES)
		return 2;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EACCES) /* port 0 */
		return 3;
	return 0;
}

Test(landlock_kernel, tcp_connect_to_a_port_not_listed_is_refused)
{
	int s1 = listen_on(&allowed_port), s2 = listen_on(&other_port);
	struct landlock_port ports[] = {{(uint16_t)allowed_port, LL_NET_CONNECT_TCP}};
	struct landlock_plan plan = {
	    .mode = LANDLOCK_DEFAULT, .min_abi = 4, .net = true, .ports = ports, .n_ports = 1};
	cr_assert_eq(in_landlocked_child(&plan, check_net), 0);
	close(s1);
	close(s2);
}

static int check_signal_scope(void)
{
	if (kill(getppid(), 0) == 0 || errno != EPERM)
		return 1;
	return kill(getpid(), 0) == 0 ? 0 : 2;
}

Test(landlock_kernel, signal_scope_stops_signals_to_outsiders)
{
	struct landlock_plan plan = {.mode = LANDLOCK_DEFAULT,
				     .min_abi = 6,
				     .scope = LL_SCOPE_SIGNAL,
				     .scope_required = true};
	cr_assert_eq(in_landlocked_child(&plan, check_signal_scope), 0);
}

static int check_not_applied(void)
{
	return open_errno("outside/file", O_RDONLY);
}

Test(landlock_kernel, an_off_plan_changes_nothing, .init = make_tree, .fini = remove_tree)
{
	struct landlock_plan plan = {.mode = LANDLOCK_OFF};
	cr_assert_eq(in_landlocked_child(&plan, check_not_applied), 0);
}
