/* SPDX-License-Identifier: MIT */
/*
 * Pieces the renderers share: the words the tree uses for states, and
 * appenders for the formats that several files need.
 */
#pragma once

#include "core/idset.h"
#include "core/model.h"
#include "core/strbuf.h"

/* The card's type as lszcrypt shows it: "CEX5C", or "-" when no zcrypt driver is bound. */
const char *render_card_type(const struct host_card *card);

/* lszcrypt's STATUS of a card: checkstop, deconfig, online or offline. */
const char *render_card_status(const struct host_card *card);

/*
 * The state of an existing queue: checkstop or deconfig (its card), online or
 * offline (host drivers), in-use, assigned or free (vfio_ap), unbound.
 */
const char *render_queue_state(const struct model *m, struct apqn q);

/* The driver the queue is bound to: "cex4queue", "vfio_ap" or "none". */
const char *render_queue_driver(const struct host *h, struct apqn q);

/* "host" or "vfio". */
const char *render_pool_name(enum apqn_pool pool);

/* "active", "running" or "missing". */
const char *render_guest_state_name(enum guest_state state);

/* Appends s as decimal ids and ranges ("0-4,7-255"; nothing when empty). 0 or -ENOMEM. */
int render_append_ranges(struct strbuf *out, const struct idset *s);

/* Appends s as a quoted JSON string, escaped. 0 or -ENOMEM. */
int render_append_json_string(struct strbuf *out, const char *s);
