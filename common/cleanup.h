/* Scope-bound cleanup for memory, fds and FILE*, and the ownership-transfer helpers. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void bw_freep(void *p)
{
	free(*(void **)p);
}
static inline void bw_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void bw_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}
static inline void bw_strv_freep(char ***v)
{
	if (*v != NULL) {
		for (char **p = *v; *p != NULL; p++)
			free(*p);
		free(*v);
	}
}

#define _cleanup_free_ _cleanup_(bw_freep)
#define _cleanup_close_ _cleanup_(bw_closep)
#define _cleanup_fclose_ _cleanup_(bw_fclosep)
#define _cleanup_strv_ _cleanup_(bw_strv_freep)

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* Close *fd if open and mark it closed. */
static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#define steal_ptr(pp)                                                                              \
	({                                                                                         \
		__typeof__(*(pp)) _p = *(pp);                                                      \
		*(pp) = NULL;                                                                      \
		_p;                                                                                \
	})
