/* SPDX-License-Identifier: MIT */
/*
 * The s390-tools AP configuration lock, in a temporary directory. "The
 * tool" below takes and drops the lock the way s390-tools' util_lockfile
 * does (a PID file link()ed to the lock name), written here from its
 * protocol, so the tests show that zapfs and chzdev/ap-check exclude each
 * other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "kmod/aplock.h"

struct fixture {
	char dir[64];
	char lock_path[128];
	struct aplock *lock;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zapfs-aplock-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->lock_path, sizeof(f->lock_path), "%s/%s", f->dir, APLOCK_NAME);
	assert_int_equal(aplock_open(f->dir, &f->lock), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	assert_null(aplock_free(f->lock));
	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The tool's lock: "<pid>\n" in a private file, linked to the lock name.
 * 0 or -EEXIST. Safe in a child (no cmocka calls). */
static int tool_lock(const char *dir, pid_t pid)
{
	char tmp[128], lock[128], buf[24];
	int fd, len, r = 0;

	snprintf(tmp, sizeof(tmp), "%s/%s%05d%02x", dir, APLOCK_NAME, (int) getpid(),
		 (unsigned) time(NULL) & 255);
	snprintf(lock, sizeof(lock), "%s/%s", dir, APLOCK_NAME);
	len = snprintf(buf, sizeof(buf), "%d\n", (int) pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t) len) != len)
		r = -EIO;
	close(fd);
	if (r == 0 && link(tmp, lock) < 0)
		r = -errno;
	unlink(tmp);
	return r;
}

static void read_file(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static unsigned count_files(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	return n;
}

/* A PID that no process has: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

static void test_acquire_release(void **state)
{
	struct fixture *f = *state;
	char buf[64], want[32];
	struct stat st;
	mode_t old_umask;
	pid_t owner = 0;

	assert_int_equal(aplock_owner(f->lock, &owner), -ENOENT);

	/* The file reads as s390-tools' own, whatever the umask. */
	old_umask = umask(077);
	assert_int_equal(aplock_acquire(f->lock, 0), 0);
	umask(old_umask);
	read_file(f->lock_path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int) getpid());
	assert_string_equal(buf, want);
	assert_int_equal(stat(f->lock_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* The private PID file is gone: only the lock is left. */
	assert_int_equal(count_files(f->dir), 1);
	assert_int_equal(aplock_owner(f->lock, &owner), 0);
	assert_int_equal(owner, getpid());

	assert_int_equal(aplock_acquire(f->lock, 0), -EDEADLK);

	/* Meanwhile the tool cannot take it. */
	assert_int_equal(tool_lock(f->dir, getppid()), -EEXIST);

	assert_int_equal(aplock_release(f->lock), 0);
	assert_int_equal(access(f->lock_path, F_OK), -1);
	assert_int_equal(aplock_release(f->lock), -ENOLCK);
	assert_int_equal(count_files(f->dir), 0);

	/* And now it can. */
	assert_int_equal(tool_lock(f->dir, getppid()), 0);
}

static void test_held_by_tool(void **state)
{
	struct fixture *f = *state;
	char buf[64], want[32];
	pid_t owner = 0;

	/* A live process holds it (our parent, for a PID that surely exists). */
	assert_int_equal(tool_lock(f->dir, getppid()), 0);
	assert_int_equal(aplock_acquire(f->lock, 0), -EAGAIN);
	assert_int_equal(aplock_acquire(f->lock, 50), -ETIMEDOUT);
	assert_int_equal(aplock_owner(f->lock, &owner), 0);
	assert_int_equal(owner, getppid());

	/* Untouched, and no PID file of ours left behind. */
	read_file(f->lock_path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int) getppid());
	assert_string_equal(buf, want);
	assert_int_equal(count_files(f->dir), 1);
	/* Not ours to release. */
	assert_int_equal(aplock_release(f->lock), -ENOLCK);
	assert_int_equal(access(f->lock_path, F_OK), 0);
}

static void test_stale_dead_pid(void **state)
{
	struct fixture *f = *state;
	pid_t owner = 0;

	assert_int_equal(tool_lock(f->dir, dead_pid()), 0);
	assert_int_equal(aplock_acquire(f->lock, 0), 0);
	assert_int_equal(aplock_owner(f->lock, &owner), 0);
	assert_int_equal(owner, getpid());
	assert_int_equal(aplock_release(f->lock), 0);
}

static void test_stale_no_pid(void **state)
{
	struct fixture *f = *state;
	struct timespec old[2];
	pid_t owner = 0;
	int fd;

	/* Created but not written yet: young, so it counts as held. */
	fd = open(f->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(aplock_owner(f->lock, &owner), -ENODATA);
	assert_int_equal(aplock_acquire(f->lock, 0), -EAGAIN);

	/* Older than the grace period: its owner died before writing. */
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= APLOCK_NO_PID_GRACE_S + 60;
	old[1] = old[0];
	assert_int_equal(utimensat(AT_FDCWD, f->lock_path, old, 0), 0);
	assert_int_equal(aplock_acquire(f->lock, 0), 0);
	assert_int_equal(aplock_owner(f->lock, &owner), 0);
	assert_int_equal(owner, getpid());
}

static void test_release_broken(void **state)
{
	struct fixture *f = *state;
	char buf[64], want[32];

	/* Another tool judged our lock stale and took it over. */
	assert_int_equal(aplock_acquire(f->lock, 0), 0);
	assert_int_equal(unlink(f->lock_path), 0);
	assert_int_equal(tool_lock(f->dir, getppid()), 0);
	assert_int_equal(aplock_release(f->lock), -ESTALE);
	read_file(f->lock_path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int) getppid());
	assert_string_equal(buf, want);
	assert_int_equal(aplock_release(f->lock), -ENOLCK);

	/* Gone altogether. */
	assert_int_equal(unlink(f->lock_path), 0);
	assert_int_equal(aplock_acquire(f->lock, 0), 0);
	assert_int_equal(unlink(f->lock_path), 0);
	assert_int_equal(aplock_release(f->lock), -ESTALE);
}

static volatile sig_atomic_t signals_seen;

static void count_signal(int sig)
{
	signals_seen++;
}

static int read_byte(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : -1;
}

/*
 * A child holds the lock as the tool would, and drops it only after it has
 * written 'R' into a pipe and interrupted us with a signal. zapfs's blocking
 * acquire must neither give up on the signal nor return before the 'R'.
 */
static void test_waits_for_tool(void **state)
{
	struct fixture *f = *state;
	struct sigaction sa = { .sa_handler = count_signal }, old_sa;
	int ready[2], go[2], released[2];
	pid_t child;
	int status;

	/* No SA_RESTART: the wait must cope with EINTR itself. */
	assert_int_equal(sigaction(SIGUSR1, &sa, &old_sa), 0);
	signals_seen = 0;
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe2(released, O_NONBLOCK), 0);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char lock[128];
		int ok = tool_lock(f->dir, getpid()) == 0;

		(void) !write(ready[1], ok ? "L" : "E", 1);
		if (!ok || read_byte(go[0]) != 'G')
			_exit(1);
		usleep(100 * 1000);
		kill(getppid(), SIGUSR1);
		usleep(100 * 1000);
		(void) !write(released[1], "R", 1);
		snprintf(lock, sizeof(lock), "%s/%s", f->dir, APLOCK_NAME);
		_exit(unlink(lock) == 0 ? 0 : 2);
	}

	assert_int_equal(read_byte(ready[0]), 'L');
	/* Held by the child right now. */
	assert_int_equal(aplock_acquire(f->lock, 0), -EAGAIN);
	assert_int_equal(write(go[1], "G", 1), 1);
	assert_int_equal(aplock_acquire(f->lock, 30 * 1000), 0);
	/* The child had let go before we got it. */
	assert_int_equal(read_byte(released[0]), 'R');
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(signals_seen, 1);
	assert_int_equal(aplock_release(f->lock), 0);

	assert_int_equal(sigaction(SIGUSR1, &old_sa, NULL), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(released[0]);
	close(released[1]);
}

/* The child's tool lock dies with it: a blocking acquire then finds a
 * stale lock and takes it, although nobody removed the file. */
static void test_holder_dies(void **state)
{
	struct fixture *f = *state;
	int ready[2];
	pid_t child;
	int status;

	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		(void) !write(ready[1], tool_lock(f->dir, getpid()) == 0 ? "L" : "E", 1);
		usleep(100 * 1000);
		_exit(0);
	}
	assert_int_equal(read_byte(ready[0]), 'L');
	assert_int_equal(aplock_acquire(f->lock, 0), -EAGAIN);
	/* Reap it once it is gone, or kill(pid, 0) still finds the zombie. */
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(aplock_acquire(f->lock, 30 * 1000), 0);
	close(ready[0]);
	close(ready[1]);
}

static void test_open_errors(void **state)
{
	struct aplock *l = NULL;

	assert_int_equal(aplock_open("/nonexistent/zapfs-lock-dir", &l), -ENOENT);
	assert_null(l);
	assert_int_equal(aplock_open("/dev/null", &l), -ENOTDIR);
	assert_int_equal(aplock_open(NULL, NULL), -EINVAL);
	assert_null(aplock_free(NULL));
	assert_int_equal(aplock_acquire(NULL, 0), -EINVAL);
	assert_int_equal(aplock_release(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acquire_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_by_tool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_dead_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_no_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_tool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_dies, setup, teardown),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
