/* SPDX-License-Identifier: MIT */
/*
 * A generated file's rendered text, shared read-only by every open that
 * serves it and by the tree's render cache, freed with its last reference.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>

#include "core/strbuf.h"

struct content {
	atomic_uint refs;
	size_t len;
	char *data; /* NUL-terminated; len excludes the NUL */
};

/* The text of sb, taken over (sb is left empty, even on failure), with one reference. NULL on
 * -ENOMEM. */
struct content *content_from_strbuf(struct strbuf *sb);

/* Another reference to c (which may be NULL). */
struct content *content_ref(struct content *c);

/* Lets go of one reference; frees c with its last. Returns NULL. */
struct content *content_unref(struct content *c);

static inline void content_unrefp(struct content **c)
{
	content_unref(*c);
}
#define _cleanup_content_ __attribute__((cleanup(content_unrefp)))
