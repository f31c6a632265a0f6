/* SPDX-License-Identifier: MIT */
#include "core/oplog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct oplog {
	size_t capacity, count, head; /* head: the slot of the oldest entry */
	uint64_t next_seq;
	struct oplog_entry entries[];
};

int oplog_new(size_t capacity, struct oplog **ret)
{
	struct oplog *log;

	if (capacity == 0)
		return -EINVAL;
	log = calloc(1, sizeof(*log) + capacity * sizeof(log->entries[0]));
	if (!log)
		return -ENOMEM;
	log->capacity = capacity;
	log->next_seq = 1;
	*ret = log;
	return 0;
}

struct oplog *oplog_free(struct oplog *log)
{
	free(log);
	return NULL;
}

void oplog_append(struct oplog *log, time_t when, int err, const char *line)
{
	struct oplog_entry *e;

	if (log->count == log->capacity) {
		e = &log->entries[log->head];
		log->head = (log->head + 1) % log->capacity;
	} else {
		e = &log->entries[(log->head + log->count) % log->capacity];
		log->count++;
	}
	e->seq = log->next_seq++;
	e->when = when;
	e->err = err;
	snprintf(e->line, sizeof(e->line), "%s", line);
}

size_t oplog_count(const struct oplog *log)
{
	return log->count;
}

const struct oplog_entry *oplog_get(const struct oplog *log, size_t i)
{
	if (i >= log->count)
		return NULL;
	return &log->entries[(log->head + i) % log->capacity];
}

size_t oplog_render(const struct oplog *log, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < log->count; i++) {
		const struct oplog_entry *e = oplog_get(log, i);
		char when[32] = "-";
		struct tm tm;
		int n;

		if (gmtime_r(&e->when, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
			     "%llu %s %s\n", (unsigned long long) e->seq, when, e->line);
		if (n > 0)
			len += (size_t) n;
	}
	return len;
}
