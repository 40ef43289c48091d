/* `bulwark run`: create + start, then wait in the foreground (forwarding signals, or relaying
 * the terminal with -t) and return the container's exit status; --detach returns at once. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"
#include "runtime/notify.h"
#include "runtime/sandbox/watchdog.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/phase.h"
#include "common/fdpass.h"
#include "common/util.h"

/* run's flags (create's and its own); 1 when help was printed, -1 on a usage error. f is
 * freed unless 0 is returned. */
static int parse_run_flags(int argc, char **argv, struct create_flags *f, bool *detach, bool *keep,
			   int *consumed, struct bw_error *err)
{
	struct cli_opt opts[CREATE_FLAG_COUNT + 2] = {
	    {"detach", 'd', CLI_BOOL, detach, NULL, "do not wait for the container"},
	    {"keep", 0, CLI_BOOL, keep, NULL, "do not delete the container after it exits"},
	};
	create_flag_table(f, opts + 2);
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark run [command options] <container-id>",
		    "Create and start a container; wait for it and return its exit status.", opts,
		    ARRAY_SIZE(opts));
		create_flags_free(f);
		return 1;
	}
	if (r == 0 && argc - *consumed != 1)
		r = bw_fail(err, 0, "run: expected exactly one container id");
	if (r == 0 && f->preserve < 0)
		r = bw_fail(err, 0, "--preserve-fds: must be >= 0");
	if (r < 0) {
		create_flags_free(f);
		return -1;
	}
	return 0;
}

/* Creates and starts the container id (f freed); one that fails to start is torn down. */
static int run_create_start(const struct global_opts *g, struct create_flags *f, const char *id,
			    bool detach, struct stdio_guard *sio, struct created *cr,
			    struct notify_relay **relay, struct bw_error *err)
{
	struct create_opts o = create_opts_from_flags(f, id, sio);
	o.keep_master = !detach && f->console == NULL;
	o.stdio_relay = !detach;
	int r = lifecycle_create(g, &o, cr, err);
	create_flags_free(f);
	if (r < 0) {
		stdio_guard_close(sio);
		return bw_wrap(err, "run failed");
	}
	/* In the foreground the relay runs beside the wait, for the container's whole life
	 * (STATUS=, WATCHDOG=1 after READY=1); detached, start waits for READY=1 itself. */
	if (lifecycle_start(cr->c, detach ? NULL : relay, err) < 0) {
		struct bw_error e2 = {0};
		stdio_guard_close(sio);
		lifecycle_teardown(cr->c, &e2);
		container_free(cr->c);
		return bw_wrap(err, "run failed");
	}
	return 0;
}

static void close_created(struct created *cr)
{
	close(cr->pidfd);
	if (cr->master >= 0)
		close(cr->master);
}

/* The foreground wait for the started container: its exit status. */
static int run_wait(const struct global_opts *g, struct created *cr, struct notify_relay *relay,
		    struct stdio_guard *sio, struct bw_error *err)
{
	/* Unlock the state while we wait, so that kill/state/exec from others work. */
	close(cr->c->lockfd);
	cr->c->lockfd = -1;
	/* A lifetime watchdog killed meanwhile is replaced, with the same deadline. */
	struct watchdog_guard *guard =
	    watchdog_recorded(cr->c)
		? watchdog_guard_start(cli_state_root(g), cr->c->id, cr->pidfd, 0)
		: NULL;
	if (relay != NULL && notify_relay_thread(relay, err) < 0) {
		/* No relay: the caller would wait for a READY=1 that never comes. */
		log_error_report(err);
		*err = (struct bw_error){0};
	}
	struct console_io io = stdio_guard_io(sio, cr->master);
	int status = lifecycle_wait(cr->pid, cr->pidfd, &io, 0, NULL, err);
	bw_phase("run: waited");
	notify_relay_close(relay);
	stdio_guard_close(sio);
	watchdog_guard_stop(guard);
	if (status >= 0)
		lifecycle_audit_exit(g, cr->c, status, false);
	return status;
}

VERB(run)
{
	struct create_flags f = {0};
	bool detach = false, keep = false;
	int consumed = 0;
	int r = parse_run_flags(argc, argv, &f, &detach, &keep, &consumed, err);
	if (r != 0)
		return r == 1 ? 0 : -1;

	/* Signals arrive through a signalfd while we wait; blocked before the clone so none is
	 * lost in between (the init unblocks its own mask). */
	sigset_t all, old;
	sigset_all_but_faults(&all, true);
	if (!detach)
		sigprocmask(SIG_BLOCK, &all, &old);
	/* Without process.terminal the container never gets our terminal: relayed pipes while
	 * we wait, /dev/null when detached (stdio_guard.h). */
	struct stdio_guard sio = STDIO_GUARD_INIT;
	struct created cr;
	struct notify_relay *relay = NULL;
	if (run_create_start(g, &f, argv[consumed], detach, &sio, &cr, &relay, err) < 0)
		return -1;
	if (detach) {
		stdio_guard_close(&sio);
		close_created(&cr);
		container_free(cr.c);
		return 0;
	}
	int status = run_wait(g, &cr, relay, &sio, err);
	close_created(&cr);
	if (!keep) {
		struct container *c2;
		bw_phase("run: closed");
		if (container_load(cli_state_root(g), cr.c->id, &c2, err) == 0) {
			lifecycle_teardown(c2, err);
			container_free(c2);
		}
	}
	container_free(cr.c);
	return status;
}
