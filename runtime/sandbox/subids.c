/* The caller's subordinate id ranges for a rootless sandbox (see subids.h). */
#include "runtime/sandbox/subids.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool subids_find(const char *file, const char *name, uint32_t id, uint32_t need, uint32_t *start)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	char idtext[16];
	snprintf(idtext, sizeof(idtext), "%u", id);
	while (f != NULL && getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *p = line, *who = strsep(&p, ":"), *first = strsep(&p, ":"),
		     *count = strsep(&p, ":");
		uint32_t s, n;
		if (p != NULL || !parse_u32(first, &s) || !parse_u32(count, &n))
			continue;
		if (strcmp(who, idtext) != 0 && (name == NULL || strcmp(who, name) != 0))
			continue;
		if (n >= need && s > 0 && (uint64_t)s + n - 1 <= UINT32_MAX - 1) {
			*start = s;
			return true;
		}
	}
	return false;
}

static bool tool(const char *name)
{
	char path[32];
	snprintf(path, sizeof(path), "/usr/bin/%s", name);
	if (access(path, X_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/bin/%s", name);
	return access(path, X_OK) == 0;
}

bool subids_for_caller(uint32_t need, uint32_t *uid_start, uint32_t *gid_start)
{
	uid_t uid = geteuid();
	/* newuidmap and newgidmap look the caller up by its real uid, take the ranges of its
	 * name (or number) in both files, and let it map its own uid and its passwd gid: the
	 * sandbox user's ids must be those. */
	struct passwd *pw = getpwuid(uid);
	if (pw == NULL || getuid() != uid || pw->pw_gid != getegid() || getgid() != getegid())
		return false;
	return tool("newuidmap") && tool("newgidmap") &&
	       subids_find("/etc/subuid", pw->pw_name, (uint32_t)uid, need, uid_start) &&
	       subids_find("/etc/subgid", pw->pw_name, (uint32_t)uid, need, gid_start);
}
