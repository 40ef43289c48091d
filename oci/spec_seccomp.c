/* config.json "linux.seccomp": actions, architectures, flags and syscall rules, checked
 * against the names the OCI spec defines; the profiles module compiles them. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/spec_internal.h"

static const char *const actions[] = {"SCMP_ACT_KILL",	      "SCMP_ACT_KILL_PROCESS",
				      "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
				      "SCMP_ACT_ERRNO",	      "SCMP_ACT_TRACE",
				      "SCMP_ACT_ALLOW",	      "SCMP_ACT_LOG",
				      "SCMP_ACT_NOTIFY",      NULL};
static const char *const operators[] = {"SCMP_CMP_NE",	      "SCMP_CMP_LT", "SCMP_CMP_LE",
					"SCMP_CMP_EQ",	      "SCMP_CMP_GE", "SCMP_CMP_GT",
					"SCMP_CMP_MASKED_EQ", NULL};
static const char *const architectures[] = {
    "SCMP_ARCH_X86",	 "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",		"SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",	"SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",	 "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",	 "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	"SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",	 "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	"SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",	 "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",	NULL};
static const char *const filter_flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
					   "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					   "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};

static bool in_list(const char *const *list, const char *s)
{
	return strv_contains((char *const *)list, s);
}

/* A required member naming one of `list`. */
static int check_name(struct jp *p, const char *key, const char *value, const char *const *list,
		      const char *what)
{
	char q[JP_QUOTE_MAX];
	if (value == NULL)
		return jp_fail_at(p, key, "required");
	if (!in_list(list, value))
		return jp_fail_at(p, key, "unknown %s %s", what, jp_quote(q, value));
	return 0;
}

static int check_names(struct jp *p, const char *key, char **values, const char *const *list,
		       const char *what)
{
	char q[JP_QUOTE_MAX];
	for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
		if (in_list(list, values[i]))
			continue;
		size_t mark = jp_key(p, key);
		jp_idx(p, i);
		jp_fail(p, "unknown %s %s", what, jp_quote(q, values[i]));
		jp_pop(p, mark);
		return -1;
	}
	return 0;
}

static int parse_arg(struct jp *p, yajl_val v, void *elem)
{
	struct oci_seccomp_arg *a = elem;
	uint64_t index = 0;
	bool has_index = false;
	if (oj_f_u64(p, v, "index", 5, &index, &has_index) < 0 ||
	    oj_f_u64(p, v, "value", UINT64_MAX, &a->value, NULL) < 0 ||
	    oj_f_u64(p, v, "valueTwo", UINT64_MAX, &a->value_two, NULL) < 0 ||
	    oj_f_string(p, v, "op", &a->op) < 0)
		return -1;
	a->index = (uint32_t)index;
	if (!has_index)
		return jp_fail_at(p, "index", "required");
	return check_name(p, "op", a->op, operators, "operator");
}

static int check_syscall_names(struct jp *p, char **names)
{
	if (names == NULL || names[0] == NULL)
		return jp_fail_at(p, "names", "must not be empty");
	for (size_t i = 0; names[i] != NULL; i++) {
		if (names[i][0] != '\0')
			continue;
		size_t mark = jp_key(p, "names");
		jp_idx(p, i);
		jp_fail(p, "must not be empty");
		jp_pop(p, mark);
		return -1;
	}
	return 0;
}

/* errno and trace values travel in the 16-bit SECCOMP_RET_DATA field. */
static int parse_syscall(struct jp *p, yajl_val v, void *elem)
{
	struct oci_seccomp_syscall *s = elem;
	if (oj_f_strv(p, v, "names", &s->names) < 0 ||
	    oj_f_string(p, v, "action", &s->action) < 0 ||
	    oj_f_opt_u64(p, v, "errnoRet", UINT16_MAX, &s->errno_ret) < 0 ||
	    oj_f_objects(p, v, "args", sizeof(struct oci_seccomp_arg), 0, (void **)&s->args,
			 &s->n_args, parse_arg) < 0)
		return -1;
	if (check_syscall_names(p, s->names) < 0)
		return -1;
	return check_name(p, "action", s->action, actions, "action");
}

static bool uses_notify(const struct oci_seccomp *sc)
{
	if (strcmp(sc->default_action, "SCMP_ACT_NOTIFY") == 0)
		return true;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (strcmp(sc->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
			return true;
	return false;
}

int oci_parse_seccomp(struct jp *p, yajl_val v, void *out)
{
	struct oci_seccomp *sc = out;
	if (oj_f_string(p, v, "defaultAction", &sc->default_action) < 0 ||
	    oj_f_opt_u64(p, v, "defaultErrnoRet", UINT16_MAX, &sc->default_errno_ret) < 0 ||
	    oj_f_strv(p, v, "architectures", &sc->architectures) < 0 ||
	    oj_f_strv(p, v, "flags", &sc->flags) < 0 ||
	    oj_f_string(p, v, "listenerPath", &sc->listener_path) < 0 ||
	    oj_f_string(p, v, "listenerMetadata", &sc->listener_metadata) < 0 ||
	    oj_f_objects(p, v, "syscalls", sizeof(struct oci_seccomp_syscall), 0,
			 (void **)&sc->syscalls, &sc->n_syscalls, parse_syscall) < 0)
		return -1;
	if (check_name(p, "defaultAction", sc->default_action, actions, "action") < 0 ||
	    check_names(p, "architectures", sc->architectures, architectures, "architecture") < 0 ||
	    check_names(p, "flags", sc->flags, filter_flags, "flag") < 0)
		return -1;
	if (sc->listener_path != NULL && sc->listener_path[0] == '\0') {
		free(sc->listener_path);
		sc->listener_path = NULL;
	}
	if (sc->listener_path != NULL && !oci_path_is_abs(sc->listener_path))
		return jp_fail_at(p, "listenerPath", "must be an absolute path");
	if (sc->listener_path == NULL && uses_notify(sc))
		return jp_fail_at(p, "listenerPath", "required by SCMP_ACT_NOTIFY");
	return 0;
}
