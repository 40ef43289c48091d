/* The caller's subordinate id ranges for a rootless sandbox (see subids.h). */
#include "runtime/sandbox/subids.h"

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

/* The caller's passwd line, from /etc/passwd itself: this static binary must not call
 * getpwuid (glibc would load the NSS modules into it, and libnss_systemd crashes a static
 * program). A user known only to another NSS source gets the single-id map. */
static bool passwd_of(uid_t uid, char *name, size_t len, gid_t *gid)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	while (f != NULL && getline(&line, &n, f) > 0) {
		char *p = line, *who = strsep(&p, ":"), *pw = strsep(&p, ":"), *u = strsep(&p, ":"),
		     *g = strsep(&p, ":");
		uint32_t uv, gv;
		(void)pw;
		if (g == NULL || !parse_u32(u, &uv) || !parse_u32(g, &gv) || uv != (uint32_t)uid ||
		    strlen(who) >= len)
			continue;
		strcpy(name, who);
		*gid = (gid_t)gv;
		return true;
	}
	return false;
}

bool subids_for_caller(uint32_t need, uint32_t *uid_start, uint32_t *gid_start)
{
	uid_t uid = geteuid();
	char name[256];
	gid_t pw_gid;
	/* newuidmap and newgidmap look the caller up by its real uid, take the ranges of its
	 * name (or number) in both files, and let it map its own uid and its passwd gid: the
	 * sandbox user's ids must be those. */
	if (!passwd_of(uid, name, sizeof(name), &pw_gid) || getuid() != uid ||
	    pw_gid != getegid() || getgid() != getegid())
		return false;
	return tool("newuidmap") && tool("newgidmap") &&
	       subids_find("/etc/subuid", name, (uint32_t)uid, need, uid_start) &&
	       subids_find("/etc/subgid", name, (uint32_t)uid, need, gid_start);
}
