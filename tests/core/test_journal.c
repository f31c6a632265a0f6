/* SPDX-License-Identifier: MIT */
/* core/journal: the text of the writes that revert an operation cut short. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idparse.h"
#include "core/journal.h"

#define UUID1 "8b0f0000-0000-4000-8000-000000000001"

static struct idset ids(const char *list)
{
	struct idset s;

	assert_int_equal(idlist_parse(list, 255, &s), 0);
	return s;
}

static struct kop op_of(enum kop_type type, unsigned id)
{
	struct kop op = { .type = type, .id = id };

	snprintf(op.uuid, sizeof(op.uuid), "%s", UUID1);
	return op;
}

static void test_round_trip(void **state)
{
	struct kop ops[] = {
		op_of(KOP_UNASSIGN_DOMAIN, 71),
		op_of(KOP_ASSIGN_ADAPTER, 5),
		op_of(KOP_UNASSIGN_CONTROL_DOMAIN, 255),
		op_of(KOP_AP_CONFIG, 0),
		{ .type = KOP_APMASK_EDIT, .set = ids("5-6"), .clear = IDSET_EMPTY },
		{ .type = KOP_AQMASK_EDIT, .set = IDSET_EMPTY, .clear = ids("0-255") },
		op_of(KOP_MDEV_REMOVE, 0),
		op_of(KOP_MDEV_CREATE, 0),
	};
	struct kop *back = NULL;
	char *text = NULL;
	size_t n = 0;

	(void) state;
	ops[3].apm = ids("5-6");
	ops[3].aqm = ids("4,71");
	assert_int_equal(journal_format(ops, sizeof(ops) / sizeof(ops[0]), &text), 0);
	assert_string_equal(text,
			    "# zapfs journal: kernel writes that revert an operation cut short\n"
			    "version 1\n"
			    "unassign_domain " UUID1 " 71\n"
			    "assign_adapter " UUID1 " 5\n"
			    "unassign_control_domain " UUID1 " 255\n"
			    "ap_config " UUID1 " 5-6 4,71 none\n"
			    "apmask 5-6 none\n"
			    "aqmask none 0-255\n"
			    "remove " UUID1 "\n"
			    "create " UUID1 "\n");
	assert_int_equal(journal_parse(text, &back, &n, NULL, 0), 0);
	assert_int_equal(n, sizeof(ops) / sizeof(ops[0]));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(back[i].type, ops[i].type);
		assert_int_equal(back[i].id, ops[i].id);
		assert_true(idset_equal(&back[i].set, &ops[i].set));
		assert_true(idset_equal(&back[i].clear, &ops[i].clear));
		assert_true(idset_equal(&back[i].apm, &ops[i].apm));
		assert_true(idset_equal(&back[i].aqm, &ops[i].aqm));
		if (ops[i].type != KOP_APMASK_EDIT && ops[i].type != KOP_AQMASK_EDIT)
			assert_string_equal(back[i].uuid, UUID1);
	}
	free(back);
	free(text);

	assert_int_equal(journal_format(NULL, 0, &text), 0);
	assert_int_equal(journal_parse(text, &back, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_null(back);
	free(text);
}

static void test_bad_journals(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "no version line" },
		{ "version 2\n", "line 1: not a journal entry" },
		{ "version 1\nfrobnicate x\n", "line 2: not a journal entry" },
		{ "version 1\nassign_adapter " UUID1 " 256\n", "line 2: not a journal entry" },
		{ "version 1\nassign_adapter short 5\n", "line 2: not a journal entry" },
		{ "version 1\nremove " UUID1 " extra\n", "line 2: not a journal entry" },
		{ "version 1\napmask 5\n", "line 2: not a journal entry" },
		{ "version 1\nap_config " UUID1 " 5 x none\n", "line 2: not a journal entry" },
	};
	struct kop *ops = NULL;
	char err[64];
	size_t n;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(journal_parse(cases[i].text, &ops, &n, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_journals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
