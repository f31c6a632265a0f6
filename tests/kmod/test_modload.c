/* SPDX-License-Identifier: MIT */
/*
 * Loading vfio_ap: the decision (never for a root other than /sys, never
 * when vfio_ap is there) and libkmod's answer for modules that do not exist.
 * Nothing here can load a module: every libkmod call is pointed at an empty
 * module directory or asks for a name no kernel has.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kmod/modload.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"

#define NO_SUCH_MODULE "zapfs_no_such_module"

struct fixture {
	char dir[64];	  /* a sysfs-like tree */
	char mod_dir[96]; /* an empty module directory */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[160];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zapfs-modload-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/devices", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(f->mod_dir, sizeof(f->mod_dir), "%s/modules", f->dir);
	assert_int_equal(mkdir(f->mod_dir, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/devices/vfio_ap", f->dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/devices", f->dir);
	rmdir(path);
	rmdir(f->mod_dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_present(void **state)
{
	struct fixture *f = *state;
	struct sysfs *fs = NULL;
	char path[160], msg[MODLOAD_MSG_MAX] = "junk";

	snprintf(path, sizeof(path), "%s/devices/vfio_ap", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(sysfs_open_dir(f->dir, &fs), 0);
	assert_int_equal(modload_vfio_ap(fs, f->mod_dir, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	sysfs_free(fs);
}

static void test_not_sys(void **state)
{
	struct fixture *f = *state;
	struct sysfs *fs = NULL;
	char msg[MODLOAD_MSG_MAX], want[MODLOAD_MSG_MAX];

	/* Missing, but the tree is not the kernel's: nothing is loaded. */
	assert_int_equal(sysfs_open_dir(f->dir, &fs), 0);
	assert_int_equal(modload_vfio_ap(fs, f->mod_dir, msg, sizeof(msg)), -ENOENT);
	snprintf(want, sizeof(want),
		 "vfio_ap is not loaded in %s (no devices/vfio_ap); zapfs loads kernel modules "
		 "only for /sys",
		 f->dir);
	assert_string_equal(msg, want);
	sysfs_free(fs);
}

static void test_simulator(void **state)
{
	struct sim_config cfg;
	struct sim *sim = NULL;
	struct sysfs *fs = NULL;
	char msg[MODLOAD_MSG_MAX];

	memset(&cfg, 0, sizeof(cfg));
	cfg.kernel_major = 6;
	cfg.kernel_minor = 10;
	cfg.max_adapter = 63;
	cfg.max_domain = 15;
	cfg.apmask = idset_range(0, 255);
	cfg.aqmask = idset_range(0, 255);

	cfg.vfio_ap_loaded = false;
	assert_int_equal(sim_new(&cfg, &sim), 0);
	assert_int_equal(sysfs_open_sim(sim, &fs), 0);
	assert_int_equal(modload_vfio_ap(fs, NULL, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "vfio_ap is not loaded in simulator"));
	sysfs_free(fs);
	sim_free(sim);

	cfg.vfio_ap_loaded = true;
	assert_int_equal(sim_new(&cfg, &sim), 0);
	assert_int_equal(sysfs_open_sim(sim, &fs), 0);
	assert_int_equal(modload_vfio_ap(fs, NULL, msg, sizeof(msg)), 0);
	sysfs_free(fs);
	sim_free(sim);
}

/* The real /sys of a machine without vfio_ap (any non-s390 one): zapfs
 * tries to load it, from an empty module directory, and says why it could
 * not. */
static void test_real_sys(void **state)
{
	struct fixture *f = *state;
	struct sysfs *fs = NULL;
	char msg[MODLOAD_MSG_MAX];
	struct statfs st;
	int r;

	if (statfs("/sys", &st) < 0 || st.f_type != SYSFS_MAGIC ||
	    access("/sys/devices/vfio_ap", F_OK) == 0) {
		print_message("/sys is not a sysfs without vfio_ap here\n");
		skip();
	}
	assert_int_equal(sysfs_open_dir("/sys", &fs), 0);
	r = modload_vfio_ap(fs, f->mod_dir, msg, sizeof(msg));
	if (modload_have_libkmod()) {
		assert_int_equal(r, -ENOENT);
		assert_string_equal(msg, "vfio_ap is not loaded and loading it failed: could not "
					 "load vfio_ap: no such module for this kernel");
	} else {
		assert_int_equal(r, -EOPNOTSUPP);
		assert_string_equal(msg, "vfio_ap is not loaded and zapfs was built without "
					 "libkmod: run modprobe vfio_ap");
	}
	sysfs_free(fs);
}

static void test_probe_missing_module(void **state)
{
	struct fixture *f = *state;
	char msg[MODLOAD_MSG_MAX];

	if (!modload_have_libkmod()) {
		assert_int_equal(modload_probe(NO_SUCH_MODULE, f->mod_dir, msg, sizeof(msg)),
				 -EOPNOTSUPP);
		assert_string_equal(
		    msg, "zapfs was built without libkmod: run modprobe " NO_SUCH_MODULE);
		return;
	}
	assert_int_equal(modload_probe(NO_SUCH_MODULE, f->mod_dir, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg,
			    "could not load " NO_SUCH_MODULE ": no such module for this kernel");
	/* The running kernel's modules: no such name there either. */
	assert_int_equal(modload_probe(NO_SUCH_MODULE, NULL, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg,
			    "could not load " NO_SUCH_MODULE ": no such module for this kernel");

	assert_int_equal(modload_probe("", f->mod_dir, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(modload_probe(NULL, f->mod_dir, msg, sizeof(msg)), -EINVAL);
	/* No message buffer is fine. */
	assert_int_equal(modload_probe(NO_SUCH_MODULE, f->mod_dir, NULL, 0), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sys, setup, teardown),
		cmocka_unit_test(test_simulator),
		cmocka_unit_test_setup_teardown(test_real_sys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_missing_module, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
