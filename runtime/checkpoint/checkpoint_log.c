/* CRIU's reason for a failure, from its log: pure, so the unit tests link it alone. */
#include <stdbool.h>
#include <string.h>

#include "common/util.h"
#include "runtime/checkpoint/checkpoint.h"

/* "exited, status=N" (criu/util.c) reports a helper child CRIU ran and says nothing of why:
 * the reason is a later line (6.18's "vdso: Unexpected rt vDSO area bounds"). */
static bool is_child_exit(const char *m, size_t n)
{
	return n >= 14 && memcmp(m, "exited, status", 14) == 0;
}

char *checkpoint_criu_log_reason(const char *text)
{
	const char *first = NULL;
	size_t first_n = 0;
	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *e = memmem(p, len, "Error (", 7);
		const char *close = e ? memmem(e, len - (size_t)(e - p), "): ", 3) : NULL;
		if (close != NULL) {
			const char *m = close + 3;
			size_t n = len - (size_t)(m - p);
			if (first == NULL) {
				first = m;
				first_n = n;
			}
			if (!is_child_exit(m, n)) {
				first = m;
				first_n = n;
				break;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	if (first == NULL)
		return NULL;
	char *out = xstrndup(first, first_n > 400 ? 400 : first_n);
	for (char *c = out; *c; c++) /* one line, printable */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return out;
}
