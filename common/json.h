/* The one JSON writer: yajl's generator, with every string made valid UTF-8 first (valid
 * multi-byte sequences kept, each invalid byte replaced by U+FFFD; yajl escapes the controls)
 * and the buffer handed back whole, never cut. Logs, audit lines, reports and specs use it;
 * specs and state.json write paths with yajl_gen_string itself, as the bytes they are (a path
 * must not silently turn into another one: yajl's parser then refuses it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

/* A generator (pretty: indented with a tab); aborts when memory is exhausted, like xmalloc. */
yajl_gen json_gen_new(bool pretty);
/* s (n bytes, NULs allowed) as a JSON string; s NULL writes null. */
void json_strn(yajl_gen g, const char *s, size_t n);
void json_str(yajl_gen g, const char *s);
void json_key_str(yajl_gen g, const char *key, const char *value);
void json_key_int(yajl_gen g, const char *key, long long value);
/* The generated text, NUL-terminated and malloc'd (with a trailing newline when `newline` and
 * the text lacks one); *len (optional) its length. Frees g. */
char *json_take(yajl_gen g, bool newline, size_t *len);
/* A copy of s (n bytes) where each byte that does not start a valid UTF-8 sequence (overlong,
 * surrogate, above U+10FFFF, cut short) is replaced by U+FFFD; NUL-terminated, *out_len its
 * length. */
char *json_utf8_repair(const char *s, size_t n, size_t *out_len);
/* s as one quoted JSON string ("a\"b"), malloc'd. */
char *json_quote(const char *s);
