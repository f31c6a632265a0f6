/* SPDX-License-Identifier: MIT */
/*
 * Simulated LPARs for the kmod tests, built in C so that a test states its
 * own fixture: the seed's LPAR on any kernel generation, and a large one.
 */
#pragma once

#include "kmod/sim/sim.h"

/*
 * The vfio-ap document's LPAR: card 05 CEX5C and 06 CEX5A, usage and control
 * domains 04 47 ab ff, max adapter 63, max domain 255, both masks all ones.
 */
void sim_host_seed(unsigned major, unsigned minor, struct sim_config *ret);

/* 256 adapters (CEX8C, CEX7P, CEX8A) x 85 domains, max ids 255/84. */
void sim_host_large(unsigned major, unsigned minor, struct sim_config *ret);
