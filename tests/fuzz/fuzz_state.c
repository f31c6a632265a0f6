/* SPDX-License-Identifier: MIT */
/*
 * The state file parsers on arbitrary bytes: no crash, and whatever is
 * accepted formats to a text that parses to the same state.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void fuzz_guest(const char *in, size_t size)
{
	struct state_guest g, back;
	char err[128], *text = NULL;
	size_t len;

	if (state_guest_parse(in, size, &g, err, sizeof(err)) < 0)
		return;
	check(state_guest_format(&g, &text, &len) == 0);
	check(state_guest_parse(text, len, &back, err, sizeof(err)) == 0);
	check(strcmp(g.name, back.name) == 0 && strcmp(g.uuid, back.uuid) == 0);
	check(idset_equal(&g.adapters, &back.adapters) && idset_equal(&g.domains, &back.domains) &&
	      idset_equal(&g.control_domains, &back.control_domains));
	free(text);
}

static void fuzz_reservations(const char *in, size_t size)
{
	struct state_reservation *v = NULL, *back = NULL;
	char err[128], *text = NULL;
	size_t n, n_back, len;

	if (state_reservations_parse(in, size, &v, &n, err, sizeof(err)) < 0)
		return;
	check(state_reservations_format(v, n, &text, &len) == 0);
	check(state_reservations_parse(text, len, &back, &n_back, err, sizeof(err)) == 0);
	check(n == n_back && (n == 0 || memcmp(v, back, n * sizeof(*v)) == 0));
	free(v);
	free(back);
	free(text);
}

static void fuzz_masks(const char *in, size_t size)
{
	struct state_masks m, back;
	char err[128], *text = NULL;
	size_t len;

	if (state_masks_parse(in, size, &m, err, sizeof(err)) < 0)
		return;
	check(state_masks_format(&m, &text, &len) == 0);
	check(state_masks_parse(text, len, &back, err, sizeof(err)) == 0);
	check(idset_equal(&m.apmask, &back.apmask) && idset_equal(&m.aqmask, &back.aqmask));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exactly sized copy, so a read past the end is caught. */
	char *in = malloc(size ? size : 1);

	if (!in)
		return 0;
	memcpy(in, data, size);
	fuzz_guest(in, size);
	fuzz_reservations(in, size);
	fuzz_masks(in, size);
	free(in);
	return 0;
}
