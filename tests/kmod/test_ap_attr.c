/* SPDX-License-Identifier: MIT */
/* The AP attribute formats: parsers against the kernel's exact output,
 * formatters against what the kernel's store() functions take. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kmod/ap_attr.h"
#include "tests/kmod/test_ids.h"

#define ZEROS16 "0000000000000000"
#define ONES16	"ffffffffffffffff"

static void test_mask_parse(void **state)
{
	struct idset s, expect, untouched = IDS(9);

	/* Adapters 5 and 6: bits 5, 6 of the first nibble pair = 0x06. */
	assert_int_equal(ap_mask_parse("0x0600000000000000" ZEROS16 ZEROS16 ZEROS16 "\n", &s), 0);
	expect = IDS(5, 6);
	assert_true(idset_equal(&s, &expect));

	assert_int_equal(ap_mask_parse("0x" ONES16 ONES16 ONES16 ONES16 "\n", &s), 0);
	expect = idset_range(0, 255);
	assert_true(idset_equal(&s, &expect));

	/* Bit 255 is the last digit's lowest bit; no newline is fine too. */
	assert_int_equal(ap_mask_parse("0x" ZEROS16 ZEROS16 ZEROS16 "0000000000000001", &s), 0);
	expect = IDS(255);
	assert_true(idset_equal(&s, &expect));

	s = untouched;
	assert_int_equal(ap_mask_parse("not supported\n", &s), -EOPNOTSUPP);
	assert_int_equal(ap_mask_parse("0x" ONES16, &s), -EINVAL); /* short */
	assert_int_equal(ap_mask_parse("0x" ONES16 ONES16 ONES16 ONES16 "f\n", &s), -EINVAL);
	assert_int_equal(ap_mask_parse("0x" ONES16 ONES16 ONES16 ONES16 "\n\n", &s), -EINVAL);
	assert_int_equal(ap_mask_parse(ONES16 ONES16 ONES16 ONES16 "ff", &s), -EINVAL);
	assert_int_equal(ap_mask_parse("0xg" ONES16 ONES16 ONES16 "fffffffffffffff", &s), -EINVAL);
	assert_int_equal(ap_mask_parse("", &s), -EINVAL);
	assert_true(idset_equal(&s, &untouched));
}

static void test_matrix_parse(void **state)
{
	struct idset a, d, ea, ed, untouched = IDS(200);

	assert_int_equal(ap_matrix_parse("05.0004\n05.00ab\n06.0004\n06.00ab\n", &a, &d), 0);
	ea = IDS(5, 6);
	ed = IDS(4, 0xab);
	assert_true(idset_equal(&a, &ea));
	assert_true(idset_equal(&d, &ed));

	assert_int_equal(ap_matrix_parse("05.\n0a.\n", &a, &d), 0);
	ea = IDS(5, 10);
	assert_true(idset_equal(&a, &ea));
	assert_true(idset_empty(&d));

	assert_int_equal(ap_matrix_parse(".0047\n.00ff\n", &a, &d), 0);
	ed = IDS(0x47, 0xff);
	assert_true(idset_empty(&a));
	assert_true(idset_equal(&d, &ed));

	assert_int_equal(ap_matrix_parse("", &a, &d), 0);
	assert_true(idset_empty(&a));
	assert_true(idset_empty(&d));

	a = d = untouched;
	assert_int_equal(ap_matrix_parse("05.0004\n05.\n", &a, &d), -EINVAL); /* mixed forms */
	assert_int_equal(ap_matrix_parse("05.0004\n\n", &a, &d), -EINVAL);
	assert_int_equal(ap_matrix_parse("5.0004\n", &a, &d), -EINVAL);
	assert_int_equal(ap_matrix_parse("05.00AB\n", &a, &d), -EINVAL);
	assert_int_equal(ap_matrix_parse("05:0004\n", &a, &d), -EINVAL);
	assert_true(idset_equal(&a, &untouched));
	assert_true(idset_equal(&d, &untouched));
}

static void test_domain_lines_parse(void **state)
{
	struct idset s, expect;

	assert_int_equal(ap_domain_lines_parse("0004\n00ab\n", &s), 0);
	expect = IDS(4, 0xab);
	assert_true(idset_equal(&s, &expect));
	assert_int_equal(ap_domain_lines_parse("", &s), 0);
	assert_true(idset_empty(&s));
	assert_int_equal(ap_domain_lines_parse("04\n", &s), -EINVAL);
	assert_int_equal(ap_domain_lines_parse("0004 \n", &s), -EINVAL);
}

static void test_ap_config_round_trip(void **state)
{
	struct idset apm = IDS(0, 5, 255), aqm = IDS(4, 0x47), adm = IDS(0xab), a, q, d;
	char buf[AP_CONFIG_TEXT_SIZE];
	size_t len = ap_config_format(&apm, &aqm, &adm, buf, sizeof(buf));

	/* The kernel truncates the input at 201 characters: ours fits exactly. */
	assert_int_equal(len, 201);
	assert_int_equal(strlen(buf), 201);
	assert_string_equal(buf, "0x8400000000000000" ZEROS16 ZEROS16 "0000000000000001,"
				 "0x0800000000000000"
				 "0100000000000000" ZEROS16 ZEROS16 ","
				 "0x" ZEROS16 ZEROS16 "0000000000100000" ZEROS16 "\n");

	assert_int_equal(ap_config_parse(buf, &a, &q, &d), 0);
	assert_true(idset_equal(&a, &apm));
	assert_true(idset_equal(&q, &aqm));
	assert_true(idset_equal(&d, &adm));

	buf[66] = ';';
	assert_int_equal(ap_config_parse(buf, &a, &q, &d), -EINVAL);
	assert_int_equal(ap_config_parse("0x00,0x00,0x00\n", &a, &q, &d), -EINVAL);
}

static void test_mask_edit_format(void **state)
{
	struct idset set = IDS(5, 6, 7, 9), clear = IDS(0x47), none = IDSET_EMPTY, all;
	char buf[AP_MASK_EDIT_TEXT_SIZE], tiny[6];

	assert_int_equal(ap_mask_edit_format(&set, &clear, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "+5-7,+9,-71\n");

	assert_int_equal(ap_mask_edit_format(&none, &clear, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "-71\n");

	all = idset_range(0, 255);
	assert_int_equal(ap_mask_edit_format(&all, &none, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "+0-255\n");

	/* No change is no text at all, never "\n" (an absolute zero mask). */
	assert_int_equal(ap_mask_edit_format(&none, &none, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* snprintf semantics: the length needed, a NUL-terminated prefix. */
	assert_int_equal(ap_mask_edit_format(&set, &clear, tiny, sizeof(tiny)), 12);
	assert_int_equal(strlen(tiny), 5);

	/* The worst case fits the advertised size. */
	struct idset even = IDSET_EMPTY, odd = IDSET_EMPTY;
	for (unsigned i = 0; i < 256; i++)
		idset_add(i % 2 ? &odd : &even, i);
	assert_true(ap_mask_edit_format(&even, &odd, NULL, 0) < AP_MASK_EDIT_TEXT_SIZE);
}

static void test_device_name_parse(void **state)
{
	struct apqn q = { 0 };
	bool card = false;

	assert_int_equal(ap_device_name_parse("card0a", &card, &q), 0);
	assert_true(card);
	assert_int_equal(q.ap, 10);
	assert_int_equal(ap_device_name_parse("05.00ab", &card, &q), 0);
	assert_false(card);
	assert_int_equal(q.ap, 5);
	assert_int_equal(q.dom, 0xab);
	assert_int_equal(ap_device_name_parse("card5", &card, &q), -EINVAL);
	assert_int_equal(ap_device_name_parse("cardff0", &card, &q), -EINVAL);
	assert_int_equal(ap_device_name_parse("bind", &card, &q), -EINVAL);
	assert_int_equal(ap_device_name_parse("module", &card, &q), -EINVAL);
	assert_int_equal(ap_device_name_parse("05.0004x", &card, &q), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_parse),
		cmocka_unit_test(test_matrix_parse),
		cmocka_unit_test(test_domain_lines_parse),
		cmocka_unit_test(test_ap_config_round_trip),
		cmocka_unit_test(test_mask_edit_format),
		cmocka_unit_test(test_device_name_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
