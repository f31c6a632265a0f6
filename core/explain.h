/* SPDX-License-Identifier: MIT */
/*
 * Why an operation was refused, in a form both programs and people can use:
 * the rule (DESIGN §2), the kernel's errno, the queues involved, the other
 * owner, and the way out. It renders as one plain sentence:
 *
 *   touch guests/g1/queues/05.0047: refused (EADDRINUSE): g1 holds adapters 05
 *   and 06, so domain 0047 would also give it 06.0047, which guest g3 holds
 */
#pragma once

#include <stddef.h>

#include "core/idset.h"

/* The rules of DESIGN §2; RULE_NONE for plain refusals (bad name, no such guest...). */
enum rule {
	RULE_NONE = 0,
	RULE_ONE_OWNER = 1,
	RULE_HOST_POOL = 2,
	RULE_MAX_ID = 3,
	RULE_RESERVATION = 4,
	RULE_RUNNING = 5,
	RULE_CONTROL_DOMAINS = 6,
	RULE_ALL_OR_NOTHING = 7,
	RULE_FRESH_STATE = 8,
};

#define EXPLAIN_APQN_MAX 8
#define EXPLAIN_TEXT_MAX 512

struct explain {
	enum rule rule;
	int err;			     /* positive errno; 0 = not refused */
	struct apqn apqns[EXPLAIN_APQN_MAX]; /* the queues involved, the first few */
	size_t n_apqns;			     /* entries used in apqns */
	size_t total_apqns;		     /* how many there were in all */
	char other[72];			     /* the other owner: a guest name, "host", or "" */
	char reason[EXPLAIN_TEXT_MAX];	     /* "g1 holds adapters 05 and 06, so ..." */
	char way_out[EXPLAIN_TEXT_MAX];	     /* "remove adapters/05 or domains/0004 instead" */
};

/* The errno's symbolic name ("EADDRINUSE"), or "E?" for one zapfs never returns. */
const char *errno_name(int err);

/* Clears e (not refused). */
void explain_clear(struct explain *e);

/*
 * Sets the refusal: rule, positive errno and the reason as printf text.
 * Returns -err, so a check can `return explain_set(...)`.
 */
int explain_set(struct explain *e, enum rule rule, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets the way out as printf text. */
void explain_way_out(struct explain *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the queues involved: keeps the first EXPLAIN_APQN_MAX, counts all. */
void explain_apqns(struct explain *e, const struct apqn_set *s);

/*
 * The sentence "ACTION: refused (ENAME): REASON; WAY_OUT" (action may be
 * NULL or ""; then the sentence starts at "refused"). Returns the length the
 * full sentence needs, as snprintf.
 */
size_t explain_render(const struct explain *e, const char *action, char *buf, size_t size);
