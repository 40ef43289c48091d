/* seccomp: an OCI linux.seccomp object compiled with libseccomp in the runtime parent into a
 * BPF program (cached by content hash under the state root), loaded by the init last. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "oci/spec.h"

struct seccomp_prog {
	struct sock_filter *filter;
	size_t len;	     /* number of instructions */
	unsigned int flags;  /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
	bool needs_listener; /* some rule uses SCMP_ACT_NOTIFY, or listenerPath is set */
	bool has_notify;     /* some rule uses SCMP_ACT_NOTIFY */
};

/* Compile (or load from cache_dir when non-NULL and a compiled copy exists). Errors name the
 * JSON path ("linux.seccomp.syscalls[3].action: unknown action \"X\""). Syscall names this
 * libseccomp does not know are skipped (debug log). With an SCMP_ACT_ERRNO default action,
 * syscalls numbered above every syscall the profile names fail with ENOSYS, so libc falls
 * back (see docs/seccomp.md). cache_dir is created (0700) when missing; a cache that cannot
 * be written only costs a warning. */
int seccomp_compile(const struct oci_seccomp *sc, const char *cache_dir, struct seccomp_prog *out,
		    struct bw_error *err);
/* The same, telling whether the program came from the cache (tests, bench). */
int seccomp_compile_cached(const struct oci_seccomp *sc, const char *cache_dir,
			   struct seccomp_prog *out, bool *from_cache, struct bw_error *err);
/* In the init: seccomp(SECCOMP_SET_MODE_FILTER). If the program needs a listener,
 * *listener_fd receives it (O_CLOEXEC; else -1). The caller sets no_new_privs first unless
 * it keeps CAP_SYS_ADMIN. */
int seccomp_prog_load(const struct seccomp_prog *prog, int *listener_fd, struct bw_error *err);
void seccomp_prog_free(struct seccomp_prog *prog);

/* The built-in hardened default profile as an OCI seccomp object (bulwark spec, sandbox).
 * Free with seccomp_profile_free (every field is malloc'd, as oci_spec_free expects). */
int seccomp_default_profile(struct oci_seccomp **out, struct bw_error *err);
/* Complain mode, for profiling a workload: every refusing action (ERRNO, KILL*, TRAP, and the
 * default action) becomes SCMP_ACT_LOG, in place. TRACE and NOTIFY, which hand the decision
 * to another process, stay. */
void seccomp_profile_complain(struct oci_seccomp *sc);
void seccomp_profile_free(struct oci_seccomp *sc);
/* For sandboxes that write host directories in place (an rw workspace): no file may be given
 * a set-user-ID or set-group-ID bit (chmod family, creating opens, mknod, mkdir), so untrusted code
 * cannot leave a setuid program owned by the directory's owner on the host. Rewrites the
 * unconditional allow of those calls into "allow when the mode has no S_ISUID/S_ISGID" (the
 * rest falls to the default action), and openat2 into ENOSYS. In place. */
void seccomp_profile_forbid_setid_files(struct oci_seccomp *sc);
/* fallocate only in modes RLIMIT_FSIZE bounds (0) or that free space (punch hole): with
 * FALLOC_FL_KEEP_SIZE a file's blocks grow past its size, which the limit does not see.
 * Other modes get the profile's default action. */
void seccomp_profile_bound_fallocate(struct oci_seccomp *sc);
/* The tty guard: a fixed second filter, stacked under whatever linux.seccomp says (or alone
 * without one), that refuses ioctl TIOCSTI and TIOCLINUX with EPERM on the native ABI and its
 * compat ABIs, comparing the request's low 32 bits as the kernel reads it. Everything else it
 * allows, so the profile alone decides the rest. The annotation run.bulwark.tty-guard=false
 * (SECCOMP_TTY_GUARD_ANNOTATION) opts out: *out is then left empty (filter NULL). Errors on
 * any other value than "true"/"false". */
#define SECCOMP_TTY_GUARD_ANNOTATION "run.bulwark.tty-guard"
int seccomp_tty_guard_for_spec(const struct oci_spec *spec, struct seccomp_prog *out,
			       struct bw_error *err);

/* A profile as an OCI JSON object: into a generator, as the value of the member it is at
 * (specgen embeds it without a JSON round trip), or as malloc'd text. */
struct yajl_gen_t;
void seccomp_profile_gen(struct yajl_gen_t *g, const struct oci_seccomp *sc);
char *seccomp_profile_to_json(const struct oci_seccomp *sc);

/* What this build understands (NULL-terminated; for `bulwark features`). */
const char *const *seccomp_action_names(void);
const char *const *seccomp_operator_names(void);
const char *const *seccomp_flag_names(void);
/* Architectures this libseccomp knows, as "SCMP_ARCH_X86_64"...; malloc'd strv. */
char **seccomp_arch_names(void);
/* Whether the running kernel accepts a SECCOMP_FILTER_FLAG_* name: 1 yes, 0 no, -1 unknown
 * name. */
int seccomp_flag_supported(const char *name);
