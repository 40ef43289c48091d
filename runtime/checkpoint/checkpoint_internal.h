/* What the checkpoint/ files share: CRIU's argument list and runner, the flags and refusals
 * dump and restore have in common, and their directories (checkpoint_criu.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/checkpoint/image_dir.h"

#define DUMP_LOG "dump.log"
#define BOOT_ID_SOURCE "bulwark-boot-id" /* rootfs.c's tmpfs for the boot id */
#define RESTORE_LOG "restore.log"
#define DESCRIPTORS "descriptors.json" /* runc's name: the init's fds 0-2 at dump time */
#define MAX_ARGS 2048		       /* a container with hundreds of bind mounts names each */

struct argv_buf {
	char *v[MAX_ARGS];
	size_t n;
	bool overflow; /* an argument did not fit: CRIU is not run */
};

struct criu_child {
	const char *bind_root; /* restore: bind this onto root_mnt in a private mount namespace */
	const char *root_mnt;
	/* restore: CRIU 3.17 does not restore no_new_privs; set on CRIU itself, every task it
	 * forks inherits it and nothing can clear it. */
	bool no_new_privs;
	/* fds CRIU inherits (those >= 0), close-on-exec cleared in the child: the image and work
	 * directories it is given as /proc/self/fd/N, a joined network namespace. */
	int keep_fd[3];
	/* restore: these of CRIU's fds 0-2 are a terminal handed on to the restored init
	 * (--inherit-fd): /dev/null in their place, as the caller's terminal never reaches a
	 * container (run and exec relay it through pipes). */
	bool null_stdio[3];
	/* restore: the directories CRIU gets as /proc/self/fd/N, opened again in its private mount
	 * namespace (CRIU mounts its cgroup yard in the work directory, which must be a mount of
	 * its own namespace) and refused unless the same directory as the one held. */
	const struct image_dir *reopen[2];
	/* restore of a session: instead of bind_root, a fresh tmpfs on root_mnt owned by
	 * skel_uid, with this skeleton made on it: "d PATH" a directory (and its parents), "f
	 * PATH" an empty file, "l NAME TARGET" a top-level symlink. */
	char *const *skeleton;
	unsigned skel_uid;
};

/* The image and work directories of a dump or restore, opened once (image_dir.h). */
struct ck_dirs {
	struct image_dir img, own_work;
	struct image_dir *work; /* &img when both are one directory */
};
#define STDIO_EXTERNAL "bulwark-stdio-external" /* "N file[mnt:ino]" lines */

struct global_opts;
struct checkpoint_opts;
struct oci_spec;

void ck_arg_add(struct argv_buf *a, const char *s);
void ck_arg_addf(struct argv_buf *a, const char *fmt, const char *x, const char *y);
void ck_arg_free(struct argv_buf *a);
/* CRIU's reason from the log in dir (through its fd), or a fallback naming the log. */
char *ck_log_reason(const struct image_dir *dir, const char *name);
/* A directory path from a flag, absolute and clean; NULL if getcwd fails. */
char *ck_abs_dir(const char *p);
/* Run CRIU with a (argv[0] set here); its exit status, or -1 with err set. */
int ck_criu_exec(const struct global_opts *g, struct argv_buf *a, const struct criu_child *ch,
		 struct bw_error *err);
int ck_check_mode(const struct checkpoint_opts *o, struct bw_error *err);
/* The flags dump and restore share. */
void ck_common_args(struct argv_buf *a, const struct checkpoint_opts *o, const char *img,
		    const char *work, const char *log);
void ck_external_mounts(struct argv_buf *a, const struct oci_spec *spec, const char *bundle,
			bool restore);
/* What CRIU cannot carry over (Landlock, a generated AppArmor profile, a terminal, a
 * lifetime, the network policy, a shared pid namespace): refused naming verb. */
int ck_check_confinement(const struct global_opts *g, const struct oci_spec *spec, const char *verb,
			 bool session, struct bw_error *err);
/* The restore's side of the masked files (the host's /dev/null) and devices, but for the
 * destinations in skip (NULL-terminated, or NULL). */
void ck_external_file_maps(struct argv_buf *a, const struct oci_spec *spec, char *const *skip);
/* --inherit-fd for the init's stdio recorded at dump (descriptors.json and
 * bulwark-stdio-external in img). */
void ck_stdio_inherit(struct argv_buf *a, const struct image_dir *img);
int ck_read_pidfile(const char *path, pid_t *pid, struct bw_error *err);
/* The restored init confined as spec says (no_new_privs, seccomp, AppArmor), else refused. */
int ck_check_restored(pid_t pid, const struct oci_spec *spec, struct bw_error *err);
/* In a user namespace, the image files readable by the container's gid 0 (never its own). */
int ck_share_image_with_userns(const struct image_dir *img, const struct oci_spec *spec,
			       struct bw_error *err);
/* Undone once CRIU has run, whatever its outcome: the files the caller's group again, without
 * the group bits given (a later holder of the same id range must not read the image). */
void ck_unshare_image(const struct image_dir *img, const struct oci_spec *spec);
bool ck_is_spec_bind(const struct oci_spec *spec, const char *dest);
void ck_dirs_init(struct ck_dirs *d);
int ck_dirs_open(struct ck_dirs *d, const char *img, const char *work, enum image_dir_mode img_mode,
		 const char *img_flag, struct bw_error *err);
void ck_dirs_close(struct ck_dirs *d);
