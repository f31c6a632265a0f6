/* SPDX-License-Identifier: MIT */
/*
 * The property test of the whole engine: thousands of random intents run
 * through the engine against the in-process simulator (sysfs_sim + kport),
 * on three kernel generations, checking after every step that
 *
 * - the invariants of DESIGN §2 hold: no APQN with two owners, no host-pool
 *   APQN in a guest, no id above the maximum, no queue in the matrix of a
 *   guest other than the one that reserved it, no reserved vfio queue handed
 *   back to the host;
 * - the engine's model equals what the simulator shows through a fresh port;
 * - a refused intent changed nothing, in the kernel or in the model;
 * - nothing is left half-done: each intent first runs with an injected EIO
 *   at its 1st kernel write, then its 2nd, ... (each time it must be refused
 *   and leave everything as it was), until a run needs fewer writes than the
 *   failure position; that run is the real one.
 *
 * The seed comes from ZAPFS_SEED or the clock and is always printed; a
 * failure reproduces with ZAPFS_SEED=n. ZAPFS_PROPERTY_STEPS sets the number
 * of intents per generation (default 1000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "kmod/kport.h"
#include "tests/kmod/sim_hosts.h"
#include "tests/kmod/snapshot.h"

#define DEFAULT_STEPS 1000
#define MAX_FAULT_POS 64

static uint64_t seed;
static unsigned steps_per_generation = DEFAULT_STEPS;
static char watchdog_message[128];

/* ---- randomness (splitmix64: tiny, and the same everywhere) ---- */

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *state, unsigned n)
{
	return (unsigned) (rng_next(state) % n);
}

#define PICK(rng, array) ((array)[rng_below((rng), sizeof(array) / sizeof((array)[0]))])

/* ---- a kernel port that fails one chosen write ---- */

struct fault_port {
	struct kernel_port inner;
	unsigned applies; /* writes since the last arm */
	unsigned fail_at; /* 1-based position to fail; 0: none */
	bool fired;
};

static int fault_read_host(void *ctx, struct host *ret)
{
	struct fault_port *f = ctx;

	return f->inner.ops->read_host(f->inner.ctx, ret);
}

static int fault_read_mdevs(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n)
{
	struct fault_port *f = ctx;

	return f->inner.ops->read_mdevs(f->inner.ctx, ret_mdevs, ret_n);
}

static int fault_read_mdev(void *ctx, const char *uuid, struct mdev_info *ret)
{
	struct fault_port *f = ctx;

	return f->inner.ops->read_mdev(f->inner.ctx, uuid, ret);
}

static int fault_apply(void *ctx, const struct kop *op)
{
	struct fault_port *f = ctx;

	/* The injected failure is a store() that fails before changing anything;
	 * the undo writes after it go through. */
	if (++f->applies == f->fail_at) {
		f->fired = true;
		return -EIO;
	}
	return f->inner.ops->apply(f->inner.ctx, op);
}

static const struct kernel_port_ops fault_ops = {
	.read_host = fault_read_host,
	.read_mdevs = fault_read_mdevs,
	.read_mdev = fault_read_mdev,
	.apply = fault_apply,
};

static void fault_arm(struct fault_port *f, unsigned fail_at)
{
	f->applies = 0;
	f->fail_at = fail_at;
	f->fired = false;
}

/* ---- the world: simulator, ports, engine ---- */

#define ATTACHED_MAX 64

struct world {
	const char *label;
	struct sim *sim;
	struct sysfs *fs;
	struct fault_port fault;
	struct engine *engine;
	uint64_t rng;
	unsigned uuid_counter;
	char attached[ATTACHED_MAX][UUID_STR_LEN + 1]; /* mdevs with a fake KVM guest */
	size_t n_attached;
	/* statistics */
	unsigned done, refused, faults, kops, max_kops, multi;
};

static int next_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	struct world *w = ctx;

	snprintf(ret, UUID_STR_LEN + 1, "00000000-0000-4000-8000-%012x", ++w->uuid_counter);
	return 0;
}

static void world_init(struct world *w, const char *label, unsigned major, unsigned minor)
{
	struct sim_config *cfg = malloc(sizeof(*cfg));
	struct engine_config ec = { 0 };

	assert_non_null(cfg);
	memset(w, 0, sizeof(*w));
	w->label = label;
	w->rng = seed ^ ((uint64_t) major << 40) ^ ((uint64_t) minor << 32);

	sim_host_seed(major, minor, cfg);
	/* Start from one of four pool layouts, so early intents find vfio queues. */
	if (rng_below(&w->rng, 2))
		idset_del(&cfg->apmask, 5);
	if (rng_below(&w->rng, 2))
		idset_del(&cfg->aqmask, 0x47);
	assert_int_equal(sim_new(cfg, &w->sim), 0);
	free(cfg);

	assert_int_equal(sysfs_open_sim(w->sim, &w->fs), 0);
	assert_int_equal(kport_new(w->fs, &w->fault.inner), 0);
	ec.port = (struct kernel_port){ .ops = &fault_ops, .ctx = &w->fault };
	ec.uuid_source = next_uuid;
	ec.uuid_ctx = w;
	assert_int_equal(engine_new(&ec, &w->engine), 0);
}

static void world_done(struct world *w)
{
	for (size_t i = 0; i < w->n_attached; i++)
		sim_kvm_detach(w->sim, w->attached[i]);
	engine_free(w->engine);
	sysfs_free(w->fs);
	sim_free(w->sim);
}

/* ---- what the kernel shows, through a fresh port ---- */

static struct snapshot *kernel_snapshot(struct world *w)
{
	struct kernel_port port;
	struct snapshot *s = NULL;

	assert_int_equal(kport_new(w->fs, &port), 0);
	assert_int_equal(snapshot_take(&port, &s), 0);
	return s;
}

/* ---- the checks ---- */

static void fail_step(const struct world *w, unsigned step, const char *what, const char *detail)
{
	print_error("%s, step %u: %s (%s); reproduce with ZAPFS_SEED=%llu\n", w->label, step, what,
		    detail ? detail : "", (unsigned long long) seed);
	fail();
}

static struct model *model_snapshot(struct world *w)
{
	struct model *copy = NULL;
	const struct model *m = engine_read_begin(w->engine);
	int r = model_clone(m, &copy);

	engine_read_end(w->engine);
	assert_int_equal(r, 0);
	return copy;
}

/* The engine's model against the kernel as a fresh port reads it. */
static void check_model_matches(struct world *w, const struct model *m, const struct snapshot *k,
				unsigned step)
{
	const char *what = host_difference(model_host(m), &k->host, true);
	size_t present = 0;

	if (what)
		fail_step(w, step, "the model's host differs from the kernel's", what);
	for (size_t i = 0; i < k->n; i++) {
		const struct mdev_info *md = &k->mdevs[i];
		const struct guest *g = model_guest_by_uuid(m, md->uuid);

		if (!g || g->state == GUEST_MISSING)
			fail_step(w, step, "an mdev has no present guest", md->uuid);
		if (!idset_equal(&g->adapters, &md->adapters) ||
		    !idset_equal(&g->domains, &md->domains) ||
		    !idset_equal(&g->control_domains, &md->control_domains) ||
		    !idset_equal(&g->guest_adapters, &md->guest_adapters) ||
		    !idset_equal(&g->guest_domains, &md->guest_domains))
			fail_step(w, step, "a guest's matrix differs from its mdev's", g->name);
		if ((g->state == GUEST_RUNNING) != md->running)
			fail_step(w, step, "a guest's running state differs", g->name);
	}
	GUEST_FOREACH (g, m) {
		if (g->state != GUEST_MISSING)
			present++;
	}
	if (present != k->n)
		fail_step(w, step, "the model has guests without an mdev", NULL);
}

/* DESIGN §2 rules 1 to 4 on one model. */
static void check_invariants(struct world *w, const struct model *m, unsigned step)
{
	const struct host *h = model_host(m);
	struct apqn_set *owned = calloc(1, sizeof(*owned)), *matrix = calloc(1, sizeof(*matrix));
	struct idset max_ap = idset_range(0, h->max_adapter),
		     max_dom = idset_range(0, h->max_domain);

	assert_non_null(owned);
	assert_non_null(matrix);
	GUEST_FOREACH (g, m) {
		struct apqn q;

		if (!idset_subset(&g->adapters, &max_ap) || !idset_subset(&g->domains, &max_dom) ||
		    !idset_subset(&g->control_domains, &max_dom))
			fail_step(w, step, "rule 3: an id above the maximum", g->name);
		guest_matrix_apqns(g, matrix);
		APQN_SET_FOREACH (q, matrix) {
			const char *holder = model_reservation(m, q);

			if (apqn_set_has(owned, q))
				fail_step(w, step, "rule 1: an APQN with two owners", g->name);
			apqn_set_add(owned, q);
			if (model_apqn_pool(m, q) == POOL_HOST)
				fail_step(w, step, "rule 2: a host-pool APQN in a guest", g->name);
			if (holder && strcmp(holder, g->name) != 0)
				fail_step(w, step, "rule 4: another guest's reserved queue",
					  g->name);
		}
	}
	free(owned);
	free(matrix);
}

/* Rule 4, across one step: a reserved queue that was set aside for guests
 * and is still reserved has not gone back to the host. */
static void check_reservations_kept(struct world *w, const struct model *before,
				    const struct model *after, unsigned step)
{
	struct apqn q;

	APQN_SET_FOREACH (q, model_reserved(before)) {
		if (model_apqn_pool(before, q) == POOL_VFIO && model_reservation(after, q) &&
		    model_apqn_pool(after, q) == POOL_HOST)
			fail_step(w, step, "rule 4: a reserved queue returned to the host", NULL);
	}
}

/* Two models, without the shadows (see check_unchanged()). */
static const char *model_difference(const struct model *a, const struct model *b)
{
	const char *what = host_difference(model_host(a), model_host(b), false);
	struct apqn q;

	if (what)
		return what;
	if (model_guest_count(a) != model_guest_count(b))
		return "number of guests";
	GUEST_FOREACH (g, a) {
		const struct guest *o = model_guest_by_name(b, g->name);

		if (!o || strcmp(g->uuid, o->uuid) != 0 ||
		    !idset_equal(&g->adapters, &o->adapters) ||
		    !idset_equal(&g->domains, &o->domains) ||
		    !idset_equal(&g->control_domains, &o->control_domains) ||
		    g->state != o->state || g->adopted != o->adopted)
			return "a guest";
	}
	if (memcmp(model_reserved(a), model_reserved(b), sizeof(struct apqn_set)) != 0)
		return "reservations";
	APQN_SET_FOREACH (q, model_reserved(a)) {
		if (strcmp(model_reservation(a, q), model_reservation(b, q)) != 0)
			return "a reservation's owner";
	}
	return NULL;
}

/*
 * Nothing changed: the kernel and the model are as before. The shadows are
 * left out: an assign that is undone still made vfio_ap re-filter the
 * shadow, which may then differ from a stale one it had before (the kernel's
 * filter memory); the assigned matrices, which zapfs's rules are about, must
 * be exactly as they were.
 */
static void check_unchanged(struct world *w, const struct snapshot *k_before,
			    const struct model *m_before, unsigned step, const char *why)
{
	struct snapshot *k_after = kernel_snapshot(w);
	struct model *m_after = model_snapshot(w);
	const char *what = snapshot_difference(k_before, k_after, false);

	if (what)
		fail_step(w, step, why, what);
	what = model_difference(m_before, m_after);
	if (what)
		fail_step(w, step, why, what);
	model_free(m_after);
	snapshot_free(k_after);
}

/* ---- random intents ---- */

static const char *const names[] = { "web1", "db1", "app", "web1", "db1", "app", "spare" };
static const unsigned adapter_ids[] = { 5, 6, 5, 6, 5, 6, 7, 0, 64 };
static const unsigned domain_ids[] = { 0x04, 0x47, 0xab, 0xff, 0x04, 0x47, 0xab, 0xff, 5, 256 };

struct intent_text {
	char action[96];
	char text[64];
	char uuid[UUID_STR_LEN + 1];
};

static struct apqn random_apqn(struct world *w)
{
	static const unsigned aps[] = { 5, 6, 5, 6, 7 };
	static const unsigned doms[] = { 0x04, 0x47, 0xab, 0xff, 5 };

	return (struct apqn){ .ap = (uint8_t) PICK(&w->rng, aps),
			      .dom = (uint8_t) PICK(&w->rng, doms) };
}

static unsigned random_part_id(struct world *w, enum matrix_part part)
{
	return part == PART_ADAPTER ? PICK(&w->rng, adapter_ids) : PICK(&w->rng, domain_ids);
}

static void random_mask_text(struct world *w, enum host_mask mask, char *buf, size_t size)
{
	unsigned a = mask == MASK_AP ? PICK(&w->rng, adapter_ids) : PICK(&w->rng, domain_ids);
	unsigned b = mask == MASK_AP ? PICK(&w->rng, adapter_ids) : PICK(&w->rng, domain_ids);

	switch (rng_below(&w->rng, 8)) {
	case 0:
	case 1:
		snprintf(buf, size, "+%u", a);
		break;
	case 2:
	case 3:
		snprintf(buf, size, "-%u", a);
		break;
	case 4:
		snprintf(buf, size, "+%u,-0x%x", a, b);
		break;
	case 5:
		snprintf(buf, size, "0-255");
		break;
	case 6:
		snprintf(buf, size, "0-%u,%u-255", a ? a - 1 : 0, a + 1);
		break;
	default:
		snprintf(buf, size, rng_below(&w->rng, 2) ? "" : "+zz");
		break;
	}
}

static struct intent random_intent(struct world *w, struct intent_text *t)
{
	struct intent in = { .guest = PICK(&w->rng, names) };
	unsigned roll = rng_below(&w->rng, 100);

	if (roll < 10) {
		in.type = INTENT_GUEST_CREATE;
		if (rng_below(&w->rng, 10) == 0) {
			/* A UUID of an earlier guest, maybe in use. */
			snprintf(t->uuid, sizeof(t->uuid), "00000000-0000-4000-8000-%012x",
				 1 + rng_below(&w->rng, w->uuid_counter + 1));
			in.uuid = t->uuid;
		}
		if (rng_below(&w->rng, 50) == 0)
			in.guest = ".hidden";
	} else if (roll < 14) {
		in.type = INTENT_GUEST_REMOVE;
	} else if (roll < 17) {
		in.type = INTENT_GUEST_RENAME;
		in.new_name = PICK(&w->rng, names);
	} else if (roll < 35) {
		in.type = INTENT_ASSIGN;
		in.part = (enum matrix_part) rng_below(&w->rng, 3);
		in.id = random_part_id(w, in.part);
	} else if (roll < 44) {
		in.type = INTENT_UNASSIGN;
		in.part = (enum matrix_part) rng_below(&w->rng, 3);
		in.id = random_part_id(w, in.part);
	} else if (roll < 62) {
		in.type = INTENT_QUEUE_ADD;
		in.apqn = random_apqn(w);
	} else if (roll < 70) {
		in.type = INTENT_QUEUE_REMOVE;
		in.apqn = random_apqn(w);
	} else if (roll < 82) {
		in.type = INTENT_POOL_MOVE;
		in.apqn = random_apqn(w);
		in.to = rng_below(&w->rng, 2) ? POOL_HOST : POOL_VFIO;
	} else if (roll < 90) {
		in.type = INTENT_MASK_EDIT;
		in.mask = rng_below(&w->rng, 2) ? MASK_AP : MASK_AQ;
		random_mask_text(w, in.mask, t->text, sizeof(t->text));
		in.text = t->text;
	} else if (roll < 95) {
		in.type = INTENT_RESERVE;
		in.apqn = random_apqn(w);
	} else {
		in.type = INTENT_RELEASE;
		in.apqn = random_apqn(w);
	}
	snprintf(t->action, sizeof(t->action), "intent %d on %s", (int) in.type, in.guest);
	return in;
}

/* ---- fake KVM guests ---- */

static ssize_t attached_index(const struct world *w, const char *uuid)
{
	for (size_t i = 0; i < w->n_attached; i++)
		if (!strcmp(w->attached[i], uuid))
			return (ssize_t) i;
	return -1;
}

static void detach(struct world *w, size_t i)
{
	assert_int_equal(sim_kvm_detach(w->sim, w->attached[i]), 0);
	memcpy(w->attached[i], w->attached[--w->n_attached], UUID_STR_LEN + 1);
}

/* A guest starts or stops: the world changes under the engine, which then
 * rescans, as its periodic refresh would. */
static void toggle_kvm(struct world *w)
{
	const struct model *m = engine_read_begin(w->engine);
	char uuid[UUID_STR_LEN + 1] = "";
	size_t n = 0, pick;

	GUEST_FOREACH (g, m) {
		if (g->state != GUEST_MISSING)
			n++;
	}
	pick = n ? rng_below(&w->rng, (unsigned) n) : 0;
	GUEST_FOREACH (g, m) {
		if (g->state != GUEST_MISSING && pick-- == 0)
			snprintf(uuid, sizeof(uuid), "%s", g->uuid);
	}
	engine_read_end(w->engine);
	if (!uuid[0])
		return;

	ssize_t i = attached_index(w, uuid);
	if (i >= 0) {
		detach(w, (size_t) i);
	} else if (w->n_attached < ATTACHED_MAX) {
		assert_int_equal(sim_kvm_attach(w->sim, uuid), 0);
		memcpy(w->attached[w->n_attached++], uuid, UUID_STR_LEN + 1);
	}
	assert_int_equal(engine_refresh(w->engine, NULL), 0);
}

/*
 * A remove write blocks until the guest lets go (5.13+). The engine refuses
 * to remove a guest it sees running; where sysfs cannot show it running
 * (no status file before 6.0, or no vfio_ap queue in its matrix), the guest
 * is stopped first, as an administrator would have to.
 */
static void stop_invisible_guest(struct world *w, const char *name)
{
	const struct model *m = engine_read_begin(w->engine);
	const struct guest *g = model_guest_by_name(m, name);
	ssize_t i = g ? attached_index(w, g->uuid) : -1;
	bool visible = g && g->state == GUEST_RUNNING;

	engine_read_end(w->engine);
	if (i >= 0 && !visible) {
		detach(w, (size_t) i);
		assert_int_equal(engine_refresh(w->engine, NULL), 0);
	}
}

/* ---- one step ---- */

static void run_step(struct world *w, unsigned step)
{
	struct intent_text t = { 0 };
	struct intent in;
	struct snapshot *k_before, *k_after;
	struct model *m_before, *m_after;
	struct outcome o;
	unsigned pos;
	int r;

	if (rng_below(&w->rng, 50) == 0) {
		toggle_kvm(w);
		return;
	}
	in = random_intent(w, &t);
	if (in.type == INTENT_GUEST_REMOVE)
		stop_invisible_guest(w, in.guest);

	k_before = kernel_snapshot(w);
	m_before = model_snapshot(w);

	/* Fail the 1st write, then the 2nd, ...: every prefix must be undone. */
	for (pos = 1; pos <= MAX_FAULT_POS; pos++) {
		fault_arm(&w->fault, pos);
		r = engine_run(w->engine, t.action, &in, &o);
		if (!w->fault.fired)
			break;
		w->faults++;
		if (r >= 0 || o.err != EIO)
			fail_step(w, step, "a failed write did not refuse the intent", o.sentence);
		outcome_done(&o);
		check_unchanged(w, k_before, m_before, step, "a failed write left a change behind");
	}
	if (pos > MAX_FAULT_POS)
		fail_step(w, step, "a plan with too many writes", t.action);

	if (r < 0) {
		/* Refused by the rules, or by the kernel at a write (then undone). */
		w->refused++;
		outcome_done(&o);
		check_unchanged(w, k_before, m_before, step, "a refused intent changed something");
	} else {
		w->done++;
		w->kops += o.n_kops;
		if (o.n_kops > w->max_kops)
			w->max_kops = (unsigned) o.n_kops;
		if (o.n_kops > 1)
			w->multi++;
		if (o.n_kops != w->fault.applies)
			fail_step(w, step, "the outcome's writes are not those made", o.sentence);
		outcome_done(&o);
	}

	k_after = kernel_snapshot(w);
	m_after = model_snapshot(w);
	check_model_matches(w, m_after, k_after, step);
	check_invariants(w, m_after, step);
	check_reservations_kept(w, m_before, m_after, step);
	model_free(m_after);
	model_free(m_before);
	snapshot_free(k_after);
	snapshot_free(k_before);
}

/* Kernels without ap_config make multi-write plans, which must then have
 * been met (and failed at every position). */
static void run_generation(const char *label, unsigned major, unsigned minor, bool multi_writes)
{
	struct world *w = calloc(1, sizeof(*w));
	struct snapshot *k;
	struct model *m;

	assert_non_null(w);
	world_init(w, label, major, minor);
	k = kernel_snapshot(w);
	m = model_snapshot(w);
	check_model_matches(w, m, k, 0);
	model_free(m);
	snapshot_free(k);

	for (unsigned step = 1; step <= steps_per_generation; step++)
		run_step(w, step);

	print_message("%s: %u intents done (%u kernel writes; %u intents with several, at most "
		      "%u), %u refused, %u injected write failures undone\n",
		      label, w->done, w->kops, w->multi, w->max_kops, w->refused, w->faults);
	/* A walk that never got anything done would prove nothing. */
	assert_true(w->done > steps_per_generation / 10);
	assert_true(w->faults > 0);
	if (multi_writes)
		assert_true(w->multi > 0);
	world_done(w);
	free(w);
}

static void test_kernel_5_15(void **state)
{
	run_generation("kernel 5.15", 5, 15, true);
}

static void test_kernel_6_1(void **state)
{
	run_generation("kernel 6.1", 6, 1, true);
}

static void test_kernel_6_10(void **state)
{
	run_generation("kernel 6.10", 6, 10, false);
}

static void on_watchdog(int sig)
{
	ssize_t n = write(STDERR_FILENO, watchdog_message, strlen(watchdog_message));

	(void) n;
	_exit(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_5_15),
		cmocka_unit_test(test_kernel_6_1),
		cmocka_unit_test(test_kernel_6_10),
	};
	const char *env = getenv("ZAPFS_SEED");
	const char *steps = getenv("ZAPFS_PROPERTY_STEPS");

	seed = env ? strtoull(env, NULL, 0) : (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);
	if (steps && strtoul(steps, NULL, 0) > 0)
		steps_per_generation = (unsigned) strtoul(steps, NULL, 0);
	printf("property test: ZAPFS_SEED=%llu, %u intents per kernel generation\n",
	       (unsigned long long) seed, steps_per_generation);
	fflush(stdout);

	/* A remove that blocks on a guest would hang the walk: fail it instead. */
	snprintf(watchdog_message, sizeof(watchdog_message),
		 "property test: timed out; reproduce with ZAPFS_SEED=%llu\n",
		 (unsigned long long) seed);
	signal(SIGALRM, on_watchdog);
	alarm(120 + steps_per_generation / 10);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
