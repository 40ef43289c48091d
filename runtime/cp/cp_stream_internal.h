/* What the two ends of the tree stream (cp_stream.c: framed I/O and the sender; cp_recv.c: the
 * receiver) share. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define CP_BUF 65536
#define CP_SPACE_EVERY (8u << 20)

struct io {
	int fd;
	int timeout_ms;
	int64_t deadline_ms;
};

/* All n bytes, each wait bounded by the idle timeout and the whole by the deadline. */
int cp_io_write(const struct io *io, const void *buf, size_t n, struct bw_error *err);
int cp_io_read(const struct io *io, void *buf, size_t n, struct bw_error *err);
