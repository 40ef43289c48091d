/* The pure half of notify.h: where the container finds its notify directory, and which fields
 * of a container's datagram may reach the caller's socket. Unit-tested (tests/unit/test_notify.c).
 */
#include "runtime/notify.h"

#include <string.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

char *notify_container_dir(const char *host_socket)
{
	if (host_socket != NULL && host_socket[0] == '/' && strcmp(host_socket, "/") != 0) {
		_cleanup_free_ char *clean = fs_path_clean(host_socket);
		if (strcmp(clean, host_socket) == 0 && strlen(clean) < 4096)
			return steal_ptr(&clean);
	}
	return xstrdup("/run/notify");
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool digits(const char *s, size_t n)
{
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Whether one KEY=VALUE line may reach the caller. */
static bool field_allowed(const char *line, size_t n)
{
	static const char *const one[] = {"READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1"};
	static const char *const numeric[] = {"ERRNO=", "EXTEND_TIMEOUT_USEC=", "MONOTONIC_USEC="};
	if (!printable(line, n))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(one); i++)
		if (n == strlen(one[i]) && memcmp(line, one[i], n) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(numeric); i++) {
		size_t k = strlen(numeric[i]);
		if (n > k && memcmp(line, numeric[i], k) == 0)
			return digits(line + k, n - k);
	}
	return (n >= 7 && memcmp(line, "STATUS=", 7) == 0) ||
	       (n > 9 && memcmp(line, "BUSERROR=", 9) == 0);
}

size_t notify_filter(const char *msg, size_t n, char *out, size_t cap, bool *ready)
{
	size_t used = 0;
	*ready = false;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t start = 0; start < n;) {
		const char *nl = memchr(msg + start, '\n', n - start);
		size_t len = nl != NULL ? (size_t)(nl - (msg + start)) : n - start;
		const char *line = msg + start;
		start += len + 1;
		size_t sep = used > 0 ? 1 : 0;
		if (len == 0 || !field_allowed(line, len) || used + sep + len + 1 > cap)
			continue;
		if (sep)
			out[used++] = '\n';
		memcpy(out + used, line, len);
		used += len;
		out[used] = '\0';
		if (len == 7 && memcmp(line, "READY=1", 7) == 0)
			*ready = true;
	}
	return used;
}
