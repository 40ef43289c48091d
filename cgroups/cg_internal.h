/* Internal interface of the cgroup manager: the hierarchy model shared by the v1 and v2
 * back-ends, and the pure translation helpers (cg_convert.c, cg_paths.c, cg_devices.c) that
 * the unit tests call directly. Nothing outside cgroups/ and its tests includes this. */
#pragma once

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cgroups/cgroup.h"
#include "common/error.h"
#include "oci/spec.h"

/* Controllers, by what they do. On v2 CG_BLKIO is "io", CG_CPUACCT is part of "cpu", and
 * CG_DEVICES / CG_FREEZER are core features of every non-root cgroup. */
enum cg_ctrl {
	CG_CPU,
	CG_CPUACCT,
	CG_CPUSET,
	CG_MEMORY,
	CG_DEVICES,
	CG_FREEZER,
	CG_BLKIO,
	CG_PIDS,
	CG_HUGETLB,
	CG_NET_CLS,
	CG_NET_PRIO,
	CG_RDMA,
	CG_MISC,
	CG_PERF_EVENT,
	CG_NCTRL
};

const char *cg_ctrl_v1_name(enum cg_ctrl c);
/* The v2 controller name, or NULL when v2 has no such controller (core or none). */
const char *cg_ctrl_v2_name(enum cg_ctrl c);
int cg_ctrl_from_v1_name(const char *name);
/* The linux.resources field a controller serves ("linux.resources.memory"), for errors. */
const char *cg_ctrl_field(enum cg_ctrl c);
int cg_ctrl_from_v2_name(const char *name);

/* One mounted hierarchy, as read from /proc/self/mountinfo. */
struct cg_mount {
	char *mountpoint; /* "/sys/fs/cgroup/cpu" */
	char *root;	  /* the mount's root inside the hierarchy, usually "/" */
	bool v2;
	char *name;	/* "systemd" for name=systemd, NULL otherwise */
	uint32_t ctrls; /* v1: bitmask of enum cg_ctrl */
	char *label;	/* "cpu,cpuacct", "name=systemd", "unified" */
	unsigned dev_major, dev_minor;
};

/* Parse mountinfo text into the cgroup hierarchies it mounts (one entry per hierarchy: a
 * hierarchy mounted twice is kept once, at its first mount). */
int cg_mountinfo_parse(const char *text, struct cg_mount **out, size_t *n, struct bw_error *err);
void cg_mounts_free(struct cg_mount *m, size_t n);
/* Unified when /sys/fs/cgroup itself is cgroup2 (or only cgroup2 is mounted), hybrid when
 * v1 hierarchies and a cgroup2 mount coexist, legacy for v1 only. -1 when nothing is mounted. */
int cg_mode_from_mounts(const struct cg_mount *m, size_t n);

/* The caller's own cgroup from /proc/self/cgroup text: the "0::" line when want_v2, else the
 * name=systemd line, else the first line. malloc'd, NULL if none. */
char *cg_own_cgroup_parse(const char *text, bool want_v2);
/* Resolve linux.cgroupsPath (see cgroup.h) against own (the caller's cgroup). */
int cg_resolve_path(const char *cgroups_path, const char *id, const char *own, char **out,
		    struct bw_error *err);
/* --systemd-cgroup's linux.cgroupsPath "slice:prefix:name" (empty: "system.slice:bulwark:<id>";
 * an empty slice is system.slice): the scope unit "prefix-name.scope" (or "name.scope"), its
 * slice, and its cgroup, the slice expanded as systemd does ("a-b.slice" ->
 * "/a.slice/a-b.slice/<unit>"). Pure; errors name linux.cgroupsPath. */
struct cg_sd_name {
	char *slice, *unit, *path;
};
int cg_systemd_parse(const char *cgroups_path, const char *id, struct cg_sd_name *out,
		     struct bw_error *err);
void cg_sd_name_free(struct cg_sd_name *n);

/* ---- the systemd driver (cg_systemd.c; the properties in cg_systemd_props.c) ---- */

/* One unit property of type "t" (u64), or "ay" when bytes is set. */
struct cg_sd_prop {
	const char *name;
	uint64_t u64;
	uint8_t *bytes;
	size_t nbytes;
};
/* The unit properties systemd knows for resources r (v2 names, or v1's where v2 is false):
 * MemoryMax, MemoryLow, MemorySwapMax, CPUWeight, CPUQuotaPerSecUSec, CPUQuotaPeriodUSec,
 * AllowedCPUs, AllowedMemoryNodes, TasksMax, IOWeight. Zero values are left out, as in the
 * files. Pure. */
int cg_sd_props(const struct oci_resources *r, bool v2, struct cg_sd_prop **out, size_t *n,
		struct bw_error *err);
void cg_sd_props_free(struct cg_sd_prop *v, size_t n);
/* Talk to systemd: is it there and answering (its Version property)? */
int cg_sd_check(struct bw_error *err);
/* StartTransientUnit of cg's scope with pid in it, Delegate=yes and r's properties; waits for
 * the job. On failure no unit is left. */
int cg_sd_start(struct cg_manager *cg, pid_t pid, const struct oci_resources *r,
		struct bw_error *err);
/* SetUnitProperties (runtime) for r. */
int cg_sd_set(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err);
/* SetUnitProperties (runtime) DevicePolicy/DeviceAllow for r's device rules (with bulwark's
 * defaults), cg_devices_sd_plan's translation: on a v1 devices hierarchy systemd rewrites the
 * scope's devices files from these whenever it re-realizes the unit. */
int cg_sd_set_devices(struct cg_manager *cg, const struct oci_resources *r, struct bw_error *err);
/* Whether the unit is this container's: systemd has none of that name (0: what is left at the
 * path is ours) or its Description is cg->sd_desc (0); another's (1). */
int cg_sd_owner_check(struct cg_manager *cg, struct bw_error *err);
/* StopUnit and wait; then ResetFailedUnit. A unit that is already gone is fine. */
int cg_sd_stop(struct cg_manager *cg, struct bw_error *err);

/* The directory of cgroup `path` in a hierarchy mounted at mountpoint with root `root`. */
char *cg_dir_in_mount(const char *mountpoint, const char *root, const char *path);

/* ---- pure conversions (cg_convert.c) ---- */

/* cpu.shares (2..262144) -> cpu.weight (1..10000). */
uint64_t cg_shares_to_weight(uint64_t shares);
/* blkio weight (10..1000) -> io.weight (1..10000). */
uint64_t cg_blkio_weight_to_io(uint64_t weight);
/* memory.swap.max from OCI swap (memory+swap, -1 = unlimited) and the effective memory limit
 * (-1 = unlimited). swap must be non-zero. Writes "max" or a number into out. */
int cg_swap_to_v2(int64_t swap, int64_t limit, char out[static 32], struct bw_error *err);
/* Validate shares/quota/period ranges (0 = unset). */
int cg_cpu_validate(const struct oci_cpu *cpu, struct bw_error *err);
/* The cpu.max line for quota/period (0 or absent = unchanged); current is the file's present
 * content ("max 100000"). *write is false when nothing needs writing. */
int cg_cpu_max_string(const struct oci_cpu *cpu, const char *current, char out[static 64],
		      bool *write, struct bw_error *err);
/* Validate the blockIO weights and device numbers. */
int cg_blkio_validate(const struct oci_block_io *b, struct bw_error *err);
/* io.max lines, one per device: "8:0 rbps=1048576 wiops=100" (rate 0 = "max"). */
char **cg_io_max_lines(const struct oci_block_io *b);
/* Parse a cpu/node list ("0-3,7"); *max_out = highest listed. -1 on a syntax error. */
int cg_cpulist_parse(const char *list, uint64_t **bits, size_t *nwords, unsigned *max_out);
/* Check that every member of list is in present; field names the JSON path, noun is "CPU" or
 * "memory node". */
int cg_cpulist_check(const char *field, const char *noun, const char *list, const char *present,
		     struct bw_error *err);
/* "2MB", "1GB", "64KB". */
bool cg_hugepage_size_valid(const char *s);
/* A unified key's name alone: no path separators, "<controller>.<file>", not a core file that
 * would move processes or change the tree. */
int cg_unified_key_check(const char *key, struct bw_error *err);
/* Leading part of a key or file name up to the first '.' (malloc'd). */
char *cg_key_controller(const char *key);

/* ---- devices (cg_devices.c, cg_devices_bpf.c) ---- */

enum { CG_ACC_MKNOD = 1, CG_ACC_READ = 2, CG_ACC_WRITE = 4, CG_ACC_ALL = 7 };

struct cg_dev_rule {
	bool allow;
	char type;     /* 'a' 'c' 'b' */
	int64_t major; /* -1 = any */
	int64_t minor; /* -1 = any */
	unsigned access;
	size_t src; /* its index in linux.resources.devices, for messages */
};

/* linux.resources.devices validated, then bulwark's default allowed devices appended (they
 * win, like runc's). The result is evaluated in order, last match wins, default deny. */
int cg_dev_rules_build(const struct oci_resources *r, struct cg_dev_rule **out, size_t *n,
		       struct bw_error *err);
/* The default allowed devices (null, zero, full, random, urandom, tty, console, ptmx, pts). */
const struct cg_dev_rule *cg_dev_default_rules(size_t *n);
/* "c 1:3 rwm", "a *:* rwm" into buf. */
void cg_dev_rule_format(const struct cg_dev_rule *r, char buf[static 64]);

/* One write to a v1 devices cgroup: devices.allow or devices.deny. */
struct cg_v1_dev_write {
	bool allow;
	char rule[64];
};
/* The v1 write sequence for rules: "deny a", then each rule as the kernel's exception list
 * can hold it. Rules that v1 cannot express exactly (a deny carving a hole in an earlier
 * allow) are errors rather than silently wider access. */
int cg_devices_v1_plan(const struct cg_dev_rule *r, size_t n, struct cg_v1_dev_write **out,
		       size_t *nout, struct bw_error *err);

/* One systemd DeviceAllow entry: "/dev/char/1:3", "char-136" (any minor), "block-*" (any
 * device of the type); perms of "rwm". */
struct cg_sd_dev {
	char path[48];
	char perms[4];
};
/* The rules in systemd's allow-list form, as the v1 kernel would hold them: *allow_all (then
 * DevicePolicy=auto and no entries), else DevicePolicy=strict and the entries. What systemd
 * cannot say is refused, never widened or narrowed: a deny below an allow-all default, and an
 * any-major rule for one minor. Pure. */
int cg_devices_sd_plan(const struct cg_dev_rule *r, size_t n, bool *allow_all,
		       struct cg_sd_dev **out, size_t *nout, struct bw_error *err);

/* The BPF_PROG_TYPE_CGROUP_DEVICE program for the rules (pure). */
int cg_devices_bpf_build(const struct cg_dev_rule *r, size_t n, struct bpf_insn **out, size_t *nout,
			 struct bw_error *err);
/* Load the program and attach it to the cgroup dir (BPF_F_ALLOW_MULTI); with replace, detach
 * every other device program attached there afterwards. */
int cg_devices_bpf_attach(const char *dir, const struct bpf_insn *insns, size_t n, bool replace,
			  struct bw_error *err);

/* ---- the manager ---- */

struct cg_hier {
	struct cg_mount m;
	char *dir;    /* this container's cgroup directory in the hierarchy */
	char **made;  /* directories cg_create made, outermost first (rollback) */
	bool existed; /* the leaf was there before cg_create */
};

struct cg_manager {
	enum cg_mode mode;
	char *path;
	struct cg_hier *h;
	size_t nh;
	int v2;		       /* index of the cgroup2 hierarchy, -1 if none */
	int ctrl_at[CG_NCTRL]; /* hierarchy index providing each controller, -1 if none */
	int clone_fd;
	int place_lock;	     /* flock of the leaf from mkdir until the init is in (cg_placed) */
	char **parents_made; /* directories above ours cg_create made, outermost first */
	/* --systemd-cgroup: the scope unit that owns the cgroup (NULL: the cgroupfs driver). */
	char *sd_unit, *sd_slice, *sd_desc;
	bool sd_started;		    /* cg_enter started it, or attached */
	bool sd_attached;		    /* attached: ownership is asked of systemd */
	const struct oci_resources *sd_res; /* what cg_create was given, for cg_enter */
	/* cg_open_delegated: the delegated cgroup (a cgroup path) the container's is below; NULL
	 * otherwise. */
	char *deleg;
	bool unpriv;	      /* opened without root: no eBPF device filter can be loaded */
	bool allow_populated; /* cg_allow_populated */
};

/* The hierarchy serving a controller, or NULL. */
struct cg_hier *cg_hier_for(struct cg_manager *cg, enum cg_ctrl c);

/* Small file helpers on a cgroup directory. */
int cg_write(const char *dir, const char *file, const char *value, struct bw_error *err);

/* The parent of the containers without a cgroupsPath, and its CPU weight when bulwark makes it:
 * half the default (cgroup v2 cpu.weight 100, v1 cpu.shares 1024). */
#define CG_DEFAULT_PARENT "/bulwark"
#define CG_DEFAULT_PARENT_WEIGHT "50"
#define CG_DEFAULT_PARENT_SHARES "512"
int cg_writef(const char *dir, const char *file, struct bw_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Read a file, trailing newline stripped. */
int cg_read(const char *dir, const char *file, char **out, struct bw_error *err);
bool cg_has_file(const char *dir, const char *file);
/* Read a single unsigned number; "max" reads as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct bw_error *err);
/* Value of `key` in a "key value" lines file (memory.stat, cpu.stat, memory.events). */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
		  struct bw_error *err);

/* What one apply sets. At creation the devices rules are only validated: they go in once the
 * init has made the linux.devices nodes (CG_APPLY_DEVICES), which they would refuse. */
enum cg_apply { CG_APPLY_CREATE, CG_APPLY_DEVICES, CG_APPLY_UPDATE };
/* Back-ends: apply resources for the controllers that live in that kind of hierarchy. */
int cg_v1_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err);
int cg_v2_apply(struct cg_manager *cg, const struct oci_resources *r, enum cg_apply how,
		struct bw_error *err);
/* v2: enable in every ancestor of the leaf the controllers in mask (bits of enum cg_ctrl);
 * required ones must succeed, the others are best effort. */
int cg_v2_enable_controllers(struct cg_manager *cg, uint32_t wanted, uint32_t required,
			     struct bw_error *err);
/* v1: give a new cpuset cgroup its parent's cpus and mems, from the root down. */
int cg_v1_cpuset_init(struct cg_hier *h, struct bw_error *err);

/* ---- helpers both back-ends use (cg_common.c) ---- */

/* cpus/mems, checked against what the host has. */
int cg_cpuset_check(const struct oci_cpu *c, struct bw_error *err);
/* checkBeforeUpdate: refuse a limit below the usage in usage_file. */
int cg_check_usage(const char *dir, const char *usage_file, int64_t limit, struct bw_error *err);
/* hugetlb.<size>.<suffix> (and .<rsvd_suffix> when the kernel has it) for every limit. */
int cg_set_hugetlb(const char *dir, const struct oci_resources *r, const char *suffix,
		   const char *rsvd_suffix, struct bw_error *err);

/* ---- the resource table (cg_table.c) ---- */

/* How one cgroup version spells a resource. */
enum cg_how {
	CG_NOT_HERE, /* no file for it in this version: ignored (debug log) */
	CG_REFUSED,  /* cannot be expressed in this version: an error naming the field */
	CG_CHECKED,  /* nothing to write: the version's check is all (v2 swappiness) */
	CG_DEC,	     /* the number as it is */
	CG_MAX,	     /* the number, a negative one as "max" */
	CG_WEIGHT,   /* cpu.shares as cpu.weight (cg_shares_to_weight) */
	CG_FN,	     /* not one number in one file: set writes it */
};

/* Writes a resource into the cgroup directory dir; update: a runtime update, not a create. */
typedef int cg_set_fn(const char *dir, const struct oci_resources *r, bool update,
		      struct bw_error *err);
typedef int (*cg_check_fn)(const struct oci_resources *r, struct bw_error *err);

struct cg_file {
	enum cg_how how;
	const char *file;  /* CG_DEC, CG_MAX, CG_WEIGHT */
	cg_set_fn *set;	   /* CG_FN */
	cg_check_fn check; /* what only this version refuses (NULL: nothing) */
	bool optional;	   /* a kernel without the file: a debug log, not an error */
};

/* One linux.resources limit: its OCI field, the controller it needs, its checks and what each
 * version writes. Rows are checked, then written, in table order. */
struct cg_resource {
	const char *field; /* "linux.resources.memory.limit", for errors */
	enum cg_ctrl ctrl;
	/* Whether r sets it (Docker's zero values for "unchanged" do not), and the value. With
	 * update, what only an update writes counts too (disableOOMKiller false). */
	bool (*get)(const struct oci_resources *r, bool update, int64_t *v);
	bool is_unsigned;  /* the value is a uint64 */
	bool best_effort;  /* ignored where unsupported: needs no controller (kernel memory) */
	cg_check_fn check; /* on both versions (NULL: the parser's range is all) */
	struct cg_file v1, v2;
};

const struct cg_resource *cg_resource_table(size_t *n);
/* Whether r sets row's field (as create sees it). */
bool cg_resource_requested(const struct cg_resource *row, const struct oci_resources *r);
/* Controllers that resources r asks for (bits of enum cg_ctrl): the table's rows that r sets
 * (best-effort ones aside). linux.resources.devices and .unified are handled apart. */
uint32_t cg_resources_needed(const struct oci_resources *r);
/* Refuse when a controller r needs has no hierarchy on this host (named as v2 calls it, where
 * it has a v2 name, with v2_names). */
int cg_resources_available(struct cg_manager *cg, const struct oci_resources *r, bool v2_names,
			   struct bw_error *err);
/* The text a CG_DEC / CG_MAX / CG_WEIGHT file of row takes for v. */
void cg_resource_format(const struct cg_resource *row, enum cg_how how, int64_t v,
			char out[static 32]);
/* Check, then write, every row r sets whose controller has a directory in dirs (NULL where the
 * back-end does not serve it), as version v2 or v1 spells it. */
int cg_resources_write(const char *const dirs[CG_NCTRL], bool v2, const struct oci_resources *r,
		       bool update, struct bw_error *err);

/* The writers the table names. Both versions (cg_common.c): */
cg_set_fn cg_set_cpus, cg_set_mems, cg_set_rdma;
/* v1 (cg_v1.c): */
cg_set_fn cg_v1_set_cfs, cg_v1_set_memory, cg_v1_set_blkio_weight, cg_v1_set_weight_devices,
    cg_v1_set_throttle, cg_v1_set_hugetlb, cg_v1_set_net_prio;
/* v2 (cg_v2.c): */
cg_set_fn cg_v2_set_cpu_max, cg_v2_set_memory, cg_v2_set_io_weight, cg_v2_set_io_weight_devices,
    cg_v2_set_io_max, cg_v2_set_hugetlb;
int cg_v2_check_swappiness(const struct oci_resources *r, struct bw_error *err);

int cg_v1_freeze(const char *dir, bool freeze, struct bw_error *err);
int cg_v2_freeze(const char *dir, bool freeze, struct bw_error *err);

/* Stats helpers (cg_stats.c). */
int cg_stats_write(struct cg_manager *cg, FILE *f, struct bw_error *err);

/* Refuse when any of cg's directories is frozen or freezing (freezer v1, cgroup2): a process
 * moved there would stop before reporting back (cg_lifecycle.c). */
int cg_refuse_frozen(struct cg_manager *cg, struct bw_error *err);
