/* File helpers: whole-file reads and writes, atomic replace, mkdir -p, and path resolution
 * that cannot escape a root (openat2 RESOLVE_IN_ROOT). Every fd is O_CLOEXEC. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read all of fd (at most max bytes; more is an error). *out is NUL-terminated. */
int fs_read_fd(int fd, size_t max, char **out, size_t *len, struct bw_error *err);
/* fsconfig(FSCONFIG_SET_STRING) of a file system context, with err naming key and value. */
int fs_config_str(int fs, const char *key, const char *value, struct bw_error *err);
/* open(2) of path (relative ones below dirfd) through no symbolic link (openat2
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): ELOOP where one is on the way. */
int fs_open_nolinks(int dirfd, const char *path, int flags);
/* Does path name one of the caller's own open streams (/dev/stdin, /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N), which are links by nature and followed as such? Pure. */
bool fs_is_callers_stream(const char *path);
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct bw_error *err);
int fs_read_file_at(int dirfd, const char *name, size_t max, char **out, struct bw_error *err);
/* Write to an existing file (cgroup, procfs): O_WRONLY|O_TRUNC, no create. */
int fs_write_file(const char *path, const char *data, struct bw_error *err);
int fs_write_file_at(int dirfd, const char *name, const char *data, struct bw_error *err);
/* Write all of buf to fd, retrying on EINTR and short writes. Returns 0 or -errno. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Copy everything from in to out (regular files; EINTR retried). name names the file in
 * errors ("read `name`", "write `name`"). */
int fs_copy_data(int in, int out, const char *name, struct bw_error *err);
/* Create or replace dirfd/name atomically: write ".name.XXXXXX" then rename. */
int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct bw_error *err);
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct bw_error *err);
int fs_mkdir_p(const char *path, mode_t mode, struct bw_error *err);
/* rm -rf of a directory tree we own (state dirs); never crosses mount points. */
int fs_remove_tree(const char *path, struct bw_error *err);
/* rmdir name under dirfd and the directories below it, deepest first, on its file system,
 * through no symlink; other entries are left to go with their directory (a cgroup's files).
 * 0 (also when name is gone), or -errno of the first failure. */
int fs_rmdir_tree_at(int dirfd, const char *name);
/* Open path below rootfd as if rootfd were "/": symlinks resolved inside, no magic links. */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode, struct bw_error *err);
/* Like fs_open_in_root, but creates missing directories (mkdir -p inside the root) and, when
 * is_dir is false, an empty regular file as the last component. Returns an O_PATH fd. */
int fs_mkpath_in_root(int rootfd, const char *path, bool is_dir, mode_t mode, struct bw_error *err);
/* Mark every fd >= from close-on-exec. */
int fs_cloexec_from(int from);
/* "/proc/self/fd/N" into buf. */
const char *fs_fd_path(int fd, char buf[static 32]);
bool fs_exists(const char *path);
/* Join path components with single slashes; result is malloc'd. */
char *fs_path_join(const char *a, const char *b);
/* Lexically clean an absolute path ("//a/./b/../c" -> "/a/c"); malloc'd. */
char *fs_path_clean(const char *path);
/* Is the clean absolute path `path` dir itself or below it? Pure. */
bool fs_path_within(const char *path, const char *dir);
