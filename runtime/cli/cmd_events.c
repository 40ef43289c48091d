/* `bulwark events`: resource statistics (--stats once, or every --interval) and OOM events, as
 * runc's JSON lines {"type","id","data"}. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/util.h"

/* SIGPIPE is ignored (main): a reader that went away (`events | head -1`) ends the stream
 * quietly, with 1; other write errors are errors. */
static int flush_stdout(struct bw_error *err)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return 1;
	return bw_fail(err, errno, "write to stdout");
}

static int print_stats(struct cg_manager *cg, const char *id, struct bw_error *err)
{
	char *json = NULL;
	if (cg_stats_json(cg, &json, err) < 0)
		return -1;
	printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", id, json);
	free(json);
	return flush_stdout(err);
}

/* Stats every interval_ns until the container stops, an OOM kill line as soon as one is seen
 * (polled every 100 ms at most). */
static int stream(struct cg_manager *cg, struct container *c, int64_t interval_ns,
		  struct bw_error *err)
{
	const int64_t slice = 100 * 1000 * 1000;
	uint64_t ooms = 0, now;
	int r = 0;
	cg_oom_kills(cg, &ooms, NULL);
	while (r == 0 && container_status(c) != OCI_STATUS_STOPPED) {
		r = print_stats(cg, c->id, err);
		for (int64_t left = interval_ns; r == 0 && left > 0; left -= slice) {
			int64_t step = left < slice ? left : slice;
			struct timespec ts = {step / 1000000000, step % 1000000000};
			nanosleep(&ts, NULL);
			if (cg_oom_kills(cg, &now, NULL) == 0 && now > ooms) {
				printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", c->id);
				r = flush_stdout(err);
				ooms = now;
			}
		}
	}
	return r;
}

VERB(events)
{
	bool stats = false;
	int consumed = 0;
	int64_t interval = 5LL * 1000 * 1000 * 1000;
	char *interval_s = NULL;
	struct cli_opt opts[] = {
	    {"interval", 0, CLI_STRING, &interval_s, "DURATION",
	     "set the stats collection interval (Go duration: 100ms, 1.5s, 1m30s; default: 5s)"},
	    {"stats", 0, CLI_BOOL, &stats, NULL, "display the container's stats then exit"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark events [command options] <container-id>",
		    "Print the container's resource usage as JSON lines once every interval, "
		    "and OOM events as they happen.",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	if (interval_s != NULL) {
		/* runc takes Go durations; plain seconds ("5") are accepted too. */
		int64_t secs;
		if (cli_parse_go_duration(interval_s, &interval) < 0) {
			if (parse_i64(interval_s, &secs) == 0 && secs > 0 &&
			    secs < INT64_MAX / 1000000000)
				interval = secs * 1000000000;
			else
				r = bw_fail(err, 0, "--interval: invalid duration \"%s\"",
					    interval_s);
		}
		if (r == 0 && interval <= 0)
			r = bw_fail(err, 0, "duration interval must be greater than 0");
		free(interval_s);
		if (r < 0)
			return -1;
	}
	if (argc - consumed != 1)
		return bw_fail(err, 0, "events: expected exactly one container id");
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	if (container_status(c) == OCI_STATUS_STOPPED) {
		container_free(c);
		return bw_fail(err, 0, "container not running");
	}
	struct cg_manager *cg = NULL;
	if (c->state.cgroup_path == NULL) {
		container_free(c);
		return bw_fail(err, 0,
			       "the container has no cgroup (created without root): no events or "
			       "statistics");
	}
	if (cg_open(c->state.cgroup_path, c->id, &cg, err) < 0) {
		container_free(c);
		return -1;
	}
	/* Only the status checks need the lock; others must be able to act meanwhile. */
	close(c->lockfd);
	c->lockfd = -1;
	r = stats ? print_stats(cg, c->id, err) : stream(cg, c, interval, err);
	cg_free(cg);
	container_free(c);
	return r < 0 ? -1 : 0;
}
