/* `bulwark list`: every container under the state root, as a table or JSON. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"
#include "runtime/sandbox/watchdog.h"

#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

struct row {
	char *cells[6];
};

static void print_json(struct container *c, bool *first)
{
	char *json = NULL;
	size_t len;
	if (oci_state_to_json(&c->state, true, false, &json, &len, NULL) == 0)
		printf("%s%s", *first ? "" : ",", json);
	free(json);
	*first = false;
}

static void add_row(struct row **rows, size_t *n, struct container *c)
{
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)c->state.pid);
	*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
	struct row *r = &(*rows)[(*n)++];
	const char *cells[6] = {c->id,
				pid,
				oci_status_name(c->state.status),
				c->state.bundle ? c->state.bundle : "",
				c->state.created ? c->state.created : "",
				c->state.owner ? c->state.owner : ""};
	for (int i = 0; i < 6; i++)
		r->cells[i] = xstrdup(cells[i]);
}

/* runc's table: Go's tabwriter with a minimum cell width of 12 and 3 spaces of padding. The
 * strings come from state files under the root: escaped (log_escape) so a row stays a row. */
static void print_table(struct row *rows, size_t n)
{
	int width[6] = {0};
	char esc[4096];
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 5; k++) {
			int l = (int)strlen(log_escape(esc, sizeof(esc), rows[i].cells[k])) + 3;
			if (l > width[k])
				width[k] = l;
		}
	for (int k = 0; k < 5; k++)
		if (width[k] < 12)
			width[k] = 12;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 6; k++) {
			log_escape(esc, sizeof(esc), rows[i].cells[k]);
			if (k < 5)
				printf("%-*s", width[k], esc);
			else
				printf("%s\n", esc);
			free(rows[i].cells[k]);
		}
	}
}

/* runc's OWNER: the user owning the container's state directory ("#UID" without a name).
 * Looked up in /etc/passwd directly: a static binary must not load NSS modules. */
static void fill_owner(struct container *c)
{
	struct stat st;
	if ((c->state.owner != NULL && c->state.owner[0] != '\0') || fstat(c->dirfd, &st) < 0)
		return;
	_cleanup_free_ char *passwd = NULL;
	struct bw_error e = {0};
	char *name = NULL;
	if (fs_read_file("/etc/passwd", 4 << 20, &passwd, NULL, &e) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(passwd, "\n", &save); l && !name;
		     l = strtok_r(NULL, "\n", &save)) {
			char *f[3] = {l, NULL, NULL};
			for (int k = 1; k < 3 && f[k - 1] != NULL; k++) {
				char *colon = strchr(f[k - 1], ':');
				f[k] = colon ? colon + 1 : NULL;
				if (colon)
					*colon = '\0';
			}
			uint32_t uid;
			char *end = f[2] ? strchr(f[2], ':') : NULL;
			if (end != NULL)
				*end = '\0';
			if (f[2] != NULL && parse_u32(f[2], &uid) == 0 && uid == st.st_uid)
				name = xstrdup(f[0]);
		}
	}
	free(c->state.owner);
	c->state.owner = name ? name : xasprintf("#%u", (unsigned)st.st_uid);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Containers in name order, as runc (os.ReadDir sorts); unreadable entries are skipped. */
static void list_containers(const char *root, const char *fmt, bool quiet)
{
	struct dirent **names = NULL;
	int nn = scandir(root, &names, NULL, by_name);
	struct row *rows = xcalloc(1, sizeof(*rows));
	size_t nrows = 0;
	bool first = true, json = strcmp(fmt, "json") == 0;
	rows[nrows++] = (struct row){{xstrdup("ID"), xstrdup("PID"), xstrdup("STATUS"),
				      xstrdup("BUNDLE"), xstrdup("CREATED"), xstrdup("OWNER")}};
	if (json && !quiet)
		printf("[");
	for (int i = 0; i < nn; i++) {
		struct dirent *de = names[i];
		struct container *c;
		struct bw_error e2 = {0};
		if (container_reap_gone(root, de->d_name) || de->d_name[0] == '.' ||
		    de->d_type != DT_DIR || container_load(root, de->d_name, &c, &e2) < 0)
			continue;
		/* Sandboxes whose owner and watchdog both died are released here. */
		if (watchdog_sweep(c) == 1) {
			container_free(c);
			continue;
		}
		fill_owner(c);
		c->state.status = container_status(c);
		if (c->state.status == OCI_STATUS_STOPPED)
			c->state.pid = 0;
		if (quiet)
			printf("%s\n", c->id);
		else if (json)
			print_json(c, &first);
		else
			add_row(&rows, &nrows, c);
		container_free(c);
	}
	for (int i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	if (json && !quiet)
		printf("]\n");
	else if (!quiet)
		print_table(rows, nrows);
	else
		for (int k = 0; k < 6; k++)
			free(rows[0].cells[k]);
	free(rows);
}

VERB(list)
{
	char *format = NULL;
	bool quiet = false;
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"format", 'f', CLI_STRING, &format, "FMT",
	     "select one of: table or json (default: table)"},
	    {"quiet", 'q', CLI_BOOL, &quiet, NULL, "display only container IDs"},
	};
	int r = cli_parse_any_order(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help(
		    "bulwark list [command options]",
		    "List the containers under the state root (global --root), in name order.",
		    opts, ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	_cleanup_free_ char *owned = format;
	const char *fmt = format ? format : "table";
	if (strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0)
		return bw_fail(err, 0, "invalid format option");
	if (argc - consumed != 0)
		return bw_fail(err, 0, "list: takes no arguments");
	list_containers(cli_state_root(g), fmt, quiet);
	return 0;
}
