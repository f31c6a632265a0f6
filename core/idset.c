/* SPDX-License-Identifier: MIT */
#include "idset.h"

#include <stdio.h>
#include <string.h>

unsigned idset_count(const struct idset *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < AP_ID_COUNT / 64; i++)
		n += (unsigned) __builtin_popcountll(s->w[i]);
	return n;
}

int idset_next(const struct idset *s, int from)
{
	if (from < 0)
		from = 0;
	for (unsigned i = (unsigned) from; i < AP_ID_COUNT;) {
		uint64_t word = s->w[i / 64] >> (i % 64);

		if (word)
			return (int) (i + (unsigned) __builtin_ctzll(word));
		i = (i / 64 + 1) * 64;
	}
	return -1;
}

struct idset idset_range(unsigned lo, unsigned hi)
{
	struct idset s = IDSET_EMPTY;

	if (hi >= AP_ID_COUNT)
		hi = AP_ID_COUNT - 1;
	for (unsigned id = lo; id <= hi; id++)
		idset_add(&s, id);
	return s;
}

void apqn_set_clear(struct apqn_set *s)
{
	memset(s, 0, sizeof(*s));
}

bool apqn_set_empty(const struct apqn_set *s)
{
	for (size_t i = 0; i < APQN_COUNT / 64; i++)
		if (s->w[i])
			return false;
	return true;
}

unsigned apqn_set_count(const struct apqn_set *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < APQN_COUNT / 64; i++)
		n += (unsigned) __builtin_popcountll(s->w[i]);
	return n;
}

void apqn_set_and(struct apqn_set *acc, const struct apqn_set *b)
{
	for (size_t i = 0; i < APQN_COUNT / 64; i++)
		acc->w[i] &= b->w[i];
}

void apqn_set_minus(struct apqn_set *acc, const struct apqn_set *b)
{
	for (size_t i = 0; i < APQN_COUNT / 64; i++)
		acc->w[i] &= ~b->w[i];
}

void apqn_set_add_xor(struct apqn_set *acc, const struct apqn_set *a, const struct apqn_set *b)
{
	for (size_t i = 0; i < APQN_COUNT / 64; i++)
		acc->w[i] |= a->w[i] ^ b->w[i];
}

void apqn_set_add_cross(struct apqn_set *s, const struct idset *adapters,
			const struct idset *domains)
{
	/* One adapter's 256 domains are exactly four words: copy the domain set. */
	IDSET_FOREACH (ap, adapters) {
		uint64_t *row = &s->w[(unsigned) ap * (AP_ID_COUNT / 64)];

		for (size_t i = 0; i < AP_ID_COUNT / 64; i++)
			row[i] |= domains->w[i];
	}
}

bool apqn_set_next(const struct apqn_set *s, unsigned *pos, struct apqn *ret_q)
{
	for (unsigned i = *pos; i < APQN_COUNT;) {
		uint64_t word = s->w[i / 64] >> (i % 64);

		if (word) {
			unsigned found = i + (unsigned) __builtin_ctzll(word);

			*ret_q = (struct apqn){ .ap = (uint8_t) (found / AP_ID_COUNT),
						.dom = (uint8_t) (found % AP_ID_COUNT) };
			*pos = found + 1;
			return true;
		}
		i = (i / 64 + 1) * 64;
	}
	*pos = APQN_COUNT;
	return false;
}

char *idset_format_mask_hex(const struct idset *s, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	buf[0] = '0';
	buf[1] = 'x';
	for (unsigned nibble = 0; nibble < AP_ID_COUNT / 4; nibble++) {
		unsigned v = 0;

		for (unsigned b = 0; b < 4; b++)
			v = (v << 1) | idset_has(s, nibble * 4 + b);
		buf[2 + nibble] = hex[v];
	}
	buf[IDSET_MASK_HEX_LEN] = '\0';
	return buf;
}

/* Appends text to buf at *len, counting what would be needed past size. */
static void append(char *buf, size_t size, size_t *len, const char *text, int n)
{
	if (n <= 0)
		return;
	if (*len < size) {
		size_t room = size - *len;
		size_t copy = (size_t) n < room ? (size_t) n : room - 1;

		memcpy(buf + *len, text, copy);
		buf[*len + copy] = '\0';
	}
	*len += (size_t) n;
}

size_t matrix_format(const struct idset *adapters, const struct idset *domains, unsigned max_ap,
		     unsigned max_dom, char *buf, size_t size)
{
	struct idset aps = idset_range(0, max_ap);
	struct idset doms = idset_range(0, max_dom);
	size_t len = 0;
	char line[16];
	int n;

	aps = idset_and(&aps, adapters);
	doms = idset_and(&doms, domains);
	if (size)
		buf[0] = '\0';

	if (!idset_empty(&aps) && !idset_empty(&doms)) {
		IDSET_FOREACH (ap, &aps) {
			IDSET_FOREACH (dom, &doms) {
				n = snprintf(line, sizeof(line), "%02x.%04x\n", (unsigned) ap,
					     (unsigned) dom);
				append(buf, size, &len, line, n);
			}
		}
	} else if (!idset_empty(&aps)) {
		IDSET_FOREACH (ap, &aps) {
			n = snprintf(line, sizeof(line), "%02x.\n", (unsigned) ap);
			append(buf, size, &len, line, n);
		}
	} else {
		IDSET_FOREACH (dom, &doms) {
			n = snprintf(line, sizeof(line), ".%04x\n", (unsigned) dom);
			append(buf, size, &len, line, n);
		}
	}
	return len;
}
