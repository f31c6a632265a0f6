/* SPDX-License-Identifier: MIT */
/*
 * The daemon's host set-up: which kernel port gets the AP configuration
 * lock, what start-up says when vfio_ap is missing, and the seconds options.
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
#include <unistd.h>

#include "core/cleanup.h"
#include "fs/host.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"
#include "tests/kmod/sim_hosts.h"

struct lpar {
	struct sim *sim;
	struct sysfs *fs;
};

static void lpar_open(struct lpar *p, bool vfio_ap)
{
	_cleanup_free_ struct sim_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	sim_host_seed(6, 10, cfg);
	cfg->vfio_ap_loaded = vfio_ap;
	assert_int_equal(sim_new(cfg, &p->sim), 0);
	assert_int_equal(sysfs_open_sim(p->sim, &p->fs), 0);
}

static void lpar_close(struct lpar *p)
{
	sysfs_free(p->fs);
	sim_free(p->sim);
}

static void test_port_lock_choice(void **state)
{
	struct host_notes notes = { 0 };
	struct host_port hp;
	struct kernel_port port;
	char dir[] = "/tmp/zapfs-host-XXXXXX";
	struct lpar p;

	lpar_open(&p, true);
	assert_non_null(mkdtemp(dir));

	/* the simulator: nothing else can change it, so no lock by default */
	assert_int_equal(host_port_open(&hp, p.fs, true, NULL, 1, &notes, &port), 0);
	assert_null(hp.lock);
	assert_null(port.ops->config_lock);
	host_port_done(&hp);

	/* a lock directory asked for is used, simulator or not */
	assert_int_equal(host_port_open(&hp, p.fs, true, dir, 1, &notes, &port), 0);
	assert_non_null(hp.lock);
	assert_non_null(port.ops->config_lock);
	assert_int_equal(hp.locked.timeout_ms, 1000);
	assert_int_equal(port.ops->config_lock(port.ctx), 0);
	port.ops->config_unlock(port.ctx);
	host_port_done(&hp);
	assert_null(hp.lock);

	/* one that cannot be opened is an error, not a silent lockless run */
	assert_int_equal(
	    host_port_open(&hp, p.fs, false, "/nonexistent-zapfs-lock-dir", 1, &notes, &port),
	    -ENOENT);
	assert_null(hp.lock);
	assert_int_equal(notes.n, 0);

	assert_int_equal(rmdir(dir), 0);
	lpar_close(&p);
}

static void test_vfio_ap_missing_is_noted(void **state)
{
	struct host_notes notes = { 0 };
	struct lpar p;

	lpar_open(&p, true);
	assert_int_equal(host_check_kernel(p.fs, &notes), 0);
	assert_int_equal(notes.n, 0);
	lpar_close(&p);

	/* noted, and not fatal: the host can still be shown */
	lpar_open(&p, false);
	assert_int_equal(host_check_kernel(p.fs, &notes), 0);
	assert_int_equal(notes.n, 1);
	assert_int_equal(notes.err[0], ENOENT);
	assert_non_null(strstr(notes.text[0], "vfio_ap is not loaded in simulator"));
	assert_non_null(strstr(notes.text[0], "guests cannot be made"));
	lpar_close(&p);
}

/* A directory without bus/ap: nothing to manage, said before any scan. */
static void test_no_ap_bus(void **state)
{
	struct host_notes notes = { 0 };
	char dir[] = "/tmp/zapfs-host-XXXXXX";
	struct sysfs *fs;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(sysfs_open_dir(dir, &fs), 0);
	assert_int_equal(host_check_kernel(fs, &notes), -ENODEV);
	assert_int_equal(notes.n, 0);
	sysfs_free(fs);
	assert_int_equal(rmdir(dir), 0);
}

static void test_notes_are_bounded(void **state)
{
	struct host_notes notes = { 0 };

	for (int i = 0; i < HOST_NOTES_MAX + 2; i++)
		host_note(&notes, i, "note %d", i);
	assert_int_equal(notes.n, HOST_NOTES_MAX);
	assert_string_equal(notes.text[HOST_NOTES_MAX - 1], "note 3");
	assert_int_equal(notes.err[1], 1);
}

static void test_parse_seconds(void **state)
{
	unsigned v = 7;

	assert_int_equal(host_parse_seconds("30", 86400, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(host_parse_seconds("0", 86400, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(host_parse_seconds("86400", 86400, &v), 0);
	v = 7;
	assert_int_equal(host_parse_seconds("86401", 86400, &v), -EINVAL);
	assert_int_equal(host_parse_seconds("", 86400, &v), -EINVAL);
	assert_int_equal(host_parse_seconds("-1", 86400, &v), -EINVAL);
	assert_int_equal(host_parse_seconds(" 1", 86400, &v), -EINVAL);
	assert_int_equal(host_parse_seconds("1s", 86400, &v), -EINVAL);
	assert_int_equal(host_parse_seconds("99999999999999999999", 86400, &v), -EINVAL);
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_lock_choice),
		cmocka_unit_test(test_vfio_ap_missing_is_noted),
		cmocka_unit_test(test_no_ap_bus),
		cmocka_unit_test(test_notes_are_bounded),
		cmocka_unit_test(test_parse_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
