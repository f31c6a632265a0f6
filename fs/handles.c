/* SPDX-License-Identifier: MIT */
#include "fs/handles.h"

#include <stdbool.h>
#include <stdlib.h>

#include "core/cleanup.h"

struct handle_slot {
	void *obj; /* NULL: the slot is free */
	handle_free_fn free_obj;
	uint32_t generation;
	uint32_t refs;	    /* handle_get()s not yet put */
	bool released;	    /* the kernel let go; freed at refs == 0 */
	uint32_t next_free; /* slot + 1 of the next free one */
};

/* A handle: generation in the high half, slot + 1 in the low half. */
static uint64_t handle_of(uint32_t slot, uint32_t generation)
{
	return (uint64_t) generation << 32 | (slot + 1);
}

void handle_table_init(struct handle_table *t)
{
	*t = (struct handle_table){ .lock = PTHREAD_MUTEX_INITIALIZER };
}

void handle_table_done(struct handle_table *t)
{
	for (uint32_t i = 0; i < t->n_slots; i++)
		if (t->slots[i].obj)
			t->slots[i].free_obj(t->slots[i].obj);
	free(t->slots);
	pthread_mutex_destroy(&t->lock);
	t->slots = NULL;
	t->n_slots = 0;
}

uint64_t handle_add(struct handle_table *t, void *obj, handle_free_fn free_obj)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);
	struct handle_slot *s;
	uint32_t slot;

	if (t->free_head) {
		slot = t->free_head - 1;
		t->free_head = t->slots[slot].next_free;
	} else {
		uint32_t n = t->n_slots ? t->n_slots * 2 : 64;
		struct handle_slot *grown;

		if (n <= t->n_slots)
			return 0;
		grown = realloc(t->slots, n * sizeof(*grown));
		if (!grown)
			return 0;
		for (uint32_t i = t->n_slots; i < n; i++)
			grown[i] = (struct handle_slot){ .next_free = i + 1 < n ? i + 2 : 0 };
		t->slots = grown;
		slot = t->n_slots;
		t->free_head = slot + 1 < n ? slot + 2 : 0;
		t->n_slots = n;
	}
	s = &t->slots[slot];
	s->obj = obj;
	s->free_obj = free_obj;
	s->generation++;
	s->refs = 0;
	s->released = false;
	return handle_of(slot, s->generation);
}

/* The live slot of h, or NULL; called with the lock held. */
static struct handle_slot *slot_of(struct handle_table *t, uint64_t h)
{
	uint32_t slot = (uint32_t) h - 1;
	struct handle_slot *s;

	if ((uint32_t) h == 0 || slot >= t->n_slots)
		return NULL;
	s = &t->slots[slot];
	if (!s->obj || s->released || s->generation != (uint32_t) (h >> 32))
		return NULL;
	return s;
}

/* Frees s's object once nobody uses it, and puts the slot back; lock held. */
static void *slot_retire(struct handle_table *t, struct handle_slot *s)
{
	void *obj = s->obj;

	if (!s->released || s->refs)
		return NULL;
	s->obj = NULL;
	s->next_free = t->free_head;
	t->free_head = (uint32_t) (s - t->slots) + 1;
	return obj;
}

void *handle_get(struct handle_table *t, uint64_t h)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);
	struct handle_slot *s = slot_of(t, h);

	if (!s)
		return NULL;
	s->refs++;
	return s->obj;
}

/* Drops a reference or the kernel's hold; frees outside the lock. */
static void handle_drop(struct handle_table *t, uint64_t h, bool release)
{
	handle_free_fn free_obj = NULL;
	void *obj = NULL;
	uint32_t slot = (uint32_t) h - 1;

	pthread_mutex_lock(&t->lock);
	if ((uint32_t) h != 0 && slot < t->n_slots && t->slots[slot].obj &&
	    t->slots[slot].generation == (uint32_t) (h >> 32)) {
		struct handle_slot *s = &t->slots[slot];

		if (release)
			s->released = true;
		else if (s->refs)
			s->refs--;
		free_obj = s->free_obj;
		obj = slot_retire(t, s);
	}
	pthread_mutex_unlock(&t->lock);
	if (obj)
		free_obj(obj);
}

void handle_put(struct handle_table *t, uint64_t h)
{
	handle_drop(t, h, false);
}

void handle_release(struct handle_table *t, uint64_t h)
{
	handle_drop(t, h, true);
}
