/* SPDX-License-Identifier: MIT */
/*
 * The model: one consistent picture of the host's AP configuration, the
 * guests (mediated matrix devices) zapfs knows by name, and the reservations
 * ledger that remembers whose keys a domain may still hold.
 *
 * The host and the guests' matrices are what the kernel showed at the last
 * read; names, origins and reservations are zapfs's own knowledge. A model is
 * not thread-safe: the engine guards the live one with its lock, and hands
 * readers a const pointer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/idset.h"
#include "core/port.h"

#define GUEST_NAME_MAX 64

enum guest_state {
	GUEST_ACTIVE,  /* the mdev exists */
	GUEST_RUNNING, /* ... and a KVM guest uses it */
	GUEST_MISSING, /* defined, but no mdev (vanished, or not yet re-created) */
};

enum apqn_pool {
	POOL_HOST, /* apmask x aqmask: the host's own drivers */
	POOL_VFIO, /* every other APQN: set aside for guests */
};

struct guest {
	char name[GUEST_NAME_MAX + 1];
	char uuid[UUID_STR_LEN + 1]; /* lowercase */
	struct idset adapters, domains, control_domains;
	struct idset guest_adapters, guest_domains; /* the kernel's guest_matrix view */
	enum guest_state state;
	bool adopted;		  /* found in the kernel, not created by zapfs */
	char missing_reason[256]; /* why a missing guest is missing, for status */
};

struct model;

/* A new empty model: no guests, no reservations, an all-zero host. */
int model_new(struct model **ret);

/* Frees m and everything it holds. Accepts NULL; returns NULL. */
struct model *model_free(struct model *m);

/* A deep copy of m. */
int model_clone(const struct model *m, struct model **ret);

/* The host as last read. */
const struct host *model_host(const struct model *m);

/* Replaces the host picture. */
void model_set_host(struct model *m, const struct host *h);

/* The host picture to fill in place: a read of the kernel straight into a new model. */
struct host *model_host_edit(struct model *m);

/* ---- guests ---- */

/* True when name is a valid guest name: [A-Za-z0-9._-]{1,64}, no leading '.'. */
bool guest_name_valid(const char *name);

/* True when s is a UUID in the 8-4-4-4-12 hex form (either case). */
bool uuid_valid(const char *s);

/* The guest of that name, or NULL. */
const struct guest *model_guest_by_name(const struct model *m, const char *name);

/* The guest with that UUID (case-insensitive), or NULL. */
const struct guest *model_guest_by_uuid(const struct model *m, const char *uuid);

size_t model_guest_count(const struct model *m);

/* The guests in name order (strcmp): the first, and the one after g; NULL at the end. */
const struct guest *model_guest_first(const struct model *m);
const struct guest *model_guest_next(const struct model *m, const struct guest *g);

#define GUEST_FOREACH(g, m)                                                                        \
	for (const struct guest *g = model_guest_first(m); g; g = model_guest_next((m), g))

/*
 * Adds a copy of g. -EINVAL for a bad name or UUID, -EEXIST when the name or
 * the UUID is taken, -ENOMEM.
 */
int model_guest_add(struct model *m, const struct guest *g);

/*
 * Replaces the guest named g->name with a copy of g (the UUID may change).
 * -ENOENT if there is none, -EEXIST if the new UUID belongs to another guest.
 */
int model_guest_update(struct model *m, const struct guest *g);

/* Removes the guest; its reservations stay. -ENOENT if there is none. */
int model_guest_remove(struct model *m, const char *name);

/*
 * Renames a guest; its reservations follow. -ENOENT, -EINVAL (bad new name),
 * -EEXIST (new name taken). Renaming to the same name is a no-op.
 */
int model_guest_rename(struct model *m, const char *old_name, const char *new_name);

/* ---- reservations: APQN -> the guest whose keys its domain may hold ---- */

/* The owning guest name of q's reservation, or NULL. */
const char *model_reservation(const struct model *m, struct apqn q);

/* Records (or moves) q's reservation to guest. -EINVAL for a bad name, -ENOMEM. */
int model_reserve(struct model *m, struct apqn q, const char *guest);

/* Drops q's reservation. -ENOENT if q has none. */
int model_release(struct model *m, struct apqn q);

/* Every reserved APQN. */
const struct apqn_set *model_reserved(const struct model *m);

/* The APQNs reserved for guest (empty set if none). */
void model_reservations_of(const struct model *m, const char *guest, struct apqn_set *ret);

/* ---- derived views ---- */

/* The pool q belongs to by the host masks (whether or not the queue exists). */
enum apqn_pool model_apqn_pool(const struct model *m, struct apqn q);

/* The guest whose matrix (adapters x domains) holds q, or NULL. */
const struct guest *model_apqn_owner(const struct model *m, struct apqn q);

/* The existing queues of one pool. */
void model_pool_queues(const struct model *m, enum apqn_pool pool, struct apqn_set *ret);

/* g's matrix as an APQN set. */
void guest_matrix_apqns(const struct guest *g, struct apqn_set *ret);

/* ---- differences, for cache invalidation ---- */

enum guest_change_kind {
	GUEST_APPEARED,
	GUEST_VANISHED,
	GUEST_CHANGED, /* uuid, matrix, guest_matrix, control domains, state or origin */
};

struct guest_change {
	char name[GUEST_NAME_MAX + 1];
	enum guest_change_kind kind;
};

struct model_diff {
	bool host_changed;	     /* masks, cards, caps or max ids */
	struct idset cards;	     /* adapters whose card appeared, vanished or changed */
	struct apqn_set apqns;	     /* APQNs whose existence, binding, pool, owner or reservation
					changed */
	struct guest_change *guests; /* malloc'ed, in name order */
	size_t n_guests;
};

/*
 * What changed from old to new. A rename shows as the old name vanished and
 * the new one appeared. Free with model_diff_done().
 */
int model_diff(const struct model *old, const struct model *new, struct model_diff *ret);

/* True when d records no change at all. */
bool model_diff_empty(const struct model_diff *d);

/* Releases what d holds and empties it. */
void model_diff_done(struct model_diff *d);
