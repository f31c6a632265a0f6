/* SPDX-License-Identifier: MIT */
#include "fs/host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "fs/watch.h"
#include "kmod/aplock.h"
#include "kmod/modload.h"
#include "kmod/sysfs.h"

void host_note(struct host_notes *notes, int err, const char *fmt, ...)
{
	char text[HOST_NOTE_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "zapfs: %s\n", text);
	if (notes->n == HOST_NOTES_MAX)
		return;
	notes->err[notes->n] = err;
	memcpy(notes->text[notes->n++], text, sizeof(text));
}

int host_port_open(struct host_port *hp, struct sysfs *fs, bool simulated, const char *lock_dir,
		   unsigned timeout_s, struct host_notes *notes, struct kernel_port *ret)
{
	const char *dir = lock_dir ? lock_dir : APLOCK_DEFAULT_DIR;
	int r;

	*hp = (struct host_port){ 0 };
	if (simulated && !lock_dir)
		return kport_new(fs, ret);

	r = aplock_open(dir, &hp->lock);
	if (r < 0 && lock_dir) {
		fprintf(stderr, "zapfs: --lock-dir %s: %s\n", lock_dir, strerror(-r));
		return r;
	}
	if (r < 0) {
		host_note(notes, -r,
			  "%s/%s cannot be used (%s): zapfs changes the AP configuration without "
			  "it, so chzdev or mdevctl may interleave with it",
			  dir, APLOCK_NAME, strerror(-r));
		return kport_new(fs, ret);
	}
	r = kport_new_locked(&hp->locked, fs, hp->lock, (int) timeout_s * 1000, ret);
	if (r < 0)
		host_port_done(hp);
	return r;
}

void host_port_done(struct host_port *hp)
{
	hp->lock = aplock_free(hp->lock);
}

int host_check_kernel(struct sysfs *fs, struct host_notes *notes)
{
	char msg[MODLOAD_MSG_MAX];
	int r = kport_ap_bus_present(fs);

	if (r <= 0) {
		fprintf(stderr,
			"zapfs: %s shows no AP bus (%s): this host has no crypto adapters, or "
			"is no IBM Z (zapfs --simulate HOSTFILE runs on a simulated LPAR)\n",
			sysfs_root(fs), r < 0 ? strerror(-r) : "bus/ap is missing");
		return r < 0 ? r : -ENODEV;
	}
	r = modload_vfio_ap(fs, NULL, msg, sizeof(msg));
	if (r == 1)
		host_note(notes, 0, "vfio_ap was not loaded: zapfs loaded it");
	else if (r < 0)
		host_note(notes, -r, "%s; until it is loaded, guests cannot be made", msg);
	return 0;
}

void host_listen_kernel(struct watch *w, const char *sysfs_root, struct host_notes *notes)
{
	int r = watch_listen_kernel(w, sysfs_root);

	if (r < 0 && r != -EOPNOTSUPP)
		host_note(notes, -r,
			  "kernel uevents cannot be received (%s): changes show with the periodic "
			  "rescan only",
			  strerror(-r));
}

void host_notes_log(const struct host_notes *notes, struct engine *e)
{
	char line[HOST_NOTE_TEXT_MAX + 16];

	for (size_t i = 0; i < notes->n; i++) {
		snprintf(line, sizeof(line), "start-up: %s", notes->text[i]);
		engine_log_append(e, notes->err[i], line);
	}
}

int host_parse_seconds(const char *text, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long n;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*ret = (unsigned) n;
	return 0;
}
