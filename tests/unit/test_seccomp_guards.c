/* seccomp guards of issue #11: the rw-workspace rule against set-id bits (each rule held against
 * the syscall's real signature, then run under the filter) and the refusal of TIOCSTI and
 * TIOCLINUX (default profile and the fixed tty guard layer). Filters are loaded in forked
 * children under no_new_privs, so no root is needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "profiles/seccomp_internal.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int run_filtered(const struct seccomp_prog *p, int (*fn)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int lfd;
		struct bw_error err = {0};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    (p != NULL && seccomp_prog_load(p, &lfd, &err) < 0))
			_exit(250);
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

static struct seccomp_prog compiled(struct oci_seccomp *sc)
{
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_compile(sc, NULL, &p, &err), 0, "%s", err.msg);
	return p;
}

/* --- set-id bits in rw workspaces ------------------------------------------------------- */

/* Written from the man pages (and include/linux/syscalls.h), not from the profile: the
 * argument, counted from 0, that carries the new file mode. */
static const struct {
	const char *name;
	unsigned int mode_index;
} mode_args[] = {
    {"chmod", 1},     /* chmod(const char *pathname, mode_t mode) */
    {"fchmod", 1},    /* fchmod(int fd, mode_t mode) */
    {"fchmodat", 2},  /* fchmodat(int dirfd, const char *pathname, mode_t mode) */
    {"fchmodat2", 2}, /* fchmodat2(int dirfd, const char *pathname, mode_t mode, int flags) */
    {"creat", 1},     /* creat(const char *pathname, mode_t mode) */
    {"open", 2},      /* open(const char *pathname, int flags, mode_t mode) */
    {"openat", 3},    /* openat(int dirfd, const char *pathname, int flags, mode_t mode) */
    {"mknod", 1},     /* mknod(const char *pathname, mode_t mode, dev_t dev) */
    {"mknodat", 2},   /* mknodat(int dirfd, const char *pathname, mode_t mode, dev_t dev) */
    {"mkdir", 1},     /* mkdir(const char *pathname, mode_t mode) */
    {"mkdirat", 2},   /* mkdirat(int dirfd, const char *pathname, mode_t mode) */
};

static struct oci_seccomp *setid_profile(void)
{
	struct oci_seccomp *sc = NULL;
	struct bw_error err = {0};
	cr_assert_eq(seccomp_default_profile(&sc, &err), 0);
	seccomp_profile_forbid_setid_files(sc);
	return sc;
}

static int mode_index_of(const char *name)
{
	for (size_t i = 0; i < sizeof(mode_args) / sizeof(mode_args[0]); i++)
		if (strcmp(mode_args[i].name, name) == 0)
			return (int)mode_args[i].mode_index;
	return -1;
}

/* Every entry naming one of these calls is a conditional allow on the true mode argument; and
 * every set-id condition the rewrite emits names a call of the table (no stray index). */
Test(setid, each_rule_checks_the_mode_argument_of_the_real_signature)
{
	struct oci_seccomp *sc = setid_profile();
	bool seen[sizeof(mode_args) / sizeof(mode_args[0])] = {0};
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct oci_seccomp_syscall *s = &sc->syscalls[i];
		for (size_t j = 0; s->names != NULL && s->names[j] != NULL; j++) {
			int want = mode_index_of(s->names[j]);
			bool setid_cond = s->n_args == 1 && s->args[0].value == 06000 &&
					  strcmp(s->args[0].op, "SCMP_CMP_MASKED_EQ") == 0;
			if (want < 0) {
				cr_assert(!setid_cond,
					  "%s: set-id condition on a call without a mode",
					  s->names[j]);
				continue;
			}
			cr_assert_str_eq(s->action, "SCMP_ACT_ALLOW", "%s", s->names[j]);
			cr_assert(setid_cond, "%s: allowed without the set-id condition",
				  s->names[j]);
			cr_assert_eq(s->args[0].index, (unsigned int)want,
				     "%s: mode is argument %d, rule checks %u", s->names[j], want,
				     s->args[0].index);
			cr_assert_eq(s->args[0].value_two, 0);
			for (size_t k = 0; k < sizeof(mode_args) / sizeof(mode_args[0]); k++)
				if (strcmp(mode_args[k].name, s->names[j]) == 0)
					seen[k] = true;
		}
	}
	for (size_t k = 0; k < sizeof(mode_args) / sizeof(mode_args[0]); k++)
		cr_assert(seen[k], "%s: no rule left (the default profile allows it)",
			  mode_args[k].name);
	seccomp_profile_free(sc);
}

/* openat2 carries its mode in struct open_how, out of a filter's reach: ENOSYS, so that libc
 * falls back to openat. */
Test(setid, openat2_gets_enosys)
{
	struct oci_seccomp *sc = setid_profile();
	bool found = false;
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct oci_seccomp_syscall *s = &sc->syscalls[i];
		for (size_t j = 0; s->names != NULL && s->names[j] != NULL; j++) {
			if (strcmp(s->names[j], "openat2") != 0)
				continue;
			cr_assert_str_eq(s->action, "SCMP_ACT_ERRNO");
			cr_assert(s->errno_ret.set && s->errno_ret.v == ENOSYS);
			found = true;
		}
	}
	cr_assert(found);
	seccomp_profile_free(sc);
}

/* The calls themselves, under the compiled filter, in a private directory: a set-id mode is
 * refused (EPERM, or ENOSYS where this libseccomp does not know the call and the ENOSYS stub
 * answers), a plain one works. */
static char setid_dir[64];

static void at(const char *name, char *buf)
{
	snprintf(buf, 128, "%s/%s", setid_dir, name);
}

#define SETID_CALL(fn, expr)                                                                       \
	static int fn(void)                                                                        \
	{                                                                                          \
		char p[128];                                                                       \
		at(#fn, p);                                                                        \
		return errno_of(expr);                                                             \
	}

static unsigned int g_mode;
SETID_CALL(do_open, syscall(SYS_open, p, O_CREAT | O_WRONLY | O_EXCL, g_mode))
SETID_CALL(do_openat, syscall(SYS_openat, AT_FDCWD, p, O_CREAT | O_WRONLY | O_EXCL, g_mode))
SETID_CALL(do_openat_tmpfile,
	   syscall(SYS_openat, AT_FDCWD, setid_dir, O_TMPFILE | O_WRONLY, g_mode))
SETID_CALL(do_creat, syscall(SYS_creat, p, g_mode))
SETID_CALL(do_mknod, syscall(SYS_mknod, p, S_IFREG | g_mode, 0))
SETID_CALL(do_mknodat, syscall(SYS_mknodat, AT_FDCWD, p, S_IFREG | g_mode, 0))
SETID_CALL(do_mkdir, syscall(SYS_mkdir, p, g_mode))
SETID_CALL(do_mkdirat, syscall(SYS_mkdirat, AT_FDCWD, p, g_mode))
SETID_CALL(do_chmod, syscall(SYS_chmod, setid_dir, g_mode | 0700))
SETID_CALL(do_fchmodat, syscall(SYS_fchmodat, AT_FDCWD, setid_dir, g_mode | 0700))
SETID_CALL(do_fchmodat2, syscall(SYS_fchmodat2, AT_FDCWD, setid_dir, g_mode | 0700, 0))

static int do_fchmod(void)
{
	int fd = open(setid_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? 99 : errno_of(syscall(SYS_fchmod, fd, g_mode | 0700));
}

Test(setid, the_filter_refuses_set_id_modes_and_allows_plain_ones)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} calls[] = {{"open", do_open},
		     {"openat", do_openat},
		     {"openat O_TMPFILE", do_openat_tmpfile},
		     {"creat", do_creat},
		     {"mknod", do_mknod},
		     {"mknodat", do_mknodat},
		     {"mkdir", do_mkdir},
		     {"mkdirat", do_mkdirat},
		     {"chmod", do_chmod},
		     {"fchmod", do_fchmod},
		     {"fchmodat", do_fchmodat},
		     {"fchmodat2", do_fchmodat2}};
	struct oci_seccomp *sc = setid_profile();
	struct seccomp_prog p = compiled(sc);
	const unsigned int bad[] = {04755, 02755, 06755, 04000, 02000};
	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			strcpy(setid_dir, "/tmp/bw-setid-XXXXXX");
			cr_assert_not_null(mkdtemp(setid_dir));
			g_mode = bad[b];
			int r = run_filtered(&p, calls[c].fn);
			bool fchmodat2_unknown =
			    c == sizeof(calls) / sizeof(calls[0]) - 1 && r == ENOSYS;
			cr_assert(r == EPERM || fchmodat2_unknown, "%s mode %o: got %d",
				  calls[c].name, bad[b], r);
			g_mode = 0755;
			r = run_filtered(&p, calls[c].fn);
			cr_assert(r == 0 || (fchmodat2_unknown && r == ENOSYS),
				  "%s mode 0755: got %d", calls[c].name, r);
			char cmd[128];
			snprintf(cmd, sizeof(cmd), "rm -rf %s", setid_dir);
			cr_assert_eq(system(cmd), 0);
		}
	}
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* --- TIOCSTI and TIOCLINUX -------------------------------------------------------------- */

/* On a pipe the kernel answers every tty request with ENOTTY: EPERM can only be the filter. */
static int ioctl_on_pipe(unsigned long req)
{
	int p[2];
	char c = 'x';
	if (pipe(p) < 0)
		return 99;
	return errno_of(syscall(SYS_ioctl, p[0], req, &c));
}

#define HIGH 0xdead000000000000ul
static int sti(void)
{
	return ioctl_on_pipe(TIOCSTI);
}
static int sti_high(void)
{
	return ioctl_on_pipe(HIGH | TIOCSTI);
}
static int tioclinux(void)
{
	return ioctl_on_pipe(TIOCLINUX);
}
static int tioclinux_high(void)
{
	return ioctl_on_pipe(HIGH | TIOCLINUX);
}
/* The neighbours of both requests, and requests with the top bit set (sign-extended by musl's
 * int-typed ioctl): still the kernel's ENOTTY. */
static int neighbours(void)
{
	static const unsigned long reqs[] = {
	    0x5411,    0x5413,		 0x541a,     0x541d,
	    0x5402,    0x5412 ^ 0x10000, 0x80045430, 0xffffffff80045430ul,
	    TIOCGWINSZ};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (ioctl_on_pipe(reqs[i]) != ENOTTY)
			return 100 + (int)i;
	return 0;
}
static int fionread(void)
{
	int p[2], n;
	if (pipe(p) < 0)
		return 99;
	return errno_of(ioctl(p[0], FIONREAD, &n));
}

static void expect_tty_refusals(const struct seccomp_prog *p)
{
	cr_assert_eq(run_filtered(p, sti), EPERM);
	cr_assert_eq(run_filtered(p, sti_high), EPERM);
	cr_assert_eq(run_filtered(p, tioclinux), EPERM);
	cr_assert_eq(run_filtered(p, tioclinux_high), EPERM);
	cr_assert_eq(run_filtered(p, neighbours), 0);
	cr_assert_eq(run_filtered(p, fionread), 0);
}

Test(tty, without_a_filter_the_probes_get_enotty)
{
	cr_assert_eq(run_filtered(NULL, sti), ENOTTY);
	cr_assert_eq(run_filtered(NULL, sti_high), ENOTTY);
	cr_assert_eq(run_filtered(NULL, tioclinux), ENOTTY);
	cr_assert_eq(run_filtered(NULL, neighbours), 0);
}

Test(tty, default_profile_refuses_tiocsti_and_tioclinux)
{
	struct oci_seccomp *sc = NULL;
	struct bw_error err = {0};
	cr_assert_eq(seccomp_default_profile(&sc, &err), 0);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct oci_seccomp_syscall *s = &sc->syscalls[i];
		for (size_t j = 0; s->names != NULL && s->names[j] != NULL; j++)
			cr_assert(strcmp(s->names[j], "ioctl") != 0 || s->n_args == 1,
				  "ioctl allowed unconditionally");
	}
	struct seccomp_prog p = compiled(sc);
	expect_tty_refusals(&p);
	seccomp_prog_free(&p);
	/* The rw-workspace variant keeps them. */
	seccomp_profile_forbid_setid_files(sc);
	p = compiled(sc);
	expect_tty_refusals(&p);
	seccomp_prog_free(&p);
	seccomp_profile_free(sc);
}

/* The allow rules cover exactly the complement: every value's low 32 bits either match one
 * allow rule or are a refused request, never both; upper bits never matter. */
Test(tty, default_profile_ioctl_rules_partition_the_requests)
{
	struct oci_seccomp *sc = NULL;
	struct bw_error err = {0};
	cr_assert_eq(seccomp_default_profile(&sc, &err), 0);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int n = 0; n < 200000; n++) {
		uint64_t v = n < 65536 ? (uint64_t)n : (x = x * 6364136223846793005ull + 1);
		if (n % 3 == 0)
			v = (v & ~0xffffffffull) | (n % 2 ? TIOCSTI : TIOCLINUX);
		uint32_t low = (uint32_t)v;
		int matches = 0;
		for (size_t i = 0; i < sc->n_syscalls; i++) {
			struct oci_seccomp_syscall *s = &sc->syscalls[i];
			if (strcmp(s->names[0], "ioctl") != 0 ||
			    strcmp(s->action, "SCMP_ACT_ALLOW") != 0)
				continue;
			cr_assert_eq(s->args[0].index, 1);
			cr_assert_eq(s->args[0].value >> 32, 0, "a mask reaches the upper half");
			matches += (v & s->args[0].value) == s->args[0].value_two;
		}
		bool refused = low == TIOCSTI || low == TIOCLINUX;
		cr_assert_eq(matches, refused ? 0 : 1, "request 0x%llx: %d allow rules match",
			     (unsigned long long)v, matches);
	}
	seccomp_profile_free(sc);
}

static struct oci_spec *spec_with(const char *annotation)
{
	char json[256];
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"annotations\":{%s}}",
		 annotation);
	struct oci_spec *spec = NULL;
	struct bw_error err = {0};
	cr_assert_eq(oci_spec_parse(json, strlen(json), "config.json", &spec, &err), 0, "%s",
		     err.msg);
	return spec;
}

/* The fixed layer for engine profiles: alone it refuses both requests and nothing else. */
Test(tty, guard_refuses_both_and_allows_the_rest)
{
	struct oci_spec *spec = spec_with("");
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_tty_guard_for_spec(spec, &p, &err), 0, "%s", err.msg);
	cr_assert_not_null(p.filter);
	expect_tty_refusals(&p);
	seccomp_prog_free(&p);
	oci_spec_free(spec);
}

Test(tty, guard_annotation_opts_out_and_is_validated)
{
	struct oci_spec *spec = spec_with("\"run.bulwark.tty-guard\":\"false\"");
	struct seccomp_prog p = {0};
	struct bw_error err = {0};
	cr_assert_eq(seccomp_tty_guard_for_spec(spec, &p, &err), 0);
	cr_assert_null(p.filter);
	oci_spec_free(spec);
	spec = spec_with("\"run.bulwark.tty-guard\":\"true\"");
	cr_assert_eq(seccomp_tty_guard_for_spec(spec, &p, &err), 0);
	cr_assert_not_null(p.filter);
	seccomp_prog_free(&p);
	oci_spec_free(spec);
	spec = spec_with("\"run.bulwark.tty-guard\":\"off\"");
	cr_assert_eq(seccomp_tty_guard_for_spec(spec, &p, &err), -1);
	cr_assert_str_eq(err.msg,
			 "run.bulwark.tty-guard: must be \"true\" or \"false\", not \"off\"");
	oci_spec_free(spec);
}
