/* `bulwark events`: resource statistics (--stats once, or every --interval) and OOM events, as
 * runc's JSON lines {"type","id","data"}. */
#include "runtime/cli.h"
#include "runtime/lifecycle.h"

#include <errno.h>
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

VERB(events)
{
	bool stats = false;
	int interval = 5, consumed = 0;
	char *interval_s = NULL;
	struct cli_opt opts[] = {
		{"stats", 0, CLI_BOOL, &stats, NULL, "print statistics once and exit"},
		{"interval", 0, CLI_STRING, &interval_s, "SECONDS", "seconds between stats (default 5)"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark events [--stats] [--interval N] ID",
			       "Print resource usage and OOM events of a container.", opts,
			       ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	if (interval_s != NULL) {
		/* runc takes Go durations ("5s"); plain seconds are accepted too. */
		char *end;
		long v = strtol(interval_s, &end, 10);
		if (end == interval_s || (*end != '\0' && !(end[0] == 's' && end[1] == '\0')) || v <= 0)
			r = bw_fail(err, 0, "--interval: invalid duration \"%s\"", interval_s);
		interval = (int)v;
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
	if (cg_open(c->state.cgroup_path, c->id, &cg, err) < 0) {
		container_free(c);
		return -1;
	}
	/* Only the status checks need the lock; others must be able to act meanwhile. */
	close(c->lockfd);
	c->lockfd = -1;
	if (stats) {
		r = print_stats(cg, c->id, err);
	} else {
		uint64_t ooms = 0, now;
		cg_oom_kills(cg, &ooms, NULL);
		for (r = 0; r == 0 && container_status(c) != OCI_STATUS_STOPPED;) {
			r = print_stats(cg, c->id, err);
			for (int i = 0; r == 0 && i < interval * 10; i++) {
				struct timespec ts = {0, 100 * 1000 * 1000};
				nanosleep(&ts, NULL);
				if (cg_oom_kills(cg, &now, NULL) == 0 && now > ooms) {
					printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", c->id);
					r = flush_stdout(err);
					ooms = now;
				}
			}
		}
	}
	cg_free(cg);
	container_free(c);
	return r < 0 ? -1 : 0;
}
