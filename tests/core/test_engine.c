/* SPDX-License-Identifier: MIT */
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

#include "core/engine.h"
#include "core/model.h"
#include "fake_kernel.h"

#define UUID_X "0000000a-0000-0000-0000-00000000000a"

struct fixture {
	struct fake_kernel k;
	struct engine *e;
	unsigned next_uuid;
	unsigned commits;
	int store_err;
	/* a store that takes its time: it waits for released once hold is set */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool hold, in_store, released;
};

static int counting_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	struct fixture *f = ctx;

	snprintf(ret, UUID_STR_LEN + 1, "%08x-0000-4000-8000-000000000000", ++f->next_uuid);
	return 0;
}

static int counting_store(void *ctx, const struct model *m, const struct model_diff *diff)
{
	struct fixture *f = ctx;

	(void) m;
	(void) diff;
	f->commits++;
	pthread_mutex_lock(&f->lock);
	if (f->hold) {
		f->in_store = true;
		pthread_cond_broadcast(&f->cond);
		while (!f->released)
			pthread_cond_wait(&f->cond, &f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return f->store_err;
}

static time_t fixed_clock(void)
{
	return 86400;
}

static void start(struct fixture *f, size_t log_capacity)
{
	struct engine_config cfg = {
		.port = fake_port(&f->k),
		.uuid_source = counting_uuid,
		.uuid_ctx = f,
		.store = { .commit = counting_store, .ctx = f },
		.log_capacity = log_capacity,
		.clock = fixed_clock,
	};

	assert_int_equal(engine_new(&cfg, &f->e), 0);
}

static struct fixture *setup_kernel(bool dynamic, bool ap_config)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	fake_seed(&f->k, dynamic, ap_config);
	/* adapters 05 and 06 are set aside for guests */
	f->k.apmask = ids("0-4,7-255");
	return f;
}

static void finish(struct fixture *f)
{
	engine_free(f->e);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const char *uuid_n(unsigned n, char buf[UUID_STR_LEN + 1])
{
	snprintf(buf, UUID_STR_LEN + 1, "%08x-0000-4000-8000-000000000000", n);
	return buf;
}

static void expect_ok(int r, struct outcome *o, const char *sentence)
{
	assert_int_equal(r, 0);
	assert_int_equal(o->err, 0);
	if (sentence)
		assert_string_equal(o->sentence, sentence);
	outcome_done(o);
}

/* A copy of the guest for checks after the read lock is gone. */
static struct guest guest_copy(struct engine *e, const char *name, bool *ret_found)
{
	const struct model *m = engine_read_begin(e);
	const struct guest *g = model_guest_by_name(m, name);
	struct guest copy = { 0 };

	*ret_found = g != NULL;
	if (g)
		copy = *g;
	engine_read_end(e);
	return copy;
}

static void test_create_assign_and_reserve(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	struct outcome o;
	char u1[UUID_STR_LEN + 1];
	struct guest g;
	bool found;
	int r;

	(void) state;
	start(f, 0);
	uuid_n(1, u1);
	r = engine_guest_create(f->e, "mkdir guests/web", "web", NULL, &o);
	assert_int_equal(o.n_kops, 1);
	assert_int_equal(o.diff.n_guests, 1);
	assert_int_equal(o.diff.guests[0].kind, GUEST_APPEARED);
	expect_ok(r, &o,
		  "mkdir guests/web: done: create mdev 00000001-0000-4000-8000-000000000000");
	assert_non_null(fake_find(&f->k, u1));
	g = guest_copy(f->e, "web", &found);
	assert_true(found);
	assert_false(g.adopted);
	assert_int_equal(g.state, GUEST_ACTIVE);
	/* the start-up read, and the new guest */
	assert_int_equal(f->commits, 2);

	r = engine_queue_add(f->e, "touch guests/web/queues/05.0004", "web", apqn_of(5, 4), &o);
	assert_int_equal(o.n_kops, 2);
	assert_true(apqn_set_has(&o.diff.apqns, apqn_of(5, 4)));
	expect_ok(r, &o,
		  "touch guests/web/queues/05.0004: done: assign_adapter 0x5 to "
		  "00000001-0000-4000-8000-000000000000; assign_domain 0x4 to "
		  "00000001-0000-4000-8000-000000000000");
	r = engine_assign(f->e, "touch guests/web/adapters/06", "web", PART_ADAPTER, 6, &o);
	expect_ok(r, &o,
		  "touch guests/web/adapters/06: done: assign_adapter 0x6 to "
		  "00000001-0000-4000-8000-000000000000; web gains 06.0004");
	g = guest_copy(f->e, "web", &found);
	assert_true(idset_equal(&g.adapters, &f->k.mdevs[0].apm));
	assert_true(idset_equal(&g.guest_adapters, &f->k.mdevs[0].apm));

	/* assigning reserved the queues; unassigning keeps them reserved */
	r = engine_unassign(f->e, "rm guests/web/adapters/06", "web", PART_ADAPTER, 6, &o);
	expect_ok(r, &o, NULL);
	{
		const struct model *m = engine_read_begin(f->e);

		assert_string_equal(model_reservation(m, apqn_of(5, 4)), "web");
		assert_string_equal(model_reservation(m, apqn_of(6, 4)), "web");
		engine_read_end(f->e);
	}

	/* and so another guest cannot take them */
	r = engine_guest_create(f->e, "mkdir guests/db", "db", NULL, &o);
	expect_ok(r, &o, NULL);
	r = engine_queue_add(f->e, "touch guests/db/queues/06.0004", "db", apqn_of(6, 4), &o);
	assert_int_equal(r, -EADDRINUSE);
	assert_string_equal(o.sentence, "touch guests/db/queues/06.0004: refused (EADDRINUSE): "
					"06.0004 is reserved for guest web; rm "
					"reservations/06.0004 once guest web's keys in its domain "
					"are dealt with");
	assert_int_equal(o.why.rule, RULE_RESERVATION);
	outcome_done(&o);

	/* a rename carries the reservations */
	r = engine_guest_rename(f->e, "mv guests/web guests/www", "web", "www", &o);
	assert_int_equal(o.n_kops, 0);
	expect_ok(r, &o, "mv guests/web guests/www: done");
	r = engine_release(f->e, "rm reservations/06.0004", apqn_of(6, 4), &o);
	expect_ok(r, &o, "rm reservations/06.0004: done");
	r = engine_queue_add(f->e, "touch", "db", apqn_of(6, 4), &o);
	expect_ok(r, &o, NULL);
	r = engine_reserve(f->e, "ln -s", apqn_of(6, 0x47), "www", &o);
	expect_ok(r, &o, "ln -s: done");
	finish(f);
}

/* The writes of a plan fail one position at a time; each time nothing changes. */
static void fail_everywhere(struct fixture *f, int (*run)(struct fixture *f, struct outcome *o),
			    unsigned n_writes)
{
	for (unsigned pos = 1; pos <= n_writes; pos++) {
		struct fake_kernel before = f->k;
		struct outcome o;
		int r;

		f->k.fail_writes = UINT64_C(1) << (f->k.writes + pos - 1);
		r = run(f, &o);
		assert_int_equal(r, -EIO);
		assert_int_equal(o.err, EIO);
		assert_int_equal(o.why.rule, RULE_ALL_OR_NOTHING);
		assert_int_equal(o.n_kops, 0);
		assert_non_null(strstr(o.sentence, "refused (EIO): the kernel refused "));
		if (pos > 1)
			assert_non_null(strstr(o.sentence, "before it w"));
		assert_int_equal(f->k.n_mdevs, before.n_mdevs);
		for (size_t i = 0; i < before.n_mdevs; i++) {
			struct fake_mdev *m = fake_find(&f->k, before.mdevs[i].uuid);

			assert_non_null(m);
			assert_true(idset_equal(&m->apm, &before.mdevs[i].apm));
			assert_true(idset_equal(&m->aqm, &before.mdevs[i].aqm));
			assert_true(idset_equal(&m->adm, &before.mdevs[i].adm));
		}
		assert_true(idset_equal(&f->k.apmask, &before.apmask));
		assert_true(idset_equal(&f->k.aqmask, &before.aqmask));
		outcome_done(&o);
		f->k.fail_writes = 0;
	}
}

static int run_queue_add(struct fixture *f, struct outcome *o)
{
	return engine_queue_add(f->e, "touch", "g", apqn_of(6, 0x47), o);
}

static int run_guest_remove(struct fixture *f, struct outcome *o)
{
	return engine_guest_remove(f->e, "rmdir", "g", o);
}

static int run_return_to_host(struct fixture *f, struct outcome *o)
{
	return engine_pool_move(f->e, "mv", apqn_of(6, 0xab), POOL_HOST, o);
}

static void test_undo_at_every_position(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	struct fake_mdev *m;
	struct outcome o;
	struct guest g;
	bool found;

	(void) state;
	m = fake_add_mdev(&f->k, UUID_X);
	m->apm = ids("5");
	m->aqm = ids("4");
	m->adm = ids("0xab");
	start(f, 0);
	expect_ok(engine_guest_rename(f->e, "mv", UUID_X, "g", &o), &o, NULL);

	fail_everywhere(f, run_queue_add, 2);
	g = guest_copy(f->e, "g", &found);
	assert_true(idset_equal(&g.adapters, &m->apm));
	/* the undo of a removal re-creates the mdev with its matrix: the one write fails */
	fail_everywhere(f, run_guest_remove, 1);

	/* an undo that fails too is reported */
	f->k.fail_writes = UINT64_C(3) << (f->k.writes + 1);
	assert_int_equal(run_queue_add(f, &o), -EIO);
	assert_non_null(strstr(o.sentence, "and undoing the 1 write before it failed (EIO)"));
	outcome_done(&o);
	f->k.fail_writes = 0;
	/* the model shows what the kernel has now: adapter 06 stuck */
	g = guest_copy(f->e, "g", &found);
	assert_true(idset_has(&g.adapters, 6));
	finish(f);

	/* a host change of two writes */
	f = setup_kernel(true, false);
	f->k.apmask = ids("5");
	f->k.aqmask = ids("4");
	f->k.adapters = ids("6");
	f->k.usage_domains = ids("0xab");
	start(f, 0);
	fail_everywhere(f, run_return_to_host, 2);
	expect_ok(run_return_to_host(f, &o), &o, "mv: done: apmask +6; aqmask +171");
	assert_true(idset_has(&f->k.apmask, 6));
	finish(f);
}

static void test_undo_of_ap_config_and_remove(void **state)
{
	struct fixture *f = setup_kernel(true, true);
	struct fake_mdev *m;
	struct outcome o;

	(void) state;
	m = fake_add_mdev(&f->k, UUID_X);
	m->apm = ids("5");
	m->aqm = ids("4");
	start(f, 0);
	expect_ok(engine_guest_rename(f->e, "mv", UUID_X, "g", &o), &o, NULL);
	fail_everywhere(f, run_queue_add, 1);
	expect_ok(run_queue_add(f, &o), &o,
		  "touch: done: ap_config of " UUID_X ": adapters 5-6, domains 4,71, control "
		  "domains none; the cross product also gives g 05.0047, 06.0004");

	/* remove, then the kernel refuses nothing: the guest goes, its reservations stay */
	expect_ok(run_guest_remove(f, &o), &o, "rmdir: done: remove mdev " UUID_X);
	assert_null(fake_find(&f->k, UUID_X));
	{
		const struct model *model = engine_read_begin(f->e);

		assert_null(model_guest_by_name(model, "g"));
		assert_string_equal(model_reservation(model, apqn_of(6, 0x47)), "g");
		engine_read_end(f->e);
	}
	finish(f);
}

static void test_rereads_before_planning(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	struct fake_mdev *other;
	struct outcome o;
	unsigned reads;
	int r;

	(void) state;
	start(f, 0);
	expect_ok(engine_guest_create(f->e, "mkdir", "g", NULL, &o), &o, NULL);

	/* another tool assigns 06.0047 behind the engine's back */
	other = fake_add_mdev(&f->k, UUID_X);
	other->apm = ids("6");
	other->aqm = ids("0x47");
	reads = f->k.reads;
	r = engine_queue_add(f->e, "touch", "g", apqn_of(6, 0x47), &o);
	assert_int_equal(r, -EADDRINUSE);
	assert_string_equal(o.sentence,
			    "touch: refused (EADDRINUSE): 06.0047 is held by guest " UUID_X);
	assert_true(f->k.reads > reads);
	/* the refusal's re-read adopted the other tool's mdev */
	assert_int_equal(o.diff.n_guests, 1);
	assert_string_equal(o.diff.guests[0].name, UUID_X);
	outcome_done(&o);

	/* and the host pool changed behind its back */
	f->k.apmask = idset_range(0, 255);
	r = engine_queue_add(f->e, "touch", "g", apqn_of(5, 4), &o);
	assert_int_equal(r, -EADDRNOTAVAIL);
	outcome_done(&o);
	finish(f);
}

static void test_running_guests(void **state)
{
	(void) state;
	for (int dynamic = 0; dynamic <= 1; dynamic++) {
		struct fixture *f = setup_kernel(dynamic, false);
		struct fake_mdev *m = fake_add_mdev(&f->k, UUID_X);
		struct outcome o;
		int r;

		m->apm = ids("5");
		m->aqm = ids("4");
		m->running = true;
		start(f, 0);
		r = engine_assign(f->e, "touch", UUID_X, PART_DOMAIN, 0x47, &o);
		if (dynamic) {
			assert_true(o.hotplug);
			expect_ok(r, &o,
				  "touch: done: assign_domain 0x47 to " UUID_X "; " UUID_X
				  " gains 05.0047; guest " UUID_X
				  " is running: the change is hot-plugged into it");
		} else {
			assert_int_equal(r, -EBUSY);
			assert_int_equal(f->k.writes, 0);
			outcome_done(&o);
		}
		r = engine_guest_remove(f->e, "rmdir", UUID_X, &o);
		assert_int_equal(r, -EBUSY);
		outcome_done(&o);
		finish(f);
	}
}

static void test_refresh_and_restore(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	struct model *saved;
	struct fake_mdev *m;
	struct outcome o;
	struct guest g = { .state = GUEST_ACTIVE };
	char u1[UUID_STR_LEN + 1];
	bool found;

	(void) state;
	m = fake_add_mdev(&f->k, UUID_X);
	m->apm = ids("6");
	m->aqm = ids("0xab");
	start(f, 0);
	g = guest_copy(f->e, UUID_X, &found);
	assert_true(found);
	assert_true(g.adopted);

	/* saved state names that mdev "db", and knows a guest whose mdev is gone */
	assert_int_equal(model_new(&saved), 0);
	g = (struct guest){ .state = GUEST_ACTIVE, .adapters = ids("5"), .domains = ids("4") };
	snprintf(g.name, sizeof(g.name), "db");
	snprintf(g.uuid, sizeof(g.uuid), "%s", UUID_X);
	assert_int_equal(model_guest_add(saved, &g), 0);
	snprintf(g.name, sizeof(g.name), "web");
	snprintf(g.uuid, sizeof(g.uuid), "%s", uuid_n(7, u1));
	assert_int_equal(model_guest_add(saved, &g), 0);
	assert_int_equal(model_reserve(saved, apqn_of(5, 4), "web"), 0);
	assert_int_equal(engine_restore(f->e, saved, &o), 0);
	outcome_done(&o);
	model_free(saved);

	g = guest_copy(f->e, "db", &found);
	assert_true(found);
	assert_false(g.adopted);
	/* the kernel's matrix wins over the saved one */
	assert_true(idset_has(&g.adapters, 6));
	g = guest_copy(f->e, "web", &found);
	assert_true(found);
	assert_int_equal(g.state, GUEST_MISSING);
	{
		const struct model *model = engine_read_begin(f->e);

		assert_null(model_guest_by_name(model, UUID_X));
		assert_string_equal(model_reservation(model, apqn_of(6, 0xab)), "db");
		assert_string_equal(model_reservation(model, apqn_of(5, 4)), "web");
		engine_read_end(f->e);
	}

	/* the mdev goes behind our back: db is missing; a stranger's mdev comes and goes */
	f->k.n_mdevs = 0;
	fake_add_mdev(&f->k, uuid_n(9, u1));
	assert_int_equal(engine_refresh(f->e, &o), 0);
	assert_int_equal(o.diff.n_guests, 2);
	assert_string_equal(o.sentence,
			    "rescan: done; guest 00000009-0000-4000-8000-000000000000 appeared; "
			    "guest db changed");
	outcome_done(&o);
	g = guest_copy(f->e, "db", &found);
	assert_int_equal(g.state, GUEST_MISSING);
	f->k.n_mdevs = 0;
	assert_int_equal(engine_refresh(f->e, &o), 0);
	assert_string_equal(o.sentence,
			    "rescan: done; guest 00000009-0000-4000-8000-000000000000 is gone");
	outcome_done(&o);
	/* nothing changed: no log line, an empty diff */
	assert_int_equal(engine_refresh(f->e, &o), 0);
	assert_true(model_diff_empty(&o.diff));
	outcome_done(&o);

	/* a missing guest is removed without a kernel write */
	assert_int_equal(engine_guest_remove(f->e, "rmdir", "db", &o), 0);
	assert_int_equal(o.n_kops, 0);
	outcome_done(&o);
	finish(f);
}

static void test_log_and_store(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	struct outcome o;
	char buf[4096];
	size_t n;

	(void) state;
	start(f, 3);
	f->store_err = -EIO;
	expect_ok(engine_guest_create(f->e, "mkdir a", "a", NULL, &o), &o,
		  "mkdir a: done: create mdev 00000001-0000-4000-8000-000000000000; the state "
		  "could not be saved (EIO)");
	f->store_err = 0;
	assert_int_equal(engine_guest_create(f->e, "mkdir a", "a", NULL, &o), -EEXIST);
	outcome_done(&o);
	assert_int_equal(engine_assign(f->e, "touch", "a", PART_ADAPTER, 5, NULL), 0);
	assert_int_equal(engine_assign(f->e, "touch", "nope", PART_ADAPTER, 5, NULL), -ENOENT);

	n = engine_log_render(f->e, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	/* a ring of 3: the start-up rescan and the first mkdir are gone */
	assert_string_equal(buf,
			    "3 1970-01-02T00:00:00Z mkdir a: refused (EEXIST): guest a exists\n"
			    "4 1970-01-02T00:00:00Z touch: done: assign_adapter 0x5 to "
			    "00000001-0000-4000-8000-000000000000\n"
			    "5 1970-01-02T00:00:00Z touch: refused (ENOENT): there is no guest "
			    "nope\n");
	assert_int_equal(engine_log_render(f->e, buf, 10), n);
	assert_int_equal(strlen(buf), 9);
	finish(f);
}

static void *create_a(void *arg)
{
	struct fixture *f = arg;
	struct outcome o;
	int r = engine_guest_create(f->e, "mkdir a", "a", NULL, &o);

	outcome_done(&o);
	return r == 0 ? NULL : arg;
}

/*
 * The state directory's fsyncs take milliseconds on a disk: a change saves
 * with the read lock only, so readers see the committed model meanwhile.
 */
static void test_readers_go_on_while_the_state_is_saved(void **state)
{
	struct fixture *f = setup_kernel(true, false);
	const struct model *m;
	void *failed;
	pthread_t t;

	(void) state;
	start(f, 0);
	f->hold = true;
	assert_int_equal(pthread_create(&t, NULL, create_a, f), 0);
	pthread_mutex_lock(&f->lock);
	while (!f->in_store)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);

	m = engine_read_begin(f->e);
	assert_non_null(model_guest_by_name(m, "a"));
	engine_read_end(f->e);

	pthread_mutex_lock(&f->lock);
	f->released = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(pthread_join(t, &failed), 0);
	assert_null(failed);
	finish(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_assign_and_reserve),
		cmocka_unit_test(test_undo_at_every_position),
		cmocka_unit_test(test_undo_of_ap_config_and_remove),
		cmocka_unit_test(test_rereads_before_planning),
		cmocka_unit_test(test_running_guests),
		cmocka_unit_test(test_refresh_and_restore),
		cmocka_unit_test(test_log_and_store),
		cmocka_unit_test(test_readers_go_on_while_the_state_is_saved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
