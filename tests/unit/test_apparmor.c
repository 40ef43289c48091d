/* AppArmor on a host without it: rendering and naming the default profile, apparmor_parser
 * accepting it (-Q -K, nothing loaded), and prepare failing closed. Loading, applying and
 * unloading are tested in the VM (tests/integration/test_lsm_apparmor.sh). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "profiles/apparmor.h"

static struct oci_spec *spec_with(bool root_ro, const char *mounts, const char *process_extra,
				  const char *annotations)
{
	_cleanup_free_ char *json = xasprintf(
	    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": %s},"
	    " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, "
	    "\"gid\": 0}%s}, \"mounts\": [%s], \"annotations\": {%s}}",
	    root_ro ? "true" : "false", process_extra, mounts, annotations);
	struct oci_spec *spec = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_spec_parse(json, strlen(json), "config.json", &spec, &err), 0, "%s",
		     err.msg);
	return spec;
}

#define M_PROC "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}"
#define M_TMP                                                                                      \
	"{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "    \
	"[\"nosuid\"]}"
#define M_DATA_RO                                                                                  \
	"{\"destination\": \"/srv/data\", \"type\": \"bind\", \"source\": \"/srv\", \"options\": " \
	"[\"rbind\", \"ro\"]}"
#define M_SYS                                                                                      \
	"{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": "    \
	"[\"ro\", \"nosuid\"]}"
#define ALL_MOUNTS M_PROC ", " M_TMP ", " M_DATA_RO ", " M_SYS

static char *render(bool root_ro, const char *mounts)
{
	struct oci_spec *spec = spec_with(root_ro, mounts, "", "");
	char *text = NULL;
	struct bw_error err = {0};
	cr_assert_eq(apparmor_render(spec, "bulwark-test", &text, &err), 0, "%s", err.msg);
	oci_spec_free(spec);
	return text;
}

Test(apparmor_render, readonly_root_gives_no_write_but_writable_mounts_do)
{
	_cleanup_free_ char *t = render(true, ALL_MOUNTS);
	cr_assert_not_null(strstr(t, "profile bulwark-test flags=(attach_disconnected,"));
	cr_assert_not_null(strstr(t, "  /** rkmix,\n"));
	cr_assert_null(strstr(t, "/** rwlkmix"));
	cr_assert_not_null(strstr(t, "  \"/tmp{,/,/**}\" rwlk,\n"));
	cr_assert_not_null(strstr(t, "  deny \"/srv/data{,/,/**}\" wl,\n"));
	cr_assert_not_null(strstr(t, "  deny \"/sys{,/,/**}\" wl,\n"));
	cr_assert_null(strstr(t, "@SANDBOX_RULES@"));
	cr_assert_null(strstr(t, "@NAME@"));
}

Test(apparmor_render, template_denies_what_docker_default_denies)
{
	_cleanup_free_ char *t = render(true, ALL_MOUNTS);
	const char *must[] = {"  deny mount,\n",
			      "  deny umount,\n",
			      "  deny pivot_root,\n",
			      "  deny network alg,\n",
			      "  deny ptrace (trace, read) peer=unconfined,\n",
			      "  deny /proc/sysrq-trigger rwklx,\n",
			      "  deny /proc/kcore rwklx,\n",
			      "  deny /proc/* wl,\n",
			      "  deny /sys/** wklx,\n",
			      "  signal (send, receive) peer=bulwark-test,\n"};
	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		cr_assert_not_null(strstr(t, must[i]), "missing %s", must[i]);
}

Test(apparmor_render, writable_root_keeps_readonly_mounts_readonly)
{
	_cleanup_free_ char *t = render(false, ALL_MOUNTS);
	cr_assert_not_null(strstr(t, "  /** rwlkmix,\n"));
	cr_assert_not_null(strstr(t, "  deny \"/srv/data{,/,/**}\" wl,\n"));
}

Test(apparmor_render, readonly_mount_with_a_writable_one_inside_is_left_to_the_mount_flag)
{
	_cleanup_free_ char *t =
	    render(false, M_DATA_RO ", {\"destination\": \"/srv/data/cache\", \"type\": "
				    "\"tmpfs\", \"source\": \"tmpfs\"}");
	cr_assert_null(strstr(t, "deny \"/srv/data{"));
	cr_assert_not_null(strstr(t, "  \"/srv/data/cache{,/,/**}\" rwlk,\n"));
}

Test(apparmor_render, destinations_that_could_inject_rules_are_refused)
{
	const char *bad[] = {"/a\\\",\\n  /** rwx,\\n  \\\"/b",
			     "/a*",
			     "/a{b,c}",
			     "/@{HOME}",
			     "/a[b]",
			     "/caf\\u00e9",
			     "/a\\tb",
			     "/a?"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *m = xasprintf("{\"destination\": \"%s\", \"type\": \"tmpfs\", "
						   "\"source\": \"tmpfs\"}",
						   bad[i]);
		struct oci_spec *spec = spec_with(true, m, "", "");
		char *text = NULL;
		struct bw_error err = {0};
		cr_assert_eq(apparmor_render(spec, "bulwark-test", &text, &err), -1, "%s accepted",
			     bad[i]);
		cr_assert(str_has_prefix(err.msg, "mounts[0].destination: "), "%s", err.msg);
		cr_assert_not_null(strstr(err.msg, "cannot be expressed in an AppArmor profile"));
		oci_spec_free(spec);
	}
}

Test(apparmor_render, the_name_is_the_content_hash)
{
	struct oci_spec *a = spec_with(true, ALL_MOUNTS, "", "");
	struct oci_spec *b = spec_with(true, ALL_MOUNTS, "", "");
	struct oci_spec *c = spec_with(false, ALL_MOUNTS, "", "");
	_cleanup_free_ char *na = NULL, *ta = NULL, *nb = NULL, *tb = NULL, *nc = NULL, *tc = NULL;
	struct bw_error err = {0};
	cr_assert_eq(apparmor_render_named(a, &na, &ta, &err), 0);
	cr_assert_eq(apparmor_render_named(b, &nb, &tb, &err), 0);
	cr_assert_eq(apparmor_render_named(c, &nc, &tc, &err), 0);
	cr_assert_eq(strlen(na), strlen("bulwark-") + 12);
	cr_assert(str_has_prefix(na, "bulwark-"));
	cr_assert_str_eq(na, nb);
	cr_assert_str_eq(ta, tb);
	cr_assert_str_neq(na, nc);
	_cleanup_free_ char *want = xasprintf("profile %s flags=", na);
	cr_assert_not_null(strstr(ta, want));
	oci_spec_free(a);
	oci_spec_free(b);
	oci_spec_free(c);
}

Test(apparmor_parser, accepts_the_rendered_profiles)
{
	for (int ro = 0; ro <= 1; ro++) {
		_cleanup_free_ char *t = render(ro, ALL_MOUNTS);
		struct bw_error err = {0};
		cr_assert_eq(apparmor_parser_check(t, &err), 0, "%s", err.msg);
	}
}

Test(apparmor_parser, accepts_every_expressible_destination_character)
{
	_cleanup_free_ char *t =
	    render(true, "{\"destination\": \"/a b/c,d/e+f=g~h%i:j/K_L.M-9\", \"type\": \"tmpfs\", "
			 "\"source\": \"tmpfs\"}");
	struct bw_error err = {0};
	cr_assert_eq(apparmor_parser_check(t, &err), 0, "%s", err.msg);
}

Test(apparmor_parser, rejects_a_malformed_profile_with_its_message)
{
	struct bw_error err = {0};
	cr_assert_eq(apparmor_parser_check("profile bulwark-bad {\n  /** rwxyz,\n}\n", &err), -1);
	cr_assert_not_null(strstr(err.msg, "apparmor_parser -Q"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "no output"), "%s", err.msg);
}

Test(apparmor_profiles, listing_is_matched_by_whole_name)
{
	const char *text = "bulwark-abc (enforce)\ndocker-default (enforce)\nx y (complain)\n";
	cr_assert(apparmor_profiles_text_has(text, "docker-default"));
	cr_assert(apparmor_profiles_text_has(text, "x y"));
	cr_assert(!apparmor_profiles_text_has(text, "docker"));
	cr_assert(!apparmor_profiles_text_has(text, "bulwark-ab"));
	cr_assert(!apparmor_profiles_text_has("", "a"));
}

/* ---- this host has no AppArmor: prepare fails closed or does nothing ------------------------ */

static void require_no_apparmor(void)
{
	if (apparmor_enabled())
		cr_skip_test("AppArmor is enabled here; these tests are for hosts without it");
}

Test(apparmor_prepare, named_profile_without_apparmor_is_an_error, .init = require_no_apparmor)
{
	struct oci_spec *s = spec_with(true, "", ", \"apparmorProfile\": \"docker-default\"", "");
	struct apparmor_plan p;
	struct bw_error err = {0};
	cr_assert_eq(apparmor_prepare(s, "/tmp", "c1", &p, &err), -1);
	cr_assert_str_eq(err.msg, "process.apparmorProfile: AppArmor is not enabled on this host");
	oci_spec_free(s);
}

Test(apparmor_prepare, default_annotation_without_apparmor_does_nothing,
     .init = require_no_apparmor)
{
	struct oci_spec *s =
	    spec_with(true, ALL_MOUNTS, "", "\"run.bulwark.apparmor\": \"default\"");
	struct apparmor_plan p;
	struct bw_error err = {0};
	char root[] = "/tmp/bw-aa.XXXXXX";
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(apparmor_prepare(s, root, "c1", &p, &err), 0, "%s", err.msg);
	cr_assert_null(p.profile);
	_cleanup_free_ char *dir = xasprintf("%s/.cache/apparmor", root);
	cr_assert(!fs_exists(dir));
	rmdir(root);
	oci_spec_free(s);
}

Test(apparmor_prepare, unknown_annotation_value_is_an_error)
{
	struct oci_spec *s = spec_with(true, "", "", "\"run.bulwark.apparmor\": \"strict\"");
	struct apparmor_plan p;
	struct bw_error err = {0};
	cr_assert_eq(apparmor_prepare(s, "/tmp", "c1", &p, &err), -1);
	cr_assert_str_eq(err.msg, "run.bulwark.apparmor: unknown value \"strict\" (default, off)");
	oci_spec_free(s);
}

Test(apparmor_prepare, unconfined_is_accepted_and_changes_nothing, .init = require_no_apparmor)
{
	struct oci_spec *s = spec_with(true, "", ", \"apparmorProfile\": \"unconfined\"", "");
	struct apparmor_plan p;
	struct bw_error err = {0};
	cr_assert_eq(apparmor_prepare(s, "/tmp", "c1", &p, &err), 0);
	cr_assert_null(p.profile);
	oci_spec_free(s);
}

Test(apparmor_release, drops_references_and_empty_profile_dirs, .init = require_no_apparmor)
{
	char root[] = "/tmp/bw-aa.XXXXXX";
	cr_assert_not_null(mkdtemp(root));
	struct bw_error err = {0};
	_cleanup_free_ char *shared = xasprintf("%s/.cache/apparmor/bulwark-aaaaaaaaaaaa", root);
	_cleanup_free_ char *mine = xasprintf("%s/.cache/apparmor/bulwark-bbbbbbbbbbbb", root);
	cr_assert_eq(fs_mkdir_p(shared, 0700, &err), 0);
	cr_assert_eq(fs_mkdir_p(mine, 0700, &err), 0);
	const char *refs[][2] = {{shared, "c1"}, {shared, "c2"}, {mine, "c1"}};
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
		_cleanup_free_ char *f = xasprintf("%s/%s", refs[i][0], refs[i][1]);
		cr_assert_eq(fs_write_atomic(f, "", 0, 0600, &err), 0);
	}
	cr_assert_eq(apparmor_release(root, "c1", &err), 0, "%s", err.msg);
	cr_assert(fs_exists(shared)); /* c2 still uses it */
	cr_assert(!fs_exists(mine));
	cr_assert_eq(apparmor_release(root, "c2", &err), 0, "%s", err.msg);
	cr_assert(!fs_exists(shared));
	cr_assert_eq(apparmor_release(root, "never-had-one", &err), 0);
	fs_remove_tree(root, &err);
}

Test(apparmor_apply, no_profile_does_nothing)
{
	struct apparmor_plan p = {0};
	struct bw_error err = {0};
	cr_assert_eq(apparmor_apply_exec(&p, &err), 0);
}

Test(apparmor_apply, a_profile_the_kernel_cannot_apply_is_an_error, .init = require_no_apparmor)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct apparmor_plan p = {.profile = "bulwark-000000000000"};
		struct bw_error err = {0};
		_exit(apparmor_apply_exec(&p, &err) == -1 &&
			      str_has_prefix(err.msg, "process.apparmorProfile: ")
			  ? 0
			  : 1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
