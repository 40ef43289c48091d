/* What a long-lived helper of ours shows in /proc/PID/cmdline and /proc/PID/environ, which
 * other users (cmdline) and the sandbox's own processes (through the session's init, which
 * shares the supervisor's memory image) can read: only a short title, no caller's flags, host
 * paths or environment. */
#pragma once

#include <stddef.h>

/* Move the environment to the heap (getenv and setenv keep working), zero the stack areas the
 * kernel shows as environ and cmdline, and write title (NUL-separated words, ending in "\0")
 * at the start of the argv area, truncated to fit. Returns -1 (errno set) when the areas could
 * not be found; nothing was changed then. */
int proctitle_hide(const char *title, size_t title_len);
