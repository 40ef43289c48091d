/* config.json -> struct oci_spec: the entry points (spec, process.json, update resources),
 * the top-level members (version, root, hostname, mounts, hooks, annotations) and the small
 * name helpers. The "process" and "linux" members have their own files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "oci/spec_internal.h"

static const char *const ns_names[OCI_NS_NTYPES] = {
    [OCI_NS_PID] = "pid",	[OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
    [OCI_NS_IPC] = "ipc",	[OCI_NS_UTS] = "uts",	      [OCI_NS_USER] = "user",
    [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

static const char *const hook_names[OCI_HOOK_NKINDS] = {
    [OCI_HOOK_PRESTART] = "prestart",
    [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [OCI_HOOK_START_CONTAINER] = "startContainer",
    [OCI_HOOK_POSTSTART] = "poststart",
    [OCI_HOOK_POSTSTOP] = "poststop",
};

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

const char *oci_ns_type_name(enum oci_ns_type t)
{
	return (unsigned)t < OCI_NS_NTYPES ? ns_names[t] : NULL;
}

int oci_ns_type_from_name(const char *name)
{
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		if (strcmp(ns_names[t], name) == 0)
			return t;
	return -1;
}

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
	return (unsigned)k < OCI_HOOK_NKINDS ? hook_names[k] : NULL;
}

int oci_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].resource;
	return -1;
}

const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec, enum oci_ns_type t)
{
	for (size_t i = 0; i < spec->linux.n_namespaces; i++)
		if (spec->linux.namespaces[i].type == t)
			return &spec->linux.namespaces[i];
	return NULL;
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
	for (size_t i = 0; i < spec->n_annotations; i++)
		if (strcmp(spec->annotations[i].key, key) == 0)
			return spec->annotations[i].value;
	return NULL;
}

bool oci_path_is_abs(const char *s)
{
	return s[0] == '/';
}

bool oci_path_climbs_out(const char *s)
{
	int depth = 0;
	for (const char *c = s; *c != '\0';) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (depth-- == 0)
				return true;
		} else if (n > 0 && !(n == 1 && c[0] == '.')) {
			depth++;
		}
		c += n;
		c += *c == '/';
	}
	return false;
}

bool oci_path_has_dotdot(const char *s)
{
	for (const char *c = s; (c = strstr(c, "..")) != NULL; c += 2)
		if ((c == s || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

/* "0-3,7": comma-separated ids or inclusive ranges, ascending inside a range. */
bool oci_cpu_list_valid(const char *s)
{
	for (;;) {
		size_t a = strspn(s, "0123456789");
		if (a == 0 || a > 7)
			return false;
		unsigned long lo = strtoul(s, NULL, 10);
		s += a;
		if (*s == '-') {
			size_t b = strspn(++s, "0123456789");
			if (b == 0 || b > 7 || strtoul(s, NULL, 10) < lo)
				return false;
			s += b;
		}
		if (*s == '\0')
			return true;
		if (*s++ != ',')
			return false;
	}
}

/* Any 1.x: the spec keeps compatibility within a major version. */
static int parse_version(struct jp *p, yajl_val v, struct oci_spec *spec)
{
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, "ociVersion", &spec->oci_version) < 0)
		return -1;
	if (spec->oci_version == NULL)
		return jp_fail_at(p, "ociVersion", "required");
	const char *s = spec->oci_version;
	if (!str_has_prefix(s, "1.") || s[2] < '0' || s[2] > '9')
		return jp_fail_at(p, "ociVersion", "unsupported version %s (need 1.x)",
				  jp_quote(q, s));
	return 0;
}

/* root.path is the bundle author's: relative paths are taken inside the bundle directory, so
 * one that climbs out of it with ".." is refused (runc accepts it; no engine writes one).
 * Symlinks and the host's "/" can only be judged on the filesystem, at create. */
static int parse_root(struct jp *p, yajl_val v, void *out)
{
	struct oci_spec *spec = out;
	if (oj_f_string(p, v, "path", &spec->root_path) < 0 ||
	    oj_f_bool(p, v, "readonly", &spec->root_readonly) < 0)
		return -1;
	if (spec->root_path == NULL || spec->root_path[0] == '\0')
		return jp_fail_at(p, "path", "must not be empty");
	if (!oci_path_is_abs(spec->root_path) && oci_path_climbs_out(spec->root_path))
		return jp_fail_at(p, "path",
				  "invalid rootfs: a relative path must stay inside the bundle");
	return 0;
}

/* Lexically, ".." above "/" is clamped; a destination that tries it is refused instead,
 * and the stored destination is the cleaned path. */
static int check_destination(struct jp *p, struct oci_mount *m)
{
	if (m->destination == NULL)
		return jp_fail_at(p, "destination", "required");
	if (!oci_path_is_abs(m->destination))
		return jp_fail_at(p, "destination", "must be an absolute path");
	if (oci_path_climbs_out(m->destination))
		return jp_fail_at(p, "destination", "must not escape the root");
	char *clean = fs_path_clean(m->destination);
	free(m->destination);
	m->destination = clean;
	return 0;
}

static int parse_mount(struct jp *p, yajl_val v, void *elem)
{
	struct oci_mount *m = elem;
	if (oj_f_string(p, v, "destination", &m->destination) < 0 ||
	    oj_f_string(p, v, "type", &m->type) < 0 ||
	    oj_f_string(p, v, "source", &m->source) < 0 ||
	    oj_f_strv(p, v, "options", &m->options) < 0 ||
	    oci_parse_id_mappings(p, v, "uidMappings", &m->uid_mappings, &m->n_uid_mappings) < 0 ||
	    oci_parse_id_mappings(p, v, "gidMappings", &m->gid_mappings, &m->n_gid_mappings) < 0)
		return -1;
	if (check_destination(p, m) < 0)
		return -1;
	if ((m->n_uid_mappings > 0) != (m->n_gid_mappings > 0))
		return jp_fail(p, "uidMappings and gidMappings must be given together");
	return 0;
}

static int parse_hook(struct jp *p, yajl_val v, void *elem)
{
	struct oci_hook *h = elem;
	if (oj_f_string(p, v, "path", &h->path) < 0 || oj_f_strv(p, v, "args", &h->args) < 0 ||
	    oj_f_strv(p, v, "env", &h->env) < 0 ||
	    oj_f_opt_i64(p, v, "timeout", INT64_MIN, INT64_MAX, &h->timeout) < 0)
		return -1;
	if (h->path == NULL)
		return jp_fail_at(p, "path", "required");
	if (!oci_path_is_abs(h->path))
		return jp_fail_at(p, "path", "must be an absolute path");
	if (h->timeout.set && h->timeout.v <= 0)
		return jp_fail_at(p, "timeout", "must be > 0");
	size_t mark = jp_key(p, "env");
	if (oci_check_env(p, h->env) < 0)
		return -1;
	jp_pop(p, mark);
	return 0;
}

static int parse_hooks(struct jp *p, yajl_val v, void *out)
{
	struct oci_hooks *hooks = out;
	for (int k = 0; k < OCI_HOOK_NKINDS; k++)
		if (oj_f_objects(p, v, hook_names[k], sizeof(struct oci_hook), 0,
				 (void **)&hooks->list[k], &hooks->n[k], parse_hook) < 0)
			return -1;
	return 0;
}

static int check_annotation_key(struct jp *p, const char *key)
{
	if (key[0] == '\0')
		return jp_fail(p, "key must not be empty");
	return 0;
}

static int parse_process_member(struct jp *p, yajl_val v, void *out)
{
	struct oci_spec *spec = out;
	spec->has_process = true;
	return oci_parse_process(p, v, &spec->process);
}

static int parse_linux_member(struct jp *p, yajl_val v, void *out)
{
	return oci_parse_linux(p, v, out);
}

static int parse_spec(struct jp *p, yajl_val v, struct oci_spec *spec)
{
	if (parse_version(p, v, spec) < 0 ||
	    oci_parse_member(p, v, "process", spec, parse_process_member) < 0 ||
	    oci_parse_member(p, v, "root", spec, parse_root) < 0)
		return -1;
	if (spec->root_path == NULL)
		return jp_fail_at(p, "root", "required");
	if (oj_f_string(p, v, "hostname", &spec->hostname) < 0 ||
	    oj_f_string(p, v, "domainname", &spec->domainname) < 0 ||
	    oj_f_objects(p, v, "mounts", sizeof(struct oci_mount), 0, (void **)&spec->mounts,
			 &spec->n_mounts, parse_mount) < 0 ||
	    oci_parse_member(p, v, "hooks", &spec->hooks, parse_hooks) < 0 ||
	    oj_f_string_map(p, v, "annotations", &spec->annotations, &spec->n_annotations,
			    check_annotation_key) < 0 ||
	    oci_parse_member(p, v, "linux", &spec->linux, parse_linux_member) < 0)
		return -1;
	return oci_check_cross(p, spec);
}

int oci_spec_parse(const char *json, size_t len, const char *what, struct oci_spec **out,
		   struct bw_error *err)
{
	yajl_val root;
	if (oj_parse(json, len, what, false, &root, err) < 0)
		return -1;
	struct oci_spec *spec = xcalloc(1, sizeof(*spec));
	struct jp p;
	jp_init(&p, what, err);
	int r = parse_spec(&p, root, spec);
	oj_free(root);
	if (r < 0) {
		oci_spec_free(spec);
		return -1;
	}
	*out = spec;
	return 0;
}

/* A FIFO or device in place of config.json must not hang or feed us forever: open without
 * blocking and accept only a regular file. */
static int read_config(const char *path, char **buf, size_t *len, struct bw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return bw_fail(err, errno, "config.json: open `%s`", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "config.json: fstat `%s`", path);
	if (!S_ISREG(st.st_mode))
		return bw_fail(err, 0, "config.json: `%s` is not a regular file", path);
	if ((uint64_t)st.st_size > OCI_JSON_MAX_SIZE)
		return bw_fail(err, EFBIG, "config.json: too large");
	if (fs_read_fd(fd, OCI_JSON_MAX_SIZE + 1, buf, len, err) < 0) {
		if (err->code == EFBIG)
			return bw_fail(err, EFBIG, "config.json: too large");
		return bw_wrap(err, "config.json: `%s`", path);
	}
	return 0;
}

int oci_spec_load(const char *bundle, struct oci_spec **out, struct bw_error *err)
{
	_cleanup_free_ char *path = fs_path_join(bundle, "config.json");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (read_config(path, &buf, &len, err) < 0)
		return -1;
	return oci_spec_parse(buf, len, "config.json", out, err);
}

/* One part of a spec as a document of its own (exec --process, update --resources): parsed
 * by parse into out, whose fields free_fields releases on failure. */
static int parse_part(const char *json, size_t len, const char *what, void *out, size_t size,
		      int (*parse)(struct jp *, yajl_val, void *), void (*free_fields)(void *),
		      struct bw_error *err)
{
	yajl_val root;
	memset(out, 0, size);
	if (oj_parse(json, len, what, false, &root, err) < 0)
		return -1;
	struct jp p;
	jp_init(&p, what, err);
	int r = parse(&p, root, out);
	oj_free(root);
	if (r < 0)
		free_fields(out);
	return r;
}

static int process_part(struct jp *p, yajl_val v, void *out)
{
	return oci_parse_process(p, v, out);
}

static void process_part_free(void *out)
{
	oci_process_free_fields(out);
}

static int resources_part(struct jp *p, yajl_val v, void *out)
{
	return oci_parse_resources(p, v, out);
}

static void resources_part_free(void *out)
{
	oci_resources_free_fields(out);
}

int oci_process_parse(const char *json, size_t len, const char *what, struct oci_process *out,
		      struct bw_error *err)
{
	return parse_part(json, len, what, out, sizeof(*out), process_part, process_part_free, err);
}

int oci_resources_parse(const char *json, size_t len, const char *what, struct oci_resources *out,
			struct bw_error *err)
{
	return parse_part(json, len, what, out, sizeof(*out), resources_part, resources_part_free,
			  err);
}
