/* SPDX-License-Identifier: MIT */
/*
 * Kernel uevents of the AP bus, the vfio_ap matrix device and its mdevs, and
 * what each one means for zapfs: which part of the kernel state must be read
 * again, and which card, queue or mdev it concerns.
 *
 * Three sources give the same struct uevent, so one classifier serves all:
 * - the kernel's netlink socket on a real host (struct uevent_monitor);
 * - the in-process simulator's events (uevent_from_sim);
 * - recorded text as `udevadm monitor --kernel --property` prints it
 *   (uevent_parse_text), for tests.
 *
 * Uevents are hints, not the state: assignments made by other tools
 * (assign_adapter, ...) and guest start/stop send no uevent at all, so the
 * caller still rescans now and then; and a lost event (socket overflow)
 * turns into "re-read everything".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/idset.h"

struct sim_uevent;

/* The kernel's limits for one event (UEVENT_BUFFER_SIZE, UEVENT_NUM_ENVP). */
#define UEVENT_TEXT_MAX 2048
#define UEVENT_MAX_KEYS 64

/* One uevent: KEY=VALUE pairs in the order the kernel sent them (ACTION,
 * DEVPATH, SUBSYSTEM, ..., SEQNUM). Values are kept byte for byte: APMASK=
 * and AQMASK= end with the "\n" the kernel prints into them. The struct holds
 * offsets, not pointers, so it may be copied. */
struct uevent {
	char text[UEVENT_TEXT_MAX]; /* "KEY\0VALUE\0" ... */
	size_t len;
	size_t n_keys;
	uint16_t key[UEVENT_MAX_KEYS];
	uint16_t value[UEVENT_MAX_KEYS];
};

/* Empties ev. */
void uevent_init(struct uevent *ev);

/* Appends KEY=value. -E2BIG when the event is full (the kernel's limits),
 * -EINVAL for an empty key or one with '=' or a newline in it. */
int uevent_add(struct uevent *ev, const char *key, const char *value);

/* The value of the first key named key, or NULL. */
const char *uevent_get(const struct uevent *ev, const char *key);

/*
 * Parses the next event of text as `udevadm monitor --kernel --property`
 * prints it: KEY=VALUE lines, events separated by an empty line; header lines
 * ("KERNEL[...] change /devices/ap (ap)") and other lines before an event are
 * skipped. A value that ends in a newline prints as its line plus an empty
 * one: an empty line followed by a KEY=VALUE line other than ACTION= is that
 * newline, not the end of the event. Sets *ret_used to the bytes consumed.
 * Returns 1 with *ret filled, 0 when text holds no further event, -E2BIG when
 * the event exceeds the kernel's limits.
 */
int uevent_parse_text(const char *text, size_t len, struct uevent *ret, size_t *ret_used);

/* Converts an event of the in-process simulator (its env is "KEY=VALUE\n"
 * lines, written as udevadm would print them). */
int uevent_from_sim(const struct sim_uevent *sev, struct uevent *ret);

/* ---- classification ---- */

/* What must be read again. */
enum uevent_reread {
	UEVENT_REREAD_NONE = 0,
	UEVENT_REREAD_HOST = 1 << 0,  /* cards, queues, masks, bindings */
	UEVENT_REREAD_MDEVS = 1 << 1, /* the mdevs: matrix, guest_matrix, state */
	UEVENT_REREAD_ALL = UEVENT_REREAD_HOST | UEVENT_REREAD_MDEVS,
};

/* The device an event is about. */
enum uevent_object {
	UEVENT_OBJ_NONE,   /* none of ours, or not one device */
	UEVENT_OBJ_AP_BUS, /* /devices/ap: masks, scans, bindings */
	UEVENT_OBJ_CARD,   /* /devices/ap/cardXX */
	UEVENT_OBJ_QUEUE,  /* /devices/ap/cardXX/XX.YYYY */
	UEVENT_OBJ_MATRIX, /* /devices/vfio_ap/matrix, the mdevs' parent */
	UEVENT_OBJ_MDEV,   /* /devices/vfio_ap/matrix/<uuid> */
};

#define UEVENT_UUID_LEN 36

struct uevent_class {
	unsigned reread; /* enum uevent_reread bits */
	enum uevent_object object;
	struct apqn apqn;		/* CARD: .ap; QUEUE: .ap and .dom */
	char uuid[UEVENT_UUID_LEN + 1]; /* MDEV: lowercase, as in sysfs */
	const char *reason;		/* static text for the log, e.g. "apmask changed" */
};

/*
 * Decides what zapfs must re-read after ev. Never fails: an event of the AP
 * bus it does not understand asks for the host to be re-read, and events of
 * other subsystems (vfio-dev, other mdev parents, ...) ask for nothing.
 * A queue's unbind carries no DRIVER= (the driver core sends it after the
 * driver let go), so every unbind may concern a guest and re-reads all.
 */
void uevent_classify(const struct uevent *ev, struct uevent_class *ret);

/* ---- merging ---- */

/* How many mdev uuids a summary names; more set mdevs_overflow. */
#define UEVENT_SUMMARY_MDEVS 8

/* Several events merged: what a refresh must cover. */
struct uevent_summary {
	unsigned reread;	/* the union of the events' reread bits */
	unsigned events;	/* events merged, those that needed nothing included */
	bool lost;		/* events were lost (socket overflow): re-read all */
	bool vfio_ap;		/* the matrix device came, went or (un)registered */
	struct idset cards;	/* cards that had events, their own or a queue's */
	struct apqn_set queues; /* queues that had events */
	size_t n_mdevs;
	char mdevs[UEVENT_SUMMARY_MDEVS][UEVENT_UUID_LEN + 1];
	bool mdevs_overflow;
};

/* Empties s. */
void uevent_summary_init(struct uevent_summary *s);

/* Merges one classified event into s. */
void uevent_summary_add(struct uevent_summary *s, const struct uevent_class *c);

/* ---- the monitor on a real host ---- */

struct uevent_monitor;

/*
 * Opens a libudev monitor on the kernel's uevent netlink socket, filtered to
 * the subsystems ap, mdev and matrix (the vfio_ap matrix device sits on bus
 * "matrix"), and enables it: call this BEFORE the first scan, so no event
 * between that scan and the subscription is lost.
 *
 * Kernel events need no udevd (containers, rescue systems) and arrive before
 * udev rules ran, which is fine: zapfs reads sysfs attributes, not device
 * nodes. They are only delivered in the initial network namespace, and a
 * burst (a mask change rebinding thousands of queues) can overflow the
 * socket; uevent_monitor_receive then reports the loss.
 *
 * sysfs_root is where zapfs reads the kernel: uevents describe /sys only, so
 * any other root gives -EOPNOTSUPP. Other failures (no netlink socket in a
 * sandbox) return -errno. In every failure case the caller logs it and relies
 * on its periodic rescan.
 */
int uevent_monitor_new(const char *sysfs_root, struct uevent_monitor **ret);

/* Closes the monitor. Accepts NULL; returns NULL. */
struct uevent_monitor *uevent_monitor_free(struct uevent_monitor *m);

/* The file descriptor to poll() for POLLIN. */
int uevent_monitor_fd(const struct uevent_monitor *m);

/*
 * Receives every pending event without blocking, classifies each and merges
 * it into summary (which the caller initialised; several calls may add to
 * one summary). Returns the number of events received. A socket overflow
 * (ENOBUFS) sets summary->lost and UEVENT_REREAD_ALL and goes on. Any other
 * receive error also sets both and returns -errno: the monitor is then
 * unusable and the caller falls back to the periodic rescan.
 */
int uevent_monitor_receive(struct uevent_monitor *m, struct uevent_summary *summary);
