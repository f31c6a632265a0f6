/* SPDX-License-Identifier: MIT */
/*
 * The journal of an operation under way: the kernel writes that revert it,
 * as text, so that a crash between an operation's kernel writes and the
 * saving of its state can be rolled back at the next start (engine_rollback).
 *
 *   # zapfs journal: kernel writes that revert an operation cut short
 *   version 1
 *   unassign_domain 8b0f...  71
 *   ap_config 8b0f... 5-6 4,71 none
 *   apmask +5 -none
 *
 * One write a line: create|remove UUID; (un)assign_adapter|domain|
 * control_domain UUID ID; ap_config UUID APM AQM ADM; apmask|aqmask SET
 * CLEAR. Ids are decimal, sets are ranges ("0-4,7") or "none".
 */
#pragma once

#include <stddef.h>

#include "core/port.h"

/* The journal text of n writes, malloc'ed into *ret_text. 0, -EINVAL, -ENOMEM. */
int journal_format(const struct kop *ops, size_t n, char **ret_text);

/*
 * Parses a journal into a malloc'ed array (NULL when empty). -EINVAL with
 * "line N: what is wrong" in err (err_size bytes; may be NULL) for a bad one.
 */
int journal_parse(const char *text, struct kop **ret_ops, size_t *ret_n, char *err,
		  size_t err_size);
