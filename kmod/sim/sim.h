/* SPDX-License-Identifier: MIT */
/*
 * A simulated s390 LPAR kernel: the AP bus, the zcrypt default drivers
 * (cex4card, cex4queue), vfio_ap with its matrix device, and the mdev core,
 * as ../shared/reference/kernel-vfio-ap.md describes them.
 *
 * The simulator is seen only through a sysfs view: paths relative to the
 * sysfs root ("bus/ap/apmask", "devices/vfio_ap/matrix/<uuid>/matrix"),
 * with the kernel's file modes, formats, errnos and side effects. A program
 * that speaks to it cannot tell it from /sys. Test hooks that a kernel lacks
 * (a fake KVM guest, a card leaving the configuration, an injected write
 * failure) live in a control directory, SIM_CONTROL_DIR, outside the sysfs
 * layout, and have C entry points too.
 *
 * All entry points are thread-safe (one internal lock). A `remove` write on a
 * kernel whose remove blocks until the guest lets go (>= 5.13) sleeps with
 * the lock released until sim_kvm_detach() is called for that mdev.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/idset.h"

#define SIM_UUID_LEN	36
#define SIM_CONTROL_DIR "simctl"
#define SIM_MAX_CARDS	256
#define SIM_MAX_MDEVS	64

/* ---- host files: the description of an LPAR ---- */

struct sim_card_config {
	unsigned id;  /* APID, 0..max_adapter */
	unsigned gen; /* Crypto Express generation, 4..8 (hwtype = gen + 6) */
	char mode;    /* 'A' accelerator, 'C' CCA coprocessor, 'P' EP11 coprocessor */
	bool config;  /* SCLP configured (card `config`) */
	bool online;  /* zcrypt online */
};

struct sim_mdev_config {
	char uuid[SIM_UUID_LEN + 1]; /* lowercase */
	struct idset adapters, domains, control_domains;
};

struct sim_config {
	unsigned kernel_major, kernel_minor; /* behaviour generation, e.g. 5.15, 6.1, 6.10 */
	unsigned max_adapter, max_domain;    /* ap_max_adapter_id / ap_max_domain_id */
	struct idset usage_domains;	     /* QCI AQM */
	struct idset control_domains;	     /* QCI ADM (usage domains are control domains too) */
	struct idset apmask, aqmask;	     /* initial masks; all ones by default */
	bool vfio_ap_loaded;		     /* the vfio_ap module is loaded (default true) */
	size_t n_cards;
	struct sim_card_config cards[SIM_MAX_CARDS];
	size_t n_mdevs;
	struct sim_mdev_config mdevs[SIM_MAX_MDEVS];
};

/*
 * Parses a host file (format: contrib/hosts/README). On a syntax or
 * consistency error returns -EINVAL and writes "FILE:LINE: what is wrong"
 * into err. name is used only in messages.
 */
int sim_config_parse(const char *text, const char *name, struct sim_config *ret, char *err,
		     size_t err_size);
int sim_config_load(const char *path, struct sim_config *ret, char *err, size_t err_size);

/* The embedded default LPAR: contrib/hosts/seed.conf. */
extern const char sim_seed_host[];

/* ---- the simulated kernel ---- */

struct sim;

/* Boots a simulated LPAR from cfg (-EINVAL for a configuration the kernel
 * could not be in: a card of type below CEX4, an mdev holding host queues or
 * sharing an APQN, ids above the max). No uevent is sent for the boot. */
int sim_new(const struct sim_config *cfg, struct sim **ret);

/* Frees the simulator; no call may be in progress (e.g. a blocked remove).
 * Accepts NULL; returns NULL. */
struct sim *sim_free(struct sim *sim);

enum sim_node_type {
	SIM_NODE_DIR,
	SIM_NODE_FILE,
	SIM_NODE_LINK,
};

struct sim_stat {
	enum sim_node_type type;
	mode_t mode; /* permission bits only: 0444, 0644, 0200, 0755, 0777 */
};

/*
 * The sysfs view. path is relative to the sysfs root, without a leading or
 * trailing slash; "" is the root. Symlinks inside a path are followed as the
 * VFS would; the last component is not followed by sim_stat/sim_readlink.
 */
int sim_stat(struct sim *sim, const char *path, struct sim_stat *ret);

/*
 * Reads an attribute as one show(): writes the whole content (no NUL added
 * beyond it when it fills buf) and returns its length, or -errno (EACCES for a
 * write-only attribute, EISDIR, ENOENT, EIO where the kernel's show fails).
 * As in sysfs, a show is at most one page: content past 4095 bytes (a matrix
 * of more than 511 APQNs) is cut there and the kernel log says so. If buf is
 * smaller than the content, the first size bytes are written and size is
 * returned. Files under SIM_CONTROL_DIR may be up to 64 KiB.
 */
ssize_t sim_read(struct sim *sim, const char *path, char *buf, size_t size);

/* One store() of len bytes: returns len or the kernel's -errno. As kernfs
 * does, an empty write returns 0 without calling store(), and more than one
 * page (4096 bytes) is cut to a page (a short write). Writing a 0444 file
 * gives EACCES, a directory EISDIR. */
ssize_t sim_write(struct sim *sim, const char *path, const char *buf, size_t len);

/* Lists a directory (without "." and ".."), in a stable order. Stops early
 * and returns the callback's value if it returns non-zero. The listing is a
 * snapshot: cb runs without the simulator's lock and may call into it. */
typedef int (*sim_readdir_cb)(void *userdata, const char *name, const struct sim_stat *st);
int sim_readdir(struct sim *sim, const char *path, sim_readdir_cb cb, void *userdata);

/* The link target as sysfs shows it, relative ("../../../devices/ap/card05"). */
ssize_t sim_readlink(struct sim *sim, const char *path, char *buf, size_t size);

/* ---- test hooks (also files under SIM_CONTROL_DIR) ---- */

/* Attach/detach a fake KVM guest (QEMU opening/closing the mdev). */
int sim_kvm_attach(struct sim *sim, const char *uuid);
int sim_kvm_detach(struct sim *sim, const char *uuid);

/* The adapter leaves / re-enters the host configuration (QCI APM): the card
 * and its queues are removed / re-created, as after an AP bus scan. */
int sim_adapter_remove(struct sim *sim, unsigned apid);
int sim_adapter_add(struct sim *sim, const struct sim_card_config *card);

/* A card or one queue enters/leaves the checkstopped state. */
int sim_card_checkstop(struct sim *sim, unsigned apid, bool on);

/* The next write to path (relative, as above) fails with -err, untouched. */
int sim_fail_next_write(struct sim *sim, const char *path, int err);

/* For tests: how many mdevs vfio_ap offers (65536 by default), so that a
 * create can run out of instances (EUSERS, or EPERM before 6.1). The
 * simulator itself holds at most SIM_MAX_MDEVS (create: ENOSPC beyond). */
int sim_set_max_instances(struct sim *sim, unsigned long n);

/* Uevents the kernel would have sent, for tests and the event handler. */
struct sim_uevent {
	char action[8];	    /* add, remove, change, bind, unbind */
	char devpath[128];  /* "/devices/ap/card05/05.0004" */
	char subsystem[16]; /* ap, mdev */
	char env[256];	    /* "KEY=VALUE\n" lines beyond ACTION/DEVPATH/SUBSYSTEM */
};
typedef void (*sim_uevent_cb)(void *userdata, const struct sim_uevent *ev);

/*
 * Sets the function that receives each uevent, in the order the kernel sends
 * them. It is called with the simulator's lock held, from inside the write
 * or hook that caused the event: it must not call back into the simulator
 * (copy the event and act on it later). env holds the keys after ACTION,
 * DEVPATH and SUBSYSTEM, ending with SEQNUM; a value that itself ends in a
 * newline (APMASK=, AQMASK=) is followed by an empty line. The events
 * before sim_new() returned (boot) are not sent.
 */
void sim_set_uevent_handler(struct sim *sim, sim_uevent_cb cb, void *userdata);
