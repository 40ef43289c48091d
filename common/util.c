/* Allocation, string-vector and number-parsing helpers. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

static void __attribute__((noreturn)) oom(void)
{
	static const char m[] = "bulwark: out of memory\n";
	(void)!write(2, m, sizeof(m) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	int r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return p;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	if (v != NULL)
		while (v[n] != NULL)
			n++;
	return n;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **r = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

void strv_push_take(char ***v, char *s)
{
	size_t n = strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

void strv_push(char ***v, const char *s)
{
	strv_push_take(v, xstrdup(s));
}

void strv_setenv(char ***env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; *env != NULL && (*env)[i] != NULL; i++)
		if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	strv_push(env, kv);
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -errno;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0)
		return -errno;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int parse_int(const char *s, int *out)
{
	int64_t v = 0;
	int r = parse_i64(s, &v);
	if (r < 0)
		return r;
	if (v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*out = (int)v;
	return 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* "64m", "1G", "1gb", "1GiB", "512MiB", "1024" -> bytes (binary multiples whichever way the
 * unit is spelled, as docker and runc read them); "-1" -> -1. */
int parse_size(const char *s, int64_t *out)
{
	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	/* strtod alone would also take blanks, signs, hex, "inf" and "nan". */
	if (!isdigit((unsigned char)s[0]) && !(s[0] == '.' && isdigit((unsigned char)s[1])))
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end != s + strspn(s, "0123456789.") || !(v >= 0))
		return -1;
	int64_t mult = 1;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'b':
		break;
	case 'k':
		mult = 1LL << 10;
		break;
	case 'm':
		mult = 1LL << 20;
		break;
	case 'g':
		mult = 1LL << 30;
		break;
	case 't':
		mult = 1LL << 40;
		break;
	default:
		return -1;
	}
	if (*end != '\0') {
		bool bytes = tolower((unsigned char)*end) == 'b';
		end++;
		if (!bytes && tolower((unsigned char)*end) == 'i')
			end++;
		if (!bytes && tolower((unsigned char)*end) == 'b')
			end++;
		if (*end != '\0')
			return -1;
	}
	if (v * (double)mult > 9.2e18)
		return -1;
	*out = (int64_t)(v * (double)mult);
	return 0;
}

int parse_duration_ms(const char *s, int64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0 || s[0] == '-')
		return -1;
	double mult = 1000;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else
		return -1;
	if (v * mult > 9.2e15)
		return -1;
	*out = (int64_t)(v * mult);
	return 0;
}

void sig_reset_for_exec(void)
{
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
char *mountinfo_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

void kill_pid_wait(pid_t pid, int wait_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return;
	syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	struct pollfd pf = {fd, POLLIN, 0};
	poll(&pf, 1, wait_ms);
	close(fd);
}
