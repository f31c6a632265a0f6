/* SPDX-License-Identifier: MIT */
/*
 * The watcher: recorded uevents (tests/data/uevents) and the simulator's own
 * events go through the same handler to one refresh per burst; events of
 * nothing zapfs shows make none; a change behind zapfs's back reaches the
 * tree and invalidates exactly its names; and changes that send no uevent
 * are caught by the periodic rescan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "core/engine.h"
#include "core/tree.h"
#include "fs/watch.h"
#include "kmod/kport.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"
#include "kmod/uevent.h"
#include "tests/kmod/sim_hosts.h"

#define MAX_EVENTS 64
/* A guard against a hang, not a speed requirement. */
#define WAIT_LIMIT_S 20

#define UUID_BEHIND "62177883-f1bb-47f0-914d-32a22e3a8804"
#define MDEV_TYPE   "devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough"
#define MDEV_DIR    "devices/vfio_ap/matrix/" UUID_BEHIND

/* ---- what the watcher asked for ---- */

struct recorder {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned refreshes;
	unsigned whole_host_refreshes;
	struct tree *tree; /* refresh through it when set */
	struct tree_inval inval[256];
	size_t n_inval;
};

static void recorder_init(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
}

static void recorder_done(struct recorder *r)
{
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
}

static int record_refresh(void *ctx, bool whole_host)
{
	struct recorder *r = ctx;
	int err = r->tree ? tree_refresh(r->tree, whole_host) : 0;
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&r->lock);

	r->refreshes++;
	r->whole_host_refreshes += whole_host;
	pthread_cond_broadcast(&r->changed);
	return err;
}

static void record_invalidations(void *ctx, const struct tree_inval *list, size_t n)
{
	struct recorder *r = ctx;
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&r->lock);

	for (size_t i = 0; i < n && r->n_inval < ARRAY_SIZE(r->inval); i++)
		r->inval[r->n_inval++] = list[i];
	pthread_cond_broadcast(&r->changed);
}

static bool has_inval(const struct recorder *r, enum tree_inval_kind kind, uint64_t parent,
		      const char *name)
{
	for (size_t i = 0; i < r->n_inval; i++) {
		if (r->inval[i].kind == kind && r->inval[i].parent == parent &&
		    !strcmp(r->inval[i].name, name))
			return true;
	}
	return false;
}

/* Waits until the recorder saw `refreshes` refreshes. */
static void wait_refreshes(struct recorder *r, unsigned refreshes)
{
	struct timespec deadline;
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&r->lock);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_LIMIT_S;
	while (r->refreshes < refreshes)
		assert_int_not_equal(pthread_cond_timedwait(&r->changed, &r->lock, &deadline),
				     ETIMEDOUT);
}

/* Waits until an invalidation of kind for parent/name arrived. */
static void wait_inval(struct recorder *r, enum tree_inval_kind kind, uint64_t parent,
		       const char *name)
{
	struct timespec deadline;
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&r->lock);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_LIMIT_S;
	while (!has_inval(r, kind, parent, name))
		assert_int_not_equal(pthread_cond_timedwait(&r->changed, &r->lock, &deadline),
				     ETIMEDOUT);
}

/* ---- recorded events ---- */

static size_t load_fixture(const char *name, struct uevent *ret, size_t max)
{
	const char *root = getenv("ZAPFS_SOURCE_ROOT");
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *text = malloc(65536);
	char path[4096];
	size_t len, pos = 0, n = 0;

	assert_non_null(root);
	assert_non_null(text);
	snprintf(path, sizeof(path), "%s/tests/data/uevents/%s", root, name);
	f = fopen(path, "re");
	assert_non_null(f);
	len = fread(text, 1, 65536, f);
	assert_true(len > 0 && len < 65536);
	for (;;) {
		size_t used = 0;
		int r = uevent_parse_text(text + pos, len - pos, &ret[n], &used);

		assert_true(r == 0 || r == 1);
		pos += used;
		if (r == 0)
			break;
		assert_true(++n < max);
	}
	return n;
}

/* The recordings, and whether their refresh reads the whole host or only mdevs. */
static const struct {
	const char *file;
	bool whole_host;
} fixtures[] = {
	{ "ap_mask.txt", true },  { "card_config.txt", true }, { "card_online.txt", true },
	{ "initscan.txt", true }, { "matrix.txt", true },      { "mdev_lifecycle.txt", false },
};

/*
 * Each recording, fed before the thread starts, is one refresh; one of the
 * whole host unless only mdevs had events.
 */
static void test_recorded_burst_is_one_refresh(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		_cleanup_free_ struct uevent *ev = calloc(MAX_EVENTS, sizeof(*ev));
		struct watch_config cfg = { .refresh = record_refresh };
		struct watch_stats stats;
		struct recorder rec;
		struct watch *w;
		size_t n;

		assert_non_null(ev);
		n = load_fixture(fixtures[i].file, ev, MAX_EVENTS);
		assert_true(n > 1);
		recorder_init(&rec);
		cfg.ctx = &rec;
		assert_int_equal(watch_new(&w), 0);
		for (size_t k = 0; k < n; k++)
			watch_feed(w, &ev[k]);
		assert_int_equal(watch_start(w, &cfg), 0);
		wait_refreshes(&rec, 1);
		watch_get_stats(w, &stats);
		assert_null(watch_free(w));
		/* no rescan period: nothing but the burst could refresh */
		assert_int_equal(rec.refreshes, 1);
		assert_int_equal(rec.whole_host_refreshes, fixtures[i].whole_host);
		assert_int_equal(stats.events, n);
		assert_int_equal(stats.event_refreshes, 1);
		assert_false(stats.listening);
		recorder_done(&rec);
	}
}

/* The vfio-dev events of an mdev's life concern nothing zapfs shows. */
static void test_unwanted_events_refresh_nothing(void **state)
{
	_cleanup_free_ struct uevent *ev = calloc(MAX_EVENTS, sizeof(*ev));
	struct watch_config cfg = { .refresh = record_refresh };
	struct watch_stats stats;
	struct recorder rec;
	struct watch *w;
	size_t n, fed = 0;

	assert_non_null(ev);
	n = load_fixture("mdev_lifecycle.txt", ev, MAX_EVENTS);
	recorder_init(&rec);
	cfg.ctx = &rec;
	assert_int_equal(watch_new(&w), 0);
	for (size_t k = 0; k < n; k++) {
		if (strcmp(uevent_get(&ev[k], "SUBSYSTEM"), "vfio-dev") != 0)
			continue;
		watch_feed(w, &ev[k]);
		fed++;
	}
	assert_int_equal(fed, 2);
	assert_int_equal(watch_start(w, &cfg), 0);
	watch_get_stats(w, &stats);
	assert_null(watch_free(w));
	assert_int_equal(stats.events, 2);
	assert_int_equal(rec.refreshes, 0);
	recorder_done(&rec);
}

/* ---- the simulator behind zapfs's back ---- */

struct lpar {
	struct sim *sim;
	struct sysfs *fs;
	struct engine *engine;
	struct tree *tree;
	struct recorder rec;
	struct watch *w;
	uint64_t guests_id;
};

static int no_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	return -ENOSYS;
}

static void lpar_start(struct lpar *p, unsigned major, unsigned minor, unsigned interval)
{
	_cleanup_free_ struct sim_config *scfg = calloc(1, sizeof(*scfg));
	struct engine_config ecfg = { .uuid_source = no_uuid };
	struct tree_config tcfg = { .matrix_dir = "/sys/devices/vfio_ap/matrix" };
	struct watch_config wcfg = { .refresh = record_refresh, .interval = interval };
	struct tree_attr attr;

	assert_non_null(scfg);
	recorder_init(&p->rec);
	sim_host_seed(major, minor, scfg);
	assert_int_equal(sim_new(scfg, &p->sim), 0);
	assert_int_equal(sysfs_open_sim(p->sim, &p->fs), 0);
	assert_int_equal(kport_new(p->fs, &ecfg.port), 0);
	assert_int_equal(engine_new(&ecfg, &p->engine), 0);
	tcfg.engine = p->engine;
	tcfg.hooks = (struct tree_hooks){ .invalidate = record_invalidations, .ctx = &p->rec };
	assert_int_equal(tree_new(&tcfg, &p->tree), 0);
	assert_int_equal(tree_lookup(p->tree, TREE_ROOT_ID, "guests", &attr), 0);
	p->guests_id = attr.id;
	p->rec.tree = p->tree;

	assert_int_equal(watch_new(&p->w), 0);
	watch_listen_sim(p->w, p->sim);
	wcfg.ctx = &p->rec;
	assert_int_equal(watch_start(p->w, &wcfg), 0);
}

static void lpar_stop(struct lpar *p)
{
	watch_free(p->w);
	tree_free(p->tree);
	engine_free(p->engine);
	sysfs_free(p->fs);
	sim_free(p->sim);
	recorder_done(&p->rec);
}

/* An mdev made and removed with the sysfs files shows up and goes away. */
static void test_sim_events_reach_the_tree(void **state)
{
	struct lpar p;
	struct tree_attr attr;
	struct watch_stats stats;

	lpar_start(&p, 6, 10, 0);
	assert_int_equal(tree_lookup(p.tree, p.guests_id, UUID_BEHIND, &attr), -ENOENT);

	assert_int_equal(sysfs_write_str(p.fs, MDEV_TYPE "/create", UUID_BEHIND "\n"), 0);
	wait_inval(&p.rec, TREE_INVAL_ENTRY, p.guests_id, UUID_BEHIND);
	assert_int_equal(tree_lookup(p.tree, p.guests_id, UUID_BEHIND, &attr), 0);
	assert_int_equal(attr.type, TREE_NODE_DIR);

	assert_int_equal(sysfs_write_str(p.fs, MDEV_DIR "/remove", "1\n"), 0);
	wait_inval(&p.rec, TREE_INVAL_DELETE, p.guests_id, UUID_BEHIND);
	assert_int_equal(tree_lookup(p.tree, p.guests_id, UUID_BEHIND, &attr), -ENOENT);

	watch_get_stats(p.w, &stats);
	assert_true(stats.listening);
	assert_true(stats.events >= 2);
	assert_int_equal(stats.refreshes, stats.event_refreshes);
	lpar_stop(&p);
}

/* An mdev made with the sysfs files, once the tree shows it: its domains/ directory. */
static uint64_t mdev_behind(struct lpar *p)
{
	struct tree_attr attr;

	assert_int_equal(sysfs_write_str(p->fs, MDEV_TYPE "/create", UUID_BEHIND "\n"), 0);
	wait_inval(&p->rec, TREE_INVAL_ENTRY, p->guests_id, UUID_BEHIND);
	assert_int_equal(tree_lookup(p->tree, p->guests_id, UUID_BEHIND, &attr), 0);
	assert_int_equal(tree_lookup(p->tree, attr.id, "domains", &attr), 0);
	return attr.id;
}

/* An assignment sends no uevent: only the periodic rescan sees it. */
static void test_rescan_catches_silent_changes(void **state)
{
	struct lpar p;
	struct tree_attr attr;
	uint64_t domains_id;
	unsigned seen;

	lpar_start(&p, 6, 10, 0);
	domains_id = mdev_behind(&p);
	watch_free(p.w);

	/* again with a one-second period and no event source */
	assert_int_equal(watch_new(&p.w), 0);
	{
		struct watch_config wcfg = { .refresh = record_refresh,
					     .ctx = &p.rec,
					     .interval = 1 };

		assert_int_equal(watch_start(p.w, &wcfg), 0);
	}
	assert_int_equal(tree_lookup(p.tree, domains_id, "0047", &attr), -ENOENT);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&p.rec.lock);

		seen = p.rec.refreshes;
	}
	assert_int_equal(sysfs_write_str(p.fs, MDEV_DIR "/assign_domain", "0x47\n"), 0);
	wait_refreshes(&p.rec, seen + 2);
	assert_int_equal(tree_lookup(p.tree, domains_id, "0047", &attr), 0);
	lpar_stop(&p);
}

/*
 * Where events arrive, a periodic rescan reads the masks and the mdevs, which
 * is where silent changes happen, and one in WATCH_FULL_RESCAN_EVERY reads
 * the whole host.
 */
static void test_light_rescans_where_events_arrive(void **state)
{
	struct lpar p;
	struct tree_attr attr;
	uint64_t domains_id;
	unsigned whole;

	lpar_start(&p, 6, 10, 1);
	domains_id = mdev_behind(&p);

	assert_int_equal(sysfs_write_str(p.fs, MDEV_DIR "/assign_domain", "0x47\n"), 0);
	wait_inval(&p.rec, TREE_INVAL_ENTRY, domains_id, "0047");
	assert_int_equal(tree_lookup(p.tree, domains_id, "0047", &attr), 0);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&p.rec.lock);

		/* the create's events and a periodic rescan or two: none of the whole host */
		assert_int_equal(p.rec.whole_host_refreshes, 0);
	}
	wait_refreshes(&p.rec, 1 + WATCH_FULL_RESCAN_EVERY);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&p.rec.lock);

		whole = p.rec.whole_host_refreshes;
	}
	assert_int_equal(whole, 1);
	lpar_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_burst_is_one_refresh),
		cmocka_unit_test(test_unwanted_events_refresh_nothing),
		cmocka_unit_test(test_sim_events_reach_the_tree),
		cmocka_unit_test(test_rescan_catches_silent_changes),
		cmocka_unit_test(test_light_rescans_where_events_arrive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
