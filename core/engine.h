/* SPDX-License-Identifier: MIT */
/*
 * The engine: the one place where intents meet the kernel. Changes run one
 * at a time, under the AP configuration lock. Each one re-reads the kernel
 * state the decision depends on (DESIGN §2 rule 8), checks the rules, plans,
 * and applies the kernel writes one by one (a write may wait: a remove waits
 * for its KVM guest), undoing the ones already made if a later write fails
 * (rule 7); all of that without the model lock, which it takes for writing
 * only to commit the new model. It then saves the model to the store under
 * the read lock, appends a line to the operation log and hands back an
 * outcome. Refreshes wait for a change under way, so nobody commits a
 * half-applied plan; they too read the kernel without the model lock.
 *
 * Readers (the FUSE front end) take a read-locked view with
 * engine_read_begin()/engine_read_end() and must not keep pointers into the
 * model after engine_read_end().
 *
 * `action` is the caller's words for what was asked ("touch
 * guests/g1/queues/05.0004"); it starts the outcome's sentence and the log line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/explain.h"
#include "core/idset.h"
#include "core/intent.h"
#include "core/model.h"
#include "core/oplog.h"
#include "core/port.h"

#define OUTCOME_SENTENCE_MAX 2048

/* A fresh UUID (lowercase 8-4-4-4-12) into ret; 0 or -errno. */
typedef int (*uuid_source_fn)(void *ctx, char ret[UUID_STR_LEN + 1]);

/*
 * Persistent store hooks (DESIGN §5), all optional. commit() runs under the
 * write lock after every change of zapfs's own state (guests, names,
 * reservations, masks): the store writes what diff names. A failing commit
 * is reported in the outcome's sentence; the kernel change stays.
 */
struct engine_store {
	int (*commit)(void *ctx, const struct model *m, const struct model_diff *diff);
	/*
	 * Optional journal. begin() gets, before the first kernel write of an
	 * operation, the n writes that revert all of it, in the order to run
	 * them; its failure refuses the operation. end() follows once the
	 * operation is committed or undone. After a crash in between, the next
	 * start hands the journal to engine_rollback().
	 */
	int (*begin)(void *ctx, const struct kop *undo, size_t n);
	void (*end)(void *ctx);
	void *ctx;
};

struct engine_config {
	struct kernel_port port;
	uuid_source_fn uuid_source;
	void *uuid_ctx;
	struct engine_store store; /* optional */
	size_t log_capacity;	   /* 0: a default of 256 entries */
	time_t (*clock)(void);	   /* optional; time() by default */
};

struct outcome {
	int err; /* 0 or the positive errno */
	char
	    sentence[OUTCOME_SENTENCE_MAX]; /* "ACTION: done: ..." / "ACTION: refused (E..): ..." */
	struct explain why;		    /* the refusal, when err is one */
	struct kop *kops;		    /* the kernel writes that stand (malloc'ed) */
	size_t n_kops;
	bool hotplug;		/* a running guest saw the change at once */
	char note[512];		/* hot plug, queues brought along by the cross product */
	struct model_diff diff; /* what to invalidate */
};

/* Releases what o holds (kops, diff). */
void outcome_done(struct outcome *o);

struct engine;

/*
 * A new engine over cfg's kernel port. Reads the kernel once (as
 * engine_refresh()); an unreadable kernel is an error.
 */
int engine_new(const struct engine_config *cfg, struct engine **ret);

/* Accepts NULL; returns NULL. */
struct engine *engine_free(struct engine *e);

/* Read-locks the model and returns it; pair with engine_read_end(). */
const struct model *engine_read_begin(struct engine *e);
void engine_read_end(struct engine *e);

/*
 * How many times the model has been replaced: the same number under the read
 * lock means the same model, so what was rendered from it still holds.
 */
uint64_t engine_generation(const struct engine *e);

/*
 * Runs one intent: the generic entry point behind all the ones below. Returns
 * 0 or -errno; *ret (may be NULL) is always filled; free it with
 * outcome_done().
 */
int engine_run(struct engine *e, const char *action, const struct intent *intent,
	       struct outcome *ret);

/* mkdir guests/NAME: uuid NULL means the name's own UUID if it is one, else a fresh one. */
int engine_guest_create(struct engine *e, const char *action, const char *name, const char *uuid,
			struct outcome *ret);
/* rmdir guests/NAME */
int engine_guest_remove(struct engine *e, const char *action, const char *name,
			struct outcome *ret);
/* mv guests/NAME guests/NEW_NAME */
int engine_guest_rename(struct engine *e, const char *action, const char *name,
			const char *new_name, struct outcome *ret);
/* touch guests/NAME/{adapters,domains,control_domains}/ID */
int engine_assign(struct engine *e, const char *action, const char *name, enum matrix_part part,
		  unsigned id, struct outcome *ret);
/* rm guests/NAME/{adapters,domains,control_domains}/ID */
int engine_unassign(struct engine *e, const char *action, const char *name, enum matrix_part part,
		    unsigned id, struct outcome *ret);
/* touch guests/NAME/queues/APQN */
int engine_queue_add(struct engine *e, const char *action, const char *name, struct apqn q,
		     struct outcome *ret);
/* rm guests/NAME/queues/APQN */
int engine_queue_remove(struct engine *e, const char *action, const char *name, struct apqn q,
			struct outcome *ret);
/* mv pools/{host,vfio}/APQN pools/TO/ */
int engine_pool_move(struct engine *e, const char *action, struct apqn q, enum apqn_pool to,
		     struct outcome *ret);
/* echo TEXT > pools/host/{adapters,domains} */
int engine_mask_edit(struct engine *e, const char *action, enum host_mask mask, const char *text,
		     struct outcome *ret);
/* ln -s ../guests/NAME reservations/APQN */
int engine_reserve(struct engine *e, const char *action, struct apqn q, const char *name,
		   struct outcome *ret);
/* rm reservations/APQN */
int engine_release(struct engine *e, const char *action, struct apqn q, struct outcome *ret);

/*
 * Re-reads the kernel: adopts mdevs zapfs did not create (named by their
 * UUID), marks guests whose mdev vanished as missing, updates matrices,
 * states and the host. ret->diff says what changed. Logs a line only when
 * something changed.
 */
int engine_refresh(struct engine *e, struct outcome *ret);

/*
 * engine_refresh() where only mdevs are known to have changed (their
 * uevents): masks and mdevs are read, and the cards and queues are read
 * again only if the masks moved. On a large host the whole read takes
 * milliseconds, this one microseconds.
 */
int engine_refresh_mdevs(struct engine *e, struct outcome *ret);

/*
 * Loads zapfs's saved state (guests with their names and UUIDs, reservations)
 * from saved, before or after the first refresh: saved guests are matched to
 * mdevs by UUID and keep their names; those without an mdev are missing.
 */
int engine_restore(struct engine *e, const struct model *saved, struct outcome *ret);

/* Receives the outcome of one step of engine_reconcile(). */
typedef void (*engine_outcome_fn)(void *ctx, const struct outcome *o);

/*
 * Brings missing guest NAME back: creates its mdev with its UUID, then sets
 * its matrix (one ap_config write where the kernel has it, else the
 * assignments), all or nothing: a failed write removes the mdev again. Each
 * assignment is checked as `touch` would check it, so a refusal names the
 * rule. A guest that is not missing is left alone (nothing to change).
 */
int engine_guest_recreate(struct engine *e, const char *action, const char *name,
			  struct outcome *ret);

/*
 * Start-up, after engine_restore(): brings the kernel to the saved state.
 * First the host masks to apmask and aqmask (NULL: leave that mask), each
 * an absolute mask edit under the usual rules, then engine_guest_recreate()
 * for every missing guest. Every step is logged and handed to report (may
 * be NULL). Returns the number of guests left missing (each with a log
 * line that says why), or -errno.
 */
int engine_reconcile(struct engine *e, const struct idset *apmask, const struct idset *aqmask,
		     engine_outcome_fn report, void *ctx);

/*
 * Start-up, before engine_restore(): replays the n writes of a journal left
 * by a crash (engine_store.begin), so that the operation cut short is
 * undone; writes the kernel refuses (those that revert what was never done)
 * are passed over. Then re-reads the kernel and logs one line.
 */
int engine_rollback(struct engine *e, const struct kop *undo, size_t n, struct outcome *ret);

/*
 * Appends a line to the operation log (err: 0 or a positive errno), for
 * news from outside the engine the administrator must see in `log`, such
 * as a state file set aside.
 */
void engine_log_append(struct engine *e, int err, const char *line);

/* The operation log as text (see oplog_render()), under the read lock. */
size_t engine_log_render(struct engine *e, char *buf, size_t size);
