/* SPDX-License-Identifier: MIT */
#include "core/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1)
		return -ENOMEM;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(sb->data, cap);
	if (!p)
		return -ENOMEM;
	sb->data = p;
	sb->cap = cap;
	return 0;
}

int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list probe;
	int n, r;

	/* Most appends fit what is left, so try once before measuring. */
	va_copy(probe, ap);
	n = vsnprintf(sb->data ? sb->data + sb->len : NULL, sb->data ? sb->cap - sb->len : 0, fmt,
		      probe);
	va_end(probe);
	if (n < 0)
		return -ENOMEM;
	if (sb->data && (size_t) n < sb->cap - sb->len) {
		sb->len += (size_t) n;
		return 0;
	}
	r = strbuf_reserve(sb, (size_t) n);
	if (r < 0) {
		if (sb->data)
			sb->data[sb->len] = '\0';
		return r;
	}
	vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	sb->len += (size_t) n;
	return 0;
}

int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vappendf(sb, fmt, ap);
	va_end(ap);
	return r;
}

int strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	int r = strbuf_reserve(sb, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int strbuf_put_column(struct strbuf *sb, const char *s, size_t width, char end)
{
	size_t n = strlen(s), pad = n < width ? width - n : 0;
	int r = strbuf_reserve(sb, n + pad + 1);

	if (r < 0)
		return r;
	memcpy(sb->data + sb->len, s, n);
	memset(sb->data + sb->len + n, ' ', pad);
	sb->len += n + pad;
	sb->data[sb->len++] = end;
	sb->data[sb->len] = '\0';
	return 0;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void strbuf_done(struct strbuf *sb)
{
	free(sb->data);
	*sb = STRBUF_INIT;
}

char *strbuf_take(struct strbuf *sb)
{
	char *p;

	if (!sb->data && strbuf_reserve(sb, 0) < 0)
		return NULL;
	sb->data[sb->len] = '\0';
	p = sb->data;
	*sb = STRBUF_INIT;
	return p;
}
