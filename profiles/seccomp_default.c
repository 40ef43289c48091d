/* The built-in hardened default seccomp profile, as data: the rules below, read top to bottom,
 * are the whole policy (`bulwark spec` and `sandbox` embed it; docs/seccomp.md lists the errno
 * each rule gives). Starting point: Docker's default allowlist for a container without
 * capabilities; stricter where the comments say so. Native ABI only (see `architectures`). */
#include "seccomp_internal.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/util.h"

struct rule_arg {
	unsigned int index;
	const char *op;
	uint64_t value;
	uint64_t value_two;
};

struct rule {
	const char *action;
	int errno_ret; /* -1: none */
	const char *const *names;
	struct rule_arg args[2];
	size_t n_args;
};

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALLOW "SCMP_ACT_ALLOW"
#define ERRNO "SCMP_ACT_ERRNO"
#define ARG_EQ(i, v)                                                                               \
	{                                                                                          \
		(i), "SCMP_CMP_EQ", (v), 0                                                         \
	}
#define ARG_GE(i, v)                                                                               \
	{                                                                                          \
		(i), "SCMP_CMP_GE", (v), 0                                                         \
	}
#define ARG_MASKED_EQ(i, mask, v)                                                                  \
	{                                                                                          \
		(i), "SCMP_CMP_MASKED_EQ", (mask), (v)                                             \
	}

/* clone(2) takes its flags in the first argument, except on s390 where the first two are
 * swapped. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif
/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
 * CLONE_NEWNET. (CLONE_NEWTIME only exists for clone3 and unshare, both refused.) */
#define CLONE_NEW_ANY 0x7E020000ULL

/* Docker's allowlist, minus what is refused further down: the syscalls an ordinary program
 * uses. 32-bit names (chown32, fcntl64, ...) only matter on 32-bit hosts; on a 64-bit host they
 * do not exist and the compiler drops them. socketcall(2) is absent on purpose: it hides the
 * socket arguments from seccomp (see the socket rules). */
/* clang-format off */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
	"capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_adjtime",
	"clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
	"clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
	"connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	"fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
	"fcntl64", "fdatasync", "fgetxattr", "file_getattr", "file_setattr", "flistxattr", "flock",
	"fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
	"fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64",
	"futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
	"getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
	"getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
	"getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
	"link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
	"_llseek", "lremovexattr", "lseek", "lsetxattr", "lsm_get_self_attr", "lsm_list_modules",
	"lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
	"memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
	"mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
	"mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "nanosleep", "newfstatat", "_newselect", "open", "openat",
	"openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "poll", "ppoll",
	"ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
	"pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
	"readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
	"recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat",
	"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
	"setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "sigprocmask", "sigreturn", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
	"timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
	"timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
	"uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64",
	"utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
	/* Architecture-specific entry points of ordinary programs (TLS, cache flushes). */
	"arch_prctl", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
	"riscv_flush_icache", "riscv_hwprobe", "s390_pci_mmio_read", "s390_pci_mmio_write",
	"s390_runtime_instr", "set_tls", "sync_file_range2",
	NULL,
};
/* clang-format on */

static const struct rule rules[] = {
    /* personality(2): only the values Docker allows: PER_LINUX (0), UNAME26 (8),
     * ADDR_NO_RANDOMIZE (0x20000), both (0x20008), and the query 0xffffffff. Other
     * personalities change how the kernel treats the process (READ_IMPLIES_EXEC, ...).
     * Anything else: EPERM. */
    {ALLOW, -1, NAMES("personality"), {ARG_EQ(0, 0x0)}, 1},
    {ALLOW, -1, NAMES("personality"), {ARG_EQ(0, 0x8)}, 1},
    {ALLOW, -1, NAMES("personality"), {ARG_EQ(0, 0x20000)}, 1},
    {ALLOW, -1, NAMES("personality"), {ARG_EQ(0, 0x20008)}, 1},
    {ALLOW, -1, NAMES("personality"), {ARG_EQ(0, 0xffffffff)}, 1},
    /* clone(2): threads and processes yes, new namespaces no: any CLONE_NEW* flag -> EPERM.
     * The kernel's own attack surface behind user namespaces is the main reason. */
    {ALLOW, -1, NAMES("clone"), {ARG_MASKED_EQ(CLONE_FLAGS_ARG, CLONE_NEW_ANY, 0)}, 1},
    /* clone3(2) passes its flags in memory, out of seccomp's reach. ENOSYS (not EPERM) makes
     * glibc and musl fall back to clone(2), which the rule above checks. */
    {ERRNO, ENOSYS, NAMES("clone3"), {{0}}, 0},
    /* socket(2): AF_UNIX and AF_NETLINK with any type; AF_INET and AF_INET6 for stream,
     * datagram (unprivileged ICMP included) and seqpacket (SCTP) only. The type is masked
     * with 0xf (SOCK_TYPE_MASK) because SOCK_NONBLOCK and SOCK_CLOEXEC ride on it. SOCK_RAW
     * and the other types get EPERM, as the kernel answers without CAP_NET_RAW. */
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 1 /* AF_UNIX */)}, 1},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 16 /* AF_NETLINK */)}, 1},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 2), ARG_MASKED_EQ(1, 0xf, 1 /* STREAM */)}, 2},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 2), ARG_MASKED_EQ(1, 0xf, 2 /* DGRAM */)}, 2},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 2), ARG_MASKED_EQ(1, 0xf, 5 /* SEQPACKET */)}, 2},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 10), ARG_MASKED_EQ(1, 0xf, 1)}, 2},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 10), ARG_MASKED_EQ(1, 0xf, 2)}, 2},
    {ALLOW, -1, NAMES("socket"), {ARG_EQ(0, 10), ARG_MASKED_EQ(1, 0xf, 5)}, 2},
    /* Families numbered past the kernel's AF_MAX (46 on 6.x) and garbage in the upper 32
     * bits: EAFNOSUPPORT, as for a family the kernel lacks. The families below AF_MAX that
     * are not allowed get the same answer, one rule each (refused_families). */
    {ERRNO, EAFNOSUPPORT, NAMES("socket"), {ARG_GE(0, 46)}, 1},
    /* Explicit refusals. They repeat the default action (EPERM), so they cost nothing in
     * the compiled filter; they are here so that the policy reads completely, so that these
     * syscalls count as known to the profile (EPERM, not the ENOSYS of unknown syscalls),
     * and so that complain mode names them. */
    /* Namespaces: entering or creating one reopens the kernel attack surface a container
     * closes (user namespaces above all). */
    {ERRNO, EPERM, NAMES("unshare", "setns"), {{0}}, 0},
    /* io_uring: its own syscall-free path into most of the kernel, invisible to seccomp,
     * and a long CVE record. Docker refuses it too since 25.0. */
    {ERRNO, EPERM, NAMES("io_uring_setup", "io_uring_enter", "io_uring_register"), {{0}}, 0},
    /* The kernel keyring is only partly namespaced and a long-running source of bugs. */
    {ERRNO, EPERM, NAMES("keyctl", "add_key", "request_key"), {{0}}, 0},
    /* eBPF programs, perf events and userfaultfd: kernel attack surface and side channels
     * (userfaultfd stretches race windows in exploits). */
    {ERRNO, EPERM, NAMES("bpf", "perf_event_open", "userfaultfd"), {{0}}, 0},
    /* Reading or writing another process's memory or descriptors; Docker allows ptrace on
     * new kernels, we do not: a compromised process must not take over its siblings. */
    {ERRNO,
     EPERM,
     NAMES("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"),
     {{0}},
     0},
    /* The machine itself: kexec, modules, reboot, swap, process accounting, quotas. */
    {ERRNO,
     EPERM,
     NAMES("kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	   "create_module", "query_module", "get_kernel_syms", "reboot", "swapon", "swapoff",
	   "acct", "quotactl", "quotactl_fd"),
     {{0}},
     0},
    /* The mount family, old and new API: the container's mount table is fixed at start. */
    {ERRNO,
     EPERM,
     NAMES("mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "open_tree_attr",
	   "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"),
     {{0}},
     0},
    /* File handles bypass path-based checks (the 2014 "shocker" escape). */
    {ERRNO, EPERM, NAMES("open_by_handle_at", "name_to_handle_at"), {{0}}, 0},
    /* x86 LDT editing: only 16-bit code (dosemu, some wine setups) needs it, and it has been
     * a source of kernel bugs. Docker allows it; we do not. */
    {ERRNO, EPERM, NAMES("modify_ldt"), {{0}}, 0},
    /* Changing one's own LSM attributes (AppArmor profile transitions and the like). */
    {ERRNO, EPERM, NAMES("lsm_set_self_attr"), {{0}}, 0},
    /* The 32-bit socket multiplexer: seccomp cannot see the arguments behind it, so it would
     * bypass every socket rule above. 32-bit programs using it cannot create sockets. */
    {ERRNO, EPERM, NAMES("socketcall"), {{0}}, 0},
};

/* socket(2) families below AF_MAX other than AF_UNIX (1), AF_INET (2), AF_INET6 (10) and
 * AF_NETLINK (16): EAFNOSUPPORT, the errno of a kernel built without the family, which
 * programs already treat as "not available" and fall back from. Named by the task: AF_PACKET
 * (17, raw frames), AF_ALG (38, the kernel crypto API: unprivileged and bug-rich), AF_VSOCK
 * (40, host/guest sockets). The rest are rarely used protocols (AX.25, X.25, RDS, TIPC, CAN,
 * Bluetooth, ...), historically a steady source of unprivileged kernel exploits. */
static const unsigned char refused_families[] = {
    0,	3,  4,	5,  6,	7,  8,	9,  11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
};

/* ioctl(2) requests no container may make: TIOCSTI pushes bytes into a terminal's input, so
 * a process holding the caller's terminal (an inherited fd) could type commands that the
 * caller's shell runs once the container has exited; TIOCLINUX does the same on a virtual
 * console (selection paste) and more. EPERM, the kernel's own answer without the rights. */
static const uint32_t refused_ioctls[] = {TIOCSTI, TIOCLINUX};

static struct oci_seccomp_syscall *push_rule(struct oci_seccomp *sc, const char *action,
					     int errno_ret)
{
	sc->syscalls = xrealloc(sc->syscalls, (sc->n_syscalls + 1) * sizeof(*sc->syscalls));
	struct oci_seccomp_syscall *s = &sc->syscalls[sc->n_syscalls++];
	memset(s, 0, sizeof(*s));
	s->action = xstrdup(action);
	if (errno_ret >= 0)
		s->errno_ret = (struct opt_u64){.set = true, .v = (uint64_t)errno_ret};
	return s;
}

static void add_table_rule(struct oci_seccomp *sc, const struct rule *r)
{
	struct oci_seccomp_syscall *s = push_rule(sc, r->action, r->errno_ret);
	s->names = strv_dup((char *const *)r->names);
	s->n_args = r->n_args;
	s->args = r->n_args > 0 ? xcalloc(r->n_args, sizeof(*s->args)) : NULL;
	for (size_t i = 0; i < r->n_args; i++)
		s->args[i] = (struct oci_seccomp_arg){.index = r->args[i].index,
						      .value = r->args[i].value,
						      .value_two = r->args[i].value_two,
						      .op = xstrdup(r->args[i].op)};
}

static void add_refused_family(struct oci_seccomp *sc, unsigned int af)
{
	struct oci_seccomp_syscall *s = push_rule(sc, ERRNO, EAFNOSUPPORT);
	strv_push(&s->names, "socket");
	s->n_args = 1;
	s->args = xcalloc(1, sizeof(*s->args));
	s->args[0] =
	    (struct oci_seccomp_arg){.index = 0, .value = af, .op = xstrdup("SCMP_CMP_EQ")};
}

static bool refused_ioctl_under(uint32_t mask, uint32_t prefix)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused_ioctls); i++)
		if ((refused_ioctls[i] & mask) == prefix)
			return true;
	return false;
}

/* The allowed requests as a union of "(request & mask) == prefix" rules: walking the binary
 * trie of 32-bit values from the top bit, each subtree holding no refused request is one rule.
 * The kernel reads the request as 32 bits (unsigned int cmd), so the masks never cover the
 * upper half and garbage there cannot turn a refused request into an allowed one. A plain
 * allow-with-exceptions cannot be written: an ERRNO(EPERM) rule repeats the default action,
 * which libseccomp (and so runc and crun) skips. */
static void add_ioctl_allow(struct oci_seccomp *sc, int bit, uint32_t mask, uint32_t prefix)
{
	if (!refused_ioctl_under(mask, prefix)) {
		struct oci_seccomp_syscall *s = push_rule(sc, ALLOW, -1);
		strv_push(&s->names, "ioctl");
		s->n_args = 1;
		s->args = xcalloc(1, sizeof(*s->args));
		s->args[0] = (struct oci_seccomp_arg){.index = 1,
						      .value = mask,
						      .value_two = prefix,
						      .op = xstrdup("SCMP_CMP_MASKED_EQ")};
		return;
	}
	if (bit < 0)
		return; /* exactly a refused request */
	uint32_t m = mask | (1u << bit);
	add_ioctl_allow(sc, bit - 1, m, prefix);
	add_ioctl_allow(sc, bit - 1, m, prefix | (1u << bit));
}

/* The refusal itself, for the reader and complain mode; it repeats the default action, so it
 * costs nothing in the compiled filter. */
static void add_ioctl_refusals(struct oci_seccomp *sc)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused_ioctls); i++) {
		struct oci_seccomp_syscall *s = push_rule(sc, ERRNO, EPERM);
		strv_push(&s->names, "ioctl");
		s->n_args = 1;
		s->args = xcalloc(1, sizeof(*s->args));
		s->args[0] = (struct oci_seccomp_arg){.index = 1,
						      .value = 0xffffffffu,
						      .value_two = refused_ioctls[i],
						      .op = xstrdup("SCMP_CMP_MASKED_EQ")};
	}
}

int seccomp_default_profile(struct oci_seccomp **out, struct bw_error *err)
{
	struct oci_seccomp *sc = xcalloc(1, sizeof(*sc));
	/* Anything not named: EPERM ("not allowed"), except syscalls newer than this profile,
	 * which the compiler's ENOSYS stub answers with ENOSYS so that libc falls back. */
	sc->default_action = xstrdup(ERRNO);
	sc->default_errno_ret = (struct opt_u64){.set = true, .v = EPERM};
	/* Native ABI only: the compat ABIs (i386 and x32 on x86_64, arm on aarch64) double the
	 * syscall surface, are a recurrent source of kernel bugs, and on i386 route sockets
	 * through socketcall(2), which hides the arguments the socket rules check. A 32-bit
	 * binary is killed on its first syscall (libseccomp's bad-architecture action). */
	const char *native = seccomp_arch_oci_name(seccomp_arch_native());
	if (native != NULL)
		strv_push(&sc->architectures, native);
	struct oci_seccomp_syscall *allow = push_rule(sc, ALLOW, -1);
	allow->names = strv_dup((char *const *)allowed);
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		add_table_rule(sc, &rules[i]);
	add_ioctl_allow(sc, 31, 0, 0);
	add_ioctl_refusals(sc);
	for (size_t i = 0; i < ARRAY_SIZE(refused_families); i++)
		add_refused_family(sc, refused_families[i]);
	*out = sc;
	return 0;
}
