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
#include "core/rules.h"
#include "fake_kernel.h"

#define UUID_G1 "00000000-0000-0000-0000-000000000001"
#define UUID_G2 "00000000-0000-0000-0000-000000000002"
#define UUID_G3 "00000000-0000-0000-0000-000000000003"
#define UUID_G4 "00000000-0000-0000-0000-000000000004"

static void add_mdev(struct fake_kernel *k, const char *uuid, const char *apm, const char *aqm,
		     const char *adm)
{
	struct fake_mdev *m = fake_add_mdev(k, uuid);

	m->apm = ids(apm);
	m->aqm = ids(aqm);
	m->adm = ids(adm);
}

/* Names the fake's mdevs g1, g2, ... by the last digit of their UUID. */
static struct model *named_model(struct fake_kernel *k)
{
	struct model *m = fake_model(k);

	for (size_t i = 0; i < k->n_mdevs; i++) {
		char name[8];

		snprintf(name, sizeof(name), "g%c", k->mdevs[i].uuid[UUID_STR_LEN - 1]);
		assert_int_equal(model_guest_rename(m, k->mdevs[i].uuid, name), 0);
	}
	return m;
}

/*
 * The seed's three guests: both adapters out of the host pool, g1 holds
 * 05,06 x 0004,00ab (control domain 00ab), g2 05 x 0047,00ff, g3 06 x 0047,00ff.
 */
static struct model *seed_world(struct fake_kernel *k, bool dynamic)
{
	fake_seed(k, dynamic, false);
	k->apmask = ids("0-4,7-255");
	add_mdev(k, UUID_G1, "5,6", "4,0xab", "0xab");
	add_mdev(k, UUID_G2, "5", "0x47,0xff", "");
	add_mdev(k, UUID_G3, "6", "0x47,0xff", "");
	return named_model(k);
}

static void expect(const struct model *m, const struct intent *in, int err, enum rule rule,
		   const char *action, const char *sentence)
{
	struct verdict *v = calloc(1, sizeof(*v));
	char buf[1024];

	assert_non_null(v);
	assert_int_equal(rules_check(m, in, NULL, v), -err);
	assert_int_equal(v->err, err);
	if (err) {
		assert_int_equal(v->why.err, err);
		assert_int_equal(v->why.rule, rule);
		explain_render(&v->why, action, buf, sizeof(buf));
		assert_string_equal(buf, sentence);
	}
	free(v);
}

/* Checks an allowed intent and hands back its verdict (free it). */
static struct verdict *allowed(const struct model *m, const struct intent *in)
{
	struct verdict *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	assert_int_equal(rules_check(m, in, NULL, v), 0);
	assert_int_equal(v->err, 0);
	return v;
}

static void expect_noop(const struct model *m, const struct intent *in)
{
	struct verdict *v = allowed(m, in);

	assert_true(v->noop);
	free(v);
}

#define ASSIGN(g, p, i)                                                                            \
	(&(struct intent){ .type = INTENT_ASSIGN, .guest = (g), .part = (p), .id = (i) })
#define UNASSIGN(g, p, i)                                                                          \
	(&(struct intent){ .type = INTENT_UNASSIGN, .guest = (g), .part = (p), .id = (i) })
#define QADD(g, a, d)                                                                              \
	(&(struct intent){ .type = INTENT_QUEUE_ADD, .guest = (g), .apqn = apqn_of(a, d) })
#define QRM(g, a, d)                                                                               \
	(&(struct intent){ .type = INTENT_QUEUE_REMOVE, .guest = (g), .apqn = apqn_of(a, d) })
#define MOVE(a, d, t)                                                                              \
	(&(struct intent){ .type = INTENT_POOL_MOVE, .apqn = apqn_of(a, d), .to = (t) })
#define MASK(w, t) (&(struct intent){ .type = INTENT_MASK_EDIT, .mask = (w), .text = (t) })

static void test_rule1_one_owner(void **state)
{
	(void) state;
	for (int dynamic = 0; dynamic <= 1; dynamic++) {
		struct fake_kernel k;
		struct model *m = seed_world(&k, dynamic);

		expect(m, QADD("g1", 6, 0x47), EADDRINUSE, RULE_ONE_OWNER,
		       "touch guests/g1/queues/06.0047",
		       "touch guests/g1/queues/06.0047: refused (EADDRINUSE): g1 holds adapters 05 "
		       "and 06, so domain 0047 would also give it 05.0047, which guest g2 holds");
		expect(m, QADD("g1", 5, 0x47), EADDRINUSE, RULE_ONE_OWNER, "touch x",
		       "touch x: refused (EADDRINUSE): 05.0047 is held by guest g2");
		expect(
		    m, ASSIGN("g2", PART_ADAPTER, 6), EADDRINUSE, RULE_ONE_OWNER,
		    "touch guests/g2/adapters/06",
		    "touch guests/g2/adapters/06: refused (EADDRINUSE): g2 holds domains 0047 and "
		    "00ff, so adapter 06 would give it 06.0047, 06.00ff, which guest g3 holds");
		expect(m, ASSIGN("g1", PART_DOMAIN, 0xff), EADDRINUSE, RULE_ONE_OWNER, NULL,
		       "refused (EADDRINUSE): g1 holds adapters 05 and 06, so domain 00ff would "
		       "give it 05.00ff, which guest g2 holds");
		model_free(m);
	}
}

static void test_rule6_control_domains_shared(void **state)
{
	(void) state;
	for (int dynamic = 0; dynamic <= 1; dynamic++) {
		struct fake_kernel k;
		struct model *m = seed_world(&k, dynamic);
		struct verdict *v;
		char warn[256];

		/* g1's control domain, and a usage domain of others: both may be shared */
		v = allowed(m, ASSIGN("g2", PART_CONTROL_DOMAIN, 0xab));
		assert_false(v->noop);
		assert_true(idset_has(&v->target.control_domains, 0xab));
		assert_true(apqn_set_empty(&v->gained));
		free(v);
		v = allowed(m, ASSIGN("g3", PART_CONTROL_DOMAIN, 4));
		free(v);
		v = allowed(m, ASSIGN("g1", PART_CONTROL_DOMAIN, 0xab));
		assert_true(v->noop);
		free(v);

		assert_int_equal(rules_warnings(m, warn, sizeof(warn)), 0);
		model_free(m);

		add_mdev(&k, UUID_G4, "", "", "4,5");
		m = named_model(&k);
		rules_warnings(m, warn, sizeof(warn));
		assert_string_equal(warn, "guest g4 has control domains but no usage domain\n");
		model_free(m);
	}
}

static void test_rule2_host_pool(void **state)
{
	(void) state;
	for (int dynamic = 0; dynamic <= 1; dynamic++) {
		struct fake_kernel k;
		struct model *m;

		fake_seed(&k, dynamic, false);
		k.apmask = ids("0-5,7-255");
		add_mdev(&k, UUID_G1, "6", "4", "");
		m = named_model(&k);
		expect(
		    m, ASSIGN("g1", PART_ADAPTER, 5), EADDRNOTAVAIL, RULE_HOST_POOL,
		    "touch guests/g1/adapters/05",
		    "touch guests/g1/adapters/05: refused (EADDRNOTAVAIL): g1 holds domain 0004, "
		    "so adapter 05 would give it 05.0004, which the host pool holds; take 05.0004 "
		    "from the host first (pools/host)");
		expect(
		    m, QADD("g1", 5, 0x47), EADDRNOTAVAIL, RULE_HOST_POOL, "touch q",
		    "touch q: refused (EADDRNOTAVAIL): 05.0047 is in the host pool; take 05.0004, "
		    "05.0047 from the host first (pools/host)");
		model_free(m);
	}
}

static void test_rule3_max_ids(void **state)
{
	struct fake_kernel k;
	struct model *m;

	(void) state;
	fake_seed(&k, true, false);
	k.max_domain = 84;
	add_mdev(&k, UUID_G1, "", "", "");
	m = named_model(&k);
	expect(m, ASSIGN("g1", PART_ADAPTER, 64), ENODEV, RULE_MAX_ID, "touch a",
	       "touch a: refused (ENODEV): adapter 40 is above this host's highest adapter id, 3f");
	expect(
	    m, ASSIGN("g1", PART_ADAPTER, 300), ENODEV, RULE_MAX_ID, "touch a",
	    "touch a: refused (ENODEV): adapter 300 is above this host's highest adapter id, 3f");
	expect(m, UNASSIGN("g1", PART_DOMAIN, 85), ENODEV, RULE_MAX_ID, "rm d",
	       "rm d: refused (ENODEV): domain 0055 is above this host's highest domain id, 0054");
	expect(
	    m, ASSIGN("g1", PART_CONTROL_DOMAIN, 0xff), ENODEV, RULE_MAX_ID, "touch c",
	    "touch c: refused (ENODEV): domain 00ff is above this host's highest domain id, 0054");
	expect(
	    m, QADD("g1", 5, 0xff), ENODEV, RULE_MAX_ID, "touch q",
	    "touch q: refused (ENODEV): domain 00ff is above this host's highest domain id, 0054");
	expect(m, MOVE(0x40, 4, POOL_VFIO), ENODEV, RULE_MAX_ID, "mv q",
	       "mv q: refused (ENODEV): adapter 40 is above this host's highest adapter id, 3f");
	/* the masks are 256 bits whatever the maximum, as in the kernel */
	free(allowed(m, MASK(MASK_AQ, "0-255")));
	model_free(m);
}

static void test_rule4_reservations(void **state)
{
	(void) state;
	for (int dynamic = 0; dynamic <= 1; dynamic++) {
		struct fake_kernel k;
		struct model *m;
		struct verdict *v;

		fake_seed(&k, dynamic, false);
		k.apmask = ids("0-4,7-255");
		add_mdev(&k, UUID_G1, "6", "4,0xab", "");
		add_mdev(&k, UUID_G2, "5", "", "");
		m = named_model(&k);
		assert_int_equal(model_reserve(m, apqn_of(5, 0x47), "old"), 0);
		assert_int_equal(model_reserve(m, apqn_of(5, 0xab), "g2"), 0);

		expect(m, QADD("g2", 5, 0x47), EADDRINUSE, RULE_RESERVATION, "touch q",
		       "touch q: refused (EADDRINUSE): 05.0047 is reserved for guest old; rm "
		       "reservations/05.0047 once guest old's keys in its domain are dealt with");
		expect(
		    m, ASSIGN("g1", PART_ADAPTER, 5), EADDRINUSE, RULE_RESERVATION, "touch a",
		    "touch a: refused (EADDRINUSE): g1 holds domains 0004 and 00ab, so adapter 05 "
		    "would give it 05.00ab, which is reserved for guest g2; rm "
		    "reservations/05.00ab once guest g2's keys in its domain are dealt with");
		/* the owner itself may take its reserved queue */
		v = allowed(m, QADD("g2", 5, 0xab));
		assert_true(apqn_set_has(&v->gained, apqn_of(5, 0xab)));
		free(v);

		/* returning a reserved queue to the host: EBUSY on every kernel */
		expect(m, MOVE(5, 4, POOL_HOST), EBUSY, RULE_RESERVATION, "mv q",
		       "mv q: refused (EBUSY): returning 05.0004 would give the host 05.0047, "
		       "reserved for guest old; rm reservations/05.0047 once guest old's keys are "
		       "dealt with");
		expect(
		    m, MASK(MASK_AP, "+5-6"), EBUSY, RULE_ONE_OWNER, "echo",
		    "echo: refused (EBUSY): this change of pools/host/adapters would give the "
		    "host 06.0004, 06.00ab, which guest g1 holds; remove it from guest g1 first");
		model_free(m);
	}
}

static void test_rule4_reserve_release(void **state)
{
	struct fake_kernel k;
	struct model *m = seed_world(&k, true);
	struct intent reserve = { .type = INTENT_RESERVE, .guest = "g2", .apqn = apqn_of(6, 4) };
	struct intent release = { .type = INTENT_RELEASE, .apqn = apqn_of(6, 4) };

	(void) state;
	expect(m, &reserve, EADDRINUSE, RULE_ONE_OWNER, "ln",
	       "ln: refused (EADDRINUSE): 06.0004 is held by guest g1");
	reserve.guest = "nobody";
	expect(m, &reserve, ENOENT, RULE_NONE, "ln",
	       "ln: refused (ENOENT): there is no guest nobody");
	reserve.guest = "g1";
	free(allowed(m, &reserve));
	expect(m, &release, ENOENT, RULE_NONE, "rm",
	       "rm: refused (ENOENT): 06.0004 has no reservation");
	assert_int_equal(model_reserve(m, apqn_of(6, 4), "g1"), 0);
	expect_noop(m, &reserve);
	expect(
	    m, &release, EBUSY, RULE_RESERVATION, "rm",
	    "rm: refused (EBUSY): guest g1 still holds 06.0004; rm guests/g1/queues/06.0004 first");
	reserve.guest = "g2";
	expect(
	    m, &reserve, EADDRINUSE, RULE_RESERVATION, "ln",
	    "ln: refused (EADDRINUSE): 06.0004 is reserved for guest g1; rm reservations/06.0004 "
	    "once guest g1's keys are dealt with");
	/* a reservation of a removed guest can be released */
	assert_int_equal(model_reserve(m, apqn_of(0, 0), "gone"), 0);
	release.apqn = apqn_of(0, 0);
	free(allowed(m, &release));
	model_free(m);
}

static void test_rule5_running(void **state)
{
	struct fake_kernel k;
	struct model *m;
	struct verdict *v;

	(void) state;
	model_free(seed_world(&k, false));
	k.mdevs[0].running = true;
	m = named_model(&k);
	assert_int_equal(model_guest_by_name(m, "g1")->state, GUEST_RUNNING);
	expect(m, UNASSIGN("g1", PART_DOMAIN, 0xab), EBUSY, RULE_RUNNING, "rm d",
	       "rm d: refused (EBUSY): guest g1 is running, and this kernel (before 6.0) cannot "
	       "change a running guest's matrix; stop the KVM guest first");
	expect(m, ASSIGN("g1", PART_CONTROL_DOMAIN, 4), EBUSY, RULE_RUNNING, "touch c",
	       "touch c: refused (EBUSY): guest g1 is running, and this kernel (before 6.0) cannot "
	       "change a running guest's matrix; stop the KVM guest first");
	/* no change is no change */
	v = allowed(m, ASSIGN("g1", PART_DOMAIN, 4));
	assert_true(v->noop);
	free(v);
	model_free(m);

	k.dynamic = true;
	m = named_model(&k);
	v = allowed(m, UNASSIGN("g1", PART_DOMAIN, 0xab));
	assert_true(v->hotplug);
	assert_string_equal(v->note, "guest g1 is running: the change is hot-unplugged from it");
	assert_false(idset_has(&v->target.domains, 0xab));
	free(v);
	v = allowed(m, ASSIGN("g1", PART_DOMAIN, 0x10));
	assert_true(v->hotplug);
	assert_string_equal(v->note, "g1 gains 05.0010, 06.0010; guest g1 is running: the change "
				     "is hot-plugged into it");
	free(v);
	model_free(m);
}

static void test_rule5_old_kernels_need_bound_queues(void **state)
{
	struct fake_kernel k;
	struct model *m;

	(void) state;
	model_free(seed_world(&k, false));
	add_mdev(&k, UUID_G4, "", "", "");
	m = named_model(&k);
	expect(m, ASSIGN("g1", PART_DOMAIN, 0x10), EADDRNOTAVAIL, RULE_RUNNING, "touch d",
	       "touch d: refused (EADDRNOTAVAIL): g1 holds adapters 05 and 06, so domain 0010 "
	       "would give it 05.0010, 06.0010, not bound to vfio_ap: this kernel (before 6.0) "
	       "assigns only queues bound to vfio_ap");
	expect(m, ASSIGN("g4", PART_ADAPTER, 7), EADDRNOTAVAIL, RULE_RUNNING, "touch a",
	       "touch a: refused (EADDRNOTAVAIL): adapter 07 has no queue bound to vfio_ap: this "
	       "kernel (before 6.0) assigns only queues bound to vfio_ap");
	expect(m, ASSIGN("g4", PART_DOMAIN, 0x10), EADDRNOTAVAIL, RULE_RUNNING, "touch d",
	       "touch d: refused (EADDRNOTAVAIL): domain 0010 has no queue bound to vfio_ap: this "
	       "kernel (before 6.0) assigns only queues bound to vfio_ap");
	expect(m, QADD("g4", 5, 0x10), EADDRNOTAVAIL, RULE_RUNNING, "touch q",
	       "touch q: refused (EADDRNOTAVAIL): 05.0010 is not bound to vfio_ap: this kernel "
	       "(before 6.0) assigns only queues bound to vfio_ap");
	/* an adapter with a bound queue somewhere is fine with no domains */
	free(allowed(m, ASSIGN("g4", PART_ADAPTER, 5)));
	model_free(m);

	/* 6.0+: over-provisioning is allowed */
	k.dynamic = true;
	m = named_model(&k);
	free(allowed(m, ASSIGN("g1", PART_DOMAIN, 0x10)));
	free(allowed(m, ASSIGN("g4", PART_ADAPTER, 7)));
	free(allowed(m, QADD("g4", 5, 0x10)));
	/* 07 is in the host pool: that is rule 2 on any kernel */
	expect(m, QADD("g4", 7, 0x10), EADDRNOTAVAIL, RULE_HOST_POOL, "touch q",
	       "touch q: refused (EADDRNOTAVAIL): 07.0010 is in the host pool; take 07.0010 from "
	       "the host first (pools/host)");
	model_free(m);
}

static void test_guest_intents(void **state)
{
	struct fake_kernel k;
	struct model *m = seed_world(&k, true);
	struct intent create = { .type = INTENT_GUEST_CREATE, .guest = "web" };
	struct intent rm = { .type = INTENT_GUEST_REMOVE, .guest = "g1" };
	struct intent mv = { .type = INTENT_GUEST_RENAME, .guest = "g1", .new_name = "db" };
	struct verdict *v = calloc(1, sizeof(*v));

	(void) state;
	assert_int_equal(rules_check(m, &create, "ABCDEF00-0000-0000-0000-000000000000", v), 0);
	assert_string_equal(v->target.name, "web");
	assert_string_equal(v->target.uuid, "abcdef00-0000-0000-0000-000000000000");
	create.guest = "12345678-1234-1234-1234-123456789abc";
	assert_int_equal(rules_check(m, &create, UUID_G4, v), 0);
	assert_string_equal(v->target.uuid, "12345678-1234-1234-1234-123456789abc");
	create.uuid = UUID_G4;
	expect(m, &create, EINVAL, RULE_NONE, "mkdir",
	       "mkdir: refused (EINVAL): a guest named like a UUID must have that UUID");
	create.guest = "g1";
	create.uuid = NULL;
	assert_int_equal(rules_check(m, &create, UUID_G4, v), -EEXIST);
	assert_string_equal(v->why.reason, "guest g1 exists");
	create.guest = "web";
	assert_int_equal(rules_check(m, &create, UUID_G2, v), -EEXIST);
	assert_string_equal(v->why.reason, "UUID " UUID_G2 " belongs to guest g2");
	create.guest = ".web";
	expect(m, &create, EINVAL, RULE_NONE, "mkdir",
	       "mkdir: refused (EINVAL): '.web' is not a guest name: use 1 to 64 letters, digits, "
	       "'.', '_' or '-', not starting with '.'");
	create.guest = "web";
	expect(m, &create, EINVAL, RULE_NONE, "mkdir", "mkdir: refused (EINVAL): '' is not a UUID");
	k.vfio_ap = false;
	model_free(m);
	m = named_model(&k);
	assert_int_equal(rules_check(m, &create, UUID_G4, v), -ENODEV);

	free(allowed(m, &rm));
	free(allowed(m, &mv));
	mv.new_name = "g2";
	expect(m, &mv, EEXIST, RULE_NONE, "mv", "mv: refused (EEXIST): guest g2 exists");
	mv.new_name = UUID_G2;
	expect(m, &mv, EINVAL, RULE_NONE, "mv",
	       "mv: refused (EINVAL): a guest named like a UUID must have that UUID, and g1's "
	       "is " UUID_G1);
	mv.new_name = UUID_G1;
	free(allowed(m, &mv));
	mv.new_name = "g1";
	expect_noop(m, &mv);
	model_free(m);

	k.mdevs[0].running = true;
	m = named_model(&k);
	expect(m, &rm, EBUSY, RULE_RUNNING, "rmdir guests/g1",
	       "rmdir guests/g1: refused (EBUSY): guest g1 is running; stop the KVM guest first");
	rm.guest = "nope";
	expect(m, &rm, ENOENT, RULE_NONE, "rmdir",
	       "rmdir: refused (ENOENT): there is no guest nope");
	free(v);
	model_free(m);
}

static void test_queue_remove(void **state)
{
	struct fake_kernel k;
	struct model *m = seed_world(&k, true);
	struct verdict *v;

	(void) state;
	expect(m, QRM("g1", 5, 4), EBUSY, RULE_NONE, "rm guests/g1/queues/05.0004",
	       "rm guests/g1/queues/05.0004: refused (EBUSY): removing adapter 05 would also drop "
	       "05.00ab, removing domain 0004 would also drop 06.0004; remove adapters/05 or "
	       "domains/0004 instead");
	expect(m, QRM("g1", 5, 0x47), ENOENT, RULE_NONE, "rm",
	       "rm: refused (ENOENT): guest g1 does not hold 05.0047");

	/* g2 holds 05 x 0047,00ff: its domain goes, adapter 05 stays */
	v = allowed(m, QRM("g2", 5, 0x47));
	assert_true(idset_has(&v->target.adapters, 5));
	assert_false(idset_has(&v->target.domains, 0x47));
	assert_true(idset_has(&v->target.domains, 0xff));
	free(v);
	model_free(m);

	/* a 1 x 1 matrix: the adapter goes */
	k.mdevs[1].aqm = ids("0x47");
	m = named_model(&k);
	v = allowed(m, QRM("g2", 5, 0x47));
	assert_false(idset_has(&v->target.adapters, 5));
	assert_true(idset_has(&v->target.domains, 0x47));
	free(v);
	/* two adapters, one domain: the adapter goes */
	k.mdevs[1].apm = ids("5,7");
	model_free(m);
	m = named_model(&k);
	v = allowed(m, QRM("g2", 7, 0x47));
	assert_false(idset_has(&v->target.adapters, 7));
	assert_true(idset_has(&v->target.adapters, 5));
	free(v);
	model_free(m);
}

static void test_pool_moves(void **state)
{
	struct fake_kernel k;
	struct model *m;
	struct verdict *v;

	(void) state;
	fake_seed(&k, true, false);
	m = named_model(&k);
	expect(
	    m, MOVE(5, 4, POOL_VFIO), EBUSY, RULE_NONE, "mv pools/host/05.0004 pools/vfio/",
	    "mv pools/host/05.0004 pools/vfio/: refused (EBUSY): taking adapter 05 from the host "
	    "would also move 05.0047, 05.00ab, 05.00ff, taking domain 0004 would also move "
	    "06.0004; edit pools/host/adapters or pools/host/domains instead");
	expect(m, MOVE(7, 4, POOL_VFIO), ENOENT, RULE_NONE, "mv",
	       "mv: refused (ENOENT): there is no queue 07.0004 on this host");
	expect_noop(m, MOVE(5, 4, POOL_HOST));
	model_free(m);

	/* host pool 05,06 x 0004: the adapter bit moves only 05.0004 */
	k.aqmask = ids("4");
	m = named_model(&k);
	v = allowed(m, MOVE(5, 4, POOL_VFIO));
	assert_false(idset_has(&v->apmask, 5));
	assert_true(idset_equal(&v->aqmask, &k.aqmask));
	assert_int_equal(apqn_set_count(&v->moved), 1);
	free(v);
	model_free(m);

	/* host pool 05 x 0004,0047: only the domain bit is free of collateral */
	k.apmask = ids("5");
	k.aqmask = ids("4,0x47");
	m = named_model(&k);
	v = allowed(m, MOVE(5, 4, POOL_VFIO));
	assert_true(idset_equal(&v->apmask, &k.apmask));
	assert_false(idset_has(&v->aqmask, 4));
	free(v);
	/* back to the host: 06.0047 needs adapter 06, which would bring 06.0004 along */
	expect(m, MOVE(6, 0x47, POOL_HOST), EBUSY, RULE_NONE, "mv",
	       "mv: refused (EBUSY): giving adapter 06 to the host would also move 06.0004; edit "
	       "pools/host/adapters or pools/host/domains instead");
	expect(m, MOVE(6, 0xab, POOL_HOST), EBUSY, RULE_NONE, "mv",
	       "mv: refused (EBUSY): giving adapter 06 and domain 00ab to the host would also move "
	       "05.00ab, 06.0004, 06.0047; edit pools/host/adapters or pools/host/domains instead");
	/* 05.00ab needs only domain 00ab, and moves nothing else */
	v = allowed(m, MOVE(5, 0xab, POOL_HOST));
	assert_true(idset_has(&v->aqmask, 0xab));
	assert_true(idset_equal(&v->apmask, &k.apmask));
	free(v);
	model_free(m);
}

static void test_mask_edit(void **state)
{
	struct fake_kernel k;
	struct model *m = seed_world(&k, true);
	struct verdict *v;

	(void) state;
	expect(
	    m, MASK(MASK_AP, "+5,x"), EINVAL, RULE_NONE, "echo",
	    "echo: refused (EINVAL): '+5,x' is not a list of adapters; write ids and ranges such "
	    "as 0-4,7-255, or edits such as +5,-0x47");
	expect(m, MASK(MASK_AQ, "256"), ERANGE, RULE_NONE, "echo",
	       "echo: refused (ERANGE): '256' is not a list of domains; write ids and ranges such "
	       "as 0-4,7-255, or edits such as +5,-0x47");
	expect(m, MASK(MASK_AP, "0-255"), EBUSY, RULE_ONE_OWNER, "echo",
	       "echo: refused (EBUSY): this change of pools/host/adapters would give the host "
	       "05.0004, 05.00ab, 06.0004, 06.00ab, which guest g1 holds; remove it from guest g1 "
	       "first");
	expect_noop(m, MASK(MASK_AP, "0-4,7-255"));
	/* taking from the host is never refused; the queues that move are named */
	v = allowed(m, MASK(MASK_AQ, "-4,-0x47"));
	assert_true(apqn_set_empty(&v->moved));
	assert_false(idset_has(&v->aqmask, 0x47));
	free(v);
	model_free(m);

	fake_seed(&k, false, false);
	m = named_model(&k);
	v = allowed(m, MASK(MASK_AP, "-6"));
	assert_int_equal(apqn_set_count(&v->moved), 4);
	assert_true(apqn_set_has(&v->moved, apqn_of(6, 0xff)));
	free(v);
	model_free(m);
}

static void test_missing_guest(void **state)
{
	struct fake_kernel k;
	struct model *m = seed_world(&k, true);
	struct guest g = *model_guest_by_name(m, "g2");

	(void) state;
	g.state = GUEST_MISSING;
	assert_int_equal(model_guest_update(m, &g), 0);
	expect(m, ASSIGN("g2", PART_ADAPTER, 7), ENODEV, RULE_NONE, "touch",
	       "touch: refused (ENODEV): guest g2 is missing: its mdev " UUID_G2
	       " does not exist; remove the guest, or wait until it is re-created");
	free(allowed(m, &(struct intent){ .type = INTENT_GUEST_REMOVE, .guest = "g2" }));
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule1_one_owner),
		cmocka_unit_test(test_rule2_host_pool),
		cmocka_unit_test(test_rule3_max_ids),
		cmocka_unit_test(test_rule4_reservations),
		cmocka_unit_test(test_rule4_reserve_release),
		cmocka_unit_test(test_rule5_running),
		cmocka_unit_test(test_rule5_old_kernels_need_bound_queues),
		cmocka_unit_test(test_rule6_control_domains_shared),
		cmocka_unit_test(test_guest_intents),
		cmocka_unit_test(test_queue_remove),
		cmocka_unit_test(test_pool_moves),
		cmocka_unit_test(test_mask_edit),
		cmocka_unit_test(test_missing_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
