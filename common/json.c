/* JSON output on top of yajl's generator: UTF-8 repair of strings and the buffer's hand-over,
 * which every writer of JSON in bulwark shares. */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

yajl_gen json_gen_new(bool pretty)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		abort(); /* only fails on exhausted memory, like xmalloc */
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "\t");
	}
	return g;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when none starts there. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *json_utf8_repair(const char *s, size_t n, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(p + i, n - i);
		bad += l == 0;
		i += l == 0 ? 1 : l;
	}
	char *out = xmalloc(n + bad * 2 + 1); /* U+FFFD is 3 bytes, in place of 1 */
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(p + i, n - i);
		if (l == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

void json_strn(yajl_gen g, const char *s, size_t n)
{
	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	size_t len;
	char *fixed = json_utf8_repair(s, n, &len);
	yajl_gen_string(g, (const unsigned char *)fixed, len);
	free(fixed);
}

void json_str(yajl_gen g, const char *s)
{
	json_strn(g, s, s != NULL ? strlen(s) : 0);
}

void json_key_str(yajl_gen g, const char *key, const char *value)
{
	json_str(g, key);
	json_str(g, value);
}

void json_key_int(yajl_gen g, const char *key, long long value)
{
	json_str(g, key);
	yajl_gen_integer(g, value);
}

char *json_take(yajl_gen g, bool newline, size_t *len)
{
	const unsigned char *buf = NULL;
	size_t n = 0;
	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		n = 0;
	char *s = xmalloc(n + 2);
	if (n > 0)
		memcpy(s, buf, n);
	if (newline && (n == 0 || s[n - 1] != '\n'))
		s[n++] = '\n';
	s[n] = '\0';
	yajl_gen_free(g);
	if (len != NULL)
		*len = n;
	return s;
}

char *json_quote(const char *s)
{
	yajl_gen g = json_gen_new(false);
	json_str(g, s);
	return json_take(g, false, NULL);
}
