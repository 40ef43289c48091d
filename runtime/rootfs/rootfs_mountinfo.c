/* mountinfo parsing and the inside/ancestor/outside classification used by --no-pivot. */
#include "runtime/rootfs/rootfs_mountinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "common/util.h"

/* "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw" */
static bool parse_line(char *line, struct mountinfo *m)
{
	char *f[5], *save = NULL, *tok = strtok_r(line, " ", &save);
	for (int i = 0; i < 5; i++, tok = strtok_r(NULL, " ", &save)) {
		if (tok == NULL)
			return false;
		f[i] = tok;
	}
	while (tok != NULL && strcmp(tok, "-") != 0) /* options, then optional fields */
		tok = strtok_r(NULL, " ", &save);
	char *fstype = tok != NULL ? strtok_r(NULL, " ", &save) : NULL;
	if (fstype == NULL || parse_int(f[0], &m->id) < 0 || parse_int(f[1], &m->parent) < 0)
		return false;
	m->root = mountinfo_unescape(f[3]);
	m->mountpoint = mountinfo_unescape(f[4]);
	m->fstype = mountinfo_unescape(fstype);
	return true;
}

int mountinfo_parse(const char *text, struct mountinfo **out, size_t *n, struct bw_error *err)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct mountinfo *v = NULL;
	size_t cnt = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		if (!parse_line(line, &v[cnt])) {
			mountinfo_free(v, cnt);
			return bw_fail(err, EINVAL, "mountinfo: malformed line %zu", cnt + 1);
		}
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void mountinfo_free(struct mountinfo *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].root);
		free(m[i].mountpoint);
		free(m[i].fstype);
	}
	free(m);
}

static ssize_t find_id(const struct mountinfo *m, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* Does the parent chain of m[i] reach the mount with id `target` (m[i] itself included)?
 * At most n steps: a namespace's root is its own parent in mountinfo. */
static bool chain_reaches(const struct mountinfo *m, size_t n, size_t i, int target)
{
	ssize_t k = (ssize_t)i;
	for (size_t steps = 0; k >= 0 && steps <= n; steps++) {
		if (m[k].id == target)
			return true;
		if (m[k].parent == m[k].id)
			return false;
		k = find_id(m, n, m[k].parent);
	}
	return false;
}

void mountinfo_classify(const struct mountinfo *m, size_t n, int root_id,
			enum mountinfo_place *place)
{
	ssize_t r = find_id(m, n, root_id);
	for (size_t i = 0; i < n; i++) {
		if (r >= 0 && chain_reaches(m, n, i, root_id))
			place[i] = MOUNTINFO_INSIDE;
		else if (r >= 0 && chain_reaches(m, n, (size_t)r, m[i].id))
			place[i] = MOUNTINFO_ANCESTOR;
		else
			place[i] = MOUNTINFO_OUTSIDE;
	}
}

bool mountinfo_is_full_pseudofs(const struct mountinfo *m)
{
	return strcmp(m->root, "/") == 0 &&
	       (strcmp(m->fstype, "proc") == 0 || strcmp(m->fstype, "sysfs") == 0);
}

bool mountinfo_is_covered(const struct mountinfo *m, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (k != i && m[k].parent == m[i].id &&
		    strcmp(m[k].mountpoint, m[i].mountpoint) == 0)
			return true;
	return false;
}
