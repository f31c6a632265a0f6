/* SPDX-License-Identifier: MIT */
/*
 * The engine over kport_new_locked(): its writes happen with the s390-tools
 * lock file in place and naming zapfs; a lock another process holds makes
 * zapfs wait, and a wait that runs out is EBUSY naming the holder's PID.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/engine.h"
#include "kmod/aplock.h"
#include "kmod/kport.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"
#include "tests/kmod/sim_hosts.h"

#define UUID_G1 "11111111-1111-4111-8111-111111111111"

struct fixture {
	char dir[64], lock_path[128];
	struct sim *sim;
	struct sysfs *fs;
	struct aplock *lock;
	struct kport_locked storage;
	struct kernel_port kport; /* the locking port, spied on below */
	struct engine *engine;
	/* atomic: tests read them while a change runs in another thread */
	atomic_uint applies;
	atomic_uint applies_unlocked; /* writes made while the lock file did not name us */
	atomic_bool released;	      /* the other holder let go */
	atomic_uint applies_before_release;
};

/* ---- the spy between the engine and the locking port ---- */

static bool lock_names_us(const struct fixture *f)
{
	char buf[32], want[32];
	_cleanup_close_ int fd = open(f->lock_path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%d\n", (int) getpid());
	return !strcmp(buf, want);
}

static int spy_read_host(void *ctx, struct host *ret)
{
	struct fixture *f = ctx;

	return f->kport.ops->read_host(f->kport.ctx, ret);
}

static int spy_read_mdevs(void *ctx, struct mdev_info **ret_mdevs, size_t *ret_n)
{
	struct fixture *f = ctx;

	return f->kport.ops->read_mdevs(f->kport.ctx, ret_mdevs, ret_n);
}

static int spy_read_mdev(void *ctx, const char *uuid, struct mdev_info *ret)
{
	struct fixture *f = ctx;

	return f->kport.ops->read_mdev(f->kport.ctx, uuid, ret);
}

static int spy_apply(void *ctx, const struct kop *op)
{
	struct fixture *f = ctx;

	f->applies++;
	if (!lock_names_us(f))
		f->applies_unlocked++;
	if (!atomic_load(&f->released))
		f->applies_before_release++;
	return f->kport.ops->apply(f->kport.ctx, op);
}

static int spy_config_lock(void *ctx)
{
	struct fixture *f = ctx;

	return f->kport.ops->config_lock(f->kport.ctx);
}

static void spy_config_unlock(void *ctx)
{
	struct fixture *f = ctx;

	f->kport.ops->config_unlock(f->kport.ctx);
}

static void spy_config_lock_holder(void *ctx, char *buf, size_t size)
{
	struct fixture *f = ctx;

	f->kport.ops->config_lock_holder(f->kport.ctx, buf, size);
}

static const struct kernel_port_ops spy_ops = {
	.read_host = spy_read_host,
	.read_mdevs = spy_read_mdevs,
	.read_mdev = spy_read_mdev,
	.apply = spy_apply,
	.config_lock = spy_config_lock,
	.config_unlock = spy_config_unlock,
	.config_lock_holder = spy_config_lock_holder,
};

static int fixed_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	memcpy(ret, UUID_G1, UUID_STR_LEN + 1);
	return 0;
}

static void start(struct fixture *f, int timeout_ms)
{
	struct engine_config cfg = { .uuid_source = fixed_uuid };

	assert_int_equal(aplock_open(f->dir, &f->lock), 0);
	assert_int_equal(kport_new_locked(&f->storage, f->fs, f->lock, timeout_ms, &f->kport), 0);
	cfg.port = (struct kernel_port){ .ops = &spy_ops, .ctx = f };
	assert_int_equal(engine_new(&cfg, &f->engine), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(f);
	assert_non_null(cfg);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zapfs-kport-lock-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->lock_path, sizeof(f->lock_path), "%s/%s", f->dir, APLOCK_NAME);
	sim_host_seed(6, 10, cfg);
	assert_int_equal(sim_new(cfg, &f->sim), 0);
	free(cfg);
	assert_int_equal(sysfs_open_sim(f->sim, &f->fs), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	engine_free(f->engine);
	aplock_free(f->lock);
	sysfs_free(f->fs);
	sim_free(f->sim);
	unlink(f->lock_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Takes the lock as s390-tools does, for process pid. */
static void tool_lock(const struct fixture *f, pid_t pid)
{
	char tmp[160], buf[24];
	_cleanup_close_ int fd = -1;
	int len;

	snprintf(tmp, sizeof(tmp), "%s/%s.tool", f->dir, APLOCK_NAME);
	len = snprintf(buf, sizeof(buf), "%d\n", (int) pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, (size_t) len), len);
	assert_int_equal(link(tmp, f->lock_path), 0);
	assert_int_equal(unlink(tmp), 0);
}

/* ---- tests ---- */

static void test_writes_hold_the_lock(void **state)
{
	struct fixture *f = *state;
	struct outcome o;

	start(f, 30000);
	assert_int_equal(engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o), 0);
	outcome_done(&o);
	assert_int_equal(engine_assign(f->engine, "touch", "g1", PART_ADAPTER, 5, &o), 0);
	outcome_done(&o);
	assert_int_equal(f->applies, 2);
	assert_int_equal(f->applies_unlocked, 0);
	/* given back after each operation */
	assert_int_equal(access(f->lock_path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_held_lock_times_out_naming_the_holder(void **state)
{
	struct fixture *f = *state;
	char want[64];
	struct outcome o;

	start(f, 100);
	/* the parent process stands for chzdev: alive, so not stale */
	tool_lock(f, getppid());
	assert_int_equal(engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o), -EBUSY);
	assert_int_equal(o.err, EBUSY);
	snprintf(want, sizeof(want), "held by PID %d", (int) getppid());
	assert_non_null(strstr(o.sentence, want));
	assert_non_null(strstr(o.why.reason, "the AP configuration lock could not be taken"));
	assert_non_null(strstr(o.sentence, "(EBUSY)"));
	outcome_done(&o);
	assert_int_equal(f->applies, 0);
	/* the other tool's lock is left alone */
	assert_int_equal(access(f->lock_path, F_OK), 0);
}

static void *release_later(void *arg)
{
	struct fixture *f = arg;

	usleep(50 * 1000);
	atomic_store(&f->released, true);
	unlink(f->lock_path);
	return NULL;
}

static void test_waits_for_the_holder(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	pthread_t t;

	start(f, -1);
	tool_lock(f, getppid());
	assert_int_equal(pthread_create(&t, NULL, release_later, f), 0);
	assert_int_equal(engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o), 0);
	outcome_done(&o);
	pthread_join(t, NULL);
	assert_int_equal(f->applies, 1);
	assert_int_equal(f->applies_before_release, 0);
	assert_int_equal(f->applies_unlocked, 0);
}

static void *create_g1(void *arg)
{
	struct fixture *f = arg;
	struct outcome o;
	int r = engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o);

	outcome_done(&o);
	return r == 0 ? NULL : arg;
}

/* A change waiting for another tool's lock holds up no reader of the tree. */
static void test_readers_go_on_while_a_change_waits(void **state)
{
	struct fixture *f = *state;
	const struct model *m;
	void *failed;
	pthread_t t;

	start(f, -1);
	tool_lock(f, getppid());
	assert_int_equal(pthread_create(&t, NULL, create_g1, f), 0);
	usleep(50 * 1000); /* the change is waiting for the lock by now */
	m = engine_read_begin(f->engine);
	assert_null(model_guest_by_name(m, "g1"));
	engine_read_end(f->engine);
	assert_int_equal(f->applies, 0);
	atomic_store(&f->released, true);
	unlink(f->lock_path);
	assert_int_equal(pthread_join(t, &failed), 0);
	assert_null(failed);
	assert_int_equal(f->applies, 1);
	assert_int_equal(f->applies_before_release, 0);
}

struct blocked_remove {
	struct fixture *f;
	atomic_bool done;
	int result;
};

static void *remove_g1(void *arg)
{
	struct blocked_remove *b = arg;
	struct outcome o;

	b->result = engine_guest_remove(b->f->engine, "rmdir guests/g1", "g1", &o);
	outcome_done(&o);
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * A remove waits until the KVM guest lets go of its mdev (5.13+), and sysfs
 * cannot show a guest with no vfio_ap queue running, so zapfs cannot refuse
 * it first. The wait holds up other changes, never a reader of the tree.
 */
static void test_readers_go_on_while_a_remove_blocks(void **state)
{
	struct fixture *f = *state;
	struct blocked_remove b = { .f = f };
	const struct model *m;
	struct outcome o;
	pthread_t t;

	start(f, -1);
	assert_int_equal(engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o), 0);
	outcome_done(&o);
	assert_int_equal(sim_kvm_attach(f->sim, UUID_G1), 0);
	assert_int_equal(pthread_create(&t, NULL, remove_g1, &b), 0);
	usleep(50 * 1000); /* the remove write is waiting for the guest by now */
	m = engine_read_begin(f->engine);
	assert_non_null(model_guest_by_name(m, "g1"));
	engine_read_end(f->engine);
	assert_false(atomic_load(&b.done));
	assert_int_equal(sim_kvm_detach(f->sim, UUID_G1), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.result, 0);
	m = engine_read_begin(f->engine);
	assert_null(model_guest_by_name(m, "g1"));
	engine_read_end(f->engine);
}

static void test_stale_lock_is_taken_over(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	start(f, 100);
	tool_lock(f, child); /* its owner is gone */
	assert_int_equal(engine_guest_create(f->engine, "mkdir guests/g1", "g1", NULL, &o), 0);
	outcome_done(&o);
	assert_int_equal(f->applies_unlocked, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writes_hold_the_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_lock_times_out_naming_the_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_the_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_go_on_while_a_change_waits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_lock_is_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_go_on_while_a_remove_blocks, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
