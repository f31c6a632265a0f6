/* SPDX-License-Identifier: MIT */
/*
 * The planner: a resolved intent (struct verdict) becomes the kernel writes
 * that carry it out, each with the writes that revert it. The engine runs the
 * steps in order and, if one fails, the undo lists of the steps already done
 * in reverse order (DESIGN §2 rule 7).
 *
 * Matrix changes: one KOP_AP_CONFIG write when the kernel has ap_config and
 * more than one bit changes; otherwise assign_* writes (adapters, then
 * domains, then control domains) after unassign_* writes. Each intermediate
 * matrix of such a sequence lies between the old and the new one, so it
 * passes the kernel's checks whenever the end state does. Host masks: one
 * relative write per mask that changes, apmask first.
 */
#pragma once

#include <stddef.h>

#include "core/intent.h"
#include "core/model.h"
#include "core/port.h"
#include "core/rules.h"

struct plan_step {
	struct kop op;
	struct kop *undo; /* run in this order to revert op */
	size_t n_undo;
};

struct plan {
	struct plan_step *steps;
	size_t n_steps;
};

/*
 * The kernel writes for an allowed verdict of intent on m (none for a no-op
 * or a change that is zapfs's own, such as a rename or a reservation).
 * -EINVAL if the verdict was a refusal, -ENOMEM. Free with plan_done().
 */
int plan_build(const struct model *m, const struct intent *intent, const struct verdict *v,
	       struct plan *ret);

/* Releases what p holds and empties it. */
void plan_done(struct plan *p);
