/* SPDX-License-Identifier: MIT */
/*
 * The kernel's parsers, as the AP bus, vfio_ap and the mdev core apply them
 * to what userspace writes into sysfs. Each takes the NUL-terminated copy of
 * the written buffer that kernfs hands to store() and mimics the kernel
 * function named beside it, quirks included.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/idset.h"

/* kstrtoul(s, 0, ...): optional '+', 0x/0 prefixes, one trailing '\n'.
 * -EINVAL on junk, -ERANGE on overflow. */
int kparse_ulong(const char *s, unsigned long *ret);

/* simple_strtoul(s, &end, 0): never fails; *ret_end is where it stopped. */
unsigned long kparse_simple_ulong(const char *s, const char **ret_end);

/* hex2bitmap()/ap_hex2bitmap(): "0x"/"x" prefix, up to 64 hex digits from
 * bit 0, one optional '\n'. Bits are OR-ed into *bits. */
int kparse_hex_bitmap(const char *s, struct idset *bits);

/* ap_parse_bitmap_str(): relative "+a-b,-c" edits of cur, or absolute hex. */
int kparse_mask(const char *s, const struct idset *cur, struct idset *ret);

/* sscanf(s, "%d") / "%i" semantics: 1 on a match, 0 otherwise. */
int kparse_scan_int(const char *s, bool any_base, int *ret);

/* kstrtobool(): 1/0, y/n, on/off (first chars as the kernel checks). */
int kparse_bool(const char *s, bool *ret);

/* guid_parse() of the first 36 characters; writes the lowercase form. */
int kparse_uuid(const char *s, char ret[37]);
