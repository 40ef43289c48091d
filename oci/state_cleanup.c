/* The cleanup record of state.json: its kinds, the one reader of bulwark.cleanup (typed objects,
 * and the old "tag:value" strings of earlier versions converted in the same place), its writer
 * and the small helpers the runtime records and finds entries with. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "oci/spec_internal.h"
#include "oci/state.h"

/* Which fields a kind has. */
enum shape { SHAPE_MARK, SHAPE_PATH, SHAPE_HELPER, SHAPE_PIDNS, SHAPE_DEADLINE };

static const struct kind_info {
	const char *name; /* "kind" in state.json */
	const char *old;  /* the old string form: its "tag:" prefix, or the whole entry of a mark */
	enum shape shape;
} kinds[STATE_CLEANUP_NKINDS] = {
    [STATE_CLEANUP_AUDIT] = {"audit", "audit:", SHAPE_PATH},
    [STATE_CLEANUP_FILE] = {"file", "file:", SHAPE_PATH},
    [STATE_CLEANUP_DIR] = {"dir", "dir:", SHAPE_PATH},
    [STATE_CLEANUP_IDSLOT] = {"idslot", "idslot:", SHAPE_PATH},
    [STATE_CLEANUP_CGPARENT] = {"cgparent", "cgparent:", SHAPE_PATH},
    [STATE_CLEANUP_HOOKS_POSTSTART] = {"hooks-poststart", "hooks:poststart", SHAPE_MARK},
    [STATE_CLEANUP_HOOKS_POSTSTOP] = {"hooks-poststop", "hooks:poststop", SHAPE_MARK},
    [STATE_CLEANUP_CGROUP_PENDING] = {"cgroup-pending", "cgroup:pending", SHAPE_MARK},
    [STATE_CLEANUP_CGROUP_NONE] = {"cgroup-none", "cgroup:none", SHAPE_MARK},
    [STATE_CLEANUP_NET_PLUMB] = {"net-plumb", "net-plumb", SHAPE_MARK},
    [STATE_CLEANUP_DEADLINE] = {"deadline", "deadline:", SHAPE_DEADLINE},
    [STATE_CLEANUP_WATCHDOG] = {"watchdog", "watchdog:", SHAPE_HELPER},
    [STATE_CLEANUP_OWNER] = {"owner", "owner:", SHAPE_HELPER},
    [STATE_CLEANUP_AGENT] = {"agent", "agent:", SHAPE_HELPER},
    [STATE_CLEANUP_PASTA] = {"pasta", "pasta:", SHAPE_HELPER},
    [STATE_CLEANUP_SESSION] = {"session", "session:", SHAPE_HELPER},
    [STATE_CLEANUP_PIDNS] = {"pidns", "pidns:", SHAPE_PIDNS},
};

const char *state_cleanup_kind_name(enum state_cleanup_kind kind)
{
	return (unsigned)kind < ARRAY_SIZE(kinds) ? kinds[kind].name : NULL;
}

static int kind_from_name(const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(kinds[k].name, name) == 0)
			return (int)k;
	return -1;
}

static enum shape shape_of(enum state_cleanup_kind kind)
{
	return kinds[kind].shape;
}

/* What the reader accepts, for the writers' side: a saved state must read back. */
static bool str_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= STATE_CLEANUP_STR_MAX;
}

static bool pid_ok(int64_t pid)
{
	return pid > 1 && pid <= STATE_PID_MAX;
}

/* ---- reading ---- */

static int need_str(struct jp *p, yajl_val v, const char *key, char **out)
{
	if (oj_f_string(p, v, key, out) < 0)
		return -1;
	if (*out == NULL)
		return jp_fail_at(p, key, "required");
	if ((*out)[0] == '\0')
		return jp_fail_at(p, key, "must not be empty");
	if (strlen(*out) > STATE_CLEANUP_STR_MAX)
		return jp_fail_at(p, key, "longer than %d bytes", STATE_CLEANUP_STR_MAX);
	return 0;
}

static int need_u64(struct jp *p, yajl_val v, const char *key, uint64_t *out)
{
	bool set = false;
	if (oj_f_u64(p, v, key, UINT64_MAX, out, &set) < 0)
		return -1;
	return set ? 0 : jp_fail_at(p, key, "required");
}

static int need_i64(struct jp *p, yajl_val v, const char *key, int64_t min, int64_t max,
		    int64_t *out)
{
	bool set = false;
	if (oj_f_i64(p, v, key, min, max, out, &set) < 0)
		return -1;
	return set ? 0 : jp_fail_at(p, key, "required");
}

/* {"kind": ..., fields}: the path of the entry is pushed. */
static int parse_object(struct jp *p, yajl_val v, struct state_cleanup *e)
{
	_cleanup_free_ char *kind = NULL;
	char q[JP_QUOTE_MAX];
	int64_t pid = 0;
	if (oj_f_string(p, v, "kind", &kind) < 0)
		return -1;
	if (kind == NULL)
		return jp_fail_at(p, "kind", "required");
	int k = kind_from_name(kind);
	if (k < 0)
		return jp_fail_at(p, "kind", "unknown kind %s", jp_quote(q, kind));
	e->kind = (enum state_cleanup_kind)k;
	switch (shape_of(e->kind)) {
	case SHAPE_MARK:
		return 0;
	case SHAPE_PATH:
		return need_str(p, v, "path", &e->str);
	case SHAPE_HELPER:
		if (need_i64(p, v, "pid", 2, STATE_PID_MAX, &pid) < 0)
			return -1;
		e->pid = (pid_t)pid;
		return need_u64(p, v, "start", &e->start);
	case SHAPE_PIDNS:
		return need_u64(p, v, "dev", &e->dev) < 0 ? -1 : need_u64(p, v, "ino", &e->ino);
	case SHAPE_DEADLINE:
		if (need_i64(p, v, "deadlineMs", 0, INT64_MAX, &e->deadline_ms) < 0)
			return -1;
		return need_i64(p, v, "lifetimeMs", 0, INT64_MAX, &e->lifetime_ms);
	}
	return jp_fail(p, "unknown kind");
}

/* "A:B" of two decimal numbers into their texts (in buf). */
static bool split_pair(const char *s, char buf[64], const char **a, const char **b)
{
	size_t n = strlen(s);
	char *colon;
	if (n >= 64)
		return false;
	memcpy(buf, s, n + 1);
	if ((colon = strchr(buf, ':')) == NULL)
		return false;
	*colon = '\0';
	*a = buf;
	*b = colon + 1;
	return true;
}

/* The value after the tag of an old entry, by the kind's shape. */
static bool parse_old_value(const char *v, struct state_cleanup *e)
{
	char buf[64];
	const char *a, *b;
	int64_t pid;
	switch (shape_of(e->kind)) {
	case SHAPE_MARK:
		return true;
	case SHAPE_PATH:
		if (!str_ok(v))
			return false;
		e->str = xstrdup(v);
		return true;
	case SHAPE_HELPER:
		if (!split_pair(v, buf, &a, &b) || parse_i64(a, &pid) < 0 || !pid_ok(pid))
			return false;
		e->pid = (pid_t)pid;
		return parse_u64(b, &e->start) == 0;
	case SHAPE_PIDNS:
		return split_pair(v, buf, &a, &b) && parse_u64(a, &e->dev) == 0 &&
		       parse_u64(b, &e->ino) == 0;
	case SHAPE_DEADLINE:
		return split_pair(v, buf, &a, &b) && parse_i64(a, &e->deadline_ms) == 0 &&
		       parse_i64(b, &e->lifetime_ms) == 0 && e->deadline_ms >= 0 &&
		       e->lifetime_ms >= 0;
	}
	return false;
}

/* The old form, "tag:value" (or a bare mark), converted: the path of the entry is pushed. */
static int parse_old(struct jp *p, const char *s, struct state_cleanup *e)
{
	char q[JP_QUOTE_MAX];
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct kind_info *ki = &kinds[k];
		bool mark = ki->shape == SHAPE_MARK;
		if (mark ? strcmp(s, ki->old) != 0 : !str_has_prefix(s, ki->old))
			continue;
		e->kind = (enum state_cleanup_kind)k;
		if (!parse_old_value(mark ? "" : s + strlen(ki->old), e))
			return jp_fail(p, "malformed %s entry %s", ki->name, jp_quote(q, s));
		return 0;
	}
	return jp_fail(p, "unknown entry %s", jp_quote(q, s));
}

static int parse_entry(struct jp *p, yajl_val v, struct state_cleanup *e)
{
	if (v->type == yajl_t_string)
		return parse_old(p, v->u.string, e);
	if (v->type != yajl_t_object)
		return jp_fail(p, "must be an object");
	return parse_object(p, v, e);
}

int oci_parse_state_cleanup(struct jp *p, yajl_val priv, struct oci_state *st)
{
	yajl_val v = NULL;
	if (oj_f_value(p, priv, "cleanup", yajl_t_array, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t len = v->u.array.len;
	if (len > STATE_CLEANUP_MAX)
		return jp_fail_at(p, "cleanup", "too many entries (max %d)", STATE_CLEANUP_MAX);
	size_t mark = jp_key(p, "cleanup");
	state_cleanup_free(st);
	st->cleanup = len > 0 ? xcalloc(len, sizeof(*st->cleanup)) : NULL;
	st->n_cleanup = len; /* zeroed entries: a partial result frees cleanly */
	for (size_t i = 0; i < len; i++) {
		size_t imark = jp_idx(p, i);
		if (parse_entry(p, v->u.array.values[i], &st->cleanup[i]) < 0)
			return -1;
		jp_pop(p, imark);
	}
	jp_pop(p, mark);
	return 0;
}

/* ---- writing ---- */

static void gen_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static void gen_u64(yajl_gen g, const char *key, uint64_t x)
{
	char num[32];
	snprintf(num, sizeof(num), "%" PRIu64, x);
	gen_key(g, key);
	yajl_gen_number(g, num, strlen(num));
}

static void gen_i64(yajl_gen g, const char *key, int64_t x)
{
	gen_key(g, key);
	yajl_gen_integer(g, x);
}

static void gen_entry(yajl_gen g, const struct state_cleanup *e)
{
	yajl_gen_map_open(g);
	gen_key(g, "kind");
	gen_key(g, kinds[e->kind].name);
	switch (shape_of(e->kind)) {
	case SHAPE_MARK:
		break;
	case SHAPE_PATH:
		/* as the bytes it is, like the other paths of state.json */
		gen_key(g, "path");
		gen_key(g, e->str);
		break;
	case SHAPE_HELPER:
		gen_i64(g, "pid", e->pid);
		gen_u64(g, "start", e->start);
		break;
	case SHAPE_PIDNS:
		gen_u64(g, "dev", e->dev);
		gen_u64(g, "ino", e->ino);
		break;
	case SHAPE_DEADLINE:
		gen_i64(g, "deadlineMs", e->deadline_ms);
		gen_i64(g, "lifetimeMs", e->lifetime_ms);
		break;
	}
	yajl_gen_map_close(g);
}

void oci_gen_state_cleanup(yajl_gen g, const struct oci_state *st)
{
	if (st->n_cleanup == 0)
		return;
	gen_key(g, "cleanup");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < st->n_cleanup; i++)
		gen_entry(g, &st->cleanup[i]);
	yajl_gen_array_close(g);
}

/* ---- recording and finding ---- */

static struct state_cleanup *push(struct oci_state *st, enum state_cleanup_kind kind)
{
	st->cleanup = xrealloc(st->cleanup, (st->n_cleanup + 1) * sizeof(*st->cleanup));
	struct state_cleanup *e = &st->cleanup[st->n_cleanup++];
	*e = (struct state_cleanup){.kind = kind};
	return e;
}

static bool kind_is(enum state_cleanup_kind kind, enum shape shape)
{
	return (unsigned)kind < ARRAY_SIZE(kinds) && shape_of(kind) == shape;
}

void state_cleanup_add(struct oci_state *st, enum state_cleanup_kind kind)
{
	if (kind_is(kind, SHAPE_MARK) && !state_cleanup_has(st, kind))
		push(st, kind);
}

void state_cleanup_add_str(struct oci_state *st, enum state_cleanup_kind kind, const char *s)
{
	if (kind_is(kind, SHAPE_PATH) && str_ok(s))
		push(st, kind)->str = xstrdup(s);
}

void state_cleanup_add_pid(struct oci_state *st, enum state_cleanup_kind kind, pid_t pid,
			   uint64_t start)
{
	if (!kind_is(kind, SHAPE_HELPER) || !pid_ok(pid))
		return;
	struct state_cleanup *e = push(st, kind);
	e->pid = pid;
	e->start = start;
}

void state_cleanup_add_pidns(struct oci_state *st, uint64_t dev, uint64_t ino)
{
	struct state_cleanup *e = push(st, STATE_CLEANUP_PIDNS);
	e->dev = dev;
	e->ino = ino;
}

void state_cleanup_add_deadline(struct oci_state *st, int64_t deadline_ms, int64_t lifetime_ms)
{
	if (deadline_ms < 0 || lifetime_ms < 0)
		return;
	struct state_cleanup *e = push(st, STATE_CLEANUP_DEADLINE);
	e->deadline_ms = deadline_ms;
	e->lifetime_ms = lifetime_ms;
}

const struct state_cleanup *state_cleanup_next(const struct oci_state *st,
					       enum state_cleanup_kind kind, size_t *pos)
{
	for (; *pos < st->n_cleanup; (*pos)++)
		if (st->cleanup[*pos].kind == kind)
			return &st->cleanup[(*pos)++];
	return NULL;
}

const struct state_cleanup *state_cleanup_find(const struct oci_state *st,
					       enum state_cleanup_kind kind)
{
	size_t pos = 0;
	return state_cleanup_next(st, kind, &pos);
}

bool state_cleanup_has(const struct oci_state *st, enum state_cleanup_kind kind)
{
	return state_cleanup_find(st, kind) != NULL;
}

void state_cleanup_remove(struct oci_state *st, enum state_cleanup_kind kind)
{
	size_t o = 0;
	for (size_t i = 0; i < st->n_cleanup; i++) {
		if (st->cleanup[i].kind == kind)
			free(st->cleanup[i].str);
		else
			st->cleanup[o++] = st->cleanup[i];
	}
	st->n_cleanup = o;
}

void state_cleanup_free(struct oci_state *st)
{
	for (size_t i = 0; i < st->n_cleanup; i++)
		free(st->cleanup[i].str);
	free(st->cleanup);
	st->cleanup = NULL;
	st->n_cleanup = 0;
}
