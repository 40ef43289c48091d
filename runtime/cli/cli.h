/* Command-line parsing in runc's manner: global flags before the verb, each verb's flags before
 * its positional arguments (or, for most verbs, after them too, see cli_parse_any_order);
 * `--flag value`, `--flag=value`, `-flag value` and short `-f`. Help in runc's layout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/log.h"

enum cli_kind { CLI_BOOL, CLI_STRING, CLI_STRV, CLI_INT };

struct cli_opt {
	const char *name;
	char short_name;
	enum cli_kind kind;
	void *dest;	 /* bool*, char**, char***, int* */
	const char *arg; /* argument name for help, NULL for bool */
	const char *help;
};

struct global_opts {
	char *root;
	char *log;
	char *log_format;
	bool debug;
	bool systemd_cgroup;
	char *cgroup_manager; /* crun's --cgroup-manager: cgroupfs (or systemd) */
	char *policy;
	char *audit;
	char *criu; /* --criu: the CRIU binary (checkpoint, restore) */
};

/* Parse argv[0..argc) (argv[0] is the first candidate option); stops at the first positional
 * argument or after "--". *consumed = index of the first unparsed argument. Returns 1 when
 * --help was asked for, 0 on success. */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t n, int *consumed,
	      struct bw_error *err);
/* As cli_parse, but flags may also follow the arguments ("update ID --memory 1M"), as runc's
 * urfave/cli moves them for every verb but exec and ps (whose trailing words belong to the
 * command). A non-boolean flag takes the next word wherever the pair stands; after "--" every
 * word is an argument. Permutes argv so the arguments come last, in their order. */
int cli_parse_any_order(int argc, char **argv, const struct cli_opt *opts, size_t n, int *consumed,
			struct bw_error *err);

/* The name help text uses: argv[0]'s base name (as runc's help does), "bulwark" if odd. */
void cli_set_prog(const char *argv0);
const char *cli_prog(void);
/* The one-line summary of the verb being run, for its help's NAME line. */
void cli_set_verb_summary(const char *summary);
/* runc's help layout: NAME (prog, verb, summary), USAGE (usage with its leading "bulwark "
 * replaced by the program name), the description, OPTIONS. */
void cli_print_help(const char *usage, const char *description, const struct cli_opt *opts,
		    size_t n);
/* The options aligned as urfave/cli prints them: "   --name ARG, -n ARG  help". */
void cli_print_flags(FILE *f, const struct cli_opt *opts, size_t n);

/* Go's time.ParseDuration ("100ms", "1.5s", "1m30s", "0"); -1 when malformed or too long. */
int cli_parse_go_duration(const char *s, int64_t *ns);

/* The state root: --root, else /run/bulwark for root, else $XDG_RUNTIME_DIR/bulwark (an empty
 * XDG_RUNTIME_DIR counts as unset). */
const char *cli_state_root(const struct global_opts *g);
/* The state root must be ours: a directory (not a link) owned by the caller's uid and not
 * writable by others, else a local user who made /tmp/bulwark-UID first could plant state,
 * hooks or seccomp cache entries. A missing /tmp fallback is made here, 0700. */
int cli_check_state_root(const char *root, struct bw_error *err);

/* A signal by name or number ("KILL", "SIGKILL", "kill", "9", "RTMIN+3"); 0 is kill(2)'s
 * existence probe. */
int cli_parse_signal(const char *s, int *sig, struct bw_error *err);
/* runtime/main.c: `sandbox` makes its sealed self-copy (CVE-2019-5736) here, once its flags are
 * known, unless nothing in the sandbox can write the binary: root owns it, no group or other
 * write bit, no ACL, on a local file system, and no rw workspace (an idmapped view, written as
 * its directory's owner) on that file system (rw_devs: their st_dev). Returns only on failure
 * when it re-executes. */
int cli_seal_for_sandbox(const dev_t *rw_devs, size_t n_rw, struct bw_error *err);
/* Whether cli_seal_for_sandbox left the copy out, and then the binary's device. */
bool cli_seal_skipped(dev_t *binary_dev);

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
VERB(session);
VERB(cp);
VERB(checkpoint);
VERB(restore);
