/* SPDX-License-Identifier: MIT */
/*
 * The watcher: one thread that keeps the tree in step with a kernel others
 * change too (DESIGN §4). It refreshes
 * - when uevents say that the AP bus, the matrix device or an mdev changed:
 *   from the kernel's netlink socket on a real /sys, or from the in-process
 *   simulator;
 * - every few seconds, because assignments made by other tools and guests
 *   starting or stopping send no uevent at all. Where events arrive, such a
 *   rescan reads the masks and the mdevs (all that changes without one), and
 *   every WATCH_FULL_RESCAN_EVERY-th reads the whole host; with no event
 *   source, each reads the whole host.
 * A burst of events (a mask write rebinds many queues) makes one refresh,
 * a short settling time after its first event. Events that concern nothing
 * zapfs shows make none.
 *
 * Life cycle: watch_new(), then the event sources (the kernel's before the
 * first scan of the kernel, so that no change between the scan and the
 * subscription is lost), then watch_start() once the tree exists (and after
 * any fork), then watch_free().
 */
#pragma once

#include <stdbool.h>

struct sim;
struct uevent;
struct watch;

/* The default settling time after an event, in milliseconds. */
#define WATCH_SETTLE_MS 50

/* Default rescan periods in seconds: where the kernel's uevents arrive, the
 * rescan only catches what sends none; elsewhere it sees every change. */
#define WATCH_INTERVAL_UEVENTS 10
#define WATCH_INTERVAL_POLL    2

/* Where events arrive, one periodic rescan in this many reads the whole host. */
#define WATCH_FULL_RESCAN_EVERY 6

struct watch_config {
	/*
	 * Re-reads the kernel and invalidates what changed (tree_refresh):
	 * the whole host for the periodic rescan and for events about cards,
	 * queues, masks or the matrix device, or lost events; otherwise only
	 * mdevs had events, and whole_host is false.
	 */
	int (*refresh)(void *ctx, bool whole_host);
	void *ctx;
	unsigned interval;  /* seconds between periodic rescans; 0: none */
	unsigned settle_ms; /* 0: WATCH_SETTLE_MS */
};

/* What the watcher did so far. */
struct watch_stats {
	unsigned long events;	 /* uevents received, wanted or not */
	unsigned long refreshes; /* refreshes made, for events or the period */
	unsigned long event_refreshes;
	bool listening; /* a uevent source is connected */
};

/* A watcher with no source and no thread yet. */
int watch_new(struct watch **ret);

/*
 * Subscribes to the kernel's uevents about sysfs_root (see
 * uevent_monitor_new(): only the real /sys has them, -EOPNOTSUPP for any
 * other root). On failure the watcher still rescans; the caller says so.
 */
int watch_listen_kernel(struct watch *w, const char *sysfs_root);

/* Takes the simulator's uevents (until watch_free()). */
void watch_listen_sim(struct watch *w, struct sim *sim);

/*
 * Records one event and wakes the thread if it calls for a refresh. Cheap
 * and never calls into the kernel or the tree, so it may run under the
 * simulator's lock.
 */
void watch_feed(struct watch *w, const struct uevent *ev);

/* Starts the thread. Events recorded before are acted upon at once. */
int watch_start(struct watch *w, const struct watch_config *cfg);

/* The default rescan period for w's sources: WATCH_INTERVAL_UEVENTS when it
 * listens to the kernel, WATCH_INTERVAL_POLL otherwise. */
unsigned watch_default_interval(struct watch *w);

/* A snapshot of the counters. */
void watch_get_stats(struct watch *w, struct watch_stats *ret);

/* Stops the thread (pending events are dropped), leaves the sources and
 * frees w. Accepts NULL; returns NULL. */
struct watch *watch_free(struct watch *w);
