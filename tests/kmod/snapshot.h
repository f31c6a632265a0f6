/* SPDX-License-Identifier: MIT */
/*
 * What the kernel shows through a kernel port, taken in one go and compared
 * field by field (padding inside struct host is not part of the picture).
 */
#pragma once

#include <stdbool.h>

#include "core/port.h"

struct snapshot {
	struct host host;
	struct mdev_info *mdevs;
	size_t n;
};

/* Reads the host and every mdev through port; 0 or -errno. */
int snapshot_take(const struct kernel_port *port, struct snapshot **ret);
void snapshot_free(struct snapshot *s);

/*
 * NULL when equal, else which part differs ("masks", "an mdev", ...). With
 * shadows false, what vfio_ap derives by filtering the assigned matrices is
 * left out: guest_matrix and the "in use" queues that follow from it.
 */
const char *host_difference(const struct host *a, const struct host *b, bool shadows);
const char *snapshot_difference(const struct snapshot *a, const struct snapshot *b, bool shadows);
