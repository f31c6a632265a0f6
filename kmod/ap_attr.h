/* SPDX-License-Identifier: MIT */
/*
 * The text formats of AP bus and vfio_ap attributes, as the kernel shows them
 * and as its store() functions take them. Pure functions, no I/O: kport.c
 * reads and writes the files, this file knows what is in them.
 *
 * Parsers take a NUL-terminated attribute as read (trailing newline
 * included), return 0 or -EINVAL, and write their out-parameters only on
 * success. Formatters behave as snprintf.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/idset.h"

/* "0x" + 64 hex digits + ',' three times, newline and NUL, with room to spare. */
#define AP_CONFIG_TEXT_SIZE 208

/* Enough for any ap_mask_edit_format() text: 256 alternating "+255," terms. */
#define AP_MASK_EDIT_TEXT_SIZE 1600

/*
 * Parses a 256-bit mask as apmask, aqmask and the QCI mask files print it:
 * "0x" and exactly 64 hex digits, bit 0 leftmost, one optional newline.
 * "not supported" (no QCI) is -EOPNOTSUPP.
 */
int ap_mask_parse(const char *text, struct idset *ret);

/*
 * Parses a vfio_ap matrix or guest_matrix: "aa.dddd" lines (a cross
 * product), or "aa." lines (adapters only), or ".dddd" lines (domains only),
 * or nothing. Mixed forms are -EINVAL.
 */
int ap_matrix_parse(const char *text, struct idset *ret_adapters, struct idset *ret_domains);

/* Parses vfio_ap control_domains: one "dddd" line per domain, or nothing. */
int ap_domain_lines_parse(const char *text, struct idset *ret);

/* Parses an mdev's ap_config: "0x<64>,0x<64>,0x<64>\n" = APM, AQM, ADM. */
int ap_config_parse(const char *text, struct idset *ret_apm, struct idset *ret_aqm,
		    struct idset *ret_adm);

/* The text an ap_config store() takes for this matrix, newline included. */
size_t ap_config_format(const struct idset *apm, const struct idset *aqm, const struct idset *adm,
			char *buf, size_t size);

/*
 * A relative apmask/aqmask edit that sets the ids of set and clears those of
 * clear, in decimal ranges: "+5-6,-71\n". "" when both are empty (an empty
 * string is not an edit: the kernel would read it as an absolute zero mask).
 * The sets must be disjoint.
 */
size_t ap_mask_edit_format(const struct idset *set, const struct idset *clear, char *buf,
			   size_t size);

/* Parses an AP bus device name: "card05" (ret_is_card true, adapter in
 * ret_q->ap) or a queue "05.0004". Other names are -EINVAL. */
int ap_device_name_parse(const char *name, bool *ret_is_card, struct apqn *ret_q);
