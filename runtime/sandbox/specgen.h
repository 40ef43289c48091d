/* The hardened default config.json, rendered as JSON text: `bulwark spec` writes it, and
 * `bulwark sandbox` feeds it (with its flags applied) through the same parser and validation
 * as any bundle's config. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_seccomp;

struct specgen_bind {
	char *source;
	char *destination;
	bool readonly;
};

struct specgen {
	const char *root_path;
	bool root_readonly;
	bool host_root; /* root is the host's "/": hide its sockets and runtime state */
	/* sandbox's minimal view: the root is a fresh tmpfs attached over root_path (carried to
	 * the runtime by create_opts, not by the spec); its mounts are all that is there */
	bool root_tmpfs;
	char **args;
	char **env;
	const char *cwd;
	uint32_t uid, gid;
	bool terminal;
	const char *home; /* tmpfs HOME (NULL: none) */
	/* sizes of the /tmp and /var/tmp tmpfs and of HOME's, in bytes (0: 256 MiB and 64 MiB);
	 * when set, the file count (nr_inodes) is one per 4 KiB page of the size */
	int64_t tmp_bytes, home_bytes;
	struct specgen_bind *binds;
	size_t n_binds;
	bool rootless; /* map the caller's own uid/gid instead of a subordinate range */
	uint32_t host_uid, host_gid, map_size;
	/* the container ids the maps start at (0; a rootless sandbox maps only its user) */
	uint32_t map_uid, map_gid;
	/* rootless with subordinate ranges (subids.h): container ids 0-65535 map to the caller's
	 * 65,535 subordinate ids around map_uid/map_gid, which stays the caller's own */
	bool subids;
	uint32_t sub_uid, sub_gid;
	uint64_t nproc;	  /* RLIMIT_NPROC (0: none): a rootless sandbox's task limit */
	uint64_t fsize;	  /* RLIMIT_FSIZE in bytes (0: none) */
	bool no_rt_sched; /* RLIMIT_RTPRIO and RLIMIT_NICE 0: no real-time or raised priority */
	struct oci_seccomp *seccomp; /* linux.seccomp (NULL: none), the caller's */
	const char *hostname;
	int64_t pids_limit; /* 0: none */
	int64_t memory_limit;
	int64_t cpu_quota, cpu_period;
	/* cpu.shares (v1; converted for v2) and, on a cgroup v2 host, cpu.weight as a unified
	 * key, which wins over the conversion (0: not set) */
	uint64_t cpu_shares, cpu_weight;
	uint64_t nofile;
	char **annotations; /* "key=value" */
	bool network_none;  /* a new network namespace with only loopback */
	/* `session create --checkpointable`: Landlock and the generated AppArmor profile off
	 * (CRIU can carry neither over; docs/sessions.md) */
	bool no_lsm_for_criu;
};

/* Defaults for `bulwark spec`: root "rootfs" read-only, sh, uid/gid 1000 inside a user
 * namespace mapping 0-65535 to an unprivileged host range. */
void specgen_defaults(struct specgen *sg);
/* Returns malloc'd JSON. */
char *specgen_render(const struct specgen *sg, bool pretty);
/* The first host id of the range the hardened default maps container ids onto. */
#define SPECGEN_HOST_ID_BASE 100000000u
