/* Host id ranges of their own for sandboxes (issue 13 §2): each sandbox maps its 65,536
 * container ids onto a range no other sandbox holds at the same time, so the kernel's per-user
 * counts (inotify, mqueue bytes, keys, RLIMIT_NPROC, user namespaces) and file ownership are
 * never shared between sandboxes. A range is held by a file in the state root,
 * `.idpool/SLOT`, made with O_EXCL and naming its holder; it is released at teardown. */
#pragma once

#include <stdint.h>

#include "common/error.h"

#define IDPOOL_BASE 100065536u /* after the `spec` default's fixed 100000000 + 65536 */
#define IDPOOL_RANGE 65536u
#define IDPOOL_SLOTS 4096u /* up to 368,500,736 */

/* Take a free slot for holder (a container id); *base gets its first host id, *path the
 * slot file (malloc'd) for idpool_release. A slot whose holder has no state left, held for
 * more than a minute and used by no process, is taken back. */
int idpool_acquire(const char *state_root, const char *holder, uint32_t *base, char **path,
		   struct bw_error *err);
/* Remove the slot file if it still names holder (idempotent). */
void idpool_release(const char *path, const char *holder);
