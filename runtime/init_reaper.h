/* bulwark's own pid 1 for sandboxes: the payload runs as its child, so nothing the payload
 * does (prctl(PR_SET_PDEATHSIG, 0), signals, ptrace) can switch off the backstop that ends the
 * pid namespace with its owner. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What pid 1 writes to the owner, in one write, as the payload ends: its wait status, and the
 * bytes the sandbox's reaped processes dirtied on disk-backed file systems (rw workspaces and
 * binds; tmpfs and overlays on it do not count), /proc/self/io's write_bytes, or -1. */
struct init_reaper_status {
	int32_t wait_status;
	int32_t pad;
	int64_t written;
};

/* Opened while the init is still dumpable (a non-dumpable process's /proc files are root's,
 * so it could not open its own later): /proc/self/io, read when the payload has ended. */
void init_reaper_open_io(void);

/* Blocks every signal (saving the old mask in *old) and starts fn(arg) in a child that shares
 * our memory until its execve (CLONE_VM | CLONE_VFORK, as posix_spawn: no copy of our page
 * tables), on a stack of its own; we are suspended until it has exec'd or exited. fn must
 * exec or _exit, never return; it runs in a session of its own, with our controlling
 * terminal if we had one (we give it up), and the signal mask *old again. Returns the child's
 * pid, or -1 with errno set (the mask is restored then). */
pid_t init_reaper_spawn(int (*fn)(void *), void *arg, sigset_t *old);

/* The parent's side, as pid 1 of the sandbox, never returning: PR_SET_PDEATHSIG(SIGKILL) armed
 * and non-dumpable again (after any credential change), every signal it receives forwarded to
 * the payload, every orphan reaped. When the payload exits, its wait status (as waitpid gives
 * it) and the bytes written (struct init_reaper_status) are written to status_fd and pid 1 exits
 * with the shell-style status (code, or 128 + signal). */
__attribute__((noreturn)) void init_reaper_serve(pid_t payload, int status_fd);
/* A session's pid 1: no payload, only the namespaces held and every orphan reaped. Signals from
 * inside are read and dropped (a pid namespace's init cannot be SIGKILLed from inside it); it
 * ends only by SIGKILL from outside, or with its parent (PR_SET_PDEATHSIG). dumpable: see
 * hold_session in init.c. */
__attribute__((noreturn)) void init_reaper_hold(bool dumpable);

/* A checkpointable session's pid 1 (`session create --checkpointable`) runs from a real file,
 * not from the memfd its supervisor runs from, which CRIU 3.17 cannot restore: the session's
 * private read-only copy of bulwark, bind-mounted read-only at INIT_SESSION_EXE, which the init
 * executes as INIT_SESSION_ARGV0 once it would hold the session (the annotation names the
 * path; only this one is executed). main() then holds the session as init_reaper_hold(false). */
#define INIT_SESSION_EXE_ANNOTATION "run.bulwark.session.init-exe"
#define INIT_SESSION_EXE "/.bulwark-session-init"
#define INIT_SESSION_ARGV0 "bulwark-session-init"
