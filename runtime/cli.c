/* Flag parsing shared by every verb, and the state-root default. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"

static const struct cli_opt *find_long(const struct cli_opt *opts, size_t n, const char *name,
				       size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

static int set_value(const struct cli_opt *o, const char *v, struct bw_error *err)
{
	switch (o->kind) {
	case CLI_BOOL:
		if (v == NULL || strcmp(v, "true") == 0)
			*(bool *)o->dest = true;
		else if (strcmp(v, "false") == 0)
			*(bool *)o->dest = false;
		else
			return bw_fail(err, 0, "--%s: expected true or false, got \"%s\"", o->name, v);
		return 0;
	case CLI_STRING:
		free(*(char **)o->dest);
		*(char **)o->dest = xstrdup(v);
		return 0;
	case CLI_STRV:
		strv_push((char ***)o->dest, v);
		return 0;
	case CLI_INT:
		if (parse_int(v, (int *)o->dest) < 0)
			return bw_fail(err, 0, "--%s: not an integer: \"%s\"", o->name, v);
		return 0;
	}
	return 0;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t n, int *consumed,
	      struct bw_error *err)
{
	int i = 0;
	while (i < argc) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		const struct cli_opt *o;
		const char *val = NULL;
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		if ((len == 4 && strncmp(name, "help", 4) == 0) || strcmp(a, "-h") == 0)
			return 1;
		o = find_long(opts, n, name, len);
		if (o == NULL && a[1] != '-' && len == 1)
			o = find_short(opts, n, name[0]);
		if (o == NULL)
			return bw_fail(err, 0, "unknown flag: %.*s", (int)(name - a + len), a);
		if (eq != NULL)
			val = eq + 1;
		else if (o->kind != CLI_BOOL) {
			if (i + 1 >= argc)
				return bw_fail(err, 0, "flag needs an argument: --%s", o->name);
			val = argv[++i];
		}
		if (set_value(o, val, err) < 0)
			return -1;
		i++;
	}
	*consumed = i;
	return 0;
}

void cli_print_help(const char *usage, const char *description, const struct cli_opt *opts,
		    size_t n)
{
	printf("Usage: %s\n\n%s\n", usage, description);
	if (n > 0)
		printf("\nOptions:\n");
	for (size_t i = 0; i < n; i++) {
		char left[64];
		if (opts[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		printf("  %-30s %s\n", left, opts[i].help);
	}
}

const char *cli_state_root(const struct global_opts *g)
{
	static char buf[4096];
	if (g->root != NULL && g->root[0] != '\0')
		return g->root;
	if (geteuid() == 0)
		return "/run/bulwark";
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (x != NULL && x[0] != '\0') {
		snprintf(buf, sizeof(buf), "%s/bulwark", x);
		return buf;
	}
	snprintf(buf, sizeof(buf), "/tmp/bulwark-%d", (int)geteuid());
	return buf;
}

int cli_parse_signal(const char *s, int *sig, struct bw_error *err)
{
	int n;
	if (parse_int(s, &n) == 0) {
		if (n <= 0 || n > SIGRTMAX)
			return bw_fail(err, 0, "invalid signal: %s", s);
		*sig = n;
		return 0;
	}
	const char *name = str_has_prefix(s, "SIG") ? s + 3 : s;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev != NULL && strcasecmp(abbrev, name) == 0) {
			*sig = i;
			return 0;
		}
	}
	if (strncasecmp(name, "RTMIN+", 6) == 0 && parse_int(name + 6, &n) == 0 &&
	    SIGRTMIN + n <= SIGRTMAX) {
		*sig = SIGRTMIN + n;
		return 0;
	}
	return bw_fail(err, 0, "invalid signal: %s", s);
}
