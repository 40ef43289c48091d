/* Implementation of the process-global logger; its JSON lines (and the quoted message of the
 * text format) come from the one JSON writer, json.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

static int g_log_fd = -1;
static enum log_format g_format = LOG_FORMAT_TEXT;
static bool g_debug;
static enum log_level g_warn_threshold = LOG_WARN;

int log_init(const char *path, enum log_format format, bool debug, struct bw_error *err)
{
	g_format = format;
	g_debug = debug;
	if (path != NULL && path[0] != '\0') {
		g_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (g_log_fd < 0)
			return bw_fail(err, errno, "open log file `%s`", path);
	}
	return 0;
}

enum log_level log_set_warn_threshold(enum log_level level)
{
	enum log_level old = g_warn_threshold;
	g_warn_threshold = level;
	return old;
}

bool log_debug_enabled(void)
{
	return g_debug;
}

int log_fd(void)
{
	return g_log_fd;
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG:
		return "debug";
	case LOG_INFO:
		return "info";
	case LOG_WARN:
		return "warning";
	default:
		return "error";
	}
}

char *log_escape(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		bool plain = c >= 0x20 && c < 0x7f;
		if (o + (plain ? 1 : 4) >= cap)
			break;
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
	return out;
}

char *log_quote(char *out, size_t cap, const char *s)
{
	size_t need = 0;
	for (const char *c = s; *c != '\0'; c++)
		need += ((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f) ? 1 : 4;
	bool cut = need + 3 > cap; /* quotes and NUL */
	out[0] = '"';
	log_escape(out + 1, cut ? cap - 5 : cap - 2, s);
	strcat(out, cut ? "...\"" : "\"");
	return out;
}

static void write_line_to(int fd, enum log_level level, const char *msg)
{
	char ts[40];
	struct timespec now;
	struct tm tm;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char *line;
	if (g_format == LOG_FORMAT_JSON) {
		yajl_gen g = json_gen_new(false);
		yajl_gen_map_open(g);
		json_key_str(g, "level", level_name(level));
		json_key_str(g, "msg", msg);
		json_key_str(g, "time", ts);
		yajl_gen_map_close(g);
		line = json_take(g, true, NULL);
	} else {
		/* logrus's text format quotes the message as a JSON string would. */
		char *q = json_quote(msg);
		line = xasprintf("time=\"%s\" level=%s msg=%s\n", ts, level_name(level), q);
		free(q);
	}
	(void)!write(fd, line, strlen(line));
	free(line);
}

static void write_line(enum log_level level, const char *msg)
{
	write_line_to(g_log_fd, level, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[BW_ERROR_MAX], msg[BW_ERROR_MAX];
	va_list ap;

	if (level == LOG_DEBUG && !g_debug)
		return;
	if (level == LOG_WARN && level < g_warn_threshold)
		level = LOG_DEBUG;
	if (level == LOG_DEBUG && !g_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(msg, sizeof(msg), raw);
	write_line(level, msg);
	/* With --log, only the final error goes to stderr (in `create` our stderr is the
	 * container's, and engines read the log file). Without it, warnings and errors as our own
	 * one-liners, and with --debug the rest in runc's log format (`level=debug`). */
	if (g_log_fd >= 0 ? level < LOG_ERROR : (level <= LOG_INFO && !g_debug))
		return;
	if (level <= LOG_INFO)
		write_line_to(STDERR_FILENO, level, msg);
	else
		dprintf(STDERR_FILENO, "bulwark: %s%s\n", level == LOG_WARN ? "warning: " : "",
			msg);
}

/* Error text holds input strings (ids, paths): escaped, see log_escape. */
static void error_line(const struct bw_error *err, char *out, size_t cap)
{
	char raw[BW_ERROR_MAX + 256];
	bw_error_text(err, raw, sizeof(raw));
	log_escape(out, cap, raw);
}

void log_error_report(const struct bw_error *err)
{
	char text[BW_ERROR_MAX + 256];
	error_line(err, text, sizeof(text));
	write_line(LOG_ERROR, text);
	dprintf(STDERR_FILENO, "bulwark: %s\n", text);
}

void log_error_stderr(const struct bw_error *err)
{
	char text[BW_ERROR_MAX + 256];
	error_line(err, text, sizeof(text));
	dprintf(STDERR_FILENO, "bulwark: %s\n", text);
}
