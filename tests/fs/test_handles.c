/* SPDX-License-Identifier: MIT */
/* The handle table: objects live until both the kernel and every reader let go. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "fs/handles.h"

static int freed;

static void count_free(void *obj)
{
	freed++;
	free(obj);
}

static void test_release_frees(void **state)
{
	struct handle_table t;
	uint64_t h;

	freed = 0;
	handle_table_init(&t);
	h = handle_add(&t, malloc(8), count_free);
	assert_int_not_equal(h, 0);
	assert_non_null(handle_get(&t, h));
	handle_put(&t, h);
	assert_int_equal(freed, 0);
	handle_release(&t, h);
	assert_int_equal(freed, 1);
	assert_null(handle_get(&t, h));
	handle_table_done(&t);
}

/* A reader still answering keeps the object alive past the release. */
static void test_release_during_read(void **state)
{
	struct handle_table t;
	uint64_t h;
	void *obj;

	freed = 0;
	handle_table_init(&t);
	h = handle_add(&t, malloc(8), count_free);
	obj = handle_get(&t, h);
	assert_non_null(obj);
	handle_release(&t, h);
	assert_int_equal(freed, 0);
	assert_null(handle_get(&t, h));
	handle_put(&t, h);
	assert_int_equal(freed, 1);
	handle_table_done(&t);
}

/* A slot reused by a new open does not answer to the old handle. */
static void test_stale_handle(void **state)
{
	struct handle_table t;
	uint64_t old, new;

	freed = 0;
	handle_table_init(&t);
	old = handle_add(&t, malloc(8), count_free);
	handle_release(&t, old);
	new = handle_add(&t, malloc(8), count_free);
	assert_int_not_equal(old, new);
	assert_int_equal((uint32_t) old, (uint32_t) new);
	assert_null(handle_get(&t, old));
	handle_put(&t, old);	 /* a stale put changes nothing */
	handle_release(&t, old); /* nor does a stale release */
	assert_int_equal(freed, 1);
	assert_non_null(handle_get(&t, new));
	handle_put(&t, new);
	assert_null(handle_get(&t, 0));
	assert_null(handle_get(&t, UINT64_C(0xffffffff00000001)));
	handle_table_done(&t); /* frees what is still open */
	assert_int_equal(freed, 2);
}

static void test_many(void **state)
{
	enum { N = 1000 };
	struct handle_table t;
	uint64_t h[N];

	freed = 0;
	handle_table_init(&t);
	for (int i = 0; i < N; i++) {
		h[i] = handle_add(&t, malloc(8), count_free);
		assert_int_not_equal(h[i], 0);
	}
	for (int i = 0; i < N; i += 2)
		handle_release(&t, h[i]);
	assert_int_equal(freed, N / 2);
	for (int i = 1; i < N; i += 2)
		assert_non_null(handle_get(&t, h[i]));
	handle_table_done(&t);
	assert_int_equal(freed, N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_frees),
		cmocka_unit_test(test_release_during_read),
		cmocka_unit_test(test_stale_handle),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
