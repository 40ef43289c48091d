/* The sandbox id-range pool (see idpool.h). */
#include "runtime/idpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define STALE_SECONDS 60

static bool read_holder(int dirfd, const char *name, char *out, size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, out, len - 1);
	if (n <= 0)
		return false;
	out[n] = '\0';
	return true;
}

/* Any process whose real, effective or saved uid lies in [base, base + IDPOOL_RANGE). */
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
		const char *u = strstr(buf, "\nUid:");
		unsigned long ids[4];
		if (u == NULL ||
		    sscanf(u + 5, "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
			continue;
		for (int i = 0; i < 4; i++)
			if (ids[i] >= base && ids[i] - base < IDPOOL_RANGE)
				used = true;
	}
	closedir(d);
	return used;
}

/* The slot's holder left no state and nothing runs with its ids: the slot is free again. */
static bool take_back(int dirfd, const char *state_root, const char *name, uint32_t base)
{
	char holder[300];
	struct stat st, held;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    time(NULL) - st.st_mtime < STALE_SECONDS ||
	    !read_holder(dirfd, name, holder, sizeof(holder)))
		return false;
	if (strchr(holder, '/') != NULL || strcmp(holder, ".") == 0 || strcmp(holder, "..") == 0)
		return false;
	_cleanup_free_ char *dir = fs_path_join(state_root, holder);
	if (lstat(dir, &held) == 0 || errno != ENOENT || range_in_use(base))
		return false;
	return unlinkat(dirfd, name, 0) == 0;
}

int idpool_acquire(const char *state_root, const char *holder, uint32_t *base, char **path,
		   struct bw_error *err)
{
	_cleanup_free_ char *pool = fs_path_join(state_root, ".idpool");
	if (fs_mkdir_p(pool, 0700, err) < 0)
		return bw_wrap(err, "id range pool");
	_cleanup_close_ int dirfd = open(pool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return bw_fail(err, errno, "id range pool: open `%s`", pool);
	uint32_t start;
	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		return bw_fail(err, errno, "getrandom");
	for (uint32_t i = 0; i < IDPOOL_SLOTS; i++) {
		uint32_t slot = (start + i) % IDPOOL_SLOTS;
		uint32_t first = IDPOOL_BASE + slot * IDPOOL_RANGE;
		char name[16];
		snprintf(name, sizeof(name), "%u", slot);
		for (int attempt = 0; attempt < 2; attempt++) {
			_cleanup_close_ int fd =
			    openat(dirfd, name,
				   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (fd >= 0) {
				int w = fs_write_all(fd, holder, strlen(holder));
				if (w < 0) {
					unlinkat(dirfd, name, 0);
					return bw_fail(err, -w, "id range pool: write slot %u",
						       slot);
				}
				*base = first;
				*path = fs_path_join(pool, name);
				return 0;
			}
			if (errno != EEXIST)
				return bw_fail(err, errno, "id range pool: slot %u", slot);
			if (attempt > 0 || !take_back(dirfd, state_root, name, first))
				break;
		}
	}
	return bw_fail(err, 0, "id range pool: all %u host id ranges are held (%s)", IDPOOL_SLOTS,
		       pool);
}

void idpool_release(const char *path, const char *holder)
{
	char held[300];
	if (path == NULL)
		return;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, held, sizeof(held) - 1);
	if (n > 0) {
		held[n] = '\0';
		if (strcmp(held, holder) == 0)
			unlink(path);
	}
}
