/* File descriptors across a unix socket (SCM_RIGHTS), and the signal mask the runtime's
 * waiting processes share: one copy of each, for the runtime, its init and bulwark-net. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* FDPASS_MAX fds at most ride on one message. */
#define FDPASS_MAX 8

/* sendmsg of iov[0..iovlen) with fds[0..nfds) attached (none when nfds is 0), retried on
 * EINTR. flags go to sendmsg (MSG_NOSIGNAL is always added). Returns sendmsg's result; -1
 * with errno set (EINVAL for more than FDPASS_MAX fds). */
ssize_t fdpass_send(int sock, const struct iovec *iov, size_t iovlen, const int *fds, size_t nfds,
		    int flags);

/* Every signal but the synchronous faults (SIGSEGV, SIGBUS): what a process that takes its
 * signals from a signalfd blocks. With with_chld false, SIGCHLD is left out too (the set a
 * signalfd reads while children are reaped elsewhere). */
void sigset_all_but_faults(sigset_t *set, bool with_chld);
