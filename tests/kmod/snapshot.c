/* SPDX-License-Identifier: MIT */
#include "tests/kmod/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int snapshot_take(const struct kernel_port *port, struct snapshot **ret)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = port->ops->read_host(port->ctx, &s->host);
	if (r >= 0)
		r = port->ops->read_mdevs(port->ctx, &s->mdevs, &s->n);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->mdevs);
	free(s);
}

static bool apqns_equal(const struct apqn_set *a, const struct apqn_set *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static bool caps_equal(const struct kernel_caps *a, const struct kernel_caps *b)
{
	return a->dynamic == b->dynamic && a->ap_config == b->ap_config &&
	       a->queue_status == b->queue_status && a->vfio_ap == b->vfio_ap;
}

static bool cards_equal(const struct host_card *a, const struct host_card *b)
{
	return a->hwtype == b->hwtype && a->raw_hwtype == b->raw_hwtype && a->depth == b->depth &&
	       a->functions == b->functions && a->mode == b->mode && !strcmp(a->type, b->type) &&
	       a->config == b->config && a->online == b->online && a->chkstop == b->chkstop;
}

const char *host_difference(const struct host *a, const struct host *b, bool shadows)
{
	if (!caps_equal(&a->caps, &b->caps))
		return "caps";
	if (a->max_adapter != b->max_adapter || a->max_domain != b->max_domain)
		return "max ids";
	if (!idset_equal(&a->adapters, &b->adapters))
		return "adapters";
	if (!idset_equal(&a->usage_domains, &b->usage_domains) ||
	    !idset_equal(&a->control_domains, &b->control_domains))
		return "QCI domains";
	if (!idset_equal(&a->apmask, &b->apmask) || !idset_equal(&a->aqmask, &b->aqmask))
		return "masks";
	IDSET_FOREACH (ap, &a->adapters) {
		if (!cards_equal(&a->cards[ap], &b->cards[ap]))
			return "card";
	}
	if (!apqns_equal(&a->queues, &b->queues))
		return "queues";
	if (!apqns_equal(&a->vfio_bound, &b->vfio_bound) ||
	    !apqns_equal(&a->default_bound, &b->default_bound))
		return "bindings";
	if (!apqns_equal(&a->online, &b->online))
		return "online";
	if (shadows && !apqns_equal(&a->in_use, &b->in_use))
		return "in use";
	return NULL;
}

static bool mdevs_equal(const struct mdev_info *a, const struct mdev_info *b, bool shadows)
{
	if (shadows && (!idset_equal(&a->guest_adapters, &b->guest_adapters) ||
			!idset_equal(&a->guest_domains, &b->guest_domains)))
		return false;
	return !strcmp(a->uuid, b->uuid) && idset_equal(&a->adapters, &b->adapters) &&
	       idset_equal(&a->domains, &b->domains) &&
	       idset_equal(&a->control_domains, &b->control_domains) && a->running == b->running;
}

const char *snapshot_difference(const struct snapshot *a, const struct snapshot *b, bool shadows)
{
	const char *what = host_difference(&a->host, &b->host, shadows);

	if (what)
		return what;
	if (a->n != b->n)
		return "number of mdevs";
	for (size_t i = 0; i < a->n; i++)
		if (!mdevs_equal(&a->mdevs[i], &b->mdevs[i], shadows))
			return "an mdev";
	return NULL;
}
