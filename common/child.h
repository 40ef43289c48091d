/* The one child-process runner: fork, then exec a program (or run a function) with stdout and
 * stderr captured through a pipe, wait with an optional deadline, and hand back the exit status
 * and the output. The child never outlives a failure: it is killed and reaped first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct child_spec {
	const char *name; /* for messages: "apparmor_parser", "the nftables loader" */
	/* exec mode: path and argv (envp NULL: the caller's environment); stdin is /dev/null,
	 * signal dispositions and mask are reset (sig_reset_for_exec) */
	const char *path;
	char *const *argv, *const *envp;
	const int *inherit; /* fds that survive the exec (their CLOEXEC cleared), -1s skipped */
	size_t n_inherit;
	/* function mode (path NULL): fn runs in the child with the write end of the output pipe
	 * and must _exit; stdio stays as it is */
	void (*fn)(void *arg, int out_fd);
	void *arg;
	size_t output_max;  /* more output than this is a failure (0: 64 KiB) */
	int64_t timeout_ms; /* 0: wait as long as it takes */
};

struct child_result {
	int status;   /* as waitpid's */
	char *output; /* stdout and stderr together, NUL-terminated; the caller frees it */
	size_t len;
};

/* Run the child to its end. -1 with err when it could not be started, its output could not be
 * read whole, or the deadline passed (it is killed then); otherwise 0 whatever its status. */
int child_run(const struct child_spec *spec, struct child_result *res, struct bw_error *err);
/* Exited with 0. */
bool child_ok(const struct child_result *res);
/* The status as a shell reports it: the exit code, or 128 + the signal. */
int child_exit_code(const struct child_result *res);
