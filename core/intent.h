/* SPDX-License-Identifier: MIT */
/*
 * An intent: one thing the administrator asked for in the tree (DESIGN §1,
 * the operations table), before it is checked or turned into kernel writes.
 * An intent borrows its strings; it owns nothing.
 */
#pragma once

#include "core/idset.h"
#include "core/model.h"

enum intent_type {
	INTENT_GUEST_CREATE, /* mkdir guests/NAME (uuid: optional, else from the name or fresh) */
	INTENT_GUEST_REMOVE, /* rmdir guests/NAME */
	INTENT_GUEST_RENAME, /* mv guests/NAME guests/NEW_NAME */
	INTENT_ASSIGN,	     /* touch guests/NAME/{adapters,domains,control_domains}/ID */
	INTENT_UNASSIGN,     /* rm guests/NAME/{adapters,domains,control_domains}/ID */
	INTENT_QUEUE_ADD,    /* touch/ln guests/NAME/queues/APQN */
	INTENT_QUEUE_REMOVE, /* rm guests/NAME/queues/APQN */
	INTENT_POOL_MOVE,    /* mv pools/{host,vfio}/APQN pools/{vfio,host}/ */
	INTENT_MASK_EDIT,    /* echo TEXT > pools/host/{adapters,domains} */
	INTENT_RESERVE,	     /* ln -s ../guests/NAME reservations/APQN */
	INTENT_RELEASE,	     /* rm reservations/APQN */
};

enum matrix_part {
	PART_ADAPTER,
	PART_DOMAIN,
	PART_CONTROL_DOMAIN,
};

enum host_mask {
	MASK_AP, /* apmask: adapters */
	MASK_AQ, /* aqmask: domains */
};

struct intent {
	enum intent_type type;
	const char *guest;     /* the guest acted on (create: the new name) */
	const char *new_name;  /* rename */
	const char *uuid;      /* create: the UUID to use, or NULL */
	enum matrix_part part; /* assign, unassign */
	unsigned id;	       /* assign, unassign */
	struct apqn apqn;      /* queue add/remove, pool move, reserve, release */
	enum apqn_pool to;     /* pool move: the destination */
	enum host_mask mask;   /* mask edit */
	const char *text;      /* mask edit: "0-4,7-255" or "+5,-0x47" */
};
