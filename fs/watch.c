/* SPDX-License-Identifier: MIT */
#include "fs/watch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "kmod/sim/sim.h"
#include "kmod/uevent.h"

struct watch {
	pthread_mutex_t lock;
	int wake_fd; /* eventfd: an event to act on, or stop */
	struct uevent_monitor *monitor;
	struct sim *sim;
	struct watch_config cfg;
	pthread_t thread;
	bool started;
	/* under lock */
	bool stop;
	struct uevent_summary pending;
	struct watch_stats stats;
};

/* Whether changes reach the watcher as events: the kernel's, or the simulator's. */
static bool listening(const struct watch *w)
{
	return w->monitor || w->sim;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool summary_wants_refresh(const struct uevent_summary *s)
{
	return s->reread != UEVENT_REREAD_NONE || s->lost;
}

static void wake(struct watch *w)
{
	uint64_t one = 1;

	/* a full counter is still a wake-up */
	(void) !write(w->wake_fd, &one, sizeof(one));
}

int watch_new(struct watch **ret)
{
	_cleanup_free_ struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	uevent_summary_init(&w->pending);
	*ret = TAKE_PTR(w);
	return 0;
}

int watch_listen_kernel(struct watch *w, const char *sysfs_root)
{
	int r;

	if (w->monitor)
		return -EALREADY;
	r = uevent_monitor_new(sysfs_root, &w->monitor);
	if (r < 0)
		return r;
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

		w->stats.listening = true;
	}
	return 0;
}

void watch_feed(struct watch *w, const struct uevent *ev)
{
	struct uevent_class c;
	bool wanted;

	uevent_classify(ev, &c);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

		uevent_summary_add(&w->pending, &c);
		w->stats.events++;
		wanted = summary_wants_refresh(&w->pending);
	}
	if (wanted)
		wake(w);
}

/* Runs under the simulator's lock: record, act later in the thread. */
static void sim_event(void *userdata, const struct sim_uevent *sev)
{
	struct watch *w = userdata;
	struct uevent ev;

	if (uevent_from_sim(sev, &ev) < 0) {
		/* an event we cannot read may still have changed anything */
		uevent_init(&ev);
		uevent_add(&ev, "ACTION", "change");
		uevent_add(&ev, "DEVPATH", "/devices/ap");
		uevent_add(&ev, "SUBSYSTEM", "ap");
	}
	watch_feed(w, &ev);
}

void watch_listen_sim(struct watch *w, struct sim *sim)
{
	w->sim = sim;
	sim_set_uevent_handler(sim, sim_event, w);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

		w->stats.listening = true;
	}
}

/* Receives what the kernel sent; a broken monitor is closed, and the
 * periodic rescan carries on alone. */
static void receive_kernel_events(struct watch *w)
{
	int r;

	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

		r = uevent_monitor_receive(w->monitor, &w->pending);
		if (r > 0)
			w->stats.events += (unsigned long) r;
		if (r < 0)
			w->stats.listening = false;
	}
	if (r < 0) {
		fprintf(stderr,
			"zapfs: uevents can no longer be received (%s): relying on the periodic "
			"rescan\n",
			strerror(-r));
		w->monitor = uevent_monitor_free(w->monitor);
	}
}

/* The poll timeout until the earlier of two deadlines (-1: none). */
static int timeout_until(int64_t now, int64_t a, int64_t b)
{
	int64_t next = a < 0 ? b : b < 0 ? a : a < b ? a : b;

	if (next < 0)
		return -1;
	return next <= now ? 0 : next - now > INT32_MAX ? INT32_MAX : (int) (next - now);
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	const int64_t period = (int64_t) w->cfg.interval * 1000;
	int64_t next_rescan = period ? now_ms() + period : -1;
	int64_t events_due = -1; /* when the recorded events are acted upon */
	unsigned periodic = 0;	 /* periodic rescans so far */

	pthread_setname_np(pthread_self(), "zapfs-watch"); /* for top -H and perf */

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = w->wake_fd, .events = POLLIN },
			{ .fd = w->monitor ? uevent_monitor_fd(w->monitor) : -1, .events = POLLIN },
		};
		bool by_event = false, periodic_due, whole_host;
		uint64_t count;
		int64_t now;

		{
			_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

			if (w->stop)
				return NULL;
			/* due a settling time after the first event, however many follow */
			if (!summary_wants_refresh(&w->pending))
				events_due = -1;
			else if (events_due < 0)
				events_due = now_ms() + w->cfg.settle_ms;
		}
		if (poll(fds, 2, timeout_until(now_ms(), next_rescan, events_due)) < 0 &&
		    errno != EINTR)
			return NULL;
		if (fds[0].revents & POLLIN)
			(void) !read(w->wake_fd, &count, sizeof(count));
		if (fds[1].revents & (POLLIN | POLLERR | POLLHUP))
			receive_kernel_events(w);

		now = now_ms();
		by_event = events_due >= 0 && now >= events_due;
		periodic_due = next_rescan >= 0 && now >= next_rescan;
		if (!by_event && !periodic_due)
			continue;
		{
			_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

			if (w->stop)
				return NULL;
			whole_host = w->pending.lost || (w->pending.reread & UEVENT_REREAD_HOST) ||
				     (periodic_due &&
				      (!listening(w) || ++periodic % WATCH_FULL_RESCAN_EVERY == 0));
			uevent_summary_init(&w->pending);
			w->stats.refreshes++;
			if (by_event)
				w->stats.event_refreshes++;
		}
		events_due = -1;
		/* a failed read is logged by the tree; the next round tries again */
		w->cfg.refresh(w->cfg.ctx, whole_host);
		if (period)
			next_rescan = now_ms() + period;
	}
}

int watch_start(struct watch *w, const struct watch_config *cfg)
{
	int r;

	if (w->started || !cfg->refresh)
		return -EINVAL;
	w->cfg = *cfg;
	if (!w->cfg.settle_ms)
		w->cfg.settle_ms = WATCH_SETTLE_MS;
	r = pthread_create(&w->thread, NULL, watch_main, w);
	if (r)
		return -r;
	w->started = true;
	return 0;
}

unsigned watch_default_interval(struct watch *w)
{
	return listening(w) ? WATCH_INTERVAL_UEVENTS : WATCH_INTERVAL_POLL;
}

void watch_get_stats(struct watch *w, struct watch_stats *ret)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

	*ret = w->stats;
}

struct watch *watch_free(struct watch *w)
{
	if (!w)
		return NULL;
	if (w->sim)
		sim_set_uevent_handler(w->sim, NULL, NULL);
	if (w->started) {
		{
			_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&w->lock);

			w->stop = true;
		}
		wake(w);
		pthread_join(w->thread, NULL);
	}
	uevent_monitor_free(w->monitor);
	close(w->wake_fd);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}
