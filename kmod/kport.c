/* SPDX-License-Identifier: MIT */
/*
 * Reads follow one rule: no per-queue work that a directory listing can do.
 * A listing of bus/ap/devices gives every card and queue, a listing of each
 * AP driver gives its bound queues; per-queue reads are only the `online` of
 * host queues and the `status` of queues that some mdev holds.
 */
#include "kmod/kport.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/ap_attr.h"
#include "kmod/aplock.h"

#define AP_BUS	    "bus/ap"
#define AP_DEVICES  "devices/ap"
#define AP_DRIVERS  "bus/ap/drivers"
#define VFIO_DRIVER "vfio_ap"
#define MATRIX_DEV  "devices/vfio_ap/matrix"
#define MDEV_TYPE   MATRIX_DEV "/mdev_supported_types/vfio_ap-passthrough"

/* ap_functions bits (bit 0 = MSB), as lszcrypt names the card modes. */
#define AP_FUNC_COPRO UINT32_C(0x10000000)
#define AP_FUNC_ACCEL UINT32_C(0x08000000)
#define AP_FUNC_EP11  UINT32_C(0x04000000)

#define PATH_SIZE 256

static int path_format(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int path_format(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_SIZE, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_SIZE ? -ENAMETOOLONG : 0;
}

/* An optional attribute: -ENOENT becomes "absent" (0), present is 1. */
static int read_optional_long(struct sysfs *fs, const char *path, long *ret)
{
	int r = sysfs_read_long(fs, path, ret);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

static int read_mask(struct sysfs *fs, const char *path, struct idset *ret)
{
	char buf[128];
	ssize_t n = sysfs_read(fs, path, buf, sizeof(buf));

	if (n < 0)
		return (int) n;
	return ap_mask_parse(buf, ret);
}

/* ---- UUIDs ---- */

/* The kernel's guid_parse() form, folded to the lowercase of sysfs names.
 * Checking it also keeps a uuid from ever becoming a path with a '/'. */
static int uuid_normalize(const char *uuid, char ret[UUID_STR_LEN + 1])
{
	char out[UUID_STR_LEN + 1];

	if (strlen(uuid) != UUID_STR_LEN)
		return -EINVAL;
	for (size_t i = 0; i < UUID_STR_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? uuid[i] != '-' : !isxdigit((unsigned char) uuid[i]))
			return -EINVAL;
		out[i] = (char) tolower((unsigned char) uuid[i]);
	}
	out[UUID_STR_LEN] = '\0';
	memcpy(ret, out, sizeof(out));
	return 0;
}

/* ---- AP bus devices and drivers ---- */

struct device_scan {
	struct idset cards;
	struct apqn_set *queues;
};

static int device_entry(void *userdata, const char *name)
{
	struct device_scan *scan = userdata;
	struct apqn q;
	bool is_card;

	if (ap_device_name_parse(name, &is_card, &q) < 0)
		return 0;
	if (is_card)
		idset_add(&scan->cards, q.ap);
	else
		apqn_set_add(scan->queues, q);
	return 0;
}

static int queue_entry(void *userdata, const char *name)
{
	struct apqn q;
	bool is_card;

	if (ap_device_name_parse(name, &is_card, &q) == 0 && !is_card)
		apqn_set_add(userdata, q);
	return 0;
}

/* The queues bound to one AP driver; none when the driver is not loaded. */
static int read_driver_queues(struct sysfs *fs, const char *driver, struct apqn_set *ret)
{
	char path[PATH_SIZE];
	int r;

	r = path_format(path, AP_DRIVERS "/%s", driver);
	if (r < 0)
		return r;
	r = sysfs_list(fs, path, queue_entry, ret);
	return r == -ENOENT ? 0 : r;
}

struct driver_scan {
	struct sysfs *fs;
	struct apqn_set *vfio, *other;
};

static int driver_entry(void *userdata, const char *name)
{
	struct driver_scan *scan = userdata;

	/* Every AP driver but vfio_ap is a host driver (cex4queue, and the
	 * cex2a/cex2c queue drivers of kernels before 6.6). Card drivers list
	 * only cards, which read_driver_queues() skips. */
	return read_driver_queues(scan->fs, name,
				  !strcmp(name, VFIO_DRIVER) ? scan->vfio : scan->other);
}

static enum card_mode card_mode_from_functions(uint32_t functions)
{
	/* lszcrypt's priority order. */
	if (functions & AP_FUNC_COPRO)
		return CARD_MODE_CCA;
	if (functions & AP_FUNC_ACCEL)
		return CARD_MODE_ACCEL;
	if (functions & AP_FUNC_EP11)
		return CARD_MODE_EP11;
	return CARD_MODE_UNKNOWN;
}

/* An attribute of card ap: 1 and *ret when read, 0 when absent, -errno. */
static int read_card_long(struct sysfs *fs, unsigned ap, const char *name, long *ret)
{
	char path[PATH_SIZE];
	int r = path_format(path, AP_DEVICES "/card%02x/%s", ap, name);

	return r < 0 ? r : read_optional_long(fs, path, ret);
}

static int read_card(struct sysfs *fs, unsigned ap, struct host_card *ret, bool *ret_has_chkstop)
{
	static const char *const numbers[] = { "hwtype", "raw_hwtype", "depth", "ap_functions" };
	struct host_card card = { 0 };
	long v[ARRAY_SIZE(numbers)], online = 0, config = 1, chkstop = 0;
	char path[PATH_SIZE];
	int r, has_chkstop = 0;

	for (size_t i = 0; i < ARRAY_SIZE(numbers); i++) {
		r = read_card_long(fs, ap, numbers[i], &v[i]);
		if (r <= 0)
			return r < 0 ? r : -ENOENT; /* the card left while we read */
	}
	card.hwtype = (unsigned) v[0];
	card.raw_hwtype = (unsigned) v[1];
	card.depth = (unsigned) v[2];
	card.functions = (uint32_t) v[3];
	card.mode = card_mode_from_functions(card.functions);

	/* type and online come with the zcrypt card driver; without config
	 * (older kernels) there is no SCLP control, and the card is configured. */
	r = path_format(path, AP_DEVICES "/card%02x/type", ap);
	if (r < 0)
		return r;
	r = (int) sysfs_read_line(fs, path, card.type, sizeof(card.type));
	if (r < 0 && r != -ENOENT)
		return r;
	r = read_card_long(fs, ap, "online", &online);
	if (r >= 0)
		r = read_card_long(fs, ap, "config", &config);
	if (r >= 0)
		r = has_chkstop = read_card_long(fs, ap, "chkstop", &chkstop);
	if (r < 0)
		return r;
	card.online = online == 1;
	card.config = config == 1;
	card.chkstop = chkstop == 1;

	*ret = card;
	*ret_has_chkstop = has_chkstop > 0;
	return 0;
}

static int queue_attr_path(char path[PATH_SIZE], struct apqn q, const char *name)
{
	return path_format(path, AP_DEVICES "/card%02x/%02x.%04x/%s", q.ap, q.ap, q.dom, name);
}

static int read_queue_online(struct sysfs *fs, struct apqn q, bool *ret)
{
	char path[PATH_SIZE];
	long v = 0;
	int r;

	r = queue_attr_path(path, q, "online");
	if (r >= 0)
		r = read_optional_long(fs, path, &v);
	if (r < 0)
		return r;
	*ret = v == 1;
	return 0;
}

/* 1 if the queue's vfio_ap status reads "in use", 0 if anything else or
 * absent (an old kernel, or the queue just left vfio_ap). */
static int read_queue_in_use(struct sysfs *fs, struct apqn q)
{
	char path[PATH_SIZE], buf[32];
	ssize_t n;
	int r;

	r = queue_attr_path(path, q, "status");
	if (r < 0)
		return r;
	n = sysfs_read_line(fs, path, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return (int) n;
	return !strcmp(buf, "in use");
}

static int queue_has_status(struct sysfs *fs, struct apqn q)
{
	char path[PATH_SIZE];
	int r = queue_attr_path(path, q, "status");

	return r < 0 ? r : sysfs_exists(fs, path);
}

/* ---- mdevs ---- */

/* What an mdev directory tells about the kernel. */
struct mdev_attrs {
	bool guest_matrix;
	bool ap_config;
};

/* The first APQN of adapters x domains bound to vfio_ap and not in the
 * cross product skip_adapters x skip_domains (NULLs: skip nothing). */
static bool first_bound(const struct idset *adapters, const struct idset *domains,
			const struct apqn_set *vfio_bound, const struct idset *skip_adapters,
			const struct idset *skip_domains, struct apqn *ret)
{
	IDSET_FOREACH (ap, adapters) {
		IDSET_FOREACH (dom, domains) {
			struct apqn q = { .ap = (uint8_t) ap, .dom = (uint8_t) dom };

			if (skip_adapters && idset_has(skip_adapters, q.ap) &&
			    idset_has(skip_domains, q.dom))
				continue;
			if (apqn_set_has(vfio_bound, q)) {
				*ret = q;
				return true;
			}
		}
	}
	return false;
}

/* to |= (adapters x domains) & vfio_bound, a row of four words per adapter. */
static void add_bound_cross(struct apqn_set *to, const struct idset *adapters,
			    const struct idset *domains, const struct apqn_set *vfio_bound)
{
	IDSET_FOREACH (ap, adapters) {
		size_t row = (size_t) ap * (AP_ID_COUNT / 64);

		for (size_t i = 0; i < AP_ID_COUNT / 64; i++)
			to->w[row + i] |= domains->w[i] & vfio_bound->w[row + i];
	}
}

/*
 * Whether a guest uses the mdev, and, when in_use is given, which of its
 * queues read "in use", in at most two status reads. vfio_ap's status_show()
 * says "in use" for a queue linked to an mdev with a guest attached; kernels
 * after 6.0 also want the queue in the shadow (guest_matrix). So every queue
 * of the shadow answers alike, and one read of a linked queue outside the
 * shadow tells which of the two kernels this is.
 */
static int read_mdev_running(struct sysfs *fs, const struct mdev_info *m,
			     const struct apqn_set *vfio_bound, struct apqn_set *in_use,
			     bool *ret_running)
{
	struct apqn probe;
	bool in_shadow;
	int r;

	in_shadow =
	    first_bound(&m->guest_adapters, &m->guest_domains, vfio_bound, NULL, NULL, &probe);
	if (!in_shadow && !first_bound(&m->adapters, &m->domains, vfio_bound, NULL, NULL, &probe)) {
		*ret_running = false;
		return 0;
	}
	r = read_queue_in_use(fs, probe);
	if (r < 0)
		return r;
	*ret_running = r > 0;
	if (!r || !in_use)
		return 0;

	if (!in_shadow) {
		/* A linked queue outside the shadow in use: all linked ones are. */
		add_bound_cross(in_use, &m->adapters, &m->domains, vfio_bound);
		return 0;
	}
	add_bound_cross(in_use, &m->guest_adapters, &m->guest_domains, vfio_bound);
	if (first_bound(&m->adapters, &m->domains, vfio_bound, &m->guest_adapters,
			&m->guest_domains, &probe)) {
		r = read_queue_in_use(fs, probe);
		if (r < 0)
			return r;
		if (r > 0)
			add_bound_cross(in_use, &m->adapters, &m->domains, vfio_bound);
	}
	return 0;
}

/*
 * Reads matrix or guest_matrix. Both are one sysfs page at most: a longer
 * show() is cut short, without its final newline. Then only the complete
 * lines are kept and the return value is 1.
 */
static int read_matrix_text(struct sysfs *fs, const char *path, char buf[SYSFS_ATTR_MAX])
{
	ssize_t n = sysfs_read(fs, path, buf, SYSFS_ATTR_MAX);
	char *nl;

	if (n < 0)
		return (int) n;
	if (n == 0 || buf[n - 1] == '\n')
		return 0;
	nl = strrchr(buf, '\n');
	if (!nl)
		return -EINVAL;
	nl[1] = '\0';
	return 1;
}

/* The assigned matrix from `matrix`, before ap_config: a matrix cut at a
 * page is -EFBIG rather than a wrong picture. */
static int read_assigned_matrix(struct sysfs *fs, const char *path, struct mdev_info *m)
{
	char buf[SYSFS_ATTR_MAX];
	int r = read_matrix_text(fs, path, buf);

	if (r < 0)
		return r;
	if (r > 0)
		return -EFBIG;
	return ap_matrix_parse(buf, &m->adapters, &m->domains);
}

static bool adapter_bound(unsigned ap, const struct idset *domains,
			  const struct apqn_set *vfio_bound)
{
	IDSET_FOREACH (dom, domains) {
		if (!apqn_set_has(vfio_bound, (struct apqn){ (uint8_t) ap, (uint8_t) dom }))
			return false;
	}
	return true;
}

/* A QCI mask; all ones on a machine without QCI, where it filters nothing. */
static int read_qci_mask(struct sysfs *fs, const char *path, struct idset *ret)
{
	int r = read_mask(fs, path, ret);

	if (r == -EOPNOTSUPP || r == -ENOENT) {
		*ret = idset_range(0, AP_ID_COUNT - 1);
		return 0;
	}
	return r;
}

/*
 * The shadow from guest_matrix (6.0+). When the show() was cut at a page,
 * the lines shown are exact (with two adapters shown, so are the domains),
 * and the adapters past them are those vfio_ap's filter keeps: in the host
 * configuration, with every queue over the guest's domains bound to vfio_ap.
 * The filter's memory (an adapter filtered out stays out until the next full
 * re-filter) is not visible, so that part may differ after an unassign.
 */
static int read_shadow(struct sysfs *fs, const char *path, const struct apqn_set *vfio_bound,
		       struct mdev_info *m)
{
	struct idset shown_ap, shown_dom, qci_apm, qci_aqm, domains, adapters;
	char buf[SYSFS_ATTR_MAX];
	int r, last = -1;

	r = read_matrix_text(fs, path, buf);
	if (r < 0)
		return r;
	if (r == 0)
		return ap_matrix_parse(buf, &m->guest_adapters, &m->guest_domains);

	r = ap_matrix_parse(buf, &shown_ap, &shown_dom);
	if (r < 0)
		return r;
	r = read_qci_mask(fs, AP_BUS "/ap_adapter_mask", &qci_apm);
	if (r < 0)
		return r;
	r = read_qci_mask(fs, AP_BUS "/ap_usage_domain_mask", &qci_aqm);
	if (r < 0)
		return r;

	domains = idset_and(&m->domains, &qci_aqm);
	if (idset_count(&shown_ap) >= 2)
		domains = shown_dom;
	adapters = shown_ap;
	IDSET_FOREACH (ap, &shown_ap) {
		last = ap;
	}
	IDSET_FOREACH (ap, &m->adapters) {
		if (ap > last && idset_has(&qci_apm, (unsigned) ap) &&
		    adapter_bound((unsigned) ap, &domains, vfio_bound))
			idset_add(&adapters, (unsigned) ap);
	}
	m->guest_adapters = adapters;
	m->guest_domains = domains;
	return 0;
}

/* Reads one mdev; uuid is already normalized. */
static int read_mdev_dir(struct sysfs *fs, const char *uuid, const struct apqn_set *vfio_bound,
			 struct apqn_set *in_use, struct mdev_info *ret,
			 struct mdev_attrs *ret_attrs)
{
	struct mdev_info m = { 0 };
	struct mdev_attrs attrs = { 0 };
	char path[PATH_SIZE], buf[SYSFS_ATTR_MAX];
	ssize_t n;
	int r;

	memcpy(m.uuid, uuid, UUID_STR_LEN + 1);

	/* ap_config has the exact masks, where matrix may be cut at a page. */
	r = path_format(path, MATRIX_DEV "/%s/ap_config", uuid);
	if (r < 0)
		return r;
	n = sysfs_read(fs, path, buf, sizeof(buf));
	if (n >= 0) {
		attrs.ap_config = true;
		r = ap_config_parse(buf, &m.adapters, &m.domains, &m.control_domains);
		if (r < 0)
			return r;
	} else if (n != -ENOENT) {
		return (int) n;
	} else {
		r = path_format(path, MATRIX_DEV "/%s/matrix", uuid);
		if (r < 0)
			return r;
		r = read_assigned_matrix(fs, path, &m);
		if (r < 0)
			return r;
		r = path_format(path, MATRIX_DEV "/%s/control_domains", uuid);
		if (r < 0)
			return r;
		n = sysfs_read(fs, path, buf, sizeof(buf));
		if (n < 0)
			return (int) n;
		r = ap_domain_lines_parse(buf, &m.control_domains);
		if (r < 0)
			return r;
	}

	r = path_format(path, MATRIX_DEV "/%s/guest_matrix", uuid);
	if (r < 0)
		return r;
	r = read_shadow(fs, path, vfio_bound, &m);
	if (r == -ENOENT) {
		/* Before 6.0 the guest gets exactly the assigned matrix. */
		m.guest_adapters = m.adapters;
		m.guest_domains = m.domains;
	} else if (r < 0) {
		return r;
	} else {
		attrs.guest_matrix = true;
	}

	r = read_mdev_running(fs, &m, vfio_bound, in_use, &m.running);
	if (r < 0)
		return r;

	*ret = m;
	if (ret_attrs)
		*ret_attrs = attrs;
	return 0;
}

struct uuid_list {
	char (*uuids)[UUID_STR_LEN + 1];
	size_t n, allocated;
};

static int uuid_entry(void *userdata, const char *name)
{
	struct uuid_list *l = userdata;
	char uuid[UUID_STR_LEN + 1];

	if (uuid_normalize(name, uuid) < 0)
		return 0;
	if (l->n == l->allocated) {
		size_t allocated = l->allocated ? l->allocated * 2 : 16;
		void *p = realloc(l->uuids, allocated * sizeof(*l->uuids));

		if (!p)
			return -ENOMEM;
		l->uuids = p;
		l->allocated = allocated;
	}
	memcpy(l->uuids[l->n++], uuid, sizeof(uuid));
	return 0;
}

static int uuid_compare(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Reads every mdev of the vfio_ap-passthrough type, sorted by uuid. An mdev
 * removed while we read is left out. ret_attrs gets the attributes of the
 * first mdev (the same kernel made them all).
 */
static int read_all_mdevs(struct sysfs *fs, const struct apqn_set *vfio_bound,
			  struct apqn_set *in_use, struct mdev_info **ret_mdevs, size_t *ret_n,
			  struct mdev_attrs *ret_attrs)
{
	struct uuid_list l = { 0 };
	_cleanup_free_ char(*uuids)[UUID_STR_LEN + 1] = NULL;
	_cleanup_free_ struct mdev_info *mdevs = NULL;
	struct mdev_attrs attrs = { 0 };
	size_t n = 0;
	int r;

	r = sysfs_list(fs, MDEV_TYPE "/devices", uuid_entry, &l);
	uuids = l.uuids;
	if (r == -ENOENT)
		r = 0; /* vfio_ap is not loaded: no mdevs */
	if (r < 0)
		return r;
	if (l.n)
		qsort(uuids, l.n, sizeof(*uuids), uuid_compare);

	mdevs = calloc(l.n ? l.n : 1, sizeof(*mdevs));
	if (!mdevs)
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++) {
		struct mdev_attrs a;

		r = read_mdev_dir(fs, uuids[i], vfio_bound, in_use, &mdevs[n], &a);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		if (n++ == 0)
			attrs = a;
	}

	*ret_mdevs = TAKE_PTR(mdevs);
	*ret_n = n;
	if (ret_attrs)
		*ret_attrs = attrs;
	return 0;
}

/* ---- the host ---- */

/* The QCI masks, or what stands in for them on a machine without QCI. */
static int read_qci(struct sysfs *fs, struct host *h)
{
	struct apqn q;
	int r;

	r = read_mask(fs, AP_BUS "/ap_usage_domain_mask", &h->usage_domains);
	if (r == -EOPNOTSUPP || r == -ENOENT) {
		/* Without QCI the usage domains are those that have queues; each
		 * is also a control domain, and other control domains are
		 * unknowable. */
		h->usage_domains = IDSET_EMPTY;
		APQN_SET_FOREACH (q, &h->queues) {
			idset_add(&h->usage_domains, q.dom);
		}
		h->control_domains = h->usage_domains;
		return 0;
	}
	if (r < 0)
		return r;
	r = read_mask(fs, AP_BUS "/ap_control_domain_mask", &h->control_domains);
	if (r == -EOPNOTSUPP || r == -ENOENT) {
		h->control_domains = h->usage_domains;
		return 0;
	}
	return r;
}

static int read_max_ids(struct sysfs *fs, struct host *h)
{
	long v;
	int r;

	/* The kernel's defaults when QCI says nothing (ap_init_qci_info). */
	r = read_optional_long(fs, AP_BUS "/ap_max_adapter_id", &v);
	if (r < 0)
		return r;
	h->max_adapter = r && v >= 0 && v < (long) AP_ID_COUNT ? (unsigned) v : 63;
	r = read_optional_long(fs, AP_BUS "/ap_max_domain_id", &v);
	if (r < 0)
		return r;
	h->max_domain = r && v >= 0 && v < (long) AP_ID_COUNT ? (unsigned) v : 15;
	return 0;
}

static int read_cards(struct sysfs *fs, struct host *h, bool *ret_has_chkstop)
{
	bool has_chkstop = false;

	IDSET_FOREACH (ap, &h->adapters) {
		bool chk;
		int r = read_card(fs, (unsigned) ap, &h->cards[ap], &chk);

		if (r == -ENOENT) {
			/* Removed while we read: as if the listing had missed it. */
			idset_del(&h->adapters, (unsigned) ap);
			continue;
		}
		if (r < 0)
			return r;
		has_chkstop |= chk;
	}
	*ret_has_chkstop = has_chkstop;
	return 0;
}

/*
 * `online` of the host queues. A card that is offline (or deconfigured, or
 * checkstopped) has only offline queues: taking a card offline takes all its
 * queues with it, and a queue of an offline card cannot be set online.
 */
static int read_online(struct sysfs *fs, struct host *h)
{
	struct apqn q;

	APQN_SET_FOREACH (q, &h->default_bound) {
		bool online;
		int r;

		if (!idset_has(&h->adapters, q.ap) || !h->cards[q.ap].online)
			continue;
		r = read_queue_online(fs, q, &online);
		if (r < 0)
			return r;
		if (online)
			apqn_set_add(&h->online, q);
	}
	return 0;
}

static int detect_caps(struct sysfs *fs, const struct apqn_set *vfio_bound, size_t n_mdevs,
		       const struct mdev_attrs *attrs, bool has_chkstop, struct kernel_caps *ret)
{
	struct kernel_caps caps = { 0 };
	unsigned pos = 0;
	bool any_vfio;
	struct apqn q;
	int r;

	r = sysfs_exists(fs, MDEV_TYPE);
	if (r < 0)
		return r;
	caps.vfio_ap = r > 0;

	any_vfio = apqn_set_next(vfio_bound, &pos, &q);
	if (any_vfio) {
		r = queue_has_status(fs, q);
		if (r < 0)
			return r;
		caps.queue_status = r > 0;
	}

	if (n_mdevs) {
		caps.dynamic = attrs->guest_matrix;
		caps.ap_config = attrs->ap_config;
	} else if (any_vfio) {
		caps.dynamic = caps.queue_status;
	} else {
		r = sysfs_exists(fs, AP_BUS "/features");
		if (r < 0)
			return r;
		caps.dynamic = r > 0 || has_chkstop;
	}
	if (!any_vfio)
		caps.queue_status = caps.dynamic;

	*ret = caps;
	return 0;
}

static int kport_read_host(void *ctx, struct host *ret)
{
	struct sysfs *fs = ctx;
	_cleanup_free_ struct host *h = NULL;
	_cleanup_free_ struct mdev_info *mdevs = NULL;
	struct device_scan devices;
	struct driver_scan drivers;
	struct mdev_attrs attrs;
	bool has_chkstop;
	size_t n_mdevs;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;

	r = read_max_ids(fs, h);
	if (r < 0)
		return r;
	r = read_mask(fs, AP_BUS "/apmask", &h->apmask);
	if (r < 0)
		return r;
	r = read_mask(fs, AP_BUS "/aqmask", &h->aqmask);
	if (r < 0)
		return r;

	devices = (struct device_scan){ .queues = &h->queues };
	r = sysfs_list(fs, AP_BUS "/devices", device_entry, &devices);
	if (r < 0)
		return r;
	h->adapters = devices.cards;

	r = read_qci(fs, h);
	if (r < 0)
		return r;
	r = read_cards(fs, h, &has_chkstop);
	if (r < 0)
		return r;

	drivers =
	    (struct driver_scan){ .fs = fs, .vfio = &h->vfio_bound, .other = &h->default_bound };
	r = sysfs_list(fs, AP_DRIVERS, driver_entry, &drivers);
	if (r < 0)
		return r;
	/* A queue that left between the listings is no longer bound. */
	for (size_t i = 0; i < ARRAY_SIZE(h->queues.w); i++) {
		h->vfio_bound.w[i] &= h->queues.w[i];
		h->default_bound.w[i] &= h->queues.w[i];
	}

	r = read_online(fs, h);
	if (r < 0)
		return r;

	r = read_all_mdevs(fs, &h->vfio_bound, &h->in_use, &mdevs, &n_mdevs, &attrs);
	if (r < 0)
		return r;
	r = detect_caps(fs, &h->vfio_bound, n_mdevs, &attrs, has_chkstop, &h->caps);
	if (r < 0)
		return r;

	memcpy(ret, h, sizeof(*h));
	return 0;
}

/* The queues bound to vfio_ap, in a malloc'ed set (8 KiB: not for the stack). */
static int read_vfio_bound(struct sysfs *fs, struct apqn_set **ret)
{
	_cleanup_free_ struct apqn_set *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = read_driver_queues(fs, VFIO_DRIVER, s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

static int kport_read_mdevs(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n)
{
	struct sysfs *fs = ctx;
	_cleanup_free_ struct apqn_set *vfio_bound = NULL;
	int r;

	r = read_vfio_bound(fs, &vfio_bound);
	if (r < 0)
		return r;
	return read_all_mdevs(fs, vfio_bound, NULL, ret_mdevs, ret_n, NULL);
}

static int kport_read_kernel_quick(void *ctx, const struct host *prev, struct host *ret_host,
				   struct mdev_info **ret_mdevs, size_t *ret_n)
{
	struct sysfs *fs = ctx;
	_cleanup_free_ struct host *h = NULL;
	_cleanup_free_ struct apqn_set *in_use = NULL;
	_cleanup_free_ struct mdev_info *mdevs = NULL;
	struct kernel_caps caps = prev->caps;
	struct idset apmask, aqmask;
	struct mdev_attrs attrs;
	size_t n_mdevs;
	int r;

	r = read_mask(fs, AP_BUS "/apmask", &apmask);
	if (r >= 0)
		r = read_mask(fs, AP_BUS "/aqmask", &aqmask);
	if (r < 0)
		return r;
	if (!idset_equal(&apmask, &prev->apmask) || !idset_equal(&aqmask, &prev->aqmask)) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return -ENOMEM;
		r = kport_read_host(fs, h);
		if (r >= 0)
			r = kport_read_mdevs(fs, &mdevs, &n_mdevs);
		if (r < 0)
			return r;
		memcpy(ret_host, h, sizeof(*h));
	} else {
		/* the topology is prev's: a large host is copied once, not read again */
		in_use = calloc(1, sizeof(*in_use));
		if (!in_use)
			return -ENOMEM;
		r = read_all_mdevs(fs, &prev->vfio_bound, in_use, &mdevs, &n_mdevs, &attrs);
		/* with no mdev and no vfio_ap queue nothing new can be seen: keep prev's */
		if (r >= 0 && (n_mdevs || !apqn_set_empty(&prev->vfio_bound)))
			r = detect_caps(fs, &prev->vfio_bound, n_mdevs, &attrs, prev->caps.dynamic,
					&caps);
		if (r < 0)
			return r;
		memcpy(ret_host, prev, sizeof(*prev));
		ret_host->in_use = *in_use;
		ret_host->caps = caps;
	}
	*ret_mdevs = TAKE_PTR(mdevs);
	*ret_n = n_mdevs;
	return 0;
}

static int kport_read_mdev(void *ctx, const char *uuid, struct mdev_info *ret)
{
	struct sysfs *fs = ctx;
	_cleanup_free_ struct apqn_set *vfio_bound = NULL;
	char id[UUID_STR_LEN + 1], path[PATH_SIZE];
	int r;

	if (uuid_normalize(uuid, id) < 0)
		return -ENOENT; /* no mdev can have that name */
	r = path_format(path, MATRIX_DEV "/%s", id);
	if (r < 0)
		return r;
	r = sysfs_exists(fs, path);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;

	r = read_vfio_bound(fs, &vfio_bound);
	if (r < 0)
		return r;
	return read_mdev_dir(fs, id, vfio_bound, NULL, ret, NULL);
}

/* ---- writes ---- */

static int apply_mask_edit(struct sysfs *fs, const char *path, const struct kop *op)
{
	char text[AP_MASK_EDIT_TEXT_SIZE];
	size_t len;

	if (idset_intersects(&op->set, &op->clear))
		return -EINVAL;
	len = ap_mask_edit_format(&op->set, &op->clear, text, sizeof(text));
	/* Nothing to change: an empty write would be an absolute zero mask. */
	if (len == 0)
		return 0;
	if (len >= sizeof(text))
		return -E2BIG;
	return sysfs_write(fs, path, text, len);
}

static int kport_apply(void *ctx, const struct kop *op)
{
	struct sysfs *fs = ctx;
	char uuid[UUID_STR_LEN + 1], path[PATH_SIZE], text[AP_CONFIG_TEXT_SIZE];
	int r;

	if (!op || (unsigned) op->type >= _KOP_TYPE_MAX)
		return -EINVAL;

	switch (op->type) {
	case KOP_APMASK_EDIT:
		return apply_mask_edit(fs, AP_BUS "/apmask", op);
	case KOP_AQMASK_EDIT:
		return apply_mask_edit(fs, AP_BUS "/aqmask", op);
	default:
		break;
	}

	/* Every other operation names an mdev. */
	r = uuid_normalize(op->uuid, uuid);
	if (r < 0)
		return r;

	switch (op->type) {
	case KOP_MDEV_CREATE:
		/* As `echo $uuid > create` (mdevctl's way): 37 bytes. */
		snprintf(text, sizeof(text), "%s\n", uuid);
		return sysfs_write_str(fs, MDEV_TYPE "/create", text);
	case KOP_MDEV_REMOVE:
		r = path_format(path, MATRIX_DEV "/%s/remove", uuid);
		return r < 0 ? r : sysfs_write_str(fs, path, "1\n");
	case KOP_AP_CONFIG:
		r = path_format(path, MATRIX_DEV "/%s/ap_config", uuid);
		if (r < 0)
			return r;
		ap_config_format(&op->apm, &op->aqm, &op->adm, text, sizeof(text));
		return sysfs_write_str(fs, path, text);
	default:
		r = path_format(path, MATRIX_DEV "/%s/%s", uuid, kop_name(op->type));
		if (r < 0)
			return r;
		snprintf(text, sizeof(text), "0x%x\n", op->id);
		return sysfs_write_str(fs, path, text);
	}
}

static const struct kernel_port_ops kport_ops = {
	.read_host = kport_read_host,
	.read_mdevs = kport_read_mdevs,
	.read_mdev = kport_read_mdev,
	.read_kernel_quick = kport_read_kernel_quick,
	.apply = kport_apply,
};

int kport_ap_bus_present(struct sysfs *fs)
{
	return sysfs_exists(fs, AP_BUS);
}

int kport_new(struct sysfs *fs, struct kernel_port *ret)
{
	if (!fs || !ret)
		return -EINVAL;
	*ret = (struct kernel_port){ .ops = &kport_ops, .ctx = fs };
	return 0;
}

/* ---- the same port, holding the AP configuration lock ---- */

static int locked_read_host(void *ctx, struct host *ret)
{
	const struct kport_locked *k = ctx;

	return kport_read_host(k->fs, ret);
}

static int locked_read_mdevs(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n)
{
	const struct kport_locked *k = ctx;

	return kport_read_mdevs(k->fs, ret_mdevs, ret_n);
}

static int locked_read_kernel_quick(void *ctx, const struct host *prev, struct host *ret_host,
				    struct mdev_info **ret_mdevs, size_t *ret_n)
{
	const struct kport_locked *k = ctx;

	return kport_read_kernel_quick(k->fs, prev, ret_host, ret_mdevs, ret_n);
}

static int locked_read_mdev(void *ctx, const char *uuid, struct mdev_info *ret)
{
	const struct kport_locked *k = ctx;

	return kport_read_mdev(k->fs, uuid, ret);
}

static int locked_apply(void *ctx, const struct kop *op)
{
	const struct kport_locked *k = ctx;

	return kport_apply(k->fs, op);
}

static int locked_config_lock(void *ctx)
{
	const struct kport_locked *k = ctx;

	return aplock_acquire(k->lock, k->timeout_ms);
}

static void locked_config_unlock(void *ctx)
{
	const struct kport_locked *k = ctx;

	/* -ESTALE: another tool took a lock it judged stale; nothing to undo. */
	(void) aplock_release(k->lock);
}

static void locked_config_lock_holder(void *ctx, char *buf, size_t size)
{
	const struct kport_locked *k = ctx;
	pid_t pid;

	if (aplock_owner(k->lock, &pid) < 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	if (k->timeout_ms > 0)
		snprintf(buf, size, "%s is held by PID %d (for more than %d s)", APLOCK_NAME,
			 (int) pid, (k->timeout_ms + 999) / 1000);
	else
		snprintf(buf, size, "%s is held by PID %d", APLOCK_NAME, (int) pid);
}

static const struct kernel_port_ops kport_locked_ops = {
	.read_host = locked_read_host,
	.read_mdevs = locked_read_mdevs,
	.read_mdev = locked_read_mdev,
	.read_kernel_quick = locked_read_kernel_quick,
	.apply = locked_apply,
	.config_lock = locked_config_lock,
	.config_unlock = locked_config_unlock,
	.config_lock_holder = locked_config_lock_holder,
};

int kport_new_locked(struct kport_locked *storage, struct sysfs *fs, struct aplock *lock,
		     int timeout_ms, struct kernel_port *ret)
{
	if (!storage || !fs || !lock || !ret)
		return -EINVAL;
	*storage = (struct kport_locked){ .fs = fs, .lock = lock, .timeout_ms = timeout_ms };
	*ret = (struct kernel_port){ .ops = &kport_locked_ops, .ctx = storage };
	return 0;
}

int kport_matrix_dir(const char *sysfs_root, char *buf, size_t size)
{
	size_t len = strlen(sysfs_root);

	while (len > 1 && sysfs_root[len - 1] == '/')
		len--;
	return snprintf(buf, size, "%.*s/%s", (int) len, sysfs_root, MATRIX_DEV);
}
