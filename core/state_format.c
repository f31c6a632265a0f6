/* SPDX-License-Identifier: MIT */
/*
 * The text formats of the state files: "key value" lines after a
 * "version 1" line, '#' comments, ids as canonical names.
 */
#include "state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"

#define STATE_FORMAT_VERSION "1"

/* Longest excerpt of a bad value quoted in an error message. */
#define QUOTE_MAX 40

/* ---- names ---- */

static bool name_char_valid(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

static bool guest_name_valid_buf(const char *s, size_t len)
{
	if (len == 0 || len > STATE_GUEST_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char_valid(s[i]))
			return false;
	return true;
}

bool state_guest_name_valid(const char *name)
{
	return guest_name_valid_buf(name, strnlen(name, STATE_GUEST_NAME_MAX + 1));
}

static bool uuid_valid_buf(const char *s, size_t len)
{
	if (len != STATE_UUID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			   (s[i] >= 'A' && s[i] <= 'F');

		if (dash ? s[i] != '-' : !hex)
			return false;
	}
	return true;
}

bool state_uuid_valid(const char *s)
{
	return uuid_valid_buf(s, strnlen(s, STATE_UUID_LEN + 1));
}

/* Copies a valid UUID in lowercase, as the kernel names mdevs. */
static void uuid_copy_lower(char dst[static STATE_UUID_LEN + 1], const char *src)
{
	for (size_t i = 0; i < STATE_UUID_LEN; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'F') ? (char) (src[i] - 'A' + 'a') : src[i];
	dst[STATE_UUID_LEN] = '\0';
}

/* ---- reading the line-oriented files ---- */

/* One "key value" line; value may be empty. Neither is NUL-terminated. */
struct entry {
	unsigned line;
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

struct line_reader {
	const char *p;
	const char *end;
	unsigned line;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* How much of a bad value of len bytes a message quotes. */
static int quoted(size_t len)
{
	return (int) (len < QUOTE_MAX ? len : QUOTE_MAX);
}

/* Copies what a message quotes of a value; false when it had to cut it short. */
static bool quote_copy(char dst[static QUOTE_MAX + 1], const char *src, size_t len)
{
	size_t n = (size_t) quoted(len);

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n == len;
}

static bool entry_key_is(const struct entry *e, const char *key)
{
	return e->key_len == strlen(key) && memcmp(e->key, key, e->key_len) == 0;
}

static bool entry_value_is(const struct entry *e, const char *value)
{
	return e->value_len == strlen(value) && memcmp(e->value, value, e->value_len) == 0;
}

__attribute__((format(printf, 4, 5))) static int parse_error(char *err, size_t err_size,
							     unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !err_size)
		return -EINVAL;
	n = snprintf(err, err_size, "line %u: ", line);
	if (n >= 0 && (size_t) n < err_size) {
		va_start(ap, fmt);
		vsnprintf(err + n, err_size - (size_t) n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * The next entry, skipping blank and comment lines. Returns 1 with *ret
 * filled, 0 at the end, or -EINVAL for a line with a NUL or a control
 * character (a binary file is not ours).
 */
static int next_entry(struct line_reader *lr, struct entry *ret, char *err, size_t err_size)
{
	while (lr->p < lr->end) {
		const char *nl = memchr(lr->p, '\n', (size_t) (lr->end - lr->p));
		const char *eol = nl ? nl : lr->end;
		const char *s = lr->p, *e = eol, *k;

		lr->line++;
		lr->p = nl ? nl + 1 : lr->end;
		for (const char *c = s; c < e; c++)
			if ((unsigned char) *c < 0x20 && *c != '\t')
				return parse_error(err, err_size, lr->line,
						   "control character 0x%02x in the text",
						   (unsigned) (unsigned char) *c);
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		for (k = s; k < e && !is_blank(*k);)
			k++;
		*ret = (struct entry){ .line = lr->line, .key = s, .key_len = (size_t) (k - s) };
		while (k < e && is_blank(*k))
			k++;
		ret->value = k;
		ret->value_len = (size_t) (e - k);
		return 1;
	}
	return 0;
}

/* Every file starts with "version 1". */
static int read_version(struct line_reader *lr, char *err, size_t err_size)
{
	struct entry e;
	int r;

	r = next_entry(lr, &e, err, err_size);
	if (r < 0)
		return r;
	if (r == 0)
		return parse_error(err, err_size, lr->line ? lr->line : 1,
				   "empty file, expected 'version " STATE_FORMAT_VERSION "'");
	if (!entry_key_is(&e, "version"))
		return parse_error(err, err_size, e.line,
				   "expected 'version " STATE_FORMAT_VERSION "' first, not '%.*s'",
				   quoted(e.key_len), e.key);
	if (!entry_value_is(&e, STATE_FORMAT_VERSION))
		return parse_error(
		    err, err_size, e.line,
		    "unsupported version '%.*s' (this zapfs reads version " STATE_FORMAT_VERSION
		    ")",
		    quoted(e.value_len), e.value);
	return 0;
}

/* Adapters are 2-digit names, domains 4-digit ones. */
enum id_kind {
	ID_ADAPTER,
	ID_DOMAIN,
};

static int id_name_parse_buf(enum id_kind kind, const char *buf, size_t len, unsigned *ret)
{
	return kind == ID_ADAPTER ? adapter_name_parse_buf(buf, len, ret)
				  : domain_name_parse_buf(buf, len, ret);
}

/* Says how a bad name should have been spelt, when that can be guessed. */
static void bad_name_error(enum id_kind kind, const struct entry *e, const char *name, size_t len,
			   char *err, size_t err_size)
{
	const char *what = kind == ID_ADAPTER ? "adapter" : "domain";
	char copy[QUOTE_MAX + 1], hint[DOMAIN_NAME_SIZE];
	int r = -EINVAL;

	if (quote_copy(copy, name, len))
		r = kind == ID_ADAPTER ? adapter_name_suggest(copy, hint)
				       : domain_name_suggest(copy, hint);
	if (r == 0)
		parse_error(err, err_size, e->line, "bad %s '%s' in '%.*s' (use %s)", what, copy,
			    (int) e->key_len, e->key, hint);
	else
		parse_error(err, err_size, e->line, "bad %s '%s' in '%.*s'", what, copy,
			    (int) e->key_len, e->key);
}

/* Trims blanks at both ends of [*p, *end). */
static void trim_blanks(const char **p, const char **end)
{
	while (*p < *end && is_blank(**p))
		(*p)++;
	while (*end > *p && is_blank((*end)[-1]))
		(*end)--;
}

static int list_name_parse(enum id_kind kind, const struct entry *e, const char *p, const char *end,
			   unsigned *ret, char *err, size_t err_size)
{
	if (id_name_parse_buf(kind, p, (size_t) (end - p), ret) == 0)
		return 0;
	bad_name_error(kind, e, p, (size_t) (end - p), err, err_size);
	return -EINVAL;
}

/*
 * Parses a value such as "05, 06,10-1f" (canonical names and ranges lo-hi,
 * separated by commas) or "none".
 */
static int name_list_parse(enum id_kind kind, const struct entry *e, struct idset *ret, char *err,
			   size_t err_size)
{
	const char *p = e->value, *end = e->value + e->value_len;
	struct idset set = IDSET_EMPTY;

	if (entry_value_is(e, "none") || e->value_len == 0) {
		*ret = set;
		return 0;
	}
	for (;;) {
		const char *comma = memchr(p, ',', (size_t) (end - p));
		const char *item_end = comma ? comma : end;
		const char *dash;
		struct idset range;
		unsigned lo, hi;
		int r;

		trim_blanks(&p, &item_end);
		dash = memchr(p, '-', (size_t) (item_end - p));
		r = list_name_parse(kind, e, p, dash ? dash : item_end, &lo, err, err_size);
		if (r < 0)
			return r;
		hi = lo;
		if (dash) {
			r = list_name_parse(kind, e, dash + 1, item_end, &hi, err, err_size);
			if (r < 0)
				return r;
			if (hi < lo)
				return parse_error(
				    err, err_size, e->line, "range '%.*s' in '%.*s' runs backwards",
				    (int) (item_end - p), p, (int) e->key_len, e->key);
		}
		range = idset_range(lo, hi);
		set = idset_or(&set, &range);
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret = set;
	return 0;
}

/* ---- writing them ---- */

/* Writes ids as names, runs of three or more as "lo-hi": "05,06", "00-04,07-ff". */
static void name_list_print(FILE *f, enum id_kind kind, const struct idset *s)
{
	char lo_name[DOMAIN_NAME_SIZE], hi_name[DOMAIN_NAME_SIZE];
	bool first = true;
	int lo = idset_next(s, 0);

	if (lo < 0) {
		fputs("none", f);
		return;
	}
	while (lo >= 0) {
		int hi = lo;

		while (hi + 1 < (int) AP_ID_COUNT && idset_has(s, (unsigned) hi + 1))
			hi++;
		if (kind == ID_ADAPTER) {
			adapter_name_format((unsigned) lo, lo_name);
			adapter_name_format((unsigned) hi, hi_name);
		} else {
			domain_name_format((unsigned) lo, lo_name);
			domain_name_format((unsigned) hi, hi_name);
		}
		if (hi - lo >= 2)
			fprintf(f, "%s%s-%s", first ? "" : ",", lo_name, hi_name);
		else if (hi == lo)
			fprintf(f, "%s%s", first ? "" : ",", lo_name);
		else
			fprintf(f, "%s%s,%s", first ? "" : ",", lo_name, hi_name);
		first = false;
		lo = idset_next(s, hi + 1);
	}
}

/* Ends a memstream and hands its text out. */
static int text_finish(FILE **f, char **text, size_t *len, char **ret_text, size_t *ret_len)
{
	bool failed = ferror(*f);

	if (fclose(TAKE_PTR(*f)) != 0 || failed)
		return -ENOMEM;
	*ret_text = TAKE_PTR(*text);
	if (ret_len)
		*ret_len = *len;
	return 0;
}

int state_guest_format(const struct state_guest *g, char **ret_text, size_t *ret_len)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	char uuid[STATE_UUID_LEN + 1];
	size_t len = 0;

	if (!state_guest_name_valid(g->name) || !state_uuid_valid(g->uuid))
		return -EINVAL;
	uuid_copy_lower(uuid, g->uuid);

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# zapfs guest, written by zapfs; edit with care\nversion %s\nname %s\nuuid %s\n",
		STATE_FORMAT_VERSION, g->name, uuid);
	fputs("adapters ", f);
	name_list_print(f, ID_ADAPTER, &g->adapters);
	fputs("\ndomains ", f);
	name_list_print(f, ID_DOMAIN, &g->domains);
	fputs("\ncontrol_domains ", f);
	name_list_print(f, ID_DOMAIN, &g->control_domains);
	fputc('\n', f);
	return text_finish(&f, &text, &len, ret_text, ret_len);
}

enum guest_key {
	KEY_NAME,
	KEY_UUID,
	KEY_ADAPTERS,
	KEY_DOMAINS,
	KEY_CONTROL_DOMAINS,
	KEY_COUNT,
};

int state_guest_parse(const char *text, size_t len, struct state_guest *ret, char *err,
		      size_t err_size)
{
	static const char *const keys[KEY_COUNT] = {
		[KEY_NAME] = "name",
		[KEY_UUID] = "uuid",
		[KEY_ADAPTERS] = "adapters",
		[KEY_DOMAINS] = "domains",
		[KEY_CONTROL_DOMAINS] = "control_domains",
	};
	struct line_reader lr = { text, text + len, 0 };
	struct state_guest g = { 0 };
	unsigned seen_line[KEY_COUNT] = { 0 };
	struct entry e;
	int r;

	r = read_version(&lr, err, err_size);
	if (r < 0)
		return r;
	while ((r = next_entry(&lr, &e, err, err_size)) > 0) {
		size_t k;

		for (k = 0; k < KEY_COUNT; k++)
			if (entry_key_is(&e, keys[k]))
				break;
		if (k == KEY_COUNT)
			return parse_error(err, err_size, e.line, "unknown key '%.*s'",
					   quoted(e.key_len), e.key);
		if (seen_line[k])
			return parse_error(err, err_size, e.line,
					   "'%s' given twice (first on line %u)", keys[k],
					   seen_line[k]);
		seen_line[k] = e.line;

		switch (k) {
		case KEY_NAME:
			if (!guest_name_valid_buf(e.value, e.value_len))
				return parse_error(
				    err, err_size, e.line,
				    "invalid guest name '%.*s' (letters, digits, '.', "
				    "'_' and '-', at most 64, no leading '.')",
				    quoted(e.value_len), e.value);
			memcpy(g.name, e.value, e.value_len);
			g.name[e.value_len] = '\0';
			break;
		case KEY_UUID:
			if (!uuid_valid_buf(e.value, e.value_len))
				return parse_error(err, err_size, e.line, "invalid uuid '%.*s'",
						   quoted(e.value_len), e.value);
			uuid_copy_lower(g.uuid, e.value);
			break;
		case KEY_ADAPTERS:
			r = name_list_parse(ID_ADAPTER, &e, &g.adapters, err, err_size);
			break;
		case KEY_DOMAINS:
			r = name_list_parse(ID_DOMAIN, &e, &g.domains, err, err_size);
			break;
		default: /* KEY_CONTROL_DOMAINS */
			r = name_list_parse(ID_DOMAIN, &e, &g.control_domains, err, err_size);
			break;
		}
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	/* Lists may be left out when empty; who the guest is may not. */
	for (size_t k = KEY_NAME; k <= KEY_UUID; k++)
		if (!seen_line[k])
			return parse_error(err, err_size, lr.line, "missing '%s'", keys[k]);
	*ret = g;
	return 0;
}

static int reservation_compare(const void *a, const void *b)
{
	const struct state_reservation *x = a, *y = b;

	return (int) apqn_index(x->apqn) - (int) apqn_index(y->apqn);
}

int state_reservations_format(const struct state_reservation *v, size_t n, char **ret_text,
			      size_t *ret_len)
{
	_cleanup_free_ struct state_reservation *sorted = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (!state_guest_name_valid(v[i].owner))
			return -EINVAL;
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, v, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), reservation_compare);
	}

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# zapfs reservations: queue and the guest whose keys its domain may hold;\n"
		"# written by zapfs; edit with care\nversion %s\n",
		STATE_FORMAT_VERSION);
	for (size_t i = 0; i < n; i++) {
		char name[APQN_NAME_SIZE];

		fprintf(f, "%s %s\n", apqn_name_format(sorted[i].apqn, name), sorted[i].owner);
	}
	return text_finish(&f, &text, &len, ret_text, ret_len);
}

int state_reservations_parse(const char *text, size_t len, struct state_reservation **ret_v,
			     size_t *ret_n, char *err, size_t err_size)
{
	struct line_reader lr = { text, text + len, 0 };
	_cleanup_free_ struct state_reservation *v = NULL;
	_cleanup_free_ struct apqn_set *seen = NULL;
	size_t n = 0, cap = 0;
	struct entry e;
	int r;

	r = read_version(&lr, err, err_size);
	if (r < 0)
		return r;
	seen = calloc(1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	while ((r = next_entry(&lr, &e, err, err_size)) > 0) {
		struct state_reservation res = { 0 };

		if (apqn_name_parse_buf(e.key, e.key_len, &res.apqn) < 0) {
			char copy[QUOTE_MAX + 1], hint[APQN_NAME_SIZE];

			if (quote_copy(copy, e.key, e.key_len) &&
			    apqn_name_suggest(copy, hint) == 0)
				return parse_error(err, err_size, e.line, "bad queue '%s' (use %s)",
						   copy, hint);
			return parse_error(err, err_size, e.line, "bad queue '%s'", copy);
		}
		if (e.value_len == 0)
			return parse_error(err, err_size, e.line, "queue %.*s has no owner",
					   (int) e.key_len, e.key);
		if (!guest_name_valid_buf(e.value, e.value_len))
			return parse_error(err, err_size, e.line, "invalid guest name '%.*s'",
					   quoted(e.value_len), e.value);
		if (apqn_set_has(seen, res.apqn))
			return parse_error(err, err_size, e.line, "queue %.*s reserved twice",
					   (int) e.key_len, e.key);
		apqn_set_add(seen, res.apqn);
		memcpy(res.owner, e.value, e.value_len);
		if (n == cap) {
			size_t new_cap = cap ? cap * 2 : 16;
			struct state_reservation *grown = realloc(v, new_cap * sizeof(*v));

			if (!grown)
				return -ENOMEM;
			v = grown;
			cap = new_cap;
		}
		v[n++] = res;
	}
	if (r < 0)
		return r;
	if (n)
		qsort(v, n, sizeof(*v), reservation_compare);
	*ret_v = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int state_masks_format(const struct state_masks *m, char **ret_text, size_t *ret_len)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# zapfs host pool: the adapters (apmask) and domains (aqmask) the host keeps;\n"
		"# written by zapfs; edit with care\nversion %s\napmask ",
		STATE_FORMAT_VERSION);
	name_list_print(f, ID_ADAPTER, &m->apmask);
	fputs("\naqmask ", f);
	name_list_print(f, ID_DOMAIN, &m->aqmask);
	fputc('\n', f);
	return text_finish(&f, &text, &len, ret_text, ret_len);
}

int state_masks_parse(const char *text, size_t len, struct state_masks *ret, char *err,
		      size_t err_size)
{
	struct line_reader lr = { text, text + len, 0 };
	struct state_masks m = { 0 };
	unsigned ap_line = 0, aq_line = 0;
	struct entry e;
	int r;

	r = read_version(&lr, err, err_size);
	if (r < 0)
		return r;
	while ((r = next_entry(&lr, &e, err, err_size)) > 0) {
		bool ap = entry_key_is(&e, "apmask");
		unsigned *seen = ap ? &ap_line : &aq_line;

		if (!ap && !entry_key_is(&e, "aqmask"))
			return parse_error(err, err_size, e.line, "unknown key '%.*s'",
					   quoted(e.key_len), e.key);
		if (*seen)
			return parse_error(err, err_size, e.line,
					   "'%s' given twice (first on line %u)",
					   ap ? "apmask" : "aqmask", *seen);
		*seen = e.line;
		r = name_list_parse(ap ? ID_ADAPTER : ID_DOMAIN, &e, ap ? &m.apmask : &m.aqmask,
				    err, err_size);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (!ap_line || !aq_line)
		return parse_error(err, err_size, lr.line, "missing '%s'",
				   ap_line ? "aqmask" : "apmask");
	*ret = m;
	return 0;
}
