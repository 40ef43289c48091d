/* seccomp: SHA-256 vectors, OCI -> libseccomp translation and its error texts, splitting and
 * splitting of same-argument conditions, the ENOSYS stub, the cache, and the default profile.
 * Filters are loaded in forked children under no_new_privs, so no root is needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "common/util.h"
#include "profiles/seccomp_internal.h"

/* --- building profiles ------------------------------------------------------------------ */

static struct oci_seccomp *profile(const char *default_action)
{
	struct oci_seccomp *sc = xcalloc(1, sizeof(*sc));
	sc->default_action = xstrdup(default_action);
	return sc;
}

static struct oci_seccomp_syscall *rule(struct oci_seccomp *sc, const char *action,
					const char *name)
{
	sc->syscalls = xrealloc(sc->syscalls, (sc->n_syscalls + 1) * sizeof(*sc->syscalls));
	struct oci_seccomp_syscall *s = &sc->syscalls[sc->n_syscalls++];
	memset(s, 0, sizeof(*s));
	s->action = xstrdup(action);
	strv_push(&s->names, name);
	return s;
}

static void arg(struct oci_seccomp_syscall *s, unsigned int index, const char *op, uint64_t v,
		uint64_t v2)
{
	s->args = xrealloc(s->args, (s->n_args + 1) * sizeof(*s->args));
	s->args[s->n_args++] = (struct oci_seccomp_arg){index, v, v2, xstrdup(op)};
}

static void set_errno_ret(struct oci_seccomp_syscall *s, uint64_t v)
{
	s->errno_ret = (struct opt_u64){.set = true, .v = v};
}

static int compile_err(struct oci_seccomp *sc, struct bw_error *err)
{
	struct seccomp_prog p = {0};
	int r = seccomp_compile(sc, NULL, &p, err);
	seccomp_prog_free(&p);
	return r;
}

/* Run fn in a child under the filter; its return value is the child's exit status. */
static int run_filtered(const struct seccomp_prog *p, int (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int lfd;
		struct bw_error err = {0};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_prog_load(p, &lfd, &err) < 0)
			_exit(250);
		/* exit_group directly: sanitizer builds hook _exit to run checks that need
		 * syscalls the filter under test may refuse. */
		syscall(SYS_exit_group, fn());
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

/* --- SHA-256 ------------------------------------------------------------------------------ */

static void check_sha(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[65];
	sha256(data, len, d);
	sha256_hex(d, hex);
	cr_assert_str_eq(hex, want);
}

Test(sha256, fips_180_vectors)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	check_sha(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m2 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
			 "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	check_sha(m2, strlen(m2),
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, million_a_in_odd_chunks)
{
	struct sha256_ctx c;
	char a[997];
	uint8_t d[SHA256_DIGEST_LEN];
	char hex[65];
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	size_t left = 1000000;
	while (left > 0) {
		size_t n = left < sizeof(a) ? left : sizeof(a);
		sha256_update(&c, a, n);
		left -= n;
	}
	sha256_final(&c, d);
	sha256_hex(d, hex);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* --- translation -------------------------------------------------------------------------- */

static uint32_t act(const char *name, bool with_ret, uint64_t ret)
{
	struct opt_u64 r = {.set = with_ret, .v = ret};
	struct bw_error err = {0};
	uint32_t out = 0xdeadbeef;
	cr_assert_eq(seccomp_resolve_action(name, &r, 42, "p", "action", "errnoRet", &out, &err), 0,
		     "%s: %s", name, err.msg);
	return out;
}

Test(translate, every_action)
{
	cr_assert_eq(act("SCMP_ACT_ALLOW", false, 0), SCMP_ACT_ALLOW);
	cr_assert_eq(act("SCMP_ACT_ERRNO", true, 13), SCMP_ACT_ERRNO(13));
	cr_assert_eq(act("SCMP_ACT_ERRNO", false, 0), SCMP_ACT_ERRNO(42)); /* the fallback */
	cr_assert_eq(act("SCMP_ACT_KILL", false, 0), SCMP_ACT_KILL_THREAD);
	cr_assert_eq(act("SCMP_ACT_KILL_THREAD", false, 0), SCMP_ACT_KILL_THREAD);
	cr_assert_eq(act("SCMP_ACT_KILL_PROCESS", false, 0), SCMP_ACT_KILL_PROCESS);
	cr_assert_eq(act("SCMP_ACT_TRAP", false, 0), SCMP_ACT_TRAP);
	cr_assert_eq(act("SCMP_ACT_TRACE", true, 7), SCMP_ACT_TRACE(7));
	cr_assert_eq(act("SCMP_ACT_LOG", false, 0), SCMP_ACT_LOG);
	cr_assert_eq(act("SCMP_ACT_NOTIFY", false, 0), SCMP_ACT_NOTIFY);
}

Test(translate, every_operator)
{
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_NE"), SCMP_CMP_NE);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_LT"), SCMP_CMP_LT);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_LE"), SCMP_CMP_LE);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_EQ"), SCMP_CMP_EQ);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_GE"), SCMP_CMP_GE);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_GT"), SCMP_CMP_GT);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_MASKED_EQ"), SCMP_CMP_MASKED_EQ);
	cr_assert_eq(seccomp_resolve_operator("SCMP_CMP_XX"), 0);
}

Test(translate, architectures)
{
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_X86_64"), SCMP_ARCH_X86_64);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_X86"), SCMP_ARCH_X86);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_X32"), SCMP_ARCH_X32);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_AARCH64"), SCMP_ARCH_AARCH64);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_PPC64LE"), SCMP_ARCH_PPC64LE);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_S390X"), SCMP_ARCH_S390X);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_RISCV64"), SCMP_ARCH_RISCV64);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_x86_64"), 0);
	cr_assert_eq(seccomp_resolve_arch("x86_64"), 0);
	cr_assert_eq(seccomp_resolve_arch("SCMP_ARCH_VAX"), 0);
	cr_assert_str_eq(seccomp_arch_oci_name(SCMP_ARCH_X86_64), "SCMP_ARCH_X86_64");
}

Test(translate, unknown_action_names_the_path)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	rule(sc, "SCMP_ACT_ALLOW", "read");
	rule(sc, "SCMP_ACT_ALLOW", "write");
	rule(sc, "SCMP_ACT_ALLOW", "close");
	rule(sc, "X", "getpid");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg, "linux.seccomp.syscalls[3].action: unknown action \"X\"");
	seccomp_profile_free(sc);
}

Test(translate, unknown_default_action)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_NOPE");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
	seccomp_profile_free(sc);
}

Test(translate, unknown_operator_names_the_path)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ALLOW", "read");
	arg(s, 0, "SCMP_CMP_EQ", 1, 0);
	arg(s, 1, "SCMP_CMP_ALMOST", 1, 0);
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(
	    err.msg, "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_ALMOST\"");
	seccomp_profile_free(sc);
}

Test(translate, arg_index_out_of_range)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	arg(rule(sc, "SCMP_ACT_ALLOW", "read"), 6, "SCMP_CMP_EQ", 1, 0);
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg,
			 "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");
	seccomp_profile_free(sc);
}

Test(translate, unknown_arch_names_the_path)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	strv_push(&sc->architectures, "SCMP_ARCH_X86_64");
	strv_push(&sc->architectures, "SCMP_ARCH_Z80");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg,
			 "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");
	seccomp_profile_free(sc);
}

Test(translate, unknown_flag_names_the_path)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	strv_push(&sc->flags, "SECCOMP_FILTER_FLAG_LOG");
	strv_push(&sc->flags, "SECCOMP_FILTER_FLAG_FAST");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg,
			 "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
	seccomp_profile_free(sc);
}

/* runc and crun ignore errnoRet on an action without a return value: accepted (a warning). */
Test(translate, errno_ret_ignored_outside_errno_and_trace)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	sc->default_errno_ret = (struct opt_u64){.set = true, .v = 6};
	set_errno_ret(rule(sc, "SCMP_ACT_KILL", "getpgid"), 5);
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), 0, "%s", err.msg);
	seccomp_profile_free(sc);
}

Test(translate, errno_ret_out_of_range)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	set_errno_ret(rule(sc, "SCMP_ACT_ERRNO", "read"), 70000);
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert_str_eq(err.msg,
			 "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range (0-4095)");
	seccomp_profile_free(sc);
}

Test(translate, notify_cannot_be_default)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_NOTIFY");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), -1);
	cr_assert(strstr(err.msg, "SCMP_ACT_NOTIFY cannot be the default action") != NULL);
	seccomp_profile_free(sc);
}

Test(translate, unknown_syscall_is_skipped)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	rule(sc, "SCMP_ACT_ERRNO", "no_such_syscall_at_all");
	rule(sc, "SCMP_ACT_ERRNO", "getppid");
	struct bw_error err = {0};
	cr_assert_eq(compile_err(sc, &err), 0, "%s", err.msg);
	seccomp_profile_free(sc);
}

Test(translate, notify_rule_needs_listener)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	rule(sc, "SCMP_ACT_NOTIFY", "getppid");
	strv_push(&sc->flags, "SECCOMP_FILTER_FLAG_TSYNC");
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_compile(sc, NULL, &p, &err), 0, "%s", err.msg);
	cr_assert(p.needs_listener);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

Test(translate, wait_killable_without_notify_is_dropped)
{
	if (seccomp_flag_supported("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") != 1)
		cr_skip_test("kernel without WAIT_KILLABLE_RECV");
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	strv_push(&sc->flags, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
	strv_push(&sc->flags, "SECCOMP_FILTER_FLAG_LOG");
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_compile(sc, NULL, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(p.flags, SECCOMP_FILTER_FLAG_LOG);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* --- behaviour of compiled filters (forked child, no_new_privs) -------------------------- */

static int call_getpgid_0x12(void)
{
	return errno_of(syscall(SYS_getpgid, 0x12));
}

static int call_getpgid_0x13(void)
{
	return errno_of(syscall(SYS_getpgid, 0x13));
}

static int call_getpgid_0(void)
{
	return errno_of(syscall(SYS_getpgid, 0));
}

static int call_getpgid_500(void)
{
	return errno_of(syscall(SYS_getpgid, 500));
}

static struct seccomp_prog compiled(struct oci_seccomp *sc)
{
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_compile(sc, NULL, &p, &err), 0, "%s", err.msg);
	return p;
}

Test(behaviour, errno_ret_and_masked_eq)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ERRNO", "getpgid");
	set_errno_ret(s, 77);
	arg(s, 0, "SCMP_CMP_MASKED_EQ", 0xf0, 0x10); /* value = mask, valueTwo = datum */
	struct seccomp_prog p = compiled(sc);
	cr_assert_eq(run_filtered(&p, call_getpgid_0x12), 77);
	cr_assert_neq(run_filtered(&p, call_getpgid_0), 77);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* runc's seccomp.bats case: two equalities on one argument match either value (runc and crun
 * make each condition a rule of its own), a third value neither. */
Test(behaviour, two_equalities_on_one_argument_match_either)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ERRNO", "getpgid");
	set_errno_ret(s, 77);
	arg(s, 0, "SCMP_CMP_EQ", 0x12, 0);
	arg(s, 0, "SCMP_CMP_EQ", 0x13, 0);
	struct seccomp_prog p = compiled(sc);
	cr_assert_eq(run_filtered(&p, call_getpgid_0x12), 77);
	cr_assert_eq(run_filtered(&p, call_getpgid_0x13), 77);
	cr_assert_neq(run_filtered(&p, call_getpgid_0), 77);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

Test(behaviour, same_arg_refusal_is_split_into_rules)
{
	/* GE 100 AND LE 200 cannot be one libseccomp rule: split (runc's behaviour), which for a
	 * refusing action errs on the safe side (refuses GE 100 OR LE 200). */
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ERRNO", "getpgid");
	set_errno_ret(s, 77);
	arg(s, 0, "SCMP_CMP_GE", 100, 0);
	arg(s, 0, "SCMP_CMP_LE", 200, 0);
	struct seccomp_prog p = compiled(sc);
	cr_assert_eq(run_filtered(&p, call_getpgid_0), 77);
	cr_assert_eq(run_filtered(&p, call_getpgid_500), 77);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* An allowing rule is split the same way (a warning says it may match more than meant):
 * either value is allowed, anything else falls to the default action. */
Test(behaviour, same_arg_allow_is_split_like_runc)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	rule(sc, "SCMP_ACT_ALLOW", "exit_group");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ALLOW", "getpgid");
	arg(s, 0, "SCMP_CMP_EQ", 0x12, 0);
	arg(s, 0, "SCMP_CMP_EQ", 0x13, 0);
	struct seccomp_prog p = compiled(sc);
	cr_assert_neq(run_filtered(&p, call_getpgid_0x12), EPERM);
	cr_assert_neq(run_filtered(&p, call_getpgid_0x13), EPERM);
	cr_assert_eq(run_filtered(&p, call_getpgid_0), EPERM);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* Without errnoRet a rule refuses with EPERM, not with defaultErrnoRet (runc, crun). */
Test(behaviour, rule_without_errno_ret_is_eperm_whatever_the_default)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	sc->default_errno_ret = (struct opt_u64){.set = true, .v = ENXIO};
	rule(sc, "SCMP_ACT_ALLOW", "exit_group");
	struct oci_seccomp_syscall *s = rule(sc, "SCMP_ACT_ERRNO", "getpgid");
	arg(s, 0, "SCMP_CMP_EQ", 0x12, 0);
	struct seccomp_prog p = compiled(sc);
	cr_assert_eq(run_filtered(&p, call_getpgid_0x12), EPERM);
	cr_assert_eq(run_filtered(&p, call_getpgid_0), ENXIO);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* A listenerPath gets its listener without any SCMP_ACT_NOTIFY rule (crun): an agent waiting
 * on the socket is answered. */
Test(translate, listener_path_alone_needs_listener)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ALLOW");
	sc->listener_path = xstrdup("/run/agent.sock");
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_compile(sc, NULL, &p, &err), 0, "%s", err.msg);
	cr_assert(p.needs_listener);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

static int call_syscall_1000(void)
{
	return errno_of(syscall(1000));
}

static int call_getppid(void)
{
	return errno_of(syscall(SYS_getppid));
}

static int call_getpid_ok(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : 99;
}

Test(behaviour, errno_default_gives_enosys_past_the_profile)
{
	struct oci_seccomp *sc = profile("SCMP_ACT_ERRNO");
	sc->syscalls = xcalloc(1, sizeof(*sc->syscalls));
	sc->n_syscalls = 1;
	sc->syscalls[0].action = xstrdup("SCMP_ACT_ALLOW");
	const char *names[] = {"exit_group", "exit", "getpid", "clone3", NULL};
	sc->syscalls[0].names = strv_dup((char *const *)names);
	struct seccomp_prog p = compiled(sc);
	int r = run_filtered(&p, call_getpid_ok);
	cr_assert_eq(r, 0, "child status %d", r);
	cr_assert_eq(run_filtered(&p, call_getppid), EPERM); /* known, not allowed */
	cr_assert_eq(run_filtered(&p, call_syscall_1000), ENOSYS);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* --- cache --------------------------------------------------------------------------------- */

static char *tmp_cache(void)
{
	char tmpl[] = "/tmp/bulwark-test-seccomp-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	return xasprintf("%s/cache", tmpl);
}

static char *only_file(const char *dir)
{
	uint8_t key[SHA256_DIGEST_LEN];
	char hex[65];
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	seccomp_default_profile(&sc, &err);
	seccomp_cache_key(sc, key);
	seccomp_profile_free(sc);
	sha256_hex(key, hex);
	return xasprintf("%s/%s.bpf", dir, hex);
}

static bool compile_default(const char *dir, struct seccomp_prog *p)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	bool hit = true;
	seccomp_default_profile(&sc, &err);
	cr_assert_eq(seccomp_compile_cached(sc, dir, p, &hit, &err), 0, "%s", err.msg);
	seccomp_profile_free(sc);
	return hit;
}

static void cleanup_dir(char *dir, char *file)
{
	unlink(file);
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	free(dir);
	free(file);
}

Test(cache, miss_then_hit_with_identical_program)
{
	char *dir = tmp_cache(), *file = only_file(dir);
	struct seccomp_prog a = {0}, b = {0};
	cr_assert_not(compile_default(dir, &a));
	cr_assert_eq(access(file, R_OK), 0);
	cr_assert(compile_default(dir, &b));
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(a.flags, b.flags);
	cr_assert_eq(memcmp(a.filter, b.filter, a.len * sizeof(*a.filter)), 0);
	seccomp_prog_free(&a);
	seccomp_prog_free(&b);
	cleanup_dir(dir, file);
}

static void damage(const char *file, off_t at, bool truncate_there)
{
	int fd = open(file, O_RDWR);
	cr_assert_geq(fd, 0);
	if (truncate_there) {
		cr_assert_eq(ftruncate(fd, at), 0);
	} else {
		unsigned char c;
		cr_assert_eq(pread(fd, &c, 1, at), 1);
		c ^= 0x01;
		cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	}
	close(fd);
}

Test(cache, corrupt_body_is_ignored_and_rewritten)
{
	char *dir = tmp_cache(), *file = only_file(dir);
	struct seccomp_prog a = {0}, b = {0}, c = {0};
	compile_default(dir, &a);
	damage(file, 200, false);
	cr_assert_not(compile_default(dir, &b));
	cr_assert_eq(memcmp(a.filter, b.filter, a.len * sizeof(*a.filter)), 0);
	cr_assert(compile_default(dir, &c)); /* rewritten: valid again */
	seccomp_prog_free(&a);
	seccomp_prog_free(&b);
	seccomp_prog_free(&c);
	cleanup_dir(dir, file);
}

Test(cache, truncated_or_bad_header_is_a_miss)
{
	char *dir = tmp_cache(), *file = only_file(dir);
	struct seccomp_prog a = {0}, b = {0}, c = {0};
	compile_default(dir, &a);
	damage(file, 100, true);
	cr_assert_not(compile_default(dir, &b));
	damage(file, 0, false); /* magic */
	cr_assert_not(compile_default(dir, &c));
	seccomp_prog_free(&a);
	seccomp_prog_free(&b);
	seccomp_prog_free(&c);
	cleanup_dir(dir, file);
}

Test(cache, key_changes_with_any_field)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	uint8_t k1[SHA256_DIGEST_LEN], k2[SHA256_DIGEST_LEN];
	seccomp_default_profile(&sc, &err);
	seccomp_cache_key(sc, k1);
	sc->syscalls[3].args[0].value ^= 1;
	seccomp_cache_key(sc, k2);
	cr_assert_neq(memcmp(k1, k2, sizeof(k1)), 0);
	sc->syscalls[3].args[0].value ^= 1;
	seccomp_cache_key(sc, k2);
	cr_assert_eq(memcmp(k1, k2, sizeof(k1)), 0);
	seccomp_profile_free(sc);
}

/* --- the default profile ------------------------------------------------------------------ */

Test(default_profile, json_parses_and_matches)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	cr_assert_eq(seccomp_default_profile(&sc, &err), 0);
	char *json = seccomp_profile_to_json(sc);
	seccomp_profile_free(sc);
	char ebuf[256];
	yajl_val v = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	cr_assert_not_null(v, "%s", ebuf);
	const char *path[] = {"defaultAction", NULL};
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string)), "SCMP_ACT_ERRNO");
	const char *sys[] = {"syscalls", NULL};
	yajl_val arr = yajl_tree_get(v, sys, yajl_t_array);
	cr_assert_not_null(arr);
	cr_assert_gt(YAJL_GET_ARRAY(arr)->len, 40);
	yajl_tree_free(v);
	free(json);
}

Test(default_profile, compiles)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	cr_assert_eq(seccomp_default_profile(&sc, &err), 0);
	struct seccomp_prog p = compiled(sc);
	cr_assert_gt(p.len, 100);
	cr_assert_not(p.needs_listener);
	cr_assert_eq(p.flags, 0);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

Test(default_profile, complain_turns_every_refusal_into_log)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	seccomp_default_profile(&sc, &err);
	seccomp_profile_complain(sc);
	cr_assert_str_eq(sc->default_action, "SCMP_ACT_LOG");
	cr_assert_not(sc->default_errno_ret.set);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		cr_assert(strcmp(sc->syscalls[i].action, "SCMP_ACT_ALLOW") == 0 ||
			  strcmp(sc->syscalls[i].action, "SCMP_ACT_LOG") == 0);
		cr_assert_not(sc->syscalls[i].errno_ret.set);
	}
	struct seccomp_prog p = compiled(sc);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

static int default_unshare_user(void)
{
	return errno_of(unshare(CLONE_NEWUSER));
}

static int default_af_alg(void)
{
	return errno_of(socket(38, SOCK_SEQPACKET, 0));
}

static int default_raw_inet(void)
{
	return errno_of(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 1));
}

static int default_clone3(void)
{
	return errno_of(syscall(SYS_clone3, NULL, 0));
}

static int default_clone_newns(void)
{
	return errno_of(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
}

static int default_ordinary_work(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	return fd >= 0 && write(fd, "x", 1) == 1 && s >= 0 && getpid() > 0 ? 0 : 99;
}

Test(default_profile, refuses_with_documented_errnos)
{
	struct oci_seccomp *sc;
	struct bw_error err = {0};
	seccomp_default_profile(&sc, &err);
	struct seccomp_prog p = compiled(sc);
	cr_assert_eq(run_filtered(&p, default_ordinary_work), 0);
	cr_assert_eq(run_filtered(&p, default_unshare_user), EPERM);
	cr_assert_eq(run_filtered(&p, default_af_alg), EAFNOSUPPORT);
	cr_assert_eq(run_filtered(&p, default_raw_inet), EPERM);
	cr_assert_eq(run_filtered(&p, default_clone3), ENOSYS);
	cr_assert_eq(run_filtered(&p, default_clone_newns), EPERM);
	cr_assert_eq(run_filtered(&p, call_syscall_1000), ENOSYS);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}
