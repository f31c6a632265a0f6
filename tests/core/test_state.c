/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/state.h"

#define UUID1 "8b0f2d1c-3e4a-4b5c-8d6e-7f8091a2b3c4"
#define UUID2 "0c4ee3a5-56a1-4d47-9e8f-1a2b3c4d5e6f"

struct fixture {
	char dir[64];
	struct state_store *store;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/zapfs-state-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(state_store_open(f->dir, &f->store), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	state_store_free(f->store);
	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct idset ids(const char *list)
{
	struct idset s;

	assert_int_equal(idlist_parse(list, 255, &s), 0);
	return s;
}

static struct state_guest make_guest(const char *name, const char *uuid, const char *adapters,
				     const char *domains, const char *control_domains)
{
	struct state_guest g = { 0 };

	strcpy(g.name, name);
	strcpy(g.uuid, uuid);
	g.adapters = ids(adapters);
	g.domains = ids(domains);
	g.control_domains = ids(control_domains);
	return g;
}

static void assert_guest_equal(const struct state_guest *a, const struct state_guest *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->uuid, b->uuid);
	assert_true(idset_equal(&a->adapters, &b->adapters));
	assert_true(idset_equal(&a->domains, &b->domains));
	assert_true(idset_equal(&a->control_domains, &b->control_domains));
}

/* Writes a file under the fixture's directory as a person or a crash would leave it. */
static void put_bytes(const struct fixture *f, const char *rel, const char *text, size_t len)
{
	char path[256];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t) len);
}

static void put_file(const struct fixture *f, const char *rel, const char *text)
{
	put_bytes(f, rel, text, strlen(text));
}

static bool file_exists(const struct fixture *f, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return access(path, F_OK) == 0;
}

/* How many entries of the subdirectory rel start with prefix. */
static unsigned count_entries(const struct fixture *f, const char *rel, const char *prefix)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[256];
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* ---- names ---- */

static void test_guest_names(void **state)
{
	char longest[STATE_GUEST_NAME_MAX + 2];

	assert_true(state_guest_name_valid("web1"));
	assert_true(state_guest_name_valid("a"));
	assert_true(state_guest_name_valid("A.b_c-9"));
	assert_true(state_guest_name_valid("web1."));
	assert_true(state_guest_name_valid("-x"));
	assert_true(state_guest_name_valid(UUID1));
	memset(longest, 'x', sizeof(longest));
	longest[STATE_GUEST_NAME_MAX] = '\0';
	assert_true(state_guest_name_valid(longest));
	longest[STATE_GUEST_NAME_MAX] = 'x';
	longest[STATE_GUEST_NAME_MAX + 1] = '\0';
	assert_false(state_guest_name_valid(longest));
	assert_false(state_guest_name_valid(""));
	assert_false(state_guest_name_valid("."));
	assert_false(state_guest_name_valid(".."));
	assert_false(state_guest_name_valid(".hidden"));
	assert_false(state_guest_name_valid("a/b"));
	assert_false(state_guest_name_valid("a b"));
	assert_false(state_guest_name_valid("a\n"));
	assert_false(state_guest_name_valid("caf\xc3\xa9"));
	assert_false(state_guest_name_valid("a:b"));
	assert_false(state_guest_name_valid("a*"));
}

static void test_uuids(void **state)
{
	assert_true(state_uuid_valid(UUID1));
	assert_true(state_uuid_valid("8B0F2D1C-3E4A-4B5C-8D6E-7F8091A2B3C4"));
	assert_false(state_uuid_valid(""));
	assert_false(state_uuid_valid("8b0f2d1c3e4a4b5c8d6e7f8091a2b3c4"));
	assert_false(state_uuid_valid("8b0f2d1c-3e4a-4b5c-8d6e-7f8091a2b3c"));
	assert_false(state_uuid_valid("8b0f2d1c-3e4a-4b5c-8d6e-7f8091a2b3c45"));
	assert_false(state_uuid_valid("8b0f2d1c-3e4a-4b5c-8d6e_7f8091a2b3c4"));
	assert_false(state_uuid_valid("gb0f2d1c-3e4a-4b5c-8d6e-7f8091a2b3c4"));
}

/* ---- file formats ---- */

static void test_guest_format_exact(void **state)
{
	struct state_guest g = make_guest("web1", UUID1, "5,6", "4,0xab", "0xab");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	assert_int_equal(state_guest_format(&g, &text, &len), 0);
	assert_string_equal(text, "# zapfs guest, written by zapfs; edit with care\n"
				  "version 1\n"
				  "name web1\n"
				  "uuid " UUID1 "\n"
				  "adapters 05,06\n"
				  "domains 0004,00ab\n"
				  "control_domains 00ab\n");
	assert_int_equal(len, strlen(text));
}

static void test_guest_format_lists(void **state)
{
	struct state_guest g = make_guest("g", UUID1, "0-4,7-255", "", "1,2,3,5");
	_cleanup_free_ char *text = NULL;

	assert_int_equal(state_guest_format(&g, &text, NULL), 0);
	assert_non_null(strstr(text, "\nadapters 00-04,07-ff\n"));
	assert_non_null(strstr(text, "\ndomains none\n"));
	assert_non_null(strstr(text, "\ncontrol_domains 0001-0003,0005\n"));
}

static void test_guest_format_rejects(void **state)
{
	struct state_guest g = make_guest("web1", UUID1, "", "", "");
	char *text = NULL;

	strcpy(g.name, ".web1");
	assert_int_equal(state_guest_format(&g, &text, NULL), -EINVAL);
	strcpy(g.name, "web1");
	strcpy(g.uuid, "not-a-uuid");
	assert_int_equal(state_guest_format(&g, &text, NULL), -EINVAL);
	assert_null(text);
}

static void test_guest_round_trip(void **state)
{
	const struct state_guest cases[] = {
		make_guest("web1", UUID1, "5,6", "4,0xab", "0xab"),
		make_guest("empty", UUID2, "", "", ""),
		make_guest("full", UUID1, "0-255", "0-255", "0-255"),
		make_guest("sparse", UUID2, "0,2,4,255", "1,3,5-7,254", "0"),
		make_guest("A.b_c-9", UUID1, "63", "0", "0-1"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *text = NULL;
		struct state_guest back;
		char err[128] = "";
		size_t len;

		assert_int_equal(state_guest_format(&cases[i], &text, &len), 0);
		assert_int_equal(state_guest_parse(text, len, &back, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_guest_equal(&back, &cases[i]);
	}
}

static void test_guest_parse_lenient(void **state)
{
	const char *text = "\n# a comment\n  version   1  \n\n"
			   "\tname web1\t\n"
			   "# another\n"
			   "control_domains 00ab , 0004-0006\n"
			   "uuid 8B0F2D1C-3E4A-4B5C-8D6E-7F8091A2B3C4";
	struct state_guest g;

	assert_int_equal(state_guest_parse(text, strlen(text), &g, NULL, 0), 0);
	assert_string_equal(g.name, "web1");
	assert_string_equal(g.uuid, UUID1);
	assert_true(idset_empty(&g.adapters));
	assert_true(idset_empty(&g.domains));
	{
		struct idset want = ids("4-6,0xab");

		assert_true(idset_equal(&g.control_domains, &want));
	}
}

static void test_guest_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "", "line 1: empty file, expected 'version 1'" },
		{ "# only a comment\n", "line 1: empty file, expected 'version 1'" },
		{ "name web1\n", "line 1: expected 'version 1' first, not 'name'" },
		{ "version 2\nname web1\n",
		  "line 1: unsupported version '2' (this zapfs reads version 1)" },
		{ "version\n", "line 1: unsupported version '' (this zapfs reads version 1)" },
		{ "version 1\nname web1\n", "line 2: missing 'uuid'" },
		{ "version 1\nuuid " UUID1 "\n\n", "line 3: missing 'name'" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadaptors 05\n",
		  "line 4: unknown key 'adaptors'" },
		{ "version 1\nname web1\nname web2\n",
		  "line 3: 'name' given twice (first on line 2)" },
		{ "version 1\nname .web1\n", "line 2: invalid guest name '.web1' (letters, digits, "
					     "'.', '_' and '-', at most 64, "
					     "no leading '.')" },
		{ "version 1\nname web 1\n", "line 2: invalid guest name 'web 1' (letters, digits, "
					     "'.', '_' and '-', at most 64, "
					     "no leading '.')" },
		{ "version 1\nname web1\nuuid 1234\n", "line 3: invalid uuid '1234'" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 5\n",
		  "line 4: bad adapter '5' in 'adapters' (use 05)" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 05,0A\n",
		  "line 4: bad adapter '0A' in 'adapters' (use 0a)" },
		{ "version 1\nname web1\nuuid " UUID1 "\ndomains 0004,4\n",
		  "line 4: bad domain '4' in 'domains' (use 0004)" },
		{ "version 1\nname web1\nuuid " UUID1 "\ndomains 0100\n",
		  "line 4: bad domain '0100' in 'domains'" },
		{ "version 1\nname web1\nuuid " UUID1 "\ncontrol_domains 0004,,0005\n",
		  "line 4: bad domain '' in 'control_domains'" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 05,\n",
		  "line 4: bad adapter '' in 'adapters'" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 06-05\n",
		  "line 4: range '06-05' in 'adapters' runs backwards" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 05-\n",
		  "line 4: bad adapter '' in 'adapters'" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters 05-06-07\n",
		  "line 4: bad adapter '06-07' in 'adapters'" },
		{ "version 1\nname web1\r\n", "line 2: control character 0x0d in the text" },
		{ "version 1\nname web1\nuuid " UUID1 "\nadapters xyz\n",
		  "line 4: bad adapter 'xyz' in 'adapters'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct state_guest g = { .name = "untouched" };
		char err[256] = "";
		int r =
		    state_guest_parse(cases[i].text, strlen(cases[i].text), &g, err, sizeof(err));

		if (r != -EINVAL || strcmp(err, cases[i].message) != 0)
			fail_msg("case %zu: r=%d err=\"%s\", want \"%s\"", i, r, err,
				 cases[i].message);
		assert_string_equal(g.name, "untouched");
	}
}

static void test_guest_parse_binary(void **state)
{
	static const char text[] = "version 1\nname web1\0junk\n";
	struct state_guest g;
	char err[8];

	assert_int_equal(state_guest_parse(text, sizeof(text) - 1, &g, NULL, 0), -EINVAL);
	/* A short error buffer truncates the message, never overflows. */
	assert_int_equal(state_guest_parse(text, sizeof(text) - 1, &g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2:");
}

static void test_reservations_round_trip(void **state)
{
	const struct state_reservation v[] = {
		{ { 6, 4 }, "db1" },
		{ { 5, 0xab }, "web1" },
		{ { 5, 4 }, "web1" },
	};
	_cleanup_free_ struct state_reservation *back = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len, n = 99;

	assert_int_equal(state_reservations_format(v, ARRAY_SIZE(v), &text, &len), 0);
	assert_non_null(strstr(text, "version 1\n05.0004 web1\n05.00ab web1\n06.0004 db1\n"));
	assert_int_equal(state_reservations_parse(text, len, &back, &n, NULL, 0), 0);
	assert_int_equal(n, 3);
	assert_int_equal(back[0].apqn.ap, 5);
	assert_int_equal(back[0].apqn.dom, 4);
	assert_string_equal(back[0].owner, "web1");
	assert_int_equal(back[1].apqn.dom, 0xab);
	assert_int_equal(back[2].apqn.ap, 6);
	assert_string_equal(back[2].owner, "db1");
}

static void test_reservations_empty(void **state)
{
	struct state_reservation *back = (void *) 1;
	_cleanup_free_ char *text = NULL;
	size_t len, n = 99;

	assert_int_equal(state_reservations_format(NULL, 0, &text, &len), 0);
	assert_int_equal(state_reservations_parse(text, len, &back, &n, NULL, 0), 0);
	assert_null(back);
	assert_int_equal(n, 0);
}

static void test_reservations_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "05.0004 web1\n", "line 1: expected 'version 1' first, not '05.0004'" },
		{ "version 1\n05.4 web1\n", "line 2: bad queue '05.4' (use 05.0004)" },
		{ "version 1\nqueue web1\n", "line 2: bad queue 'queue'" },
		{ "version 1\n05.0004\n", "line 2: queue 05.0004 has no owner" },
		{ "version 1\n05.0004 web 1\n", "line 2: invalid guest name 'web 1'" },
		{ "version 1\n05.0004 .x\n", "line 2: invalid guest name '.x'" },
		{ "version 1\n05.0004 a\n#\n05.0004 b\n", "line 4: queue 05.0004 reserved twice" },
	};
	const struct state_reservation bad_owner[] = { { { 5, 4 }, "a/b" } };
	char *text = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct state_reservation *v = NULL;
		char err[256] = "";
		size_t n = 99;
		int r = state_reservations_parse(cases[i].text, strlen(cases[i].text), &v, &n, err,
						 sizeof(err));

		if (r != -EINVAL || strcmp(err, cases[i].message) != 0)
			fail_msg("case %zu: r=%d err=\"%s\", want \"%s\"", i, r, err,
				 cases[i].message);
		assert_null(v);
		assert_int_equal(n, 99);
	}
	assert_int_equal(state_reservations_format(bad_owner, 1, &text, NULL), -EINVAL);
	assert_null(text);
}

static void test_masks_round_trip(void **state)
{
	const struct state_masks m = { ids("0-4,7-255"), ids("0-3,5-70,72-255") };
	const struct state_masks none = { IDSET_EMPTY, IDSET_EMPTY };
	_cleanup_free_ char *text = NULL, *text2 = NULL;
	struct state_masks back;
	size_t len;

	assert_int_equal(state_masks_format(&m, &text, &len), 0);
	assert_non_null(strstr(
	    text, "\nversion 1\napmask 00-04,07-ff\naqmask 0000-0003,0005-0046,0048-00ff\n"));
	assert_int_equal(state_masks_parse(text, len, &back, NULL, 0), 0);
	assert_true(idset_equal(&back.apmask, &m.apmask));
	assert_true(idset_equal(&back.aqmask, &m.aqmask));

	assert_int_equal(state_masks_format(&none, &text2, &len), 0);
	assert_int_equal(state_masks_parse(text2, len, &back, NULL, 0), 0);
	assert_true(idset_empty(&back.apmask));
	assert_true(idset_empty(&back.aqmask));
}

static void test_masks_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "version 1\napmask 05\n", "line 2: missing 'aqmask'" },
		{ "version 1\naqmask 0005\n", "line 2: missing 'apmask'" },
		{ "version 1\napmask 05\napmask 06\n",
		  "line 3: 'apmask' given twice (first on line 2)" },
		{ "version 1\napmask 05\naqmask 5\n",
		  "line 3: bad domain '5' in 'aqmask' (use 0005)" },
		{ "version 1\nmask 05\n", "line 2: unknown key 'mask'" },
		{ "version 9\n", "line 1: unsupported version '9' (this zapfs reads version 1)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct state_masks m;
		char err[256] = "";
		int r =
		    state_masks_parse(cases[i].text, strlen(cases[i].text), &m, err, sizeof(err));

		if (r != -EINVAL || strcmp(err, cases[i].message) != 0)
			fail_msg("case %zu: r=%d err=\"%s\", want \"%s\"", i, r, err,
				 cases[i].message);
	}
}

/* ---- the store ---- */

static void test_store_round_trip(void **state)
{
	struct fixture *f = *state;
	const struct state_guest web1 = make_guest("web1", UUID1, "5,6", "4,0xab", "0xab");
	const struct state_guest db1 = make_guest("db1", UUID2, "5", "0x47", "");
	const struct state_reservation res[] = { { { 5, 4 }, "web1" }, { { 5, 0x47 }, "gone" } };
	const struct state_masks masks = { ids("0-4,7-255"), ids("0-3,5-255") };
	struct state s;

	assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
	assert_int_equal(s.n_guests, 0);
	assert_int_equal(s.n_reservations, 0);
	assert_false(s.has_masks);
	state_clear(&s);

	assert_int_equal(state_store_save_guest(f->store, &web1), 0);
	assert_int_equal(state_store_save_guest(f->store, &db1), 0);
	assert_int_equal(state_store_save_reservations(f->store, res, ARRAY_SIZE(res)), 0);
	assert_int_equal(state_store_save_masks(f->store, &masks), 0);
	assert_true(file_exists(f, "guests/web1.conf"));
	assert_true(file_exists(f, "reservations"));
	assert_true(file_exists(f, "masks"));

	assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
	assert_int_equal(s.n_guests, 2);
	assert_guest_equal(&s.guests[0], &db1);
	assert_guest_equal(&s.guests[1], &web1);
	assert_int_equal(s.n_reservations, 2);
	assert_string_equal(s.reservations[0].owner, "web1");
	assert_string_equal(s.reservations[1].owner, "gone");
	assert_true(s.has_masks);
	assert_true(idset_equal(&s.masks.apmask, &masks.apmask));
	assert_true(idset_equal(&s.masks.aqmask, &masks.aqmask));
	state_clear(&s);
	assert_null(s.guests);

	/* Saving again replaces. */
	{
		struct state_guest changed = web1;

		changed.adapters = ids("7");
		assert_int_equal(state_store_save_guest(f->store, &changed), 0);
		assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
		assert_true(idset_equal(&s.guests[1].adapters, &changed.adapters));
		state_clear(&s);
	}

	assert_int_equal(state_store_remove_guest(f->store, "web1"), 0);
	assert_int_equal(state_store_remove_guest(f->store, "web1"), -ENOENT);
	assert_int_equal(state_store_remove_guest(f->store, "../masks"), -EINVAL);
	assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
	assert_int_equal(s.n_guests, 1);
	assert_string_equal(s.guests[0].name, "db1");
	state_clear(&s);
	assert_int_equal(count_entries(f, "guests", "."), 0);
	assert_int_equal(count_entries(f, "", "."), 0);
}

static void test_store_rejects(void **state)
{
	struct fixture *f = *state;
	struct state_guest g = make_guest("web1", UUID1, "", "", "");
	struct state_store *second = (void *) 1;
	char path[128];

	strcpy(g.name, ".x");
	assert_int_equal(state_store_save_guest(f->store, &g), -EINVAL);
	assert_int_equal(count_entries(f, "guests", ""), 0);

	/* One zapfs per state directory. */
	assert_int_equal(state_store_open(f->dir, &second), -EBUSY);
	assert_ptr_equal(second, (void *) 1);

	/* A missing directory is created; a file in the way is an error. */
	snprintf(path, sizeof(path), "%s/sub", f->dir);
	assert_int_equal(state_store_open(path, &second), 0);
	second = state_store_free(second);
	assert_true(file_exists(f, "sub/guests"));
	put_file(f, "file", "x");
	snprintf(path, sizeof(path), "%s/file", f->dir);
	assert_int_equal(state_store_open(path, &second), -ENOTDIR);
}

struct problems {
	unsigned n;
	char file[8][64];
	char moved_to[8][96];
	char message[8][256];
	int error[8];
};

static void collect_problem(const struct state_problem *p, void *userdata)
{
	struct problems *ps = userdata;

	assert_true(ps->n < ARRAY_SIZE(ps->file));
	snprintf(ps->file[ps->n], sizeof(ps->file[0]), "%s", p->file);
	snprintf(ps->moved_to[ps->n], sizeof(ps->moved_to[0]), "%s",
		 p->moved_to ? p->moved_to : "");
	snprintf(ps->message[ps->n], sizeof(ps->message[0]), "%s", p->message);
	ps->error[ps->n] = p->error;
	ps->n++;
}

/* The index of the problem about file, failing when there is none. */
static unsigned problem_about(const struct problems *ps, const char *file)
{
	for (unsigned i = 0; i < ps->n; i++)
		if (strcmp(ps->file[i], file) == 0)
			return i;
	fail_msg("no problem reported about %s", file);
	return 0;
}

static void test_store_corrupt_set_aside(void **state)
{
	struct fixture *f = *state;
	const struct state_guest good = make_guest("good", UUID1, "5", "4", "");
	const struct state_guest other = make_guest("other", UUID2, "6", "4", "");
	const struct state_masks masks = { ids("1"), ids("2") };
	static const char garbage[] = "version 1\nname bad\nuuid nope\n";
	struct problems ps = { 0 };
	char path[128];
	struct state s;
	unsigned i;

	assert_int_equal(state_store_save_guest(f->store, &good), 0);
	assert_int_equal(state_store_save_guest(f->store, &other), 0);
	assert_int_equal(state_store_save_masks(f->store, &masks), 0);
	put_file(f, "guests/bad.conf", garbage);
	put_file(f, "guests/renamed.conf", "version 1\nname good\nuuid " UUID2 "\n");
	put_file(f, "guests/bad name.conf", "");
	put_file(f, "reservations", "version 1\n05.0004 a b\n");
	snprintf(path, sizeof(path), "%s/guests/adir.conf", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	/* Not guest files: left alone. */
	put_file(f, "guests/notes.txt", "hello");
	put_file(f, "guests/.hidden.conf", "junk");

	assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 5);
	assert_int_equal(ps.n, 5);
	assert_int_equal(s.n_guests, 2);
	assert_string_equal(s.guests[0].name, "good");
	assert_string_equal(s.guests[1].name, "other");
	assert_true(s.has_masks);
	assert_int_equal(s.n_reservations, 0);
	state_clear(&s);

	i = problem_about(&ps, "guests/bad.conf");
	assert_string_equal(ps.message[i], "line 3: invalid uuid 'nope'");
	assert_int_equal(ps.error[i], -EINVAL);
	assert_int_equal(strncmp(ps.moved_to[i], "guests/bad.conf.corrupt-", 24), 0);
	assert_true(file_exists(f, ps.moved_to[i]));
	i = problem_about(&ps, "guests/renamed.conf");
	assert_string_equal(ps.message[i], "it names guest 'good', not the file's name");
	i = problem_about(&ps, "guests/bad name.conf");
	assert_string_equal(ps.message[i], "the file name is not a valid guest name");
	i = problem_about(&ps, "guests/adir.conf");
	assert_int_equal(ps.error[i], -EISDIR);
	assert_string_equal(ps.message[i], "cannot read it: Is a directory");
	assert_int_equal(strncmp(ps.moved_to[i], "guests/adir.conf.corrupt-", 25), 0);
	i = problem_about(&ps, "reservations");
	assert_string_equal(ps.message[i], "line 2: invalid guest name 'a b'");
	assert_int_equal(strncmp(ps.moved_to[i], "reservations.corrupt-", 21), 0);
	assert_false(file_exists(f, "reservations"));
	assert_false(file_exists(f, "guests/bad.conf"));
	assert_true(file_exists(f, "guests/notes.txt"));
	assert_true(file_exists(f, "guests/.hidden.conf"));
	assert_int_equal(count_entries(f, "guests", "bad.conf.corrupt-"), 1);

	/* Set aside once, the state loads cleanly. */
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 0);
	assert_int_equal(s.n_guests, 2);
	state_clear(&s);

	/* A second bad file of the same name, in the same second, does not replace the first. */
	put_file(f, "guests/bad.conf", garbage);
	assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 1);
	state_clear(&s);
	assert_int_equal(count_entries(f, "guests", "bad.conf.corrupt-"), 2);
}

static void test_store_oversized_and_binary(void **state)
{
	struct fixture *f = *state;
	struct problems ps = { 0 };
	_cleanup_free_ char *big = malloc(70000);
	struct state s;
	unsigned i;

	assert_non_null(big);
	memset(big, '#', 70000);
	put_bytes(f, "masks", big, 70000);
	put_bytes(f, "guests/bin.conf", "version 1\n\x01\x02", 12);
	assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 2);
	assert_false(s.has_masks);
	state_clear(&s);
	i = problem_about(&ps, "masks");
	assert_int_equal(ps.error[i], -EFBIG);
	i = problem_about(&ps, "guests/bin.conf");
	assert_string_equal(ps.message[i], "line 2: control character 0x01 in the text");
}

static void test_store_duplicate_uuid(void **state)
{
	struct fixture *f = *state;
	const struct state_guest a = make_guest("a", UUID1, "", "", "");
	const struct state_guest b = make_guest("b", UUID1, "", "", "");
	struct problems ps = { 0 };
	struct state s;

	assert_int_equal(state_store_save_guest(f->store, &a), 0);
	assert_int_equal(state_store_save_guest(f->store, &b), 0);
	assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 1);
	assert_int_equal(s.n_guests, 2);
	state_clear(&s);
	assert_string_equal(ps.message[0], "guests 'a' and 'b' have one uuid " UUID1);
	assert_int_equal(ps.error[0], -EEXIST);
	assert_string_equal(ps.moved_to[0], "");
	assert_true(file_exists(f, "guests/b.conf"));
}

static void test_store_stray_temps_removed(void **state)
{
	struct fixture *f = *state;
	struct state s;

	put_file(f, "guests/.web1.conf.tmp-123-0", "version 1\nname we");
	put_file(f, ".masks.tmp-99-7", "");
	assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
	assert_int_equal(s.n_guests, 0);
	state_clear(&s);
	assert_int_equal(count_entries(f, "guests", "."), 0);
	assert_int_equal(count_entries(f, "", "."), 0);
}

/* ---- atomic writes: failures and crashes at every step ---- */

static const enum state_write_step all_steps[] = {
	STATE_WRITE_TEMP_CREATED, STATE_WRITE_PARTIAL, STATE_WRITE_WRITTEN,
	STATE_WRITE_SYNCED,	  STATE_WRITE_RENAMED,
};

struct hook_plan {
	enum state_write_step at;
	bool crash;    /* _exit() there, as a power cut would stop the process */
	unsigned seen; /* bit per step reached */
};

static int step_hook(enum state_write_step step, const char *name, void *userdata)
{
	struct hook_plan *plan = userdata;

	plan->seen |= 1u << step;
	if (step != plan->at)
		return 0;
	if (plan->crash)
		_exit(0);
	return -EIO;
}

static void test_write_hook_sees_every_step(void **state)
{
	struct fixture *f = *state;
	struct hook_plan plan = { .at = (enum state_write_step) 99 };
	const struct state_masks masks = { ids("1"), ids("2") };

	state_store_set_write_hook(f->store, step_hook, &plan);
	assert_int_equal(state_store_save_masks(f->store, &masks), 0);
	assert_int_equal(plan.seen, 0x1f);
}

static void test_write_hook_error_at_each_step(void **state)
{
	struct fixture *f = *state;
	const struct state_masks old = { ids("1"), ids("2") }, new = { ids("3"), ids("4") };

	assert_int_equal(state_store_save_masks(f->store, &old), 0);
	for (size_t i = 0; i < ARRAY_SIZE(all_steps); i++) {
		struct hook_plan plan = { .at = all_steps[i] };
		bool renamed = all_steps[i] == STATE_WRITE_RENAMED;
		struct state s;

		assert_int_equal(state_store_save_masks(f->store, &old), 0);
		state_store_set_write_hook(f->store, step_hook, &plan);
		assert_int_equal(state_store_save_masks(f->store, &new), -EIO);
		state_store_set_write_hook(f->store, NULL, NULL);
		/* An aborted write cleans up after itself at once. */
		assert_int_equal(count_entries(f, "", "."), 0);
		assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
		assert_true(idset_equal(&s.masks.apmask, renamed ? &new.apmask : &old.apmask));
		state_clear(&s);
	}
}

/* Runs save in a child that dies at step; returns once it is gone. */
static void crash_during(struct fixture *f, enum state_write_step step,
			 int (*save)(struct fixture *f))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct hook_plan plan = { .at = step, .crash = true };

		state_store_set_write_hook(f->store, step_hook, &plan);
		save(f);
		_exit(3); /* the hook never fired */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static const struct state_guest *crash_old_guest(void)
{
	static struct state_guest g;

	g = make_guest("web1", UUID1, "5", "4", "");
	return &g;
}

static const struct state_guest *crash_new_guest(void)
{
	static struct state_guest g;

	g = make_guest("web1", UUID1, "5-6", "4,0xab", "0xab");
	return &g;
}

static int save_new_guest(struct fixture *f)
{
	return state_store_save_guest(f->store, crash_new_guest());
}

static const struct state_reservation crash_new_reservations[] = { { { 5, 4 }, "web1" },
								   { { 5, 0xab }, "web1" },
								   { { 6, 0xab }, "db1" } };

static int save_new_reservations(struct fixture *f)
{
	return state_store_save_reservations(f->store, crash_new_reservations,
					     ARRAY_SIZE(crash_new_reservations));
}

static void test_crash_at_each_step(void **state)
{
	struct fixture *f = *state;
	const struct state_reservation old_res[] = { { { 5, 4 }, "web1" } };

	for (size_t i = 0; i < ARRAY_SIZE(all_steps); i++) {
		bool new_expected = all_steps[i] == STATE_WRITE_RENAMED;
		struct problems ps = { 0 };
		struct state s;

		assert_int_equal(state_store_save_guest(f->store, crash_old_guest()), 0);
		assert_int_equal(state_store_save_reservations(f->store, old_res, 1), 0);

		crash_during(f, all_steps[i], save_new_guest);
		crash_during(f, all_steps[i], save_new_reservations);
		if (!new_expected) {
			/* The dead writer left its temp file behind... */
			assert_int_equal(count_entries(f, "guests", ".web1.conf.tmp-"), 1);
			assert_int_equal(count_entries(f, "", ".reservations.tmp-"), 1);
		}

		/* ...which load clears away; the file is exactly the old or the new one. */
		assert_int_equal(state_store_load(f->store, &s, collect_problem, &ps), 0);
		assert_int_equal(count_entries(f, "guests", "."), 0);
		assert_int_equal(count_entries(f, "", "."), 0);
		assert_int_equal(s.n_guests, 1);
		assert_guest_equal(&s.guests[0],
				   new_expected ? crash_new_guest() : crash_old_guest());
		assert_int_equal(s.n_reservations, new_expected ? 3 : 1);
		state_clear(&s);
	}
}

static void test_crash_creating_first_file(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(all_steps); i++) {
		bool new_expected = all_steps[i] == STATE_WRITE_RENAMED;
		struct state s;

		state_store_remove_guest(f->store, "web1");
		crash_during(f, all_steps[i], save_new_guest);
		assert_int_equal(state_store_load(f->store, &s, NULL, NULL), 0);
		assert_int_equal(s.n_guests, new_expected ? 1 : 0);
		if (new_expected)
			assert_guest_equal(&s.guests[0], crash_new_guest());
		state_clear(&s);
		assert_int_equal(count_entries(f, "guests", "."), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_names),
		cmocka_unit_test(test_uuids),
		cmocka_unit_test(test_guest_format_exact),
		cmocka_unit_test(test_guest_format_lists),
		cmocka_unit_test(test_guest_format_rejects),
		cmocka_unit_test(test_guest_round_trip),
		cmocka_unit_test(test_guest_parse_lenient),
		cmocka_unit_test(test_guest_parse_errors),
		cmocka_unit_test(test_guest_parse_binary),
		cmocka_unit_test(test_reservations_round_trip),
		cmocka_unit_test(test_reservations_empty),
		cmocka_unit_test(test_reservations_errors),
		cmocka_unit_test(test_masks_round_trip),
		cmocka_unit_test(test_masks_errors),
		cmocka_unit_test_setup_teardown(test_store_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_corrupt_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_oversized_and_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_duplicate_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_stray_temps_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_hook_sees_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_hook_error_at_each_step, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_creating_first_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
