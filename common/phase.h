/* Phase timestamps of the start path, for profiling (docs/bench.md, "Where the time goes"):
 * compiled in only with -DBW_PHASES (a separate build directory), a no-op otherwise. Each
 * call writes one line to stderr: "bw-phase <pid> <CLOCK_MONOTONIC in µs> <name>". */
#ifndef BW_COMMON_PHASE_H
#define BW_COMMON_PHASE_H

#ifdef BW_PHASES
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline void bw_phase(const char *name)
{
	struct timespec ts;
	char line[160];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int n = snprintf(line, sizeof(line), "bw-phase %d %lld %s\n", (int)getpid(),
			 (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, name);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n);
}
#else
static inline void bw_phase(const char *name)
{
	(void)name;
}
#endif

#endif
