/* SPDX-License-Identifier: MIT */
/*
 * A frozen copy of a simulator's sysfs view as real files: directories,
 * attributes with their contents and modes, symlinks with their targets.
 * Reading it through sysfs_dir must give what reading the simulator gives.
 */
#pragma once

#include "kmod/sim/sim.h"

/* Copies the view (without SIM_CONTROL_DIR) under dir, which must exist. */
int sim_mirror(struct sim *sim, const char *dir);

/* Removes dir and everything below it. */
void sim_mirror_remove(const char *dir);
