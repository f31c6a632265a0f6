/* SPDX-License-Identifier: MIT */
/*
 * The shadow APCB, `guest_matrix` (reference §4): whole-adapter filtering,
 * edit-only unassign, re-filtering on assign and probe, the pre-6.7 partial
 * checks, host configuration changes, and the queue `status` it drives.
 */
#include "tests/sim/simtest.h"

#define ALL_FOUR "05.0004\n05.0047\n06.0004\n06.0047\n"

static void test_unbound_queue_drops_whole_adapter(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	RD_EQ(sim, MDEV_A "/guest_matrix", ALL_FOUR);
	/* The queue leaves vfio_ap: its adapter leaves the guest. */
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	RD_EQ(sim, MDEV_A "/guest_matrix", "06.0004\n06.0047\n");
	RD_EQ(sim, MDEV_A "/matrix", ALL_FOUR);
	/* Probing it again re-filters the whole matrix. */
	WR_OK(sim, "bus/ap/drivers/vfio_ap/bind", "05.0047");
	RD_EQ(sim, MDEV_A "/guest_matrix", ALL_FOUR);
	sim_free(sim);
}

static void test_unassign_does_not_refilter(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	/* Without 0047 adapter 5 would pass, but unassign only edits. */
	WR_OK(sim, MDEV_A "/unassign_domain", "0x47");
	RD_EQ(sim, MDEV_A "/guest_matrix", "06.0004\n");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n06.0004\n");
	/* The next assign re-filters everything. */
	WR_OK(sim, MDEV_A "/assign_domain", "0xab");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	sim_free(sim);
}

static void test_filter_on_assign(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	RD_EQ(sim, MDEV_A "/guest_matrix", "06.0004\n06.0047\n");
	RD_EQ(sim, MDEV_A "/matrix", ALL_FOUR);
	sim_free(sim);
}

/* Before 6.7 an assign checked only the new id against the matrix, so an
 * adapter filtered for an unbound queue came back with the next domain. */
static void test_partial_filter_before_6_7(void **state)
{
	struct sim *sim = simtest_new(6, 1);

	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	RD_EQ(sim, MDEV_A "/guest_matrix", "06.0004\n06.0047\n");
	WR_OK(sim, MDEV_A "/assign_domain", "0xab");
	RD_EQ(sim, MDEV_A "/guest_matrix",
	      "05.0004\n05.0047\n05.00ab\n06.0004\n06.0047\n06.00ab\n");
	sim_free(sim);

	sim = simtest_new(6, 10);
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	WR_OK(sim, MDEV_A "/assign_domain", "0xab");
	RD_EQ(sim, MDEV_A "/guest_matrix", "06.0004\n06.0047\n06.00ab\n");
	sim_free(sim);
}

/* A domain outside the host's AQM: 6.7+ drops it from the shadow; before,
 * its missing queues filtered the adapters checked with it. */
static void test_domain_outside_host_config(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/aqmask", "-0x10");
	make_mdev(sim, UUID_A, "5", "4 0x10");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n05.0010\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n");
	sim_free(sim);

	sim = simtest_new(6, 1);
	WR_OK(sim, "bus/ap/aqmask", "-0x10");
	make_mdev(sim, UUID_A, "5", "4 0x10");
	RD_EQ(sim, MDEV_A "/guest_matrix", ".0004\n");
	sim_free(sim);
}

static void test_adapter_leaves_and_returns(void **state)
{
	static const unsigned minors[] = { 1, 10 };

	for (size_t i = 0; i < 2; i++) {
		struct sim *sim = simtest_new(6, minors[i]);
		struct sim_card_config card = {
			.id = 6, .gen = 7, .mode = 'C', .config = true, .online = true
		};

		make_mdev(sim, UUID_A, "5 6", "4");
		assert_int_equal(sim_adapter_remove(sim, 6), 0);
		RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n");
		/* The matrix never changes because of the host. */
		RD_EQ(sim, MDEV_A "/matrix", "05.0004\n06.0004\n");
		assert_int_equal(sim_adapter_add(sim, &card), 0);
		RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n06.0004\n");
		sim_free(sim);
	}
}

static void test_deconfigured_card_stays_in_guest(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	WR_OK(sim, "devices/ap/card05/config", "0");
	assert_int_equal(sim_card_checkstop(sim, 5, true), 0);
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n");
	sim_free(sim);
}

static void test_status_follows_guest(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "assigned\n");
	RD_EQ(sim, "devices/ap/card05/05.00ab/status", "unassigned\n");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "in use\n");
	/* From 6.7 "in use" also needs the queue in the guest. */
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "assigned\n");
	RD_EQ(sim, "devices/ap/card06/06.0004/status", "in use\n");
	assert_int_equal(sim_kvm_detach(sim, UUID_A), 0);
	RD_EQ(sim, "devices/ap/card06/06.0004/status", "assigned\n");
	sim_free(sim);

	sim = simtest_new(6, 1);
	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "in use\n");
	sim_free(sim);
}

static void test_old_kernel_has_no_shadow(void **state)
{
	struct sim *sim = simtest_new(5, 15);

	make_mdev(sim, UUID_A, "5 6", "4 0x47");
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	RD_EQ(sim, MDEV_A "/matrix", ALL_FOUR);
	RD_EQ(sim, MDEV_A "/guest_matrix", "ERR:2");
	sim_free(sim);
}

static void test_configured_mdevs_are_filtered(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.n_mdevs = 1;
	snprintf(cfg.mdevs[0].uuid, sizeof(cfg.mdevs[0].uuid), "%s", UUID_A);
	idset_add(&cfg.mdevs[0].adapters, 5);
	idset_add(&cfg.mdevs[0].adapters, 0x20);
	idset_add(&cfg.mdevs[0].domains, 4);
	idset_add(&cfg.mdevs[0].control_domains, 0x0b);
	idset_del(&cfg.apmask, 0x20);
	sim = simtest_new_cfg(&cfg);
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n20.0004\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n");
	RD_EQ(sim, MDEV_A "/control_domains", "000b\n");
	RD_EQ(sim, SIM_CONTROL_DIR "/uevents", "");
	sim_free(sim);

	/* A configured mdev must be one the kernel could hold. */
	simtest_config(&cfg, 6, 10);
	cfg.n_mdevs = 1;
	snprintf(cfg.mdevs[0].uuid, sizeof(cfg.mdevs[0].uuid), "%s", UUID_A);
	idset_add(&cfg.mdevs[0].adapters, 7);
	idset_add(&cfg.mdevs[0].domains, 4);
	sim = NULL;
	assert_int_equal(sim_new(&cfg, &sim), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unbound_queue_drops_whole_adapter),
		cmocka_unit_test(test_unassign_does_not_refilter),
		cmocka_unit_test(test_filter_on_assign),
		cmocka_unit_test(test_partial_filter_before_6_7),
		cmocka_unit_test(test_domain_outside_host_config),
		cmocka_unit_test(test_adapter_leaves_and_returns),
		cmocka_unit_test(test_deconfigured_card_stays_in_guest),
		cmocka_unit_test(test_status_follows_guest),
		cmocka_unit_test(test_old_kernel_has_no_shadow),
		cmocka_unit_test(test_configured_mdevs_are_filtered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
