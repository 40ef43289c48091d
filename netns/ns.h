/* Namespaces: OCI type <-> clone flag <-> /proc/<pid>/ns name, and opening a namespace path
 * with a check that it really is a namespace of the expected type (NS_GET_NSTYPE). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

int ns_clone_flag(enum oci_ns_type t);
const char *ns_proc_name(enum oci_ns_type t); /* "net", "mnt", ... */
/* Open a namespace file for setns(); fails unless it is an nsfs file of type t. */
int ns_open_path(enum oci_ns_type t, const char *path, const char *field, struct bw_error *err);
/* Clone flags of the namespaces in which pid differs from the caller. */
int ns_differing_flags(pid_t pid, int *flags, struct bw_error *err);
/* Bring "lo" up in the caller's (new) network namespace. */
int ns_loopback_up(struct bw_error *err);

/* Without root the sandbox's network namespace belongs to a user namespace its caller owns:
 * joining the network namespace needs joining that user namespace first, which a process can
 * do only once and never undo. ns_set_owner_userns(fd) makes every later ns_enter_net() in
 * this process (always a forked child: the caller's own namespaces never change) join it
 * first; -1 (the default) joins the network namespace alone, as root does. */
void ns_set_owner_userns(int userns_fd);
bool ns_owner_userns_set(void);
int ns_enter_net(int netns_fd);
