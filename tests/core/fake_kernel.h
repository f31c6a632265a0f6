/* SPDX-License-Identifier: MIT */
/*
 * An in-memory kernel behind struct kernel_port for the core tests: the AP
 * bus masks and bindings and vfio_ap's mdevs, with the kernel's checks for
 * both generations (kernel-vfio-ap.md §2-§4), and a way to make the k-th
 * write fail.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/port.h"

#define FAKE_MAX_MDEVS 16

struct fake_mdev {
	char uuid[UUID_STR_LEN + 1];
	struct idset apm, aqm, adm;
	bool running;
};

struct fake_kernel {
	bool dynamic, ap_config, vfio_ap;
	unsigned max_adapter, max_domain;
	struct idset adapters, usage_domains;
	struct idset apmask, aqmask;
	struct fake_mdev mdevs[FAKE_MAX_MDEVS];
	size_t n_mdevs;

	unsigned writes;      /* applies so far */
	uint64_t fail_writes; /* bit n-1: write n fails with fail_err (-EIO if 0), untouched */
	int fail_err;
	unsigned reads;	    /* read_host calls */
	struct kop log[64]; /* the writes that succeeded, in order */
	size_t n_log;
};

/*
 * The seed LPAR: adapters 05 and 06, usage domains 0004 0047 00ab 00ff, max
 * ids 63/255, both masks all ones. dynamic: 6.0+ semantics; ap_config: 6.10+.
 */
void fake_seed(struct fake_kernel *k, bool dynamic, bool ap_config);

/* Adds an mdev as another tool would (no checks). Returns it. */
struct fake_mdev *fake_add_mdev(struct fake_kernel *k, const char *uuid);

struct fake_mdev *fake_find(struct fake_kernel *k, const char *uuid);

/* The port over k. */
struct kernel_port fake_port(struct fake_kernel *k);

/* Builds a model from what k shows (guests adopted, named by UUID). */
struct model;
struct model *fake_model(struct fake_kernel *k);

/* Shorthands for tests. */
struct idset ids(const char *list);
struct apqn apqn_of(unsigned ap, unsigned dom);
