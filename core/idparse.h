/* SPDX-License-Identifier: MIT */
/*
 * The user-facing syntax of the zapfs tree (not the kernel's parsers).
 *
 * Names in the tree are the kernel's lowercase hex forms: adapter "05",
 * domain "0004", queue "05.0004". Numbers written into files are C-style:
 * decimal, 0x/0X hex, leading-0 octal, in lists like "5-6,0x47,7" or edits
 * like "+5,-0x47,+7-9".
 *
 * Every parser takes either a NUL-terminated string or, in its _buf
 * variant, a buffer and its length (FUSE writes are not NUL-terminated; a NUL
 * inside the buffer is junk). Bad syntax is -EINVAL, a well-formed number out
 * of bounds is -ERANGE; when an input has both, -EINVAL wins. Out-parameters
 * are written only on success.
 */
#pragma once

#include <stddef.h>

#include "core/idset.h"

/* Buffer sizes, NUL included: "05", "0004", "05.0004". */
#define ADAPTER_NAME_SIZE 3
#define DOMAIN_NAME_SIZE  5
#define APQN_NAME_SIZE	  8

/* Enough for any idset_format_ranges() output: at most 256 × "255," plus NUL. */
#define IDSET_RANGES_SIZE 1025

/* Enough for any adapter_list_format() or domain_list_format() output. */
#define IDSET_NAMES_SIZE 1600

/* The value of the hex digit ch in either case, or -1. */
int hex_digit_value(char ch);

/* ---- numbers written into files ---- */

/*
 * Parses one C-style unsigned number (decimal, 0x hex, leading-0 octal) no
 * greater than max. Spaces and tabs may surround it, and one newline may end
 * it. -EINVAL for an empty string, a sign, junk, "0x" alone or a bad octal
 * digit; -ERANGE above max or beyond unsigned int.
 */
int id_parse(const char *s, unsigned max, unsigned *ret);
int id_parse_buf(const char *buf, size_t len, unsigned max, unsigned *ret);

/*
 * Parses a list of ids and inclusive ranges, "5-6,0x47,7", into a set.
 * Terms are separated by whitespace (space, tab, newline) and/or one comma;
 * a leading, trailing or doubled comma is -EINVAL, as is a range lo-hi with
 * lo > hi or a signed term. Duplicates and overlaps are fine. An empty or
 * all-whitespace list is the empty set. Ids above max (clamped to 255) are
 * -ERANGE.
 */
int idlist_parse(const char *s, unsigned max, struct idset *ret);
int idlist_parse_buf(const char *buf, size_t len, unsigned max, struct idset *ret);

/*
 * Parses an edit of the set current: either an absolute list as
 * idlist_parse() takes (the result replaces current), or relative terms
 * "+5,-0x47,+7-9" applied to current left to right (later terms win). In a
 * relative edit every term carries a sign; mixing signed and unsigned terms is
 * -EINVAL. ret_set gets the result; ret_added and ret_removed (each may be
 * NULL) get the ids the result has that current lacks, and the reverse.
 * ret_set may be current itself.
 */
int idset_edit_parse(const char *s, unsigned max, const struct idset *current,
		     struct idset *ret_set, struct idset *ret_added, struct idset *ret_removed);
int idset_edit_parse_buf(const char *buf, size_t len, unsigned max, const struct idset *current,
			 struct idset *ret_set, struct idset *ret_added, struct idset *ret_removed);

/* ---- canonical names ---- */

/*
 * Parses a canonical adapter name: exactly two lowercase hex digits. Anything
 * else ("5", "0x05", "0A", "05 ") is -EINVAL.
 */
int adapter_name_parse(const char *s, unsigned *ret);
int adapter_name_parse_buf(const char *buf, size_t len, unsigned *ret);

/*
 * Parses a canonical domain name: exactly four lowercase hex digits. A
 * well-formed name above 00ff is -ERANGE.
 */
int domain_name_parse(const char *s, unsigned *ret);
int domain_name_parse_buf(const char *buf, size_t len, unsigned *ret);

/* Parses a canonical APQN name, "05.0004": adapter name, '.', domain name. */
int apqn_name_parse(const char *s, struct apqn *ret);
int apqn_name_parse_buf(const char *buf, size_t len, struct apqn *ret);

/*
 * Writes the canonical spelling of a name that is understandable but maybe
 * not canonical, for messages such as "use 05.0004": digits are always hex
 * (a name never means decimal), any case, with or without 0x, with any number
 * of leading zeros, surrounding spaces and one trailing newline allowed. "5"
 * -> "05", "0A" -> "0a", "0x47" -> "0047" (domain), "05.4" -> "05.0004".
 * -EINVAL when not understandable, -ERANGE for an id above 255.
 */
int adapter_name_suggest(const char *s, char ret_name[static ADAPTER_NAME_SIZE]);
int domain_name_suggest(const char *s, char ret_name[static DOMAIN_NAME_SIZE]);
int apqn_name_suggest(const char *s, char ret_name[static APQN_NAME_SIZE]);

/* ---- formatting ---- */

/* "05" for adapter 5 (ap <= 255). Returns buf. */
char *adapter_name_format(unsigned ap, char buf[static ADAPTER_NAME_SIZE]);

/* "0004" for domain 4 (dom <= 255). Returns buf. */
char *domain_name_format(unsigned dom, char buf[static DOMAIN_NAME_SIZE]);

/* "05.0004". Returns buf. */
char *apqn_name_format(struct apqn q, char buf[static APQN_NAME_SIZE]);

/*
 * The following formatters behave as snprintf: they write at most size bytes
 * including the NUL and return the length the whole text needs.
 */

/* s as decimal ids and ranges, "0-4,7-255"; "" for the empty set. */
size_t idset_format_ranges(const struct idset *s, char *buf, size_t size);

/* s as adapter names for a sentence, "05, 06 and 0a"; "" when empty. */
size_t adapter_list_format(const struct idset *s, char *buf, size_t size);

/* s as domain names for a sentence, "0004 and 00ab"; "" when empty. */
size_t domain_list_format(const struct idset *s, char *buf, size_t size);

/*
 * The APQNs of set for a sentence, in adapter-major order: "05.0004, 05.00ab".
 * With limit > 0 and more than limit APQNs, only the first limit are named,
 * followed by " and N more". limit 0 names all.
 */
size_t apqn_list_format(const struct apqn_set *set, unsigned limit, char *buf, size_t size);
