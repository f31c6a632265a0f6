/* SPDX-License-Identifier: MIT */
/* The nodes the kernel holds: counted by lookups, dropped by forgets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "core/tree.h"
#include "fs/lookups.h"

static void test_counts(void **state)
{
	struct lookups l;

	(void) state;
	lookups_init(&l);
	assert_true(lookups_held(&l, TREE_ROOT_ID));
	assert_false(lookups_held(&l, 42));

	assert_int_equal(lookups_add(&l, 42, 1), 0);
	assert_int_equal(lookups_add(&l, 42, 2), 0);
	assert_true(lookups_held(&l, 42));
	/* the kernel forgets in batches: held until the last reference goes */
	lookups_forget(&l, 42, 2);
	assert_true(lookups_held(&l, 42));
	lookups_forget(&l, 42, 1);
	assert_false(lookups_held(&l, 42));

	/* a forget of more than was counted (a reply counted twice) empties it */
	assert_int_equal(lookups_add(&l, UINT64_C(3) << 48 | 7, 1), 0);
	lookups_forget(&l, UINT64_C(3) << 48 | 7, 5);
	assert_false(lookups_held(&l, UINT64_C(3) << 48 | 7));
	/* a forget of an unknown node changes nothing */
	lookups_forget(&l, 99, 1);
	assert_false(lookups_held(&l, 99));
	/* the root is never forgotten */
	lookups_forget(&l, TREE_ROOT_ID, 1);
	assert_true(lookups_held(&l, TREE_ROOT_ID));
	lookups_done(&l);
}

struct worker {
	struct lookups *l;
	uint64_t first;
};

static void *add_and_forget(void *arg)
{
	struct worker *w = arg;

	for (uint64_t i = 0; i < 5000; i++) {
		if (lookups_add(w->l, w->first + i % 50, 1) < 0)
			return arg;
		if ((i / 50) % 2)
			lookups_forget(w->l, w->first + i % 50, 1);
	}
	return NULL;
}

/* Request threads count and forget at once; the counts stay exact. */
static void test_threads(void **state)
{
	struct lookups l;
	struct worker w[4];
	pthread_t t[4];
	void *failed;

	(void) state;
	lookups_init(&l);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ &l, 1000 * (i % 2) + 100 };
		assert_int_equal(pthread_create(&t[i], NULL, add_and_forget, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	/* each id got 2 x 100 adds and 2 x 50 forgets */
	for (uint64_t id = 100; id < 150; id++) {
		lookups_forget(&l, id, 99);
		assert_true(lookups_held(&l, id));
		lookups_forget(&l, id, 1);
		assert_false(lookups_held(&l, id));
	}
	assert_false(lookups_held(&l, 150));
	assert_true(lookups_held(&l, 1100));
	lookups_done(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
