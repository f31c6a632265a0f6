/* SPDX-License-Identifier: MIT */
/*
 * The nodes the kernel holds: each node id with the number of lookups the
 * kernel has not forgotten yet. The kernel caches a node's attributes, and
 * names under a directory, only while it holds the node, so a notification
 * about a node it does not hold is a wasted system call (and most of a
 * change's notifications are such). Counts are taken before a reply goes
 * out and dropped on FORGET; a reply that never arrived leaves a count too
 * high, which only costs a notification.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct lookup_count;

struct lookups {
	pthread_mutex_t lock;
	struct lookup_count *by_id;
};

void lookups_init(struct lookups *l);
void lookups_done(struct lookups *l);

/* The kernel takes n more references to node id (a lookup reply, a readdirplus entry). */
int lookups_add(struct lookups *l, uint64_t id, uint64_t n);

/* The kernel forgets n references to node id. */
void lookups_forget(struct lookups *l, uint64_t id, uint64_t n);

/* Whether the kernel may hold node id now; the root is always held. */
bool lookups_held(struct lookups *l, uint64_t id);
