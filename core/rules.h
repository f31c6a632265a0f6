/* SPDX-License-Identifier: MIT */
/*
 * The rules of DESIGN §2, for both kernel generations (caps.dynamic false
 * means before 6.0). rules_check() decides whether an intent may run on a
 * model and, when it may, what it resolves to: the guest's target matrix,
 * the target host masks, the queues it brings along. The planner only turns
 * that resolution into kernel writes.
 *
 * Checks run in a fixed order, and the first refusal wins:
 *   bad name (EINVAL), no such guest (ENOENT), name or UUID taken (EEXIST),
 *   id above the maximum (ENODEV, rule 3), no such queue (ENOENT), nothing to
 *   change (allowed, no-op), missing mdev (ENODEV), running guest (EBUSY: rule
 *   5 on old kernels, removal on every kernel); then for a growing matrix:
 *   host-pool queue in it (EADDRNOTAVAIL, rule 2), queue not bound to vfio_ap
 *   on old kernels (EADDRNOTAVAIL, rule 5), another guest's queue (EADDRINUSE,
 *   rule 1; missing guests count), another guest's reservation (EADDRINUSE,
 *   rule 4); for a growing host pool: a guest's queue or any reservation
 *   (EBUSY, rules 1 and 4); last, the collateral of a queue removal or a pool
 *   move (EBUSY).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/explain.h"
#include "core/idset.h"
#include "core/intent.h"
#include "core/model.h"

#define VERDICT_NOTE_MAX 512

/* An intent, checked and resolved against one model. */
struct verdict {
	int err;	    /* 0 allowed, or the positive errno of the refusal */
	struct explain why; /* set when refused */
	bool noop;	    /* allowed, and nothing needs to change */
	/* guest intents: the guest (after a create: as it will be) and its target matrix */
	struct guest target;
	/* pool moves and mask edits: the target host masks */
	struct idset apmask, aqmask;
	struct apqn_set gained;	     /* APQNs the guest's matrix gains (they get reserved) */
	struct apqn_set moved;	     /* existing queues that change pool */
	bool hotplug;		     /* a running guest on a 6.0+ kernel sees the change at once */
	char note[VERDICT_NOTE_MAX]; /* for the outcome: hot plug, queues brought along */
};

/*
 * Checks intent against m (see the order above) and resolves it into *ret.
 * uuid_fresh is the UUID to give a created guest whose intent names none (may
 * be NULL for other intents). Returns 0 when allowed, else -errno with
 * ret->why set. The resolution fields are valid only when allowed.
 */
int rules_check(const struct model *m, const struct intent *intent, const char *uuid_fresh,
		struct verdict *ret);

/*
 * The warnings `status` shows for the model, one per line ("guest g2 has
 * control domains but no usage domain"). Returns the length the full text
 * needs, as snprintf.
 */
size_t rules_warnings(const struct model *m, char *buf, size_t size);
