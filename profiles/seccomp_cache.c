/* The compiled-program cache: <dir>/<sha256 hex>.bpf, keyed by a canonical serialisation of the
 * profile (plus libseccomp version, machine and compiler revision). A file is used only when
 * its header, size and body digest all check out; anything else is a miss and is rewritten. */
#include "seccomp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

#define CACHE_MAGIC "BWSCBPF1"

struct cache_header {
	char magic[8];
	uint32_t n_insns;
	uint32_t flags;
	uint32_t needs_listener;
	uint32_t reserved; /* 0 */
	uint8_t key[SHA256_DIGEST_LEN];
	uint8_t body_sha256[SHA256_DIGEST_LEN];
};

/* Length-prefixed fields: no two different profiles serialise to the same bytes. */
static void put_u64(struct sha256_ctx *c, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sha256_update(c, b, sizeof(b));
}

static void put_str(struct sha256_ctx *c, const char *s)
{
	if (s == NULL) {
		put_u64(c, UINT64_MAX);
		return;
	}
	size_t n = strlen(s);
	put_u64(c, n);
	sha256_update(c, s, n);
}

static void put_strv(struct sha256_ctx *c, char *const *v)
{
	put_u64(c, v == NULL ? UINT64_MAX : strv_len(v));
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		put_str(c, v[i]);
}

static void put_opt(struct sha256_ctx *c, const struct opt_u64 *o)
{
	put_u64(c, o->set);
	put_u64(c, o->set ? o->v : 0);
}

static void put_syscall(struct sha256_ctx *c, const struct oci_seccomp_syscall *s)
{
	put_strv(c, s->names);
	put_str(c, s->action);
	put_opt(c, &s->errno_ret);
	put_u64(c, s->n_args);
	for (size_t i = 0; i < s->n_args; i++) {
		put_u64(c, s->args[i].index);
		put_u64(c, s->args[i].value);
		put_u64(c, s->args[i].value_two);
		put_str(c, s->args[i].op);
	}
}

void seccomp_cache_key(const struct oci_seccomp *sc, uint8_t key[SHA256_DIGEST_LEN])
{
	struct sha256_ctx c;
	struct utsname u;
	const struct scmp_version *v = seccomp_version();
	sha256_init(&c);
	put_str(&c, "bulwark seccomp cache");
	put_u64(&c, SECCOMP_COMPILER_REVISION);
	put_u64(&c, ((uint64_t)v->major << 32) | ((uint64_t)v->minor << 16) | v->micro);
	put_str(&c, uname(&u) == 0 ? u.machine : "?");
	put_u64(&c, seccomp_arch_native());
	put_str(&c, sc->default_action);
	put_opt(&c, &sc->default_errno_ret);
	put_strv(&c, sc->architectures);
	put_strv(&c, sc->flags);
	put_u64(&c, sc->n_syscalls);
	for (size_t i = 0; i < sc->n_syscalls; i++)
		put_syscall(&c, &sc->syscalls[i]);
	sha256_final(&c, key);
}

static void file_name(const uint8_t key[SHA256_DIGEST_LEN], char name[80])
{
	char hex[2 * SHA256_DIGEST_LEN + 1];
	sha256_hex(key, hex);
	strcpy(name, hex);
	strcat(name, ".bpf");
}

static bool header_ok(const struct cache_header *h, const uint8_t *key, size_t size)
{
	return memcmp(h->magic, CACHE_MAGIC, sizeof(h->magic)) == 0 && h->n_insns > 0 &&
	       h->n_insns <= BPF_MAXINSNS &&
	       size == sizeof(*h) + (size_t)h->n_insns * sizeof(struct sock_filter) &&
	       (h->flags & ~(uint32_t)SECCOMP_KNOWN_FLAGS) == 0 && h->needs_listener <= 1 &&
	       h->reserved == 0 && memcmp(h->key, key, SHA256_DIGEST_LEN) == 0;
}

int seccomp_cache_load(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
		       struct seccomp_prog *out)
{
	char name[80];
	file_name(key, name);
	_cleanup_free_ char *path = fs_path_join(dir, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	size_t max = sizeof(struct cache_header) + BPF_MAXINSNS * sizeof(struct sock_filter);
	if (st.st_size < (off_t)sizeof(struct cache_header) || (size_t)st.st_size > max)
		return -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct bw_error ignored = {0};
	if (fs_read_fd(fd, max + 1, &buf, &len, &ignored) < 0 || len < sizeof(struct cache_header))
		return -1;
	struct cache_header h;
	memcpy(&h, buf, sizeof(h));
	if (!header_ok(&h, key, len))
		return -1;
	uint8_t digest[SHA256_DIGEST_LEN];
	size_t body = len - sizeof(h);
	sha256(buf + sizeof(h), body, digest);
	if (memcmp(digest, h.body_sha256, sizeof(digest)) != 0)
		return -1;
	out->filter = xmalloc(body);
	memcpy(out->filter, buf + sizeof(h), body);
	out->len = h.n_insns;
	out->flags = h.flags;
	out->needs_listener = h.needs_listener != 0;
	return 0;
}

int seccomp_cache_store(const char *dir, const uint8_t key[SHA256_DIGEST_LEN],
			const struct seccomp_prog *prog, struct bw_error *err)
{
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return bw_fail(err, errno, "open `%s`", dir);
	size_t body = prog->len * sizeof(struct sock_filter);
	struct cache_header h = {.n_insns = (uint32_t)prog->len,
				 .flags = prog->flags,
				 .needs_listener = prog->needs_listener};
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	memcpy(h.key, key, SHA256_DIGEST_LEN);
	sha256(prog->filter, body, h.body_sha256);
	_cleanup_free_ char *data = xmalloc(sizeof(h) + body);
	memcpy(data, &h, sizeof(h));
	memcpy(data + sizeof(h), prog->filter, body);
	char name[80];
	file_name(key, name);
	return fs_write_atomic_at(dfd, name, data, sizeof(h) + body, 0600, err);
}
