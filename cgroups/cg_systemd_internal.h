/* The systemd driver's interface between its files: the sd-bus functions loaded from
 * libsystemd.so.0, a connection to a systemd manager, and the calls and job waits that
 * cg_systemd.c (the system's manager) and cg_systemd_user.c (the user's) share. */
#pragma once

#include "config.h"

#ifdef HAVE_SD_BUS
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "common/error.h"

/* The sd-bus functions used, from libsystemd.so.0. Nothing it returns is freed with our free():
 * in the static runtime the library runs on a libc of its own. */
struct cg_sd_lib_fns {
	int (*new_bus)(sd_bus **);
	int (*set_address)(sd_bus *, const char *);
	int (*set_bus_client)(sd_bus *, int);
	int (*set_fd)(sd_bus *, int, int);
	int (*start)(sd_bus *);
	sd_bus *(*close_unref)(sd_bus *);
	int (*new_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *,
			const char *);
	int (*append)(sd_bus_message *, const char *, ...);
	int (*append_array)(sd_bus_message *, char, const void *, size_t);
	int (*open)(sd_bus_message *, char, const char *);
	int (*close)(sd_bus_message *);
	int (*read)(sd_bus_message *, const char *, ...);
	sd_bus_message *(*unref)(sd_bus_message *);
	int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
	void (*error_free)(sd_bus_error *);
	int (*error_has_name)(const sd_bus_error *, const char *);
	int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *,
			    const char *, sd_bus_message_handler_t, void *);
	int (*process)(sd_bus *, sd_bus_message **);
	int (*wait)(sd_bus *, uint64_t);
};
extern struct cg_sd_lib_fns cg_sd_lib;

/* Load libsystemd.so.0 into cg_sd_lib, once. */
int cg_sd_load_lib(struct bw_error *err);

struct cg_sd_conn {
	sd_bus *bus;
};

int cg_sd_conn_open(struct cg_sd_conn *c, struct bw_error *err);
void cg_sd_conn_close(struct cg_sd_conn *c);

/* A method call to the manager object (org.freedesktop.systemd1.Manager). */
int cg_sd_new_call(struct cg_sd_conn *c, const char *method, sd_bus_message **m);
int cg_sd_send(struct cg_sd_conn *c, sd_bus_message *m, const char *want_name,
	       sd_bus_message **reply, const char *what, struct bw_error *err);
int cg_sd_finish_transient(sd_bus_message *m, int r, sd_bus_message **out);
/* ResetFailedUnit, its failure ignored. */
void cg_sd_reset_failed(struct cg_sd_conn *c, const char *unit);

/* A job the manager runs, matched by its object path; result as JobRemoved gave it. */
struct cg_sd_job {
	char job[256];
	bool done;
	char result[32];
};

int cg_sd_watch_jobs(struct cg_sd_conn *c, struct cg_sd_job *w, struct bw_error *err);
/* The job path of a reply to a call that queues a job; the reply is freed. */
int cg_sd_job_of(sd_bus_message *reply, struct cg_sd_job *w, struct bw_error *err);
/* Until JobRemoved names the job (w->done); fails after SD_TIMEOUT_US (30 s). */
int cg_sd_wait_job(struct cg_sd_conn *c, struct cg_sd_job *w, const char *unit,
		   struct bw_error *err);
#endif
