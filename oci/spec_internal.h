/* Internal to oci/: the bounded JSON tree reader and the path-naming, typed accessors that
 * spec_*.c and state*.c parse with. Every error is "<what>: <json.path>: <reason>". Not
 * installed, not used outside oci/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/error.h"
#include "oci/spec.h"
#include "oci/state.h"

/* Bounds on hostile input: bytes, nesting, number of JSON values. */
#define OCI_JSON_MAX_SIZE ((size_t)4 << 20)
#define OCI_JSON_MAX_DEPTH 64
#define OCI_JSON_MAX_VALUES ((size_t)1 << 18)

/* The kernel refuses more than this many lines in uid_map / gid_map. */
#define OCI_MAX_ID_MAPPINGS 340

/* Parse a whole document into a tree of yajl_val nodes (free with oj_free). Rejects input over
 * the bounds above, comments, trailing garbage, NUL characters in strings and duplicate keys.
 * lax_utf8 accepts invalid UTF-8 (our own state files may hold non-UTF-8 paths). */
int oj_parse(const char *json, size_t len, const char *what, bool lax_utf8, yajl_val *out,
	     struct bw_error *err);
void oj_free(yajl_val v);

/* Where we are in the document, for error messages. */
struct jp {
	const char *what;
	struct bw_error *err;
	size_t len;
	char path[384];
};

void jp_init(struct jp *p, const char *what, struct bw_error *err);
/* Push ".key" (an identifier of ours), "[i]" or "[\"key\"]" (a key from the input, sanitised);
 * each returns the mark to pass to jp_pop. */
size_t jp_key(struct jp *p, const char *key);
size_t jp_idx(struct jp *p, size_t i);
size_t jp_mapkey(struct jp *p, const char *key);
void jp_pop(struct jp *p, size_t mark);
/* Fail with "<what>: <path>: <message>". Returns -1. */
int jp_fail(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, at member `key` of the current path. */
int jp_fail_at(struct jp *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A quoted, printable, length-bounded copy of an input string for messages. */
#define JP_QUOTE_MAX 80
const char *jp_quote(char buf[static JP_QUOTE_MAX], const char *s);

/* Member lookup; NULL when absent or JSON null (null means absent everywhere). */
yajl_val oj_get(yajl_val obj, const char *key);

/* Value readers: the path of v is already pushed. */
int oj_need(struct jp *p, yajl_val v, yajl_type type);
int oj_string(struct jp *p, yajl_val v, char **out);
int oj_bool(struct jp *p, yajl_val v, bool *out);
int oj_u64(struct jp *p, yajl_val v, uint64_t max, uint64_t *out);
int oj_i64(struct jp *p, yajl_val v, int64_t min, int64_t max, int64_t *out);
int oj_strv(struct jp *p, yajl_val v, char ***out);

typedef int (*oj_elem_fn)(struct jp *p, yajl_val v, void *elem);
/* The member `key` of obj read by fn with its path pushed: 1 when it was there, 0 when absent
 * or null, -1 when fn failed. */
int oj_field(struct jp *p, yajl_val obj, const char *key, oj_elem_fn fn, void *out);
/* Member readers: absent or null leaves *out (and *set) untouched and returns 0. */
int oj_f_value(struct jp *p, yajl_val obj, const char *key, yajl_type type, yajl_val *out);
int oj_f_string(struct jp *p, yajl_val obj, const char *key, char **out);
int oj_f_bool(struct jp *p, yajl_val obj, const char *key, bool *out);
int oj_f_u64(struct jp *p, yajl_val obj, const char *key, uint64_t max, uint64_t *out, bool *set);
int oj_f_i64(struct jp *p, yajl_val obj, const char *key, int64_t min, int64_t max, int64_t *out,
	     bool *set);
int oj_f_u32(struct jp *p, yajl_val obj, const char *key, uint32_t *out, bool *set);
int oj_f_opt_bool(struct jp *p, yajl_val obj, const char *key, struct opt_bool *out);
int oj_f_opt_u64(struct jp *p, yajl_val obj, const char *key, uint64_t max, struct opt_u64 *out);
int oj_f_opt_i64(struct jp *p, yajl_val obj, const char *key, int64_t min, int64_t max,
		 struct opt_i64 *out);
int oj_f_strv(struct jp *p, yajl_val obj, const char *key, char ***out);

/* An array of objects: allocates *arr (zeroed, *n set first so a partial result can be
 * freed), then calls fn on each element with its path pushed. max = 0: no limit. */
int oj_f_objects(struct jp *p, yajl_val obj, const char *key, size_t elem_size, size_t max,
		 void **arr, size_t *n, oj_elem_fn fn);
/* An object of string values into key/value pairs; check (may be NULL) vets each key with
 * its path pushed. */
typedef int (*oj_key_fn)(struct jp *p, const char *key);
int oj_f_string_map(struct jp *p, yajl_val obj, const char *key, struct oci_kv **out, size_t *n,
		    oj_key_fn check);

/* A member object parsed by fn with its path pushed; absent or null: nothing. */
int oci_parse_member(struct jp *p, yajl_val obj, const char *key, void *out, oj_elem_fn fn);
/* A cpu/node list member ("0-3,7"); "" counts as absent. */
int oci_parse_cpu_list(struct jp *p, yajl_val obj, const char *key, char **out);
/* Every entry NAME=VALUE, with the list's path pushed. */
int oci_check_env(struct jp *p, char **env);

/* Shared validators (pure). */
bool oci_cpu_list_valid(const char *s);
bool oci_path_is_abs(const char *s);
/* Does a ".." component of the path climb above where the path starts? ("a/../.." does) */
bool oci_path_climbs_out(const char *s);
/* Does a path hold a ".." component? */
bool oci_path_has_dotdot(const char *s);

/* The parts of config.json, one file each. */
int oci_parse_process(struct jp *p, yajl_val v, struct oci_process *out);
int oci_parse_linux(struct jp *p, yajl_val v, struct oci_linux *out);
int oci_parse_resources(struct jp *p, yajl_val v, struct oci_resources *out);
int oci_parse_seccomp(struct jp *p, yajl_val v, void *out); /* struct oci_seccomp */
int oci_parse_id_mappings(struct jp *p, yajl_val obj, const char *key, struct oci_id_mapping **out,
			  size_t *n);
/* state.json's bulwark.cleanup (state_cleanup.c): read from the private object, written. */
int oci_parse_state_cleanup(struct jp *p, yajl_val priv, struct oci_state *st);
void oci_gen_state_cleanup(yajl_gen g, const struct oci_state *st);
int oci_check_cross(struct jp *p, const struct oci_spec *spec);
void oci_linux_free_fields(struct oci_linux *l);
void oci_kv_free(struct oci_kv *kv, size_t n);
