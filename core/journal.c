/* SPDX-License-Identifier: MIT */
#include "core/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/strbuf.h"

#define JOURNAL_HEADER "# zapfs journal: kernel writes that revert an operation cut short\n"
#define WORD_MAX       (IDSET_RANGES_SIZE + 1)

static int append_set(struct strbuf *out, const struct idset *s)
{
	char ranges[IDSET_RANGES_SIZE];

	idset_format_ranges(s, ranges, sizeof(ranges));
	return strbuf_appendf(out, " %s", ranges[0] ? ranges : "none");
}

static int append_op(struct strbuf *out, const struct kop *op)
{
	int r;

	if ((unsigned) op->type >= _KOP_TYPE_MAX)
		return -EINVAL;
	r = strbuf_puts(out, kop_name(op->type));
	switch (op->type) {
	case KOP_MDEV_CREATE:
	case KOP_MDEV_REMOVE:
		if (r >= 0)
			r = strbuf_appendf(out, " %s", op->uuid);
		break;
	case KOP_AP_CONFIG:
		if (r >= 0)
			r = strbuf_appendf(out, " %s", op->uuid);
		if (r >= 0)
			r = append_set(out, &op->apm);
		if (r >= 0)
			r = append_set(out, &op->aqm);
		if (r >= 0)
			r = append_set(out, &op->adm);
		break;
	case KOP_APMASK_EDIT:
	case KOP_AQMASK_EDIT:
		if (r >= 0)
			r = append_set(out, &op->set);
		if (r >= 0)
			r = append_set(out, &op->clear);
		break;
	case _KOP_TYPE_MAX:
		return -EINVAL;
	default:
		if (r >= 0)
			r = strbuf_appendf(out, " %s %u", op->uuid, op->id);
		break;
	}
	return r < 0 ? r : strbuf_puts(out, "\n");
}

int journal_format(const struct kop *ops, size_t n, char **ret_text)
{
	struct strbuf out = STRBUF_INIT;
	int r = strbuf_puts(&out, JOURNAL_HEADER "version 1\n");

	for (size_t i = 0; i < n && r >= 0; i++)
		r = append_op(&out, &ops[i]);
	if (r < 0) {
		strbuf_done(&out);
		return r;
	}
	*ret_text = strbuf_take(&out);
	return 0;
}

static int parse_set(const char *word, struct idset *ret)
{
	if (strcmp(word, "none") == 0) {
		*ret = IDSET_EMPTY;
		return 0;
	}
	return idlist_parse(word, AP_ID_COUNT - 1, ret);
}

/* One line (NUL-terminated, no newline) into op. */
static int parse_op(const char *line, struct kop *op)
{
	char name[32], a[WORD_MAX], b[WORD_MAX], c[WORD_MAX], d[WORD_MAX];
	int fields = sscanf(line, "%31s %1025s %1025s %1025s %1025s", name, a, b, c, d);
	int type = -1, r = 0;

	for (int i = 0; i < _KOP_TYPE_MAX; i++)
		if (fields >= 1 && strcmp(name, kop_name(i)) == 0)
			type = i;
	if (type < 0)
		return -EINVAL;
	*op = (struct kop){ .type = (enum kop_type) type };
	switch (op->type) {
	case KOP_MDEV_CREATE:
	case KOP_MDEV_REMOVE:
		if (fields != 2 || strlen(a) != UUID_STR_LEN)
			return -EINVAL;
		memcpy(op->uuid, a, sizeof(op->uuid));
		return 0;
	case KOP_AP_CONFIG:
		if (fields != 5 || strlen(a) != UUID_STR_LEN)
			return -EINVAL;
		memcpy(op->uuid, a, sizeof(op->uuid));
		r = parse_set(b, &op->apm);
		if (r >= 0)
			r = parse_set(c, &op->aqm);
		return r < 0 ? r : parse_set(d, &op->adm);
	case KOP_APMASK_EDIT:
	case KOP_AQMASK_EDIT:
		if (fields != 3)
			return -EINVAL;
		r = parse_set(a, &op->set);
		return r < 0 ? r : parse_set(b, &op->clear);
	case _KOP_TYPE_MAX:
		return -EINVAL;
	default:
		if (fields != 3 || strlen(a) != UUID_STR_LEN)
			return -EINVAL;
		memcpy(op->uuid, a, sizeof(op->uuid));
		return id_parse(b, AP_ID_COUNT - 1, &op->id);
	}
}

int journal_parse(const char *text, struct kop **ret_ops, size_t *ret_n, char *err, size_t err_size)
{
	_cleanup_free_ struct kop *ops = NULL;
	bool versioned = false;
	unsigned line_no = 0;
	size_t n = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t) (nl - text) : strlen(text);
		char line[4 * WORD_MAX];

		line_no++;
		if (len >= sizeof(line))
			goto bad;
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (nl ? 1 : 0);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!versioned) {
			if (strcmp(line, "version 1") != 0)
				goto bad;
			versioned = true;
			continue;
		}
		{
			struct kop *grown = realloc(ops, (n + 1) * sizeof(*ops));

			if (!grown)
				return -ENOMEM;
			ops = grown;
		}
		if (parse_op(line, &ops[n]) < 0)
			goto bad;
		n++;
	}
	if (!versioned) {
		if (err && err_size)
			snprintf(err, err_size, "no version line");
		return -EINVAL;
	}
	*ret_ops = n ? TAKE_PTR(ops) : NULL;
	*ret_n = n;
	return 0;
bad:
	if (err && err_size)
		snprintf(err, err_size, "line %u: not a journal entry", line_no);
	return -EINVAL;
}
