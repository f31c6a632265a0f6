/* SPDX-License-Identifier: MIT */
#include "core/rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"

/* How many APQNs a sentence names before "and N more". */
#define SENTENCE_APQNS 4

/* Room for one list of names in a sentence. */
#define LIST_SIZE 160

/*
 * snprintf for sentences: truncating a long list is expected, and vsnprintf
 * keeps the compiler from warning about each possible truncation.
 */
__attribute__((format(printf, 3, 4))) static int textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

struct names {
	char s[LIST_SIZE];
};

static struct names apqns_text(const struct apqn_set *set)
{
	struct names n;

	apqn_list_format(set, SENTENCE_APQNS, n.s, sizeof(n.s));
	return n;
}

static struct names apqn_text(struct apqn q)
{
	struct names n;

	apqn_name_format(q, n.s);
	return n;
}

static struct names ids_text(const struct idset *s, bool domains)
{
	struct names n;

	if (domains)
		domain_list_format(s, n.s, sizeof(n.s));
	else
		adapter_list_format(s, n.s, sizeof(n.s));
	return n;
}

static struct names id_text(unsigned id, bool domain)
{
	struct names n;

	if (id >= AP_ID_COUNT)
		textf(n.s, sizeof(n.s), "%u", id);
	else if (domain)
		domain_name_format(id, n.s);
	else
		adapter_name_format(id, n.s);
	return n;
}

static struct idset *part_set(struct guest *g, enum matrix_part part)
{
	switch (part) {
	case PART_ADAPTER:
		return &g->adapters;
	case PART_DOMAIN:
		return &g->domains;
	case PART_CONTROL_DOMAIN:
		break;
	}
	return &g->control_domains;
}

static struct apqn_set cross(const struct idset *adapters, const struct idset *domains)
{
	struct apqn_set s;

	apqn_set_clear(&s);
	apqn_set_add_cross(&s, adapters, domains);
	return s;
}

/* ---- plain refusals ---- */

static int refuse_no_guest(struct verdict *v, const char *name)
{
	return explain_set(&v->why, RULE_NONE, ENOENT, "there is no guest %s", name ? name : "");
}

static int refuse_bad_name(struct verdict *v, const char *name)
{
	return explain_set(
	    &v->why, RULE_NONE, EINVAL,
	    "'%s' is not a guest name: use 1 to 64 letters, digits, '.', '_' or '-', "
	    "not starting with '.'",
	    name ? name : "");
}

static int check_max_id(const struct host *h, struct verdict *v, bool domain, unsigned id)
{
	unsigned max = domain ? h->max_domain : h->max_adapter;

	if (id <= max)
		return 0;
	return explain_set(&v->why, RULE_MAX_ID, ENODEV,
			   "%s %s is above this host's highest %s id, %s",
			   domain ? "domain" : "adapter", id_text(id, domain).s,
			   domain ? "domain" : "adapter", id_text(max, domain).s);
}

static int check_max_apqn(const struct host *h, struct verdict *v, struct apqn q)
{
	int err = check_max_id(h, v, false, q.ap);

	return err < 0 ? err : check_max_id(h, v, true, q.dom);
}

static int check_present(const struct guest *g, struct verdict *v)
{
	if (g->state != GUEST_MISSING)
		return 0;
	explain_set(&v->why, RULE_NONE, ENODEV, "guest %s is missing: its mdev %s does not exist",
		    g->name, g->uuid);
	explain_way_out(&v->why, "remove the guest, or wait until it is re-created");
	return -ENODEV;
}

/* Rule 5: whether the kernel can change this guest's matrix now. */
static int check_running(const struct model *m, const struct guest *g, struct verdict *v)
{
	if (g->state != GUEST_RUNNING)
		return 0;
	if (model_host(m)->caps.dynamic) {
		v->hotplug = true;
		return 0;
	}
	explain_set(&v->why, RULE_RUNNING, EBUSY,
		    "guest %s is running, and this kernel (before 6.0) cannot change a running "
		    "guest's matrix",
		    g->name);
	explain_way_out(&v->why, "stop the KVM guest first");
	return -EBUSY;
}

/* ---- what a matrix gains ---- */

enum conflict {
	CONFLICT_HOST_POOL,
	CONFLICT_UNBOUND,
	CONFLICT_OWNER,
	CONFLICT_RESERVATION,
};

/*
 * Why bad would enter g's matrix, in the words of the change: the requested
 * queue itself (returns true: "direct"), or the cross product of a new
 * adapter with g's domains, or of a new domain with g's adapters. *shown
 * gets the queues the phrase names.
 */
static bool gain_phrase(const struct guest *g, const struct guest *target,
			const struct intent *intent, const struct apqn_set *bad,
			struct apqn_set *shown, char *buf, size_t size)
{
	struct idset new_adapters = idset_minus(&target->adapters, &g->adapters);
	struct idset one = IDSET_EMPTY;
	bool queue_add = intent->type == INTENT_QUEUE_ADD;
	const char *also = queue_add ? "also " : "";
	struct apqn first = { 0 };
	unsigned pos = 0;

	apqn_set_clear(shown);
	if (queue_add && apqn_set_has(bad, intent->apqn)) {
		apqn_set_add(shown, intent->apqn);
		textf(buf, size, "%s", apqn_text(intent->apqn).s);
		return true;
	}
	apqn_set_next(bad, &pos, &first);
	if (idset_has(&new_adapters, first.ap) && idset_has(&g->domains, first.dom)) {
		idset_add(&one, first.ap);
		*shown = cross(&one, &g->domains);
		apqn_set_and(shown, bad);
		textf(buf, size, "%s holds %s %s, so adapter %s would %sgive it %s", g->name,
		      idset_count(&g->domains) > 1 ? "domains" : "domain",
		      ids_text(&g->domains, true).s, id_text(first.ap, false).s, also,
		      apqns_text(shown).s);
	} else if (idset_has(&g->adapters, first.ap)) {
		idset_add(&one, first.dom);
		*shown = cross(&g->adapters, &one);
		apqn_set_and(shown, bad);
		textf(buf, size, "%s holds %s %s, so domain %s would %sgive it %s", g->name,
		      idset_count(&g->adapters) > 1 ? "adapters" : "adapter",
		      ids_text(&g->adapters, false).s, id_text(first.dom, true).s, also,
		      apqns_text(shown).s);
	} else {
		*shown = *bad;
		textf(buf, size, "the change would give %s %s", g->name, apqns_text(bad).s);
	}
	return false;
}

static int refuse_gain(const struct guest *g, const struct guest *target,
		       const struct intent *intent, const struct apqn_set *bad,
		       enum conflict conflict, const char *other, struct verdict *v)
{
	char source[EXPLAIN_TEXT_MAX / 2];
	struct apqn_set shown;
	struct apqn first = { 0 };
	unsigned pos = 0;
	bool direct = gain_phrase(g, target, intent, bad, &shown, source, sizeof(source));

	apqn_set_next(&shown, &pos, &first);
	explain_apqns(&v->why, bad);
	textf(v->why.other, sizeof(v->why.other), "%s", other);

	switch (conflict) {
	case CONFLICT_HOST_POOL:
		explain_way_out(&v->why, "take %s from the host first (pools/host)",
				apqns_text(bad).s);
		return explain_set(&v->why, RULE_HOST_POOL, EADDRNOTAVAIL, "%s%s", source,
				   direct ? " is in the host pool" : ", which the host pool holds");
	case CONFLICT_UNBOUND:
		return explain_set(
		    &v->why, RULE_RUNNING, EADDRNOTAVAIL,
		    "%s%s not bound to vfio_ap: this kernel (before 6.0) assigns only "
		    "queues bound to vfio_ap",
		    source, direct ? " is" : ",");
	case CONFLICT_OWNER:
		return explain_set(&v->why, RULE_ONE_OWNER, EADDRINUSE, "%s%s guest %s%s", source,
				   direct ? " is held by" : ", which", other,
				   direct ? "" : " holds");
	case CONFLICT_RESERVATION:
		explain_way_out(
		    &v->why, "rm reservations/%s once guest %s's keys in its domain are dealt with",
		    apqn_text(first).s, other);
		return explain_set(&v->why, RULE_RESERVATION, EADDRINUSE,
				   "%s%s reserved for guest %s", source,
				   direct ? " is" : ", which is", other);
	}
	return -EINVAL;
}

/* Old kernels: an id that forms no APQN yet still needs some queue bound to vfio_ap. */
static int check_lone_ids_bound(const struct host *h, const struct idset *lone, bool domains,
				struct verdict *v)
{
	struct idset all = idset_range(0, AP_ID_COUNT - 1);

	IDSET_FOREACH (id, lone) {
		struct idset one = IDSET_EMPTY;
		struct apqn_set line;

		idset_add(&one, (unsigned) id);
		line = domains ? cross(&all, &one) : cross(&one, &all);
		apqn_set_and(&line, &h->vfio_bound);
		if (apqn_set_empty(&line))
			return explain_set(
			    &v->why, RULE_RUNNING, EADDRNOTAVAIL,
			    "%s %s has no queue bound to vfio_ap: this kernel (before "
			    "6.0) assigns only queues bound to vfio_ap",
			    domains ? "domain" : "adapter", id_text((unsigned) id, domains).s);
	}
	return 0;
}

/* Old kernels want a queue bound to vfio_ap behind every APQN of the matrix. */
static int check_bound(const struct model *m, const struct guest *g, const struct guest *target,
		       const struct intent *intent, const struct apqn_set *gained,
		       struct verdict *v)
{
	const struct host *h = model_host(m);
	struct apqn_set bad = *gained;
	struct idset new_adapters = idset_minus(&target->adapters, &g->adapters);
	struct idset new_domains = idset_minus(&target->domains, &g->domains);
	int err = 0;

	apqn_set_minus(&bad, &h->vfio_bound);
	if (!apqn_set_empty(&bad))
		return refuse_gain(g, target, intent, &bad, CONFLICT_UNBOUND, "", v);
	if (idset_empty(&target->domains))
		err = check_lone_ids_bound(h, &new_adapters, false, v);
	if (err == 0 && idset_empty(&target->adapters))
		err = check_lone_ids_bound(h, &new_domains, true, v);
	return err;
}

/*
 * Rules 1, 2, 4 and (old kernels) 5 for g's matrix becoming target's. Like
 * the kernel, rules 1 and 2 look at the whole resulting matrix; rule 4 looks
 * only at what the change adds, so a reservation never blocks unrelated work.
 */
static int check_matrix_gain(const struct model *m, const struct guest *g,
			     const struct guest *target, const struct intent *intent,
			     struct verdict *v)
{
	const struct host *h = model_host(m);
	struct apqn_set whole = cross(&target->adapters, &target->domains);
	struct apqn_set bad;
	struct apqn q;
	int err;
	struct apqn_set old = cross(&g->adapters, &g->domains);

	v->gained = whole;
	apqn_set_minus(&v->gained, &old);

	bad = cross(&h->apmask, &h->aqmask);
	apqn_set_and(&bad, &whole);
	if (!apqn_set_empty(&bad))
		return refuse_gain(g, target, intent, &bad, CONFLICT_HOST_POOL, "host", v);

	if (!h->caps.dynamic) {
		err = check_bound(m, g, target, intent, &v->gained, v);
		if (err < 0)
			return err;
	}

	GUEST_FOREACH (other, m) {
		if (other == g)
			continue;
		bad = cross(&other->adapters, &other->domains);
		apqn_set_and(&bad, &whole);
		if (!apqn_set_empty(&bad))
			return refuse_gain(g, target, intent, &bad, CONFLICT_OWNER, other->name, v);
	}

	APQN_SET_FOREACH (q, &v->gained) {
		const char *owner = model_reservation(m, q);
		struct apqn r;

		if (!owner || strcmp(owner, g->name) == 0)
			continue;
		/* name every gained queue this owner has reserved */
		apqn_set_clear(&bad);
		APQN_SET_FOREACH (r, &v->gained) {
			const char *o = model_reservation(m, r);

			if (o && strcmp(o, owner) == 0)
				apqn_set_add(&bad, r);
		}
		return refuse_gain(g, target, intent, &bad, CONFLICT_RESERVATION, owner, v);
	}
	return 0;
}

static void note_gain(const struct guest *g, const struct intent *intent, struct verdict *v)
{
	struct apqn_set extra = v->gained;
	size_t len = strlen(v->note);

	if (intent->type == INTENT_QUEUE_ADD) {
		apqn_set_del(&extra, intent->apqn);
		if (!apqn_set_empty(&extra))
			textf(v->note + len, sizeof(v->note) - len,
			      "%sthe cross product also gives %s %s", len ? "; " : "", g->name,
			      apqns_text(&extra).s);
	} else if (!apqn_set_empty(&extra)) {
		textf(v->note + len, sizeof(v->note) - len, "%s%s gains %s", len ? "; " : "",
		      g->name, apqns_text(&extra).s);
	}
}

static void note_hotplug(const struct guest *g, bool unplug, struct verdict *v)
{
	size_t len = strlen(v->note);

	if (v->hotplug)
		textf(v->note + len, sizeof(v->note) - len,
		      "%sguest %s is running: the change is hot-%s", len ? "; " : "", g->name,
		      unplug ? "unplugged from it" : "plugged into it");
}

/* The common start of every change of one guest's matrix. */
static int guest_for_change(const struct model *m, const struct intent *intent,
			    const struct guest **ret, struct verdict *v)
{
	const struct guest *g = model_guest_by_name(m, intent->guest);

	if (!g)
		return refuse_no_guest(v, intent->guest);
	*ret = g;
	v->target = *g;
	return 0;
}

/* ---- the intents ---- */

static int check_create(const struct model *m, const struct intent *intent, const char *uuid_fresh,
			struct verdict *v)
{
	const char *uuid = intent->uuid;
	const struct guest *other;

	if (!guest_name_valid(intent->guest))
		return refuse_bad_name(v, intent->guest);
	if (uuid_valid(intent->guest)) {
		if (uuid && strcasecmp(uuid, intent->guest) != 0)
			return explain_set(&v->why, RULE_NONE, EINVAL,
					   "a guest named like a UUID must have that UUID");
		uuid = intent->guest;
	} else if (!uuid) {
		uuid = uuid_fresh;
	}
	if (!uuid_valid(uuid))
		return explain_set(&v->why, RULE_NONE, EINVAL, "'%s' is not a UUID",
				   uuid ? uuid : "");
	if (model_guest_by_name(m, intent->guest))
		return explain_set(&v->why, RULE_NONE, EEXIST, "guest %s exists", intent->guest);
	other = model_guest_by_uuid(m, uuid);
	if (other)
		return explain_set(&v->why, RULE_NONE, EEXIST, "UUID %s belongs to guest %s", uuid,
				   other->name);
	if (!model_host(m)->caps.vfio_ap) {
		explain_set(&v->why, RULE_NONE, ENODEV,
			    "the vfio_ap module is not loaded, so there is no matrix device");
		explain_way_out(&v->why, "load vfio_ap");
		return -ENODEV;
	}
	v->target = (struct guest){ .state = GUEST_ACTIVE };
	textf(v->target.name, sizeof(v->target.name), "%s", intent->guest);
	for (size_t i = 0; i <= UUID_STR_LEN; i++)
		v->target.uuid[i] = (char) tolower((unsigned char) uuid[i]);
	return 0;
}

static int check_remove(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = NULL;
	int err = guest_for_change(m, intent, &g, v);

	if (err < 0)
		return err;
	if (g->state == GUEST_RUNNING) {
		explain_set(&v->why, RULE_RUNNING, EBUSY, "guest %s is running", g->name);
		explain_way_out(&v->why, "stop the KVM guest first");
		return -EBUSY;
	}
	return 0;
}

static int check_rename(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = NULL;
	int err = guest_for_change(m, intent, &g, v);

	if (err < 0)
		return err;
	if (!guest_name_valid(intent->new_name))
		return refuse_bad_name(v, intent->new_name);
	if (strcmp(g->name, intent->new_name) == 0) {
		v->noop = true;
		return 0;
	}
	if (model_guest_by_name(m, intent->new_name))
		return explain_set(&v->why, RULE_NONE, EEXIST, "guest %s exists", intent->new_name);
	if (uuid_valid(intent->new_name) && strcasecmp(intent->new_name, g->uuid) != 0)
		return explain_set(&v->why, RULE_NONE, EINVAL,
				   "a guest named like a UUID must have that UUID, and %s's is %s",
				   g->name, g->uuid);
	textf(v->target.name, sizeof(v->target.name), "%s", intent->new_name);
	return 0;
}

static int check_assign(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = NULL;
	int err = guest_for_change(m, intent, &g, v);
	struct idset *set;

	if (err < 0)
		return err;
	err = check_max_id(model_host(m), v, intent->part != PART_ADAPTER, intent->id);
	if (err < 0)
		return err;
	set = part_set(&v->target, intent->part);
	if (idset_has(set, intent->id) == (intent->type == INTENT_ASSIGN)) {
		v->noop = true;
		return 0;
	}
	err = check_present(g, v);
	if (err < 0)
		return err;
	err = check_running(m, g, v);
	if (err < 0)
		return err;
	if (intent->type == INTENT_UNASSIGN) {
		idset_del(set, intent->id);
		note_hotplug(g, true, v);
		return 0;
	}
	idset_add(set, intent->id);
	/* rule 6: control domains may be shared, and need no queue */
	if (intent->part != PART_CONTROL_DOMAIN) {
		err = check_matrix_gain(m, g, &v->target, intent, v);
		if (err < 0)
			return err;
	}
	note_gain(g, intent, v);
	note_hotplug(g, false, v);
	return 0;
}

static int check_queue_add(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = NULL;
	int err = guest_for_change(m, intent, &g, v);

	if (err < 0)
		return err;
	err = check_max_apqn(model_host(m), v, intent->apqn);
	if (err < 0)
		return err;
	if (idset_has(&g->adapters, intent->apqn.ap) && idset_has(&g->domains, intent->apqn.dom)) {
		v->noop = true;
		return 0;
	}
	err = check_present(g, v);
	if (err < 0)
		return err;
	err = check_running(m, g, v);
	if (err < 0)
		return err;
	idset_add(&v->target.adapters, intent->apqn.ap);
	idset_add(&v->target.domains, intent->apqn.dom);
	err = check_matrix_gain(m, g, &v->target, intent, v);
	if (err < 0)
		return err;
	note_gain(g, intent, v);
	note_hotplug(g, false, v);
	return 0;
}

static int check_queue_remove(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = NULL;
	struct apqn q = intent->apqn;
	struct idset one_ap = IDSET_EMPTY, one_dom = IDSET_EMPTY, rest;
	struct apqn_set by_adapter, by_domain;
	int err = guest_for_change(m, intent, &g, v);

	if (err < 0)
		return err;
	err = check_max_apqn(model_host(m), v, q);
	if (err < 0)
		return err;
	if (!idset_has(&g->adapters, q.ap) || !idset_has(&g->domains, q.dom))
		return explain_set(&v->why, RULE_NONE, ENOENT, "guest %s does not hold %s", g->name,
				   apqn_text(q).s);
	err = check_present(g, v);
	if (err < 0)
		return err;
	err = check_running(m, g, v);
	if (err < 0)
		return err;

	idset_add(&one_ap, q.ap);
	idset_add(&one_dom, q.dom);
	rest = idset_minus(&g->domains, &one_dom);
	by_adapter = cross(&one_ap, &rest);
	rest = idset_minus(&g->adapters, &one_ap);
	by_domain = cross(&rest, &one_dom);

	/* with both free of collateral, the adapter goes: the domain may serve other adapters */
	if (apqn_set_empty(&by_adapter)) {
		idset_del(&v->target.adapters, q.ap);
	} else if (apqn_set_empty(&by_domain)) {
		idset_del(&v->target.domains, q.dom);
	} else {
		struct apqn_set all = by_adapter;

		for (size_t i = 0; i < ARRAY_SIZE(all.w); i++)
			all.w[i] |= by_domain.w[i];
		explain_apqns(&v->why, &all);
		explain_set(&v->why, RULE_NONE, EBUSY,
			    "removing adapter %s would also drop %s, removing domain %s would also "
			    "drop %s",
			    id_text(q.ap, false).s, apqns_text(&by_adapter).s,
			    id_text(q.dom, true).s, apqns_text(&by_domain).s);
		explain_way_out(&v->why, "remove adapters/%s or domains/%s instead",
				id_text(q.ap, false).s, id_text(q.dom, true).s);
		return -EBUSY;
	}
	note_hotplug(g, true, v);
	return 0;
}

/*
 * Rules 1 and 4 for the host pool growing by gain: no guest's queue, assigned
 * or reserved, may reach the host drivers, whatever the kernel checks. gain
 * is the whole cross product the masks add, queues or not, as the 6.0+
 * kernel's in_use check sees it.
 */
static int check_host_gain(const struct model *m, const struct apqn_set *gain, const char *what,
			   struct verdict *v)
{
	struct apqn_set bad;
	struct apqn q;

	GUEST_FOREACH (g, m) {
		bad = cross(&g->adapters, &g->domains);
		apqn_set_and(&bad, gain);
		if (apqn_set_empty(&bad))
			continue;
		explain_apqns(&v->why, &bad);
		textf(v->why.other, sizeof(v->why.other), "%s", g->name);
		explain_set(&v->why, RULE_ONE_OWNER, EBUSY,
			    "%s would give the host %s, which guest %s holds", what,
			    apqns_text(&bad).s, g->name);
		explain_way_out(&v->why, "remove it from guest %s first", g->name);
		return -EBUSY;
	}
	bad = *gain;
	apqn_set_and(&bad, model_reserved(m));
	APQN_SET_FOREACH (q, &bad) {
		const char *owner = model_reservation(m, q);
		struct apqn_set owned;
		struct apqn r;

		/* name the queues of the first owner found */
		apqn_set_clear(&owned);
		APQN_SET_FOREACH (r, &bad) {
			if (strcmp(model_reservation(m, r), owner) == 0)
				apqn_set_add(&owned, r);
		}
		explain_apqns(&v->why, &owned);
		textf(v->why.other, sizeof(v->why.other), "%s", owner);
		explain_way_out(&v->why, "rm reservations/%s once guest %s's keys are dealt with",
				apqn_text(q).s, owner);
		return explain_set(&v->why, RULE_RESERVATION, EBUSY,
				   "%s would give the host %s, reserved for guest %s", what,
				   apqns_text(&owned).s, owner);
	}
	return 0;
}

/* Sets v->moved and, for growth of the host pool, checks it. */
static int check_masks(const struct model *m, const char *what, struct verdict *v)
{
	const struct host *h = model_host(m);
	struct apqn_set before = cross(&h->apmask, &h->aqmask);
	struct apqn_set after = cross(&v->apmask, &v->aqmask);
	struct apqn_set gain = after;

	apqn_set_minus(&gain, &before);
	for (size_t i = 0; i < ARRAY_SIZE(v->moved.w); i++)
		v->moved.w[i] = (before.w[i] ^ after.w[i]) & h->queues.w[i];
	return check_host_gain(m, &gain, what, v);
}

/*
 * Moving one queue between the pools changes one mask bit (two when the
 * queue's adapter and domain are both outside the host masks). Only queues
 * that exist count as collateral: an APQN without a queue device moves no
 * driver binding, and the host may never see it.
 */
static int check_pool_move(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct host *h = model_host(m);
	struct apqn q = intent->apqn;
	struct idset one_ap = IDSET_EMPTY, one_dom = IDSET_EMPTY;
	char what[64];
	int err;

	err = check_max_apqn(h, v, q);
	if (err < 0)
		return err;
	if (!apqn_set_has(&h->queues, q))
		return explain_set(&v->why, RULE_NONE, ENOENT, "there is no queue %s on this host",
				   apqn_text(q).s);
	v->apmask = h->apmask;
	v->aqmask = h->aqmask;
	if (model_apqn_pool(m, q) == intent->to) {
		v->noop = true;
		return 0;
	}
	idset_add(&one_ap, q.ap);
	idset_add(&one_dom, q.dom);

	if (intent->to == POOL_VFIO) {
		struct apqn_set by_adapter = cross(&one_ap, &h->aqmask);
		struct apqn_set by_domain = cross(&h->apmask, &one_dom);

		apqn_set_and(&by_adapter, &h->queues);
		apqn_set_and(&by_domain, &h->queues);
		apqn_set_del(&by_adapter, q);
		apqn_set_del(&by_domain, q);
		/* the adapter first: whole adapters are the usual unit of passthrough */
		if (apqn_set_empty(&by_adapter)) {
			idset_del(&v->apmask, q.ap);
		} else if (apqn_set_empty(&by_domain)) {
			idset_del(&v->aqmask, q.dom);
		} else {
			struct apqn_set all = by_adapter;

			for (size_t i = 0; i < ARRAY_SIZE(all.w); i++)
				all.w[i] |= by_domain.w[i];
			explain_apqns(&v->why, &all);
			explain_set(&v->why, RULE_NONE, EBUSY,
				    "taking adapter %s from the host would also move %s, taking "
				    "domain %s would also move %s",
				    id_text(q.ap, false).s, apqns_text(&by_adapter).s,
				    id_text(q.dom, true).s, apqns_text(&by_domain).s);
			explain_way_out(&v->why, "edit pools/host/adapters or pools/host/domains "
						 "instead");
			return -EBUSY;
		}
		return check_masks(m, "", v);
	}

	v->apmask = idset_or(&h->apmask, &one_ap);
	v->aqmask = idset_or(&h->aqmask, &one_dom);
	textf(what, sizeof(what), "returning %s", apqn_text(q).s);
	err = check_masks(m, what, v);
	if (err < 0)
		return err;
	{
		struct apqn_set collateral = v->moved;

		apqn_set_del(&collateral, q);
		if (!apqn_set_empty(&collateral)) {
			bool ap_moves = !idset_has(&h->apmask, q.ap);
			bool dom_moves = !idset_has(&h->aqmask, q.dom);
			char doing[96];

			textf(doing, sizeof(doing), "giving %s%s%s%s%s to the host",
			      ap_moves ? "adapter " : "", ap_moves ? id_text(q.ap, false).s : "",
			      ap_moves && dom_moves ? " and " : "", dom_moves ? "domain " : "",
			      dom_moves ? id_text(q.dom, true).s : "");
			explain_apqns(&v->why, &collateral);
			explain_set(&v->why, RULE_NONE, EBUSY, "%s would also move %s", doing,
				    apqns_text(&collateral).s);
			explain_way_out(&v->why, "edit pools/host/adapters or pools/host/domains "
						 "instead");
			return -EBUSY;
		}
	}
	return 0;
}

static int check_mask_edit(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct host *h = model_host(m);
	const struct idset *current = intent->mask == MASK_AP ? &h->apmask : &h->aqmask;
	const char *file = intent->mask == MASK_AP ? "adapters" : "domains";
	struct idset result;
	char what[64];
	int err;

	/* the masks are 256 bits whatever the maximum ids, as in the kernel */
	err = idset_edit_parse(intent->text ? intent->text : "", AP_ID_COUNT - 1, current, &result,
			       NULL, NULL);
	if (err < 0) {
		explain_set(&v->why, RULE_NONE, -err, "'%s' is not a list of %s",
			    intent->text ? intent->text : "", file);
		explain_way_out(&v->why, "write ids and ranges such as 0-4,7-255, or edits such "
					 "as +5,-0x47");
		return err;
	}
	v->apmask = h->apmask;
	v->aqmask = h->aqmask;
	if (idset_equal(&result, current)) {
		v->noop = true;
		return 0;
	}
	*(intent->mask == MASK_AP ? &v->apmask : &v->aqmask) = result;
	textf(what, sizeof(what), "this change of pools/host/%s", file);
	return check_masks(m, what, v);
}

static int check_reserve(const struct model *m, const struct intent *intent, struct verdict *v)
{
	const struct guest *g = model_guest_by_name(m, intent->guest);
	struct apqn q = intent->apqn;
	const struct guest *holder;
	const char *owner;
	int err;

	if (!g)
		return refuse_no_guest(v, intent->guest);
	v->target = *g;
	err = check_max_apqn(model_host(m), v, q);
	if (err < 0)
		return err;
	owner = model_reservation(m, q);
	if (owner && strcmp(owner, g->name) == 0) {
		v->noop = true;
		return 0;
	}
	explain_apqns(&v->why, &(struct apqn_set){ { 0 } });
	if (owner) {
		textf(v->why.other, sizeof(v->why.other), "%s", owner);
		explain_set(&v->why, RULE_RESERVATION, EADDRINUSE, "%s is reserved for guest %s",
			    apqn_text(q).s, owner);
		explain_way_out(&v->why, "rm reservations/%s once guest %s's keys are dealt with",
				apqn_text(q).s, owner);
		return -EADDRINUSE;
	}
	holder = model_apqn_owner(m, q);
	if (holder && holder != g) {
		textf(v->why.other, sizeof(v->why.other), "%s", holder->name);
		return explain_set(&v->why, RULE_ONE_OWNER, EADDRINUSE, "%s is held by guest %s",
				   apqn_text(q).s, holder->name);
	}
	return 0;
}

static int check_release(const struct model *m, const struct intent *intent, struct verdict *v)
{
	struct apqn q = intent->apqn;
	const char *owner = model_reservation(m, q);
	const struct guest *g;

	if (!owner)
		return explain_set(&v->why, RULE_NONE, ENOENT, "%s has no reservation",
				   apqn_text(q).s);
	g = model_guest_by_name(m, owner);
	if (g && idset_has(&g->adapters, q.ap) && idset_has(&g->domains, q.dom)) {
		explain_set(&v->why, RULE_RESERVATION, EBUSY, "guest %s still holds %s", g->name,
			    apqn_text(q).s);
		explain_way_out(&v->why, "rm guests/%s/queues/%s first", g->name, apqn_text(q).s);
		return -EBUSY;
	}
	return 0;
}

int rules_check(const struct model *m, const struct intent *intent, const char *uuid_fresh,
		struct verdict *ret)
{
	int err = -EINVAL;

	*ret = (struct verdict){ 0 };
	explain_clear(&ret->why);
	switch (intent->type) {
	case INTENT_GUEST_CREATE:
		err = check_create(m, intent, uuid_fresh, ret);
		break;
	case INTENT_GUEST_REMOVE:
		err = check_remove(m, intent, ret);
		break;
	case INTENT_GUEST_RENAME:
		err = check_rename(m, intent, ret);
		break;
	case INTENT_ASSIGN:
	case INTENT_UNASSIGN:
		err = check_assign(m, intent, ret);
		break;
	case INTENT_QUEUE_ADD:
		err = check_queue_add(m, intent, ret);
		break;
	case INTENT_QUEUE_REMOVE:
		err = check_queue_remove(m, intent, ret);
		break;
	case INTENT_POOL_MOVE:
		err = check_pool_move(m, intent, ret);
		break;
	case INTENT_MASK_EDIT:
		err = check_mask_edit(m, intent, ret);
		break;
	case INTENT_RESERVE:
		err = check_reserve(m, intent, ret);
		break;
	case INTENT_RELEASE:
		err = check_release(m, intent, ret);
		break;
	}
	if (err < 0)
		ret->err = -err;
	return err;
}

size_t rules_warnings(const struct model *m, char *buf, size_t size)
{
	size_t len = 0;
	struct apqn q;

#define WARN(...)                                                                                  \
	do {                                                                                       \
		int n_ = textf(len < size ? buf + len : NULL, len < size ? size - len : 0,         \
			       __VA_ARGS__);                                                       \
		if (n_ > 0)                                                                        \
			len += (size_t) n_;                                                        \
	} while (0)

	if (size)
		buf[0] = '\0';
	GUEST_FOREACH (g, m) {
		if (!idset_empty(&g->control_domains) && idset_empty(&g->domains))
			WARN("guest %s has control domains but no usage domain\n", g->name);
		if (g->state == GUEST_MISSING && g->missing_reason[0])
			WARN("guest %s is missing: %s\n", g->name, g->missing_reason);
		else if (g->state == GUEST_MISSING)
			WARN("guest %s is missing: its mdev %s does not exist\n", g->name, g->uuid);
	}
	APQN_SET_FOREACH (q, model_reserved(m)) {
		const char *owner = model_reservation(m, q);
		const struct guest *holder = model_apqn_owner(m, q);

		if (holder && strcmp(holder->name, owner) != 0)
			WARN("%s is reserved for guest %s but guest %s holds it\n", apqn_text(q).s,
			     owner, holder->name);
		else if (model_apqn_pool(m, q) == POOL_HOST &&
			 apqn_set_has(&model_host(m)->queues, q))
			WARN("%s is reserved for guest %s but the host pool holds it\n",
			     apqn_text(q).s, owner);
	}
#undef WARN
	return len;
}
