/* SPDX-License-Identifier: MIT */
/*
 * vfio_ap and the mdev core: the matrix device and mdev tree (reference
 * §1.5), assign/unassign (§2.2), ap_config (§2.3), create/remove (§2.4).
 */
#include "tests/sim/simtest.h"

#define UUID_A_UPPER "11111111-2222-3333-4444-555555555555"
#define UUID_C	     "0000abcd-0000-0000-0000-00000000000c"
#define UUID_C_UPPER "0000ABCD-0000-0000-0000-00000000000C"
#define MDEV_C	     "devices/vfio_ap/matrix/" UUID_C

static void test_matrix_device_tree(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	RD_EQ(sim, MDEV_TYPE "/name", "VFIO AP Passthrough Device\n");
	RD_EQ(sim, MDEV_TYPE "/device_api", "vfio-ap\n");
	RD_EQ(sim, MDEV_TYPE "/available_instances", "65536\n");
	assert_int_equal(mode_of(sim, MDEV_TYPE "/create"), 0200);
	RD_EQ(sim, MDEV_TYPE "/create", "ERR:13");
	assert_false(exists(sim, MDEV_TYPE "/description"));
	assert_true(exists(sim, MDEV_TYPE "/devices"));
	assert_string_equal(link_of(sim, "devices/vfio_ap/matrix/driver"),
			    "../../../bus/matrix/drivers/vfio_ap");
	assert_string_equal(link_of(sim, "devices/vfio_ap/matrix/subsystem"),
			    "../../../bus/matrix");
	assert_string_equal(link_of(sim, "bus/matrix/devices/matrix"),
			    "../../../devices/vfio_ap/matrix");
	assert_string_equal(link_of(sim, "bus/matrix/drivers/vfio_ap/matrix"),
			    "../../../../devices/vfio_ap/matrix");
	assert_false(exists(sim, "bus/matrix/drivers/vfio_ap/bind"));
	assert_string_equal(link_of(sim, "class/mdev_bus/matrix"), "../../devices/vfio_ap/matrix");
	RD_EQ(sim, "class/mdev_bus/matrix/mdev_supported_types/vfio_ap-passthrough/device_api",
	      "vfio-ap\n");
	sim_free(sim);
}

static void test_mdev_tree(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
	} attrs[] = {
		{ "assign_adapter", 0200 },
		{ "unassign_adapter", 0200 },
		{ "assign_domain", 0200 },
		{ "unassign_domain", 0200 },
		{ "assign_control_domain", 0200 },
		{ "unassign_control_domain", 0200 },
		{ "matrix", 0444 },
		{ "guest_matrix", 0444 },
		{ "control_domains", 0444 },
		{ "ap_config", 0644 },
		{ "remove", 0200 },
	};
	struct sim *sim = simtest_new(6, 10);
	char path[160];

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), MDEV_A "/%s", attrs[i].name);
		assert_int_equal(mode_of(sim, path), attrs[i].mode);
	}
	assert_string_equal(link_of(sim, MDEV_A "/mdev_type"),
			    "../mdev_supported_types/vfio_ap-passthrough");
	assert_string_equal(link_of(sim, MDEV_A "/driver"),
			    "../../../../bus/mdev/drivers/vfio_ap_mdev");
	assert_string_equal(link_of(sim, MDEV_A "/subsystem"), "../../../../bus/mdev");
	assert_string_equal(link_of(sim, "bus/mdev/devices/" UUID_A),
			    "../../../devices/vfio_ap/matrix/" UUID_A);
	assert_string_equal(link_of(sim, MDEV_TYPE "/devices/" UUID_A), "../../../" UUID_A);
	assert_string_equal(link_of(sim, "bus/mdev/drivers/vfio_ap_mdev/" UUID_A),
			    "../../../../devices/vfio_ap/matrix/" UUID_A);
	RD_EQ(sim, MDEV_TYPE "/devices/" UUID_A "/mdev_type/name", "VFIO AP Passthrough Device\n");
	RD_EQ(sim, MDEV_TYPE "/available_instances", "65535\n");
	assert_true(uevents_contain(sim, " add /devices/vfio_ap/matrix/" UUID_A " mdev"));
	assert_true(uevents_contain(sim, " bind /devices/vfio_ap/matrix/" UUID_A
					 " mdev DRIVER=vfio_ap_mdev"));
	sim_free(sim);
}

static void test_mdev_tree_by_generation(void **state)
{
	struct sim *sim = simtest_new(6, 1);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	assert_false(exists(sim, MDEV_A "/ap_config"));
	assert_true(exists(sim, MDEV_A "/guest_matrix"));
	sim_free(sim);

	sim = simtest_new(5, 15);
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	assert_false(exists(sim, MDEV_A "/ap_config"));
	assert_false(exists(sim, MDEV_A "/guest_matrix"));
	/* Before 5.16 mdevs bind to vfio_mdev. */
	assert_string_equal(link_of(sim, MDEV_A "/driver"),
			    "../../../../bus/mdev/drivers/vfio_mdev");
	assert_true(exists(sim, "bus/mdev/drivers/vfio_mdev/" UUID_A));
	sim_free(sim);
}

static void test_create(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	/* Either case; the directory is lowercase. */
	WR_OK(sim, MDEV_TYPE "/create", UUID_C_UPPER "\n");
	assert_true(exists(sim, MDEV_C));
	assert_false(exists(sim, "devices/vfio_ap/matrix/" UUID_C_UPPER));
	WR_ERR(sim, MDEV_TYPE "/create", UUID_C, EEXIST);
	WR_ERR(sim, MDEV_TYPE "/create", UUID_C_UPPER, EEXIST);
	/* 36 or 37 bytes, the 37th anything. */
	WR_OK(sim, MDEV_TYPE "/create", UUID_A "x");
	WR_ERR(sim, MDEV_TYPE "/create", "11111111-2222-3333-4444-55555555555", EINVAL);
	WR_ERR(sim, MDEV_TYPE "/create", UUID_B "\n\n", EINVAL);
	WR_ERR(sim, MDEV_TYPE "/create", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeg", EINVAL);
	WR_ERR(sim, MDEV_TYPE "/create", "aaaaaaaa0bbbb-cccc-dddd-eeeeeeeeeeee", EINVAL);
	WR_ERR(sim, MDEV_TYPE "/create", "aaaaaaaabbbbccccddddeeeeeeeeeeeeeeee", EINVAL);
	RD_EQ(sim, MDEV_TYPE "/available_instances", "65534\n");
	sim_free(sim);
}

static void test_create_out_of_instances(void **state)
{
	static const struct {
		unsigned major, minor;
		int err;
	} gens[] = { { 6, 10, EUSERS }, { 6, 1, EUSERS }, { 6, 0, EPERM }, { 5, 15, EPERM } };

	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		struct sim *sim = simtest_new(gens[i].major, gens[i].minor);

		assert_int_equal(sim_set_max_instances(sim, 1), 0);
		WR_OK(sim, MDEV_TYPE "/create", UUID_A);
		RD_EQ(sim, MDEV_TYPE "/available_instances", "0\n");
		WR_ERR(sim, MDEV_TYPE "/create", UUID_B, gens[i].err);
		/* A duplicate is found before the count. */
		WR_ERR(sim, MDEV_TYPE "/create", UUID_A, EEXIST);
		sim_free(sim);
	}
}

static void test_remove(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	WR_ERR(sim, MDEV_A "/remove", "x", EINVAL);
	WR_ERR(sim, MDEV_A "/remove", "99999999999999999999999", EINVAL);
	WR_ERR(sim, MDEV_A "/remove", "-1", EINVAL);
	WR_OK(sim, MDEV_A "/remove", "0");
	assert_true(exists(sim, MDEV_A));
	WR_OK(sim, MDEV_A "/remove", "1\n");
	assert_false(exists(sim, MDEV_A));
	assert_false(exists(sim, "bus/mdev/devices/" UUID_A));
	RD_EQ(sim, MDEV_TYPE "/available_instances", "65536\n");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "unassigned\n");
	{
		const char *ev = rd(sim, SIM_CONTROL_DIR "/uevents");
		const char *unbind = strstr(ev, " unbind /devices/vfio_ap/matrix/" UUID_A " mdev");
		const char *remove = strstr(ev, " remove /devices/vfio_ap/matrix/" UUID_A " mdev");

		assert_non_null(unbind);
		assert_non_null(remove);
		assert_true(unbind < remove);
	}
	/* The UUID is free again. */
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	sim_free(sim);
}

static void test_remove_ebusy_before_5_13(void **state)
{
	struct sim *sim = simtest_new(5, 10);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	WR_ERR(sim, MDEV_A "/remove", "1", EBUSY);
	assert_true(exists(sim, MDEV_A "/remove"));
	assert_int_equal(sim_kvm_detach(sim, UUID_A), 0);
	WR_OK(sim, MDEV_A "/remove", "1");
	assert_false(exists(sim, MDEV_A));
	sim_free(sim);
}

/* ---- read formats ---- */

static void test_matrix_formats(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	RD_EQ(sim, MDEV_A "/matrix", "");
	RD_EQ(sim, MDEV_A "/guest_matrix", "");
	RD_EQ(sim, MDEV_A "/control_domains", "");
	RD_EQ(sim, MDEV_A "/ap_config",
	      "0x0000000000000000000000000000000000000000000000000000000000000000,"
	      "0x0000000000000000000000000000000000000000000000000000000000000000,"
	      "0x0000000000000000000000000000000000000000000000000000000000000000\n");
	WR_OK(sim, MDEV_A "/assign_adapter", "6");
	WR_OK(sim, MDEV_A "/assign_adapter", "5");
	RD_EQ(sim, MDEV_A "/matrix", "05.\n06.\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.\n06.\n");
	WR_OK(sim, MDEV_A "/unassign_adapter", "5");
	WR_OK(sim, MDEV_A "/unassign_adapter", "6");
	WR_OK(sim, MDEV_A "/assign_domain", "0xab");
	WR_OK(sim, MDEV_A "/assign_domain", "4");
	RD_EQ(sim, MDEV_A "/matrix", ".0004\n.00ab\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", ".0004\n.00ab\n");
	WR_OK(sim, MDEV_A "/assign_adapter", "6");
	WR_OK(sim, MDEV_A "/assign_adapter", "5");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	WR_OK(sim, MDEV_A "/assign_control_domain", "0xab");
	WR_OK(sim, MDEV_A "/assign_control_domain", "0x0b");
	RD_EQ(sim, MDEV_A "/control_domains", "000b\n00ab\n");
	RD_EQ(sim, MDEV_A "/ap_config",
	      "0x0600000000000000000000000000000000000000000000000000000000000000,"
	      "0x0800000000000000000000000000000000000000001000000000000000000000,"
	      "0x0010000000000000000000000000000000000000001000000000000000000000\n");
	sim_free(sim);
}

static void test_show_cut_at_one_page(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	const char *m;

	WR_OK(sim, "bus/ap/apmask", "0x");
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	/* 64 adapters x 16 domains: 1024 lines of 8 bytes, two pages. */
	WR_OK(sim, MDEV_A "/ap_config", "0xffffffffffffffff,0xffff,0x\n");
	m = rd(sim, MDEV_A "/matrix");
	assert_int_equal(strlen(m), 4095);
	assert_memory_equal(m, "00.0000\n00.0001\n", 16);
	assert_true(dmesg_contains(sim, "fill_read_buffer: matrix_show returned bad count"));
	sim_free(sim);
}

/* ---- §2.2 ---- */

static void test_assign_number_parsing(void **state)
{
	static const struct {
		const char *input;
		int err;
		const char *matrix;
	} cases[] = {
		{ "5", 0, "05.\n" },
		{ "0x5", 0, "05.\n" },
		{ "0X5", 0, "05.\n" },
		{ "+5", 0, "05.\n" },
		{ "05", 0, "05.\n" },
		{ "5\n", 0, "05.\n" },
		{ "010", 0, "08.\n" },
		{ "0xab", 0, "ab.\n" },
		{ "0", 0, "00.\n" },
		{ "08", EINVAL, "" },
		{ " 5", EINVAL, "" },
		{ "5 ", EINVAL, "" },
		{ "-5", EINVAL, "" },
		{ "\n", EINVAL, "" },
		{ "5\n\n", EINVAL, "" },
		{ "0x", EINVAL, "" },
		{ "abc", EINVAL, "" },
		{ "++5", EINVAL, "" },
		{ "99999999999999999999999", ERANGE, "" },
		{ "256", ENODEV, "" },
		{ "0x100", ENODEV, "" },
	};
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ssize_t r = wr(sim, MDEV_A "/assign_adapter", cases[i].input);

		if (r != (cases[i].err ? -cases[i].err : (ssize_t) strlen(cases[i].input)))
			fail_msg("assign \"%s\": got %zd", cases[i].input, r);
		RD_EQ(sim, MDEV_A "/matrix", cases[i].matrix);
		if (!cases[i].err)
			WR_OK(sim, MDEV_A "/unassign_adapter", cases[i].input);
	}
	sim_free(sim);
}

static void test_enodev_above_max(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.max_adapter = 63;
	cfg.max_domain = 84;
	sim = simtest_new_cfg(&cfg);
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	WR_ERR(sim, MDEV_A "/assign_adapter", "64", ENODEV);
	WR_OK(sim, MDEV_A "/assign_adapter", "63");
	WR_OK(sim, MDEV_A "/unassign_adapter", "63");
	WR_ERR(sim, MDEV_A "/assign_domain", "85", ENODEV);
	WR_ERR(sim, MDEV_A "/assign_control_domain", "85", ENODEV);
	WR_OK(sim, MDEV_A "/assign_domain", "84");
	/* Unassign checks the limit too, before "not assigned". */
	WR_ERR(sim, MDEV_A "/unassign_adapter", "64", ENODEV);
	WR_ERR(sim, MDEV_A "/unassign_domain", "85", ENODEV);
	WR_ERR(sim, MDEV_A "/unassign_control_domain", "255", ENODEV);
	/* Parsing comes first. */
	WR_ERR(sim, MDEV_A "/assign_adapter", "99999999999999999999999", ERANGE);
	sim_free(sim);
}

static void test_assign_check_order_6x(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	WR_OK(sim, MDEV_TYPE "/create", UUID_B);
	/* An adapter with no domain forms no APQN: host-owned 07 passes. */
	WR_OK(sim, MDEV_B "/assign_adapter", "7");
	/* Now 07.0047 would be a host queue. */
	WR_ERR(sim, MDEV_B "/assign_domain", "0x47", EADDRNOTAVAIL);
	RD_EQ(sim, MDEV_B "/matrix", "07.\n");
	WR_OK(sim, MDEV_B "/unassign_adapter", "7");
	/* 05.0004 belongs to A. */
	WR_OK(sim, MDEV_B "/assign_domain", "4");
	WR_ERR(sim, MDEV_B "/assign_adapter", "5", EADDRINUSE);
	assert_true(dmesg_contains(sim, "vfio_ap_mdev " UUID_B ": Userspace may not assign queue "
					"05.0004 to mdev: already assigned to " UUID_A));
	RD_EQ(sim, MDEV_B "/matrix", ".0004\n");
	WR_OK(sim, MDEV_B "/assign_adapter", "6");
	WR_ERR(sim, MDEV_B "/assign_adapter", "7", EADDRNOTAVAIL);
	/* Duplicates and unassigning what is not assigned succeed. */
	WR_OK(sim, MDEV_B "/assign_adapter", "6");
	WR_OK(sim, MDEV_B "/unassign_adapter", "9");
	WR_OK(sim, MDEV_B "/unassign_domain", "0xab");
	WR_OK(sim, MDEV_B "/unassign_control_domain", "1");
	RD_EQ(sim, MDEV_B "/matrix", "06.0004\n");
	/* Over-provisioning: adapter 0x20 does not exist (and is no host's). */
	WR_ERR(sim, MDEV_B "/assign_adapter", "0x20", EADDRNOTAVAIL);
	WR_OK(sim, "bus/ap/apmask", "-0x20");
	WR_OK(sim, MDEV_B "/assign_adapter", "0x20");
	RD_EQ(sim, MDEV_B "/matrix", "06.0004\n20.0004\n");
	RD_EQ(sim, MDEV_B "/guest_matrix", "06.0004\n");
	sim_free(sim);
}

static void test_eaddrnotavail_before_eaddrinuse(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/aqmask", "-0x47");
	make_mdev(sim, UUID_A, "5", "4");
	make_mdev(sim, UUID_B, "5 7", "0x47");
	/* Domain 4 would give B both 05.0004 (A's) and 07.0004 (the host's). */
	WR_ERR(sim, MDEV_B "/assign_domain", "4", EADDRNOTAVAIL);
	assert_false(dmesg_contains(sim, "already assigned"));
	WR_OK(sim, MDEV_B "/unassign_adapter", "7");
	WR_ERR(sim, MDEV_B "/assign_domain", "4", EADDRINUSE);
	RD_EQ(sim, MDEV_B "/matrix", "05.0047\n");
	sim_free(sim);
}

static void test_control_domains_shared(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, "bus/ap/aqmask", "0xff");
	make_mdev(sim, UUID_A, "5", "0xab");
	make_mdev(sim, UUID_B, "6", "0xff");
	/* Shared, and inside the aqmask: control domains are not validated. */
	WR_OK(sim, MDEV_A "/assign_control_domain", "2");
	WR_OK(sim, MDEV_B "/assign_control_domain", "2");
	WR_OK(sim, MDEV_B "/assign_control_domain", "2");
	WR_OK(sim, MDEV_B "/assign_control_domain", "0xab");
	RD_EQ(sim, MDEV_A "/control_domains", "0002\n");
	RD_EQ(sim, MDEV_B "/control_domains", "0002\n00ab\n");
	WR_OK(sim, MDEV_B "/unassign_control_domain", "2");
	RD_EQ(sim, MDEV_B "/control_domains", "00ab\n");
	sim_free(sim);
}

static void test_running_guest_6x_hot_plug(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "in use\n");
	WR_OK(sim, MDEV_A "/assign_domain", "0x47");
	WR_OK(sim, MDEV_A "/assign_control_domain", "0x0b");
	WR_OK(sim, MDEV_A "/unassign_domain", "4");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0047\n");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "unassigned\n");
	/* No uevent for assignments or hot plug. */
	assert_false(uevents_contain(sim, "GUEST"));
	sim_free(sim);
}

static void test_old_kernel_assign_rules(void **state)
{
	struct sim *sim = simtest_new(5, 15);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	/* No bound queue with that adapter at all. */
	WR_ERR(sim, MDEV_A "/assign_adapter", "7", EADDRNOTAVAIL);
	WR_ERR(sim, MDEV_A "/assign_adapter", "0x20", EADDRNOTAVAIL);
	WR_OK(sim, MDEV_A "/assign_adapter", "5");
	/* 05.0047 bound to vfio_ap: fine; with adapter 7, 07.0047 is not. */
	WR_OK(sim, MDEV_A "/assign_domain", "0x47");
	WR_ERR(sim, MDEV_A "/assign_domain", "0x10", EADDRNOTAVAIL);
	RD_EQ(sim, MDEV_A "/matrix", "05.0047\n");
	/* Parsing and ENODEV still first. */
	WR_ERR(sim, MDEV_A "/assign_adapter", "x", EINVAL);
	WR_ERR(sim, MDEV_A "/assign_adapter", "256", ENODEV);
	/* Sharing. */
	WR_OK(sim, MDEV_TYPE "/create", UUID_B);
	WR_OK(sim, MDEV_B "/assign_domain", "0x47");
	WR_ERR(sim, MDEV_B "/assign_adapter", "5", EADDRINUSE);
	RD_EQ(sim, MDEV_B "/matrix", ".0047\n");
	/* Duplicates are validated again: unbind 05.0047 and re-assign. */
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	WR_ERR(sim, MDEV_A "/assign_adapter", "5", EADDRNOTAVAIL);
	RD_EQ(sim, MDEV_A "/matrix", "05.0047\n");
	sim_free(sim);
}

static void test_old_kernel_running_guest_ebusy(void **state)
{
	struct sim *sim = simtest_new(5, 15);

	make_mdev(sim, UUID_A, "5", "4");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	/* EBUSY comes before parsing. */
	WR_ERR(sim, MDEV_A "/assign_adapter", "6", EBUSY);
	WR_ERR(sim, MDEV_A "/assign_adapter", "junk", EBUSY);
	WR_ERR(sim, MDEV_A "/unassign_adapter", "5", EBUSY);
	WR_ERR(sim, MDEV_A "/assign_domain", "0x47", EBUSY);
	WR_ERR(sim, MDEV_A "/unassign_domain", "4", EBUSY);
	WR_ERR(sim, MDEV_A "/assign_control_domain", "4", EBUSY);
	WR_ERR(sim, MDEV_A "/unassign_control_domain", "4", EBUSY);
	assert_int_equal(sim_kvm_detach(sim, UUID_A), 0);
	WR_OK(sim, MDEV_A "/assign_adapter", "6");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n06.0004\n");
	sim_free(sim);
}

static void test_duplicate_6x_not_revalidated(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "0x47");
	WR_OK(sim, "bus/ap/drivers/vfio_ap/unbind", "05.0047");
	WR_OK(sim, MDEV_A "/assign_adapter", "5");
	RD_EQ(sim, MDEV_A "/matrix", "05.0047\n");
	sim_free(sim);
}

/* ---- §2.3 ---- */

#define HEX64_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static void test_ap_config_write(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	/* Adapters 5, 6; domains 4, 0xab; control domain 0x0b. */
	WR_OK(sim, MDEV_A "/ap_config",
	      "0x06,0x08000000000000000000000000000000000000000010,0x001\n");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	RD_EQ(sim, MDEV_A "/guest_matrix", "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	RD_EQ(sim, MDEV_A "/control_domains", "000b\n");
	/* "A,B\n": the third token is empty, ADM = 0. */
	WR_OK(sim, MDEV_A "/ap_config", "04,08\n");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n");
	RD_EQ(sim, MDEV_A "/control_domains", "");
	/* Without the newline there is no third token. */
	WR_ERR(sim, MDEV_A "/ap_config", "04,08", EINVAL);
	/* Anything after the third token is ignored. */
	WR_OK(sim, MDEV_A "/ap_config", "02,08,,junk");
	RD_EQ(sim, MDEV_A "/matrix", "06.0004\n");
	WR_OK(sim, MDEV_A "/ap_config", "04,08,0\njunk");
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n");
	/* Parse errors. */
	WR_ERR(sim, MDEV_A "/ap_config", "0X04,08,0\n", EINVAL);
	WR_ERR(sim, MDEV_A "/ap_config", "04 ,08,0\n", EINVAL);
	WR_ERR(sim, MDEV_A "/ap_config", "0x" HEX64_ZERO "0,08,0\n", EINVAL);
	WR_ERR(sim, MDEV_A "/ap_config", "", 0); /* an empty write never reaches store() */
	WR_OK(sim, MDEV_A "/ap_config", ",,\n");
	RD_EQ(sim, MDEV_A "/matrix", "");
	sim_free(sim);
}

static void test_ap_config_errors_atomic(void **state)
{
	static struct sim_config cfg;
	struct sim *sim;

	simtest_config(&cfg, 6, 10);
	cfg.max_domain = 84;
	cfg.usage_domains = IDSET_EMPTY;
	idset_add(&cfg.usage_domains, 4);
	idset_add(&cfg.usage_domains, 0x47);
	sim = simtest_new_cfg(&cfg);
	make_mdev(sim, UUID_B, "6", "0x47");
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	WR_OK(sim, MDEV_A "/ap_config", "04,08,0\n");
	/* Adapter 7 belongs to the host. */
	WR_ERR(sim, MDEV_A "/ap_config", "05,08,0\n", EADDRNOTAVAIL);
	/* 06.0047 belongs to B. */
	WR_ERR(sim, MDEV_A "/ap_config", "02,0000000000000000010,0\n", EADDRINUSE);
	/* Domain 85 is above the max. */
	WR_ERR(sim, MDEV_A "/ap_config", "04,0000000000000000000004,0\n", ENODEV);
	WR_ERR(sim, MDEV_A "/ap_config", "04,08,0000000000000000000004\n", ENODEV);
	/* Host ownership is found before the max. */
	WR_ERR(sim, MDEV_A "/ap_config", "05,0000000000000000000004,0\n", EADDRNOTAVAIL);
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n");
	RD_EQ(sim, MDEV_A "/control_domains", "");
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix_device_tree),
		cmocka_unit_test(test_mdev_tree),
		cmocka_unit_test(test_mdev_tree_by_generation),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_out_of_instances),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_remove_ebusy_before_5_13),
		cmocka_unit_test(test_matrix_formats),
		cmocka_unit_test(test_show_cut_at_one_page),
		cmocka_unit_test(test_assign_number_parsing),
		cmocka_unit_test(test_enodev_above_max),
		cmocka_unit_test(test_assign_check_order_6x),
		cmocka_unit_test(test_eaddrnotavail_before_eaddrinuse),
		cmocka_unit_test(test_control_domains_shared),
		cmocka_unit_test(test_running_guest_6x_hot_plug),
		cmocka_unit_test(test_old_kernel_assign_rules),
		cmocka_unit_test(test_old_kernel_running_guest_ebusy),
		cmocka_unit_test(test_duplicate_6x_not_revalidated),
		cmocka_unit_test(test_ap_config_write),
		cmocka_unit_test(test_ap_config_errors_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
