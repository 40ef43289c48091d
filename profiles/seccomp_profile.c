/* Whole-profile helpers on struct oci_seccomp: free, complain mode, and the JSON form that
 * `bulwark spec` and `sandbox` embed in a config.json. */
#include "seccomp_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "common/json.h"
#include "common/util.h"

void seccomp_profile_free(struct oci_seccomp *sc)
{
	oci_seccomp_free(sc);
}

static bool refusing_action(const char *a)
{
	static const char *const refusing[] = {"SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
					       "SCMP_ACT_TRAP"};
	for (size_t i = 0; a != NULL && i < ARRAY_SIZE(refusing); i++)
		if (strcmp(a, refusing[i]) == 0)
			return true;
	return false;
}

static void to_log(char **action, struct opt_u64 *ret)
{
	if (!refusing_action(*action))
		return;
	free(*action);
	*action = xstrdup("SCMP_ACT_LOG");
	*ret = (struct opt_u64){0}; /* SCMP_ACT_LOG takes no return value */
}

void seccomp_profile_complain(struct oci_seccomp *sc)
{
	to_log(&sc->default_action, &sc->default_errno_ret);
	for (size_t i = 0; i < sc->n_syscalls; i++)
		to_log(&sc->syscalls[i].action, &sc->syscalls[i].errno_ret);
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_u64(yajl_gen g, const char *key, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);
	gen_str(g, key);
	yajl_gen_number(g, num, (size_t)n);
}

static void gen_strv(yajl_gen g, const char *key, char *const *v)
{
	gen_str(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v[i] != NULL; i++)
		gen_str(g, v[i]);
	yajl_gen_array_close(g);
}

static void gen_syscall(yajl_gen g, const struct oci_seccomp_syscall *s)
{
	yajl_gen_map_open(g);
	if (s->names != NULL)
		gen_strv(g, "names", s->names);
	gen_str(g, "action");
	gen_str(g, s->action != NULL ? s->action : "");
	if (s->errno_ret.set)
		gen_u64(g, "errnoRet", s->errno_ret.v);
	if (s->n_args > 0) {
		gen_str(g, "args");
		yajl_gen_array_open(g);
		for (size_t j = 0; j < s->n_args; j++) {
			yajl_gen_map_open(g);
			gen_u64(g, "index", s->args[j].index);
			gen_u64(g, "value", s->args[j].value);
			gen_u64(g, "valueTwo", s->args[j].value_two);
			gen_str(g, "op");
			gen_str(g, s->args[j].op != NULL ? s->args[j].op : "");
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

void seccomp_profile_gen(yajl_gen g, const struct oci_seccomp *sc)
{
	yajl_gen_map_open(g);
	gen_str(g, "defaultAction");
	gen_str(g, sc->default_action != NULL ? sc->default_action : "");
	if (sc->default_errno_ret.set)
		gen_u64(g, "defaultErrnoRet", sc->default_errno_ret.v);
	if (sc->architectures != NULL)
		gen_strv(g, "architectures", sc->architectures);
	if (sc->flags != NULL)
		gen_strv(g, "flags", sc->flags);
	if (sc->listener_path != NULL) {
		gen_str(g, "listenerPath");
		gen_str(g, sc->listener_path);
	}
	if (sc->listener_metadata != NULL) {
		gen_str(g, "listenerMetadata");
		gen_str(g, sc->listener_metadata);
	}
	gen_str(g, "syscalls");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < sc->n_syscalls; i++)
		gen_syscall(g, &sc->syscalls[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

char *seccomp_profile_to_json(const struct oci_seccomp *sc)
{
	yajl_gen g = json_gen_new(false);
	seccomp_profile_gen(g, sc);
	return json_take(g, false, NULL);
}

/* The system calls that can give a file a set-user-ID or set-group-ID bit, and which argument
 * holds the mode (numbered from 0, as in the syscall's own signature, not libc's wrapper):
 *   chmod(path, mode)                    fchmod(fd, mode)
 *   fchmodat(dirfd, path, mode)          fchmodat2(dirfd, path, mode, flags)
 *   creat(path, mode)                    open(path, flags, mode)
 *   openat(dirfd, path, flags, mode)     mknod(path, mode, dev)
 *   mknodat(dirfd, path, mode, dev)      mkdir(path, mode)
 *   mkdirat(dirfd, path, mode)
 * open/openat are checked whatever the flags: the mode counts with O_CREAT and O_TMPFILE, and
 * libc passes 0 otherwise. mkdir(at) is here although the kernel drops S_ISUID/S_ISGID from
 * its mode today: a refusal does not depend on that. */
static const struct {
	const char *name;
	uint32_t mode_arg;
} setid_calls[] = {{"chmod", 1},   {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2},
		   {"creat", 1},   {"open", 2},	  {"openat", 3},   {"mknod", 1},
		   {"mknodat", 2}, {"mkdir", 1},  {"mkdirat", 2}};

#define SETID_BITS 06000u

/* Take name out of every unconditional allow entry; true if it was in one. */
static bool take_unconditional_allow(struct oci_seccomp *sc, const char *name)
{
	bool found = false;
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct oci_seccomp_syscall *s = &sc->syscalls[i];
		if (s->n_args != 0 || s->action == NULL || strcmp(s->action, "SCMP_ACT_ALLOW") != 0)
			continue;
		size_t o = 0;
		for (size_t j = 0; s->names != NULL && s->names[j] != NULL; j++) {
			if (strcmp(s->names[j], name) == 0) {
				free(s->names[j]);
				found = true;
			} else {
				s->names[o++] = s->names[j];
			}
		}
		if (s->names != NULL)
			s->names[o] = NULL;
	}
	return found;
}

static struct oci_seccomp_syscall *add_entry(struct oci_seccomp *sc, const char *name,
					     const char *action)
{
	sc->syscalls = xrealloc(sc->syscalls, (sc->n_syscalls + 1) * sizeof(*sc->syscalls));
	struct oci_seccomp_syscall *s = &sc->syscalls[sc->n_syscalls++];
	memset(s, 0, sizeof(*s));
	strv_push(&s->names, name);
	s->action = xstrdup(action);
	return s;
}

void seccomp_profile_bound_fallocate(struct oci_seccomp *sc)
{
	static const uint64_t modes[] = {0, 0x01 | 0x02 /* KEEP_SIZE | PUNCH_HOLE */};
	if (!take_unconditional_allow(sc, "fallocate"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct oci_seccomp_syscall *s = add_entry(sc, "fallocate", "SCMP_ACT_ALLOW");
		s->args = xcalloc(1, sizeof(*s->args));
		s->n_args = 1;
		s->args[0] = (struct oci_seccomp_arg){
		    .index = 1, .value = modes[i], .value_two = 0, .op = xstrdup("SCMP_CMP_EQ")};
	}
}

void seccomp_profile_forbid_setid_files(struct oci_seccomp *sc)
{
	for (size_t i = 0; i < ARRAY_SIZE(setid_calls); i++) {
		if (!take_unconditional_allow(sc, setid_calls[i].name))
			continue;
		struct oci_seccomp_syscall *s =
		    add_entry(sc, setid_calls[i].name, "SCMP_ACT_ALLOW");
		s->args = xcalloc(1, sizeof(*s->args));
		s->n_args = 1;
		s->args[0] = (struct oci_seccomp_arg){.index = setid_calls[i].mode_arg,
						      .value = SETID_BITS,
						      .value_two = 0,
						      .op = xstrdup("SCMP_CMP_MASKED_EQ")};
	}
	/* openat2 carries its mode in a struct that a filter cannot read: ENOSYS sends callers
	 * back to openat, which the rules above see. */
	if (take_unconditional_allow(sc, "openat2")) {
		struct oci_seccomp_syscall *s = add_entry(sc, "openat2", "SCMP_ACT_ERRNO");
		s->errno_ret = (struct opt_u64){.set = true, .v = ENOSYS};
	}
}
