/* AppArmor: renders the default profile from the compiled-in template and the spec, loads it
 * with apparmor_parser (its name is its content hash, so a loaded one is reused), counts which
 * containers use it, and in the init asks the kernel for it at execve through procfs. */
#include "apparmor.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "profiles/apparmor_template.h"
#include "sha256.h"

#define AA_ENABLED "/sys/module/apparmor/parameters/enabled"
#define AA_FS "/sys/kernel/security/apparmor"
#define AA_PROFILES_MAX (64u << 20)
#define AA_PARSER_OUTPUT_MAX (64 << 10)

static const char *const parser_paths[] = {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"};

bool apparmor_enabled(void)
{
	struct bw_error ignored = {0};
	_cleanup_free_ char *v = NULL;
	if (fs_read_file(AA_ENABLED, 16, &v, NULL, &ignored) < 0)
		return false;
	return v[0] == 'Y';
}

/* Each line is "<name> (<mode>)". */
bool apparmor_profiles_text_has(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && strncmp(l + n, " (", 2) == 0)
			return true;
	return false;
}

/* ---- rendering (pure) ----------------------------------------------------------------------- */

/* Letters, digits and a few punctuation marks only: no quote, backslash, glob or variable
 * character can reach the profile, whatever the spec says. */
static bool path_expressible(const char *p)
{
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!isalnum(c) && strchr("/._-+:=~%, ", c) == NULL)
			return false;
	}
	return true;
}

static bool mount_is_readonly(const struct oci_mount *m)
{
	bool ro = false;
	for (char **o = m->options; o != NULL && *o != NULL; o++) {
		if (strcmp(*o, "ro") == 0 || strcmp(*o, "rro") == 0)
			ro = true;
		else if (strcmp(*o, "rw") == 0 || strcmp(*o, "rrw") == 0)
			ro = false;
	}
	return ro;
}

static bool path_is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* A deny rule would also cover a writable mount nested below; leave those to the mount flag. */
static bool has_writable_below(const struct oci_spec *spec, const char *dir)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (path_is_below(spec->mounts[i].destination, dir) &&
		    !mount_is_readonly(&spec->mounts[i]))
			return true;
	return false;
}

static void append(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static int sandbox_rules(const struct oci_spec *spec, char **out, struct bw_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	append(&buf, &len,
	       spec->root_readonly
		   ? "  # The root is read-only: read, map and run anything, write nothing.\n"
		     "  / r,\n  /** rkmix,\n"
		   : "  # The root is writable.\n  / rw,\n  /** rwlkmix,\n");
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		const char *d = m->destination;
		if (strcmp(d, "/") == 0)
			continue;
		if (!path_expressible(d))
			return bw_fail(err, 0,
				       "mounts[%zu].destination: \"%s\" cannot be expressed in an "
				       "AppArmor profile (only letters, digits and /._-+:=~%%, )",
				       i, d);
		_cleanup_free_ char *line = NULL;
		if (!mount_is_readonly(m))
			line = xasprintf("  \"%s{,/,/**}\" rwlk,\n", d);
		else if (!has_writable_below(spec, d))
			line = xasprintf("  deny \"%s{,/,/**}\" wl,\n", d);
		if (line != NULL)
			append(&buf, &len, line);
	}
	*out = steal_ptr(&buf);
	return 0;
}

static char *replace_all(const char *text, const char *token, const char *with)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, tn = strlen(token);
	for (const char *p = text;;) {
		const char *hit = strstr(p, token);
		if (hit == NULL) {
			append(&buf, &len, p);
			break;
		}
		_cleanup_free_ char *head = xstrndup(p, (size_t)(hit - p));
		append(&buf, &len, head);
		append(&buf, &len, with);
		p = hit + tn;
	}
	return steal_ptr(&buf);
}

int apparmor_render(const struct oci_spec *spec, const char *name, char **out, struct bw_error *err)
{
	_cleanup_free_ char *rules = NULL;
	if (sandbox_rules(spec, &rules, err) < 0)
		return -1;
	_cleanup_free_ char *named = replace_all(apparmor_template, "@NAME@", name);
	*out = replace_all(named, "@SANDBOX_RULES@\n", rules);
	return 0;
}

int apparmor_render_named(const struct oci_spec *spec, char **name, char **text,
			  struct bw_error *err)
{
	_cleanup_free_ char *probe = NULL;
	if (apparmor_render(spec, APPARMOR_NAME_PREFIX "profile", &probe, err) < 0)
		return -1;
	uint8_t digest[SHA256_DIGEST_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 1];
	sha256(probe, strlen(probe), digest);
	sha256_hex(digest, hex);
	hex[12] = '\0';
	_cleanup_free_ char *n = xasprintf(APPARMOR_NAME_PREFIX "%s", hex);
	if (apparmor_render(spec, n, text, err) < 0)
		return -1;
	*name = steal_ptr(&n);
	return 0;
}

/* ---- apparmor_parser ------------------------------------------------------------------------ */

static const char *parser_path(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parser_paths); i++)
		if (access(parser_paths[i], X_OK) == 0)
			return parser_paths[i];
	return NULL;
}

/* Run apparmor_parser with `args` on `file`; its output becomes part of the error. */
static int run_parser(const char *const *args, const char *file, struct bw_error *err)
{
	const char *parser = parser_path();
	if (parser == NULL)
		return bw_fail(err, ENOENT,
			       "apparmor_parser not found (install the apparmor package)");
	const char *argv[8] = {"apparmor_parser"};
	size_t n = 1;
	for (; args[n - 1] != NULL && n < ARRAY_SIZE(argv) - 2; n++)
		argv[n] = args[n - 1];
	argv[n++] = file;
	argv[n] = NULL;
	struct child_spec spec = {.name = "apparmor_parser",
				  .path = parser,
				  .argv = (char *const *)argv,
				  .envp =
				      (char *const[]){"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL},
				  .output_max = AA_PARSER_OUTPUT_MAX};
	struct child_result res;
	if (child_run(&spec, &res, err) < 0)
		return -1;
	_cleanup_free_ char *output = res.output;
	if (child_ok(&res))
		return 0;
	char *nl = strchr(output, '\n');
	if (nl != NULL)
		*nl = '\0';
	return bw_fail(err, 0, "apparmor_parser %s `%s` failed (status %d): %s", args[0], file,
		       child_exit_code(&res), *output ? output : "no output");
}

int apparmor_parser_check(const char *text, struct bw_error *err)
{
	char path[] = "/tmp/bulwark-apparmor.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "mkostemp");
	int w = fs_write_all(fd, text, strlen(text));
	close(fd);
	int r = w < 0 ? bw_fail(err, -w, "write `%s`", path)
		      : run_parser((const char *[]){"-Q", "-K", NULL}, path, err);
	unlink(path);
	return r;
}

/* ---- loading and reference counting --------------------------------------------------------- */

static int profile_loaded(const char *name, bool *loaded, struct bw_error *err)
{
	_cleanup_free_ char *text = NULL;
	if (fs_read_file(AA_FS "/profiles", AA_PROFILES_MAX, &text, NULL, err) < 0)
		return bw_wrap(err, "AppArmor is enabled but its securityfs is not readable");
	*loaded = apparmor_profiles_text_has(text, name);
	return 0;
}

static int lock_refs(const char *state_root, char **dir, struct bw_error *err)
{
	*dir = xasprintf("%s/.cache/apparmor", state_root);
	if (fs_mkdir_p(*dir, 0700, err) < 0)
		return -1;
	_cleanup_free_ char *lock = xasprintf("%s/.lock", *dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return bw_fail(err, errno, "open `%s`", lock);
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return bw_fail(err, errno, "flock `%s`", lock);
	}
	return fd;
}

static int load_default(const struct oci_spec *spec, const char *state_root, const char *id,
			char **name_out, struct bw_error *err)
{
	_cleanup_free_ char *name = NULL, *text = NULL, *dir = NULL;
	if (apparmor_render_named(spec, &name, &text, err) < 0)
		return -1;
	_cleanup_close_ int lock = lock_refs(state_root, &dir, err);
	if (lock < 0)
		return -1;
	bool loaded;
	if (profile_loaded(name, &loaded, err) < 0)
		return -1;
	_cleanup_free_ char *file = xasprintf("%s/%s.profile", dir, name);
	if (!loaded) {
		if (fs_write_atomic(file, text, strlen(text), 0600, err) < 0 ||
		    run_parser((const char *[]){"-r", "-K", "-q", NULL}, file, err) < 0)
			return bw_wrap(err, APPARMOR_ANNOTATION ": load the default profile");
		log_debug("apparmor: loaded %s", name);
	}
	_cleanup_free_ char *refdir = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *ref = xasprintf("%s/%s", refdir, id);
	if (fs_mkdir_p(refdir, 0700, err) < 0 || fs_write_atomic(ref, "", 0, 0600, err) < 0)
		return -1;
	*name_out = steal_ptr(&name);
	return 0;
}

static int prepare_named(const char *profile, struct apparmor_plan *out, struct bw_error *err)
{
	bool on = apparmor_enabled();
	if (strcmp(profile, "unconfined") == 0) {
		out->profile = on ? xstrdup(profile) : NULL;
		return 0;
	}
	if (!on)
		return bw_fail(err, EOPNOTSUPP,
			       "process.apparmorProfile: AppArmor is not enabled on this host");
	bool loaded;
	if (profile_loaded(profile, &loaded, err) < 0)
		return bw_wrap(err, "process.apparmorProfile");
	if (!loaded)
		return bw_fail(err, ENOENT, "process.apparmorProfile: profile \"%s\" is not loaded",
			       profile);
	out->profile = xstrdup(profile);
	return 0;
}

int apparmor_prepare(const struct oci_spec *spec, const char *state_root, const char *id,
		     struct apparmor_plan *out, struct bw_error *err)
{
	*out = (struct apparmor_plan){0};
	const char *named = spec->has_process ? spec->process.apparmor_profile : NULL;
	const char *mode = oci_spec_annotation(spec, APPARMOR_ANNOTATION);
	if (mode != NULL && strcmp(mode, "default") != 0 && strcmp(mode, "off") != 0)
		return bw_fail(err, 0, APPARMOR_ANNOTATION ": unknown value \"%s\" (default, off)",
			       mode);
	if (named != NULL)
		return prepare_named(named, out, err);
	if (mode == NULL || strcmp(mode, "off") == 0)
		return 0;
	if (!apparmor_enabled()) {
		log_debug("apparmor: not enabled on this host; the default profile is skipped");
		return 0;
	}
	/* Loading a profile needs CAP_MAC_ADMIN in the host's namespace: rootless, the default
	 * profile is one of the defaults replaced by what can be enforced (docs/rootless.md), and
	 * said so; a profile named in process.apparmorProfile is still required. */
	if (geteuid() != 0) {
		log_warn("apparmor: the default profile cannot be loaded without root; seccomp, "
			 "Landlock and the user namespace still apply");
		return 0;
	}
	if (strchr(id, '/') != NULL || id[0] == '.' || id[0] == '\0')
		return bw_fail(err, EINVAL, "apparmor: bad container id \"%s\"", id);
	return load_default(spec, state_root, id, &out->profile, err);
}

void apparmor_plan_free(struct apparmor_plan *plan)
{
	free(plan->profile);
	plan->profile = NULL;
}

/* Drop `id` from one profile's references; unload the profile when none is left. */
static int release_one(const char *dir, const char *name, const char *id, struct bw_error *err)
{
	_cleanup_free_ char *refdir = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *ref = xasprintf("%s/%s", refdir, id);
	if (unlink(ref) < 0 && errno == ENOTDIR)
		return 0; /* not a profile's directory */
	if (unlink(ref) < 0 && errno != ENOENT)
		return bw_fail(err, errno, "unlink `%s`", ref);
	if (rmdir(refdir) < 0)
		return errno == ENOTEMPTY || errno == EEXIST
			   ? 0
			   : bw_fail(err, errno, "rmdir `%s`", refdir);
	_cleanup_free_ char *file = xasprintf("%s/%s.profile", dir, name);
	unlink(file);
	if (!apparmor_enabled())
		return 0;
	int fd = open(AA_FS "/.remove", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "open " AA_FS "/.remove");
	int w = fs_write_all(fd, name, strlen(name));
	close(fd);
	if (w < 0 && w != -ENOENT)
		return bw_fail(err, -w, "unload AppArmor profile %s", name);
	log_debug("apparmor: unloaded %s", name);
	return 0;
}

int apparmor_release(const char *state_root, const char *id, struct bw_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/.cache/apparmor", state_root);
	if (!fs_exists(dir))
		return 0;
	_cleanup_free_ char *dir2 = NULL;
	_cleanup_close_ int lock = lock_refs(state_root, &dir2, err);
	if (lock < 0)
		return -1;
	DIR *d = opendir(dir);
	if (d == NULL)
		return bw_fail(err, errno, "opendir `%s`", dir);
	int r = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if ((e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) &&
		    str_has_prefix(e->d_name, APPARMOR_NAME_PREFIX) &&
		    release_one(dir, e->d_name, id, err) < 0)
			r = -1; /* keep going: release what can be released */
	closedir(d);
	return r;
}

/* ---- in the init ---------------------------------------------------------------------------- */

static int open_attr_exec(struct bw_error *err)
{
	int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bw_fail(err, errno, "process.apparmorProfile: open /proc/self/attr/exec");
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return bw_fail(err, EPERM,
			       "process.apparmorProfile: /proc/self/attr/exec is not on procfs");
	}
	return fd;
}

int apparmor_apply_exec(const struct apparmor_plan *plan, struct bw_error *err)
{
	if (plan->profile == NULL)
		return 0;
	_cleanup_close_ int fd = open_attr_exec(err);
	if (fd < 0)
		return -1;
	_cleanup_free_ char *cmd = xasprintf("exec %s", plan->profile);
	ssize_t n = write(fd, cmd, strlen(cmd));
	if (n != (ssize_t)strlen(cmd))
		return bw_fail(err, n < 0 ? errno : EIO,
			       "process.apparmorProfile: change to profile \"%s\" at exec",
			       plan->profile);
	return 0;
}
