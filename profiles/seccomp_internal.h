/* Shared between the files of the seccomp part of profiles/: name tables, the libseccomp
 * translation, the ENOSYS stub and the compiled-program cache. Not for other modules. */
#pragma once

#include <stdint.h>

#include "seccomp.h"
#include "sha256.h"

/* Bumped whenever the translation changes what a profile compiles to: old cache files then
 * stop matching. */
#define SECCOMP_COMPILER_REVISION 2

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#define SECCOMP_KNOWN_FLAGS                                                                        \
	(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |    \
	 SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)

enum seccomp_act_kind { SECCOMP_ACT_PLAIN, SECCOMP_ACT_WITH_ERRNO, SECCOMP_ACT_WITH_TRACE };

/* Action name -> libseccomp action, honouring errnoRet. `path` is the JSON path of the
 * object holding the action ("linux.seccomp.syscalls[3]"), `field` its key. */
int seccomp_resolve_action(const char *name, const struct opt_u64 *ret, uint32_t fallback_errno,
			   const char *path, const char *field, const char *ret_field,
			   uint32_t *out, struct bw_error *err);
/* "SCMP_CMP_EQ" -> enum scmp_compare; 0 if unknown. */
int seccomp_resolve_operator(const char *name);
/* "SCMP_ARCH_X86_64" -> libseccomp arch token; 0 if unknown. */
uint32_t seccomp_resolve_arch(const char *name);
/* The OCI name of a libseccomp arch token (static string) or NULL. */
const char *seccomp_arch_oci_name(uint32_t token);

/* Spec flags -> SECCOMP_FILTER_FLAG_* bits, each probed against the running kernel. */
int seccomp_parse_flags(const struct oci_seccomp *sc, unsigned int *flags, struct bw_error *err);
/* The flags handed to seccomp(2) once it is known whether a listener is needed. */
unsigned int seccomp_final_flags(unsigned int flags, bool needs_listener);

/* libseccomp translation + BPF export (+ ENOSYS stub): fills filter, len, needs_listener. */
int seccomp_translate(const struct oci_seccomp *sc, struct seccomp_prog *out, struct bw_error *err);

/* A libseccomp context (scmp_filter_ctx, passed as void * so that this header stays free of
 * <seccomp.h>) exported as a BPF program: fills filter and len. */
int seccomp_export_prog(void *ctx, struct seccomp_prog *out, struct bw_error *err);

/* The cache key: SHA-256 over a canonical serialisation of the profile, the libseccomp
 * version, the machine and SECCOMP_COMPILER_REVISION. */
void seccomp_cache_key(const struct oci_seccomp *sc, uint8_t key[SHA256_DIGEST_LEN]);
/* 0 and *out filled on a valid hit; -1 on a miss or an invalid file (never an error). */
int seccomp_cache_load(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
		       struct seccomp_prog *out);
int seccomp_cache_store(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
			const struct seccomp_prog *prog, struct bw_error *err);

/* Put the ENOSYS stub in front of prog: on each architecture of the filter, a syscall
 * numbered above every syscall the profile names returns ENOSYS. */
int seccomp_enosys_stub(const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
			struct seccomp_prog *prog, struct bw_error *err);
/* Whether libseccomp rewrites socket/IPC syscalls through socketcall(2)/ipc(2) on `token`. */
bool seccomp_arch_multiplexes(uint32_t token);
