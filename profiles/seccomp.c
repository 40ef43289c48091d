/* seccomp entry points: the OCI name tables (actions, operators, architectures, flags),
 * and compile = flags + cache lookup + translation + cache store. */
#include "seccomp_internal.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

static const struct {
	const char *name;
	uint32_t action; /* the return value bits are filled in by seccomp_resolve_action */
	enum seccomp_act_kind kind;
} actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), SECCOMP_ACT_WITH_ERRNO},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), SECCOMP_ACT_WITH_TRACE},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, SECCOMP_ACT_PLAIN},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, SECCOMP_ACT_PLAIN},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned int flag;
} flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* libseccomp's names, without the SCMP_ARCH_ prefix, lower case. */
static const char *const arches[] = {
    "x86",	 "x86_64", "x32",      "arm",	      "aarch64", "mips",  "mips64",
    "mips64n32", "mipsel", "mipsel64", "mipsel64n32", "ppc",	 "ppc64", "ppc64le",
    "s390",	 "s390x",  "parisc",   "parisc64",    "riscv64",
};

int seccomp_resolve_action(const char *name, const struct opt_u64 *ret, uint32_t fallback_errno,
			   const char *path, const char *field, const char *ret_field,
			   uint32_t *out, struct bw_error *err)
{
	size_t i = 0;
	while (i < ARRAY_SIZE(actions) && (name == NULL || strcmp(actions[i].name, name) != 0))
		i++;
	if (i == ARRAY_SIZE(actions))
		return bw_fail(err, 0, "%s.%s: unknown action \"%s\"", path, field,
			       name != NULL ? name : "");
	enum seccomp_act_kind kind = actions[i].kind;
	if (kind == SECCOMP_ACT_PLAIN) {
		/* runc and crun ignore it: so do we, aloud (it widens nothing). */
		if (ret != NULL && ret->set)
			log_warn("%s.%s: ignored: %s takes no return value", path, ret_field, name);
		*out = actions[i].action;
		return 0;
	}
	uint64_t v = ret != NULL && ret->set ? ret->v : fallback_errno;
	/* The kernel caps an errno at MAX_ERRNO; a trace value has the 16 data bits. */
	uint64_t max = kind == SECCOMP_ACT_WITH_ERRNO ? 4095 : 0xffff;
	if (v > max)
		return bw_fail(err, 0, "%s.%s: %llu is out of range (0-%llu)", path, ret_field,
			       (unsigned long long)v, (unsigned long long)max);
	*out = kind == SECCOMP_ACT_WITH_ERRNO ? SCMP_ACT_ERRNO((uint16_t)v)
					      : SCMP_ACT_TRACE((uint16_t)v);
	return 0;
}

int seccomp_resolve_operator(const char *name)
{
	for (size_t i = 0; name != NULL && i < ARRAY_SIZE(operators); i++)
		if (strcmp(operators[i].name, name) == 0)
			return (int)operators[i].op;
	return 0;
}

uint32_t seccomp_resolve_arch(const char *name)
{
	char lower[32];
	if (name == NULL || !str_has_prefix(name, "SCMP_ARCH_") ||
	    strlen(name) - 10 >= sizeof(lower))
		return 0;
	size_t n = 0;
	for (const char *p = name + 10; *p != '\0'; p++) {
		if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return 0;
		lower[n++] = (char)tolower((unsigned char)*p);
	}
	lower[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (strcmp(arches[i], lower) == 0)
			return seccomp_arch_resolve_name(lower);
	return 0;
}

const char *seccomp_arch_oci_name(uint32_t token)
{
	static char names[ARRAY_SIZE(arches)][32];
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
		if (seccomp_arch_resolve_name(arches[i]) != token)
			continue;
		if (names[i][0] == '\0') {
			int n = snprintf(names[i], sizeof(names[i]), "SCMP_ARCH_%s", arches[i]);
			for (int j = 10; j < n; j++)
				names[i][j] = (char)toupper((unsigned char)names[i][j]);
		}
		return names[i];
	}
	return NULL;
}

const char *const *seccomp_action_names(void)
{
	static const char *names[ARRAY_SIZE(actions) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		names[i] = actions[i].name;
	return names;
}

const char *const *seccomp_operator_names(void)
{
	static const char *names[ARRAY_SIZE(operators) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(operators); i++)
		names[i] = operators[i].name;
	return names;
}

const char *const *seccomp_flag_names(void)
{
	static const char *names[ARRAY_SIZE(flags) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		names[i] = flags[i].name;
	return names;
}

char **seccomp_arch_names(void)
{
	char **v = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
		const char *n = seccomp_arch_oci_name(seccomp_arch_resolve_name(arches[i]));
		if (n != NULL)
			strv_push(&v, n);
	}
	return v;
}

/* The kernel checks flags before it reads the program, so a NULL program answers EFAULT for
 * supported flags and EINVAL for unknown ones, without installing anything. */
static int probe_flag(unsigned int flag)
{
	unsigned int f = flag;
	if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, NULL);
	if (r < 0 && errno == EFAULT)
		return 0;
	return r < 0 ? -errno : -EINVAL;
}

int seccomp_flag_supported(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (strcmp(flags[i].name, name) == 0)
			return probe_flag(flags[i].flag) == 0;
	return -1;
}

int seccomp_parse_flags(const struct oci_seccomp *sc, unsigned int *out, struct bw_error *err)
{
	unsigned int f = 0;
	for (size_t i = 0; sc->flags != NULL && sc->flags[i] != NULL; i++) {
		size_t j = 0;
		while (j < ARRAY_SIZE(flags) && strcmp(flags[j].name, sc->flags[i]) != 0)
			j++;
		if (j == ARRAY_SIZE(flags))
			return bw_fail(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
				       sc->flags[i]);
		int r = probe_flag(flags[j].flag);
		if (r < 0)
			return bw_fail(err, -r,
				       "linux.seccomp.flags[%zu]: %s is not supported by "
				       "the running kernel",
				       i, sc->flags[i]);
		f |= flags[j].flag;
	}
	*out = f;
	return 0;
}

unsigned int seccomp_final_flags(unsigned int f, bool needs_listener)
{
	if (needs_listener && (f & SECCOMP_FILTER_FLAG_TSYNC))
		f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH; /* the kernel refuses TSYNC + listener without
						       */
	if (!needs_listener && (f & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
		log_debug("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no "
			  "SCMP_ACT_NOTIFY rule");
		f &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	return f;
}

static void store_in_cache(const char *dir, const uint8_t *key, const struct seccomp_prog *p)
{
	struct bw_error err = {0};
	if (seccomp_cache_store(dir, key, p, &err) < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(&err, text, sizeof(text));
		log_warn("seccomp cache not written: %s", text);
	}
}

/* A listenerPath gets the listener even without a SCMP_ACT_NOTIFY rule (crun does so): an
 * agent waiting on that socket is never left hanging. The filter then goes in before `create`
 * returns, like any with a listener; an agent that cannot be reached is only a warning then
 * (runc never connects without a rule). Not part of the cached program. */
static void listener_for_path(const struct oci_seccomp *sc, unsigned int f, struct seccomp_prog *p)
{
	if (sc->listener_path == NULL || p->needs_listener)
		return;
	log_debug("linux.seccomp.listenerPath without a SCMP_ACT_NOTIFY rule: the listener is "
		  "sent all the same, and will never be notified");
	p->needs_listener = true;
	p->flags = seccomp_final_flags(f, true);
}

int seccomp_compile_cached(const struct oci_seccomp *sc, const char *cache_dir,
			   struct seccomp_prog *out, bool *from_cache, struct bw_error *err)
{
	struct seccomp_prog p = {0};
	unsigned int f;
	uint8_t key[SHA256_DIGEST_LEN];
	if (from_cache != NULL)
		*from_cache = false;
	if (sc == NULL)
		return bw_fail(err, EINVAL, "linux.seccomp: no profile to compile");
	if (seccomp_parse_flags(sc, &f, err) < 0)
		return -1;
	if (cache_dir != NULL) {
		seccomp_cache_key(sc, key);
		if (seccomp_cache_load(cache_dir, key, &p) == 0 &&
		    p.flags == seccomp_final_flags(f, p.needs_listener)) {
			if (from_cache != NULL)
				*from_cache = true;
			p.has_notify = p.needs_listener;
			listener_for_path(sc, f, &p);
			*out = p;
			return 0;
		}
		seccomp_prog_free(&p);
	}
	if (seccomp_translate(sc, &p, err) < 0)
		return -1;
	p.flags = seccomp_final_flags(f, p.needs_listener);
	if (cache_dir != NULL)
		store_in_cache(cache_dir, key, &p);
	p.has_notify = p.needs_listener;
	listener_for_path(sc, f, &p);
	*out = p;
	return 0;
}

int seccomp_compile(const struct oci_seccomp *sc, const char *cache_dir, struct seccomp_prog *out,
		    struct bw_error *err)
{
	return seccomp_compile_cached(sc, cache_dir, out, NULL, err);
}

void seccomp_prog_free(struct seccomp_prog *prog)
{
	if (prog == NULL)
		return;
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}
