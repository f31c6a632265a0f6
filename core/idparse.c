/* SPDX-License-Identifier: MIT */
#include "idparse.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A cursor over a length-bounded buffer; a NUL inside it is ordinary junk. */
struct cursor {
	const char *p;
	const char *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static char peek(const struct cursor *c)
{
	return at_end(c) ? '\0' : *c->p;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_list_space(char ch)
{
	return is_blank(ch) || ch == '\n';
}

static void skip_blanks(struct cursor *c)
{
	while (!at_end(c) && is_blank(*c->p))
		c->p++;
}

static void skip_list_spaces(struct cursor *c)
{
	while (!at_end(c) && is_list_space(*c->p))
		c->p++;
}

int hex_digit_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Scans a C-style unsigned number at the cursor and stops at the first
 * character that cannot belong to it; the caller judges what follows.
 * Values beyond UINT_MAX set *overflow and saturate.
 */
static int scan_number(struct cursor *c, unsigned *value, bool *overflow)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool any = false;

	*overflow = false;
	if (peek(c) < '0' || peek(c) > '9')
		return -EINVAL;
	if (peek(c) == '0') {
		c->p++;
		if (peek(c) == 'x' || peek(c) == 'X') {
			c->p++;
			base = 16;
		} else {
			base = 8;
			any = true; /* "0" itself */
		}
	}
	for (; !at_end(c); c->p++) {
		int d = hex_digit_value(*c->p);

		/* In octal, 8 and 9 still belong to the number: a bad digit, not its end. */
		if (d < 0 || (base != 16 && d > 9))
			break;
		if ((unsigned) d >= base)
			return -EINVAL;
		any = true;
		if (!*overflow) {
			v = v * base + (unsigned) d;
			if (v > UINT_MAX)
				*overflow = true;
		}
	}
	if (!any)
		return -EINVAL;
	*value = *overflow ? UINT_MAX : (unsigned) v;
	return 0;
}

int id_parse_buf(const char *buf, size_t len, unsigned max, unsigned *ret)
{
	struct cursor c = { buf, buf + len };
	bool overflow;
	unsigned v;
	int r;

	skip_blanks(&c);
	r = scan_number(&c, &v, &overflow);
	if (r < 0)
		return r;
	skip_blanks(&c);
	if (peek(&c) == '\n')
		c.p++;
	if (!at_end(&c))
		return -EINVAL;
	if (overflow || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int id_parse(const char *s, unsigned max, unsigned *ret)
{
	return id_parse_buf(s, strlen(s), max, ret);
}

/* One term of a list: an id or a range, with the sign it was written with ('\0' for none). */
struct term {
	char sign;
	unsigned lo, hi;
};

typedef void (*term_fn)(const struct term *t, void *userdata);

/*
 * Walks every term of a list. Syntax errors stop the walk with -EINVAL;
 * an id above max is remembered and reported as -ERANGE only once the whole
 * input parsed, so the terms seen are complete only when 0 is returned.
 */
static int walk_terms(const char *buf, size_t len, unsigned max, bool allow_sign, term_fn fn,
		      void *userdata)
{
	struct cursor c = { buf, buf + len };
	bool out_of_range = false;
	char first_sign = '\0';
	bool first = true;

	if (max >= AP_ID_COUNT)
		max = AP_ID_COUNT - 1;

	skip_list_spaces(&c);
	while (!at_end(&c)) {
		struct term t = { 0 };
		bool overflow;
		int r;

		if (allow_sign && (peek(&c) == '+' || peek(&c) == '-'))
			t.sign = *c.p++;
		if (first)
			first_sign = t.sign;
		else if (!first_sign != !t.sign)
			return -EINVAL;
		first = false;

		r = scan_number(&c, &t.lo, &overflow);
		if (r < 0)
			return r;
		out_of_range |= overflow || t.lo > max;
		t.hi = t.lo;
		if (peek(&c) == '-') {
			c.p++;
			r = scan_number(&c, &t.hi, &overflow);
			if (r < 0)
				return r;
			out_of_range |= overflow || t.hi > max;
			if (t.lo > t.hi)
				return -EINVAL;
		}

		if (!at_end(&c) && !is_list_space(peek(&c)) && peek(&c) != ',')
			return -EINVAL;
		skip_list_spaces(&c);
		if (peek(&c) == ',') {
			c.p++;
			skip_list_spaces(&c);
			if (at_end(&c) || peek(&c) == ',')
				return -EINVAL;
		}
		if (!out_of_range)
			fn(&t, userdata);
	}
	return out_of_range ? -ERANGE : 0;
}

static void term_add(const struct term *t, void *userdata)
{
	struct idset *set = userdata;
	struct idset range = idset_range(t->lo, t->hi);

	*set = idset_or(set, &range);
}

int idlist_parse_buf(const char *buf, size_t len, unsigned max, struct idset *ret)
{
	struct idset set = IDSET_EMPTY;
	int r;

	r = walk_terms(buf, len, max, false, term_add, &set);
	if (r < 0)
		return r;
	*ret = set;
	return 0;
}

int idlist_parse(const char *s, unsigned max, struct idset *ret)
{
	return idlist_parse_buf(s, strlen(s), max, ret);
}

struct edit {
	struct idset set;
	bool relative;
	bool any_term;
};

static void term_apply(const struct term *t, void *userdata)
{
	struct edit *e = userdata;
	struct idset range = idset_range(t->lo, t->hi);

	if (!e->any_term) {
		e->any_term = true;
		e->relative = t->sign != '\0';
		if (!e->relative)
			e->set = IDSET_EMPTY;
	}
	if (t->sign == '-')
		e->set = idset_minus(&e->set, &range);
	else
		e->set = idset_or(&e->set, &range);
}

int idset_edit_parse_buf(const char *buf, size_t len, unsigned max, const struct idset *current,
			 struct idset *ret_set, struct idset *ret_added, struct idset *ret_removed)
{
	struct edit e = { .set = *current };
	int r;

	r = walk_terms(buf, len, max, true, term_apply, &e);
	if (r < 0)
		return r;
	/* No term at all is an absolute empty list. */
	if (!e.any_term)
		e.set = IDSET_EMPTY;
	if (ret_added)
		*ret_added = idset_minus(&e.set, current);
	if (ret_removed)
		*ret_removed = idset_minus(current, &e.set);
	*ret_set = e.set;
	return 0;
}

int idset_edit_parse(const char *s, unsigned max, const struct idset *current,
		     struct idset *ret_set, struct idset *ret_added, struct idset *ret_removed)
{
	return idset_edit_parse_buf(s, strlen(s), max, current, ret_set, ret_added, ret_removed);
}

/* ---- canonical names ---- */

/* Exactly n lowercase hex digits. */
static int lower_hex_parse(const char *buf, size_t len, size_t n, unsigned *ret)
{
	unsigned v = 0;

	if (len != n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit_value(buf[i]);

		if (d < 0 || (buf[i] >= 'A' && buf[i] <= 'F'))
			return -EINVAL;
		v = v * 16 + (unsigned) d;
	}
	*ret = v;
	return 0;
}

int adapter_name_parse_buf(const char *buf, size_t len, unsigned *ret)
{
	return lower_hex_parse(buf, len, 2, ret);
}

int adapter_name_parse(const char *s, unsigned *ret)
{
	return adapter_name_parse_buf(s, strlen(s), ret);
}

int domain_name_parse_buf(const char *buf, size_t len, unsigned *ret)
{
	unsigned v;
	int r;

	r = lower_hex_parse(buf, len, 4, &v);
	if (r < 0)
		return r;
	if (v >= AP_ID_COUNT)
		return -ERANGE;
	*ret = v;
	return 0;
}

int domain_name_parse(const char *s, unsigned *ret)
{
	return domain_name_parse_buf(s, strlen(s), ret);
}

int apqn_name_parse_buf(const char *buf, size_t len, struct apqn *ret)
{
	unsigned ap, dom;
	int r;

	if (len != APQN_NAME_SIZE - 1 || buf[2] != '.')
		return -EINVAL;
	r = adapter_name_parse_buf(buf, 2, &ap);
	if (r < 0)
		return r;
	r = domain_name_parse_buf(buf + 3, 4, &dom);
	if (r < 0)
		return r;
	*ret = (struct apqn){ .ap = (uint8_t) ap, .dom = (uint8_t) dom };
	return 0;
}

int apqn_name_parse(const char *s, struct apqn *ret)
{
	return apqn_name_parse_buf(s, strlen(s), ret);
}

/*
 * A sloppy id as people write names: optional 0x, hex digits in any case,
 * any number of leading zeros. Stops at the first non-digit.
 */
static int scan_loose_hex(struct cursor *c, unsigned *ret)
{
	unsigned v = 0;
	bool any = false, big = false;

	if (peek(c) == '0' && c->end - c->p >= 2 && (c->p[1] == 'x' || c->p[1] == 'X'))
		c->p += 2;
	for (; !at_end(c) && hex_digit_value(*c->p) >= 0; c->p++) {
		any = true;
		v = v * 16 + (unsigned) hex_digit_value(*c->p);
		if (v >= AP_ID_COUNT) {
			big = true;
			v = 0;
		}
	}
	if (!any)
		return -EINVAL;
	*ret = v;
	return big ? -ERANGE : 0;
}

/* Parses "ID" or, with second, "ID.ID", loosely, with surrounding blanks and one newline. */
static int loose_name_parse(const char *s, unsigned *ret_first, unsigned *ret_second)
{
	struct cursor c = { s, s + strlen(s) };
	unsigned first, second = 0;
	int r_first, r_second = 0;

	skip_blanks(&c);
	r_first = scan_loose_hex(&c, &first);
	if (r_first == -EINVAL)
		return r_first;
	if (ret_second) {
		if (peek(&c) != '.')
			return -EINVAL;
		c.p++;
		r_second = scan_loose_hex(&c, &second);
		if (r_second == -EINVAL)
			return r_second;
	}
	skip_blanks(&c);
	if (peek(&c) == '\n')
		c.p++;
	if (!at_end(&c))
		return -EINVAL;
	if (r_first < 0 || r_second < 0)
		return -ERANGE;
	*ret_first = first;
	if (ret_second)
		*ret_second = second;
	return 0;
}

int adapter_name_suggest(const char *s, char ret_name[static ADAPTER_NAME_SIZE])
{
	unsigned ap;
	int r;

	r = loose_name_parse(s, &ap, NULL);
	if (r < 0)
		return r;
	adapter_name_format(ap, ret_name);
	return 0;
}

int domain_name_suggest(const char *s, char ret_name[static DOMAIN_NAME_SIZE])
{
	unsigned dom;
	int r;

	r = loose_name_parse(s, &dom, NULL);
	if (r < 0)
		return r;
	domain_name_format(dom, ret_name);
	return 0;
}

int apqn_name_suggest(const char *s, char ret_name[static APQN_NAME_SIZE])
{
	unsigned ap, dom;
	int r;

	r = loose_name_parse(s, &ap, &dom);
	if (r < 0)
		return r;
	apqn_name_format((struct apqn){ .ap = (uint8_t) ap, .dom = (uint8_t) dom }, ret_name);
	return 0;
}

/* ---- formatting ---- */

char *adapter_name_format(unsigned ap, char buf[static ADAPTER_NAME_SIZE])
{
	snprintf(buf, ADAPTER_NAME_SIZE, "%02x", ap & (AP_ID_COUNT - 1));
	return buf;
}

char *domain_name_format(unsigned dom, char buf[static DOMAIN_NAME_SIZE])
{
	snprintf(buf, DOMAIN_NAME_SIZE, "%04x", dom & (AP_ID_COUNT - 1));
	return buf;
}

char *apqn_name_format(struct apqn q, char buf[static APQN_NAME_SIZE])
{
	snprintf(buf, APQN_NAME_SIZE, "%02x.%04x", (unsigned) q.ap, (unsigned) q.dom);
	return buf;
}

/* Text assembled snprintf-style: it counts what would be needed past size. */
struct text {
	char *buf;
	size_t size;
	size_t len;
};

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + 1 < t->size) {
		size_t room = t->size - t->len - 1;
		size_t copy = n < room ? n : room;

		memcpy(t->buf + t->len, s, copy);
		t->buf[t->len + copy] = '\0';
	}
	t->len += n;
}

static struct text text_begin(char *buf, size_t size)
{
	if (size)
		buf[0] = '\0';
	return (struct text){ .buf = buf, .size = size };
}

size_t idset_format_ranges(const struct idset *s, char *buf, size_t size)
{
	struct text t = text_begin(buf, size);
	int lo = idset_next(s, 0);

	while (lo >= 0) {
		int hi = lo;
		char item[16];

		while (hi + 1 < (int) AP_ID_COUNT && idset_has(s, (unsigned) hi + 1))
			hi++;
		if (hi == lo)
			snprintf(item, sizeof(item), "%s%d", t.len ? "," : "", lo);
		else
			snprintf(item, sizeof(item), "%s%d-%d", t.len ? "," : "", lo, hi);
		text_add(&t, item);
		lo = idset_next(s, hi + 1);
	}
	return t.len;
}

/* "a", "a and b", "a, b and c": the separator before item i of n. */
static const char *sentence_separator(unsigned i, unsigned n)
{
	if (i == 0)
		return "";
	return i + 1 == n ? " and " : ", ";
}

static size_t names_format(const struct idset *s, bool domains, char *buf, size_t size)
{
	struct text t = text_begin(buf, size);
	unsigned n = idset_count(s), i = 0;

	IDSET_FOREACH (id, s) {
		char name[DOMAIN_NAME_SIZE];

		text_add(&t, sentence_separator(i++, n));
		text_add(&t, domains ? domain_name_format((unsigned) id, name)
				     : adapter_name_format((unsigned) id, name));
	}
	return t.len;
}

size_t adapter_list_format(const struct idset *s, char *buf, size_t size)
{
	return names_format(s, false, buf, size);
}

size_t domain_list_format(const struct idset *s, char *buf, size_t size)
{
	return names_format(s, true, buf, size);
}

size_t apqn_list_format(const struct apqn_set *set, unsigned limit, char *buf, size_t size)
{
	struct text t = text_begin(buf, size);
	unsigned named = 0, more = 0;
	struct apqn q;

	APQN_SET_FOREACH (q, set) {
		char name[APQN_NAME_SIZE];

		if (limit && named == limit) {
			more++;
			continue;
		}
		if (named++)
			text_add(&t, ", ");
		text_add(&t, apqn_name_format(q, name));
	}
	if (more) {
		char tail[32];

		snprintf(tail, sizeof(tail), " and %u more", more);
		text_add(&t, tail);
	}
	return t.len;
}
