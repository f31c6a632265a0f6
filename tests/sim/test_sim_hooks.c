/* SPDX-License-Identifier: MIT */
/*
 * The control directory and C hooks (attach/detach, adapters, checkstop,
 * injected failures), uevent delivery and the kernel log, the blocking mdev
 * remove, and the VFS rules of the view (errnos, links, listings).
 */
#include <pthread.h>
#include <unistd.h>

#include "tests/sim/simtest.h"

#define CTL SIM_CONTROL_DIR "/"

/* ---- control files ---- */

struct names {
	char list[1024];
};

static int collect_names(void *userdata, const char *name, const struct sim_stat *st)
{
	struct names *n = userdata;
	char entry[80];

	snprintf(entry, sizeof(entry), "%s:%c%o ", name,
		 st->type == SIM_NODE_DIR    ? 'd'
		 : st->type == SIM_NODE_LINK ? 'l'
					     : 'f',
		 (unsigned) st->mode);
	strncat(n->list, entry, sizeof(n->list) - strlen(n->list) - 1);
	return 0;
}

static void test_control_dir_listing(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct names n = { "" };

	assert_int_equal(sim_readdir(sim, SIM_CONTROL_DIR, collect_names, &n), 0);
	assert_string_equal(n.list, "adapter_add:f200 adapter_remove:f200 attach:f200 "
				    "checkstop:f200 detach:f200 dmesg:f444 fail_next_write:f200 "
				    "kernel:f444 uevents:f444 ");
	RD_EQ(sim, CTL "kernel", "6.10\n");
	sim_free(sim);
	sim = simtest_new(5, 15);
	RD_EQ(sim, CTL "kernel", "5.15\n");
	sim_free(sim);
}

static void test_attach_detach_files(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	make_mdev(sim, UUID_A, "5", "4");
	WR_OK(sim, CTL "attach", UUID_A "\n");
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "in use\n");
	WR_ERR(sim, CTL "attach", UUID_A, EBUSY);
	WR_ERR(sim, CTL "attach", UUID_B, ENOENT);
	WR_OK(sim, CTL "detach", UUID_A);
	WR_ERR(sim, CTL "detach", UUID_A, EINVAL);
	WR_ERR(sim, CTL "detach", UUID_B, ENOENT);
	RD_EQ(sim, "devices/ap/card05/05.0004/status", "assigned\n");
	/* The C entry points agree. */
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	assert_int_equal(sim_kvm_attach(sim, UUID_A), -EBUSY);
	assert_int_equal(sim_kvm_detach(sim, UUID_A), 0);
	assert_int_equal(sim_kvm_detach(sim, UUID_B), -ENOENT);
	sim_free(sim);
}

static void test_adapter_and_checkstop_files(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, CTL "adapter_remove", "7\n");
	assert_false(exists(sim, "devices/ap/card07"));
	WR_ERR(sim, CTL "adapter_remove", "7", ENODEV);
	WR_ERR(sim, CTL "adapter_remove", "x", EINVAL);
	WR_OK(sim, CTL "adapter_add", "7 5 C\n");
	RD_EQ(sim, "devices/ap/card07/type", "CEX5C\n");
	RD_EQ(sim, "devices/ap/card07/07.0004/online", "1\n");
	WR_ERR(sim, CTL "adapter_add", "7 5 C", EEXIST);
	WR_ERR(sim, CTL "adapter_add", "0x10 9 C", EINVAL);
	WR_ERR(sim, CTL "adapter_add", "0x10 5 X", EINVAL);
	WR_ERR(sim, CTL "adapter_add", "300 5 C", EINVAL);
	WR_ERR(sim, CTL "adapter_add", "0x10 5", EINVAL);
	WR_ERR(sim, CTL "adapter_add", "0x10 5 C extra", EINVAL);
	WR_OK(sim, CTL "adapter_add", "0x10 8 P");
	RD_EQ(sim, "devices/ap/card10/type", "CEX8P\n");
	WR_OK(sim, CTL "checkstop", "0x10 1");
	RD_EQ(sim, "devices/ap/card10/chkstop", "1\n");
	WR_OK(sim, CTL "checkstop", "16 0\n");
	RD_EQ(sim, "devices/ap/card10/chkstop", "0\n");
	WR_ERR(sim, CTL "checkstop", "16 2", EINVAL);
	WR_ERR(sim, CTL "checkstop", "17 1", ENODEV);
	sim_free(sim);
}

static void test_fail_next_write(void **state)
{
	struct sim *sim = simtest_new(6, 10);

	WR_OK(sim, CTL "fail_next_write", "bus/ap/apmask EIO\n");
	WR_ERR(sim, "bus/ap/apmask", "-7", EIO);
	RD_EQ(sim, "bus/ap/apmask",
	      "0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n");
	WR_OK(sim, "bus/ap/apmask", "-7");
	/* A number, a leading slash; reads are not affected. */
	WR_OK(sim, CTL "fail_next_write", "/bus/ap/aqmask 16");
	RD_EQ(sim, "bus/ap/aqmask",
	      "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n");
	WR_ERR(sim, "bus/ap/aqmask", "-4", EBUSY);
	WR_OK(sim, "bus/ap/aqmask", "-4");
	WR_ERR(sim, CTL "fail_next_write", "bus/ap/aqmask EWHAT", EINVAL);
	WR_ERR(sim, CTL "fail_next_write", "bus/ap/aqmask", EINVAL);
	WR_ERR(sim, CTL "fail_next_write", "bus/ap/aqmask 0", EINVAL);
	/* The path is matched after links are followed. */
	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	assert_int_equal(
	    sim_fail_next_write(sim, "bus/mdev/devices/" UUID_A "/assign_adapter", EADDRINUSE), 0);
	WR_ERR(sim, MDEV_A "/assign_adapter", "5", EADDRINUSE);
	RD_EQ(sim, MDEV_A "/matrix", "");
	WR_OK(sim, MDEV_A "/assign_adapter", "5");
	/* A path that does not exist yet. */
	assert_int_equal(sim_fail_next_write(sim, MDEV_B "/assign_adapter", ENOSPC), 0);
	WR_OK(sim, MDEV_TYPE "/create", UUID_B);
	WR_ERR(sim, MDEV_B "/assign_adapter", "6", ENOSPC);
	assert_int_equal(sim_fail_next_write(sim, "bus/ap/apmask", 0), -EINVAL);
	sim_free(sim);
}

/* ---- uevents and the log ---- */

struct recorder {
	struct sim_uevent events[32];
	size_t n;
};

static void record(void *userdata, const struct sim_uevent *ev)
{
	struct recorder *r = userdata;

	if (r->n < 32)
		r->events[r->n] = *ev;
	r->n++;
}

static void test_uevent_handler(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct recorder rec = { .n = 0 };
	const struct sim_uevent *last;

	sim_set_uevent_handler(sim, record, &rec);
	WR_OK(sim, "bus/ap/apmask", "-7");
	/* Four queues of card 07: unbind + bind each, then the mask. */
	assert_int_equal(rec.n, 9);
	assert_string_equal(rec.events[0].action, "unbind");
	assert_string_equal(rec.events[0].devpath, "/devices/ap/card07/07.0004");
	assert_string_equal(rec.events[0].subsystem, "ap");
	assert_non_null(strstr(rec.events[0].env, "DEVTYPE=ap_queue\nMODE=accel\nSEQNUM="));
	assert_string_equal(rec.events[1].action, "bind");
	assert_non_null(
	    strstr(rec.events[1].env, "DEVTYPE=ap_queue\nDRIVER=vfio_ap\nMODE=accel\n"));
	assert_string_equal(rec.events[7].devpath, "/devices/ap/card07/07.00ff");
	last = &rec.events[8];
	assert_string_equal(last->action, "change");
	assert_string_equal(last->devpath, "/devices/ap");
	assert_string_equal(last->subsystem, "ap");
	assert_memory_equal(
	    last->env,
	    "APMASK=0xf8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	    "\n\nSEQNUM=",
	    77);
	/* A refused write sends nothing. */
	WR_ERR(sim, "bus/ap/apmask", "+300", EINVAL);
	assert_int_equal(rec.n, 9);
	sim_set_uevent_handler(sim, NULL, NULL);
	WR_OK(sim, "bus/ap/apmask", "+7");
	assert_int_equal(rec.n, 9);
	sim_free(sim);
}

static void test_rings_are_bounded(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	const char *text;
	size_t lines = 0;

	/* 20 events per round trip of card 07's queues (2 x (8 + 1)). */
	for (int i = 0; i < 20; i++) {
		WR_OK(sim, "bus/ap/apmask", "-7");
		WR_OK(sim, "bus/ap/apmask", "+7");
	}
	text = rd(sim, CTL "uevents");
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 256);
	/* Oldest first: the newest is the last line. */
	assert_non_null(strstr(text, "APMASK=0xf9ffffffffffffffffffffffffffffffffffffffffffffffff"
				     "ffffffffffffff\\n\n"));

	make_mdev(sim, UUID_A, "5", "4");
	WR_OK(sim, MDEV_TYPE "/create", UUID_B);
	WR_OK(sim, MDEV_B "/assign_domain", "4");
	for (int i = 0; i < 150; i++)
		WR_ERR(sim, MDEV_B "/assign_adapter", "5", EADDRINUSE);
	text = rd(sim, CTL "dmesg");
	lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 128);
	sim_free(sim);
}

/* ---- blocking remove ---- */

struct remover {
	struct sim *sim;
	ssize_t result;
};

static void *remove_thread(void *arg)
{
	struct remover *r = arg;

	r->result = wr(r->sim, MDEV_A "/remove", "1\n");
	return NULL;
}

static void test_remove_blocks_until_detach(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct remover r = { .sim = sim, .result = 0 };
	pthread_t t;
	int tries = 0;

	make_mdev(sim, UUID_A, "5", "4");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), 0);
	assert_int_equal(pthread_create(&t, NULL, remove_thread, &r), 0);
	/* The remove file goes away while the writer waits. */
	while (exists(sim, MDEV_A "/remove") && tries++ < 2000)
		usleep(1000);
	assert_false(exists(sim, MDEV_A "/remove"));
	assert_true(exists(sim, MDEV_A));
	assert_int_equal(r.result, 0);
	assert_true(dmesg_contains(sim, "vfio_ap_mdev " UUID_A ": No device request registered, "
					"blocked until released by user"));
	RD_EQ(sim, MDEV_A "/matrix", "05.0004\n");
	assert_int_equal(sim_kvm_attach(sim, UUID_A), -EBUSY);
	WR_OK(sim, CTL "detach", UUID_A);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.result, 2);
	assert_false(exists(sim, MDEV_A));
	sim_free(sim);
}

/* ---- the VFS rules of the view ---- */

static void test_view_errnos(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	char buf[64];

	WR_OK(sim, MDEV_TYPE "/create", UUID_A);
	assert_int_equal(sim_read(sim, MDEV_A "/assign_adapter", buf, sizeof(buf)), -EACCES);
	assert_int_equal(sim_read(sim, "bus/ap/drivers/vfio_ap/bind", buf, sizeof(buf)), -EACCES);
	WR_ERR(sim, MDEV_A "/matrix", "1", EACCES);
	WR_ERR(sim, "bus/ap/bindings", "1", EACCES);
	WR_ERR(sim, "bus/ap", "1", EISDIR);
	assert_int_equal(sim_read(sim, "bus/ap", buf, sizeof(buf)), -EISDIR);
	assert_int_equal(sim_read(sim, "bus/ap/nothing", buf, sizeof(buf)), -ENOENT);
	WR_ERR(sim, "bus/ap/nothing", "1", ENOENT);
	assert_int_equal(sim_read(sim, "bus/ap/apmask/x", buf, sizeof(buf)), -ENOTDIR);
	assert_int_equal(sim_readlink(sim, "bus/ap/apmask", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sim_readdir(sim, "bus/ap/apmask", collect_names, NULL), -ENOTDIR);
	assert_int_equal(sim_readdir(sim, "nothing", collect_names, NULL), -ENOENT);
	/* A short buffer gets the first bytes. */
	assert_int_equal(sim_read(sim, "bus/ap/apmask", buf, 4), 4);
	assert_memory_equal(buf, "0xf9", 4);
	sim_free(sim);
}

static void test_view_paths_and_links(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct sim_stat st;

	assert_int_equal(sim_stat(sim, "", &st), 0);
	assert_int_equal(st.type, SIM_NODE_DIR);
	assert_int_equal(st.mode, 0755);
	assert_int_equal(sim_stat(sim, "bus/ap/devices/card05", &st), 0);
	assert_int_equal(st.type, SIM_NODE_LINK);
	assert_int_equal(st.mode, 0777);
	assert_int_equal(sim_stat(sim, "bus/ap/devices/card05/", &st), 0);
	assert_int_equal(sim_stat(sim, "bus/ap/devices/card05/hwtype", &st), 0);
	assert_int_equal(st.type, SIM_NODE_FILE);
	assert_int_equal(st.mode, 0444);
	RD_EQ(sim, "bus/ap/../ap/./ap_domain", "4\n");
	RD_EQ(sim, "bus/ap/devices/card05/../card06/hwtype", "13\n");
	RD_EQ(sim, "bus/ap/devices/05.0004/subsystem/devices/card07/type", "CEX6A\n");
	sim_free(sim);
}

static int stop_at_second(void *userdata, const char *name, const struct sim_stat *st)
{
	int *count = userdata;

	return ++*count == 2 ? 42 : 0;
}

struct reentry {
	struct sim *sim;
	int reads;
};

static int read_inside(void *userdata, const char *name, const struct sim_stat *st)
{
	struct reentry *r = userdata;
	char path[64], buf[64];

	snprintf(path, sizeof(path), "devices/ap/%s/hwtype", name);
	if (st->type == SIM_NODE_DIR && sim_read(r->sim, path, buf, sizeof(buf)) > 0)
		r->reads++;
	return 0;
}

static void test_readdir(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	struct names n = { "" };
	struct reentry re = { .sim = sim };
	int count = 0;

	assert_int_equal(sim_readdir(sim, "", collect_names, &n), 0);
	assert_string_equal(n.list, "bus:d755 class:d755 devices:d755 simctl:d755 ");
	n.list[0] = '\0';
	assert_int_equal(sim_readdir(sim, "devices/ap/card07/07.0004", collect_names, &n), 0);
	assert_string_equal(n.list, "ap_functions:f444 chkstop:f444 config:f444 interrupt:f444 "
				    "load:f444 online:f644 pendingq_count:f444 request_count:f644 "
				    "requestq_count:f444 reset:f644 uevent:f644 driver:l777 "
				    "subsystem:l777 ");
	n.list[0] = '\0';
	assert_int_equal(sim_readdir(sim, "bus/ap/devices", collect_names, &n), 0);
	assert_non_null(strstr(n.list, "card05:l777 05.0004:l777 05.0047:l777 05.00ab:l777 "
				       "05.00ff:l777 card06:l777 "));
	assert_int_equal(sim_readdir(sim, "bus/ap", stop_at_second, &count), 42);
	assert_int_equal(count, 2);
	/* The callback may call back into the simulator. */
	assert_int_equal(sim_readdir(sim, "devices/ap", read_inside, &re), 0);
	assert_int_equal(re.reads, 3);
	sim_free(sim);
}

static void test_long_write_cut_to_page(void **state)
{
	struct sim *sim = simtest_new(6, 10);
	static char big[5000];

	memset(big, '1', sizeof(big));
	assert_int_equal(sim_write(sim, "bus/ap/uevent", big, sizeof(big)), 4096);
	sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_dir_listing),
		cmocka_unit_test(test_attach_detach_files),
		cmocka_unit_test(test_adapter_and_checkstop_files),
		cmocka_unit_test(test_fail_next_write),
		cmocka_unit_test(test_uevent_handler),
		cmocka_unit_test(test_rings_are_bounded),
		cmocka_unit_test(test_remove_blocks_until_detach),
		cmocka_unit_test(test_view_errnos),
		cmocka_unit_test(test_view_paths_and_links),
		cmocka_unit_test(test_readdir),
		cmocka_unit_test(test_long_write_cut_to_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
