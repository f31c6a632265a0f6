/* SPDX-License-Identifier: MIT */
/*
 * The sysfs port over real files: a fixture tree in a temporary directory
 * with attributes, links, a directory where a file is expected, a link to
 * /dev/full (every write fails with ENOSPC) and files that the test cannot
 * read or write (tested with the filesystem uid of nobody, which takes away
 * root's permission override for this thread).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmod/sysfs.h"

struct fixture {
	char root[64];
	struct sysfs *fs;
};

static void put_file(const char *root, const char *path, const char *content, mode_t mode)
{
	char full[256];
	int fd;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
	close(fd);
	assert_int_equal(chmod(full, mode), 0);
}

static void put_dir(const char *root, const char *path)
{
	char full[256];

	snprintf(full, sizeof(full), "%s/%s", root, path);
	assert_int_equal(mkdir(full, 0755), 0);
}

static void put_link(const char *root, const char *path, const char *target)
{
	char full[256];

	snprintf(full, sizeof(full), "%s/%s", root, path);
	assert_int_equal(symlink(target, full), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/zapfs-sysfs-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	/* Searchable by others: the permission tests run as nobody. */
	assert_int_equal(chmod(f->root, 0755), 0);

	put_dir(f->root, "bus");
	put_dir(f->root, "bus/ap");
	put_file(f->root, "bus/ap/ap_max_domain_id", "84\n", 0444);
	put_file(f->root, "bus/ap/ap_domain", "-1\n", 0644);
	put_file(f->root, "bus/ap/functions", "0x90000000\n", 0444);
	put_file(f->root, "bus/ap/junk", "12abc\n", 0444);
	put_file(f->root, "bus/ap/empty", "", 0444);
	put_file(f->root, "bus/ap/apmask", "0xff\n", 0644);
	put_file(f->root, "bus/ap/create", "", 0200);
	put_file(f->root, "bus/ap/scratch1", "", 0644);
	put_file(f->root, "bus/ap/scratch2", "", 0644);
	put_file(f->root, "bus/ap/readonly", "1\n", 0444);
	put_dir(f->root, "bus/ap/devices");
	put_link(f->root, "bus/ap/devices/card05", "../../../devices/ap/card05");
	put_link(f->root, "bus/ap/devices/05.0004", "../../../devices/ap/card05/05.0004");
	put_dir(f->root, "bus/ap/devices/notafile");
	put_link(f->root, "bus/ap/full", "/dev/full");
	put_dir(f->root, "devices");
	put_dir(f->root, "devices/ap");
	put_dir(f->root, "devices/ap/card05");
	put_file(f->root, "devices/ap/card05/hwtype", "11\n", 0444);

	assert_int_equal(sysfs_open_dir(f->root, &f->fs), 0);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->fs = sysfs_free(f->fs);
	assert_null(f->fs);
	nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct sysfs *fs = (struct sysfs *) 1;
	char path[128];

	assert_int_equal(sysfs_open_dir("/nonexistent/zapfs", &fs), -ENOENT);
	snprintf(path, sizeof(path), "%s/bus/ap/apmask", f->root);
	assert_int_equal(sysfs_open_dir(path, &fs), -ENOTDIR);
	assert_ptr_equal(fs, (struct sysfs *) 1);
	assert_string_equal(sysfs_root(f->fs), f->root);
	assert_null(sysfs_free(NULL));
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(sysfs_read(f->fs, "bus/ap/ap_max_domain_id", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "84\n");
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/ap_max_domain_id", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "84");
	assert_int_equal(sysfs_read(f->fs, "bus/ap/empty", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* Through a symlinked directory, as bus/ap/devices/cardXX is on /sys. */
	assert_int_equal(sysfs_read(f->fs, "bus/ap/devices/card05/hwtype", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "11\n");

	assert_int_equal(sysfs_read(f->fs, "bus/ap/missing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/devices/notafile", buf, sizeof(buf)), -EISDIR);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask/x", buf, sizeof(buf)), -ENOTDIR);
	/* Dangling link: the queue directory does not exist in the fixture. */
	assert_int_equal(sysfs_read(f->fs, "bus/ap/devices/05.0004/online", buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(sysfs_read(f->fs, "/etc/passwd", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 0), -EINVAL);
}

static void test_read_too_small(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	/* "0xff\n" is 5 bytes: 6 hold it with its NUL, 5 do not. */
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 6), 5);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 5), -EFBIG);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/apmask", buf, 1), -EFBIG);
	assert_int_equal(sysfs_read_line(f->fs, "bus/ap/apmask", buf, 5), -EFBIG);
}

static void test_read_long(void **state)
{
	struct fixture *f = *state;
	long v = 7;

	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/ap_max_domain_id", &v), 0);
	assert_int_equal(v, 84);
	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/ap_domain", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/functions", &v), 0);
	assert_int_equal(v, 0x90000000L);

	v = 7;
	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/junk", &v), -EINVAL);
	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/empty", &v), -EINVAL);
	assert_int_equal(sysfs_read_long(f->fs, "bus/ap/missing", &v), -ENOENT);
	assert_int_equal(v, 7);
}

static void test_write(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/scratch1", "+5\n"), 0);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/scratch1", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "+5\n");
	/* Exactly len bytes, as `echo -n`: no NUL, nothing past len. */
	assert_int_equal(sysfs_write(f->fs, "bus/ap/scratch2", "0x41junk", 4), 0);
	assert_int_equal(sysfs_read(f->fs, "bus/ap/scratch2", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "0x41");

	/* The errno of the failing write() comes back unchanged. */
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/full", "1\n"), -ENOSPC);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/devices/notafile", "1\n"), -EISDIR);
	assert_int_equal(sysfs_write_str(f->fs, "bus/ap/missing", "1\n"), -ENOENT);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/missing"), 0); /* never created */
	assert_int_equal(sysfs_write_str(f->fs, "/tmp/x", "1\n"), -EINVAL);
}

static void test_permissions(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	int r_read, r_write, r_ok;

	/* As nobody: mode bits apply, as they do for root on sysfs attributes
	 * without show()/store(). */
	setfsuid(65534);
	r_read = (int) sysfs_read(f->fs, "bus/ap/create", buf, sizeof(buf));
	r_write = sysfs_write_str(f->fs, "bus/ap/readonly", "0\n");
	r_ok = (int) sysfs_read(f->fs, "bus/ap/readonly", buf, sizeof(buf));
	setfsuid(0);

	/* Without root the same holds: the owner lacks those bits too. */
	assert_int_equal(r_read, -EACCES);
	assert_int_equal(r_write, -EACCES);
	assert_int_equal(r_ok, 2);
}

struct names {
	char list[8][32];
	size_t n;
	int stop_at;
};

static int collect(void *userdata, const char *name)
{
	struct names *n = userdata;

	if (n->n < 8)
		snprintf(n->list[n->n], sizeof(n->list[0]), "%s", name);
	n->n++;
	return n->stop_at && (int) n->n == n->stop_at ? 42 : 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct names n = { 0 };

	assert_int_equal(sysfs_list(f->fs, "bus/ap/devices", collect, &n), 0);
	assert_int_equal(n.n, 3);
	qsort(n.list, n.n, sizeof(n.list[0]), compare_names);
	assert_string_equal(n.list[0], "05.0004");
	assert_string_equal(n.list[1], "card05");
	assert_string_equal(n.list[2], "notafile");

	/* "" is the root. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(sysfs_list(f->fs, "", collect, &n), 0);
	assert_int_equal(n.n, 2);

	/* The callback's non-zero value stops the walk and comes back. */
	memset(&n, 0, sizeof(n));
	n.stop_at = 2;
	assert_int_equal(sysfs_list(f->fs, "bus/ap/devices", collect, &n), 42);
	assert_int_equal(n.n, 2);

	/* Following a symlinked directory. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(sysfs_list(f->fs, "bus/ap/devices/card05", collect, &n), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.list[0], "hwtype");

	assert_int_equal(sysfs_list(f->fs, "bus/ap/apmask", collect, &n), -ENOTDIR);
	assert_int_equal(sysfs_list(f->fs, "bus/nothing", collect, &n), -ENOENT);
}

static void test_readlink(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/devices/card05", buf, sizeof(buf)), 26);
	assert_string_equal(buf, "../../../devices/ap/card05");
	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/devices/card05", buf, 26), -EFBIG);
	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/apmask", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sysfs_readlink(f->fs, "bus/ap/none", buf, sizeof(buf)), -ENOENT);
}

static void test_exists(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sysfs_exists(f->fs, ""), 1);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/apmask"), 1);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/devices"), 1);
	/* The last component is not followed: a dangling link exists. */
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/devices/05.0004"), 1);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/devices/05.0004/online"), 0);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/nothing"), 0);
	assert_int_equal(sysfs_exists(f->fs, "bus/ap/apmask/below"), 0);
	assert_int_equal(sysfs_exists(f->fs, "/bus"), -EINVAL);
}

static void test_root_opened_once(void **state)
{
	struct fixture *f = *state;
	char moved[80], buf[16];

	/* The port keeps the directory it opened, whatever the name now names. */
	snprintf(moved, sizeof(moved), "%s.moved", f->root);
	assert_int_equal(rename(f->root, moved), 0);
	assert_int_equal(sysfs_read(f->fs, "devices/ap/card05/hwtype", buf, sizeof(buf)), 3);
	assert_int_equal(rename(moved, f->root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_opened_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
