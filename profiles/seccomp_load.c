/* The init's side of seccomp: one raw seccomp(2) call right before execve. This file must
 * not include <seccomp.h>: libseccomp exports a seccomp_load() of its own (see seccomp.h). */
#include "seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

int seccomp_prog_load(const struct seccomp_prog *prog, int *listener_fd, struct bw_error *err)
{
	if (listener_fd != NULL)
		*listener_fd = -1;
	if (prog == NULL || prog->filter == NULL || prog->len == 0 || prog->len > BPF_MAXINSNS)
		return bw_fail(err, EINVAL, "seccomp: no valid program to load");
	if (prog->needs_listener && listener_fd == NULL)
		return bw_fail(err, EINVAL, "seccomp: the program needs a listener but no fd slot");
	struct sock_fprog fprog = {.len = (unsigned short)prog->len, .filter = prog->filter};
	unsigned int f =
	    prog->flags | (prog->needs_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, &fprog);
	if (r < 0 && errno == EACCES)
		return bw_fail(err, errno,
			       "seccomp(SECCOMP_SET_MODE_FILTER): needs no_new_privs "
			       "or CAP_SYS_ADMIN");
	if (r < 0)
		return bw_fail(err, errno, "seccomp(SECCOMP_SET_MODE_FILTER, flags 0x%x)", f);
	if (prog->needs_listener) {
		*listener_fd = (int)r;
		return 0;
	}
	/* Without a listener, TSYNC reports a thread it could not synchronise by its id. */
	if (r > 0)
		return bw_fail(err, 0, "seccomp: TSYNC failed for thread %ld", r);
	return 0;
}
