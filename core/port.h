/* SPDX-License-Identifier: MIT */
/*
 * The kernel port: everything core needs from the kernel, and nothing more.
 * core defines it; kmod implements it over the sysfs port (real /sys, a
 * zapfs-simsys mount, or the in-process simulator). core never sees a path.
 *
 * Reads return a complete snapshot of what they describe, so that a rule is
 * always checked against one consistent picture (DESIGN §2 rule 8). apply()
 * performs exactly one kernel write and returns the kernel's errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/idset.h"

#define UUID_STR_LEN 36

/* What this kernel offers, detected from what sysfs shows. */
struct kernel_caps {
	bool dynamic;	   /* 6.0+: guest_matrix, hot plug, in_use check on mask writes,
			      assignment of unbound queues */
	bool ap_config;	   /* the mdev has ap_config: a whole matrix in one atomic write */
	bool queue_status; /* vfio_ap-bound queues have `status` (assigned/in use) */
	bool vfio_ap;	   /* vfio_ap is loaded: the matrix device exists */
};

enum card_mode {
	CARD_MODE_UNKNOWN,
	CARD_MODE_ACCEL, /* "Accelerator" */
	CARD_MODE_CCA,	 /* "CCA-Coproc" */
	CARD_MODE_EP11,	 /* "EP11-Coproc" */
};

struct host_card {
	unsigned hwtype;     /* compatible type, 10 (CEX4) .. 14 (CEX8) */
	unsigned raw_hwtype; /* as TAPQ reports it */
	unsigned depth;	     /* the kernel's `depth` (lszcrypt shows depth + 1) */
	uint32_t functions;  /* ap_functions */
	enum card_mode mode;
	char type[16]; /* "CEX5C"; "" when no zcrypt driver is bound */
	bool config;   /* SCLP configured */
	bool online;
	bool chkstop;
};

enum queue_driver {
	QUEUE_DRIVER_NONE,
	QUEUE_DRIVER_DEFAULT, /* cex4queue: the host's own drivers */
	QUEUE_DRIVER_VFIO,    /* vfio_ap: set aside for guests */
};

/* The host side of the AP configuration. */
struct host {
	struct kernel_caps caps;
	unsigned max_adapter, max_domain;    /* inclusive ids */
	struct idset adapters;		     /* cards present (card devices) */
	struct idset usage_domains;	     /* ap_usage_domain_mask (QCI AQM) */
	struct idset control_domains;	     /* ap_control_domain_mask (QCI ADM) */
	struct idset apmask, aqmask;	     /* the host pool is apmask x aqmask */
	struct host_card cards[AP_ID_COUNT]; /* valid where adapters has the id */
	struct apqn_set queues;		     /* queue devices that exist */
	struct apqn_set vfio_bound;	     /* ... bound to vfio_ap */
	struct apqn_set default_bound;	     /* ... bound to cex4queue */
	struct apqn_set online;		     /* ... whose `online` reads 1 (default driver only) */
	struct apqn_set in_use;		     /* ... whose vfio_ap `status` reads "in use" */
};

/* One mediated matrix device as the kernel shows it. */
struct mdev_info {
	char uuid[UUID_STR_LEN + 1];	/* lowercase */
	struct idset adapters, domains; /* the assigned matrix */
	struct idset control_domains;
	struct idset guest_adapters, guest_domains; /* guest_matrix; = matrix on old kernels */
	bool running;				    /* a KVM guest uses it, as far as sysfs shows */
};

/* One kernel write. */
enum kop_type {
	KOP_MDEV_CREATE, /* write uuid to the type's create */
	KOP_MDEV_REMOVE, /* write 1 to the mdev's remove */
	KOP_ASSIGN_ADAPTER,
	KOP_UNASSIGN_ADAPTER,
	KOP_ASSIGN_DOMAIN,
	KOP_UNASSIGN_DOMAIN,
	KOP_ASSIGN_CONTROL_DOMAIN,
	KOP_UNASSIGN_CONTROL_DOMAIN,
	KOP_AP_CONFIG,	 /* the whole matrix: apm, aqm, adm */
	KOP_APMASK_EDIT, /* relative apmask write: +set, -clear */
	KOP_AQMASK_EDIT, /* relative aqmask write */
	_KOP_TYPE_MAX,
};

struct kop {
	enum kop_type type;
	char uuid[UUID_STR_LEN + 1]; /* mdev operations */
	unsigned id;		     /* assign/unassign */
	struct idset set, clear;     /* mask edits */
	struct idset apm, aqm, adm;  /* KOP_AP_CONFIG */
};

struct kernel_port_ops {
	/* A snapshot of the host's AP configuration. */
	int (*read_host)(void *ctx, struct host *ret);
	/*
	 * Every vfio_ap-passthrough mdev, sorted by uuid. On success *ret_mdevs is
	 * a malloc'ed array the caller frees.
	 */
	int (*read_mdevs)(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n);
	/* One mdev; -ENOENT if it does not exist. */
	int (*read_mdev)(void *ctx, const char *uuid, struct mdev_info *ret);
	/*
	 * Optional: read_host() and read_mdevs() at once, re-reading only what
	 * an assignment decision depends on when the masks still read as in
	 * prev: then the topology (cards, queues, their drivers and online
	 * flags) is prev's, which uevents and rescans keep current, and the
	 * mdevs, the queues in use and the capabilities are read anew. When the
	 * masks differ, queues have been rebound: everything is read.
	 */
	int (*read_kernel_quick)(void *ctx, const struct host *prev, struct host *ret_host,
				 struct mdev_info **ret_mdevs, size_t *ret_n);
	/* One kernel write; 0 or the kernel's -errno. */
	int (*apply)(void *ctx, const struct kop *op);
	/*
	 * Optional (NULL: no lock). Held around every sequence of writes that
	 * changes the AP configuration, so that other tools that take the same
	 * lock (chzdev, mdevctl's callout) never interleave with zapfs.
	 * -EAGAIN or -ETIMEDOUT: another process held it for too long (the
	 * engine then refuses with EBUSY).
	 */
	int (*config_lock)(void *ctx);
	void (*config_unlock)(void *ctx);
	/* Optional: after config_lock() failed, who holds the lock, for the
	 * refusal ("s390apconfig.lock is held by PID 1234"); "" if unknown. */
	void (*config_lock_holder)(void *ctx, char *buf, size_t size);
};

struct kernel_port {
	const struct kernel_port_ops *ops;
	void *ctx;
};

/*
 * The kernel's own name of an operation: the attribute it writes
 * ("assign_domain", "ap_config", "apmask", "create", "remove").
 */
const char *kop_name(enum kop_type type);

/* Whether type is one id's assign or unassign to an mdev (assign_adapter ...
 * unassign_control_domain). */
bool kop_is_id_write(enum kop_type type);

/* A short human form of an operation for the log: "assign_domain 0x47 to 8b0f...". */
int kop_describe(const struct kop *op, char *buf, size_t size);
