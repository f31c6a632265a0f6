/* SPDX-License-Identifier: MIT */
/*
 * A growable text buffer: the renderers write whole files into one, and
 * the caller serves reads from it. data is always NUL-terminated once
 * anything has been appended (len excludes the NUL).
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *data;
	size_t len, cap;
};

#define STRBUF_INIT ((struct strbuf){ NULL, 0, 0 })

/* Appends printf-formatted text. 0 or -ENOMEM (sb unchanged on failure). */
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As strbuf_appendf(), with a va_list. */
int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends the n bytes at s (which may hold NULs). 0 or -ENOMEM. */
int strbuf_append(struct strbuf *sb, const char *s, size_t n);

/* Appends the NUL-terminated string s. 0 or -ENOMEM. */
int strbuf_puts(struct strbuf *sb, const char *s);

/*
 * Appends s padded with blanks to width, then end: one cell of a table, as
 * "%-*s " would print it, without printf's cost on a megabyte of rows.
 */
int strbuf_put_column(struct strbuf *sb, const char *s, size_t width, char end);

/* Empties sb but keeps its memory. */
void strbuf_reset(struct strbuf *sb);

/* Frees what sb holds and leaves it empty (STRBUF_INIT). */
void strbuf_done(struct strbuf *sb);

/* Hands the text over to the caller (free() it) and leaves sb empty; never NULL on success,
 * NULL only when allocating an empty string fails. */
char *strbuf_take(struct strbuf *sb);

/*
 * Makes room for extra more bytes plus a NUL after len, so that a caller may
 * format straight into data + len and then add to len. 0 or -ENOMEM.
 */
int strbuf_reserve(struct strbuf *sb, size_t extra);

/* Frees the buffer at the end of the scope: `_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;` */
#define _cleanup_strbuf_ __attribute__((cleanup(strbuf_done)))
