/* SPDX-License-Identifier: MIT */
#include "core/content.h"

#include <stdlib.h>

struct content *content_from_strbuf(struct strbuf *sb)
{
	struct content *c = malloc(sizeof(*c));

	if (!c) {
		strbuf_done(sb);
		return NULL;
	}
	c->len = sb->len;
	c->data = strbuf_take(sb);
	if (!c->data) {
		free(c);
		return NULL;
	}
	atomic_init(&c->refs, 1);
	return c;
}

struct content *content_ref(struct content *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

struct content *content_unref(struct content *c)
{
	/* the last reference must see every write made through the others */
	if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
		free(c->data);
		free(c);
	}
	return NULL;
}
