/* The directories CRIU reads and writes (--image-path, --work-path, a session checkpoint's
 * DIR), held by fd once opened: CRIU gets /proc/self/fd/N, and every file bulwark writes,
 * reads or removes there goes through the fd, so a path swapped afterwards (a session that can
 * write DIR's parent) leads nowhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct image_dir {
	const char *path; /* absolute, as the user named it (messages only) */
	int parent;	  /* O_PATH of its parent, resolved once */
	int fd;		  /* the directory, O_RDONLY | O_DIRECTORY */
	char *base;	  /* its name in parent */
	bool made;	  /* made here (mode 0700, ours) */
	char proc[32];	  /* "/proc/self/fd/N": the name CRIU is given */
};

enum image_dir_mode {
	IMAGE_DIR_EXISTING, /* must exist */
	IMAGE_DIR_CREATE,   /* made if missing */
	IMAGE_DIR_NEW,	    /* must not exist: made */
};

/* Open path (absolute, clean) for flag (the error's prefix): its parent is resolved once,
 * following the caller's own path; the directory itself is never a symlink, and must be the
 * caller's and writable by no one else (image_dir_check_owner). One made here must still be
 * ours and empty when opened (owner the caller, no group or other bits), else it was swapped
 * in between and is refused. d is cleared first; image_dir_close releases it. */
int image_dir_open(struct image_dir *d, const char *flag, const char *path,
		   enum image_dir_mode mode, struct bw_error *err);
void image_dir_close(struct image_dir *d);
/* fd (a directory) is the caller's and writable by no one else, else refused naming flag and
 * path: root's CRIU opens, truncates and reads files there by name, following symlinks. */
int image_dir_check_owner(int fd, const char *flag, const char *path, struct bw_error *err);
/* Every entry of the directory fd is a regular file of the caller's with one link (or CRIU's
 * `parent` symlink of the caller's), else refused naming flag and path: CRIU opens them as
 * root by name, following symlinks. Checked at open for a directory that already existed. */
int image_dir_check_entries(int fd, const char *flag, const char *path, struct bw_error *err);
/* The chain of earlier dumps CRIU follows through `parent` links, from d: each a relative
 * link to a directory that passes the owner and entries checks, in a directory that passes the
 * owner check. want (--parent-path, or NULL): the link d already has must be this one. */
int image_dir_check_parents(const struct image_dir *d, const char *want, struct bw_error *err);
/* The log CRIU will open by name with O_TRUNC: made (or emptied) here first, a regular file
 * of the caller's with one link, never through a symlink. */
int image_dir_prepare_log(const struct image_dir *d, const char *name, struct bw_error *err);
/* Unlink the file name in d if it is empty (a log prepared for a CRIU that never ran). */
void image_dir_drop_empty(const struct image_dir *d, const char *name);
/* Remove the directory if made here, empty and still the one held. */
void image_dir_remove_made(const struct image_dir *d);
/* The regular file name in d (no symlink followed), at most max bytes; NULL if unreadable. */
char *image_dir_read(const struct image_dir *d, const char *name, size_t max, size_t *len);
/* Unlink the *.img files (and extra, if not NULL) modified at or after since, if d was made
 * here; returns whether any such file is left. A failed dump's half-written image. */
bool image_dir_drop_partial(const struct image_dir *d, const char *extra, time_t since);
