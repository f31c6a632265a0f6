/* SPDX-License-Identifier: MIT */
/*
 * The tree's mutations: each file-system operation becomes one engine intent
 * (DESIGN §1, the operations table), or a refusal that says what to do
 * instead, and every outcome is logged once and invalidated exactly.
 */
#include "core/tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/tree_private.h"

#define ACTION_MAX 512

/* ---- the log ---- */

/* Prints a sentence the engine's log holds, and makes the `log` file's size stale. */
static void announce(struct tree *t, int err, const char *sentence)
{
	const struct tree_inval grown = { .kind = TREE_INVAL_INODE, .id = fixed_id(NODE_LOG) };

	if (t->hooks.log)
		t->hooks.log(t->hooks.ctx, err, sentence);
	if (t->hooks.invalidate)
		t->hooks.invalidate(t->hooks.ctx, &grown, 1);
}

void tree_log(struct tree *t, int err, const char *sentence)
{
	engine_log_append(t->engine, err, sentence);
	announce(t, err, sentence);
}

/*
 * Announces an engine outcome (the engine logged it), invalidates what it
 * changed but settled (see tree_invalidate_diff()), releases it.
 */
static int finish_settling(struct tree *t, struct outcome *o, int r,
			   const struct tree_inval *settled)
{
	announce(t, o->err, o->sentence);
	tree_invalidate_diff(t, &o->diff, r >= 0 ? settled : NULL);
	outcome_done(o);
	return r;
}

static int finish(struct tree *t, struct outcome *o, int r)
{
	return finish_settling(t, o, r, NULL);
}

/*
 * finish() of a request that, if it succeeds, settles the entry parent/name
 * in the kernel itself: a create's reply carries it, an unlink's drops it.
 */
static int finish_named(struct tree *t, struct outcome *o, int r, uint64_t parent, const char *name)
{
	struct tree_inval settled = { .kind = TREE_INVAL_ENTRY, .parent = parent };

	snprintf(settled.name, sizeof(settled.name), "%s", name);
	return finish_settling(t, o, r, &settled);
}

/* A refusal that never reached the engine: logged as the engine logs its own. Returns -err. */
__attribute__((format(printf, 4, 5))) static int refuse(struct tree *t, const char *action, int err,
							const char *fmt, ...)
{
	char sentence[OUTCOME_SENTENCE_MAX];
	struct explain why;
	va_list ap;

	explain_clear(&why);
	why.err = err;
	va_start(ap, fmt);
	vsnprintf(why.reason, sizeof(why.reason), fmt, ap);
	va_end(ap);
	explain_render(&why, action, sentence, sizeof(sentence));
	tree_log(t, err, sentence);
	return -err;
}

/* An operation that succeeds without changing anything, so that `rm -r` can finish. */
static int nothing_to_do(struct tree *t, const char *action, const char *why)
{
	char sentence[OUTCOME_SENTENCE_MAX];

	snprintf(sentence, sizeof(sentence), "%s: done (nothing to change): %s", action, why);
	tree_log(t, 0, sentence);
	return 0;
}

enum name_kind {
	NAME_ADAPTER,
	NAME_DOMAIN,
	NAME_CONTROL_DOMAIN,
	NAME_QUEUE,
};

static int refuse_name(struct tree *t, const char *action, enum name_kind kind, const char *name)
{
	static const char *const rules[] = {
		[NAME_ADAPTER] = "adapter names are two hex digits",
		[NAME_DOMAIN] = "domain names are four hex digits",
		[NAME_CONTROL_DOMAIN] = "control domain names are four hex digits",
		[NAME_QUEUE] = "queue names are two hex digits, a dot and four hex digits",
	};
	static const char *const examples[] = {
		[NAME_ADAPTER] = "05",
		[NAME_DOMAIN] = "0004",
		[NAME_CONTROL_DOMAIN] = "00ab",
		[NAME_QUEUE] = "05.0004",
	};
	char right[APQN_NAME_SIZE];
	int r;

	r = kind == NAME_ADAPTER ? adapter_name_suggest(name, right)
	    : kind == NAME_QUEUE ? apqn_name_suggest(name, right)
				 : domain_name_suggest(name, right);
	/* a well-formed id above 255 is an id no host has, as the kernel says for id > max */
	if (r == -ERANGE)
		return refuse(t, action, ENODEV, "%s is above %s, the largest id there can be",
			      name, kind == NAME_ADAPTER ? "ff" : "00ff");
	if (r < 0)
		return refuse(t, action, EINVAL, "%s, like %s", rules[kind], examples[kind]);
	return refuse(t, action, EINVAL, "%s: use %s", rules[kind], right);
}

static enum name_kind part_name_kind(enum matrix_part part)
{
	return part == PART_ADAPTER  ? NAME_ADAPTER
	       : part == PART_DOMAIN ? NAME_DOMAIN
				     : NAME_CONTROL_DOMAIN;
}

static int parse_part_name(enum matrix_part part, const char *name, unsigned *ret)
{
	return part == PART_ADAPTER ? adapter_name_parse(name, ret) : domain_name_parse(name, ret);
}

/* ---- where an operation happens ---- */

enum place_kind {
	PLACE_OTHER,	    /* a directory whose entries the tree makes */
	PLACE_GUESTS,	    /* guests/ */
	PLACE_GUEST,	    /* guests/NAME/ */
	PLACE_GUEST_IDS,    /* guests/NAME/{adapters,domains,control_domains}/ */
	PLACE_GUEST_QUEUES, /* guests/NAME/queues/ */
	PLACE_POOL,	    /* pools/host/, pools/vfio/ */
	PLACE_QUEUES,	    /* queues/ */
	PLACE_RESERVATIONS, /* reservations/ */
};

struct place {
	enum place_kind kind;
	char path[TREE_PATH_MAX]; /* the directory, "guests/web1/adapters" */
	char guest[GUEST_NAME_MAX + 1];
	enum matrix_part part;
	enum apqn_pool pool;
};

/* What directory dir is, in the live model. -ENOENT, -ENOTDIR. */
static int place_of(struct tree *t, uint64_t dir, struct place *ret)
{
	const struct model *m = engine_read_begin(t->engine);
	struct node n = node_decode(dir);
	struct place p = { .kind = PLACE_OTHER };
	const struct guest *g = NULL;
	int r;

	r = dir_path(t, m, dir, p.path, sizeof(p.path));
	if (r >= 0 && (n.kind == KIND_GUEST || n.kind == KIND_GUEST_SUBDIR)) {
		g = guest_of_slot(t, m, n.slot);
		if (g)
			snprintf(p.guest, sizeof(p.guest), "%s", g->name);
		else
			r = -ENOENT;
	}
	engine_read_end(t->engine);
	if (r < 0)
		return r;
	if (n.kind == KIND_GUEST)
		p.kind = PLACE_GUEST;
	else if (n.kind == KIND_GUEST_SUBDIR)
		p.kind = guest_subdir_part(n.sub, &p.part) ? PLACE_GUEST_IDS : PLACE_GUEST_QUEUES;
	else if (n.kind == KIND_FIXED && n.fixed == NODE_GUESTS)
		p.kind = PLACE_GUESTS;
	else if (n.kind == KIND_FIXED && (n.fixed == NODE_POOL_HOST || n.fixed == NODE_POOL_VFIO))
		p.kind = PLACE_POOL;
	else if (n.kind == KIND_FIXED && n.fixed == NODE_QUEUES)
		p.kind = PLACE_QUEUES;
	else if (n.kind == KIND_FIXED && n.fixed == NODE_RESERVATIONS)
		p.kind = PLACE_RESERVATIONS;
	p.pool = n.kind == KIND_FIXED && n.fixed == NODE_POOL_HOST ? POOL_HOST : POOL_VFIO;
	*ret = p;
	return 0;
}

/* Appends s to buf, control characters shown as '?', so one operation stays one log line. */
static void append_clean(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	for (; *s && len + 1 < size; s++)
		buf[len++] = (unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s;
	buf[len] = '\0';
}

/* "VERB DIR/NAME" into buf (ACTION_MAX). */
static const char *action_of(char *buf, const char *verb, const struct place *p, const char *name)
{
	snprintf(buf, ACTION_MAX, "%s ", verb);
	append_clean(buf, ACTION_MAX, p->path);
	append_clean(buf, ACTION_MAX, *p->path ? "/" : "");
	append_clean(buf, ACTION_MAX, name);
	return buf;
}

/* The refusal of an entry the tree makes itself; says where changes go instead. */
static int refuse_fixed(struct tree *t, const char *action, const struct place *p)
{
	switch (p->kind) {
	case PLACE_POOL:
		return refuse(t, action, EPERM,
			      "pools list the host's queues: move one with mv pools/host/QUEUE "
			      "pools/vfio/ (or back), or edit pools/host/adapters and "
			      "pools/host/domains");
	case PLACE_QUEUES:
		return refuse(t, action, EPERM,
			      "queues/ lists the host's queues; a guest's queues are in "
			      "guests/NAME/queues/");
	case PLACE_RESERVATIONS:
		return refuse(
		    t, action, EPERM,
		    "a reservation is a symlink: ln -s ../guests/NAME reservations/QUEUE");
	case PLACE_GUESTS:
		return refuse(t, action, EPERM, "a guest is a directory: mkdir guests/NAME");
	case PLACE_GUEST:
		return refuse(t, action, EPERM,
			      "a guest's files are made by zapfs; change its adapters/, domains/, "
			      "control_domains/ or queues/");
	default:
		return refuse(t, action, EPERM, "this part of the tree is made by zapfs");
	}
}

/* ---- writing ---- */

int tree_write(struct tree *t, uint64_t id, const char *buf, size_t len)
{
	struct node n = node_decode(id);
	char action[ACTION_MAX], text[TREE_WRITE_MAX + 1];
	struct outcome o;
	struct tree_attr a;
	enum host_mask mask;
	const char *file;
	int r;

	r = tree_getattr(t, id, &a);
	if (r < 0)
		return r;
	if (!a.writable)
		return -EACCES;
	if (n.kind == KIND_GUEST_ID)
		return (int) len; /* an empty marker file: its existence is the assignment */

	mask = n.fixed == NODE_HOST_ADAPTERS ? MASK_AP : MASK_AQ;
	file = mask == MASK_AP ? "pools/host/adapters" : "pools/host/domains";
	snprintf(action, sizeof(action), "write to %s", file);
	if (len > TREE_WRITE_MAX)
		return refuse(t, action, EINVAL, "a mask edit is at most %d bytes", TREE_WRITE_MAX);
	if (memchr(buf, '\0', len))
		return refuse(t, action, EINVAL, "the text holds a NUL byte");
	memcpy(text, buf, len);
	text[len] = '\0';
	for (size_t end = len; end && text[end - 1] == '\n'; end--)
		text[end - 1] = '\0';
	snprintf(action, sizeof(action), "echo ");
	append_clean(action, sizeof(action), text);
	append_clean(action, sizeof(action), " > ");
	append_clean(action, sizeof(action), file);
	r = engine_mask_edit(t->engine, action, mask, text, &o);
	r = finish(t, &o, r);
	return r < 0 ? r : (int) len;
}

int tree_setattr(struct tree *t, uint64_t id, bool set_size, uint64_t size, bool set_mode,
		 bool set_owner, struct tree_attr *ret)
{
	struct tree_attr a;
	int r = tree_getattr(t, id, &a);

	if (r < 0)
		return r;
	if (set_mode || set_owner)
		return -EPERM;
	if (set_size) {
		if (a.type == TREE_NODE_DIR)
			return -EISDIR;
		if (!a.writable)
			return -EACCES;
		/* `echo x > file` truncates first: each write replaces the whole value anyway */
		if (size != 0)
			return -EINVAL;
	}
	*ret = a;
	return 0;
}

/* ---- creating and removing ---- */

int tree_create(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret)
{
	char action[ACTION_MAX];
	struct outcome o;
	struct place p;
	struct apqn q;
	unsigned id;
	int r;

	r = place_of(t, parent, &p);
	if (r < 0)
		return r;
	action_of(action, "touch", &p, name);
	switch (p.kind) {
	case PLACE_GUEST_IDS:
		if (parse_part_name(p.part, name, &id) < 0)
			return refuse_name(t, action, part_name_kind(p.part), name);
		r = engine_assign(t->engine, action, p.guest, p.part, id, &o);
		break;
	case PLACE_GUEST_QUEUES:
		if (apqn_name_parse(name, &q) < 0)
			return refuse_name(t, action, NAME_QUEUE, name);
		r = engine_queue_add(t->engine, action, p.guest, q, &o);
		break;
	default:
		return refuse_fixed(t, action, &p);
	}
	r = finish_named(t, &o, r, parent, name);
	return r < 0 ? r : tree_lookup(t, parent, name, ret);
}

int tree_mkdir(struct tree *t, uint64_t parent, const char *name, struct tree_attr *ret)
{
	char action[ACTION_MAX];
	struct outcome o;
	struct place p;
	int r;

	r = place_of(t, parent, &p);
	if (r < 0)
		return r;
	action_of(action, "mkdir", &p, name);
	if (p.kind != PLACE_GUESTS)
		return refuse(t, action, EPERM,
			      "only guests/ takes new directories: mkdir guests/NAME");
	r = engine_guest_create(t->engine, action, name, NULL, &o);
	r = finish_named(t, &o, r, parent, name);
	return r < 0 ? r : tree_lookup(t, parent, name, ret);
}

int tree_unlink(struct tree *t, uint64_t parent, const char *name)
{
	char action[ACTION_MAX];
	enum guest_file file;
	struct outcome o;
	struct place p;
	struct apqn q;
	unsigned id;
	int r;

	r = place_of(t, parent, &p);
	if (r < 0)
		return r;
	action_of(action, "rm", &p, name);
	switch (p.kind) {
	case PLACE_GUEST_IDS:
		if (parse_part_name(p.part, name, &id) < 0)
			return -ENOENT;
		r = engine_unassign(t->engine, action, p.guest, p.part, id, &o);
		break;
	case PLACE_GUEST_QUEUES:
		if (apqn_name_parse(name, &q) < 0)
			return -ENOENT;
		r = engine_queue_remove(t->engine, action, p.guest, q, &o);
		break;
	case PLACE_RESERVATIONS:
		if (apqn_name_parse(name, &q) < 0)
			return -ENOENT;
		r = engine_release(t->engine, action, q, &o);
		break;
	case PLACE_GUEST:
		if (guest_file_from_name(name, &file) < 0)
			return -ENOENT;
		return nothing_to_do(t, action, "a guest's files go with the guest (rmdir it)");
	default:
		return refuse_fixed(t, action, &p);
	}
	return finish_named(t, &o, r, parent, name);
}

int tree_rmdir(struct tree *t, uint64_t parent, const char *name)
{
	enum guest_subdir sub;
	char action[ACTION_MAX];
	struct outcome o;
	struct place p;
	int r;

	r = place_of(t, parent, &p);
	if (r < 0)
		return r;
	action_of(action, "rmdir", &p, name);
	switch (p.kind) {
	case PLACE_GUESTS:
		r = engine_guest_remove(t->engine, action, name, &o);
		return finish_named(t, &o, r, parent, name);
	case PLACE_GUEST:
		if (guest_subdir_from_name(name, &sub) < 0)
			return -ENOENT;
		return nothing_to_do(t, action,
				     "a guest's directories go with the guest (rmdir it)");
	default:
		return refuse(t, action, EPERM, "this directory is made by zapfs");
	}
}

/* The guest a reservation symlink points at: "../guests/NAME" or "guests/NAME". */
static const char *reservation_target_guest(const char *target)
{
	static const char *const prefixes[] = { "../guests/", "guests/" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(target, prefixes[i], n) == 0 && target[n] && !strchr(target + n, '/'))
			return target + n;
	}
	return NULL;
}

int tree_symlink(struct tree *t, const char *target, uint64_t parent, const char *name,
		 struct tree_attr *ret)
{
	char action[ACTION_MAX], verb[ACTION_MAX];
	const char *guest;
	struct outcome o;
	struct place p;
	struct apqn q;
	int r;

	r = place_of(t, parent, &p);
	if (r < 0)
		return r;
	snprintf(verb, sizeof(verb), "ln -s ");
	append_clean(verb, sizeof(verb), target);
	action_of(action, verb, &p, name);
	if (p.kind != PLACE_RESERVATIONS)
		return refuse(t, action, EPERM,
			      "symlinks are reservations: ln -s ../guests/NAME reservations/QUEUE");
	if (apqn_name_parse(name, &q) < 0)
		return refuse_name(t, action, NAME_QUEUE, name);
	guest = reservation_target_guest(target);
	if (!guest)
		return refuse(t, action, EINVAL,
			      "a reservation points at a guest: ln -s ../guests/NAME "
			      "reservations/%s",
			      name);
	r = engine_reserve(t->engine, action, q, guest, &o);
	r = finish_named(t, &o, r, parent, name);
	return r < 0 ? r : tree_lookup(t, parent, name, ret);
}

int tree_link(struct tree *t, uint64_t id, uint64_t new_parent, const char *new_name,
	      struct tree_attr *ret)
{
	char action[ACTION_MAX], verb[ACTION_MAX], qname[APQN_NAME_SIZE];
	struct node n = node_decode(id);
	struct outcome o;
	struct place p;
	struct apqn q;
	int r;

	r = place_of(t, new_parent, &p);
	if (r < 0)
		return r;
	if (n.kind != KIND_APQN)
		return refuse(t, action_of(action, "ln", &p, new_name), EPERM,
			      "only a queue has more than one name");
	snprintf(verb, sizeof(verb), "ln %s", apqn_name_format(n.q, qname));
	action_of(action, verb, &p, new_name);
	if (p.kind != PLACE_POOL && p.kind != PLACE_GUEST_QUEUES)
		return refuse_fixed(t, action, &p);
	if (apqn_name_parse(new_name, &q) < 0)
		return refuse_name(t, action, NAME_QUEUE, new_name);
	if (apqn_index(q) != apqn_index(n.q))
		return refuse(t, action, EINVAL, "a queue keeps its name: use %s/%s", p.path,
			      qname);
	if (p.kind == PLACE_POOL)
		r = engine_pool_move(t->engine, action, q, p.pool, &o);
	else
		r = engine_queue_add(t->engine, action, p.guest, q, &o);
	r = finish_named(t, &o, r, new_parent, new_name);
	return r < 0 ? r : tree_getattr(t, id, ret);
}

int tree_rename(struct tree *t, uint64_t parent, const char *name, uint64_t new_parent,
		const char *new_name, bool exchange)
{
	char action[ACTION_MAX], from[ACTION_MAX];
	struct place src, dst;
	struct outcome o;
	struct apqn q;
	int r;

	r = place_of(t, parent, &src);
	if (r >= 0)
		r = place_of(t, new_parent, &dst);
	if (r < 0)
		return r;
	action_of(from, "mv", &src, name);
	action_of(action, from, &dst, new_name);
	if (exchange)
		return refuse(t, action, EINVAL, "names cannot be exchanged");
	if (src.kind == PLACE_GUESTS && dst.kind == PLACE_GUESTS) {
		r = engine_guest_rename(t->engine, action, name, new_name, &o);
		return finish(t, &o, r);
	}
	if (src.kind != PLACE_POOL || dst.kind != PLACE_POOL)
		return refuse(t, action, EINVAL,
			      "only guests/NAME can be renamed, and queues moved between "
			      "pools/host/ and pools/vfio/");
	if (apqn_name_parse(name, &q) < 0)
		return refuse(t, action, EPERM, "the host masks stay in pools/host/");
	if (strcmp(name, new_name) != 0 || src.pool == dst.pool)
		return refuse(t, action, EINVAL, "a queue keeps its name: use mv %s/%s %s/",
			      src.path, name, src.pool == POOL_HOST ? "pools/vfio" : "pools/host");
	r = engine_pool_move(t->engine, action, q, dst.pool, &o);
	return finish(t, &o, r);
}

int tree_refresh(struct tree *t, bool whole_host)
{
	struct outcome o;
	int r = whole_host ? engine_refresh(t->engine, &o) : engine_refresh_mdevs(t->engine, &o);

	/* the engine logs a rescan only when it failed or something changed */
	if (r < 0 || !model_diff_empty(&o.diff))
		announce(t, o.err, o.sentence);
	tree_invalidate_diff(t, &o.diff, NULL);
	outcome_done(&o);
	return r;
}
