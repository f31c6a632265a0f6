/* SPDX-License-Identifier: MIT */
/*
 * Every parser of the tree's syntax on arbitrary bytes: no crash, no read
 * past the buffer, and whatever is accepted formats back to the same value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data;
	struct idset cur = IDSET_EMPTY, set, again, added, removed;
	char text[IDSET_RANGES_SIZE], name[APQN_NAME_SIZE];
	char *terminated;
	struct apqn q;
	unsigned v, w;

	if (id_parse_buf(in, size, 255, &v) == 0) {
		snprintf(text, sizeof(text), "%u", v);
		check(id_parse(text, 255, &w) == 0 && v == w);
	}
	if (idlist_parse_buf(in, size, 255, &set) == 0) {
		idset_format_ranges(&set, text, sizeof(text));
		check(idlist_parse(text, 255, &again) == 0 && idset_equal(&set, &again));
	}
	cur.w[0] = 0xf0f0f0f0f0f0f0f0u;
	cur.w[3] = 0x8000000000000001u;
	if (idset_edit_parse_buf(in, size, 255, &cur, &set, &added, &removed) == 0) {
		struct idset rebuilt = idset_minus(&cur, &removed);

		rebuilt = idset_or(&rebuilt, &added);
		check(idset_equal(&rebuilt, &set));
	}
	if (apqn_name_parse_buf(in, size, &q) == 0)
		check(memcmp(apqn_name_format(q, name), in, size) == 0);
	if (adapter_name_parse_buf(in, size, &v) == 0)
		check(memcmp(adapter_name_format(v, name), in, size) == 0);
	if (domain_name_parse_buf(in, size, &v) == 0)
		check(memcmp(domain_name_format(v, name), in, size) == 0);

	terminated = strndup(in, size);
	if (!terminated)
		return 0;
	if (apqn_name_suggest(terminated, name) == 0)
		check(apqn_name_parse(name, &q) == 0);
	if (adapter_name_suggest(terminated, name) == 0)
		check(adapter_name_parse(name, &v) == 0);
	if (domain_name_suggest(terminated, name) == 0)
		check(domain_name_parse(name, &v) == 0);
	free(terminated);
	return 0;
}
