/* SPDX-License-Identifier: MIT */
/*
 * The test hooks: what no kernel offers but a test needs, as C functions
 * and as files in the control directory SIM_CONTROL_DIR ("simctl/") beside
 * the sysfs tree of the view. A shell drives them once the view is mounted:
 *
 *   simctl/attach          (write) a UUID: a fake KVM guest opens that mdev,
 *                          as QEMU would. ENOENT: no such mdev; EBUSY: it
 *                          already has a guest (or is being removed).
 *   simctl/detach          (write) a UUID: the guest lets the mdev go; a
 *                          `remove` waiting for it completes. EINVAL: no
 *                          guest attached.
 *   simctl/adapter_remove  (write) an adapter id (kstrtoul: 5, 0x05): the
 *                          adapter leaves the host configuration (QCI APM),
 *                          its card and queues are removed as by an AP bus
 *                          scan. ENODEV: no such card.
 *   simctl/adapter_add     (write) "ID GEN MODE", e.g. "7 5 C": a card of
 *                          Crypto Express generation GEN (4..8) in mode A
 *                          (accelerator), C (CCA) or P (EP11) enters the
 *                          configuration, configured and online, with a
 *                          queue per usage domain. EINVAL: bad fields or
 *                          ID above ap_max_adapter_id; EEXIST: card present.
 *   simctl/checkstop       (write) "ID 0|1": the card and its queues leave
 *                          or enter the checkstopped state (`chkstop`).
 *   simctl/fail_next_write (write) "PATH ERRNO": the next write to PATH (a
 *                          sysfs path as given to the view, links followed)
 *                          fails with ERRNO and changes nothing. ERRNO is a
 *                          number or a name: EIO, EBUSY, EINVAL, ENODEV,
 *                          EPERM, ENOSPC, EAGAIN, EADDRINUSE, EADDRNOTAVAIL,
 *                          ERANGE, EEXIST, EUSERS, ENOENT, EACCES.
 *   simctl/kernel          (read) the simulated kernel version, "6.10\n".
 *   simctl/uevents         (read) the last 256 uevents, oldest first, one a
 *                          line: "SEQNUM ACTION DEVPATH SUBSYSTEM KEY=VALUE
 *                          ..."; a newline inside a value shows as "\n".
 *   simctl/dmesg           (read) the last 128 kernel log lines (the
 *                          EADDRINUSE and in-use messages, "blocked until
 *                          released", cut show() output), oldest first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/kparse.h"
#include "kmod/sim/sim_private.h"

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{ "EIO", EIO },	      { "EBUSY", EBUSY },	    { "EINVAL", EINVAL },
	{ "ENODEV", ENODEV }, { "EPERM", EPERM },	    { "ENOSPC", ENOSPC },
	{ "EAGAIN", EAGAIN }, { "EADDRINUSE", EADDRINUSE }, { "EADDRNOTAVAIL", EADDRNOTAVAIL },
	{ "ERANGE", ERANGE }, { "EEXIST", EEXIST },	    { "EUSERS", EUSERS },
	{ "ENOENT", ENOENT }, { "EACCES", EACCES },
};

/* ---- the hooks, lock held ---- */

static int adapter_remove(struct sim *sim, unsigned apid)
{
	struct idset old_apm = sim->qci_apm;

	if (!sim_card_get(sim, apid))
		return -ENODEV;
	idset_del(&sim->qci_apm, apid);
	sim_vfio_config_changed(sim, &old_apm, &sim->qci_aqm, &sim->qci_adm);
	sim_apbus_remove_card(sim, apid);
	sim_vfio_scan_complete(sim);
	sim_apbus_scan(sim);
	return 0;
}

static int adapter_add(struct sim *sim, const struct sim_card_config *card)
{
	struct idset old_apm = sim->qci_apm;
	int r;

	if (card->id > sim->max_ap || card->gen < 4 || card->gen > 8 ||
	    (card->mode != 'A' && card->mode != 'C' && card->mode != 'P'))
		return -EINVAL;
	if (sim_card_get(sim, card->id))
		return -EEXIST;
	idset_add(&sim->qci_apm, card->id);
	sim_vfio_config_changed(sim, &old_apm, &sim->qci_aqm, &sim->qci_adm);
	r = sim_apbus_add_card(sim, card, true);
	if (r < 0) {
		sim->qci_apm = old_apm;
		return r;
	}
	sim_vfio_scan_complete(sim);
	sim_apbus_scan(sim);
	return 0;
}

static int card_checkstop(struct sim *sim, unsigned apid, bool on)
{
	struct sim_card *card = sim_card_get(sim, apid);

	if (!card)
		return -ENODEV;
	card->chkstop = on;
	return 0;
}

static int parse_errno(const char *s, int *ret)
{
	unsigned long v;

	if (kparse_ulong(s, &v) == 0) {
		if (v == 0 || v > 4095)
			return -EINVAL;
		*ret = (int) v;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
		size_t n = strlen(errno_names[i].name);

		if (!strncmp(s, errno_names[i].name, n) && (s[n] == '\0' || s[n] == '\n')) {
			*ret = errno_names[i].err;
			return 0;
		}
	}
	return -EINVAL;
}

static int fail_next_write(struct sim *sim, const char *path, int err)
{
	char canon[SIM_PATH_MAX];

	if (err <= 0)
		return -EINVAL;
	/* A path that does not resolve (yet) is kept as written. */
	if (sim_view_canonical(sim, path, canon, sizeof(canon)) < 0)
		snprintf(canon, sizeof(canon), "%s", path);
	for (size_t i = 0; i < SIM_FAIL_SLOTS; i++) {
		struct sim_fail *f = &sim->fails[i];

		if (f->err == 0 || !strcmp(f->path, canon)) {
			snprintf(f->path, sizeof(f->path), "%s", canon);
			f->err = err;
			return 0;
		}
	}
	return -ENOSPC;
}

/* ---- the C entry points ---- */

int sim_kvm_attach(struct sim *sim, const char *uuid)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return sim_vfio_attach(sim, uuid);
}

int sim_kvm_detach(struct sim *sim, const char *uuid)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return sim_vfio_detach(sim, uuid);
}

int sim_adapter_remove(struct sim *sim, unsigned apid)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return adapter_remove(sim, apid);
}

int sim_adapter_add(struct sim *sim, const struct sim_card_config *card)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return adapter_add(sim, card);
}

int sim_card_checkstop(struct sim *sim, unsigned apid, bool on)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return card_checkstop(sim, apid, on);
}

int sim_fail_next_write(struct sim *sim, const char *path, int err)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	return fail_next_write(sim, path, err);
}

int sim_set_max_instances(struct sim *sim, unsigned long n)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&sim->lock);

	sim->max_instances = n;
	return 0;
}

/* ---- the control files ---- */

/* The written text without its one trailing newline. */
static void chomp_copy(const char *s, char *buf, size_t size)
{
	size_t len;

	snprintf(buf, size, "%s", s);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
}

static ssize_t attach_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	char uuid[64];
	int r;

	chomp_copy(s, uuid, sizeof(uuid));
	r = sim_vfio_attach(sim, uuid);
	return r < 0 ? r : (ssize_t) len;
}

static ssize_t detach_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	char uuid[64];
	int r;

	chomp_copy(s, uuid, sizeof(uuid));
	r = sim_vfio_detach(sim, uuid);
	return r < 0 ? r : (ssize_t) len;
}

static ssize_t adapter_remove_store(struct sim *sim, const struct sim_obj *o, const char *s,
				    size_t len)
{
	unsigned long id;
	int r = kparse_ulong(s, &id);

	if (r < 0)
		return r;
	if (id >= AP_ID_COUNT)
		return -ENODEV;
	r = adapter_remove(sim, (unsigned) id);
	return r < 0 ? r : (ssize_t) len;
}

static ssize_t adapter_add_store(struct sim *sim, const struct sim_obj *o, const char *s,
				 size_t len)
{
	struct sim_card_config card = { .config = true, .online = true };
	char mode[2], tail[2];
	int id, r;

	if (sscanf(s, "%i %u %1s %1s", &id, &card.gen, mode, tail) != 3 || id < 0)
		return -EINVAL;
	card.id = (unsigned) id;
	card.mode = mode[0];
	r = adapter_add(sim, &card);
	return r < 0 ? r : (ssize_t) len;
}

static ssize_t checkstop_store(struct sim *sim, const struct sim_obj *o, const char *s, size_t len)
{
	unsigned on;
	char tail[2];
	int id, r;

	if (sscanf(s, "%i %u %1s", &id, &on, tail) != 2 || id < 0 || on > 1)
		return -EINVAL;
	r = card_checkstop(sim, (unsigned) id, on);
	return r < 0 ? r : (ssize_t) len;
}

static ssize_t fail_next_write_store(struct sim *sim, const struct sim_obj *o, const char *s,
				     size_t len)
{
	char path[SIM_PATH_MAX], name[32], tail[2];
	int err, r;

	if (sscanf(s, "%255s %31s %1s", path, name, tail) != 2)
		return -EINVAL;
	if (parse_errno(name, &err) < 0)
		return -EINVAL;
	r = fail_next_write(sim, path[0] == '/' ? path + 1 : path, err);
	return r < 0 ? r : (ssize_t) len;
}

static int kernel_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	page_printf(pg, "%u.%u\n", sim->kernel_major, sim->kernel_minor);
	return 0;
}

static int uevents_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	size_t first = sim->n_uevents > SIM_UEVENT_RING ? sim->n_uevents - SIM_UEVENT_RING : 0;

	for (size_t i = first; i < sim->n_uevents; i++) {
		const struct sim_uevent *ev = &sim->uevents[i % SIM_UEVENT_RING];
		const char *seq = strstr(ev->env, "SEQNUM=");
		int seq_len = seq ? (int) strcspn(seq + 7, "\n") : 0;

		page_printf(pg, "%.*s %s %s %s", seq_len, seq ? seq + 7 : "", ev->action,
			    ev->devpath, ev->subsystem);
		for (const char *p = ev->env; *p;) {
			size_t n = strcspn(p, "\n");

			/* An empty line is the "\n" a value itself ends with. */
			if (n == 0)
				page_printf(pg, "\\n");
			else if (strncmp(p, "SEQNUM=", 7))
				page_printf(pg, " %.*s", (int) n, p);
			p += n + (p[n] == '\n');
		}
		page_printf(pg, "\n");
	}
	return 0;
}

static int dmesg_show(struct sim *sim, const struct sim_obj *o, struct sim_page *pg)
{
	size_t first = sim->n_dmesg > SIM_DMESG_RING ? sim->n_dmesg - SIM_DMESG_RING : 0;

	for (size_t i = first; i < sim->n_dmesg; i++)
		page_printf(pg, "%s\n", sim->dmesg[i % SIM_DMESG_RING]);
	return 0;
}

const struct sim_attr sim_simctl_attrs[] = {
	{ "adapter_add", 0200, NULL, NULL, adapter_add_store },
	{ "adapter_remove", 0200, NULL, NULL, adapter_remove_store },
	{ "attach", 0200, NULL, NULL, attach_store },
	{ "checkstop", 0200, NULL, NULL, checkstop_store },
	{ "detach", 0200, NULL, NULL, detach_store },
	{ "dmesg", 0444, NULL, dmesg_show, NULL },
	{ "fail_next_write", 0200, NULL, NULL, fail_next_write_store },
	{ "kernel", 0444, NULL, kernel_show, NULL },
	{ "uevents", 0444, NULL, uevents_show, NULL },
	{ NULL, 0, NULL, NULL, NULL },
};
