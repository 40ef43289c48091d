/* The one error type of bulwark: a message built at the point of failure, context prepended
 * on the way up, printed once by main. Fallible functions take `struct bw_error *err` last and
 * return a negative number on failure (always -1 from bw_fail/bw_wrap). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define BW_ERROR_MAX 2048

struct bw_error {
	int code;		/* errno of the failing syscall, 0 if none */
	int exit_status;	/* suggested process exit status, 0 = default */
	char msg[BW_ERROR_MAX]; /* "context: context: message" without the strerror */
};

/* Record a failure: errnum may be 0. Returns -1. */
int bw_fail(struct bw_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int bw_failv(struct bw_error *err, int errnum, const char *fmt, va_list ap);
/* Prepend context to an existing failure. Returns -1. */
int bw_wrap(struct bw_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The full one-line text: "<msg>: <strerror(code)>" (no "bulwark: " prefix). */
void bw_error_text(const struct bw_error *err, char *buf, size_t len);
void bw_error_clear(struct bw_error *err);
static inline bool bw_error_is_set(const struct bw_error *err)
{
	return err->msg[0] != '\0';
}
