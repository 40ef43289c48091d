/* Small pure helpers: allocation that aborts on exhaustion (a runtime cannot do anything
 * sensible without memory), string vectors, number parsing, the signal state for exec. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_free(char **v);
char **strv_dup(char *const *v);
/* Appends a copy of s; *v may be NULL. */
void strv_push(char ***v, const char *s);
/* Appends s, taking ownership. */
void strv_push_take(char ***v, char *s);
bool strv_contains(char *const *v, const char *s);
/* KEY=VALUE into an environment vector, replacing an earlier KEY: execve keeps duplicates and
 * getenv takes the first. */
void strv_setenv(char ***env, const char *kv);

/* Strict decimal parsing: the whole string, no sign for unsigned, range-checked. */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);
int parse_u32(const char *s, uint32_t *out);
int parse_int(const char *s, int *out);
/* SIGKILL pid through a pidfd (no reuse race) and wait up to wait_ms for it to end. */
void kill_pid_wait(pid_t pid, int wait_ms);
/* Sizes with k/m/g/t suffixes, powers of 1024 however spelled ("64m", "1G", "1gb", "1GiB",
 * "512Mi"), a bare "b" or plain bytes; "-1" -> -1. */
int parse_size(const char *s, int64_t *out);
/* Durations: "30s", "5m", "1h", "500ms", or plain seconds ("2.5"). */
int parse_duration_ms(const char *s, int64_t *out);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* In a forked child about to exec something that is not us: SIGPIPE and SIGXFSZ back to their
 * defaults (main ignores them) and no signal blocked (run and sandbox block all for their
 * signalfd), so a hook or helper starts as any program expects. */
void sig_reset_for_exec(void);

/* A field of /proc/PID/mountinfo with its \ooo escapes (space, tab, newline, backslash)
 * undone; malloc'd. */
char *mountinfo_unescape(const char *s);
