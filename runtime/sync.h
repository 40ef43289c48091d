/* The parent <-> init protocol: one SOCK_SEQPACKET socketpair, one packet per message, an
 * optional fd attached with SCM_RIGHTS. Errors in the init travel back as SYNC_ERROR with the
 * errno and the message, so the parent prints exactly one line. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum sync_type {
	SYNC_GO = 1,	   /* parent: maps written, cgroup joined; data = state JSON */
	SYNC_TIMENS,	   /* init: unshared time ns, write offsets please */
	SYNC_TIMENS_DONE,  /* parent: offsets written */
	SYNC_HOOKS,	   /* init: namespaces and mounts ready; run prestart/createRuntime */
	SYNC_HOOKS_DONE,   /* parent: hooks succeeded */
	SYNC_CONSOLE,	   /* init: fd = pty master */
	SYNC_CONSOLE_DONE, /* parent: master delivered */
	SYNC_SECCOMP_FD,   /* init: fd = seccomp notify listener */
	SYNC_SECCOMP_DONE, /* parent: listener delivered */
	SYNC_DEVICE,	   /* init (user namespace): data = index of linux.devices to make */
	SYNC_DEVICE_DONE,  /* parent: fd = the node as a detached mount, or code = errno */
	SYNC_HOSTFD,	   /* parent, before SYNC_GO: fd = a host path reopened in the init's
			    * mount namespace; data = "root" or the index in spec->mounts */
	SYNC_CREATE,	   /* init: fd = a rootfs directory; data = "d/NAME" or "f/NAME", a
			    * mountpoint its ids may not make there */
	SYNC_CREATE_DONE,  /* parent: code = 0 (made) or errno */
	SYNC_READY,	   /* init: about to block on exec.fifo (create) / exec (exec) */
	SYNC_ERROR,	   /* init: code + message */
	SYNC_SCRATCH,	   /* init: fd = a rootless overlay workspace's scratch tmpfs; data =
			    * the mount's index */
	SYNC_SCRATCH_DONE, /* parent: kept */
};

#define SYNC_MAX_DATA 65536

struct sync_msg {
	uint32_t type;
	int32_t code;
	uint32_t len;
	int fd;	    /* received fd or -1; not sent on the wire */
	char *data; /* malloc'd, NUL-terminated, len bytes */
};

int sync_send(int sock, enum sync_type type, int code, const void *data, size_t len, int fd,
	      struct bw_error *err);
/* Receive one message. Returns 1 on a message, 0 on EOF (peer gone), -1 on error. */
int sync_recv(int sock, struct sync_msg *msg, struct bw_error *err);
/* Receive and require a given type; SYNC_ERROR is turned into err. */
int sync_expect(int sock, enum sync_type type, struct sync_msg *msg, struct bw_error *err);
void sync_msg_free(struct sync_msg *msg);
/* Child side: report err to the parent (best effort). */
void sync_send_error(int sock, const struct bw_error *err);
