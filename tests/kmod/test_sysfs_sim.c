/* SPDX-License-Identifier: MIT */
/* The sysfs port over the in-process simulator: the same contract as over
 * real files (see test_sysfs_dir.c), with the simulated kernel's answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmod/sysfs.h"
#include "tests/kmod/sim_hosts.h"

#define ONES62 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define ONES64 "ff" ONES62

struct fixture {
	struct sim *sim;
	struct sysfs *fs;
};

static int setup_version(void **state, unsigned major, unsigned minor)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_config cfg;

	assert_non_null(f);
	sim_host_seed(major, minor, &cfg);
	assert_int_equal(sim_new(&cfg, &f->sim), 0);
	assert_int_equal(sysfs_open_sim(f->sim, &f->fs), 0);
	*state = f;
	return 0;
}

static int setup_610(void **state)
{
	return setup_version(state, 6, 10);
}

static int setup_515(void **state)
{
	return setup_version(state, 5, 15);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* The port does not own the simulator: both must be freed. */
	assert_null(sysfs_free(f->fs));
	assert_null(sim_free(f->sim));
	free(f);
	return 0;
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	char buf[128];
	long v = 0;

	assert_string_equal(sysfs_root(f->fs), "simulator");
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, sizeof(buf)), 67);
	assert_string_equal(buf, "0x" ONES64 "\n");
	assert_int_equal(sysfs_read_line(f->fs, "devices/ap/card05/type", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "CEX5C");
	/* Through the bus's symlink to the device. */
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/devices/06.00ab/online", buf, sizeof(buf)),
			 1);
	assert_string_equal(buf, "1");

	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/ap_max_adapter_id", &v), 0);
	assert_int_equal(v, 63);
	assert_int_equal(sysfs_read_long(f->fs, "devices/ap/card06/ap_functions", &v), 0);
	assert_int_equal(v, 0xEA000000L);
	assert_int_equal(sysfs_read_long(f->fs, "devices/ap/card06/hwtype", &v), 0);
	assert_int_equal(v, 11);
}

static void test_read_errors(void **state)
{
	struct fixture *f = *state;
	char buf[128];

	/* 67 bytes need 68 with the NUL. */
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 67), -EFBIG);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 68), 67);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/nothing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/devices", buf, sizeof(buf)), -EISDIR);
	assert_int_equal(sysfs_read(f->fs,
				    "devices/vfio_ap/matrix/mdev_supported_types/"
				    "vfio_ap-passthrough/create",
				    buf, sizeof(buf)),
			 -EACCES);
	assert_int_equal(sysfs_read(f->fs, "/bus/ap/apmask", buf, sizeof(buf)), -EINVAL);
}

static void test_write(void **state)
{
	struct fixture *f = *state;
	char buf[128];

	/* A relative edit takes adapter 5 from the host. */
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/apmask", "-5\n"), 0);
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/apmask", buf, sizeof(buf)), 66);
	assert_string_equal(buf, "0xfb" ONES62);

	/* The kernel's errno comes back unchanged. */
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/apmask", "+5 \n"), -EINVAL);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/ap_max_adapter_id", "5\n"), -EACCES);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/nothing", "5\n"), -ENOENT);

	/* An injected failure hits the next write to that path, once. */
	assert_int_equal(sim_fail_next_write(f->sim, "bus/ap/apmask", EIO), 0);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/apmask", "+5\n"), -EIO);
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/apmask", buf, sizeof(buf)), 66);
	assert_string_equal(buf, "0xfb" ONES62);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/apmask", "+5\n"), 0);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, sizeof(buf)), 67);
	assert_string_equal(buf, "0x" ONES64 "\n");
}

struct names {
	unsigned n, cards, queues;
	int stop_at;
};

static int count_names(void *userdata, const char *name)
{
	struct names *n = userdata;

	n->n++;
	if (!strncmp(name, "card", 4))
		n->cards++;
	else if (strlen(name) == 7 && name[2] == '.')
		n->queues++;
	return n->stop_at && (int) n->n == n->stop_at ? -EINTR : 0;
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct names n = { 0 };

	assert_int_equal(sysfs_list(f->fs, "bus/ap/devices", count_names, &n), 0);
	assert_int_equal(n.cards, 2);
	assert_int_equal(n.queues, 8);
	assert_int_equal(n.n, 10);

	memset(&n, 0, sizeof(n));
	assert_int_equal(sysfs_list(f->fs, "bus/ap/drivers/cex4queue", count_names, &n), 0);
	assert_int_equal(n.queues, 8);
	memset(&n, 0, sizeof(n));
	assert_int_equal(sysfs_list(f->fs, "bus/ap/drivers/vfio_ap", count_names, &n), 0);
	assert_int_equal(n.queues, 0);

	memset(&n, 0, sizeof(n));
	n.stop_at = 3;
	assert_int_equal(sysfs_list(f->fs, "bus/ap/devices", count_names, &n), -EINTR);
	assert_int_equal(n.n, 3);

	assert_int_equal(sysfs_list(f->fs, "bus/ap/apmask", count_names, &n), -ENOTDIR);
	assert_int_equal(sysfs_list(f->fs, "bus/none", count_names, &n), -ENOENT);
}

static void test_readlink_exists(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/devices/card05", buf, sizeof(buf)), 26);
	assert_string_equal(buf, "../../../devices/ap/card05");
	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/devices/card05", buf, 26), -EFBIG);
	assert_int_equal(
	    sysfs_readlink(f->fs, "devices/ap/card05/05.0004/driver", buf, sizeof(buf)), 36);
	assert_string_equal(buf, "../../../../bus/ap/drivers/cex4queue");

	assert_int_equal(sysfs_exists(f->fs, ""), 1);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/devices/card05"), 1);
	assert_int_equal(sysfs_exists(f->fs, "devices/ap/card05/chkstop"), 1);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/features"), 1);
	assert_int_equal(sysfs_exists(f->fs, "devices/ap/card07"), 0);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/apmask/below"), 0);
}

static void test_old_kernel_files(void **state)
{
	struct fixture *f = *state;

	/* 5.15 has no features, no chkstop; the mdev type is there. */
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/features"), 0);
	assert_int_equal(sysfs_exists(f->fs, "devices/ap/card05/chkstop"), 0);
	assert_int_equal(sysfs_exists(f->fs, "devices/vfio_ap/matrix/mdev_supported_types/"
					     "vfio_ap-passthrough/create"),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_write, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_readlink_exists, setup_610, teardown),
		cmocka_unit_test_setup_teardown(test_old_kernel_files, setup_515, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
