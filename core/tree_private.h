/* SPDX-License-Identifier: MIT */
/*
 * Inside the tree: node ids and guest slots, shared by
 * tree.c (reading), tree_change.c (mutations) and tree_inval.c (what a
 * change makes stale).
 *
 * Lock order: the engine's model lock (read) before the tree's own mutex.
 * No engine entry point that writes is ever called with either held.
 */
#pragma once

#include <pthread.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "core/content.h"
#include "core/render.h"
#include "core/tree.h"

/* Room for any directory path in the tree ("guests/NAME/control_domains"). */
#define TREE_PATH_MAX 256

/* A node id is (kind << NODE_KIND_SHIFT) | payload; fixed nodes are small numbers. */
#define NODE_KIND_SHIFT 48

enum node_kind {
	KIND_FIXED,
	KIND_CARD,	   /* payload: adapter */
	KIND_CARD_ATTR,	   /* adapter << 8 | enum card_attr */
	KIND_APQN,	   /* apqn_index() */
	KIND_RESERVATION,  /* apqn_index() */
	KIND_GUEST,	   /* slot */
	KIND_GUEST_SUBDIR, /* slot << 2 | enum guest_subdir */
	KIND_GUEST_ID,	   /* slot << 10 | enum matrix_part << 8 | id */
	KIND_GUEST_FILE,   /* slot << 4 | enum guest_file */
	_KIND_MAX,
};

enum fixed_node {
	NODE_ROOT = TREE_ROOT_ID,
	NODE_README,
	NODE_STATUS,
	NODE_STATUS_JSON,
	NODE_LOG,
	NODE_CARDS,
	NODE_QUEUES,
	NODE_POOLS,
	NODE_POOL_HOST,
	NODE_POOL_VFIO,
	NODE_HOST_ADAPTERS,
	NODE_HOST_DOMAINS,
	NODE_RESERVATIONS,
	NODE_GUESTS,
	_NODE_FIXED_END,
};

/* A guest's subdirectories, in listing order: adapters first, so that `rm -r` empties queues/. */
enum guest_subdir {
	SUBDIR_ADAPTERS,
	SUBDIR_CONTROL_DOMAINS,
	SUBDIR_DOMAINS,
	SUBDIR_QUEUES,
	_SUBDIR_MAX,
};

/* A decoded node id. */
struct node {
	enum node_kind kind;
	unsigned fixed;	       /* KIND_FIXED: enum fixed_node */
	unsigned card;	       /* KIND_CARD, KIND_CARD_ATTR */
	enum card_attr attr;   /* KIND_CARD_ATTR */
	struct apqn q;	       /* KIND_APQN, KIND_RESERVATION */
	uint32_t slot;	       /* KIND_GUEST* */
	enum guest_subdir sub; /* KIND_GUEST_SUBDIR */
	enum matrix_part part; /* KIND_GUEST_ID */
	unsigned id;	       /* KIND_GUEST_ID */
	enum guest_file file;  /* KIND_GUEST_FILE */
};

/*
 * One guest's slot, keyed by UUID. Besides the slot number it remembers what
 * the kernel may have cached of the guest at the last invalidation (its name
 * and matrix), so the next change invalidates exactly the difference.
 */
struct guest_slot {
	char uuid[UUID_STR_LEN + 1];
	uint32_t slot;
	char name[GUEST_NAME_MAX + 1]; /* "" once the guest is gone */
	struct idset adapters, domains, control_domains;
	UT_hash_handle hh;
};

/*
 * A file rendered from the model of one generation. `cat status` on a large
 * host renders a megabyte; the model changes far less often than it is read.
 */
struct rendered {
	uint64_t id, generation;
	struct content *content;
};

#define RENDER_CACHE_SIZE 16

/* A directory listed from the model of one generation. */
struct listed {
	uint64_t id, generation;
	struct tree_listing *listing;
};

#define LISTING_CACHE_SIZE 8

struct tree {
	struct engine *engine;
	char *matrix_dir;
	struct tree_hooks hooks;
	pthread_mutex_t lock; /* guards what follows */
	struct guest_slot *by_uuid;
	struct guest_slot **slots; /* by slot number */
	size_t n_slots, cap_slots;
	struct rendered cache[RENDER_CACHE_SIZE];
	unsigned cache_next; /* the entry the next miss replaces */
	struct listed listings[LISTING_CACHE_SIZE];
	unsigned listings_next;
};

/* ---- ids (tree.c): node_decode() takes an id apart, the others make one ---- */

struct node node_decode(uint64_t id);
uint64_t fixed_id(enum fixed_node f);
uint64_t card_id(unsigned card);
uint64_t card_attr_id(unsigned card, enum card_attr attr);
uint64_t apqn_id(struct apqn q);
uint64_t reservation_id(struct apqn q);
uint64_t guest_id(uint32_t slot);
uint64_t guest_subdir_id(uint32_t slot, enum guest_subdir sub);
uint64_t guest_id_file_id(uint32_t slot, enum matrix_part part, unsigned id);
uint64_t guest_file_id(uint32_t slot, enum guest_file file);

/* The name of a guest subdirectory ("adapters"...). */
const char *guest_subdir_name(enum guest_subdir sub);

/* The subdirectory of that name; -ENOENT. */
int guest_subdir_from_name(const char *name, enum guest_subdir *ret);

/* The matrix part an id subdirectory holds; false for queues/. */
bool guest_subdir_part(enum guest_subdir sub, enum matrix_part *ret);

/* The subdirectory of a matrix part. */
enum guest_subdir guest_part_subdir(enum matrix_part part);

/* The canonical name of id in part ("05", "0004"): buf holds DOMAIN_NAME_SIZE. */
const char *part_id_name(enum matrix_part part, unsigned id, char *buf);

/* The part's ids in g. */
const struct idset *guest_part_ids(const struct guest *g, enum matrix_part part);

/* ---- slots (tree.c); call with m read-locked ---- */

/* g's slot, made on first sight. NULL only when out of memory. Takes t->lock. */
struct guest_slot *slot_of_guest(struct tree *t, const struct guest *g);

/* The guest of a slot number in m, or NULL. Takes t->lock. */
const struct guest *guest_of_slot(struct tree *t, const struct model *m, uint32_t slot);

/*
 * The tree-relative path of directory id ("guests/web1/adapters"; "" for
 * the root) into buf. -ENOENT when it does not exist in m.
 */
int dir_path(struct tree *t, const struct model *m, uint64_t id, char *buf, size_t size);

/* ---- the log (tree_change.c) ---- */

/* Records a sentence of the tree's own in the engine's log and announces it. */
void tree_log(struct tree *t, int err, const char *sentence);

/* ---- invalidation (tree_inval.c) ---- */

/*
 * Hands the invalidate hook every cache entry and node that d makes stale,
 * and brings the slots' memory of the guests up to date. Call with no lock.
 * settled (or NULL) is the entry a successful request settles in the
 * kernel itself: a create, mkdir, symlink or link replies with it, and an
 * unlink or rmdir makes the kernel drop it. Invalidating it again would only
 * cost a system call, or a lookup of the name just made.
 */
void tree_invalidate_diff(struct tree *t, const struct model_diff *d,
			  const struct tree_inval *settled);
