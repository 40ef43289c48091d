/* Will the kernel be able to load the executable under the process's memory rlimits? Past
 * execve's point of no return a mapping that RLIMIT_AS or RLIMIT_DATA refuses is fatal: the
 * kernel kills the process with SIGSEGV and nobody can say why (exit 139, as with runc). So
 * the init adds up what execve itself maps (the PT_LOAD segments of the file and of its
 * ELF interpreter, and the stack's initial extent) and refuses, naming the rlimit, before
 * anything is exec'd. Passing says only that execve will not die; the program may still
 * need more. */
#include "process.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

#define PAGE 4096ULL
#define STACK_EXPAND (128ULL << 10) /* setup_arg_pages() grows the new stack by this much */

struct exec_need {
	unsigned long long total; /* every mapping: RLIMIT_AS */
	unsigned long long data;  /* private writable ones: RLIMIT_DATA */
};

static unsigned long long page_span(unsigned long long vaddr, unsigned long long len)
{
	unsigned long long start = vaddr & ~(PAGE - 1),
			   end = (vaddr + len + PAGE - 1) & ~(PAGE - 1);
	return end - start;
}

/* Adds the loadable segments of an ELF64 file; *interp gets its PT_INTERP (or ""). Returns -1
 * when the file is not one we can read (the check is then skipped, never failed). */
static int elf_need(const char *path, struct exec_need *n, char *interp, size_t cap)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	Elf64_Ehdr eh;
	interp[0] = '\0';
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 128)
		return -1;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			return -1;
		if (ph.p_type == PT_INTERP && ph.p_filesz > 0 && ph.p_filesz < cap) {
			if (pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) !=
			    (ssize_t)ph.p_filesz)
				return -1;
			interp[ph.p_filesz] = '\0';
		}
		if (ph.p_type != PT_LOAD)
			continue;
		unsigned long long span = page_span(ph.p_vaddr, ph.p_memsz);
		n->total += span;
		if (ph.p_flags & PF_W)
			n->data += span;
	}
	return 0;
}

static int too_low(const struct oci_process *p, int resource, unsigned long long need,
		   const char *exe, struct bw_error *err)
{
	char q[160];
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].resource == resource && p->rlimits[i].soft < need)
			return bw_fail(
			    err, 0,
			    "process.rlimits[%zu] (%s): soft limit %llu is below the %llu "
			    "bytes execve needs to load %s (the kernel would kill it)",
			    i, p->rlimits[i].type, (unsigned long long)p->rlimits[i].soft, need,
			    log_quote(q, sizeof(q), exe));
	return 0;
}

int process_check_exec_limits(const struct oci_process *p, const char *exe, struct bw_error *err)
{
	bool wanted = false;
	for (size_t i = 0; i < p->n_rlimits; i++)
		wanted |=
		    p->rlimits[i].resource == RLIMIT_AS || p->rlimits[i].resource == RLIMIT_DATA;
	if (!wanted)
		return 0;
	struct exec_need n = {0};
	char interp[256], unused[8];
	if (elf_need(exe, &n, interp, sizeof(interp)) < 0)
		return 0;
	if (interp[0] != '\0' && elf_need(interp, &n, unused, sizeof(unused)) < 0)
		return 0;
	/* The stack: its initial extent, capped by RLIMIT_STACK, and at least one page. */
	unsigned long long stack = STACK_EXPAND;
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].resource == RLIMIT_STACK && p->rlimits[i].soft < stack)
			stack = p->rlimits[i].soft < PAGE ? PAGE : p->rlimits[i].soft;
	if (too_low(p, RLIMIT_AS, n.total + stack, exe, err) < 0 ||
	    too_low(p, RLIMIT_DATA, n.data, exe, err) < 0)
		return -1;
	return 0;
}
