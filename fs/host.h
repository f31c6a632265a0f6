/* SPDX-License-Identifier: MIT */
/*
 * What the daemon sets up around the kernel of the host it runs on: the
 * kernel port that holds the s390-tools AP configuration lock while zapfs
 * changes the configuration, the vfio_ap module (loaded on a real /sys when
 * it is missing), and the notes start-up leaves for the administrator
 * (printed at once; the daemon copies them into `log`).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/port.h"
#include "kmod/kport.h"

struct aplock;
struct engine;
struct sysfs;
struct watch;

/* How long zapfs waits for another tool's AP configuration lock by default. */
#define HOST_LOCK_TIMEOUT_S 30

#define HOST_NOTES_MAX	   4
#define HOST_NOTE_TEXT_MAX 512

/* Start-up news for `log`. */
struct host_notes {
	size_t n;
	int err[HOST_NOTES_MAX]; /* positive errno, 0 for plain news */
	char text[HOST_NOTES_MAX][HOST_NOTE_TEXT_MAX];
};

/* Prints a note on stderr and keeps it (the first HOST_NOTES_MAX) for `log`. */
void host_note(struct host_notes *notes, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct host_port {
	struct aplock *lock; /* NULL: no lock taken */
	struct kport_locked locked;
};

/*
 * Fills ret with the kernel port over fs. The lock file lives in lock_dir;
 * lock_dir NULL means /run/lock for a sysfs (a zapfs-simsys mount stands
 * for a kernel other tools may change too), and no lock for the in-process
 * simulator (simulated true), which nothing else can reach. A default
 * directory that cannot be opened is a note and no lock; a lock_dir given
 * that cannot be opened is an error. timeout_s: how long to wait for
 * another holder. Free with host_port_done().
 */
int host_port_open(struct host_port *hp, struct sysfs *fs, bool simulated, const char *lock_dir,
		   unsigned timeout_s, struct host_notes *notes, struct kernel_port *ret);

/* Releases the lock handle. The port must not be used any more. */
void host_port_done(struct host_port *hp);

/*
 * Checks what zapfs needs of the kernel, before the first scan: the AP bus
 * (without it there is nothing to manage: -ENODEV after a message on
 * stderr), and the vfio_ap matrix device, which is loaded on a real /sys
 * when missing and otherwise noted with what to do: the daemon goes on
 * without it (0), showing the host and refusing guests.
 */
int host_check_kernel(struct sysfs *fs, struct host_notes *notes);

/*
 * Subscribes w to the kernel's uevents about sysfs_root (before the first
 * scan). Only the real /sys has them: another root is no news; a failure on
 * /sys (no netlink socket in a sandbox) is a note.
 */
void host_listen_kernel(struct watch *w, const char *sysfs_root, struct host_notes *notes);

/* Hands the notes to the operation log (engine_log_append). */
void host_notes_log(const struct host_notes *notes, struct engine *e);

/* Parses a number of seconds, 0 to max: 0 or -EINVAL. */
int host_parse_seconds(const char *text, unsigned max, unsigned *ret);
