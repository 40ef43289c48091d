/* Logging: text to stderr, plus runc-compatible lines ({"level","msg","time"}) appended to the
 * --log file. Process-global, set once by main before anything logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

int log_init(const char *path, enum log_format format, bool debug, struct bw_error *err);
bool log_debug_enabled(void);
/* Warnings below this level are dropped (debug still follows --debug); returns the previous
 * threshold. For repeats: `exec` re-plans the config's process, whose warnings create gave. */
enum log_level log_set_warn_threshold(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the error once: "bulwark: <text>" on stderr, and an error line in the --log file. */
void log_error_report(const struct bw_error *err);
/* Print the error on stderr only ("bulwark: <text>"), escaped: for a process (the init after
 * it reported ready) whose parent is gone. */
void log_error_stderr(const struct bw_error *err);
/* Messages carry strings from the input (ids, paths, names): every byte outside printable
 * ASCII (controls, DEL, >= 0x80) is written as \xNN, so a message stays one line and cannot
 * drive a terminal. Truncates to fit cap (>= 1); returns out. */
char *log_escape(char *out, size_t cap, const char *in);
/* "\"<escaped s>\"", with "..." when s had to be cut to fit cap (>= 8). */
char *log_quote(char *out, size_t cap, const char *s);
/* The --log fd (or -1); kept open so children can be pointed at it. */
int log_fd(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
