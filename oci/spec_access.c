/* Typed, path-naming accessors over the JSON tree of spec_json.c: every wrong type, non-integer
 * or out-of-range number becomes "<what>: <path>: <reason>". Integers are read from the
 * number's text so that the whole uint64 range (RLIM_INFINITY) survives. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/spec_internal.h"

yajl_val oj_get(yajl_val obj, const char *key)
{
	if (obj == NULL || obj->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_val v = obj->u.object.values[i];
			return v->type == yajl_t_null ? NULL : v;
		}
	return NULL;
}

static const char *type_phrase(yajl_type type)
{
	switch (type) {
	case yajl_t_string:
		return "a string";
	case yajl_t_number:
		return "an integer";
	case yajl_t_object:
		return "an object";
	case yajl_t_array:
		return "an array";
	default:
		return "a boolean";
	}
}

int oj_need(struct jp *p, yajl_val v, yajl_type type)
{
	bool ok = v->type == type;
	if (type == yajl_t_true || type == yajl_t_false)
		ok = v->type == yajl_t_true || v->type == yajl_t_false;
	if (!ok)
		return jp_fail(p, "must be %s", type_phrase(type));
	return 0;
}

int oj_string(struct jp *p, yajl_val v, char **out)
{
	if (oj_need(p, v, yajl_t_string) < 0)
		return -1;
	free(*out);
	*out = xstrdup(v->u.string);
	return 0;
}

int oj_bool(struct jp *p, yajl_val v, bool *out)
{
	if (oj_need(p, v, yajl_t_true) < 0)
		return -1;
	*out = v->type == yajl_t_true;
	return 0;
}

/* The text is valid JSON number syntax; integers have no fraction and no exponent. */
static int json_integer(yajl_val v, bool *neg, uint64_t *mag)
{
	if (v->type != yajl_t_number)
		return -EINVAL;
	const char *s = v->u.number.r;
	if (strpbrk(s, ".eE") != NULL)
		return -EINVAL;
	*neg = s[0] == '-';
	if (*neg)
		s++;
	return parse_u64(s, mag);
}

int oj_u64(struct jp *p, yajl_val v, uint64_t max, uint64_t *out)
{
	bool neg;
	uint64_t mag;
	int r = json_integer(v, &neg, &mag);
	if (r == -EINVAL)
		return jp_fail(p, "must be an integer");
	if (neg && (r < 0 || mag != 0))
		return jp_fail(p, "must be >= 0");
	if (r < 0 || mag > max)
		return jp_fail(p, "must be <= %" PRIu64, max);
	*out = mag;
	return 0;
}

int oj_i64(struct jp *p, yajl_val v, int64_t min, int64_t max, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int r = json_integer(v, &neg, &mag);
	if (r == -EINVAL)
		return jp_fail(p, "must be an integer");
	if (neg && (r < 0 || mag > (uint64_t)INT64_MAX + 1))
		return jp_fail(p, "must be >= %" PRId64, min);
	if (!neg && (r < 0 || mag > (uint64_t)INT64_MAX))
		return jp_fail(p, "must be <= %" PRId64, max);
	int64_t x = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	if (x < min)
		return jp_fail(p, "must be >= %" PRId64, min);
	if (x > max)
		return jp_fail(p, "must be <= %" PRId64, max);
	*out = x;
	return 0;
}

int oj_strv(struct jp *p, yajl_val v, char ***out)
{
	if (oj_need(p, v, yajl_t_array) < 0)
		return -1;
	size_t n = v->u.array.len;
	char **list = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		size_t mark = jp_idx(p, i);
		if (oj_string(p, v->u.array.values[i], &list[i]) < 0) {
			strv_free(list);
			return -1;
		}
		jp_pop(p, mark);
	}
	strv_free(*out);
	*out = list;
	return 0;
}

int oj_field(struct jp *p, yajl_val obj, const char *key, oj_elem_fn fn, void *out)
{
	yajl_val v = oj_get(obj, key);
	if (v == NULL)
		return 0;
	size_t mark = jp_key(p, key);
	if (fn(p, v, out) < 0)
		return -1;
	jp_pop(p, mark);
	return 1;
}

struct typed_value {
	yajl_type type;
	yajl_val *out;
};

static int typed_value(struct jp *p, yajl_val v, void *out)
{
	struct typed_value *t = out;
	if (oj_need(p, v, t->type) < 0)
		return -1;
	*t->out = v;
	return 0;
}

int oj_f_value(struct jp *p, yajl_val obj, const char *key, yajl_type type, yajl_val *out)
{
	struct typed_value t = {type, out};
	return oj_field(p, obj, key, typed_value, &t) < 0 ? -1 : 0;
}

static int string_value(struct jp *p, yajl_val v, void *out)
{
	return oj_string(p, v, out);
}

int oj_f_string(struct jp *p, yajl_val obj, const char *key, char **out)
{
	return oj_field(p, obj, key, string_value, out) < 0 ? -1 : 0;
}

static int bool_value(struct jp *p, yajl_val v, void *out)
{
	return oj_bool(p, v, out);
}

int oj_f_bool(struct jp *p, yajl_val obj, const char *key, bool *out)
{
	return oj_field(p, obj, key, bool_value, out) < 0 ? -1 : 0;
}

struct ranged {
	int64_t min;
	uint64_t max;
	void *out;
};

static int u64_value(struct jp *p, yajl_val v, void *out)
{
	const struct ranged *r = out;
	return oj_u64(p, v, r->max, r->out);
}

static int i64_value(struct jp *p, yajl_val v, void *out)
{
	const struct ranged *r = out;
	return oj_i64(p, v, r->min, (int64_t)r->max, r->out);
}

/* r from oj_field: *set when the member was there. */
static int mark_set(int r, bool *set)
{
	if (r > 0 && set != NULL)
		*set = true;
	return r < 0 ? -1 : 0;
}

int oj_f_u64(struct jp *p, yajl_val obj, const char *key, uint64_t max, uint64_t *out, bool *set)
{
	struct ranged r = {0, max, out};
	return mark_set(oj_field(p, obj, key, u64_value, &r), set);
}

int oj_f_i64(struct jp *p, yajl_val obj, const char *key, int64_t min, int64_t max, int64_t *out,
	     bool *set)
{
	struct ranged r = {min, (uint64_t)max, out};
	return mark_set(oj_field(p, obj, key, i64_value, &r), set);
}

int oj_f_u32(struct jp *p, yajl_val obj, const char *key, uint32_t *out, bool *set)
{
	uint64_t x;
	bool got = false;
	if (oj_f_u64(p, obj, key, UINT32_MAX, &x, &got) < 0)
		return -1;
	if (got) {
		*out = (uint32_t)x;
		if (set != NULL)
			*set = true;
	}
	return 0;
}

int oj_f_opt_bool(struct jp *p, yajl_val obj, const char *key, struct opt_bool *out)
{
	bool b = false;
	yajl_val v = oj_get(obj, key);
	if (v == NULL)
		return 0;
	if (oj_f_bool(p, obj, key, &b) < 0)
		return -1;
	out->set = true;
	out->v = b;
	return 0;
}

int oj_f_opt_u64(struct jp *p, yajl_val obj, const char *key, uint64_t max, struct opt_u64 *out)
{
	return oj_f_u64(p, obj, key, max, &out->v, &out->set);
}

int oj_f_opt_i64(struct jp *p, yajl_val obj, const char *key, int64_t min, int64_t max,
		 struct opt_i64 *out)
{
	return oj_f_i64(p, obj, key, min, max, &out->v, &out->set);
}

static int strv_value(struct jp *p, yajl_val v, void *out)
{
	return oj_strv(p, v, out);
}

int oj_f_strv(struct jp *p, yajl_val obj, const char *key, char ***out)
{
	return oj_field(p, obj, key, strv_value, out) < 0 ? -1 : 0;
}

int oj_f_objects(struct jp *p, yajl_val obj, const char *key, size_t elem_size, size_t max,
		 void **arr, size_t *n, oj_elem_fn fn)
{
	yajl_val v = NULL;
	if (oj_f_value(p, obj, key, yajl_t_array, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t len = v->u.array.len;
	if (max > 0 && len > max)
		return jp_fail_at(p, key, "too many entries (max %zu)", max);
	size_t mark = jp_key(p, key);
	*arr = len > 0 ? xcalloc(len, elem_size) : NULL;
	*n = len;
	for (size_t i = 0; i < len; i++) {
		size_t imark = jp_idx(p, i);
		yajl_val e = v->u.array.values[i];
		if (oj_need(p, e, yajl_t_object) < 0 || fn(p, e, (char *)*arr + i * elem_size) < 0)
			return -1;
		jp_pop(p, imark);
	}
	jp_pop(p, mark);
	return 0;
}

int oj_f_string_map(struct jp *p, yajl_val obj, const char *key, struct oci_kv **out, size_t *n,
		    oj_key_fn check)
{
	yajl_val v = NULL;
	if (oj_f_value(p, obj, key, yajl_t_object, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t len = v->u.object.len;
	size_t mark = jp_key(p, key);
	*out = len > 0 ? xcalloc(len, sizeof(struct oci_kv)) : NULL;
	*n = len;
	for (size_t i = 0; i < len; i++) {
		const char *k = v->u.object.keys[i];
		size_t kmark = jp_mapkey(p, k);
		(*out)[i].key = xstrdup(k);
		if ((check != NULL && check(p, k) < 0) ||
		    oj_string(p, v->u.object.values[i], &(*out)[i].value) < 0)
			return -1;
		jp_pop(p, kmark);
	}
	jp_pop(p, mark);
	return 0;
}
