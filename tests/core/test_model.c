/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/model.h"
#include "fake_kernel.h"

#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define UUID_C "0b0b0b0b-0000-0000-0000-000000000001"

static struct guest make_guest(const char *name, const char *uuid, const char *adapters,
			       const char *domains)
{
	struct guest g = { .state = GUEST_ACTIVE };

	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.uuid, sizeof(g.uuid), "%s", uuid);
	g.adapters = ids(adapters);
	g.domains = ids(domains);
	return g;
}

static void test_names(void **state)
{
	char long_name[80];

	(void) state;
	assert_true(guest_name_valid("web1"));
	assert_true(guest_name_valid("a.b_c-D9"));
	assert_true(guest_name_valid("x."));
	assert_false(guest_name_valid(""));
	assert_false(guest_name_valid(".hidden"));
	assert_false(guest_name_valid("a/b"));
	assert_false(guest_name_valid("a b"));
	assert_false(guest_name_valid("ä"));
	assert_false(guest_name_valid(NULL));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_true(guest_name_valid(long_name));
	long_name[64] = 'a';
	long_name[65] = '\0';
	assert_false(guest_name_valid(long_name));

	assert_true(uuid_valid(UUID_A));
	assert_true(uuid_valid("AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee"));
	assert_false(uuid_valid("11111111-2222-3333-4444-55555555555"));
	assert_false(uuid_valid("11111111-2222-3333-4444-5555555555555"));
	assert_false(uuid_valid("11111111x2222-3333-4444-555555555555"));
	assert_false(uuid_valid("g1111111-2222-3333-4444-555555555555"));
}

static void test_guests(void **state)
{
	struct model *m = NULL;
	struct guest a = make_guest("web", UUID_A, "5", "4");
	struct guest b = make_guest("db", "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", "6", "4");
	struct guest c = make_guest("app", UUID_C, "", "");
	const char *order[3];
	size_t n = 0;

	(void) state;
	assert_int_equal(model_new(&m), 0);
	assert_null(model_guest_first(m));
	assert_int_equal(model_guest_add(m, &a), 0);
	assert_int_equal(model_guest_add(m, &b), 0);
	assert_int_equal(model_guest_add(m, &c), 0);
	assert_int_equal(model_guest_count(m), 3);

	/* name and UUID collisions, bad names */
	assert_int_equal(model_guest_add(m, &a), -EEXIST);
	struct guest dup_uuid = make_guest("other", UUID_A, "", "");
	assert_int_equal(model_guest_add(m, &dup_uuid), -EEXIST);
	struct guest bad = make_guest(".x", UUID_B, "", "");
	assert_int_equal(model_guest_add(m, &bad), -EINVAL);

	/* UUIDs are kept lowercase and found in any case */
	assert_string_equal(model_guest_by_name(m, "db")->uuid, UUID_B);
	assert_ptr_equal(model_guest_by_uuid(m, "AAAAAAAA-bbbb-cccc-dddd-EEEEEEEEEEEE"),
			 model_guest_by_name(m, "db"));
	assert_null(model_guest_by_name(m, "nope"));
	assert_null(model_guest_by_uuid(m, UUID_C "0"));

	GUEST_FOREACH (g, m) {
		order[n++] = g->name;
	}
	assert_int_equal(n, 3);
	assert_string_equal(order[0], "app");
	assert_string_equal(order[1], "db");
	assert_string_equal(order[2], "web");

	/* update changes the matrix and may change the UUID */
	a.domains = ids("4,0x47");
	assert_int_equal(model_guest_update(m, &a), 0);
	assert_true(idset_has(&model_guest_by_name(m, "web")->domains, 0x47));
	a.uuid[0] = '9';
	assert_int_equal(model_guest_update(m, &a), 0);
	assert_null(model_guest_by_uuid(m, UUID_A));
	assert_string_equal(model_guest_by_uuid(m, a.uuid)->name, "web");
	struct guest steal = make_guest("web", UUID_B, "", "");
	assert_int_equal(model_guest_update(m, &steal), -EEXIST);
	struct guest ghost = make_guest("ghost", UUID_A, "", "");
	assert_int_equal(model_guest_update(m, &ghost), -ENOENT);

	assert_int_equal(model_guest_remove(m, "db"), 0);
	assert_int_equal(model_guest_remove(m, "db"), -ENOENT);
	assert_null(model_guest_by_uuid(m, UUID_B));
	assert_int_equal(model_guest_count(m), 2);
	model_free(m);
}

static void test_reservations_follow_rename(void **state)
{
	struct model *m = NULL;
	struct guest a = make_guest("web", UUID_A, "5", "4");
	struct guest b = make_guest("db", UUID_B, "6", "4");
	struct apqn_set s;

	(void) state;
	assert_int_equal(model_new(&m), 0);
	assert_int_equal(model_guest_add(m, &a), 0);
	assert_int_equal(model_guest_add(m, &b), 0);
	assert_int_equal(model_reserve(m, apqn_of(5, 4), "web"), 0);
	assert_int_equal(model_reserve(m, apqn_of(5, 0x47), "web"), 0);
	assert_int_equal(model_reserve(m, apqn_of(6, 4), "db"), 0);
	assert_int_equal(model_reserve(m, apqn_of(6, 4), ".bad"), -EINVAL);
	assert_string_equal(model_reservation(m, apqn_of(5, 4)), "web");
	assert_null(model_reservation(m, apqn_of(6, 0x47)));
	assert_int_equal(apqn_set_count(model_reserved(m)), 3);

	assert_int_equal(model_guest_rename(m, "web", "db"), -EEXIST);
	assert_int_equal(model_guest_rename(m, "web", "-/x"), -EINVAL);
	assert_int_equal(model_guest_rename(m, "nope", "x"), -ENOENT);
	assert_int_equal(model_guest_rename(m, "web", "web"), 0);
	assert_int_equal(model_guest_rename(m, "web", "zeta"), 0);
	assert_null(model_guest_by_name(m, "web"));
	assert_string_equal(model_guest_by_uuid(m, UUID_A)->name, "zeta");
	assert_string_equal(model_reservation(m, apqn_of(5, 4)), "zeta");
	assert_string_equal(model_reservation(m, apqn_of(5, 0x47)), "zeta");
	assert_string_equal(model_reservation(m, apqn_of(6, 4)), "db");
	/* still in name order after the rename */
	assert_string_equal(model_guest_first(m)->name, "db");

	model_reservations_of(m, "zeta", &s);
	assert_int_equal(apqn_set_count(&s), 2);
	assert_true(apqn_set_has(&s, apqn_of(5, 0x47)));

	/* removal keeps the reservation; only release drops it */
	assert_int_equal(model_guest_remove(m, "zeta"), 0);
	assert_string_equal(model_reservation(m, apqn_of(5, 4)), "zeta");
	assert_int_equal(model_release(m, apqn_of(5, 4)), 0);
	assert_int_equal(model_release(m, apqn_of(5, 4)), -ENOENT);
	assert_null(model_reservation(m, apqn_of(5, 4)));
	assert_int_equal(apqn_set_count(model_reserved(m)), 2);

	/* reserving again moves the claim */
	assert_int_equal(model_reserve(m, apqn_of(6, 4), "other"), 0);
	assert_string_equal(model_reservation(m, apqn_of(6, 4)), "other");
	assert_int_equal(apqn_set_count(model_reserved(m)), 2);
	model_free(m);
}

static void test_pools_and_owners(void **state)
{
	struct fake_kernel k;
	struct model *m;
	struct apqn_set s;
	struct guest g = make_guest("g1", UUID_A, "6", "4,0x47");

	(void) state;
	fake_seed(&k, true, false);
	k.apmask = ids("0-5,7-255");
	m = fake_model(&k);
	assert_int_equal(model_guest_add(m, &g), 0);

	assert_int_equal(model_apqn_pool(m, apqn_of(5, 4)), POOL_HOST);
	assert_int_equal(model_apqn_pool(m, apqn_of(6, 4)), POOL_VFIO);
	/* the pool of an APQN follows the masks, queue or not */
	assert_int_equal(model_apqn_pool(m, apqn_of(7, 1)), POOL_HOST);

	model_pool_queues(m, POOL_HOST, &s);
	assert_int_equal(apqn_set_count(&s), 4);
	assert_true(apqn_set_has(&s, apqn_of(5, 0xff)));
	model_pool_queues(m, POOL_VFIO, &s);
	assert_int_equal(apqn_set_count(&s), 4);
	assert_true(apqn_set_has(&s, apqn_of(6, 0xab)));

	assert_string_equal(model_apqn_owner(m, apqn_of(6, 0x47))->name, "g1");
	assert_null(model_apqn_owner(m, apqn_of(6, 0xab)));
	assert_null(model_apqn_owner(m, apqn_of(5, 4)));
	guest_matrix_apqns(model_guest_by_name(m, "g1"), &s);
	assert_int_equal(apqn_set_count(&s), 2);
	model_free(m);
}

static void test_clone_and_diff(void **state)
{
	struct fake_kernel k;
	struct model *a, *b = NULL;
	struct model_diff d;
	struct guest g1 = make_guest("g1", UUID_A, "6", "4");
	struct guest g2 = make_guest("g2", UUID_B, "6", "0x47");
	struct host h;

	(void) state;
	fake_seed(&k, true, false);
	k.apmask = ids("0-5,7-255");
	a = fake_model(&k);
	assert_int_equal(model_guest_add(a, &g1), 0);
	assert_int_equal(model_guest_add(a, &g2), 0);
	assert_int_equal(model_reserve(a, apqn_of(6, 4), "g1"), 0);

	assert_int_equal(model_clone(a, &b), 0);
	assert_int_equal(model_diff(a, b, &d), 0);
	assert_true(model_diff_empty(&d));
	model_diff_done(&d);
	assert_string_equal(model_reservation(b, apqn_of(6, 4)), "g1");

	/* g1 gains a domain, g2 goes, g3 appears, a reservation moves, the host pool shrinks */
	g1.domains = ids("4,0xab");
	assert_int_equal(model_guest_update(b, &g1), 0);
	assert_int_equal(model_guest_rename(b, "g2", "g3"), 0);
	assert_int_equal(model_reserve(b, apqn_of(5, 0xff), "g3"), 0);
	h = *model_host(b);
	idset_del(&h.aqmask, 0xff);
	model_set_host(b, &h);

	assert_int_equal(model_diff(a, b, &d), 0);
	assert_false(model_diff_empty(&d));
	assert_true(d.host_changed);
	assert_true(idset_empty(&d.cards));
	assert_int_equal(d.n_guests, 3);
	assert_string_equal(d.guests[0].name, "g1");
	assert_int_equal(d.guests[0].kind, GUEST_CHANGED);
	assert_string_equal(d.guests[1].name, "g2");
	assert_int_equal(d.guests[1].kind, GUEST_VANISHED);
	assert_string_equal(d.guests[2].name, "g3");
	assert_int_equal(d.guests[2].kind, GUEST_APPEARED);
	/* 06.00ab joins g1; 06.0047 changes owner name; 05.00ff changes pool and reservation */
	assert_true(apqn_set_has(&d.apqns, apqn_of(6, 0xab)));
	assert_true(apqn_set_has(&d.apqns, apqn_of(6, 0x47)));
	assert_true(apqn_set_has(&d.apqns, apqn_of(5, 0xff)));
	assert_false(apqn_set_has(&d.apqns, apqn_of(6, 4)));
	assert_false(apqn_set_has(&d.apqns, apqn_of(5, 4)));
	/* the whole cross product of the dropped aqmask bit changes pool */
	assert_true(apqn_set_has(&d.apqns, apqn_of(0, 0xff)));
	assert_int_equal(apqn_set_count(&d.apqns), 2 + 255);
	model_diff_done(&d);
	assert_null(d.guests);

	/* status shows why a guest is missing: a new reason alone is a change */
	model_free(a);
	assert_int_equal(model_clone(b, &a), 0);
	g1 = *model_guest_by_name(b, "g1");
	g1.state = GUEST_MISSING;
	snprintf(g1.missing_reason, sizeof(g1.missing_reason), "its mdev is gone");
	assert_int_equal(model_guest_update(a, &g1), 0);
	snprintf(g1.missing_reason, sizeof(g1.missing_reason), "it could not be re-created");
	assert_int_equal(model_guest_update(b, &g1), 0);
	assert_int_equal(model_diff(a, b, &d), 0);
	assert_int_equal(d.n_guests, 1);
	assert_int_equal(d.guests[0].kind, GUEST_CHANGED);
	model_diff_done(&d);

	model_free(a);
	model_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_guests),
		cmocka_unit_test(test_reservations_follow_rename),
		cmocka_unit_test(test_pools_and_owners),
		cmocka_unit_test(test_clone_and_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
