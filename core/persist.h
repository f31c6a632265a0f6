/* SPDX-License-Identifier: MIT */
/*
 * zapfs's own state kept in the state directory (DESIGN §5): the model's
 * guests, reservations and host masks, converted to and from core/state's
 * files.
 *
 * At start, persist_open() loads the directory into a saved model (guests
 * missing until the engine matches them to mdevs, reservations) that
 * engine_restore() takes, and the saved masks that engine_reconcile() takes.
 * Until persist_sync() runs once, commits write nothing, so a start that
 * reads a freshly booted kernel never overwrites what was saved before the
 * saved state is restored. From then on every commit writes the files that
 * differ from what the directory holds: changed guest files first, then the
 * reservations, then the removal of guests that are gone, then the masks,
 * so that a crash between two writes leaves a state that
 * persist_open() can put together again.
 *
 * A mirror (optional) gets every kept guest's mdevctl definition, by UUID,
 * when it changes, and a removal when the UUID is no longer a guest's.
 *
 * The journal file "pending" holds, while an operation's kernel writes run,
 * the writes that revert it (core/journal), so that the next start can undo
 * an operation a crash cut short.
 *
 * Not thread-safe: the engine calls the commit hook under its write lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h"
#include "core/model.h"
#include "core/state.h"

/* Receives one plain-words message about the state directory ("state: ..."). */
typedef void (*persist_report_fn)(void *ctx, int err, const char *message);

/* Where guests' mdevctl definitions go (kmod/mdevctl implements it). */
struct persist_mirror {
	/* Writes the definition text (len bytes) of the mdev uuid. 0 or -errno. */
	int (*save)(void *ctx, const char *uuid, const char *text, size_t len);
	/* Removes the definition of uuid; a missing one is not an error. 0 or -errno. */
	int (*remove)(void *ctx, const char *uuid);
	void *ctx;
};

struct persist;

/*
 * Opens (creating it if need be) and loads the state directory dir. Files
 * that could not be loaded are set aside by core/state and each is reported
 * through report (may be NULL), as is a guest file dropped because another
 * guest has its UUID. -EBUSY when another zapfs holds the directory, or
 * -errno when it cannot be opened or read.
 */
int persist_open(const char *dir, persist_report_fn report, void *ctx, struct persist **ret);

/* Closes the state directory. Accepts NULL; returns NULL. */
struct persist *persist_free(struct persist *p);

/*
 * What was saved, as a model for engine_restore(): the saved guests (state
 * missing, not adopted) and reservations, and every queue of a saved
 * guest's matrix reserved for it.
 */
const struct model *persist_saved(const struct persist *p);

/* The saved host masks; false when the directory held none. */
bool persist_saved_masks(const struct persist *p, struct idset *ret_apmask,
			 struct idset *ret_aqmask);

/*
 * Adds a guest defined elsewhere (an mdevctl definition) to the saved model,
 * missing, unless a saved guest already has its UUID (returns 0 then) or
 * its name (-EEXIST). Returns 1 when added. With a mirror (set it first),
 * the guest's definition counts as already written, so importing rewrites
 * nothing.
 */
int persist_import(struct persist *p, const struct guest *g);

/* Sets the mirror that every later sync keeps in step (NULL: none). */
void persist_set_mirror(struct persist *p, const struct persist_mirror *mirror);

/* Sets the write hook of the underlying store, for crash tests (see core/state.h). */
void persist_set_write_hook(struct persist *p, state_write_hook_fn hook, void *userdata);

/*
 * Writes every file that differs from m's state (and keeps the mirror in
 * step), and arms the commit hook. Returns 0, or the first -errno of a write
 * (the other files are still written; the failed ones are retried at the
 * next sync).
 */
int persist_sync(struct persist *p, const struct model *m);

/*
 * The journal (engine_store.begin) a crash left in the directory: the
 * writes engine_rollback() should replay, without those that re-create an
 * mdev (the reconciliation re-creates the saved guests). Returns whether
 * there was one; *ret_ops stays p's.
 */
bool persist_pending(const struct persist *p, const struct kop **ret_ops, size_t *ret_n);

/* Forgets and removes the journal, once replayed. */
int persist_pending_done(struct persist *p);

/*
 * The engine's store hooks over p: a commit is persist_sync() once p is
 * armed; begin and end keep the journal file "pending".
 */
struct engine_store persist_engine_store(struct persist *p);

/* Whether zapfs keeps g in the state directory: all but adopted mdevs still named by UUID. */
bool persist_keeps_guest(const struct guest *g);
