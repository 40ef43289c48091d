/* Process attributes applied by the init (or an exec'd process) just before execve: rlimits,
 * scheduling, personality, memory policy, the user switch and the executable lookup with
 * runc's wording for failures (engines map it to exit codes 126/127). */
#pragma once

#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

int process_set_rlimits(const struct oci_process *p, struct bw_error *err);
int process_set_scheduling(const struct oci_process *p, struct bw_error *err);
int process_set_cpu_affinity(const char *list, const char *field, struct bw_error *err);
int process_set_personality(const struct oci_personality *pers, struct bw_error *err);
int process_set_memory_policy(const struct oci_memory_policy *mp, struct bw_error *err);
/* fds 0-2 that are anonymous pipes are given to uid (the group stays), so that the user can
 * reopen them (/dev/stdout, /proc/self/fd/1) as under runc and crun. Files, FIFOs on a
 * filesystem, terminals and sockets of the caller are never touched. Best effort. */
void process_give_stdio_pipes(uid_t uid, const int ours[3]);
/* The environment the process gets (malloc'd vector): process.env with one entry per name,
 * the last value given winning in the place of the first (runc's Setenv order: `exec --env`
 * overrides the config), plus HOME when it has none or an empty one: the home of
 * process.user.uid in the container's /etc/passwd (read inside "/", bounded), else "/", as
 * runc and crun do. */
char **process_env_final(const struct oci_process *p);
/* Pure: the dedup step of process_env_final. */
char **process_env_dedup(char *const *env);
/* Pure: the home field of the first passwd line whose uid is uid (malloc'd), or NULL. */
char *process_passwd_home(const char *passwd, uid_t uid);
/* setgroups(additionalGids), setresgid, setresuid, umask (default 0022). */
/* keep_groups: with no additionalGids, leave the supplementary groups as they are (a rootless
 * runtime's caller's: dropping them would open what a group of theirs is denied). */
int process_set_user(const struct oci_process *p, bool keep_groups, struct bw_error *err);
/* Resolve args[0] against PATH from env; *out is malloc'd. Errors use runc's wording:
 * `exec: "X": executable file not found in $PATH`, `exec: "X": stat X: no such file or
 * directory`, `exec: "X": permission denied`. */
int process_find_executable(const char *arg0, char *const *env, char **out, struct bw_error *err);
/* Refuse, naming the rlimit, when process.rlimits RLIMIT_AS or RLIMIT_DATA are below what
 * execve needs to map exe (and its ELF interpreter): past execve's point of no return the
 * kernel would kill the process with SIGSEGV, and nobody could say why. */
int process_check_exec_limits(const struct oci_process *p, const char *exe, struct bw_error *err);
/* chdir to cwd, resolved inside "/" without magic links, then checked to be inside the root
 * (CVE-2024-21626). */
int process_chdir(const char *cwd, struct bw_error *err);
/* Parse a cpu list "0-3,7" into a cpu_set; -1 on bad syntax or a cpu >= CPU_SETSIZE. */
int process_parse_cpu_list(const char *list, void *cpu_set, size_t setsize);
