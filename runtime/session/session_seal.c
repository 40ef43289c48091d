/* The seal of a session checkpoint (session_seal.h): HMAC-SHA256 (RFC 2104) over
 * "bulwark-session-seal-v1\0", then for each file of DIR in byte order of its name (the seal
 * itself and what a restore adds, restore.log and CRIU's stats-restore, aside): the name, a NUL,
 * its size as 8 bytes little-endian and its content. The key: 32 random bytes in
 * /var/lib/bulwark/session-checkpoint.key (root's, 0600), or in the state root where
 * /var/lib/bulwark cannot be made. */
#include "runtime/session/session_seal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"
#include "profiles/sha256.h"

#define KEY_DIR "/var/lib/bulwark"
#define KEY_NAME "session-checkpoint.key"
#define KEY_LEN 32
#define SEAL_TAG "bulwark-session-seal-v1"

/* A fresh key in d, whole or not at all: written to an unnamed file, then linked in; a
 * concurrent first checkpoint's key, linked first, wins (EEXIST). */
static int key_make(int d)
{
	uint8_t fresh[KEY_LEN];
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
		return -EIO;
	_cleanup_close_ int w = openat(d, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (w < 0)
		return -errno;
	bool ok = write(w, fresh, sizeof(fresh)) == (ssize_t)sizeof(fresh) && fsync(w) == 0;
	explicit_bzero(fresh, sizeof(fresh));
	if (!ok)
		return -EIO;
	char proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w);
	if (linkat(AT_FDCWD, proc, d, KEY_NAME, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The key file in the directory d (root's, no group or other write): root's, 0600, one
 * link, exactly KEY_LEN bytes; made first if create. */
static int key_in(int d, bool create, uint8_t key[KEY_LEN])
{
	struct stat st;
	if (fstat(d, &st) < 0)
		return -errno;
	if (st.st_uid != 0 || (st.st_mode & 022) != 0)
		return -EPERM;
	_cleanup_close_ int fd = openat(d, KEY_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		int r = key_make(d);
		if (r < 0)
			return r;
		fd = openat(d, KEY_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0 || st.st_nlink != 1 || st.st_size != KEY_LEN)
		return -EPERM;
	return read(fd, key, KEY_LEN) == KEY_LEN ? 0 : -EIO;
}

/* /var/lib/bulwark's key, or the state root's only where /var/lib/bulwark cannot be (made):
 * never the state root's because /var/lib/bulwark merely lacks a key. */
static int load_key(const char *state_root, bool create, uint8_t key[KEY_LEN], struct bw_error *err)
{
	if (create && mkdir(KEY_DIR, 0700) < 0 && errno != EEXIST && errno != EROFS &&
	    errno != EACCES)
		return bw_fail(err, errno, "the checkpoint key's directory `%s`", KEY_DIR);
	const char *where = KEY_DIR;
	_cleanup_close_ int d = open(KEY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0 && errno == ENOENT) {
		where = state_root;
		d = open(state_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	int r = d >= 0 ? key_in(d, create, key) : -errno;
	if (r < 0)
		return bw_fail(err, -r, "the checkpoint key `%s/" KEY_NAME "`", where);
	return 0;
}

int session_seal_key_ready(const char *state_root, struct bw_error *err)
{
	uint8_t key[KEY_LEN];
	int r = load_key(state_root, true, key, err);
	explicit_bzero(key, sizeof(key));
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names to cover, sorted; NULL-terminated. */
static char **covered_names(int dirfd, struct bw_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		bw_fail(err, errno, "read DIR");
		return NULL;
	}
	char **v = NULL;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, SESSION_SEAL_FILE) != 0 &&
		    strcmp(de->d_name, "restore.log") != 0 &&
		    strcmp(de->d_name, "stats-restore") != 0)
			strv_push(&v, de->d_name);
	closedir(d);
	if (v != NULL)
		qsort(v, strv_len(v), sizeof(*v), cmp_names);
	return v;
}

/* One file into the MAC: name, NUL, size (8 bytes LE), content; a regular file only. */
static int mac_file(struct sha256_ctx *h, int dirfd, const char *name, struct bw_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno == ELOOP)
		return bw_fail(err, 0, "DIR: `%s` is not a regular file", name);
	if (fd < 0 || fstat(fd, &st) < 0)
		return bw_fail(err, errno, "DIR: `%s`", name);
	if (!S_ISREG(st.st_mode))
		return bw_fail(err, 0, "DIR: `%s` is not a regular file", name);
	uint8_t size[8];
	for (int i = 0; i < 8; i++)
		size[i] = (uint8_t)((uint64_t)st.st_size >> (8 * i));
	sha256_update(h, name, strlen(name) + 1);
	sha256_update(h, size, sizeof(size));
	_cleanup_free_ char *buf = xmalloc(1 << 16);
	uint64_t left = (uint64_t)st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < (1 << 16) ? (size_t)left : (1 << 16));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bw_fail(err, n < 0 ? errno : EIO, "DIR: read `%s`", name);
		sha256_update(h, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	return 0;
}

static int compute(int dirfd, const uint8_t key[KEY_LEN], char hex[2 * SHA256_DIGEST_LEN + 1],
		   struct bw_error *err)
{
	uint8_t pad[64], inner[SHA256_DIGEST_LEN], mac[SHA256_DIGEST_LEN];
	char **names = covered_names(dirfd, err);
	if (names == NULL && err->msg[0] != '\0')
		return -1;
	struct sha256_ctx h;
	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < KEY_LEN; i++)
		pad[i] ^= key[i];
	sha256_init(&h);
	sha256_update(&h, pad, sizeof(pad));
	sha256_update(&h, SEAL_TAG, sizeof(SEAL_TAG));
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (mac_file(&h, dirfd, names[i], err) < 0) {
			strv_free(names);
			return -1;
		}
	strv_free(names);
	sha256_final(&h, inner);
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < KEY_LEN; i++)
		pad[i] ^= key[i];
	sha256_init(&h);
	sha256_update(&h, pad, sizeof(pad));
	sha256_update(&h, inner, sizeof(inner));
	sha256_final(&h, mac);
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(&h, sizeof(h));
	sha256_hex(mac, hex);
	return 0;
}

int session_seal_write(int dirfd, const char *state_root, struct bw_error *err)
{
	uint8_t key[KEY_LEN];
	char hex[2 * SHA256_DIGEST_LEN + 2];
	if (load_key(state_root, true, key, err) < 0 || compute(dirfd, key, hex, err) < 0)
		return bw_wrap(err, "seal");
	explicit_bzero(key, sizeof(key));
	strcat(hex, "\n");
	return fs_write_atomic_at(dirfd, SESSION_SEAL_FILE, hex, strlen(hex), 0600, err);
}

int session_seal_check(int dirfd, const char *state_root, struct bw_error *err)
{
	uint8_t key[KEY_LEN];
	char want[2 * SHA256_DIGEST_LEN + 1], got[2 * SHA256_DIGEST_LEN + 2] = {0};
	_cleanup_close_ int fd =
	    openat(dirfd, SESSION_SEAL_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, got, sizeof(got) - 1) : -1;
	if (n != 2 * SHA256_DIGEST_LEN + 1 || got[2 * SHA256_DIGEST_LEN] != '\n')
		return bw_fail(
		    err, 0,
		    "DIR: no seal of this host's `session checkpoint` (" SESSION_SEAL_FILE
		    "): only an image this host's bulwark made is restored");
	if (load_key(state_root, false, key, err) < 0 || compute(dirfd, key, want, err) < 0)
		return -1;
	explicit_bzero(key, sizeof(key));
	unsigned diff = 0;
	for (int i = 0; i < 2 * SHA256_DIGEST_LEN; i++)
		diff |= (unsigned)(want[i] ^ got[i]);
	if (diff != 0)
		return bw_fail(err, 0,
			       "DIR: its files do not match the seal of this host's `session "
			       "checkpoint`: changed since, or not made here");
	return 0;
}
