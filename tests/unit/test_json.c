/* common/json.c: the one JSON writer (UTF-8 repair, escaping, whole buffers) and its users'
 * lines in common/log.c. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

static char *one_string(const char *s, size_t n)
{
	yajl_gen g = json_gen_new(false);
	json_strn(g, s, n);
	return json_take(g, false, NULL);
}

Test(json, valid_multibyte_utf8_is_kept_as_is)
{
	const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	_cleanup_free_ char *out = one_string(s, strlen(s));
	_cleanup_free_ char *want = xasprintf("\"%s\"", s);
	cr_assert_str_eq(out, want);
}

Test(json, control_characters_quote_and_backslash_are_escaped)
{
	_cleanup_free_ char *out = one_string("a\"b\\c\n\t\x01\x1f", 9);
	cr_assert_str_eq(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001F\"");
	_cleanup_free_ char *nul = one_string("a\0b", 3);
	cr_assert_str_eq(nul, "\"a\\u0000b\"");
}

Test(json, each_invalid_byte_becomes_one_replacement_character)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"\xff", "\xef\xbf\xbd"},				      /* never valid */
	    {"a\xc3", "a\xef\xbf\xbd"},				      /* cut short at the end */
	    {"\xc3(", "\xef\xbf\xbd("},				      /* continuation missing */
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},		      /* overlong '/' */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
	    {"\xf4\x90\x80\x80",
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
	    {"\x80\xc3\xa9", "\xef\xbf\xbd\xc3\xa9"}, /* a stray continuation, then a valid é */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len;
		_cleanup_free_ char *out = json_utf8_repair(cases[i].in, strlen(cases[i].in), &len);
		cr_assert_str_eq(out, cases[i].want, "case %zu", i);
		cr_assert_eq(len, strlen(cases[i].want));
	}
}

Test(json, output_parses_back_and_is_never_cut)
{
	size_t n = 100000;
	_cleanup_free_ char *big = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = "ab\"\n\xff"[i % 5];
	big[n] = '\0';
	yajl_gen g = json_gen_new(false);
	yajl_gen_map_open(g);
	json_key_str(g, "s", big);
	json_key_int(g, "n", -7);
	json_str(g, "null");
	json_str(g, NULL);
	yajl_gen_map_close(g);
	size_t len;
	_cleanup_free_ char *text = json_take(g, true, &len);
	cr_assert_eq(text[len - 1], '\n');
	cr_assert_eq(strlen(text), len);
	char ebuf[128];
	yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	cr_assert_not_null(v, "%s", ebuf);
	const char *sp[] = {"s", NULL}, *np[] = {"n", NULL}, *zp[] = {"null", NULL};
	const char *s = YAJL_GET_STRING(yajl_tree_get(v, sp, yajl_t_string));
	cr_assert_not_null(s);
	cr_assert_eq(strlen(s), n / 5 * 7, "every byte arrives: 4 ASCII + U+FFFD each 5");
	cr_assert_eq(YAJL_GET_INTEGER(yajl_tree_get(v, np, yajl_t_number)), -7);
	cr_assert(YAJL_IS_NULL(yajl_tree_get(v, zp, yajl_t_any)));
	yajl_tree_free(v);
}

Test(json, quote_makes_one_string)
{
	_cleanup_free_ char *q = json_quote("say \"hi\"");
	cr_assert_str_eq(q, "\"say \\\"hi\\\"\"");
}

/* The log's JSON line: one object, parseable, the message whole. */
Test(log, json_lines_parse_and_keep_the_message)
{
	char path[] = "/tmp/bulwark-test-log-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct bw_error err = {0};
	cr_assert_eq(log_init(path, LOG_FORMAT_JSON, false, &err), 0);
	char msg[600];
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	msg[0] = '"';
	log_warn("%s", msg);
	char buf[4096];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	cr_assert_gt(r, 0);
	buf[r] = '\0';
	cr_assert_eq(buf[r - 1], '\n');
	char ebuf[128];
	yajl_val v = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
	cr_assert_not_null(v, "%s: %s", ebuf, buf);
	const char *mp[] = {"msg", NULL}, *lp[] = {"level", NULL};
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, mp, yajl_t_string)), msg);
	cr_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, lp, yajl_t_string)), "warning");
	yajl_tree_free(v);
}
