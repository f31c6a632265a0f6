/* SPDX-License-Identifier: MIT */
#include "core/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/plan.h"
#include "core/rules.h"

#define DEFAULT_LOG_CAPACITY 256

struct engine {
	/*
	 * One change at a time, and no refresh while one is under way. Only
	 * their holder replaces the model, so under change_lock it reads the
	 * model and the kernel, decides and writes the kernel (a remove may wait
	 * for its guest) with no model lock, and takes the write lock only to
	 * commit. Lock order: change_lock, the AP configuration lock, lock.
	 */
	pthread_mutex_t change_lock;
	pthread_rwlock_t lock;
	struct kernel_port port;
	uuid_source_fn uuid_source;
	void *uuid_ctx;
	struct engine_store store;
	time_t (*clock)(void);
	struct model *model;
	uint64_t generation; /* of model, see engine_generation() */
	bool unsaved;	     /* model differs from what the store last heard (change_lock) */
	struct oplog *log;
};

static void model_freep(struct model **m)
{
	model_free(*m);
}
#define _cleanup_model_ _cleanup_(model_freep)

void outcome_done(struct outcome *o)
{
	if (!o)
		return;
	free(o->kops);
	model_diff_done(&o->diff);
	o->kops = NULL;
	o->n_kops = 0;
}

/* Appends printf text to the outcome's sentence. */
__attribute__((format(printf, 2, 3))) static void sentence_add(struct outcome *o, const char *fmt,
							       ...)
{
	size_t len = strlen(o->sentence);
	va_list ap;

	if (len + 1 >= sizeof(o->sentence))
		return;
	va_start(ap, fmt);
	vsnprintf(o->sentence + len, sizeof(o->sentence) - len, fmt, ap);
	va_end(ap);
}

static time_t engine_now(const struct engine *e)
{
	return e->clock ? e->clock() : time(NULL);
}

/* ---- reading the kernel ---- */

static enum guest_state mdev_state(const struct mdev_info *mdev)
{
	return mdev->running ? GUEST_RUNNING : GUEST_ACTIVE;
}

static void guest_set_mdev(struct guest *g, const struct mdev_info *mdev)
{
	g->adapters = mdev->adapters;
	g->domains = mdev->domains;
	g->control_domains = mdev->control_domains;
	g->guest_adapters = mdev->guest_adapters;
	g->guest_domains = mdev->guest_domains;
	g->state = mdev_state(mdev);
}

/* An mdev zapfs did not create becomes a guest named by its UUID, holding its queues' keys. */
static int adopt_mdev(struct model *m, const struct mdev_info *mdev)
{
	struct guest g = { .adopted = true };
	struct apqn_set held;
	struct apqn q;
	int err;

	snprintf(g.name, sizeof(g.name), "%s", mdev->uuid);
	snprintf(g.uuid, sizeof(g.uuid), "%s", mdev->uuid);
	guest_set_mdev(&g, mdev);
	err = model_guest_add(m, &g);
	if (err < 0)
		return err;
	guest_matrix_apqns(&g, &held);
	APQN_SET_FOREACH (q, &held) {
		if (model_reservation(m, q))
			continue;
		err = model_reserve(m, q, g.name);
		if (err < 0)
			return err;
	}
	return 0;
}

static int mdev_uuid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mdev_info *) a)->uuid, ((const struct mdev_info *) b)->uuid);
}

/*
 * A new model: base's own knowledge (names, origins, reservations) over what
 * the kernel shows now. Guests whose mdev is gone are missing, except adopted
 * ones still named by their UUID: zapfs knew nothing more about those.
 * quick: the decisions of an intent need the masks and the mdevs, not every
 * queue's flags again (the port's read_kernel_quick); refreshes read all.
 */
static int read_kernel(struct engine *e, const struct model *base, bool quick, struct model **ret)
{
	_cleanup_model_ struct model *m = NULL;
	_cleanup_free_ struct mdev_info *mdevs = NULL;
	_cleanup_free_ char(*gone)[GUEST_NAME_MAX + 1] = NULL;
	size_t n_mdevs = 0, n_gone = 0;
	struct host *host;
	int err;

	/* the port fills the new model's host in place: a large one is 50 KiB */
	err = model_clone(base, &m);
	if (err < 0)
		return err;
	host = model_host_edit(m);
	if (quick && e->port.ops->read_kernel_quick) {
		err = e->port.ops->read_kernel_quick(e->port.ctx, model_host(base), host, &mdevs,
						     &n_mdevs);
	} else {
		err = e->port.ops->read_host(e->port.ctx, host);
		if (err >= 0)
			err = e->port.ops->read_mdevs(e->port.ctx, &mdevs, &n_mdevs);
	}
	if (err < 0)
		return err;

	for (size_t i = 0; i < n_mdevs; i++) {
		const struct guest *known = model_guest_by_uuid(m, mdevs[i].uuid);

		if (known) {
			struct guest g = *known;

			guest_set_mdev(&g, &mdevs[i]);
			err = model_guest_update(m, &g);
		} else {
			err = adopt_mdev(m, &mdevs[i]);
		}
		if (err < 0)
			return err;
	}

	gone = calloc(model_guest_count(m) + 1, sizeof(*gone));
	if (!gone)
		return -ENOMEM;
	GUEST_FOREACH (g, m) {
		struct mdev_info key;

		snprintf(key.uuid, sizeof(key.uuid), "%s", g->uuid);
		/* the port hands the mdevs sorted by UUID */
		if (!bsearch(&key, mdevs, n_mdevs, sizeof(*mdevs), mdev_uuid_cmp))
			snprintf(gone[n_gone++], sizeof(gone[0]), "%s", g->name);
	}
	for (size_t i = 0; i < n_gone; i++) {
		struct guest g = *model_guest_by_name(m, gone[i]);

		if (g.adopted && strcmp(g.name, g.uuid) == 0) {
			err = model_guest_remove(m, g.name);
		} else {
			/* a guest already missing keeps the reason it has */
			if (g.state != GUEST_MISSING)
				snprintf(
				    g.missing_reason, sizeof(g.missing_reason),
				    "its mdev %s is gone (removed outside zapfs or by a restart)",
				    g.uuid);
			g.state = GUEST_MISSING;
			g.guest_adapters = g.guest_domains = IDSET_EMPTY;
			err = model_guest_update(m, &g);
		}
		if (err < 0)
			return err;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/*
 * What the kernel holds of a and b is the same: masks and every present
 * mdev's assigned matrix. guest_matrix is left out: on 6.0+ kernels every
 * assign re-filters it, and no write can make it stale again, so an undone
 * assign may leave a fresher guest_matrix than before.
 */
static bool kernel_state_equal(const struct model *a, const struct model *b)
{
	const struct host *ha = model_host(a), *hb = model_host(b);
	size_t present_a = 0, present_b = 0;

	if (!idset_equal(&ha->apmask, &hb->apmask) || !idset_equal(&ha->aqmask, &hb->aqmask))
		return false;
	GUEST_FOREACH (g, a) {
		const struct guest *o = model_guest_by_uuid(b, g->uuid);

		if (g->state == GUEST_MISSING)
			continue;
		present_a++;
		if (!o || o->state == GUEST_MISSING || !idset_equal(&g->adapters, &o->adapters) ||
		    !idset_equal(&g->domains, &o->domains) ||
		    !idset_equal(&g->control_domains, &o->control_domains))
			return false;
	}
	GUEST_FOREACH (g, b) {
		if (g->state != GUEST_MISSING)
			present_b++;
	}
	return present_a == present_b;
}

/* ---- committing ---- */

/*
 * Makes next the live model and records the difference in o; the caller
 * holds the write lock. save_model() then hands it to the store.
 */
static int commit_model(struct engine *e, struct model *next, struct outcome *o)
{
	struct model_diff diff = { 0 };
	int err;

	err = model_diff(e->model, next, &diff);
	if (err < 0) {
		model_free(next);
		return err;
	}
	model_free(e->model);
	e->model = next;
	if (!model_diff_empty(&diff)) {
		e->generation++;
		e->unsaved = true;
	}
	model_diff_done(&o->diff);
	o->diff = diff;
	return 0;
}

/*
 * Store call point: persists guests, names, reservations and masks (DESIGN
 * §5). Called with the change lock, which keeps the model as committed, and
 * under the read lock only, so that no reader waits for the state
 * directory's fsyncs; before the change's journal is cleared.
 */
static void save_model(struct engine *e, struct outcome *o)
{
	int err;

	if (!e->unsaved || !e->store.commit)
		return;
	{
		_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_rdlock(&e->lock);

		err = e->store.commit(e->store.ctx, e->model, &o->diff);
	}
	e->unsaved = false;
	if (err < 0)
		sentence_add(o, "; the state could not be saved (%s)", errno_name(err));
}

/* zapfs's own part of an allowed intent: names, guests it defined, reservations. */
static int apply_own_state(struct model *m, const struct intent *intent, const struct verdict *v)
{
	struct apqn q;
	int err = 0;

	switch (intent->type) {
	case INTENT_GUEST_CREATE:
		return model_guest_add(m, &v->target);
	case INTENT_GUEST_REMOVE:
		return model_guest_remove(m, intent->guest);
	case INTENT_GUEST_RENAME:
		return model_guest_rename(m, intent->guest, intent->new_name);
	case INTENT_ASSIGN:
	case INTENT_QUEUE_ADD:
		/* assigning records whose keys the domains will hold */
		APQN_SET_FOREACH (q, &v->gained) {
			if (!model_reservation(m, q))
				err = model_reserve(m, q, v->target.name);
			if (err < 0)
				return err;
		}
		return 0;
	case INTENT_RESERVE:
		return model_reserve(m, intent->apqn, v->target.name);
	case INTENT_RELEASE:
		return model_release(m, intent->apqn);
	case INTENT_UNASSIGN:
	case INTENT_QUEUE_REMOVE:
	case INTENT_POOL_MOVE:
	case INTENT_MASK_EDIT:
		break;
	}
	return 0;
}

/* ---- running a plan ---- */

static void describe_kops(struct outcome *o, const struct kop *kops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char text[512];

		kop_describe(&kops[i], text, sizeof(text));
		sentence_add(o, "%s%s", i ? "; " : "", text);
	}
}

/* Reverts steps [0, done) in reverse order; 0, or the first error of an undo write. */
static int undo_steps(struct engine *e, const struct plan *p, size_t done)
{
	int first_err = 0;

	while (done-- > 0) {
		const struct plan_step *s = &p->steps[done];

		for (size_t i = 0; i < s->n_undo; i++) {
			int err = e->port.ops->apply(e->port.ctx, &s->undo[i]);

			if (err < 0 && !first_err)
				first_err = err;
		}
	}
	return first_err;
}

/*
 * The guest whose matrix write op the kernel refused with err because a KVM
 * guest uses it (rule 5), when that is the only reason: before 6.0, vfio_ap
 * refuses every change to an mdev in use with EBUSY, and sysfs may not show
 * that the guest runs (no queue status), so the rules could not tell first.
 */
static const struct guest *running_guest_refused(const struct model *m, const struct kop *op,
						 int err)
{
	if (err != -EBUSY || model_host(m)->caps.dynamic || !kop_is_id_write(op->type))
		return NULL;
	return model_guest_by_uuid(m, op->uuid);
}

/*
 * Applies p. On a failed write, undoes what was done, re-reads the kernel onto
 * before into *ret_after (NULL if that read fails), checks that the undo
 * restored the state, and returns the failing write's -errno.
 */
static int apply_plan(struct engine *e, const struct plan *p, const struct model *before,
		      struct model **ret_after, struct outcome *o)
{
	_cleanup_model_ struct model *after = NULL;
	const struct guest *running;
	size_t done = 0;
	int err = 0, undo_err, read_err;
	char failed[512], busy[GUEST_NAME_MAX + 128] = "";
	enum rule rule;

	if (p->n_steps == 0)
		return 0;
	for (; done < p->n_steps; done++) {
		err = e->port.ops->apply(e->port.ctx, &p->steps[done].op);
		if (err < 0)
			break;
	}
	if (err >= 0)
		return 0;

	kop_describe(&p->steps[done].op, failed, sizeof(failed));
	undo_err = undo_steps(e, p, done);

	read_err = read_kernel(e, before, true, &after);
	running = running_guest_refused(before, &p->steps[done].op, err);
	rule = running ? RULE_RUNNING : RULE_ALL_OR_NOTHING;
	if (running)
		snprintf(busy, sizeof(busy),
			 ": guest %s is in use by a KVM guest, and this kernel (before 6.0) cannot "
			 "change a running guest's matrix",
			 running->name);
	if (done == 0)
		explain_set(&o->why, rule, -err, "the kernel refused %s%s", failed, busy);
	else if (undo_err >= 0 && read_err >= 0 && kernel_state_equal(before, after))
		explain_set(&o->why, rule, -err,
			    "the kernel refused %s%s, so the %zu write%s before it %s undone",
			    failed, busy, done, done == 1 ? "" : "s", done == 1 ? "was" : "were");
	else
		explain_set(&o->why, rule, -err,
			    "the kernel refused %s%s, and undoing the %zu write%s before it failed "
			    "(%s): the kernel state may differ from what was asked or what was",
			    failed, busy, done, done == 1 ? "" : "s",
			    errno_name(undo_err < 0   ? undo_err
				       : read_err < 0 ? read_err
						      : EIO));
	if (running)
		explain_way_out(&o->why, "stop the KVM guest first");
	*ret_after = TAKE_PTR(after);
	return err;
}

/* ---- the entry points ---- */

static void outcome_refused(struct outcome *o, const char *action, const struct explain *why)
{
	o->err = why->err;
	o->why = *why;
	explain_render(why, action, o->sentence, sizeof(o->sentence));
}

/*
 * Hands the store the writes that revert all of p before the first of them
 * runs, so that a crash half-way can be rolled back at the next start.
 * Returns 1 when a journal was begun, 0 when none is needed, or -errno with
 * o->why set.
 */
static int journal_begin(struct engine *e, const struct plan *p, struct outcome *o)
{
	_cleanup_free_ struct kop *undo = NULL;
	size_t n = 0, total = 0;
	int err;

	if (!e->store.begin || p->n_steps == 0)
		return 0;
	for (size_t i = 0; i < p->n_steps; i++)
		total += p->steps[i].n_undo;
	undo = calloc(total + 1, sizeof(*undo));
	if (!undo)
		return -ENOMEM;
	for (size_t i = p->n_steps; i-- > 0;)
		for (size_t k = 0; k < p->steps[i].n_undo; k++)
			undo[n++] = p->steps[i].undo[k];
	err = e->store.begin(e->store.ctx, undo, n);
	if (err < 0)
		return explain_set(&o->why, RULE_NONE, -err,
				   "the state directory could not record the operation");
	return 1;
}

/* What a change decided under the model lock, to carry out without it. */
struct decision {
	struct intent own;   /* whose own part (names, reservations) commits with the writes */
	struct model *fresh; /* the kernel state the decision rests on */
	struct verdict *v;
	struct plan plan;
};

static void decision_done(struct decision *d)
{
	model_free(d->fresh);
	free(d->v);
	plan_done(&d->plan);
	*d = (struct decision){ 0 };
}

static int commit_locked(struct engine *e, struct model *next, struct outcome *o)
{
	_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);

	return commit_model(e, next, o);
}

/*
 * Runs the plan of decision d (emptied) on its fresh model (taken), then
 * commits the kernel's new state with zapfs's own part of the intent.
 * Called without the model lock.
 */
static int apply_and_commit(struct engine *e, const char *action, struct decision *d,
			    struct outcome *o)
{
	_cleanup_model_ struct model *before = TAKE_PTR(d->fresh);
	const struct verdict *v = d->v;
	struct plan *p = &d->plan;
	_cleanup_model_ struct model *own = NULL;
	_cleanup_model_ struct model *after = NULL;
	int err;

	err = apply_plan(e, p, before, &after, o);
	if (err >= 0 && p->n_steps) {
		o->kops = calloc(p->n_steps, sizeof(*o->kops));
		for (size_t i = 0; o->kops && i < p->n_steps; i++)
			o->kops[o->n_kops++] = p->steps[i].op;
	}
	plan_done(p);
	if (err < 0) {
		outcome_refused(o, action, &o->why);
		if (after)
			commit_locked(e, TAKE_PTR(after), o);
		return err;
	}

	o->hotplug = v->hotplug;
	snprintf(o->note, sizeof(o->note), "%s", v->note);
	snprintf(o->sentence, sizeof(o->sentence), "%s%sdone", action ? action : "",
		 action && *action ? ": " : "");
	if (v->noop)
		sentence_add(o, " (nothing to change)");
	else if (o->n_kops)
		sentence_add(o, ": ");
	describe_kops(o, o->kops, o->n_kops);
	if (o->note[0])
		sentence_add(o, "; %s", o->note);

	err = model_clone(before, &own);
	if (err >= 0)
		err = apply_own_state(own, &d->own, v);
	if (err >= 0)
		err = read_kernel(e, own, true, &after);
	if (err < 0) {
		/* the kernel did it; the model catches up at the next refresh */
		sentence_add(o, "; the model could not be updated (%s)", errno_name(err));
		commit_locked(e, TAKE_PTR(before), o);
		return 0;
	}
	commit_locked(e, TAKE_PTR(after), o);
	return 0;
}

/* apply_and_commit() inside a journal: the operation ends done or undone, even across a crash. */
static int apply_verdict(struct engine *e, const char *action, struct decision *d,
			 struct outcome *o)
{
	int journal = journal_begin(e, &d->plan, o);
	int err;

	if (journal < 0) {
		if (o->why.err)
			outcome_refused(o, action, &o->why);
		return journal;
	}
	err = apply_and_commit(e, action, d, o);
	save_model(e, o);
	if (journal > 0 && e->store.end)
		e->store.end(e->store.ctx);
	return err;
}

/* Rule 8: the kernel state a decision is taken on, read now; a refusal if it cannot be. */
static int read_fresh(struct engine *e, const char *action, struct outcome *o, struct model **ret)
{
	int err = read_kernel(e, e->model, true, ret);

	if (err < 0) {
		explain_set(&o->why, RULE_FRESH_STATE, -err, "the kernel state could not be read");
		outcome_refused(o, action, &o->why);
	}
	return err;
}

/* Rules and plan for intent on the kernel as it is now; a refusal is committed and explained. */
static int decide_change(struct engine *e, const char *action, const struct intent *intent,
			 const char *uuid_fresh, struct outcome *o, struct decision *d)
{
	int err;

	err = read_fresh(e, action, o, &d->fresh);
	if (err < 0)
		return err;
	d->v = calloc(1, sizeof(*d->v));
	if (!d->v)
		return -ENOMEM;
	err = rules_check(d->fresh, intent, uuid_fresh, d->v);
	if (err < 0) {
		outcome_refused(o, action, &d->v->why);
		commit_locked(e, TAKE_PTR(d->fresh), o);
		return err;
	}
	d->own = *intent;
	return plan_build(d->fresh, intent, d->v, &d->plan);
}

/* Decides a change (with the change lock): fills d, or refuses (o says why). */
typedef int (*decide_fn)(struct engine *e, const char *action, const struct intent *intent,
			 const char *uuid_fresh, struct outcome *o, struct decision *d);

/*
 * Takes the AP configuration lock (s390-tools' s390apconfig.lock) for one
 * change. It is taken before the model lock, so that waiting for another
 * tool (chzdev, mdevctl's callout) holds up other changes only, never a
 * reader of the tree. 0, or -errno with o->why set.
 */
static int config_lock_take(struct engine *e, struct outcome *o)
{
	char holder[EXPLAIN_TEXT_MAX / 2] = "";
	int err;

	if (!e->port.ops->config_lock)
		return 0;
	err = e->port.ops->config_lock(e->port.ctx);
	if (err >= 0)
		return 0;
	/* another tool's configuration change is under way */
	if (err == -EAGAIN || err == -ETIMEDOUT)
		err = -EBUSY;
	if (e->port.ops->config_lock_holder)
		e->port.ops->config_lock_holder(e->port.ctx, holder, sizeof(holder));
	explain_set(&o->why, RULE_NONE, -err, "the AP configuration lock could not be taken%s%s",
		    *holder ? ": " : "", holder);
	if (err == -EBUSY)
		explain_way_out(&o->why, "try again once that process is done");
	return err;
}

static void config_lock_drop(struct engine *e)
{
	if (e->port.ops->config_unlock)
		e->port.ops->config_unlock(e->port.ctx);
}

/* One change: decided, written and committed (see change_lock), and its outcome logged. */
static int run_logged(struct engine *e, const char *action, const struct intent *intent,
		      const char *uuid_fresh, decide_fn decide, struct outcome *o)
{
	_cleanup_mutex_ pthread_mutex_t *c = mutex_lock(&e->change_lock);
	struct decision d = { 0 };
	int err = config_lock_take(e, o);

	if (err < 0) {
		outcome_refused(o, action, &o->why);
	} else {
		err = decide(e, action, intent, uuid_fresh, o, &d);
		if (err >= 0)
			err = apply_verdict(e, action, &d, o);
		else
			save_model(e, o); /* a refusal commits the kernel state it read */
		decision_done(&d);
		config_lock_drop(e);
	}
	if (err < 0 && !o->err) {
		o->err = -err;
		snprintf(o->sentence, sizeof(o->sentence), "%s%sfailed (%s)", action ? action : "",
			 action && *action ? ": " : "", errno_name(err));
	}
	{
		_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);

		oplog_append(e->log, engine_now(e), o->err, o->sentence);
	}
	return err;
}

/* The outcome to fill: ret, or a scratch one (freed by the caller) when ret is NULL. */
static struct outcome *outcome_begin(struct outcome *ret, struct outcome **scratch)
{
	struct outcome *o = ret;

	if (!o) {
		o = *scratch = calloc(1, sizeof(**scratch));
		if (!o)
			return NULL;
	}
	*o = (struct outcome){ 0 };
	explain_clear(&o->why);
	return o;
}

int engine_run(struct engine *e, const char *action, const struct intent *intent,
	       struct outcome *ret)
{
	_cleanup_free_ struct outcome *scratch = NULL;
	struct outcome *o = outcome_begin(ret, &scratch);
	char uuid[UUID_STR_LEN + 1] = "";
	int err;

	if (!o)
		return -ENOMEM;
	if (intent->type == INTENT_GUEST_CREATE && !intent->uuid && e->uuid_source &&
	    !uuid_valid(intent->guest)) {
		err = e->uuid_source(e->uuid_ctx, uuid);
		if (err < 0) {
			explain_set(&o->why, RULE_NONE, -err, "no UUID could be made");
			outcome_refused(o, action, &o->why);
			return err;
		}
	}
	err = run_logged(e, action, intent, uuid[0] ? uuid : NULL, decide_change, o);
	if (scratch)
		outcome_done(scratch);
	return err;
}

int engine_guest_create(struct engine *e, const char *action, const char *name, const char *uuid,
			struct outcome *ret)
{
	struct intent in = { .type = INTENT_GUEST_CREATE, .guest = name, .uuid = uuid };

	return engine_run(e, action, &in, ret);
}

int engine_guest_remove(struct engine *e, const char *action, const char *name, struct outcome *ret)
{
	struct intent in = { .type = INTENT_GUEST_REMOVE, .guest = name };

	return engine_run(e, action, &in, ret);
}

int engine_guest_rename(struct engine *e, const char *action, const char *name,
			const char *new_name, struct outcome *ret)
{
	struct intent in = { .type = INTENT_GUEST_RENAME, .guest = name, .new_name = new_name };

	return engine_run(e, action, &in, ret);
}

int engine_assign(struct engine *e, const char *action, const char *name, enum matrix_part part,
		  unsigned id, struct outcome *ret)
{
	struct intent in = { .type = INTENT_ASSIGN, .guest = name, .part = part, .id = id };

	return engine_run(e, action, &in, ret);
}

int engine_unassign(struct engine *e, const char *action, const char *name, enum matrix_part part,
		    unsigned id, struct outcome *ret)
{
	struct intent in = { .type = INTENT_UNASSIGN, .guest = name, .part = part, .id = id };

	return engine_run(e, action, &in, ret);
}

int engine_queue_add(struct engine *e, const char *action, const char *name, struct apqn q,
		     struct outcome *ret)
{
	struct intent in = { .type = INTENT_QUEUE_ADD, .guest = name, .apqn = q };

	return engine_run(e, action, &in, ret);
}

int engine_queue_remove(struct engine *e, const char *action, const char *name, struct apqn q,
			struct outcome *ret)
{
	struct intent in = { .type = INTENT_QUEUE_REMOVE, .guest = name, .apqn = q };

	return engine_run(e, action, &in, ret);
}

int engine_pool_move(struct engine *e, const char *action, struct apqn q, enum apqn_pool to,
		     struct outcome *ret)
{
	struct intent in = { .type = INTENT_POOL_MOVE, .apqn = q, .to = to };

	return engine_run(e, action, &in, ret);
}

int engine_mask_edit(struct engine *e, const char *action, enum host_mask mask, const char *text,
		     struct outcome *ret)
{
	struct intent in = { .type = INTENT_MASK_EDIT, .mask = mask, .text = text };

	return engine_run(e, action, &in, ret);
}

int engine_reserve(struct engine *e, const char *action, struct apqn q, const char *name,
		   struct outcome *ret)
{
	struct intent in = { .type = INTENT_RESERVE, .apqn = q, .guest = name };

	return engine_run(e, action, &in, ret);
}

int engine_release(struct engine *e, const char *action, struct apqn q, struct outcome *ret)
{
	struct intent in = { .type = INTENT_RELEASE, .apqn = q };

	return engine_run(e, action, &in, ret);
}

/* ---- refresh, restore ---- */

static void describe_diff(struct outcome *o, const struct model_diff *d)
{
	static const char *const kinds[] = {
		[GUEST_APPEARED] = "appeared",
		[GUEST_VANISHED] = "is gone",
		[GUEST_CHANGED] = "changed",
	};

	if (d->host_changed)
		sentence_add(o, "; the host configuration changed");
	for (size_t i = 0; i < d->n_guests; i++)
		sentence_add(o, "; guest %s %s", d->guests[i].name, kinds[d->guests[i].kind]);
}

/*
 * Re-reads the kernel onto base (NULL: the live model), commits and saves it;
 * with the change lock held and no model lock: a full read of a large host
 * takes milliseconds, which no reader waits for.
 */
static int refresh_onto(struct engine *e, const char *what, const struct model *base, bool quick,
			struct outcome *o)
{
	_cleanup_model_ struct model *next = NULL;
	int err;

	err = read_kernel(e, base ? base : e->model, quick, &next);
	if (err < 0) {
		_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);

		explain_set(&o->why, RULE_FRESH_STATE, -err, "the kernel state could not be read");
		outcome_refused(o, what, &o->why);
		oplog_append(e->log, engine_now(e), o->err, o->sentence);
		return err;
	}
	snprintf(o->sentence, sizeof(o->sentence), "%s: done", what);
	{
		_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);

		err = commit_model(e, TAKE_PTR(next), o);
	}
	if (err < 0)
		return err;
	save_model(e, o);
	describe_diff(o, &o->diff);
	if (!model_diff_empty(&o->diff))
		engine_log_append(e, 0, o->sentence);
	return 0;
}

static int refresh(struct engine *e, bool quick, struct outcome *ret)
{
	struct outcome scratch;
	struct outcome *o = ret ? ret : &scratch;
	int err;

	*o = (struct outcome){ 0 };
	explain_clear(&o->why);
	{
		_cleanup_mutex_ pthread_mutex_t *c = mutex_lock(&e->change_lock);

		err = refresh_onto(e, "rescan", NULL, quick, o);
	}
	if (!ret)
		outcome_done(&scratch);
	return err;
}

int engine_refresh(struct engine *e, struct outcome *ret)
{
	return refresh(e, false, ret);
}

int engine_refresh_mdevs(struct engine *e, struct outcome *ret)
{
	return refresh(e, true, ret);
}

int engine_restore(struct engine *e, const struct model *saved, struct outcome *ret)
{
	struct outcome scratch;
	struct outcome *o = ret ? ret : &scratch;
	_cleanup_model_ struct model *base = NULL;
	struct apqn q;
	int err;

	*o = (struct outcome){ 0 };
	explain_clear(&o->why);
	{
		/* the change lock keeps the model as it is: base is built from it unlocked */
		_cleanup_mutex_ pthread_mutex_t *c = mutex_lock(&e->change_lock);

		err = model_clone(e->model, &base);
		GUEST_FOREACH (s, saved) {
			const struct guest *known = model_guest_by_uuid(base, s->uuid);
			struct guest g = *s;

			if (err < 0)
				break;
			/* an mdev adopted before the saved state was loaded takes its saved name */
			if (known && strcmp(known->name, s->name) != 0 &&
			    !model_guest_by_name(base, s->name))
				err = model_guest_rename(base, known->name, s->name);
			if (err >= 0 && model_guest_by_name(base, s->name)) {
				err = model_guest_update(base, &g);
			} else if (err >= 0) {
				g.state = GUEST_MISSING;
				err = model_guest_add(base, &g);
			}
		}
		APQN_SET_FOREACH (q, model_reserved(saved)) {
			if (err >= 0)
				err = model_reserve(base, q, model_reservation(saved, q));
		}
		if (err >= 0)
			err = refresh_onto(e, "restore", base, false, o);
	}
	if (!ret)
		outcome_done(&scratch);
	return err;
}

/* ---- re-creating saved guests ---- */

static int plan_append(struct plan *p, const struct kop *op, const struct kop *undo)
{
	_cleanup_free_ struct kop *copy = NULL;
	struct plan_step *steps;

	if (undo) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *undo;
	}
	steps = realloc(p->steps, (p->n_steps + 1) * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	p->steps = steps;
	steps[p->n_steps++] =
	    (struct plan_step){ .op = *op, .n_undo = undo ? 1 : 0, .undo = TAKE_PTR(copy) };
	return 0;
}

/* Moves the steps of from (emptied) to the end of to. */
static int plan_take(struct plan *to, struct plan *from)
{
	struct plan_step *steps;

	if (from->n_steps == 0)
		return 0;
	steps = realloc(to->steps, (to->n_steps + from->n_steps) * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	to->steps = steps;
	memcpy(steps + to->n_steps, from->steps, from->n_steps * sizeof(*steps));
	to->n_steps += from->n_steps;
	free(from->steps);
	*from = (struct plan){ 0 };
	return 0;
}

/*
 * The writes that bring saved (a missing guest) back: create its mdev, then
 * its matrix. On scratch, where the guest exists with an empty matrix, each
 * assignment is checked as `touch` would check it, in the kernel's order
 * (adapters, domains, control domains), so a refusal explains itself. Where
 * the kernel has ap_config one write sets the whole matrix. Removing the
 * mdev undoes everything. On a refusal, v->why says why.
 */
static int plan_recreate(struct model *scratch, const struct guest *saved, struct verdict *v,
			 struct plan *ret)
{
	static const enum matrix_part parts[] = { PART_ADAPTER, PART_DOMAIN, PART_CONTROL_DOMAIN };
	const struct idset *sets[] = { &saved->adapters, &saved->domains, &saved->control_domains };
	bool ap_config = model_host(scratch)->caps.ap_config;
	struct guest empty = *saved;
	struct kop create = { .type = KOP_MDEV_CREATE }, remove = { .type = KOP_MDEV_REMOVE };
	struct kop config = { .type = KOP_AP_CONFIG };
	struct plan p = { 0 };
	int err;

	empty.adapters = empty.domains = empty.control_domains = IDSET_EMPTY;
	empty.state = GUEST_ACTIVE;
	err = model_guest_update(scratch, &empty);
	snprintf(create.uuid, sizeof(create.uuid), "%s", saved->uuid);
	snprintf(remove.uuid, sizeof(remove.uuid), "%s", saved->uuid);
	if (err >= 0)
		err = plan_append(&p, &create, &remove);
	for (size_t k = 0; k < ARRAY_SIZE(parts) && err >= 0; k++) {
		IDSET_FOREACH (id, sets[k]) {
			struct intent in = { .type = INTENT_ASSIGN,
					     .guest = saved->name,
					     .part = parts[k],
					     .id = (unsigned) id };
			struct plan step = { 0 };

			err = rules_check(scratch, &in, NULL, v);
			if (err >= 0)
				err = plan_build(scratch, &in, v, &step);
			if (err >= 0 && !ap_config)
				err = plan_take(&p, &step);
			plan_done(&step);
			if (err >= 0)
				err = model_guest_update(scratch, &v->target);
			if (err < 0)
				break;
		}
	}
	config.apm = saved->adapters;
	config.aqm = saved->domains;
	config.adm = saved->control_domains;
	snprintf(config.uuid, sizeof(config.uuid), "%s", saved->uuid);
	if (err >= 0 && ap_config &&
	    !(idset_empty(&config.apm) && idset_empty(&config.aqm) && idset_empty(&config.adm)))
		err = plan_append(&p, &config, NULL);
	if (err < 0) {
		plan_done(&p);
		return err;
	}
	*ret = p;
	return 0;
}

/* The verdict of re-creating guest name on fresh, and its plan. */
static int decide_recreate(struct engine *e, const char *action, const struct intent *intent,
			   const char *uuid_fresh, struct outcome *o, struct decision *d)
{
	_cleanup_model_ struct model *scratch = NULL;
	struct model *fresh;
	struct verdict *v;
	const struct guest *g;
	struct guest saved;
	int err;

	err = read_fresh(e, action, o, &d->fresh);
	if (err < 0)
		return err;
	fresh = d->fresh;
	v = d->v = calloc(1, sizeof(*d->v));
	if (!v)
		return -ENOMEM;
	explain_clear(&v->why);
	g = model_guest_by_name(fresh, intent->guest);
	if (!g)
		err =
		    explain_set(&v->why, RULE_NONE, ENOENT, "there is no guest %s", intent->guest);
	else if (g->state != GUEST_MISSING)
		v->noop = true;
	else if (!model_host(fresh)->caps.vfio_ap)
		err = explain_set(&v->why, RULE_NONE, ENODEV,
				  "the vfio_ap module is not loaded, so there is no matrix device");
	if (err >= 0 && !v->noop) {
		saved = *g;
		err = model_clone(fresh, &scratch);
		if (err >= 0)
			err = plan_recreate(scratch, &saved, v, &d->plan);
		if (err >= 0) {
			/* what the assignments reserve: the whole matrix, for this guest */
			*v = (struct verdict){ .target = saved };
			guest_matrix_apqns(&saved, &v->gained);
		}
	}
	if (err < 0) {
		if (!v->why.err)
			return err;
		outcome_refused(o, action, &v->why);
		commit_locked(e, TAKE_PTR(d->fresh), o);
		return err;
	}
	d->own = (struct intent){ .type = INTENT_ASSIGN, .guest = intent->guest };
	return 0;
}

int engine_guest_recreate(struct engine *e, const char *action, const char *name,
			  struct outcome *ret)
{
	_cleanup_free_ struct outcome *scratch = NULL;
	struct outcome *o = outcome_begin(ret, &scratch);
	struct intent in = { .type = INTENT_ASSIGN, .guest = name };
	int err;

	if (!o)
		return -ENOMEM;
	err = run_logged(e, action, &in, NULL, decide_recreate, o);
	if (scratch)
		outcome_done(scratch);
	return err;
}

/* The names of the missing guests, a malloc'ed array. */
static int missing_guests(struct engine *e, char (**ret)[GUEST_NAME_MAX + 1], size_t *ret_n)
{
	_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_rdlock(&e->lock);
	char(*names)[GUEST_NAME_MAX + 1] = calloc(model_guest_count(e->model) + 1, sizeof(*names));
	size_t n = 0;

	if (!names)
		return -ENOMEM;
	GUEST_FOREACH (g, e->model) {
		if (g->state == GUEST_MISSING)
			snprintf(names[n++], sizeof(names[0]), "%s", g->name);
	}
	*ret = names;
	*ret_n = n;
	return 0;
}

/* Restores one host mask to want with an absolute write, when it differs. */
static int restore_mask(struct engine *e, enum host_mask mask, const struct idset *want,
			engine_outcome_fn report, void *ctx)
{
	char text[IDSET_RANGES_SIZE], action[64];
	struct outcome o;
	bool same;
	int err;

	{
		_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_rdlock(&e->lock);
		const struct host *h = model_host(e->model);

		same = idset_equal(mask == MASK_AP ? &h->apmask : &h->aqmask, want);
	}
	if (same)
		return 0;
	idset_format_ranges(want, text, sizeof(text));
	snprintf(action, sizeof(action), "restore pools/host/%s",
		 mask == MASK_AP ? "adapters" : "domains");
	err = engine_mask_edit(e, action, mask, text, &o);
	if (report)
		report(ctx, &o);
	outcome_done(&o);
	return err;
}

/* Records why a guest could not be re-created; status shows it. */
static void note_missing_reason(struct engine *e, const char *name, const char *reason)
{
	_cleanup_mutex_ pthread_mutex_t *c = mutex_lock(&e->change_lock);
	_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);
	const struct guest *found = model_guest_by_name(e->model, name);
	struct guest g;

	if (!found || found->state != GUEST_MISSING)
		return;
	g = *found;
	snprintf(g.missing_reason, sizeof(g.missing_reason), "it could not be re-created: %.200s",
		 reason);
	if (model_guest_update(e->model, &g) >= 0)
		e->generation++;
}

int engine_reconcile(struct engine *e, const struct idset *apmask, const struct idset *aqmask,
		     engine_outcome_fn report, void *ctx)
{
	_cleanup_free_ char(*names)[GUEST_NAME_MAX + 1] = NULL;
	size_t n = 0;
	int err, left = 0;

	if (apmask)
		restore_mask(e, MASK_AP, apmask, report, ctx);
	if (aqmask)
		restore_mask(e, MASK_AQ, aqmask, report, ctx);
	err = missing_guests(e, &names, &n);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		char action[GUEST_NAME_MAX + 32];
		struct outcome o;

		snprintf(action, sizeof(action), "re-create guest %s", names[i]);
		err = engine_guest_recreate(e, action, names[i], &o);
		if (report)
			report(ctx, &o);
		if (err < 0 && err != -ENOMEM)
			note_missing_reason(e, names[i], o.why.err ? o.why.reason : o.sentence);
		outcome_done(&o);
		if (err == -ENOMEM)
			return err;
		if (err < 0)
			left++;
	}
	return left;
}

int engine_rollback(struct engine *e, const struct kop *undo, size_t n, struct outcome *ret)
{
	struct outcome scratch;
	struct outcome *o = ret ? ret : &scratch;
	size_t failed = 0;
	int err;

	*o = (struct outcome){ 0 };
	explain_clear(&o->why);
	{
		_cleanup_mutex_ pthread_mutex_t *c = mutex_lock(&e->change_lock);
		bool locked =
		    n && e->port.ops->config_lock && e->port.ops->config_lock(e->port.ctx) >= 0;

		/* writes that were never made revert nothing: their errors do not count */
		for (size_t i = 0; i < n; i++)
			if (e->port.ops->apply(e->port.ctx, &undo[i]) < 0)
				failed++;
		if (locked)
			config_lock_drop(e);
		err = refresh_onto(e, "roll back an operation cut short", NULL, false, o);
		if (err >= 0) {
			sentence_add(o, "; %zu of %zu write%s made", n - failed, n,
				     n == 1 ? "" : "s");
			engine_log_append(e, 0, o->sentence);
		}
	}
	if (!ret)
		outcome_done(&scratch);
	return err;
}

void engine_log_append(struct engine *e, int err, const char *line)
{
	_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_wrlock(&e->lock);

	oplog_append(e->log, engine_now(e), err, line);
}

/* ---- life cycle and readers ---- */

int engine_new(const struct engine_config *cfg, struct engine **ret)
{
	_cleanup_free_ struct engine *e = NULL;
	struct outcome o;
	int err;

	if (!cfg->port.ops || !cfg->port.ops->read_host || !cfg->port.ops->read_mdevs ||
	    !cfg->port.ops->apply)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->port = cfg->port;
	e->uuid_source = cfg->uuid_source;
	e->uuid_ctx = cfg->uuid_ctx;
	e->store = cfg->store;
	e->clock = cfg->clock;
	err = model_new(&e->model);
	if (err < 0)
		return err;
	err = oplog_new(cfg->log_capacity ? cfg->log_capacity : DEFAULT_LOG_CAPACITY, &e->log);
	if (err < 0) {
		model_free(e->model);
		return err;
	}
	pthread_mutex_init(&e->change_lock, NULL);
	pthread_rwlock_init(&e->lock, NULL);
	err = engine_refresh(e, &o);
	outcome_done(&o);
	if (err < 0) {
		engine_free(TAKE_PTR(e));
		return err;
	}
	*ret = TAKE_PTR(e);
	return 0;
}

struct engine *engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	pthread_rwlock_destroy(&e->lock);
	pthread_mutex_destroy(&e->change_lock);
	model_free(e->model);
	oplog_free(e->log);
	free(e);
	return NULL;
}

const struct model *engine_read_begin(struct engine *e)
{
	pthread_rwlock_rdlock(&e->lock);
	return e->model;
}

uint64_t engine_generation(const struct engine *e)
{
	return e->generation;
}

void engine_read_end(struct engine *e)
{
	pthread_rwlock_unlock(&e->lock);
}

size_t engine_log_render(struct engine *e, char *buf, size_t size)
{
	_cleanup_rwlock_ pthread_rwlock_t *l = rwlock_rdlock(&e->lock);

	return oplog_render(e->log, buf, size);
}
