/* SPDX-License-Identifier: MIT */
/*
 * Uevents: the text parser, the classifier against recorded events
 * (tests/data/uevents, as `udevadm monitor --kernel --property` prints them),
 * the simulator's events through the same path, and the netlink monitor's
 * receive loop fed through libudev functions replaced at link time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"
#include "kmod/uevent.h"
#include "tests/kmod/sim_hosts.h"

#define ONES62 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define UUID1  "62177883-f1bb-47f0-914d-32a22e3a8804"

#define MAX_EVENTS 32

/* ---- recorded events ---- */

static size_t load_fixture(const char *name, struct uevent *ret, size_t max)
{
	const char *root = getenv("ZAPFS_SOURCE_ROOT");
	_cleanup_fclose_ FILE *f = NULL;
	char path[4096], text[65536];
	size_t len, pos = 0, n = 0;

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/tests/data/uevents/%s", root, name);
	f = fopen(path, "re");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text), f);
	assert_true(len > 0 && len < sizeof(text));

	for (;;) {
		size_t used = 0;
		int r = uevent_parse_text(text + pos, len - pos, &ret[n], &used);

		assert_true(r == 0 || r == 1);
		pos += used;
		if (r == 0)
			break;
		assert_true(++n < max);
	}
	assert_int_equal(pos, len);
	return n;
}

struct expect {
	unsigned reread;
	enum uevent_object object;
	int ap, dom;	  /* -1: not checked */
	const char *uuid; /* NULL: must be empty */
};

#define HOST  UEVENT_REREAD_HOST
#define MDEVS UEVENT_REREAD_MDEVS
#define ALL   UEVENT_REREAD_ALL
#define NONE  UEVENT_REREAD_NONE

static void check_fixture(const char *name, const struct expect *want, size_t n_want)
{
	struct uevent ev[MAX_EVENTS];
	size_t n = load_fixture(name, ev, MAX_EVENTS);

	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		struct uevent_class c;

		uevent_classify(&ev[i], &c);
		if (c.reread != want[i].reread || c.object != want[i].object)
			fail_msg("%s event %zu (%s %s): reread %u object %d, want %u %d", name, i,
				 uevent_get(&ev[i], "ACTION"), uevent_get(&ev[i], "DEVPATH"),
				 c.reread, c.object, want[i].reread, want[i].object);
		assert_non_null(c.reason);
		if (want[i].ap >= 0)
			assert_int_equal(c.apqn.ap, want[i].ap);
		if (want[i].dom >= 0)
			assert_int_equal(c.apqn.dom, want[i].dom);
		assert_string_equal(c.uuid, want[i].uuid ? want[i].uuid : "");
	}
}

static void test_fixture_ap_mask(void **state)
{
	static const struct expect want[] = {
		{ ALL, UEVENT_OBJ_QUEUE, 5, 0x04, NULL }, { ALL, UEVENT_OBJ_QUEUE, 5, 0x04, NULL },
		{ ALL, UEVENT_OBJ_QUEUE, 5, 0x47, NULL }, { ALL, UEVENT_OBJ_QUEUE, 5, 0x47, NULL },
		{ ALL, UEVENT_OBJ_QUEUE, 5, 0xab, NULL }, { ALL, UEVENT_OBJ_QUEUE, 5, 0xab, NULL },
		{ ALL, UEVENT_OBJ_QUEUE, 5, 0xff, NULL }, { ALL, UEVENT_OBJ_QUEUE, 5, 0xff, NULL },
		{ ALL, UEVENT_OBJ_AP_BUS, -1, -1, NULL }, { ALL, UEVENT_OBJ_QUEUE, 6, 0x47, NULL },
		{ ALL, UEVENT_OBJ_QUEUE, 6, 0x47, NULL }, { ALL, UEVENT_OBJ_AP_BUS, -1, -1, NULL },
	};
	struct uevent ev[MAX_EVENTS];
	struct uevent_class c;

	check_fixture("ap_mask.txt", want, ARRAY_SIZE(want));

	load_fixture("ap_mask.txt", ev, MAX_EVENTS);
	/* The mask values keep the kernel's newline; SEQNUM is not eaten. */
	assert_string_equal(uevent_get(&ev[8], "APMASK"), "0xfb" ONES62 "\n");
	assert_string_equal(uevent_get(&ev[8], "SEQNUM"), "4709");
	assert_string_equal(uevent_get(&ev[11], "AQMASK"),
			    "0xfffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffff\n");
	assert_string_equal(uevent_get(&ev[1], "DRIVER"), "vfio_ap");
	assert_null(uevent_get(&ev[0], "DRIVER"));
	uevent_classify(&ev[8], &c);
	assert_string_equal(c.reason, "apmask changed");
	uevent_classify(&ev[11], &c);
	assert_string_equal(c.reason, "aqmask changed");
	uevent_classify(&ev[1], &c);
	assert_string_equal(c.reason, "queue bound to vfio_ap");
}

static void test_fixture_card_config(void **state)
{
	static const struct expect want[] = {
		{ HOST, UEVENT_OBJ_CARD, 5, -1, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 5, 0x04, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 5, 0x47, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 5, 0xab, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 5, 0xff, NULL },
	};
	struct uevent ev[MAX_EVENTS];
	struct uevent_class c;

	check_fixture("card_config.txt", want, ARRAY_SIZE(want));
	load_fixture("card_config.txt", ev, MAX_EVENTS);
	assert_string_equal(uevent_get(&ev[0], "CONFIG"), "0");
	uevent_classify(&ev[0], &c);
	assert_string_equal(c.reason, "card configuration changed");
}

static void test_fixture_card_online(void **state)
{
	static const struct expect want[] = {
		{ HOST, UEVENT_OBJ_CARD, 6, -1, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 6, 0x04, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 6, 0x47, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 6, 0xab, NULL },
		{ HOST, UEVENT_OBJ_QUEUE, 6, 0xff, NULL },
	};

	check_fixture("card_online.txt", want, ARRAY_SIZE(want));
}

static void test_fixture_mdev_lifecycle(void **state)
{
	static const struct expect want[] = {
		{ MDEVS, UEVENT_OBJ_MDEV, -1, -1, UUID1 },
		{ NONE, UEVENT_OBJ_NONE, -1, -1, NULL },
		{ MDEVS, UEVENT_OBJ_MDEV, -1, -1, UUID1 },
		{ NONE, UEVENT_OBJ_NONE, -1, -1, NULL },
		{ MDEVS, UEVENT_OBJ_MDEV, -1, -1, UUID1 },
		{ MDEVS, UEVENT_OBJ_MDEV, -1, -1, UUID1 },
	};

	check_fixture("mdev_lifecycle.txt", want, ARRAY_SIZE(want));
}

static void test_fixture_matrix(void **state)
{
	static const struct expect want[] = {
		{ ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL }, { ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL },
		{ ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL }, { ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL },
		{ ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL }, { ALL, UEVENT_OBJ_MATRIX, -1, -1, NULL },
	};
	struct uevent ev[MAX_EVENTS];
	struct uevent_class c;

	check_fixture("matrix.txt", want, ARRAY_SIZE(want));
	load_fixture("matrix.txt", ev, MAX_EVENTS);
	assert_string_equal(uevent_get(&ev[2], "SUBSYSTEM"), "matrix");
	uevent_classify(&ev[2], &c);
	assert_string_equal(c.reason, "vfio_ap registered its mdev type");
	uevent_classify(&ev[3], &c);
	assert_string_equal(c.reason, "vfio_ap unregistered its mdev type");
}

static void test_fixture_initscan(void **state)
{
	static const struct expect want[] = {
		{ ALL, UEVENT_OBJ_CARD, 5, -1, NULL },	  { HOST, UEVENT_OBJ_CARD, 5, -1, NULL },
		{ ALL, UEVENT_OBJ_QUEUE, 5, 4, NULL },	  { HOST, UEVENT_OBJ_QUEUE, 5, 4, NULL },
		{ ALL, UEVENT_OBJ_AP_BUS, -1, -1, NULL }, { HOST, UEVENT_OBJ_AP_BUS, -1, -1, NULL },
	};
	struct uevent ev[MAX_EVENTS];
	struct uevent_class c;

	check_fixture("initscan.txt", want, ARRAY_SIZE(want));
	load_fixture("initscan.txt", ev, MAX_EVENTS);
	uevent_classify(&ev[4], &c);
	assert_string_equal(c.reason, "first AP bus scan done");
	uevent_classify(&ev[5], &c);
	assert_string_equal(c.reason, "all AP queues bound");
	assert_string_equal(uevent_get(&ev[5], "COMPLETECOUNT"), "1");
}

static void test_summary(void **state)
{
	struct uevent ev[MAX_EVENTS];
	struct uevent_summary s;
	struct apqn q;
	size_t n;

	uevent_summary_init(&s);
	n = load_fixture("ap_mask.txt", ev, MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		struct uevent_class c;

		uevent_classify(&ev[i], &c);
		uevent_summary_add(&s, &c);
	}
	assert_int_equal(s.reread, UEVENT_REREAD_ALL);
	assert_int_equal(s.events, 12);
	assert_false(s.lost);
	assert_false(s.vfio_ap);
	assert_int_equal(idset_count(&s.cards), 2);
	assert_true(idset_has(&s.cards, 5) && idset_has(&s.cards, 6));
	assert_int_equal(apqn_set_count(&s.queues), 5);
	q = (struct apqn){ 6, 0x47 };
	assert_true(apqn_set_has(&s.queues, q));
	assert_int_equal(s.n_mdevs, 0);

	/* Repeated uuids count once. */
	uevent_summary_init(&s);
	n = load_fixture("mdev_lifecycle.txt", ev, MAX_EVENTS);
	for (size_t i = 0; i < n; i++) {
		struct uevent_class c;

		uevent_classify(&ev[i], &c);
		uevent_summary_add(&s, &c);
	}
	assert_int_equal(s.reread, UEVENT_REREAD_MDEVS);
	assert_int_equal(s.events, 6);
	assert_int_equal(s.n_mdevs, 1);
	assert_string_equal(s.mdevs[0], UUID1);
	assert_false(s.mdevs_overflow);
	assert_true(idset_empty(&s.cards));

	/* More mdevs than the summary names. */
	uevent_summary_init(&s);
	for (unsigned i = 0; i < UEVENT_SUMMARY_MDEVS + 2; i++) {
		struct uevent_class c = { .reread = UEVENT_REREAD_MDEVS,
					  .object = UEVENT_OBJ_MDEV };

		snprintf(c.uuid, sizeof(c.uuid), "00000000-0000-0000-0000-%012x", i);
		uevent_summary_add(&s, &c);
	}
	assert_int_equal(s.n_mdevs, UEVENT_SUMMARY_MDEVS);
	assert_true(s.mdevs_overflow);

	n = load_fixture("matrix.txt", ev, MAX_EVENTS);
	uevent_summary_init(&s);
	for (size_t i = 0; i < n; i++) {
		struct uevent_class c;

		uevent_classify(&ev[i], &c);
		uevent_summary_add(&s, &c);
	}
	assert_true(s.vfio_ap);
}

/* ---- the parser and the classifier's edges ---- */

static void test_parse_text(void **state)
{
	static const char text[] = "monitor will print the received events for:\n"
				   "KERNEL - the kernel uevent\n"
				   "\n"
				   "KERNEL[1.000000] change   /devices/ap (ap)\n"
				   "ACTION=change\n"
				   "DEVPATH=/devices/ap\n"
				   "SUBSYSTEM=ap\n"
				   "APMASK=0x80\n"
				   "\n"
				   "\n"
				   "SEQNUM=7\n"
				   "\n"
				   "ACTION=add\n"
				   "DEVPATH=/devices/ap/card05\n"
				   "EMPTY=\n"
				   "SEQNUM=8";
	struct uevent ev, copy;
	size_t used, pos = 0;

	assert_int_equal(uevent_parse_text(text, strlen(text), &ev, &used), 1);
	/* Two empty lines inside: the value ends in two newlines. */
	assert_string_equal(uevent_get(&ev, "APMASK"), "0x80\n\n");
	assert_string_equal(uevent_get(&ev, "SEQNUM"), "7");
	assert_int_equal(ev.n_keys, 5);
	pos += used;

	/* An empty line before ACTION= ends an event; no trailing newline. */
	assert_int_equal(uevent_parse_text(text + pos, strlen(text) - pos, &ev, &used), 1);
	pos += used;
	assert_int_equal(pos, strlen(text));
	assert_string_equal(uevent_get(&ev, "ACTION"), "add");
	assert_string_equal(uevent_get(&ev, "EMPTY"), "");
	assert_string_equal(uevent_get(&ev, "SEQNUM"), "8");
	assert_null(uevent_get(&ev, "SUBSYSTEM"));

	/* The struct holds offsets: a copy reads the same. */
	copy = ev;
	memset(&ev, 0, sizeof(ev));
	assert_string_equal(uevent_get(&copy, "DEVPATH"), "/devices/ap/card05");

	assert_int_equal(uevent_parse_text("", 0, &ev, &used), 0);
	assert_int_equal(uevent_parse_text("\n\nno event here\n", 16, &ev, &used), 0);
	assert_int_equal(used, 16);
}

static void test_parse_limits(void **state)
{
	char text[UEVENT_MAX_KEYS * 16 + 64];
	struct uevent ev;
	size_t len = 0, used;
	char big[UEVENT_TEXT_MAX];

	for (unsigned i = 0; i <= UEVENT_MAX_KEYS; i++)
		len += (size_t) snprintf(text + len, sizeof(text) - len, "K%u=v\n", i);
	assert_int_equal(uevent_parse_text(text, len, &ev, &used), -E2BIG);

	uevent_init(&ev);
	assert_int_equal(uevent_add(&ev, "", "v"), -EINVAL);
	assert_int_equal(uevent_add(&ev, "A=B", "v"), -EINVAL);
	assert_int_equal(uevent_add(&ev, "A\nB", "v"), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(uevent_add(&ev, "BIG", big), -E2BIG);
	assert_int_equal(ev.n_keys, 0);
	assert_int_equal(uevent_add(&ev, "BIG", big + 8), 0);
	assert_int_equal(strlen(uevent_get(&ev, "BIG")), sizeof(big) - 9);
}

static void classify3(const char *action, const char *devpath, const char *subsystem,
		      const char *extra_key, const char *extra_value, struct uevent_class *ret)
{
	struct uevent ev;

	uevent_init(&ev);
	if (action)
		assert_int_equal(uevent_add(&ev, "ACTION", action), 0);
	if (devpath)
		assert_int_equal(uevent_add(&ev, "DEVPATH", devpath), 0);
	if (subsystem)
		assert_int_equal(uevent_add(&ev, "SUBSYSTEM", subsystem), 0);
	if (extra_key)
		assert_int_equal(uevent_add(&ev, extra_key, extra_value), 0);
	uevent_classify(&ev, ret);
}

static void test_classify_edges(void **state)
{
	struct uevent_class c;

	/* AP bus devices zapfs cannot name: re-read the host, name nothing. */
	classify3("change", "/devices/ap/card05/06.0004", "ap", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);
	classify3("change", "/devices/ap/card5", "ap", NULL, NULL, &c);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);
	classify3("change", "/devices/ap/cardAB", "ap", NULL, NULL, &c);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);
	classify3("add", "/devices/ap/card05/05.0100", "ap", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);
	classify3("add", "/devices/apx", "ap", NULL, NULL, &c);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);

	/* The largest ids. */
	classify3("add", "/devices/ap/cardff/ff.00ff", "ap", "DEV_TYPE", "000E", &c);
	assert_int_equal(c.reread, UEVENT_REREAD_ALL);
	assert_int_equal(c.object, UEVENT_OBJ_QUEUE);
	assert_int_equal(c.apqn.ap, 0xff);
	assert_int_equal(c.apqn.dom, 0xff);

	/* A queue bound to a host driver: only the host moved. */
	classify3("bind", "/devices/ap/card06/06.00ab", "ap", "DRIVER", "cex4queue", &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);
	assert_string_equal(c.reason, "queue bound to a host driver");

	/* A card's unbind concerns no guest. */
	classify3("unbind", "/devices/ap/card06", "ap", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);

	/* mdevs of other parents, other subsystems, incomplete events. */
	classify3("add", "/devices/css0/0.0.0010/" UUID1, "mdev", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);
	classify3("add", "/devices/vfio_ap/matrix/62177883-F1BB-47F0-914D-32A22E3A8804", "mdev",
		  NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	classify3("add", "/devices/vfio_ap/matrix/" UUID1, "vfio", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	assert_string_equal(c.uuid, "");
	classify3("change", "/devices/vfio_ap/matrix", "mdev", "MDEV_STATE", "registered", &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	classify3("add", "/module/vfio_ap", "module", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	classify3("change", "/devices/ap", NULL, "APMASK", "0x00\n", &c);
	assert_int_equal(c.reread, UEVENT_REREAD_NONE);
	classify3("change", NULL, "ap", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);
	assert_int_equal(c.object, UEVENT_OBJ_NONE);

	/* A "change" written to a card's uevent file by hand. */
	classify3("change", "/devices/ap/card05", "ap", NULL, NULL, &c);
	assert_int_equal(c.reread, UEVENT_REREAD_HOST);
	assert_int_equal(c.object, UEVENT_OBJ_CARD);
}

/* ---- the simulator's events ---- */

struct sim_capture {
	size_t n;
	struct uevent ev[MAX_EVENTS];
	struct uevent_summary summary;
	int errors;
};

static void capture_sim_uevent(void *userdata, const struct sim_uevent *sev)
{
	struct sim_capture *cap = userdata;
	struct uevent_class c;
	struct uevent ev;

	if (uevent_from_sim(sev, &ev) < 0) {
		cap->errors++;
		return;
	}
	uevent_classify(&ev, &c);
	uevent_summary_add(&cap->summary, &c);
	if (cap->n < MAX_EVENTS)
		cap->ev[cap->n++] = ev;
}

static void test_sim_events(void **state)
{
	static const char create[] =
	    "devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create";
	struct sim_capture *cap = calloc(1, sizeof(*cap));
	struct sim_config cfg;
	struct sim *sim = NULL;
	struct sysfs *fs = NULL;
	struct uevent_class c;

	assert_non_null(cap);
	sim_host_seed(6, 10, &cfg);
	assert_int_equal(sim_new(&cfg, &sim), 0);
	assert_int_equal(sysfs_open_sim(sim, &fs), 0);
	sim_set_uevent_handler(sim, capture_sim_uevent, cap);

	/* Adapter 5 leaves the host: its four queues go to vfio_ap. */
	uevent_summary_init(&cap->summary);
	assert_int_equal(sysfs_write_str(fs, "bus/ap/apmask", "-5"), 0);
	assert_int_equal(cap->errors, 0);
	assert_int_equal(cap->n, 9);
	assert_int_equal(cap->summary.reread, UEVENT_REREAD_ALL);
	assert_int_equal(idset_count(&cap->summary.cards), 1);
	assert_int_equal(apqn_set_count(&cap->summary.queues), 4);
	assert_string_equal(uevent_get(&cap->ev[0], "ACTION"), "unbind");
	assert_string_equal(uevent_get(&cap->ev[1], "DRIVER"), "vfio_ap");
	assert_string_equal(uevent_get(&cap->ev[8], "APMASK"), "0xfb" ONES62 "\n");
	assert_non_null(uevent_get(&cap->ev[8], "SEQNUM"));
	uevent_classify(&cap->ev[8], &c);
	assert_int_equal(c.object, UEVENT_OBJ_AP_BUS);
	assert_string_equal(c.reason, "apmask changed");

	/* An mdev is created: add and bind, the mdevs only. */
	cap->n = 0;
	uevent_summary_init(&cap->summary);
	assert_int_equal(sysfs_write_str(fs, create, UUID1), 0);
	assert_int_equal(cap->n, 2);
	assert_int_equal(cap->summary.reread, UEVENT_REREAD_MDEVS);
	assert_int_equal(cap->summary.n_mdevs, 1);
	assert_string_equal(cap->summary.mdevs[0], UUID1);
	assert_string_equal(uevent_get(&cap->ev[1], "DRIVER"), "vfio_ap_mdev");

	/* The card leaves the configuration: CONFIG=0 for it and each queue. */
	cap->n = 0;
	uevent_summary_init(&cap->summary);
	assert_int_equal(sysfs_write_str(fs, "devices/ap/card06/config", "0"), 0);
	assert_int_equal(cap->n, 5);
	assert_int_equal(cap->summary.reread, UEVENT_REREAD_HOST);
	uevent_classify(&cap->ev[0], &c);
	assert_int_equal(c.object, UEVENT_OBJ_CARD);
	assert_int_equal(c.apqn.ap, 6);
	assert_string_equal(uevent_get(&cap->ev[0], "CONFIG"), "0");

	sim_set_uevent_handler(sim, NULL, NULL);
	sysfs_free(fs);
	sim_free(sim);
	free(cap);
}

/* ---- the monitor, with libudev's receive side replaced ---- */

/* A udev_device or udev_list_entry is, here, a pointer into this. */
struct fake_device {
	int error; /* non-zero: receive fails with this errno instead */
	struct uevent ev;
	size_t entry[UEVENT_MAX_KEYS]; /* entry[i] == i: the i-th property */
};

static struct fake_device fake_queue[MAX_EVENTS];
static size_t fake_head, fake_tail;
static unsigned fake_unrefs;

struct udev_device *__wrap_udev_monitor_receive_device(struct udev_monitor *mon);
struct udev_device *__wrap_udev_device_unref(struct udev_device *dev);
const char *__wrap_udev_device_get_action(struct udev_device *dev);
const char *__wrap_udev_device_get_devpath(struct udev_device *dev);
const char *__wrap_udev_device_get_subsystem(struct udev_device *dev);
struct udev_list_entry *__wrap_udev_device_get_properties_list_entry(struct udev_device *dev);
struct udev_list_entry *__wrap_udev_list_entry_get_next(struct udev_list_entry *e);
const char *__wrap_udev_list_entry_get_name(struct udev_list_entry *e);
const char *__wrap_udev_list_entry_get_value(struct udev_list_entry *e);

struct udev_device *__wrap_udev_monitor_receive_device(struct udev_monitor *mon)
{
	struct fake_device *d;

	if (fake_head == fake_tail) {
		errno = EAGAIN;
		return NULL;
	}
	d = &fake_queue[fake_head++];
	if (d->error) {
		errno = d->error;
		return NULL;
	}
	return (struct udev_device *) d;
}

struct udev_device *__wrap_udev_device_unref(struct udev_device *dev)
{
	fake_unrefs++;
	return NULL;
}

static const char *fake_get(struct udev_device *dev, const char *key)
{
	return uevent_get(&((struct fake_device *) dev)->ev, key);
}

const char *__wrap_udev_device_get_action(struct udev_device *dev)
{
	return fake_get(dev, "ACTION");
}

const char *__wrap_udev_device_get_devpath(struct udev_device *dev)
{
	return fake_get(dev, "DEVPATH");
}

const char *__wrap_udev_device_get_subsystem(struct udev_device *dev)
{
	return fake_get(dev, "SUBSYSTEM");
}

static struct fake_device *entry_device(struct udev_list_entry *e, size_t *ret_i)
{
	size_t *p = (size_t *) e;

	*ret_i = *p;
	return (struct fake_device *) ((char *) (p - *p) - offsetof(struct fake_device, entry));
}

struct udev_list_entry *__wrap_udev_device_get_properties_list_entry(struct udev_device *dev)
{
	struct fake_device *d = (struct fake_device *) dev;

	return d->ev.n_keys ? (struct udev_list_entry *) &d->entry[0] : NULL;
}

struct udev_list_entry *__wrap_udev_list_entry_get_next(struct udev_list_entry *e)
{
	size_t i;
	struct fake_device *d = entry_device(e, &i);

	return i + 1 < d->ev.n_keys ? (struct udev_list_entry *) &d->entry[i + 1] : NULL;
}

const char *__wrap_udev_list_entry_get_name(struct udev_list_entry *e)
{
	size_t i;
	struct fake_device *d = entry_device(e, &i);

	return d->ev.text + d->ev.key[i];
}

const char *__wrap_udev_list_entry_get_value(struct udev_list_entry *e)
{
	size_t i;
	struct fake_device *d = entry_device(e, &i);

	return d->ev.text + d->ev.value[i];
}

static void fake_push(const struct uevent *ev, int error)
{
	struct fake_device *d = &fake_queue[fake_tail++];

	assert_true(fake_tail <= MAX_EVENTS);
	memset(d, 0, sizeof(*d));
	d->error = error;
	if (ev)
		d->ev = *ev;
	for (size_t i = 0; i < UEVENT_MAX_KEYS; i++)
		d->entry[i] = i;
}

static void fake_reset(void)
{
	fake_head = fake_tail = 0;
	fake_unrefs = 0;
}

static void test_monitor_roots(void **state)
{
	struct uevent_monitor *m = NULL;

	assert_int_equal(uevent_monitor_new("/tmp", &m), -EOPNOTSUPP);
	assert_int_equal(uevent_monitor_new("/sys/", &m), -EOPNOTSUPP);
	assert_int_equal(uevent_monitor_new("simulator", &m), -EOPNOTSUPP);
	assert_int_equal(uevent_monitor_new(NULL, &m), -EINVAL);
	assert_null(m);
	assert_null(uevent_monitor_free(NULL));
}

static void test_monitor_receive(void **state)
{
	struct uevent ev[MAX_EVENTS];
	struct uevent_monitor *m = NULL;
	struct uevent_summary s;
	size_t n;
	int r;

	r = uevent_monitor_new("/sys", &m);
	if (r < 0) {
		/* A sandbox without the uevent netlink socket. */
		print_message("no kernel uevent socket here (%s)\n", strerror(-r));
		skip();
	}
	assert_true(uevent_monitor_fd(m) >= 0);

	/* Nothing pending. */
	fake_reset();
	uevent_summary_init(&s);
	assert_int_equal(uevent_monitor_receive(m, &s), 0);
	assert_int_equal(s.reread, UEVENT_REREAD_NONE);

	/* A recorded mdev life, in one go; every device is unreferenced. */
	n = load_fixture("mdev_lifecycle.txt", ev, MAX_EVENTS);
	for (size_t i = 0; i < n; i++)
		fake_push(&ev[i], 0);
	assert_int_equal(uevent_monitor_receive(m, &s), 6);
	assert_int_equal(fake_unrefs, 6);
	assert_int_equal(s.events, 6);
	assert_int_equal(s.reread, UEVENT_REREAD_MDEVS);
	assert_int_equal(s.n_mdevs, 1);
	assert_false(s.lost);

	/* An overflow in between: counted as lost, receiving goes on. */
	fake_reset();
	uevent_summary_init(&s);
	load_fixture("card_config.txt", ev, MAX_EVENTS);
	fake_push(&ev[0], 0);
	fake_push(NULL, ENOBUFS);
	fake_push(&ev[1], 0);
	fake_push(NULL, EINTR);
	fake_push(&ev[2], 0);
	assert_int_equal(uevent_monitor_receive(m, &s), 3);
	assert_true(s.lost);
	assert_int_equal(s.reread, UEVENT_REREAD_ALL);
	assert_int_equal(apqn_set_count(&s.queues), 2);

	/* A broken socket: reported, with everything to re-read. */
	fake_reset();
	uevent_summary_init(&s);
	fake_push(&ev[0], 0);
	fake_push(NULL, EBADF);
	assert_int_equal(uevent_monitor_receive(m, &s), -EBADF);
	assert_true(s.lost);
	assert_int_equal(s.reread, UEVENT_REREAD_ALL);
	assert_int_equal(s.events, 1);

	assert_null(uevent_monitor_free(m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_ap_mask),
		cmocka_unit_test(test_fixture_card_config),
		cmocka_unit_test(test_fixture_card_online),
		cmocka_unit_test(test_fixture_mdev_lifecycle),
		cmocka_unit_test(test_fixture_matrix),
		cmocka_unit_test(test_fixture_initscan),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_classify_edges),
		cmocka_unit_test(test_sim_events),
		cmocka_unit_test(test_monitor_roots),
		cmocka_unit_test(test_monitor_receive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
