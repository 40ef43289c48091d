/* Capabilities (libcap): names validated in the parent into bitmasks, applied in the init in
 * two steps around the user switch. Inheritable stays empty unless the spec lists it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

struct caps_plan {
	uint64_t sets[OCI_CAP_NSETS]; /* bit n = capability n */
	bool any;		      /* process.capabilities was present */
	uint64_t runtime_bounding;    /* the runtime's own bounding set when the plan was made */
};

/* Translate names; an unknown name fails with "process.capabilities.<set>[i]: unknown
 * capability \"X\"". Names the running kernel does not know are dropped with a debug log.
 * Absent capabilities mean empty sets (nothing granted). Capabilities outside the runtime's
 * own bounding set cannot be granted: in the bounding set they are dropped (debug log), in
 * any other set they are an error. An effective capability must be permitted (an error
 * otherwise); an ambient one that is not both permitted and inheritable, which the kernel would
 * not raise, is left out with a warning, as runc and crun do. */
int caps_plan_from_spec(const struct oci_capabilities *caps, struct caps_plan *out,
			struct bw_error *err);
/* The pure core of caps_plan_from_spec, with the runtime's bounding set and the kernel's
 * last capability given explicitly (unit tests, and callers that already read them). */
int caps_plan_build(const struct oci_capabilities *caps, uint64_t runtime_bounding, int last_cap,
		    struct caps_plan *out, struct bw_error *err);
/* In the init, still privileged: drop everything not in the bounding set, and set
 * PR_SET_KEEPCAPS so permitted survives the setuid that follows. `present`: the capabilities
 * known to be in our bounding set now (dropped without asking first; the others are known to
 * be out of it), or 0 to ask the kernel about each. */
int caps_drop_bounding(const struct caps_plan *plan, uint64_t present, struct bw_error *err);
/* After setuid/setgid: set effective/permitted/inheritable, then raise ambient. `hold` adds
 * capabilities to effective and permitted until caps_release_held (CAP_SYS_ADMIN, which a
 * seccomp filter loaded without no_new_privs needs at load time). */
int caps_apply_final(const struct caps_plan *plan, uint64_t hold, struct bw_error *err);
/* What the init must hold past caps_apply_final to load a seccomp filter without no_new_privs:
 * CAP_SYS_ADMIN unless the plan leaves it effective; 0 with no_new_privs. */
uint64_t caps_hold_for_seccomp(const struct caps_plan *plan, bool no_new_privs);
/* Drop what caps_apply_final held: one capset(2) to the plan's effective/permitted/inheritable
 * (ambient capabilities, all within the final permitted set, stay). After the container's
 * seccomp filter, this and execve are the only syscalls the init makes. */
int caps_release_held(const struct caps_plan *plan, struct bw_error *err);
/* Parse one name ("CAP_NET_ADMIN" or "NET_ADMIN", upper case); -1 if unknown. */
int caps_from_name(const char *name);
/* "CAP_NET_ADMIN" for 12, or "CAP_41" for a number libcap has no name for. Static buffer
 * per call site is not needed: the result is written into buf. */
const char *caps_to_name(int cap, char buf[static 32]);
/* Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
int caps_last_cap(void);
/* The calling process's bounding set as a bitmask (PR_CAPBSET_READ). */
uint64_t caps_current_bounding(void);
/* Name of a set as the spec spells it: "bounding", "effective", ... */
const char *caps_set_name(enum oci_cap_set s);
