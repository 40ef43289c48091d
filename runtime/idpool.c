/* The sandbox id-range pool (see idpool.h). */
#include "runtime/idpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

static bool read_holder(int fd, char *out, size_t len)
{
	ssize_t n = pread(fd, out, len - 1, 0);
	if (n <= 0)
		return false;
	out[n] = '\0';
	return true;
}

static bool in_range(const char *status, const char *key, uint32_t base)
{
	const char *u = strstr(status, key);
	unsigned long ids[4];
	if (u == NULL ||
	    sscanf(u + strlen(key), "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if ((ids[i] >= base && ids[i] - base < IDPOOL_RANGE) ||
		    ids[i] == idpool_owner(base))
			return true;
	return false;
}

/* Any process with a real, effective, saved or fs uid or gid in [base, base + IDPOOL_RANGE),
 * or the slot's namespace owner id (a process holding it has every capability in the next
 * sandbox's namespaces: the slot is not taken back while one lives). */
static bool range_in_use(uint32_t base)
{
	DIR *d = opendir("/proc");
	if (d == NULL)
		return true;
	struct dirent *e;
	bool used = false;
	while (!used && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300], buf[2048];
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n <= 0)
			continue;
		buf[n] = '\0';
		used = in_range(buf, "\nUid:", base) || in_range(buf, "\nGid:", base);
	}
	closedir(d);
	return used;
}

/* The ids the host's own files give out: every /etc/subuid and /etc/subgid range, every
 * user's uid and gid in /etc/passwd, every group's gid in /etc/group. A slot whose range or
 * owner id meets one of them is never taken: that user (or whoever gets the subordinate range)
 * would share the sandbox's per-user counts, own its files, and as the owner id have every
 * capability in its namespaces. What the files cannot say (another runtime's maps, ids made
 * up by a program) the range_in_use scan and docs/security.md cover. */
struct declared {
	struct {
		uint64_t lo, hi;
	} * iv;
	size_t n, cap;
	bool all; /* a range could not be kept: every slot counts as met */
};

static void declared_add(struct declared *d, uint64_t lo, uint64_t hi)
{
	if (hi < IDPOOL_BASE || lo > (uint64_t)IDPOOL_OWNER_BASE + IDPOOL_SLOTS)
		return; /* nowhere near the pool: most lines of most hosts */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		void *iv = realloc(d->iv, cap * sizeof(*d->iv));
		if (iv == NULL) {
			d->all = true; /* fail closed: a range not kept meets every slot */
			return;
		}
		d->iv = iv;
		d->cap = cap;
	}
	d->iv[d->n].lo = lo;
	d->iv[d->n].hi = hi;
	d->n++;
}

/* A number as the tools that give ids out read it: shadow's newuidmap takes any base
 * (0x..., 0...), glibc's passwd parser leading blanks and a '+'; strtoull(..., 0) reads all
 * of those, so a slot is skipped whenever one of them would see the id. */
static bool declared_number(const char *s, uint64_t *out)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '\0')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	while (*end == ' ' || *end == '\t')
		end++;
	return end != s && *end == '\0' && errno == 0;
}

/* field: the colon-separated field holding an id (2 for uid/gid, 1 for subid starts); with
 * count, field + 1 is a count. Lines that do not parse are ignored, as login tools do. */
static void declared_read(struct declared *d, const char *path, int field, bool count, int second)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	if (f == NULL)
		return;
	while (getline(&line, &len, f) > 0) {
		char *fields[8] = {0}, *p = line;
		int nf = 0;
		for (char *t; nf < 8 && (t = strsep(&p, ":\n")) != NULL;)
			fields[nf++] = t;
		for (int which = 0; which < 2; which++) {
			int at = which == 0 ? field : second;
			uint64_t lo, n = 1;
			if (at < 0 || at >= nf || !declared_number(fields[at], &lo))
				continue;
			if (count && which == 0 &&
			    (at + 1 >= nf || !declared_number(fields[at + 1], &n) || n == 0))
				continue;
			declared_add(d, lo, lo + n - 1 < lo ? UINT64_MAX : lo + n - 1);
		}
	}
}

static bool declared_meets(const struct declared *d, uint32_t base)
{
	uint64_t owner = idpool_owner(base);
	if (d->all)
		return true;
	for (size_t i = 0; i < d->n; i++)
		if ((d->iv[i].lo <= (uint64_t)base + IDPOOL_RANGE - 1 && d->iv[i].hi >= base) ||
		    (d->iv[i].lo <= owner && d->iv[i].hi >= owner))
			return true;
	return false;
}

static bool lock_slot(int fd)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	return fcntl(fd, F_OFD_SETLK, &l) == 0;
}

/* Under the pool lock. The process that took the slot is gone (its lock is free), and with
 * it the container (no state directory) and everything that ran with its ids. */
static bool take_back(int dirfd, const char *name, uint32_t base)
{
	char holder[PATH_MAX];
	struct stat st;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || !lock_slot(fd))
		return false;
	if (read_holder(fd, holder, sizeof(holder)) &&
	    (holder[0] != '/' || lstat(holder, &st) == 0 || errno != ENOENT))
		return false;
	if (range_in_use(base))
		return false;
	return unlinkat(dirfd, name, 0) == 0;
}

/* Under the pool lock: slot taken for *holder (moved into out) -> 1; held by another -> 0. */
static int try_slot(int dirfd, uint32_t slot, char **holder, struct idpool_slot *out,
		    struct bw_error *err)
{
	uint32_t first = IDPOOL_BASE + slot * IDPOOL_RANGE;
	char name[16];
	snprintf(name, sizeof(name), "%u", slot);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd =
		    openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			int w = lock_slot(fd) ? fs_write_all(fd, *holder, strlen(*holder)) : -errno;
			if (w < 0) {
				close(fd);
				unlinkat(dirfd, name, 0);
				return bw_fail(err, -w, "id range pool: slot %u", slot);
			}
			out->fd = fd;
			out->base = first;
			out->path = fs_path_join(IDPOOL_DIR, name);
			out->holder = steal_ptr(holder);
			return 1;
		}
		if (errno != EEXIST)
			return bw_fail(err, errno, "id range pool: slot %u", slot);
		if (attempt > 0 || !take_back(dirfd, name, first))
			break;
	}
	return 0;
}

/* The pool directory, open and locked (*dirfd), and the holder's name for id. */
static int open_pool(const char *state_root, const char *id, int *dirfd, char **holder,
		     struct bw_error *err)
{
	char root[PATH_MAX];
	if (fs_mkdir_p(state_root, 0700, err) < 0)
		return -1;
	if (realpath(state_root, root) == NULL)
		return bw_fail(err, errno, "--root `%s`", state_root);
	*holder = fs_path_join(root, id);
	if (mkdir(IDPOOL_DIR, 0700) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "id range pool: mkdir " IDPOOL_DIR);
	*dirfd = open(IDPOOL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (*dirfd < 0 || fstat(*dirfd, &st) < 0)
		return bw_fail(err, errno, "id range pool: open " IDPOOL_DIR);
	if (st.st_uid != 0 || (st.st_mode & 077))
		return bw_fail(err, 0, "id range pool: " IDPOOL_DIR " must be root's, mode 0700");
	if (flock(*dirfd, LOCK_EX) < 0)
		return bw_fail(err, errno, "id range pool: lock");
	return 0;
}

/* Every id the host's /etc gives to a user, group or subordinate range. */
static void declared_read_all(struct declared *d)
{
	declared_read(d, IDPOOL_ETC "/subuid", 1, true, -1);
	declared_read(d, IDPOOL_ETC "/subgid", 1, true, -1);
	declared_read(d, IDPOOL_ETC "/passwd", 2, false, 3);
	declared_read(d, IDPOOL_ETC "/group", 2, false, -1);
}

/* The pool opened and locked, and the host's declared ids read: both acquires start so. */
static int open_pool_declared(const char *state_root, const char *id, int *dirfd, char **holder,
			      struct declared *declared, struct bw_error *err)
{
	if (open_pool(state_root, id, dirfd, holder, err) < 0)
		return -1;
	declared_read_all(declared);
	return 0;
}

int idpool_acquire(const char *state_root, const char *id, struct idpool_slot *out,
		   struct bw_error *err)
{
	*out = (struct idpool_slot){.fd = -1};
	_cleanup_free_ char *holder = NULL;
	_cleanup_close_ int dirfd = -1;
	struct declared declared = {0};
	if (open_pool_declared(state_root, id, &dirfd, &holder, &declared, err) < 0)
		return -1;
	_cleanup_free_ void *declared_iv = declared.iv;
	uint32_t skipped = 0;
	uint32_t start;
	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		return bw_fail(err, errno, "getrandom");
	for (uint32_t i = 0; i < IDPOOL_SLOTS; i++) {
		uint32_t slot = (start + i) % IDPOOL_SLOTS;
		uint32_t first = IDPOOL_BASE + slot * IDPOOL_RANGE;
		if (declared_meets(&declared, first)) {
			skipped++;
			continue;
		}
		int r = try_slot(dirfd, slot, &holder, out, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	if (skipped > 0)
		return bw_fail(err, 0,
			       "id range pool: all %u host id ranges are held (" IDPOOL_DIR
			       "), %u of them given to users or subordinate ranges in " IDPOOL_ETC
			       "/passwd, group, subuid or subgid (ids %u-%u are bulwark's)",
			       IDPOOL_SLOTS, skipped, IDPOOL_BASE,
			       IDPOOL_OWNER_BASE + IDPOOL_SLOTS - 1);
	return bw_fail(err, 0, "id range pool: all %u host id ranges are held (" IDPOOL_DIR ")",
		       IDPOOL_SLOTS);
}

int idpool_acquire_at(const char *state_root, const char *id, uint32_t base,
		      struct idpool_slot *out, struct bw_error *err)
{
	*out = (struct idpool_slot){.fd = -1};
	if (base < IDPOOL_BASE || (base - IDPOOL_BASE) % IDPOOL_RANGE != 0 ||
	    (base - IDPOOL_BASE) / IDPOOL_RANGE >= IDPOOL_SLOTS)
		return bw_fail(
		    err, 0, "id range pool: %u is not the start of one of bulwark's ranges", base);
	_cleanup_free_ char *holder = NULL;
	_cleanup_close_ int dirfd = -1;
	struct declared declared = {0};
	if (open_pool_declared(state_root, id, &dirfd, &holder, &declared, err) < 0)
		return -1;
	_cleanup_free_ void *declared_iv = declared.iv;
	if (declared_meets(&declared, base))
		return bw_fail(err, 0,
			       "id range pool: the range at %u meets a user's, group's or "
			       "subordinate range in " IDPOOL_ETC,
			       base);
	int r = try_slot(dirfd, (base - IDPOOL_BASE) / IDPOOL_RANGE, &holder, out, err);
	if (r == 0)
		return bw_fail(err, 0, "id range pool: the range at %u is held by another sandbox",
			       base);
	return r < 0 ? -1 : 0;
}

void idpool_release(const char *path, const char *holder)
{
	char held[PATH_MAX];
	if (path == NULL || holder == NULL)
		return;
	_cleanup_close_ int dirfd =
	    open(IDPOOL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd >= 0)
		flock(dirfd, LOCK_EX);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && read_holder(fd, held, sizeof(held)) && strcmp(held, holder) == 0)
		unlink(path);
}

void idpool_slot_close(struct idpool_slot *s)
{
	close_fd(&s->fd);
	free(s->path);
	free(s->holder);
	s->path = s->holder = NULL;
}
