/* Error construction and formatting for struct bw_error. */
#include "error.h"

#include <stdio.h>
#include <string.h>

int bw_failv(struct bw_error *err, int errnum, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = errnum;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int bw_fail(struct bw_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bw_failv(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int bw_wrap(struct bw_error *err, const char *fmt, ...)
{
	char ctx[BW_ERROR_MAX], old[BW_ERROR_MAX], joined[2 * BW_ERROR_MAX + 4];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	if (old[0] == '\0')
		snprintf(joined, sizeof(joined), "%s", ctx);
	else
		snprintf(joined, sizeof(joined), "%s: %s", ctx, old);
	snprintf(err->msg, sizeof(err->msg), "%.*s", BW_ERROR_MAX - 1, joined);
	return -1;
}

void bw_error_text(const struct bw_error *err, char *buf, size_t len)
{
	if (err->code != 0)
		snprintf(buf, len, "%s: %s", err->msg, strerror(err->code));
	else
		snprintf(buf, len, "%s", err->msg);
}

void bw_error_clear(struct bw_error *err)
{
	err->code = 0;
	err->exit_status = 0;
	err->msg[0] = '\0';
}
