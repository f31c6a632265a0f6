/* SPDX-License-Identifier: MIT */
/*
 * The simulator's internals, shared by its files: the state of the AP bus,
 * the cards and queues, vfio_ap and its mdevs, and the helpers each part
 * offers the others. Nothing outside kmod/sim/ includes this header.
 *
 * Every function here expects sim->lock to be held by its caller.
 */
#pragma once

#include <pthread.h>
#include <stdarg.h>

#include "core/idset.h"
#include "kmod/sim/sim.h"

/* The size of a sysfs show() buffer; a show that produces more is cut to
 * SIM_PAGE_SIZE - 1 bytes, as sysfs_kf_seq_show() does. */
#define SIM_PAGE_SIZE 4096

#define SIM_UEVENT_RING 256
#define SIM_DMESG_RING	128
#define SIM_DMESG_LINE	160
#define SIM_FAIL_SLOTS	16
#define SIM_PATH_MAX	256

/* The driver a card or queue device is bound to. */
enum sim_driver {
	SIM_DRV_NONE,
	SIM_DRV_CEX4CARD,
	SIM_DRV_CEX4QUEUE,
	SIM_DRV_VFIO_AP,
};

/* What the configured kernel version does, derived once from its number
 * with the thresholds of the reference's version table. */
struct sim_features {
	bool ap_config_info;	/* 5.10: max ids from QCI, scans, bindings, card config */
	bool mode_uevent;	/* 5.12: MODE= in AP uevents */
	bool remove_blocks;	/* 5.13: mdev remove waits for the guest instead of EBUSY */
	bool vfio_ap_mdev_drv;	/* 5.16: mdevs bind to vfio_ap_mdev, not vfio_mdev */
	bool dynamic;		/* 6.0: hot plug, guest_matrix, in_use, status, chkstop */
	bool eusers;		/* 6.1: create without instances left fails with EUSERS */
	bool features_attr;	/* 6.2: bus attribute `features` */
	bool max_msg_size;	/* 6.3: card attribute `max_msg_size` */
	bool queue_functions;	/* 6.7: queue `ap_functions`, whole-matrix filtering */
	bool late_bindings_evt; /* 6.8: BINDINGS=complete only after scans, not probes */
	bool ap_config;		/* 6.10: mdev attribute `ap_config` */
};

struct sim_queue {
	bool present;
	enum sim_driver driver;
	bool online; /* zcrypt's own flag; what `online` shows also needs config */
};

struct sim_card {
	bool present;
	unsigned gen;
	char mode;
	bool config;
	bool chkstop;
	bool online;
	enum sim_driver driver;
	struct sim_queue queues[AP_ID_COUNT];
};

struct sim_mdev {
	bool present;
	char uuid[SIM_UUID_LEN + 1];
	struct idset apm, aqm, adm;		/* the assigned matrix (`matrix`) */
	struct idset sapm, saqm, sadm;		/* the shadow APCB (`guest_matrix`) */
	bool kvm;				/* a KVM guest has the mdev open */
	bool removing;				/* a remove waits for the guest to let go */
	struct idset apm_add, aqm_add, adm_add; /* host additions pending a scan */
};

struct sim_fail {
	char path[SIM_PATH_MAX];
	int err;
};

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t released; /* signalled when a guest detaches */

	unsigned kernel_major, kernel_minor;
	struct sim_features f;
	unsigned max_ap, max_dom;

	/* The host's AP configuration (QCI): APM, AQM, ADM. */
	struct idset qci_apm, qci_aqm, qci_adm;
	struct idset apmask, aqmask;

	/* Bus attributes. */
	int ap_domain;
	int config_time;
	bool poll_thread;
	unsigned long long poll_timeout;
	unsigned long long scans;
	unsigned complete_count;

	bool vfio_ap_loaded;
	unsigned long max_instances;
	struct sim_card *cards[AP_ID_COUNT];
	unsigned n_queues, n_bound; /* queue devices, and those with a driver */
	struct sim_mdev mdevs[SIM_MAX_MDEVS];

	sim_uevent_cb uevent_cb;
	void *uevent_userdata;
	unsigned long long seqnum;
	struct sim_uevent uevents[SIM_UEVENT_RING];
	size_t n_uevents; /* total ever sent; the ring keeps the last ones */

	char dmesg[SIM_DMESG_RING][SIM_DMESG_LINE];
	size_t n_dmesg;

	struct sim_fail fails[SIM_FAIL_SLOTS];
};

/* ---- show() output ---- */

/* A show() buffer: holds up to cap - 1 bytes; `overflow` records that the
 * attribute produced more (the kernel would have written past its page). */
struct sim_page {
	char *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) void page_printf(struct sim_page *pg, const char *fmt, ...);

/* ---- attributes ---- */

/* The object a directory or attribute of the view stands for. */
struct sim_obj {
	unsigned ap;	     /* card/queue: adapter */
	int dom;	     /* queue: domain; -1 for a card */
	size_t mdev;	     /* mdev: index in sim->mdevs */
	enum sim_driver drv; /* driver directories */
};

/* One sysfs attribute: show() fills pg (0 or -errno); store() gets the
 * NUL-terminated copy of the written bytes and returns len or -errno. A
 * NULL visible() means always present. */
struct sim_attr {
	const char *name;
	mode_t mode;
	bool (*visible)(struct sim *sim, const struct sim_obj *o);
	int (*show)(struct sim *sim, const struct sim_obj *o, struct sim_page *pg);
	ssize_t (*store)(struct sim *sim, const struct sim_obj *o, const char *s, size_t len);
};

/* The attribute tables, each ended by an entry with a NULL name. */
extern const struct sim_attr sim_bus_attrs[];	    /* bus/ap */
extern const struct sim_attr sim_card_attrs[];	    /* devices/ap/cardXX */
extern const struct sim_attr sim_queue_attrs[];	    /* devices/ap/cardXX/XX.YYYY */
extern const struct sim_attr sim_ap_driver_attrs[]; /* bus/ap/drivers/<drv> */
extern const struct sim_attr sim_ap_root_attrs[];   /* devices/ap */
extern const struct sim_attr sim_matrix_attrs[];    /* devices/vfio_ap/matrix */
extern const struct sim_attr sim_mdev_type_attrs[]; /* mdev_supported_types/vfio_ap-passthrough */
extern const struct sim_attr sim_mdev_attrs[];	    /* devices/vfio_ap/matrix/<uuid> */
extern const struct sim_attr sim_plain_driver_attrs[]; /* drivers without bind/unbind */
extern const struct sim_attr sim_simctl_attrs[];       /* SIM_CONTROL_DIR */

/* A store() that accepts anything and does nothing visible (uevent files,
 * counters that are always 0, queue reset). */
ssize_t sim_store_ignore(struct sim *sim, const struct sim_obj *o, const char *s, size_t len);

/* The name of a driver as sysfs shows it. */
const char *sim_driver_name(enum sim_driver drv);

/* The mdev driver's name: vfio_ap_mdev, or vfio_mdev before 5.16. */
const char *sim_mdev_driver_name(const struct sim *sim);

/* ---- sim.c: uevents, kernel log, versions ---- */

/* Sends a uevent. env holds "KEY=VALUE\n" lines (may be NULL). */
void sim_uevent(struct sim *sim, const char *action, const char *devpath, const char *subsystem,
		const char *env);

__attribute__((format(printf, 2, 3))) void sim_log(struct sim *sim, const char *fmt, ...);

/* ---- apbus.c: the AP bus, cards, queues, zcrypt ---- */

/* The card / queue device with these ids, or NULL if there is none. */
struct sim_queue *sim_queue_get(struct sim *sim, unsigned ap, unsigned dom);
struct sim_card *sim_card_get(struct sim *sim, unsigned ap);

/* True if the queue device exists and is bound to vfio_ap. */
bool sim_queue_bound_vfio(struct sim *sim, unsigned ap, unsigned dom);

/* Creates the card and its queues, probes and binds them (an AP bus scan
 * finding a new adapter). Sends add/bind uevents when `announce`. */
int sim_apbus_add_card(struct sim *sim, const struct sim_card_config *cc, bool announce);

/* Removes a card and its queues (unbinding them first). */
void sim_apbus_remove_card(struct sim *sim, unsigned ap);

/* Recomputes the default domain when none is selected (ap_select_domain). */
void sim_apbus_select_domain(struct sim *sim);

/* An AP bus scan: counts it and sends BINDINGS=complete if all are bound. */
void sim_apbus_scan(struct sim *sim);

/* ---- vfio_ap.c: vfio_ap and the mdev core ---- */

/* The mdev with this UUID (either case), or NULL. */
struct sim_mdev *sim_vfio_find_mdev(struct sim *sim, const char *uuid);

/* vfio_ap's in_use callback: -EBUSY when any mdev's matrix holds an APQN of
 * apm x aqm (6.0+), logging each. */
int sim_vfio_in_use(struct sim *sim, const struct idset *apm, const struct idset *aqm);

/* vfio_ap's probe and remove of a queue device. */
void sim_vfio_probe_queue(struct sim *sim, unsigned ap, unsigned dom);
void sim_vfio_remove_queue(struct sim *sim, unsigned ap, unsigned dom);

/* The host configuration lost or gained ids (on_config_changed), and the
 * scan that follows has completed (on_scan_complete). */
void sim_vfio_config_changed(struct sim *sim, const struct idset *old_apm,
			     const struct idset *old_aqm, const struct idset *old_adm);
void sim_vfio_scan_complete(struct sim *sim);

/* Creates an mdev as a write to `create` would (uuid already validated). */
int sim_vfio_create(struct sim *sim, const char *uuid_lower);

/* The status of a vfio_ap-bound queue: "assigned", "unassigned", "in use". */
const char *sim_vfio_queue_status(struct sim *sim, unsigned ap, unsigned dom);

/* Attach/detach a fake KVM guest. */
int sim_vfio_attach(struct sim *sim, const char *uuid);
int sim_vfio_detach(struct sim *sim, const char *uuid);

/* Full re-filter of every mdev (6.0+). */
void sim_vfio_filter_all(struct sim *sim);

/* The mdevs in readdir order (by UUID); returns how many. */
size_t sim_vfio_sorted_mdevs(struct sim *sim, struct sim_mdev **ret, size_t max);

/* ---- sysfs_view.c ---- */

/* Resolves path to its canonical form (symlinks followed), into buf. */
int sim_view_canonical(struct sim *sim, const char *path, char *buf, size_t size);
