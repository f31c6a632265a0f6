/* SPDX-License-Identifier: MIT */
#include "kmod/ap_attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/idparse.h"

/* "0x" + 64 hex digits at s; *ret_end points past them. */
static int mask_scan(const char *s, struct idset *ret, const char **ret_end)
{
	struct idset set = IDSET_EMPTY;

	if (s[0] != '0' || s[1] != 'x')
		return -EINVAL;
	s += 2;
	for (unsigned nibble = 0; nibble < AP_ID_COUNT / 4; nibble++) {
		int v = hex_digit_value(s[nibble]);

		if (v < 0)
			return -EINVAL;
		for (unsigned b = 0; b < 4; b++)
			if (v & (8 >> b))
				idset_add(&set, nibble * 4 + b);
	}
	*ret = set;
	*ret_end = s + AP_ID_COUNT / 4;
	return 0;
}

/* Only "" or "\n" may follow the last field. */
static bool at_line_end(const char *s)
{
	return s[0] == '\0' || (s[0] == '\n' && s[1] == '\0');
}

int ap_mask_parse(const char *text, struct idset *ret)
{
	struct idset set;
	const char *end;

	if (!strcmp(text, "not supported\n") || !strcmp(text, "not supported"))
		return -EOPNOTSUPP;
	if (mask_scan(text, &set, &end) < 0 || !at_line_end(end))
		return -EINVAL;
	*ret = set;
	return 0;
}

int ap_config_parse(const char *text, struct idset *ret_apm, struct idset *ret_aqm,
		    struct idset *ret_adm)
{
	struct idset masks[3];
	const char *s = text;

	for (size_t i = 0; i < 3; i++) {
		if (mask_scan(s, &masks[i], &s) < 0)
			return -EINVAL;
		if (i < 2 && *s++ != ',')
			return -EINVAL;
	}
	if (!at_line_end(s))
		return -EINVAL;
	*ret_apm = masks[0];
	*ret_aqm = masks[1];
	*ret_adm = masks[2];
	return 0;
}

/* Calls fn for each newline-terminated line of text; a last line without
 * newline counts too. Stops at the first error. */
static int for_each_line(const char *text, int (*fn)(const char *line, size_t len, void *ud),
			 void *userdata)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t) (nl - text) : strlen(text);
		int r = fn(text, len, userdata);

		if (r < 0)
			return r;
		text += len + (nl ? 1 : 0);
	}
	return 0;
}

enum matrix_form {
	MATRIX_EMPTY,
	MATRIX_APQNS,
	MATRIX_ADAPTERS,
	MATRIX_DOMAINS,
};

struct matrix_parse {
	enum matrix_form form;
	struct idset adapters, domains;
};

static int matrix_line(const char *line, size_t len, void *userdata)
{
	struct matrix_parse *m = userdata;
	enum matrix_form form;
	unsigned ap = 0, dom = 0;

	if (len == 7 && line[2] == '.') {
		struct apqn q;

		if (apqn_name_parse_buf(line, len, &q) < 0)
			return -EINVAL;
		form = MATRIX_APQNS;
		ap = q.ap;
		dom = q.dom;
	} else if (len == 3 && line[2] == '.') {
		if (adapter_name_parse_buf(line, 2, &ap) < 0)
			return -EINVAL;
		form = MATRIX_ADAPTERS;
	} else if (len == 5 && line[0] == '.') {
		if (domain_name_parse_buf(line + 1, 4, &dom) < 0)
			return -EINVAL;
		form = MATRIX_DOMAINS;
	} else {
		return -EINVAL;
	}

	if (m->form != MATRIX_EMPTY && m->form != form)
		return -EINVAL;
	m->form = form;
	if (form != MATRIX_DOMAINS)
		idset_add(&m->adapters, ap);
	if (form != MATRIX_ADAPTERS)
		idset_add(&m->domains, dom);
	return 0;
}

int ap_matrix_parse(const char *text, struct idset *ret_adapters, struct idset *ret_domains)
{
	struct matrix_parse m = { .form = MATRIX_EMPTY };
	int r = for_each_line(text, matrix_line, &m);

	if (r < 0)
		return r;
	*ret_adapters = m.adapters;
	*ret_domains = m.domains;
	return 0;
}

static int domain_line(const char *line, size_t len, void *userdata)
{
	unsigned dom;

	if (domain_name_parse_buf(line, len, &dom) < 0)
		return -EINVAL;
	idset_add(userdata, dom);
	return 0;
}

int ap_domain_lines_parse(const char *text, struct idset *ret)
{
	struct idset set = IDSET_EMPTY;
	int r = for_each_line(text, domain_line, &set);

	if (r < 0)
		return r;
	*ret = set;
	return 0;
}

size_t ap_config_format(const struct idset *apm, const struct idset *aqm, const struct idset *adm,
			char *buf, size_t size)
{
	char a[IDSET_MASK_HEX_LEN + 1], q[IDSET_MASK_HEX_LEN + 1], d[IDSET_MASK_HEX_LEN + 1];
	int n = snprintf(buf, size, "%s,%s,%s\n", idset_format_mask_hex(apm, a),
			 idset_format_mask_hex(aqm, q), idset_format_mask_hex(adm, d));

	return n < 0 ? 0 : (size_t) n;
}

/* Appends snprintf output at *len, counting what would be needed past size. */
static void append_term(char *buf, size_t size, size_t *len, char sign, unsigned lo, unsigned hi)
{
	char *at = *len < size ? buf + *len : NULL;
	size_t room = *len < size ? size - *len : 0;
	int n;

	if (lo == hi)
		n = snprintf(at, room, "%s%c%u", *len ? "," : "", sign, lo);
	else
		n = snprintf(at, room, "%s%c%u-%u", *len ? "," : "", sign, lo, hi);
	if (n > 0)
		*len += (size_t) n;
}

static void append_ranges(char *buf, size_t size, size_t *len, char sign, const struct idset *s)
{
	int id = idset_next(s, 0);

	while (id >= 0) {
		int hi = id;

		while (hi + 1 < (int) AP_ID_COUNT && idset_has(s, (unsigned) hi + 1))
			hi++;
		append_term(buf, size, len, sign, (unsigned) id, (unsigned) hi);
		id = idset_next(s, hi + 1);
	}
}

size_t ap_mask_edit_format(const struct idset *set, const struct idset *clear, char *buf,
			   size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	append_ranges(buf, size, &len, '+', set);
	append_ranges(buf, size, &len, '-', clear);
	if (len) {
		if (len + 1 < size) {
			buf[len] = '\n';
			buf[len + 1] = '\0';
		}
		len++;
	}
	return len;
}

int ap_device_name_parse(const char *name, bool *ret_is_card, struct apqn *ret_q)
{
	unsigned ap;

	if (!strncmp(name, "card", 4)) {
		if (adapter_name_parse(name + 4, &ap) < 0)
			return -EINVAL;
		*ret_is_card = true;
		*ret_q = (struct apqn){ .ap = (uint8_t) ap };
		return 0;
	}
	if (apqn_name_parse(name, ret_q) < 0)
		return -EINVAL;
	*ret_is_card = false;
	return 0;
}
