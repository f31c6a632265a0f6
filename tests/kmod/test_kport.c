/* SPDX-License-Identifier: MIT */
/*
 * The kernel port over the simulator: exact host snapshots, every kernel
 * operation applied and read back, the kernel's errnos passed through, and
 * the capabilities detected on each kernel generation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmod/aplock.h"
#include "kmod/kport.h"
#include "tests/kmod/test_ids.h"
#include "tests/kmod/sim_hosts.h"
#include "tests/kmod/sim_mirror.h"
#include "tests/kmod/snapshot.h"

#define U1 "8b0f0b8c-4d63-4a7f-9d3a-0a3a5a0b1c01"
#define U2 "8b0f0b8c-4d63-4a7f-9d3a-0a3a5a0b1c02"

struct fixture {
	struct sim *sim;
	struct sysfs *fs;
	struct kernel_port port;
	bool has_ap_config; /* 6.10+ */
	struct host host;
};

static struct fixture *fixture_new(const struct sim_config *cfg)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sim_new(cfg, &f->sim), 0);
	assert_int_equal(sysfs_open_sim(f->sim, &f->fs), 0);
	assert_int_equal(kport_new(f->fs, &f->port), 0);
	f->has_ap_config =
	    cfg->kernel_major > 6 || (cfg->kernel_major == 6 && cfg->kernel_minor >= 10);
	return f;
}

static int setup_seed(void **state, unsigned major, unsigned minor)
{
	struct sim_config cfg;

	sim_host_seed(major, minor, &cfg);
	*state = fixture_new(&cfg);
	return 0;
}

static int setup_610(void **state)
{
	return setup_seed(state, 6, 10);
}

static int setup_61(void **state)
{
	return setup_seed(state, 6, 1);
}

static int setup_515(void **state)
{
	return setup_seed(state, 5, 15);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sysfs_free(f->fs);
	sim_free(f->sim);
	free(f);
	return 0;
}

/* ---- helpers ---- */

#define assert_idset(actual, expected)                                                             \
	do {                                                                                       \
		struct idset _e = (expected);                                                      \
		assert_true(idset_equal(&(actual), &_e));                                          \
	} while (0)

static struct apqn_set cross(struct idset a, struct idset d)
{
	struct apqn_set s;

	apqn_set_clear(&s);
	apqn_set_add_cross(&s, &a, &d);
	return s;
}

static void assert_apqns(const struct apqn_set *actual, const struct apqn_set *expected)
{
	assert_memory_equal(actual, expected, sizeof(*actual));
}

static int op_id(struct fixture *f, enum kop_type type, const char *uuid, unsigned id)
{
	struct kop op = { .type = type, .id = id };

	snprintf(op.uuid, sizeof(op.uuid), "%s", uuid);
	return f->port.ops->apply(f->port.ctx, &op);
}

static int op_mask(struct fixture *f, enum kop_type type, struct idset set, struct idset clear)
{
	struct kop op = { .type = type, .set = set, .clear = clear };

	return f->port.ops->apply(f->port.ctx, &op);
}

static int op_ap_config(struct fixture *f, const char *uuid, struct idset apm, struct idset aqm,
			struct idset adm)
{
	struct kop op = { .type = KOP_AP_CONFIG, .apm = apm, .aqm = aqm, .adm = adm };

	snprintf(op.uuid, sizeof(op.uuid), "%s", uuid);
	return f->port.ops->apply(f->port.ctx, &op);
}

/* The matrix in one ap_config write where the kernel has it, else in steps. */
static void set_matrix(struct fixture *f, const char *uuid, struct idset apm, struct idset aqm)
{
	if (f->has_ap_config) {
		assert_int_equal(op_ap_config(f, uuid, apm, aqm, IDSET_EMPTY), 0);
		return;
	}
	IDSET_FOREACH (dom, &aqm) {
		assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, uuid, (unsigned) dom), 0);
	}
	IDSET_FOREACH (ap, &apm) {
		assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, uuid, (unsigned) ap), 0);
	}
}

static void read_host(struct fixture *f)
{
	assert_int_equal(f->port.ops->read_host(f->port.ctx, &f->host), 0);
}

static struct mdev_info read_mdev(struct fixture *f, const char *uuid)
{
	struct mdev_info m;

	assert_int_equal(f->port.ops->read_mdev(f->port.ctx, uuid, &m), 0);
	return m;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- host snapshots ---- */

static void test_host_seed(void **state)
{
	struct fixture *f = *state;
	const struct host *h = &f->host;
	struct idset seed_domains = IDS(0x04, 0x47, 0xab, 0xff);
	struct apqn_set all = cross(IDS(5, 6), seed_domains), none;

	read_host(f);
	assert_int_equal(h->max_adapter, 63);
	assert_int_equal(h->max_domain, 255);
	assert_idset(h->adapters, IDS(5, 6));
	assert_idset(h->usage_domains, seed_domains);
	assert_idset(h->control_domains, seed_domains);
	assert_idset(h->apmask, idset_range(0, 255));
	assert_idset(h->aqmask, idset_range(0, 255));

	assert_int_equal(h->cards[5].hwtype, 11);
	assert_int_equal(h->cards[5].raw_hwtype, 11);
	assert_int_equal(h->cards[5].depth, 7);
	assert_int_equal(h->cards[5].functions, 0xF2000000u);
	assert_int_equal(h->cards[5].mode, CARD_MODE_CCA);
	assert_string_equal(h->cards[5].type, "CEX5C");
	assert_true(h->cards[5].config);
	assert_true(h->cards[5].online);
	assert_false(h->cards[5].chkstop);
	assert_int_equal(h->cards[6].functions, 0xEA000000u);
	assert_int_equal(h->cards[6].mode, CARD_MODE_ACCEL);
	assert_string_equal(h->cards[6].type, "CEX5A");

	apqn_set_clear(&none);
	assert_apqns(&h->queues, &all);
	assert_apqns(&h->default_bound, &all);
	assert_apqns(&h->online, &all);
	assert_apqns(&h->vfio_bound, &none);
	assert_apqns(&h->in_use, &none);
}

static void test_host_bindings_follow_masks(void **state)
{
	struct fixture *f = *state;
	const struct host *h = &f->host;
	struct idset seed_domains = IDS(0x04, 0x47, 0xab, 0xff);
	struct apqn_set vfio, host;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, IDS(0xff)), 0);
	read_host(f);

	struct idset apmask = idset_range(0, 255), aqmask = idset_range(0, 255);
	idset_del(&apmask, 5);
	idset_del(&aqmask, 0xff);
	assert_idset(h->apmask, apmask);
	assert_idset(h->aqmask, aqmask);

	/* vfio_ap gets every queue outside apmask x aqmask. */
	host = cross(IDS(6), IDS(0x04, 0x47, 0xab));
	vfio = cross(IDS(5), seed_domains);
	apqn_set_add(&vfio, (struct apqn){ 6, 0xff });
	assert_apqns(&h->default_bound, &host);
	assert_apqns(&h->online, &host);
	assert_apqns(&h->vfio_bound, &vfio);

	/* And back. */
	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDS(5), IDSET_EMPTY), 0);
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDS(0xff), IDSET_EMPTY), 0);
	read_host(f);
	assert_idset(h->apmask, idset_range(0, 255));
	assert_int_equal(apqn_set_count(&h->default_bound), 8);
	assert_true(apqn_set_empty(&h->vfio_bound));
}

static void test_host_card_states(void **state)
{
	struct fixture *f = *state;
	const struct host *h = &f->host;

	assert_int_equal(sim_card_checkstop(f->sim, 6, true), 0);
	read_host(f);
	assert_true(h->cards[6].chkstop);
	assert_false(h->cards[6].online);
	assert_false(apqn_set_has(&h->online, (struct apqn){ 6, 4 }));
	assert_true(apqn_set_has(&h->online, (struct apqn){ 5, 4 }));

	assert_int_equal(sim_adapter_remove(f->sim, 6), 0);
	read_host(f);
	assert_idset(h->adapters, IDS(5));
	assert_int_equal(apqn_set_count(&h->queues), 4);
	assert_int_equal(apqn_set_count(&h->default_bound), 4);
}

/* ---- capabilities ---- */

struct caps_case {
	unsigned major, minor;
	struct kernel_caps before_mdev, with_mdev;
};

static void check_caps(const struct caps_case *c)
{
	struct sim_config cfg;
	struct fixture *f;

	sim_host_seed(c->major, c->minor, &cfg);
	f = fixture_new(&cfg);

	read_host(f);
	assert_int_equal(f->host.caps.vfio_ap, c->before_mdev.vfio_ap);
	assert_int_equal(f->host.caps.dynamic, c->before_mdev.dynamic);
	assert_int_equal(f->host.caps.queue_status, c->before_mdev.queue_status);
	assert_int_equal(f->host.caps.ap_config, c->before_mdev.ap_config);

	/* A vfio_ap queue and an mdev make every answer first-hand. */
	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	read_host(f);
	assert_int_equal(f->host.caps.vfio_ap, c->with_mdev.vfio_ap);
	assert_int_equal(f->host.caps.dynamic, c->with_mdev.dynamic);
	assert_int_equal(f->host.caps.queue_status, c->with_mdev.queue_status);
	assert_int_equal(f->host.caps.ap_config, c->with_mdev.ap_config);

	teardown((void **) &f);
}

static void test_caps_per_generation(void **state)
{
	static const struct caps_case cases[] = {
		{ 5, 15, { .vfio_ap = true }, { .vfio_ap = true } },
		{ 6,
		  1,
		  { .vfio_ap = true, .dynamic = true, .queue_status = true },
		  { .vfio_ap = true, .dynamic = true, .queue_status = true } },
		/* ap_config shows only in an mdev. */
		{ 6,
		  10,
		  { .vfio_ap = true, .dynamic = true, .queue_status = true },
		  { .vfio_ap = true, .dynamic = true, .queue_status = true, .ap_config = true } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_caps(&cases[i]);
}

static void test_caps_without_vfio_ap(void **state)
{
	struct sim_config cfg;
	struct fixture *f;
	struct mdev_info *mdevs = NULL;
	size_t n = 1;

	sim_host_seed(6, 10, &cfg);
	cfg.vfio_ap_loaded = false;
	f = fixture_new(&cfg);
	read_host(f);
	assert_false(f->host.caps.vfio_ap);
	assert_true(f->host.caps.dynamic);
	assert_int_equal(f->port.ops->read_mdevs(f->port.ctx, &mdevs, &n), 0);
	assert_int_equal(n, 0);
	free(mdevs);
	teardown((void **) &f);
}

/* ---- operations ---- */

static void test_mdev_operations(void **state)
{
	struct fixture *f = *state;
	struct mdev_info *mdevs = NULL, m;
	size_t n = 0;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U2, 0), 0);
	/* Any case in, lowercase out. */
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, "8B0F0B8C-4D63-4A7F-9D3A-0A3A5A0B1C01", 0), 0);
	assert_int_equal(f->port.ops->read_mdevs(f->port.ctx, &mdevs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(mdevs[0].uuid, U1);
	assert_string_equal(mdevs[1].uuid, U2);
	assert_true(idset_empty(&mdevs[0].adapters));
	assert_false(mdevs[0].running);
	free(mdevs);

	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x04), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x47), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_CONTROL_DOMAIN, U1, 0xab), 0);
	m = read_mdev(f, U1);
	assert_string_equal(m.uuid, U1);
	assert_idset(m.adapters, IDS(5));
	assert_idset(m.domains, IDS(0x04, 0x47));
	assert_idset(m.control_domains, IDS(0xab));
	assert_idset(m.guest_adapters, IDS(5));
	assert_idset(m.guest_domains, IDS(0x04, 0x47));
	assert_false(m.running);

	assert_int_equal(op_id(f, KOP_UNASSIGN_DOMAIN, U1, 0x47), 0);
	assert_int_equal(op_id(f, KOP_UNASSIGN_CONTROL_DOMAIN, U1, 0xab), 0);
	m = read_mdev(f, U1);
	assert_idset(m.domains, IDS(0x04));
	assert_true(idset_empty(&m.control_domains));

	assert_int_equal(op_ap_config(f, U1, IDS(5), IDS(0x04, 0xab), IDS(0xff)), 0);
	m = read_mdev(f, U1);
	assert_idset(m.adapters, IDS(5));
	assert_idset(m.domains, IDS(0x04, 0xab));
	assert_idset(m.control_domains, IDS(0xff));

	assert_int_equal(op_id(f, KOP_UNASSIGN_ADAPTER, U1, 5), 0);
	m = read_mdev(f, U1);
	assert_true(idset_empty(&m.adapters));
	assert_idset(m.domains, IDS(0x04, 0xab));

	assert_int_equal(op_id(f, KOP_MDEV_REMOVE, U1, 0), 0);
	assert_int_equal(f->port.ops->read_mdev(f->port.ctx, U1, &m), -ENOENT);
	assert_int_equal(f->port.ops->read_mdevs(f->port.ctx, &mdevs, &n), 0);
	assert_int_equal(n, 1);
	free(mdevs);
}

/* Before 6.0 there is no guest_matrix: the guest gets the assigned matrix. */
static void test_mdev_old_kernel(void **state)
{
	struct fixture *f = *state;
	struct mdev_info m;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x47), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_CONTROL_DOMAIN, U1, 0x04), 0);
	m = read_mdev(f, U1);
	assert_idset(m.adapters, IDS(5));
	assert_idset(m.domains, IDS(0x47));
	assert_idset(m.control_domains, IDS(0x04));
	assert_idset(m.guest_adapters, IDS(5));
	assert_idset(m.guest_domains, IDS(0x47));

	/* Old kernels want bound queues: 06.0047 belongs to cex4queue. */
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 6), -EADDRNOTAVAIL);
	/* No ap_config before 6.10. */
	assert_int_equal(op_ap_config(f, U1, IDS(5), IDS(0x47), IDSET_EMPTY), -ENOENT);
}

static void test_kernel_errnos(void **state)
{
	struct fixture *f = *state;
	struct mdev_info m;
	char buf[128];

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), -EEXIST);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U2, 0), 0);

	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 64), -ENODEV);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 256), -ENODEV);
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 4), 0);
	/* 06.0004 is the host's. */
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 6), -EADDRNOTAVAIL);
	/* 05.0004 is U1's. */
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U2, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U2, 4), -EADDRINUSE);
	if (f->has_ap_config)
		assert_int_equal(op_ap_config(f, U2, IDS(5), IDS(4), IDSET_EMPTY), -EADDRINUSE);
	/* The host may not take back what an mdev holds (6.0+). */
	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDS(5), IDSET_EMPTY), -EBUSY);

	/* An injected store() failure comes back as such, and changes nothing. */
	assert_int_equal(
	    sim_fail_next_write(f->sim, "devices/vfio_ap/matrix/" U1 "/assign_domain", EIO), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x47), -EIO);
	m = read_mdev(f, U1);
	assert_idset(m.domains, IDS(4));

	/* What zapfs refuses before any write. */
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, "../../../bus/ap/apmask", 5), -EINVAL);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, "8b0f0b8c-4d63-4a7f-9d3a-0a3a5a0b1c0", 0),
			 -EINVAL);
	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDS(7), IDS(7)), -EINVAL);
	assert_int_equal(f->port.ops->read_mdev(f->port.ctx, "nope", &m), -ENOENT);
	assert_int_equal(f->port.ops->read_mdev(f->port.ctx, U1 "x", &m), -ENOENT);
	struct kop bad = { .type = _KOP_TYPE_MAX };
	assert_int_equal(f->port.ops->apply(f->port.ctx, &bad), -EINVAL);

	/* An empty edit writes nothing at all (a written "\n" would clear the
	 * mask): the armed failure is still there for the next real write. */
	assert_int_equal(sim_fail_next_write(f->sim, "bus/ap/aqmask", EIO), 0);
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, IDSET_EMPTY), 0);
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, IDS(0xab)), -EIO);
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/aqmask", buf, sizeof(buf)), 66);
	assert_string_equal(buf,
			    "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
}

static void test_mask_edit_old_kernel(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 4), 0);
	/* No in_use check before 6.0: the kernel lets the host take it back. */
	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDS(5), IDSET_EMPTY), 0);
	read_host(f);
	assert_true(apqn_set_has(&f->host.default_bound, (struct apqn){ 5, 4 }));
}

/* ---- running guests ---- */

static void test_running(void **state)
{
	struct fixture *f = *state;
	struct apqn_set expect;
	struct mdev_info m;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U2, 0), 0);
	set_matrix(f, U1, IDS(5), IDS(4, 0x47));
	set_matrix(f, U2, IDS(5), IDS(0xab));

	assert_int_equal(sim_kvm_attach(f->sim, U1), 0);
	m = read_mdev(f, U1);
	assert_true(m.running);
	m = read_mdev(f, U2);
	assert_false(m.running);
	read_host(f);
	expect = cross(IDS(5), IDS(4, 0x47));
	assert_apqns(&f->host.in_use, &expect);

	/* A hot plug reaches the running guest, and the port sees it. */
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0xff), 0);
	read_host(f);
	expect = cross(IDS(5), IDS(4, 0x47, 0xff));
	assert_apqns(&f->host.in_use, &expect);

	assert_int_equal(sim_kvm_detach(f->sim, U1), 0);
	m = read_mdev(f, U1);
	assert_false(m.running);
	read_host(f);
	assert_true(apqn_set_empty(&f->host.in_use));
}

static void test_running_old_kernel(void **state)
{
	struct fixture *f = *state;
	struct mdev_info m;

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 5), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 4), 0);
	assert_int_equal(sim_kvm_attach(f->sim, U1), 0);

	/* 5.15 shows no queue status: a running guest cannot be seen... */
	m = read_mdev(f, U1);
	assert_false(m.running);
	/* ...but the kernel still refuses to change it. */
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x47), -EBUSY);
	assert_int_equal(op_id(f, KOP_UNASSIGN_DOMAIN, U1, 4), -EBUSY);
	assert_int_equal(sim_kvm_detach(f->sim, U1), 0);
	assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, 0x47), 0);
}

/* ---- the AP configuration lock ---- */

static void test_locked_port(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/zapfs-aplock-XXXXXX", lockfile[64];
	struct aplock *lock = NULL, *other = NULL;
	struct kport_locked storage;
	struct kernel_port port;
	struct mdev_info m;
	struct kop create = { .type = KOP_MDEV_CREATE, .uuid = U1 };

	assert_non_null(mkdtemp(dir));
	snprintf(lockfile, sizeof(lockfile), "%s/" APLOCK_NAME, dir);
	assert_int_equal(aplock_open(dir, &lock), 0);
	assert_int_equal(aplock_open(dir, &other), 0);
	assert_int_equal(kport_new_locked(&storage, f->fs, lock, 0, &port), 0);

	/* Reads and writes are the plain port's. */
	assert_int_equal(port.ops->apply(port.ctx, &create), 0);
	assert_int_equal(port.ops->read_mdev(port.ctx, U1, &m), 0);
	assert_int_equal(port.ops->read_host(port.ctx, &f->host), 0);
	assert_true(f->host.caps.ap_config);

	/* The lock is the s390-tools lock file, held between lock and unlock. */
	assert_int_equal(port.ops->config_lock(port.ctx), 0);
	assert_int_equal(access(lockfile, F_OK), 0);
	assert_int_equal(aplock_acquire(other, 0), -EAGAIN);
	port.ops->config_unlock(port.ctx);
	assert_int_equal(access(lockfile, F_OK), -1);

	/* Held by another tool: with timeout 0 the port gives up at once. */
	assert_int_equal(aplock_acquire(other, 0), 0);
	assert_int_equal(port.ops->config_lock(port.ctx), -EAGAIN);
	assert_int_equal(aplock_release(other), 0);

	aplock_free(other);
	aplock_free(lock);
	rmdir(dir);
}

/* ---- the same code on real files ---- */

/*
 * The simulator's view copied into a directory reads the same through
 * sysfs_dir as through sysfs_sim: the port uses nothing but files, links
 * and directories, as on /sys.
 */
static void test_dir_backend_matches_sim(void **state)
{
	struct fixture *f = *state;
	struct snapshot *from_sim = NULL, *from_dir = NULL;
	struct kernel_port dir_port;
	struct sysfs *dir_fs;
	char root[] = "/tmp/zapfs-mirror-XXXXXX";

	assert_int_equal(op_mask(f, KOP_APMASK_EDIT, IDSET_EMPTY, IDS(5)), 0);
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, IDS(0xff)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U2, 0), 0);
	set_matrix(f, U1, IDS(5), IDS(4, 0x47));
	set_matrix(f, U2, IDS(6), IDS(0xff));
	assert_int_equal(op_id(f, KOP_ASSIGN_CONTROL_DOMAIN, U2, 0xab), 0);
	assert_int_equal(sim_kvm_attach(f->sim, U1), 0);

	assert_non_null(mkdtemp(root));
	assert_int_equal(sim_mirror(f->sim, root), 0);
	assert_int_equal(sysfs_open_dir(root, &dir_fs), 0);
	assert_int_equal(kport_new(dir_fs, &dir_port), 0);

	assert_int_equal(snapshot_take(&f->port, &from_sim), 0);
	assert_int_equal(snapshot_take(&dir_port, &from_dir), 0);
	assert_null(snapshot_difference(from_sim, from_dir, true));
	assert_int_equal(from_dir->n, 2);
	assert_int_equal(apqn_set_count(&from_dir->host.vfio_bound), 5);

	snapshot_free(from_sim);
	snapshot_free(from_dir);
	sysfs_free(dir_fs);
	sim_mirror_remove(root);
	assert_int_equal(sim_kvm_detach(f->sim, U1), 0);
}

/* ---- the large LPAR ---- */

static void test_large(void **state)
{
	struct sim_config *cfg = malloc(sizeof(*cfg));
	struct timespec t0;
	struct fixture *f;
	struct mdev_info m;
	double idle, vfio, running;

	assert_non_null(cfg);
	sim_host_large(6, 10, cfg);
	f = fixture_new(cfg);
	free(cfg);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_host(f);
	idle = seconds_since(&t0);
	assert_int_equal(idset_count(&f->host.adapters), 256);
	assert_int_equal(apqn_set_count(&f->host.queues), 21760);
	assert_int_equal(apqn_set_count(&f->host.default_bound), 21760);
	assert_int_equal(apqn_set_count(&f->host.online), 21760);
	assert_int_equal(f->host.max_adapter, 255);
	assert_int_equal(f->host.max_domain, 84);
	assert_int_equal(f->host.cards[130].mode, CARD_MODE_EP11);
	assert_string_equal(f->host.cards[130].type, "CEX7P");

	/* Every queue to vfio_ap, all of them in one mdev. */
	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, idset_range(0, 84)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	assert_int_equal(op_ap_config(f, U1, idset_range(0, 255), idset_range(0, 84), IDS(0)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_host(f);
	vfio = seconds_since(&t0);
	assert_int_equal(apqn_set_count(&f->host.vfio_bound), 21760);
	assert_true(apqn_set_empty(&f->host.online));
	m = read_mdev(f, U1);
	assert_idset(m.adapters, idset_range(0, 255));
	assert_idset(m.domains, idset_range(0, 84));
	assert_idset(m.guest_adapters, idset_range(0, 255));

	assert_int_equal(sim_kvm_attach(f->sim, U1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_host(f);
	running = seconds_since(&t0);
	assert_int_equal(apqn_set_count(&f->host.in_use), 21760);
	assert_int_equal(sim_kvm_detach(f->sim, U1), 0);

	print_message("read_host on 256 x 85 queues: %.1f ms (host drivers), %.1f ms (vfio_ap, "
		      "idle mdev), %.1f ms (running mdev)\n",
		      idle * 1e3, vfio * 1e3, running * 1e3);
	teardown((void **) &f);
}

/* Without ap_config the matrix is one page: a bigger one is not guessed at. */
static void test_large_matrix_old_kernel(void **state)
{
	struct sim_config *cfg = malloc(sizeof(*cfg));
	struct fixture *f;
	struct mdev_info m;

	assert_non_null(cfg);
	sim_host_large(6, 1, cfg);
	f = fixture_new(cfg);
	free(cfg);

	assert_int_equal(op_mask(f, KOP_AQMASK_EDIT, IDSET_EMPTY, idset_range(0, 84)), 0);
	assert_int_equal(op_id(f, KOP_MDEV_CREATE, U1, 0), 0);
	for (unsigned dom = 0; dom <= 84; dom++)
		assert_int_equal(op_id(f, KOP_ASSIGN_DOMAIN, U1, dom), 0);
	for (unsigned ap = 0; ap < 6; ap++)
		assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, ap), 0);
	/* 6 x 85 = 510 lines of 8 bytes: one page. */
	m = read_mdev(f, U1);
	assert_idset(m.adapters, idset_range(0, 5));
	assert_idset(m.domains, idset_range(0, 84));

	assert_int_equal(op_id(f, KOP_ASSIGN_ADAPTER, U1, 6), 0);
	assert_int_equal(f->port.ops->read_mdev(f->port.ctx, U1, &m), -EFBIG);
	teardown((void **) &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_seed, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_host_bindings_follow_masks, setup_610,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_card_states, setup_610, teardown),
		cmocka_unit_test(test_caps_per_generation),
		cmocka_unit_test(test_caps_without_vfio_ap),
		cmocka_unit_test_setup_teardown(test_mdev_operations, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_mdev_old_kernel, setup_515, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_errnos, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_errnos, setup_61, teardown),
		cmocka_unit_test_setup_teardown(test_mask_edit_old_kernel, setup_515, teardown),
		cmocka_unit_test_setup_teardown(test_running, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_running, setup_61, teardown),
		cmocka_unit_test_setup_teardown(test_running_old_kernel, setup_515, teardown),
		cmocka_unit_test_setup_teardown(test_locked_port, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_dir_backend_matches_sim, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_dir_backend_matches_sim, setup_61, teardown),
		cmocka_unit_test_setup_teardown(test_dir_backend_matches_sim, setup_515, teardown),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_large_matrix_old_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
