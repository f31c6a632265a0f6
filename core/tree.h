/* SPDX-License-Identifier: MIT */
/*
 * The zapfs tree (DESIGN §1) as a virtual file system over the engine's
 * model: node ids, lookups, attributes, listings, file contents, and the
 * mapping of every mutation (create, unlink, mkdir, rmdir, symlink, link,
 * rename, write) to one engine intent. No FUSE types: the front end only
 * translates requests into these calls and their results into replies.
 *
 * Node ids are derived from identity, never allocated: a fixed node (the
 * root is 1), a card, an APQN, a guest's slot. One APQN is one node wherever
 * it shows (queues/, pools/ and guests' queues/ entries are hard links of
 * it). A guest's slot is keyed by its UUID, given on first sight and never
 * reused while the tree lives, so a rename keeps every id of the guest.
 *
 * After every engine outcome (and refresh) the tree hands its sentence to
 * the log hook once, and the list of cached names and nodes the change
 * touched to the invalidate hook. Both hooks run in the calling thread,
 * outside the model lock; the front end must not call back into the kernel
 * cache from there (queue the list for another thread).
 *
 * Functions return 0 (or a positive count) or -errno; out-parameters are
 * written only on success.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/content.h"
#include "core/engine.h"

#define TREE_ROOT_ID 1

/* The longest name the tree shows (a guest name); listing and invalidation names fit in it. */
#define TREE_NAME_MAX 64

/* The largest write a writable file takes at once; more is EINVAL (sysfs takes a page). */
#define TREE_WRITE_MAX 4096

enum tree_node_type {
	TREE_NODE_DIR,
	TREE_NODE_FILE,
	TREE_NODE_SYMLINK,
};

struct tree_attr {
	uint64_t id;
	enum tree_node_type type;
	unsigned mode;	/* permission bits: 0755, 0644, 0444, 0777 */
	unsigned nlink; /* names of the node in the tree (+ subdirectories for a directory) */
	uint64_t size;	/* a generated file: its content's length now; a symlink: its target's */
	bool content;	/* a file with rendered content: read it through tree_read() */
	bool writable;	/* takes writes (pools/host/{adapters,domains}, guests' id files) */
};

/*
 * One directory entry of a listing; "." and ".." come first. The attributes
 * are those of tree_getattr(), but a generated file's size is 0 here (the
 * listing does not render every file): ask tree_getattr() for it.
 */
struct tree_dirent {
	const char *name; /* into the listing's own storage */
	struct tree_attr attr;
};

/* A directory's entries as the model was at tree_list(); shared, reference-counted. */
struct tree_listing {
	atomic_uint refs;
	size_t n;
	struct tree_dirent *entries;
	char *names; /* storage of the entries' names */
};

enum tree_inval_kind {
	TREE_INVAL_ENTRY,  /* the name `name` in directory `parent` (positive or negative) */
	TREE_INVAL_INODE,  /* the attributes and cached content of node `id` */
	TREE_INVAL_DELETE, /* the name `name` in `parent`, whose node `id` is gone */
};

struct tree_inval {
	enum tree_inval_kind kind;
	uint64_t parent;
	uint64_t id;
	char name[TREE_NAME_MAX + 1];
};

struct tree_hooks {
	/* Each outcome's sentence, once (the front end prints it). Optional. */
	void (*log)(void *ctx, int err, const char *sentence);
	/* The cache entries a change touched, in order. Optional. */
	void (*invalidate)(void *ctx, const struct tree_inval *list, size_t n);
	void *ctx;
};

struct tree_config {
	struct engine *engine; /* borrowed; must outlive the tree */
	/* The vfio_ap matrix device's absolute directory, for guests' qemu files. */
	const char *matrix_dir;
	struct tree_hooks hooks;
};

struct tree;

/* A tree over cfg->engine; its `log` file is the engine's operation log. */
int tree_new(const struct tree_config *cfg, struct tree **ret);

/* Accepts NULL; returns NULL. */
struct tree *tree_free(struct tree *t);

/* ---- reading ---- */

/* The child name of directory parent. -ENOENT (also for non-canonical names), -ENOTDIR. */
int tree_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret);

/* The attributes of node id; -ENOENT when it no longer exists. */
int tree_getattr(struct tree *t, uint64_t id, struct tree_attr *ret);

/*
 * A snapshot of directory id's entries, "." and ".." first, with a reference
 * for the caller: built once per model and shared (queues/ of a large host
 * has tens of thousands). Let go of it with tree_listing_free().
 */
int tree_list(struct tree *t, uint64_t id, struct tree_listing **ret);

/* Lets go of one reference to a listing, freeing it with the last; accepts NULL. */
void tree_listing_free(struct tree_listing *l);

/*
 * Checks that node id may be opened (for writing too, if write): -EISDIR,
 * -EACCES (writing a read-only file, but for a queue: `touch` of a guest's
 * queue that is there opens it for writing), -ENOENT.
 */
int tree_open(struct tree *t, uint64_t id, bool write);

/*
 * The whole content of file id as the model is now (a consistent snapshot),
 * with a reference for the caller: content_unref() it. NULL for a file
 * without content (a guest's id files).
 */
int tree_read(struct tree *t, uint64_t id, struct content **ret);

/* The target of symlink id ("../guests/web1"); returns its length. -EINVAL if not a symlink. */
int tree_readlink(struct tree *t, uint64_t id, char *buf, size_t size);

/* ---- changing ---- */

/*
 * One write() to a writable file: pools/host/{adapters,domains} edit a host
 * mask (the whole buffer is one edit); a guest's id files ignore the bytes.
 * Returns len or -errno.
 */
int tree_write(struct tree *t, uint64_t id, const char *buf, size_t len);

/*
 * Attribute changes: truncation to 0 of a writable file and new times are
 * accepted as no-ops; anything else is -EPERM (or -EACCES on a read-only
 * file). *ret: the attributes after.
 */
int tree_setattr(struct tree *t, uint64_t id, bool set_size, uint64_t size, bool set_mode,
		 bool set_owner, struct tree_attr *ret);

/* touch / mknod of a regular file: assigns an id or adds a queue. *ret: the new node. */
int tree_create(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret);

/* mkdir guests/NAME. */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret);

/* rm of a file or symlink. */
int tree_unlink(struct tree *t, uint64_t parent, const char *name);

/* rmdir: guests/NAME removes the guest; a guest's subdirectories are no-ops. */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name);

/* ln -s TARGET reservations/APQN: reserves APQN for the guest TARGET names. */
int tree_symlink(struct tree *t, const char *target, uint64_t parent, const char *name,
		 struct tree_attr *ret);

/* ln: node id (an APQN) under a new name: a pool move or a queue add. */
int tree_link(struct tree *t, uint64_t id, uint64_t new_parent, const char *new_name,
	      struct tree_attr *ret);

/* mv: renames a guest, or moves a queue between pools. exchange (RENAME_EXCHANGE) is -EINVAL. */
int tree_rename(struct tree *t, uint64_t parent, const char *name, uint64_t new_parent,
		const char *new_name, bool exchange);

/*
 * Re-reads the kernel and invalidates what changed: all of it
 * (engine_refresh), or, without whole_host, what mdev events call for
 * (engine_refresh_mdevs).
 */
int tree_refresh(struct tree *t, bool whole_host);
