/* SPDX-License-Identifier: MIT */
/*
 * What a model change makes stale in the kernel's caches: the names
 * (positive or negative dentries) and the nodes (attributes) that the
 * difference touches, and nothing else, so that long cache timeouts stay
 * exact (DESIGN §4). A directory's attributes are constant but for the link
 * counts of cards/ and guests/: a change of its entries invalidates those
 * entries, not the directory, whose stale attributes would cost a GETATTR on
 * every path walked through it.
 */
#include "core/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/tree_private.h"

struct inval_list {
	struct tree_inval *items;
	size_t n, cap;
};

static void add(struct inval_list *l, enum tree_inval_kind kind, uint64_t parent, uint64_t id,
		const char *name)
{
	struct tree_inval *item;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct tree_inval *n = realloc(l->items, cap * sizeof(*n));

		/* out of memory: the caches expire on their own */
		if (!n)
			return;
		l->items = n;
		l->cap = cap;
	}
	item = &l->items[l->n++];
	*item = (struct tree_inval){ .kind = kind, .parent = parent, .id = id };
	snprintf(item->name, sizeof(item->name), "%s", name ? name : "");
}

static void add_entry(struct inval_list *l, uint64_t parent, const char *name)
{
	add(l, TREE_INVAL_ENTRY, parent, 0, name);
}

static void add_inode(struct inval_list *l, uint64_t id)
{
	add(l, TREE_INVAL_INODE, 0, id, NULL);
}

/* Leaves out what concerns the name parent/name (entries, deletions), not nodes. */
static void drop_name(struct inval_list *l, uint64_t parent, const char *name)
{
	size_t kept = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct tree_inval *item = &l->items[i];

		if (item->kind == TREE_INVAL_INODE || item->parent != parent ||
		    strcmp(item->name, name) != 0)
			l->items[kept++] = *item;
	}
	l->n = kept;
}

/* Changed cards: their directories, attributes, and their queues' files (card type, mode). */
static void invalidate_cards(struct inval_list *l, const struct model *m, const struct idset *cards)
{
	const struct apqn_set *queues = &model_host(m)->queues;

	IDSET_FOREACH (card, cards) {
		char name[ADAPTER_NAME_SIZE];

		add_entry(l, fixed_id(NODE_CARDS), adapter_name_format((unsigned) card, name));
		add_inode(l, card_id((unsigned) card));
		for (unsigned a = 0; a < _CARD_ATTR_MAX; a++)
			add_inode(l, card_attr_id((unsigned) card, a));
		for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
			struct apqn q = { .ap = (uint8_t) card, .dom = (uint8_t) dom };

			if (apqn_set_has(queues, q))
				add_inode(l, apqn_id(q));
		}
	}
	if (!idset_empty(cards))
		add_inode(l, fixed_id(NODE_CARDS));
}

static void invalidate_apqns(struct inval_list *l, const struct apqn_set *apqns)
{
	static const enum fixed_node dirs[] = { NODE_QUEUES, NODE_POOL_HOST, NODE_POOL_VFIO,
						NODE_RESERVATIONS };
	struct apqn q;

	APQN_SET_FOREACH (q, apqns) {
		char name[APQN_NAME_SIZE];

		apqn_name_format(q, name);
		add_inode(l, apqn_id(q));
		add_inode(l, reservation_id(q));
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
			add_entry(l, fixed_id(dirs[i]), name);
	}
}

/* The id files of one part that differ between what the kernel may hold and g. */
static void invalidate_part(struct inval_list *l, uint32_t slot, enum matrix_part part,
			    const struct idset *before, const struct idset *now)
{
	struct idset gone = idset_minus(before, now), added = idset_minus(now, before);
	struct idset changed = idset_or(&gone, &added);
	uint64_t dir = guest_subdir_id(slot, guest_part_subdir(part));

	IDSET_FOREACH (id, &changed) {
		char name[DOMAIN_NAME_SIZE];

		add_entry(l, dir, part_id_name(part, (unsigned) id, name));
		add_inode(l, guest_id_file_id(slot, part, (unsigned) id));
	}
}

static void invalidate_matrix(struct inval_list *l, uint32_t slot, const struct guest_slot *before,
			      const struct guest *g)
{
	struct apqn_set old, now;
	uint64_t dir = guest_subdir_id(slot, SUBDIR_QUEUES);
	struct apqn q;

	apqn_set_clear(&old);
	apqn_set_add_cross(&old, &before->adapters, &before->domains);
	guest_matrix_apqns(g, &now);
	for (size_t i = 0; i < ARRAY_SIZE(old.w); i++)
		old.w[i] ^= now.w[i];
	APQN_SET_FOREACH (q, &old) {
		char name[APQN_NAME_SIZE];

		add_entry(l, dir, apqn_name_format(q, name));
		add_inode(l, apqn_id(q));
	}
}

/* A guest that is in the model: everything of it that differs from the slot's memory. */
static void invalidate_live_guest(struct tree *t, struct inval_list *l, const struct guest *g,
				  bool appeared)
{
	struct guest_slot *s = slot_of_guest(t, g);
	uint64_t guests = fixed_id(NODE_GUESTS);

	if (!s) {
		add_entry(l, guests, g->name);
		return;
	}
	_cleanup_mutex_ pthread_mutex_t *lock = mutex_lock(&t->lock);

	/* a guest of another UUID that had this name (removed and made again) */
	for (size_t i = 0; i < t->n_slots; i++) {
		if (t->slots[i] != s && strcmp(t->slots[i]->name, g->name) == 0) {
			t->slots[i]->name[0] = '\0';
			appeared = true;
		}
	}
	if (appeared || strcmp(s->name, g->name) != 0) {
		if (*s->name && strcmp(s->name, g->name) != 0)
			add_entry(l, guests, s->name);
		add_entry(l, guests, g->name);
	}
	for (unsigned i = 0; i < _GUEST_FILE_MAX; i++)
		add_inode(l, guest_file_id(s->slot, i));
	invalidate_part(l, s->slot, PART_ADAPTER, &s->adapters, &g->adapters);
	invalidate_part(l, s->slot, PART_DOMAIN, &s->domains, &g->domains);
	invalidate_part(l, s->slot, PART_CONTROL_DOMAIN, &s->control_domains, &g->control_domains);
	invalidate_matrix(l, s->slot, s, g);

	snprintf(s->name, sizeof(s->name), "%s", g->name);
	s->adapters = g->adapters;
	s->domains = g->domains;
	s->control_domains = g->control_domains;
}

/* A name that no guest has any more: renamed away, or the guest is gone. */
static void invalidate_gone_guest(struct tree *t, const struct model *m, struct inval_list *l,
				  const char *name)
{
	_cleanup_mutex_ pthread_mutex_t *lock = mutex_lock(&t->lock);
	uint64_t guests = fixed_id(NODE_GUESTS);

	for (size_t i = 0; i < t->n_slots; i++) {
		struct guest_slot *s = t->slots[i];

		if (strcmp(s->name, name) != 0)
			continue;
		if (model_guest_by_uuid(m, s->uuid)) {
			add_entry(l, guests, name);
			return;
		}
		add(l, TREE_INVAL_DELETE, guests, guest_id(s->slot), name);
		s->name[0] = '\0';
		s->adapters = s->domains = s->control_domains = IDSET_EMPTY;
		return;
	}
	add_entry(l, guests, name);
}

/* Every guest's generated files, which show host facts (card types, max ids). */
static void invalidate_guest_files(struct tree *t, const struct model *m, struct inval_list *l)
{
	GUEST_FOREACH (g, m) {
		struct guest_slot *s = slot_of_guest(t, g);

		for (unsigned i = 0; s && i < _GUEST_FILE_MAX; i++)
			add_inode(l, guest_file_id(s->slot, i));
	}
}

/* Whether guests/ may have a new link count: a guest appeared or vanished. */
static bool guest_count_changed(const struct model_diff *d)
{
	for (size_t i = 0; i < d->n_guests; i++)
		if (d->guests[i].kind != GUEST_CHANGED)
			return true;
	return false;
}

void tree_invalidate_diff(struct tree *t, const struct model_diff *d,
			  const struct tree_inval *settled)
{
	struct inval_list l = { 0 };
	const struct model *m;

	m = engine_read_begin(t->engine);
	/* the summary shows everything (the log is invalidated as it grows) */
	add_inode(&l, fixed_id(NODE_STATUS));
	add_inode(&l, fixed_id(NODE_STATUS_JSON));
	if (d->host_changed) {
		add_inode(&l, fixed_id(NODE_HOST_ADAPTERS));
		add_inode(&l, fixed_id(NODE_HOST_DOMAINS));
		invalidate_guest_files(t, m, &l);
	}
	invalidate_cards(&l, m, &d->cards);
	invalidate_apqns(&l, &d->apqns);
	for (size_t i = 0; i < d->n_guests; i++) {
		const struct guest *g = model_guest_by_name(m, d->guests[i].name);

		if (g)
			invalidate_live_guest(t, &l, g, d->guests[i].kind == GUEST_APPEARED);
		else
			invalidate_gone_guest(t, m, &l, d->guests[i].name);
	}
	if (guest_count_changed(d))
		add_inode(&l, fixed_id(NODE_GUESTS));
	engine_read_end(t->engine);
	if (settled)
		drop_name(&l, settled->parent, settled->name);

	if (t->hooks.invalidate && l.n)
		t->hooks.invalidate(t->hooks.ctx, l.items, l.n);
	free(l.items);
}
