/* SPDX-License-Identifier: MIT */
/*
 * Card and queue devices (reference §1.2, §1.3), the AP drivers (§1.4),
 * SCLP config, zcrypt online, checkstop, driver bind/unbind by hand, and
 * adapters leaving and entering the configuration.
 */
#include "tests/sim/simtest.h"

#define CARD5 "devices/ap/card05"
#define Q5_4  "devices/ap/card05/05.0004"
#define CARD7 "devices/ap/card07"
#define Q7_4  "devices/ap/card07/07.0004"
#define Q7_AB "devices/ap/card07/07.00ab"

static void test_card_attributes(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	RD_EQ(sim, CARD5 "/hwtype", "13\n");
	RD_EQ(sim, CARD5 "/raw_hwtype", "13\n");
	RD_EQ(sim, CARD5 "/depth", "7\n");
	RD_EQ(sim, CARD5 "/ap_functions", "0xF2000000\n");
	RD_EQ(sim, CARD7 "/ap_functions", "0xEA000000\n");
	RD_EQ(sim, CARD5 "/request_count", "0\n");
	RD_EQ(sim, CARD5 "/requestq_count", "0\n");
	RD_EQ(sim, CARD5 "/pendingq_count", "0\n");
	RD_EQ(sim, CARD5 "/modalias", "ap:t0D\n");
	RD_EQ(sim, CARD7 "/modalias", "ap:t0C\n");
	RD_EQ(sim, CARD5 "/config", "1\n");
	RD_EQ(sim, CARD5 "/chkstop", "0\n");
	RD_EQ(sim, CARD5 "/max_msg_size", "12288\n");
	RD_EQ(sim, CARD5 "/type", "CEX7C\n");
	RD_EQ(sim, CARD7 "/type", "CEX6A\n");
	RD_EQ(sim, CARD5 "/online", "1\n");
	RD_EQ(sim, CARD5 "/load", "0\n");
	RD_EQ(sim, CARD5 "/uevent",
	      "DEVTYPE=ap_card\nDRIVER=cex4card\nDEV_TYPE=000D\nMODALIAS=ap:t0D\nMODE=cca\n");
	assert_int_equal(mode_of(sim, CARD5 "/config"), 0644);
	assert_int_equal(mode_of(sim, CARD5 "/request_count"), 0644);
	assert_int_equal(mode_of(sim, CARD5 "/online"), 0644);
	assert_int_equal(mode_of(sim, CARD5 "/hwtype"), 0444);
	assert_int_equal(mode_of(sim, CARD5), 0755);
	/* The name is ap_functions, never functions. */
	assert_false(exists(sim, CARD5 "/functions"));
	WR_OK(sim, CARD5 "/request_count", "0");
	WR_ERR(sim, CARD5 "/hwtype", "1", EACCES);
	sim_free(sim);
}

static void test_ep11_card(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.cards[2] = (struct sim_card_config){ 7, 8, 'P', true, true };
	sim = simtest_new_cfg(&cfg);
	RD_EQ(sim, CARD7 "/type", "CEX8P\n");
	RD_EQ(sim, CARD7 "/hwtype", "14\n");
	RD_EQ(sim, CARD7 "/ap_functions", "0x86000000\n");
	sim_free(sim);
}

static void test_generation_differences(void **state)
{
	struct sim *sim = simtest_new(6, 1);

	/* max_msg_size from 6.3, queue ap_functions from 6.7. */
	assert_false(exists(sim, CARD5 "/max_msg_size"));
	assert_false(exists(sim, Q5_4 "/ap_functions"));
	RD_EQ(sim, Q5_4 "/chkstop", "0\n");
	RD_EQ(sim, Q5_4 "/status", "unassigned\n");
	sim_free(sim);

	sim = simtest_new(5, 15);
	assert_false(exists(sim, CARD5 "/chkstop"));
	assert_false(exists(sim, Q5_4 "/chkstop"));
	assert_false(exists(sim, Q5_4 "/status"));
	RD_EQ(sim, Q5_4 "/config", "1\n");
	RD_EQ(sim, CARD5 "/config", "1\n");
	/* Old queue uevents carry DEV_TYPE and MODALIAS. */
	RD_EQ(sim, Q5_4 "/uevent",
	      "DEVTYPE=ap_queue\nDRIVER=vfio_ap\nDEV_TYPE=000D\n"
	      "MODALIAS=ap:t0D\nMODE=cca\n");
	sim_free(sim);
}

static void test_queue_attributes_vfio_bound(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	RD_EQ(sim, Q5_4 "/request_count", "-\n");
	RD_EQ(sim, Q5_4 "/requestq_count", "0\n");
	RD_EQ(sim, Q5_4 "/pendingq_count", "0\n");
	RD_EQ(sim, Q5_4 "/reset", "No Reset Timer set.\n");
	RD_EQ(sim, Q5_4 "/interrupt", "Interrupts disabled.\n");
	RD_EQ(sim, Q5_4 "/config", "1\n");
	RD_EQ(sim, Q5_4 "/chkstop", "0\n");
	RD_EQ(sim, Q5_4 "/ap_functions", "0xF2000000\n");
	RD_EQ(sim, Q5_4 "/status", "unassigned\n");
	RD_EQ(sim, Q5_4 "/uevent", "DEVTYPE=ap_queue\nDRIVER=vfio_ap\nMODE=cca\n");
	assert_false(exists(sim, Q5_4 "/online"));
	assert_false(exists(sim, Q5_4 "/load"));
	assert_int_equal(mode_of(sim, Q5_4 "/config"), 0444);
	assert_int_equal(mode_of(sim, Q5_4 "/reset"), 0644);
	assert_int_equal(mode_of(sim, Q5_4 "/status"), 0444);
	WR_ERR(sim, Q5_4 "/config", "0", EACCES);
	WR_OK(sim, Q5_4 "/reset", "1");
	assert_string_equal(link_of(sim, Q5_4 "/driver"), "../../../../bus/ap/drivers/vfio_ap");
	assert_string_equal(link_of(sim, Q5_4 "/subsystem"), "../../../../bus/ap");
	sim_free(sim);
}

static void test_queue_attributes_zcrypt_bound(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	RD_EQ(sim, Q7_4 "/request_count", "0\n");
	RD_EQ(sim, Q7_4 "/online", "1\n");
	RD_EQ(sim, Q7_4 "/load", "0\n");
	RD_EQ(sim, Q7_4 "/interrupt", "Interrupts enabled.\n");
	assert_false(exists(sim, Q7_4 "/status"));
	assert_string_equal(link_of(sim, Q7_4 "/driver"), "../../../../bus/ap/drivers/cex4queue");
	sim_free(sim);
}

static void test_links_and_driver_dirs(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	assert_string_equal(link_of(sim, "bus/ap/devices/card05"), "../../../devices/ap/card05");
	assert_string_equal(link_of(sim, "bus/ap/devices/05.0004"),
			    "../../../devices/ap/card05/05.0004");
	RD_EQ(sim, "bus/ap/devices/card05/hwtype", "13\n");
	RD_EQ(sim, "bus/ap/devices/05.0004/status", "unassigned\n");
	assert_string_equal(link_of(sim, CARD5 "/driver"), "../../../bus/ap/drivers/cex4card");
	assert_string_equal(link_of(sim, CARD5 "/subsystem"), "../../../bus/ap");
	assert_string_equal(link_of(sim, "bus/ap/drivers/cex4card/card05"),
			    "../../../../devices/ap/card05");
	assert_string_equal(link_of(sim, "bus/ap/drivers/vfio_ap/05.0004"),
			    "../../../../devices/ap/card05/05.0004");
	assert_false(exists(sim, "bus/ap/drivers/vfio_ap/07.0004"));
	assert_true(exists(sim, "bus/ap/drivers/cex4queue/07.0004"));
	/* Names are lowercase: no uppercase or unpadded aliases. */
	assert_false(exists(sim, "bus/ap/devices/05.00AB"));
	assert_false(exists(sim, "bus/ap/devices/5.0004"));
	assert_true(exists(sim, "bus/ap/devices/05.00ab"));
	/* Through a link to a driver and back through another. */
	RD_EQ(sim, "bus/ap/devices/05.0004/driver/05.0047/status", "unassigned\n");
	assert_int_equal(mode_of(sim, "bus/ap/drivers/vfio_ap/bind"), 0200);
	assert_int_equal(mode_of(sim, "bus/ap/drivers/vfio_ap/unbind"), 0200);
	assert_int_equal(mode_of(sim, "bus/ap/drivers/vfio_ap/uevent"), 0200);
	assert_int_equal(mode_of(sim, "bus/ap/devices/card05"), 0777);
	/* Control-only domain 000b has no queue device. */
	assert_false(exists(sim, "devices/ap/card05/05.000b"));
	sim_free(sim);
}

static void test_card_config_write(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_ERR(sim, CARD7 "/config", "2", EINVAL);
	WR_ERR(sim, CARD7 "/config", "abc", EINVAL);
	WR_OK(sim, CARD7 "/config", "0\n");
	RD_EQ(sim, CARD7 "/config", "0\n");
	RD_EQ(sim, CARD7 "/online", "0\n");
	RD_EQ(sim, Q7_4 "/config", "0\n");
	RD_EQ(sim, Q7_4 "/online", "0\n");
	/* The devices stay. */
	assert_true(exists(sim, Q7_AB));
	assert_true(uevents_contain(sim, "change /devices/ap/card07 ap CONFIG=0 DEVTYPE=ap_card"));
	assert_true(uevents_contain(sim, "change /devices/ap/card07/07.0004 ap CONFIG=0 "));
	assert_true(uevents_contain(sim, "change /devices/ap/card07/07.00ff ap CONFIG=0 "));
	WR_ERR(sim, CARD7 "/online", "1", ENODEV);
	WR_ERR(sim, Q7_4 "/online", "1", ENODEV);
	WR_OK(sim, CARD7 "/online", "0");
	WR_OK(sim, CARD7 "/config", "1");
	RD_EQ(sim, CARD7 "/config", "1\n");
	assert_true(uevents_contain(sim, "change /devices/ap/card07 ap CONFIG=1 DEVTYPE=ap_card"));
	RD_EQ(sim, CARD7 "/online", "0\n");
	WR_OK(sim, CARD7 "/online", "1");
	RD_EQ(sim, CARD7 "/online", "1\n");
	sim_free(sim);
}

static void test_online_writes(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_ERR(sim, CARD7 "/online", "2", EINVAL);
	WR_ERR(sim, CARD7 "/online", "x", EINVAL);
	WR_OK(sim, CARD7 "/online", "0");
	RD_EQ(sim, CARD7 "/online", "0\n");
	/* A card write forces its queues. */
	RD_EQ(sim, Q7_4 "/online", "0\n");
	RD_EQ(sim, Q7_AB "/online", "0\n");
	assert_true(uevents_contain(sim, "change /devices/ap/card07 ap ONLINE=0"));
	assert_true(uevents_contain(sim, "change /devices/ap/card07/07.00ab ap ONLINE=0"));
	/* A queue cannot go online while its card is offline. */
	WR_ERR(sim, Q7_4 "/online", "1", EINVAL);
	WR_OK(sim, CARD7 "/online", "1");
	RD_EQ(sim, Q7_AB "/online", "1\n");
	WR_OK(sim, Q7_AB "/online", "0");
	RD_EQ(sim, Q7_AB "/online", "0\n");
	RD_EQ(sim, Q7_4 "/online", "1\n");
	WR_ERR(sim, Q7_AB "/online", "-1", EINVAL);
	WR_OK(sim, Q7_AB "/online", "1\n");
	sim_free(sim);
}

static void test_checkstop(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	assert_int_equal(sim_card_checkstop(sim, 7, true), 0);
	RD_EQ(sim, CARD7 "/chkstop", "1\n");
	RD_EQ(sim, Q7_4 "/chkstop", "1\n");
	RD_EQ(sim, CARD7 "/online", "0\n");
	RD_EQ(sim, Q7_4 "/online", "0\n");
	RD_EQ(sim, CARD7 "/config", "1\n");
	WR_ERR(sim, CARD7 "/online", "1", ENODEV);
	assert_true(exists(sim, Q7_4));
	assert_int_equal(sim_card_checkstop(sim, 7, false), 0);
	RD_EQ(sim, CARD7 "/online", "1\n");
	assert_int_equal(sim_card_checkstop(sim, 9, true), -ENODEV);
	sim_free(sim);
}

static void test_manual_unbind_and_bind(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0004\n");
	assert_false(exists(sim, Q5_4 "/driver"));
	assert_false(exists(sim, Q5_4 "/status"));
	assert_false(exists(sim, "bus/ap/drivers/vfio_ap/05.0004"));
	RD_EQ(sim, Q5_4 "/request_count", "-\n");
	RD_EQ(sim, "bus/ap/bindings", "11/12\n");
	assert_true(uevents_contain(sim, "unbind /devices/ap/card05/05.0004 ap DEVTYPE=ap_queue "
					 "MODE=cca\n"));
	WR_ERR(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0004", ENODEV);
	WR_ERR(sim, "bus/ap/drivers/vfio_ap/unbind", "07.0004", ENODEV);
	WR_ERR(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0005", ENODEV);
	/* The mask rule refuses the wrong driver. */
	WR_ERR(sim, "bus/ap/drivers/cex4queue/bind", "05.0004", ENODEV);
	WR_OK(sim, "bus/ap/drivers/vfio_ap/bind", "05.0004");
	RD_EQ(sim, Q5_4 "/status", "unassigned\n");
	WR_ERR(sim, "bus/ap/drivers/vfio_ap/bind", "05.0004", EBUSY);
	RD_EQ(sim, "bus/ap/bindings", "12/12 (complete)\n");
	/* From 6.8 BINDINGS=complete follows a scan, not each probe. */
	assert_false(uevents_contain(sim, "BINDINGS=complete"));
	WR_OK(sim, "bus/ap/scans", "1");
	assert_true(uevents_contain(sim, "change /devices/ap ap BINDINGS=complete "
					 "COMPLETECOUNT=1"));
	/* drivers_probe binds an unbound device as the bus would. */
	WR_OK(sim, "bus/ap/drivers/cex4queue/unbind", "07.0004");
	WR_OK(sim, "bus/ap/drivers_probe", "07.0004");
	RD_EQ(sim, Q7_4 "/online", "1\n");
	WR_ERR(sim, "bus/ap/drivers_probe", "09.0004", ENODEV);
	/* A card leaves cex4card: type/online/load go. */
	WR_OK(sim, "bus/ap/drivers/cex4card/unbind", "card07");
	assert_false(exists(sim, CARD7 "/type"));
	assert_false(exists(sim, CARD7 "/driver"));
	WR_OK(sim, "bus/ap/drivers/cex4card/bind", "card07");
	RD_EQ(sim, CARD7 "/type", "CEX6A\n");
	sim_free(sim);
}

static void test_bindings_complete_on_probe_before_6_8(void **state)
{
	struct sim *sim = simtest_new(6, 1);

	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0004");
	assert_false(uevents_contain(sim, "BINDINGS=complete"));
	WR_OK(sim, "bus/ap/drivers/vfio_ap/bind", "05.0004");
	{
		const char *ev = rd(sim, SIM_CONTROL_DIR "/uevents");
		const char *bind = strstr(ev, " bind /devices/ap/card05/05.0004 ap");
		const char *done = strstr(ev, " change /devices/ap ap BINDINGS=complete "
					      "COMPLETECOUNT=1\n");

		assert_non_null(bind);
		assert_non_null(done);
		assert_true(bind < done);
	}
	sim_free(sim);
}

static void test_adapter_remove_and_add(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct sim_card_config card = {
		.id = 9, .gen = 5, .mode = 'C', .config = true, .online = true
	};

	assert_int_equal(sim_adapter_remove(sim, 7), 0);
	assert_false(exists(sim, CARD7));
	assert_false(exists(sim, "bus/ap/devices/07.0004"));
	assert_false(exists(sim, "bus/ap/drivers/cex4queue/07.0004"));
	RD_EQ(sim, "bus/ap/ap_adapter_mask", mask_str(5, 6, -1));
	RD_EQ(sim, "bus/ap/bindings", "8/8 (complete)\n");
	RD_EQ(sim, "bus/ap/scans", "2\n");
	assert_true(uevents_contain(sim, "unbind /devices/ap/card07/07.0004 ap"));
	assert_true(uevents_contain(sim, "remove /devices/ap/card07/07.0004 ap DEVTYPE=ap_queue"));
	assert_true(uevents_contain(sim, "remove /devices/ap/card07 ap DEVTYPE=ap_card "
					 "DEV_TYPE=000C MODALIAS=ap:t0C MODE=accel"));
	assert_int_equal(sim_adapter_remove(sim, 7), -ENODEV);

	assert_int_equal(sim_adapter_add(sim, &card), 0);
	RD_EQ(sim, "devices/ap/card09/type", "CEX5C\n");
	RD_EQ(sim, "devices/ap/card09/09.00ff/online", "1\n");
	RD_EQ(sim, "bus/ap/ap_adapter_mask", mask_str(5, 6, 9, -1));
	assert_true(uevents_contain(sim, "add /devices/ap/card09 ap DEVTYPE=ap_card DEV_TYPE=000B "
					 "MODALIAS=ap:t0B MODE=cca"));
	assert_true(uevents_contain(sim, "bind /devices/ap/card09/09.0004 ap DEVTYPE=ap_queue "
					 "DRIVER=cex4queue MODE=cca"));
	assert_int_equal(sim_adapter_add(sim, &card), -EEXIST);
	card.id = 10;
	card.gen = 3;
	assert_int_equal(sim_adapter_add(sim, &card), -EINVAL);
	sim_free(sim);
}

static void test_config_rejects_types_below_cex4(void **state)
{
	static struct sim_config cfg;
	struct sim *sim = NULL;

	simtest_config(&cfg, 6, 10);
	cfg.cards[0].gen = 3;
	assert_int_equal(sim_new(&cfg, &sim), -EINVAL);
	simtest_config(&cfg, 6, 10);
	cfg.cards[1].id = 5;
	assert_int_equal(sim_new(&cfg, &sim), -EINVAL);
	assert_null(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_card_attributes),
		cmocka_unit_test(test_ep11_card),
		cmocka_unit_test(test_generation_differences),
		cmocka_unit_test(test_queue_attributes_vfio_bound),
		cmocka_unit_test(test_queue_attributes_zcrypt_bound),
		cmocka_unit_test(test_links_and_driver_dirs),
		cmocka_unit_test(test_card_config_write),
		cmocka_unit_test(test_online_writes),
		cmocka_unit_test(test_checkstop),
		cmocka_unit_test(test_manual_unbind_and_bind),
		cmocka_unit_test(test_bindings_complete_on_probe_before_6_8),
		cmocka_unit_test(test_adapter_remove_and_add),
		cmocka_unit_test(test_config_rejects_types_below_cex4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
