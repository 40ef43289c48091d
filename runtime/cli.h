/* Command-line parsing in runc's manner: global flags before the verb, each verb's flags before
 * its positional arguments; `--flag value`, `--flag=value`, `-flag value` and short `-f`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/log.h"

enum cli_kind { CLI_BOOL, CLI_STRING, CLI_STRV, CLI_INT };

struct cli_opt {
	const char *name;
	char short_name;
	enum cli_kind kind;
	void *dest; /* bool*, char**, char***, int* */
	const char *arg; /* argument name for help, NULL for bool */
	const char *help;
};

struct global_opts {
	char *root;
	char *log;
	char *log_format;
	bool debug;
	bool systemd_cgroup;
	char *policy;
	char *audit;
};

/* Parse argv[0..argc) (argv[0] is the first candidate option); stops at the first positional
 * argument or after "--". *consumed = index of the first unparsed argument. Returns 1 when
 * --help was asked for, 0 on success. */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t n, int *consumed,
	      struct bw_error *err);
void cli_print_help(const char *usage, const char *description, const struct cli_opt *opts,
		    size_t n);

/* The state root: --root, else /run/bulwark for root, else $XDG_RUNTIME_DIR/bulwark (an empty
 * XDG_RUNTIME_DIR counts as unset). */
const char *cli_state_root(const struct global_opts *g);

/* A signal by name or number ("KILL", "SIGKILL", "kill", "9", "RTMIN+3"). */
int cli_parse_signal(const char *s, int *sig, struct bw_error *err);

/* Every verb has this signature; argv[0] is the verb's first argument. */
typedef int (*verb_fn)(const struct global_opts *g, int argc, char **argv, struct bw_error *err);

#define VERB(name)                                                                                 \
	int cmd_##name(const struct global_opts *g, int argc, char **argv, struct bw_error *err)

VERB(create);
VERB(start);
VERB(run);
VERB(exec);
VERB(state);
VERB(kill);
VERB(delete);
VERB(list);
VERB(ps);
VERB(pause);
VERB(resume);
VERB(update);
VERB(events);
VERB(spec);
VERB(features);
VERB(sandbox);
