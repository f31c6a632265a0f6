/* SPDX-License-Identifier: MIT */
/*
 * Loading vfio_ap when a real host lacks it: devices/vfio_ap (the driver's
 * root device, parent of the matrix device) appears when the module loads.
 * zapfs loads it with libkmod, as `modprobe vfio_ap` would, when it was built
 * with libkmod; it never loads anything for a root other than the real /sys
 * (a zapfs-simsys mount, a fixture tree, the simulator).
 *
 * Nothing here prints: failures come back as -errno plus a sentence for the
 * caller to print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sysfs;

/* Room for any message of this module. */
#define MODLOAD_MSG_MAX 256

/* Whether this build can load modules (libkmod was found at build time). */
bool modload_have_libkmod(void);

/*
 * Makes sure vfio_ap is there. Returns 0 if devices/vfio_ap exists already,
 * 1 if it was loaded now. On failure returns -errno and puts in msg what is
 * missing and what to do:
 *   -ENOENT      vfio_ap is missing and fs's root is not the real /sys, so
 *                nothing is loaded;
 *   -EOPNOTSUPP  built without libkmod ("... run modprobe vfio_ap");
 *   -ENODEV      the module loaded but devices/vfio_ap did not appear;
 *   other        libkmod's error (ENOENT: no such module for this kernel,
 *                EPERM: not root, ...).
 * module_dir is for tests: NULL means the running kernel's modules and the
 * system's modprobe configuration; a directory means only the modules there,
 * with no configuration at all.
 */
int modload_vfio_ap(struct sysfs *fs, const char *module_dir, char *msg, size_t msg_size);

/*
 * Loads module name and its dependencies with libkmod (module_dir as above).
 * 0 if it is loaded now or was already, or is built in; -errno and a message
 * otherwise (-EOPNOTSUPP without libkmod).
 */
int modload_probe(const char *name, const char *module_dir, char *msg, size_t msg_size);
