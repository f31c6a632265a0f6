/* SPDX-License-Identifier: MIT */
/*
 * The small files of the tree: cards, queues, the host pool's masks and the
 * files of each guest, plus the words and appenders the status renderers
 * share with them.
 */
#include "core/render.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/idparse.h"
#include "core/render_private.h"

/* ---- shared words and appenders ---- */

const char *render_card_type(const struct host_card *card)
{
	return card->type[0] ? card->type : "-";
}

const char *render_card_mode(enum card_mode mode)
{
	switch (mode) {
	case CARD_MODE_ACCEL:
		return "Accelerator";
	case CARD_MODE_CCA:
		return "CCA-Coproc";
	case CARD_MODE_EP11:
		return "EP11-Coproc";
	case CARD_MODE_UNKNOWN:
		break;
	}
	/* lszcrypt's word for a card whose functions name no mode */
	return "Unknown";
}

const char *render_card_status(const struct host_card *card)
{
	if (card->chkstop)
		return "checkstop";
	if (!card->config)
		return "deconfig";
	return card->online ? "online" : "offline";
}

const char *render_queue_state(const struct model *m, struct apqn q)
{
	const struct host *h = model_host(m);
	const struct host_card *card = &h->cards[q.ap];

	if (card->chkstop)
		return "checkstop";
	if (!card->config)
		return "deconfig";
	if (apqn_set_has(&h->vfio_bound, q)) {
		const struct guest *owner = model_apqn_owner(m, q);

		/* Kernels without the queue's status file only show that the guest runs. */
		if (apqn_set_has(&h->in_use, q) || (owner && owner->state == GUEST_RUNNING))
			return "in-use";
		/* a missing guest's matrix is only zapfs's plan: no mdev holds the queue */
		return owner && owner->state != GUEST_MISSING ? "assigned" : "free";
	}
	if (apqn_set_has(&h->default_bound, q))
		return apqn_set_has(&h->online, q) ? "online" : "offline";
	return "unbound";
}

const char *render_queue_driver(const struct host *h, struct apqn q)
{
	if (apqn_set_has(&h->vfio_bound, q))
		return "vfio_ap";
	if (apqn_set_has(&h->default_bound, q))
		return "cex4queue";
	return "none";
}

const char *render_pool_name(enum apqn_pool pool)
{
	return pool == POOL_HOST ? "host" : "vfio";
}

const char *render_guest_state_name(enum guest_state state)
{
	switch (state) {
	case GUEST_RUNNING:
		return "running";
	case GUEST_MISSING:
		return "missing";
	case GUEST_ACTIVE:
		break;
	}
	return "active";
}

int render_append_ranges(struct strbuf *out, const struct idset *s)
{
	int r = strbuf_reserve(out, IDSET_RANGES_SIZE);

	if (r < 0)
		return r;
	out->len += idset_format_ranges(s, out->data + out->len, IDSET_RANGES_SIZE);
	return 0;
}

int render_append_json_string(struct strbuf *out, const char *s)
{
	int r = strbuf_puts(out, "\"");

	for (; r >= 0 && *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			r = strbuf_appendf(out, "\\%c", c);
		else if (c == '\n')
			r = strbuf_puts(out, "\\n");
		else if (c == '\t')
			r = strbuf_puts(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = strbuf_appendf(out, "\\u%04x", c);
		else
			r = strbuf_append(out, s, 1);
	}
	return r < 0 ? r : strbuf_puts(out, "\"");
}

/* ---- cards/XX/<attr> ---- */

static const char *const card_attr_names[_CARD_ATTR_MAX] = {
	[CARD_ATTR_TYPE] = "type",	     [CARD_ATTR_MODE] = "mode",
	[CARD_ATTR_HWTYPE] = "hwtype",	     [CARD_ATTR_RAW_HWTYPE] = "raw_hwtype",
	[CARD_ATTR_ONLINE] = "online",	     [CARD_ATTR_CONFIG] = "config",
	[CARD_ATTR_CHKSTOP] = "chkstop",     [CARD_ATTR_DEPTH] = "depth",
	[CARD_ATTR_FUNCTIONS] = "functions",
};

const char *card_attr_name(enum card_attr attr)
{
	return (unsigned) attr < _CARD_ATTR_MAX ? card_attr_names[attr] : NULL;
}

int card_attr_from_name(const char *name, enum card_attr *ret)
{
	for (unsigned i = 0; i < _CARD_ATTR_MAX; i++)
		if (strcmp(name, card_attr_names[i]) == 0) {
			*ret = (enum card_attr) i;
			return 0;
		}
	return -ENOENT;
}

int render_card_attr(const struct model *m, unsigned card, enum card_attr attr, struct strbuf *out)
{
	const struct host *h = model_host(m);
	const struct host_card *c;

	if (!idset_has(&h->adapters, card))
		return -ENOENT;
	c = &h->cards[card];
	switch (attr) {
	case CARD_ATTR_TYPE:
		return strbuf_appendf(out, "%s\n", render_card_type(c));
	case CARD_ATTR_MODE:
		return strbuf_appendf(out, "%s\n", render_card_mode(c->mode));
	case CARD_ATTR_HWTYPE:
		return strbuf_appendf(out, "%u\n", c->hwtype);
	case CARD_ATTR_RAW_HWTYPE:
		return strbuf_appendf(out, "%u\n", c->raw_hwtype);
	case CARD_ATTR_ONLINE:
		return strbuf_appendf(out, "%d\n", c->online);
	case CARD_ATTR_CONFIG:
		return strbuf_appendf(out, "%d\n", c->config);
	case CARD_ATTR_CHKSTOP:
		return strbuf_appendf(out, "%d\n", c->chkstop);
	case CARD_ATTR_DEPTH:
		return strbuf_appendf(out, "%u\n", c->depth);
	case CARD_ATTR_FUNCTIONS:
		/* the kernel's ap_functions format */
		return strbuf_appendf(out, "0x%08X\n", (unsigned) c->functions);
	case _CARD_ATTR_MAX:
		break;
	}
	return -ENOENT;
}

/* ---- queues/XX.YYYY ---- */

int render_queue(const struct model *m, struct apqn q, struct strbuf *out)
{
	const struct host *h = model_host(m);
	const struct host_card *c = &h->cards[q.ap];
	const struct guest *owner;
	const char *reserved;
	const char *online = "-"; /* only the host's drivers have an online switch */

	if (!apqn_set_has(&h->queues, q))
		return -ENOENT;
	owner = model_apqn_owner(m, q);
	reserved = model_reservation(m, q);
	if (apqn_set_has(&h->default_bound, q))
		online = apqn_set_has(&h->online, q) ? "1" : "0";
	return strbuf_appendf(out,
			      "type: %s\n"
			      "mode: %s\n"
			      "pool: %s\n"
			      "driver: %s\n"
			      "owner: %s\n"
			      "reservation: %s\n"
			      "online: %s\n"
			      "config: %d\n"
			      "state: %s\n",
			      render_card_type(c), render_card_mode(c->mode),
			      render_pool_name(model_apqn_pool(m, q)), render_queue_driver(h, q),
			      owner ? owner->name : "none", reserved ? reserved : "none", online,
			      c->config, render_queue_state(m, q));
}

/* ---- pools/host/{adapters,domains} ---- */

int render_host_mask(const struct model *m, enum host_mask mask, struct strbuf *out)
{
	const struct host *h = model_host(m);
	int r = render_append_ranges(out, mask == MASK_AP ? &h->apmask : &h->aqmask);

	return r < 0 ? r : strbuf_puts(out, "\n");
}

/* ---- guests/NAME/<file> ---- */

static const char *const guest_file_names[_GUEST_FILE_MAX] = {
	[GUEST_FILE_UUID] = "uuid",
	[GUEST_FILE_STATE] = "state",
	[GUEST_FILE_MATRIX] = "matrix",
	[GUEST_FILE_GUEST_MATRIX] = "guest_matrix",
	[GUEST_FILE_QEMU] = "qemu",
	[GUEST_FILE_LIBVIRT_XML] = "libvirt.xml",
	[GUEST_FILE_MDEVCTL_JSON] = "mdevctl.json",
	[GUEST_FILE_LSZCRYPT] = "lszcrypt",
	[GUEST_FILE_NODEDEV_XML] = "nodedev.xml",
};

const char *guest_file_name(enum guest_file file)
{
	return (unsigned) file < _GUEST_FILE_MAX ? guest_file_names[file] : NULL;
}

int guest_file_from_name(const char *name, enum guest_file *ret)
{
	for (unsigned i = 0; i < _GUEST_FILE_MAX; i++)
		if (strcmp(name, guest_file_names[i]) == 0) {
			*ret = (enum guest_file) i;
			return 0;
		}
	return -ENOENT;
}

int render_guest_uuid(const struct guest *g, struct strbuf *out)
{
	return strbuf_appendf(out, "%s\n", g->uuid);
}

int render_guest_state(const struct guest *g, struct strbuf *out)
{
	return strbuf_appendf(out, "%s\n", render_guest_state_name(g->state));
}

static int append_matrix(const struct model *m, const struct idset *adapters,
			 const struct idset *domains, struct strbuf *out)
{
	const struct host *h = model_host(m);
	size_t need = matrix_format(adapters, domains, h->max_adapter, h->max_domain, NULL, 0);
	int r = strbuf_reserve(out, need);

	if (r < 0)
		return r;
	matrix_format(adapters, domains, h->max_adapter, h->max_domain, out->data + out->len,
		      need + 1);
	out->len += need;
	return 0;
}

int render_guest_matrix(const struct model *m, const struct guest *g, struct strbuf *out)
{
	return append_matrix(m, &g->adapters, &g->domains, out);
}

int render_guest_guest_matrix(const struct model *m, const struct guest *g, struct strbuf *out)
{
	return append_matrix(m, &g->guest_adapters, &g->guest_domains, out);
}

int render_guest_qemu(const struct guest *g, const char *matrix_dir, struct strbuf *out)
{
	size_t n;

	if (!matrix_dir)
		return -EINVAL;
	n = strlen(matrix_dir);
	while (n > 1 && matrix_dir[n - 1] == '/')
		n--;
	return strbuf_appendf(out,
			      "-cpu host,ap=on,apqci=on,apft=on -device vfio-ap,sysfsdev=%.*s/%s\n",
			      (int) n, matrix_dir, g->uuid);
}

int render_guest_libvirt_xml(const struct guest *g, struct strbuf *out)
{
	/* The UUID is validated by the model: hex digits and dashes need no escaping. */
	return strbuf_appendf(out,
			      "<hostdev mode='subsystem' type='mdev' model='vfio-ap'>\n"
			      "  <source>\n"
			      "    <address uuid='%s'/>\n"
			      "  </source>\n"
			      "</hostdev>\n",
			      g->uuid);
}

/* How a matrix attribute is written: in mdevctl's JSON, or in libvirt's XML. */
enum attr_style {
	ATTR_JSON,
	ATTR_XML,
};

/*
 * The attributes that rebuild g's matrix: adapters, then domains, then
 * control domains (the kernel's order), decimal as s390-tools' ap-check
 * prints a running mdev's attributes.
 */
static int append_matrix_attrs(struct strbuf *out, const struct guest *g, enum attr_style style)
{
	const struct {
		const char *name;
		const struct idset *ids;
	} parts[] = {
		{ "assign_adapter", &g->adapters },
		{ "assign_domain", &g->domains },
		{ "assign_control_domain", &g->control_domains },
	};
	bool first = true;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		IDSET_FOREACH (id, parts[i].ids) {
			int r;

			if (style == ATTR_JSON)
				r = strbuf_appendf(out, "%s    {\n      \"%s\": \"%d\"\n    }",
						   first ? "" : ",\n", parts[i].name, id);
			else
				r = strbuf_appendf(out, "    <attr name='%s' value='%d'/>\n",
						   parts[i].name, id);
			if (r < 0)
				return r;
			first = false;
		}
	}
	return 0;
}

int render_guest_mdevctl_json(const struct guest *g, struct strbuf *out)
{
	bool empty = idset_empty(&g->adapters) && idset_empty(&g->domains) &&
		     idset_empty(&g->control_domains);
	int r;

	/* byte for byte what `mdevctl define` writes (serde_json's pretty form) */
	r = strbuf_puts(out, "{\n"
			     "  \"mdev_type\": \"vfio_ap-passthrough\",\n"
			     "  \"start\": \"auto\",\n"
			     "  \"attrs\": [");
	if (r >= 0 && !empty) {
		r = strbuf_puts(out, "\n");
		if (r >= 0)
			r = append_matrix_attrs(out, g, ATTR_JSON);
		if (r >= 0)
			r = strbuf_puts(out, "\n  ");
	}
	return r < 0 ? r : strbuf_puts(out, "]\n}");
}

int render_guest_nodedev_xml(const struct guest *g, struct strbuf *out)
{
	char name[UUID_STR_LEN + 1];
	int r;

	/* libvirt names an mdev's node device after its UUID and parent */
	snprintf(name, sizeof(name), "%s", g->uuid);
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	r = strbuf_appendf(out,
			   "<device>\n"
			   "  <name>mdev_%s_matrix</name>\n"
			   "  <parent>ap_matrix</parent>\n"
			   "  <capability type='mdev'>\n"
			   "    <type id='vfio_ap-passthrough'/>\n"
			   "    <uuid>%s</uuid>\n",
			   name, g->uuid);
	if (r >= 0)
		r = append_matrix_attrs(out, g, ATTR_XML);
	return r < 0 ? r : strbuf_puts(out, "  </capability>\n</device>\n");
}

int render_guest_lszcrypt(const struct model *m, const struct guest *g, struct strbuf *out)
{
	const struct host *h = model_host(m);
	int r = strbuf_puts(out, "CARD.DOMAIN TYPE MODE\n"
				 "------------------------------\n");

	/*
	 * Inside the guest, a card appears only with at least one queue that
	 * answers, and a queue answers only where the host really has it.
	 */
	IDSET_FOREACH (ap, &g->guest_adapters) {
		const struct host_card *c = &h->cards[ap];
		const char *type = render_card_type(c), *mode = render_card_mode(c->mode);
		bool card_listed = false;

		if (r < 0)
			break;
		if ((unsigned) ap > h->max_adapter || !idset_has(&h->adapters, (unsigned) ap))
			continue;
		IDSET_FOREACH (dom, &g->guest_domains) {
			struct apqn q = { (uint8_t) ap, (uint8_t) dom };

			if ((unsigned) dom > h->max_domain || !apqn_set_has(&h->queues, q))
				continue;
			if (!card_listed) {
				r = strbuf_appendf(out, "%02x %s %s\n", ap, type, mode);
				card_listed = true;
			}
			if (r >= 0)
				r = strbuf_appendf(out, "%02x.%04x %s %s\n", ap, dom, type, mode);
			if (r < 0)
				break;
		}
	}
	return r < 0 ? r : 0;
}

int render_guest_file(const struct model *m, const struct guest *g, enum guest_file file,
		      const char *matrix_dir, struct strbuf *out)
{
	switch (file) {
	case GUEST_FILE_UUID:
		return render_guest_uuid(g, out);
	case GUEST_FILE_STATE:
		return render_guest_state(g, out);
	case GUEST_FILE_MATRIX:
		return render_guest_matrix(m, g, out);
	case GUEST_FILE_GUEST_MATRIX:
		return render_guest_guest_matrix(m, g, out);
	case GUEST_FILE_QEMU:
		return render_guest_qemu(g, matrix_dir, out);
	case GUEST_FILE_LIBVIRT_XML:
		return render_guest_libvirt_xml(g, out);
	case GUEST_FILE_MDEVCTL_JSON:
		return render_guest_mdevctl_json(g, out);
	case GUEST_FILE_LSZCRYPT:
		return render_guest_lszcrypt(m, g, out);
	case GUEST_FILE_NODEDEV_XML:
		return render_guest_nodedev_xml(g, out);
	case _GUEST_FILE_MAX:
		break;
	}
	return -ENOENT;
}
