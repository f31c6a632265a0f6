/* SPDX-License-Identifier: MIT */
/*
 * Scope-bound cleanup, after systemd and lxcfs: a variable declared with one
 * of these attributes is released on every path out of its scope, so early
 * returns need no unwind ladder. TAKE_PTR/TAKE_FD hand ownership on.
 */
#pragma once

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void freep(void *p)
{
	free(*(void **) p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void mutex_unlockp(pthread_mutex_t **m)
{
	if (*m)
		pthread_mutex_unlock(*m);
}

static inline void rwlock_unlockp(pthread_rwlock_t **l)
{
	if (*l)
		pthread_rwlock_unlock(*l);
}

#define _cleanup_(f)      __attribute__((cleanup(f)))
#define _cleanup_free_    _cleanup_(freep)
#define _cleanup_close_   _cleanup_(closep)
#define _cleanup_fclose_  _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Holds m locked until the end of the scope: `_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&m);` */
#define _cleanup_mutex_  _cleanup_(mutex_unlockp)
#define _cleanup_rwlock_ _cleanup_(rwlock_unlockp)

static inline pthread_mutex_t *mutex_lock(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	return m;
}

static inline pthread_rwlock_t *rwlock_rdlock(pthread_rwlock_t *l)
{
	pthread_rwlock_rdlock(l);
	return l;
}

static inline pthread_rwlock_t *rwlock_wrlock(pthread_rwlock_t *l)
{
	pthread_rwlock_wrlock(l);
	return l;
}

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
