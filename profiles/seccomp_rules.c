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
#define MAX_SPLIT_RULES 64
#define MAX_CONDS_PER_ARG 16

struct build {
	const struct oci_seccomp *sc;
	scmp_filter_ctx ctx;
	uint32_t def;	    /* default action */
	uint32_t def_errno; /* errno for SCMP_ACT_ERRNO rules without errnoRet */
	uint32_t arches[MAX_ARCHES];
	size_t n_arches;
	bool needs_listener;
};

/* One argument's conditions: several here must all hold (AND). */
struct arg_group {
	struct scmp_arg_cmp c[MAX_CONDS_PER_ARG];
	size_t n;
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
	b->def_errno = sc->default_errno_ret.set ? (uint32_t)sc->default_errno_ret.v : EPERM;
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

/* EQ is MASKED_EQ with a full mask; two masked equalities on one argument are one masked
 * equality when they agree on the bits they share. */
static bool as_masked(const struct scmp_arg_cmp *c, uint64_t *mask, uint64_t *datum)
{
	if (c->op == SCMP_CMP_EQ) {
		*mask = UINT64_MAX;
		*datum = c->datum_a;
		return true;
	}
	if (c->op == SCMP_CMP_MASKED_EQ) {
		*mask = c->datum_a;
		*datum = c->datum_b;
		return true;
	}
	return false;
}

/* Returns false when the conditions can never hold together (the rule matches nothing). */
static bool merge_group(struct arg_group *g)
{
	for (size_t i = 0; i < g->n; i++) /* identical conditions: keep one */
		for (size_t j = i + 1; j < g->n; j++)
			if (memcmp(&g->c[i], &g->c[j], sizeof(g->c[i])) == 0)
				g->c[j--] = g->c[--g->n];
	uint64_t mask = 0, datum = 0, m, d;
	for (size_t i = 0; i < g->n; i++)
		if (!as_masked(&g->c[i], &m, &d))
			return true; /* not mergeable: left to the caller */
	for (size_t i = 0; i < g->n; i++) {
		as_masked(&g->c[i], &m, &d);
		if ((d & ~m) != 0 || ((datum ^ d) & mask & m) != 0)
			return false;
		mask |= m;
		datum |= d;
	}
	if (g->n > 1) {
		g->c[0].op = mask == UINT64_MAX ? SCMP_CMP_EQ : SCMP_CMP_MASKED_EQ;
		g->c[0].datum_a = mask == UINT64_MAX ? datum : mask;
		g->c[0].datum_b = mask == UINT64_MAX ? 0 : datum;
		g->n = 1;
	}
	return true;
}

static int parse_args(const struct oci_seccomp_syscall *s, const char *path, struct arg_group *g,
		      struct bw_error *err)
{
	for (size_t j = 0; j < s->n_args; j++) {
		const struct oci_seccomp_arg *a = &s->args[j];
		if (a->index > MAX_ARG_INDEX)
			return bw_fail(err, 0, "%s.args[%zu].index: %u is out of range (0-%d)",
				       path, j, a->index, MAX_ARG_INDEX);
		int op = seccomp_resolve_operator(a->op);
		if (op == 0)
			return bw_fail(err, 0, "%s.args[%zu].op: unknown operator \"%s\"", path, j,
				       a->op != NULL ? a->op : "");
		struct arg_group *gr = &g[a->index];
		if (gr->n == MAX_CONDS_PER_ARG)
			return bw_fail(err, 0, "%s.args: too many conditions on argument %u", path,
				       a->index);
		gr->c[gr->n++] = (struct scmp_arg_cmp){.arg = a->index,
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

/* Several conditions on one argument cannot go in one libseccomp rule. Splitting them into
 * one rule per combination (what runc does) turns AND into OR: the rule then matches more
 * calls. That only errs on the safe side for a refusing action, so an allowing one is an
 * error rather than a silently wider filter. Returns the number of rules (>= 1). */
static int count_split(struct arg_group *g, uint32_t act, const char *path, struct bw_error *err)
{
	int total = 1;
	for (int i = 0; i <= MAX_ARG_INDEX; i++) {
		if (g[i].n <= 1)
			continue;
		if (!action_refuses(act))
			return bw_fail(
			    err, 0,
			    "%s.args: %zu conditions on argument %d: libseccomp cannot AND "
			    "conditions on one argument, and splitting them would let "
			    "this rule match calls the profile does not name",
			    path, g[i].n, i);
		total *= (int)g[i].n;
		if (total > MAX_SPLIT_RULES)
			return bw_fail(err, 0,
				       "%s.args: more than %d rules after splitting "
				       "conditions on the same argument",
				       path, MAX_SPLIT_RULES);
	}
	return total;
}

/* The k-th combination: one condition from each argument's group. */
static unsigned int pick_conds(const struct arg_group *g, int k, struct scmp_arg_cmp *out)
{
	unsigned int n = 0;
	for (int i = 0; i <= MAX_ARG_INDEX; i++) {
		if (g[i].n == 0)
			continue;
		out[n++] = g[i].c[(size_t)k % g[i].n];
		k /= (int)g[i].n;
	}
	return n;
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

static int add_name(struct build *b, const char *path, size_t k, const char *name, uint32_t act,
		    const struct arg_group *g, int n_rules, struct bw_error *err)
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
	for (int r = 0; r < n_rules; r++) {
		struct scmp_arg_cmp conds[MAX_ARG_INDEX + 1];
		unsigned int n = pick_conds(g, r, conds);
		int rc = seccomp_rule_add_array(b->ctx, act, nr, n, conds);
		if (rc == -EEXIST)
			return bw_fail(err, EEXIST,
				       "%s.names[%zu]: the rule for \"%s\" conflicts "
				       "with an earlier rule",
				       path, k, name);
		if (rc < 0)
			return bw_fail(err, -rc,
				       "%s.names[%zu]: libseccomp refused the rule for "
				       "\"%s\"",
				       path, k, name);
	}
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
	if (seccomp_resolve_action(s->action, &s->errno_ret, b->def_errno, path, "action",
				   "errnoRet", &act, err) < 0)
		return -1;
	if (s->names == NULL || s->names[0] == NULL)
		return bw_fail(err, 0, "%s.names: must name at least one syscall", path);
	struct arg_group g[MAX_ARG_INDEX + 1] = {0};
	if (parse_args(s, path, g, err) < 0)
		return -1;
	for (int a = 0; a <= MAX_ARG_INDEX; a++) {
		if (!merge_group(&g[a])) {
			log_debug("%s: conditions on argument %d contradict each other, rule "
				  "skipped",
				  path, a);
			return 0;
		}
	}
	int n_rules = count_split(g, act, path, err);
	if (n_rules < 0)
		return -1;
	for (size_t k = 0; s->names[k] != NULL; k++)
		if (add_name(b, path, k, s->names[k], act, g, n_rules, err) < 0)
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
