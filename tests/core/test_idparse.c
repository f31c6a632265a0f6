/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "core/idparse.h"

#define SENTINEL      0xdeadbeefu
#define RANDOM_INPUTS 100000u

static struct idset set_of(const char *decimal_list)
{
	struct idset s;

	assert_int_equal(idlist_parse(decimal_list, 255, &s), 0);
	return s;
}

static void assert_set_equal(const struct idset *got, const char *want_ranges)
{
	char buf[IDSET_RANGES_SIZE];

	idset_format_ranges(got, buf, sizeof(buf));
	assert_string_equal(buf, want_ranges);
}

/* ---- id_parse ---- */

static void check_id(const char *s, unsigned max, int want_r, unsigned want)
{
	unsigned v = SENTINEL;
	int r = id_parse(s, max, &v);

	if (r != want_r)
		fail_msg("id_parse(\"%s\", %u) = %d, want %d", s, max, r, want_r);
	assert_int_equal(v, want_r == 0 ? want : SENTINEL);
}

static void test_id_parse_bases(void **state)
{
	check_id("0", 255, 0, 0);
	check_id("00", 255, 0, 0);
	check_id("7", 255, 0, 7);
	check_id("10", 255, 0, 10);
	check_id("010", 255, 0, 8);
	check_id("0377", 255, 0, 255);
	check_id("0x1f", 255, 0, 31);
	check_id("0X1F", 255, 0, 31);
	check_id("0xAb", 255, 0, 171);
	check_id("0x00000000000000000000ff", 255, 0, 255);
	check_id("0000000000000000000000000007", 255, 0, 7);
	check_id("08", 255, -EINVAL, 0);
	check_id("09", 255, -EINVAL, 0);
	check_id("0778", 255, -EINVAL, 0);
	check_id("0x", 255, -EINVAL, 0);
	check_id("0X", 255, -EINVAL, 0);
	check_id("0xg", 255, -EINVAL, 0);
	check_id("x5", 255, -EINVAL, 0);
	check_id("0b1", 255, -EINVAL, 0);
	check_id("1e3", 255, -EINVAL, 0);
	check_id("0a", 255, -EINVAL, 0);
	check_id("ff", 255, -EINVAL, 0);
}

static void test_id_parse_bounds(void **state)
{
	check_id("0", 0, 0, 0);
	check_id("1", 0, -ERANGE, 0);
	check_id("255", 255, 0, 255);
	check_id("256", 255, -ERANGE, 0);
	check_id("0xff", 255, 0, 255);
	check_id("0x100", 255, -ERANGE, 0);
	check_id("63", 63, 0, 63);
	check_id("64", 63, -ERANGE, 0);
	check_id("4294967295", UINT_MAX, 0, UINT_MAX);
	check_id("0xffffffff", UINT_MAX, 0, UINT_MAX);
	check_id("4294967296", UINT_MAX, -ERANGE, 0);
	check_id("0x100000000", UINT_MAX, -ERANGE, 0);
	check_id("99999999999999999999", UINT_MAX, -ERANGE, 0);
	check_id("99999999999999999999", 255, -ERANGE, 0);
	/* Junk beats range. */
	check_id("99999999999999999999x", 255, -EINVAL, 0);
	check_id("256 7", 255, -EINVAL, 0);
}

static void test_id_parse_space_and_junk(void **state)
{
	check_id(" 5", 255, 0, 5);
	check_id("5 ", 255, 0, 5);
	check_id("\t5\t", 255, 0, 5);
	check_id("5\n", 255, 0, 5);
	check_id(" 5 \n", 255, 0, 5);
	check_id("5\n\n", 255, -EINVAL, 0);
	check_id("5\n ", 255, -EINVAL, 0);
	check_id("\n5", 255, -EINVAL, 0);
	check_id("", 255, -EINVAL, 0);
	check_id(" ", 255, -EINVAL, 0);
	check_id("\n", 255, -EINVAL, 0);
	check_id("+5", 255, -EINVAL, 0);
	check_id("-5", 255, -EINVAL, 0);
	check_id("- 5", 255, -EINVAL, 0);
	check_id("5x", 255, -EINVAL, 0);
	check_id("5 6", 255, -EINVAL, 0);
	check_id("5,", 255, -EINVAL, 0);
	check_id("5-6", 255, -EINVAL, 0);
	check_id("5\r\n", 255, -EINVAL, 0);
	check_id("\xff", 255, -EINVAL, 0);
}

static void test_id_parse_buf(void **state)
{
	unsigned v = SENTINEL;

	/* Only len bytes count: what follows is not read. */
	assert_int_equal(id_parse_buf("5junk", 1, 255, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(id_parse_buf("12\n", 3, 255, &v), 0);
	assert_int_equal(v, 12);
	v = SENTINEL;
	assert_int_equal(id_parse_buf("5\0", 2, 255, &v), -EINVAL);
	assert_int_equal(id_parse_buf("\0"
				      "5",
				      2, 255, &v),
			 -EINVAL);
	assert_int_equal(id_parse_buf("", 0, 255, &v), -EINVAL);
	assert_int_equal(id_parse_buf("0x", 2, 255, &v), -EINVAL);
	assert_int_equal(id_parse_buf("0x5", 2, 255, &v), -EINVAL);
	assert_int_equal(v, SENTINEL);
}

/* ---- idlist_parse ---- */

static void check_list(const char *s, unsigned max, int want_r, const char *want_ranges)
{
	struct idset got = set_of("200");
	int r = idlist_parse(s, max, &got);

	if (r != want_r)
		fail_msg("idlist_parse(\"%s\", %u) = %d, want %d", s, max, r, want_r);
	assert_set_equal(&got, want_r == 0 ? want_ranges : "200");
}

static void test_idlist_parse(void **state)
{
	check_list("5-6,0x47,7", 255, 0, "5-7,71");
	check_list("5", 255, 0, "5");
	check_list("5-5", 255, 0, "5");
	check_list("0-255", 255, 0, "0-255");
	check_list("010-0x0a", 255, 0, "8-10");
	check_list("5,5,5-6,6", 255, 0, "5-6");
	check_list("1-10,5-6", 255, 0, "1-10");
	check_list("5 6", 255, 0, "5-6");
	check_list("5\n6\n", 255, 0, "5-6");
	check_list(" 5 , 6 ", 255, 0, "5-6");
	check_list("5,\n6", 255, 0, "5-6");
	check_list("\t5\t\t7", 255, 0, "5,7");
	check_list("", 255, 0, "");
	check_list("  \n", 255, 0, "");
	check_list("\n", 255, 0, "");
}

static void test_idlist_parse_errors(void **state)
{
	check_list(",", 255, -EINVAL, NULL);
	check_list(",5", 255, -EINVAL, NULL);
	check_list("5,", 255, -EINVAL, NULL);
	check_list("5, ", 255, -EINVAL, NULL);
	check_list("5,,6", 255, -EINVAL, NULL);
	check_list("5, ,6", 255, -EINVAL, NULL);
	check_list("5-", 255, -EINVAL, NULL);
	check_list("-5", 255, -EINVAL, NULL);
	check_list("+5", 255, -EINVAL, NULL);
	check_list("5 -6", 255, -EINVAL, NULL);
	check_list("6-5", 255, -EINVAL, NULL);
	check_list("5--6", 255, -EINVAL, NULL);
	check_list("5-6-7", 255, -EINVAL, NULL);
	check_list("5 - 6", 255, -EINVAL, NULL);
	check_list("08", 255, -EINVAL, NULL);
	check_list("0x", 255, -EINVAL, NULL);
	check_list("5;6", 255, -EINVAL, NULL);
	check_list("5x", 255, -EINVAL, NULL);
	check_list("a", 255, -EINVAL, NULL);
	check_list("5.6", 255, -EINVAL, NULL);
}

static void test_idlist_parse_bounds(void **state)
{
	check_list("255", 255, 0, "255");
	check_list("256", 255, -ERANGE, NULL);
	check_list("0-256", 255, -ERANGE, NULL);
	check_list("0", 0, 0, "0");
	check_list("1", 0, -ERANGE, NULL);
	check_list("63", 63, 0, "63");
	check_list("5,64", 63, -ERANGE, NULL);
	/* A max above the id space is clamped to it. */
	check_list("255", 100000, 0, "255");
	check_list("256", 100000, -ERANGE, NULL);
	check_list("99999999999999999999", 255, -ERANGE, NULL);
	/* Syntax errors win over range errors, wherever they are. */
	check_list("300-5", 255, -EINVAL, NULL);
	check_list("256,x", 255, -EINVAL, NULL);
	check_list("x,256", 255, -EINVAL, NULL);
}

static void test_idlist_parse_buf(void **state)
{
	struct idset s = IDSET_EMPTY;

	assert_int_equal(idlist_parse_buf("5,6", 1, 255, &s), 0);
	assert_set_equal(&s, "5");
	assert_int_equal(idlist_parse_buf("5,6", 2, 255, &s), -EINVAL);
	assert_int_equal(idlist_parse_buf("5\0"
					  "6",
					  3, 255, &s),
			 -EINVAL);
	assert_int_equal(idlist_parse_buf("5-", 2, 255, &s), -EINVAL);
	assert_int_equal(idlist_parse_buf("", 0, 255, &s), 0);
	assert_set_equal(&s, "");
}

static void test_idlist_parse_long_input(void **state)
{
	const size_t repeat = 100000;
	_cleanup_free_ char *text = malloc(repeat * 2 + 16);
	struct idset s;
	size_t len = 0;

	assert_non_null(text);
	for (size_t i = 0; i < repeat; i++) {
		memcpy(text + len, "5,", 2);
		len += 2;
	}
	memcpy(text + len, "0x06", 5);
	assert_int_equal(idlist_parse(text, 255, &s), 0);
	assert_set_equal(&s, "5-6");

	/* A number with a very long run of leading zeros is still small. */
	memset(text, '0', repeat);
	strcpy(text + repeat, "7");
	assert_int_equal(idlist_parse(text, 255, &s), 0);
	assert_set_equal(&s, "7");
	check_id(text, 255, 0, 7);

	/* A very long number is not. */
	memset(text, '9', repeat);
	text[repeat] = '\0';
	assert_int_equal(idlist_parse(text, 255, &s), -ERANGE);
	check_id(text, UINT_MAX, -ERANGE, 0);
}

/* ---- idset_edit_parse ---- */

static void check_edit(const char *current, const char *edit, int want_r, const char *want,
		       const char *want_added, const char *want_removed)
{
	struct idset cur = set_of(current);
	struct idset got = set_of("200"), added = set_of("201"), removed = set_of("202");
	int r = idset_edit_parse(edit, 255, &cur, &got, &added, &removed);

	if (r != want_r)
		fail_msg("idset_edit_parse(\"%s\") = %d, want %d", edit, r, want_r);
	if (r < 0) {
		assert_set_equal(&got, "200");
		assert_set_equal(&added, "201");
		assert_set_equal(&removed, "202");
		return;
	}
	assert_set_equal(&got, want);
	assert_set_equal(&added, want_added);
	assert_set_equal(&removed, want_removed);
}

static void test_edit_relative(void **state)
{
	check_edit("4-5", "+6", 0, "4-6", "6", "");
	check_edit("4-5", "-5", 0, "4", "", "5");
	check_edit("4-5,71", "+5,-0x47,+7-9", 0, "4-5,7-9", "7-9", "71");
	check_edit("4-5", "+5", 0, "4-5", "", "");
	check_edit("4-5", "-6", 0, "4-5", "", "");
	check_edit("4-5", "+5 -4\n", 0, "5", "", "4");
	/* Later terms win. */
	check_edit("4", "+5,-5", 0, "4", "", "");
	check_edit("4", "-4,+4", 0, "4", "", "");
	check_edit("0-255", "-1-254", 0, "0,255", "", "1-254");
	check_edit("", "+010,+0x10", 0, "8,16", "8,16", "");
}

static void test_edit_absolute(void **state)
{
	check_edit("4-5", "6,7", 0, "6-7", "6-7", "4-5");
	check_edit("4-5", "5-6", 0, "5-6", "6", "4");
	check_edit("4-5", "", 0, "", "", "4-5");
	check_edit("4-5", " \n", 0, "", "", "4-5");
	check_edit("4-5", "4-5", 0, "4-5", "", "");
}

static void test_edit_errors(void **state)
{
	check_edit("4", "+5,6", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "6,+5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "6 -5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "-", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+-5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "++5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+ 5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+5,", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+6-5", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+08", -EINVAL, NULL, NULL, NULL);
	check_edit("4", "+0x100", -ERANGE, NULL, NULL, NULL);
	check_edit("4", "-256", -ERANGE, NULL, NULL, NULL);
	check_edit("4", "+256,+x", -EINVAL, NULL, NULL, NULL);
}

static void test_edit_optional_outputs(void **state)
{
	struct idset cur = set_of("1-3"), got;

	assert_int_equal(idset_edit_parse("+4", 255, &cur, &got, NULL, NULL), 0);
	assert_set_equal(&got, "1-4");
	assert_int_equal(idset_edit_parse_buf("-1,+9", 2, 255, &cur, &got, NULL, NULL), 0);
	assert_set_equal(&got, "2-3");
	assert_int_equal(idset_edit_parse_buf("+4", 1, 255, &cur, &got, NULL, NULL), -EINVAL);
	/* The result may overwrite current. */
	assert_int_equal(idset_edit_parse("-2", 255, &cur, &cur, NULL, NULL), 0);
	assert_set_equal(&cur, "1,3");
}

/* ---- canonical names ---- */

static void check_adapter_name(const char *s, int want_r, unsigned want)
{
	unsigned v = SENTINEL;
	int r = adapter_name_parse(s, &v);

	if (r != want_r)
		fail_msg("adapter_name_parse(\"%s\") = %d, want %d", s, r, want_r);
	assert_int_equal(v, want_r == 0 ? want : SENTINEL);
}

static void check_domain_name(const char *s, int want_r, unsigned want)
{
	unsigned v = SENTINEL;
	int r = domain_name_parse(s, &v);

	if (r != want_r)
		fail_msg("domain_name_parse(\"%s\") = %d, want %d", s, r, want_r);
	assert_int_equal(v, want_r == 0 ? want : SENTINEL);
}

static void check_apqn_name(const char *s, int want_r, unsigned want_ap, unsigned want_dom)
{
	struct apqn q = { 0xee, 0xee };
	int r = apqn_name_parse(s, &q);

	if (r != want_r)
		fail_msg("apqn_name_parse(\"%s\") = %d, want %d", s, r, want_r);
	assert_int_equal(q.ap, want_r == 0 ? want_ap : 0xee);
	assert_int_equal(q.dom, want_r == 0 ? want_dom : 0xee);
}

static void test_adapter_name_parse(void **state)
{
	check_adapter_name("05", 0, 5);
	check_adapter_name("00", 0, 0);
	check_adapter_name("0a", 0, 10);
	check_adapter_name("ff", 0, 255);
	check_adapter_name("5", -EINVAL, 0);
	check_adapter_name("005", -EINVAL, 0);
	check_adapter_name("0x05", -EINVAL, 0);
	check_adapter_name("0x5", -EINVAL, 0);
	check_adapter_name("0A", -EINVAL, 0);
	check_adapter_name("AB", -EINVAL, 0);
	check_adapter_name("05 ", -EINVAL, 0);
	check_adapter_name(" 05", -EINVAL, 0);
	check_adapter_name("05\n", -EINVAL, 0);
	check_adapter_name("g0", -EINVAL, 0);
	check_adapter_name("+5", -EINVAL, 0);
	check_adapter_name("", -EINVAL, 0);
	check_adapter_name("0004", -EINVAL, 0);
	check_adapter_name("05.0004", -EINVAL, 0);
}

static void test_domain_name_parse(void **state)
{
	check_domain_name("0004", 0, 4);
	check_domain_name("0000", 0, 0);
	check_domain_name("00ab", 0, 171);
	check_domain_name("00ff", 0, 255);
	check_domain_name("0100", -ERANGE, 0);
	check_domain_name("ffff", -ERANGE, 0);
	check_domain_name("4", -EINVAL, 0);
	check_domain_name("004", -EINVAL, 0);
	check_domain_name("00004", -EINVAL, 0);
	check_domain_name("00AB", -EINVAL, 0);
	check_domain_name("0x04", -EINVAL, 0);
	check_domain_name("0004 ", -EINVAL, 0);
	check_domain_name("", -EINVAL, 0);
}

static void test_apqn_name_parse(void **state)
{
	check_apqn_name("05.0004", 0, 5, 4);
	check_apqn_name("00.0000", 0, 0, 0);
	check_apqn_name("ff.00ff", 0, 255, 255);
	check_apqn_name("05.0100", -ERANGE, 0, 0);
	check_apqn_name("05.4", -EINVAL, 0, 0);
	check_apqn_name("5.0004", -EINVAL, 0, 0);
	check_apqn_name("05.0004 ", -EINVAL, 0, 0);
	check_apqn_name("05.0004\n", -EINVAL, 0, 0);
	check_apqn_name("05.00041", -EINVAL, 0, 0);
	check_apqn_name("05-0004", -EINVAL, 0, 0);
	check_apqn_name("05.00AB", -EINVAL, 0, 0);
	check_apqn_name("0A.0004", -EINVAL, 0, 0);
	check_apqn_name("05..004", -EINVAL, 0, 0);
	check_apqn_name("", -EINVAL, 0, 0);
	check_apqn_name(".", -EINVAL, 0, 0);
}

static void test_name_parse_buf(void **state)
{
	struct apqn q;
	unsigned v;

	assert_int_equal(apqn_name_parse_buf("05.0004xyz", 7, &q), 0);
	assert_int_equal(q.ap, 5);
	assert_int_equal(q.dom, 4);
	assert_int_equal(apqn_name_parse_buf("05.0004", 6, &q), -EINVAL);
	assert_int_equal(apqn_name_parse_buf("05\0"
					     "0004",
					     7, &q),
			 -EINVAL);
	assert_int_equal(adapter_name_parse_buf("05", 1, &v), -EINVAL);
	assert_int_equal(adapter_name_parse_buf("0\0", 2, &v), -EINVAL);
	assert_int_equal(adapter_name_parse_buf("0ab", 2, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(domain_name_parse_buf("00ab00", 4, &v), 0);
	assert_int_equal(v, 171);
	assert_int_equal(domain_name_parse_buf("", 0, &v), -EINVAL);
}

static void test_name_suggest(void **state)
{
	static const struct {
		char kind; /* a(dapter), d(omain), q(ueue) */
		const char *in;
		int r;
		const char *want;
	} cases[] = {
		{ 'a', "5", 0, "05" },
		{ 'a', "05", 0, "05" },
		{ 'a', "0x05", 0, "05" },
		{ 'a', "0X5", 0, "05" },
		{ 'a', "0A", 0, "0a" },
		{ 'a', "AB", 0, "ab" },
		{ 'a', "a", 0, "0a" },
		{ 'a', "0005", 0, "05" },
		{ 'a', " 5 \n", 0, "05" },
		{ 'a', "10", 0, "10" },
		{ 'a', "ff", 0, "ff" },
		{ 'a', "100", -ERANGE, NULL },
		{ 'a', "0x100", -ERANGE, NULL },
		{ 'a', "fffffffffffffffffff", -ERANGE, NULL },
		{ 'a', "", -EINVAL, NULL },
		{ 'a', "0x", -EINVAL, NULL },
		{ 'a', "g", -EINVAL, NULL },
		{ 'a', "-5", -EINVAL, NULL },
		{ 'a', "5 6", -EINVAL, NULL },
		{ 'a', "5\n\n", -EINVAL, NULL },
		{ 'a', "100x", -EINVAL, NULL },
		{ 'd', "4", 0, "0004" },
		{ 'd', "0x47", 0, "0047" },
		{ 'd', "AB", 0, "00ab" },
		{ 'd', "00AB", 0, "00ab" },
		{ 'd', "004", 0, "0004" },
		{ 'd', "0004", 0, "0004" },
		{ 'd', "0100", -ERANGE, NULL },
		{ 'd', "4.", -EINVAL, NULL },
		{ 'q', "05.4", 0, "05.0004" },
		{ 'q', "5.4", 0, "05.0004" },
		{ 'q', "05.0004 ", 0, "05.0004" },
		{ 'q', "0x05.0xAB", 0, "05.00ab" },
		{ 'q', "05.00AB\n", 0, "05.00ab" },
		{ 'q', "05.0004", 0, "05.0004" },
		{ 'q', "05.100", -ERANGE, NULL },
		{ 'q', "100.4", -ERANGE, NULL },
		{ 'q', "100.4x", -EINVAL, NULL },
		{ 'q', "05", -EINVAL, NULL },
		{ 'q', "05.", -EINVAL, NULL },
		{ 'q', ".0004", -EINVAL, NULL },
		{ 'q', "05:0004", -EINVAL, NULL },
		{ 'q', "05.0004.1", -EINVAL, NULL },
		{ 'q', "05 .0004", -EINVAL, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char got[APQN_NAME_SIZE] = "unset";
		int r;

		if (cases[i].kind == 'a')
			r = adapter_name_suggest(cases[i].in, got);
		else if (cases[i].kind == 'd')
			r = domain_name_suggest(cases[i].in, got);
		else
			r = apqn_name_suggest(cases[i].in, got);
		if (r != cases[i].r)
			fail_msg("suggest %c \"%s\" = %d, want %d", cases[i].kind, cases[i].in, r,
				 cases[i].r);
		assert_string_equal(got, r == 0 ? cases[i].want : "unset");
	}
}

/* ---- formatting ---- */

static void test_name_format(void **state)
{
	char a[ADAPTER_NAME_SIZE], d[DOMAIN_NAME_SIZE], q[APQN_NAME_SIZE];

	assert_string_equal(adapter_name_format(5, a), "05");
	assert_string_equal(adapter_name_format(0, a), "00");
	assert_string_equal(adapter_name_format(255, a), "ff");
	assert_string_equal(domain_name_format(4, d), "0004");
	assert_string_equal(domain_name_format(0xab, d), "00ab");
	assert_string_equal(apqn_name_format((struct apqn){ 5, 4 }, q), "05.0004");
	assert_string_equal(apqn_name_format((struct apqn){ 255, 255 }, q), "ff.00ff");
}

static void check_ranges(const char *list, const char *want)
{
	struct idset s = set_of(list);

	assert_set_equal(&s, want);
}

static void test_format_ranges(void **state)
{
	struct idset s = IDSET_EMPTY;
	char buf[IDSET_RANGES_SIZE];

	assert_int_equal(idset_format_ranges(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	s = set_of("0-4,7-255");
	assert_int_equal(idset_format_ranges(&s, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "0-4,7-255");
	check_ranges("5", "5");
	check_ranges("5,6", "5-6");
	check_ranges("6,5,4", "4-6");
	check_ranges("0,2,4", "0,2,4");
	check_ranges("255", "255");
	check_ranges("0-255", "0-255");
	check_ranges("63,64", "63-64");
	check_ranges("0,254-255", "0,254-255");

	/* Truncation as snprintf. */
	s = set_of("0-4,7-255");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(idset_format_ranges(&s, buf, 4), 9);
	assert_string_equal(buf, "0-4");
	assert_int_equal(buf[4], 'x');
	assert_int_equal(idset_format_ranges(&s, buf, 1), 9);
	assert_string_equal(buf, "");
	assert_int_equal(idset_format_ranges(&s, NULL, 0), 9);
}

static void test_format_ranges_worst_case(void **state)
{
	struct idset even = IDSET_EMPTY, pairs = IDSET_EMPTY;
	char buf[IDSET_RANGES_SIZE];

	for (unsigned id = 0; id < AP_ID_COUNT; id += 2)
		idset_add(&even, id);
	for (unsigned id = 0; id < AP_ID_COUNT; id += 3) {
		idset_add(&pairs, id);
		idset_add(&pairs, id + 1);
	}
	assert_true(idset_format_ranges(&even, buf, sizeof(buf)) < sizeof(buf));
	assert_true(idset_format_ranges(&pairs, buf, sizeof(buf)) < sizeof(buf));
}

static void test_format_name_lists(void **state)
{
	struct idset s = IDSET_EMPTY;
	char buf[IDSET_NAMES_SIZE];

	assert_int_equal(adapter_list_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	s = set_of("5");
	adapter_list_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "05");
	s = set_of("5,6");
	adapter_list_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "05 and 06");
	s = set_of("5,6,10");
	assert_int_equal(adapter_list_format(&s, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "05, 06 and 0a");
	s = set_of("4,0x47,0xab,0xff");
	domain_list_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "0004, 0047, 00ab and 00ff");

	assert_int_equal(domain_list_format(&s, buf, 7), 25);
	assert_string_equal(buf, "0004, ");

	s = idset_range(0, 255);
	assert_true(domain_list_format(&s, buf, sizeof(buf)) < sizeof(buf));
	assert_true(adapter_list_format(&s, buf, sizeof(buf)) < sizeof(buf));
	assert_int_equal(strncmp(buf, "00, 01, ", 8), 0);
	assert_string_equal(buf + strlen(buf) - 9, "fe and ff");
}

static void test_format_apqn_list(void **state)
{
	static struct apqn_set set;
	char buf[128];

	apqn_set_clear(&set);
	assert_int_equal(apqn_list_format(&set, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	apqn_set_add(&set, (struct apqn){ 6, 4 });
	apqn_set_add(&set, (struct apqn){ 5, 0xab });
	apqn_set_add(&set, (struct apqn){ 5, 4 });
	apqn_list_format(&set, 0, buf, sizeof(buf));
	assert_string_equal(buf, "05.0004, 05.00ab, 06.0004");
	apqn_list_format(&set, 3, buf, sizeof(buf));
	assert_string_equal(buf, "05.0004, 05.00ab, 06.0004");
	apqn_list_format(&set, 2, buf, sizeof(buf));
	assert_string_equal(buf, "05.0004, 05.00ab and 1 more");
	assert_int_equal(apqn_list_format(&set, 1, buf, sizeof(buf)), 18);
	assert_string_equal(buf, "05.0004 and 2 more");

	apqn_set_clear(&set);
	for (unsigned i = 0; i < APQN_COUNT; i++)
		set.w[i / 64] = ~UINT64_C(0);
	apqn_list_format(&set, 2, buf, sizeof(buf));
	assert_string_equal(buf, "00.0000, 00.0001 and 65534 more");
}

/* ---- random input ---- */

static unsigned long long rng_state;

static unsigned rng(void)
{
	/* xorshift64*: reproducible from the printed seed on every libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned) ((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static size_t random_input(char *buf, size_t max)
{
	static const char alphabet[] = "0123456789xXabfABF+-,. \t\n\r";
	size_t len = rng() % (max + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned pick = rng() % 20;

		if (pick == 0)
			buf[i] = '\0';
		else if (pick == 1)
			buf[i] = (char) (0x80 + rng() % 128);
		else if (pick == 2)
			buf[i] = (char) (rng() % 128);
		else
			buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
	}
	return len;
}

static void check_random_input(const char *in, size_t len)
{
	struct idset cur, set, again, added, removed;
	char text[IDSET_RANGES_SIZE];
	struct apqn q;
	unsigned v, w;
	int r;

	r = id_parse_buf(in, len, 255, &v);
	assert_true(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0) {
		snprintf(text, sizeof(text), "%u", v);
		assert_int_equal(id_parse(text, 255, &w), 0);
		assert_int_equal(v, w);
	}

	r = idlist_parse_buf(in, len, 255, &set);
	assert_true(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0) {
		idset_format_ranges(&set, text, sizeof(text));
		assert_int_equal(idlist_parse(text, 255, &again), 0);
		assert_true(idset_equal(&set, &again));
	}

	cur = IDSET_EMPTY;
	cur.w[0] = ((uint64_t) rng() << 32) | rng();
	cur.w[3] = ((uint64_t) rng() << 32) | rng();
	r = idset_edit_parse_buf(in, len, 255, &cur, &set, &added, &removed);
	assert_true(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0) {
		struct idset rebuilt = idset_minus(&cur, &removed);

		rebuilt = idset_or(&rebuilt, &added);
		assert_true(idset_equal(&rebuilt, &set));
		assert_false(idset_intersects(&added, &cur));
		assert_true(idset_subset(&removed, &cur));
		idset_format_ranges(&set, text, sizeof(text));
		assert_int_equal(idset_edit_parse(text, 255, &cur, &again, NULL, NULL), 0);
		assert_true(idset_equal(&set, &again));
	}

	r = apqn_name_parse_buf(in, len, &q);
	if (r == 0) {
		assert_int_equal(len, APQN_NAME_SIZE - 1);
		assert_memory_equal(apqn_name_format(q, text), in, len);
	}
	r = adapter_name_parse_buf(in, len, &v);
	if (r == 0) {
		assert_int_equal(len, ADAPTER_NAME_SIZE - 1);
		assert_memory_equal(adapter_name_format(v, text), in, len);
	}
	r = domain_name_parse_buf(in, len, &v);
	if (r == 0) {
		assert_int_equal(len, DOMAIN_NAME_SIZE - 1);
		assert_memory_equal(domain_name_format(v, text), in, len);
	}
}

static void check_random_suggest(const char *s)
{
	char name[APQN_NAME_SIZE];
	struct apqn q;
	unsigned v;
	int r;

	r = apqn_name_suggest(s, name);
	assert_true(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0)
		assert_int_equal(apqn_name_parse(name, &q), 0);
	r = adapter_name_suggest(s, name);
	if (r == 0)
		assert_int_equal(adapter_name_parse(name, &v), 0);
	r = domain_name_suggest(s, name);
	if (r == 0)
		assert_int_equal(domain_name_parse(name, &v), 0);
}

static void test_random_input(void **state)
{
	const char *env = getenv("ZAPFS_TEST_SEED");
	unsigned long long seed = env ? strtoull(env, NULL, 0) : (unsigned long long) time(NULL);
	unsigned accepted = 0;
	char scratch[64];

	print_message("random input seed %llu (rerun with ZAPFS_TEST_SEED=%llu)\n", seed, seed);
	rng_state = seed * 2 + 1;
	for (unsigned i = 0; i < RANDOM_INPUTS; i++) {
		size_t len = random_input(scratch, i % 2 ? 12 : sizeof(scratch) - 1);
		/* An exactly sized copy lets the sanitizer catch any read past len. */
		_cleanup_free_ char *exact = malloc(len ? len : 1);
		_cleanup_free_ char *terminated = NULL;
		struct idset s;

		assert_non_null(exact);
		memcpy(exact, scratch, len);
		check_random_input(exact, len);
		accepted += idlist_parse_buf(exact, len, 255, &s) == 0;

		terminated = strndup(scratch, len);
		assert_non_null(terminated);
		check_random_suggest(terminated);
	}
	print_message("%u of %u random lists accepted\n", accepted, RANDOM_INPUTS);
	/* The generator must reach the interesting, accepting paths too. */
	assert_true(accepted > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_parse_bases),
		cmocka_unit_test(test_id_parse_bounds),
		cmocka_unit_test(test_id_parse_space_and_junk),
		cmocka_unit_test(test_id_parse_buf),
		cmocka_unit_test(test_idlist_parse),
		cmocka_unit_test(test_idlist_parse_errors),
		cmocka_unit_test(test_idlist_parse_bounds),
		cmocka_unit_test(test_idlist_parse_buf),
		cmocka_unit_test(test_idlist_parse_long_input),
		cmocka_unit_test(test_edit_relative),
		cmocka_unit_test(test_edit_absolute),
		cmocka_unit_test(test_edit_errors),
		cmocka_unit_test(test_edit_optional_outputs),
		cmocka_unit_test(test_adapter_name_parse),
		cmocka_unit_test(test_domain_name_parse),
		cmocka_unit_test(test_apqn_name_parse),
		cmocka_unit_test(test_name_parse_buf),
		cmocka_unit_test(test_name_suggest),
		cmocka_unit_test(test_name_format),
		cmocka_unit_test(test_format_ranges),
		cmocka_unit_test(test_format_ranges_worst_case),
		cmocka_unit_test(test_format_name_lists),
		cmocka_unit_test(test_format_apqn_list),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests_name("idparse", tests, NULL, NULL);
}
