/* SPDX-License-Identifier: MIT */
/*
 * The simulator's life cycle and its kernel-wide services: the behaviour
 * generation derived from the version, uevents and the kernel log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/kparse.h"
#include "kmod/sim/sim_private.h"

/* MAX_ZDEV_ENTRIES_EXT: vfio_ap offers one mdev per possible APQN. */
#define SIM_MAX_INSTANCES 65536

static bool version_at_least(const struct sim *sim, unsigned major, unsigned minor)
{
	return sim->kernel_major > major ||
	       (sim->kernel_major == major && sim->kernel_minor >= minor);
}

static void derive_features(struct sim *sim)
{
	struct sim_features *f = &sim->f;

	f->ap_config_info = version_at_least(sim, 5, 10);
	f->mode_uevent = version_at_least(sim, 5, 12);
	f->remove_blocks = version_at_least(sim, 5, 13);
	f->vfio_ap_mdev_drv = version_at_least(sim, 5, 16);
	f->dynamic = version_at_least(sim, 6, 0);
	f->eusers = version_at_least(sim, 6, 1);
	f->features_attr = version_at_least(sim, 6, 2);
	f->max_msg_size = version_at_least(sim, 6, 3);
	f->queue_functions = version_at_least(sim, 6, 7);
	f->late_bindings_evt = version_at_least(sim, 6, 8);
	f->ap_config = version_at_least(sim, 6, 10);
}

void page_printf(struct sim_page *pg, const char *fmt, ...)
{
	va_list ap;
	size_t room = pg->cap > pg->len ? pg->cap - pg->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(pg->buf + pg->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= room) {
		pg->overflow = true;
		pg->len = pg->cap ? pg->cap - 1 : 0;
	} else {
		pg->len += (size_t) n;
	}
}

void sim_uevent(struct sim *sim, const char *action, const char *devpath, const char *subsystem,
		const char *env)
{
	struct sim_uevent *ev = &sim->uevents[sim->n_uevents % SIM_UEVENT_RING];
	size_t len;

	memset(ev, 0, sizeof(*ev));
	snprintf(ev->action, sizeof(ev->action), "%s", action);
	snprintf(ev->devpath, sizeof(ev->devpath), "%s", devpath);
	snprintf(ev->subsystem, sizeof(ev->subsystem), "%s", subsystem);
	snprintf(ev->env, sizeof(ev->env), "%s", env ? env : "");
	len = strlen(ev->env);
	snprintf(ev->env + len, sizeof(ev->env) - len, "SEQNUM=%llu\n", ++sim->seqnum);
	sim->n_uevents++;
	if (sim->uevent_cb)
		sim->uevent_cb(sim->uevent_userdata, ev);
}

void sim_log(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sim->dmesg[sim->n_dmesg % SIM_DMESG_RING], SIM_DMESG_LINE, fmt, ap);
	va_end(ap);
	sim->n_dmesg++;
}

void sim_set_uevent_handler(struct sim *sim, sim_uevent_cb cb, void *userdata)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	sim->uevent_cb = cb;
	sim->uevent_userdata = userdata;
}

static int check_config(const struct sim_config *cfg)
{
	struct idset seen = IDSET_EMPTY;

	if (cfg->kernel_major < 4 || cfg->max_adapter >= AP_ID_COUNT ||
	    cfg->max_domain >= AP_ID_COUNT || cfg->n_cards > SIM_MAX_CARDS ||
	    cfg->n_mdevs > SIM_MAX_MDEVS)
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_cards; i++) {
		const struct sim_card_config *c = &cfg->cards[i];

		if (c->id > cfg->max_adapter || c->gen < 4 || c->gen > 8 ||
		    idset_has(&seen, c->id) || (c->mode != 'A' && c->mode != 'C' && c->mode != 'P'))
			return -EINVAL;
		idset_add(&seen, c->id);
	}
	return 0;
}

/* Puts the configured mdevs in place as if they had been created and
 * assigned before the simulation starts; refuses what the kernel would. */
static int restore_mdevs(struct sim *sim, const struct sim_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mdevs; i++) {
		const struct sim_mdev_config *mc = &cfg->mdevs[i];
		struct idset aps = idset_range(0, sim->max_ap);
		struct idset doms = idset_range(0, sim->max_dom);
		struct idset host_ap = idset_and(&mc->adapters, &sim->apmask);
		struct idset host_dom = idset_and(&mc->domains, &sim->aqmask);
		char uuid[SIM_UUID_LEN + 1];
		struct sim_mdev *m;
		int r;

		if (kparse_uuid(mc->uuid, uuid) < 0 || mc->uuid[SIM_UUID_LEN] != '\0')
			return -EINVAL;
		if (!idset_subset(&mc->adapters, &aps) || !idset_subset(&mc->domains, &doms) ||
		    !idset_subset(&mc->control_domains, &doms))
			return -EINVAL;
		if (!idset_empty(&host_ap) && !idset_empty(&host_dom))
			return -EINVAL;
		for (size_t j = 0; j < SIM_MAX_MDEVS; j++) {
			const struct sim_mdev *o = &sim->mdevs[j];

			if (o->present && idset_intersects(&o->apm, &mc->adapters) &&
			    idset_intersects(&o->aqm, &mc->domains))
				return -EINVAL;
		}
		r = sim_vfio_create(sim, uuid);
		if (r < 0)
			return r;
		m = sim_vfio_find_mdev(sim, uuid);
		m->apm = mc->adapters;
		m->aqm = mc->domains;
		m->adm = mc->control_domains;
	}
	/* One full filtering pass, as the probes of the bound queues do. */
	sim_vfio_filter_all(sim);
	return 0;
}

int sim_new(const struct sim_config *cfg, struct sim **ret)
{
	_cleanup_free_ struct sim *sim = NULL;
	struct idset ids;
	int r;

	r = check_config(cfg);
	if (r < 0)
		return r;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	pthread_mutex_init(&sim->lock, NULL);
	pthread_cond_init(&sim->released, NULL);

	sim->kernel_major = cfg->kernel_major;
	sim->kernel_minor = cfg->kernel_minor;
	derive_features(sim);
	sim->max_ap = cfg->max_adapter;
	sim->max_dom = cfg->max_domain;
	ids = idset_range(0, sim->max_dom);
	sim->qci_aqm = idset_and(&cfg->usage_domains, &ids);
	sim->qci_adm = idset_or(&cfg->control_domains, &cfg->usage_domains);
	sim->qci_adm = idset_and(&sim->qci_adm, &ids);
	sim->apmask = cfg->apmask;
	sim->aqmask = cfg->aqmask;
	sim->ap_domain = -1;
	sim->config_time = 30;
	sim->poll_timeout = 250000;
	sim->vfio_ap_loaded = cfg->vfio_ap_loaded;
	sim->max_instances = SIM_MAX_INSTANCES;

	for (size_t i = 0; i < cfg->n_cards; i++) {
		r = sim_apbus_add_card(sim, &cfg->cards[i], false);
		if (r < 0)
			goto fail;
	}
	if (cfg->n_mdevs && !sim->vfio_ap_loaded) {
		r = -EINVAL;
		goto fail;
	}
	r = restore_mdevs(sim, cfg);
	if (r < 0)
		goto fail;
	sim->scans = 1;
	sim_apbus_select_domain(sim);
	/* Boot-time events are history: a program starts after them. */
	sim->n_uevents = 0;
	*ret = TAKE_PTR(sim);
	return 0;

fail:
	for (size_t i = 0; i < AP_ID_COUNT; i++)
		free(sim->cards[i]);
	pthread_cond_destroy(&sim->released);
	pthread_mutex_destroy(&sim->lock);
	return r;
}

struct sim *sim_free(struct sim *sim)
{
	if (!sim)
		return NULL;
	for (size_t i = 0; i < AP_ID_COUNT; i++)
		free(sim->cards[i]);
	pthread_cond_destroy(&sim->released);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
	return NULL;
}
