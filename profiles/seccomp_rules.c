/* The libseccomp translation of an OCI seccomp object: default action, architectures, one
 * libseccomp rule per (syscall, condition set), then the BPF export, with an ENOSYS stub in
 * front when the default action is ERRNO. Runs in the runtime parent, never in the init. */
#include "seccomp_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

#define MAX_ARCHES 24
#define MAX_ARG_INDEX 5
#define MAX_CONDS 64

struct build {
	const struct oci_seccomp *sc;
	scmp_filter_ctx ctx;
	uint32_t def; /* default action */
	uint32_t arches[MAX_ARCHES];
	size_t n_arches;
	bool needs_listener;
};

/* A rule's conditions, and how many name each argument. */
struct conds {
	struct scmp_arg_cmp c[MAX_CONDS];
	unsigned int n;
	unsigned int per_arg[MAX_ARG_INDEX + 1];
};

static void build_release(struct build *b)
{
	if (b->ctx != NULL)
		seccomp_release(b->ctx);
}

static int add_arches(struct build *b, struct bw_error *err)
{
	b->arches[b->n_arches++] = seccomp_arch_native();
	char **v = b->sc->architectures;
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		uint32_t tok = seccomp_resolve_arch(v[i]);
		if (tok == 0)
			return bw_fail(err, 0,
				       "linux.seccomp.architectures[%zu]: unknown architecture "
				       "\"%s\"",
				       i, v[i]);
		int r = seccomp_arch_add(b->ctx, tok);
		if (r == -EEXIST)
			continue;
		if (r < 0)
			return bw_fail(err, -r, "linux.seccomp.architectures[%zu]: add %s", i,
				       v[i]);
		if (b->n_arches == MAX_ARCHES)
			return bw_fail(err, 0, "linux.seccomp.architectures: too many");
		b->arches[b->n_arches++] = tok;
	}
	return 0;
}

static int init_filter(struct build *b, struct bw_error *err)
{
	const struct oci_seccomp *sc = b->sc;
	if (seccomp_resolve_action(sc->default_action, &sc->default_errno_ret, EPERM,
				   "linux.seccomp", "defaultAction", "defaultErrnoRet", &b->def,
				   err) < 0)
		return -1;
	if (b->def == SCMP_ACT_NOTIFY)
		return bw_fail(err, 0,
			       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
			       "default action");
	b->ctx = seccomp_init(b->def);
	if (b->ctx == NULL)
		return bw_fail(err, 0, "linux.seccomp.defaultAction: libseccomp refused %s",
			       sc->default_action);
	/* We load the program ourselves and set no_new_privs ourselves. */
	int r = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return bw_fail(err, -r, "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)");
	/* A binary tree over syscall numbers: a frequent syscall costs log(n), not n. */
	r = seccomp_attr_set(b->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		log_debug("libseccomp has no binary-tree optimisation: %s", strerror(-r));
	return add_arches(b, err);
}

static int parse_args(const struct oci_seccomp_syscall *s, const char *path, struct conds *c,
		      struct bw_error *err)
{
	if (s->n_args > MAX_CONDS)
		return bw_fail(err, 0, "%s.args: more than %d conditions", path, MAX_CONDS);
	for (size_t j = 0; j < s->n_args; j++) {
		const struct oci_seccomp_arg *a = &s->args[j];
		if (a->index > MAX_ARG_INDEX)
			return bw_fail(err, 0, "%s.args[%zu].index: %u is out of range (0-%d)",
				       path, j, a->index, MAX_ARG_INDEX);
		int op = seccomp_resolve_operator(a->op);
		if (op == 0)
			return bw_fail(err, 0, "%s.args[%zu].op: unknown operator \"%s\"", path, j,
				       a->op != NULL ? a->op : "");
		c->per_arg[a->index]++;
		c->c[c->n++] = (struct scmp_arg_cmp){.arg = a->index,
						     .op = (enum scmp_compare)op,
						     .datum_a = a->value,
						     .datum_b = a->value_two};
	}
	return 0;
}

static bool action_refuses(uint32_t act)
{
	uint32_t base = act & SECCOMP_RET_ACTION_FULL;
	return base == SCMP_ACT_KILL_PROCESS || base == SCMP_ACT_KILL_THREAD ||
	       base == SCMP_ACT_TRAP || base == (SCMP_ACT_ERRNO(0) & SECCOMP_RET_ACTION_FULL);
}

/* libseccomp ANDs a rule's conditions and takes one per argument. With two or more on one
 * argument, runc and crun make each condition a rule of its own: the rule matches when ANY
 * condition holds (two equalities on one argument: either value). Profiles are written for
 * them, so the same here; for an allowing action that can match more than the author meant
 * (GE 1 with LE 5 allows everything), hence the warning. Returns whether to split. */
static bool split_conditions(const struct conds *c, uint32_t act, const char *path)
{
	for (int i = 0; i <= MAX_ARG_INDEX; i++) {
		if (c->per_arg[i] <= 1)
			continue;
		if (action_refuses(act))
			log_debug("%s.args: %u conditions on argument %d: each is a rule of its "
				  "own (any of them matches, as in runc and crun)",
				  path, c->per_arg[i], i);
		else
			log_warn("%s.args: %u conditions on argument %d: each is a rule of its "
				 "own, so the action applies when ANY condition holds (as in runc "
				 "and crun)",
				 path, c->per_arg[i], i);
		return true;
	}
	return false;
}

/* Present on at least one architecture of the filter (a real number, or a pseudo-number
 * libseccomp rewrites through a multiplexer, e.g. socket on x86). */
static bool on_some_arch(const struct build *b, const char *name)
{
	for (size_t i = 0; i < b->n_arches; i++) {
		int nr = seccomp_syscall_resolve_name_arch(b->arches[i], name);
		if (nr >= 0 ||
		    (nr > -10000 && nr < __NR_SCMP_UNDEF && seccomp_arch_multiplexes(b->arches[i])))
			return true;
	}
	return false;
}

static int add_rule(struct build *b, const char *path, size_t k, const char *name, uint32_t act,
		    int nr, unsigned int n, const struct scmp_arg_cmp *conds, struct bw_error *err)
{
	int rc = seccomp_rule_add_array(b->ctx, act, nr, n, conds);
	if (rc == -EEXIST)
		return bw_fail(err, EEXIST,
			       "%s.names[%zu]: the rule for \"%s\" conflicts with an earlier rule",
			       path, k, name);
	if (rc < 0)
		return bw_fail(err, -rc, "%s.names[%zu]: libseccomp refused the rule for \"%s\"",
			       path, k, name);
	return 0;
}

static int add_name(struct build *b, const char *path, size_t k, const char *name, uint32_t act,
		    const struct conds *c, bool split, struct bw_error *err)
{
	int nr = name != NULL && name[0] != '\0' ? seccomp_syscall_resolve_name(name) : -1;
	if (name == NULL || name[0] == '\0')
		return bw_fail(err, 0, "%s.names[%zu]: empty syscall name", path, k);
	if (nr == __NR_SCMP_ERROR) {
		const struct scmp_version *v = seccomp_version();
		log_debug("%s.names[%zu]: syscall \"%s\" unknown to libseccomp %u.%u.%u, skipped",
			  path, k, name, v->major, v->minor, v->micro);
		return 0;
	}
	if (!on_some_arch(b, name))
		return 0; /* e.g. chown32 on x86_64 alone: nothing to filter */
	if (act == b->def)
		return 0; /* libseccomp refuses rules that repeat the default action */
	if (!split && add_rule(b, path, k, name, act, nr, c->n, c->c, err) < 0)
		return -1;
	for (unsigned int i = 0; split && i < c->n; i++)
		if (add_rule(b, path, k, name, act, nr, 1, &c->c[i], err) < 0)
			return -1;
	if (act == SCMP_ACT_NOTIFY)
		b->needs_listener = true;
	return 0;
}

static int add_syscall_rule(struct build *b, size_t i, struct bw_error *err)
{
	const struct oci_seccomp_syscall *s = &b->sc->syscalls[i];
	char path[64];
	snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
	uint32_t act;
	/* Without errnoRet a rule's errno is EPERM, whatever defaultErrnoRet says (runc, crun);
	 * so is a trace rule's value. */
	if (seccomp_resolve_action(s->action, &s->errno_ret, EPERM, path, "action", "errnoRet",
				   &act, err) < 0)
		return -1;
	if (s->names == NULL || s->names[0] == NULL)
		return bw_fail(err, 0, "%s.names: must name at least one syscall", path);
	struct conds c = {0};
	if (parse_args(s, path, &c, err) < 0)
		return -1;
	bool split = split_conditions(&c, act, path);
	for (size_t k = 0; s->names[k] != NULL; k++)
		if (add_name(b, path, k, s->names[k], act, &c, split, err) < 0)
			return -1;
	return 0;
}

int seccomp_export_prog(void *ctx, struct seccomp_prog *out, struct bw_error *err)
{
	_cleanup_close_ int fd = memfd_create("bulwark-seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return bw_fail(err, errno, "memfd_create");
	int r = seccomp_export_bpf((scmp_filter_ctx)ctx, fd);
	if (r < 0)
		return bw_fail(err, -r, "seccomp_export_bpf");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bw_fail(err, errno, "fstat the exported BPF");
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return bw_fail(err, 0,
			       "linux.seccomp: the compiled filter has %zu bytes (at most "
			       "%d instructions fit)",
			       size, BPF_MAXINSNS);
	struct sock_filter *f = xmalloc(size);
	for (size_t done = 0; done < size;) {
		ssize_t n = pread(fd, (char *)f + done, size - done, (off_t)done);
		if (n <= 0) {
			free(f);
			return bw_fail(err, n < 0 ? errno : EIO, "read the exported BPF");
		}
		done += (size_t)n;
	}
	out->filter = f;
	out->len = size / sizeof(struct sock_filter);
	return 0;
}

int seccomp_translate(const struct oci_seccomp *sc, struct seccomp_prog *out, struct bw_error *err)
{
	struct build b = {.sc = sc};
	struct seccomp_prog p = {0};
	int r = init_filter(&b, err);
	for (size_t i = 0; r == 0 && i < sc->n_syscalls; i++)
		r = add_syscall_rule(&b, i, err);
	if (r == 0)
		r = seccomp_export_prog(b.ctx, &p, err);
	bool errno_default =
	    (b.def & SECCOMP_RET_ACTION_FULL) == (SCMP_ACT_ERRNO(0) & SECCOMP_RET_ACTION_FULL);
	if (r == 0 && errno_default)
		r = seccomp_enosys_stub(sc, b.arches, b.n_arches, &p, err);
	build_release(&b);
	if (r < 0) {
		seccomp_prog_free(&p);
		return -1;
	}
	p.needs_listener = b.needs_listener;
	*out = p;
	return 0;
}
