/* SPDX-License-Identifier: MIT */
/*
 * The AP bus (ap_bus.c, ap_card.c, ap_queue.c) and the zcrypt default
 * drivers cex4card/cex4queue: card and queue devices, the apmask/aqmask
 * ownership rule that decides which driver a queue binds to, and the bus,
 * card, queue and driver attributes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/kparse.h"
#include "kmod/sim/sim_private.h"

/* AP_DEVICE_TYPE_CEX4 is 10: hwtype = generation + 6. */
#define HWTYPE(gen) ((gen) + 6)

#define FN_APSC	 0x80000000u
#define FN_MEX4K 0x40000000u
#define FN_CRT4K 0x20000000u
#define FN_COPRO 0x10000000u
#define FN_ACCEL 0x08000000u
#define FN_EP11	 0x04000000u
#define FN_APXA	 0x02000000u

#define AP_QUEUE_DEPTH	 7
#define AP_MAX_MSG_SIZE	 12288
#define POLL_TIMEOUT_MAX 120000000000ULL

const char *sim_driver_name(enum sim_driver drv)
{
	switch (drv) {
	case SIM_DRV_CEX4CARD:
		return "cex4card";
	case SIM_DRV_CEX4QUEUE:
		return "cex4queue";
	case SIM_DRV_VFIO_AP:
		return "vfio_ap";
	case SIM_DRV_NONE:
		break;
	}
	return NULL;
}

struct sim_card *sim_card_get(struct sim *sim, unsigned ap)
{
	return ap < AP_ID_COUNT ? sim->cards[ap] : NULL;
}

struct sim_queue *sim_queue_get(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_card *card = sim_card_get(sim, ap);

	if (!card || dom >= AP_ID_COUNT || !card->queues[dom].present)
		return NULL;
	return &card->queues[dom];
}

bool sim_queue_bound_vfio(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_queue *q = sim_queue_get(sim, ap, dom);

	return q && q->driver == SIM_DRV_VFIO_AP;
}

static void device_path(unsigned ap, int dom, char *buf, size_t size)
{
	if (dom < 0)
		snprintf(buf, size, "/devices/ap/card%02x", ap);
	else
		snprintf(buf, size, "/devices/ap/card%02x/%02x.%04x", ap, ap, (unsigned) dom);
}

static uint32_t card_functions(const struct sim_card *card)
{
	switch (card->mode) {
	case 'A':
		return FN_APSC | FN_MEX4K | FN_CRT4K | FN_ACCEL | FN_APXA;
	case 'C':
		return FN_APSC | FN_MEX4K | FN_CRT4K | FN_COPRO | FN_APXA;
	default:
		return FN_APSC | FN_EP11 | FN_APXA;
	}
}

static const char *card_mode_name(const struct sim_card *card)
{
	switch (card->mode) {
	case 'A':
		return "accel";
	case 'C':
		return "cca";
	default:
		return "ep11";
	}
}

/* The keys dev_uevent() and ap_uevent() add to every event of a device,
 * and what its `uevent` file shows. */
static void device_env(struct sim *sim, unsigned ap, int dom, char *buf, size_t size)
{
	struct sim_card *card = sim->cards[ap];
	enum sim_driver drv = dom < 0 ? card->driver : card->queues[dom].driver;
	size_t len = 0;

	len += (size_t) snprintf(buf + len, size - len, "DEVTYPE=%s\n",
				 dom < 0 ? "ap_card" : "ap_queue");
	if (drv != SIM_DRV_NONE)
		len +=
		    (size_t) snprintf(buf + len, size - len, "DRIVER=%s\n", sim_driver_name(drv));
	if (dom < 0 || !sim->f.dynamic)
		len +=
		    (size_t) snprintf(buf + len, size - len, "DEV_TYPE=%04X\nMODALIAS=ap:t%02X\n",
				      HWTYPE(card->gen), HWTYPE(card->gen));
	if (sim->f.mode_uevent)
		snprintf(buf + len, size - len, "MODE=%s\n", card_mode_name(card));
}

/* A uevent of a card (dom < 0) or queue with `extra` keys first. */
static void device_uevent(struct sim *sim, const char *action, unsigned ap, int dom,
			  const char *extra)
{
	char devpath[64], env[224], keys[160];

	device_path(ap, dom, devpath, sizeof(devpath));
	device_env(sim, ap, dom, keys, sizeof(keys));
	snprintf(env, sizeof(env), "%s%s", extra ? extra : "", keys);
	sim_uevent(sim, action, devpath, "ap", env);
}

/* ---- binding ---- */

static void check_bindings(struct sim *sim)
{
	char env[64];

	if (!sim->f.ap_config_info || sim->scans < 1 || sim->n_bound != sim->n_queues)
		return;
	snprintf(env, sizeof(env), "BINDINGS=complete\nCOMPLETECOUNT=%u\n", ++sim->complete_count);
	sim_uevent(sim, "change", "/devices/ap", "ap", env);
}

/* ap_device_probe(): a queue goes to the default driver exactly when both
 * masks hold it; every other queue to vfio_ap, which takes CEX4..CEX8. */
static void queue_probe(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_queue *q = sim_queue_get(sim, ap, dom);
	bool devres = idset_has(&sim->apmask, ap) && idset_has(&sim->aqmask, dom);

	if (!q || q->driver != SIM_DRV_NONE)
		return;
	if (devres) {
		q->driver = SIM_DRV_CEX4QUEUE;
		q->online = true;
	} else if (sim->vfio_ap_loaded) {
		q->driver = SIM_DRV_VFIO_AP;
	} else {
		return;
	}
	sim->n_bound++;
	device_uevent(sim, "bind", ap, (int) dom, NULL);
	if (q->driver == SIM_DRV_VFIO_AP)
		sim_vfio_probe_queue(sim, ap, dom);
	if (!sim->f.late_bindings_evt)
		check_bindings(sim);
}

static void queue_unbind(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_queue *q = sim_queue_get(sim, ap, dom);

	if (!q || q->driver == SIM_DRV_NONE)
		return;
	if (q->driver == SIM_DRV_VFIO_AP)
		sim_vfio_remove_queue(sim, ap, dom);
	q->driver = SIM_DRV_NONE;
	sim->n_bound--;
	device_uevent(sim, "unbind", ap, (int) dom, NULL);
}

/* ap_bus_revise_bindings(): reprobe every queue whose driver disagrees
 * with the masks. An unbound queue counts as held by a non-default driver
 * (the kernel would dereference its missing driver here). */
static void revise_bindings(struct sim *sim)
{
	for (unsigned ap = 0; ap < AP_ID_COUNT; ap++) {
		struct sim_card *card = sim->cards[ap];

		if (!card)
			continue;
		for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
			struct sim_queue *q = &card->queues[dom];
			bool devres = idset_has(&sim->apmask, ap) && idset_has(&sim->aqmask, dom);
			bool drvres = q->driver == SIM_DRV_CEX4QUEUE;

			if (!q->present || devres == drvres)
				continue;
			if (q->driver == SIM_DRV_NONE && !devres)
				continue;
			queue_unbind(sim, ap, dom);
			queue_probe(sim, ap, dom);
		}
	}
}

void sim_apbus_select_domain(struct sim *sim)
{
	if (sim->ap_domain >= 0)
		return;
	for (unsigned dom = 0; dom <= sim->max_dom; dom++) {
		if (!idset_has(&sim->qci_aqm, dom) || !idset_has(&sim->aqmask, dom))
			continue;
		for (unsigned ap = 0; ap < AP_ID_COUNT; ap++) {
			if (sim_queue_get(sim, ap, dom)) {
				sim->ap_domain = (int) dom;
				return;
			}
		}
	}
}

void sim_apbus_scan(struct sim *sim)
{
	sim->scans++;
	sim_apbus_select_domain(sim);
	check_bindings(sim);
}

int sim_apbus_add_card(struct sim *sim, const struct sim_card_config *cc, bool announce)
{
	struct sim_card *card;

	if (cc->id > sim->max_ap || cc->gen < 4 || cc->gen > 8 ||
	    (cc->mode != 'A' && cc->mode != 'C' && cc->mode != 'P'))
		return -EINVAL;
	if (sim->cards[cc->id])
		return -EEXIST;
	card = calloc(1, sizeof(*card));
	if (!card)
		return -ENOMEM;
	card->present = true;
	card->gen = cc->gen;
	card->mode = cc->mode;
	card->config = cc->config;
	card->online = cc->online;
	sim->cards[cc->id] = card;
	idset_add(&sim->qci_apm, cc->id);
	if (announce)
		device_uevent(sim, "add", cc->id, -1, NULL);
	card->driver = SIM_DRV_CEX4CARD;
	if (announce)
		device_uevent(sim, "bind", cc->id, -1, NULL);
	IDSET_FOREACH (dom, &sim->qci_aqm) {
		card->queues[dom].present = true;
		sim->n_queues++;
		if (announce)
			device_uevent(sim, "add", cc->id, dom, NULL);
		queue_probe(sim, cc->id, (unsigned) dom);
	}
	return 0;
}

void sim_apbus_remove_card(struct sim *sim, unsigned ap)
{
	struct sim_card *card = sim_card_get(sim, ap);

	if (!card)
		return;
	for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
		if (!card->queues[dom].present)
			continue;
		queue_unbind(sim, ap, dom);
		device_uevent(sim, "remove", ap, (int) dom, NULL);
		card->queues[dom].present = false;
		sim->n_queues--;
	}
	if (card->driver != SIM_DRV_NONE) {
		card->driver = SIM_DRV_NONE;
		device_uevent(sim, "unbind", ap, -1, NULL);
	}
	device_uevent(sim, "remove", ap, -1, NULL);
	free(card);
	sim->cards[ap] = NULL;
}

/* ---- bus attributes ---- */

static bool has_config_info(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.ap_config_info;
}

static bool has_features(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.features_attr;
}

static void show_mask(struct sim_page *pg, const struct idset *set)
{
	char hex[IDSET_MASK_HEX_LEN + 1];

	page_printf(pg, "%s\n", idset_format_mask_hex(set, hex));
}

static int ap_domain_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", sim->ap_domain);
	return 0;
}

static ssize_t ap_domain_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	int dom;

	if (kparse_scan_int(s, true, &dom) != 1 || dom < 0 || dom > (int) sim->max_dom ||
	    !idset_has(&sim->aqmask, (unsigned) dom))
		return -EINVAL;
	sim->ap_domain = dom;
	return (ssize_t) len;
}

static int control_mask_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	show_mask(pg, &sim->qci_adm);
	return 0;
}

static int usage_mask_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	show_mask(pg, &sim->qci_aqm);
	return 0;
}

static int adapter_mask_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	show_mask(pg, &sim->qci_apm);
	return 0;
}

static int max_adapter_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%u\n", sim->max_ap);
	return 0;
}

static int max_domain_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%u\n", sim->max_dom);
	return 0;
}

static int one_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "1\n");
	return 0;
}

static int zero_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "0\n");
	return 0;
}

static int config_time_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", sim->config_time);
	return 0;
}

static ssize_t config_time_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	int t;

	if (kparse_scan_int(s, false, &t) != 1 || t < 5 || t > 120)
		return -EINVAL;
	sim->config_time = t;
	return (ssize_t) len;
}

static int poll_thread_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", sim->poll_thread ? 1 : 0);
	return 0;
}

static ssize_t poll_thread_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	bool on;
	int v;

	if (sim->f.dynamic) {
		if (kparse_bool(s, &on) < 0)
			return -EINVAL;
	} else {
		if (kparse_scan_int(s, false, &v) != 1)
			return -EINVAL;
		on = v != 0;
	}
	sim->poll_thread = on;
	return (ssize_t) len;
}

static int poll_timeout_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%llu\n", sim->poll_timeout);
	return 0;
}

static ssize_t poll_timeout_store(struct sim *sim, const struct sim_obj *o, const char *s,
				  size_t len)
{
	unsigned long v;
	int r;

	if (sim->f.dynamic) {
		r = kparse_ulong(s, &v);
		if (r < 0)
			return r;
		if (v > POLL_TIMEOUT_MAX)
			return -EINVAL;
	} else {
		char *end;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = strtoul(s, &end, 10);
		if (v < 1 || v > POLL_TIMEOUT_MAX)
			return -EINVAL;
	}
	sim->poll_timeout = v;
	return (ssize_t) len;
}

static int apmask_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	show_mask(pg, &sim->apmask);
	return 0;
}

static int aqmask_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	show_mask(pg, &sim->aqmask);
	return 0;
}

/* apmask_store()/aqmask_store(): parse everything first; from 6.0 an
 * unchanged mask is a no-op and bits that hand queues back to the host are
 * refused while an mdev holds such a queue. */
static ssize_t mask_store(struct sim *sim, bool adapters, const char *s, size_t len)
{
	struct idset *mask = adapters ? &sim->apmask : &sim->aqmask;
	struct idset new, added;
	bool changed;
	char env[96], hex[IDSET_MASK_HEX_LEN + 1];
	int r;

	r = kparse_mask(s, mask, &new);
	if (r < 0)
		return r;
	changed = !idset_equal(&new, mask);
	if (sim->f.dynamic) {
		if (!changed)
			return (ssize_t) len;
		added = idset_minus(&new, mask);
		if (!idset_empty(&added)) {
			r = adapters ? sim_vfio_in_use(sim, &added, &sim->aqmask)
				     : sim_vfio_in_use(sim, &sim->apmask, &added);
			if (r < 0)
				return r;
		}
	}
	*mask = new;
	revise_bindings(sim);
	if (sim->f.dynamic) {
		/* ap_send_mask_changed_uevent() prints the value with its "\n". */
		snprintf(env, sizeof(env), "%s=%s\n\n", adapters ? "APMASK" : "AQMASK",
			 idset_format_mask_hex(&new, hex));
		sim_uevent(sim, "change", "/devices/ap", "ap", env);
	}
	return (ssize_t) len;
}

static ssize_t apmask_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	return mask_store(sim, true, s, len);
}

static ssize_t aqmask_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	return mask_store(sim, false, s, len);
}

static int scans_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%llu\n", sim->scans);
	return 0;
}

static ssize_t scans_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	sim_apbus_scan(sim);
	return (ssize_t) len;
}

static int bindings_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	unsigned all = sim->n_queues, bound = sim->n_bound;

	if (sim->scans >= 1 && all == bound)
		page_printf(pg, "%u/%u (complete)\n", bound, all);
	else
		page_printf(pg, "%u/%u\n", bound, all);
	return 0;
}

static int features_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "APSC APXA QACT RC8A\n");
	return 0;
}

/* Finds a card or queue by its device name ("card05", "05.0004"), as
 * bus_find_device_by_name() with its sysfs_streq() tolerance of "\n". */
static bool find_device(struct sim *sim, const char *s, unsigned *ret_ap, int *ret_dom)
{
	unsigned ap, dom;
	int n = 0;

	if (sscanf(s, "card%2x%n", &ap, &n) == 1 && n == 6) {
		if (strcmp(s + n, "") && strcmp(s + n, "\n"))
			return false;
		if (!sim_card_get(sim, ap))
			return false;
		*ret_ap = ap;
		*ret_dom = -1;
		return true;
	}
	if (sscanf(s, "%2x.%4x%n", &ap, &dom, &n) == 2 && n == 7 && s[2] == '.') {
		if (strcmp(s + n, "") && strcmp(s + n, "\n"))
			return false;
		if (!sim_queue_get(sim, ap, dom))
			return false;
		*ret_ap = ap;
		*ret_dom = (int) dom;
		return true;
	}
	return false;
}

static ssize_t drivers_probe_store(struct sim *sim, const struct sim_obj *o, const char *s,
				   size_t len)
{
	unsigned ap;
	int dom;

	if (!find_device(sim, s, &ap, &dom))
		return -ENODEV;
	if (dom >= 0)
		queue_probe(sim, ap, (unsigned) dom);
	else if (sim->cards[ap]->driver == SIM_DRV_NONE) {
		sim->cards[ap]->driver = SIM_DRV_CEX4CARD;
		device_uevent(sim, "bind", ap, -1, NULL);
	}
	return (ssize_t) len;
}

ssize_t sim_store_ignore(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	return (ssize_t) len;
}

const struct sim_attr sim_bus_attrs[] = {
	{ "ap_adapter_mask", 0444, NULL, adapter_mask_show, NULL },
	{ "ap_control_domain_mask", 0444, NULL, control_mask_show, NULL },
	{ "ap_domain", 0644, NULL, ap_domain_show, ap_domain_store },
	{ "ap_interrupts", 0444, NULL, one_show, NULL },
	{ "ap_max_adapter_id", 0444, has_config_info, max_adapter_show, NULL },
	{ "ap_max_domain_id", 0444, NULL, max_domain_show, NULL },
	{ "ap_usage_domain_mask", 0444, NULL, usage_mask_show, NULL },
	{ "apmask", 0644, NULL, apmask_show, apmask_store },
	{ "aqmask", 0644, NULL, aqmask_show, aqmask_store },
	{ "bindings", 0444, has_config_info, bindings_show, NULL },
	{ "config_time", 0644, NULL, config_time_show, config_time_store },
	{ "drivers_autoprobe", 0644, NULL, one_show, sim_store_ignore },
	{ "drivers_probe", 0200, NULL, NULL, drivers_probe_store },
	{ "features", 0444, has_features, features_show, NULL },
	{ "poll_thread", 0644, NULL, poll_thread_show, poll_thread_store },
	{ "poll_timeout", 0644, NULL, poll_timeout_show, poll_timeout_store },
	{ "scans", 0644, has_config_info, scans_show, scans_store },
	{ "uevent", 0200, NULL, NULL, sim_store_ignore },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- the devices/ap root device ---- */

static int empty_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	return 0;
}

const struct sim_attr sim_ap_root_attrs[] = {
	{ "uevent", 0644, NULL, empty_show, sim_store_ignore },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- card attributes ---- */

static bool card_bound(struct sim *sim, const struct sim_obj *o)
{
	return sim->cards[o->ap]->driver == SIM_DRV_CEX4CARD;
}

static bool has_chkstop(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.dynamic;
}

static bool has_max_msg_size(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.max_msg_size;
}

static int hwtype_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", HWTYPE(sim->cards[o->ap]->gen));
	return 0;
}

static int depth_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", AP_QUEUE_DEPTH);
	return 0;
}

static int functions_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "0x%08X\n", card_functions(sim->cards[o->ap]));
	return 0;
}

static int card_requests_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%llu\n", 0ULL);
	return 0;
}

static int modalias_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "ap:t%02X\n", HWTYPE(sim->cards[o->ap]->gen));
	return 0;
}

static int card_config_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", sim->cards[o->ap]->config ? 1 : 0);
	return 0;
}

static void config_uevent(struct sim *sim, unsigned ap, int dom, bool config)
{
	device_uevent(sim, "change", ap, dom, config ? "CONFIG=1\n" : "CONFIG=0\n");
}

/* config_store(): SCLP (de)configure; the devices stay, with config=0. */
static ssize_t card_config_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	struct sim_card *card = sim->cards[o->ap];
	int v;

	if (kparse_scan_int(s, false, &v) != 1 || v < 0 || v > 1)
		return -EINVAL;
	if ((bool) v == card->config)
		return (ssize_t) len;
	card->config = v;
	config_uevent(sim, o->ap, -1, card->config);
	for (unsigned dom = 0; dom < AP_ID_COUNT; dom++)
		if (card->queues[dom].present)
			config_uevent(sim, o->ap, (int) dom, card->config);
	return (ssize_t) len;
}

static int card_chkstop_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%d\n", sim->cards[o->ap]->chkstop ? 1 : 0);
	return 0;
}

static int max_msg_size_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%u\n", AP_MAX_MSG_SIZE);
	return 0;
}

static int type_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_card *card = sim->cards[o->ap];

	page_printf(pg, "CEX%u%c\n", card->gen, card->mode);
	return 0;
}

/* The card can serve: configured and, from 6.0, not checkstopped. */
static bool card_usable(struct sim *sim, const struct sim_card *card)
{
	return card->config && !(sim->f.dynamic && card->chkstop);
}

static int card_online_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_card *card = sim->cards[o->ap];

	page_printf(pg, "%d\n", card_usable(sim, card) && card->online ? 1 : 0);
	return 0;
}

static void online_uevent(struct sim *sim, unsigned ap, int dom, bool online)
{
	if (sim->f.ap_config_info)
		device_uevent(sim, "change", ap, dom, online ? "ONLINE=1\n" : "ONLINE=0\n");
}

/* zcrypt's card online_store(): forces every zcrypt queue of the card. */
static ssize_t card_online_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	struct sim_card *card = sim->cards[o->ap];
	int v;

	if (kparse_scan_int(s, false, &v) != 1 || v < 0 || v > 1)
		return -EINVAL;
	if (v && !card_usable(sim, card))
		return -ENODEV;
	card->online = v;
	online_uevent(sim, o->ap, -1, card->online);
	for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
		struct sim_queue *q = &card->queues[dom];

		if (!q->present || q->driver != SIM_DRV_CEX4QUEUE)
			continue;
		q->online = v;
		online_uevent(sim, o->ap, (int) dom, q->online);
	}
	return (ssize_t) len;
}

static int device_uevent_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	char env[160];

	device_env(sim, o->ap, o->dom, env, sizeof(env));
	page_printf(pg, "%s", env);
	return 0;
}

static ssize_t device_uevent_store(struct sim *sim, const struct sim_obj *o, const char *s,
				   size_t len)
{
	static const char *const actions[] = { "add", "remove", "change", "bind", "unbind" };

	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		size_t n = strlen(actions[i]);

		if (!strncmp(s, actions[i], n) && (s[n] == '\0' || s[n] == '\n')) {
			device_uevent(sim, actions[i], o->ap, o->dom, NULL);
			return (ssize_t) len;
		}
	}
	return -EINVAL;
}

const struct sim_attr sim_card_attrs[] = {
	{ "ap_functions", 0444, NULL, functions_show, NULL },
	{ "chkstop", 0444, has_chkstop, card_chkstop_show, NULL },
	{ "config", 0644, has_config_info, card_config_show, card_config_store },
	{ "depth", 0444, NULL, depth_show, NULL },
	{ "hwtype", 0444, NULL, hwtype_show, NULL },
	{ "load", 0444, card_bound, zero_show, NULL },
	{ "max_msg_size", 0444, has_max_msg_size, max_msg_size_show, NULL },
	{ "modalias", 0444, NULL, modalias_show, NULL },
	{ "online", 0644, card_bound, card_online_show, card_online_store },
	{ "pendingq_count", 0444, NULL, zero_show, NULL },
	{ "raw_hwtype", 0444, NULL, hwtype_show, NULL },
	{ "request_count", 0644, NULL, card_requests_show, sim_store_ignore },
	{ "requestq_count", 0444, NULL, zero_show, NULL },
	{ "type", 0444, card_bound, type_show, NULL },
	{ "uevent", 0644, NULL, device_uevent_show, device_uevent_store },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- queue attributes ---- */

static struct sim_queue *obj_queue(struct sim *sim, const struct sim_obj *o)
{
	return &sim->cards[o->ap]->queues[o->dom];
}

static bool queue_zcrypt(struct sim *sim, const struct sim_obj *o)
{
	return obj_queue(sim, o)->driver == SIM_DRV_CEX4QUEUE;
}

static bool queue_vfio_status(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.dynamic && obj_queue(sim, o)->driver == SIM_DRV_VFIO_AP;
}

static bool has_queue_functions(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.queue_functions;
}

static int queue_requests_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	/* Only a driver that initialised the queue (zcrypt) counts requests. */
	if (queue_zcrypt(sim, o))
		page_printf(pg, "%llu\n", 0ULL);
	else
		page_printf(pg, "-\n");
	return 0;
}

static int reset_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "No Reset Timer set.\n");
	return 0;
}

static int interrupt_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, queue_zcrypt(sim, o) ? "Interrupts enabled.\n" : "Interrupts disabled.\n");
	return 0;
}

static int queue_online_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_card *card = sim->cards[o->ap];

	page_printf(pg, "%d\n", card_usable(sim, card) && obj_queue(sim, o)->online ? 1 : 0);
	return 0;
}

/* zcrypt's queue online_store(). */
static ssize_t queue_online_store(struct sim *sim, const struct sim_obj *o, const char *s,
				  size_t len)
{
	const struct sim_card *card = sim->cards[o->ap];
	int v;

	if (kparse_scan_int(s, false, &v) != 1 || v < 0 || v > 1)
		return -EINVAL;
	if (v && !card_usable(sim, card))
		return -ENODEV;
	if (v && !card->online)
		return -EINVAL;
	obj_queue(sim, o)->online = v;
	online_uevent(sim, o->ap, o->dom, v);
	return (ssize_t) len;
}

static int status_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%s\n", sim_vfio_queue_status(sim, o->ap, (unsigned) o->dom));
	return 0;
}

const struct sim_attr sim_queue_attrs[] = {
	{ "ap_functions", 0444, has_queue_functions, functions_show, NULL },
	{ "chkstop", 0444, has_chkstop, card_chkstop_show, NULL },
	{ "config", 0444, has_config_info, card_config_show, NULL },
	{ "interrupt", 0444, NULL, interrupt_show, NULL },
	{ "load", 0444, queue_zcrypt, zero_show, NULL },
	{ "online", 0644, queue_zcrypt, queue_online_show, queue_online_store },
	{ "pendingq_count", 0444, NULL, zero_show, NULL },
	{ "request_count", 0644, NULL, queue_requests_show, sim_store_ignore },
	{ "requestq_count", 0444, NULL, zero_show, NULL },
	{ "reset", 0644, NULL, reset_show, sim_store_ignore },
	{ "status", 0444, queue_vfio_status, status_show, NULL },
	{ "uevent", 0644, NULL, device_uevent_show, device_uevent_store },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- driver directories ---- */

/* bind_store(): the device must exist, be unbound and match the driver's
 * device type; a probe refused by the mask rule fails with ENODEV. */
static ssize_t driver_bind_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	unsigned ap;
	int dom;

	if (!find_device(sim, s, &ap, &dom) || (dom < 0) != (o->drv == SIM_DRV_CEX4CARD))
		return -ENODEV;
	if (dom < 0) {
		if (sim->cards[ap]->driver != SIM_DRV_NONE)
			return -EBUSY;
		sim->cards[ap]->driver = SIM_DRV_CEX4CARD;
		device_uevent(sim, "bind", ap, -1, NULL);
		return (ssize_t) len;
	}
	if (sim->cards[ap]->queues[dom].driver != SIM_DRV_NONE)
		return -EBUSY;
	if ((idset_has(&sim->apmask, ap) && idset_has(&sim->aqmask, (unsigned) dom)) !=
	    (o->drv == SIM_DRV_CEX4QUEUE))
		return -ENODEV;
	queue_probe(sim, ap, (unsigned) dom);
	return (ssize_t) len;
}

static ssize_t driver_unbind_store(struct sim *sim, const struct sim_obj *o, const char *s,
				   size_t len)
{
	unsigned ap;
	int dom;

	if (!find_device(sim, s, &ap, &dom))
		return -ENODEV;
	if (dom < 0) {
		if (sim->cards[ap]->driver != o->drv)
			return -ENODEV;
		sim->cards[ap]->driver = SIM_DRV_NONE;
		device_uevent(sim, "unbind", ap, -1, NULL);
		return (ssize_t) len;
	}
	if (sim->cards[ap]->queues[dom].driver != o->drv)
		return -ENODEV;
	queue_unbind(sim, ap, (unsigned) dom);
	return (ssize_t) len;
}

const struct sim_attr sim_ap_driver_attrs[] = {
	{ "bind", 0200, NULL, NULL, driver_bind_store },
	{ "uevent", 0200, NULL, NULL, sim_store_ignore },
	{ "unbind", 0200, NULL, NULL, driver_unbind_store },
	{ NULL, 0, NULL, NULL, NULL },
};

const struct sim_attr sim_plain_driver_attrs[] = {
	{ "uevent", 0200, NULL, NULL, sim_store_ignore },
	{ NULL, 0, NULL, NULL, NULL },
};
