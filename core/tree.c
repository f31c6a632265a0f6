/* SPDX-License-Identifier: MIT */
/*
 * The tree's nodes and everything that only reads them: ids, lookups,
 * attributes, listings and contents.
 */
#include "core/tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/strbuf.h"
#include "core/tree_private.h"

/* ---- fixed nodes ---- */

struct fixed_def {
	const char *name;
	enum fixed_node parent;
	enum tree_node_type type;
	unsigned mode;
};

static const struct fixed_def fixed_nodes[_NODE_FIXED_END] = {
	[NODE_ROOT] = { "", NODE_ROOT, TREE_NODE_DIR, 0755 },
	[NODE_README] = { "README", NODE_ROOT, TREE_NODE_FILE, 0444 },
	[NODE_STATUS] = { "status", NODE_ROOT, TREE_NODE_FILE, 0444 },
	[NODE_STATUS_JSON] = { "status.json", NODE_ROOT, TREE_NODE_FILE, 0444 },
	[NODE_LOG] = { "log", NODE_ROOT, TREE_NODE_FILE, 0444 },
	[NODE_CARDS] = { "cards", NODE_ROOT, TREE_NODE_DIR, 0755 },
	[NODE_QUEUES] = { "queues", NODE_ROOT, TREE_NODE_DIR, 0755 },
	[NODE_POOLS] = { "pools", NODE_ROOT, TREE_NODE_DIR, 0755 },
	[NODE_POOL_HOST] = { "host", NODE_POOLS, TREE_NODE_DIR, 0755 },
	[NODE_POOL_VFIO] = { "vfio", NODE_POOLS, TREE_NODE_DIR, 0755 },
	[NODE_HOST_ADAPTERS] = { "adapters", NODE_POOL_HOST, TREE_NODE_FILE, 0644 },
	[NODE_HOST_DOMAINS] = { "domains", NODE_POOL_HOST, TREE_NODE_FILE, 0644 },
	[NODE_RESERVATIONS] = { "reservations", NODE_ROOT, TREE_NODE_DIR, 0755 },
	[NODE_GUESTS] = { "guests", NODE_ROOT, TREE_NODE_DIR, 0755 },
};

static const char *const subdir_names[_SUBDIR_MAX] = {
	[SUBDIR_ADAPTERS] = "adapters",
	[SUBDIR_CONTROL_DOMAINS] = "control_domains",
	[SUBDIR_DOMAINS] = "domains",
	[SUBDIR_QUEUES] = "queues",
};

/* ---- ids ---- */

static uint64_t make_id(enum node_kind kind, uint64_t payload)
{
	return (uint64_t) kind << NODE_KIND_SHIFT | payload;
}

uint64_t fixed_id(enum fixed_node f)
{
	return make_id(KIND_FIXED, f);
}

uint64_t card_id(unsigned card)
{
	return make_id(KIND_CARD, card & 0xff);
}

uint64_t card_attr_id(unsigned card, enum card_attr attr)
{
	return make_id(KIND_CARD_ATTR, (uint64_t) (card & 0xff) << 8 | attr);
}

uint64_t apqn_id(struct apqn q)
{
	return make_id(KIND_APQN, apqn_index(q));
}

uint64_t reservation_id(struct apqn q)
{
	return make_id(KIND_RESERVATION, apqn_index(q));
}

uint64_t guest_id(uint32_t slot)
{
	return make_id(KIND_GUEST, slot);
}

uint64_t guest_subdir_id(uint32_t slot, enum guest_subdir sub)
{
	return make_id(KIND_GUEST_SUBDIR, (uint64_t) slot << 2 | sub);
}

uint64_t guest_id_file_id(uint32_t slot, enum matrix_part part, unsigned id)
{
	return make_id(KIND_GUEST_ID, (uint64_t) slot << 10 | (uint64_t) part << 8 | (id & 0xff));
}

uint64_t guest_file_id(uint32_t slot, enum guest_file file)
{
	return make_id(KIND_GUEST_FILE, (uint64_t) slot << 4 | file);
}

struct node node_decode(uint64_t id)
{
	uint64_t p = id & ((UINT64_C(1) << NODE_KIND_SHIFT) - 1);
	struct node n = { .kind = (enum node_kind)(id >> NODE_KIND_SHIFT) };

	switch (n.kind) {
	case KIND_FIXED:
		n.fixed = (unsigned) p;
		break;
	case KIND_CARD:
		n.card = (unsigned) p;
		break;
	case KIND_CARD_ATTR:
		n.card = (unsigned) (p >> 8);
		n.attr = (enum card_attr)(p & 0xff);
		break;
	case KIND_APQN:
	case KIND_RESERVATION:
		n.q = (struct apqn){ .ap = (uint8_t) (p >> 8), .dom = (uint8_t) p };
		break;
	case KIND_GUEST:
		n.slot = (uint32_t) p;
		break;
	case KIND_GUEST_SUBDIR:
		n.slot = (uint32_t) (p >> 2);
		n.sub = (enum guest_subdir)(p & 3);
		break;
	case KIND_GUEST_ID:
		n.slot = (uint32_t) (p >> 10);
		n.part = (enum matrix_part)(p >> 8 & 3);
		n.id = (unsigned) (p & 0xff);
		break;
	case KIND_GUEST_FILE:
		n.slot = (uint32_t) (p >> 4);
		n.file = (enum guest_file)(p & 15);
		break;
	default:
		n.kind = _KIND_MAX;
		break;
	}
	return n;
}

const char *guest_subdir_name(enum guest_subdir sub)
{
	return sub < _SUBDIR_MAX ? subdir_names[sub] : NULL;
}

int guest_subdir_from_name(const char *name, enum guest_subdir *ret)
{
	for (unsigned i = 0; i < _SUBDIR_MAX; i++) {
		if (strcmp(subdir_names[i], name) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -ENOENT;
}

bool guest_subdir_part(enum guest_subdir sub, enum matrix_part *ret)
{
	switch (sub) {
	case SUBDIR_ADAPTERS:
		*ret = PART_ADAPTER;
		return true;
	case SUBDIR_DOMAINS:
		*ret = PART_DOMAIN;
		return true;
	case SUBDIR_CONTROL_DOMAINS:
		*ret = PART_CONTROL_DOMAIN;
		return true;
	default:
		return false;
	}
}

enum guest_subdir guest_part_subdir(enum matrix_part part)
{
	return part == PART_ADAPTER  ? SUBDIR_ADAPTERS
	       : part == PART_DOMAIN ? SUBDIR_DOMAINS
				     : SUBDIR_CONTROL_DOMAINS;
}

const char *part_id_name(enum matrix_part part, unsigned id, char *buf)
{
	return part == PART_ADAPTER ? adapter_name_format(id, buf) : domain_name_format(id, buf);
}

const struct idset *guest_part_ids(const struct guest *g, enum matrix_part part)
{
	return part == PART_ADAPTER  ? &g->adapters
	       : part == PART_DOMAIN ? &g->domains
				     : &g->control_domains;
}

/* ---- slots ---- */

struct guest_slot *slot_of_guest(struct tree *t, const struct guest *g)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);
	struct guest_slot *s = NULL;

	HASH_FIND_STR(t->by_uuid, g->uuid, s);
	if (s)
		return s;
	if (t->n_slots == t->cap_slots) {
		size_t cap = t->cap_slots ? 2 * t->cap_slots : 16;
		struct guest_slot **n = realloc(t->slots, cap * sizeof(*n));

		if (!n)
			return NULL;
		t->slots = n;
		t->cap_slots = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->uuid, sizeof(s->uuid), "%s", g->uuid);
	s->slot = (uint32_t) t->n_slots;
	/* what a lookup may hand the kernel from now on */
	snprintf(s->name, sizeof(s->name), "%s", g->name);
	s->adapters = g->adapters;
	s->domains = g->domains;
	s->control_domains = g->control_domains;
	HASH_ADD_STR(t->by_uuid, uuid, s);
	if (!s->hh.tbl) {
		free(s);
		return NULL;
	}
	t->slots[t->n_slots++] = s;
	return s;
}

const struct guest *guest_of_slot(struct tree *t, const struct model *m, uint32_t slot)
{
	char uuid[UUID_STR_LEN + 1];

	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);

		if (slot >= t->n_slots)
			return NULL;
		memcpy(uuid, t->slots[slot]->uuid, sizeof(uuid));
	}
	return model_guest_by_uuid(m, uuid);
}

/* ---- attributes ---- */

static void attr_dir(uint64_t id, unsigned nlink, struct tree_attr *ret)
{
	*ret = (struct tree_attr){ .id = id, .type = TREE_NODE_DIR, .mode = 0755, .nlink = nlink };
}

static void attr_file(uint64_t id, unsigned mode, bool content, struct tree_attr *ret)
{
	*ret = (struct tree_attr){
		.id = id,
		.type = TREE_NODE_FILE,
		.mode = mode,
		.nlink = 1,
		.content = content,
		.writable = mode & 0200,
	};
}

static bool guest_holds(const struct guest *g, struct apqn q)
{
	return idset_has(&g->adapters, q.ap) && idset_has(&g->domains, q.dom);
}

/* The names one APQN node has: queues/ and its pool while the queue exists, and each matrix. */
static unsigned apqn_nlink(const struct model *m, struct apqn q)
{
	unsigned n = apqn_set_has(&model_host(m)->queues, q) ? 2 : 0;

	GUEST_FOREACH (g, m) {
		if (guest_holds(g, q))
			n++;
	}
	return n;
}

static const char reservation_prefix[] = "../guests/";

static int fixed_attr(enum fixed_node f, const struct model *m, struct tree_attr *ret)
{
	const struct fixed_def *def;
	unsigned nlink = 2;

	if (f < NODE_ROOT || f >= _NODE_FIXED_END)
		return -ENOENT;
	def = &fixed_nodes[f];
	if (def->type == TREE_NODE_FILE) {
		attr_file(fixed_id(f), def->mode, true, ret);
		return 0;
	}
	for (unsigned i = NODE_ROOT + 1; i < _NODE_FIXED_END; i++) {
		if (fixed_nodes[i].parent == f && fixed_nodes[i].type == TREE_NODE_DIR)
			nlink++;
	}
	if (f == NODE_CARDS)
		nlink += idset_count(&model_host(m)->adapters);
	else if (f == NODE_GUESTS)
		nlink += (unsigned) model_guest_count(m);
	attr_dir(fixed_id(f), nlink, ret);
	return 0;
}

static int guest_node_attr(const struct node *n, const struct guest *g, struct tree_attr *ret)
{
	switch (n->kind) {
	case KIND_GUEST:
		attr_dir(guest_id(n->slot), 2 + _SUBDIR_MAX, ret);
		return 0;
	case KIND_GUEST_SUBDIR:
		if (n->sub >= _SUBDIR_MAX)
			return -ENOENT;
		attr_dir(guest_subdir_id(n->slot, n->sub), 2, ret);
		return 0;
	case KIND_GUEST_ID:
		if (n->part > PART_CONTROL_DOMAIN || !idset_has(guest_part_ids(g, n->part), n->id))
			return -ENOENT;
		attr_file(guest_id_file_id(n->slot, n->part, n->id), 0644, false, ret);
		return 0;
	case KIND_GUEST_FILE:
		if (n->file >= _GUEST_FILE_MAX)
			return -ENOENT;
		attr_file(guest_file_id(n->slot, n->file), 0444, true, ret);
		return 0;
	default:
		return -ENOENT;
	}
}

static int render_node(struct tree *t, const struct model *m, const struct node *n,
		       struct strbuf *out);

/* The attributes of node n in m, but for the size of its content. */
static int node_shape(struct tree *t, const struct model *m, const struct node *n,
		      struct tree_attr *ret)
{
	const struct host *h = model_host(m);
	const struct guest *g;
	const char *owner;
	unsigned nlink;

	switch (n->kind) {
	case KIND_FIXED:
		return fixed_attr(n->fixed, m, ret);
	case KIND_CARD:
		if (!idset_has(&h->adapters, n->card))
			return -ENOENT;
		attr_dir(card_id(n->card), 2, ret);
		return 0;
	case KIND_CARD_ATTR:
		if (!idset_has(&h->adapters, n->card) || n->attr >= _CARD_ATTR_MAX)
			return -ENOENT;
		attr_file(card_attr_id(n->card, n->attr), 0444, true, ret);
		return 0;
	case KIND_APQN:
		nlink = apqn_nlink(m, n->q);
		if (!nlink)
			return -ENOENT;
		attr_file(apqn_id(n->q), 0444, true, ret);
		ret->nlink = nlink;
		return 0;
	case KIND_RESERVATION:
		owner = model_reservation(m, n->q);
		if (!owner)
			return -ENOENT;
		*ret = (struct tree_attr){
			.id = reservation_id(n->q),
			.type = TREE_NODE_SYMLINK,
			.mode = 0777,
			.nlink = 1,
			.size = strlen(reservation_prefix) + strlen(owner),
		};
		return 0;
	case KIND_GUEST:
	case KIND_GUEST_SUBDIR:
	case KIND_GUEST_ID:
	case KIND_GUEST_FILE:
		g = guest_of_slot(t, m, n->slot);
		if (!g)
			return -ENOENT;
		return guest_node_attr(n, g, ret);
	default:
		return -ENOENT;
	}
}

/* out, rendered with result r, as content (*ret); out is freed either way. */
static int content_take(struct strbuf *out, int r, struct content **ret)
{
	struct content *c;

	if (r < 0) {
		strbuf_done(out);
		return r;
	}
	c = content_from_strbuf(out);
	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

/*
 * The summaries and a guest's files are worth keeping: status is a megabyte
 * on a large host. A queue's or a card attribute's few bytes cost less to
 * render than to keep, and a listing of queues/ asks for thousands.
 */
static bool worth_caching(const struct node *n)
{
	return n->kind == KIND_FIXED || n->kind == KIND_GUEST_FILE;
}

/*
 * Node id's content in m, with a reference: rendered once per model
 * generation where worth_caching() (the caller holds the read lock, so the
 * generation is m's).
 */
static int node_content(struct tree *t, const struct model *m, const struct node *n, uint64_t id,
			struct content **ret)
{
	uint64_t generation = engine_generation(t->engine);
	struct strbuf out = STRBUF_INIT;
	struct content *c;
	struct rendered *slot;
	int r;

	if (!worth_caching(n))
		return content_take(&out, render_node(t, m, n, &out), ret);
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);

		for (size_t i = 0; i < RENDER_CACHE_SIZE; i++) {
			if (t->cache[i].content && t->cache[i].id == id &&
			    t->cache[i].generation == generation) {
				*ret = content_ref(t->cache[i].content);
				return 0;
			}
		}
	}
	/* two readers may both miss and render: the same text, the later one kept */
	r = content_take(&out, render_node(t, m, n, &out), &c);
	if (r < 0)
		return r;
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);

		slot = &t->cache[t->cache_next++ % RENDER_CACHE_SIZE];
		content_unref(slot->content);
		*slot = (struct rendered){ id, generation, content_ref(c) };
	}
	*ret = c;
	return 0;
}

/*
 * The attributes of node n in m; -ENOENT when m has no such node. A
 * generated file's size is that of its content now, so that tools which
 * trust st_size (cmp, tail, test -s) see the truth; reads are direct, so a
 * size gone stale until its invalidation arrives never cuts a read short.
 */
static int node_attr(struct tree *t, const struct model *m, const struct node *n,
		     struct tree_attr *ret)
{
	_cleanup_content_ struct content *c = NULL;
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	struct tree_attr a;
	int r = node_shape(t, m, n, &a);

	if (r >= 0 && a.content && worth_caching(n)) {
		r = node_content(t, m, n, a.id, &c);
		if (r >= 0)
			a.size = c->len;
	} else if (r >= 0 && a.content) {
		r = render_node(t, m, n, &out);
		a.size = out.len;
	}
	if (r >= 0)
		*ret = a;
	return r;
}

/* The directory that holds node n (a directory itself); the root is its own parent. */
static uint64_t parent_id(const struct node *n)
{
	switch (n->kind) {
	case KIND_FIXED:
		return n->fixed < _NODE_FIXED_END ? fixed_id(fixed_nodes[n->fixed].parent)
						  : fixed_id(NODE_ROOT);
	case KIND_CARD:
		return fixed_id(NODE_CARDS);
	case KIND_GUEST:
		return fixed_id(NODE_GUESTS);
	case KIND_GUEST_SUBDIR:
		return guest_id(n->slot);
	default:
		return fixed_id(NODE_ROOT);
	}
}

int dir_path(struct tree *t, const struct model *m, uint64_t id, char *buf, size_t size)
{
	struct node n = node_decode(id);
	const struct guest *g;
	char parent[TREE_PATH_MAX];
	int r = 0;

	switch (n.kind) {
	case KIND_FIXED:
		if (n.fixed < NODE_ROOT || n.fixed >= _NODE_FIXED_END ||
		    fixed_nodes[n.fixed].type != TREE_NODE_DIR)
			return -ENOTDIR;
		if (n.fixed == NODE_ROOT) {
			r = snprintf(buf, size, "%s", "");
			break;
		}
		r = dir_path(t, m, fixed_id(fixed_nodes[n.fixed].parent), parent, sizeof(parent));
		if (r < 0)
			return r;
		r = snprintf(buf, size, "%s%s%s", parent, *parent ? "/" : "",
			     fixed_nodes[n.fixed].name);
		break;
	case KIND_CARD:
		r = snprintf(buf, size, "cards/%02x", n.card);
		break;
	case KIND_GUEST:
	case KIND_GUEST_SUBDIR:
		g = guest_of_slot(t, m, n.slot);
		if (!g)
			return -ENOENT;
		if (n.kind == KIND_GUEST)
			r = snprintf(buf, size, "guests/%s", g->name);
		else if (n.sub < _SUBDIR_MAX)
			r = snprintf(buf, size, "guests/%s/%s", g->name, subdir_names[n.sub]);
		else
			return -ENOENT;
		break;
	default:
		return -ENOTDIR;
	}
	return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

/* ---- lookup ---- */

static int lookup_fixed_child(enum fixed_node parent, const char *name, struct node *ret)
{
	for (unsigned i = NODE_ROOT + 1; i < _NODE_FIXED_END; i++) {
		if (fixed_nodes[i].parent == parent && strcmp(fixed_nodes[i].name, name) == 0) {
			*ret = (struct node){ .kind = KIND_FIXED, .fixed = i };
			return 0;
		}
	}
	return -ENOENT;
}

static int lookup_in_fixed(struct tree *t, const struct model *m, enum fixed_node parent,
			   const char *name, struct node *ret)
{
	const struct host *h = model_host(m);
	const struct guest *g;
	struct guest_slot *s;
	struct apqn q;
	unsigned card;

	if (lookup_fixed_child(parent, name, ret) == 0)
		return 0;
	switch (parent) {
	case NODE_CARDS:
		if (adapter_name_parse(name, &card) < 0 || !idset_has(&h->adapters, card))
			return -ENOENT;
		*ret = (struct node){ .kind = KIND_CARD, .card = card };
		return 0;
	case NODE_QUEUES:
	case NODE_POOL_HOST:
	case NODE_POOL_VFIO:
		if (apqn_name_parse(name, &q) < 0 || !apqn_set_has(&h->queues, q))
			return -ENOENT;
		if (parent != NODE_QUEUES &&
		    model_apqn_pool(m, q) != (parent == NODE_POOL_HOST ? POOL_HOST : POOL_VFIO))
			return -ENOENT;
		*ret = (struct node){ .kind = KIND_APQN, .q = q };
		return 0;
	case NODE_RESERVATIONS:
		if (apqn_name_parse(name, &q) < 0 || !model_reservation(m, q))
			return -ENOENT;
		*ret = (struct node){ .kind = KIND_RESERVATION, .q = q };
		return 0;
	case NODE_GUESTS:
		g = model_guest_by_name(m, name);
		if (!g)
			return -ENOENT;
		s = slot_of_guest(t, g);
		if (!s)
			return -ENOMEM;
		*ret = (struct node){ .kind = KIND_GUEST, .slot = s->slot };
		return 0;
	default:
		return -ENOENT;
	}
}

static int lookup_in_guest(const struct node *parent, const struct guest *g, const char *name,
			   struct node *ret)
{
	enum guest_subdir sub;
	enum guest_file file;
	enum matrix_part part;
	struct apqn q;
	unsigned id;
	int r;

	if (parent->kind == KIND_GUEST) {
		if (guest_subdir_from_name(name, &sub) == 0) {
			*ret = (struct node){ .kind = KIND_GUEST_SUBDIR,
					      .slot = parent->slot,
					      .sub = sub };
			return 0;
		}
		if (guest_file_from_name(name, &file) < 0)
			return -ENOENT;
		*ret = (struct node){ .kind = KIND_GUEST_FILE, .slot = parent->slot, .file = file };
		return 0;
	}
	if (guest_subdir_part(parent->sub, &part)) {
		r = part == PART_ADAPTER ? adapter_name_parse(name, &id)
					 : domain_name_parse(name, &id);
		if (r < 0 || !idset_has(guest_part_ids(g, part), id))
			return -ENOENT;
		*ret = (struct node){
			.kind = KIND_GUEST_ID, .slot = parent->slot, .part = part, .id = id
		};
		return 0;
	}
	if (apqn_name_parse(name, &q) < 0 || !guest_holds(g, q))
		return -ENOENT;
	*ret = (struct node){ .kind = KIND_APQN, .q = q };
	return 0;
}

/* The child name of parent in m, as a node. */
static int lookup_node(struct tree *t, const struct model *m, uint64_t parent, const char *name,
		       struct node *ret)
{
	struct node p = node_decode(parent);
	const struct guest *g;
	enum card_attr attr;

	switch (p.kind) {
	case KIND_FIXED:
		if (p.fixed < NODE_ROOT || p.fixed >= _NODE_FIXED_END)
			return -ENOENT;
		if (fixed_nodes[p.fixed].type != TREE_NODE_DIR)
			return -ENOTDIR;
		return lookup_in_fixed(t, m, p.fixed, name, ret);
	case KIND_CARD:
		if (!idset_has(&model_host(m)->adapters, p.card))
			return -ENOENT;
		if (card_attr_from_name(name, &attr) < 0)
			return -ENOENT;
		*ret = (struct node){ .kind = KIND_CARD_ATTR, .card = p.card, .attr = attr };
		return 0;
	case KIND_GUEST:
	case KIND_GUEST_SUBDIR:
		g = guest_of_slot(t, m, p.slot);
		if (!g || (p.kind == KIND_GUEST_SUBDIR && p.sub >= _SUBDIR_MAX))
			return -ENOENT;
		return lookup_in_guest(&p, g, name, ret);
	case KIND_CARD_ATTR:
	case KIND_APQN:
	case KIND_RESERVATION:
	case KIND_GUEST_ID:
	case KIND_GUEST_FILE:
		return -ENOTDIR;
	default:
		return -ENOENT;
	}
}

/*
 * The `log` file is the engine's operation log, which has its own lock: its
 * size is taken after the model lock is let go.
 */
static void log_attr(struct tree *t, struct tree_attr *a)
{
	if (a->id == fixed_id(NODE_LOG))
		a->size = engine_log_render(t->engine, NULL, 0);
}

int tree_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret)
{
	const struct model *m = engine_read_begin(t->engine);
	struct node n;
	int r;

	r = lookup_node(t, m, parent, name, &n);
	if (r >= 0)
		r = node_attr(t, m, &n, ret);
	engine_read_end(t->engine);
	if (r >= 0)
		log_attr(t, ret);
	return r;
}

int tree_getattr(struct tree *t, uint64_t id, struct tree_attr *ret)
{
	const struct model *m = engine_read_begin(t->engine);
	struct node n = node_decode(id);
	int r;

	r = node_attr(t, m, &n, ret);
	engine_read_end(t->engine);
	if (r >= 0)
		log_attr(t, ret);
	return r;
}

/* ---- listings ---- */

struct listing_builder {
	struct tree_dirent *entries;
	size_t *name_offsets;
	size_t n, cap;
	struct strbuf names;
};

static void listing_builder_done(struct listing_builder *b)
{
	free(b->entries);
	free(b->name_offsets);
	strbuf_done(&b->names);
}

static int list_add(struct listing_builder *b, const char *name, const struct tree_attr *attr)
{
	size_t offset = b->names.len;
	int r;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 32;
		struct tree_dirent *e = realloc(b->entries, cap * sizeof(*e));
		size_t *o;

		if (!e)
			return -ENOMEM;
		b->entries = e;
		o = realloc(b->name_offsets, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		b->name_offsets = o;
		b->cap = cap;
	}
	r = strbuf_append(&b->names, name, strlen(name) + 1);
	if (r < 0)
		return r;
	b->entries[b->n] = (struct tree_dirent){ .attr = *attr };
	b->name_offsets[b->n++] = offset;
	return 0;
}

/*
 * Adds node n under name, skipping it if it does not exist in m. Sizes of
 * generated files are left out: a plain listing of 65536 queues must not
 * render them all.
 */
static int list_add_node(struct tree *t, const struct model *m, struct listing_builder *b,
			 const char *name, const struct node *n)
{
	struct tree_attr a;
	int r = node_shape(t, m, n, &a);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : list_add(b, name, &a);
}

static int list_apqns(struct tree *t, const struct model *m, struct listing_builder *b,
		      const struct apqn_set *set, enum node_kind kind)
{
	struct apqn q;
	int r;

	APQN_SET_FOREACH (q, set) {
		char name[APQN_NAME_SIZE];
		struct node n = { .kind = kind, .q = q };

		r = list_add_node(t, m, b, apqn_name_format(q, name), &n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int list_fixed(struct tree *t, const struct model *m, struct listing_builder *b,
		      enum fixed_node dir)
{
	const struct host *h = model_host(m);
	struct apqn_set set;
	int r = 0;

	for (unsigned i = NODE_ROOT + 1; i < _NODE_FIXED_END && r >= 0; i++) {
		struct node n = { .kind = KIND_FIXED, .fixed = i };

		if (fixed_nodes[i].parent == dir)
			r = list_add_node(t, m, b, fixed_nodes[i].name, &n);
	}
	if (r < 0)
		return r;
	switch (dir) {
	case NODE_CARDS:
		IDSET_FOREACH (card, &h->adapters) {
			char name[ADAPTER_NAME_SIZE];
			struct node n = { .kind = KIND_CARD, .card = (unsigned) card };

			r = list_add_node(t, m, b, adapter_name_format((unsigned) card, name), &n);
			if (r < 0)
				return r;
		}
		return 0;
	case NODE_QUEUES:
		return list_apqns(t, m, b, &h->queues, KIND_APQN);
	case NODE_POOL_HOST:
	case NODE_POOL_VFIO:
		model_pool_queues(m, dir == NODE_POOL_HOST ? POOL_HOST : POOL_VFIO, &set);
		return list_apqns(t, m, b, &set, KIND_APQN);
	case NODE_RESERVATIONS:
		return list_apqns(t, m, b, model_reserved(m), KIND_RESERVATION);
	case NODE_GUESTS:
		GUEST_FOREACH (g, m) {
			struct guest_slot *s = slot_of_guest(t, g);
			struct node n = { .kind = KIND_GUEST };

			if (!s)
				return -ENOMEM;
			n.slot = s->slot;
			r = list_add_node(t, m, b, g->name, &n);
			if (r < 0)
				return r;
		}
		return 0;
	default:
		return 0;
	}
}

static int list_guest(struct tree *t, const struct model *m, struct listing_builder *b,
		      const struct node *dir, const struct guest *g)
{
	enum matrix_part part;
	struct apqn_set matrix;
	int r;

	if (dir->kind == KIND_GUEST) {
		for (unsigned i = 0; i < _SUBDIR_MAX; i++) {
			struct node n = { .kind = KIND_GUEST_SUBDIR, .slot = dir->slot, .sub = i };

			r = list_add_node(t, m, b, subdir_names[i], &n);
			if (r < 0)
				return r;
		}
		for (unsigned i = 0; i < _GUEST_FILE_MAX; i++) {
			struct node n = { .kind = KIND_GUEST_FILE, .slot = dir->slot, .file = i };

			r = list_add_node(t, m, b, guest_file_name(i), &n);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!guest_subdir_part(dir->sub, &part)) {
		guest_matrix_apqns(g, &matrix);
		return list_apqns(t, m, b, &matrix, KIND_APQN);
	}
	IDSET_FOREACH (id, guest_part_ids(g, part)) {
		char name[DOMAIN_NAME_SIZE];
		struct node n = {
			.kind = KIND_GUEST_ID, .slot = dir->slot, .part = part, .id = (unsigned) id
		};

		r = list_add_node(t, m, b, part_id_name(part, (unsigned) id, name), &n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int list_children(struct tree *t, const struct model *m, struct listing_builder *b,
			 const struct node *dir)
{
	const struct guest *g;

	switch (dir->kind) {
	case KIND_FIXED:
		return list_fixed(t, m, b, dir->fixed);
	case KIND_CARD:
		for (unsigned i = 0; i < _CARD_ATTR_MAX; i++) {
			struct node n = { .kind = KIND_CARD_ATTR, .card = dir->card, .attr = i };
			int r = list_add_node(t, m, b, card_attr_name(i), &n);

			if (r < 0)
				return r;
		}
		return 0;
	case KIND_GUEST:
	case KIND_GUEST_SUBDIR:
		g = guest_of_slot(t, m, dir->slot);
		return g ? list_guest(t, m, b, dir, g) : -ENOENT;
	default:
		return -ENOTDIR;
	}
}

static int listing_finish(struct listing_builder *b, struct tree_listing **ret)
{
	struct tree_listing *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->names = strbuf_take(&b->names);
	if (!l->names) {
		free(l);
		return -ENOMEM;
	}
	atomic_init(&l->refs, 1);
	l->n = b->n;
	l->entries = TAKE_PTR(b->entries);
	for (size_t i = 0; i < l->n; i++)
		l->entries[i].name = l->names + b->name_offsets[i];
	*ret = l;
	return 0;
}

/* The listing of directory id at generation, with a reference, if it is kept. */
static struct tree_listing *listing_cached(struct tree *t, uint64_t id, uint64_t generation)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);

	for (size_t i = 0; i < LISTING_CACHE_SIZE; i++) {
		struct listed *c = &t->listings[i];

		if (c->listing && c->id == id && c->generation == generation) {
			atomic_fetch_add_explicit(&c->listing->refs, 1, memory_order_relaxed);
			return c->listing;
		}
	}
	return NULL;
}

static void listing_keep(struct tree *t, uint64_t id, uint64_t generation,
			 struct tree_listing *listing)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&t->lock);
	struct listed *c = &t->listings[t->listings_next++ % LISTING_CACHE_SIZE];

	tree_listing_free(c->listing);
	atomic_fetch_add_explicit(&listing->refs, 1, memory_order_relaxed);
	*c = (struct listed){ id, generation, listing };
}

int tree_list(struct tree *t, uint64_t id, struct tree_listing **ret)
{
	struct listing_builder b = { .names = STRBUF_INIT };
	const struct model *m = engine_read_begin(t->engine);
	uint64_t generation = engine_generation(t->engine);
	struct node dir = node_decode(id), parent;
	struct tree_attr a;
	int r;

	*ret = listing_cached(t, id, generation);
	if (*ret) {
		engine_read_end(t->engine);
		return 0;
	}
	r = node_attr(t, m, &dir, &a);
	if (r >= 0 && a.type != TREE_NODE_DIR)
		r = -ENOTDIR;
	if (r >= 0)
		r = list_add(&b, ".", &a);
	if (r >= 0) {
		parent = node_decode(parent_id(&dir));
		r = node_attr(t, m, &parent, &a);
	}
	if (r >= 0)
		r = list_add(&b, "..", &a);
	if (r >= 0)
		r = list_children(t, m, &b, &dir);
	engine_read_end(t->engine);
	if (r >= 0)
		r = listing_finish(&b, ret);
	listing_builder_done(&b);
	if (r >= 0)
		listing_keep(t, id, generation, *ret);
	return r;
}

void tree_listing_free(struct tree_listing *l)
{
	/* the last reference must see every write made through the others */
	if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(l->entries);
	free(l->names);
	free(l);
}

/* ---- contents ---- */

int tree_open(struct tree *t, uint64_t id, bool write)
{
	const struct model *m = engine_read_begin(t->engine);
	struct node n = node_decode(id);
	struct tree_attr a;
	int r = node_shape(t, m, &n, &a);

	engine_read_end(t->engine);
	if (r < 0)
		return r;
	if (a.type == TREE_NODE_DIR)
		return -EISDIR;
	if (a.type == TREE_NODE_SYMLINK)
		return -ELOOP;
	/*
	 * `touch guests/g/queues/05.0004` opens the queue for writing when it is
	 * already there, and must succeed; its writes are still refused.
	 */
	if (write && !a.writable && n.kind != KIND_APQN)
		return -EACCES;
	return 0;
}

static int render_fixed(struct tree *t, const struct model *m, enum fixed_node f,
			struct strbuf *out)
{
	switch (f) {
	case NODE_README:
		return render_readme(out);
	case NODE_STATUS:
		return render_status(m, out);
	case NODE_STATUS_JSON:
		return render_status_json(m, out);
	case NODE_HOST_ADAPTERS:
		return render_host_mask(m, MASK_AP, out);
	case NODE_HOST_DOMAINS:
		return render_host_mask(m, MASK_AQ, out);
	case NODE_LOG:
		/* the engine's log, read outside the model lock: see log_attr() */
		return 0;
	default:
		return -EISDIR;
	}
}

/* Renders node n's content into out, from m. */
static int render_node(struct tree *t, const struct model *m, const struct node *n,
		       struct strbuf *out)
{
	const struct guest *g;
	int r;

	switch (n->kind) {
	case KIND_FIXED:
		return render_fixed(t, m, n->fixed, out);
	case KIND_CARD_ATTR:
		return render_card_attr(m, n->card, n->attr, out);
	case KIND_APQN:
		r = render_queue(m, n->q, out);
		/* a matrix may name a queue the host does not have: it has no attributes */
		return r == -ENOENT && apqn_nlink(m, n->q) ? 0 : r;
	case KIND_GUEST_FILE:
		g = guest_of_slot(t, m, n->slot);
		if (!g)
			return -ENOENT;
		return render_guest_file(m, g, n->file, t->matrix_dir, out);
	default:
		return 0;
	}
}

/* The engine's log as text. */
static int render_log(struct tree *t, struct strbuf *out)
{
	size_t len = engine_log_render(t->engine, NULL, 0);
	int r = strbuf_reserve(out, len);

	if (r < 0)
		return r;
	/* the log may have grown since: keep what fits */
	engine_log_render(t->engine, out->data + out->len, len + 1);
	out->len += strlen(out->data + out->len);
	return 0;
}

int tree_read(struct tree *t, uint64_t id, struct content **ret)
{
	struct strbuf out = STRBUF_INIT;
	const struct model *m;
	struct node n = node_decode(id);
	struct tree_attr a;
	int r;

	if (id == fixed_id(NODE_LOG))
		return content_take(&out, render_log(t, &out), ret);
	m = engine_read_begin(t->engine);
	r = node_shape(t, m, &n, &a);
	if (r >= 0 && a.type != TREE_NODE_FILE)
		r = a.type == TREE_NODE_DIR ? -EISDIR : -EINVAL;
	if (r >= 0 && !a.content)
		*ret = NULL;
	else if (r >= 0)
		r = node_content(t, m, &n, a.id, ret);
	engine_read_end(t->engine);
	return r;
}

int tree_readlink(struct tree *t, uint64_t id, char *buf, size_t size)
{
	const struct model *m = engine_read_begin(t->engine);
	struct node n = node_decode(id);
	const char *owner = NULL;
	int r = -EINVAL;

	if (n.kind == KIND_RESERVATION) {
		owner = model_reservation(m, n.q);
		r = owner ? snprintf(buf, size, "%s%s", reservation_prefix, owner) : -ENOENT;
		if (r >= 0 && (size_t) r >= size)
			r = -ENAMETOOLONG;
	}
	engine_read_end(t->engine);
	return r;
}

/* ---- life cycle ---- */

int tree_new(const struct tree_config *cfg, struct tree **ret)
{
	struct tree *t;
	int r;

	if (!cfg->engine)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->engine = cfg->engine;
	t->hooks = cfg->hooks;
	pthread_mutex_init(&t->lock, NULL);
	r = cfg->matrix_dir && !(t->matrix_dir = strdup(cfg->matrix_dir)) ? -ENOMEM : 0;
	if (r < 0) {
		tree_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct tree *tree_free(struct tree *t)
{
	struct guest_slot *s, *tmp;

	if (!t)
		return NULL;
	HASH_ITER (hh, t->by_uuid, s, tmp) {
		HASH_DEL(t->by_uuid, s);
		free(s);
	}
	for (size_t i = 0; i < RENDER_CACHE_SIZE; i++)
		content_unref(t->cache[i].content);
	for (size_t i = 0; i < LISTING_CACHE_SIZE; i++)
		tree_listing_free(t->listings[i].listing);
	free(t->slots);
	free(t->matrix_dir);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return NULL;
}
