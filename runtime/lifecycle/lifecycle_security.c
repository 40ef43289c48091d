/* The create's security plan: capabilities, Landlock, AppArmor, seccomp (with the
 * run.bulwark.log-denials and run.bulwark.seccomp annotations) and the tty guard; and its
 * namespaces: new, joined by path, or the runtime's own mount namespace. */
#include "runtime/lifecycle.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/phase.h"
#include "common/util.h"
#include "netns/ns.h"
#include "runtime/lifecycle/lifecycle_internal.h"
#include "runtime/sandbox/kdenials.h"
#include "runtime/spawn.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* A namespace type the config does not list is the runtime's (config-linux.md), the mount
 * namespace too. Then every mount would be the host's and outlive the container (runc 1.1
 * leaves them behind), so bulwark mounts nothing: the init only chroots into root.path, and
 * what needs a mount is refused by name. */
static int check_shared_mount_ns(const struct oci_spec *spec, struct bw_error *err)
{
	const struct oci_linux *l = &spec->linux;
	const char *field = spec->n_mounts > 0				? "mounts"
			    : l->masked_paths && l->masked_paths[0]	? "linux.maskedPaths"
			    : l->readonly_paths && l->readonly_paths[0] ? "linux.readonlyPaths"
			    : spec->root_readonly			? "root.readonly"
			    : l->rootfs_propagation			? "linux.rootfsPropagation"
			    : l->n_devices > 0				? "linux.devices"
			    : l->n_sysctl > 0				? "linux.sysctl"
			    : spec->process.terminal			? "process.terminal"
									: NULL;
	if (field != NULL)
		return bw_fail(
		    err, 0,
		    "%s: needs a mount namespace (linux.namespaces lists none, so the "
		    "container shares the runtime's mounts, where bulwark mounts nothing)",
		    field);
	log_warn("linux.namespaces: no mount namespace: the container shares the runtime's mounts "
		 "and is only chrooted into root.path");
	return 0;
}

int lifecycle_plan_namespaces(const struct oci_spec *spec, struct spawn_config *cfg,
			      struct bw_error *err)
{
	for (size_t i = 0; i < spec->linux.n_namespaces; i++) {
		const struct oci_namespace *ns = &spec->linux.namespaces[i];
		if (ns->path == NULL) {
			cfg->new_ns_flags |= ns_clone_flag(ns->type);
			continue;
		}
		char field[64];
		snprintf(field, sizeof(field), "linux.namespaces[%zu].path", i);
		cfg->ns_fds[ns->type] = ns_open_path(ns->type, ns->path, field, err);
		if (cfg->ns_fds[ns->type] < 0)
			return -1;
	}
	if ((spec->linux.time_monotonic.set || spec->linux.time_boottime.set) &&
	    !(cfg->new_ns_flags & CLONE_NEWTIME))
		return bw_fail(err, 0, "linux.timeOffsets: needs a new time namespace");
	if (!(cfg->new_ns_flags & CLONE_NEWNS) && cfg->ns_fds[OCI_NS_MOUNT] < 0)
		return check_shared_mount_ns(spec, err);
	return 0;
}

void lifecycle_close_ns_fds(struct spawn_config *cfg)
{
	for (int t = 0; t < OCI_NS_NTYPES; t++)
		if (cfg->ns_fds[t] >= 0) {
			close(cfg->ns_fds[t]);
			cfg->ns_fds[t] = -1;
		}
}

/* run.bulwark.log-denials: the kernel reports the container's seccomp and Landlock
 * refusals to the audit log (what `sandbox --report` reads). Nothing gets weaker. */
static int log_denials_wanted(const struct oci_spec *spec, bool *log_denials, struct bw_error *err)
{
	const char *logd = oci_spec_annotation(spec, KD_ANNOTATION);
	if (logd != NULL && strcmp(logd, "true") != 0 && strcmp(logd, "false") != 0)
		return bw_fail(err, 0, KD_ANNOTATION ": must be \"true\" or \"false\", not \"%s\"",
			       logd);
	*log_denials = logd != NULL && strcmp(logd, "true") == 0;
	bool audit_on, panics;
	if (*log_denials && kd_host_audit(&audit_on, &panics) < 0)
		return bw_fail(err, errno,
			       KD_ANNOTATION ": the host's audit settings cannot be read");
	/* A container that floods refusals would make the kernel lose records; a host that
	 * panics then must not be handed that button. */
	if (*log_denials && panics)
		return bw_fail(err, 0,
			       KD_ANNOTATION ": the host's audit panics on lost records (auditctl "
					     "-f 2): refusals cannot be logged safely");
	return 0;
}

/* The config's seccomp profile (spec->linux.seccomp, not NULL) compiled into prog, through
 * the state root's cache. */
static int prepare_seccomp(const struct global_opts *g, const struct oci_spec *spec,
			   struct spawn_config *cfg, struct seccomp_prog *prog, bool log_denials,
			   struct bw_error *err)
{
	/* Complain mode, for profiling a workload: every refusal is logged instead of enforced.
	 * Only ever weaker on an explicit request, and only "complain" is accepted. */
	const char *mode = oci_spec_annotation(spec, "run.bulwark.seccomp");
	if (mode != NULL && strcmp(mode, "complain") != 0 && strcmp(mode, "enforce") != 0)
		return bw_fail(
		    err, 0, "run.bulwark.seccomp: must be \"enforce\" or \"complain\", not \"%s\"",
		    mode);
	if (mode != NULL && strcmp(mode, "complain") == 0)
		seccomp_profile_complain((struct oci_seccomp *)spec->linux.seccomp);
	_cleanup_free_ char *cache = fs_path_join(cli_state_root(g), ".cache/seccomp");
	struct bw_error ignored = {0};
	if (fs_mkdir_p(cache, 0700, &ignored) < 0) {
		free(cache);
		cache = NULL;
	}
	bw_phase("security: seccomp cache dir");
	if (seccomp_compile(spec->linux.seccomp, cache, prog, err) < 0)
		return -1;
	bw_phase("security: seccomp");
	if (log_denials)
		prog->flags |= SECCOMP_FILTER_FLAG_LOG;
	cfg->seccomp = prog;
	return 0;
}

int lifecycle_prepare_security(const struct global_opts *g, const struct oci_spec *spec,
			       struct spawn_config *cfg, struct seccomp_prog *prog,
			       struct bw_error *err)
{
	if (caps_plan_from_spec(&spec->process.caps, &cfg->caps, err) < 0)
		return -1;
	bw_phase("security: caps");
	if (landlock_plan_from_spec(spec, &cfg->landlock, err) < 0 ||
	    landlock_plan_check(&cfg->landlock, landlock_abi_version(), err) < 0)
		return -1;
	bw_phase("security: landlock");
	if (apparmor_prepare(spec, cli_state_root(g), cfg->id, &cfg->apparmor, err) < 0)
		return -1;
	bw_phase("security: apparmor");
	bool log_denials;
	if (log_denials_wanted(spec, &log_denials, err) < 0)
		return -1;
	cfg->landlock.log_denials = log_denials;
	if (seccomp_tty_guard_for_spec(spec, &cfg->tty_guard, err) < 0)
		return -1;
	if (log_denials && cfg->tty_guard.filter != NULL)
		cfg->tty_guard.flags |= SECCOMP_FILTER_FLAG_LOG;
	if (spec->linux.seccomp == NULL)
		return 0;
	return prepare_seccomp(g, spec, cfg, prog, log_denials, err);
}
