/* SPDX-License-Identifier: MIT */
/*
 * vfio_ap (vfio_ap_drv.c, vfio_ap_ops.c) and the mdev core: the matrix
 * device, mdev create/remove, assign/unassign with the checks of each
 * generation, the shadow APCB (`guest_matrix`) and its filtering, and the
 * in_use callback the AP bus asks before handing queues back to the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/kparse.h"
#include "kmod/sim/sim_private.h"

/* kstrndup(buf, AP_CONFIG_STRLEN): longer ap_config writes are cut. */
#define AP_CONFIG_STRLEN 201

const char *sim_mdev_driver_name(const struct sim *sim)
{
	return sim->f.vfio_ap_mdev_drv ? "vfio_ap_mdev" : "vfio_mdev";
}

struct sim_mdev *sim_vfio_find_mdev(struct sim *sim, const char *uuid)
{
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++)
		if (sim->mdevs[i].present && !strcasecmp(sim->mdevs[i].uuid, uuid))
			return &sim->mdevs[i];
	return NULL;
}

static struct sim_mdev *mdev_for_apqn(struct sim *sim, unsigned ap, unsigned dom)
{
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++) {
		struct sim_mdev *m = &sim->mdevs[i];

		if (m->present && idset_has(&m->apm, ap) && idset_has(&m->aqm, dom))
			return m;
	}
	return NULL;
}

static size_t mdev_count(const struct sim *sim)
{
	size_t n = 0;

	for (size_t i = 0; i < SIM_MAX_MDEVS; i++)
		n += sim->mdevs[i].present;
	return n;
}

static int mdev_cmp(const void *a, const void *b)
{
	const struct sim_mdev *const *x = a, *const *y = b;

	return strcmp((*x)->uuid, (*y)->uuid);
}

size_t sim_vfio_sorted_mdevs(struct sim *sim, struct sim_mdev **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < SIM_MAX_MDEVS && n < max; i++)
		if (sim->mdevs[i].present)
			ret[n++] = &sim->mdevs[i];
	qsort(ret, n, sizeof(*ret), mdev_cmp);
	return n;
}

static void mdev_devpath(const struct sim_mdev *m, char *buf, size_t size)
{
	snprintf(buf, size, "/devices/vfio_ap/matrix/%s", m->uuid);
}

/* ---- validation ---- */

/* The first APQN of apm x aqm another mdev's matrix holds, logging every
 * one as the kernel does; NULL if none. */
static struct sim_mdev *find_sharing(struct sim *sim, const struct sim_mdev *self,
				     const struct idset *apm, const struct idset *aqm, bool log)
{
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++) {
		struct sim_mdev *o = &sim->mdevs[i];
		struct idset aps, doms;

		if (!o->present || o == self)
			continue;
		aps = idset_and(apm, &o->apm);
		doms = idset_and(aqm, &o->aqm);
		if (idset_empty(&aps) || idset_empty(&doms))
			continue;
		if (log) {
			IDSET_FOREACH (ap, &aps) {
				IDSET_FOREACH (dom, &doms) {
					if (self)
						sim_log(sim,
							"vfio_ap_mdev %s: Userspace may not assign "
							"queue "
							"%02x.%04x to mdev: already assigned to %s",
							self->uuid, (unsigned) ap, (unsigned) dom,
							o->uuid);
					else if (sim->f.queue_functions)
						sim_log(sim,
							"vfio_ap_mdev %s: Can not reserve queue "
							"%02x.%04x for host driver: in use by mdev",
							o->uuid, (unsigned) ap, (unsigned) dom);
					else
						sim_log(
						    sim,
						    "vfio_ap_mdev %s: Userspace may not re-assign "
						    "queue %02x.%04x already assigned to %s",
						    o->uuid, (unsigned) ap, (unsigned) dom,
						    o->uuid);
				}
			}
		}
		return o;
	}
	return NULL;
}

int sim_vfio_in_use(struct sim *sim, const struct idset *apm, const struct idset *aqm)
{
	if (!sim->f.dynamic || !sim->vfio_ap_loaded)
		return 0;
	return find_sharing(sim, NULL, apm, aqm, true) ? -EBUSY : 0;
}

/* vfio_ap_mdev_validate_masks(): no APQN of the matrix may belong to the
 * host drivers, none to another mdev. */
static int validate_masks(struct sim *sim, struct sim_mdev *m)
{
	struct idset aps = idset_and(&m->apm, &sim->apmask);
	struct idset doms = idset_and(&m->aqm, &sim->aqmask);

	if (!idset_empty(&aps) && !idset_empty(&doms))
		return -EADDRNOTAVAIL;
	return find_sharing(sim, m, &m->apm, &m->aqm, sim->f.dynamic) ? -EADDRINUSE : 0;
}

/* Before 6.0 an assigned APQN had to be a queue bound to vfio_ap; with no
 * domains (adapters) yet, one bound queue of that adapter (domain) did. */
static bool queues_reserved(struct sim *sim, const struct sim_mdev *m, int ap, int dom)
{
	const struct idset *others = ap >= 0 ? &m->aqm : &m->apm;

	if (idset_empty(others)) {
		for (unsigned id = 0; id < AP_ID_COUNT; id++)
			if (ap >= 0 ? sim_queue_bound_vfio(sim, (unsigned) ap, id)
				    : sim_queue_bound_vfio(sim, id, (unsigned) dom))
				return true;
		return false;
	}
	IDSET_FOREACH (id, others) {
		if (ap >= 0 ? !sim_queue_bound_vfio(sim, (unsigned) ap, (unsigned) id)
			    : !sim_queue_bound_vfio(sim, (unsigned) id, (unsigned) dom))
			return false;
	}
	return true;
}

/* ---- the shadow APCB ---- */

static bool queue_linked(struct sim *sim, const struct sim_mdev *m, unsigned ap, unsigned dom)
{
	return idset_has(&m->apm, ap) && idset_has(&m->aqm, dom) &&
	       sim_queue_bound_vfio(sim, ap, dom);
}

/*
 * vfio_ap_mdev_filter_matrix(): the shadow is the matrix within the host
 * configuration, minus every adapter with an APQN that lacks a linked
 * queue. Since 6.7 that check covers the whole shadow (check_apm/aqm
 * NULL); before, only the ids the caller passes, taken from the matrix, so
 * an adapter filtered earlier can come back unchecked.
 */
static bool filter_matrix(struct sim *sim, struct sim_mdev *m, const struct idset *check_apm,
			  const struct idset *check_aqm)
{
	struct idset prev_apm = m->sapm, prev_aqm = m->saqm;
	struct idset aps, doms;

	m->sapm = idset_and(&m->apm, &sim->qci_apm);
	m->saqm = idset_and(&m->aqm, &sim->qci_aqm);
	aps = check_apm ? *check_apm : m->sapm;
	doms = check_aqm ? *check_aqm : m->saqm;
	IDSET_FOREACH (ap, &aps) {
		IDSET_FOREACH (dom, &doms) {
			if (!queue_linked(sim, m, (unsigned) ap, (unsigned) dom)) {
				idset_del(&m->sapm, (unsigned) ap);
				break;
			}
		}
	}
	return !idset_equal(&prev_apm, &m->sapm) || !idset_equal(&prev_aqm, &m->saqm);
}

static void filter_cdoms(struct sim *sim, struct sim_mdev *m)
{
	m->sadm = idset_and(&m->adm, &sim->qci_adm);
}

/* A full re-filter, as after assign, ap_config or a queue probe. */
static void filter_full(struct sim *sim, struct sim_mdev *m)
{
	if (sim->f.queue_functions)
		filter_matrix(sim, m, NULL, NULL);
	else
		filter_matrix(sim, m, &m->apm, &m->aqm);
}

void sim_vfio_filter_all(struct sim *sim)
{
	if (!sim->f.dynamic)
		return;
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++) {
		if (!sim->mdevs[i].present)
			continue;
		filter_full(sim, &sim->mdevs[i]);
		filter_cdoms(sim, &sim->mdevs[i]);
	}
}

static bool adds_pending(const struct sim_mdev *m)
{
	return !idset_empty(&m->apm_add) || !idset_empty(&m->aqm_add);
}

void sim_vfio_probe_queue(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_mdev *m = mdev_for_apqn(sim, ap, dom);

	/* A host configuration change in progress filters at scan end. */
	if (!sim->f.dynamic || !m || adds_pending(m))
		return;
	filter_full(sim, m);
}

void sim_vfio_remove_queue(struct sim *sim, unsigned ap, unsigned dom)
{
	struct sim_mdev *m = mdev_for_apqn(sim, ap, dom);

	/* The guest cannot lose one APQN alone: the whole adapter goes. */
	if (sim->f.dynamic && m && idset_has(&m->sapm, ap) && idset_has(&m->saqm, dom))
		idset_del(&m->sapm, ap);
}

void sim_vfio_config_changed(struct sim *sim, const struct idset *old_apm,
			     const struct idset *old_aqm, const struct idset *old_adm)
{
	struct idset rem_ap = idset_minus(old_apm, &sim->qci_apm);
	struct idset rem_aq = idset_minus(old_aqm, &sim->qci_aqm);
	struct idset rem_ad = idset_minus(old_adm, &sim->qci_adm);
	struct idset add_ap = idset_minus(&sim->qci_apm, old_apm);
	struct idset add_aq = idset_minus(&sim->qci_aqm, old_aqm);
	struct idset add_ad = idset_minus(&sim->qci_adm, old_adm);

	if (!sim->f.dynamic)
		return;
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++) {
		struct sim_mdev *m = &sim->mdevs[i];
		struct idset gone;

		if (!m->present)
			continue;
		gone = idset_and(&rem_ap, &m->apm);
		m->sapm = idset_minus(&m->sapm, &gone);
		gone = idset_and(&rem_aq, &m->aqm);
		m->saqm = idset_minus(&m->saqm, &gone);
		gone = idset_and(&rem_ad, &m->adm);
		m->sadm = idset_minus(&m->sadm, &gone);
		m->apm_add = idset_and(&m->apm, &add_ap);
		m->aqm_add = idset_and(&m->aqm, &add_aq);
		m->adm_add = idset_and(&m->adm, &add_ad);
	}
}

/* vfio_ap_mdev_hot_plug_cfg() for each mdev with pending additions. */
void sim_vfio_scan_complete(struct sim *sim)
{
	if (!sim->f.dynamic)
		return;
	for (size_t i = 0; i < SIM_MAX_MDEVS; i++) {
		struct sim_mdev *m = &sim->mdevs[i];

		if (!m->present || (!adds_pending(m) && idset_empty(&m->adm_add)))
			continue;
		if (sim->f.queue_functions) {
			filter_matrix(sim, m, NULL, NULL);
		} else {
			struct idset aps = idset_and(&m->apm, &m->apm_add);
			struct idset doms = idset_and(&m->aqm, &m->aqm_add);

			if (!idset_empty(&aps) && !idset_empty(&doms))
				filter_matrix(sim, m, &aps, &doms);
			else if (!idset_empty(&aps))
				filter_matrix(sim, m, &aps, &m->saqm);
			else
				filter_matrix(sim, m, &m->sapm, &doms);
		}
		if (idset_intersects(&m->adm, &m->adm_add))
			filter_cdoms(sim, m);
		m->apm_add = m->aqm_add = m->adm_add = IDSET_EMPTY;
	}
}

const char *sim_vfio_queue_status(struct sim *sim, unsigned ap, unsigned dom)
{
	const struct sim_mdev *m = mdev_for_apqn(sim, ap, dom);

	if (!m)
		return "unassigned";
	if (!m->kvm)
		return "assigned";
	/* Later kernels count a queue in use only if the guest has it. */
	if (sim->f.queue_functions && !(idset_has(&m->sapm, ap) && idset_has(&m->saqm, dom)))
		return "assigned";
	return "in use";
}

/* ---- mdev life cycle ---- */

int sim_vfio_create(struct sim *sim, const char *uuid_lower)
{
	char devpath[96], env[48];
	struct sim_mdev *m = NULL;

	if (sim_vfio_find_mdev(sim, uuid_lower))
		return -EEXIST;
	if (mdev_count(sim) >= sim->max_instances)
		return sim->f.eusers ? -EUSERS : -EPERM;
	for (size_t i = 0; i < SIM_MAX_MDEVS && !m; i++)
		if (!sim->mdevs[i].present)
			m = &sim->mdevs[i];
	if (!m)
		return -ENOSPC;
	memset(m, 0, sizeof(*m));
	m->present = true;
	snprintf(m->uuid, sizeof(m->uuid), "%s", uuid_lower);
	mdev_devpath(m, devpath, sizeof(devpath));
	sim_uevent(sim, "add", devpath, "mdev", NULL);
	snprintf(env, sizeof(env), "DRIVER=%s\n", sim_mdev_driver_name(sim));
	sim_uevent(sim, "bind", devpath, "mdev", env);
	return 0;
}

static void mdev_delete(struct sim *sim, struct sim_mdev *m)
{
	char devpath[96];

	mdev_devpath(m, devpath, sizeof(devpath));
	sim_uevent(sim, "unbind", devpath, "mdev", NULL);
	sim_uevent(sim, "remove", devpath, "mdev", NULL);
	memset(m, 0, sizeof(*m));
}

int sim_vfio_attach(struct sim *sim, const char *uuid)
{
	struct sim_mdev *m = sim_vfio_find_mdev(sim, uuid);

	if (!m)
		return -ENOENT;
	if (m->kvm || m->removing)
		return -EBUSY;
	m->kvm = true;
	return 0;
}

int sim_vfio_detach(struct sim *sim, const char *uuid)
{
	struct sim_mdev *m = sim_vfio_find_mdev(sim, uuid);

	if (!m)
		return -ENOENT;
	if (!m->kvm)
		return -EINVAL;
	m->kvm = false;
	pthread_cond_broadcast(&sim->released);
	return 0;
}

/* ---- the matrix device and the mdev type ---- */

/* create_store(): 36 or 37 bytes, a UUID in the first 36 of them. */
static ssize_t create_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	char uuid[SIM_UUID_LEN + 1];
	int r;

	if (len < SIM_UUID_LEN || len > SIM_UUID_LEN + 1 || strlen(s) < SIM_UUID_LEN)
		return -EINVAL;
	if (kparse_uuid(s, uuid) < 0)
		return -EINVAL;
	r = sim_vfio_create(sim, uuid);
	return r < 0 ? r : (ssize_t) len;
}

static int name_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "VFIO AP Passthrough Device\n");
	return 0;
}

static int device_api_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "vfio-ap\n");
	return 0;
}

static int instances_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%lu\n", sim->max_instances - mdev_count(sim));
	return 0;
}

const struct sim_attr sim_mdev_type_attrs[] = {
	{ "available_instances", 0444, NULL, instances_show, NULL },
	{ "create", 0200, NULL, NULL, create_store },
	{ "device_api", 0444, NULL, device_api_show, NULL },
	{ "name", 0444, NULL, name_show, NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

static int matrix_uevent_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "DRIVER=vfio_ap\n");
	return 0;
}

const struct sim_attr sim_matrix_attrs[] = {
	{ "uevent", 0644, NULL, matrix_uevent_show, sim_store_ignore },
	{ NULL, 0, NULL, NULL, NULL },
};

/* ---- mdev attributes ---- */

enum id_kind { ID_ADAPTER, ID_DOMAIN, ID_CONTROL };

static struct sim_mdev *obj_mdev(struct sim *sim, const struct sim_obj *o)
{
	return &sim->mdevs[o->mdev];
}

static unsigned id_max(const struct sim *sim, enum id_kind kind)
{
	return kind == ID_ADAPTER ? sim->max_ap : sim->max_dom;
}

static struct idset *id_set(struct sim_mdev *m, enum id_kind kind)
{
	return kind == ID_ADAPTER ? &m->apm : kind == ID_DOMAIN ? &m->aqm : &m->adm;
}

/* Parse, then the id limit: the first checks of every (un)assign file. */
static int parse_id(struct sim *sim, enum id_kind kind, const char *s, unsigned long *ret)
{
	unsigned long id;
	int r = kparse_ulong(s, &id);

	if (r < 0)
		return r;
	if (id > id_max(sim, kind))
		return -ENODEV;
	*ret = id;
	return 0;
}

/* 4.20-5.19: EBUSY for a running guest, bound queues required,
 * duplicates validated again, sharing undone by clearing the bit. */
static ssize_t assign_old(struct sim *sim, struct sim_mdev *m, enum id_kind kind, const char *s,
			  size_t len)
{
	unsigned long id;
	int r;

	if (m->kvm)
		return -EBUSY;
	r = parse_id(sim, kind, s, &id);
	if (r < 0)
		return r;
	if (kind == ID_CONTROL) {
		idset_add(&m->adm, (unsigned) id);
		return (ssize_t) len;
	}
	if (!queues_reserved(sim, m, kind == ID_ADAPTER ? (int) id : -1,
			     kind == ID_DOMAIN ? (int) id : -1))
		return -EADDRNOTAVAIL;
	idset_add(id_set(m, kind), (unsigned) id);
	if (find_sharing(sim, m, &m->apm, &m->aqm, false)) {
		idset_del(id_set(m, kind), (unsigned) id);
		return -EADDRINUSE;
	}
	return (ssize_t) len;
}

static ssize_t assign(struct sim *sim, const struct sim_obj *o, enum id_kind kind, const char *s,
		      size_t len)
{
	struct sim_mdev *m = obj_mdev(sim, o);
	struct idset *set = id_set(m, kind);
	struct idset delta = IDSET_EMPTY;
	unsigned long id;
	int r;

	if (!sim->f.dynamic)
		return assign_old(sim, m, kind, s, len);
	r = parse_id(sim, kind, s, &id);
	if (r < 0)
		return r;
	if (idset_has(set, (unsigned) id))
		return (ssize_t) len;
	idset_add(set, (unsigned) id);
	if (kind == ID_CONTROL) {
		filter_cdoms(sim, m);
		return (ssize_t) len;
	}
	r = validate_masks(sim, m);
	if (r < 0) {
		idset_del(set, (unsigned) id);
		return r;
	}
	idset_add(&delta, (unsigned) id);
	if (sim->f.queue_functions)
		filter_matrix(sim, m, NULL, NULL);
	else if (kind == ID_ADAPTER)
		filter_matrix(sim, m, &delta, &m->aqm);
	else
		filter_matrix(sim, m, &m->apm, &delta);
	return (ssize_t) len;
}

/* unassign: the bit leaves the matrix and the shadow, without re-filtering. */
static ssize_t unassign(struct sim *sim, const struct sim_obj *o, enum id_kind kind, const char *s,
			size_t len)
{
	struct sim_mdev *m = obj_mdev(sim, o);
	unsigned long id;
	int r;

	if (!sim->f.dynamic && m->kvm)
		return -EBUSY;
	r = parse_id(sim, kind, s, &id);
	if (r < 0)
		return r;
	if (!idset_has(id_set(m, kind), (unsigned) id))
		return (ssize_t) len;
	idset_del(id_set(m, kind), (unsigned) id);
	if (kind == ID_ADAPTER)
		idset_del(&m->sapm, (unsigned) id);
	else if (kind == ID_DOMAIN)
		idset_del(&m->saqm, (unsigned) id);
	else
		idset_del(&m->sadm, (unsigned) id);
	return (ssize_t) len;
}

static ssize_t assign_adapter_store(struct sim *sim, const struct sim_obj *o, const char *s,
				    size_t len)
{
	return assign(sim, o, ID_ADAPTER, s, len);
}

static ssize_t assign_domain_store(struct sim *sim, const struct sim_obj *o, const char *s,
				   size_t len)
{
	return assign(sim, o, ID_DOMAIN, s, len);
}

static ssize_t assign_control_store(struct sim *sim, const struct sim_obj *o, const char *s,
				    size_t len)
{
	return assign(sim, o, ID_CONTROL, s, len);
}

static ssize_t unassign_adapter_store(struct sim *sim, const struct sim_obj *o, const char *s,
				      size_t len)
{
	return unassign(sim, o, ID_ADAPTER, s, len);
}

static ssize_t unassign_domain_store(struct sim *sim, const struct sim_obj *o, const char *s,
				     size_t len)
{
	return unassign(sim, o, ID_DOMAIN, s, len);
}

static ssize_t unassign_control_store(struct sim *sim, const struct sim_obj *o, const char *s,
				      size_t len)
{
	return unassign(sim, o, ID_CONTROL, s, len);
}

static void show_matrix(struct sim *sim, const struct idset *apm, const struct idset *aqm,
			struct sim_page *pg)
{
	size_t need = matrix_format(apm, aqm, sim->max_ap, sim->max_dom, NULL, 0);
	_cleanup_free_ char *text = malloc(need + 1);

	if (!text) {
		pg->overflow = true;
		return;
	}
	matrix_format(apm, aqm, sim->max_ap, sim->max_dom, text, need + 1);
	page_printf(pg, "%s", text);
}

static int matrix_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_mdev *m = obj_mdev(sim, o);

	show_matrix(sim, &m->apm, &m->aqm, pg);
	return 0;
}

static int guest_matrix_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_mdev *m = obj_mdev(sim, o);

	show_matrix(sim, &m->sapm, &m->saqm, pg);
	return 0;
}

static int control_domains_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_mdev *m = obj_mdev(sim, o);

	IDSET_FOREACH (id, &m->adm) {
		if ((unsigned) id <= sim->max_dom)
			page_printf(pg, "%04x\n", (unsigned) id);
	}
	return 0;
}

static int ap_config_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	const struct sim_mdev *m = obj_mdev(sim, o);
	char a[IDSET_MASK_HEX_LEN + 1], q[IDSET_MASK_HEX_LEN + 1], d[IDSET_MASK_HEX_LEN + 1];

	page_printf(pg, "%s,%s,%s\n", idset_format_mask_hex(&m->apm, a),
		    idset_format_mask_hex(&m->aqm, q), idset_format_mask_hex(&m->adm, d));
	return 0;
}

/* strsep(&rest, ",\n") then ap_hex2bitmap(); a missing token is EINVAL. */
static int parse_config_token(char **rest, struct idset *ret)
{
	char *tok = strsep(rest, ",\n");

	if (!tok)
		return -EINVAL;
	*ret = IDSET_EMPTY;
	return kparse_hex_bitmap(tok, ret);
}

/* ap_config_store(): the whole new matrix at once, or nothing. */
static ssize_t ap_config_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	struct sim_mdev *m = obj_mdev(sim, o);
	_cleanup_free_ char *copy = strndup(s, AP_CONFIG_STRLEN);
	struct idset apm, aqm, adm, aps, doms, gone;
	struct sim_mdev old = *m;
	char *rest = copy;
	int r;

	if (!copy)
		return -ENOMEM;
	if (parse_config_token(&rest, &apm) < 0 || parse_config_token(&rest, &aqm) < 0 ||
	    parse_config_token(&rest, &adm) < 0)
		return -EINVAL;
	m->apm = apm;
	m->aqm = aqm;
	m->adm = adm;
	r = validate_masks(sim, m);
	aps = idset_range(0, sim->max_ap);
	doms = idset_range(0, sim->max_dom);
	if (r == 0 &&
	    (!idset_subset(&apm, &aps) || !idset_subset(&aqm, &doms) || !idset_subset(&adm, &doms)))
		r = -ENODEV;
	if (r < 0) {
		*m = old;
		return r;
	}
	gone = idset_minus(&old.apm, &apm);
	m->sapm = idset_minus(&m->sapm, &gone);
	gone = idset_minus(&old.aqm, &aqm);
	m->saqm = idset_minus(&m->saqm, &gone);
	filter_matrix(sim, m, NULL, NULL);
	filter_cdoms(sim, m);
	return (ssize_t) len;
}

/* remove_store(): 0 does nothing; before 5.13 a running guest gives EBUSY,
 * later the writer waits until the guest lets go. */
static ssize_t remove_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	struct sim_mdev *m = obj_mdev(sim, o);
	unsigned long v;

	if (kparse_ulong(s, &v) < 0)
		return -EINVAL;
	if (!v)
		return (ssize_t) len;
	if (m->kvm) {
		if (!sim->f.remove_blocks)
			return -EBUSY;
		if (sim->f.queue_functions)
			sim_log(sim,
				"vfio_ap_mdev %s: No device request registered, blocked until "
				"released by user",
				m->uuid);
		m->removing = true;
		while (m->kvm)
			pthread_cond_wait(&sim->released, &sim->lock);
	}
	mdev_delete(sim, m);
	return (ssize_t) len;
}

static bool mdev_not_removing(struct sim *sim, const struct sim_obj *o)
{
	return !obj_mdev(sim, o)->removing;
}

static bool has_guest_matrix(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.dynamic;
}

static bool has_ap_config(struct sim *sim, const struct sim_obj *o)
{
	return sim->f.ap_config;
}

static int mdev_uevent_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "MDEV_TYPE=vfio_ap-passthrough\nDRIVER=%s\n", sim_mdev_driver_name(sim));
	return 0;
}

const struct sim_attr sim_mdev_attrs[] = {
	{ "ap_config", 0644, has_ap_config, ap_config_show, ap_config_store },
	{ "assign_adapter", 0200, NULL, NULL, assign_adapter_store },
	{ "assign_control_domain", 0200, NULL, NULL, assign_control_store },
	{ "assign_domain", 0200, NULL, NULL, assign_domain_store },
	{ "control_domains", 0444, NULL, control_domains_show, NULL },
	{ "guest_matrix", 0444, has_guest_matrix, guest_matrix_show, NULL },
	{ "matrix", 0444, NULL, matrix_show, NULL },
	{ "remove", 0200, mdev_not_removing, NULL, remove_store },
	{ "uevent", 0644, NULL, mdev_uevent_show, sim_store_ignore },
	{ "unassign_adapter", 0200, NULL, NULL, unassign_adapter_store },
	{ "unassign_control_domain", 0200, NULL, NULL, unassign_control_store },
	{ "unassign_domain", 0200, NULL, NULL, unassign_domain_store },
	{ NULL, 0, NULL, NULL, NULL },
};
