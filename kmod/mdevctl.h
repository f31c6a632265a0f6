/* SPDX-License-Identifier: MIT */
/*
 * mdevctl's persistent definitions of vfio_ap matrix devices: the files
 * DIR/matrix/<uuid> (DIR is /etc/mdevctl.d on a host) in mdevctl's JSON
 * format,
 *
 *   { "mdev_type": "vfio_ap-passthrough", "start": "auto",
 *     "attrs": [ { "assign_adapter": "5" }, { "assign_domain": "0x47" }, ... ] }
 *
 * zapfs keeps its guests' definitions there (--mdevctl), so that mdevctl and
 * libvirt see them, and imports the definitions it finds at start.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/idset.h"
#include "core/port.h"

/* One vfio_ap-passthrough definition. */
struct mdevctl_def {
	char uuid[UUID_STR_LEN + 1]; /* lowercase */
	struct idset adapters, domains, control_domains;
	bool autostart; /* "start": "auto" */
};

/*
 * Parses one definition file of len bytes. Returns 1 for a
 * vfio_ap-passthrough definition (ret filled, its uuid left empty), 0 for
 * another mdev type, -EINVAL for text that is not such a definition, with
 * what is wrong in err (err_size bytes; err may be NULL): bad JSON, an
 * attribute other than assign_adapter/domain/control_domain, an id above 255.
 */
int mdevctl_def_parse(const char *text, size_t len, struct mdevctl_def *ret, char *err,
		      size_t err_size);

/* Receives a definition file that could not be read (file: relative to DIR). */
typedef void (*mdevctl_problem_fn)(void *ctx, const char *file, const char *message);

/*
 * Reads every vfio_ap-passthrough definition in DIR/matrix into a malloc'ed
 * array sorted by UUID (NULL and 0 when there are none or DIR/matrix does
 * not exist). Files whose name is not a UUID are ignored; unreadable or bad
 * ones are reported through on_problem (may be NULL) and skipped. 0 or
 * -errno when DIR/matrix cannot be listed.
 */
int mdevctl_load(const char *dir, mdevctl_problem_fn on_problem, void *ctx,
		 struct mdevctl_def **ret_defs, size_t *ret_n);

/*
 * Replaces DIR/matrix/<uuid> with text atomically (temp file, fsync,
 * rename), creating DIR/matrix when missing. -EINVAL for a bad UUID.
 */
int mdevctl_save(const char *dir, const char *uuid, const char *text, size_t len);

/* Removes DIR/matrix/<uuid>; one that does not exist is fine. -EINVAL for a bad UUID. */
int mdevctl_remove(const char *dir, const char *uuid);
