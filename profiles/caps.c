/* Capabilities: the spec's five name lists become bitmasks in the parent (validated against
 * libcap's names, the kernel's cap_last_cap and the runtime's own bounding set); the init
 * drops the bounding set while still root, then sets the other sets after the user switch. */
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

#define CAPS_MAX 63 /* the plan is a uint64_t per set */

static const char *const set_names[OCI_CAP_NSETS] = {
    [OCI_CAP_BOUNDING] = "bounding",	   [OCI_CAP_EFFECTIVE] = "effective",
    [OCI_CAP_INHERITABLE] = "inheritable", [OCI_CAP_PERMITTED] = "permitted",
    [OCI_CAP_AMBIENT] = "ambient",
};

const char *caps_set_name(enum oci_cap_set s)
{
	return (unsigned)s < OCI_CAP_NSETS ? set_names[s] : "?";
}

int caps_from_name(const char *name)
{
	char lower[64];
	if (str_has_prefix(name, "CAP_"))
		name += 4;
	/* Upper-case letters, digits and '_' only, starting with a letter: this refuses the
	 * numeric and lower-case spellings libcap would otherwise accept. */
	size_t n = strlen(name);
	if (n == 0 || n + 5 > sizeof(lower) || !isupper((unsigned char)name[0]))
		return -1;
	memcpy(lower, "cap_", 4);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isupper(c) && !isdigit(c) && c != '_')
			return -1;
		lower[4 + i] = (char)tolower(c);
	}
	lower[4 + n] = '\0';
	cap_value_t v;
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > CAPS_MAX)
		return -1;
	char *back = cap_to_name(v);
	bool same = back != NULL && strcmp(back, lower) == 0;
	cap_free(back);
	return same ? (int)v : -1;
}

const char *caps_to_name(int cap, char buf[static 32])
{
	char *n = cap_to_name((cap_value_t)cap);
	if (n != NULL && str_has_prefix(n, "cap_")) {
		snprintf(buf, 32, "CAP_%s", n + 4);
		for (char *p = buf; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
	} else {
		snprintf(buf, 32, "CAP_%d", cap);
	}
	cap_free(n);
	return buf;
}

static int read_last_cap(void)
{
	_cleanup_free_ char *s = NULL;
	struct bw_error ignored = {0};
	int v;
	if (fs_read_file("/proc/sys/kernel/cap_last_cap", 64, &s, NULL, &ignored) == 0) {
		s[strcspn(s, "\n")] = '\0';
		if (parse_int(s, &v) == 0 && v >= 0)
			return v > CAPS_MAX ? CAPS_MAX : v;
	}
	/* No procfs (early in the init): PR_CAPBSET_READ answers EINVAL past the last cap. */
	for (v = CAPS_MAX; v > 0; v--)
		if (prctl(PR_CAPBSET_READ, (unsigned long)v, 0, 0, 0) >= 0)
			break;
	return v;
}

int caps_last_cap(void)
{
	static int last = -1;
	if (last < 0)
		last = read_last_cap();
	return last;
}

/* CapBnd of /proc/self/status, in one read; false if it cannot be read. */
static bool status_bounding(uint64_t *mask)
{
	char buf[4096];
	_cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strstr(buf, "\nCapBnd:\t");
	char *end;
	if (p == NULL)
		return false;
	*mask = strtoull(p + 9, &end, 16);
	return end != p + 9 && *end == '\n';
}

uint64_t caps_current_bounding(void)
{
	uint64_t mask = 0;
	if (status_bounding(&mask))
		return mask;
	for (int c = 0; c <= caps_last_cap(); c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
			mask |= UINT64_C(1) << c;
	return mask;
}

static int parse_set(char **names, enum oci_cap_set s, int last_cap, uint64_t *mask,
		     struct bw_error *err)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		int c = caps_from_name(names[i]);
		if (c < 0)
			return bw_fail(err, 0,
				       "process.capabilities.%s[%zu]: unknown capability \"%s\"",
				       set_names[s], i, names[i]);
		if (c > last_cap) {
			log_debug("process.capabilities.%s[%zu]: %s is unknown to this kernel "
				  "(cap_last_cap %d), ignored",
				  set_names[s], i, names[i], last_cap);
			continue;
		}
		*mask |= UINT64_C(1) << c;
	}
	return 0;
}

/* The first capability in `extra` (a non-empty mask), for error messages. */
static const char *first_cap_name(uint64_t extra, char buf[static 32])
{
	return caps_to_name(__builtin_ctzll(extra), buf);
}

/* What the kernel will refuse later, refused now with the field's name. */
static int check_plan(const struct caps_plan *p, uint64_t runtime_bounding, struct bw_error *err)
{
	static const enum oci_cap_set granted[] = {OCI_CAP_EFFECTIVE, OCI_CAP_PERMITTED,
						   OCI_CAP_INHERITABLE, OCI_CAP_AMBIENT};
	char name[32];
	for (size_t i = 0; i < ARRAY_SIZE(granted); i++) {
		uint64_t extra = p->sets[granted[i]] & ~runtime_bounding;
		if (extra != 0)
			return bw_fail(
			    err, 0,
			    "process.capabilities.%s: %s is not in the runtime's bounding set",
			    set_names[granted[i]], first_cap_name(extra, name));
	}
	uint64_t extra = p->sets[OCI_CAP_EFFECTIVE] & ~p->sets[OCI_CAP_PERMITTED];
	if (extra != 0)
		return bw_fail(err, 0,
			       "process.capabilities.effective: %s is not in "
			       "process.capabilities.permitted",
			       first_cap_name(extra, name));
	return 0;
}

/* The kernel raises an ambient capability only when it is both permitted and inheritable.
 * `runc spec` lists ambient capabilities without inheritable ones; runc skips what the kernel
 * refuses without a word, and so do we (a debug line): the process gets less, never more, and a
 * line on stderr would break every tool that reads the container's first line of output. */
static void skip_unraisable_ambient(struct caps_plan *p, int last_cap)
{
	uint64_t skip =
	    p->sets[OCI_CAP_AMBIENT] & ~(p->sets[OCI_CAP_PERMITTED] & p->sets[OCI_CAP_INHERITABLE]);
	char list[64 * 24] = "", name[32];
	size_t n = 0;
	if (skip == 0)
		return;
	for (int c = 0; c <= last_cap; c++)
		if (skip & (UINT64_C(1) << c))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? " " : "",
					      caps_to_name(c, name));
	log_debug("process.capabilities.ambient: %s not raised (an ambient capability must also be "
		  "permitted and inheritable)",
		  list);
	p->sets[OCI_CAP_AMBIENT] &= ~skip;
}

int caps_plan_build(const struct oci_capabilities *caps, uint64_t runtime_bounding, int last_cap,
		    struct caps_plan *out, struct bw_error *err)
{
	struct caps_plan p = {.any = caps != NULL && caps->set};
	if (last_cap > CAPS_MAX)
		last_cap = CAPS_MAX;
	for (int s = 0; p.any && s < OCI_CAP_NSETS; s++)
		if (parse_set(caps->sets[s], (enum oci_cap_set)s, last_cap, &p.sets[s], err) < 0)
			return -1;
	/* A capability already gone from our own bounding set cannot come back; asking to keep
	 * it in the bounding set is harmless (it stays dropped). */
	uint64_t gone = p.sets[OCI_CAP_BOUNDING] & ~runtime_bounding;
	for (int c = 0; c <= last_cap; c++) {
		char name[32];
		if (gone & (UINT64_C(1) << c))
			log_debug(
			    "process.capabilities.bounding: %s is not in the runtime's bounding "
			    "set and stays dropped",
			    caps_to_name(c, name));
	}
	p.sets[OCI_CAP_BOUNDING] &= runtime_bounding;
	p.runtime_bounding = runtime_bounding;
	skip_unraisable_ambient(&p, last_cap);
	if (check_plan(&p, runtime_bounding, err) < 0)
		return -1;
	*out = p;
	return 0;
}

int caps_plan_from_spec(const struct oci_capabilities *caps, struct caps_plan *out,
			struct bw_error *err)
{
	return caps_plan_build(caps, caps_current_bounding(), caps_last_cap(), out, err);
}

int caps_drop_bounding(const struct caps_plan *plan, uint64_t present, struct bw_error *err)
{
	char name[32];
	for (int c = 0; c <= caps_last_cap(); c++) {
		if (plan->sets[OCI_CAP_BOUNDING] & (UINT64_C(1) << c))
			continue;
		int r = present == 0 ? prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0)
				     : (int)((present >> c) & 1);
		if (r < 0)
			return bw_fail(err, errno, "prctl(PR_CAPBSET_READ, %s)",
				       caps_to_name(c, name));
		if (r == 1 && prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
			return bw_fail(err, errno, "prctl(PR_CAPBSET_DROP, %s)",
				       caps_to_name(c, name));
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return bw_fail(err, errno, "prctl(PR_SET_KEEPCAPS, 1)");
	return 0;
}

static int set_flags(cap_t c, cap_flag_t flag, uint64_t mask, struct bw_error *err)
{
	for (int v = 0; v <= CAPS_MAX; v++) {
		cap_value_t cv = v;
		if ((mask & (UINT64_C(1) << v)) && cap_set_flag(c, flag, 1, &cv, CAP_SET) < 0)
			return bw_fail(err, errno, "cap_set_flag(%d)", v);
	}
	return 0;
}

static int set_ambient(uint64_t ambient, struct bw_error *err)
{
	char name[32];
	/* One call (libcap's cap_reset_ambient asks about every capability first). A kernel
	 * without ambient capabilities (EINVAL) has none to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    !(errno == EINVAL && ambient == 0))
		return bw_fail(err, errno, "clear the ambient capability set");
	for (int v = 0; v <= caps_last_cap(); v++) {
		if ((ambient & (UINT64_C(1) << v)) && cap_set_ambient(v, CAP_SET) < 0)
			return bw_fail(err, errno, "process.capabilities.ambient: raise %s",
				       caps_to_name(v, name));
	}
	return 0;
}

int caps_apply_final(const struct caps_plan *plan, uint64_t hold, struct bw_error *err)
{
	const uint64_t *s = plan->sets;
	/* Checked again here: this is the last point before the kernel decides. */
	if ((s[OCI_CAP_AMBIENT] & ~(s[OCI_CAP_PERMITTED] & s[OCI_CAP_INHERITABLE])) != 0)
		return bw_fail(err, 0,
			       "process.capabilities.ambient: not a subset of permitted "
			       "and inheritable");
	cap_t c = cap_init();
	if (c == NULL)
		return bw_fail(err, errno, "cap_init");
	int r = set_flags(c, CAP_EFFECTIVE, s[OCI_CAP_EFFECTIVE] | hold, err);
	if (r == 0)
		r = set_flags(c, CAP_PERMITTED, s[OCI_CAP_PERMITTED] | hold, err);
	if (r == 0)
		r = set_flags(c, CAP_INHERITABLE, s[OCI_CAP_INHERITABLE], err);
	if (r == 0 && cap_set_proc(c) < 0)
		r = bw_fail(err, errno, "capset (effective/permitted/inheritable)");
	cap_free(c);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return bw_fail(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
	return set_ambient(s[OCI_CAP_AMBIENT], err);
}

uint64_t caps_hold_for_seccomp(const struct caps_plan *plan, bool no_new_privs)
{
	uint64_t admin = UINT64_C(1) << CAP_SYS_ADMIN;
	if (no_new_privs || (plan->sets[OCI_CAP_EFFECTIVE] & admin))
		return 0;
	return admin;
}

int caps_release_held(const struct caps_plan *plan, struct bw_error *err)
{
	/* Raw capset: libcap's cap_set_proc may make other calls, which the filter may refuse. */
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {{0}};
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(plan->sets[OCI_CAP_EFFECTIVE] >> (32 * i));
		data[i].permitted = (uint32_t)(plan->sets[OCI_CAP_PERMITTED] >> (32 * i));
		data[i].inheritable = (uint32_t)(plan->sets[OCI_CAP_INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return bw_fail(err, errno,
			       "capset: drop CAP_SYS_ADMIN held for the seccomp filter");
	return 0;
}
