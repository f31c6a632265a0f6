/* SPDX-License-Identifier: MIT */
/*
 * The operation log behind the tree's `log` file: a bounded ring of the
 * recent outcomes, newest last. Each entry is one line: what was asked, and
 * what was done to the kernel or why it was refused, with the errno name.
 * Not thread-safe: the engine guards it with its lock.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OPLOG_LINE_MAX 1024

struct oplog_entry {
	uint64_t seq; /* 1, 2, ... over the daemon's life */
	time_t when;
	int err; /* positive errno, 0 for success */
	char line[OPLOG_LINE_MAX];
};

struct oplog;

/* A ring of capacity entries (at least 1). */
int oplog_new(size_t capacity, struct oplog **ret);

/* Accepts NULL; returns NULL. */
struct oplog *oplog_free(struct oplog *log);

/* Appends a line (cut at OPLOG_LINE_MAX - 1 bytes), dropping the oldest when full. */
void oplog_append(struct oplog *log, time_t when, int err, const char *line);

/* The number of entries held. */
size_t oplog_count(const struct oplog *log);

/* Entry i, 0 the oldest held; NULL when i is out of range. */
const struct oplog_entry *oplog_get(const struct oplog *log, size_t i);

/*
 * The log as text, oldest first: "SEQ TIME LINE\n" per entry, TIME in UTC
 * ISO 8601. Returns the length the full text needs, as snprintf.
 */
size_t oplog_render(const struct oplog *log, char *buf, size_t size);
