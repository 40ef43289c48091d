/* Capability names and plans: pure translation, no root needed. The kernel side
 * (caps_drop_bounding, caps_apply_final) is checked in real containers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "profiles/caps.h"

#define ALL_CAPS ((UINT64_C(1) << 41) - 1)
#define BIT(n) (UINT64_C(1) << (n))

static struct oci_capabilities caps_of(char **b, char **e, char **i, char **p, char **a)
{
	struct oci_capabilities c = {.set = true};
	c.sets[OCI_CAP_BOUNDING] = b;
	c.sets[OCI_CAP_EFFECTIVE] = e;
	c.sets[OCI_CAP_INHERITABLE] = i;
	c.sets[OCI_CAP_PERMITTED] = p;
	c.sets[OCI_CAP_AMBIENT] = a;
	return c;
}

Test(caps, name_with_and_without_prefix)
{
	cr_assert_eq(caps_from_name("CAP_CHOWN"), 0);
	cr_assert_eq(caps_from_name("NET_ADMIN"), 12);
	cr_assert_eq(caps_from_name("CAP_SYS_ADMIN"), 21);
	cr_assert_eq(caps_from_name("CAP_CHECKPOINT_RESTORE"), 40);
}

Test(caps, name_rejects_unknown_lowercase_and_numbers)
{
	cr_assert_eq(caps_from_name("CAP_FOO"), -1);
	cr_assert_eq(caps_from_name("cap_chown"), -1);
	cr_assert_eq(caps_from_name("CAP_chown"), -1);
	cr_assert_eq(caps_from_name("12"), -1);
	cr_assert_eq(caps_from_name("CAP_12"), -1);
	cr_assert_eq(caps_from_name(""), -1);
	cr_assert_eq(caps_from_name("CAP_"), -1);
	cr_assert_eq(caps_from_name("CAP_NET_ADMIN "), -1);
}

Test(caps, to_name_round_trips)
{
	char buf[32];
	cr_assert_str_eq(caps_to_name(12, buf), "CAP_NET_ADMIN");
	for (int c = 0; c <= 40; c++)
		cr_assert_eq(caps_from_name(caps_to_name(c, buf)), c, "cap %d", c);
}

Test(caps, last_cap_matches_procfs)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int v = -1;
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &v), 1);
	fclose(f);
	cr_assert_eq(caps_last_cap(), v > 63 ? 63 : v);
}

Test(caps, plan_translates_all_five_sets)
{
	char *b[] = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL", NULL};
	char *e[] = {"CAP_NET_BIND_SERVICE", NULL};
	char *i[] = {"CAP_NET_BIND_SERVICE", NULL};
	char *p[] = {"CAP_NET_BIND_SERVICE", "CAP_KILL", NULL};
	char *a[] = {"NET_BIND_SERVICE", NULL};
	struct oci_capabilities c = caps_of(b, e, i, p, a);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), 0, "%s", err.msg);
	cr_assert(plan.any);
	cr_assert_eq(plan.sets[OCI_CAP_BOUNDING], BIT(0) | BIT(10) | BIT(5));
	cr_assert_eq(plan.sets[OCI_CAP_EFFECTIVE], BIT(10));
	cr_assert_eq(plan.sets[OCI_CAP_INHERITABLE], BIT(10));
	cr_assert_eq(plan.sets[OCI_CAP_PERMITTED], BIT(10) | BIT(5));
	cr_assert_eq(plan.sets[OCI_CAP_AMBIENT], BIT(10));
}

Test(caps, absent_capabilities_grant_nothing)
{
	struct oci_capabilities c = {.set = false};
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), 0);
	cr_assert_not(plan.any);
	for (int s = 0; s < OCI_CAP_NSETS; s++)
		cr_assert_eq(plan.sets[s], 0);
}

Test(caps, unknown_name_names_set_and_index)
{
	char *b[] = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO", NULL};
	struct oci_capabilities c = caps_of(b, NULL, NULL, NULL, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), -1);
	cr_assert_str_eq(err.msg,
			 "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"");
}

Test(caps, name_above_kernel_last_cap_is_dropped)
{
	char *e[] = {"CAP_CHECKPOINT_RESTORE", "CAP_CHOWN", NULL};
	struct oci_capabilities c = caps_of(e, e, NULL, e, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 39, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(plan.sets[OCI_CAP_EFFECTIVE], BIT(0));
	cr_assert_eq(plan.sets[OCI_CAP_BOUNDING], BIT(0));
}

Test(caps, cap_gone_from_runtime_bounding_is_fine_in_bounding)
{
	char *b[] = {"CAP_SYS_RESOURCE", "CAP_CHOWN", NULL};
	struct oci_capabilities c = caps_of(b, NULL, NULL, NULL, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS & ~BIT(24), 40, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(plan.sets[OCI_CAP_BOUNDING], BIT(0));
}

Test(caps, cap_gone_from_runtime_bounding_cannot_be_granted)
{
	char *e[] = {"CAP_SYS_RESOURCE", NULL};
	struct oci_capabilities c = caps_of(e, e, NULL, e, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS & ~BIT(24), 40, &plan, &err), -1);
	cr_assert_str_eq(err.msg, "process.capabilities.effective: CAP_SYS_RESOURCE is not in the "
				  "runtime's bounding set");
}

Test(caps, ambient_without_inheritable_is_skipped_like_runc_spec)
{
	/* `runc spec` lists ambient capabilities that are not inheritable: the kernel would not
	 * raise them, so they are left out (with a warning) and the config runs. */
	char *p[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
	char *i[] = {"CAP_KILL", NULL};
	struct oci_capabilities c = caps_of(p, p, i, p, p);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(plan.sets[OCI_CAP_AMBIENT], BIT(5));
	cr_assert_eq(plan.sets[OCI_CAP_PERMITTED], BIT(5) | BIT(10) | BIT(29));
}

Test(caps, ambient_without_permitted_is_skipped)
{
	char *i[] = {"CAP_NET_BIND_SERVICE", NULL};
	struct oci_capabilities c = caps_of(i, NULL, i, NULL, i);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(plan.sets[OCI_CAP_AMBIENT], 0);
	cr_assert_eq(plan.sets[OCI_CAP_INHERITABLE], BIT(10));
}

Test(caps, effective_needs_permitted)
{
	char *e[] = {"CAP_KILL", NULL};
	struct oci_capabilities c = caps_of(e, e, NULL, NULL, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_build(&c, ALL_CAPS, 40, &plan, &err), -1);
	cr_assert_str_eq(err.msg, "process.capabilities.effective: CAP_KILL is not in "
				  "process.capabilities.permitted");
}

Test(caps, plan_from_spec_uses_own_bounding_set)
{
	/* Whatever this host's bounding set lacks must be refused in effective. */
	uint64_t own = caps_current_bounding();
	int missing = -1;
	for (int c = 0; c <= caps_last_cap() && missing < 0; c++)
		if (!(own & BIT(c)))
			missing = c;
	if (missing < 0)
		cr_skip_test("this host's bounding set is full");
	char name[32];
	char *e[] = {(char *)caps_to_name(missing, name), NULL};
	struct oci_capabilities c = caps_of(NULL, e, NULL, e, NULL);
	struct caps_plan plan;
	struct bw_error err = {0};
	cr_assert_eq(caps_plan_from_spec(&c, &plan, &err), -1);
	cr_assert(strstr(err.msg, "is not in the runtime's bounding set") != NULL, "%s", err.msg);
}

Test(caps, seccomp_without_no_new_privs_holds_sys_admin_only_when_not_granted)
{
	/* seccomp(2) without no_new_privs needs CAP_SYS_ADMIN: held until the filter is in. */
	struct caps_plan plain = {.any = true};
	plain.sets[OCI_CAP_EFFECTIVE] = plain.sets[OCI_CAP_PERMITTED] = BIT(0);
	cr_assert_eq(caps_hold_for_seccomp(&plain, false), BIT(21));
	cr_assert_eq(caps_hold_for_seccomp(&plain, true), 0);
	struct caps_plan admin = plain;
	admin.sets[OCI_CAP_EFFECTIVE] |= BIT(21);
	admin.sets[OCI_CAP_PERMITTED] |= BIT(21);
	cr_assert_eq(caps_hold_for_seccomp(&admin, false), 0);
}
