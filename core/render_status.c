/* SPDX-License-Identifier: MIT */
/*
 * status and status.json: the host summary, the lszcrypt-like table of
 * cards and queues with their pool, owner and reservation, the guests, and
 * the warnings. Both files are built from the same helpers so that they
 * never disagree.
 */
#include <string.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/render.h"
#include "core/render_private.h"
#include "core/rules.h"

/* How many APQNs a warning or the guests table names before "and N more". */
#define APQN_LIST_LIMIT 8

/* ---- warnings ---- */

static int append_apqn_list(struct strbuf *out, const struct apqn_set *set, unsigned limit)
{
	size_t need = apqn_list_format(set, limit, NULL, 0);
	int r = strbuf_reserve(out, need);

	if (r < 0)
		return r;
	apqn_list_format(set, limit, out->data + out->len, need + 1);
	out->len += need;
	return 0;
}

/* Reservations whose guest is gone: the keys may still be there, and nobody will claim them. */
static int warn_orphan_reservations(const struct model *m, struct strbuf *out)
{
	struct apqn q;

	APQN_SET_FOREACH (q, model_reserved(m)) {
		const char *owner = model_reservation(m, q);
		char name[APQN_NAME_SIZE];
		int r;

		if (model_guest_by_name(m, owner))
			continue;
		apqn_name_format(q, name);
		r = strbuf_appendf(out,
				   "%s is reserved for guest %s, which does not exist: once its "
				   "domain's keys are dealt with, rm reservations/%s\n",
				   name, owner, name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Matrices that name queues the host does not have: the guest will not see them. */
static int warn_overprovisioned(const struct model *m, struct strbuf *out)
{
	const struct host *h = model_host(m);
	struct idset aps = idset_range(0, h->max_adapter), doms = idset_range(0, h->max_domain);

	GUEST_FOREACH (g, m) {
		struct idset ga = idset_and(&g->adapters, &aps), gd = idset_and(&g->domains, &doms);
		struct apqn_set lacking;
		struct apqn q;
		int r;

		apqn_set_clear(&lacking);
		IDSET_FOREACH (ap, &ga)
			IDSET_FOREACH (dom, &gd) {
				q = (struct apqn){ (uint8_t) ap, (uint8_t) dom };
				if (!apqn_set_has(&h->queues, q))
					apqn_set_add(&lacking, q);
			}
		if (apqn_set_empty(&lacking))
			continue;
		r = strbuf_appendf(
		    out, "guest %s's matrix names queues the host does not have: ", g->name);
		if (r >= 0)
			r = append_apqn_list(out, &lacking, APQN_LIST_LIMIT);
		if (r >= 0)
			r = strbuf_puts(out, "\n");
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every warning, one per line. */
static int collect_warnings(const struct model *m, struct strbuf *out)
{
	size_t need = rules_warnings(m, NULL, 0);
	int r = strbuf_reserve(out, need);

	if (r < 0)
		return r;
	rules_warnings(m, out->data + out->len, need + 1);
	out->len += need;
	r = warn_orphan_reservations(m, out);
	return r < 0 ? r : warn_overprovisioned(m, out);
}

/* ---- the cards and queues table ---- */

enum column { COL_NAME, COL_TYPE, COL_MODE, COL_STATUS, COL_POOL, COL_OWNER, COL_RESERVED, N_COLS };

static const char *const column_titles[N_COLS] = {
	"CARD.DOMAIN", "TYPE", "MODE", "STATUS", "POOL", "OWNER", "RESERVED",
};

/* The pool of all of the card's queues: "host", "vfio", "mixed", or "-" without queues. */
static const char *card_pool(const struct model *m, unsigned ap)
{
	const struct host *h = model_host(m);
	bool host = false, vfio = false;

	for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
		struct apqn q = { (uint8_t) ap, (uint8_t) dom };

		if (!apqn_set_has(&h->queues, q))
			continue;
		if (model_apqn_pool(m, q) == POOL_HOST)
			host = true;
		else
			vfio = true;
	}
	if (host && vfio)
		return "mixed";
	return host ? "host" : vfio ? "vfio" : "-";
}

/* The guests that have adapter ap assigned, comma-separated; "-" for none. */
static int card_guests(const struct model *m, unsigned ap, struct strbuf *out)
{
	size_t start = out->len;
	int r = 0;

	GUEST_FOREACH (g, m) {
		if (!idset_has(&g->adapters, ap))
			continue;
		r = strbuf_appendf(out, "%s%s", out->len > start ? "," : "", g->name);
		if (r < 0)
			return r;
	}
	return out->len > start ? 0 : strbuf_puts(out, "-");
}

typedef int (*row_fn)(void *ctx, const char *const cols[N_COLS]);

/* Calls fn for each card the host has, then for each of the card's queues. */
static int table_walk(const struct model *m, row_fn fn, void *ctx)
{
	const struct host *h = model_host(m);
	_cleanup_strbuf_ struct strbuf guests = STRBUF_INIT;

	IDSET_FOREACH (ap, &h->adapters) {
		const struct host_card *c = &h->cards[ap];
		const char *type = render_card_type(c), *mode = render_card_mode(c->mode);
		char name[APQN_NAME_SIZE];
		int r;

		strbuf_reset(&guests);
		r = card_guests(m, (unsigned) ap, &guests);
		if (r < 0)
			return r;
		adapter_name_format((unsigned) ap, name);
		r = fn(ctx, (const char *const[N_COLS]){ name, type, mode, render_card_status(c),
							 card_pool(m, (unsigned) ap), guests.data,
							 "-" });
		if (r < 0)
			return r;
		for (unsigned dom = 0; dom < AP_ID_COUNT; dom++) {
			struct apqn q = { (uint8_t) ap, (uint8_t) dom };
			const struct guest *owner;
			const char *reserved;

			if (!apqn_set_has(&h->queues, q))
				continue;
			owner = model_apqn_owner(m, q);
			reserved = model_reservation(m, q);
			apqn_name_format(q, name);
			r = fn(ctx, (const char *const[N_COLS]){
					name, type, mode, render_queue_state(m, q),
					render_pool_name(model_apqn_pool(m, q)),
					owner ? owner->name : "-", reserved ? reserved : "-" });
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct table {
	size_t width[N_COLS];
	struct strbuf *out;
};

static int table_measure(void *ctx, const char *const cols[N_COLS])
{
	struct table *t = ctx;

	for (unsigned i = 0; i < N_COLS; i++) {
		size_t n = strlen(cols[i]);

		if (n > t->width[i])
			t->width[i] = n;
	}
	return 0;
}

static int table_print(void *ctx, const char *const cols[N_COLS])
{
	struct table *t = ctx;
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < N_COLS; i++) {
		if (i + 1 == N_COLS)
			r = strbuf_put_column(t->out, cols[i], 0, '\n');
		else
			r = strbuf_put_column(t->out, cols[i], t->width[i], ' ');
	}
	return r;
}

static int append_table(const struct model *m, struct strbuf *out)
{
	struct table t = { .out = out };
	int r;

	table_measure(&t, column_titles);
	r = table_walk(m, table_measure, &t);
	if (r >= 0)
		r = table_print(&t, column_titles);
	return r < 0 ? r : table_walk(m, table_print, &t);
}

/* ---- status ---- */

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static int append_host_summary(const struct model *m, struct strbuf *out)
{
	const struct host *h = model_host(m);
	struct apqn_set host_pool, vfio_pool;
	const struct {
		const char *key;
		const struct idset *set;
	} sets[] = {
		{ "cards:", &h->adapters },
		{ "usage domains:", &h->usage_domains },
		{ "control domains:", &h->control_domains },
		{ "apmask (adapters):", &h->apmask },
		{ "aqmask (domains):", &h->aqmask },
	};
	int r;

	r = strbuf_appendf(out,
			   "Host\n"
			   "  %-19s %s\n"
			   "  %-19s %s\n"
			   "  %-19s %s\n"
			   "  %-19s %s\n"
			   "  %-19s %u\n"
			   "  %-19s %u\n",
			   "kernel:",
			   h->caps.dynamic ? "6.0 or later (dynamic: changes to a running guest "
					     "are hot plugged)"
					   : "before 6.0 (a running guest's matrix is fixed)",
			   "ap_config:", yes_no(h->caps.ap_config),
			   "queue status:", yes_no(h->caps.queue_status),
			   "vfio_ap:", h->caps.vfio_ap ? "loaded" : "not loaded",
			   "max adapter id:", h->max_adapter, "max domain id:", h->max_domain);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(sets); i++) {
		r = strbuf_appendf(out, "  %-19s ", sets[i].key);
		if (r >= 0)
			r = render_append_ranges(out, sets[i].set);
		if (r >= 0)
			r = strbuf_puts(out, "\n");
	}
	if (r < 0)
		return r;
	model_pool_queues(m, POOL_HOST, &host_pool);
	model_pool_queues(m, POOL_VFIO, &vfio_pool);
	return strbuf_appendf(out,
			      "  %-19s %u\n"
			      "  %-19s %u\n"
			      "  %-19s %zu\n",
			      "host pool queues:", apqn_set_count(&host_pool),
			      "vfio pool queues:", apqn_set_count(&vfio_pool),
			      "guests:", model_guest_count(m));
}

static int append_guests(const struct model *m, struct strbuf *out)
{
	int name_width = (int) strlen("NAME");
	int r;

	GUEST_FOREACH (g, m) {
		int n = (int) strlen(g->name);

		if (n > name_width)
			name_width = n;
	}
	r = strbuf_appendf(out, "%-*s %-7s %-36s %s\n", name_width, "NAME", "STATE", "UUID",
			   "QUEUES");
	GUEST_FOREACH (g, m) {
		struct apqn_set matrix;

		if (r < 0)
			break;
		guest_matrix_apqns(g, &matrix);
		r = strbuf_appendf(out, "%-*s %-7s %-36s ", name_width, g->name,
				   render_guest_state_name(g->state), g->uuid);
		if (r >= 0)
			r = apqn_set_empty(&matrix)
				? strbuf_puts(out, "-")
				: append_apqn_list(out, &matrix, APQN_LIST_LIMIT);
		if (r >= 0)
			r = strbuf_puts(out, "\n");
	}
	return r < 0 ? r : 0;
}

int render_status(const struct model *m, struct strbuf *out)
{
	size_t before;
	int r;

	r = append_host_summary(m, out);
	if (r >= 0)
		r = strbuf_puts(out, "\nQueues\n");
	if (r >= 0)
		r = append_table(m, out);
	if (r >= 0)
		r = strbuf_puts(out, "\nGuests\n");
	if (r >= 0)
		r = append_guests(m, out);
	if (r >= 0)
		r = strbuf_puts(out, "\nWarnings\n");
	if (r < 0)
		return r;
	before = out->len;
	r = collect_warnings(m, out);
	if (r >= 0 && out->len == before)
		r = strbuf_puts(out, "none\n");
	return r < 0 ? r : 0;
}

/* ---- status.json ---- */

static int json_ids(struct strbuf *out, const char *key, const struct idset *s)
{
	int r = strbuf_appendf(out, "\"%s\":[", key);

	IDSET_FOREACH (id, s) {
		if (r < 0)
			return r;
		r = strbuf_appendf(out, "%s%d", id == idset_next(s, 0) ? "" : ",", id);
	}
	return r < 0 ? r : strbuf_puts(out, "]");
}

static int json_ranges(struct strbuf *out, const char *key, const struct idset *s)
{
	int r = strbuf_appendf(out, "\"%s\":\"", key);

	if (r >= 0)
		r = render_append_ranges(out, s);
	return r < 0 ? r : strbuf_puts(out, "\"");
}

/* "key":"value" or "key":null; value is escaped. */
static int json_string_or_null(struct strbuf *out, const char *key, const char *value)
{
	int r = strbuf_appendf(out, "\"%s\":", key);

	if (r < 0)
		return r;
	return value ? render_append_json_string(out, value) : strbuf_puts(out, "null");
}

static int json_host(const struct model *m, struct strbuf *out)
{
	const struct host *h = model_host(m);
	int r;

	r = strbuf_appendf(out,
			   "\"host\":{\"kernel\":{\"dynamic\":%s,\"ap_config\":%s,"
			   "\"queue_status\":%s,\"vfio_ap\":%s},"
			   "\"max_adapter\":%u,\"max_domain\":%u,",
			   h->caps.dynamic ? "true" : "false", h->caps.ap_config ? "true" : "false",
			   h->caps.queue_status ? "true" : "false",
			   h->caps.vfio_ap ? "true" : "false", h->max_adapter, h->max_domain);
	if (r >= 0)
		r = json_ids(out, "adapters", &h->adapters);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ids(out, "usage_domains", &h->usage_domains);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ids(out, "control_domains", &h->control_domains);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ranges(out, "apmask", &h->apmask);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ranges(out, "aqmask", &h->aqmask);
	return r < 0 ? r : strbuf_puts(out, "}");
}

static int json_queue(const struct model *m, struct apqn q, struct strbuf *out)
{
	const struct host *h = model_host(m);
	const struct guest *owner = model_apqn_owner(m, q);
	char name[APQN_NAME_SIZE];
	int r;

	r = strbuf_appendf(out,
			   "{\"name\":\"%s\",\"adapter\":%u,\"domain\":%u,\"state\":\"%s\","
			   "\"pool\":\"%s\",\"driver\":\"%s\",",
			   apqn_name_format(q, name), q.ap, q.dom, render_queue_state(m, q),
			   render_pool_name(model_apqn_pool(m, q)), render_queue_driver(h, q));
	if (r >= 0)
		r = json_string_or_null(out, "owner", owner ? owner->name : NULL);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_string_or_null(out, "reserved", model_reservation(m, q));
	return r < 0 ? r : strbuf_puts(out, "}");
}

static int json_card(const struct model *m, unsigned ap, struct strbuf *out)
{
	const struct host *h = model_host(m);
	const struct host_card *c = &h->cards[ap];
	bool first = true;
	int r;

	r = strbuf_appendf(out, "{\"name\":\"%02x\",\"adapter\":%u,", ap, ap);
	if (r >= 0)
		r = json_string_or_null(out, "type", c->type[0] ? c->type : NULL);
	if (r >= 0)
		r = strbuf_appendf(out,
				   ",\"mode\":\"%s\",\"hwtype\":%u,\"raw_hwtype\":%u,"
				   "\"status\":\"%s\",\"online\":%s,\"config\":%s,\"chkstop\":%s,"
				   "\"depth\":%u,\"functions\":\"0x%08X\",\"pool\":\"%s\","
				   "\"guests\":[",
				   render_card_mode(c->mode), c->hwtype, c->raw_hwtype,
				   render_card_status(c), c->online ? "true" : "false",
				   c->config ? "true" : "false", c->chkstop ? "true" : "false",
				   c->depth, (unsigned) c->functions, card_pool(m, ap));
	GUEST_FOREACH (g, m) {
		if (r < 0)
			return r;
		if (!idset_has(&g->adapters, ap))
			continue;
		r = strbuf_puts(out, first ? "" : ",");
		if (r >= 0)
			r = render_append_json_string(out, g->name);
		first = false;
	}
	if (r >= 0)
		r = strbuf_puts(out, "],\"queues\":[");
	first = true;
	for (unsigned dom = 0; r >= 0 && dom < AP_ID_COUNT; dom++) {
		struct apqn q = { (uint8_t) ap, (uint8_t) dom };

		if (!apqn_set_has(&h->queues, q))
			continue;
		r = strbuf_puts(out, first ? "" : ",");
		if (r >= 0)
			r = json_queue(m, q, out);
		first = false;
	}
	return r < 0 ? r : strbuf_puts(out, "]}");
}

static int json_apqn_names(struct strbuf *out, const char *key, const struct apqn_set *set)
{
	struct apqn q;
	bool first = true;
	int r = strbuf_appendf(out, "\"%s\":[", key);

	APQN_SET_FOREACH (q, set) {
		char name[APQN_NAME_SIZE];

		if (r < 0)
			return r;
		r = strbuf_appendf(out, "%s\"%s\"", first ? "" : ",", apqn_name_format(q, name));
		first = false;
	}
	return r < 0 ? r : strbuf_puts(out, "]");
}

static int json_guest(const struct model *m, const struct guest *g, struct strbuf *out)
{
	struct apqn_set set;
	int r;

	r = strbuf_puts(out, "{");
	if (r >= 0)
		r = json_string_or_null(out, "name", g->name);
	if (r >= 0)
		r = strbuf_appendf(out, ",\"uuid\":\"%s\",\"state\":\"%s\",\"adopted\":%s,",
				   g->uuid, render_guest_state_name(g->state),
				   g->adopted ? "true" : "false");
	if (r >= 0)
		r = json_ids(out, "adapters", &g->adapters);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ids(out, "domains", &g->domains);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_ids(out, "control_domains", &g->control_domains);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	guest_matrix_apqns(g, &set);
	if (r >= 0)
		r = json_apqn_names(out, "queues", &set);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	model_reservations_of(m, g->name, &set);
	if (r >= 0)
		r = json_apqn_names(out, "reservations", &set);
	return r < 0 ? r : strbuf_puts(out, "}");
}

static int json_reservations(const struct model *m, struct strbuf *out)
{
	struct apqn q;
	bool first = true;
	int r = strbuf_puts(out, "\"reservations\":[");

	APQN_SET_FOREACH (q, model_reserved(m)) {
		char name[APQN_NAME_SIZE];

		if (r < 0)
			return r;
		r = strbuf_appendf(out, "%s{\"queue\":\"%s\",", first ? "" : ",",
				   apqn_name_format(q, name));
		if (r >= 0)
			r = json_string_or_null(out, "guest", model_reservation(m, q));
		if (r >= 0)
			r = strbuf_puts(out, "}");
		first = false;
	}
	return r < 0 ? r : strbuf_puts(out, "]");
}

/* The warnings as a JSON array of strings, one per line of the text. */
static int json_warnings(const struct model *m, struct strbuf *out)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	int r = collect_warnings(m, &text);
	bool first = true;

	if (r >= 0)
		r = strbuf_puts(out, "\"warnings\":[");
	for (char *line = text.data; r >= 0 && line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		r = strbuf_puts(out, first ? "" : ",");
		if (r >= 0)
			r = render_append_json_string(out, line);
		first = false;
		line = nl ? nl + 1 : NULL;
	}
	return r < 0 ? r : strbuf_puts(out, "]");
}

int render_status_json(const struct model *m, struct strbuf *out)
{
	const struct host *h = model_host(m);
	bool first = true;
	int r;

	r = strbuf_puts(out, "{");
	if (r >= 0)
		r = json_host(m, out);
	if (r >= 0)
		r = strbuf_puts(out, ",\"cards\":[");
	IDSET_FOREACH (ap, &h->adapters) {
		if (r < 0)
			return r;
		r = strbuf_puts(out, first ? "" : ",");
		if (r >= 0)
			r = json_card(m, (unsigned) ap, out);
		first = false;
	}
	if (r >= 0)
		r = strbuf_puts(out, "],\"guests\":[");
	first = true;
	GUEST_FOREACH (g, m) {
		if (r < 0)
			return r;
		r = strbuf_puts(out, first ? "" : ",");
		if (r >= 0)
			r = json_guest(m, g, out);
		first = false;
	}
	if (r >= 0)
		r = strbuf_puts(out, "],");
	if (r >= 0)
		r = json_reservations(m, out);
	if (r >= 0)
		r = strbuf_puts(out, ",");
	if (r >= 0)
		r = json_warnings(m, out);
	return r < 0 ? r : strbuf_puts(out, "}\n");
}
