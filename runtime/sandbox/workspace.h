/* Workspaces of `bulwark sandbox` (--workspace, --keep-changes): a host directory shown at the
 * same path inside, read-only, writable through an idmapped bind, or as an overlay whose upper
 * layer lives on a scratch tmpfs that only this process holds. See docs/sandbox.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum workspace_mode { WORKSPACE_RO, WORKSPACE_RW, WORKSPACE_OVERLAY };

struct workspace {
	char *path;  /* canonical path of DIR (of fd), also the path inside the sandbox */
	char *label; /* "--workspace ARG", for errors */
	int fd; /* O_PATH fd of DIR, opened once when the flag was read; all uses go through it */
	int mnt_fd; /* rw, overlay: the mount stacked on DIR in our private namespace; else -1 */
	enum workspace_mode mode;
	uid_t owner_uid; /* DIR's owner and group on the host */
	gid_t owner_gid;
	mode_t root_mode;
	int scratch_fd;	      /* overlay: the detached tmpfs holding upper/ and work/; else -1 */
	int64_t scratch_size; /* overlay: its size in bytes (0: tmpfs's default) */
	bool stacked;	      /* a mount of ours sits on path in our private mount namespace */
};

struct workspace_set {
	struct workspace *v;
	size_t n;
	char *keep_dir;	    /* --keep-changes, absolute (its parent resolved); NULL without */
	int keep_parent_fd; /* O_PATH fd of its parent, opened once; -1 without */
	char *keep_name;    /* its last component, created below keep_parent_fd */
};

/* How the sandbox maps its ids: container id c is host id base + c for c < size; the sandbox
 * user is uid/gid. The workspace owner's files are shown as the sandbox user's. */
struct workspace_ids {
	uint32_t base_uid, base_gid, size;
	uint32_t uid, gid;
};

/* Every DIR is opened once, here, refusing any symlink on the way (openat2
 * RESOLVE_NO_SYMLINKS: an earlier sandbox may have planted it), and the checks, the mounts and the
 * spec's source record go through that fd. With an rw or overlay workspace this process first moves
 * into a private mount namespace, so that the fds it opens are of the namespace the mounts are
 * stacked in. Check every "DIR[:ro|rw|overlay]" and --keep-changes (NULL: none) without changing
 * anything: DIR must be a directory, not /, not below /proc, /sys or /dev, not overlapping another
 * workspace or state_root; the keep directory needs exactly one overlay workspace, must not
 * exist or be empty, and must not be inside a workspace. */
/* The st_dev of every rw workspace among the --workspace args, up to max (main.c's sealed
 * copy decision); SIZE_MAX when one cannot be examined or there are more. Checks nothing else. */
size_t workspace_rw_devs(char *const *args, dev_t *out, size_t max);
int workspace_parse(char *const *args, const char *keep, const char *state_root,
		    struct workspace_set *ws, struct bw_error *err);
/* uid_map text for an idmapped mount of a tree owned by `owner`: disk id d shows as host id
 * base + d (the sandbox's own map), except that owner and target trade places. Pure. */
char *workspace_idmap(uint32_t owner, uint32_t target, uint32_t base, uint32_t size);
/* When rw or overlay workspaces exist: move this process into a private mount namespace
 * (slave of the host's) and stack on each DIR the idmapped bind (rw) or the overlay, so that the
 * sandbox, whose namespace is a copy of ours, binds them from there. Idempotent per workspace.
 * scratch_size: bytes for each overlay's tmpfs (0: half the RAM, tmpfs's default), which
 * then holds one file per 4 KiB of it. */
int workspace_prepare(struct workspace_set *ws, const struct workspace_ids *ids,
		      int64_t scratch_size, struct bw_error *err);
struct hostpath_list;
/* What each workspace's source is for the spec's bind (after workspace_prepare): the stacked
 * mount for rw and overlay, DIR itself for ro; appended to out. */
/* A detached tmpfs of size bytes (0: half the RAM) and one file per 4 KiB of it, nosuid and
 * nodev, holding upper/ (uid:gid, mode) and work/: an overlay workspace's scratch layer. */
int workspace_scratch_tmpfs(int64_t size, uid_t uid, gid_t gid, mode_t mode, struct bw_error *err);
int workspace_sources(struct workspace_set *ws, struct hostpath_list *out, struct bw_error *err);
/* Bytes the sandbox wrote in its workspaces: for an overlay, what its upper layer holds (the
 * scratch tmpfs's used blocks, so a copied-up file counts whole); 0 for read-only ones; -1 when
 * any workspace is rw (written in place: not measurable) or none exists. Valid after the
 * sandbox ended and before workspace_release. */
int64_t workspace_bytes_written(const struct workspace_set *ws);
/* Copy the overlay's upper layer into ws->keep_dir (no-op without it), every entry owned by the
 * workspace owner. On failure what was copied is removed again. */
int workspace_keep_changes(const struct workspace_set *ws, struct bw_error *err);
/* Unmount what prepare stacked and close the scratch: its memory is freed once the sandbox's
 * mount namespace is gone too. Frees ws. Safe on a zeroed or partly prepared set. */
void workspace_release(struct workspace_set *ws);

/* workspace_copy.c: copy an overlay upper directory tree (src, an fd of a directory) into the
 * empty directory dst, entries chowned to uid:gid, whiteouts kept, setuid/setgid dropped; at
 * most budget bytes of file data (else an error). */
int workspace_copy_tree(int src, int dst, uid_t uid, gid_t gid, int64_t budget,
			struct bw_error *err);
