/* SPDX-License-Identifier: MIT */
/*
 * The AP configuration lock of s390-tools: /run/lock/s390apconfig.lock, which
 * chzdev (zdev's AP support) and mdevctl's ap-check callout hold while they
 * change apmask/aqmask or an mdev. zapfs holds it around its own changes so
 * the three never interleave.
 *
 * It is not a flock() or fcntl() lock but a PID lock file, and zapfs takes it
 * exactly as s390-tools' util_lockfile does:
 * - the owner writes "<pid>\n" into a private file (mode 0644) and link()s it
 *   to the lock name; the link succeeding is taking the lock, EEXIST means
 *   someone holds it;
 * - a lock file is stale, and is removed, when the PID in it does not exist
 *   (kill(pid, 0) fails with ESRCH), or when it names no PID and is older
 *   than 120 seconds (its owner died between creating and writing it);
 * - releasing removes the file, and only when it names the releasing PID.
 * ap-check writes the PID of mdevctl (its parent), so mdevctl holds the lock
 * from its "pre" callout until its "post" callout. The other tools retry
 * every ~30 ms; zapfs also wakes as soon as the file is removed (inotify).
 *
 * The PID test assumes one PID namespace: a holder in another one reads as
 * stale, for s390-tools and zapfs alike.
 *
 * A handle is not thread-safe: one thread (zapfs's writer) uses it at a time.
 */
#pragma once

#include <sys/types.h>

#define APLOCK_DEFAULT_DIR "/run/lock"
#define APLOCK_NAME	   "s390apconfig.lock"

/* How long a lock file without a PID may be young (s390-tools' WAITPID). */
#define APLOCK_NO_PID_GRACE_S 120

struct aplock;

/* Opens the lock in dir (NULL: APLOCK_DEFAULT_DIR); dir must exist. Takes
 * nothing yet. */
int aplock_open(const char *dir, struct aplock **ret);

/* Releases the lock if this handle holds it, and frees the handle. Accepts
 * NULL; returns NULL. */
struct aplock *aplock_free(struct aplock *l);

/*
 * Takes the lock, waiting while another process holds it.
 * timeout_ms < 0 waits for as long as it takes; 0 tries once and returns
 * -EAGAIN if the lock is held; > 0 returns -ETIMEDOUT once that many
 * milliseconds passed. Stale lock files are removed on the way. Signals do
 * not cut the wait short (EINTR is retried against the same deadline).
 * -EDEADLK if this handle holds the lock already; other -errno for I/O
 * errors (EACCES when not root, EROFS, ...).
 */
int aplock_acquire(struct aplock *l, int timeout_ms);

/*
 * Gives the lock up. -ENOLCK if this handle does not hold it; -ESTALE if the
 * lock file is gone or names another process (another tool judged our lock
 * stale and took it): the file is then left alone, and the handle no longer
 * holds the lock either way.
 */
int aplock_release(struct aplock *l);

/* The PID the lock file names, for messages ("held by PID 1234"): 0 with
 * *ret_pid set; -ENOENT if nobody holds the lock; -ENODATA if the file names
 * no PID yet. */
int aplock_owner(struct aplock *l, pid_t *ret_pid);
