/* SPDX-License-Identifier: MIT */
#include "core/model.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "core/cleanup.h"

/* The hash handles stay here, out of the header the FUSE front end includes. */
struct guest_entry {
	struct guest g;
	UT_hash_handle hh_name, hh_uuid;
};

struct reservation_entry {
	unsigned index; /* apqn_index() */
	char owner[GUEST_NAME_MAX + 1];
	UT_hash_handle hh;
};

struct model {
	struct host host;
	struct guest_entry *by_name; /* kept in name order */
	struct guest_entry *by_uuid;
	struct reservation_entry *reservations;
	struct apqn_set reserved; /* the keys of reservations, for ordered iteration */
};

int model_new(struct model **ret)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

struct model *model_free(struct model *m)
{
	struct guest_entry *e, *tmp;
	struct reservation_entry *r, *rtmp;

	if (!m)
		return NULL;
	HASH_CLEAR(hh_uuid, m->by_uuid);
	HASH_ITER (hh_name, m->by_name, e, tmp) {
		HASH_DELETE(hh_name, m->by_name, e);
		free(e);
	}
	HASH_ITER (hh, m->reservations, r, rtmp) {
		HASH_DEL(m->reservations, r);
		free(r);
	}
	free(m);
	return NULL;
}

int model_clone(const struct model *m, struct model **ret)
{
	struct model *c = NULL;
	struct reservation_entry *r, *tmp;
	int err;

	err = model_new(&c);
	if (err < 0)
		return err;
	c->host = m->host;
	GUEST_FOREACH (g, m) {
		err = model_guest_add(c, g);
		if (err < 0)
			goto fail;
	}
	HASH_ITER (hh, m->reservations, r, tmp) {
		struct apqn q = { .ap = (uint8_t) (r->index / AP_ID_COUNT),
				  .dom = (uint8_t) (r->index % AP_ID_COUNT) };

		err = model_reserve(c, q, r->owner);
		if (err < 0)
			goto fail;
	}
	*ret = c;
	return 0;
fail:
	model_free(c);
	return err;
}

const struct host *model_host(const struct model *m)
{
	return &m->host;
}

void model_set_host(struct model *m, const struct host *h)
{
	m->host = *h;
}

struct host *model_host_edit(struct model *m)
{
	return &m->host;
}

/* ---- guests ---- */

bool guest_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++, n++) {
		if (n >= GUEST_NAME_MAX)
			return false;
		if (!isalnum((unsigned char) *p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	}
	return n > 0;
}

bool uuid_valid(const char *s)
{
	static const unsigned dashes[] = { 8, 13, 18, 23 };
	size_t d = 0;

	if (!s || strlen(s) != UUID_STR_LEN)
		return false;
	for (unsigned i = 0; i < UUID_STR_LEN; i++) {
		if (d < ARRAY_SIZE(dashes) && i == dashes[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char) s[i])) {
			return false;
		}
	}
	return true;
}

static void uuid_lower(const char *in, char out[UUID_STR_LEN + 1])
{
	size_t i;

	for (i = 0; i < UUID_STR_LEN && in[i]; i++)
		out[i] = (char) tolower((unsigned char) in[i]);
	out[i] = '\0';
}

static struct guest_entry *entry_by_name(const struct model *m, const char *name)
{
	struct guest_entry *e = NULL;

	if (!name)
		return NULL;
	HASH_FIND(hh_name, m->by_name, name, strlen(name), e);
	return e;
}

static struct guest_entry *entry_by_uuid(const struct model *m, const char *uuid)
{
	struct guest_entry *e = NULL;
	char lower[UUID_STR_LEN + 1];

	if (!uuid || strlen(uuid) != UUID_STR_LEN)
		return NULL;
	uuid_lower(uuid, lower);
	HASH_FIND(hh_uuid, m->by_uuid, lower, strlen(lower), e);
	return e;
}

const struct guest *model_guest_by_name(const struct model *m, const char *name)
{
	struct guest_entry *e = entry_by_name(m, name);

	return e ? &e->g : NULL;
}

const struct guest *model_guest_by_uuid(const struct model *m, const char *uuid)
{
	struct guest_entry *e = entry_by_uuid(m, uuid);

	return e ? &e->g : NULL;
}

size_t model_guest_count(const struct model *m)
{
	return HASH_CNT(hh_name, m->by_name);
}

const struct guest *model_guest_first(const struct model *m)
{
	return m->by_name ? &m->by_name->g : NULL;
}

const struct guest *model_guest_next(const struct model *m, const struct guest *g)
{
	/* g is the first member of its entry */
	const struct guest_entry *e = (const struct guest_entry *) g;
	const struct guest_entry *next = e->hh_name.next;

	(void) m;
	return next ? &next->g : NULL;
}

static int entry_name_cmp(const struct guest_entry *a, const struct guest_entry *b)
{
	return strcmp(a->g.name, b->g.name);
}

/* Links e into both tables; on OOM e is linked into neither. */
static int entry_link(struct model *m, struct guest_entry *e)
{
	HASH_ADD_KEYPTR_INORDER(hh_name, m->by_name, e->g.name, strlen(e->g.name), e,
				entry_name_cmp);
	if (!e->hh_name.tbl)
		return -ENOMEM;
	HASH_ADD_KEYPTR(hh_uuid, m->by_uuid, e->g.uuid, strlen(e->g.uuid), e);
	if (!e->hh_uuid.tbl) {
		HASH_DELETE(hh_name, m->by_name, e);
		return -ENOMEM;
	}
	return 0;
}

static void entry_unlink(struct model *m, struct guest_entry *e)
{
	HASH_DELETE(hh_name, m->by_name, e);
	HASH_DELETE(hh_uuid, m->by_uuid, e);
}

int model_guest_add(struct model *m, const struct guest *g)
{
	_cleanup_free_ struct guest_entry *e = NULL;
	int err;

	if (!guest_name_valid(g->name) || !uuid_valid(g->uuid))
		return -EINVAL;
	if (entry_by_name(m, g->name) || entry_by_uuid(m, g->uuid))
		return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->g = *g;
	uuid_lower(g->uuid, e->g.uuid);
	err = entry_link(m, e);
	if (err < 0)
		return err;
	TAKE_PTR(e);
	return 0;
}

int model_guest_update(struct model *m, const struct guest *g)
{
	struct guest_entry *e = entry_by_name(m, g->name);
	struct guest_entry *other;
	struct guest saved;
	int err;

	if (!e)
		return -ENOENT;
	if (!uuid_valid(g->uuid))
		return -EINVAL;
	other = entry_by_uuid(m, g->uuid);
	if (other && other != e)
		return -EEXIST;
	saved = e->g;
	entry_unlink(m, e);
	e->g = *g;
	uuid_lower(g->uuid, e->g.uuid);
	err = entry_link(m, e);
	if (err < 0) {
		e->g = saved;
		if (entry_link(m, e) < 0)
			free(e);
	}
	return err;
}

int model_guest_remove(struct model *m, const char *name)
{
	struct guest_entry *e = entry_by_name(m, name);

	if (!e)
		return -ENOENT;
	entry_unlink(m, e);
	free(e);
	return 0;
}

int model_guest_rename(struct model *m, const char *old_name, const char *new_name)
{
	struct guest_entry *e = entry_by_name(m, old_name);
	struct reservation_entry *r, *tmp;
	char saved[GUEST_NAME_MAX + 1];
	int err;

	if (!e)
		return -ENOENT;
	if (!guest_name_valid(new_name))
		return -EINVAL;
	if (strcmp(old_name, new_name) == 0)
		return 0;
	if (entry_by_name(m, new_name))
		return -EEXIST;
	memcpy(saved, e->g.name, sizeof(saved));
	entry_unlink(m, e);
	snprintf(e->g.name, sizeof(e->g.name), "%s", new_name);
	err = entry_link(m, e);
	if (err < 0) {
		memcpy(e->g.name, saved, sizeof(saved));
		if (entry_link(m, e) < 0)
			free(e);
		return err;
	}
	HASH_ITER (hh, m->reservations, r, tmp) {
		if (strcmp(r->owner, saved) == 0)
			snprintf(r->owner, sizeof(r->owner), "%s", new_name);
	}
	return 0;
}

/* ---- reservations ---- */

static struct reservation_entry *reservation_find(const struct model *m, struct apqn q)
{
	struct reservation_entry *r = NULL;
	unsigned index = apqn_index(q);

	HASH_FIND(hh, m->reservations, &index, sizeof(index), r);
	return r;
}

const char *model_reservation(const struct model *m, struct apqn q)
{
	struct reservation_entry *r = reservation_find(m, q);

	return r ? r->owner : NULL;
}

int model_reserve(struct model *m, struct apqn q, const char *guest)
{
	struct reservation_entry *r;

	if (!guest_name_valid(guest))
		return -EINVAL;
	r = reservation_find(m, q);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->index = apqn_index(q);
		HASH_ADD(hh, m->reservations, index, sizeof(r->index), r);
		if (!r->hh.tbl) {
			free(r);
			return -ENOMEM;
		}
		apqn_set_add(&m->reserved, q);
	}
	snprintf(r->owner, sizeof(r->owner), "%s", guest);
	return 0;
}

int model_release(struct model *m, struct apqn q)
{
	struct reservation_entry *r = reservation_find(m, q);
	unsigned i = apqn_index(q);

	if (!r)
		return -ENOENT;
	HASH_DEL(m->reservations, r);
	free(r);
	m->reserved.w[i / 64] &= ~(UINT64_C(1) << (i % 64));
	return 0;
}

const struct apqn_set *model_reserved(const struct model *m)
{
	return &m->reserved;
}

void model_reservations_of(const struct model *m, const char *guest, struct apqn_set *ret)
{
	struct reservation_entry *r, *tmp;

	apqn_set_clear(ret);
	HASH_ITER (hh, m->reservations, r, tmp) {
		if (strcmp(r->owner, guest) == 0)
			ret->w[r->index / 64] |= UINT64_C(1) << (r->index % 64);
	}
}

/* ---- derived views ---- */

enum apqn_pool model_apqn_pool(const struct model *m, struct apqn q)
{
	return idset_has(&m->host.apmask, q.ap) && idset_has(&m->host.aqmask, q.dom) ? POOL_HOST
										     : POOL_VFIO;
}

const struct guest *model_apqn_owner(const struct model *m, struct apqn q)
{
	GUEST_FOREACH (g, m) {
		if (idset_has(&g->adapters, q.ap) && idset_has(&g->domains, q.dom))
			return g;
	}
	return NULL;
}

void model_pool_queues(const struct model *m, enum apqn_pool pool, struct apqn_set *ret)
{
	struct apqn_set host_pool;

	apqn_set_clear(&host_pool);
	apqn_set_add_cross(&host_pool, &m->host.apmask, &m->host.aqmask);
	for (size_t i = 0; i < ARRAY_SIZE(ret->w); i++)
		ret->w[i] =
		    m->host.queues.w[i] & (pool == POOL_HOST ? host_pool.w[i] : ~host_pool.w[i]);
}

void guest_matrix_apqns(const struct guest *g, struct apqn_set *ret)
{
	apqn_set_clear(ret);
	apqn_set_add_cross(ret, &g->adapters, &g->domains);
}

/* ---- differences ---- */

static bool card_equal(const struct host_card *a, const struct host_card *b)
{
	return a->hwtype == b->hwtype && a->raw_hwtype == b->raw_hwtype && a->depth == b->depth &&
	       a->functions == b->functions && a->mode == b->mode &&
	       strcmp(a->type, b->type) == 0 && a->config == b->config && a->online == b->online &&
	       a->chkstop == b->chkstop;
}

static bool guest_equal(const struct guest *a, const struct guest *b)
{
	return strcmp(a->uuid, b->uuid) == 0 && idset_equal(&a->adapters, &b->adapters) &&
	       idset_equal(&a->domains, &b->domains) &&
	       idset_equal(&a->control_domains, &b->control_domains) &&
	       idset_equal(&a->guest_adapters, &b->guest_adapters) &&
	       idset_equal(&a->guest_domains, &b->guest_domains) && a->state == b->state &&
	       a->adopted == b->adopted && strcmp(a->missing_reason, b->missing_reason) == 0;
}

static void host_diff(const struct host *a, const struct host *b, struct model_diff *d)
{
	struct apqn_set pool_a, pool_b;
	struct idset all_cards = idset_or(&a->adapters, &b->adapters);

	IDSET_FOREACH (id, &all_cards) {
		if (idset_has(&a->adapters, (unsigned) id) !=
			idset_has(&b->adapters, (unsigned) id) ||
		    !card_equal(&a->cards[id], &b->cards[id]))
			idset_add(&d->cards, (unsigned) id);
	}
	d->host_changed = !idset_empty(&d->cards) || memcmp(&a->caps, &b->caps, sizeof(a->caps)) ||
			  a->max_adapter != b->max_adapter || a->max_domain != b->max_domain ||
			  !idset_equal(&a->usage_domains, &b->usage_domains) ||
			  !idset_equal(&a->control_domains, &b->control_domains) ||
			  !idset_equal(&a->apmask, &b->apmask) ||
			  !idset_equal(&a->aqmask, &b->aqmask);

	apqn_set_add_xor(&d->apqns, &a->queues, &b->queues);
	apqn_set_add_xor(&d->apqns, &a->vfio_bound, &b->vfio_bound);
	apqn_set_add_xor(&d->apqns, &a->default_bound, &b->default_bound);
	apqn_set_add_xor(&d->apqns, &a->online, &b->online);
	apqn_set_add_xor(&d->apqns, &a->in_use, &b->in_use);
	apqn_set_clear(&pool_a);
	apqn_set_clear(&pool_b);
	apqn_set_add_cross(&pool_a, &a->apmask, &a->aqmask);
	apqn_set_add_cross(&pool_b, &b->apmask, &b->aqmask);
	apqn_set_add_xor(&d->apqns, &pool_a, &pool_b);
}

static int diff_add_guest(struct model_diff *d, const char *name, enum guest_change_kind kind)
{
	struct guest_change *n = realloc(d->guests, (d->n_guests + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	d->guests = n;
	snprintf(n[d->n_guests].name, sizeof(n->name), "%s", name);
	n[d->n_guests].kind = kind;
	d->n_guests++;
	return 0;
}

/*
 * The APQNs a guest's appearance (a NULL), disappearance (b NULL) or change
 * touches: the queue entries that show its name or state.
 */
static void guest_apqns_touched(const struct guest *a, const struct guest *b, struct apqn_set *acc)
{
	struct apqn_set ma, mb;
	bool whole = !a || !b || strcmp(a->uuid, b->uuid) != 0 || a->state != b->state ||
		     a->adopted != b->adopted;

	apqn_set_clear(&ma);
	apqn_set_clear(&mb);
	if (a) {
		apqn_set_add_cross(&ma, &a->adapters, &a->domains);
		apqn_set_add_cross(&ma, &a->guest_adapters, &a->guest_domains);
	}
	if (b) {
		apqn_set_add_cross(&mb, &b->adapters, &b->domains);
		apqn_set_add_cross(&mb, &b->guest_adapters, &b->guest_domains);
	}
	for (size_t i = 0; i < ARRAY_SIZE(acc->w); i++)
		acc->w[i] |= whole ? ma.w[i] | mb.w[i] : ma.w[i] ^ mb.w[i];
}

int model_diff(const struct model *old, const struct model *new, struct model_diff *ret)
{
	struct model_diff d = { 0 };
	const struct guest *a = model_guest_first(old), *b = model_guest_first(new);
	struct apqn_set reserved;
	struct apqn q;
	int err = 0;

	host_diff(&old->host, &new->host, &d);

	/* both lists are in name order: merge them */
	while (a || b) {
		int c = !a ? 1 : !b ? -1 : strcmp(a->name, b->name);

		if (c < 0) {
			err = diff_add_guest(&d, a->name, GUEST_VANISHED);
			guest_apqns_touched(a, NULL, &d.apqns);
			a = model_guest_next(old, a);
		} else if (c > 0) {
			err = diff_add_guest(&d, b->name, GUEST_APPEARED);
			guest_apqns_touched(NULL, b, &d.apqns);
			b = model_guest_next(new, b);
		} else {
			if (!guest_equal(a, b)) {
				err = diff_add_guest(&d, b->name, GUEST_CHANGED);
				guest_apqns_touched(a, b, &d.apqns);
			}
			a = model_guest_next(old, a);
			b = model_guest_next(new, b);
		}
		if (err < 0) {
			model_diff_done(&d);
			return err;
		}
	}

	reserved = old->reserved;
	for (size_t i = 0; i < ARRAY_SIZE(reserved.w); i++)
		reserved.w[i] |= new->reserved.w[i];
	APQN_SET_FOREACH (q, &reserved) {
		const char *ra = model_reservation(old, q), *rb = model_reservation(new, q);

		if (!ra || !rb || strcmp(ra, rb) != 0)
			apqn_set_add(&d.apqns, q);
	}
	*ret = d;
	return 0;
}

bool model_diff_empty(const struct model_diff *d)
{
	return !d->host_changed && idset_empty(&d->cards) && apqn_set_empty(&d->apqns) &&
	       d->n_guests == 0;
}

void model_diff_done(struct model_diff *d)
{
	free(d->guests);
	*d = (struct model_diff){ 0 };
}
