/* The caller's terminal never reaches a container's process unless it asked for a terminal
 * (process.terminal / -t, where it gets a pty of its own): a terminal in fds 0-2 is replaced by
 * a pipe that the waiting bulwark relays, or by /dev/null when nobody waits (docs/security.md,
 * "The caller's terminal as stdio"). Anything else (files, pipes, sockets) is passed as is. */
#pragma once

#include <stdbool.h>

#include "common/error.h"
#include "runtime/console.h"

struct stdio_guard {
	int child[3]; /* the process's fd 0, 1, 2; -1: the caller's own, passed through */
	int ours[3];  /* the relay's ends: [0] writes the child's stdin, [1] [2] read its output */
};

#define STDIO_GUARD_INIT                                                                           \
	{                                                                                          \
		{-1, -1, -1},                                                                      \
		{                                                                                  \
			-1, -1, -1                                                                 \
		}                                                                                  \
	}

/* A tty or pty of any kind (isatty, or a character device with a terminal major). */
bool stdio_is_terminal(int fd);
/* Foreground: a pipe in place of each terminal among our fds 0-2. */
int stdio_guard_relay(struct stdio_guard *g, struct bw_error *err);
/* The same, and with output also fds 1 and 2 whatever they are: the relay ends when the process
 * does, so what it left running in the background never holds the caller's pipes open. */
int stdio_guard_relay_output(struct stdio_guard *g, bool output, struct bw_error *err);
/* A session's command: its output relayed as above, and its stdin either relayed too (input:
 * a pipe we close when it ends, so nothing it leaves running keeps reading the caller's input)
 * or /dev/null, whatever our fd 0 is. */
int stdio_guard_session(struct stdio_guard *g, bool input, struct bw_error *err);
/* Detached: /dev/null in place of each terminal, with one warning line naming them. */
int stdio_guard_detached(struct stdio_guard *g, struct bw_error *err);
/* After the spawn: the parent keeps only its relay ends. */
void stdio_guard_close_child(struct stdio_guard *g);
void stdio_guard_close(struct stdio_guard *g);
/* The relay's view: the pipes above, and the -t pty master (or -1). */
struct console_io stdio_guard_io(const struct stdio_guard *g, int master);
