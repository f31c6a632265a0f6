/* SPDX-License-Identifier: MIT */
/*
 * The rules against a naive oracle. Small LPARs (adapters and domains 0-2,
 * id 3 above the maximum) are drawn at random: cards, host masks, up to three
 * guests with any matrix the kernel could have made, running or missing ones,
 * and reservations. For every intent the verdict of rules_check() must equal
 * the oracle's, which is written from DESIGN §2 and the refusal order of
 * core/rules.h on plain arrays, sharing no code with core/rules.c.
 *
 * The seed is printed; ZAPFS_ORACLE_SEED repeats a run, ZAPFS_ORACLE_ROUNDS
 * changes its length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "core/rules.h"

#define N      4 /* ids 0..3 */
#define MAXID  2 /* 3 is above the maximum */
#define GUESTS 3
#define NOBODY (-1)
#define GONE   GUESTS /* a reservation for a guest that was removed */

struct oguest {
	bool a[N], d[N], c[N];
	bool running, missing;
};

struct config {
	bool dynamic;
	bool card[N], udom[N];
	bool apmask[N], aqmask[N];
	int n_guests;
	struct oguest g[GUESTS];
	int resv[N][N];
};

static const char *const names[] = { "g0", "g1", "g2", "old" };

/* ---- the oracle ---- */

static bool exists(const struct config *c, int a, int d)
{
	return c->card[a] && c->udom[d];
}

static bool host_pool(const struct config *c, int a, int d)
{
	return c->apmask[a] && c->aqmask[d];
}

static bool vfio_bound(const struct config *c, int a, int d)
{
	return exists(c, a, d) && !host_pool(c, a, d);
}

static bool holds(const struct oguest *g, int a, int d)
{
	return g->a[a] && g->d[d];
}

static int holder(const struct config *c, int a, int d)
{
	for (int i = 0; i < c->n_guests; i++)
		if (holds(&c->g[i], a, d))
			return i;
	return NOBODY;
}

static bool any(const bool s[N])
{
	for (int i = 0; i < N; i++)
		if (s[i])
			return true;
	return false;
}

/* The checks of a matrix that grows from g's to (na, nd). */
static int oracle_gain(const struct config *c, int gi, const bool na[N], const bool nd[N])
{
	const struct oguest *g = &c->g[gi];

	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (na[a] && nd[d] && host_pool(c, a, d))
				return EADDRNOTAVAIL;
	if (!c->dynamic) {
		for (int a = 0; a < N; a++)
			for (int d = 0; d < N; d++)
				if (na[a] && nd[d] && !holds(g, a, d) && !vfio_bound(c, a, d))
					return EADDRNOTAVAIL;
		for (int x = 0; x < N; x++) {
			bool lone_a = !any(nd) && na[x] && !g->a[x];
			bool lone_d = !any(na) && nd[x] && !g->d[x];
			bool found_a = false, found_d = false;

			for (int y = 0; y < N; y++) {
				found_a |= vfio_bound(c, x, y);
				found_d |= vfio_bound(c, y, x);
			}
			if ((lone_a && !found_a) || (lone_d && !found_d))
				return EADDRNOTAVAIL;
		}
	}
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			for (int o = 0; o < c->n_guests; o++)
				if (o != gi && na[a] && nd[d] && holds(&c->g[o], a, d))
					return EADDRINUSE;
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (na[a] && nd[d] && !holds(g, a, d) && c->resv[a][d] != NOBODY &&
			    c->resv[a][d] != gi)
				return EADDRINUSE;
	return 0;
}

/* Growth of the host pool to (ap x aq): no guest's queue, assigned or reserved. */
static int oracle_host_gain(const struct config *c, const bool ap[N], const bool aq[N],
			    int *ret_collateral_queues)
{
	int moved = 0;

	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++) {
			if (!ap[a] || !aq[d] || host_pool(c, a, d))
				continue;
			if (holder(c, a, d) != NOBODY)
				return EBUSY;
		}
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (ap[a] && aq[d] && !host_pool(c, a, d) && c->resv[a][d] != NOBODY)
				return EBUSY;
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (ap[a] && aq[d] && !host_pool(c, a, d) && exists(c, a, d))
				moved++;
	*ret_collateral_queues = moved;
	return 0;
}

static int oracle_guest_common(const struct config *c, int gi, bool change)
{
	if (c->g[gi].missing)
		return ENODEV;
	if (change && c->g[gi].running && !c->dynamic)
		return EBUSY;
	return 0;
}

static int oracle_assign(const struct config *c, int gi, enum matrix_part part, int id, bool assign)
{
	const struct oguest *g;
	bool na[N], nd[N];
	const bool *set;
	int err;

	if (gi >= c->n_guests)
		return ENOENT;
	if (id > MAXID)
		return ENODEV;
	g = &c->g[gi];
	set = part == PART_ADAPTER ? g->a : part == PART_DOMAIN ? g->d : g->c;
	if (set[id] == assign)
		return 0;
	err = oracle_guest_common(c, gi, true);
	if (err || !assign || part == PART_CONTROL_DOMAIN)
		return err;
	memcpy(na, g->a, sizeof(na));
	memcpy(nd, g->d, sizeof(nd));
	(part == PART_ADAPTER ? na : nd)[id] = true;
	return oracle_gain(c, gi, na, nd);
}

static int oracle_queue_add(const struct config *c, int gi, int a, int d)
{
	bool na[N], nd[N];
	int err;

	if (gi >= c->n_guests)
		return ENOENT;
	if (a > MAXID || d > MAXID)
		return ENODEV;
	if (holds(&c->g[gi], a, d))
		return 0;
	err = oracle_guest_common(c, gi, true);
	if (err)
		return err;
	memcpy(na, c->g[gi].a, sizeof(na));
	memcpy(nd, c->g[gi].d, sizeof(nd));
	na[a] = nd[d] = true;
	return oracle_gain(c, gi, na, nd);
}

static int oracle_queue_remove(const struct config *c, int gi, int a, int d)
{
	const struct oguest *g;
	bool other_d = false, other_a = false;
	int err;

	if (gi >= c->n_guests)
		return ENOENT;
	if (a > MAXID || d > MAXID)
		return ENODEV;
	g = &c->g[gi];
	if (!holds(g, a, d))
		return ENOENT;
	err = oracle_guest_common(c, gi, true);
	if (err)
		return err;
	for (int x = 0; x < N; x++) {
		other_d |= x != d && g->d[x];
		other_a |= x != a && g->a[x];
	}
	return other_d && other_a ? EBUSY : 0;
}

static int oracle_pool_move(const struct config *c, int a, int d, bool to_host)
{
	bool ap[N], aq[N];
	int moved = 0, err;

	if (a > MAXID || d > MAXID)
		return ENODEV;
	if (!exists(c, a, d))
		return ENOENT;
	if (host_pool(c, a, d) == to_host)
		return 0;
	if (!to_host) {
		int by_adapter = 0, by_domain = 0;

		for (int x = 0; x < N; x++) {
			by_adapter += x != d && c->aqmask[x] && exists(c, a, x);
			by_domain += x != a && c->apmask[x] && exists(c, x, d);
		}
		return by_adapter && by_domain ? EBUSY : 0;
	}
	memcpy(ap, c->apmask, sizeof(ap));
	memcpy(aq, c->aqmask, sizeof(aq));
	ap[a] = aq[d] = true;
	err = oracle_host_gain(c, ap, aq, &moved);
	if (err)
		return err;
	return moved > 1 ? EBUSY : 0;
}

struct mask_text {
	const char *text;
	int err;
	bool absolute;
	bool add[N], del[N];
};

static const struct mask_text mask_texts[] = {
	{ "+0", 0, false, { 1, 0, 0, 0 }, { 0 } },
	{ "-1", 0, false, { 0 }, { 0, 1, 0, 0 } },
	{ "+1,-2", 0, false, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } },
	{ "+0-2", 0, false, { 1, 1, 1, 0 }, { 0 } },
	{ "-0-3", 0, false, { 0 }, { 1, 1, 1, 1 } },
	{ "+3", 0, false, { 0, 0, 0, 1 }, { 0 } },
	{ "0-2", 0, true, { 1, 1, 1, 0 }, { 0 } },
	{ "1", 0, true, { 0, 1, 0, 0 }, { 0 } },
	{ "", 0, true, { 0 }, { 0 } },
	{ "0,x", EINVAL, false, { 0 }, { 0 } },
	{ "+1,2", EINVAL, false, { 0 }, { 0 } },
};

static int oracle_mask_edit(const struct config *c, enum host_mask which, const struct mask_text *t)
{
	bool ap[N], aq[N], *edit = which == MASK_AP ? ap : aq;
	const bool *cur = which == MASK_AP ? c->apmask : c->aqmask;
	bool same = true;
	int moved;

	if (t->err)
		return t->err;
	memcpy(ap, c->apmask, sizeof(ap));
	memcpy(aq, c->aqmask, sizeof(aq));
	for (int i = 0; i < N; i++) {
		edit[i] = t->absolute ? t->add[i] : (cur[i] || t->add[i]) && !t->del[i];
		same &= edit[i] == cur[i];
	}
	if (same)
		return 0;
	return oracle_host_gain(c, ap, aq, &moved);
}

static int oracle_reserve(const struct config *c, int gi, int a, int d)
{
	int h;

	if (gi >= c->n_guests)
		return ENOENT;
	if (a > MAXID || d > MAXID)
		return ENODEV;
	if (c->resv[a][d] == gi)
		return 0;
	if (c->resv[a][d] != NOBODY)
		return EADDRINUSE;
	h = holder(c, a, d);
	return h != NOBODY && h != gi ? EADDRINUSE : 0;
}

static int oracle_release(const struct config *c, int a, int d)
{
	int owner = c->resv[a][d];

	if (owner == NOBODY)
		return ENOENT;
	return owner < c->n_guests && holds(&c->g[owner], a, d) ? EBUSY : 0;
}

static int oracle_remove(const struct config *c, int gi)
{
	if (gi >= c->n_guests)
		return ENOENT;
	return c->g[gi].running ? EBUSY : 0;
}

/* ---- drawing configurations ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t) (rng_state >> 33) % n;
}

static void random_set(bool s[N], unsigned ids, unsigned percent)
{
	for (unsigned i = 0; i < N; i++)
		s[i] = i < ids && rnd(100) < percent;
}

static void random_config(struct config *c)
{
	*c = (struct config){ .dynamic = rnd(2) };
	random_set(c->card, MAXID + 1, 80);
	random_set(c->udom, MAXID + 1, 80);
	random_set(c->apmask, N, 40);
	random_set(c->aqmask, N, 50);
	for (int tries = 0; tries < 8 && c->n_guests < (int) rnd(GUESTS + 1); tries++) {
		struct oguest g = { 0 };
		bool ok = true;

		random_set(g.a, MAXID + 1, 45);
		random_set(g.d, MAXID + 1, 45);
		random_set(g.c, MAXID + 1, 20);
		/* the kernel never lets two mdevs share; new kernels keep the host pool out */
		for (int a = 0; a < N; a++)
			for (int d = 0; d < N; d++)
				if (holds(&g, a, d) && (holder(c, a, d) != NOBODY ||
							(c->dynamic && host_pool(c, a, d))))
					ok = false;
		if (!ok)
			continue;
		g.missing = rnd(100) < 12;
		g.running = !g.missing && rnd(100) < 30;
		c->g[c->n_guests++] = g;
	}
	for (int a = 0; a <= MAXID; a++)
		for (int d = 0; d <= MAXID; d++) {
			unsigned r = rnd(100);

			c->resv[a][d] = r < 60 ? NOBODY : r < 85 ? (int) rnd(GUESTS) : GONE;
			if (c->resv[a][d] >= 0 && c->resv[a][d] < GUESTS &&
			    c->resv[a][d] >= c->n_guests)
				c->resv[a][d] = GONE;
		}
}

static struct idset to_idset(const bool s[N])
{
	struct idset r = IDSET_EMPTY;

	for (unsigned i = 0; i < N; i++)
		if (s[i])
			idset_add(&r, i);
	return r;
}

static struct model *build_model(const struct config *c)
{
	struct host h = { 0 };
	struct model *m = NULL;

	assert_int_equal(model_new(&m), 0);
	h.caps = (struct kernel_caps){ .dynamic = c->dynamic, .vfio_ap = true };
	h.max_adapter = h.max_domain = MAXID;
	h.adapters = to_idset(c->card);
	h.usage_domains = to_idset(c->udom);
	h.control_domains = h.usage_domains;
	h.apmask = to_idset(c->apmask);
	h.aqmask = to_idset(c->aqmask);
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++) {
			struct apqn q = { .ap = (uint8_t) a, .dom = (uint8_t) d };

			if (!exists(c, a, d))
				continue;
			apqn_set_add(&h.queues, q);
			apqn_set_add(host_pool(c, a, d) ? &h.default_bound : &h.vfio_bound, q);
		}
	model_set_host(m, &h);
	for (int i = 0; i < c->n_guests; i++) {
		struct guest g = { .adapters = to_idset(c->g[i].a),
				   .domains = to_idset(c->g[i].d),
				   .control_domains = to_idset(c->g[i].c),
				   .state = c->g[i].missing   ? GUEST_MISSING
					    : c->g[i].running ? GUEST_RUNNING
							      : GUEST_ACTIVE };

		snprintf(g.name, sizeof(g.name), "%s", names[i]);
		snprintf(g.uuid, sizeof(g.uuid), "00000000-0000-0000-0000-%012u", (unsigned) i);
		assert_int_equal(model_guest_add(m, &g), 0);
	}
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (c->resv[a][d] != NOBODY)
				assert_int_equal(model_reserve(m,
							       (struct apqn){ .ap = (uint8_t) a,
									      .dom = (uint8_t) d },
							       names[c->resv[a][d]]),
						 0);
	return m;
}

/* ---- the comparison ---- */

static unsigned long checks;

static void describe_config(const struct config *c)
{
	fprintf(stderr, "kernel %s, apmask", c->dynamic ? "6.0+" : "old");
	for (int i = 0; i < N; i++)
		fprintf(stderr, "%d", c->apmask[i]);
	fprintf(stderr, " aqmask");
	for (int i = 0; i < N; i++)
		fprintf(stderr, "%d", c->aqmask[i]);
	fprintf(stderr, " cards");
	for (int i = 0; i < N; i++)
		fprintf(stderr, "%d", c->card[i]);
	fprintf(stderr, " domains");
	for (int i = 0; i < N; i++)
		fprintf(stderr, "%d", c->udom[i]);
	for (int g = 0; g < c->n_guests; g++) {
		fprintf(stderr, "\n  %s%s%s a", names[g], c->g[g].running ? " running" : "",
			c->g[g].missing ? " missing" : "");
		for (int i = 0; i < N; i++)
			fprintf(stderr, "%d", c->g[g].a[i]);
		fprintf(stderr, " d");
		for (int i = 0; i < N; i++)
			fprintf(stderr, "%d", c->g[g].d[i]);
	}
	fprintf(stderr, "\n  reservations:");
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (c->resv[a][d] != NOBODY)
				fprintf(stderr, " %d.%d=%s", a, d, names[c->resv[a][d]]);
	fprintf(stderr, "\n");
}

static void compare(const struct config *c, const struct model *m, const struct intent *in,
		    int expected, const char *what)
{
	/* one verdict for all checks: it is large, and the checks are many */
	static struct verdict verdict;
	struct verdict *v = &verdict;
	int got;

	got = -rules_check(m, in, "ffffffff-0000-0000-0000-000000000000", v);
	if (got != expected) {
		describe_config(c);
		fprintf(stderr, "intent %s: rules say %d (%s), the oracle %d\n", what, got,
			v->why.reason, expected);
	}
	assert_int_equal(got, expected);
	checks++;
}

static void check_config(const struct config *c)
{
	static const enum matrix_part parts[] = { PART_ADAPTER, PART_DOMAIN, PART_CONTROL_DOMAIN };
	struct model *m = build_model(c);
	char what[64];

	for (int gi = 0; gi <= GUESTS; gi++) {
		const char *name = names[gi];

		for (size_t p = 0; p < 3; p++)
			for (int id = 0; id < N; id++)
				for (int assign = 0; assign <= 1; assign++) {
					struct intent in = { .type = assign ? INTENT_ASSIGN
									    : INTENT_UNASSIGN,
							     .guest = name,
							     .part = parts[p],
							     .id = (unsigned) id };

					snprintf(what, sizeof(what), "%sassign %s part %zu id %d",
						 assign ? "" : "un", name, p, id);
					compare(c, m, &in,
						oracle_assign(c, gi, parts[p], id, assign), what);
				}
		for (int a = 0; a < N; a++)
			for (int d = 0; d < N; d++) {
				struct intent in = { .type = INTENT_QUEUE_ADD,
						     .guest = name,
						     .apqn = { .ap = (uint8_t) a,
							       .dom = (uint8_t) d } };

				snprintf(what, sizeof(what), "queue add %s %d.%d", name, a, d);
				compare(c, m, &in, oracle_queue_add(c, gi, a, d), what);
				in.type = INTENT_QUEUE_REMOVE;
				snprintf(what, sizeof(what), "queue remove %s %d.%d", name, a, d);
				compare(c, m, &in, oracle_queue_remove(c, gi, a, d), what);
				in.type = INTENT_RESERVE;
				snprintf(what, sizeof(what), "reserve %d.%d for %s", a, d, name);
				compare(c, m, &in, oracle_reserve(c, gi, a, d), what);
			}
		{
			struct intent in = { .type = INTENT_GUEST_REMOVE, .guest = name };

			snprintf(what, sizeof(what), "remove %s", name);
			compare(c, m, &in, oracle_remove(c, gi), what);
		}
	}
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++) {
			struct intent in = { .type = INTENT_POOL_MOVE,
					     .apqn = { .ap = (uint8_t) a, .dom = (uint8_t) d } };

			for (int to_host = 0; to_host <= 1; to_host++) {
				in.to = to_host ? POOL_HOST : POOL_VFIO;
				snprintf(what, sizeof(what), "move %d.%d to %s", a, d,
					 to_host ? "host" : "vfio");
				compare(c, m, &in, oracle_pool_move(c, a, d, to_host), what);
			}
			if (a <= MAXID && d <= MAXID) {
				in = (struct intent){ .type = INTENT_RELEASE,
						      .apqn = { .ap = (uint8_t) a,
								.dom = (uint8_t) d } };
				snprintf(what, sizeof(what), "release %d.%d", a, d);
				compare(c, m, &in, oracle_release(c, a, d), what);
			}
		}
	for (size_t t = 0; t < sizeof(mask_texts) / sizeof(mask_texts[0]); t++)
		for (int which = 0; which <= 1; which++) {
			struct intent in = { .type = INTENT_MASK_EDIT,
					     .mask = which ? MASK_AQ : MASK_AP,
					     .text = mask_texts[t].text };

			snprintf(what, sizeof(what), "%s '%s'", which ? "aqmask" : "apmask",
				 mask_texts[t].text);
			compare(c, m, &in, oracle_mask_edit(c, in.mask, &mask_texts[t]), what);
		}
	model_free(m);
}

static void test_rules_match_the_oracle(void **state)
{
	const char *env_seed = getenv("ZAPFS_ORACLE_SEED");
	const char *env_rounds = getenv("ZAPFS_ORACLE_ROUNDS");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t) time(NULL);
	unsigned long rounds = env_rounds ? strtoul(env_rounds, NULL, 0) : 600;
	struct config c;

	(void) state;
	printf("oracle: seed %llu, %lu configurations (ZAPFS_ORACLE_SEED=%llu repeats it)\n",
	       (unsigned long long) seed, rounds, (unsigned long long) seed);
	rng_state = seed;
	for (unsigned long r = 0; r < rounds; r++) {
		random_config(&c);
		check_config(&c);
	}
	printf("oracle: %lu verdicts agree\n", checks);
}

/* Sets s to the ids 0 and 1 as the two low bits of bits say. */
static void small_set(bool s[N], unsigned bits)
{
	for (unsigned i = 0; i < N; i++)
		s[i] = i < 2 && (bits >> i) & 1;
}

/* Whether the kernel could have made g beside the guests already in c. */
static bool guest_fits(const struct config *c, const struct oguest *g)
{
	for (int a = 0; a < N; a++)
		for (int d = 0; d < N; d++)
			if (holds(g, a, d) &&
			    (holder(c, a, d) != NOBODY || (c->dynamic && host_pool(c, a, d))))
				return false;
	return true;
}

/*
 * Every small configuration, not a sample: both kernel generations, every
 * host mask over adapters and domains 0-1, and every pair of guest matrices
 * over those ids that the kernel could have made (no sharing; on new kernels
 * no host-pool queue), with no reservations.
 */
static void test_rules_match_the_oracle_on_every_small_matrix(void **state)
{
	unsigned long configs = 0;

	(void) state;
	checks = 0;
	for (int dynamic = 0; dynamic <= 1; dynamic++)
		for (unsigned masks = 0; masks < 16; masks++)
			for (unsigned m0 = 0; m0 < 16; m0++)
				for (unsigned m1 = 0; m1 < 16; m1++) {
					struct config c = { .dynamic = dynamic };
					struct oguest g0 = { 0 }, g1 = { 0 };

					for (int i = 0; i <= MAXID; i++)
						c.card[i] = c.udom[i] = true;
					small_set(c.apmask, masks & 3);
					small_set(c.aqmask, masks >> 2);
					c.apmask[2] = c.aqmask[2] = true;
					memset(c.resv, 0xff, sizeof(c.resv)); /* NOBODY */
					small_set(g0.a, m0 & 3);
					small_set(g0.d, m0 >> 2);
					small_set(g1.a, m1 & 3);
					small_set(g1.d, m1 >> 2);
					if (!guest_fits(&c, &g0))
						continue;
					c.g[c.n_guests++] = g0;
					if (!guest_fits(&c, &g1))
						continue;
					c.g[c.n_guests++] = g1;
					check_config(&c);
					configs++;
				}
	printf("oracle: every small matrix: %lu configurations, %lu verdicts agree\n", configs,
	       checks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_match_the_oracle),
		cmocka_unit_test(test_rules_match_the_oracle_on_every_small_matrix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
