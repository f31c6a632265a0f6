/* SPDX-License-Identifier: MIT */
/*
 * The contents of every generated file of the zapfs tree (DESIGN §1).
 *
 * Each renderer appends one whole file to a strbuf, from a model the caller
 * holds read-locked. Renderers return 0, or -ENOMEM when the buffer cannot
 * grow, or -ENOENT when the card or queue named does not exist on the host
 * (and render_guest_qemu() -EINVAL without a matrix_dir); they fail in no
 * other way. On failure the buffer may hold part of the text.
 */
#pragma once

#include <stddef.h>

#include "core/idset.h"
#include "core/intent.h"
#include "core/model.h"
#include "core/strbuf.h"

/* ---- top level ---- */

/* README: what the tree is and how to use it (static text). */
int render_readme(struct strbuf *out);

/*
 * status: the host summary (kernel capabilities, max ids, masks as ranges),
 * an lszcrypt-like table (CARD.DOMAIN TYPE MODE STATUS POOL OWNER RESERVED;
 * each card, then its queues), and the warnings, one per line.
 */
int render_status(const struct model *m, struct strbuf *out);

/* status.json: the same as status, as one JSON object for scripts. */
int render_status_json(const struct model *m, struct strbuf *out);

/* ---- cards/XX/<attr> ---- */

enum card_attr {
	CARD_ATTR_TYPE,	      /* "CEX5C"; "-" when no zcrypt driver is bound */
	CARD_ATTR_MODE,	      /* "CCA-Coproc" | "Accelerator" | "EP11-Coproc" | "Unknown" */
	CARD_ATTR_HWTYPE,     /* decimal */
	CARD_ATTR_RAW_HWTYPE, /* decimal */
	CARD_ATTR_ONLINE,     /* 0 | 1 */
	CARD_ATTR_CONFIG,     /* 0 | 1 */
	CARD_ATTR_CHKSTOP,    /* 0 | 1 */
	CARD_ATTR_DEPTH,      /* decimal, the kernel's value */
	CARD_ATTR_FUNCTIONS,  /* "0x%08X", as the kernel's ap_functions */
	_CARD_ATTR_MAX,
};

/* The file name of a card attribute ("type", "raw_hwtype", ...); NULL when out of range. */
const char *card_attr_name(enum card_attr attr);

/* The attribute whose file name is name. 0, or -ENOENT. */
int card_attr_from_name(const char *name, enum card_attr *ret);

/* cards/XX/<attr>: one value and "\n". -ENOENT when the host has no card XX. */
int render_card_attr(const struct model *m, unsigned card, enum card_attr attr, struct strbuf *out);

/* The card's mode as lszcrypt names it ("CCA-Coproc", ...; "Unknown"). */
const char *render_card_mode(enum card_mode mode);

/* ---- queues/XX.YYYY ---- */

/*
 * queues/XX.YYYY: "key: value" lines: type, mode, pool, driver, owner,
 * reservation, online, config, state. -ENOENT when the queue does not exist.
 */
int render_queue(const struct model *m, struct apqn q, struct strbuf *out);

/* ---- pools/host/{adapters,domains} ---- */

/* The apmask (MASK_AP) or aqmask (MASK_AQ) as decimal ranges: "0-4,7-255\n"; empty: "\n". */
int render_host_mask(const struct model *m, enum host_mask mask, struct strbuf *out);

/* ---- guests/NAME/<file> ---- */

enum guest_file {
	GUEST_FILE_UUID,	 /* "uuid" */
	GUEST_FILE_STATE,	 /* "state": active | running | missing */
	GUEST_FILE_MATRIX,	 /* "matrix": the kernel's matrix, byte for byte */
	GUEST_FILE_GUEST_MATRIX, /* "guest_matrix": likewise */
	GUEST_FILE_QEMU,	 /* "qemu": the QEMU arguments */
	GUEST_FILE_LIBVIRT_XML,	 /* "libvirt.xml": a <hostdev> element */
	GUEST_FILE_MDEVCTL_JSON, /* "mdevctl.json": the mdevctl definition */
	GUEST_FILE_NODEDEV_XML,	 /* "nodedev.xml": the libvirt node device (virsh nodedev-define) */
	GUEST_FILE_LSZCRYPT,	 /* "lszcrypt": what lszcrypt inside the guest lists */
	_GUEST_FILE_MAX,
};

/* The file name of a guest file ("uuid", "libvirt.xml", ...); NULL when out of range. */
const char *guest_file_name(enum guest_file file);

/* The guest file whose name is name. 0, or -ENOENT. */
int guest_file_from_name(const char *name, enum guest_file *ret);

/*
 * Renders one guest file. matrix_dir is the absolute directory of the
 * vfio_ap matrix device on this host ("/sys/devices/vfio_ap/matrix" on a
 * real host; kmod knows it); only GUEST_FILE_QEMU uses it.
 */
int render_guest_file(const struct model *m, const struct guest *g, enum guest_file file,
		      const char *matrix_dir, struct strbuf *out);

/* uuid: the mdev's UUID and "\n". */
int render_guest_uuid(const struct guest *g, struct strbuf *out);

/* state: "active\n", "running\n" or "missing\n". */
int render_guest_state(const struct guest *g, struct strbuf *out);

/* matrix: the kernel's `matrix` attribute for g (matrix_format with the host's max ids). */
int render_guest_matrix(const struct model *m, const struct guest *g, struct strbuf *out);

/* guest_matrix: the kernel's `guest_matrix` attribute for g. */
int render_guest_guest_matrix(const struct model *m, const struct guest *g, struct strbuf *out);

/*
 * qemu: "-cpu host,ap=on,apqci=on,apft=on -device vfio-ap,sysfsdev=MATRIX_DIR/UUID\n".
 * Trailing slashes of matrix_dir are dropped; NULL is -EINVAL.
 */
int render_guest_qemu(const struct guest *g, const char *matrix_dir, struct strbuf *out);

/*
 * libvirt.xml: <hostdev mode='subsystem' type='mdev' model='vfio-ap'> with
 * the mdev's UUID, for a domain's <devices>.
 */
int render_guest_libvirt_xml(const struct guest *g, struct strbuf *out);

/*
 * mdevctl.json: {"mdev_type": "vfio_ap-passthrough", "start": "auto", "attrs": [...]}
 * with assign_adapter, then assign_domain, then assign_control_domain
 * entries (decimal), laid out byte for byte as mdevctl 1.2 writes its
 * definition files (two-space indents, no newline at the end).
 */
int render_guest_mdevctl_json(const struct guest *g, struct strbuf *out);

/*
 * nodedev.xml: the libvirt node device of the mdev (<device> with parent
 * ap_matrix and an mdev capability: type, UUID, and the matrix as attr
 * elements in mdevctl.json's order), for `virsh nodedev-define`.
 */
int render_guest_nodedev_xml(const struct guest *g, struct strbuf *out);

/*
 * lszcrypt: what lszcrypt inside the guest lists (CARD.DOMAIN TYPE MODE):
 * the guest_matrix's cards, each followed by its queues; type and mode from
 * the host's card.
 */
int render_guest_lszcrypt(const struct model *m, const struct guest *g, struct strbuf *out);
