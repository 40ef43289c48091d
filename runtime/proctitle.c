/* Rewriting our own argv and environment areas in place (proctitle.h): the kernel reads
 * /proc/PID/cmdline and /proc/PID/environ from [arg_start, arg_end) and [env_start, env_end)
 * of the process's memory, which it gives in /proc/self/stat; no privilege (PR_SET_MM) is
 * needed to overwrite what is there. */
#include "runtime/proctitle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

/* Fields 48-51 of /proc/self/stat: arg_start, arg_end, env_start, env_end. */
static int stack_areas(uintptr_t a[4])
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: count after the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok != NULL; tok = strtok(NULL, " ")) {
		field++;
		if (field >= 48 && field <= 51)
			a[field - 48] = (uintptr_t)strtoull(tok, NULL, 10);
	}
	if (field < 51 || a[0] == 0 || a[1] <= a[0] || a[3] < a[2]) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int proctitle_hide(const char *title, size_t title_len)
{
	uintptr_t a[4] = {0};
	if (stack_areas(a) < 0)
		return -1;
	size_t n = 0;
	while (environ != NULL && environ[n] != NULL)
		n++;
	char **copy = xcalloc(n + 1, sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		copy[i] = xstrdup(environ[i]);
	environ = copy;
	memset((void *)a[2], 0, a[3] - a[2]);
	size_t len = a[1] - a[0];
	memset((void *)a[0], 0, len);
	/* The last byte stays NUL: the kernel then shows the area as it is, not as a
	 * setproctitle(3) string running on into the environment's. */
	memcpy((void *)a[0], title, title_len < len - 1 ? title_len : len - 1);
	return 0;
}
