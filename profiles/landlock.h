/* Landlock: the file-system (and TCP, and scoping) confinement of a container, offered through
 * the run.bulwark.landlock* annotations. The plan is built in the runtime parent from the spec
 * (pure); the init applies it with raw syscalls once the root is in place. See docs/landlock.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "oci/spec.h"

#define LANDLOCK_ANNOTATION "run.bulwark.landlock"
#define LANDLOCK_ANNOTATION_RULES "run.bulwark.landlock.rules"
#define LANDLOCK_ANNOTATION_NET "run.bulwark.landlock.net"
#define LANDLOCK_ANNOTATION_SCOPE "run.bulwark.landlock.scope"

/* File-system rights, as in linux/landlock.h (defined here: the installed header may be older
 * than the kernel). */
#define LL_FS_EXECUTE (UINT64_C(1) << 0)
#define LL_FS_WRITE_FILE (UINT64_C(1) << 1)
#define LL_FS_READ_FILE (UINT64_C(1) << 2)
#define LL_FS_READ_DIR (UINT64_C(1) << 3)
#define LL_FS_REMOVE_DIR (UINT64_C(1) << 4)
#define LL_FS_REMOVE_FILE (UINT64_C(1) << 5)
#define LL_FS_MAKE_CHAR (UINT64_C(1) << 6)
#define LL_FS_MAKE_DIR (UINT64_C(1) << 7)
#define LL_FS_MAKE_REG (UINT64_C(1) << 8)
#define LL_FS_MAKE_SOCK (UINT64_C(1) << 9)
#define LL_FS_MAKE_FIFO (UINT64_C(1) << 10)
#define LL_FS_MAKE_BLOCK (UINT64_C(1) << 11)
#define LL_FS_MAKE_SYM (UINT64_C(1) << 12)
#define LL_FS_REFER (UINT64_C(1) << 13)	    /* ABI 2 */
#define LL_FS_TRUNCATE (UINT64_C(1) << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (UINT64_C(1) << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (UINT64_C(1) << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (UINT64_C(1) << 1)
#define LL_SCOPE_ABSTRACT_UNIX (UINT64_C(1) << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (UINT64_C(1) << 1)

/* The groups the plan is made of. */
#define LL_FS_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_FS_WRITE                                                                                \
	(LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE |                \
	 LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM |    \
	 LL_FS_REFER)
/* Rights that mean something on a non-directory (the kernel refuses the others there). */
#define LL_FS_FILE_RIGHTS                                                                          \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

enum landlock_mode {
	LANDLOCK_OFF,	  /* annotation absent or "off" */
	LANDLOCK_DEFAULT, /* what `spec`/`sandbox` set: needs Landlock, uses what the ABI has */
	LANDLOCK_ENFORCE, /* every right and scope of the plan must be enforced */
};

/* "Grant `access` below `path`." When `except` is non-NULL the grant is split: `path` itself
 * gets only READ_DIR/EXECUTE, each entry below it gets `access`, and the listed descendants
 * (absolute paths) get nothing from this rule. That keeps a broad grant (a writable root) from
 * reaching /proc or /dev, which Landlock cannot otherwise take back from below. */
struct landlock_rule {
	char *path; /* absolute, lexically clean, inside the container */
	uint64_t access;
	uint64_t
	    ceiling;   /* what the mount flags already allow (ro, noexec, nodev): planning only */
	char **except; /* NULL or NULL-terminated */
	const char *origin; /* "root", "mounts[3]", "linux.devices[0]", ... for messages */
};

struct landlock_port {
	uint16_t port;
	uint64_t access; /* LL_NET_* */
};

struct landlock_plan {
	enum landlock_mode mode;
	int min_abi;		    /* lower kernel ABI: error naming min_abi_reason */
	const char *min_abi_reason; /* the annotation that raised min_abi */
	struct landlock_rule *rules;
	size_t n_rules;
	bool net; /* handle TCP bind/connect: only the listed ports pass */
	struct landlock_port *ports;
	size_t n_ports;
	uint64_t scope;	     /* LL_SCOPE_* wanted */
	bool scope_required; /* scope came from the annotation: ABI 6 needed */
	bool log_denials;    /* refusals after execve go to the audit log (ABI 7; else none) */
};

/* Build the plan from the annotations, root.readonly, mounts and linux.devices. Pure. With
 * Landlock off, out->mode is LANDLOCK_OFF and nothing else is set. Errors name the
 * annotation: `run.bulwark.landlock.net: "connect:x": not a port`. */
int landlock_plan_from_spec(const struct oci_spec *spec, struct landlock_plan *out,
			    struct bw_error *err);
void landlock_plan_free(struct landlock_plan *plan);

/* The kernel's Landlock ABI: >= 1, or 0 when the kernel has no Landlock (or it is disabled). */
int landlock_abi_version(void);
/* Whether a kernel with ABI `abi` can enforce the plan (pure; the parent may call it early
 * for a clearer error). */
int landlock_plan_check(const struct landlock_plan *plan, int abi, struct bw_error *err);
/* The rights of the plan the kernel can handle at `abi`. */
uint64_t landlock_fs_rights_for_abi(int abi);

/* In the init, in the container's root (after pivot_root), before the user switch: build the
 * ruleset and landlock_restrict_self. exec_fifo_fd (or -1) is the O_PATH fd of exec.fifo,
 * which the init opens for writing afterwards: it gets a write rule of its own. Needs
 * no_new_privs or CAP_SYS_ADMIN in the user namespace (without either it fails with EPERM and
 * a message saying so). A plan that is off does nothing. */
int landlock_apply(const struct landlock_plan *plan, int exec_fifo_fd, struct bw_error *err);

/* The access set an annotation mode word names ("ro", "rx", "rw", "rwx"); 0 if unknown. */
uint64_t landlock_access_from_word(const char *word);
