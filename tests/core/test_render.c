/* SPDX-License-Identifier: MIT */
/*
 * The generated files of the tree, on the seed document's LPAR: cards 05
 * (CEX5C) and 06 (CEX5A), domains 0004, 0047, 00ab and 00ff, all set aside
 * for guests, and its three guests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/render.h"
#include "core/render_private.h"
#include "core/strbuf.h"

#define UUID1	   "11111111-1111-4111-8111-111111111111"
#define UUID2	   "22222222-2222-4222-8222-222222222222"
#define UUID3	   "33333333-3333-4333-8333-333333333333"
#define MATRIX_DIR "/sys/devices/vfio_ap/matrix"

static const unsigned seed_domains[] = { 0x04, 0x47, 0xab, 0xff };

static struct idset idset_of(const unsigned *ids, size_t n)
{
	struct idset s = IDSET_EMPTY;

	for (size_t i = 0; i < n; i++)
		idset_add(&s, ids[i]);
	return s;
}

#define IDS(...)                                                                                   \
	idset_of((const unsigned[]){ __VA_ARGS__ }, ARRAY_SIZE(((unsigned[]){ __VA_ARGS__ })))

static struct apqn apqn(unsigned ap, unsigned dom)
{
	return (struct apqn){ (uint8_t) ap, (uint8_t) dom };
}

static void set_card(struct host *h, unsigned ap, const char *type, enum card_mode mode,
		     uint32_t functions)
{
	struct host_card *c = &h->cards[ap];

	idset_add(&h->adapters, ap);
	c->hwtype = 11;
	c->raw_hwtype = 11;
	c->depth = 7;
	c->functions = functions;
	c->mode = mode;
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->config = true;
	c->online = true;
}

/* The seed's LPAR after step 2: every queue of 05 and 06 bound to vfio_ap. */
static struct host *seed_host(void)
{
	struct host *h = calloc(1, sizeof(*h));
	struct idset all = idset_range(0, 255);

	assert_non_null(h);
	h->caps = (struct kernel_caps){
		.dynamic = true, .ap_config = true, .queue_status = true, .vfio_ap = true
	};
	h->max_adapter = 63;
	h->max_domain = 255;
	set_card(h, 5, "CEX5C", CARD_MODE_CCA, 0x92000000);
	set_card(h, 6, "CEX5A", CARD_MODE_ACCEL, 0x6A000000);
	h->usage_domains = idset_of(seed_domains, ARRAY_SIZE(seed_domains));
	h->control_domains = h->usage_domains;
	h->apmask = idset_minus(&all, &h->adapters);
	h->aqmask = idset_minus(&all, &h->usage_domains);
	apqn_set_add_cross(&h->queues, &h->adapters, &h->usage_domains);
	h->vfio_bound = h->queues;
	return h;
}

static void add_guest(struct model *m, const char *name, const char *uuid, struct idset adapters,
		      struct idset domains)
{
	struct guest g = { .state = GUEST_ACTIVE, .adapters = adapters, .domains = domains };
	struct apqn_set matrix;
	struct apqn q;

	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.uuid, sizeof(g.uuid), "%s", uuid);
	g.guest_adapters = adapters;
	g.guest_domains = domains;
	assert_int_equal(model_guest_add(m, &g), 0);
	guest_matrix_apqns(&g, &matrix);
	APQN_SET_FOREACH (q, &matrix)
		assert_int_equal(model_reserve(m, q, name), 0);
}

/* The seed's three guests on the seed's LPAR. */
static struct model *seed_model(void)
{
	_cleanup_free_ struct host *h = seed_host();
	struct model *m = NULL;

	assert_int_equal(model_new(&m), 0);
	model_set_host(m, h);
	add_guest(m, "Guest1", UUID1, IDS(5, 6), IDS(0x04, 0xab));
	add_guest(m, "Guest2", UUID2, IDS(5), IDS(0x47, 0xff));
	add_guest(m, "Guest3", UUID3, IDS(6), IDS(0x47, 0xff));
	return m;
}

static void model_freep(struct model **m)
{
	model_free(*m);
}
#define _cleanup_model_ _cleanup_(model_freep)

static const struct guest *guest(const struct model *m, const char *name)
{
	const struct guest *g = model_guest_by_name(m, name);

	assert_non_null(g);
	return g;
}

/* Renders one guest file and compares it with expected, byte for byte. */
static void assert_guest_file(const struct model *m, const char *name, enum guest_file file,
			      const char *expected)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	assert_int_equal(render_guest_file(m, guest(m, name), file, MATRIX_DIR, &out), 0);
	assert_non_null(out.data);
	assert_string_equal(out.data, expected);
	assert_int_equal(out.len, strlen(expected));
}

/* ---- strbuf ---- */

/* A table cell is what "%-*s " prints, and a cell wider than its column is not cut. */
static void test_strbuf_put_column(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	char expect[64];

	(void) state;
	assert_int_equal(strbuf_put_column(&sb, "05.0004", 11, ' '), 0);
	assert_int_equal(strbuf_put_column(&sb, "CEX8C", 3, ' '), 0);
	assert_int_equal(strbuf_put_column(&sb, "", 2, ' '), 0);
	assert_int_equal(strbuf_put_column(&sb, "web1", 0, '\n'), 0);
	snprintf(expect, sizeof(expect), "%-*s %-*s %-*s %s\n", 11, "05.0004", 3, "CEX8C", 2, "",
		 "web1");
	assert_string_equal(sb.data, expect);
	assert_int_equal(sb.len, strlen(expect));
}

static void test_strbuf(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	_cleanup_free_ char *taken = NULL;
	char big[1000];

	(void) state;
	assert_int_equal(strbuf_appendf(&sb, "%s-%d", "a", 1), 0);
	assert_string_equal(sb.data, "a-1");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(strbuf_appendf(&sb, "%s|", big), 0);
	assert_int_equal(sb.len, 3 + 999 + 1);
	assert_int_equal(sb.data[sb.len], '\0');
	assert_int_equal(sb.data[sb.len - 1], '|');
	assert_int_equal(strbuf_append(&sb, "a\0b", 3), 0);
	assert_int_equal(sb.len, 1006);
	assert_memory_equal(sb.data + 1003, "a\0b", 3);
	strbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.data, "");
	assert_int_equal(strbuf_puts(&sb, "end"), 0);
	taken = strbuf_take(&sb);
	assert_string_equal(taken, "end");
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);

	/* an empty buffer still hands over a string */
	free(TAKE_PTR(taken));
	taken = strbuf_take(&sb);
	assert_non_null(taken);
	assert_string_equal(taken, "");
}

static void test_json_string(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_append_json_string(&sb, "a\"b\\c\nd\te\x01\x7f"), 0);
	assert_string_equal(sb.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\"");
}

/* ---- names ---- */

static void test_names(void **state)
{
	enum guest_file file;
	enum card_attr attr;

	(void) state;
	for (unsigned i = 0; i < _GUEST_FILE_MAX; i++) {
		assert_non_null(guest_file_name((enum guest_file) i));
		assert_int_equal(guest_file_from_name(guest_file_name((enum guest_file) i), &file),
				 0);
		assert_int_equal(file, i);
	}
	for (unsigned i = 0; i < _CARD_ATTR_MAX; i++) {
		assert_non_null(card_attr_name((enum card_attr) i));
		assert_int_equal(card_attr_from_name(card_attr_name((enum card_attr) i), &attr), 0);
		assert_int_equal(attr, i);
	}
	assert_string_equal(guest_file_name(GUEST_FILE_LIBVIRT_XML), "libvirt.xml");
	assert_string_equal(guest_file_name(GUEST_FILE_MDEVCTL_JSON), "mdevctl.json");
	assert_string_equal(guest_file_name(GUEST_FILE_GUEST_MATRIX), "guest_matrix");
	assert_string_equal(card_attr_name(CARD_ATTR_RAW_HWTYPE), "raw_hwtype");
	assert_null(guest_file_name(_GUEST_FILE_MAX));
	assert_null(card_attr_name(_CARD_ATTR_MAX));
	file = GUEST_FILE_QEMU;
	assert_int_equal(guest_file_from_name("adapters", &file), -ENOENT);
	assert_int_equal(file, GUEST_FILE_QEMU);
	assert_int_equal(card_attr_from_name("ap_functions", &attr), -ENOENT);
	assert_string_equal(render_card_mode(CARD_MODE_EP11), "EP11-Coproc");
	assert_string_equal(render_card_mode(CARD_MODE_UNKNOWN), "Unknown");
}

/* ---- guests: the seed's example ---- */

static void test_lszcrypt_seed(void **state)
{
	_cleanup_model_ struct model *m = seed_model();

	(void) state;
	/*
	 * The seed's tables, with its two typos fixed: 06.00ab is on the CEX5A,
	 * and Guest2's card 05 is the CEX5C.
	 */
	assert_guest_file(m, "Guest1", GUEST_FILE_LSZCRYPT,
			  "CARD.DOMAIN TYPE MODE\n"
			  "------------------------------\n"
			  "05 CEX5C CCA-Coproc\n"
			  "05.0004 CEX5C CCA-Coproc\n"
			  "05.00ab CEX5C CCA-Coproc\n"
			  "06 CEX5A Accelerator\n"
			  "06.0004 CEX5A Accelerator\n"
			  "06.00ab CEX5A Accelerator\n");
	assert_guest_file(m, "Guest2", GUEST_FILE_LSZCRYPT,
			  "CARD.DOMAIN TYPE MODE\n"
			  "------------------------------\n"
			  "05 CEX5C CCA-Coproc\n"
			  "05.0047 CEX5C CCA-Coproc\n"
			  "05.00ff CEX5C CCA-Coproc\n");
	assert_guest_file(m, "Guest3", GUEST_FILE_LSZCRYPT,
			  "CARD.DOMAIN TYPE MODE\n"
			  "------------------------------\n"
			  "06 CEX5A Accelerator\n"
			  "06.0047 CEX5A Accelerator\n"
			  "06.00ff CEX5A Accelerator\n");
}

/* lszcrypt follows guest_matrix, and only lists queues the host really has. */
static void test_lszcrypt_guest_matrix(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	struct guest g = *guest(m, "Guest1");

	(void) state;
	/* a 6.0+ kernel filtered adapter 06 out of the guest's view */
	g.guest_adapters = IDS(5);
	/* 07 is not on this host; 0x10 is no usage domain of it */
	g.adapters = IDS(5, 6, 7);
	g.domains = IDS(0x04, 0x10, 0xab);
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest1", GUEST_FILE_LSZCRYPT,
			  "CARD.DOMAIN TYPE MODE\n"
			  "------------------------------\n"
			  "05 CEX5C CCA-Coproc\n"
			  "05.0004 CEX5C CCA-Coproc\n"
			  "05.00ab CEX5C CCA-Coproc\n");
	assert_guest_file(m, "Guest1", GUEST_FILE_GUEST_MATRIX, "05.0004\n05.00ab\n");

	/* no usage domain: the guest's AP bus creates no card either */
	g.guest_adapters = IDS(5);
	g.guest_domains = IDSET_EMPTY;
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest1", GUEST_FILE_LSZCRYPT,
			  "CARD.DOMAIN TYPE MODE\n"
			  "------------------------------\n");
}

static void test_matrix(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	struct guest g = *guest(m, "Guest2");

	(void) state;
	/* the seed's `cat matrix` for Guest1 */
	assert_guest_file(m, "Guest1", GUEST_FILE_MATRIX, "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	assert_guest_file(m, "Guest1", GUEST_FILE_GUEST_MATRIX,
			  "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	assert_guest_file(m, "Guest2", GUEST_FILE_MATRIX, "05.0047\n05.00ff\n");
	assert_guest_file(m, "Guest3", GUEST_FILE_MATRIX, "06.0047\n06.00ff\n");

	/* adapters only; control domains are not part of the matrix */
	g.domains = IDSET_EMPTY;
	g.guest_domains = IDSET_EMPTY;
	g.control_domains = IDS(0xab);
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest2", GUEST_FILE_MATRIX, "05.\n");
	assert_guest_file(m, "Guest2", GUEST_FILE_GUEST_MATRIX, "05.\n");

	/* domains only, one above the host's max adapter id ignored as the kernel does */
	g.adapters = IDS(64);
	g.domains = IDS(0x47, 0xff);
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest2", GUEST_FILE_MATRIX, ".0047\n.00ff\n");

	g.adapters = IDSET_EMPTY;
	g.domains = IDSET_EMPTY;
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest2", GUEST_FILE_MATRIX, "");
}

static void test_uuid_state(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	struct guest g = *guest(m, "Guest3");

	(void) state;
	assert_guest_file(m, "Guest3", GUEST_FILE_UUID, UUID3 "\n");
	assert_guest_file(m, "Guest3", GUEST_FILE_STATE, "active\n");
	g.state = GUEST_RUNNING;
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest3", GUEST_FILE_STATE, "running\n");
	g.state = GUEST_MISSING;
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest3", GUEST_FILE_STATE, "missing\n");
}

static void test_qemu(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_guest_file(m, "Guest1", GUEST_FILE_QEMU,
			  "-cpu host,ap=on,apqci=on,apft=on -device "
			  "vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/" UUID1 "\n");
	assert_int_equal(
	    render_guest_qemu(guest(m, "Guest2"), "/run/simsys/devices/vfio_ap/matrix//", &out), 0);
	assert_string_equal(out.data,
			    "-cpu host,ap=on,apqci=on,apft=on -device "
			    "vfio-ap,sysfsdev=/run/simsys/devices/vfio_ap/matrix/" UUID2 "\n");
	strbuf_reset(&out);
	assert_int_equal(render_guest_qemu(guest(m, "Guest2"), NULL, &out), -EINVAL);
	assert_int_equal(render_guest_file(m, guest(m, "Guest2"), GUEST_FILE_QEMU, NULL, &out),
			 -EINVAL);
	assert_int_equal(out.len, 0);
}

static void test_mdevctl_json(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	struct guest g = *guest(m, "Guest1");

	(void) state;
	/* as `mdevctl define --jsonfile` (1.2) writes it: two-space indents, no final newline */
	assert_guest_file(m, "Guest2", GUEST_FILE_MDEVCTL_JSON,
			  "{\n"
			  "  \"mdev_type\": \"vfio_ap-passthrough\",\n"
			  "  \"start\": \"auto\",\n"
			  "  \"attrs\": [\n"
			  "    {\n      \"assign_adapter\": \"5\"\n    },\n"
			  "    {\n      \"assign_domain\": \"71\"\n    },\n"
			  "    {\n      \"assign_domain\": \"255\"\n    }\n"
			  "  ]\n"
			  "}");
	g.control_domains = IDS(0xab, 0x04);
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest1", GUEST_FILE_MDEVCTL_JSON,
			  "{\n"
			  "  \"mdev_type\": \"vfio_ap-passthrough\",\n"
			  "  \"start\": \"auto\",\n"
			  "  \"attrs\": [\n"
			  "    {\n      \"assign_adapter\": \"5\"\n    },\n"
			  "    {\n      \"assign_adapter\": \"6\"\n    },\n"
			  "    {\n      \"assign_domain\": \"4\"\n    },\n"
			  "    {\n      \"assign_domain\": \"171\"\n    },\n"
			  "    {\n      \"assign_control_domain\": \"4\"\n    },\n"
			  "    {\n      \"assign_control_domain\": \"171\"\n    }\n"
			  "  ]\n"
			  "}");
	g.adapters = IDSET_EMPTY;
	g.domains = IDSET_EMPTY;
	g.control_domains = IDSET_EMPTY;
	assert_int_equal(model_guest_update(m, &g), 0);
	assert_guest_file(m, "Guest1", GUEST_FILE_MDEVCTL_JSON,
			  "{\n"
			  "  \"mdev_type\": \"vfio_ap-passthrough\",\n"
			  "  \"start\": \"auto\",\n"
			  "  \"attrs\": []\n"
			  "}");
}

/* Runs a shell command with text on its standard input; its exit status. */
static int run_with_input(const char *cmd, const char *text, size_t len)
{
	FILE *p = popen(cmd, "w");

	assert_non_null(p);
	assert_int_equal(fwrite(text, 1, len, p), len);
	return pclose(p);
}

static bool have_program(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static void test_libvirt_xml(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_strbuf_ struct strbuf xml = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf domain = STRBUF_INIT;
	char path[] = "/tmp/zapfs-render-XXXXXX";
	_cleanup_close_ int fd = -1;
	char cmd[128];

	(void) state;
	assert_guest_file(m, "Guest1", GUEST_FILE_LIBVIRT_XML,
			  "<hostdev mode='subsystem' type='mdev' model='vfio-ap'>\n"
			  "  <source>\n"
			  "    <address uuid='" UUID1 "'/>\n"
			  "  </source>\n"
			  "</hostdev>\n");
	if (!have_program("virt-xml-validate")) {
		fprintf(stderr, "virt-xml-validate not installed: schema check skipped\n");
		return;
	}
	assert_int_equal(render_guest_libvirt_xml(guest(m, "Guest1"), &xml), 0);
	assert_int_equal(
	    strbuf_appendf(&domain,
			   "<domain type='kvm'>\n"
			   "  <name>guest1</name>\n"
			   "  <memory unit='KiB'>1048576</memory>\n"
			   "  <os>\n"
			   "    <type arch='s390x' machine='s390-ccw-virtio'>hvm</type>\n"
			   "  </os>\n"
			   "  <devices>\n"
			   "%s"
			   "  </devices>\n"
			   "</domain>\n",
			   xml.data),
	    0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, domain.data, domain.len), (ssize_t) domain.len);
	snprintf(cmd, sizeof(cmd), "virt-xml-validate %s domain >/dev/null", path);
	int status = system(cmd);
	unlink(path);
	assert_int_equal(status, 0);
}

static void test_nodedev_xml(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	const struct guest *g = guest(m, "Guest2");
	char want[1024], path[] = "/tmp/zapfs-render-XXXXXX", cmd[128];
	_cleanup_close_ int fd = -1;
	int status;

	(void) state;
	snprintf(want, sizeof(want),
		 "<device>\n"
		 "  <name>mdev_%.8s_%.4s_%.4s_%.4s_%.12s_matrix</name>\n"
		 "  <parent>ap_matrix</parent>\n"
		 "  <capability type='mdev'>\n"
		 "    <type id='vfio_ap-passthrough'/>\n"
		 "    <uuid>%s</uuid>\n"
		 "    <attr name='assign_adapter' value='5'/>\n"
		 "    <attr name='assign_domain' value='71'/>\n"
		 "    <attr name='assign_domain' value='255'/>\n"
		 "  </capability>\n"
		 "</device>\n",
		 g->uuid, g->uuid + 9, g->uuid + 14, g->uuid + 19, g->uuid + 24, g->uuid);
	assert_guest_file(m, "Guest2", GUEST_FILE_NODEDEV_XML, want);
	assert_string_equal(guest_file_name(GUEST_FILE_NODEDEV_XML), "nodedev.xml");
	if (!have_program("virt-xml-validate")) {
		fprintf(stderr, "virt-xml-validate not installed: schema check skipped\n");
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, want, strlen(want)), (ssize_t) strlen(want));
	snprintf(cmd, sizeof(cmd), "virt-xml-validate %s nodedev >/dev/null", path);
	status = system(cmd);
	unlink(path);
	assert_int_equal(status, 0);
}

static void test_guest_file_dispatch(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	const struct guest *g = guest(m, "Guest2");

	(void) state;
	for (unsigned i = 0; i < _GUEST_FILE_MAX; i++) {
		_cleanup_strbuf_ struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		int r;

		assert_int_equal(render_guest_file(m, g, (enum guest_file) i, MATRIX_DIR, &a), 0);
		switch ((enum guest_file) i) {
		case GUEST_FILE_UUID:
			r = render_guest_uuid(g, &b);
			break;
		case GUEST_FILE_STATE:
			r = render_guest_state(g, &b);
			break;
		case GUEST_FILE_MATRIX:
			r = render_guest_matrix(m, g, &b);
			break;
		case GUEST_FILE_GUEST_MATRIX:
			r = render_guest_guest_matrix(m, g, &b);
			break;
		case GUEST_FILE_QEMU:
			r = render_guest_qemu(g, MATRIX_DIR, &b);
			break;
		case GUEST_FILE_LIBVIRT_XML:
			r = render_guest_libvirt_xml(g, &b);
			break;
		case GUEST_FILE_MDEVCTL_JSON:
			r = render_guest_mdevctl_json(g, &b);
			break;
		case GUEST_FILE_NODEDEV_XML:
			r = render_guest_nodedev_xml(g, &b);
			break;
		case GUEST_FILE_LSZCRYPT:
			r = render_guest_lszcrypt(m, g, &b);
			break;
		default:
			r = -1;
		}
		assert_int_equal(r, 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
	}
	{
		_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

		assert_int_equal(render_guest_file(m, g, _GUEST_FILE_MAX, MATRIX_DIR, &out),
				 -ENOENT);
	}
}

/* ---- cards, queues, pools ---- */

static void assert_card_attr(const struct model *m, unsigned card, const char *name,
			     const char *expected)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	enum card_attr attr;

	assert_int_equal(card_attr_from_name(name, &attr), 0);
	assert_int_equal(render_card_attr(m, card, attr, &out), 0);
	assert_string_equal(out.data, expected);
}

static void test_cards(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_free_ struct host *h = seed_host();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_card_attr(m, 5, "type", "CEX5C\n");
	assert_card_attr(m, 5, "mode", "CCA-Coproc\n");
	assert_card_attr(m, 6, "type", "CEX5A\n");
	assert_card_attr(m, 6, "mode", "Accelerator\n");
	assert_card_attr(m, 5, "hwtype", "11\n");
	assert_card_attr(m, 5, "raw_hwtype", "11\n");
	assert_card_attr(m, 5, "online", "1\n");
	assert_card_attr(m, 5, "config", "1\n");
	assert_card_attr(m, 5, "chkstop", "0\n");
	assert_card_attr(m, 5, "depth", "7\n");
	assert_card_attr(m, 5, "functions", "0x92000000\n");
	assert_card_attr(m, 6, "functions", "0x6A000000\n");
	assert_int_equal(render_card_attr(m, 7, CARD_ATTR_TYPE, &out), -ENOENT);
	assert_int_equal(render_card_attr(m, 300, CARD_ATTR_TYPE, &out), -ENOENT);
	assert_int_equal(out.len, 0);

	/* a card without a zcrypt driver, offline, out of the configuration */
	h->cards[6].type[0] = '\0';
	h->cards[6].mode = CARD_MODE_UNKNOWN;
	h->cards[6].online = false;
	h->cards[6].config = false;
	h->cards[6].raw_hwtype = 15;
	h->cards[6].functions = 0;
	model_set_host(m, h);
	assert_card_attr(m, 6, "type", "-\n");
	assert_card_attr(m, 6, "mode", "Unknown\n");
	assert_card_attr(m, 6, "online", "0\n");
	assert_card_attr(m, 6, "config", "0\n");
	assert_card_attr(m, 6, "raw_hwtype", "15\n");
	assert_card_attr(m, 6, "functions", "0x00000000\n");
}

static void assert_queue(const struct model *m, struct apqn q, const char *expected)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	assert_int_equal(render_queue(m, q, &out), 0);
	assert_string_equal(out.data, expected);
}

static void test_queues(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_free_ struct host *h = seed_host();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	struct guest g = *guest(m, "Guest1");

	(void) state;
	assert_queue(m, apqn(5, 4),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: Guest1\n"
		     "reservation: Guest1\nonline: -\nconfig: 1\nstate: assigned\n");
	assert_queue(m, apqn(6, 0xff),
		     "type: CEX5A\nmode: Accelerator\npool: vfio\ndriver: vfio_ap\nowner: Guest3\n"
		     "reservation: Guest3\nonline: -\nconfig: 1\nstate: assigned\n");
	assert_int_equal(render_queue(m, apqn(5, 5), &out), -ENOENT);
	assert_int_equal(render_queue(m, apqn(7, 4), &out), -ENOENT);

	/* the guest runs; the kernel shows its queues in use */
	g.state = GUEST_RUNNING;
	assert_int_equal(model_guest_update(m, &g), 0);
	apqn_set_add(&h->in_use, apqn(5, 4));
	model_set_host(m, h);
	assert_queue(m, apqn(5, 4),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: Guest1\n"
		     "reservation: Guest1\nonline: -\nconfig: 1\nstate: in-use\n");
	/* kernels without the queue status file: a running owner is all there is to see */
	assert_queue(m, apqn(5, 0xab),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: Guest1\n"
		     "reservation: Guest1\nonline: -\nconfig: 1\nstate: in-use\n");

	/* unassigned but still reserved: free, keys kept for Guest1 */
	assert_int_equal(model_guest_remove(m, "Guest1"), 0);
	assert_queue(m, apqn(5, 4),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: none\n"
		     "reservation: Guest1\nonline: -\nconfig: 1\nstate: in-use\n");
	apqn_set_clear(&h->in_use);
	model_set_host(m, h);
	assert_queue(m, apqn(5, 0xab),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: none\n"
		     "reservation: Guest1\nonline: -\nconfig: 1\nstate: free\n");

	/* back in the host pool: bound to cex4queue, online or not */
	idset_add(&h->apmask, 5);
	idset_add(&h->apmask, 6);
	idset_add(&h->aqmask, 0xab);
	for (unsigned ap = 5; ap <= 6; ap++) {
		struct apqn q = apqn(ap, 0xab);
		unsigned i = apqn_index(q);

		h->vfio_bound.w[i / 64] &= ~(UINT64_C(1) << (i % 64));
		apqn_set_add(&h->default_bound, q);
	}
	apqn_set_add(&h->online, apqn(6, 0xab));
	model_set_host(m, h);
	assert_int_equal(model_release(m, apqn(5, 0xab)), 0);
	assert_queue(m, apqn(5, 0xab),
		     "type: CEX5C\nmode: CCA-Coproc\npool: host\ndriver: cex4queue\nowner: none\n"
		     "reservation: none\nonline: 0\nconfig: 1\nstate: offline\n");
	assert_queue(m, apqn(6, 0xab),
		     "type: CEX5A\nmode: Accelerator\npool: host\ndriver: cex4queue\nowner: none\n"
		     "reservation: Guest1\nonline: 1\nconfig: 1\nstate: online\n");

	/* the card's state wins */
	h->cards[6].chkstop = true;
	h->cards[5].config = false;
	model_set_host(m, h);
	assert_queue(m, apqn(6, 0xab),
		     "type: CEX5A\nmode: Accelerator\npool: host\ndriver: cex4queue\nowner: none\n"
		     "reservation: Guest1\nonline: 1\nconfig: 1\nstate: checkstop\n");
	assert_queue(m, apqn(5, 0x47),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: vfio_ap\nowner: Guest2\n"
		     "reservation: Guest2\nonline: -\nconfig: 0\nstate: deconfig\n");

	/* no driver at all */
	apqn_set_clear(&h->default_bound);
	apqn_set_clear(&h->vfio_bound);
	h->cards[5].config = true;
	model_set_host(m, h);
	assert_queue(m, apqn(5, 0x47),
		     "type: CEX5C\nmode: CCA-Coproc\npool: vfio\ndriver: none\nowner: Guest2\n"
		     "reservation: Guest2\nonline: -\nconfig: 1\nstate: unbound\n");
}

static void test_host_masks(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_free_ struct host *h = seed_host();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_host_mask(m, MASK_AP, &out), 0);
	assert_string_equal(out.data, "0-4,7-255\n");
	strbuf_reset(&out);
	assert_int_equal(render_host_mask(m, MASK_AQ, &out), 0);
	assert_string_equal(out.data, "0-3,5-70,72-170,172-254\n");

	h->apmask = IDSET_EMPTY;
	h->aqmask = IDS(9);
	model_set_host(m, h);
	strbuf_reset(&out);
	assert_int_equal(render_host_mask(m, MASK_AP, &out), 0);
	assert_string_equal(out.data, "\n");
	strbuf_reset(&out);
	assert_int_equal(render_host_mask(m, MASK_AQ, &out), 0);
	assert_string_equal(out.data, "9\n");
}

/* ---- README, status ---- */

static void test_readme(void **state)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_readme(&out), 0);
	assert_int_equal(strncmp(out.data, "zapfs: ", 7), 0);
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_int_equal(strlen(out.data), out.len);
	for (const char *const *w =
		 (const char *const[]){ "mkdir guests/", "rm reservations/", "ln -s ../guests/",
					"mv pools/host/", "touch guests/", "cat status",
					"EADDRINUSE", NULL };
	     *w; w++)
		assert_non_null(strstr(out.data, *w));
}

static void test_status_seed(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_status(m, &out), 0);
	assert_string_equal(
	    out.data,
	    "Host\n"
	    "  kernel:             6.0 or later (dynamic: changes to a running guest are hot "
	    "plugged)\n"
	    "  ap_config:          yes\n"
	    "  queue status:       yes\n"
	    "  vfio_ap:            loaded\n"
	    "  max adapter id:     63\n"
	    "  max domain id:      255\n"
	    "  cards:              5-6\n"
	    "  usage domains:      4,71,171,255\n"
	    "  control domains:    4,71,171,255\n"
	    "  apmask (adapters):  0-4,7-255\n"
	    "  aqmask (domains):   0-3,5-70,72-170,172-254\n"
	    "  host pool queues:   0\n"
	    "  vfio pool queues:   8\n"
	    "  guests:             3\n"
	    "\n"
	    "Queues\n"
	    "CARD.DOMAIN TYPE  MODE        STATUS   POOL OWNER         RESERVED\n"
	    "05          CEX5C CCA-Coproc  online   vfio Guest1,Guest2 -\n"
	    "05.0004     CEX5C CCA-Coproc  assigned vfio Guest1        Guest1\n"
	    "05.0047     CEX5C CCA-Coproc  assigned vfio Guest2        Guest2\n"
	    "05.00ab     CEX5C CCA-Coproc  assigned vfio Guest1        Guest1\n"
	    "05.00ff     CEX5C CCA-Coproc  assigned vfio Guest2        Guest2\n"
	    "06          CEX5A Accelerator online   vfio Guest1,Guest3 -\n"
	    "06.0004     CEX5A Accelerator assigned vfio Guest1        Guest1\n"
	    "06.0047     CEX5A Accelerator assigned vfio Guest3        Guest3\n"
	    "06.00ab     CEX5A Accelerator assigned vfio Guest1        Guest1\n"
	    "06.00ff     CEX5A Accelerator assigned vfio Guest3        Guest3\n"
	    "\n"
	    "Guests\n"
	    "NAME   STATE   UUID                                 QUEUES\n"
	    "Guest1 active  " UUID1 " 05.0004, 05.00ab, 06.0004, 06.00ab\n"
	    "Guest2 active  " UUID2 " 05.0047, 05.00ff\n"
	    "Guest3 active  " UUID3 " 06.0047, 06.00ff\n"
	    "\n"
	    "Warnings\n"
	    "none\n");
}

/* A model that earns every warning render adds, and some of the rules' own. */
static struct model *troubled_model(void)
{
	struct model *m = seed_model();
	struct guest g = *guest(m, "Guest2");

	/* control domains, no usage domain */
	g.domains = IDSET_EMPTY;
	g.guest_domains = IDSET_EMPTY;
	g.control_domains = IDS(0xab);
	assert_int_equal(model_guest_update(m, &g), 0);
	/* missing: defined, but no mdev */
	g = *guest(m, "Guest3");
	g.state = GUEST_MISSING;
	/* over-provisioned: card 07 and domain 0x10 are not on this host */
	g.adapters = IDS(6, 7);
	g.domains = IDS(0x10, 0x47);
	assert_int_equal(model_guest_update(m, &g), 0);
	/* reserved for a guest that is gone */
	assert_int_equal(model_reserve(m, apqn(5, 0x47), "old-web"), 0);
	return m;
}

static void test_status_warnings(void **state)
{
	_cleanup_model_ struct model *m = troubled_model();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	const char *warnings;

	(void) state;
	assert_int_equal(render_status(m, &out), 0);
	warnings = strstr(out.data, "\nWarnings\n");
	assert_non_null(warnings);
	assert_non_null(strstr(warnings, "guest Guest2 has control domains but no usage domain\n"));
	assert_non_null(strstr(warnings, "guest Guest3 is missing"));
	assert_non_null(strstr(warnings, "05.0047 is reserved for guest old-web, which does not "
					 "exist: once its domain's keys are dealt with, rm "
					 "reservations/05.0047\n"));
	assert_non_null(strstr(warnings, "guest Guest3's matrix names queues the host does not "
					 "have: 06.0010, 07.0010, 07.0047\n"));
	assert_null(strstr(warnings, "none\n"));
	/* the table still lists what the host has, nothing more */
	assert_null(strstr(out.data, "\n07"));
	assert_non_null(strstr(out.data, "06.0047     CEX5A Accelerator free     vfio Guest3 "));
	assert_non_null(strstr(out.data, "Guest3 missing " UUID3 " 06.0010, 06.0047, 07.0010, "
					 "07.0047\n"));
	assert_non_null(strstr(out.data, "Guest2 active  " UUID2 " -\n"));
}

/* Feeds status.json to python3's json module and runs a check on it. */
static int python_json_check(const struct strbuf *json, const char *expr)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if (%s) else 3)'",
		 expr);
	return run_with_input(cmd, json->data, json->len);
}

static void test_status_json(void **state)
{
	_cleanup_model_ struct model *m = seed_model();
	_cleanup_model_ struct model *t = troubled_model();
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf troubled = STRBUF_INIT;

	(void) state;
	assert_int_equal(render_status_json(m, &out), 0);
	assert_int_equal(render_status_json(t, &troubled), 0);
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_non_null(strstr(out.data, "\"apmask\":\"0-4,7-255\""));
	assert_non_null(strstr(
	    out.data, "{\"name\":\"05.0004\",\"adapter\":5,\"domain\":4,\"state\":\"assigned\","
		      "\"pool\":\"vfio\",\"driver\":\"vfio_ap\",\"owner\":\"Guest1\","
		      "\"reserved\":\"Guest1\"}"));
	assert_non_null(strstr(out.data, "\"warnings\":[]}\n"));
	if (!have_program("python3")) {
		fprintf(stderr, "python3 not installed: JSON parse check skipped\n");
		return;
	}
	assert_int_equal(python_json_check(
			     &out, "d[\"host\"][\"max_adapter\"] == 63 and "
				   "d[\"host\"][\"adapters\"] == [5, 6] and "
				   "[c[\"type\"] for c in d[\"cards\"]] == "
				   "[\"CEX5C\", \"CEX5A\"] and "
				   "len(d[\"cards\"][0][\"queues\"]) == 4 and "
				   "d[\"cards\"][0][\"guests\"] == [\"Guest1\", \"Guest2\"] and "
				   "d[\"guests\"][1][\"queues\"] == [\"05.0047\", \"05.00ff\"] and "
				   "d[\"guests\"][0][\"domains\"] == [4, 171] and "
				   "len(d[\"reservations\"]) == 8 and d[\"warnings\"] == []"),
			 0);
	assert_int_equal(python_json_check(&troubled,
					   "len(d[\"warnings\"]) >= 4 and "
					   "d[\"guests\"][2][\"state\"] == \"missing\" and "
					   "{\"queue\": \"05.0047\", \"guest\": \"old-web\"} "
					   "in d[\"reservations\"]"),
			 0);
	/* the check itself can fail */
	assert_int_not_equal(python_json_check(&out, "d[\"warnings\"] != []"), 0);
	assert_int_not_equal(run_with_input("python3 -c 'import json,sys; json.load(sys.stdin)' "
					    "2>/dev/null",
					    out.data, out.len - 3),
			     0);
}

/* The largest host: every file still renders, and status.json stays valid. */
static void test_large_host(void **state)
{
	_cleanup_model_ struct model *m = NULL;
	_cleanup_free_ struct host *h = calloc(1, sizeof(*h));
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	struct idset all = idset_range(0, 255);

	(void) state;
	assert_non_null(h);
	assert_int_equal(model_new(&m), 0);
	h->max_adapter = 255;
	h->max_domain = 255;
	for (unsigned ap = 0; ap < 256; ap++)
		set_card(h, ap, "CEX8P", CARD_MODE_EP11, 0x84000000);
	h->usage_domains = all;
	h->apmask = idset_range(0, 127);
	h->aqmask = all;
	apqn_set_add_cross(&h->queues, &h->adapters, &h->usage_domains);
	model_set_host(m, h);
	add_guest(m, "big", UUID1, idset_range(128, 255), all);
	assert_int_equal(render_status(m, &out), 0);
	assert_true(out.len > 65536 * 40);
	strbuf_reset(&out);
	assert_int_equal(render_guest_file(m, guest(m, "big"), GUEST_FILE_MATRIX, MATRIX_DIR, &out),
			 0);
	assert_int_equal(out.len, 128 * 256 * 8);
	strbuf_reset(&out);
	assert_int_equal(render_status_json(m, &out), 0);
	if (have_program("python3"))
		assert_int_equal(python_json_check(&out,
						   "len(d[\"cards\"]) == 256 and "
						   "len(d[\"guests\"][0][\"queues\"]) == 32768"),
				 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_strbuf_put_column),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lszcrypt_seed),
		cmocka_unit_test(test_lszcrypt_guest_matrix),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_uuid_state),
		cmocka_unit_test(test_qemu),
		cmocka_unit_test(test_mdevctl_json),
		cmocka_unit_test(test_nodedev_xml),
		cmocka_unit_test(test_libvirt_xml),
		cmocka_unit_test(test_guest_file_dispatch),
		cmocka_unit_test(test_cards),
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_host_masks),
		cmocka_unit_test(test_readme),
		cmocka_unit_test(test_status_seed),
		cmocka_unit_test(test_status_warnings),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_large_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
