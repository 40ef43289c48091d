/* The tree stream of `bulwark cp`: one side walks a source tree through fds and sends it as
 * frames, the other recreates it below a directory fd, validating every field (the sender may
 * be a hostile container). Used on both sides: the host sends and the container receives for
 * a copy in, the other way round for a copy out. Neither side ever follows a symlink inside
 * the tree; symlinks are sent and recreated as symlinks, other special files skipped. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

/* Limits a receiver enforces whatever the sender says. */
#define CP_MAX_DEPTH 128
#define CP_MAX_ENTRIES 1000000
#define CP_MAX_NAME 255
#define CP_MAX_LINK 4095
#define CP_MAX_WARN 1024
#define CP_MAX_WARNINGS 100
/* A side that neither sends nor takes anything for this long ends the copy. */
#define CP_IDLE_TIMEOUT_MS 30000
/* The whole copy, whatever the progress (`cp --timeout`): a container trickling a byte
 * every few seconds ends it too. */
#define CP_DEFAULT_TIMEOUT_MS (3600 * 1000)

/* CLOCK_MONOTONIC in ms: what a deadline is measured in. */
int64_t cp_now_ms(void);

enum cp_frame_type {
	CP_FRAME_DIR = 1,  /* name, mode: a directory; its entries follow until CP_FRAME_END */
	CP_FRAME_END = 2,  /* the current directory is complete */
	CP_FRAME_FILE = 3, /* name, mode, size: a regular file, then size bytes of data */
	CP_FRAME_LINK = 4, /* name, size: a symlink, then its target (size bytes) */
	CP_FRAME_WARN = 5, /* size: a warning for the user (size bytes of text) */
	CP_FRAME_DONE = 6, /* the tree is complete */
};

/* Set from a signal handler (cp's SIGINT, SIGTERM, SIGHUP): the copy stops at its next wait
 * and is undone as any failed copy is. */
extern volatile sig_atomic_t cp_stream_interrupted;

/* Little-endian on both ends (one machine), fixed size. */
struct cp_frame {
	uint32_t type;
	uint32_t mode;
	uint32_t name_len;
	uint32_t reserved; /* 0 */
	uint64_t size;
};

struct cp_send_opts {
	int sock;
	int timeout_ms;
	int64_t deadline_ms; /* cp_now_ms() after which the copy ends; 0: none */
	bool warn_inband;    /* skipped entries as CP_FRAME_WARN (else log_warn here) */
};

/* Send the tree at srcfd (any fd of the source: it is reopened, never followed below) under
 * top_name, then CP_FRAME_DONE. path names the source in messages. */
int cp_send_tree(const struct cp_send_opts *o, int srcfd, const char *top_name, const char *path,
		 struct bw_error *err);

struct cp_recv_opts {
	int sock;
	int timeout_ms;
	int64_t deadline_ms; /* cp_now_ms() after which the copy ends; 0: none */
	uint64_t max_bytes;  /* file data and link targets; 0: no budget */
	const char *shown;   /* how the destination is named in messages */
	/* With keep_space: at least space_reserve bytes stay available (statvfs f_bavail) on
	 * space_fd's file system (any fd there), or the copy stops and is undone. */
	bool keep_space;
	int space_fd;
	uint64_t space_reserve;
};

/* Receive one tree into dirfd as `name`, or under the top entry's own name when name is NULL
 * (the destination is an existing directory). Existing directories are merged, existing
 * regular files replaced (never through a symlink), anything else refused. On failure what
 * this call created at the top is removed. */
int cp_recv_tree(const struct cp_recv_opts *o, int dirfd, const char *name, struct bw_error *err);

/* A name a receiver accepts: one component, 1..CP_MAX_NAME bytes, not "." or "..". Pure. */
bool cp_name_valid(const char *name, size_t len);
