/* SPDX-License-Identifier: MIT */
/*
 * Host files: the text description of a simulated LPAR (contrib/hosts/README
 * documents the format). The parser is line-oriented; every message names the
 * file and the line, because a host file is written by hand.
 *
 * Consistency checks that depend on more than one line (ids against the max
 * ids, pre-existing mdevs against the masks and each other) run after the
 * whole file is read, so the order of lines does not matter; they still point
 * at the line that introduced the offending item.
 */
#include "kmod/sim/sim.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cleanup.h"

/* Larger files are surely not host files; the large LPAR needs a few KiB. */
#define HOSTFILE_MAX_SIZE (1024 * 1024)

#define DEFAULT_KERNEL_MAJOR 6
#define DEFAULT_KERNEL_MINOR 10
#define DEFAULT_MAX_ADAPTER  63
#define DEFAULT_MAX_DOMAIN   15

enum singleton {
	KW_KERNEL,
	KW_MAX_ADAPTER,
	KW_MAX_DOMAIN,
	KW_USAGE_DOMAINS,
	KW_CONTROL_DOMAINS,
	KW_APMASK,
	KW_AQMASK,
	KW_VFIO_AP,
	_KW_SINGLETON_MAX,
};

static const char *const singleton_names[_KW_SINGLETON_MAX] = {
	[KW_KERNEL] = "kernel",
	[KW_MAX_ADAPTER] = "max-adapter",
	[KW_MAX_DOMAIN] = "max-domain",
	[KW_USAGE_DOMAINS] = "usage-domains",
	[KW_CONTROL_DOMAINS] = "control-domains",
	[KW_APMASK] = "apmask",
	[KW_AQMASK] = "aqmask",
	[KW_VFIO_AP] = "vfio_ap",
};

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t err_size;
	struct sim_config cfg;
	/* The line each item came from, for the checks after the last line. */
	unsigned singleton_line[_KW_SINGLETON_MAX];
	unsigned card_line[SIM_MAX_CARDS];
	unsigned mdev_line[SIM_MAX_MDEVS];
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, unsigned line,
						      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->err_size)
		snprintf(p->err, p->err_size, "%s:%u: %s", p->name, line, msg);
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* Copies the next blank-separated word of *s into word and advances *s. */
static bool next_word(const char **s, char *word, size_t size)
{
	const char *start = skip_blanks(*s), *end = start;
	size_t len;

	while (*end && !is_blank(*end))
		end++;
	len = (size_t) (end - start);
	if (len == 0 || len >= size)
		return false;
	memcpy(word, start, len);
	word[len] = '\0';
	*s = end;
	return true;
}

/*
 * A number as host files write them: decimal, or hexadecimal after "0x".
 * Leading zeros do not mean octal (card 08 is card 8). Parses the whole of
 * [s, s + len).
 */
static int parse_number(const char *s, size_t len, unsigned max, unsigned *ret)
{
	unsigned base = 10, value = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned digit;

		if (isdigit((unsigned char) s[i]))
			digit = (unsigned) (s[i] - '0');
		else if (base == 16 && isxdigit((unsigned char) s[i]))
			digit = (unsigned) (tolower((unsigned char) s[i]) - 'a' + 10);
		else
			return -EINVAL;
		value = value * base + digit;
		if (value > max)
			return -ERANGE;
	}
	*ret = value;
	return 0;
}

/* One id of a list, 0..255. */
static int parse_id(struct parser *p, const char *s, size_t len, unsigned *ret)
{
	int r = parse_number(s, len, AP_ID_COUNT - 1, ret);

	if (r == -ERANGE)
		return fail(p, p->line, "id '%.*s' out of range (ids are 0 to 255)", (int) len, s);
	if (r < 0)
		return fail(p, p->line, "bad number '%.*s' (use decimal, or hex with 0x)",
			    (int) len, s);
	return 0;
}

/*
 * An id list: items "N" or "N-M" separated by commas and, where allow_blanks
 * is set, blanks. Numbers as parse_number().
 */
static int parse_id_list(struct parser *p, const char *s, bool allow_blanks, struct idset *ret)
{
	struct idset set = IDSET_EMPTY;
	bool any = false;

	for (;;) {
		const char *item = s, *dash = NULL;
		unsigned lo, hi;
		int r;

		while (*s == ',' || (allow_blanks && is_blank(*s)))
			s++;
		if (!*s)
			break;
		item = s;
		while (*s && *s != ',' && !is_blank(*s)) {
			if (*s == '-' && !dash)
				dash = s;
			s++;
		}
		if (dash) {
			r = parse_id(p, item, (size_t) (dash - item), &lo);
			if (r < 0)
				return r;
			r = parse_id(p, dash + 1, (size_t) (s - dash - 1), &hi);
			if (r < 0)
				return r;
			if (hi < lo)
				return fail(p, p->line, "empty range '%.*s'", (int) (s - item),
					    item);
		} else {
			r = parse_id(p, item, (size_t) (s - item), &lo);
			if (r < 0)
				return r;
			hi = lo;
		}
		for (unsigned id = lo; id <= hi; id++)
			idset_add(&set, id);
		any = true;
	}
	if (!any)
		return fail(p, p->line, "empty id list");
	*ret = set;
	return 0;
}

/* A mask: "all", "none", or an id list. */
static int parse_mask(struct parser *p, const char *s, struct idset *ret)
{
	char word[8];
	const char *rest = s;

	if (next_word(&rest, word, sizeof(word)) && !*skip_blanks(rest)) {
		if (!strcmp(word, "all")) {
			*ret = idset_range(0, AP_ID_COUNT - 1);
			return 0;
		}
		if (!strcmp(word, "none")) {
			*ret = IDSET_EMPTY;
			return 0;
		}
	}
	return parse_id_list(p, s, true, ret);
}

/* Exactly one word after the keyword. */
static int single_word(struct parser *p, const char *keyword, const char *args, char *word,
		       size_t size)
{
	const char *rest = args;

	if (!next_word(&rest, word, size))
		return fail(p, p->line,
			    *skip_blanks(args) ? "'%s': value too long" : "'%s' needs a value",
			    keyword);
	rest = skip_blanks(rest);
	if (*rest)
		return fail(p, p->line, "'%s': unexpected '%s' after the value", keyword, rest);
	return 0;
}

static int parse_kernel(struct parser *p, const char *args)
{
	char word[16];
	const char *dot;
	unsigned major, minor;
	int r;

	r = single_word(p, "kernel", args, word, sizeof(word));
	if (r < 0)
		return r;
	dot = strchr(word, '.');
	if (!dot || strspn(word, "0123456789.") != strlen(word) || strchr(dot + 1, '.') ||
	    parse_number(word, (size_t) (dot - word), 99, &major) < 0 ||
	    parse_number(dot + 1, strlen(dot + 1), 999, &minor) < 0)
		return fail(p, p->line, "bad kernel version '%s' (use MAJOR.MINOR, e.g. 6.10)",
			    word);
	if (major < 4 || (major == 4 && minor < 19))
		return fail(p, p->line,
			    "kernel %u.%u is too old: the AP bus masks appeared in 4.19", major,
			    minor);
	p->cfg.kernel_major = major;
	p->cfg.kernel_minor = minor;
	return 0;
}

static int parse_max_id(struct parser *p, const char *keyword, const char *args, unsigned *ret)
{
	char word[16];
	int r;

	r = single_word(p, keyword, args, word, sizeof(word));
	if (r < 0)
		return r;
	return parse_id(p, word, strlen(word), ret);
}

static int parse_vfio_ap(struct parser *p, const char *args)
{
	char word[16];
	int r;

	r = single_word(p, "vfio_ap", args, word, sizeof(word));
	if (r < 0)
		return r;
	if (!strcmp(word, "loaded"))
		p->cfg.vfio_ap_loaded = true;
	else if (!strcmp(word, "unloaded"))
		p->cfg.vfio_ap_loaded = false;
	else
		return fail(p, p->line, "vfio_ap: unknown state '%s' (use loaded or unloaded)",
			    word);
	return 0;
}

/* "CEX<gen><mode>", e.g. CEX5C. */
static int parse_card_type(struct parser *p, const char *word, unsigned *ret_gen, char *ret_mode)
{
	char mode;

	if (strncmp(word, "CEX", 3) != 0 || !isdigit((unsigned char) word[3]) || !word[4] ||
	    word[5])
		return fail(p, p->line,
			    "unknown card type '%s' (use CEX<generation><mode>, e.g. CEX7C)", word);
	if (word[3] < '4' || word[3] > '8')
		return fail(p, p->line, "unsupported generation CEX%c (use CEX4 to CEX8)", word[3]);
	mode = word[4];
	if (mode != 'A' && mode != 'C' && mode != 'P')
		return fail(p, p->line, "unknown card mode '%c' (use A, C or P)", mode);
	*ret_gen = (unsigned) (word[3] - '0');
	*ret_mode = mode;
	return 0;
}

static struct sim_card_config *find_card(struct sim_config *cfg, unsigned id)
{
	for (size_t i = 0; i < cfg->n_cards; i++)
		if (cfg->cards[i].id == id)
			return &cfg->cards[i];
	return NULL;
}

/* card IDS TYPE [offline] [deconfigured] */
static int parse_card(struct parser *p, const char *args)
{
	char ids_word[256], type_word[16], flag[32];
	const char *rest = args;
	struct idset ids;
	struct sim_card_config card = { .config = true, .online = true };
	int r;

	if (!next_word(&rest, ids_word, sizeof(ids_word)) ||
	    !next_word(&rest, type_word, sizeof(type_word)))
		return fail(p, p->line, "'card' needs an id and a type, e.g. 'card 5 CEX5C'");
	r = parse_id_list(p, ids_word, false, &ids);
	if (r < 0)
		return r;
	r = parse_card_type(p, type_word, &card.gen, &card.mode);
	if (r < 0)
		return r;
	while (next_word(&rest, flag, sizeof(flag))) {
		if (!strcmp(flag, "offline"))
			card.online = false;
		else if (!strcmp(flag, "deconfigured"))
			card.config = false;
		else
			return fail(p, p->line,
				    "card: unknown flag '%s' (use offline or deconfigured)", flag);
	}
	if (*skip_blanks(rest))
		return fail(p, p->line, "card: flag too long: '%s'", skip_blanks(rest));

	IDSET_FOREACH (id, &ids) {
		const struct sim_card_config *old = find_card(&p->cfg, (unsigned) id);

		if (old)
			return fail(p, p->line, "card %d already defined on line %u", id,
				    p->card_line[old - p->cfg.cards]);
		if (p->cfg.n_cards == SIM_MAX_CARDS)
			return fail(p, p->line, "too many cards (at most %d)", SIM_MAX_CARDS);
		card.id = (unsigned) id;
		p->card_line[p->cfg.n_cards] = p->line;
		p->cfg.cards[p->cfg.n_cards++] = card;
	}
	return 0;
}

static bool valid_uuid(const char *s)
{
	for (size_t i = 0; i < SIM_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	return s[SIM_UUID_LEN] == '\0';
}

/* mdev UUID [adapters=LIST] [domains=LIST] [control-domains=LIST] */
static int parse_mdev(struct parser *p, const char *args)
{
	char word[512];
	const char *rest = args;
	struct sim_mdev_config mdev = { .adapters = IDSET_EMPTY };

	if (!next_word(&rest, word, sizeof(word)))
		return fail(p, p->line, "'mdev' needs a UUID");
	if (!valid_uuid(word))
		return fail(p, p->line, "bad uuid '%s' (use 8-4-4-4-12 hex digits)", word);
	for (size_t i = 0; i < SIM_UUID_LEN; i++)
		mdev.uuid[i] = (char) tolower((unsigned char) word[i]);
	for (size_t i = 0; i < p->cfg.n_mdevs; i++)
		if (!strcmp(p->cfg.mdevs[i].uuid, mdev.uuid))
			return fail(p, p->line, "mdev %s already defined on line %u", mdev.uuid,
				    p->mdev_line[i]);

	while (next_word(&rest, word, sizeof(word))) {
		char *eq = strchr(word, '=');
		struct idset *set;
		int r;

		if (!eq)
			return fail(p, p->line, "mdev: expected KEY=LIST, got '%s'", word);
		*eq = '\0';
		if (!strcmp(word, "adapters"))
			set = &mdev.adapters;
		else if (!strcmp(word, "domains"))
			set = &mdev.domains;
		else if (!strcmp(word, "control-domains"))
			set = &mdev.control_domains;
		else
			return fail(p, p->line,
				    "mdev: unknown key '%s' (use adapters, domains or "
				    "control-domains)",
				    word);
		r = parse_id_list(p, eq + 1, false, set);
		if (r < 0)
			return r;
	}
	if (*skip_blanks(rest))
		return fail(p, p->line, "mdev: list too long");
	if (p->cfg.n_mdevs == SIM_MAX_MDEVS)
		return fail(p, p->line, "too many mdevs (at most %d)", SIM_MAX_MDEVS);
	p->mdev_line[p->cfg.n_mdevs] = p->line;
	p->cfg.mdevs[p->cfg.n_mdevs++] = mdev;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char keyword[32];
	const char *args = line;
	char *hash = strchr(line, '#');
	int kw = -1;

	if (hash)
		*hash = '\0';
	if (!next_word(&args, keyword, sizeof(keyword))) {
		if (*skip_blanks(line))
			return fail(p, p->line, "unknown keyword '%s'", skip_blanks(line));
		return 0; /* blank or comment only */
	}

	if (!strcmp(keyword, "card"))
		return parse_card(p, args);
	if (!strcmp(keyword, "mdev"))
		return parse_mdev(p, args);

	for (int i = 0; i < _KW_SINGLETON_MAX; i++)
		if (!strcmp(keyword, singleton_names[i]))
			kw = i;
	if (kw < 0)
		return fail(p, p->line, "unknown keyword '%s'", keyword);
	if (p->singleton_line[kw])
		return fail(p, p->line, "'%s' already given on line %u", keyword,
			    p->singleton_line[kw]);
	p->singleton_line[kw] = p->line;

	switch (kw) {
	case KW_KERNEL:
		return parse_kernel(p, args);
	case KW_MAX_ADAPTER:
		return parse_max_id(p, keyword, args, &p->cfg.max_adapter);
	case KW_MAX_DOMAIN:
		return parse_max_id(p, keyword, args, &p->cfg.max_domain);
	case KW_USAGE_DOMAINS:
		return parse_id_list(p, args, true, &p->cfg.usage_domains);
	case KW_CONTROL_DOMAINS:
		return parse_id_list(p, args, true, &p->cfg.control_domains);
	case KW_APMASK:
		return parse_mask(p, args, &p->cfg.apmask);
	case KW_AQMASK:
		return parse_mask(p, args, &p->cfg.aqmask);
	case KW_VFIO_AP:
		return parse_vfio_ap(p, args);
	}
	return 0;
}

/* The highest id of s above max, or -1. */
static int id_above(const struct idset *s, unsigned max)
{
	return max + 1 < AP_ID_COUNT ? idset_next(s, (int) max + 1) : -1;
}

static int check_mdev(struct parser *p, size_t i)
{
	const struct sim_config *cfg = &p->cfg;
	const struct sim_mdev_config *m = &cfg->mdevs[i];
	unsigned line = p->mdev_line[i];
	struct idset host_ap = idset_and(&m->adapters, &cfg->apmask);
	struct idset host_dom = idset_and(&m->domains, &cfg->aqmask);
	int id;

	if (!cfg->vfio_ap_loaded)
		return fail(p, line, "mdev %s needs vfio_ap loaded", m->uuid);
	if ((id = id_above(&m->adapters, cfg->max_adapter)) >= 0)
		return fail(p, line, "mdev %s: adapter %d is above max-adapter %u", m->uuid, id,
			    cfg->max_adapter);
	if ((id = id_above(&m->domains, cfg->max_domain)) >= 0)
		return fail(p, line, "mdev %s: domain %d is above max-domain %u", m->uuid, id,
			    cfg->max_domain);
	if ((id = id_above(&m->control_domains, cfg->max_domain)) >= 0)
		return fail(p, line, "mdev %s: control domain %d is above max-domain %u", m->uuid,
			    id, cfg->max_domain);
	if (!idset_empty(&host_ap) && !idset_empty(&host_dom))
		return fail(p, line,
			    "mdev %s: queue %02x.%04x is in the host pool (apmask x aqmask)",
			    m->uuid, (unsigned) idset_next(&host_ap, 0),
			    (unsigned) idset_next(&host_dom, 0));
	for (size_t j = 0; j < i; j++) {
		const struct sim_mdev_config *o = &cfg->mdevs[j];
		struct idset ap = idset_and(&m->adapters, &o->adapters);
		struct idset dom = idset_and(&m->domains, &o->domains);

		if (!idset_empty(&ap) && !idset_empty(&dom))
			return fail(p, line,
				    "mdev %s: queue %02x.%04x is also in mdev %s (line %u)",
				    m->uuid, (unsigned) idset_next(&ap, 0),
				    (unsigned) idset_next(&dom, 0), o->uuid, p->mdev_line[j]);
	}
	return 0;
}

static int check_config(struct parser *p)
{
	struct sim_config *cfg = &p->cfg;
	int id;

	for (size_t i = 0; i < cfg->n_cards; i++)
		if (cfg->cards[i].id > cfg->max_adapter)
			return fail(p, p->card_line[i], "card %u is above max-adapter %u",
				    cfg->cards[i].id, cfg->max_adapter);
	if ((id = id_above(&cfg->usage_domains, cfg->max_domain)) >= 0)
		return fail(p, p->singleton_line[KW_USAGE_DOMAINS],
			    "usage domain %d is above max-domain %u", id, cfg->max_domain);
	if ((id = id_above(&cfg->control_domains, cfg->max_domain)) >= 0)
		return fail(p, p->singleton_line[KW_CONTROL_DOMAINS],
			    "control domain %d is above max-domain %u", id, cfg->max_domain);
	/* The architecture makes every usage domain a control domain too. */
	cfg->control_domains = idset_or(&cfg->control_domains, &cfg->usage_domains);

	for (size_t i = 0; i < cfg->n_mdevs; i++) {
		int r = check_mdev(p, i);

		if (r < 0)
			return r;
	}
	return 0;
}

int sim_config_parse(const char *text, const char *name, struct sim_config *ret, char *err,
		     size_t err_size)
{
	_cleanup_free_ struct parser *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *copy = strdup(text);
	char *line, *next;
	int r;

	if (!p || !copy)
		return -ENOMEM;
	p->name = name;
	p->err = err;
	p->err_size = err_size;
	p->cfg.kernel_major = DEFAULT_KERNEL_MAJOR;
	p->cfg.kernel_minor = DEFAULT_KERNEL_MINOR;
	p->cfg.max_adapter = DEFAULT_MAX_ADAPTER;
	p->cfg.max_domain = DEFAULT_MAX_DOMAIN;
	p->cfg.apmask = idset_range(0, AP_ID_COUNT - 1);
	p->cfg.aqmask = idset_range(0, AP_ID_COUNT - 1);
	p->cfg.vfio_ap_loaded = true;

	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p->line++;
		r = parse_line(p, line);
		if (r < 0)
			return r;
	}
	r = check_config(p);
	if (r < 0)
		return r;
	*ret = p->cfg;
	return 0;
}

int sim_config_load(const char *path, struct sim_config *ret, char *err, size_t err_size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (!f) {
		int r = -errno;

		if (err && err_size)
			snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	text = malloc(HOSTFILE_MAX_SIZE + 1);
	if (!text)
		return -ENOMEM;
	len = fread(text, 1, HOSTFILE_MAX_SIZE + 1, f);
	if (ferror(f)) {
		if (err && err_size)
			snprintf(err, err_size, "%s: read error", path);
		return -EIO;
	}
	if (len > HOSTFILE_MAX_SIZE) {
		if (err && err_size)
			snprintf(err, err_size, "%s: larger than %d bytes: not a host file", path,
				 HOSTFILE_MAX_SIZE);
		return -EFBIG;
	}
	if (memchr(text, '\0', len)) {
		if (err && err_size)
			snprintf(err, err_size, "%s: contains a NUL byte: not a host file", path);
		return -EINVAL;
	}
	text[len] = '\0';
	return sim_config_parse(text, path, ret, err, err_size);
}
