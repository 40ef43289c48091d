/* Run a command; write its peak RSS (KiB, including children it reaped) to the file named by
 * $RSSWRAP_OUT. A separate tiny process so the measurement does not include the bench's own
 * interpreter (and a file, because a container may keep our stdio open). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0)
		return 2;
	const char *out = getenv("RSSWRAP_OUT");
	FILE *f = out ? fopen(out, "w") : NULL;
	if (f != NULL) {
		fprintf(f, "%ld\n", ru.ru_maxrss);
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
