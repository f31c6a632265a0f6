/* SPDX-License-Identifier: MIT */
/* Id sets written as lists in tests: IDS(5, 6, 0x47). */
#pragma once

#include <stddef.h>

#include "core/idset.h"

static inline struct idset ids_from_list(const unsigned *list, size_t n)
{
	struct idset s = IDSET_EMPTY;

	for (size_t i = 0; i < n; i++)
		idset_add(&s, list[i]);
	return s;
}

#define IDS(...)                                                                                   \
	ids_from_list((const unsigned[]){ __VA_ARGS__ },                                           \
		      sizeof((unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned))
