/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/plan.h"
#include "core/rules.h"
#include "fake_kernel.h"

#define UUID_G1	 "00000000-0000-0000-0000-000000000001"
#define UUID_G2	 "00000000-0000-0000-0000-000000000002"
#define UUID_NEW "99999999-0000-0000-0000-000000000000"

/* g1 holds 05 x 0004 with control domain 00ab; g2 is empty; adapters 05, 06 are vfio's. */
static struct model *world(struct fake_kernel *k, bool ap_config)
{
	struct fake_mdev *g1;
	struct model *m;

	fake_seed(k, true, ap_config);
	k->apmask = ids("0-4,7-255");
	g1 = fake_add_mdev(k, UUID_G1);
	g1->apm = ids("5");
	g1->aqm = ids("4");
	g1->adm = ids("0xab");
	fake_add_mdev(k, UUID_G2);
	m = fake_model(k);
	assert_int_equal(model_guest_rename(m, UUID_G1, "g1"), 0);
	assert_int_equal(model_guest_rename(m, UUID_G2, "g2"), 0);
	return m;
}

/* Plans an allowed intent. */
static struct plan plan_for(const struct model *m, const struct intent *in)
{
	struct verdict *v = calloc(1, sizeof(*v));
	struct plan p;

	assert_non_null(v);
	assert_int_equal(rules_check(m, in, UUID_NEW, v), 0);
	assert_int_equal(plan_build(m, in, v, &p), 0);
	free(v);
	return p;
}

static void describe(const struct kop *op, const char *expected)
{
	char buf[512];

	assert_int_equal(kop_describe(op, buf, sizeof(buf)), (int) strlen(expected));
	assert_string_equal(buf, expected);
}

#define QADD(g, a, d)                                                                              \
	(&(struct intent){ .type = INTENT_QUEUE_ADD, .guest = (g), .apqn = apqn_of(a, d) })

static void test_queue_add_separate_writes(void **state)
{
	struct fake_kernel k;
	struct model *m = world(&k, false);
	struct plan p = plan_for(m, QADD("g1", 6, 0x47));

	(void) state;
	assert_int_equal(p.n_steps, 2);
	describe(&p.steps[0].op, "assign_adapter 0x6 to " UUID_G1);
	assert_int_equal(p.steps[0].n_undo, 1);
	describe(&p.steps[0].undo[0], "unassign_adapter 0x6 from " UUID_G1);
	describe(&p.steps[1].op, "assign_domain 0x47 to " UUID_G1);
	describe(&p.steps[1].undo[0], "unassign_domain 0x47 from " UUID_G1);
	plan_done(&p);
	assert_null(p.steps);

	/* only the missing half */
	p = plan_for(m, QADD("g1", 5, 0x47));
	assert_int_equal(p.n_steps, 1);
	describe(&p.steps[0].op, "assign_domain 0x47 to " UUID_G1);
	plan_done(&p);
	model_free(m);
}

static void test_queue_add_ap_config(void **state)
{
	struct fake_kernel k;
	struct model *m = world(&k, true);
	struct plan p = plan_for(m, QADD("g1", 6, 0x47));

	(void) state;
	assert_int_equal(p.n_steps, 1);
	assert_int_equal(p.steps[0].op.type, KOP_AP_CONFIG);
	describe(&p.steps[0].op,
		 "ap_config of " UUID_G1 ": adapters 5-6, domains 4,71, control domains 171");
	assert_int_equal(p.steps[0].n_undo, 1);
	describe(&p.steps[0].undo[0],
		 "ap_config of " UUID_G1 ": adapters 5, domains 4, control domains 171");
	plan_done(&p);

	/* one bit: the plain assign write, even where ap_config exists */
	p = plan_for(m, QADD("g1", 5, 0x47));
	assert_int_equal(p.n_steps, 1);
	assert_int_equal(p.steps[0].op.type, KOP_ASSIGN_DOMAIN);
	plan_done(&p);
	model_free(m);
}

static void test_unassign_and_queue_remove(void **state)
{
	struct fake_kernel k;
	struct model *m = world(&k, true);
	struct plan p;

	(void) state;
	p = plan_for(m, &(struct intent){ .type = INTENT_UNASSIGN,
					  .guest = "g1",
					  .part = PART_CONTROL_DOMAIN,
					  .id = 0xab });
	assert_int_equal(p.n_steps, 1);
	describe(&p.steps[0].op, "unassign_control_domain 0xab from " UUID_G1);
	describe(&p.steps[0].undo[0], "assign_control_domain 0xab to " UUID_G1);
	plan_done(&p);

	p = plan_for(m, &(struct intent){
			    .type = INTENT_QUEUE_REMOVE, .guest = "g1", .apqn = apqn_of(5, 4) });
	assert_int_equal(p.n_steps, 1);
	describe(&p.steps[0].op, "unassign_adapter 0x5 from " UUID_G1);
	plan_done(&p);

	/* nothing to change: no writes */
	p = plan_for(m,
		     &(struct intent){
			 .type = INTENT_UNASSIGN, .guest = "g1", .part = PART_ADAPTER, .id = 6 });
	assert_int_equal(p.n_steps, 0);
	plan_done(&p);
	model_free(m);
}

static void test_guest_create_remove(void **state)
{
	(void) state;
	for (int ap_config = 0; ap_config <= 1; ap_config++) {
		struct fake_kernel k;
		struct model *m = world(&k, ap_config);
		struct guest g;
		struct plan p;

		p = plan_for(m, &(struct intent){ .type = INTENT_GUEST_CREATE, .guest = "web" });
		assert_int_equal(p.n_steps, 1);
		describe(&p.steps[0].op, "create mdev " UUID_NEW);
		describe(&p.steps[0].undo[0], "remove mdev " UUID_NEW);
		plan_done(&p);

		/* removal is undone by re-creating the mdev with its whole matrix */
		p = plan_for(m, &(struct intent){ .type = INTENT_GUEST_REMOVE, .guest = "g1" });
		assert_int_equal(p.n_steps, 1);
		describe(&p.steps[0].op, "remove mdev " UUID_G1);
		describe(&p.steps[0].undo[0], "create mdev " UUID_G1);
		if (ap_config) {
			assert_int_equal(p.steps[0].n_undo, 2);
			describe(&p.steps[0].undo[1],
				 "ap_config of " UUID_G1
				 ": adapters 5, domains 4, control domains 171");
		} else {
			assert_int_equal(p.steps[0].n_undo, 4);
			describe(&p.steps[0].undo[1], "assign_adapter 0x5 to " UUID_G1);
			describe(&p.steps[0].undo[2], "assign_domain 0x4 to " UUID_G1);
			describe(&p.steps[0].undo[3], "assign_control_domain 0xab to " UUID_G1);
		}
		plan_done(&p);

		p = plan_for(m, &(struct intent){ .type = INTENT_GUEST_REMOVE, .guest = "g2" });
		assert_int_equal(p.n_steps, 1);
		assert_int_equal(p.steps[0].n_undo, 1);
		plan_done(&p);

		/* a missing guest has no mdev to remove */
		g = *model_guest_by_name(m, "g2");
		g.state = GUEST_MISSING;
		assert_int_equal(model_guest_update(m, &g), 0);
		p = plan_for(m, &(struct intent){ .type = INTENT_GUEST_REMOVE, .guest = "g2" });
		assert_int_equal(p.n_steps, 0);
		plan_done(&p);

		/* zapfs's own changes need no kernel write */
		p = plan_for(m, &(struct intent){
				    .type = INTENT_GUEST_RENAME, .guest = "g1", .new_name = "db" });
		assert_int_equal(p.n_steps, 0);
		p = plan_for(m, &(struct intent){
				    .type = INTENT_RESERVE, .guest = "g1", .apqn = apqn_of(6, 4) });
		assert_int_equal(p.n_steps, 0);
		model_free(m);
	}
}

static void test_pool_moves_and_masks(void **state)
{
	struct fake_kernel k;
	struct model *m;
	struct plan p;

	(void) state;
	/* host pool 05,06 x 0004: the adapter bit */
	fake_seed(&k, true, true);
	k.aqmask = ids("4");
	m = fake_model(&k);
	p = plan_for(m, &(struct intent){
			    .type = INTENT_POOL_MOVE, .apqn = apqn_of(5, 4), .to = POOL_VFIO });
	assert_int_equal(p.n_steps, 1);
	describe(&p.steps[0].op, "apmask -5");
	describe(&p.steps[0].undo[0], "apmask +5");
	plan_done(&p);
	model_free(m);

	/* back to the host: both bits, apmask first */
	k.apmask = ids("5");
	k.aqmask = ids("4");
	k.adapters = ids("6");
	k.usage_domains = ids("0x47");
	m = fake_model(&k);
	p = plan_for(m, &(struct intent){
			    .type = INTENT_POOL_MOVE, .apqn = apqn_of(6, 0x47), .to = POOL_HOST });
	assert_int_equal(p.n_steps, 2);
	describe(&p.steps[0].op, "apmask +6");
	describe(&p.steps[1].op, "aqmask +71");
	describe(&p.steps[1].undo[0], "aqmask -71");
	plan_done(&p);

	p = plan_for(
	    m, &(struct intent){ .type = INTENT_MASK_EDIT, .mask = MASK_AP, .text = "0-4,7,9-10" });
	assert_int_equal(p.n_steps, 1);
	describe(&p.steps[0].op, "apmask +0-4,+7,+9-10,-5");
	describe(&p.steps[0].undo[0], "apmask +5,-0-4,-7,-9-10");
	plan_done(&p);
	model_free(m);
}

static void test_refused_verdict_has_no_plan(void **state)
{
	struct fake_kernel k;
	struct model *m = world(&k, false);
	struct verdict *v = calloc(1, sizeof(*v));
	struct intent in = { .type = INTENT_GUEST_REMOVE, .guest = "nope" };
	struct plan p;

	(void) state;
	assert_int_equal(rules_check(m, &in, NULL, v), -ENOENT);
	assert_int_equal(plan_build(m, &in, v, &p), -EINVAL);
	free(v);
	model_free(m);
}

static void test_kop_describe(void **state)
{
	struct kop op = { .type = KOP_AP_CONFIG };
	char small[8];

	(void) state;
	snprintf(op.uuid, sizeof(op.uuid), "%s", UUID_G1);
	describe(&op,
		 "ap_config of " UUID_G1 ": adapters none, domains none, control domains none");
	op = (struct kop){ .type = KOP_AQMASK_EDIT, .set = ids("1,3-4"), .clear = ids("0xff") };
	describe(&op, "aqmask +1,+3-4,-255");
	assert_int_equal(kop_describe(&op, small, sizeof(small)), 19);
	assert_string_equal(small, "aqmask ");
	op.type = _KOP_TYPE_MAX;
	assert_int_equal(kop_describe(&op, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_add_separate_writes),
		cmocka_unit_test(test_queue_add_ap_config),
		cmocka_unit_test(test_unassign_and_queue_remove),
		cmocka_unit_test(test_guest_create_remove),
		cmocka_unit_test(test_pool_moves_and_masks),
		cmocka_unit_test(test_refused_verdict_has_no_plan),
		cmocka_unit_test(test_kop_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
