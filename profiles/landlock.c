/* Landlock: the plan (which paths get which rights, which TCP ports, which scopes) is derived
 * from the spec in the runtime parent without touching the kernel; the init turns it into a
 * ruleset with raw syscalls and restricts itself, so the container's process inherits it. */
#include "landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

/* The uapi structures at their newest size (the installed linux/landlock.h may be older). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_CREATE_RULESET_VERSION (1U << 0)

#define LL_FS_DEVICE (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV)
#define LL_FS_ALL (LL_FS_READ | LL_FS_EXECUTE | LL_FS_WRITE | LL_FS_IOCTL_DEV)
#define LL_MAX_PORTS 65536

/* The device nodes every container gets (runtime-spec "Default Devices", plus the console
 * and ptmx): read, write and ioctl, nothing else below /dev. */
static const char *const default_devices[] = {"/dev/null",    "/dev/zero",    "/dev/full",
					      "/dev/random",  "/dev/urandom", "/dev/tty",
					      "/dev/console", "/dev/ptmx"};

uint64_t landlock_fs_rights_for_abi(int abi)
{
	uint64_t r = 0;
	if (abi >= 1)
		r |= LL_FS_READ | LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR |
		     LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR | LL_FS_MAKE_REG |
		     LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

uint64_t landlock_access_from_word(const char *word)
{
	if (strcmp(word, "ro") == 0)
		return LL_FS_READ;
	if (strcmp(word, "rx") == 0)
		return LL_FS_READ | LL_FS_EXECUTE;
	if (strcmp(word, "rw") == 0)
		return LL_FS_READ | LL_FS_WRITE;
	if (strcmp(word, "rwx") == 0)
		return LL_FS_READ | LL_FS_WRITE | LL_FS_EXECUTE;
	return 0;
}

/* ---- the plan (pure) ------------------------------------------------------------------------ */

static void plan_add(struct landlock_plan *p, const char *path, uint64_t access, uint64_t ceiling,
		     const char *origin)
{
	p->rules = xrealloc(p->rules, (p->n_rules + 1) * sizeof(*p->rules));
	p->rules[p->n_rules++] = (struct landlock_rule){
	    .path = fs_path_clean(path), .access = access, .ceiling = ceiling, .origin = origin};
}

struct mount_flags {
	bool ro, noexec, nodev;
};

/* Later options win, as they do for mount(8). */
static struct mount_flags mount_flags_of(const struct oci_mount *m)
{
	struct mount_flags f = {0};
	for (char **o = m->options; o != NULL && *o != NULL; o++) {
		if (strcmp(*o, "ro") == 0 || strcmp(*o, "rro") == 0)
			f.ro = true;
		else if (strcmp(*o, "rw") == 0 || strcmp(*o, "rrw") == 0)
			f.ro = false;
		else if (strcmp(*o, "noexec") == 0 || strcmp(*o, "rnoexec") == 0)
			f.noexec = true;
		else if (strcmp(*o, "exec") == 0 || strcmp(*o, "rexec") == 0)
			f.noexec = false;
		else if (strcmp(*o, "nodev") == 0 || strcmp(*o, "rnodev") == 0)
			f.nodev = true;
		else if (strcmp(*o, "dev") == 0 || strcmp(*o, "rdev") == 0)
			f.nodev = false;
	}
	return f;
}

static bool path_is_below(const char *path, const char *dir)
{
	if (strcmp(dir, "/") == 0)
		return strcmp(path, "/") != 0;
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* What the kernel already refuses through the mount flags. */
static uint64_t ceiling_of(struct mount_flags f)
{
	uint64_t c = LL_FS_READ;
	if (!f.ro)
		c |= LL_FS_WRITE;
	if (!f.noexec)
		c |= LL_FS_EXECUTE;
	if (!f.nodev)
		c |= LL_FS_IOCTL_DEV;
	return c;
}

/* proc: read only (its writable files are the kernel's knobs); the /dev tmpfs: listing only,
 * the nodes get rules of their own; devpts: the terminals; anything else: what its flags say. */
static uint64_t mount_access(const struct oci_mount *m, struct mount_flags f)
{
	const char *type = m->type ? m->type : "";
	if (strcmp(type, "proc") == 0)
		return LL_FS_READ;
	if (strcmp(m->destination, "/dev") == 0)
		return LL_FS_READ_DIR;
	uint64_t a = LL_FS_READ;
	if (strcmp(type, "devpts") == 0)
		return f.ro ? a | LL_FS_IOCTL_DEV : a | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV;
	if (!f.ro)
		a |= LL_FS_WRITE;
	if (!f.noexec)
		a |= LL_FS_EXECUTE;
	if (!f.nodev && path_is_below(m->destination, "/dev"))
		a |= LL_FS_IOCTL_DEV;
	return a;
}

static void plan_add_mounts(const struct oci_spec *spec, struct landlock_plan *p)
{
	uint64_t root = LL_FS_READ | LL_FS_EXECUTE | (spec->root_readonly ? 0 : LL_FS_WRITE);
	plan_add(p, "/", root, LL_FS_ALL, "root");
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		struct mount_flags f = mount_flags_of(m);
		plan_add(p, m->destination, mount_access(m, f), ceiling_of(f), "mounts");
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		plan_add(p, default_devices[i], LL_FS_DEVICE, LL_FS_ALL, "default device");
	for (size_t i = 0; i < spec->linux.n_devices; i++)
		plan_add(p, spec->linux.devices[i].path, LL_FS_DEVICE, LL_FS_ALL, "linux.devices");
}

/* "MODE:PATH,MODE:PATH" */
static int plan_add_annotation_rules(const char *value, struct landlock_plan *p,
				     struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		if (colon == NULL)
			return bw_fail(err, 0, LANDLOCK_ANNOTATION_RULES ": \"%s\": not MODE:PATH",
				       tok);
		*colon = '\0';
		uint64_t a = landlock_access_from_word(tok);
		if (a == 0)
			return bw_fail(err, 0,
				       LANDLOCK_ANNOTATION_RULES
				       ": unknown mode \"%s\" (ro, rx, rw, rwx)",
				       tok);
		if (colon[1] != '/')
			return bw_fail(err, 0,
				       LANDLOCK_ANNOTATION_RULES ": \"%s\": not an absolute path",
				       colon + 1);
		plan_add(p, colon + 1, a, LL_FS_ALL, LANDLOCK_ANNOTATION_RULES);
	}
	return 0;
}

/* Remove the entries that lie below another entry (in place; order kept). */
static void strv_drop_nested(char **v)
{
	size_t n = strv_len(v), o = 0;
	/* Decide every entry before freeing any: a later entry is compared with earlier ones. */
	bool *nested = xcalloc(n + 1, sizeof(bool));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n && !nested[i]; j++)
			nested[i] = j != i && path_is_below(v[i], v[j]);
	for (size_t i = 0; i < n; i++) {
		if (nested[i])
			free(v[i]);
		else
			v[o++] = v[i];
	}
	free(nested);
	if (v != NULL)
		v[o] = NULL;
}

/* A broad grant must not reach a descendant whose own rule is narrower than what the mount
 * flags would let through: such descendants become the grant's exceptions. */
static void plan_compute_excepts(struct landlock_plan *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		struct landlock_rule *r = &p->rules[i];
		for (size_t j = 0; j < p->n_rules; j++) {
			const struct landlock_rule *d = &p->rules[j];
			if (!path_is_below(d->path, r->path))
				continue;
			uint64_t leak = r->access & d->ceiling & ~d->access;
			/* A device rule is on a file: directory rights cannot leak into it. */
			if (d->access == LL_FS_DEVICE)
				leak &= LL_FS_FILE_RIGHTS;
			if (leak != 0 && !strv_contains(r->except, d->path))
				strv_push(&r->except, d->path);
		}
	}
	for (size_t i = 0; i < p->n_rules; i++)
		strv_drop_nested(p->rules[i].except);
}

static int parse_port_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *dash = strchr(copy, '-');
	if (dash != NULL)
		*dash = '\0';
	if (parse_u32(copy, lo) < 0 || *lo > 65535)
		return -1;
	*hi = *lo;
	if (dash != NULL && (parse_u32(dash + 1, hi) < 0 || *hi > 65535 || *hi < *lo))
		return -1;
	return 0;
}

/* "none" or "bind:PORT,connect:LO-HI,..." */
static int plan_parse_net(const char *value, struct landlock_plan *p, struct bw_error *err)
{
	p->net = true;
	if (strcmp(value, "none") == 0)
		return 0;
	_cleanup_free_ uint8_t *acc = xcalloc(LL_MAX_PORTS, 1);
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;
	bool any = false;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint8_t bit;
		const char *ports;
		if (str_has_prefix(tok, "bind:"))
			bit = LL_NET_BIND_TCP, ports = tok + 5;
		else if (str_has_prefix(tok, "connect:"))
			bit = LL_NET_CONNECT_TCP, ports = tok + 8;
		else
			return bw_fail(
			    err, 0,
			    LANDLOCK_ANNOTATION_NET ": \"%s\": not bind:PORT or connect:PORT", tok);
		uint32_t lo, hi;
		if (parse_port_range(ports, &lo, &hi) < 0)
			return bw_fail(
			    err, 0, LANDLOCK_ANNOTATION_NET ": \"%s\": not a port or range", tok);
		for (uint32_t port = lo; port <= hi; port++)
			acc[port] |= bit;
		any = true;
	}
	if (!any)
		return bw_fail(err, 0, LANDLOCK_ANNOTATION_NET ": empty (use \"none\" for no TCP)");
	for (uint32_t port = 0; port < LL_MAX_PORTS; port++) {
		if (acc[port] == 0)
			continue;
		p->ports = xrealloc(p->ports, (p->n_ports + 1) * sizeof(*p->ports));
		p->ports[p->n_ports++] = (struct landlock_port){(uint16_t)port, acc[port]};
	}
	return 0;
}

static int plan_parse_scope(const char *value, struct landlock_plan *p, struct bw_error *err)
{
	p->scope_required = true;
	p->scope = 0;
	if (strcmp(value, "none") == 0)
		return 0;
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "abstract-unix-socket") == 0)
			p->scope |= LL_SCOPE_ABSTRACT_UNIX;
		else if (strcmp(tok, "signal") == 0)
			p->scope |= LL_SCOPE_SIGNAL;
		else
			return bw_fail(
			    err, 0,
			    LANDLOCK_ANNOTATION_SCOPE
			    ": unknown scope \"%s\" (abstract-unix-socket, signal, none)",
			    tok);
	}
	if (p->scope == 0)
		return bw_fail(err, 0, LANDLOCK_ANNOTATION_SCOPE ": empty (use \"none\")");
	return 0;
}

/* Without an annotation, scope only what the namespaces leave shared with the host: another
 * process's domain (a `bulwark exec`) is outside ours, so scoping inside a private pid or
 * network namespace would only break `exec kill` and abstract sockets between them. */
static uint64_t default_scope(const struct oci_spec *spec)
{
	uint64_t s = 0;
	if (oci_spec_namespace(spec, OCI_NS_PID) == NULL)
		s |= LL_SCOPE_SIGNAL;
	if (oci_spec_namespace(spec, OCI_NS_NETWORK) == NULL)
		s |= LL_SCOPE_ABSTRACT_UNIX;
	return s;
}

static void plan_raise_abi(struct landlock_plan *p, int abi, const char *why)
{
	if (abi > p->min_abi) {
		p->min_abi = abi;
		p->min_abi_reason = why;
	}
}

static int plan_parse_mode(const char *v, struct landlock_plan *out, struct bw_error *err)
{
	if (v == NULL || strcmp(v, "off") == 0)
		out->mode = LANDLOCK_OFF;
	else if (strcmp(v, "default") == 0)
		out->mode = LANDLOCK_DEFAULT;
	else if (strcmp(v, "enforce") == 0)
		out->mode = LANDLOCK_ENFORCE;
	else
		return bw_fail(
		    err, 0, LANDLOCK_ANNOTATION ": unknown mode \"%s\" (off, default, enforce)", v);
	return 0;
}

int landlock_plan_from_spec(const struct oci_spec *spec, struct landlock_plan *out,
			    struct bw_error *err)
{
	struct landlock_plan p = {0};
	const char *rules = oci_spec_annotation(spec, LANDLOCK_ANNOTATION_RULES);
	const char *net = oci_spec_annotation(spec, LANDLOCK_ANNOTATION_NET);
	const char *scope = oci_spec_annotation(spec, LANDLOCK_ANNOTATION_SCOPE);

	*out = (struct landlock_plan){0};
	if (plan_parse_mode(oci_spec_annotation(spec, LANDLOCK_ANNOTATION), &p, err) < 0)
		return -1;
	if (p.mode == LANDLOCK_OFF) {
		/* Refinements without the switch are a mistake, not a request to be ignored. */
		if (rules || net || scope)
			return bw_fail(err, 0, "%s is set but " LANDLOCK_ANNOTATION " is off",
				       rules ? LANDLOCK_ANNOTATION_RULES
				       : net ? LANDLOCK_ANNOTATION_NET
					     : LANDLOCK_ANNOTATION_SCOPE);
		return 0;
	}
	plan_raise_abi(&p, p.mode == LANDLOCK_ENFORCE ? 5 : 1, LANDLOCK_ANNOTATION);
	plan_add_mounts(spec, &p);
	p.scope = default_scope(spec);
	if ((rules && plan_add_annotation_rules(rules, &p, err) < 0) ||
	    (net && plan_parse_net(net, &p, err) < 0) ||
	    (scope && plan_parse_scope(scope, &p, err) < 0)) {
		landlock_plan_free(&p);
		return -1;
	}
	if (p.net)
		plan_raise_abi(&p, 4, LANDLOCK_ANNOTATION_NET);
	if (p.scope != 0 && p.scope_required)
		plan_raise_abi(&p, 6, LANDLOCK_ANNOTATION_SCOPE);
	else if (p.scope != 0 && p.mode == LANDLOCK_ENFORCE)
		plan_raise_abi(&p, 6, LANDLOCK_ANNOTATION);
	plan_compute_excepts(&p);
	*out = p;
	return 0;
}

void landlock_plan_free(struct landlock_plan *plan)
{
	for (size_t i = 0; i < plan->n_rules; i++) {
		free(plan->rules[i].path);
		strv_free(plan->rules[i].except);
	}
	free(plan->rules);
	free(plan->ports);
	*plan = (struct landlock_plan){0};
}

int landlock_plan_check(const struct landlock_plan *plan, int abi, struct bw_error *err)
{
	if (plan->mode == LANDLOCK_OFF)
		return 0;
	if (abi <= 0)
		return bw_fail(err, EOPNOTSUPP,
			       "%s: Landlock is not available on this kernel (disabled or too old)",
			       plan->min_abi_reason ? plan->min_abi_reason : LANDLOCK_ANNOTATION);
	if (abi < plan->min_abi)
		return bw_fail(err, EOPNOTSUPP, "%s: needs Landlock ABI %d, the kernel has ABI %d",
			       plan->min_abi_reason, plan->min_abi, abi);
	return 0;
}

/* ---- the kernel side ------------------------------------------------------------------------ */

int landlock_abi_version(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* The inodes of the exceptions of one rule and of every directory on the way to them. */
struct ll_ino {
	dev_t dev;
	ino_t ino;
	bool except; /* false: an ancestor of an exception */
};
struct ll_inoset {
	struct ll_ino *v;
	size_t n;
};

static void inoset_add(struct ll_inoset *s, const struct stat *st, bool except)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) {
			s->v[i].except |= except;
			return;
		}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct ll_ino){st->st_dev, st->st_ino, except};
}

static const struct ll_ino *inoset_find(const struct ll_inoset *s, const struct stat *st)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return &s->v[i];
	return NULL;
}

/* Resolve an exception inside the root (symlinks followed as the mounts were) and record it
 * and its ancestors up to `top` (the rule's own directory). A missing one is skipped. */
static int inoset_add_except(struct ll_inoset *s, int rootfd, const char *path,
			     const struct stat *top, struct bw_error *err)
{
	struct bw_error ignored = {0};
	_cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_PATH, 0, &ignored);
	struct stat st;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "stat `%s`", path);
	inoset_add(s, &st, true);
	for (int depth = 0; depth < 256; depth++) {
		if (st.st_dev == top->st_dev && st.st_ino == top->st_ino)
			return 0;
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			return bw_fail(err, errno, "open the parent of `%s`", path);
		close(fd);
		fd = up;
		dev_t pdev = st.st_dev;
		ino_t pino = st.st_ino;
		if (fstat(fd, &st) < 0)
			return bw_fail(err, errno, "stat a parent of `%s`", path);
		if (st.st_dev == pdev && st.st_ino == pino)
			break; /* at "/": the rule's directory was not on the way */
		inoset_add(s, &st, false);
	}
	return 0; /* outside the rule's directory (a symlink elsewhere): nothing to split */
}

static int add_path_rule(int rs, int fd, uint64_t access, const char *what, struct bw_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "stat `%s`", what);
	if (!S_ISDIR(st.st_mode))
		access &= LL_FS_FILE_RIGHTS;
	if (access == 0)
		return 0;
	struct ll_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};
	if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		return bw_fail(err, errno, "landlock_add_rule `%s`", what);
	return 0;
}

/* Grant `access` to each entry of dirfd except the exceptions, descending towards them. */
static int add_split_rule(int rs, int dirfd, const char *path, uint64_t access,
			  const struct ll_inoset *ex, int depth, struct bw_error *err)
{
	if (depth > 64)
		return bw_fail(err, ELOOP, "`%s`: too deep", path);
	if (add_path_rule(rs, dirfd, access & LL_FS_READ_DIR, path, err) < 0)
		return -1;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return bw_fail(err, errno, "open `%s`", path);
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return bw_fail(err, errno, "fdopendir `%s`", path);
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child =
		    xasprintf("%s/%s", strcmp(path, "/") ? path : "", e->d_name);
		_cleanup_close_ int cfd = openat(dirfd, e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (cfd < 0 || fstat(cfd, &st) < 0) {
			log_debug("landlock: skip `%s`: %s", child, strerror(errno));
			continue;
		}
		if (S_ISLNK(st.st_mode)) /* its target is covered where it lives */
			continue;
		const struct ll_ino *hit = inoset_find(ex, &st);
		if (hit == NULL)
			r = add_path_rule(rs, cfd, access, child, err);
		else if (!hit->except && S_ISDIR(st.st_mode))
			r = add_split_rule(rs, cfd, child, access, ex, depth + 1, err);
	}
	closedir(d);
	return r;
}

static int add_fs_rule(int rs, int rootfd, const struct landlock_rule *rule, uint64_t handled,
		       struct bw_error *err)
{
	struct bw_error ignored = {0};
	uint64_t access = rule->access & handled;
	_cleanup_close_ int fd = fs_open_in_root(rootfd, rule->path, O_PATH, 0, &ignored);
	if (fd < 0) {
		/* Nothing there: nothing to grant, which is the safe side. */
		log_debug("landlock: no `%s` (%s): no rule", rule->path, rule->origin);
		return 0;
	}
	if (rule->except == NULL)
		return add_path_rule(rs, fd, access, rule->path, err);
	struct ll_inoset ex = {0};
	struct stat top;
	int r = fstat(fd, &top) < 0 ? bw_fail(err, errno, "stat `%s`", rule->path) : 0;
	for (char **e = rule->except; r == 0 && *e; e++)
		r = inoset_add_except(&ex, rootfd, *e, &top, err);
	if (r == 0 && !S_ISDIR(top.st_mode))
		r = add_path_rule(rs, fd, access, rule->path, err);
	else if (r == 0)
		r = add_split_rule(rs, fd, rule->path, access, &ex, 0, err);
	free(ex.v);
	return r;
}

static int add_port_rules(int rs, const struct landlock_plan *plan, struct bw_error *err)
{
	for (size_t i = 0; i < plan->n_ports; i++) {
		struct ll_net_port_attr np = {.allowed_access = plan->ports[i].access,
					      .port = plan->ports[i].port};
		if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) < 0)
			return bw_fail(err, errno,
				       LANDLOCK_ANNOTATION_NET ": landlock_add_rule port %u",
				       plan->ports[i].port);
	}
	return 0;
}

static int create_ruleset(const struct landlock_plan *plan, int abi, uint64_t handled_fs,
			  struct bw_error *err)
{
	struct ll_ruleset_attr attr = {.handled_access_fs = handled_fs};
	size_t size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = plan->net ? LL_NET_BIND_TCP | LL_NET_CONNECT_TCP : 0;
		size += sizeof(attr.handled_access_net);
	}
	if (abi >= 6) {
		attr.scoped = plan->scope;
		size += sizeof(attr.scoped);
	} else if (plan->scope != 0) {
		log_debug("landlock: ABI %d has no scoping; not scoped", abi);
	}
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0)
		return bw_fail(err, errno, LANDLOCK_ANNOTATION ": landlock_create_ruleset");
	return rs;
}

static bool has_sys_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32));
}

#define LL_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */

static int restrict_self(int rs, uint32_t flags, struct bw_error *err)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 && !has_sys_admin())
		return bw_fail(err, EPERM,
			       LANDLOCK_ANNOTATION ": landlock_restrict_self needs no_new_privs "
						   "or CAP_SYS_ADMIN, and the init has neither");
	if (syscall(SYS_landlock_restrict_self, rs, flags) < 0)
		return bw_fail(err, errno, LANDLOCK_ANNOTATION ": landlock_restrict_self");
	return 0;
}

int landlock_apply(const struct landlock_plan *plan, int exec_fifo_fd, struct bw_error *err)
{
	if (plan->mode == LANDLOCK_OFF)
		return 0;
	int abi = landlock_abi_version();
	if (landlock_plan_check(plan, abi, err) < 0)
		return -1;
	uint64_t handled = landlock_fs_rights_for_abi(abi);
	_cleanup_close_ int rs = create_ruleset(plan, abi, handled, err);
	if (rs < 0)
		return -1;
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return bw_fail(err, errno, "open /");
	for (size_t i = 0; i < plan->n_rules; i++)
		if (add_fs_rule(rs, rootfd, &plan->rules[i], handled, err) < 0)
			return bw_wrap(err, LANDLOCK_ANNOTATION " (%s)", plan->rules[i].origin);
	if (exec_fifo_fd >= 0 &&
	    add_path_rule(rs, exec_fifo_fd, LL_FS_WRITE_FILE, "exec.fifo", err) < 0)
		return -1;
	if (plan->net && add_port_rules(rs, plan, err) < 0)
		return -1;
	uint32_t flags = plan->log_denials && abi >= 7 ? LL_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
	if (restrict_self(rs, flags, err) < 0)
		return -1;
	log_debug("landlock: ABI %d, %zu rules, %zu ports, scope %#llx", abi, plan->n_rules,
		  plan->n_ports, (unsigned long long)plan->scope);
	return 0;
}
