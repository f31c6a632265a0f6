/* SPDX-License-Identifier: MIT */
#include "fake_kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/model.h"

struct idset ids(const char *list)
{
	struct idset s = IDSET_EMPTY;

	if (idlist_parse(list, AP_ID_COUNT - 1, &s) < 0)
		abort();
	return s;
}

struct apqn apqn_of(unsigned ap, unsigned dom)
{
	return (struct apqn){ .ap = (uint8_t) ap, .dom = (uint8_t) dom };
}

void fake_seed(struct fake_kernel *k, bool dynamic, bool ap_config)
{
	*k = (struct fake_kernel){
		.dynamic = dynamic,
		.ap_config = ap_config,
		.vfio_ap = true,
		.max_adapter = 63,
		.max_domain = 255,
		.adapters = ids("5,6"),
		.usage_domains = ids("4,0x47,0xab,0xff"),
		.apmask = idset_range(0, 255),
		.aqmask = idset_range(0, 255),
	};
}

struct fake_mdev *fake_add_mdev(struct fake_kernel *k, const char *uuid)
{
	struct fake_mdev *m = &k->mdevs[k->n_mdevs++];

	*m = (struct fake_mdev){ 0 };
	snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	return m;
}

struct fake_mdev *fake_find(struct fake_kernel *k, const char *uuid)
{
	for (size_t i = 0; i < k->n_mdevs; i++)
		if (strcasecmp(k->mdevs[i].uuid, uuid) == 0)
			return &k->mdevs[i];
	return NULL;
}

static struct apqn_set cross(const struct idset *a, const struct idset *d)
{
	struct apqn_set s;

	apqn_set_clear(&s);
	apqn_set_add_cross(&s, a, d);
	return s;
}

static bool in_host_pool(const struct fake_kernel *k, unsigned ap, unsigned dom)
{
	return idset_has(&k->apmask, ap) && idset_has(&k->aqmask, dom);
}

static bool vfio_bound(const struct fake_kernel *k, unsigned ap, unsigned dom)
{
	return k->vfio_ap && idset_has(&k->adapters, ap) && idset_has(&k->usage_domains, dom) &&
	       !in_host_pool(k, ap, dom);
}

static int fake_read_host(void *ctx, struct host *ret)
{
	struct fake_kernel *k = ctx;
	struct host h = { 0 };

	k->reads++;
	h.caps = (struct kernel_caps){ .dynamic = k->dynamic,
				       .ap_config = k->ap_config,
				       .queue_status = k->dynamic,
				       .vfio_ap = k->vfio_ap };
	h.max_adapter = k->max_adapter;
	h.max_domain = k->max_domain;
	h.adapters = k->adapters;
	h.usage_domains = k->usage_domains;
	h.control_domains = k->usage_domains;
	h.apmask = k->apmask;
	h.aqmask = k->aqmask;
	IDSET_FOREACH (ap, &k->adapters) {
		h.cards[ap] = (struct host_card){
			.hwtype = 11, .mode = CARD_MODE_CCA, .config = true, .online = true
		};
		snprintf(h.cards[ap].type, sizeof(h.cards[ap].type), "CEX5C");
	}
	h.queues = cross(&k->adapters, &k->usage_domains);
	IDSET_FOREACH (ap, &k->adapters) {
		IDSET_FOREACH (dom, &k->usage_domains) {
			struct apqn q = apqn_of((unsigned) ap, (unsigned) dom);

			if (in_host_pool(k, (unsigned) ap, (unsigned) dom)) {
				apqn_set_add(&h.default_bound, q);
				apqn_set_add(&h.online, q);
			} else if (k->vfio_ap) {
				apqn_set_add(&h.vfio_bound, q);
			}
		}
	}
	for (size_t i = 0; i < k->n_mdevs; i++) {
		const struct fake_mdev *m = &k->mdevs[i];
		struct apqn q;

		if (!m->running)
			continue;
		struct apqn_set mine = cross(&m->apm, &m->aqm);
		APQN_SET_FOREACH (q, &mine) {
			if (apqn_set_has(&h.vfio_bound, q))
				apqn_set_add(&h.in_use, q);
		}
	}
	*ret = h;
	return 0;
}

/* The shadow APCB: adapters with any unbound queue are filtered (6.0+). */
static void fake_guest_matrix(const struct fake_kernel *k, const struct fake_mdev *m,
			      struct mdev_info *ret)
{
	if (!k->dynamic) {
		ret->guest_adapters = m->apm;
		ret->guest_domains = m->aqm;
		return;
	}
	ret->guest_adapters = idset_and(&m->apm, &k->adapters);
	ret->guest_domains = idset_and(&m->aqm, &k->usage_domains);
	IDSET_FOREACH (ap, &ret->guest_adapters) {
		IDSET_FOREACH (dom, &ret->guest_domains) {
			if (!vfio_bound(k, (unsigned) ap, (unsigned) dom)) {
				idset_del(&ret->guest_adapters, (unsigned) ap);
				break;
			}
		}
	}
}

static int mdev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mdev_info *) a)->uuid, ((const struct mdev_info *) b)->uuid);
}

static int fake_read_mdevs(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n)
{
	struct fake_kernel *k = ctx;
	struct mdev_info *out = calloc(k->n_mdevs + 1, sizeof(*out));

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < k->n_mdevs; i++) {
		const struct fake_mdev *m = &k->mdevs[i];

		snprintf(out[i].uuid, sizeof(out[i].uuid), "%s", m->uuid);
		out[i].adapters = m->apm;
		out[i].domains = m->aqm;
		out[i].control_domains = m->adm;
		out[i].running = m->running;
		fake_guest_matrix(k, m, &out[i]);
	}
	qsort(out, k->n_mdevs, sizeof(*out), mdev_cmp);
	*ret_mdevs = out;
	*ret_n = k->n_mdevs;
	return 0;
}

static int fake_read_mdev(void *ctx, const char *uuid, struct mdev_info *ret)
{
	struct fake_kernel *k = ctx;
	struct fake_mdev *m = fake_find(k, uuid);

	if (!m)
		return -ENOENT;
	*ret = (struct mdev_info){ .adapters = m->apm,
				   .domains = m->aqm,
				   .control_domains = m->adm,
				   .running = m->running };
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", m->uuid);
	fake_guest_matrix(k, m, ret);
	return 0;
}

/* vfio_ap_mdev_validate_masks, plus the old kernels' bound-queue check. */
static int validate_matrix(const struct fake_kernel *k, const struct fake_mdev *m,
			   const struct idset *apm, const struct idset *aqm,
			   const struct apqn_set *added)
{
	struct idset a = idset_and(apm, &k->apmask), d = idset_and(aqm, &k->aqmask);
	struct apqn q;

	if (!idset_empty(&a) && !idset_empty(&d))
		return -EADDRNOTAVAIL;
	if (!k->dynamic) {
		APQN_SET_FOREACH (q, added) {
			if (!vfio_bound(k, q.ap, q.dom))
				return -EADDRNOTAVAIL;
		}
	}
	for (size_t i = 0; i < k->n_mdevs; i++) {
		const struct fake_mdev *o = &k->mdevs[i];

		if (o != m && idset_intersects(&o->apm, apm) && idset_intersects(&o->aqm, aqm))
			return -EADDRINUSE;
	}
	return 0;
}

static int fake_assign(struct fake_kernel *k, struct fake_mdev *m, const struct kop *op)
{
	bool adapter = op->type == KOP_ASSIGN_ADAPTER || op->type == KOP_UNASSIGN_ADAPTER;
	bool control =
	    op->type == KOP_ASSIGN_CONTROL_DOMAIN || op->type == KOP_UNASSIGN_CONTROL_DOMAIN;
	bool assign = op->type == KOP_ASSIGN_ADAPTER || op->type == KOP_ASSIGN_DOMAIN ||
		      op->type == KOP_ASSIGN_CONTROL_DOMAIN;
	struct idset *set = adapter ? &m->apm : control ? &m->adm : &m->aqm;
	struct idset apm = m->apm, aqm = m->aqm;
	struct apqn_set before, added;
	int err;

	if (!k->dynamic && m->running)
		return -EBUSY;
	if (op->id > (adapter ? k->max_adapter : k->max_domain))
		return -ENODEV;
	if (!assign) {
		idset_del(set, op->id);
		return 0;
	}
	if (idset_has(set, op->id) && k->dynamic)
		return 0;
	if (control) {
		idset_add(set, op->id);
		return 0;
	}
	idset_add(adapter ? &apm : &aqm, op->id);
	before = cross(&m->apm, &m->aqm);
	added = cross(&apm, &aqm);
	for (size_t i = 0; i < ARRAY_SIZE(added.w); i++)
		added.w[i] &= ~before.w[i];
	/* old kernels: an adapter with no domains needs one bound queue (and the reverse) */
	if (!k->dynamic && idset_empty(adapter ? &aqm : &apm)) {
		bool found = false;

		for (unsigned other = 0; other < AP_ID_COUNT; other++)
			found |=
			    adapter ? vfio_bound(k, op->id, other) : vfio_bound(k, other, op->id);
		if (!found)
			return -EADDRNOTAVAIL;
	}
	err = validate_matrix(k, m, &apm, &aqm, &added);
	if (err < 0)
		return err;
	m->apm = apm;
	m->aqm = aqm;
	return 0;
}

static int fake_ap_config(struct fake_kernel *k, struct fake_mdev *m, const struct kop *op)
{
	struct apqn_set none;
	struct idset max_a = idset_range(0, k->max_adapter), max_d = idset_range(0, k->max_domain);
	struct idset over_a = idset_minus(&op->apm, &max_a), over_d = idset_minus(&op->aqm, &max_d),
		     over_c = idset_minus(&op->adm, &max_d);
	int err;

	if (!k->ap_config)
		return -ENOENT;
	apqn_set_clear(&none);
	err = validate_matrix(k, m, &op->apm, &op->aqm, &none);
	if (err < 0)
		return err;
	if (!idset_empty(&over_a) || !idset_empty(&over_d) || !idset_empty(&over_c))
		return -ENODEV;
	m->apm = op->apm;
	m->aqm = op->aqm;
	m->adm = op->adm;
	return 0;
}

static int fake_mask(struct fake_kernel *k, const struct kop *op)
{
	bool ap = op->type == KOP_APMASK_EDIT;
	struct idset *mask = ap ? &k->apmask : &k->aqmask;
	struct idset next = idset_or(mask, &op->set);
	struct idset newly;

	next = idset_minus(&next, &op->clear);
	newly = idset_minus(&next, mask);
	if (k->dynamic && !idset_empty(&newly)) {
		for (size_t i = 0; i < k->n_mdevs; i++) {
			const struct fake_mdev *m = &k->mdevs[i];
			const struct idset *a = ap ? &newly : &k->apmask;
			const struct idset *d = ap ? &k->aqmask : &newly;

			if (idset_intersects(&m->apm, a) && idset_intersects(&m->aqm, d))
				return -EBUSY;
		}
	}
	*mask = next;
	return 0;
}

static int fake_apply(void *ctx, const struct kop *op)
{
	struct fake_kernel *k = ctx;
	struct fake_mdev *m = NULL;
	int err = 0;

	k->writes++;
	if (k->writes <= 64 && (k->fail_writes >> (k->writes - 1)) & 1)
		return k->fail_err ? k->fail_err : -EIO;

	switch (op->type) {
	case KOP_MDEV_CREATE:
		if (!k->vfio_ap)
			return -ENODEV;
		if (fake_find(k, op->uuid))
			return -EEXIST;
		if (k->n_mdevs == FAKE_MAX_MDEVS)
			return -EUSERS;
		fake_add_mdev(k, op->uuid);
		break;
	case KOP_MDEV_REMOVE:
		m = fake_find(k, op->uuid);
		if (!m)
			return -ENOENT;
		if (m->running)
			return -EBUSY;
		*m = k->mdevs[--k->n_mdevs];
		break;
	case KOP_ASSIGN_ADAPTER:
	case KOP_UNASSIGN_ADAPTER:
	case KOP_ASSIGN_DOMAIN:
	case KOP_UNASSIGN_DOMAIN:
	case KOP_ASSIGN_CONTROL_DOMAIN:
	case KOP_UNASSIGN_CONTROL_DOMAIN:
	case KOP_AP_CONFIG:
		m = fake_find(k, op->uuid);
		if (!m)
			return -ENOENT;
		err = op->type == KOP_AP_CONFIG ? fake_ap_config(k, m, op) : fake_assign(k, m, op);
		break;
	case KOP_APMASK_EDIT:
	case KOP_AQMASK_EDIT:
		err = fake_mask(k, op);
		break;
	case _KOP_TYPE_MAX:
		return -EINVAL;
	}
	if (err == 0 && k->n_log < sizeof(k->log) / sizeof(k->log[0]))
		k->log[k->n_log++] = *op;
	return err;
}

static const struct kernel_port_ops fake_ops = {
	.read_host = fake_read_host,
	.read_mdevs = fake_read_mdevs,
	.read_mdev = fake_read_mdev,
	.apply = fake_apply,
};

struct kernel_port fake_port(struct fake_kernel *k)
{
	return (struct kernel_port){ .ops = &fake_ops, .ctx = k };
}

struct model *fake_model(struct fake_kernel *k)
{
	struct model *m = NULL;
	struct mdev_info *mdevs = NULL;
	size_t n = 0;
	struct host h;

	if (model_new(&m) < 0 || fake_read_host(k, &h) < 0 || fake_read_mdevs(k, &mdevs, &n) < 0)
		abort();
	model_set_host(m, &h);
	for (size_t i = 0; i < n; i++) {
		struct guest g = { .adopted = true,
				   .adapters = mdevs[i].adapters,
				   .domains = mdevs[i].domains,
				   .control_domains = mdevs[i].control_domains,
				   .guest_adapters = mdevs[i].guest_adapters,
				   .guest_domains = mdevs[i].guest_domains,
				   .state = mdevs[i].running ? GUEST_RUNNING : GUEST_ACTIVE };

		snprintf(g.name, sizeof(g.name), "%s", mdevs[i].uuid);
		snprintf(g.uuid, sizeof(g.uuid), "%s", mdevs[i].uuid);
		if (model_guest_add(m, &g) < 0)
			abort();
	}
	free(mdevs);
	return m;
}
