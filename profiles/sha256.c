/* SHA-256 through libmd (the FIPS 180-4 test vectors are in tests/unit/test_seccomp.c). */
#include "sha256.h"

_Static_assert(SHA256_DIGEST_LEN == SHA256_DIGEST_LENGTH, "libmd's digest length");

void sha256_init(struct sha256_ctx *c)
{
	SHA256Init(&c->md);
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	SHA256Update(&c->md, data, len);
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN])
{
	SHA256Final(out, &c->md);
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char hex[2 * SHA256_DIGEST_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0xf];
	}
	hex[2 * SHA256_DIGEST_LEN] = '\0';
}
