/* The tty guard: a fixed seccomp layer under every container process that refuses the two ioctl
 * requests which push input into a terminal (TIOCSTI, TIOCLINUX), whatever profile an engine
 * hands us. Built with libseccomp in the runtime parent, loaded by the init before the profile's
 * own filter. */
#include "seccomp_internal.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>

static const uint32_t guarded_requests[] = {TIOCSTI, TIOCLINUX};

/* The compat ABIs a process of this machine can switch to: the guard must see their ioctl too
 * (a profile may allow them). Unlisted architectures pass the guard (bad-arch action ALLOW)
 * and meet only the profile, which kills them unless it names them. */
static void add_compat_arches(scmp_filter_ctx ctx)
{
	uint32_t native = seccomp_arch_native();
	uint32_t compat[2] = {0, 0};
	if (native == SCMP_ARCH_X86_64) {
		compat[0] = SCMP_ARCH_X86;
		compat[1] = SCMP_ARCH_X32;
	} else if (native == SCMP_ARCH_AARCH64) {
		compat[0] = SCMP_ARCH_ARM;
	} else if (native == SCMP_ARCH_S390X) {
		compat[0] = SCMP_ARCH_S390;
	}
	for (size_t i = 0; i < 2 && compat[i] != 0; i++)
		seccomp_arch_add(ctx, compat[i]); /* an arch this libseccomp lacks: skipped */
}

static int build_guard(scmp_filter_ctx ctx, struct seccomp_prog *out, struct bw_error *err)
{
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (r < 0)
		return bw_fail(err, -r, "tty guard: seccomp_attr_set");
	add_compat_arches(ctx);
	for (size_t i = 0; i < sizeof(guarded_requests) / sizeof(guarded_requests[0]); i++) {
		/* The kernel reads the request as unsigned int: high bits must not dodge this. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, guarded_requests[i]));
		if (r < 0)
			return bw_fail(err, -r, "tty guard: ioctl rule");
	}
	return seccomp_export_prog(ctx, out, err);
}

int seccomp_tty_guard_for_spec(const struct oci_spec *spec, struct seccomp_prog *out,
			       struct bw_error *err)
{
	memset(out, 0, sizeof(*out));
	const char *v = oci_spec_annotation(spec, SECCOMP_TTY_GUARD_ANNOTATION);
	if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return bw_fail(
		    err, 0,
		    SECCOMP_TTY_GUARD_ANNOTATION ": must be \"true\" or \"false\", not \"%s\"", v);
	if (v != NULL && strcmp(v, "false") == 0)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return bw_fail(err, ENOMEM, "tty guard: seccomp_init");
	int r = build_guard(ctx, out, err);
	seccomp_release(ctx);
	return r;
}
