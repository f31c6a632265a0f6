/* SPDX-License-Identifier: MIT */
/*
 * The s390-tools AP configuration lock (see aplock.h for the protocol). All
 * file operations are relative to the lock directory's descriptor, so the
 * directory path is resolved once.
 */
#include "kmod/aplock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

/* Without inotify, retry as often as s390-tools does (30..33 ms). With it,
 * a removal wakes us at once; the timer only catches a holder that died,
 * which removes nothing. */
#define APLOCK_POLL_MS	  30
#define APLOCK_RECHECK_MS 250

struct aplock {
	int dir_fd;
	int inotify_fd; /* -1: poll instead */
	bool held;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int aplock_open(const char *dir, struct aplock **ret)
{
	_cleanup_free_ struct aplock *l = NULL;
	_cleanup_close_ int dir_fd = -1;

	if (!ret)
		return -EINVAL;
	if (!dir)
		dir = APLOCK_DEFAULT_DIR;

	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;

	l->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->inotify_fd >= 0 &&
	    inotify_add_watch(l->inotify_fd, dir, IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
		close(l->inotify_fd);
		l->inotify_fd = -1;
	}
	l->dir_fd = TAKE_FD(dir_fd);
	*ret = TAKE_PTR(l);
	return 0;
}

struct aplock *aplock_free(struct aplock *l)
{
	if (!l)
		return NULL;
	if (l->held)
		(void) aplock_release(l);
	if (l->inotify_fd >= 0)
		close(l->inotify_fd);
	close(l->dir_fd);
	free(l);
	return NULL;
}

/* atoi() as s390-tools reads the file: "1234\n" names PID 1234; anything
 * that is not a positive number names none (0). */
static pid_t parse_pid(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v <= 0 || v > INT32_MAX)
		return 0;
	return (pid_t) v;
}

/* 1 with the PID the lock file names (0: none) and its stat; 0 if there is
 * no lock file. */
static int read_lock_file(struct aplock *l, pid_t *ret_pid, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	char buf[40];
	ssize_t n;

	fd = openat(l->dir_fd, APLOCK_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (fstat(fd, ret_st) < 0)
		return -errno;
	*ret_pid = parse_pid(buf);
	return 1;
}

/* 1 if there is no live lock any more (a stale one was removed, or the file
 * went away by itself), 0 if a live process holds it. */
static int remove_if_stale(struct aplock *l)
{
	struct stat st, now_st;
	pid_t pid;
	int r;

	r = read_lock_file(l, &pid, &st);
	if (r <= 0)
		return r == 0 ? 1 : r;
	if (pid > 0) {
		/* EPERM: it exists, we just may not signal it. */
		if (kill(pid, 0) == 0 || errno != ESRCH)
			return 0;
	} else if (time(NULL) <= st.st_mtime + APLOCK_NO_PID_GRACE_S) {
		return 0;
	}

	/* Remove the file we judged, not one a new holder linked in since. */
	if (fstatat(l->dir_fd, APLOCK_NAME, &now_st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -errno;
	if (now_st.st_dev != st.st_dev || now_st.st_ino != st.st_ino)
		return 1;
	if (unlinkat(l->dir_fd, APLOCK_NAME, 0) < 0 && errno != ENOENT)
		return -errno;
	return 1;
}

/* The file that becomes the lock when linked: "<pid>\n", mode 0644. */
static int write_pid_file(struct aplock *l, const char *name)
{
	_cleanup_close_ int fd = -1;
	char buf[24];
	ssize_t n;
	int len;

	len = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
	/* A leftover of a crashed thread with the same id. */
	(void) unlinkat(l->dir_fd, name, 0);
	fd = openat(l->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* The lock must look like s390-tools' own whatever our umask. */
	if (fchmod(fd, 0644) < 0)
		return -errno;
	do
		n = write(fd, buf, (size_t) len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != len)
		return -EIO;
	if (close(TAKE_FD(fd)) < 0)
		return -errno;
	return 0;
}

/* Sleeps until the directory changes or it is time to look again. */
static int wait_for_change(struct aplock *l, int timeout_ms, int64_t deadline)
{
	int wait_ms = l->inotify_fd >= 0 ? APLOCK_RECHECK_MS : APLOCK_POLL_MS;
	struct pollfd p = { .fd = l->inotify_fd, .events = POLLIN };
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int r;

	if (timeout_ms == 0)
		return -EAGAIN;
	if (timeout_ms > 0) {
		int64_t left = deadline - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (left < wait_ms)
			wait_ms = (int) left;
	}

	/* With fd -1, poll() just sleeps. EINTR: the caller looks again and
	 * the deadline stays where it was. */
	r = poll(&p, 1, wait_ms);
	if (r < 0 && errno != EINTR)
		return -errno;
	if (r > 0)
		while (read(l->inotify_fd, events, sizeof(events)) > 0)
			;
	return 0;
}

static int link_lock(struct aplock *l, const char *pid_file, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	for (;;) {
		int r;

		if (linkat(l->dir_fd, pid_file, l->dir_fd, APLOCK_NAME, 0) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
		r = remove_if_stale(l);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = wait_for_change(l, timeout_ms, deadline);
		if (r < 0)
			return r;
	}
}

int aplock_acquire(struct aplock *l, int timeout_ms)
{
	char pid_file[sizeof(APLOCK_NAME) + 32];
	int r;

	if (!l)
		return -EINVAL;
	if (l->held)
		return -EDEADLK;

	/* Per thread, so that two handles in one process never share it. */
	snprintf(pid_file, sizeof(pid_file), "%s.zapfs.%d", APLOCK_NAME, (int) gettid());
	r = write_pid_file(l, pid_file);
	if (r >= 0)
		r = link_lock(l, pid_file, timeout_ms);
	(void) unlinkat(l->dir_fd, pid_file, 0);
	if (r < 0)
		return r;
	l->held = true;
	return 0;
}

int aplock_release(struct aplock *l)
{
	struct stat st;
	pid_t pid = 0;
	int r;

	if (!l)
		return -EINVAL;
	if (!l->held)
		return -ENOLCK;
	l->held = false;

	r = read_lock_file(l, &pid, &st);
	if (r < 0)
		return r;
	if (r == 0 || pid != getpid())
		return -ESTALE;
	if (unlinkat(l->dir_fd, APLOCK_NAME, 0) < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	return 0;
}

int aplock_owner(struct aplock *l, pid_t *ret_pid)
{
	struct stat st;
	pid_t pid = 0;
	int r;

	if (!l || !ret_pid)
		return -EINVAL;
	r = read_lock_file(l, &pid, &st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	if (pid <= 0)
		return -ENODATA;
	*ret_pid = pid;
	return 0;
}
