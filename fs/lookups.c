/* SPDX-License-Identifier: MIT */
#include "fs/lookups.h"

#include <errno.h>
#include <stdlib.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "core/cleanup.h"
#include "core/tree.h"

struct lookup_count {
	uint64_t id;
	uint64_t count;
	UT_hash_handle hh;
};

void lookups_init(struct lookups *l)
{
	*l = (struct lookups){ .by_id = NULL };
	pthread_mutex_init(&l->lock, NULL);
}

void lookups_done(struct lookups *l)
{
	struct lookup_count *c, *tmp;

	HASH_ITER (hh, l->by_id, c, tmp) {
		HASH_DEL(l->by_id, c);
		free(c);
	}
	pthread_mutex_destroy(&l->lock);
}

int lookups_add(struct lookups *l, uint64_t id, uint64_t n)
{
	_cleanup_mutex_ pthread_mutex_t *m = mutex_lock(&l->lock);
	struct lookup_count *c;

	HASH_FIND(hh, l->by_id, &id, sizeof(id), c);
	if (c) {
		c->count += n;
		return 0;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct lookup_count){ .id = id, .count = n };
	HASH_ADD(hh, l->by_id, id, sizeof(c->id), c);
	/* uthash out of memory: HASH_ADD leaves the table as it was */
	if (!c->hh.tbl) {
		free(c);
		return -ENOMEM;
	}
	return 0;
}

void lookups_forget(struct lookups *l, uint64_t id, uint64_t n)
{
	_cleanup_mutex_ pthread_mutex_t *m = mutex_lock(&l->lock);
	struct lookup_count *c;

	HASH_FIND(hh, l->by_id, &id, sizeof(id), c);
	if (!c)
		return;
	if (c->count > n) {
		c->count -= n;
		return;
	}
	HASH_DEL(l->by_id, c);
	free(c);
}

bool lookups_held(struct lookups *l, uint64_t id)
{
	_cleanup_mutex_ pthread_mutex_t *m = mutex_lock(&l->lock);
	struct lookup_count *c;

	if (id == TREE_ROOT_ID)
		return true;
	HASH_FIND(hh, l->by_id, &id, sizeof(id), c);
	return c != NULL;
}
