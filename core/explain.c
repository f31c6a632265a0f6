/* SPDX-License-Identifier: MIT */
#include "core/explain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cleanup.h"

const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },
		{ ENOENT, "ENOENT" },
		{ EIO, "EIO" },
		{ ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" },
		{ EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" },
		{ ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" },
		{ ERANGE, "ERANGE" },
		{ EAGAIN, "EAGAIN" },
		{ EINTR, "EINTR" },
		{ ENOSYS, "ENOSYS" },
		{ ENOTEMPTY, "ENOTEMPTY" },
		{ EUSERS, "EUSERS" },
		{ EADDRINUSE, "EADDRINUSE" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ETIMEDOUT, "ETIMEDOUT" },
		{ ESTALE, "ESTALE" },
	};

	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

void explain_clear(struct explain *e)
{
	*e = (struct explain){ .rule = RULE_NONE };
}

int explain_set(struct explain *e, enum rule rule, int err, const char *fmt, ...)
{
	va_list ap;

	e->rule = rule;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return -err;
}

void explain_way_out(struct explain *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->way_out, sizeof(e->way_out), fmt, ap);
	va_end(ap);
}

void explain_apqns(struct explain *e, const struct apqn_set *s)
{
	struct apqn q;

	e->n_apqns = 0;
	e->total_apqns = 0;
	APQN_SET_FOREACH (q, s) {
		if (e->n_apqns < EXPLAIN_APQN_MAX)
			e->apqns[e->n_apqns++] = q;
		e->total_apqns++;
	}
}

size_t explain_render(const struct explain *e, const char *action, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%srefused (%s): %s%s%s", action && *action ? action : "",
			 action && *action ? ": " : "", errno_name(e->err), e->reason,
			 e->way_out[0] ? "; " : "", e->way_out);

	return n < 0 ? 0 : (size_t) n;
}
