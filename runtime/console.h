/* Terminals: the pty made inside the container's devpts, handed to the engine over the
 * console socket (one sendmsg, payload "/dev/ptmx", one SCM_RIGHTS fd), or relayed to our own
 * terminal by `run -t`. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

/* In the container (after pivot): open /dev/ptmx, unlock, get the peer slave. */
int console_open_pty(uint32_t rows, uint32_t cols, int *master, int *slave, struct bw_error *err);
/* Make slave the controlling terminal and stdio of the calling process. */
int console_make_controlling(int slave, struct bw_error *err);
int console_send_master(const char *socket_path, int master, struct bw_error *err);
/* What the waiting bulwark relays for its child: the -t pty master, or the pipes that stand in
 * for the caller's terminal (stdio_guard.h); -1 where there is none. */
struct console_io {
	int master;
	int in;	 /* write end of the child's stdin pipe */
	int out; /* read end of the child's stdout pipe */
	int err; /* read end of the child's stderr pipe */
};
/* Copy between our stdio and io until the process behind pidfd exits and its output drains
 * (end-of-file, 100 ms of quiet, or 5 s at most); input from our terminal stops when it exits
 * and waits while we are a background job. Forwards signals to pidfd and window size changes
 * to the master. With deadline_ms (CLOCK_MONOTONIC, 0 = none) it returns 1 as soon as the
 * deadline passes, else 0. */
int console_relay(const struct console_io *io, int pidfd, int64_t deadline_ms,
		  struct bw_error *err);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t console_now_ms(void);
