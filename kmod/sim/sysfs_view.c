/* SPDX-License-Identifier: MIT */
/*
 * The sysfs view of the simulator: directories, attribute files and symlinks
 * laid out as /sys lays them out, resolved on every call from the current
 * state (nothing is cached, so a rebind shows at once). Each directory kind
 * lists its children; a lookup is a listing that stops at the wanted name,
 * with a shortcut for the directories that hold one entry per queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/sim_private.h"

#define MAX_LINK_DEPTH 40
/* The control files are no sysfs: their reads are not cut at a page. */
#define SIMCTL_READ_MAX (64 * 1024)

enum dir_kind {
	DK_ROOT,
	DK_BUS,
	DK_BUS_AP,
	DK_BUS_AP_DEVICES,
	DK_BUS_AP_DRIVERS,
	DK_AP_DRIVER,
	DK_BUS_MATRIX,
	DK_BUS_MATRIX_DEVICES,
	DK_BUS_MATRIX_DRIVERS,
	DK_MATRIX_DRIVER,
	DK_BUS_MDEV,
	DK_BUS_MDEV_DEVICES,
	DK_BUS_MDEV_DRIVERS,
	DK_MDEV_DRIVER,
	DK_CLASS,
	DK_CLASS_MDEV_BUS,
	DK_DEVICES,
	DK_AP_ROOT,
	DK_CARD,
	DK_QUEUE,
	DK_VFIO_ROOT,
	DK_MATRIX,
	DK_MDEV_TYPES,
	DK_MDEV_TYPE,
	DK_MDEV_TYPE_DEVICES,
	DK_MDEV,
	DK_SIMCTL,
};

struct node {
	enum sim_node_type type;
	mode_t mode;
	enum dir_kind dir; /* a directory's kind; for a file, its parent's */
	struct sim_obj obj;
	const struct sim_attr *attr;
	char target[SIM_PATH_MAX];
};

/* Either finds one name (want) or reports every entry (cb). */
struct lister {
	const char *want;
	struct node *found;
	bool hit;
	int (*cb)(void *userdata, const char *name, const struct sim_stat *st);
	void *userdata;
	enum dir_kind parent; /* the directory being listed */
};

/* Returns true to stop the listing. */
static bool emit(struct lister *l, const char *name, const struct node *n)
{
	struct sim_stat st = { .type = n->type, .mode = n->mode };

	if (l->want) {
		if (strcmp(name, l->want))
			return false;
		*l->found = *n;
		l->hit = true;
		return true;
	}
	return l->cb(l->userdata, name, &st) != 0;
}

static bool emit_dir(struct lister *l, const char *name, enum dir_kind kind,
		     const struct sim_obj *obj)
{
	struct node n = { .type = SIM_NODE_DIR, .mode = 0755, .dir = kind };

	if (l->want && strcmp(name, l->want))
		return false;
	if (obj)
		n.obj = *obj;
	return emit(l, name, &n);
}

__attribute__((format(printf, 3, 4))) static bool emit_link(struct lister *l, const char *name,
							    const char *fmt, ...)
{
	struct node n = { .type = SIM_NODE_LINK, .mode = 0777 };
	va_list ap;

	if (l->want && strcmp(name, l->want))
		return false;
	va_start(ap, fmt);
	vsnprintf(n.target, sizeof(n.target), fmt, ap);
	va_end(ap);
	return emit(l, name, &n);
}

static bool emit_attrs(struct sim *sim, struct lister *l, const struct sim_attr *table,
		       const struct sim_obj *obj)
{
	for (const struct sim_attr *a = table; a->name; a++) {
		struct node n = {
			.type = SIM_NODE_FILE, .mode = a->mode, .dir = l->parent, .attr = a
		};

		if (l->want && strcmp(a->name, l->want))
			continue;
		if (obj)
			n.obj = *obj;
		if (a->visible && !a->visible(sim, &n.obj))
			continue;
		if (emit(l, a->name, &n))
			return true;
	}
	return false;
}

/* "05.0004" -> 5, 4; only the kernel's own lowercase spelling matches. */
static bool parse_queue_name(const char *name, unsigned *ret_ap, unsigned *ret_dom)
{
	char back[16];
	unsigned ap, dom;

	if (sscanf(name, "%2x.%4x", &ap, &dom) != 2)
		return false;
	snprintf(back, sizeof(back), "%02x.%04x", ap, dom);
	if (strcmp(back, name))
		return false;
	*ret_ap = ap;
	*ret_dom = dom;
	return true;
}

static bool list_queue_links(struct sim *sim, struct lister *l, const char *prefix,
			     enum sim_driver drv, bool cards)
{
	char name[16];
	unsigned want_ap, want_dom;

	/* A lookup of one queue need not walk all 65536 of them. */
	if (l->want && parse_queue_name(l->want, &want_ap, &want_dom)) {
		struct sim_queue *q = sim_queue_get(sim, want_ap, want_dom);

		if (!q || (drv != SIM_DRV_NONE && q->driver != drv))
			return false;
		return emit_link(l, l->want, "%sdevices/ap/card%02x/%s", prefix, want_ap, l->want);
	}
	for (unsigned ap = 0; ap < AP_ID_COUNT; ap++) {
		struct sim_card *card = sim->cards[ap];

		if (!card)
			continue;
		if (cards && (drv == SIM_DRV_NONE || card->driver == drv)) {
			snprintf(name, sizeof(name), "card%02x", ap);
			if (emit_link(l, name, "%sdevices/ap/%s", prefix, name))
				return true;
		}
		for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
			const struct sim_queue *q = &card->queues[dom];

			if (!q->present || (drv != SIM_DRV_NONE && q->driver != drv))
				continue;
			snprintf(name, sizeof(name), "%02x.%04x", ap, dom);
			if (emit_link(l, name, "%sdevices/ap/card%02x/%s", prefix, ap, name))
				return true;
		}
	}
	return false;
}

static bool list_mdev_links(struct sim *sim, struct lister *l, const char *prefix)
{
	struct sim_mdev *mdevs[SIM_MAX_MDEVS];
	size_t n = sim_vfio_sorted_mdevs(sim, mdevs, SIM_MAX_MDEVS);

	for (size_t i = 0; i < n; i++)
		if (emit_link(l, mdevs[i]->uuid, "%s%s", prefix, mdevs[i]->uuid))
			return true;
	return false;
}

static bool list_card(struct sim *sim, const struct node *dir, struct lister *l)
{
	const struct sim_card *card = sim->cards[dir->obj.ap];
	struct sim_obj obj = dir->obj;
	unsigned want_ap, want_dom;
	char name[16];

	if (l->want && parse_queue_name(l->want, &want_ap, &want_dom)) {
		if (want_ap != dir->obj.ap || !card->queues[want_dom].present)
			return false;
		obj.dom = (int) want_dom;
		return emit_dir(l, l->want, DK_QUEUE, &obj);
	}

	if (emit_attrs(sim, l, sim_card_attrs, &dir->obj))
		return true;
	if (card->driver != SIM_DRV_NONE &&
	    emit_link(l, "driver", "../../../bus/ap/drivers/%s", sim_driver_name(card->driver)))
		return true;
	if (emit_link(l, "subsystem", "../../../bus/ap"))
		return true;
	for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
		if (!card->queues[dom].present)
			continue;
		snprintf(name, sizeof(name), "%02x.%04x", dir->obj.ap, dom);
		obj.dom = (int) dom;
		if (emit_dir(l, name, DK_QUEUE, &obj))
			return true;
	}
	return false;
}

static bool list_queue(struct sim *sim, const struct node *dir, struct lister *l)
{
	const struct sim_queue *q = &sim->cards[dir->obj.ap]->queues[dir->obj.dom];

	if (emit_attrs(sim, l, sim_queue_attrs, &dir->obj))
		return true;
	if (q->driver != SIM_DRV_NONE &&
	    emit_link(l, "driver", "../../../../bus/ap/drivers/%s", sim_driver_name(q->driver)))
		return true;
	return emit_link(l, "subsystem", "../../../../bus/ap");
}

static bool list_ap_root(struct sim *sim, struct lister *l)
{
	struct sim_obj obj = { .dom = -1 };
	unsigned want_ap;
	char name[16];
	int n = 0;

	if (l->want && sscanf(l->want, "card%2x%n", &want_ap, &n) == 1 && n == 6 && !l->want[n]) {
		if (!sim->cards[want_ap])
			return false;
		snprintf(name, sizeof(name), "card%02x", want_ap);
		obj.ap = want_ap;
		return emit_dir(l, name, DK_CARD, &obj);
	}
	if (emit_attrs(sim, l, sim_ap_root_attrs, NULL))
		return true;
	for (unsigned ap = 0; ap < AP_ID_COUNT; ap++) {
		if (!sim->cards[ap])
			continue;
		snprintf(name, sizeof(name), "card%02x", ap);
		obj.ap = ap;
		if (emit_dir(l, name, DK_CARD, &obj))
			return true;
	}
	return false;
}

static bool list_matrix(struct sim *sim, struct lister *l)
{
	struct sim_mdev *mdevs[SIM_MAX_MDEVS];
	size_t n = sim_vfio_sorted_mdevs(sim, mdevs, SIM_MAX_MDEVS);

	if (emit_attrs(sim, l, sim_matrix_attrs, NULL) ||
	    emit_link(l, "driver", "../../../bus/matrix/drivers/vfio_ap") ||
	    emit_dir(l, "mdev_supported_types", DK_MDEV_TYPES, NULL) ||
	    emit_link(l, "subsystem", "../../../bus/matrix"))
		return true;
	for (size_t i = 0; i < n; i++) {
		struct sim_obj obj = { .mdev = (size_t) (mdevs[i] - sim->mdevs) };

		if (emit_dir(l, mdevs[i]->uuid, DK_MDEV, &obj))
			return true;
	}
	return false;
}

static bool list_mdev(struct sim *sim, const struct node *dir, struct lister *l)
{
	return emit_attrs(sim, l, sim_mdev_attrs, &dir->obj) ||
	       emit_link(l, "driver", "../../../../bus/mdev/drivers/%s",
			 sim_mdev_driver_name(sim)) ||
	       emit_link(l, "mdev_type", "../mdev_supported_types/vfio_ap-passthrough") ||
	       emit_link(l, "subsystem", "../../../../bus/mdev");
}

static bool list_ap_drivers(struct sim *sim, struct lister *l)
{
	static const enum sim_driver drivers[] = { SIM_DRV_CEX4CARD, SIM_DRV_CEX4QUEUE,
						   SIM_DRV_VFIO_AP };

	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		struct sim_obj obj = { .drv = drivers[i] };

		if (drivers[i] == SIM_DRV_VFIO_AP && !sim->vfio_ap_loaded)
			continue;
		if (emit_dir(l, sim_driver_name(drivers[i]), DK_AP_DRIVER, &obj))
			return true;
	}
	return false;
}

/* Lists one directory; returns true if the listing was stopped. */
static bool list_dir(struct sim *sim, const struct node *dir, struct lister *l)
{
	bool vfio = sim->vfio_ap_loaded;

	l->parent = dir->dir;
	switch (dir->dir) {
	case DK_ROOT:
		return emit_dir(l, "bus", DK_BUS, NULL) || emit_dir(l, "class", DK_CLASS, NULL) ||
		       emit_dir(l, "devices", DK_DEVICES, NULL) ||
		       emit_dir(l, SIM_CONTROL_DIR, DK_SIMCTL, NULL);
	case DK_BUS:
		return emit_dir(l, "ap", DK_BUS_AP, NULL) ||
		       (vfio && emit_dir(l, "matrix", DK_BUS_MATRIX, NULL)) ||
		       (vfio && emit_dir(l, "mdev", DK_BUS_MDEV, NULL));
	case DK_BUS_AP:
		return emit_attrs(sim, l, sim_bus_attrs, NULL) ||
		       emit_dir(l, "devices", DK_BUS_AP_DEVICES, NULL) ||
		       emit_dir(l, "drivers", DK_BUS_AP_DRIVERS, NULL);
	case DK_BUS_AP_DEVICES:
		return list_queue_links(sim, l, "../../../", SIM_DRV_NONE, true);
	case DK_BUS_AP_DRIVERS:
		return list_ap_drivers(sim, l);
	case DK_AP_DRIVER:
		return emit_attrs(sim, l, sim_ap_driver_attrs, &dir->obj) ||
		       list_queue_links(sim, l, "../../../../", dir->obj.drv,
					dir->obj.drv == SIM_DRV_CEX4CARD);
	case DK_BUS_MATRIX:
		return emit_dir(l, "devices", DK_BUS_MATRIX_DEVICES, NULL) ||
		       emit_dir(l, "drivers", DK_BUS_MATRIX_DRIVERS, NULL);
	case DK_BUS_MATRIX_DEVICES:
		return emit_link(l, "matrix", "../../../devices/vfio_ap/matrix");
	case DK_BUS_MATRIX_DRIVERS:
		return emit_dir(l, "vfio_ap", DK_MATRIX_DRIVER, NULL);
	case DK_MATRIX_DRIVER:
		return emit_attrs(sim, l, sim_plain_driver_attrs, NULL) ||
		       emit_link(l, "matrix", "../../../../devices/vfio_ap/matrix");
	case DK_BUS_MDEV:
		return emit_dir(l, "devices", DK_BUS_MDEV_DEVICES, NULL) ||
		       emit_dir(l, "drivers", DK_BUS_MDEV_DRIVERS, NULL);
	case DK_BUS_MDEV_DEVICES:
		return list_mdev_links(sim, l, "../../../devices/vfio_ap/matrix/");
	case DK_BUS_MDEV_DRIVERS:
		return emit_dir(l, sim_mdev_driver_name(sim), DK_MDEV_DRIVER, NULL);
	case DK_MDEV_DRIVER:
		return emit_attrs(sim, l, sim_plain_driver_attrs, NULL) ||
		       list_mdev_links(sim, l, "../../../../devices/vfio_ap/matrix/");
	case DK_CLASS:
		return vfio && emit_dir(l, "mdev_bus", DK_CLASS_MDEV_BUS, NULL);
	case DK_CLASS_MDEV_BUS:
		return emit_link(l, "matrix", "../../devices/vfio_ap/matrix");
	case DK_DEVICES:
		return emit_dir(l, "ap", DK_AP_ROOT, NULL) ||
		       (vfio && emit_dir(l, "vfio_ap", DK_VFIO_ROOT, NULL));
	case DK_AP_ROOT:
		return list_ap_root(sim, l);
	case DK_CARD:
		return list_card(sim, dir, l);
	case DK_QUEUE:
		return list_queue(sim, dir, l);
	case DK_VFIO_ROOT:
		return emit_dir(l, "matrix", DK_MATRIX, NULL);
	case DK_MATRIX:
		return list_matrix(sim, l);
	case DK_MDEV_TYPES:
		return emit_dir(l, "vfio_ap-passthrough", DK_MDEV_TYPE, NULL);
	case DK_MDEV_TYPE:
		return emit_attrs(sim, l, sim_mdev_type_attrs, NULL) ||
		       emit_dir(l, "devices", DK_MDEV_TYPE_DEVICES, NULL);
	case DK_MDEV_TYPE_DEVICES:
		return list_mdev_links(sim, l, "../../../");
	case DK_MDEV:
		return list_mdev(sim, dir, l);
	case DK_SIMCTL:
		return emit_attrs(sim, l, sim_simctl_attrs, NULL);
	}
	return false;
}

/* ---- path resolution ---- */

/* Joins base and rel (which may hold ".." and "."), into canonical form. */
static int join_path(const char *base, const char *rel, char *out, size_t size)
{
	char tmp[2 * SIM_PATH_MAX + 2];
	char *save = NULL, *comp;
	size_t len = 0;

	if ((size_t) snprintf(tmp, sizeof(tmp), "%s/%s", base, rel) >= sizeof(tmp))
		return -ENAMETOOLONG;
	out[0] = '\0';
	for (comp = strtok_r(tmp, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(out, '/');

			len = slash ? (size_t) (slash - out) : 0;
			out[len] = '\0';
			continue;
		}
		if (len + strlen(comp) + 2 > size)
			return -ENAMETOOLONG;
		len += (size_t) snprintf(out + len, size - len, "%s%s", len ? "/" : "", comp);
	}
	return 0;
}

/* Resolves path from the root; canon receives the canonical path. */
static int resolve(struct sim *sim, const char *path, bool follow_last, struct node *ret,
		   char *canon, int depth)
{
	char buf[SIM_PATH_MAX], here[SIM_PATH_MAX] = "";
	struct node cur = { .type = SIM_NODE_DIR, .mode = 0755, .dir = DK_ROOT };
	char *save = NULL, *comp, *next;
	int r;

	if (depth > MAX_LINK_DEPTH)
		return -ELOOP;
	if ((size_t) snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (comp = strtok_r(buf, "/", &save); comp; comp = next) {
		struct node child;
		struct lister l = { .want = comp, .found = &child };

		next = strtok_r(NULL, "/", &save);
		if (cur.type != SIM_NODE_DIR)
			return -ENOTDIR;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char up[SIM_PATH_MAX];

			r = join_path(here, "..", up, sizeof(up));
			if (r < 0)
				return r;
			r = resolve(sim, up, true, &cur, here, depth + 1);
			if (r < 0)
				return r;
			continue;
		}
		list_dir(sim, &cur, &l);
		if (!l.hit)
			return -ENOENT;
		if (child.type == SIM_NODE_LINK && (next || follow_last)) {
			char target[SIM_PATH_MAX];

			r = join_path(here, child.target, target, sizeof(target));
			if (r < 0)
				return r;
			r = resolve(sim, target, true, &cur, here, depth + 1);
			if (r < 0)
				return r;
			continue;
		}
		r = join_path(here, comp, here, sizeof(here));
		if (r < 0)
			return r;
		cur = child;
	}
	*ret = cur;
	if (canon)
		snprintf(canon, SIM_PATH_MAX, "%s", here);
	return 0;
}

int sim_view_canonical(struct sim *sim, const char *path, char *buf, size_t size)
{
	char canon[SIM_PATH_MAX];
	struct node n;
	int r = resolve(sim, path, true, &n, canon, 0);

	if (r < 0)
		return r;
	snprintf(buf, size, "%s", canon);
	return 0;
}

/* ---- the public sysfs API ---- */

int sim_stat(struct sim *sim, const char *path, struct sim_stat *ret)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);
	struct node n;
	int r = resolve(sim, path, false, &n, NULL, 0);

	if (r < 0)
		return r;
	*ret = (struct sim_stat){ .type = n.type, .mode = n.mode };
	return 0;
}

ssize_t sim_read(struct sim *sim, const char *path, char *buf, size_t size)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);
	_cleanup_free_ char *page = NULL;
	struct sim_page pg = { 0 };
	char canon[SIM_PATH_MAX];
	struct node n;
	size_t copy;
	int r = resolve(sim, path, true, &n, canon, 0);

	if (r < 0)
		return r;
	if (n.type == SIM_NODE_DIR)
		return -EISDIR;
	if (!(n.mode & 0444) || !n.attr->show)
		return -EACCES;
	pg.cap = n.dir == DK_SIMCTL ? SIMCTL_READ_MAX : SIM_PAGE_SIZE;
	page = malloc(pg.cap);
	if (!page)
		return -ENOMEM;
	pg.buf = page;
	page[0] = '\0';
	r = n.attr->show(sim, &n.obj, &pg);
	if (r < 0)
		return r;
	/* sysfs_kf_seq_show() cuts an overlong show and complains. */
	if (pg.overflow && n.dir != DK_SIMCTL)
		sim_log(sim, "fill_read_buffer: %s_show returned bad count", n.attr->name);
	copy = pg.len < size ? pg.len : size;
	memcpy(buf, page, copy);
	if (copy < size)
		buf[copy] = '\0';
	return (ssize_t) copy;
}

static int take_injected_failure(struct sim *sim, const char *canon)
{
	for (size_t i = 0; i < SIM_FAIL_SLOTS; i++) {
		struct sim_fail *f = &sim->fails[i];

		if (f->err && !strcmp(f->path, canon)) {
			int err = f->err;

			f->err = 0;
			return -err;
		}
	}
	return 0;
}

ssize_t sim_write(struct sim *sim, const char *path, const char *buf, size_t len)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);
	_cleanup_free_ char *copy = NULL;
	char canon[SIM_PATH_MAX];
	struct node n;
	int r = resolve(sim, path, true, &n, canon, 0);

	if (r < 0)
		return r;
	if (n.type == SIM_NODE_DIR)
		return -EISDIR;
	if (!(n.mode & 0222) || !n.attr->store)
		return -EACCES;
	r = take_injected_failure(sim, canon);
	if (r < 0)
		return r;
	/* kernfs: an empty write never reaches store(); more than a page is
	 * cut to one; store() sees a NUL-terminated copy. */
	if (len == 0)
		return 0;
	if (len > SIM_PAGE_SIZE && n.dir != DK_SIMCTL)
		len = SIM_PAGE_SIZE;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	return n.attr->store(sim, &n.obj, copy, len);
}

struct dir_entry {
	char name[48];
	struct sim_stat st;
};

struct collector {
	struct dir_entry *entries;
	size_t n, cap;
	int err;
};

static int collect(void *userdata, const char *name, const struct sim_stat *st)
{
	struct collector *c = userdata;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct dir_entry *e = realloc(c->entries, cap * sizeof(*e));

		if (!e) {
			c->err = -ENOMEM;
			return 1;
		}
		c->entries = e;
		c->cap = cap;
	}
	snprintf(c->entries[c->n].name, sizeof(c->entries[c->n].name), "%s", name);
	c->entries[c->n].st = *st;
	c->n++;
	return 0;
}

/* The listing is taken under the lock and handed out after it, so the
 * callback may call into the simulator. */
int sim_readdir(struct sim *sim, const char *path, sim_readdir_cb cb, void *userdata)
{
	struct collector c = { 0 };
	int r;

	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);
		struct node n;
		struct lister lister = { .cb = collect, .userdata = &c };

		r = resolve(sim, path, true, &n, NULL, 0);
		if (r < 0)
			return r;
		if (n.type != SIM_NODE_DIR)
			return -ENOTDIR;
		list_dir(sim, &n, &lister);
	}
	r = c.err;
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = cb(userdata, c.entries[i].name, &c.entries[i].st);
	free(c.entries);
	return r;
}

ssize_t sim_readlink(struct sim *sim, const char *path, char *buf, size_t size)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);
	struct node n;
	size_t len;
	int r = resolve(sim, path, false, &n, NULL, 0);

	if (r < 0)
		return r;
	if (n.type != SIM_NODE_LINK)
		return -EINVAL;
	len = strlen(n.target);
	if (len > size)
		len = size;
	memcpy(buf, n.target, len);
	if (len < size)
		buf[len] = '\0';
	return (ssize_t) len;
}
