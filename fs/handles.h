/* SPDX-License-Identifier: MIT */
/*
 * File handles for open files and directories (fi->fh).
 *
 * A handle is a slot number with a generation, never a pointer: a READ that a
 * worker thread is still answering may meet a RELEASE of the same handle on
 * another thread (seen under load with AddressSanitizer), so the object
 * behind a handle is reference counted and freed by whoever lets go last,
 * and a stale handle simply resolves to nothing.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct handle_slot;

struct handle_table {
	pthread_mutex_t lock;
	struct handle_slot *slots;
	uint32_t n_slots;
	uint32_t free_head; /* first free slot + 1; 0 = none */
};

/* How a handle's object is freed. */
typedef void (*handle_free_fn)(void *obj);

void handle_table_init(struct handle_table *t);

/* Frees every object still open (at unmount). */
void handle_table_done(struct handle_table *t);

/* Registers obj; returns its handle, never 0, or 0 when out of memory. */
uint64_t handle_add(struct handle_table *t, void *obj, handle_free_fn free_obj);

/* The object behind h with a reference taken, or NULL for a released or
 * unknown handle. Pair with handle_put(). */
void *handle_get(struct handle_table *t, uint64_t h);
void handle_put(struct handle_table *t, uint64_t h);

/* Releases h: its object is freed now, or by the last handle_put(). */
void handle_release(struct handle_table *t, uint64_t h);
