/* Flag parsing shared by every verb, and the state-root default. */
#include "cli.h"

#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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
			return bw_fail(err, 0, "--%s: expected true or false, got \"%s\"", o->name,
				       v);
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

/* The option a token names, or NULL (not an option, or unknown). */
static const struct cli_opt *token_opt(const struct cli_opt *opts, size_t n, const char *a)
{
	if (a[0] != '-' || a[1] == '\0')
		return NULL;
	const char *name = a + 1 + (a[1] == '-');
	size_t len = strcspn(name, "=");
	const struct cli_opt *o = find_long(opts, n, name, len);
	if (o == NULL && a[1] != '-' && len == 1)
		o = find_short(opts, n, name[0]);
	return o;
}

int cli_parse_any_order(int argc, char **argv, const struct cli_opt *opts, size_t n, int *consumed,
			struct bw_error *err)
{
	if (argc <= 0)
		return cli_parse(argc, argv, opts, n, consumed, err);
	char **flags = xcalloc((size_t)argc + 1, sizeof(char *));
	char **pos = xcalloc((size_t)argc + 1, sizeof(char *));
	int nf = 0, np = 0, i = 0;
	char *dashdash = NULL;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			dashdash = argv[i];
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[np++] = argv[i];
			continue;
		}
		flags[nf++] = argv[i];
		/* A value in the next word belongs to its flag wherever the pair stands. */
		const struct cli_opt *o = token_opt(opts, n, a);
		if (o != NULL && o->kind != CLI_BOOL && strchr(a, '=') == NULL && i + 1 < argc)
			flags[nf++] = argv[++i];
	}
	int k = 0;
	for (int j = 0; j < nf; j++)
		argv[k++] = flags[j];
	/* After a "--" everything is an argument, including what looks like a flag. */
	if (dashdash != NULL)
		argv[k++] = dashdash;
	for (int j = 0; j < np; j++)
		argv[k++] = pos[j];
	free(flags);
	free(pos);
	/* The words after "--" are still in place: the moves above only permuted argv[0..i),
	 * minus the "--" itself, which was re-inserted at the front of the arguments. */
	return cli_parse(argc, argv, opts, n, consumed, err);
}

static const char *g_prog = "bulwark";
static const char *g_verb_summary = "";

void cli_set_prog(const char *argv0)
{
	const char *base = argv0 != NULL ? strrchr(argv0, '/') : NULL;
	base = base != NULL ? base + 1 : argv0;
	/* The name we were called by, as runc's help does; anything odd (it is the caller's
	 * string) falls back to ours. */
	if (base == NULL || base[0] == '\0' || strlen(base) > 64 ||
	    base[strspn(base,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")] !=
		'\0')
		base = "bulwark";
	g_prog = base;
}

const char *cli_prog(void)
{
	return g_prog;
}

void cli_set_verb_summary(const char *summary)
{
	g_verb_summary = summary != NULL ? summary : "";
}

static void flag_left(const struct cli_opt *o, char *out, size_t cap)
{
	const char *sp = o->arg ? " " : "", *arg = o->arg ? o->arg : "";
	if (o->short_name)
		snprintf(out, cap, "--%s%s%s, -%c%s%s", o->name, sp, arg, o->short_name, sp, arg);
	else
		snprintf(out, cap, "--%s%s%s", o->name, sp, arg);
}

void cli_print_flags(FILE *f, const struct cli_opt *opts, size_t n)
{
	char left[128];
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		flag_left(&opts[i], left, sizeof(left));
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	for (size_t i = 0; i < n; i++) {
		flag_left(&opts[i], left, sizeof(left));
		fprintf(f, "   %-*s  %s\n", width, left, opts[i].help);
	}
}

/* runc's (urfave/cli's) layout: NAME, USAGE (with the description after it), OPTIONS. */
void cli_print_help(const char *usage, const char *description, const struct cli_opt *opts,
		    size_t n)
{
	const char *rest = str_has_prefix(usage, "bulwark ") ? usage + strlen("bulwark ") : usage;
	size_t verb_len = strcspn(rest, " ");
	printf("NAME:\n   %s %.*s - %s\n\nUSAGE:\n   %s %s\n", g_prog, (int)verb_len, rest,
	       g_verb_summary, g_prog, rest);
	if (description != NULL && description[0] != '\0')
		printf("\n%s\n", description);
	if (n > 0) {
		printf("\nOPTIONS:\n");
		cli_print_flags(stdout, opts, n);
	}
}

int cli_check_state_root(const char *root, struct bw_error *err)
{
	struct stat st;
	/* The /tmp fallback is made here, exclusively: one made by anyone else is refused below. */
	if (lstat(root, &st) < 0 && errno == ENOENT && geteuid() != 0 &&
	    strncmp(root, "/tmp/", 5) == 0 && mkdir(root, 0700) < 0 && errno != EEXIST)
		return bw_fail(err, errno, "state root `%s`", root);
	if (lstat(root, &st) < 0)
		return errno == ENOENT ? 0 : bw_fail(err, errno, "state root `%s`", root);
	if (!S_ISDIR(st.st_mode))
		return bw_fail(
		    err, 0,
		    "state root `%s`: not a directory (a symbolic link or a file someone "
		    "placed there); remove it or pass --root",
		    root);
	if (st.st_uid != geteuid())
		return bw_fail(err, 0,
			       "state root `%s`: owned by uid %u, not by uid %u (someone else made "
			       "it); remove it or pass --root",
			       root, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return bw_fail(err, 0,
			       "state root `%s`: writable by other users (mode %04o); refusing",
			       root, (unsigned)(st.st_mode & 07777));
	return 0;
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
		/* 0 probes (kill(2)); runc passes any number on to the kernel. */
		if (n < 0 || n > SIGRTMAX)
			return bw_fail(err, 0, "invalid signal: %s", s);
		*sig = n;
		return 0;
	}
	/* runc upper-cases the name first: "sigusr1" and "usr1" are SIGUSR1 too. */
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
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

/* Go's time.ParseDuration: a sequence of decimal numbers, each with an optional fraction and a
 * unit (ns, us, µs, ms, s, m, h), e.g. "100ms", "1.5s", "1m30s"; "0" alone has no unit. */
int cli_parse_go_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
	    {"ns", 1},		 {"us", 1000},	      {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000},					   /* U+03BC greek mu */
	    {"ms", 1000000},	 {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL},
	};
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	long double total = 0;
	while (*p != '\0') {
		const char *start = p;
		long double v = 0, scale = 1;
		bool digits = false;
		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			v = v * 10 + (*p - '0');
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
				scale /= 10;
				v += (*p - '0') * scale;
			}
		}
		if (!digits || p == start)
			return -1;
		size_t ulen = 0;
		int64_t mult = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);
			/* The longest unit that matches ("ms" before "m"). */
			if (strncmp(p, units[i].unit, l) == 0 && l > ulen) {
				ulen = l;
				mult = units[i].ns;
			}
		}
		if (ulen == 0)
			return -1;
		p += ulen;
		total += v * (long double)mult;
		if (total > (long double)INT64_MAX)
			return -1;
	}
	*ns = neg ? -(int64_t)total : (int64_t)total;
	return 0;
}
