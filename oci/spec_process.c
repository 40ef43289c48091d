/* config.json "process" and exec's process.json: user, args, env, cwd, capabilities, rlimits
 * and the scheduling knobs, validated as far as possible without the kernel. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/spec_internal.h"

#define MAX_ADDITIONAL_GIDS 65536 /* NGROUPS_MAX */

static const char *const cap_set_keys[OCI_CAP_NSETS] = {
    [OCI_CAP_BOUNDING] = "bounding",	   [OCI_CAP_EFFECTIVE] = "effective",
    [OCI_CAP_INHERITABLE] = "inheritable", [OCI_CAP_PERMITTED] = "permitted",
    [OCI_CAP_AMBIENT] = "ambient",
};

static const char *const sched_policies[] = {"SCHED_OTHER",    "SCHED_FIFO", "SCHED_RR",
					     "SCHED_BATCH",    "SCHED_ISO",  "SCHED_IDLE",
					     "SCHED_DEADLINE", NULL};
static const char *const sched_flags[] = {"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
					  "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
					  "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
					  "SCHED_FLAG_UTIL_CLAMP_MAX", NULL};
static const char *const ioprio_classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					     "IOPRIO_CLASS_IDLE", NULL};

static bool in_list(const char *const *list, const char *s)
{
	return strv_contains((char *const *)list, s);
}

/* "CAP_" and then upper-case letters, digits, underscores; the profiles module checks the
 * name against the running kernel's list. */
static bool cap_name_valid(const char *s)
{
	if (!str_has_prefix(s, "CAP_") || s[4] == '\0')
		return false;
	for (s += 4; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int oci_check_env(struct jp *p, char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		if (eq == NULL || eq == env[i]) {
			size_t mark = jp_idx(p, i);
			jp_fail(p, "must be of the form NAME=VALUE");
			jp_pop(p, mark);
			return -1;
		}
	}
	return 0;
}

static int parse_gids(struct jp *p, yajl_val user, struct oci_user *u)
{
	yajl_val v = NULL;
	if (oj_f_value(p, user, "additionalGids", yajl_t_array, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	size_t n = v->u.array.len;
	if (n > MAX_ADDITIONAL_GIDS)
		return jp_fail_at(p, "additionalGids", "too many entries (max %d)",
				  MAX_ADDITIONAL_GIDS);
	u->additional_gids = xcalloc(n, sizeof(uint32_t));
	u->n_additional_gids = n;
	size_t mark = jp_key(p, "additionalGids");
	for (size_t i = 0; i < n; i++) {
		uint64_t gid;
		size_t imark = jp_idx(p, i);
		if (oj_u64(p, v->u.array.values[i], OCI_ID_MAX, &gid) < 0)
			return -1;
		u->additional_gids[i] = (uint32_t)gid;
		jp_pop(p, imark);
	}
	jp_pop(p, mark);
	return 0;
}

static int parse_user(struct jp *p, yajl_val v, void *out)
{
	struct oci_user *u = out;
	uint64_t umask, uid = 0, gid = 0;
	if (oj_f_u64(p, v, "uid", OCI_ID_MAX, &uid, NULL) < 0 ||
	    oj_f_u64(p, v, "gid", OCI_ID_MAX, &gid, NULL) < 0 ||
	    oj_f_u64(p, v, "umask", UINT32_MAX, &umask, &u->umask_set) < 0)
		return -1;
	u->uid = (uint32_t)uid;
	u->gid = (uint32_t)gid;
	if (u->umask_set && umask > 0777)
		return jp_fail_at(p, "umask", "must be <= 0777");
	if (u->umask_set)
		u->umask = (uint32_t)umask;
	return parse_gids(p, v, u);
}

static int parse_capabilities(struct jp *p, yajl_val v, void *out)
{
	struct oci_capabilities *caps = out;
	caps->set = true;
	for (int s = 0; s < OCI_CAP_NSETS; s++) {
		if (oj_f_strv(p, v, cap_set_keys[s], &caps->sets[s]) < 0)
			return -1;
		for (size_t i = 0; caps->sets[s] != NULL && caps->sets[s][i] != NULL; i++) {
			if (cap_name_valid(caps->sets[s][i]))
				continue;
			char q[JP_QUOTE_MAX];
			size_t mark = jp_key(p, cap_set_keys[s]);
			jp_idx(p, i);
			jp_fail(p, "invalid capability name %s", jp_quote(q, caps->sets[s][i]));
			jp_pop(p, mark);
			return -1;
		}
	}
	return 0;
}

static int parse_rlimit(struct jp *p, yajl_val v, void *elem)
{
	struct oci_rlimit *rl = elem;
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, "type", &rl->type) < 0 ||
	    oj_f_u64(p, v, "hard", UINT64_MAX, &rl->hard, NULL) < 0 ||
	    oj_f_u64(p, v, "soft", UINT64_MAX, &rl->soft, NULL) < 0)
		return -1;
	if (rl->type == NULL)
		return jp_fail_at(p, "type", "required");
	rl->resource = oci_rlimit_from_name(rl->type);
	if (rl->resource < 0)
		return jp_fail_at(p, "type", "unknown rlimit %s", jp_quote(q, rl->type));
	if (rl->soft > rl->hard)
		return jp_fail(p, "soft limit must be <= hard limit");
	return 0;
}

static int check_rlimit_duplicates(struct jp *p, const struct oci_process *proc)
{
	char q[JP_QUOTE_MAX];
	for (size_t i = 1; i < proc->n_rlimits; i++)
		for (size_t j = 0; j < i; j++) {
			if (proc->rlimits[i].resource != proc->rlimits[j].resource)
				continue;
			size_t mark = jp_key(p, "rlimits");
			jp_idx(p, i);
			jp_fail_at(p, "type", "duplicate %s", jp_quote(q, proc->rlimits[i].type));
			jp_pop(p, mark);
			return -1;
		}
	return 0;
}

static int parse_io_priority(struct jp *p, yajl_val v, void *out)
{
	struct oci_io_priority *io = out;
	char q[JP_QUOTE_MAX];
	int64_t prio = 0;
	io->set = true;
	if (oj_f_string(p, v, "class", &io->klass) < 0 ||
	    oj_f_i64(p, v, "priority", 0, 7, &prio, NULL) < 0)
		return -1;
	io->priority = (int)prio;
	if (io->klass == NULL)
		return jp_fail_at(p, "class", "required");
	if (!in_list(ioprio_classes, io->klass))
		return jp_fail_at(p, "class", "unknown class %s", jp_quote(q, io->klass));
	return 0;
}

static bool sched_is_rt(const char *policy)
{
	return strcmp(policy, "SCHED_FIFO") == 0 || strcmp(policy, "SCHED_RR") == 0;
}

/* The kernel's own rules for sched_setattr(), checked before anything is started. */
static int check_scheduler(struct jp *p, const struct oci_scheduler *s)
{
	if (sched_is_rt(s->policy) && (s->priority < 1 || s->priority > 99))
		return jp_fail_at(p, "priority", "must be between 1 and 99 for %s", s->policy);
	if (!sched_is_rt(s->policy) && s->priority != 0)
		return jp_fail_at(p, "priority", "must be 0 for %s", s->policy);
	if (strcmp(s->policy, "SCHED_DEADLINE") != 0)
		return 0;
	if (s->runtime < 1024 || s->deadline < s->runtime ||
	    (s->period != 0 && s->period < s->deadline))
		return jp_fail(p, "SCHED_DEADLINE needs 1024 <= runtime <= deadline <= period");
	return 0;
}

static int parse_scheduler(struct jp *p, yajl_val v, void *out)
{
	struct oci_scheduler *s = out;
	char q[JP_QUOTE_MAX];
	int64_t nice = 0, prio = 0;
	s->set = true;
	if (oj_f_string(p, v, "policy", &s->policy) < 0 ||
	    oj_f_i64(p, v, "nice", -20, 19, &nice, NULL) < 0 ||
	    oj_f_i64(p, v, "priority", INT32_MIN, INT32_MAX, &prio, NULL) < 0 ||
	    oj_f_strv(p, v, "flags", &s->flags) < 0 ||
	    oj_f_u64(p, v, "runtime", UINT64_MAX, &s->runtime, NULL) < 0 ||
	    oj_f_u64(p, v, "deadline", UINT64_MAX, &s->deadline, NULL) < 0 ||
	    oj_f_u64(p, v, "period", UINT64_MAX, &s->period, NULL) < 0)
		return -1;
	s->nice = (int)nice;
	s->priority = (int)prio;
	if (s->policy == NULL)
		return jp_fail_at(p, "policy", "required");
	if (!in_list(sched_policies, s->policy))
		return jp_fail_at(p, "policy", "unknown policy %s", jp_quote(q, s->policy));
	for (size_t i = 0; s->flags != NULL && s->flags[i] != NULL; i++)
		if (!in_list(sched_flags, s->flags[i])) {
			size_t mark = jp_key(p, "flags");
			jp_idx(p, i);
			jp_fail(p, "unknown flag %s", jp_quote(q, s->flags[i]));
			jp_pop(p, mark);
			return -1;
		}
	return check_scheduler(p, s);
}

int oci_parse_cpu_list(struct jp *p, yajl_val v, const char *key, char **out)
{
	char q[JP_QUOTE_MAX];
	if (oj_f_string(p, v, key, out) < 0)
		return -1;
	if (*out != NULL && (*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	if (*out != NULL && !oci_cpu_list_valid(*out))
		return jp_fail_at(p, key, "invalid cpu list %s", jp_quote(q, *out));
	return 0;
}

static int parse_affinity(struct jp *p, yajl_val v, void *out)
{
	struct oci_cpu_affinity *a = out;
	if (oci_parse_cpu_list(p, v, "initial", &a->initial) < 0)
		return -1;
	return oci_parse_cpu_list(p, v, "final", &a->final);
}

struct member {
	oj_elem_fn fn;
	void *out;
};

static int object_member(struct jp *p, yajl_val v, void *out)
{
	const struct member *m = out;
	return oj_need(p, v, yajl_t_object) < 0 ? -1 : m->fn(p, v, m->out);
}

int oci_parse_member(struct jp *p, yajl_val obj, const char *key, void *out, oj_elem_fn fn)
{
	struct member m = {fn, out};
	return oj_field(p, obj, key, object_member, &m) < 0 ? -1 : 0;
}

static int parse_console_size(struct jp *p, yajl_val v, void *out)
{
	struct oci_process *proc = out;
	uint64_t h = 0, w = 0;
	/* struct winsize holds unsigned shorts */
	if (oj_f_u64(p, v, "height", UINT16_MAX, &h, NULL) < 0 ||
	    oj_f_u64(p, v, "width", UINT16_MAX, &w, NULL) < 0)
		return -1;
	proc->console_size_set = true;
	proc->console_height = (uint32_t)h;
	proc->console_width = (uint32_t)w;
	return 0;
}

static int parse_args_env_cwd(struct jp *p, yajl_val v, struct oci_process *proc)
{
	if (oj_f_strv(p, v, "args", &proc->args) < 0 || oj_f_strv(p, v, "env", &proc->env) < 0 ||
	    oj_f_string(p, v, "cwd", &proc->cwd) < 0)
		return -1;
	if (proc->args == NULL || proc->args[0] == NULL)
		return jp_fail_at(p, "args", "must not be empty");
	if (proc->args[0][0] == '\0')
		return jp_fail_at(p, "args[0]", "must not be empty");
	size_t mark = jp_key(p, "env");
	if (oci_check_env(p, proc->env) < 0)
		return -1;
	jp_pop(p, mark);
	if (proc->cwd == NULL)
		return jp_fail_at(p, "cwd", "required");
	if (!oci_path_is_abs(proc->cwd))
		return jp_fail_at(p, "cwd", "must be an absolute path");
	return 0;
}

static int parse_security(struct jp *p, yajl_val v, struct oci_process *proc)
{
	if (oj_f_bool(p, v, "noNewPrivileges", &proc->no_new_privileges) < 0 ||
	    oj_f_string(p, v, "apparmorProfile", &proc->apparmor_profile) < 0 ||
	    oj_f_string(p, v, "selinuxLabel", &proc->selinux_label) < 0 ||
	    oj_f_opt_i64(p, v, "oomScoreAdj", -1000, 1000, &proc->oom_score_adj) < 0)
		return -1;
	if (proc->apparmor_profile != NULL && proc->apparmor_profile[0] == '\0') {
		free(proc->apparmor_profile);
		proc->apparmor_profile = NULL;
	}
	if (proc->selinux_label != NULL && proc->selinux_label[0] != '\0')
		return jp_fail_at(p, "selinuxLabel", "SELinux is not supported");
	free(proc->selinux_label);
	proc->selinux_label = NULL;
	return 0;
}

int oci_parse_process(struct jp *p, yajl_val v, struct oci_process *proc)
{
	if (oj_f_bool(p, v, "terminal", &proc->terminal) < 0 ||
	    oci_parse_member(p, v, "consoleSize", proc, parse_console_size) < 0 ||
	    oci_parse_member(p, v, "user", &proc->user, parse_user) < 0 ||
	    parse_args_env_cwd(p, v, proc) < 0 ||
	    oci_parse_member(p, v, "capabilities", &proc->caps, parse_capabilities) < 0 ||
	    oj_f_objects(p, v, "rlimits", sizeof(struct oci_rlimit), 0, (void **)&proc->rlimits,
			 &proc->n_rlimits, parse_rlimit) < 0 ||
	    check_rlimit_duplicates(p, proc) < 0 || parse_security(p, v, proc) < 0 ||
	    oci_parse_member(p, v, "ioPriority", &proc->io_priority, parse_io_priority) < 0 ||
	    oci_parse_member(p, v, "scheduler", &proc->scheduler, parse_scheduler) < 0 ||
	    oci_parse_member(p, v, "execCPUAffinity", &proc->exec_cpu_affinity, parse_affinity) < 0)
		return -1;
	return 0;
}
