/* SPDX-License-Identifier: MIT */
/*
 * The kernel port (core/port.h) over the sysfs port: what core asks of the
 * kernel, answered from AP bus and vfio_ap attributes, for real /sys, a
 * zapfs-simsys mount or the in-process simulator alike.
 *
 * Capabilities are detected from what sysfs shows, never from the kernel
 * version (a simulator or a backport would lie about it):
 * - vfio_ap:      the vfio_ap-passthrough mdev type directory exists;
 * - dynamic:      an mdev has guest_matrix; without an mdev, a vfio_ap-bound
 *                 queue has status; without either, bus/ap/features exists
 *                 (6.2+) or a card has chkstop (6.0+). A 6.0/6.1 kernel with
 *                 no mdev, no vfio_ap queue and no chkstop file would be
 *                 taken for an old one until one of them appears.
 * - ap_config:    an mdev has ap_config; with no mdev it reads false (the
 *                 assign_* files every kernel has do the same job, in steps);
 * - queue_status: a vfio_ap-bound queue has status; without one, = dynamic.
 *
 * An mdev is running when one of its vfio_ap-bound queues reads "in use"
 * (one status read per idle mdev, two per running one: the in-use queues
 * follow from the matrices). Kernels before 6.0 have no status file, so
 * there a running guest cannot be seen and running reads false; their
 * assign/unassign writes then fail with EBUSY, which apply() passes on, but
 * a remove write blocks until the guest lets go (5.13+), as on the command
 * line. On 6.0+ the same holds for a guest none of whose queues is bound.
 *
 * matrix and guest_matrix show at most one sysfs page (511 APQNs). The
 * assigned matrix comes from ap_config where the kernel has it; before
 * that, a bigger matrix is -EFBIG rather than a wrong one. A guest_matrix
 * cut short is completed by vfio_ap's filter rule (see read_shadow()).
 *
 * Each host queue's `online` is one read (21760 on a 256 x 85 LPAR): zcrypt
 * keeps it per queue, and no listing shows it. Queues of offline cards are
 * skipped, since they cannot be online.
 */
#pragma once

#include "core/port.h"
#include "kmod/sysfs.h"

/*
 * Fills ret with a kernel port that reads and writes through fs. The port
 * borrows fs (no allocation, nothing to free) and is thread-safe as far as
 * fs is; fs must outlive it.
 */
int kport_new(struct sysfs *fs, struct kernel_port *ret);

/*
 * The matrix device's directory under sysfs_root ("/sys" ->
 * "/sys/devices/vfio_ap/matrix"): where QEMU's sysfsdev of a guest points.
 * Returns the length snprintf would, like snprintf.
 */
int kport_matrix_dir(const char *sysfs_root, char *buf, size_t size);

/* 1 if fs shows the AP bus (bus/ap), 0 if not (no crypto adapters on this
 * host, or not an IBM Z at all: nothing to manage), -errno. */
int kport_ap_bus_present(struct sysfs *fs);

struct aplock;

/*
 * A kernel port that also holds the s390-tools AP configuration lock
 * (aplock.h) around every sequence of kernel writes (config_lock and
 * config_unlock of core/port.h), so that chzdev and mdevctl never interleave
 * with zapfs. The caller owns this storage.
 */
struct kport_locked {
	struct sysfs *fs;
	struct aplock *lock;
	int timeout_ms; /* how long to wait for the lock; < 0: as long as it takes */
};

/*
 * Fills *storage and ret: ret reads and writes through fs like kport_new()'s
 * port, and takes lock, waiting at most timeout_ms. storage, fs and lock must
 * outlive the port.
 */
int kport_new_locked(struct kport_locked *storage, struct sysfs *fs, struct aplock *lock,
		     int timeout_ms, struct kernel_port *ret);
