/* CRIU's reason for a failure, from its log: pure, so the unit tests link it alone. */
#include <string.h>

#include "common/util.h"
#include "runtime/checkpoint/checkpoint.h"

char *checkpoint_criu_log_reason(const char *text)
{
	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *e = memmem(p, len, "Error (", 7);
		const char *close = e ? memmem(e, len - (size_t)(e - p), "): ", 3) : NULL;
		if (close != NULL) {
			const char *m = close + 3;
			size_t n = len - (size_t)(m - p);
			char *out = xstrndup(m, n > 400 ? 400 : n);
			for (char *c = out; *c; c++) /* one line, printable */
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			return out;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}
