/* SPDX-License-Identifier: MIT */
#include "kmod/sim/kparse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* _parse_integer_fixup_radix(): base 0 picks 16 only when a hex digit
 * follows "0x", so "0x" alone is octal 0 followed by junk. */
static const char *fixup_radix(const char *s, unsigned *base)
{
	if (s[0] == '0') {
		if (tolower((unsigned char) s[1]) == 'x' && isxdigit((unsigned char) s[2]))
			*base = 16;
		else
			*base = 8;
	} else {
		*base = 10;
	}
	if (*base == 16)
		s += 2;
	return s;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char) tolower((unsigned char) c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return 99;
}

/* _parse_integer(): returns the digits consumed; sets *overflow. */
static size_t parse_digits(const char *s, unsigned base, unsigned long *ret, bool *overflow)
{
	unsigned long v = 0;
	size_t n = 0;

	*overflow = false;
	for (; s[n]; n++) {
		int d = digit_value(s[n]);

		if (d >= (int) base)
			break;
		if (v > (ULONG_MAX - (unsigned long) d) / base)
			*overflow = true;
		v = v * base + (unsigned long) d;
	}
	*ret = v;
	return n;
}

int kparse_ulong(const char *s, unsigned long *ret)
{
	unsigned long v;
	unsigned base;
	bool overflow;
	size_t n;

	if (*s == '+')
		s++;
	s = fixup_radix(s, &base);
	n = parse_digits(s, base, &v, &overflow);
	if (overflow)
		return -ERANGE;
	if (n == 0)
		return -EINVAL;
	s += n;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

unsigned long kparse_simple_ulong(const char *s, const char **ret_end)
{
	unsigned long v;
	unsigned base;
	bool overflow;
	const char *p = fixup_radix(s, &base);
	size_t n = parse_digits(p, base, &v, &overflow);

	*ret_end = p + n;
	return v;
}

int kparse_hex_bitmap(const char *s, struct idset *bits)
{
	unsigned i = 0;

	if (s[0] == '0' && s[1] == 'x')
		s++;
	if (*s == 'x')
		s++;
	for (; isxdigit((unsigned char) *s) && i < AP_ID_COUNT; s++, i += 4) {
		int b = digit_value(*s);

		for (unsigned n = 0; n < 4; n++)
			if (b & (0x8 >> n))
				idset_add(bits, i + n);
	}
	if (*s == '\n')
		s++;
	return *s ? -EINVAL : 0;
}

/* modify_bitmap(): ids are ints in the kernel; a negative one (a huge
 * number) would index before the bitmap there, here it is refused. */
static int modify_bitmap(const char *s, struct idset *map)
{
	while (*s) {
		const char *end;
		char sign = *s++;
		long a, z;

		if (sign != '+' && sign != '-')
			return -EINVAL;
		a = z = (int) kparse_simple_ulong(s, &end);
		if (end == s || a < 0 || a >= (long) AP_ID_COUNT)
			return -EINVAL;
		s = end;
		if (*s == '-') {
			s++;
			z = (int) kparse_simple_ulong(s, &end);
			if (end == s || a > z || z >= (long) AP_ID_COUNT)
				return -EINVAL;
			s = end;
		}
		for (long i = a; i <= z; i++) {
			if (sign == '+')
				idset_add(map, (unsigned) i);
			else
				idset_del(map, (unsigned) i);
		}
		while (*s == ',' || *s == '\n')
			s++;
	}
	return 0;
}

int kparse_mask(const char *s, const struct idset *cur, struct idset *ret)
{
	struct idset map;
	int r;

	if (*s == '+' || *s == '-') {
		map = *cur;
		r = modify_bitmap(s, &map);
	} else {
		map = IDSET_EMPTY;
		r = kparse_hex_bitmap(s, &map);
	}
	if (r < 0)
		return r;
	*ret = map;
	return 0;
}

int kparse_scan_int(const char *s, bool any_base, int *ret)
{
	char *end;
	long v;

	/* The kernel's vsscanf skips white space and takes '-' but not '+'. */
	while (isspace((unsigned char) *s))
		s++;
	if (*s == '+')
		return 0;
	v = strtol(s, &end, any_base ? 0 : 10);
	if (end == s)
		return 0;
	*ret = (int) v;
	return 1;
}

int kparse_bool(const char *s, bool *ret)
{
	switch (s[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		*ret = true;
		return 0;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		*ret = false;
		return 0;
	case 'o':
	case 'O':
		switch (s[1]) {
		case 'n':
		case 'N':
			*ret = true;
			return 0;
		case 'f':
		case 'F':
			*ret = false;
			return 0;
		default:
			break;
		}
		break;
	default:
		break;
	}
	return -EINVAL;
}

int kparse_uuid(const char *s, char ret[37])
{
	char out[37];

	for (unsigned i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
		} else if (!isxdigit((unsigned char) s[i])) {
			return -EINVAL;
		}
		out[i] = (char) tolower((unsigned char) s[i]);
	}
	out[36] = '\0';
	snprintf(ret, 37, "%s", out);
	return 0;
}
