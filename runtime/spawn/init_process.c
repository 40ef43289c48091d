/* The process's own set-up in the child, once its container is: resources, keyring, the
 * bounding set, AppArmor and Landlock, the tty guard, cwd, user, capabilities and
 * no_new_privs; and a seccomp filter whose listener must reach its agent before `create` ends. */
#include "runtime/spawn/spawn_internal.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/phase.h"
#include "common/util.h"
#include "runtime/process.h"
#include "runtime/sync.h"

static int new_session_keyring(const struct spawn_config *cfg, struct bw_error *err)
{
	if (cfg->no_new_keyring)
		return 0;
	_cleanup_free_ char *name = xasprintf("_ses.%s", cfg->id);
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0 && errno != ENOSYS)
		return bw_fail(err, errno, "join a new session keyring");
	return 0;
}

/* Everything from here on concerns the process itself; privileges go in this order:
 * bounding set, user switch, final capability sets, no_new_privs; the container's seccomp
 * filter goes in last, in init_main, so it constrains the container and never our set-up. */
int init_load_seccomp_with_listener(const struct spawn_config *cfg, int sock, struct bw_error *err)
{
	int lfd = -1;
	struct sync_msg m;
	if (seccomp_prog_load(cfg->seccomp, &lfd, err) < 0)
		return -1;
	if (lfd < 0)
		return 0;
	int r = sync_send(sock, SYNC_SECCOMP_FD, 0, NULL, 0, lfd, err);
	close(lfd);
	if (r < 0 || sync_expect(sock, SYNC_SECCOMP_DONE, &m, err) < 0)
		return -1;
	sync_msg_free(&m);
	return 0;
}

/* The executable found, then the process's resources: keyring, rlimits, scheduling,
 * personality, memory policy. */
static int set_resources(const struct spawn_config *cfg, char **exe, struct bw_error *err)
{
	const struct oci_process *p = cfg->process;
	const struct oci_spec *spec = cfg->spec;

	/* The executable is judged against the memory rlimits before they apply: under them
	 * even the error message might not fit. */
	init_env = process_env_final(p);
	/* A session's pid 1 runs nothing: its execs are looked up when they come. */
	if (!(cfg->session_init && !cfg->is_exec) &&
	    (process_find_executable(p->args[0], init_env, exe, err) < 0 ||
	     process_check_exec_limits(p, *exe, err) < 0))
		return -1;
	if (new_session_keyring(cfg, err) < 0 || process_set_rlimits(p, err) < 0 ||
	    process_set_scheduling(p, err) < 0 ||
	    process_set_personality(&spec->linux.personality, err) < 0 ||
	    process_set_memory_policy(&spec->linux.memory_policy, err) < 0)
		return -1;
	bw_phase("proc: exe+rlimits+keyring");
	return 0;
}

static int drop_bounding(const struct spawn_config *cfg, struct bw_error *err)
{
	/* The bounding set we have: a new user namespace's is full; without one it is the
	 * runtime's, which we were cloned with; otherwise (exec, a joined namespace) asked. */
	uint64_t present = 0;
	if (!cfg->is_exec && (cfg->new_ns_flags & CLONE_NEWUSER))
		present = ~UINT64_C(0);
	else if (!cfg->is_exec && cfg->ns_fds[OCI_NS_USER] < 0)
		present = cfg->caps.runtime_bounding;
	return caps_drop_bounding(&cfg->caps, present, err);
}

/* *held: capabilities kept past the final sets for the seccomp filter (caps.h). */
int init_setup_process(const struct spawn_config *cfg, char **exe, uint64_t *held,
		       struct bw_error *err)
{
	const struct oci_process *p = cfg->process;

	if (set_resources(cfg, exe, err) < 0 || drop_bounding(cfg, err) < 0)
		return -1;
	/* AppArmor first (it writes to /proc, which Landlock then forbids); both before the user
	 * switch, because landlock_restrict_self needs CAP_SYS_ADMIN without no_new_privs. */
	bw_phase("proc: bounding");
	if (apparmor_apply_exec(&cfg->apparmor, err) < 0 ||
	    landlock_apply(&cfg->landlock, cfg->is_exec ? -1 : cfg->fifo_fd, err) < 0)
		return -1;
	/* The tty guard goes in while we still hold CAP_SYS_ADMIN (no_new_privs may never come)
	 * and before the profile's filter, which might not allow seccomp(2) itself. */
	bw_phase("proc: landlock");
	if (cfg->tty_guard.filter != NULL && seccomp_prog_load(&cfg->tty_guard, NULL, err) < 0)
		return bw_wrap(err, "tty guard");
	/* Without no_new_privs, loading the filter needs CAP_SYS_ADMIN: held until then. */
	bw_phase("proc: tty guard");
	*held = cfg->seccomp ? caps_hold_for_seccomp(&cfg->caps, p->no_new_privileges) : 0;
	/* process.cwd as runc enters it: first with the runtime's privileges (a directory the
	 * user may not search still works), and only when those are refused once more as the
	 * user (the user's own 0700 directory that root may not search: NFS, an unmapped owner).
	 * Resolved inside the root either way. */
	const char *cwd = p->cwd ? p->cwd : "/";
	bool cwd_done = process_chdir(cwd, err) == 0;
	if (!cwd_done && err->code != EACCES && err->code != EPERM)
		return -1;
	bw_error_clear(err);
	process_give_stdio_pipes(p->user.uid, cfg->stdio);
	bw_phase("proc: cwd+stdio");
	/* Rootless, the caller's supplementary groups stay with no additionalGids: as they do
	 * where setgroups is denied (a map of the caller's own gid); where newgidmap allowed it
	 * (subordinate ranges), dropping them would bypass a file's deny-by-group mode. */
	if (process_set_user(p, cfg->rootless, err) < 0 ||
	    caps_apply_final(&cfg->caps, *held, err) < 0)
		return -1;
	bw_phase("proc: user+caps");
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return bw_fail(err, errno, "process.noNewPrivileges: prctl");
	if (!cwd_done && process_chdir(cwd, err) < 0)
		return -1;
	return process_set_cpu_affinity(p->exec_cpu_affinity.final, "process.execCPUAffinity.final",
					err);
}
