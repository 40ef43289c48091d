/* struct oci_spec: the Linux parts of OCI runtime-spec 1.0-1.3 config.json, parsed and
 * validated once (oci_spec_load). Pure data: uses only yajl. Every optional scalar carries a
 * `set` flag so that "absent" and "zero" stay distinct; arrays carry their length; string
 * vectors are NULL-terminated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* -std=gnu11 predefines `linux` as 1; struct oci_spec's member is named after the JSON key,
 * so the macro goes (code must test __linux__, never linux). */
#undef linux

struct opt_i64 {
	bool set;
	int64_t v;
};
struct opt_u64 {
	bool set;
	uint64_t v;
};
struct opt_bool {
	bool set;
	bool v;
};

struct oci_kv {
	char *key;
	char *value;
};

struct oci_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct oci_rlimit {
	char *type;   /* "RLIMIT_NOFILE" */
	int resource; /* RLIMIT_NOFILE */
	uint64_t hard;
	uint64_t soft;
};

/* Largest uid/gid a process may be given: the kernel reads (uid_t)-1 as "leave unchanged",
 * so 4294967295 would silently keep the runtime's root; like runc, 0..2^31-1 only. */
#define OCI_ID_MAX 2147483647u

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	bool umask_set;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
};

enum oci_cap_set {
	OCI_CAP_BOUNDING,
	OCI_CAP_EFFECTIVE,
	OCI_CAP_INHERITABLE,
	OCI_CAP_PERMITTED,
	OCI_CAP_AMBIENT,
	OCI_CAP_NSETS
};

struct oci_capabilities {
	bool set;
	char **sets[OCI_CAP_NSETS]; /* each NULL or a NULL-terminated list of "CAP_X" names */
};

struct oci_io_priority {
	bool set;
	char *klass; /* IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE */
	int priority;
};

struct oci_scheduler {
	bool set;
	char *policy; /* SCHED_OTHER ... SCHED_DEADLINE */
	int nice;
	int priority;
	char **flags;
	uint64_t runtime;
	uint64_t deadline;
	uint64_t period;
};

struct oci_cpu_affinity {
	char *initial; /* cpu list "0-3,7" or NULL */
	char *final;
};

struct oci_process {
	bool terminal;
	bool console_size_set;
	uint32_t console_height;
	uint32_t console_width;
	struct oci_user user;
	char **args;
	char **env;
	char *cwd;
	struct oci_capabilities caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile; /* NULL when absent or "" */
	char *selinux_label;	/* always NULL: a non-empty label is refused */
	struct opt_i64 oom_score_adj;
	struct oci_io_priority io_priority;
	struct oci_scheduler scheduler;
	struct oci_cpu_affinity exec_cpu_affinity;
};

struct oci_mount {
	char *destination; /* absolute and lexically cleaned ("/proc/" -> "/proc") */
	char *type;
	char *source;
	char **options;
	struct oci_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings;
	size_t n_gid_mappings;
};

struct oci_hook {
	char *path;
	char **args;
	char **env;
	struct opt_i64 timeout; /* seconds, > 0 */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_NKINDS
};

struct oci_hooks {
	struct oci_hook *list[OCI_HOOK_NKINDS];
	size_t n[OCI_HOOK_NKINDS];
};

enum oci_ns_type {
	OCI_NS_PID,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS_NTYPES
};

struct oci_namespace {
	enum oci_ns_type type;
	char *path; /* NULL: create a new one */
};

struct oci_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_device {
	char type;  /* 'c' 'b' 'u' 'p' */
	char *path; /* absolute, cleaned, never "/dev" */
	int64_t major;
	int64_t minor;
	bool file_mode_set;
	uint32_t file_mode;
	bool uid_set;
	uint32_t uid;
	bool gid_set;
	uint32_t gid;
};

struct oci_device_cgroup {
	bool allow;
	char type;     /* 'a' 'c' 'b'; 'a' when absent */
	int64_t major; /* -1 = wildcard */
	int64_t minor; /* -1 = wildcard */
	char *access;  /* subset of "rwm"; NULL = "rwm" */
};

struct oci_memory {
	struct opt_i64 limit;
	struct opt_i64 reservation;
	struct opt_i64 swap;
	struct opt_i64 kernel;
	struct opt_i64 kernel_tcp;
	struct opt_u64 swappiness; /* 0..100; uint64(-1) from Go callers reads as unset */
	struct opt_bool disable_oom_killer;
	struct opt_bool use_hierarchy;
	struct opt_bool check_before_update;
};

struct oci_cpu {
	struct opt_u64 shares;
	struct opt_i64 quota;
	struct opt_u64 burst;
	struct opt_u64 period;
	struct opt_i64 realtime_runtime;
	struct opt_u64 realtime_period;
	char *cpus;
	char *mems;
	struct opt_i64 idle;
};

struct oci_weight_device {
	int64_t major;
	int64_t minor;
	struct opt_u64 weight;	    /* uint16 range */
	struct opt_u64 leaf_weight; /* uint16 range */
};

struct oci_throttle_device {
	int64_t major;
	int64_t minor;
	uint64_t rate;
};

enum oci_throttle_kind {
	OCI_THROTTLE_READ_BPS,
	OCI_THROTTLE_WRITE_BPS,
	OCI_THROTTLE_READ_IOPS,
	OCI_THROTTLE_WRITE_IOPS,
	OCI_THROTTLE_NKINDS
};

struct oci_block_io {
	struct opt_u64 weight;	    /* 10..1000 */
	struct opt_u64 leaf_weight; /* 10..1000 */
	struct oci_weight_device *weight_devices;
	size_t n_weight_devices;
	struct oci_throttle_device *throttle[OCI_THROTTLE_NKINDS];
	size_t n_throttle[OCI_THROTTLE_NKINDS];
};

struct oci_hugepage_limit {
	char *page_size; /* "2MB" */
	uint64_t limit;
};

struct oci_net_priority {
	char *name;
	uint32_t priority;
};

struct oci_rdma {
	char *device;
	struct opt_u64 hca_handles;
	struct opt_u64 hca_objects;
};

struct oci_resources {
	struct oci_device_cgroup *devices;
	size_t n_devices;
	struct oci_memory memory;
	struct oci_cpu cpu;
	struct opt_i64 pids_limit; /* <= 0 means unlimited */
	struct oci_block_io block_io;
	struct oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct opt_u64 net_class_id;
	struct oci_net_priority *net_priorities;
	size_t n_net_priorities;
	struct oci_rdma *rdma;
	size_t n_rdma;
	struct oci_kv *unified;
	size_t n_unified;
};

struct oci_seccomp_arg {
	uint32_t index; /* 0..5 */
	uint64_t value;
	uint64_t value_two;
	char *op; /* SCMP_CMP_NE ... SCMP_CMP_MASKED_EQ */
};

struct oci_seccomp_syscall {
	char **names;
	char *action;
	struct opt_u64 errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	char *default_action;
	struct opt_u64 default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct oci_personality {
	bool set;
	char *domain; /* LINUX | LINUX32 */
	char **flags;
};

struct oci_memory_policy {
	bool set;
	char *mode; /* MPOL_DEFAULT ... */
	char *nodes;
	char **flags;
};

struct oci_intel_rdt {
	bool set;
	char *clos_id;
	char *l3_cache_schema;
	char *mem_bw_schema;
	bool enable_cmt;
	bool enable_mbm;
};

struct oci_net_device {
	char *host_name;
	char *name;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	struct oci_time_offset time_monotonic;
	struct oci_time_offset time_boottime;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct oci_resources resources;
	struct oci_kv *sysctl;
	size_t n_sysctl;
	struct oci_seccomp *seccomp; /* NULL when absent */
	char *rootfs_propagation;    /* shared|slave|private|unbindable|rshared|... */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label; /* always NULL: a non-empty label is refused */
	struct oci_personality personality;
	struct oci_intel_rdt intel_rdt; /* never set: intelRdt is refused */
	struct oci_memory_policy memory_policy;
	struct oci_net_device *net_devices; /* always empty: netDevices is refused */
	size_t n_net_devices;
};

struct oci_spec {
	char *oci_version;
	bool has_process;
	struct oci_process process;
	char *root_path; /* as written: relative to the bundle or absolute */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hooks hooks;
	struct oci_kv *annotations;
	size_t n_annotations;
	struct oci_linux linux;
};

/* Parse and validate a config.json document. `what` prefixes errors ("config.json").
 * On failure *out is untouched and err names the JSON path and the reason:
 * "config.json: linux.uidMappings[0].size: must be > 0". Refused outright: more than 4 MiB,
 * nesting deeper than 64, more than 262144 JSON values, comments, invalid UTF-8, NUL
 * characters in strings, duplicate keys in an object. Unknown members are ignored; null is
 * the same as absent. */
int oci_spec_parse(const char *json, size_t len, const char *what, struct oci_spec **out,
		   struct bw_error *err);
/* Read <bundle>/config.json (a regular file, opened O_CLOEXEC|O_NONBLOCK) and parse it.
 * Errors: "config.json: open `<path>`" (+ errno), "config.json: too large", ... */
int oci_spec_load(const char *bundle, struct oci_spec **out, struct bw_error *err);
void oci_spec_free(struct oci_spec *spec);
/* A seccomp section and everything it holds (NULL: nothing). */
void oci_seccomp_free(struct oci_seccomp *sc);

/* Parse a process.json (exec --process) into a struct oci_process (same rules as
 * config.json's "process"; paths in errors are relative to the document: "user.uid").
 * On failure *out is zeroed and owns nothing. */
int oci_process_parse(const char *json, size_t len, const char *what, struct oci_process *out,
		      struct bw_error *err);
void oci_process_free_fields(struct oci_process *p);

/* Parse a LinuxResources object (update --resources); paths like "memory.limit". On
 * failure *out is zeroed and owns nothing. */
int oci_resources_parse(const char *json, size_t len, const char *what, struct oci_resources *out,
			struct bw_error *err);
void oci_resources_free_fields(struct oci_resources *r);

/* Helpers on a parsed spec. */
const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec, enum oci_ns_type t);
const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);
const char *oci_ns_type_name(enum oci_ns_type t);
int oci_ns_type_from_name(const char *name); /* -1 if unknown */
const char *oci_hook_kind_name(enum oci_hook_kind k);
/* Map a rlimit name "RLIMIT_NOFILE" to its number, -1 if unknown. */
int oci_rlimit_from_name(const char *name);
