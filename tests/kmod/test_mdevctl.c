/* SPDX-License-Identifier: MIT */
/*
 * kmod/mdevctl: mdevctl's definition files read and written, including the
 * exact bytes mdevctl 1.2 writes itself.
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/idparse.h"
#include "core/model.h"
#include "core/render.h"
#include "core/strbuf.h"
#include "kmod/mdevctl.h"

#define UUID1 "11111111-2222-3333-4444-555555555555"
#define UUID2 "aaaaaaaa-2222-3333-4444-555555555555"

/* What `mdevctl define -u UUID1 -p matrix --jsonfile F` (1.2) writes for 5 / 4 / 171. */
static const char mdevctl_written[] = "{\n"
				      "  \"mdev_type\": \"vfio_ap-passthrough\",\n"
				      "  \"start\": \"auto\",\n"
				      "  \"attrs\": [\n"
				      "    {\n"
				      "      \"assign_adapter\": \"5\"\n"
				      "    },\n"
				      "    {\n"
				      "      \"assign_domain\": \"4\"\n"
				      "    },\n"
				      "    {\n"
				      "      \"assign_control_domain\": \"171\"\n"
				      "    }\n"
				      "  ]\n"
				      "}";

static struct idset ids(const char *list)
{
	struct idset s;

	assert_int_equal(idlist_parse(list, 255, &s), 0);
	return s;
}

static void assert_ids(const struct idset *s, const char *list)
{
	struct idset want = ids(list);

	assert_true(idset_equal(s, &want));
}

static void test_parse_mdevctl_file(void **state)
{
	struct mdevctl_def d;
	char err[128];

	(void) state;
	assert_int_equal(
	    mdevctl_def_parse(mdevctl_written, strlen(mdevctl_written), &d, err, sizeof(err)), 1);
	assert_ids(&d.adapters, "5");
	assert_ids(&d.domains, "4");
	assert_ids(&d.control_domains, "0xab");
	assert_true(d.autostart);
}

static void test_parse_variants(void **state)
{
	static const char compact[] =
	    "{\"mdev_type\":\"vfio_ap-passthrough\",\"start\":\"manual\",\"extra\":{\"k\":[1,"
	    "true,null,\"x\\\"y\"]},\"attrs\":[{\"assign_domain\":\"0x47\"},"
	    "{\"assign_domain\":255},{\"assign_adapter\":\"06\"}]}\n";
	static const char other_type[] = "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"auto\","
					 "\"attrs\":[{\"whatever\":\"1\"}]}";
	static const char empty_attrs[] = "{\"mdev_type\":\"vfio_ap-passthrough\",\"attrs\":[]}";
	struct mdevctl_def d;

	(void) state;
	assert_int_equal(mdevctl_def_parse(compact, strlen(compact), &d, NULL, 0), 1);
	assert_ids(&d.domains, "0x47,255");
	/* a leading 0 is octal in C and in the kernel's kstrtoul: 06 is 6 */
	assert_ids(&d.adapters, "6");
	assert_false(d.autostart);
	assert_int_equal(mdevctl_def_parse(other_type, strlen(other_type), &d, NULL, 0), 0);
	assert_int_equal(mdevctl_def_parse(empty_attrs, strlen(empty_attrs), &d, NULL, 0), 1);
	assert_true(idset_empty(&d.adapters));
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "'{' expected at byte 0" },
		{ "{\"mdev_type\":\"vfio_ap-passthrough\",\"attrs\":[{\"assign_adapter\":\"256\"}]"
		  "}",
		  "assign_adapter: '256' is not an id from 0 to 255" },
		{ "{\"mdev_type\":\"vfio_ap-passthrough\",\"attrs\":[{\"assign_queue\":\"1\"}]}",
		  "attribute 'assign_queue' is not one zapfs can keep" },
		{ "{\"attrs\":[]}", "no mdev_type" },
		{ "{\"mdev_type\":\"vfio_ap-passthrough\"} x", "text after the definition" },
		{ "{\"mdev_type\":\"vfio_ap-passthrough\"", "'}' expected at byte 34" },
		{ "{\"mdev_type\":\"vfio_ap-passthrough\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		  "nested too deep" },
	};
	struct mdevctl_def d;
	char err[128];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    mdevctl_def_parse(cases[i].text, strlen(cases[i].text), &d, err, sizeof(err)),
		    -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

/* zapfs's rendering of a guest is byte for byte what mdevctl writes for the same matrix. */
static void test_render_matches_mdevctl(void **state)
{
	struct guest g = { .adapters = ids("5"),
			   .domains = ids("4"),
			   .control_domains = ids("0xab") };
	struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_guest_mdevctl_json(&g, &out), 0);
	assert_string_equal(out.data, mdevctl_written);
	strbuf_done(&out);
}

struct problems {
	char text[512];
};

static void collect(void *ctx, const char *file, const char *message)
{
	struct problems *p = ctx;
	size_t len = strlen(p->text);

	snprintf(p->text + len, sizeof(p->text) - len, "%s: %s\n", file, message);
}

static void test_directory(void **state)
{
	char dir[] = "/tmp/zapfs-test-mdevctl.XXXXXX", path[256], cmd[300];
	struct mdevctl_def *defs = NULL;
	struct problems p = { "" };
	struct stat st;
	size_t n = 9;
	FILE *f;

	(void) state;
	assert_non_null(mkdtemp(dir));
	/* no matrix/ yet: nothing defined */
	assert_int_equal(mdevctl_load(dir, collect, &p, &defs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(defs);

	assert_int_equal(mdevctl_save(dir, UUID2, mdevctl_written, strlen(mdevctl_written)), 0);
	assert_int_equal(mdevctl_save(dir, UUID1, "{\"mdev_type\":\"vfio_ap-passthrough\"}", 35),
			 0);
	snprintf(path, sizeof(path), "%s/matrix/" UUID2, dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t) strlen(mdevctl_written));
	assert_int_equal(st.st_mode & 0777, 0644);
	snprintf(path, sizeof(path), "%s/matrix/bbbbbbbb-2222-3333-4444-555555555555", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{broken", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/matrix/README", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);

	assert_int_equal(mdevctl_load(dir, collect, &p, &defs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(defs[0].uuid, UUID1);
	assert_string_equal(defs[1].uuid, UUID2);
	assert_ids(&defs[1].adapters, "5");
	assert_string_equal(p.text, "matrix/bbbbbbbb-2222-3333-4444-555555555555: a string "
				    "expected\n");
	free(defs);

	assert_int_equal(mdevctl_remove(dir, UUID2), 0);
	assert_int_equal(mdevctl_remove(dir, UUID2), 0);
	assert_int_equal(mdevctl_remove(dir, "../x"), -EINVAL);
	assert_int_equal(mdevctl_save(dir, "../x", "", 0), -EINVAL);
	snprintf(path, sizeof(path), "%s/matrix/" UUID2, dir);
	assert_int_equal(access(path, F_OK), -1);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mdevctl_file),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_render_matches_mdevctl),
		cmocka_unit_test(test_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
