/* no_memfd [--fsopen-only|--both] CMD ARGS...: runs CMD with memfd_create failing with ENOSYS
 * (a kernel or a seccomp policy without it); --fsopen-only fails fsopen instead (no read-only
 * overlay of the binary: the runtime's memfd copy then), --both fails the two (no sealed copy
 * of either kind), to check that the runtime fails closed instead of running unsealed. Root
 * only (installs the filter with CAP_SYS_ADMIN, no no_new_privs). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long a = SYS_memfd_create, b = SYS_memfd_create;
	if (argc > 1 && strcmp(argv[1], "--fsopen-only") == 0)
		a = b = SYS_fsopen;
	else if (argc > 1 && strcmp(argv[1], "--both") == 0)
		b = SYS_fsopen;
	if (argc > 1 && argv[1][0] == '-') {
		argv++;
		argc--;
	}
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)a, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)b, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	if (argc < 2 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("no_memfd");
		return 125;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
