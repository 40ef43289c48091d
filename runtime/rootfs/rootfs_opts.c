/* Mount option parsing (pure) and the small new-mount-API helpers every rootfs step uses:
 * creating a filesystem with fsopen/fsconfig/fsmount, setting attributes with mount_setattr,
 * attaching a detached tree onto an fd with move_mount. */
#include "runtime/rootfs/rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

enum opt_kind {
	OPT_ATTR,
	OPT_RATTR,
	OPT_ATIME,
	OPT_RATIME,
	OPT_PROP,
	OPT_SB,
	OPT_NOP,
	OPT_BIND,
	OPT_RBIND,
	OPT_REMOUNT,
	OPT_TMPCOPYUP,
	OPT_IDMAP,
	OPT_RIDMAP
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	uint64_t value;
	bool clear; /* OPT_ATTR/OPT_RATTR: clear the attribute; OPT_PROP: recursive */
};

static const struct opt_def opt_defs[] = {
    {"ro", OPT_ATTR, MOUNT_ATTR_RDONLY, false},
    {"rw", OPT_ATTR, MOUNT_ATTR_RDONLY, true},
    {"nosuid", OPT_ATTR, MOUNT_ATTR_NOSUID, false},
    {"suid", OPT_ATTR, MOUNT_ATTR_NOSUID, true},
    {"nodev", OPT_ATTR, MOUNT_ATTR_NODEV, false},
    {"dev", OPT_ATTR, MOUNT_ATTR_NODEV, true},
    {"noexec", OPT_ATTR, MOUNT_ATTR_NOEXEC, false},
    {"exec", OPT_ATTR, MOUNT_ATTR_NOEXEC, true},
    {"nodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, false},
    {"diratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, true},
    {"nosymfollow", OPT_ATTR, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"symfollow", OPT_ATTR, MOUNT_ATTR_NOSYMFOLLOW, true},
    /* atime modes are one field: "atime" and "nostrictatime" mean the default, relatime. */
    {"relatime", OPT_ATIME, MOUNT_ATTR_RELATIME, false},
    {"norelatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME, false},
    {"noatime", OPT_ATIME, MOUNT_ATTR_NOATIME, false},
    {"atime", OPT_ATIME, MOUNT_ATTR_RELATIME, false},
    {"strictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME, false},
    {"nostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME, false},
    {"rro", OPT_RATTR, MOUNT_ATTR_RDONLY, false},
    {"rrw", OPT_RATTR, MOUNT_ATTR_RDONLY, true},
    {"rnosuid", OPT_RATTR, MOUNT_ATTR_NOSUID, false},
    {"rsuid", OPT_RATTR, MOUNT_ATTR_NOSUID, true},
    {"rnodev", OPT_RATTR, MOUNT_ATTR_NODEV, false},
    {"rdev", OPT_RATTR, MOUNT_ATTR_NODEV, true},
    {"rnoexec", OPT_RATTR, MOUNT_ATTR_NOEXEC, false},
    {"rexec", OPT_RATTR, MOUNT_ATTR_NOEXEC, true},
    {"rnodiratime", OPT_RATTR, MOUNT_ATTR_NODIRATIME, false},
    {"rdiratime", OPT_RATTR, MOUNT_ATTR_NODIRATIME, true},
    {"rnosymfollow", OPT_RATTR, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rsymfollow", OPT_RATTR, MOUNT_ATTR_NOSYMFOLLOW, true},
    {"rrelatime", OPT_RATIME, MOUNT_ATTR_RELATIME, false},
    {"rnorelatime", OPT_RATIME, MOUNT_ATTR_STRICTATIME, false},
    {"rnoatime", OPT_RATIME, MOUNT_ATTR_NOATIME, false},
    {"ratime", OPT_RATIME, MOUNT_ATTR_RELATIME, false},
    {"rstrictatime", OPT_RATIME, MOUNT_ATTR_STRICTATIME, false},
    {"rnostrictatime", OPT_RATIME, MOUNT_ATTR_RELATIME, false},
    {"shared", OPT_PROP, MS_SHARED, false},
    {"rshared", OPT_PROP, MS_SHARED, true},
    {"slave", OPT_PROP, MS_SLAVE, false},
    {"rslave", OPT_PROP, MS_SLAVE, true},
    {"private", OPT_PROP, MS_PRIVATE, false},
    {"rprivate", OPT_PROP, MS_PRIVATE, true},
    {"unbindable", OPT_PROP, MS_UNBINDABLE, false},
    {"runbindable", OPT_PROP, MS_UNBINDABLE, true},
    /* Superblock flags, by their fsconfig names. */
    {"sync", OPT_SB, 0, false},
    {"async", OPT_SB, 0, false},
    {"dirsync", OPT_SB, 0, false},
    {"mand", OPT_SB, 0, false},
    {"nomand", OPT_SB, 0, false},
    {"lazytime", OPT_SB, 0, false},
    {"nolazytime", OPT_SB, 0, false},
    /* Only the verbosity of the kernel's log: nothing to enforce. */
    {"silent", OPT_NOP, 0, false},
    {"loud", OPT_NOP, 0, false},
    {"defaults", OPT_NOP, 0, false},
    {"bind", OPT_BIND, 0, false},
    {"rbind", OPT_RBIND, 0, false},
    {"remount", OPT_REMOUNT, 0, false},
    {"tmpcopyup", OPT_TMPCOPYUP, 0, false},
    {"idmap", OPT_IDMAP, 0, false},
    {"ridmap", OPT_RIDMAP, 0, false},
};

static void set_attr(uint64_t *set, uint64_t *clr, uint64_t value, bool clear)
{
	if (clear) {
		*set &= ~value;
		*clr |= value;
	} else {
		*set |= value;
		*clr &= ~value;
	}
}

static void set_atime(uint64_t *set, uint64_t *clr, uint64_t value)
{
	*set = (*set & ~(uint64_t)MOUNT_ATTR__ATIME) | value;
	*clr |= MOUNT_ATTR__ATIME;
}

static void apply_def(const struct opt_def *d, struct rootfs_mount_opts *o)
{
	switch (d->kind) {
	case OPT_ATTR:
		set_attr(&o->attr_set, &o->attr_clr, d->value, d->clear);
		break;
	case OPT_RATTR:
		set_attr(&o->rattr_set, &o->rattr_clr, d->value, d->clear);
		break;
	case OPT_ATIME:
		set_atime(&o->attr_set, &o->attr_clr, d->value);
		break;
	case OPT_RATIME:
		set_atime(&o->rattr_set, &o->rattr_clr, d->value);
		break;
	case OPT_PROP:
		o->propagation = d->value;
		o->propagation_rec = d->clear;
		break;
	case OPT_SB:
		strv_push(&o->sb_flags, d->name);
		break;
	case OPT_NOP:
		break;
	case OPT_BIND:
		o->bind = true;
		break;
	case OPT_RBIND:
		o->bind = o->rec = true;
		break;
	case OPT_REMOUNT:
		o->remount = true;
		break;
	case OPT_TMPCOPYUP:
		o->tmpcopyup = true;
		break;
	case OPT_IDMAP:
		o->idmap = true;
		break;
	case OPT_RIDMAP:
		o->idmap = o->ridmap = true;
		break;
	}
}

void rootfs_mount_opts_parse(char *const *options, struct rootfs_mount_opts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
		const struct opt_def *d = NULL;
		for (size_t k = 0; k < ARRAY_SIZE(opt_defs) && d == NULL; k++)
			if (strcmp(options[i], opt_defs[k].name) == 0)
				d = &opt_defs[k];
		if (d != NULL)
			apply_def(d, out);
		else if (options[i][0] != '\0')
			strv_push(&out->data, options[i]);
	}
}

void rootfs_mount_opts_free(struct rootfs_mount_opts *o)
{
	strv_free(o->sb_flags);
	strv_free(o->data);
	o->sb_flags = o->data = NULL;
}

/* The kernel explains fsconfig failures in the fs context's log: fetch its last line. */
void rootfs_fs_log_message(int fsfd, char *buf, size_t len)
{
	buf[0] = '\0';
	for (;;) {
		char line[256];
		ssize_t n = read(fsfd, line, sizeof(line) - 1);
		if (n <= 0)
			return;
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, " (%s)", line);
	}
}

static int fs_param(int fsfd, const char *param, struct bw_error *err)
{
	_cleanup_free_ char *key = xstrdup(param);
	char *eq = strchr(key, '=');
	int r;
	if (eq != NULL) {
		*eq = '\0';
		r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
	} else {
		r = fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
	}
	if (r < 0) {
		int e = errno;
		char why[300];
		rootfs_fs_log_message(fsfd, why, sizeof(why));
		return bw_fail(err, e, "option `%s` refused%s", param, why);
	}
	return 0;
}

static int fs_configure(int fsfd, const char *source, const struct rootfs_mount_opts *o,
			struct bw_error *err)
{
	if (source != NULL && source[0] != '\0' &&
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return bw_fail(err, errno, "fsconfig source `%s`", source);
	for (size_t i = 0; o->sb_flags != NULL && o->sb_flags[i] != NULL; i++)
		if (fs_param(fsfd, o->sb_flags[i], err) < 0)
			return -1;
	for (size_t i = 0; o->data != NULL && o->data[i] != NULL; i++)
		if (fs_param(fsfd, o->data[i], err) < 0)
			return -1;
	return 0;
}

int rootfs_fs_create(const char *type, const char *source, const struct rootfs_mount_opts *o,
		     struct bw_error *err)
{
	_cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return bw_fail(err, errno, "fsopen `%s`", type);
	if (fs_configure(fsfd, source, o, err) < 0)
		return -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		char why[300];
		rootfs_fs_log_message(fsfd, why, sizeof(why));
		return bw_fail(err, e, "create a `%s` filesystem%s", type, why);
	}
	int mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)o->attr_set);
	if (mntfd < 0)
		return bw_fail(err, errno, "fsmount `%s`", type);
	struct statx stx;
	if (statx(mntfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID)) {
		rootfs_state.own_mnts = xrealloc(rootfs_state.own_mnts,
						 (rootfs_state.n_own_mnts + 1) * sizeof(uint64_t));
		rootfs_state.own_mnts[rootfs_state.n_own_mnts++] = stx.stx_mnt_id;
	}
	return mntfd;
}

/* Reconfigure the superblock of the mount at targetfd (the "remount" option). */
int rootfs_fs_reconfigure(int targetfd, const struct rootfs_mount_opts *o, struct bw_error *err)
{
	if (o->sb_flags == NULL && o->data == NULL)
		return 0;
	_cleanup_close_ int fsfd = fspick(targetfd, "", FSPICK_CLOEXEC | FSPICK_EMPTY_PATH);
	if (fsfd < 0)
		return bw_fail(err, errno, "fspick");
	if (fs_configure(fsfd, NULL, o, err) < 0)
		return -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
		return bw_fail(err, errno, "reconfigure the filesystem");
	return 0;
}

int rootfs_setattr(int mntfd, uint64_t set, uint64_t clr, bool recursive, struct bw_error *err)
{
	if (set == 0 && clr == 0)
		return 0;
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
	unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(mntfd, "", flags, &attr, sizeof(attr)) < 0)
		return bw_fail(err, errno, "mount_setattr%s (set 0x%llx, clear 0x%llx)",
			       recursive ? " recursive" : "", (unsigned long long)set,
			       (unsigned long long)clr);
	return 0;
}

int rootfs_set_propagation(int mntfd, unsigned long propagation, bool recursive,
			   struct bw_error *err)
{
	if (propagation == 0)
		return 0;
	struct mount_attr attr = {.propagation = propagation};
	unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	if (mount_setattr(mntfd, "", flags, &attr, sizeof(attr)) < 0)
		return bw_fail(err, errno, "set mount propagation");
	return 0;
}

int rootfs_attach(int mntfd, int targetfd, struct bw_error *err)
{
	if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return bw_fail(err, errno, "move_mount");
	return 0;
}
