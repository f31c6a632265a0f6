/* SPDX-License-Identifier: MIT */
/*
 * The persist layer and the engine's reconciliation: the model saved on every
 * change, loaded at start, and the kernel brought back to it after a
 * "reboot" (a fresh fake kernel), all or nothing per guest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/engine.h"
#include "core/model.h"
#include "core/persist.h"
#include "fake_kernel.h"

#define UUID_A "0000000a-0000-4000-8000-00000000000a"
#define UUID_B "0000000b-0000-4000-8000-00000000000b"

struct fixture {
	char dir[64];
	struct fake_kernel *k; /* shared with forked children, which crash */
	struct engine *e;
	struct persist *p;
	unsigned next_uuid;
	char reports[4096];  /* persist's messages, one a line */
	char outcomes[8192]; /* reconcile's sentences, one a line */
	/* the mirror's calls, one a line: "save UUID" / "remove UUID" */
	char mirror_calls[2048];
	char mirror_last[1024];
};

static int counting_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	struct fixture *f = ctx;

	snprintf(ret, UUID_STR_LEN + 1, "%08x-0000-4000-8000-000000000000", ++f->next_uuid);
	return 0;
}

static void append_line(char *buf, size_t size, const char *line)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s\n", line);
}

static void collect_report(void *ctx, int err, const char *message)
{
	struct fixture *f = ctx;

	(void) err;
	append_line(f->reports, sizeof(f->reports), message);
}

static void collect_outcome(void *ctx, const struct outcome *o)
{
	struct fixture *f = ctx;

	append_line(f->outcomes, sizeof(f->outcomes), o->sentence);
}

static int mirror_save(void *ctx, const char *uuid, const char *text, size_t len)
{
	struct fixture *f = ctx;
	char line[64];

	snprintf(line, sizeof(line), "save %s", uuid);
	append_line(f->mirror_calls, sizeof(f->mirror_calls), line);
	snprintf(f->mirror_last, sizeof(f->mirror_last), "%.*s", (int) len, text);
	return 0;
}

static int mirror_remove(void *ctx, const char *uuid)
{
	struct fixture *f = ctx;
	char line[64];

	snprintf(line, sizeof(line), "remove %s", uuid);
	append_line(f->mirror_calls, sizeof(f->mirror_calls), line);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zapfs-test-persist.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->k = mmap(NULL, sizeof(*f->k), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->k != MAP_FAILED);
	fake_seed(f->k, true, true);
	*state = f;
	return 0;
}

static void stop(struct fixture *f)
{
	f->e = engine_free(f->e);
	f->p = persist_free(f->p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	stop(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	munmap(f->k, sizeof(*f->k));
	free(f);
	return 0;
}

/* After this many more kernel writes the process dies (0: never), as under kill -9. */
static unsigned crash_after_writes;
static struct kernel_port_ops crashing_ops;

static int crashing_apply(void *ctx, const struct kop *op)
{
	int r = fake_port(ctx).ops->apply(ctx, op);

	if (crash_after_writes && --crash_after_writes == 0)
		_exit(0);
	return r;
}

static struct kernel_port test_port(struct fixture *f)
{
	struct kernel_port port = fake_port(f->k);

	crashing_ops = *port.ops;
	crashing_ops.apply = crashing_apply;
	port.ops = &crashing_ops;
	return port;
}

/*
 * What the daemon does at start: open the state, start the engine with the
 * store hook, restore, reconcile, and arm the store with a first sync.
 * Returns what engine_reconcile() returned.
 */
static int boot(struct fixture *f, bool mirror)
{
	const struct persist_mirror m = { mirror_save, mirror_remove, f };
	struct engine_config cfg = { .port = test_port(f),
				     .uuid_source = counting_uuid,
				     .uuid_ctx = f };
	struct idset apmask, aqmask;
	const struct kop *pending;
	size_t n_pending;
	bool masks;
	int left;

	stop(f);
	assert_int_equal(persist_open(f->dir, collect_report, f, &f->p), 0);
	if (mirror)
		persist_set_mirror(f->p, &m);
	cfg.store = persist_engine_store(f->p);
	assert_int_equal(engine_new(&cfg, &f->e), 0);
	if (persist_pending(f->p, &pending, &n_pending)) {
		assert_int_equal(engine_rollback(f->e, pending, n_pending, NULL), 0);
		assert_int_equal(persist_pending_done(f->p), 0);
	}
	assert_int_equal(engine_restore(f->e, persist_saved(f->p), NULL), 0);
	masks = persist_saved_masks(f->p, &apmask, &aqmask);
	left = engine_reconcile(f->e, masks ? &apmask : NULL, masks ? &aqmask : NULL,
				collect_outcome, f);
	assert_true(left >= 0);
	assert_int_equal(persist_sync(f->p, engine_read_begin(f->e)), 0);
	engine_read_end(f->e);
	return left;
}

static void ok(int r, struct outcome *o)
{
	if (r != 0)
		fail_msg("%s", o->sentence);
	outcome_done(o);
}

/* The contents of a file of the state directory, or "" when there is none. */
static const char *state_file(struct fixture *f, const char *rel)
{
	static char buf[4096];
	char path[256];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "";
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void put_file(struct fixture *f, const char *rel, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static struct guest guest_copy(struct engine *e, const char *name)
{
	const struct model *m = engine_read_begin(e);
	const struct guest *g = model_guest_by_name(m, name);
	struct guest copy = { 0 };

	if (g)
		copy = *g;
	engine_read_end(e);
	if (!g)
		fail_msg("no guest %s", name);
	return copy;
}

static bool same_ids(const struct idset *s, const char *list)
{
	struct idset want = ids(list);

	return idset_equal(s, &want);
}

static const char *reservation(struct engine *e, unsigned ap, unsigned dom)
{
	static char owner[GUEST_NAME_MAX + 1];
	const char *o = model_reservation(engine_read_begin(e), apqn_of(ap, dom));

	snprintf(owner, sizeof(owner), "%s", o ? o : "");
	engine_read_end(e);
	return owner;
}

/* The seed example's start: adapters 5 and 6 out of the host pool, web1 with 05.0004. */
static void make_web1(struct fixture *f)
{
	struct outcome o;

	ok(engine_mask_edit(f->e, "echo", MASK_AP, "-5,-6", &o), &o);
	ok(engine_mask_edit(f->e, "echo", MASK_AQ, "-4,-0x47", &o), &o);
	ok(engine_guest_create(f->e, "mkdir", "web1", UUID_A, &o), &o);
	ok(engine_queue_add(f->e, "touch", "web1", apqn_of(5, 4), &o), &o);
	ok(engine_assign(f->e, "touch", "web1", PART_CONTROL_DOMAIN, 0xab, &o), &o);
}

static const char web1_file[] = "# zapfs guest, written by zapfs; edit with care\n"
				"version 1\n"
				"name web1\n"
				"uuid " UUID_A "\n"
				"adapters 05\n"
				"domains 0004\n"
				"control_domains 00ab\n";

/* ---- saving ---- */

static void test_saved_on_every_change(void **state)
{
	struct fixture *f = *state;
	struct outcome o;

	assert_int_equal(boot(f, false), 0);
	/* a first sync of an empty host writes the masks and an empty ledger */
	assert_non_null(strstr(state_file(f, "masks"), "\napmask 00-ff\naqmask 0000-00ff\n"));
	assert_null(strstr(state_file(f, "reservations"), "web1"));

	make_web1(f);
	assert_string_equal(state_file(f, "guests/web1.conf"), web1_file);
	assert_non_null(strstr(state_file(f, "reservations"), "\n05.0004 web1\n"));
	assert_non_null(strstr(state_file(f, "masks"),
			       "\napmask 00-04,07-ff\naqmask 0000-0003,0005-0046,0048-00ff\n"));

	/* a rename moves the file and the reservation's owner */
	ok(engine_guest_rename(f->e, "mv", "web1", "db1", &o), &o);
	assert_string_equal(state_file(f, "guests/web1.conf"), "");
	assert_non_null(strstr(state_file(f, "guests/db1.conf"), "\nname db1\nuuid " UUID_A "\n"));
	assert_non_null(strstr(state_file(f, "reservations"), "\n05.0004 db1\n"));

	/* removing the guest keeps the reservation, as the model does */
	ok(engine_guest_remove(f->e, "rmdir", "db1", &o), &o);
	assert_string_equal(state_file(f, "guests/db1.conf"), "");
	assert_non_null(strstr(state_file(f, "reservations"), "\n05.0004 db1\n"));
	ok(engine_release(f->e, "rm", apqn_of(5, 4), &o), &o);
	assert_null(strstr(state_file(f, "reservations"), "db1"));
	assert_string_equal(f->reports, "");
}

static void test_nothing_written_before_first_sync(void **state)
{
	struct fixture *f = *state;
	struct engine_config cfg = { .port = fake_port(f->k) };
	struct outcome o;

	assert_int_equal(persist_open(f->dir, NULL, NULL, &f->p), 0);
	cfg.store = persist_engine_store(f->p);
	assert_int_equal(engine_new(&cfg, &f->e), 0);
	ok(engine_mask_edit(f->e, "echo", MASK_AP, "-5", &o), &o);
	assert_string_equal(state_file(f, "masks"), "");
	assert_int_equal(persist_sync(f->p, engine_read_begin(f->e)), 0);
	engine_read_end(f->e);
	assert_non_null(strstr(state_file(f, "masks"), "\napmask 00-04,06-ff\n"));
}

static void test_adopted_mdevs_are_not_saved(void **state)
{
	struct fixture *f = *state;
	struct fake_mdev *m;
	struct outcome o;

	f->k->apmask = ids("0-4,7-255");
	m = fake_add_mdev(f->k, UUID_B);
	m->apm = ids("6");
	m->aqm = ids("0xab");
	assert_int_equal(boot(f, false), 0);
	/* zapfs knows nothing more than the kernel about it: only its keys are remembered */
	assert_string_equal(state_file(f, "guests/" UUID_B ".conf"), "");
	assert_non_null(strstr(state_file(f, "reservations"), "\n06.00ab " UUID_B "\n"));
	/* once named, it is zapfs's to keep */
	ok(engine_guest_rename(f->e, "mv", UUID_B, "db", &o), &o);
	assert_non_null(strstr(state_file(f, "guests/db.conf"), "\nuuid " UUID_B "\n"));
}

/* ---- restart and reboot ---- */

static void test_restart_keeps_everything(void **state)
{
	struct fixture *f = *state;
	struct guest g;
	unsigned writes;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	writes = f->k->writes;
	/* a restart: the same kernel, a new daemon */
	assert_int_equal(boot(f, false), 0);
	assert_int_equal(f->k->writes, writes);
	assert_string_equal(f->outcomes, "");
	g = guest_copy(f->e, "web1");
	assert_string_equal(g.uuid, UUID_A);
	assert_int_equal(g.state, GUEST_ACTIVE);
	assert_false(g.adopted);
	assert_string_equal(reservation(f->e, 5, 4), "web1");
	assert_string_equal(state_file(f, "guests/web1.conf"), web1_file);
}

static void test_reboot_recreates(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	struct guest g;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	ok(engine_reserve(f->e, "ln -s", apqn_of(6, 0x47), "web1", &o), &o);
	/* a guest with no mdev on purpose: it was never there, it is made at the reboot */
	ok(engine_guest_create(f->e, "mkdir", "empty", UUID_B, &o), &o);

	/* the reboot: a fresh kernel with its boot-time masks and no mdevs */
	fake_seed(f->k, true, true);
	assert_int_equal(boot(f, false), 0);
	assert_string_equal(f->outcomes, "restore pools/host/adapters: done: apmask -5-6\n"
					 "restore pools/host/domains: done: aqmask -4,-71\n"
					 "re-create guest empty: done: create mdev " UUID_B "\n"
					 "re-create guest web1: done: create mdev " UUID_A
					 "; ap_config of " UUID_A
					 ": adapters 5, domains 4, control domains 171\n");
	g = guest_copy(f->e, "web1");
	assert_string_equal(g.uuid, UUID_A);
	assert_int_equal(g.state, GUEST_ACTIVE);
	assert_true(same_ids(&g.adapters, "5"));
	assert_true(same_ids(&g.domains, "4"));
	assert_true(same_ids(&g.control_domains, "0xab"));
	assert_non_null(fake_find(f->k, UUID_A));
	assert_true(same_ids(&f->k->apmask, "0-4,7-255"));
	assert_true(same_ids(&f->k->aqmask, "0-3,5-70,72-255"));
	assert_string_equal(reservation(f->e, 6, 0x47), "web1");
	assert_int_equal(guest_copy(f->e, "empty").state, GUEST_ACTIVE);
}

static void test_reboot_old_kernel_assigns_in_order(void **state)
{
	struct fixture *f = *state;

	fake_seed(f->k, false, false);
	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	fake_seed(f->k, false, false);
	f->k->n_log = 0;
	assert_int_equal(boot(f, false), 0);
	/* masks first (old kernels assign only queues bound to vfio_ap), then the mdev */
	assert_int_equal(f->k->n_log, 6);
	assert_int_equal(f->k->log[0].type, KOP_APMASK_EDIT);
	assert_int_equal(f->k->log[1].type, KOP_AQMASK_EDIT);
	assert_int_equal(f->k->log[2].type, KOP_MDEV_CREATE);
	assert_int_equal(f->k->log[3].type, KOP_ASSIGN_ADAPTER);
	assert_int_equal(f->k->log[4].type, KOP_ASSIGN_DOMAIN);
	assert_int_equal(f->k->log[5].type, KOP_ASSIGN_CONTROL_DOMAIN);
	assert_int_equal(guest_copy(f->e, "web1").state, GUEST_ACTIVE);
}

static void test_reboot_refusal_leaves_guest_missing(void **state)
{
	struct fixture *f = *state;
	struct fake_mdev *m;
	struct guest g;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	/* after the reboot, another tool's mdev got 05.0004 first */
	fake_seed(f->k, true, true);
	f->k->apmask = ids("0-4,7-255");
	f->k->aqmask = ids("0-3,5-70,72-255");
	m = fake_add_mdev(f->k, UUID_B);
	m->apm = ids("5");
	m->aqm = ids("4");
	assert_int_equal(boot(f, false), 1);
	assert_non_null(strstr(f->outcomes, "re-create guest web1: refused (EADDRINUSE): web1 "
					    "holds adapter 05, so domain 0004 would give it "
					    "05.0004, which guest " UUID_B " holds"));
	g = guest_copy(f->e, "web1");
	assert_int_equal(g.state, GUEST_MISSING);
	assert_null(fake_find(f->k, UUID_A));
	/* still defined, still saved, its reservation kept */
	assert_string_equal(state_file(f, "guests/web1.conf"), web1_file);
	assert_string_equal(reservation(f->e, 5, 4), "web1");
}

static void test_reboot_failed_write_is_undone(void **state)
{
	struct fixture *f = *state;
	char log[4096];

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	fake_seed(f->k, true, true);
	f->k->apmask = ids("0-4,7-255");
	f->k->aqmask = ids("0-3,5-70,72-255");
	/* the create works, the ap_config write fails */
	f->k->fail_writes = 1u << 1;
	assert_int_equal(boot(f, false), 1);
	assert_non_null(strstr(f->outcomes, "re-create guest web1: refused (EIO): the kernel "
					    "refused ap_config of " UUID_A));
	assert_non_null(strstr(f->outcomes, "so the 1 write before it was undone"));
	assert_int_equal(f->k->n_mdevs, 0);
	assert_int_equal(guest_copy(f->e, "web1").state, GUEST_MISSING);
	engine_log_render(f->e, log, sizeof(log));
	assert_non_null(strstr(log, "re-create guest web1: refused (EIO)"));
	/* a later attempt, with the kernel well again, brings it back */
	{
		struct outcome o;

		ok(engine_guest_recreate(f->e, "retry", "web1", &o), &o);
		assert_int_equal(guest_copy(f->e, "web1").state, GUEST_ACTIVE);
	}
}

/* ---- loading what a crash or a person left ---- */

static void test_corrupt_file_reported_rest_loads(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	stop(f);
	put_file(f, "guests/bad.conf", "version 1\nname bad\nadaptors 5\n");
	assert_int_equal(boot(f, false), 0);
	assert_non_null(strstr(f->reports, "state: guests/bad.conf: "));
	assert_non_null(strstr(f->reports, "; set aside as guests/bad.conf.corrupt-"));
	assert_int_equal(guest_copy(f->e, "web1").state, GUEST_ACTIVE);
}

static void test_duplicate_uuid_after_cut_rename(void **state)
{
	struct fixture *f = *state;
	const struct model *m;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	stop(f);
	/* a rename to db1 cut short after the new file and the ledger were written */
	put_file(f, "guests/db1.conf",
		 "version 1\nname db1\nuuid " UUID_A "\nadapters 05\ndomains 0004\n"
		 "control_domains 00ab\n");
	put_file(f, "reservations", "version 1\n05.0004 db1\n");
	assert_int_equal(boot(f, false), 0);
	assert_non_null(strstr(f->reports,
			       "state: guest web1 has the UUID " UUID_A " of guest db1 and is "
			       "dropped\n"));
	m = engine_read_begin(f->e);
	assert_null(model_guest_by_name(m, "web1"));
	assert_non_null(model_guest_by_name(m, "db1"));
	engine_read_end(f->e);
	assert_string_equal(state_file(f, "guests/web1.conf"), "");
}

static void test_matrix_without_reservation_is_reserved(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	stop(f);
	/* the guest file was written, the crash came before the ledger */
	put_file(f, "reservations", "version 1\n");
	assert_int_equal(boot(f, false), 0);
	assert_string_equal(reservation(f->e, 5, 4), "web1");
	assert_non_null(strstr(state_file(f, "reservations"), "\n05.0004 web1\n"));
}

struct crash_plan {
	unsigned write_no, steps_left;
};

static int crash_hook(enum state_write_step step, const char *name, void *userdata)
{
	struct crash_plan *c = userdata;

	(void) name;
	if (c->write_no == 0 && c->steps_left-- == 0)
		_exit(0);
	if (step == STATE_WRITE_RENAMED && c->write_no > 0)
		c->write_no--;
	return 0;
}

/*
 * A crash at every step of every write a rename makes (new guest file,
 * ledger, removal of the old file): each restart sees the guest under one
 * name, the old or the new, with its reservation, never both nor neither.
 */
static void test_crash_at_each_step_of_a_rename(void **state)
{
	struct fixture *f = *state;
	unsigned old_seen = 0, new_seen = 0;

	assert_int_equal(boot(f, false), 0);
	make_web1(f);
	for (unsigned w = 0; w < 3; w++) {
		for (unsigned s = 0; s < 5; s++) {
			struct crash_plan c = { w, s };
			const struct model *m;
			bool old_name, new_name;
			int status;
			pid_t pid;

			assert_int_equal(boot(f, false), 0);
			fflush(NULL);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				struct outcome o;

				persist_set_write_hook(f->p, crash_hook, &c);
				engine_guest_rename(f->e, "mv", "web1", "db1", &o);
				_exit(3);
			}
			assert_int_equal(waitpid(pid, &status, 0), pid);
			/* the removal of the old file is no atomic write: it ends at its step */
			assert_true(WIFEXITED(status));
			assert_int_equal(boot(f, false), 0);
			m = engine_read_begin(f->e);
			old_name = model_guest_by_name(m, "web1") != NULL;
			new_name = model_guest_by_name(m, "db1") != NULL;
			assert_true(old_name != new_name);
			assert_string_equal(model_reservation(m, apqn_of(5, 4)),
					    old_name ? "web1" : "db1");
			engine_read_end(f->e);
			old_seen += old_name;
			new_seen += new_name;
			if (new_name) {
				struct outcome o;

				ok(engine_guest_rename(f->e, "mv", "db1", "web1", &o), &o);
			}
			assert_string_equal(state_file(f, "guests/web1.conf"), web1_file);
			assert_string_equal(state_file(f, "guests/db1.conf"), "");
		}
	}
	/* both ends happened */
	assert_true(old_seen > 0);
	assert_true(new_seen > 0);
}

/*
 * kill -9 after each kernel write of operations that need two: a queue
 * whose adapter and domain are both new, on a kernel without ap_config, and
 * a queue given back to the host with both masks. After the restart the
 * kernel and the state agree, and on the state before the operation
 * (never the half of it), and the journal is gone.
 */
static void reset_state(struct fixture *f)
{
	char cmd[256];

	stop(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/* '%s'/.[!.]*", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
}

static void test_crash_between_kernel_writes(void **state)
{
	struct fixture *f = *state;
	static const char *const aqmask_before[] = { "0-3,5-70,72-255", "0-3,5-70,72-170,172-254" };

	for (unsigned op = 0; op < 2; op++) {
		for (unsigned after = 1; after <= 2; after++) {
			char log[8192];
			struct guest g;
			int status;
			pid_t pid;

			reset_state(f);
			fake_seed(f->k, true, false);
			assert_int_equal(boot(f, false), 0);
			make_web1(f);
			if (op == 1) {
				struct outcome o;

				/* 06.00ff alone outside both masks: giving it back takes two writes
				 */
				ok(engine_mask_edit(f->e, "echo", MASK_AQ, "-0xab,-0xff", &o), &o);
			}
			fflush(NULL);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				struct outcome o;

				crash_after_writes = after;
				if (op == 0)
					engine_queue_add(f->e, "touch", "web1", apqn_of(6, 0x47),
							 &o);
				else
					engine_pool_move(f->e, "mv", apqn_of(6, 0xff), POOL_HOST,
							 &o);
				_exit(3);
			}
			assert_int_equal(waitpid(pid, &status, 0), pid);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
			assert_int_equal(boot(f, false), 0);
			g = guest_copy(f->e, "web1");
			assert_true(same_ids(&g.adapters, "5"));
			assert_true(same_ids(&g.domains, "4"));
			assert_true(same_ids(&f->k->mdevs[0].apm, "5"));
			assert_true(same_ids(&f->k->mdevs[0].aqm, "4"));
			assert_true(same_ids(&f->k->apmask, "0-4,7-255"));
			assert_true(same_ids(&f->k->aqmask, aqmask_before[op]));
			assert_string_equal(state_file(f, "guests/web1.conf"), web1_file);
			assert_string_equal(state_file(f, "pending"), "");
			engine_log_render(f->e, log, sizeof(log));
			assert_non_null(strstr(log, "roll back an operation cut short: done"));
		}
	}
}

/* ---- the mirror (mdevctl) ---- */

static void test_mirror_follows_guests(void **state)
{
	struct fixture *f = *state;
	struct outcome o;

	assert_int_equal(boot(f, true), 0);
	make_web1(f);
	assert_string_equal(f->mirror_calls, "save " UUID_A "\n"   /* mkdir */
					     "save " UUID_A "\n"   /* queue */
					     "save " UUID_A "\n"); /* control domain */
	assert_non_null(strstr(f->mirror_last, "\"assign_control_domain\": \"171\""));
	f->mirror_calls[0] = '\0';
	/* a rename keeps the mdev: nothing to write */
	ok(engine_guest_rename(f->e, "mv", "web1", "db1", &o), &o);
	assert_string_equal(f->mirror_calls, "");
	ok(engine_guest_remove(f->e, "rmdir", "db1", &o), &o);
	assert_string_equal(f->mirror_calls, "remove " UUID_A "\n");
}

static void test_import_defined_guest(void **state)
{
	struct fixture *f = *state;
	const struct persist_mirror mirror = { mirror_save, mirror_remove, f };
	struct engine_config cfg = { .port = fake_port(f->k) };
	struct guest g = { .adapters = ids("6"), .domains = ids("0xff") };
	struct idset apmask = ids("0-4,7-255"), aqmask = ids("0-254");

	snprintf(g.name, sizeof(g.name), "%s", UUID_B);
	snprintf(g.uuid, sizeof(g.uuid), "%s", UUID_B);
	assert_int_equal(persist_open(f->dir, NULL, NULL, &f->p), 0);
	persist_set_mirror(f->p, &mirror);
	assert_int_equal(persist_import(f->p, &g), 1);
	assert_int_equal(persist_import(f->p, &g), 0);
	cfg.store = persist_engine_store(f->p);
	assert_int_equal(engine_new(&cfg, &f->e), 0);
	assert_int_equal(engine_restore(f->e, persist_saved(f->p), NULL), 0);
	assert_int_equal(engine_reconcile(f->e, &apmask, &aqmask, collect_outcome, f), 0);
	assert_int_equal(persist_sync(f->p, engine_read_begin(f->e)), 0);
	engine_read_end(f->e);
	assert_non_null(fake_find(f->k, UUID_B));
	assert_int_equal(guest_copy(f->e, UUID_B).state, GUEST_ACTIVE);
	assert_string_equal(reservation(f->e, 6, 0xff), UUID_B);
	/* defined, so saved; the definition itself is not rewritten */
	assert_non_null(strstr(state_file(f, "guests/" UUID_B ".conf"), "\nadapters 06\n"));
	assert_string_equal(f->mirror_calls, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_saved_on_every_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_written_before_first_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_adopted_mdevs_are_not_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_recreates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_old_kernel_assigns_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reboot_refusal_leaves_guest_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reboot_failed_write_is_undone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_reported_rest_loads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_uuid_after_cut_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_matrix_without_reservation_is_reserved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_each_step_of_a_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_kernel_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_follows_guests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_defined_guest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
