/* SPDX-License-Identifier: MIT */
/*
 * The zapfs tree over an engine on the in-process simulator (the seed's
 * LPAR: cards 05 and 06, domains 0004 0047 00ab 00ff): lookups, listings,
 * node ids and hard links, every mutation's intent and errno, name
 * strictness, and the invalidation lists of a few changes.
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

#include "core/engine.h"
#include "core/render.h"
#include "core/strbuf.h"
#include "core/tree.h"
#include "kmod/kport.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"

#define MAX_INVALS 4096

struct fixture {
	struct sim *sim;
	struct sysfs *sysfs;
	struct engine *engine;
	struct tree *tree;
	unsigned next_uuid;
	char last_log[OUTCOME_SENTENCE_MAX];
	int last_err;
	unsigned n_logs;
	struct tree_inval invals[MAX_INVALS];
	size_t n_invals;
};

static int counting_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	struct fixture *f = ctx;

	snprintf(ret, UUID_STR_LEN + 1, "%08x-0000-4000-8000-000000000000", ++f->next_uuid);
	return 0;
}

static void capture_log(void *ctx, int err, const char *sentence)
{
	struct fixture *f = ctx;

	snprintf(f->last_log, sizeof(f->last_log), "%s", sentence);
	f->last_err = err;
	f->n_logs++;
}

static void capture_invals(void *ctx, const struct tree_inval *list, size_t n)
{
	struct fixture *f = ctx;

	for (size_t i = 0; i < n && f->n_invals < MAX_INVALS; i++)
		f->invals[f->n_invals++] = list[i];
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	struct engine_config ecfg = { .uuid_source = counting_uuid };
	struct tree_config tcfg = {
		.matrix_dir = "/sys/devices/vfio_ap/matrix",
		.hooks = { .log = capture_log, .invalidate = capture_invals },
	};
	char err[256];

	assert_non_null(f);
	assert_non_null(cfg);
	assert_int_equal(sim_config_parse(sim_seed_host, "seed", cfg, err, sizeof(err)), 0);
	assert_int_equal(sim_new(cfg, &f->sim), 0);
	free(cfg);
	assert_int_equal(sysfs_open_sim(f->sim, &f->sysfs), 0);
	assert_int_equal(kport_new(f->sysfs, &ecfg.port), 0);
	ecfg.uuid_ctx = f;
	assert_int_equal(engine_new(&ecfg, &f->engine), 0);
	tcfg.engine = f->engine;
	tcfg.hooks.ctx = f;
	assert_int_equal(tree_new(&tcfg, &f->tree), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tree_free(f->tree);
	engine_free(f->engine);
	sysfs_free(f->sysfs);
	sim_free(f->sim);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* The node at a relative path ("guests/g1/queues"), or its -errno. */
static int walk(struct fixture *f, const char *path, struct tree_attr *ret)
{
	char copy[512], *save = NULL;
	struct tree_attr a;
	int r = tree_getattr(f->tree, TREE_ROOT_ID, &a);

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *name = strtok_r(copy, "/", &save); name && r >= 0;
	     name = strtok_r(NULL, "/", &save))
		r = tree_lookup(f->tree, a.id, name, &a);
	if (r >= 0)
		*ret = a;
	return r;
}

static uint64_t id_of(struct fixture *f, const char *path)
{
	struct tree_attr a;

	assert_int_equal(walk(f, path, &a), 0);
	return a.id;
}

/* The content of the file at path, into a static buffer. */
static const char *content(struct fixture *f, const char *path)
{
	static char text[8192];
	_cleanup_content_ struct content *c = NULL;

	assert_int_equal(tree_read(f->tree, id_of(f, path), &c), 0);
	assert_true(c->len < sizeof(text));
	memcpy(text, c->data, c->len + 1);
	return text;
}

/* The listing of the directory at path, as "a b c" (without . and ..). */
static const char *listing(struct fixture *f, const char *path)
{
	static char text[16384];
	struct tree_listing *l = NULL;

	assert_int_equal(tree_list(f->tree, id_of(f, path), &l), 0);
	assert_true(l->n >= 2);
	assert_string_equal(l->entries[0].name, ".");
	assert_string_equal(l->entries[1].name, "..");
	text[0] = '\0';
	for (size_t i = 2; i < l->n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i > 2 ? " " : "",
			 l->entries[i].name);
	tree_listing_free(l);
	return text;
}

static int create(struct fixture *f, const char *dir, const char *name)
{
	struct tree_attr a;

	return tree_create(f->tree, id_of(f, dir), name, &a);
}

static int mkdir_guest(struct fixture *f, const char *name)
{
	struct tree_attr a;

	return tree_mkdir(f->tree, id_of(f, "guests"), name, &a);
}

static int write_text(struct fixture *f, const char *path, const char *text)
{
	return tree_write(f->tree, id_of(f, path), text, strlen(text));
}

static bool has_inval(struct fixture *f, enum tree_inval_kind kind, uint64_t parent, uint64_t id,
		      const char *name)
{
	for (size_t i = 0; i < f->n_invals; i++) {
		const struct tree_inval *v = &f->invals[i];

		if (v->kind == kind && v->parent == parent && v->id == id &&
		    strcmp(v->name, name ? name : "") == 0)
			return true;
	}
	return false;
}

static bool has_entry_inval(struct fixture *f, const char *dir, const char *name)
{
	return has_inval(f, TREE_INVAL_ENTRY, id_of(f, dir), 0, name);
}

/* The seed's three guests (the vfio-ap document's example), typed into the tree. */
static void three_guests(struct fixture *f)
{
	assert_int_equal(write_text(f, "pools/host/adapters", "-5,-6\n"), 6);
	assert_int_equal(mkdir_guest(f, "Guest1"), 0);
	assert_int_equal(mkdir_guest(f, "Guest2"), 0);
	assert_int_equal(mkdir_guest(f, "Guest3"), 0);
	assert_int_equal(create(f, "guests/Guest1/queues", "05.0004"), 0);
	assert_int_equal(create(f, "guests/Guest1/queues", "06.00ab"), 0);
	assert_int_equal(create(f, "guests/Guest2/queues", "05.0047"), 0);
	assert_int_equal(create(f, "guests/Guest2/queues", "05.00ff"), 0);
	assert_int_equal(create(f, "guests/Guest3/adapters", "06"), 0);
	assert_int_equal(create(f, "guests/Guest3/domains", "0047"), 0);
	assert_int_equal(create(f, "guests/Guest3/domains", "00ff"), 0);
}

/* ---- reading ---- */

static void test_root(void **state)
{
	struct fixture *f = *state;
	struct tree_attr a;

	assert_string_equal(listing(f, ""),
			    "README status status.json log cards queues pools reservations guests");
	assert_int_equal(tree_getattr(f->tree, TREE_ROOT_ID, &a), 0);
	assert_int_equal(a.type, TREE_NODE_DIR);
	assert_int_equal(a.nlink, 7);
	assert_string_equal(listing(f, "pools"), "host vfio");
	assert_string_equal(listing(f, "cards"), "05 06");
	assert_string_equal(listing(f, "cards/05"),
			    "type mode hwtype raw_hwtype online config chkstop depth functions");
	assert_string_equal(content(f, "cards/05/type"), "CEX5C\n");
	assert_string_equal(content(f, "pools/host/adapters"), "0-255\n");
	assert_int_equal(walk(f, "README", &a), 0);
	assert_int_equal(a.mode, 0444);
	assert_true(a.content);
	assert_int_equal(walk(f, "pools/host/domains", &a), 0);
	assert_int_equal(a.mode, 0644);
	assert_true(a.writable);
	/* sizes are exact */
	assert_int_equal(a.size, strlen("0-255\n"));
}

static void test_queues_and_pools(void **state)
{
	struct fixture *f = *state;
	struct tree_attr a;

	assert_string_equal(listing(f, "queues"),
			    "05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff");
	assert_string_equal(listing(f, "pools/host"), "adapters domains 05.0004 05.0047 05.00ab "
						      "05.00ff 06.0004 06.0047 06.00ab 06.00ff");
	assert_string_equal(listing(f, "pools/vfio"), "");
	assert_int_equal(walk(f, "queues/05.0004", &a), 0);
	assert_int_equal(a.type, TREE_NODE_FILE);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(id_of(f, "pools/host/05.0004"), a.id);
	assert_int_not_equal(id_of(f, "queues/05.0047"), a.id);
	assert_int_equal(walk(f, "pools/vfio/05.0004", &a), -ENOENT);
	/* names are strict: no other spelling finds a queue */
	assert_int_equal(walk(f, "queues/5.4", &a), -ENOENT);
	assert_int_equal(walk(f, "queues/05.0004 ", &a), -ENOENT);
	assert_int_equal(walk(f, "queues/07.0004", &a), -ENOENT);
	assert_int_equal(walk(f, "cards/5", &a), -ENOENT);
	assert_int_equal(walk(f, "status/x", &a), -ENOTDIR);
}

static void test_three_guests(void **state)
{
	struct fixture *f = *state;
	struct tree_attr a;

	three_guests(f);
	assert_string_equal(listing(f, "pools/host"), "adapters domains");
	assert_string_equal(listing(f, "pools/vfio"),
			    "05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff");
	assert_string_equal(listing(f, "guests"), "Guest1 Guest2 Guest3");
	assert_string_equal(content(f, "guests/Guest1/matrix"),
			    "05.0004\n05.00ab\n06.0004\n06.00ab\n");
	assert_string_equal(content(f, "guests/Guest2/matrix"), "05.0047\n05.00ff\n");
	assert_string_equal(content(f, "guests/Guest3/matrix"), "06.0047\n06.00ff\n");
	assert_string_equal(listing(f, "guests/Guest1/queues"), "05.0004 05.00ab 06.0004 06.00ab");
	assert_string_equal(listing(f, "guests/Guest1/adapters"), "05 06");
	assert_string_equal(listing(f, "guests/Guest1/domains"), "0004 00ab");
	assert_string_equal(content(f, "guests/Guest1/uuid"),
			    "00000001-0000-4000-8000-000000000000\n");

	/* one node per APQN, with a name in queues/, its pool and the guest's queues/ */
	assert_int_equal(walk(f, "guests/Guest1/queues/05.00ab", &a), 0);
	assert_int_equal(a.nlink, 3);
	assert_int_equal(id_of(f, "queues/05.00ab"), a.id);
	assert_int_equal(id_of(f, "pools/vfio/05.00ab"), a.id);
	assert_int_equal(walk(f, "guests/Guest1/adapters/05", &a), 0);
	assert_int_equal(a.mode, 0644);
	assert_int_equal(a.size, 0);

	/* assigning reserved the queues for their guest */
	assert_string_equal(listing(f, "reservations"), "05.0004 05.0047 05.00ab 05.00ff 06.0004 "
							"06.0047 06.00ab 06.00ff");
	char target[64];
	assert_int_equal(
	    tree_readlink(f->tree, id_of(f, "reservations/05.0047"), target, sizeof(target)),
	    (int) strlen("../guests/Guest2"));
	assert_string_equal(target, "../guests/Guest2");
	assert_int_equal(walk(f, "reservations/05.0047", &a), 0);
	assert_int_equal(a.type, TREE_NODE_SYMLINK);
	assert_int_equal(a.size, strlen("../guests/Guest2"));
}

static void test_guest_dir_order(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir_guest(f, "g"), 0);
	/* adapters/ first: rm -r empties queues/ by unassigning before it gets there */
	assert_string_equal(
	    listing(f, "guests/g"),
	    "adapters control_domains domains queues uuid state matrix guest_matrix "
	    "qemu libvirt.xml mdevctl.json nodedev.xml lszcrypt");
	assert_string_equal(content(f, "guests/g/state"), "active\n");
	assert_string_equal(
	    content(f, "guests/g/qemu"),
	    "-cpu host,ap=on,apqci=on,apft=on -device vfio-ap,sysfsdev=/sys/devices/"
	    "vfio_ap/matrix/00000001-0000-4000-8000-000000000000\n");
}

/* ---- changing ---- */

static void test_name_strictness(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir_guest(f, "g"), 0);
	assert_int_equal(create(f, "guests/g/adapters", "5"), -EINVAL);
	assert_string_equal(f->last_log, "touch guests/g/adapters/5: refused (EINVAL): adapter "
					 "names are two hex digits: use 05");
	assert_int_equal(f->last_err, EINVAL);
	assert_int_equal(create(f, "guests/g/domains", "0x47"), -EINVAL);
	assert_string_equal(f->last_log, "touch guests/g/domains/0x47: refused (EINVAL): domain "
					 "names are four hex digits: use 0047");
	assert_int_equal(create(f, "guests/g/control_domains", "AB"), -EINVAL);
	assert_string_equal(f->last_log,
			    "touch guests/g/control_domains/AB: refused (EINVAL): control domain "
			    "names are four hex digits: use 00ab");
	assert_int_equal(create(f, "guests/g/queues", "5.4"), -EINVAL);
	assert_string_equal(f->last_log,
			    "touch guests/g/queues/5.4: refused (EINVAL): queue names are two hex "
			    "digits, a dot and four hex digits: use 05.0004");
	assert_int_equal(create(f, "guests/g/adapters", "web"), -EINVAL);
	assert_string_equal(f->last_log, "touch guests/g/adapters/web: refused (EINVAL): adapter "
					 "names are two hex digits, like 05");
	/* the tree's refusals are in the log file too */
	assert_non_null(strstr(content(f, "log"), "adapter names are two hex digits, like 05\n"));
	assert_string_equal(listing(f, "guests/g/adapters"), "");
}

static void test_assign_unassign(void **state)
{
	struct fixture *f = *state;
	struct tree_attr a;

	assert_int_equal(write_text(f, "pools/host/adapters", "-5"), 2);
	assert_string_equal(f->last_log, "echo -5 > pools/host/adapters: done: apmask -5");
	assert_int_equal(mkdir_guest(f, "g"), 0);
	assert_int_equal(create(f, "guests/g/adapters", "05"), 0);
	assert_string_equal(f->last_log, "touch guests/g/adapters/05: done: assign_adapter 0x5 to "
					 "00000001-0000-4000-8000-000000000000");
	assert_int_equal(create(f, "guests/g/domains", "0047"), 0);
	assert_int_equal(create(f, "guests/g/control_domains", "00ab"), 0);
	assert_string_equal(listing(f, "guests/g/queues"), "05.0047");
	assert_string_equal(listing(f, "guests/g/control_domains"), "00ab");
	/* above the host's maximum adapter id (63) */
	assert_int_equal(create(f, "guests/g/adapters", "40"), -ENODEV);
	assert_int_equal(f->last_err, ENODEV);
	/* a host-pool queue cannot join a matrix */
	assert_int_equal(create(f, "guests/g/queues", "06.0047"), -EADDRNOTAVAIL);
	/* writing into an id file changes nothing */
	assert_int_equal(tree_write(f->tree, id_of(f, "guests/g/adapters/05"), "x\n", 2), 2);

	assert_int_equal(tree_unlink(f->tree, id_of(f, "guests/g/domains"), "0047"), 0);
	assert_string_equal(listing(f, "guests/g/queues"), "");
	assert_int_equal(tree_unlink(f->tree, id_of(f, "guests/g/control_domains"), "00ab"), 0);
	assert_int_equal(walk(f, "guests/g/control_domains/00ab", &a), -ENOENT);
	/* the reservation stays until released */
	assert_int_equal(walk(f, "reservations/05.0047", &a), 0);
	assert_int_equal(tree_unlink(f->tree, id_of(f, "reservations"), "05.0047"), 0);
	assert_int_equal(walk(f, "reservations/05.0047", &a), -ENOENT);
}

static void test_queue_remove_and_release(void **state)
{
	struct fixture *f = *state;

	three_guests(f);
	/* either removal would take another of Guest1's queues along */
	assert_int_equal(tree_unlink(f->tree, id_of(f, "guests/Guest1/queues"), "05.0004"), -EBUSY);
	assert_int_equal(f->last_err, EBUSY);
	/* a reservation cannot be released while its owner holds the queue */
	assert_int_equal(tree_unlink(f->tree, id_of(f, "reservations"), "05.0004"), -EBUSY);
	/* another guest's reservation keeps the queue from Guest3 */
	assert_int_equal(create(f, "guests/Guest3/queues", "06.0004"), -EADDRINUSE);
	assert_int_equal(tree_unlink(f->tree, id_of(f, "guests/Guest2/queues"), "05.00ff"), 0);
	assert_string_equal(content(f, "guests/Guest2/matrix"), "05.0047\n");
}

static void test_reservation_symlinks(void **state)
{
	struct fixture *f = *state;
	uint64_t res;
	struct tree_attr a;
	char target[64];

	assert_int_equal(mkdir_guest(f, "web1"), 0);
	res = id_of(f, "reservations");
	assert_int_equal(tree_symlink(f->tree, "../guests/web1", res, "05.0004", &a), 0);
	assert_int_equal(a.type, TREE_NODE_SYMLINK);
	assert_int_equal(tree_symlink(f->tree, "guests/web1", res, "06.0004", &a), 0);
	assert_int_equal(tree_readlink(f->tree, a.id, target, sizeof(target)), 14);
	assert_string_equal(target, "../guests/web1");
	assert_int_equal(tree_symlink(f->tree, "/tmp/x", res, "05.0047", &a), -EINVAL);
	assert_int_equal(tree_symlink(f->tree, "../guests/web1/x", res, "05.0047", &a), -EINVAL);
	assert_int_equal(tree_symlink(f->tree, "../guests/nobody", res, "05.0047", &a), -ENOENT);
	assert_int_equal(tree_symlink(f->tree, "../guests/web1", res, "5.47", &a), -EINVAL);
	assert_int_equal(tree_symlink(f->tree, "../guests/web1", id_of(f, "guests"), "x", &a),
			 -EPERM);

	/* a rename keeps the guest's ids and moves its reservations */
	uint64_t before = id_of(f, "guests/web1"), adapters = id_of(f, "guests/web1/adapters");
	assert_int_equal(
	    tree_rename(f->tree, id_of(f, "guests"), "web1", id_of(f, "guests"), "db1", false), 0);
	assert_int_equal(id_of(f, "guests/db1"), before);
	assert_int_equal(id_of(f, "guests/db1/adapters"), adapters);
	assert_int_equal(
	    tree_readlink(f->tree, id_of(f, "reservations/05.0004"), target, sizeof(target)), 13);
	assert_string_equal(target, "../guests/db1");
	assert_int_equal(mkdir_guest(f, "web2"), 0);
	assert_int_equal(
	    tree_rename(f->tree, id_of(f, "guests"), "db1", id_of(f, "guests"), "web2", false),
	    -EEXIST);
	assert_int_equal(
	    tree_rename(f->tree, id_of(f, "guests"), "db1", id_of(f, "guests"), "web2", true),
	    -EINVAL);
}

static void test_pool_moves(void **state)
{
	struct fixture *f = *state;
	uint64_t host, vfio, q;
	struct tree_attr a;

	host = id_of(f, "pools/host");
	vfio = id_of(f, "pools/vfio");
	/* every mask change would move another queue along */
	assert_int_equal(tree_rename(f->tree, host, "05.0004", vfio, "05.0004", false), -EBUSY);
	assert_int_equal(write_text(f, "pools/host/domains", "-4"), 2);
	assert_int_equal(write_text(f, "pools/host/adapters", "-5"), 2);
	assert_string_equal(listing(f, "pools/host"), "adapters domains 06.0047 06.00ab 06.00ff");
	/* 06.0004 alone goes back to the host, and comes back by a hard link */
	assert_int_equal(tree_rename(f->tree, vfio, "06.0004", host, "06.0004", false), 0);
	assert_string_equal(f->last_log,
			    "mv pools/vfio/06.0004 pools/host/06.0004: done: aqmask +4");
	q = id_of(f, "pools/host/06.0004");
	assert_int_equal(tree_link(f->tree, q, vfio, "06.0004", &a), 0);
	assert_int_equal(a.id, q);
	assert_int_equal(walk(f, "pools/host/06.0004", &a), -ENOENT);
	assert_int_equal(id_of(f, "pools/vfio/06.0004"), q);
	/* a queue keeps its name */
	assert_int_equal(tree_rename(f->tree, vfio, "06.0004", host, "06.0047", false), -EINVAL);
	assert_int_equal(tree_link(f->tree, q, host, "06.0047", &a), -EINVAL);
	assert_int_equal(tree_link(f->tree, q, id_of(f, "queues"), "06.0004", &a), -EPERM);
	/* ln queues/Q guests/G/queues/ adds the queue */
	assert_int_equal(mkdir_guest(f, "g"), 0);
	assert_int_equal(tree_link(f->tree, q, id_of(f, "guests/g/queues"), "06.0004", &a), 0);
	assert_int_equal(a.nlink, 3);
	assert_string_equal(content(f, "guests/g/matrix"), "06.0004\n");
	/* nothing else moves */
	assert_int_equal(
	    tree_rename(f->tree, id_of(f, "guests/g"), "queues", host, "queues", false), -EINVAL);
	assert_int_equal(tree_link(f->tree, id_of(f, "status"), host, "status", &a), -EPERM);
}

static void test_structural_refusals(void **state)
{
	struct fixture *f = *state;
	struct tree_attr a;

	assert_int_equal(create(f, "queues", "07.0004"), -EPERM);
	assert_int_equal(f->last_err, EPERM);
	assert_int_equal(create(f, "pools/vfio", "05.0004"), -EPERM);
	assert_int_equal(create(f, "reservations", "05.0004"), -EPERM);
	assert_int_equal(create(f, "", "notes"), -EPERM);
	assert_int_equal(tree_mkdir(f->tree, id_of(f, "pools"), "x", &a), -EPERM);
	assert_int_equal(tree_unlink(f->tree, TREE_ROOT_ID, "README"), -EPERM);
	assert_int_equal(tree_unlink(f->tree, id_of(f, "pools/host"), "05.0004"), -EPERM);
	assert_int_equal(tree_rmdir(f->tree, TREE_ROOT_ID, "cards"), -EPERM);
	assert_int_equal(mkdir_guest(f, ".hidden"), -EINVAL);
	assert_int_equal(mkdir_guest(f, "g"), 0);
	assert_int_equal(mkdir_guest(f, "g"), -EEXIST);
	assert_int_equal(create(f, "guests/g", "notes"), -EPERM);

	/* opening and truncating */
	assert_int_equal(tree_open(f->tree, id_of(f, "status"), false), 0);
	assert_int_equal(tree_open(f->tree, id_of(f, "status"), true), -EACCES);
	assert_int_equal(tree_open(f->tree, id_of(f, "guests"), false), -EISDIR);
	assert_int_equal(tree_open(f->tree, id_of(f, "pools/host/adapters"), true), 0);
	assert_int_equal(tree_write(f->tree, id_of(f, "status"), "x", 1), -EACCES);
	/* touch of a queue that is there: the open succeeds, writes do not */
	assert_int_equal(tree_open(f->tree, id_of(f, "queues/05.0004"), true), 0);
	assert_int_equal(tree_write(f->tree, id_of(f, "queues/05.0004"), "x", 1), -EACCES);
	assert_int_equal(
	    tree_setattr(f->tree, id_of(f, "queues/05.0004"), false, 0, false, false, &a), 0);
	assert_int_equal(
	    tree_setattr(f->tree, id_of(f, "pools/host/adapters"), true, 0, false, false, &a), 0);
	assert_int_equal(tree_setattr(f->tree, id_of(f, "status"), true, 0, false, false, &a),
			 -EACCES);
	assert_int_equal(
	    tree_setattr(f->tree, id_of(f, "pools/host/adapters"), true, 3, false, false, &a),
	    -EINVAL);
	assert_int_equal(tree_setattr(f->tree, id_of(f, "status"), false, 0, true, false, &a),
			 -EPERM);
	assert_int_equal(tree_setattr(f->tree, id_of(f, "status"), false, 0, false, false, &a), 0);
	/* a bad mask edit is the engine's refusal */
	assert_int_equal(write_text(f, "pools/host/adapters", "+5,7"), -EINVAL);
	assert_int_equal(tree_write(f->tree, id_of(f, "pools/host/adapters"), "+5\0", 3), -EINVAL);
	assert_string_equal(f->last_log, "write to pools/host/adapters: refused (EINVAL): the text "
					 "holds a NUL byte");
}

static void test_rm_r(void **state)
{
	struct fixture *f = *state;
	struct tree_listing *l = NULL;
	struct tree_attr a;

	three_guests(f);
	/* what rm -r guests/Guest1 does, in readdir order */
	assert_int_equal(tree_list(f->tree, id_of(f, "guests/Guest1"), &l), 0);
	for (size_t i = 2; i < l->n; i++) {
		const char *name = l->entries[i].name;
		uint64_t dir = id_of(f, "guests/Guest1");

		if (l->entries[i].attr.type == TREE_NODE_DIR) {
			struct tree_listing *sub = NULL;

			assert_int_equal(tree_list(f->tree, l->entries[i].attr.id, &sub), 0);
			for (size_t j = 2; j < sub->n; j++)
				assert_int_equal(tree_unlink(f->tree, l->entries[i].attr.id,
							     sub->entries[j].name),
						 0);
			tree_listing_free(sub);
			assert_int_equal(tree_rmdir(f->tree, dir, name), 0);
		} else {
			assert_int_equal(tree_unlink(f->tree, dir, name), 0);
		}
	}
	tree_listing_free(l);
	assert_string_equal(f->last_log, "rm guests/Guest1/lszcrypt: done (nothing to change): a "
					 "guest's files go with the guest (rmdir it)");
	assert_int_equal(tree_rmdir(f->tree, id_of(f, "guests"), "Guest1"), 0);
	assert_int_equal(walk(f, "guests/Guest1", &a), -ENOENT);
	assert_string_equal(listing(f, "guests"), "Guest2 Guest3");
	/* the reservations outlive the guest */
	assert_int_equal(walk(f, "reservations/05.0004", &a), 0);
}

static void test_invalidation(void **state)
{
	struct fixture *f = *state;
	uint64_t g1, g1_adapters, g1_queues;

	/* a mask edit: the queue's names in every list, its node, nothing of other queues */
	f->n_invals = 0;
	assert_int_equal(write_text(f, "pools/host/domains", "-0x47"), 5);
	assert_true(has_entry_inval(f, "pools/host", "05.0047"));
	assert_true(has_entry_inval(f, "pools/vfio", "06.0047"));
	assert_true(has_entry_inval(f, "queues", "05.0047"));
	assert_true(has_entry_inval(f, "reservations", "05.0047"));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "queues/05.0047"), NULL));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "pools/host/domains"), NULL));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "status"), NULL));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "log"), NULL));
	assert_false(has_entry_inval(f, "pools/host", "05.0004"));
	assert_false(has_entry_inval(f, "queues", "06.00ff"));

	/* a new guest: the mkdir's reply hands the kernel its name; guests/ gains a link */
	f->n_invals = 0;
	assert_int_equal(mkdir_guest(f, "g1"), 0);
	assert_false(has_entry_inval(f, "guests", "g1"));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "guests"), NULL));
	g1 = id_of(f, "guests/g1");
	g1_adapters = id_of(f, "guests/g1/adapters");
	g1_queues = id_of(f, "guests/g1/queues");

	/* an assignment: the id file and the queues it brings, in the guest's lists */
	assert_int_equal(create(f, "guests/g1/domains", "0047"), 0);
	f->n_invals = 0;
	assert_int_equal(create(f, "guests/g1/adapters", "05"), 0);
	assert_false(has_inval(f, TREE_INVAL_ENTRY, g1_adapters, 0, "05")); /* the reply's */
	assert_true(has_inval(f, TREE_INVAL_ENTRY, g1_queues, 0, "05.0047"));
	assert_true(has_entry_inval(f, "reservations", "05.0047"));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "guests/g1/matrix"), NULL));
	assert_false(has_inval(f, TREE_INVAL_ENTRY, g1_queues, 0, "06.0047"));
	assert_false(has_inval(f, TREE_INVAL_ENTRY, g1_adapters, 0, "06"));
	/* directories keep their attributes: a path walk through them needs no GETATTR */
	assert_false(has_inval(f, TREE_INVAL_INODE, 0, g1, NULL));
	assert_false(has_inval(f, TREE_INVAL_INODE, 0, g1_adapters, NULL));
	assert_false(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "guests"), NULL));
	assert_false(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "queues"), NULL));

	/* a rename: both names; the ids stay */
	f->n_invals = 0;
	assert_int_equal(
	    tree_rename(f->tree, id_of(f, "guests"), "g1", id_of(f, "guests"), "g2", false), 0);
	assert_true(has_entry_inval(f, "guests", "g1"));
	assert_true(has_entry_inval(f, "guests", "g2"));
	assert_false(has_inval(f, TREE_INVAL_DELETE, id_of(f, "guests"), g1, "g1"));

	/*
	 * a removal: the kernel drops the name its own rm or rmdir removed; the
	 * rest of what changed is invalidated (a guest that goes behind zapfs's
	 * back is deleted by the rescan: fs_watch)
	 */
	f->n_invals = 0;
	assert_int_equal(tree_unlink(f->tree, id_of(f, "guests/g2/adapters"), "05"), 0);
	assert_false(has_inval(f, TREE_INVAL_ENTRY, g1_adapters, 0, "05"));
	assert_true(has_inval(f, TREE_INVAL_ENTRY, g1_queues, 0, "05.0047"));
	f->n_invals = 0;
	assert_int_equal(tree_rmdir(f->tree, id_of(f, "guests"), "g2"), 0);
	assert_false(has_inval(f, TREE_INVAL_DELETE, id_of(f, "guests"), g1, "g2"));
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "guests"), NULL));

	/* a refusal changes only the log */
	f->n_invals = 0;
	assert_int_equal(create(f, "queues", "05.0004"), -EPERM);
	assert_int_equal(f->n_invals, 1);
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "log"), NULL));
}

static void test_refresh(void **state)
{
	struct fixture *f = *state;
	unsigned logs;

	assert_int_equal(write_text(f, "pools/host/adapters", "-5"), 2);
	assert_int_equal(mkdir_guest(f, "g"), 0);
	assert_int_equal(create(f, "guests/g/queues", "05.0004"), 0);
	/* nothing changed underneath: no log line */
	logs = f->n_logs;
	assert_int_equal(tree_refresh(f->tree, true), 0);
	assert_int_equal(f->n_logs, logs);
	/* a KVM guest starts (sysfs shows it by its queues' status): the rescan sees it */
	assert_int_equal(sim_kvm_attach(f->sim, "00000001-0000-4000-8000-000000000000"), 0);
	f->n_invals = 0;
	assert_int_equal(tree_refresh(f->tree, true), 0);
	assert_int_equal(f->n_logs, logs + 1);
	assert_string_equal(f->last_log, "rescan: done; guest g changed");
	assert_true(has_inval(f, TREE_INVAL_INODE, 0, id_of(f, "guests/g/state"), NULL));
	assert_string_equal(content(f, "guests/g/state"), "running\n");
	assert_int_equal(tree_rmdir(f->tree, id_of(f, "guests"), "g"), -EBUSY);
	assert_int_equal(sim_kvm_detach(f->sim, "00000001-0000-4000-8000-000000000000"), 0);

	/* an mdev made behind zapfs's back: its uevents call for the mdevs only */
	assert_int_equal(sysfs_write_str(f->sysfs,
					 "devices/vfio_ap/matrix/mdev_supported_types/"
					 "vfio_ap-passthrough/create",
					 "0000abcd-0000-4000-8000-000000000000"),
			 0);
	f->n_invals = 0;
	assert_int_equal(tree_refresh(f->tree, false), 0);
	assert_string_equal(listing(f, "guests"), "0000abcd-0000-4000-8000-000000000000 g");
	assert_true(has_entry_inval(f, "guests", "0000abcd-0000-4000-8000-000000000000"));
}

/*
 * A file is rendered once per model: opens share the text until a change
 * (by zapfs or found by a rescan) makes a new model, and a rescan that finds
 * nothing new keeps it.
 */
static void test_render_cache(void **state)
{
	struct fixture *f = *state;
	_cleanup_content_ struct content *first = NULL, *again = NULL, *after = NULL;
	_cleanup_content_ struct content *rescanned = NULL;
	_cleanup_strbuf_ struct strbuf fresh = STRBUF_INIT;
	uint64_t status = id_of(f, "status");
	struct tree_attr a;

	assert_int_equal(tree_read(f->tree, status, &first), 0);
	assert_int_equal(tree_read(f->tree, status, &again), 0);
	assert_ptr_equal(first, again);

	assert_int_equal(write_text(f, "pools/host/adapters", "-5"), 2);
	assert_int_equal(tree_read(f->tree, status, &after), 0);
	assert_ptr_not_equal(after, first);
	assert_int_equal(render_status(engine_read_begin(f->engine), &fresh), 0);
	engine_read_end(f->engine);
	assert_int_equal(after->len, fresh.len);
	assert_memory_equal(after->data, fresh.data, fresh.len);
	assert_int_equal(tree_getattr(f->tree, status, &a), 0);
	assert_int_equal(a.size, fresh.len);
	/* the old text lives on for whoever opened it before */
	assert_true(first->len != after->len || memcmp(first->data, after->data, first->len) != 0);

	assert_int_equal(tree_refresh(f->tree, true), 0);
	assert_int_equal(tree_read(f->tree, status, &rescanned), 0);
	assert_ptr_equal(rescanned, after);
}

/* A listing too is built once per model, and outlives the model for whoever opened it. */
static void test_listing_cache(void **state)
{
	struct fixture *f = *state;
	struct tree_listing *first = NULL, *again = NULL, *after = NULL;
	uint64_t host = id_of(f, "pools/host");

	assert_int_equal(tree_list(f->tree, host, &first), 0);
	assert_int_equal(tree_list(f->tree, host, &again), 0);
	assert_ptr_equal(first, again);
	tree_listing_free(again);

	assert_int_equal(write_text(f, "pools/host/adapters", "-5"), 2);
	assert_int_equal(tree_list(f->tree, host, &after), 0);
	assert_ptr_not_equal(after, first);
	assert_true(after->n < first->n);
	assert_string_equal(listing(f, "pools/host"),
			    "adapters domains 06.0004 06.0047 06.00ab 06.00ff");
	/* the old listing is whole until its last holder lets go */
	assert_string_equal(first->entries[4].name, "05.0004");
	tree_listing_free(first);
	tree_listing_free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queues_and_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_guests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_dir_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_strictness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_unassign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_remove_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_structural_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_r, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_cache, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
