/* `bulwark ps`: the processes in the container's cgroup, as host pids (json) or ps(1) rows. */
#include "runtime/cli/cli.h"
#include "runtime/lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/util.h"

static int print_table(pid_t *pids, size_t n, char **ps_args, struct bw_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bw_fail(err, errno, "pipe");
	pid_t child = fork();
	if (child == 0) {
		char **argv = NULL;
		strv_push(&argv, "ps");
		for (size_t i = 0; ps_args && ps_args[i]; i++)
			strv_push(&argv, ps_args[i]);
		if (ps_args == NULL)
			strv_push(&argv, "-ef");
		dup2(p[1], STDOUT_FILENO);
		sig_reset_for_exec();
		execvp("ps", argv);
		_exit(127);
	}
	close(p[1]);
	_cleanup_free_ char *out = NULL;
	int r = fs_read_fd(p[0], 16 << 20, &out, NULL, err);
	close(p[0]);
	int status;
	waitpid(child, &status, 0);
	if (r < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return bw_fail(err, 0, "ps failed");
	/* Keep the header and the rows whose PID column is one of ours. */
	char *save = NULL, *line = strtok_r(out, "\n", &save);
	if (line == NULL)
		return 0;
	int pid_col = -1, col = 0;
	{
		_cleanup_free_ char *hdr = xstrdup(line);
		char *s2 = NULL;
		for (char *t = strtok_r(hdr, " \t", &s2); t; t = strtok_r(NULL, " \t", &s2), col++)
			if (strcmp(t, "PID") == 0)
				pid_col = col;
	}
	if (pid_col < 0)
		return bw_fail(err, 0, "ps output has no PID column");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		_cleanup_free_ char *copy = xstrdup(line);
		char *s2 = NULL, *t = strtok_r(copy, " \t", &s2);
		for (int c = 0; t && c < pid_col; c++)
			t = strtok_r(NULL, " \t", &s2);
		int pid;
		if (t == NULL || parse_int(t, &pid) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (pids[i] == pid)
				printf("%s\n", line);
	}
	return 0;
}

VERB(ps)
{
	char *format = NULL;
	int consumed = 0;
	struct cli_opt opts[] = {
	    {"format", 'f', CLI_STRING, &format, "FMT", "table or json"},
	};
	int r = cli_parse(argc, argv, opts, ARRAY_SIZE(opts), &consumed, err);
	if (r == 1) {
		cli_print_help("bulwark ps [command options] <container-id> [ps options]",
			       "List the processes of a container (host pids).", opts,
			       ARRAY_SIZE(opts));
		return 0;
	}
	if (r < 0)
		return -1;
	_cleanup_free_ char *fmt = format;
	if (argc - consumed < 1)
		return bw_fail(err, 0, "ps: expected a container id");
	if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "table") != 0)
		return bw_fail(err, 0, "--format: must be table or json");
	struct container *c;
	if (container_load(cli_state_root(g), argv[consumed], &c, err) < 0)
		return -1;
	struct cg_manager *cg = NULL;
	pid_t *pids = NULL;
	size_t n = 0;
	r = -1;
	if (c->state.cgroup_path == NULL
		? container_pidns_members(c->state.pid, &pids, &n, err) == 0
		: cg_open(c->state.cgroup_path, c->id, &cg, err) == 0 &&
		      cg_pids(cg, &pids, &n, err) == 0) {
		if (fmt != NULL && strcmp(fmt, "json") == 0) {
			printf("[");
			for (size_t i = 0; i < n; i++)
				printf("%s%d", i ? "," : "", (int)pids[i]);
			printf("]\n");
			r = 0;
		} else {
			char **ps_args = argc - consumed > 1 ? argv + consumed + 1 : NULL;
			r = print_table(pids, n, ps_args, err);
		}
	}
	free(pids);
	cg_free(cg);
	container_free(c);
	return r < 0 ? -1 : 0;
}
