/* SPDX-License-Identifier: MIT */
/*
 * 256-bit sets of AP ids (adapters, usage domains, control domains) and
 * APQN sets, the currency of every rule zapfs keeps.
 *
 * Bit i of a set is id i. The kernel prints masks MSB-first (bit 0 is the
 * leftmost hex digit); that ordering exists only in the formatters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AP_ID_COUNT 256u   /* ids are 0..255 whatever the machine's max */
#define APQN_COUNT  65536u /* AP_ID_COUNT * AP_ID_COUNT */

struct idset {
	uint64_t w[AP_ID_COUNT / 64];
};

/* An APQN: adapter (APID) and usage domain (APQI). */
struct apqn {
	uint8_t ap;
	uint8_t dom;
};

/* Every APQN, one bit each: 8 KiB. Index = ap * 256 + dom (adapter-major). */
struct apqn_set {
	uint64_t w[APQN_COUNT / 64];
};

#define IDSET_EMPTY ((struct idset){ { 0 } })

static inline void idset_add(struct idset *s, unsigned id)
{
	s->w[(id & 255) / 64] |= UINT64_C(1) << (id % 64);
}

static inline void idset_del(struct idset *s, unsigned id)
{
	s->w[(id & 255) / 64] &= ~(UINT64_C(1) << (id % 64));
}

static inline bool idset_has(const struct idset *s, unsigned id)
{
	return id < AP_ID_COUNT && (s->w[id / 64] >> (id % 64)) & 1;
}

static inline bool idset_empty(const struct idset *s)
{
	return !(s->w[0] | s->w[1] | s->w[2] | s->w[3]);
}

static inline bool idset_equal(const struct idset *a, const struct idset *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1] && a->w[2] == b->w[2] && a->w[3] == b->w[3];
}

static inline struct idset idset_and(const struct idset *a, const struct idset *b)
{
	return (struct idset){ { a->w[0] & b->w[0], a->w[1] & b->w[1], a->w[2] & b->w[2],
				 a->w[3] & b->w[3] } };
}

static inline struct idset idset_or(const struct idset *a, const struct idset *b)
{
	return (struct idset){ { a->w[0] | b->w[0], a->w[1] | b->w[1], a->w[2] | b->w[2],
				 a->w[3] | b->w[3] } };
}

/* a \ b */
static inline struct idset idset_minus(const struct idset *a, const struct idset *b)
{
	return (struct idset){ { a->w[0] & ~b->w[0], a->w[1] & ~b->w[1], a->w[2] & ~b->w[2],
				 a->w[3] & ~b->w[3] } };
}

static inline bool idset_intersects(const struct idset *a, const struct idset *b)
{
	return (a->w[0] & b->w[0]) | (a->w[1] & b->w[1]) | (a->w[2] & b->w[2]) |
	       (a->w[3] & b->w[3]);
}

static inline bool idset_subset(const struct idset *a, const struct idset *b)
{
	struct idset d = idset_minus(a, b);
	return idset_empty(&d);
}

unsigned idset_count(const struct idset *s);

/* The smallest id >= from in s, or -1. */
int idset_next(const struct idset *s, int from);

/* Ids lo..hi inclusive; empty if lo > hi. hi is clamped to 255. */
struct idset idset_range(unsigned lo, unsigned hi);

#define IDSET_FOREACH(id, s)                                                                       \
	for (int id = idset_next((s), 0); id >= 0; id = idset_next((s), id + 1))

/* ---- APQN sets ---- */

static inline unsigned apqn_index(struct apqn q)
{
	return (unsigned) q.ap * AP_ID_COUNT + q.dom;
}

static inline void apqn_set_add(struct apqn_set *s, struct apqn q)
{
	unsigned i = apqn_index(q);
	s->w[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool apqn_set_has(const struct apqn_set *s, struct apqn q)
{
	unsigned i = apqn_index(q);
	return (s->w[i / 64] >> (i % 64)) & 1;
}

static inline void apqn_set_del(struct apqn_set *s, struct apqn q)
{
	unsigned i = apqn_index(q);
	s->w[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

void apqn_set_clear(struct apqn_set *s);
bool apqn_set_empty(const struct apqn_set *s);
unsigned apqn_set_count(const struct apqn_set *s);

/* acc &= b */
void apqn_set_and(struct apqn_set *acc, const struct apqn_set *b);

/* acc &= ~b */
void apqn_set_minus(struct apqn_set *acc, const struct apqn_set *b);

/* acc |= a ^ b: adds the APQNs in which a and b differ. */
void apqn_set_add_xor(struct apqn_set *acc, const struct apqn_set *a, const struct apqn_set *b);

/* Adds adapters x domains to s. */
void apqn_set_add_cross(struct apqn_set *s, const struct idset *adapters,
			const struct idset *domains);

/*
 * The next APQN at or after *pos (adapter-major order) in s. Returns true and
 * sets *ret_q and advances *pos past it, or false at the end.
 */
bool apqn_set_next(const struct apqn_set *s, unsigned *pos, struct apqn *ret_q);

#define APQN_SET_FOREACH(q, s) for (unsigned _pos_##q = 0; apqn_set_next((s), &_pos_##q, &(q));)

/* ---- the kernel's formats ---- */

/* Length of "0x" + 64 hex digits, without newline or NUL. */
#define IDSET_MASK_HEX_LEN 66

/*
 * Formats s as the kernel prints apmask/aqmask and the ap_config fields:
 * "0x" followed by 64 lowercase hex digits, bit 0 leftmost. buf must hold
 * IDSET_MASK_HEX_LEN + 1 bytes. Returns buf.
 */
char *idset_format_mask_hex(const struct idset *s, char *buf);

/*
 * Formats a matrix as vfio_ap's `matrix`/`guest_matrix` attributes do: one
 * "%02x.%04x\n" line per APQN (adapter-major); "%02x.\n" per adapter when no
 * domain is set; ".%04x\n" per domain when no adapter is set; "" when both are
 * empty. Only ids <= max_ap / max_dom count. Returns the length that the full
 * text needs (as snprintf does); writes at most size bytes including the NUL.
 */
size_t matrix_format(const struct idset *adapters, const struct idset *domains, unsigned max_ap,
		     unsigned max_dom, char *buf, size_t size);
