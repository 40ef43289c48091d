/* Host id ranges of their own for sandboxes (issue 13 §2): each sandbox run as root maps its
 * 65,536 container ids onto a range no other sandbox on the host holds at the same time, so
 * the kernel's per-user counts (inotify, mqueue bytes, keys, RLIMIT_NPROC) and file ownership
 * are never shared between sandboxes. One pool per host, whatever --root: a range is held by
 * a file IDPOOL_DIR/SLOT, made with O_EXCL, naming its holder (the container's state
 * directory), and write-locked (an open file description lock) by the process that took it
 * for as long as it lives; it is released at teardown. The range must be reserved on the
 * host: no user, no /etc/subuid range and no other runtime may use it; a slot that meets a
 * user's, group's or subordinate range's id in /etc is never taken. */
#pragma once

#include <stdint.h>

#include "common/error.h"

#define IDPOOL_DIR "/run/bulwark-idpool"
#define IDPOOL_ETC "/etc" /* passwd, group, subuid, subgid: slots meeting their ids are skipped */
#define IDPOOL_BASE 100065536u /* after the `spec` default's fixed 100000000 + 65536 */
#define IDPOOL_RANGE 65536u
#define IDPOOL_SLOTS 4096u /* up to 368,500,991 */
/* Each slot's user namespace is owned by one more id of its own, after the ranges: 368,500,992
 * + slot. No container maps it, so nothing a container does (a set-user-ID file it writes to
 * a volume, a process it leaves) can ever run on the host as the owner, who has every
 * capability in the namespace from outside; and the kernel's per-user counts of the namespace
 * are charged to it, not to root (runtime/spawn/spawn_clone.c). Reserved on the host like the
 * ranges. */
#define IDPOOL_OWNER_BASE (IDPOOL_BASE + IDPOOL_SLOTS * IDPOOL_RANGE)

struct idpool_slot {
	char *path;   /* the slot file, NULL: none held */
	char *holder; /* the container's state directory, absolute */
	int fd;	      /* holds the lock until idpool_slot_close */
	uint32_t base;
};

/* Take a free slot for the container `id` under state_root. A slot is taken back when its
 * file is not locked (the process that took it is gone), its holder's state directory does
 * not exist and no process has an id in its range. All of it under a lock on the pool. */
int idpool_acquire(const char *state_root, const char *id, struct idpool_slot *out,
		   struct bw_error *err);
/* Take the slot whose range starts at base (a restored session's, whose image has its ids):
 * refused when another holds it or /etc declares ids in it. */
int idpool_acquire_at(const char *state_root, const char *id, uint32_t base,
		      struct idpool_slot *out, struct bw_error *err);
/* The id that owns the user namespace of the slot whose range starts at base. */
static inline uint32_t idpool_owner(uint32_t base)
{
	return IDPOOL_OWNER_BASE + (base - IDPOOL_BASE) / IDPOOL_RANGE;
}
/* Remove the slot file at path if it still names holder (idempotent; teardown). */
void idpool_release(const char *path, const char *holder);
/* The taker's end: the lock goes with the fd; the file stays until released. */
void idpool_slot_close(struct idpool_slot *s);
