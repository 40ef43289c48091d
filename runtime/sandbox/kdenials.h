/* Kernel denials for `sandbox --report`: the seccomp refusals (and, where the host's audit is
 * on, the Landlock refusals) of one sandbox, read from the kernel's audit multicast group.
 *
 * The kernel reports a seccomp ERRNO refusal only when the filter asks for it
 * (SECCOMP_FILTER_FLAG_LOG) and a Landlock refusal after execve only when the domain asks for
 * it (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON): the annotation run.bulwark.log-denials=true
 * sets both. The records carry no container identity, so the sandbox gets an audit session of
 * its own (the `bulwark sandbox` process rewrites its loginuid, which allocates a new session
 * id that every process of the sandbox inherits): a seccomp record counts when its ses= is
 * the sandbox's. A Landlock access record names its domain; the domain's first record names
 * the process that created it, the sandbox's init. A thread reads the group while the
 * sandbox runs (the socket must not fill up with other processes' records) and keeps only
 * counts in a fixed table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct report;

#define KD_ANNOTATION "run.bulwark.log-denials"

enum kd_kind { KD_NONE, KD_SYSCALL, KD_LANDLOCK_ACCESS, KD_LANDLOCK_DOMAIN };

/* One audit record, as far as the report needs it. */
struct kd_record {
	enum kd_kind kind;
	uint32_t ses;	 /* seccomp: audit session */
	uint32_t arch;	 /* seccomp: AUDIT_ARCH_* */
	int nr;		 /* seccomp: syscall number */
	uint32_t action; /* seccomp: SECCOMP_RET_ACTION_FULL part of code= */
	uint64_t domain; /* landlock */
	pid_t pid;	 /* landlock domain: its creator; seccomp: the caller */
	bool allocated;	 /* landlock domain: status=allocated */
	char blockers[96];
	char object[256]; /* landlock access: the path, or the object's fields as logged */
};

/* Parse the text of an audit record of type `type` (AUDIT_SECCOMP 1326, AUDIT_LANDLOCK_ACCESS
 * 1423, AUDIT_LANDLOCK_DOMAIN 1424). False for other types and unreadable records. Pure. */
bool kd_parse_record(uint16_t type, const char *text, size_t len, struct kd_record *out);

/* The host's audit: on or off, and whether it panics on lost records (AUDIT_GET; -1 with
 * errno when it cannot be read). */
int kd_host_audit(bool *enabled, bool *panics);

struct kdenials;

/* Before the sandbox is created: a new audit session for this process (inherited by the
 * sandbox) and a socket on the audit multicast group. NULL when the kernel's reports cannot
 * be had here; *why then says why (for the report), and the sandbox runs without
 * run.bulwark.log-denials. Refused, too, when the host's audit is set to panic on lost
 * records: a sandbox that floods refusals must not be able to bring the host down. */
struct kdenials *kd_open(char *why, size_t why_len);
/* Whether Landlock records can come (the host's audit is on); else *why says why. */
bool kd_landlock_reported(const struct kdenials *k, char *why, size_t why_len);
/* Once the sandbox's init is known: start reading. */
int kd_start(struct kdenials *k, pid_t init_pid, struct bw_error *err);
/* After the sandbox ended: read what is still queued, stop, and hand the counts to the report
 * and (when audit_path) the audit log, as "denied" lines of container id. Frees k. */
void kd_finish(struct kdenials *k, struct report *r, const char *id, const char *audit_path);
void kd_free(struct kdenials *k);
