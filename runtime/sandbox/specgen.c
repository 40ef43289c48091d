/* Rendering of the hardened default spec with yajl_gen. What it contains and why is listed in
 * docs/hardened-default.md; keep the two in step. */
#include "specgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "common/json.h"
#include "common/util.h"
#include "profiles/seccomp.h"
#include "runtime/rootfs/rootfs.h"

#define S(str) yajl_gen_string(g, (const unsigned char *)(str), strlen(str))
#define KS(k, v) (S(k), S(v))
#define KI(k, v) (S(k), yajl_gen_integer(g, (long long)(v)))
#define KB(k, v) (S(k), yajl_gen_bool(g, (v)))

static const char *const default_caps[] = {NULL};

/* Docker's and Podman's masked paths, plus more leaks of host state: the kernel's command
 * line, other users' key quotas, the crash-dump layout, the disks and their activity, and the
 * host's boot id (a masked boot_id reads a fresh random one, rootfs.c). Paths the kernel does
 * not have are skipped. */
static const char *const masked_paths[] = {"/proc/acpi",
					   "/proc/asound",
					   "/proc/interrupts",
					   "/proc/kcore",
					   "/proc/keys",
					   "/proc/latency_stats",
					   "/proc/timer_list",
					   "/proc/timer_stats",
					   "/proc/sched_debug",
					   "/proc/scsi",
					   "/proc/sysrq-trigger",
					   "/proc/kallsyms",
					   "/proc/kmsg",
					   "/proc/kpagecount",
					   "/proc/kpageflags",
					   "/proc/kpagecgroup",
					   "/proc/modules",
					   "/proc/pagetypeinfo",
					   "/proc/slabinfo",
					   "/proc/vmallocinfo",
					   "/proc/config.gz",
					   "/sys/firmware",
					   "/sys/devices/virtual/powercap",
					   "/sys/kernel/debug",
					   "/sys/kernel/tracing",
					   "/sys/kernel/security",
					   "/sys/fs/bpf",
					   "/sys/fs/selinux",
					   "/sys/dev/block",
					   "/proc/cmdline",
					   "/proc/key-users",
					   "/proc/diskstats",
					   "/proc/partitions",
					   "/sys/kernel/vmcoreinfo",
					   "/sys/block",
					   "/sys/class/block",
					   ROOTFS_BOOT_ID_PATH,
					   NULL};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys", NULL};

static void strv_gen(yajl_gen g, const char *key, char *const *v)
{
	S(key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v && v[i]; i++)
		S(v[i]);
	yajl_gen_array_close(g);
}

static void mount_gen(yajl_gen g, const char *dst, const char *type, const char *src,
		      const char *const *opts)
{
	yajl_gen_map_open(g);
	KS("destination", dst);
	KS("type", type);
	KS("source", src);
	strv_gen(g, "options", (char *const *)opts);
	yajl_gen_map_close(g);
}

/* size=BYTES and nr_inodes=one per 4 KiB page of it, or size=DEF and the kernel's default
 * file count (half the RAM's pages) when bytes is 0. */
static void size_opts(int64_t bytes, const char *def, char size[static 64], char inodes[static 40])
{
	inodes[0] = '\0';
	if (bytes <= 0) {
		snprintf(size, 64, "size=%s", def);
		return;
	}
	snprintf(size, 64, "size=%lld", (long long)bytes);
	snprintf(inodes, 40, "nr_inodes=%lld", (long long)(bytes / 4096 > 0 ? bytes / 4096 : 1));
}

/* Components of an absolute path ("/" 0, "/a/b" 2; repeated slashes count once). */
static size_t path_depth(const char *p)
{
	size_t d = 0;
	for (char prev = '/'; *p != '\0'; prev = *p++)
		if (*p != '/' && prev == '/')
			d++;
	return d;
}

static void mounts_gen(yajl_gen g, const struct specgen *sg)
{
	char tmpopt[64], tmpino[40], homeopt[64], homeino[40], uidopt[32], gidopt[32];
	S("mounts");
	yajl_gen_array_open(g);
	mount_gen(g, "/proc", "proc", "proc", (const char *[]){"nosuid", "noexec", "nodev", NULL});
	mount_gen(
	    g, "/dev", "tmpfs", "tmpfs",
	    (const char *[]){"nosuid", "noexec", "strictatime", "mode=755", "size=65536k", NULL});
	mount_gen(g, "/dev/pts", "devpts", "devpts",
		  (const char *[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
				   NULL});
	mount_gen(g, "/dev/shm", "tmpfs", "shm",
		  (const char *[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL});
	mount_gen(g, "/dev/mqueue", "mqueue", "mqueue",
		  (const char *[]){"nosuid", "noexec", "nodev", NULL});
	mount_gen(g, "/sys", "sysfs", "sysfs",
		  (const char *[]){"nosuid", "noexec", "nodev", "ro", NULL});
	size_opts(sg->tmp_bytes, "256m", tmpopt, tmpino);
	mount_gen(g, "/tmp", "tmpfs", "tmpfs",
		  (const char *[]){"nosuid", "nodev", "mode=1777", tmpopt,
				   tmpino[0] ? tmpino : NULL, NULL});
	if (sg->host_root) {
		/* The host's /run holds sockets (container engines, D-Bus) that a read-only
		 * mount does not stop anyone from connecting to. */
		mount_gen(
		    g, "/run", "tmpfs", "tmpfs",
		    (const char *[]){"nosuid", "nodev", "noexec", "mode=755", "size=1m", NULL});
		if (sg->root_tmpfs || access("/var/tmp", F_OK) == 0)
			mount_gen(g, "/var/tmp", "tmpfs", "tmpfs",
				  (const char *[]){"nosuid", "nodev", "mode=1777", tmpopt,
						   tmpino[0] ? tmpino : NULL, NULL});
	}
	if (sg->home != NULL) {
		snprintf(uidopt, sizeof(uidopt), "uid=%u", sg->uid);
		snprintf(gidopt, sizeof(gidopt), "gid=%u", sg->gid);
		size_opts(sg->home_bytes, "64m", homeopt, homeino);
		mount_gen(g, sg->home, "tmpfs", "tmpfs",
			  (const char *[]){"nosuid", "nodev", "mode=700", uidopt, gidopt, homeopt,
					   homeino[0] ? homeino : NULL, NULL});
	}
	/* Parents before what lies below them, whatever order the flags came in: a later bind
	 * of a parent (an rw workspace over `--ro WS/.git`) would cover the one below it. */
	size_t *order = xcalloc(sg->n_binds + 1, sizeof(*order));
	for (size_t i = 0; i < sg->n_binds; i++) {
		size_t k = i, d = path_depth(sg->binds[i].destination);
		for (; k > 0 && path_depth(sg->binds[order[k - 1]].destination) > d; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	for (size_t n = 0; n < sg->n_binds; n++) {
		size_t i = order[n];
		mount_gen(g, sg->binds[i].destination, "bind", sg->binds[i].source,
			  sg->binds[i].readonly
			      ? (const char *[]){"rbind", "ro", "rro", "nosuid", "nodev", "rnosuid",
						 "rnodev", NULL}
			      : (const char *[]){"rbind", "rw", "nosuid", "nodev", "rnosuid",
						 "rnodev", NULL});
	}
	free(order);
	yajl_gen_array_close(g);
}

static void process_gen(yajl_gen g, const struct specgen *sg)
{
	S("process");
	yajl_gen_map_open(g);
	KB("terminal", sg->terminal);
	S("user");
	yajl_gen_map_open(g);
	KI("uid", sg->uid);
	KI("gid", sg->gid);
	KI("umask", 022);
	yajl_gen_map_close(g);
	strv_gen(g, "args", sg->args);
	strv_gen(g, "env", sg->env);
	KS("cwd", sg->cwd ? sg->cwd : "/");
	S("capabilities");
	yajl_gen_map_open(g);
	const char *sets[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		strv_gen(g, sets[i], (char *const *)default_caps);
	yajl_gen_map_close(g);
	S("rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	KS("type", "RLIMIT_NOFILE");
	KI("hard", sg->nofile);
	KI("soft", sg->nofile);
	yajl_gen_map_close(g);
	yajl_gen_map_open(g);
	KS("type", "RLIMIT_CORE");
	KI("hard", 0);
	KI("soft", 0);
	yajl_gen_map_close(g);
	if (sg->fsize > 0) {
		yajl_gen_map_open(g);
		KS("type", "RLIMIT_FSIZE");
		KI("hard", sg->fsize);
		KI("soft", sg->fsize);
		yajl_gen_map_close(g);
	}
	for (int i = 0; sg->no_rt_sched && i < 2; i++) {
		yajl_gen_map_open(g);
		KS("type", i == 0 ? "RLIMIT_RTPRIO" : "RLIMIT_NICE");
		KI("hard", 0);
		KI("soft", 0);
		yajl_gen_map_close(g);
	}
	if (sg->nproc > 0) {
		yajl_gen_map_open(g);
		KS("type", "RLIMIT_NPROC");
		KI("hard", sg->nproc);
		KI("soft", sg->nproc);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	KB("noNewPrivileges", true);
	KI("oomScoreAdj", 500);
	yajl_gen_map_close(g);
}

static void idmap_gen(yajl_gen g, const char *key, uint32_t container, uint32_t host, uint32_t size)
{
	S(key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	KI("containerID", container);
	KI("hostID", host);
	KI("size", size);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

static void idmap_range(yajl_gen g, uint32_t container, uint32_t host, uint32_t size)
{
	yajl_gen_map_open(g);
	KI("containerID", container);
	KI("hostID", host);
	KI("size", size);
	yajl_gen_map_close(g);
}

/* 0-65535 inside: the user's own id at `own`, the subordinate range `sub` around it. */
static void idmap_sub_gen(yajl_gen g, const char *key, uint32_t own, uint32_t host, uint32_t sub)
{
	S(key);
	yajl_gen_array_open(g);
	if (own > 0)
		idmap_range(g, 0, sub, own);
	idmap_range(g, own, host, 1);
	if (own < 65535)
		idmap_range(g, own + 1, sub + own, 65535 - own);
	yajl_gen_array_close(g);
}

static void resources_gen(yajl_gen g, const struct specgen *sg)
{
	S("resources");
	yajl_gen_map_open(g);
	S("devices");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	KB("allow", false);
	KS("access", "rwm");
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	if (sg->pids_limit > 0) {
		S("pids");
		yajl_gen_map_open(g);
		KI("limit", sg->pids_limit);
		yajl_gen_map_close(g);
	}
	if (sg->memory_limit > 0) {
		S("memory");
		yajl_gen_map_open(g);
		KI("limit", sg->memory_limit);
		KI("swap", sg->memory_limit);
		yajl_gen_map_close(g);
	}
	if (sg->cpu_quota > 0 || sg->cpu_shares > 0) {
		S("cpu");
		yajl_gen_map_open(g);
		if (sg->cpu_shares > 0)
			KI("shares", sg->cpu_shares);
		if (sg->cpu_quota > 0) {
			KI("quota", sg->cpu_quota);
			KI("period", sg->cpu_period);
		}
		yajl_gen_map_close(g);
	}
	if (sg->cpu_weight > 0) {
		char w[24];
		snprintf(w, sizeof(w), "%llu", (unsigned long long)sg->cpu_weight);
		S("unified");
		yajl_gen_map_open(g);
		KS("cpu.weight", w);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

static void linux_gen(yajl_gen g, const struct specgen *sg)
{
	S("linux");
	yajl_gen_map_open(g);
	S("namespaces");
	yajl_gen_array_open(g);
	const char *ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"};
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		yajl_gen_map_open(g);
		KS("type", ns[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (sg->subids) {
		idmap_sub_gen(g, "uidMappings", sg->map_uid, sg->host_uid, sg->sub_uid);
		idmap_sub_gen(g, "gidMappings", sg->map_gid, sg->host_gid, sg->sub_gid);
	} else {
		idmap_gen(g, "uidMappings", sg->map_uid, sg->host_uid, sg->map_size);
		idmap_gen(g, "gidMappings", sg->map_gid, sg->host_gid, sg->map_size);
	}
	resources_gen(g, sg);
	strv_gen(g, "maskedPaths", (char *const *)masked_paths);
	strv_gen(g, "readonlyPaths", (char *const *)readonly_paths);
	KS("rootfsPropagation", "private"); /* the schema allows no r-prefixed value */
	if (sg->seccomp != NULL) {
		S("seccomp");
		seccomp_profile_gen(g, sg->seccomp);
	}
	yajl_gen_map_close(g);
}

void specgen_defaults(struct specgen *sg)
{
	static char *args[] = {"sh", NULL};
	static char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      "TERM=xterm", "HOME=/tmp", NULL};
	memset(sg, 0, sizeof(*sg));
	sg->root_path = "rootfs";
	sg->root_readonly = true;
	sg->args = args;
	sg->env = env;
	sg->cwd = "/";
	sg->uid = 1000;
	sg->gid = 1000;
	sg->terminal = true;
	sg->host_uid = SPECGEN_HOST_ID_BASE;
	sg->host_gid = SPECGEN_HOST_ID_BASE;
	sg->map_size = 65536;
	sg->hostname = "bulwark";
	sg->pids_limit = 1024;
	sg->nofile = 1024;
	sg->network_none = true;
}

char *specgen_render(const struct specgen *sg, bool pretty)
{
	yajl_gen g = json_gen_new(pretty);
	yajl_gen_map_open(g);
	KS("ociVersion", "1.2.0");
	process_gen(g, sg);
	S("root");
	yajl_gen_map_open(g);
	KS("path", sg->root_path);
	KB("readonly", sg->root_readonly);
	yajl_gen_map_close(g);
	KS("hostname", sg->hostname ? sg->hostname : "bulwark");
	mounts_gen(g, sg);
	S("annotations");
	yajl_gen_map_open(g);
	/* Landlock confines the file system on every kernel that has it (hosts without AppArmor
	 * above all); AppArmor's default profile is loaded where the host has AppArmor. */
	KS("run.bulwark.landlock", sg->no_lsm_for_criu ? "off" : "default");
	KS("run.bulwark.apparmor", sg->no_lsm_for_criu ? "off" : "default");
	if (sg->annotations != NULL) {
		for (size_t i = 0; sg->annotations[i]; i++) {
			const char *eq = strchr(sg->annotations[i], '=');
			if (eq == NULL)
				continue;
			yajl_gen_string(g, (const unsigned char *)sg->annotations[i],
					(size_t)(eq - sg->annotations[i]));
			S(eq + 1);
		}
	}
	yajl_gen_map_close(g);
	linux_gen(g, sg);
	yajl_gen_map_close(g);
	size_t len;
	char *out = json_take(g, false, &len);
	if (pretty) { /* `bulwark spec`'s file as it always was: a blank line after the object */
		out = xrealloc(out, len + 2);
		memcpy(out + len, "\n", 2);
	}
	return out;
}
