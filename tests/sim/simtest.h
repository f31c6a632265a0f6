/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the simulator tests: a small LPAR, and reads/writes that
 * return what a shell would see.
 *
 * The LPAR: cards 05 and 06 (CEX7 CCA) and 07 (CEX6 accelerator), usage
 * domains 0004 0047 00ab 00ff, control domain 000b besides, max ids 255/84.
 * The apmask leaves out adapters 05 and 06, so their queues are bound to
 * vfio_ap and those of card 07 to cex4queue.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kmod/sim/sim.h"

#define UUID_A	  "11111111-2222-3333-4444-555555555555"
#define UUID_B	  "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define MDEV_A	  "devices/vfio_ap/matrix/" UUID_A
#define MDEV_B	  "devices/vfio_ap/matrix/" UUID_B
#define MDEV_TYPE "devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough"

static inline void simtest_config(struct sim_config *cfg, unsigned major, unsigned minor)
{
	static const unsigned doms[] = { 0x04, 0x47, 0xab, 0xff };

	memset(cfg, 0, sizeof(*cfg));
	cfg->kernel_major = major;
	cfg->kernel_minor = minor;
	cfg->max_adapter = 255;
	cfg->max_domain = 255;
	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++)
		idset_add(&cfg->usage_domains, doms[i]);
	cfg->control_domains = cfg->usage_domains;
	idset_add(&cfg->control_domains, 0x0b);
	cfg->apmask = idset_range(0, 255);
	idset_del(&cfg->apmask, 5);
	idset_del(&cfg->apmask, 6);
	cfg->aqmask = idset_range(0, 255);
	cfg->vfio_ap_loaded = true;
	cfg->n_cards = 3;
	cfg->cards[0] = (struct sim_card_config){ 5, 7, 'C', true, true };
	cfg->cards[1] = (struct sim_card_config){ 6, 7, 'C', true, true };
	cfg->cards[2] = (struct sim_card_config){ 7, 6, 'A', true, true };
}

static inline struct sim *simtest_new_cfg(const struct sim_config *cfg)
{
	struct sim *sim = NULL;

	assert_int_equal(sim_new(cfg, &sim), 0);
	assert_non_null(sim);
	return sim;
}

static inline struct sim *simtest_new(unsigned major, unsigned minor)
{
	static struct sim_config cfg; /* large: keep it off the stack */

	simtest_config(&cfg, major, minor);
	return simtest_new_cfg(&cfg);
}

/* The whole attribute as a string (static buffer), or "ERR:<errno>". */
static inline const char *rd(struct sim *sim, const char *path)
{
	static char buf[65 * 1024];
	ssize_t n = sim_read(sim, path, buf, sizeof(buf) - 1);

	if (n < 0) {
		snprintf(buf, sizeof(buf), "ERR:%d", (int) -n);
		return buf;
	}
	buf[n] = '\0';
	return buf;
}

/* Writes s (without its NUL); returns what write(2) would: len or -errno. */
static inline ssize_t wr(struct sim *sim, const char *path, const char *s)
{
	return sim_write(sim, path, s, strlen(s));
}

/* A write must succeed in full. */
#define WR_OK(sim, path, s) assert_int_equal(wr((sim), (path), (s)), (ssize_t) strlen(s))

/* A write must fail with errno e. */
#define WR_ERR(sim, path, s, e) assert_int_equal(wr((sim), (path), (s)), -(e))

#define RD_EQ(sim, path, expected) assert_string_equal(rd((sim), (path)), (expected))

static inline bool exists(struct sim *sim, const char *path)
{
	struct sim_stat st;

	return sim_stat(sim, path, &st) == 0;
}

static inline const char *link_of(struct sim *sim, const char *path)
{
	static char buf[512];
	ssize_t n = sim_readlink(sim, path, buf, sizeof(buf) - 1);

	if (n < 0)
		return "ERR";
	buf[n] = '\0';
	return buf;
}

static inline mode_t mode_of(struct sim *sim, const char *path)
{
	struct sim_stat st;

	if (sim_stat(sim, path, &st) < 0)
		return (mode_t) -1;
	return st.mode;
}

/* Creates an mdev and assigns adapters/domains from "+"-less id lists. */
static inline void make_mdev(struct sim *sim, const char *uuid, const char *adapters,
			     const char *domains)
{
	char path[160], ids[64], *save = NULL;

	assert_int_equal(wr(sim, MDEV_TYPE "/create", uuid), (ssize_t) strlen(uuid));
	snprintf(ids, sizeof(ids), "%s", adapters);
	for (char *id = strtok_r(ids, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		snprintf(path, sizeof(path), "devices/vfio_ap/matrix/%s/assign_adapter", uuid);
		WR_OK(sim, path, id);
	}
	snprintf(ids, sizeof(ids), "%s", domains);
	for (char *id = strtok_r(ids, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		snprintf(path, sizeof(path), "devices/vfio_ap/matrix/%s/assign_domain", uuid);
		WR_OK(sim, path, id);
	}
}

/* The uevents file, for "contains" checks. */
static inline bool uevents_contain(struct sim *sim, const char *needle)
{
	return strstr(rd(sim, SIM_CONTROL_DIR "/uevents"), needle) != NULL;
}

static inline bool dmesg_contains(struct sim *sim, const char *needle)
{
	return strstr(rd(sim, SIM_CONTROL_DIR "/dmesg"), needle) != NULL;
}

/* The kernel's mask format for a list of ids ended by -1: "0x...\n". */
static inline const char *mask_str(int first, ...)
{
	static char buf[IDSET_MASK_HEX_LEN + 2];
	struct idset set = IDSET_EMPTY;
	va_list ap;

	va_start(ap, first);
	for (int id = first; id >= 0; id = va_arg(ap, int))
		idset_add(&set, (unsigned) id);
	va_end(ap);
	idset_format_mask_hex(&set, buf);
	strcat(buf, "\n");
	return buf;
}

static inline const char *mask_of_set(const struct idset *set)
{
	static char buf[IDSET_MASK_HEX_LEN + 2];

	idset_format_mask_hex(set, buf);
	strcat(buf, "\n");
	return buf;
}
