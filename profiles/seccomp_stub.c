/* The ENOSYS stub: a few BPF instructions put in front of libseccomp's program. A profile
 * written before a syscall existed refuses it with its default errno (EPERM), and libc only
 * falls back to an older syscall on ENOSYS (clone3 -> clone, fchmodat2 -> fchmodat, ...).
 * So on each architecture, a syscall numbered above the highest one the profile names gets
 * ENOSYS. It never touches an allowed call: every syscall a rule names is at or below it. */
#include "seccomp_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define X32_SYSCALL_BIT 0x40000000u
#define STUB_MAX 255 /* conditional jumps reach at most 255 instructions ahead */

struct stub_arch {
	uint32_t token;
	uint32_t max; /* highest syscall number the profile names here */
	bool has_x32; /* x86_64 block: x32 calls (nr | X32_SYSCALL_BIT) checked too */
	uint32_t x32_max;
	size_t len; /* instructions of this block */
};

/* On arches with socketcall(2) or ipc(2) (x86, s390, ppc...), libseccomp rewrites the socket
 * and SysV IPC syscalls (pseudo-numbers -101.. and -201..) into calls numbered elsewhere. */
bool seccomp_arch_multiplexes(uint32_t token)
{
	return seccomp_syscall_resolve_name_arch(token, "socketcall") >= 0 ||
	       seccomp_syscall_resolve_name_arch(token, "ipc") >= 0;
}

/* Highest number the profile names on `token`; false when there is none, or when some name is
 * a multiplexed pseudo-syscall: it is rewritten to numbers we do not see here, so no
 * threshold would be safe. */
static bool arch_max(const struct oci_seccomp *sc, uint32_t token, uint32_t *max)
{
	int64_t m = -1;
	bool mux = seccomp_arch_multiplexes(token);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		char **names = sc->syscalls[i].names;
		for (size_t k = 0; names != NULL && names[k] != NULL; k++) {
			int nr = seccomp_syscall_resolve_name_arch(token, names[k]);
			if (mux && nr > -10000 && nr < __NR_SCMP_UNDEF)
				return false;
			if (nr > m)
				m = nr;
		}
	}
	*max = (uint32_t)m;
	return m >= 0;
}

static size_t plan(const struct oci_seccomp *sc, const uint32_t *arches, size_t n,
		   struct stub_arch *out)
{
	bool x32_ok = false;
	uint32_t x32_max = 0;
	for (size_t i = 0; i < n; i++)
		if (arches[i] == SCMP_ARCH_X32)
			x32_ok = arch_max(sc, SCMP_ARCH_X32, &x32_max);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct stub_arch a = {.token = arches[i], .len = 4};
		if (a.token == SCMP_ARCH_X32 || !arch_max(sc, a.token, &a.max))
			continue;
		if (a.token == SCMP_ARCH_X86_64) {
			a.has_x32 = x32_ok;
			a.x32_max = x32_max;
			a.len = x32_ok ? 6 : 5;
		}
		out[k++] = a;
	}
	return k;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))

/* Emit one block at f[pos]; `enosys` and `end` are absolute positions. */
static void emit_block(const struct stub_arch *a, struct sock_filter *f, size_t pos, size_t enosys,
		       size_t end)
{
	size_t p = pos;
#define REL(t) ((uint8_t)((t)-p - 1))
	f[p] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	p++;
	f[p] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, a->token, 0, REL(pos + a->len));
	p++;
	f[p] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	p++;
	if (a->token == SCMP_ARCH_X86_64) {
		/* x32 calls share the arch value: they go to the x32 threshold, or, without x32
		 * in the filter, to libseccomp's bad-architecture action. */
		f[p] = JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT,
			    REL(a->has_x32 ? p + 2 : end), 0);
		p++;
	}
	f[p] = JUMP(BPF_JMP | BPF_JGT | BPF_K, a->max, REL(enosys), REL(end));
	p++;
	if (a->has_x32) {
		f[p] = JUMP(BPF_JMP | BPF_JGT | BPF_K, a->x32_max, REL(enosys), REL(end));
		p++;
	}
#undef REL
}

int seccomp_enosys_stub(const struct oci_seccomp *sc, const uint32_t *arches, size_t n_arches,
			struct seccomp_prog *prog, struct bw_error *err)
{
	struct stub_arch a[32];
	size_t n = plan(sc, arches, n_arches < ARRAY_SIZE(a) ? n_arches : ARRAY_SIZE(a), a);
	if (n == 0)
		return 0;
	size_t len = 2; /* the jump over the ENOSYS return, and the return */
	for (size_t i = 0; i < n; i++)
		len += a[i].len;
	if (len > STUB_MAX || prog->len + len > BPF_MAXINSNS)
		return bw_fail(err, 0, "linux.seccomp: the filter is too large (%zu instructions)",
			       prog->len + len);
	struct sock_filter *f = xcalloc(prog->len + len, sizeof(*f));
	size_t pos = 0, enosys = len - 1, end = len;
	for (size_t i = 0; i < n; i++) {
		emit_block(&a[i], f, pos, enosys, end);
		pos += a[i].len;
	}
	f[len - 2] = STMT(BPF_JMP | BPF_JA, 1);
	f[len - 1] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	memcpy(f + len, prog->filter, prog->len * sizeof(*f));
	free(prog->filter);
	prog->filter = f;
	prog->len += len;
	return 0;
}
