/* SPDX-License-Identifier: MIT */
#include "core/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"

static int plan_add(struct plan *p, const struct kop *op, const struct kop *undo, size_t n_undo)
{
	_cleanup_free_ struct kop *copy = NULL;
	struct plan_step *steps;

	if (n_undo) {
		copy = malloc(n_undo * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, undo, n_undo * sizeof(*copy));
	}
	steps = realloc(p->steps, (p->n_steps + 1) * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	p->steps = steps;
	steps[p->n_steps++] =
	    (struct plan_step){ .op = *op, .undo = TAKE_PTR(copy), .n_undo = n_undo };
	return 0;
}

static struct kop kop_mdev(enum kop_type type, const char *uuid)
{
	struct kop op = { .type = type };

	snprintf(op.uuid, sizeof(op.uuid), "%s", uuid);
	return op;
}

static struct kop kop_assign(enum kop_type type, const char *uuid, unsigned id)
{
	struct kop op = kop_mdev(type, uuid);

	op.id = id;
	return op;
}

static struct kop kop_ap_config(const char *uuid, const struct guest *matrix)
{
	struct kop op = kop_mdev(KOP_AP_CONFIG, uuid);

	op.apm = matrix->adapters;
	op.aqm = matrix->domains;
	op.adm = matrix->control_domains;
	return op;
}

/* One matrix part's assign/unassign ops, both ways. */
struct part_ops {
	enum kop_type assign, unassign;
};

static const struct part_ops part_ops[] = {
	{ KOP_ASSIGN_ADAPTER, KOP_UNASSIGN_ADAPTER },
	{ KOP_ASSIGN_DOMAIN, KOP_UNASSIGN_DOMAIN },
	{ KOP_ASSIGN_CONTROL_DOMAIN, KOP_UNASSIGN_CONTROL_DOMAIN },
};

static const struct idset *matrix_part(const struct guest *g, size_t part)
{
	return part == 0 ? &g->adapters : part == 1 ? &g->domains : &g->control_domains;
}

static unsigned matrix_changes(const struct guest *from, const struct guest *to)
{
	unsigned n = 0;

	for (size_t part = 0; part < ARRAY_SIZE(part_ops); part++) {
		struct idset a = idset_minus(matrix_part(from, part), matrix_part(to, part));
		struct idset b = idset_minus(matrix_part(to, part), matrix_part(from, part));

		n += idset_count(&a) + idset_count(&b);
	}
	return n;
}

/*
 * The writes that turn the matrix of from into that of to, on the mdev uuid.
 * Unassigning first keeps every intermediate matrix within the union of the
 * two, and assigning adapters before domains matches what the kernel
 * re-validates at each step.
 */
static int plan_matrix(struct plan *p, const struct host *h, const char *uuid,
		       const struct guest *from, const struct guest *to)
{
	unsigned n = matrix_changes(from, to);
	int err;

	if (n == 0)
		return 0;
	if (n > 1 && h->caps.ap_config) {
		struct kop op = kop_ap_config(uuid, to), undo = kop_ap_config(uuid, from);

		return plan_add(p, &op, &undo, 1);
	}
	for (size_t part = ARRAY_SIZE(part_ops); part-- > 0;) {
		struct idset gone = idset_minus(matrix_part(from, part), matrix_part(to, part));

		IDSET_FOREACH (id, &gone) {
			struct kop op = kop_assign(part_ops[part].unassign, uuid, (unsigned) id);
			struct kop undo = kop_assign(part_ops[part].assign, uuid, (unsigned) id);

			err = plan_add(p, &op, &undo, 1);
			if (err < 0)
				return err;
		}
	}
	for (size_t part = 0; part < ARRAY_SIZE(part_ops); part++) {
		struct idset added = idset_minus(matrix_part(to, part), matrix_part(from, part));

		IDSET_FOREACH (id, &added) {
			struct kop op = kop_assign(part_ops[part].assign, uuid, (unsigned) id);
			struct kop undo = kop_assign(part_ops[part].unassign, uuid, (unsigned) id);

			err = plan_add(p, &op, &undo, 1);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* Removing an mdev is undone by creating it again with its whole matrix. */
static int plan_guest_remove(struct plan *p, const struct host *h, const struct guest *g)
{
	struct plan restore = { 0 };
	struct guest empty = { 0 };
	_cleanup_free_ struct kop *undo = NULL;
	struct kop op = kop_mdev(KOP_MDEV_REMOVE, g->uuid);
	size_t n = 0;
	int err;

	if (g->state == GUEST_MISSING)
		return 0;
	err = plan_matrix(&restore, h, g->uuid, &empty, g);
	if (err < 0)
		goto out;
	undo = calloc(restore.n_steps + 1, sizeof(*undo));
	if (!undo) {
		err = -ENOMEM;
		goto out;
	}
	undo[n++] = kop_mdev(KOP_MDEV_CREATE, g->uuid);
	for (size_t i = 0; i < restore.n_steps; i++)
		undo[n++] = restore.steps[i].op;
	err = plan_add(p, &op, undo, n);
out:
	plan_done(&restore);
	return err;
}

static int plan_mask(struct plan *p, enum kop_type type, const struct idset *from,
		     const struct idset *to)
{
	struct kop op = { .type = type }, undo = { .type = type };

	if (idset_equal(from, to))
		return 0;
	op.set = undo.clear = idset_minus(to, from);
	op.clear = undo.set = idset_minus(from, to);
	return plan_add(p, &op, &undo, 1);
}

int plan_build(const struct model *m, const struct intent *intent, const struct verdict *v,
	       struct plan *ret)
{
	const struct host *h = model_host(m);
	const struct guest *g = NULL;
	struct plan p = { 0 };
	int err = 0;

	if (v->err)
		return -EINVAL;
	*ret = p;
	if (v->noop)
		return 0;

	switch (intent->type) {
	case INTENT_GUEST_CREATE: {
		struct kop op = kop_mdev(KOP_MDEV_CREATE, v->target.uuid);
		struct kop undo = kop_mdev(KOP_MDEV_REMOVE, v->target.uuid);

		err = plan_add(&p, &op, &undo, 1);
		break;
	}
	case INTENT_GUEST_REMOVE:
		g = model_guest_by_name(m, intent->guest);
		err = g ? plan_guest_remove(&p, h, g) : -EINVAL;
		break;
	case INTENT_ASSIGN:
	case INTENT_UNASSIGN:
	case INTENT_QUEUE_ADD:
	case INTENT_QUEUE_REMOVE:
		g = model_guest_by_name(m, intent->guest);
		err = g ? plan_matrix(&p, h, g->uuid, g, &v->target) : -EINVAL;
		break;
	case INTENT_POOL_MOVE:
	case INTENT_MASK_EDIT:
		err = plan_mask(&p, KOP_APMASK_EDIT, &h->apmask, &v->apmask);
		if (err >= 0)
			err = plan_mask(&p, KOP_AQMASK_EDIT, &h->aqmask, &v->aqmask);
		break;
	case INTENT_GUEST_RENAME:
	case INTENT_RESERVE:
	case INTENT_RELEASE:
		break;
	}
	if (err < 0) {
		plan_done(&p);
		return err;
	}
	*ret = p;
	return 0;
}

void plan_done(struct plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		free(p->steps[i].undo);
	free(p->steps);
	*p = (struct plan){ 0 };
}

/* "+5-6,+9" or "-7": ranges with a sign, as the kernel's relative mask syntax. */
static size_t signed_ranges(const struct idset *s, char sign, char *buf, size_t size)
{
	char ranges[IDSET_RANGES_SIZE];
	size_t len = 0;

	idset_format_ranges(s, ranges, sizeof(ranges));
	for (const char *r = ranges; *r; r++) {
		if (r == ranges || r[-1] == ',') {
			if (len + 1 < size)
				buf[len] = sign;
			len++;
		}
		if (len + 1 < size)
			buf[len] = *r;
		len++;
	}
	if (size)
		buf[len < size ? len : size - 1] = '\0';
	return len;
}

const char *kop_name(enum kop_type type)
{
	static const char *const names[_KOP_TYPE_MAX] = {
		[KOP_MDEV_CREATE] = "create",
		[KOP_MDEV_REMOVE] = "remove",
		[KOP_ASSIGN_ADAPTER] = "assign_adapter",
		[KOP_UNASSIGN_ADAPTER] = "unassign_adapter",
		[KOP_ASSIGN_DOMAIN] = "assign_domain",
		[KOP_UNASSIGN_DOMAIN] = "unassign_domain",
		[KOP_ASSIGN_CONTROL_DOMAIN] = "assign_control_domain",
		[KOP_UNASSIGN_CONTROL_DOMAIN] = "unassign_control_domain",
		[KOP_AP_CONFIG] = "ap_config",
		[KOP_APMASK_EDIT] = "apmask",
		[KOP_AQMASK_EDIT] = "aqmask",
	};

	return (unsigned) type < _KOP_TYPE_MAX ? names[type] : "?";
}

bool kop_is_id_write(enum kop_type type)
{
	switch (type) {
	case KOP_ASSIGN_ADAPTER:
	case KOP_UNASSIGN_ADAPTER:
	case KOP_ASSIGN_DOMAIN:
	case KOP_UNASSIGN_DOMAIN:
	case KOP_ASSIGN_CONTROL_DOMAIN:
	case KOP_UNASSIGN_CONTROL_DOMAIN:
		return true;
	default:
		return false;
	}
}

int kop_describe(const struct kop *op, char *buf, size_t size)
{
	char a[IDSET_RANGES_SIZE], b[IDSET_RANGES_SIZE], c[IDSET_RANGES_SIZE];
	int n = -EINVAL;

	if (kop_is_id_write(op->type)) {
		n = snprintf(buf, size, "%s 0x%x %s %s", kop_name(op->type), op->id,
			     op->type == KOP_ASSIGN_ADAPTER || op->type == KOP_ASSIGN_DOMAIN ||
				     op->type == KOP_ASSIGN_CONTROL_DOMAIN
				 ? "to"
				 : "from",
			     op->uuid);
		return n < 0 ? -EINVAL : n;
	}
	switch (op->type) {
	case KOP_MDEV_CREATE:
		n = snprintf(buf, size, "create mdev %s", op->uuid);
		break;
	case KOP_MDEV_REMOVE:
		n = snprintf(buf, size, "remove mdev %s", op->uuid);
		break;
	case KOP_AP_CONFIG:
		idset_format_ranges(&op->apm, a, sizeof(a));
		idset_format_ranges(&op->aqm, b, sizeof(b));
		idset_format_ranges(&op->adm, c, sizeof(c));
		n = snprintf(buf, size,
			     "ap_config of %s: adapters %s, domains %s, control domains %s",
			     op->uuid, a[0] ? a : "none", b[0] ? b : "none", c[0] ? c : "none");
		break;
	case KOP_APMASK_EDIT:
	case KOP_AQMASK_EDIT:
		signed_ranges(&op->set, '+', a, sizeof(a));
		signed_ranges(&op->clear, '-', b, sizeof(b));
		n = snprintf(buf, size, "%s %s%s%s",
			     op->type == KOP_APMASK_EDIT ? "apmask" : "aqmask", a,
			     a[0] && b[0] ? "," : "", b);
		break;
	default:
		break;
	}
	if (n < 0 && size)
		buf[0] = '\0';
	return n;
}
