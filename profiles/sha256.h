/* SHA-256: the content hash that keys the compiled seccomp cache, guards each cache file
 * against corruption, and names a config in the audit log. libmd's (Debian's libmd-dev,
 * static, BSD) behind our names; why that one: docs/architecture.md, "Libraries". Not for
 * secrets (everything hashed here is public). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sha2.h>

#define SHA256_DIGEST_LEN 32

struct sha256_ctx {
	SHA2_CTX md;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);
/* One-shot digest. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);
/* Lower-case hex of a digest into hex[65] (NUL-terminated). */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[2 * SHA256_DIGEST_LEN + 1]);
