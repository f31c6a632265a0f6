/* SPDX-License-Identifier: MIT */
#include "fs/persistence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/persist.h"
#include "kmod/mdevctl.h"

/* Messages from before the engine exists, for its log. */
#define EARLY_MAX 32

struct persistence {
	struct persist *persist;
	char *mdevctl_dir;
	char *early[EARLY_MAX];
	int early_err[EARLY_MAX];
	size_t n_early;
};

static void note(struct persistence *p, int err, const char *message)
{
	fprintf(stderr, "zapfs: %s\n", message);
	if (p->n_early < EARLY_MAX) {
		p->early[p->n_early] = strdup(message);
		p->early_err[p->n_early] = err < 0 ? -err : err;
		if (p->early[p->n_early])
			p->n_early++;
	}
}

static void on_persist_report(void *ctx, int err, const char *message)
{
	note(ctx, err, message);
}

static void on_mdevctl_problem(void *ctx, const char *file, const char *message)
{
	struct persistence *p = ctx;
	char line[1024];

	snprintf(line, sizeof(line), "mdevctl: %s/%s: %s; not imported", p->mdevctl_dir, file,
		 message);
	note(p, EINVAL, line);
}

static int mirror_save(void *ctx, const char *uuid, const char *text, size_t len)
{
	const struct persistence *p = ctx;

	return mdevctl_save(p->mdevctl_dir, uuid, text, len);
}

static int mirror_remove(void *ctx, const char *uuid)
{
	const struct persistence *p = ctx;

	return mdevctl_remove(p->mdevctl_dir, uuid);
}

/* Each vfio_ap definition mdevctl has becomes a saved guest named by its UUID. */
static int import_mdevctl(struct persistence *p)
{
	_cleanup_free_ struct mdevctl_def *defs = NULL;
	size_t n = 0;
	int r;

	r = mdevctl_load(p->mdevctl_dir, on_mdevctl_problem, p, &defs, &n);
	if (r < 0) {
		fprintf(stderr, "zapfs: %s/matrix: %s\n", p->mdevctl_dir, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct guest g = { .adapters = defs[i].adapters,
				   .domains = defs[i].domains,
				   .control_domains = defs[i].control_domains };
		char line[256];

		snprintf(g.name, sizeof(g.name), "%s", defs[i].uuid);
		snprintf(g.uuid, sizeof(g.uuid), "%s", defs[i].uuid);
		r = persist_import(p->persist, &g);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(line, sizeof(line),
				 "mdevctl: %s: a guest of that name exists; not imported",
				 defs[i].uuid);
			note(p, -r, line);
		} else if (r > 0) {
			snprintf(line, sizeof(line), "mdevctl: defined mdev %s is guest %s",
				 defs[i].uuid, g.name);
			note(p, 0, line);
		}
	}
	return 0;
}

int persistence_open(const char *state_dir, const char *mdevctl_dir, struct persistence **ret)
{
	_cleanup_free_ struct persistence *p = NULL;
	int r;

	*ret = NULL;
	if (!state_dir)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = persist_open(state_dir, on_persist_report, p, &p->persist);
	if (r < 0) {
		fprintf(stderr, "zapfs: state directory %s: %s\n", state_dir,
			r == -EBUSY ? "another zapfs uses it" : strerror(-r));
		persistence_free(TAKE_PTR(p));
		return r;
	}
	if (mdevctl_dir) {
		const struct persist_mirror mirror = { mirror_save, mirror_remove, p };

		p->mdevctl_dir = strdup(mdevctl_dir);
		if (!p->mdevctl_dir) {
			persistence_free(TAKE_PTR(p));
			return -ENOMEM;
		}
		persist_set_mirror(p->persist, &mirror);
		r = import_mdevctl(p);
		if (r < 0) {
			persistence_free(TAKE_PTR(p));
			return r;
		}
	}
	*ret = TAKE_PTR(p);
	return 0;
}

struct engine_store persistence_engine_store(struct persistence *p)
{
	return p ? persist_engine_store(p->persist) : (struct engine_store){ 0 };
}

static void print_outcome(void *ctx, const struct outcome *o)
{
	fprintf(stderr, "zapfs: %s\n", o->sentence);
}

int persistence_start(struct persistence *p, struct engine *e)
{
	struct idset apmask, aqmask;
	const struct kop *pending;
	size_t n_pending;
	struct outcome o;
	bool masks;
	int r;

	if (!p)
		return 0;
	for (size_t i = 0; i < p->n_early; i++)
		engine_log_append(e, p->early_err[i], p->early[i]);
	/* an operation a crash cut short is undone first */
	if (persist_pending(p->persist, &pending, &n_pending)) {
		r = engine_rollback(e, pending, n_pending, &o);
		fprintf(stderr, "zapfs: %s\n", o.sentence);
		outcome_done(&o);
		if (r < 0)
			return r;
		r = persist_pending_done(p->persist);
		if (r < 0)
			fprintf(stderr, "zapfs: the journal could not be removed: %s\n",
				strerror(-r));
	}
	r = engine_restore(e, persist_saved(p->persist), &o);
	if (r < 0)
		fprintf(stderr, "zapfs: %s\n", o.sentence);
	outcome_done(&o);
	if (r < 0)
		return r;
	masks = persist_saved_masks(p->persist, &apmask, &aqmask);
	r = engine_reconcile(e, masks ? &apmask : NULL, masks ? &aqmask : NULL, print_outcome,
			     NULL);
	if (r < 0)
		return r;
	if (r > 0)
		fprintf(stderr, "zapfs: %d saved guest%s could not be re-created: see log\n", r,
			r == 1 ? "" : "s");
	/* from here on every commit writes; first, the state as it now is */
	r = persist_sync(p->persist, engine_read_begin(e));
	engine_read_end(e);
	if (r < 0) {
		char line[128];

		snprintf(line, sizeof(line), "the state could not be saved (%s)", strerror(-r));
		fprintf(stderr, "zapfs: %s\n", line);
		engine_log_append(e, -r, line);
	}
	return 0;
}

struct persistence *persistence_free(struct persistence *p)
{
	if (!p)
		return NULL;
	persist_free(p->persist);
	free(p->mdevctl_dir);
	for (size_t i = 0; i < p->n_early; i++)
		free(p->early[i]);
	free(p);
	return NULL;
}
