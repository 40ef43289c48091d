/* The bounded JSON reader of oci/: builds a yajl_val tree through yajl's event parser so that
 * size, depth, value count, NUL characters and duplicate keys are refused while parsing, and
 * yajl's error is reduced to one short line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/spec_internal.h"

struct builder {
	yajl_val root;
	yajl_val stack[OCI_JSON_MAX_DEPTH];
	size_t depth;
	char *key; /* member name waiting for its value */
	size_t values;
	const char *fail; /* why a callback stopped the parse */
};

static void free_object(yajl_val v)
{
	for (size_t i = 0; i < v->u.object.len; i++) {
		free((char *)v->u.object.keys[i]);
		oj_free(v->u.object.values[i]);
	}
	free(v->u.object.keys);
	free(v->u.object.values);
}

/* Recursion is bounded by OCI_JSON_MAX_DEPTH. */
void oj_free(yajl_val v)
{
	if (v == NULL)
		return;
	if (v->type == yajl_t_string) {
		free(v->u.string);
	} else if (v->type == yajl_t_number) {
		free(v->u.number.r);
	} else if (v->type == yajl_t_object) {
		free_object(v);
	} else if (v->type == yajl_t_array) {
		for (size_t i = 0; i < v->u.array.len; i++)
			oj_free(v->u.array.values[i]);
		free(v->u.array.values);
	}
	free(v);
}

/* Capacity doubles at each power of two from 4, so it needs no field of its own. */
static bool needs_growth(size_t len)
{
	return len == 0 || (len >= 4 && (len & (len - 1)) == 0);
}

static size_t grown(size_t len)
{
	return len == 0 ? 4 : len * 2;
}

static int attach(struct builder *b, yajl_val v)
{
	if (b->depth == 0) {
		b->root = v;
		return 1;
	}
	yajl_val parent = b->stack[b->depth - 1];
	if (parent->type == yajl_t_array) {
		size_t n = parent->u.array.len;
		if (needs_growth(n))
			parent->u.array.values =
			    xrealloc(parent->u.array.values, grown(n) * sizeof(yajl_val));
		parent->u.array.values[parent->u.array.len++] = v;
		return 1;
	}
	size_t n = parent->u.object.len;
	if (needs_growth(n)) {
		parent->u.object.keys = xrealloc(parent->u.object.keys, grown(n) * sizeof(char *));
		parent->u.object.values =
		    xrealloc(parent->u.object.values, grown(n) * sizeof(yajl_val));
	}
	parent->u.object.keys[n] = steal_ptr(&b->key);
	parent->u.object.values[n] = v;
	parent->u.object.len++;
	return 1;
}

static yajl_val new_value(struct builder *b, yajl_type type)
{
	if (++b->values > OCI_JSON_MAX_VALUES) {
		b->fail = "too many JSON values";
		return NULL;
	}
	yajl_val v = xcalloc(1, sizeof(*v));
	v->type = type;
	return v;
}

static int add_scalar(void *ctx, yajl_type type)
{
	struct builder *b = ctx;
	yajl_val v = new_value(b, type);
	return v == NULL ? 0 : attach(b, v);
}

static int cb_null(void *ctx)
{
	return add_scalar(ctx, yajl_t_null);
}

static int cb_boolean(void *ctx, int value)
{
	return add_scalar(ctx, value ? yajl_t_true : yajl_t_false);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	yajl_val v = new_value(b, yajl_t_number);
	if (v == NULL)
		return 0;
	v->u.number.r = xstrndup(s, len);
	char *end;
	errno = 0;
	long long i = strtoll(v->u.number.r, &end, 10);
	if (errno == 0 && *end == '\0') {
		v->u.number.i = i;
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	}
	errno = 0;
	double d = strtod(v->u.number.r, &end);
	if (errno == 0 && *end == '\0') {
		v->u.number.d = d;
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	}
	return attach(b, v);
}

/* A NUL inside a string would silently cut it short in C. */
static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	if (memchr(s, '\0', len) != NULL) {
		b->fail = "NUL character in a string";
		return 0;
	}
	yajl_val v = new_value(b, yajl_t_string);
	if (v == NULL)
		return 0;
	v->u.string = xstrndup((const char *)s, len);
	return attach(b, v);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	if (memchr(s, '\0', len) != NULL) {
		b->fail = "NUL character in a key";
		return 0;
	}
	free(b->key);
	b->key = xstrndup((const char *)s, len);
	return 1;
}

static int open_container(void *ctx, yajl_type type)
{
	struct builder *b = ctx;
	if (b->depth == OCI_JSON_MAX_DEPTH) {
		b->fail = "too deeply nested";
		return 0;
	}
	yajl_val v = new_value(b, type);
	if (v == NULL)
		return 0;
	attach(b, v);
	b->stack[b->depth++] = v;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, yajl_t_object);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, yajl_t_array);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two parsers that keep different copies of a duplicated key disagree about the document:
 * refuse the ambiguity instead of picking one. */
static bool has_duplicate_key(yajl_val obj)
{
	size_t n = obj->u.object.len;
	if (n < 2)
		return false;
	_cleanup_free_ const char **keys = xmalloc(n * sizeof(char *));
	memcpy(keys, obj->u.object.keys, n * sizeof(char *));
	qsort(keys, n, sizeof(char *), cmp_str_ptr);
	for (size_t i = 1; i < n; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
			return true;
	return false;
}

static int cb_end_map(void *ctx)
{
	struct builder *b = ctx;
	if (has_duplicate_key(b->stack[b->depth - 1])) {
		b->fail = "duplicate key in an object";
		return 0;
	}
	b->depth--;
	return 1;
}

static int cb_end_array(void *ctx)
{
	struct builder *b = ctx;
	b->depth--;
	return 1;
}

static const yajl_callbacks builder_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

/* yajl's short message ends with a newline; keep one line. */
static int fail_yajl(yajl_handle h, const char *what, struct bw_error *err)
{
	unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
	size_t n = strlen((char *)msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	bw_fail(err, 0, "%s: invalid JSON: %.*s", what, (int)n, (char *)msg);
	yajl_free_error(h, msg);
	return -1;
}

static int run_parser(struct builder *b, const char *json, size_t len, const char *what,
		      bool lax_utf8, struct bw_error *err)
{
	yajl_handle h = yajl_alloc(&builder_callbacks, NULL, b);
	if (h == NULL)
		return bw_fail(err, ENOMEM, "%s: cannot allocate the JSON parser", what);
	if (lax_utf8)
		yajl_config(h, yajl_dont_validate_strings, 1);
	yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	int r = 0;
	if (st == yajl_status_client_canceled) {
		if (strcmp(b->fail, "too deeply nested") == 0)
			r = bw_fail(err, 0, "%s: too deeply nested", what);
		else
			r = bw_fail(err, 0, "%s: invalid JSON: %s", what, b->fail);
	} else if (st != yajl_status_ok) {
		r = fail_yajl(h, what, err);
	}
	yajl_free(h);
	return r;
}

int oj_parse(const char *json, size_t len, const char *what, bool lax_utf8, yajl_val *out,
	     struct bw_error *err)
{
	if (len > OCI_JSON_MAX_SIZE)
		return bw_fail(err, EFBIG, "%s: too large", what);
	struct builder b = {0};
	if (run_parser(&b, json, len, what, lax_utf8, err) < 0) {
		free(b.key);
		oj_free(b.root);
		return -1;
	}
	free(b.key);
	if (b.root == NULL || b.root->type != yajl_t_object) {
		oj_free(b.root);
		return bw_fail(err, 0, "%s: invalid JSON: the document must be an object", what);
	}
	*out = b.root;
	return 0;
}

void jp_init(struct jp *p, const char *what, struct bw_error *err)
{
	p->what = what;
	p->err = err;
	p->len = 0;
	p->path[0] = '\0';
}

static size_t jp_append(struct jp *p, const char *s)
{
	size_t mark = p->len;
	size_t room = sizeof(p->path) - p->len - 1;
	size_t n = strlen(s);
	if (n > room)
		n = room;
	memcpy(p->path + p->len, s, n);
	p->len += n;
	p->path[p->len] = '\0';
	return mark;
}

size_t jp_key(struct jp *p, const char *key)
{
	size_t mark = p->len;
	if (p->len > 0)
		jp_append(p, ".");
	jp_append(p, key);
	return mark;
}

/* Called for every array element, so without snprintf. */
size_t jp_idx(struct jp *p, size_t i)
{
	char buf[32], *q = buf + sizeof(buf) - 1;
	*q = '\0';
	*--q = ']';
	do
		*--q = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	*--q = '[';
	return jp_append(p, q);
}

size_t jp_mapkey(struct jp *p, const char *key)
{
	char q[JP_QUOTE_MAX];
	size_t mark = jp_append(p, "[");
	jp_append(p, jp_quote(q, key));
	jp_append(p, "]");
	return mark;
}

void jp_pop(struct jp *p, size_t mark)
{
	p->len = mark;
	p->path[mark] = '\0';
}

static int jp_failv(struct jp *p, const char *fmt, va_list ap)
{
	char msg[BW_ERROR_MAX / 2];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (p->len == 0)
		return bw_fail(p->err, 0, "%s: %s", p->what, msg);
	return bw_fail(p->err, 0, "%s: %s: %s", p->what, p->path, msg);
}

int jp_fail(struct jp *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jp_failv(p, fmt, ap);
	va_end(ap);
	return -1;
}

int jp_fail_at(struct jp *p, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t mark = jp_key(p, key);
	va_start(ap, fmt);
	jp_failv(p, fmt, ap);
	va_end(ap);
	jp_pop(p, mark);
	return -1;
}

/* Input strings go into one-line messages: printable ASCII only, bounded length. */
const char *jp_quote(char buf[static JP_QUOTE_MAX], const char *s)
{
	size_t o = 0, max = JP_QUOTE_MAX - 6;
	buf[o++] = '"';
	for (; *s != '\0' && o < max; s++) {
		unsigned char c = (unsigned char)*s;
		buf[o++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	if (*s != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
