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
/* Copy between our stdio and master until the process behind pidfd exits and the master
 * drains; forwards signals to pidfd and window size changes to the master. With deadline_ms
 * (CLOCK_MONOTONIC, 0 = none) it returns 1 as soon as the deadline passes, else 0. */
int console_relay(int master, int pidfd, int64_t deadline_ms, struct bw_error *err);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t console_now_ms(void);
