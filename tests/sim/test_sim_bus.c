/* SPDX-License-Identifier: MIT */
/*
 * The AP bus attributes (reference §1.1), the apmask/aqmask parser (§2.1)
 * and what a mask change does to bindings and the in_use check (§3).
 */
#include "tests/sim/simtest.h"

#define ALL_ONES "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
#define ALL_ZERO "0x0000000000000000000000000000000000000000000000000000000000000000\n"

static void test_bus_attribute_formats(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	RD_EQ(sim, "bus/ap/ap_domain", "4\n");
	RD_EQ(sim, "bus/ap/ap_max_adapter_id", "255\n");
	RD_EQ(sim, "bus/ap/ap_max_domain_id", "255\n");
	RD_EQ(sim, "bus/ap/ap_interrupts", "1\n");
	RD_EQ(sim, "bus/ap/ap_adapter_mask", mask_str(5, 6, 7, -1));
	RD_EQ(sim, "bus/ap/ap_usage_domain_mask", mask_str(4, 0x47, 0xab, 0xff, -1));
	RD_EQ(sim, "bus/ap/ap_control_domain_mask", mask_str(4, 0x0b, 0x47, 0xab, 0xff, -1));
	RD_EQ(sim, "bus/ap/config_time", "30\n");
	RD_EQ(sim, "bus/ap/poll_thread", "0\n");
	RD_EQ(sim, "bus/ap/poll_timeout", "250000\n");
	RD_EQ(sim, "bus/ap/aqmask", ALL_ONES);
	RD_EQ(sim, "bus/ap/apmask",
	      "0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n");
	RD_EQ(sim, "bus/ap/scans", "1\n");
	RD_EQ(sim, "bus/ap/bindings", "12/12 (complete)\n");
	RD_EQ(sim, "bus/ap/features", "APSC APXA QACT RC8A\n");
	sim_free(sim);
}

static void test_bus_attribute_modes(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
	} modes[] = {
		{ "ap_domain", 0644 },
		{ "ap_control_domain_mask", 0444 },
		{ "ap_usage_domain_mask", 0444 },
		{ "ap_adapter_mask", 0444 },
		{ "ap_max_adapter_id", 0444 },
		{ "ap_max_domain_id", 0444 },
		{ "ap_interrupts", 0444 },
		{ "config_time", 0644 },
		{ "poll_thread", 0644 },
		{ "poll_timeout", 0644 },
		{ "apmask", 0644 },
		{ "aqmask", 0644 },
		{ "scans", 0644 },
		{ "bindings", 0444 },
		{ "features", 0444 },
		{ "drivers_probe", 0200 },
		{ "uevent", 0200 },
	};
	struct sim *sim = simtest_new(6, 10);
	char path[64];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(path, sizeof(path), "bus/ap/%s", modes[i].name);
		assert_int_equal(mode_of(sim, path), modes[i].mode);
	}
	assert_int_equal(mode_of(sim, "bus/ap/devices"), 0755);
	sim_free(sim);
}

static void test_old_kernel_lacks_features(void **state)
{
	struct sim *sim = simtest_new(5, 15);

	RD_EQ(sim, "bus/ap/features", "ERR:2");
	RD_EQ(sim, "bus/ap/scans", "1\n");
	sim_free(sim);
}

static void test_ap_domain_write(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/ap_domain", "0x47");
	RD_EQ(sim, "bus/ap/ap_domain", "71\n");
	WR_OK(sim, "bus/ap/ap_domain", "010\n"); /* %i: octal */
	RD_EQ(sim, "bus/ap/ap_domain", "8\n");
	WR_ERR(sim, "bus/ap/ap_domain", "256", EINVAL);
	WR_ERR(sim, "bus/ap/ap_domain", "-1", EINVAL);
	WR_ERR(sim, "bus/ap/ap_domain", "abc", EINVAL);
	WR_OK(sim, "bus/ap/aqmask", "-9");
	WR_ERR(sim, "bus/ap/ap_domain", "9", EINVAL); /* not in aqmask */
	RD_EQ(sim, "bus/ap/ap_domain", "8\n");
	sim_free(sim);

	/* Above ap_max_domain_id. */
	static struct sim_config cfg;
	simtest_config(&cfg, 6, 10);
	cfg.max_domain = 84;
	sim = simtest_new_cfg(&cfg);
	WR_ERR(sim, "bus/ap/ap_domain", "85", EINVAL);
	WR_OK(sim, "bus/ap/ap_domain", "84");
	sim_free(sim);
}

static void test_config_time_write(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/config_time", "5");
	RD_EQ(sim, "bus/ap/config_time", "5\n");
	WR_OK(sim, "bus/ap/config_time", "120\n");
	WR_ERR(sim, "bus/ap/config_time", "4", EINVAL);
	WR_ERR(sim, "bus/ap/config_time", "121", EINVAL);
	WR_ERR(sim, "bus/ap/config_time", "x", EINVAL);
	WR_ERR(sim, "bus/ap/config_time", "+30", EINVAL); /* the kernel's sscanf takes no '+' */
	RD_EQ(sim, "bus/ap/config_time", "120\n");
	sim_free(sim);
}

static void test_poll_thread_and_timeout(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	/* 6.x: kstrtobool and kstrtoul(base 0). */
	WR_OK(sim, "bus/ap/poll_thread", "y");
	RD_EQ(sim, "bus/ap/poll_thread", "1\n");
	WR_OK(sim, "bus/ap/poll_thread", "off");
	RD_EQ(sim, "bus/ap/poll_thread", "0\n");
	WR_ERR(sim, "bus/ap/poll_thread", "2", EINVAL);
	WR_OK(sim, "bus/ap/poll_timeout", "0x10");
	RD_EQ(sim, "bus/ap/poll_timeout", "16\n");
	WR_OK(sim, "bus/ap/poll_timeout", "0");
	WR_OK(sim, "bus/ap/poll_timeout", "120000000000");
	WR_ERR(sim, "bus/ap/poll_timeout", "120000000001", EINVAL);
	WR_ERR(sim, "bus/ap/poll_timeout", "99999999999999999999999", ERANGE);
	WR_ERR(sim, "bus/ap/poll_timeout", "abc", EINVAL);
	sim_free(sim);

	/* 5.15: sscanf, any non-zero starts the thread; timeout 1..120e9. */
	sim = simtest_new(5, 15);
	WR_OK(sim, "bus/ap/poll_thread", "2");
	RD_EQ(sim, "bus/ap/poll_thread", "1\n");
	WR_ERR(sim, "bus/ap/poll_thread", "y", EINVAL);
	WR_ERR(sim, "bus/ap/poll_timeout", "0", EINVAL);
	WR_OK(sim, "bus/ap/poll_timeout", "1");
	RD_EQ(sim, "bus/ap/poll_timeout", "1\n");
	sim_free(sim);
}

static void test_scans_write_rescans(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/scans", "1");
	RD_EQ(sim, "bus/ap/scans", "2\n");
	WR_OK(sim, "bus/ap/scans", "anything");
	RD_EQ(sim, "bus/ap/scans", "3\n");
	sim_free(sim);
}

static void test_bindings_incomplete_without_vfio_ap(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.vfio_ap_loaded = false;
	sim = simtest_new_cfg(&cfg);
	RD_EQ(sim, "bus/ap/bindings", "4/12\n");
	assert_false(exists(sim, "bus/ap/drivers/vfio_ap"));
	assert_false(exists(sim, "devices/vfio_ap"));
	assert_false(exists(sim, "devices/ap/card05/05.0004/driver"));
	sim_free(sim);
}

/* ---- §2.1: the mask parser, through writes to apmask ---- */

struct mask_case {
	const char *input;
	int err;	      /* expected errno, 0 for success */
	const char *expected; /* the mask afterwards when err == 0 */
};

static void run_mask_cases(const struct mask_case *cases, size_t n, const char *start)
{
	struct sim *sim = simtest_new(6, 10);

	for (size_t i = 0; i < n; i++) {
		ssize_t r;

		/* Each case starts from a known mask. */
		WR_OK(sim, "bus/ap/apmask", start);
		r = wr(sim, "bus/ap/apmask", cases[i].input);
		if (cases[i].err) {
			if (r != -cases[i].err)
				fail_msg("input \"%s\": got %zd, want -%d", cases[i].input, r,
					 cases[i].err);
			continue;
		}
		if (r != (ssize_t) strlen(cases[i].input))
			fail_msg("input \"%s\": got %zd", cases[i].input, r);
		if (strcmp(rd(sim, "bus/ap/apmask"), cases[i].expected))
			fail_msg("input \"%s\": mask %s, want %s", cases[i].input,
				 rd(sim, "bus/ap/apmask"), cases[i].expected);
	}
	sim_free(sim);
}

static void test_mask_absolute(void **state)
{
	static const char digits65[] =
	    "0x"
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0";
	static const char digits64[] =
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
	const struct mask_case cases[] = {
		{ "0x41", 0,
		  "0x4100000000000000000000000000000000000000000000000000000000000000\n" },
		{ "x41", 0,
		  "0x4100000000000000000000000000000000000000000000000000000000000000\n" },
		{ "41", 0, "0x4100000000000000000000000000000000000000000000000000000000000000\n" },
		{ "0x41\n", 0,
		  "0x4100000000000000000000000000000000000000000000000000000000000000\n" },
		{ "0xAbC", 0,
		  "0xabc0000000000000000000000000000000000000000000000000000000000000\n" },
		/* `echo 5 > apmask`: adapters 1 and 3, not adapter 5 */
		{ "5\n", 0,
		  "0x5000000000000000000000000000000000000000000000000000000000000000\n" },
		{ "\n", 0, ALL_ZERO },
		{ "0x", 0, ALL_ZERO },
		{ "x", 0, ALL_ZERO },
		{ digits64, 0, ALL_ONES },
		{ "0X41", EINVAL, NULL },
		{ digits65, EINVAL, NULL },
		{ "0x41 ", EINVAL, NULL },
		{ " 0x41", EINVAL, NULL },
		{ "0x41\r\n", EINVAL, NULL },
		{ "0x41\n\n", EINVAL, NULL },
		{ "0xg", EINVAL, NULL },
		{ "xx1", EINVAL, NULL },
	};

	run_mask_cases(cases, sizeof(cases) / sizeof(cases[0]), "0x");
	(void) state;
}

static void test_mask_relative(void **state)
{
	static const struct {
		const char *input;
		int err;
		int ids[4]; /* the resulting mask from an empty one, ended by -1 */
	} cases[] = {
		{ "+010", 0, { 8, -1 } },   /* octal */
		{ "+0x10", 0, { 16, -1 } }, /* hex */
		{ "+0X10", 0, { 16, -1 } }, /* simple_strtoul takes 0X */
		{ "+10", 0, { 10, -1 } },      { "+1,,+2\n", 0, { 1, 2, -1 } }, /* separator runs */
		{ "+1\n+2", 0, { 1, 2, -1 } }, { "+3-5", 0, { 3, 4, 5, -1 } },	/* ranges */
		{ "+5,-5", 0, { -1 } },	       { "+255", 0, { 255, -1 } },
		{ "+08", EINVAL, { -1 } },     { "+5-3", EINVAL, { -1 } },
		{ "+256", EINVAL, { -1 } },    { "+0-256", EINVAL, { -1 } },
		{ "+", EINVAL, { -1 } },       { "+1,2", EINVAL, { -1 } },
		{ "+1 ,+2", EINVAL, { -1 } },  { "+1, +2", EINVAL, { -1 } },
		{ "+0x", EINVAL, { -1 } },     { "+-1", EINVAL, { -1 } },
		{ "+1-", EINVAL, { -1 } },
	};
	struct sim *sim = simtest_new(6, 10);
	struct idset all_but_128 = idset_range(0, 255);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct idset want = IDSET_EMPTY;
		ssize_t r;

		WR_OK(sim, "bus/ap/apmask", "0x");
		r = wr(sim, "bus/ap/apmask", cases[i].input);
		if (cases[i].err) {
			if (r != -cases[i].err)
				fail_msg("input \"%s\": got %zd, want -%d", cases[i].input, r,
					 cases[i].err);
			RD_EQ(sim, "bus/ap/apmask", ALL_ZERO);
			continue;
		}
		for (size_t j = 0; cases[i].ids[j] >= 0; j++)
			idset_add(&want, (unsigned) cases[i].ids[j]);
		if (r != (ssize_t) strlen(cases[i].input) ||
		    strcmp(rd(sim, "bus/ap/apmask"), mask_of_set(&want)))
			fail_msg("input \"%s\": got %zd, mask %s", cases[i].input, r,
				 rd(sim, "bus/ap/apmask"));
	}
	/* Later terms win. */
	WR_OK(sim, "bus/ap/apmask", "+0-255,-128");
	idset_del(&all_but_128, 128);
	RD_EQ(sim, "bus/ap/apmask", mask_of_set(&all_but_128));
	sim_free(sim);
}

static void test_mask_relative_edits_current(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/aqmask", "-0xff");
	WR_OK(sim, "bus/ap/aqmask", "-0-3");
	{
		struct idset want = idset_range(4, 254);

		RD_EQ(sim, "bus/ap/aqmask", mask_of_set(&want));
	}
	/* A failed parse changes nothing, even after good terms. */
	WR_ERR(sim, "bus/ap/aqmask", "+0,+x", EINVAL);
	{
		struct idset want = idset_range(4, 254);

		RD_EQ(sim, "bus/ap/aqmask", mask_of_set(&want));
	}
	sim_free(sim);
}

static void test_mask_bits_above_max_accepted(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.max_adapter = 63;
	sim = simtest_new_cfg(&cfg);
	WR_OK(sim, "bus/ap/apmask", "0x");
	WR_OK(sim, "bus/ap/apmask", "+100");
	RD_EQ(sim, "bus/ap/apmask", mask_str(100, -1));
	sim_free(sim);
}

static void test_zero_length_write_is_noop(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	assert_int_equal(sim_write(sim, "bus/ap/apmask", "", 0), 0);
	RD_EQ(sim, "bus/ap/apmask",
	      "0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n");
	sim_free(sim);
}

/* ---- §3: mask changes, rebinding, in_use ---- */

static void test_mask_clear_moves_queues_to_vfio(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	assert_string_equal(link_of(sim, "devices/ap/card07/07.0004/driver"),
			    "../../../../bus/ap/drivers/cex4queue");
	RD_EQ(sim, "devices/ap/card07/07.0004/online", "1\n");
	assert_false(exists(sim, "devices/ap/card07/07.0004/status"));
	assert_true(exists(sim, "bus/ap/drivers/cex4queue/07.0004"));

	/* Clearing bits is never refused. */
	WR_OK(sim, "bus/ap/apmask", "-7");
	assert_string_equal(link_of(sim, "devices/ap/card07/07.0004/driver"),
			    "../../../../bus/ap/drivers/vfio_ap");
	assert_false(exists(sim, "devices/ap/card07/07.0004/online"));
	assert_false(exists(sim, "devices/ap/card07/07.0004/load"));
	RD_EQ(sim, "devices/ap/card07/07.0004/status", "unassigned\n");
	RD_EQ(sim, "devices/ap/card07/07.0004/request_count", "-\n");
	assert_false(exists(sim, "bus/ap/drivers/cex4queue/07.0004"));
	assert_true(exists(sim, "bus/ap/drivers/vfio_ap/07.0004"));
	/* Cards ignore the masks. */
	assert_string_equal(link_of(sim, "devices/ap/card07/driver"),
			    "../../../bus/ap/drivers/cex4card");
	RD_EQ(sim, "bus/ap/bindings", "12/12 (complete)\n");

	/* And back. */
	WR_OK(sim, "bus/ap/apmask", "+7");
	RD_EQ(sim, "devices/ap/card07/07.00ff/online", "1\n");
	assert_true(exists(sim, "bus/ap/drivers/cex4queue/07.00ff"));
	sim_free(sim);
}

static void test_mask_change_uevents(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	const char *ev;

	WR_OK(sim, "bus/ap/aqmask", "-0xff");
	ev = rd(sim, SIM_CONTROL_DIR "/uevents");
	/* Only queue 07.00ff moves: unbind, bind to vfio_ap, then the mask. */
	assert_non_null(strstr(ev, "unbind /devices/ap/card07/07.00ff ap DEVTYPE=ap_queue "
				   "MODE=accel\n"));
	assert_non_null(strstr(ev, "bind /devices/ap/card07/07.00ff ap DEVTYPE=ap_queue "
				   "DRIVER=vfio_ap MODE=accel\n"));
	assert_non_null(strstr(ev,
			       "change /devices/ap ap AQMASK=0xffffffffffffffffffffffffffffffffff"
			       "fffffffffffffffffffffffffffffe\\n\n"));
	assert_null(strstr(ev, "07.0004"));
	assert_null(strstr(ev, "05.00ff"));
	assert_true(strstr(ev, "unbind") < strstr(ev, "AQMASK"));
	sim_free(sim);
}

static void test_unchanged_mask_sends_nothing(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/aqmask", "+4");
	RD_EQ(sim, SIM_CONTROL_DIR "/uevents", "");
	sim_free(sim);
}

static void test_in_use_ebusy_on_6x(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	WR_ERR(sim, "bus/ap/apmask", "+5", EBUSY);
	RD_EQ(sim, "bus/ap/apmask",
	      "0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n");
	assert_true(dmesg_contains(sim, "vfio_ap_mdev " UUID_A ": Can not reserve queue 05.0004 "
					"for host driver: in use by mdev"));
	assert_false(uevents_contain(sim, "APMASK"));
	assert_false(uevents_contain(sim, "unbind /devices/ap/card05"));
	/* An absolute write that sets the bit is refused as well. */
	WR_ERR(sim, "bus/ap/apmask", "0xff", EBUSY);
	/* Adapter 6 holds no assigned APQN: it may go back to the host. */
	WR_OK(sim, "bus/ap/apmask", "+6");
	assert_string_equal(link_of(sim, "devices/ap/card06/06.0004/driver"),
			    "../../../../bus/ap/drivers/cex4queue");
	sim_free(sim);
}

static void test_in_use_aqmask_checks_current_apmask(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	/* Domain 4 x adapters of the apmask (not 5): nothing assigned there. */
	WR_OK(sim, "bus/ap/aqmask", "-4");
	WR_OK(sim, "bus/ap/aqmask", "+4");
	/* Now with adapter 5 in the apmask the domain is in use. */
	WR_OK(sim, "bus/ap/aqmask", "-4");
	sim_free(sim);

	sim = simtest_new(6, 10);
	WR_OK(sim, "bus/ap/aqmask", "-4");
	make_mdev(sim, UUID_A, "7", "4");
	WR_ERR(sim, "bus/ap/aqmask", "+4", EBUSY);
	assert_true(dmesg_contains(sim, "Can not reserve queue 07.0004"));
	sim_free(sim);
}

static void test_in_use_old_message_on_6_1(void **state)
{
	struct sim *sim = simtest_new(6, 1);

	make_mdev(sim, UUID_A, "5", "4");
	WR_ERR(sim, "bus/ap/apmask", "+5", EBUSY);
	assert_true(dmesg_contains(sim, "Userspace may not re-assign queue 05.0004 already "
					"assigned to " UUID_A));
	sim_free(sim);
}

static void test_no_in_use_check_before_6_0(void **state)
{
	struct sim *sim = simtest_new(5, 15);

	make_mdev(sim, UUID_A, "5", "4");
	WR_OK(sim, "bus/ap/apmask", "+5");
	/* The queue went to the host although assigned; the matrix stays. */
	assert_string_equal(link_of(sim, "devices/ap/card05/05.0004/driver"),
			    "../../../../bus/ap/drivers/cex4queue");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n");
	/* No APMASK uevent before 6.0. */
	assert_false(uevents_contain(sim, "APMASK"));
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_attribute_formats),
		cmocka_unit_test(test_bus_attribute_modes),
		cmocka_unit_test(test_old_kernel_lacks_features),
		cmocka_unit_test(test_ap_domain_write),
		cmocka_unit_test(test_config_time_write),
		cmocka_unit_test(test_poll_thread_and_timeout),
		cmocka_unit_test(test_scans_write_rescans),
		cmocka_unit_test(test_bindings_incomplete_without_vfio_ap),
		cmocka_unit_test(test_mask_absolute),
		cmocka_unit_test(test_mask_relative),
		cmocka_unit_test(test_mask_relative_edits_current),
		cmocka_unit_test(test_mask_bits_above_max_accepted),
		cmocka_unit_test(test_zero_length_write_is_noop),
		cmocka_unit_test(test_mask_clear_moves_queues_to_vfio),
		cmocka_unit_test(test_mask_change_uevents),
		cmocka_unit_test(test_unchanged_mask_sends_nothing),
		cmocka_unit_test(test_in_use_ebusy_on_6x),
		cmocka_unit_test(test_in_use_aqmask_checks_current_apmask),
		cmocka_unit_test(test_in_use_old_message_on_6_1),
		cmocka_unit_test(test_no_in_use_check_before_6_0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
