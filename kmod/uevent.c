/* SPDX-License-Identifier: MIT */
/*
 * Uevents: one representation for the three sources (netlink, simulator,
 * recorded text) and the classifier that turns an event into "what to
 * re-read". The table the classifier follows is the kernel's (AP bus:
 * ap_bus.c, ap_card.c, ap_queue.c; mdev core; vfio_ap_drv.c):
 *
 *   /devices/ap         change  APMASK=/AQMASK=, INITSCAN=done   -> all
 *                       change  BINDINGS=complete                -> host
 *   card, queue         add, remove                              -> all
 *                       change  CONFIG=, ONLINE=                 -> host
 *   queue               bind DRIVER=vfio_ap, unbind               -> all
 *                       bind DRIVER=cex4queue                    -> host
 *   matrix (bus matrix) change  MDEV_STATE=(un)registered, ...    -> all
 *   mdev                add, bind, unbind, remove                -> mdevs
 *
 * "All" wherever a guest's view can move with the host: vfio_ap re-filters
 * guest_matrix when queues come, go or change driver, and mask changes
 * rebind queues.
 */
#include "kmod/uevent.h"

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/sim.h"

/* Room for a burst of events; the kernel drops what does not fit, which
 * receive reports as a loss (ENOBUFS). */
#define UEVENT_RCVBUF (16 * 1024 * 1024)

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

void uevent_init(struct uevent *ev)
{
	ev->len = 0;
	ev->n_keys = 0;
	ev->text[0] = '\0';
}

static bool key_valid(const char *key, size_t len)
{
	return len > 0 && !memchr(key, '=', len) && !memchr(key, '\n', len) &&
	       !memchr(key, '\0', len);
}

static int uevent_add_n(struct uevent *ev, const char *key, size_t key_len, const char *value,
			size_t value_len)
{
	if (!key_valid(key, key_len))
		return -EINVAL;
	if (ev->n_keys >= UEVENT_MAX_KEYS || key_len + value_len + 2 > UEVENT_TEXT_MAX - ev->len)
		return -E2BIG;

	ev->key[ev->n_keys] = (uint16_t) ev->len;
	memcpy(ev->text + ev->len, key, key_len);
	ev->len += key_len;
	ev->text[ev->len++] = '\0';
	ev->value[ev->n_keys] = (uint16_t) ev->len;
	memcpy(ev->text + ev->len, value, value_len);
	ev->len += value_len;
	ev->text[ev->len++] = '\0';
	ev->n_keys++;
	return 0;
}

int uevent_add(struct uevent *ev, const char *key, const char *value)
{
	if (!ev || !key || !value)
		return -EINVAL;
	return uevent_add_n(ev, key, strlen(key), value, strlen(value));
}

const char *uevent_get(const struct uevent *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_keys; i++)
		if (strcmp(ev->text + ev->key[i], key) == 0)
			return ev->text + ev->value[i];
	return NULL;
}

/* The last value is the last thing in text, so it can grow in place. */
static int append_newlines(struct uevent *ev, size_t n)
{
	if (ev->n_keys == 0)
		return -EINVAL;
	if (n > UEVENT_TEXT_MAX - ev->len)
		return -E2BIG;
	memset(ev->text + ev->len - 1, '\n', n);
	ev->len += n;
	ev->text[ev->len - 1] = '\0';
	return 0;
}

/* ---- recorded text ---- */

struct line {
	const char *s;
	size_t len;  /* without the newline */
	size_t next; /* offset of the following line */
};

static struct line line_at(const char *text, size_t len, size_t pos)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t end = nl ? (size_t) (nl - text) : len;

	return (struct line){ text + pos, end - pos, nl ? end + 1 : len };
}

/* "KEY=VALUE" with a key of letters, digits and '_'; 0 if not such a line. */
static size_t property_key_len(const struct line *l)
{
	size_t i = 0;

	while (i < l->len &&
	       ((l->s[i] >= 'A' && l->s[i] <= 'Z') || (l->s[i] >= 'a' && l->s[i] <= 'z') ||
		(l->s[i] >= '0' && l->s[i] <= '9') || l->s[i] == '_'))
		i++;
	return i > 0 && i < l->len && l->s[i] == '=' ? i : 0;
}

static int add_property_line(struct uevent *ev, const struct line *l, size_t key_len)
{
	return uevent_add_n(ev, l->s, key_len, l->s + key_len + 1, l->len - key_len - 1);
}

/* After an empty line inside an event: if the event goes on, returns the
 * offset where it does and sets *ret_newlines to the empty lines skipped. */
static bool event_continues(const char *text, size_t len, size_t pos, size_t *ret_pos,
			    size_t *ret_newlines)
{
	size_t newlines = 1;
	struct line l;
	size_t key_len;

	while (pos < len && (l = line_at(text, len, pos)).len == 0) {
		newlines++;
		pos = l.next;
	}
	if (pos >= len)
		return false;
	l = line_at(text, len, pos);
	key_len = property_key_len(&l);
	if (!key_len || (key_len == 6 && !memcmp(l.s, "ACTION", 6)))
		return false;
	*ret_pos = pos;
	*ret_newlines = newlines;
	return true;
}

int uevent_parse_text(const char *text, size_t len, struct uevent *ret, size_t *ret_used)
{
	struct uevent ev;
	bool started = false;
	size_t pos = 0;

	if (!text || !ret || !ret_used)
		return -EINVAL;

	uevent_init(&ev);
	while (pos < len) {
		struct line l = line_at(text, len, pos);
		size_t key_len = property_key_len(&l);
		size_t newlines;
		int r;

		if (!started) {
			/* Headers, the monitor's banner, blank lines. */
			pos = l.next;
			if (!key_len)
				continue;
			started = true;
			r = add_property_line(&ev, &l, key_len);
			if (r < 0)
				return r;
			continue;
		}
		if (l.len == 0) {
			if (!event_continues(text, len, l.next, &pos, &newlines)) {
				pos = l.next;
				break;
			}
			r = append_newlines(&ev, newlines);
			if (r < 0)
				return r;
			continue;
		}
		if (!key_len)
			break; /* the next event's header */
		r = add_property_line(&ev, &l, key_len);
		if (r < 0)
			return r;
		pos = l.next;
	}

	*ret_used = pos;
	if (!started)
		return 0;
	*ret = ev;
	return 1;
}

int uevent_from_sim(const struct sim_uevent *sev, struct uevent *ret)
{
	char text[sizeof(sev->action) + sizeof(sev->devpath) + sizeof(sev->subsystem) +
		  sizeof(sev->env) + 32];
	size_t used;
	int len, r;

	if (!sev || !ret)
		return -EINVAL;
	len = snprintf(text, sizeof(text), "ACTION=%s\nDEVPATH=%s\nSUBSYSTEM=%s\n%s", sev->action,
		       sev->devpath, sev->subsystem, sev->env);
	if (len < 0 || (size_t) len >= sizeof(text))
		return -E2BIG;
	r = uevent_parse_text(text, (size_t) len, ret, &used);
	if (r < 0)
		return r;
	return r == 1 ? 0 : -EINVAL;
}

/* ---- classification ---- */

/* Exactly n lowercase hex digits, as the kernel names AP devices. */
static bool parse_hex(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned) (c - 'a' + 10);
		else
			return false;
	}
	*ret = v;
	return true;
}

/* %pUl: 8-4-4-4-12 lowercase hex digits. */
static bool uuid_valid(const char *s)
{
	unsigned ignored;

	if (strlen(s) != UEVENT_UUID_LEN)
		return false;
	for (size_t i = 0; i < UEVENT_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !parse_hex(s + i, 1, &ignored))
			return false;
	}
	return true;
}

/* The rest of s after prefix, or NULL. */
static const char *after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Which of our devices devpath names; fills c's ids for it. */
static enum uevent_object parse_devpath(const char *devpath, struct uevent_class *c)
{
	unsigned ap, ap2, dom;
	const char *p;

	if (!devpath)
		return UEVENT_OBJ_NONE;

	p = after_prefix(devpath, "/devices/ap");
	if (p) {
		if (!*p)
			return UEVENT_OBJ_AP_BUS;
		if (strncmp(p, "/card", 5) != 0 || !parse_hex(p + 5, 2, &ap))
			return UEVENT_OBJ_NONE;
		p += 7;
		if (!*p) {
			c->apqn = (struct apqn){ (uint8_t) ap, 0 };
			return UEVENT_OBJ_CARD;
		}
		if (p[0] != '/' || !parse_hex(p + 1, 2, &ap2) || ap2 != ap || p[3] != '.' ||
		    !parse_hex(p + 4, 4, &dom) || dom >= AP_ID_COUNT || p[8])
			return UEVENT_OBJ_NONE;
		c->apqn = (struct apqn){ (uint8_t) ap, (uint8_t) dom };
		return UEVENT_OBJ_QUEUE;
	}

	p = after_prefix(devpath, "/devices/vfio_ap/matrix");
	if (p) {
		if (!*p)
			return UEVENT_OBJ_MATRIX;
		if (p[0] != '/' || !uuid_valid(p + 1))
			return UEVENT_OBJ_NONE;
		memcpy(c->uuid, p + 1, UEVENT_UUID_LEN + 1);
		return UEVENT_OBJ_MDEV;
	}
	return UEVENT_OBJ_NONE;
}

static void classify_ap_bus(const struct uevent *ev, struct uevent_class *c)
{
	c->reread = UEVENT_REREAD_ALL;
	if (uevent_get(ev, "APMASK"))
		c->reason = "apmask changed";
	else if (uevent_get(ev, "AQMASK"))
		c->reason = "aqmask changed";
	else if (uevent_get(ev, "INITSCAN"))
		c->reason = "first AP bus scan done";
	else if (uevent_get(ev, "BINDINGS")) {
		c->reread = UEVENT_REREAD_HOST;
		c->reason = "all AP queues bound";
	} else {
		c->reread = UEVENT_REREAD_HOST;
		c->reason = "AP bus changed";
	}
}

static void classify_ap_device(const struct uevent *ev, const char *action, struct uevent_class *c)
{
	bool card = c->object == UEVENT_OBJ_CARD;

	c->reread = UEVENT_REREAD_HOST;
	if (streq(action, "add")) {
		c->reread = UEVENT_REREAD_ALL;
		c->reason = card ? "card added" : "queue added";
	} else if (streq(action, "remove")) {
		c->reread = UEVENT_REREAD_ALL;
		c->reason = card ? "card removed" : "queue removed";
	} else if (streq(action, "bind")) {
		if (!card && streq(uevent_get(ev, "DRIVER"), "vfio_ap")) {
			c->reread = UEVENT_REREAD_ALL;
			c->reason = "queue bound to vfio_ap";
		} else {
			c->reason =
			    card ? "card bound to its driver" : "queue bound to a host driver";
		}
	} else if (streq(action, "unbind")) {
		c->reread = card ? UEVENT_REREAD_HOST : UEVENT_REREAD_ALL;
		c->reason = card ? "card unbound" : "queue unbound";
	} else if (uevent_get(ev, "CONFIG")) {
		c->reason = card ? "card configuration changed" : "queue configuration changed";
	} else if (uevent_get(ev, "ONLINE")) {
		c->reason = card ? "card online state changed" : "queue online state changed";
	} else {
		c->reason = card ? "card changed" : "queue changed";
	}
}

static void classify_matrix(const struct uevent *ev, const char *action, struct uevent_class *c)
{
	const char *state = uevent_get(ev, "MDEV_STATE");

	c->reread = UEVENT_REREAD_ALL;
	if (streq(state, "registered"))
		c->reason = "vfio_ap registered its mdev type";
	else if (streq(state, "unregistered"))
		c->reason = "vfio_ap unregistered its mdev type";
	else if (streq(action, "add"))
		c->reason = "vfio_ap matrix device added";
	else if (streq(action, "remove"))
		c->reason = "vfio_ap matrix device removed";
	else
		c->reason = "vfio_ap matrix device changed";
}

static void classify_mdev(const char *action, struct uevent_class *c)
{
	c->reread = UEVENT_REREAD_MDEVS;
	if (streq(action, "add"))
		c->reason = "mdev created";
	else if (streq(action, "remove"))
		c->reason = "mdev removed";
	else if (streq(action, "bind"))
		c->reason = "mdev bound to its driver";
	else if (streq(action, "unbind"))
		c->reason = "mdev unbound";
	else
		c->reason = "mdev changed";
}

void uevent_classify(const struct uevent *ev, struct uevent_class *ret)
{
	const char *action = uevent_get(ev, "ACTION");
	const char *subsystem = uevent_get(ev, "SUBSYSTEM");
	struct uevent_class c = { .reason = "not an AP or vfio_ap event" };
	enum uevent_object object = parse_devpath(uevent_get(ev, "DEVPATH"), &c);

	/* A device of another subsystem under our paths (vfio-dev below an
	 * mdev, say) is none of ours, and its ids must not leak out. */
	c.object = object;
	if (streq(subsystem, "ap")) {
		switch (object) {
		case UEVENT_OBJ_AP_BUS:
			classify_ap_bus(ev, &c);
			break;
		case UEVENT_OBJ_CARD:
		case UEVENT_OBJ_QUEUE:
			classify_ap_device(ev, action, &c);
			break;
		default:
			c = (struct uevent_class){ .reread = UEVENT_REREAD_HOST,
						   .reason = "unknown AP bus device" };
			break;
		}
	} else if (streq(subsystem, "matrix") && object == UEVENT_OBJ_MATRIX) {
		classify_matrix(ev, action, &c);
	} else if (streq(subsystem, "mdev") && object == UEVENT_OBJ_MDEV) {
		classify_mdev(action, &c);
	} else {
		c = (struct uevent_class){ .reason = "not an AP or vfio_ap event" };
	}
	*ret = c;
}

/* ---- merging ---- */

void uevent_summary_init(struct uevent_summary *s)
{
	memset(s, 0, sizeof(*s));
}

static void summary_add_mdev(struct uevent_summary *s, const char *uuid)
{
	for (size_t i = 0; i < s->n_mdevs; i++)
		if (strcmp(s->mdevs[i], uuid) == 0)
			return;
	if (s->n_mdevs == UEVENT_SUMMARY_MDEVS) {
		s->mdevs_overflow = true;
		return;
	}
	memcpy(s->mdevs[s->n_mdevs++], uuid, UEVENT_UUID_LEN + 1);
}

void uevent_summary_add(struct uevent_summary *s, const struct uevent_class *c)
{
	s->events++;
	s->reread |= c->reread;
	switch (c->object) {
	case UEVENT_OBJ_QUEUE:
		apqn_set_add(&s->queues, c->apqn);
		idset_add(&s->cards, c->apqn.ap);
		break;
	case UEVENT_OBJ_CARD:
		idset_add(&s->cards, c->apqn.ap);
		break;
	case UEVENT_OBJ_MATRIX:
		s->vfio_ap = true;
		break;
	case UEVENT_OBJ_MDEV:
		summary_add_mdev(s, c->uuid);
		break;
	default:
		break;
	}
}

/* ---- the netlink monitor ---- */

struct uevent_monitor {
	struct udev *udev;
	struct udev_monitor *mon;
};

struct uevent_monitor *uevent_monitor_free(struct uevent_monitor *m)
{
	if (!m)
		return NULL;
	udev_monitor_unref(m->mon);
	udev_unref(m->udev);
	free(m);
	return NULL;
}

static void uevent_monitor_freep(struct uevent_monitor **m)
{
	uevent_monitor_free(*m);
}

int uevent_monitor_new(const char *sysfs_root, struct uevent_monitor **ret)
{
	static const char *const subsystems[] = { "ap", "matrix", "mdev" };
	_cleanup_(uevent_monitor_freep) struct uevent_monitor *m = NULL;
	int r;

	if (!sysfs_root || !ret)
		return -EINVAL;
	if (strcmp(sysfs_root, "/sys") != 0)
		return -EOPNOTSUPP;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	errno = 0;
	m->udev = udev_new();
	if (!m->udev)
		return errno ? -errno : -ENOMEM;
	errno = 0;
	m->mon = udev_monitor_new_from_netlink(m->udev, "kernel");
	if (!m->mon)
		return errno ? -errno : -EPROTONOSUPPORT;
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++) {
		r = udev_monitor_filter_add_match_subsystem_devtype(m->mon, subsystems[i], NULL);
		if (r < 0)
			return r;
	}
	/* Without CAP_NET_ADMIN the default size stays: overflow is reported. */
	(void) udev_monitor_set_receive_buffer_size(m->mon, UEVENT_RCVBUF);
	r = udev_monitor_enable_receiving(m->mon);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(m);
	return 0;
}

int uevent_monitor_fd(const struct uevent_monitor *m)
{
	return udev_monitor_get_fd(m->mon);
}

static int uevent_from_udev_device(struct udev_device *dev, struct uevent *ret)
{
	static const char *const first[] = { "ACTION", "DEVPATH", "SUBSYSTEM" };
	const char *values[] = { udev_device_get_action(dev), udev_device_get_devpath(dev),
				 udev_device_get_subsystem(dev) };
	struct udev_list_entry *entry;
	struct uevent ev;
	int r;

	/* The three keys come first, as the kernel sends them, whatever
	 * order the properties list keeps. */
	uevent_init(&ev);
	for (size_t i = 0; i < ARRAY_SIZE(first); i++) {
		if (!values[i])
			continue;
		r = uevent_add(&ev, first[i], values[i]);
		if (r < 0)
			return r;
	}
	udev_list_entry_foreach(entry, udev_device_get_properties_list_entry(dev))
	{
		const char *name = udev_list_entry_get_name(entry);
		const char *value = udev_list_entry_get_value(entry);

		if (!name || uevent_get(&ev, name))
			continue;
		r = uevent_add(&ev, name, value ? value : "");
		if (r < 0)
			return r;
	}
	*ret = ev;
	return 0;
}

static void summary_mark_lost(struct uevent_summary *s)
{
	s->lost = true;
	s->reread |= UEVENT_REREAD_ALL;
}

int uevent_monitor_receive(struct uevent_monitor *m, struct uevent_summary *summary)
{
	int n = 0;

	if (!m || !summary)
		return -EINVAL;

	for (;;) {
		struct udev_device *dev;
		struct uevent_class c;
		struct uevent ev;
		int r;

		errno = 0;
		dev = udev_monitor_receive_device(m->mon);
		if (!dev) {
			int e = errno;

			/* Drained; older libudev also returns NULL, errno
			 * untouched, for a message its filter dropped: poll()
			 * reports whatever is left. */
			if (e == 0 || e == EAGAIN || e == EWOULDBLOCK)
				return n;
			if (e == EINTR)
				continue;
			summary_mark_lost(summary);
			if (e == ENOBUFS)
				continue;
			return -e;
		}
		r = uevent_from_udev_device(dev, &ev);
		udev_device_unref(dev);
		n++;
		if (r < 0) {
			summary->events++;
			summary_mark_lost(summary);
			continue;
		}
		uevent_classify(&ev, &c);
		uevent_summary_add(summary, &c);
	}
}
