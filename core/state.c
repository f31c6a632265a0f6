/* SPDX-License-Identifier: MIT */
/*
 * The state directory: atomic replacement of files, and loading that sets
 * bad files aside instead of failing or dropping them.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

#define GUESTS_DIR	  "guests"
#define GUEST_SUFFIX	  ".conf"
#define RESERVATIONS_FILE "reservations"
#define MASKS_FILE	  "masks"
#define TEMP_MARKER	  ".tmp-"
#define CORRUPT_MARKER	  ".corrupt-"

/* No state file is anywhere near this; a bigger one is not ours. */
#define STATE_FILE_MAX (64 * 1024)

struct state_store {
	int dirfd;
	int guestsfd;
	state_write_hook_fn hook;
	void *hook_userdata;
};

void state_clear(struct state *s)
{
	free(s->guests);
	free(s->reservations);
	*s = (struct state){ 0 };
}

/* ---- atomic files ---- */

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

static int run_hook(state_write_hook_fn hook, enum state_write_step step, const char *name,
		    void *userdata)
{
	return hook ? hook(step, name, userdata) : 0;
}

int state_write_atomic(int dirfd, const char *name, const void *data, size_t len,
		       state_write_hook_fn hook, void *userdata)
{
	static unsigned counter;
	const char *bytes = data;
	/* the crash tests stop half-way through the data; others write it at once */
	size_t half = hook ? len / 2 : len;
	_cleanup_close_ int fd = -1;
	char temp[NAME_MAX + 1];
	int n, r;

	if (!*name || strchr(name, '/'))
		return -EINVAL;
	n = snprintf(temp, sizeof(temp), ".%s" TEMP_MARKER "%ld-%u", name, (long) getpid(),
		     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	if (n < 0 || (size_t) n >= sizeof(temp))
		return -ENAMETOOLONG;

	fd = openat(dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = run_hook(hook, STATE_WRITE_TEMP_CREATED, name, userdata);
	if (r < 0)
		goto fail;
	r = write_all(fd, bytes, half);
	if (r < 0)
		goto fail;
	r = run_hook(hook, STATE_WRITE_PARTIAL, name, userdata);
	if (r < 0)
		goto fail;
	r = write_all(fd, bytes + half, len - half);
	if (r < 0)
		goto fail;
	r = run_hook(hook, STATE_WRITE_WRITTEN, name, userdata);
	if (r < 0)
		goto fail;
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	r = run_hook(hook, STATE_WRITE_SYNCED, name, userdata);
	if (r < 0)
		goto fail;
	if (renameat(dirfd, temp, dirfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	r = run_hook(hook, STATE_WRITE_RENAMED, name, userdata);
	if (r < 0)
		return r;
	/* The rename is durable only once the directory is. */
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;

fail:
	unlinkat(dirfd, temp, 0);
	return r;
}

/* ---- the state directory ---- */

static int open_subdir(int dirfd, const char *name, int *ret_fd)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int state_store_open(const char *path, struct state_store **ret)
{
	_cleanup_close_ int dirfd = -1, guestsfd = -1;
	struct state_store *store;
	int r;

	r = open_subdir(AT_FDCWD, path, &dirfd);
	if (r < 0)
		return r;
	if (flock(dirfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	r = open_subdir(dirfd, GUESTS_DIR, &guestsfd);
	if (r < 0)
		return r;
	store = calloc(1, sizeof(*store));
	if (!store)
		return -ENOMEM;
	store->dirfd = TAKE_FD(dirfd);
	store->guestsfd = TAKE_FD(guestsfd);
	*ret = store;
	return 0;
}

struct state_store *state_store_free(struct state_store *store)
{
	if (store) {
		close(store->guestsfd);
		close(store->dirfd);
		free(store);
	}
	return NULL;
}

void state_store_set_write_hook(struct state_store *store, state_write_hook_fn hook, void *userdata)
{
	store->hook = hook;
	store->hook_userdata = userdata;
}

/* Reads a whole regular state file (NUL-terminated for convenience). */
static int read_state_file(int dirfd, const char *name, char **ret_text, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > STATE_FILE_MAX)
		return -EFBIG;
	text = malloc(STATE_FILE_MAX + 1);
	if (!text)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, text + len, STATE_FILE_MAX + 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t) n;
		/* It grew while being read. */
		if (len > STATE_FILE_MAX)
			return -EFBIG;
	}
	text[len] = '\0';
	*ret_text = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

/*
 * Renames name to "<name>.corrupt-<UTC time>", with "-2", "-3", ... when that
 * exists, never replacing an earlier one.
 */
static int move_aside(int dirfd, const char *name, char *ret_name, size_t size)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -EINVAL;
	for (unsigned attempt = 1; attempt < 100; attempt++) {
		int n;

		if (attempt == 1)
			n = snprintf(ret_name, size, "%s" CORRUPT_MARKER "%s", name, stamp);
		else
			n = snprintf(ret_name, size, "%s" CORRUPT_MARKER "%s-%u", name, stamp,
				     attempt);
		if (n < 0 || (size_t) n >= size)
			return -ENAMETOOLONG;
		if (renameat2(dirfd, name, dirfd, ret_name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL) {
			/* The filesystem cannot promise no-replace: check, then rename. */
			if (faccessat(dirfd, ret_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			if (renameat(dirfd, name, dirfd, ret_name) == 0)
				return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

struct loader {
	struct state_store *store;
	state_problem_fn on_problem;
	void *userdata;
	int problems;
};

static void report(struct loader *l, const char *file, int error, const char *message,
		   const char *moved_to)
{
	struct state_problem p = {
		.file = file, .error = error, .message = message, .moved_to = moved_to
	};

	l->problems++;
	if (l->on_problem)
		l->on_problem(&p, l->userdata);
}

/* Sets a bad file aside and reports it, with why it was bad. */
static void set_aside(struct loader *l, int dirfd, const char *dir, const char *name, int error,
		      const char *message)
{
	char file[PATH_MAX], aside[NAME_MAX + 1], moved_to[PATH_MAX];
	int r;

	snprintf(file, sizeof(file), "%s%s%s", dir, *dir ? "/" : "", name);
	r = move_aside(dirfd, name, aside, sizeof(aside));
	if (r < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s; could not set it aside: %s", message, strerror(-r));
		report(l, file, error, why, NULL);
		return;
	}
	snprintf(moved_to, sizeof(moved_to), "%s%s%s", dir, *dir ? "/" : "", aside);
	report(l, file, error, message, moved_to);
}

typedef int (*file_parse_fn)(const char *text, size_t len, void *ret, char *err, size_t err_size);

/*
 * Loads one file with parse. Returns 1 when loaded, 0 when absent or set
 * aside, -ENOMEM.
 */
static int load_file(struct loader *l, int dirfd, const char *dir, const char *name,
		     file_parse_fn parse, void *ret)
{
	_cleanup_free_ char *text = NULL;
	char err[256] = "";
	size_t len = 0;
	int r;

	r = read_state_file(dirfd, name, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot read it: %s", strerror(-r));
		set_aside(l, dirfd, dir, name, r, err);
		return 0;
	}
	r = parse(text, len, ret, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		set_aside(l, dirfd, dir, name, r, err);
		return 0;
	}
	return 1;
}

static int parse_guest_file(const char *text, size_t len, void *ret, char *err, size_t err_size)
{
	return state_guest_parse(text, len, ret, err, err_size);
}

struct reservation_list {
	struct state_reservation *v;
	size_t n;
};

static int parse_reservations_file(const char *text, size_t len, void *ret, char *err,
				   size_t err_size)
{
	struct reservation_list *list = ret;

	return state_reservations_parse(text, len, &list->v, &list->n, err, err_size);
}

static int parse_masks_file(const char *text, size_t len, void *ret, char *err, size_t err_size)
{
	return state_masks_parse(text, len, ret, err, err_size);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A directory stream over dirfd, which stays open for the *at() calls. */
static int dir_stream_open(int dirfd, DIR **ret)
{
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	/* The duplicate shares the position of earlier scans. */
	rewinddir(d);
	*ret = d;
	return 0;
}

/* Removes the temp files that interrupted writes left behind in dirfd. */
static void remove_stray_temps(int dirfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (dir_stream_open(dirfd, &d) < 0)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strstr(de->d_name, TEMP_MARKER))
			unlinkat(dirfd, de->d_name, 0);
}

static int guest_compare(const void *a, const void *b)
{
	const struct state_guest *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int load_guests(struct loader *l, struct state_guest **ret_v, size_t *ret_n)
{
	int guestsfd = l->store->guestsfd;
	_cleanup_free_ struct state_guest *v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r;

	r = dir_stream_open(guestsfd, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		char stem[NAME_MAX + 1];
		struct state_guest g;

		if (name[0] == '.' || !has_suffix(name, GUEST_SUFFIX))
			continue;
		snprintf(stem, sizeof(stem), "%.*s", (int) (strlen(name) - strlen(GUEST_SUFFIX)),
			 name);
		if (!state_guest_name_valid(stem)) {
			set_aside(l, guestsfd, GUESTS_DIR, name, -EINVAL,
				  "the file name is not a valid guest name");
			continue;
		}
		r = load_file(l, guestsfd, GUESTS_DIR, name, parse_guest_file, &g);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (strcmp(g.name, stem) != 0) {
			char why[160];

			snprintf(why, sizeof(why), "it names guest '%s', not the file's name",
				 g.name);
			set_aside(l, guestsfd, GUESTS_DIR, name, -EINVAL, why);
			continue;
		}
		if (n == cap) {
			size_t new_cap = cap ? cap * 2 : 16;
			struct state_guest *grown = realloc(v, new_cap * sizeof(*v));

			if (!grown)
				return -ENOMEM;
			v = grown;
			cap = new_cap;
		}
		v[n++] = g;
	}
	if (n)
		qsort(v, n, sizeof(*v), guest_compare);
	*ret_v = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* The engine decides which guest owns the mdev; the loader only says so. */
static void report_duplicate_uuids(struct loader *l, const struct state_guest *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(v[i].uuid, v[j].uuid) == 0) {
				char file[PATH_MAX], why[256];

				snprintf(file, sizeof(file), GUESTS_DIR "/%s" GUEST_SUFFIX,
					 v[j].name);
				snprintf(why, sizeof(why), "guests '%s' and '%s' have one uuid %s",
					 v[i].name, v[j].name, v[i].uuid);
				report(l, file, -EEXIST, why, NULL);
			}
}

int state_store_load(struct state_store *store, struct state *ret, state_problem_fn on_problem,
		     void *userdata)
{
	struct loader l = { .store = store, .on_problem = on_problem, .userdata = userdata };
	struct reservation_list reservations = { 0 };
	struct state s = { 0 };
	int r;

	remove_stray_temps(store->dirfd);
	remove_stray_temps(store->guestsfd);

	r = load_guests(&l, &s.guests, &s.n_guests);
	if (r < 0)
		return r;
	report_duplicate_uuids(&l, s.guests, s.n_guests);
	r = load_file(&l, store->dirfd, "", RESERVATIONS_FILE, parse_reservations_file,
		      &reservations);
	if (r < 0) {
		state_clear(&s);
		return r;
	}
	s.reservations = reservations.v;
	s.n_reservations = reservations.n;
	r = load_file(&l, store->dirfd, "", MASKS_FILE, parse_masks_file, &s.masks);
	if (r < 0) {
		state_clear(&s);
		return r;
	}
	s.has_masks = r > 0;
	*ret = s;
	return l.problems;
}

static int store_write(struct state_store *store, int dirfd, const char *name, const char *text,
		       size_t len)
{
	return state_write_atomic(dirfd, name, text, len, store->hook, store->hook_userdata);
}

int state_store_save_guest(struct state_store *store, const struct state_guest *g)
{
	char file[STATE_GUEST_NAME_MAX + sizeof(GUEST_SUFFIX)];
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = state_guest_format(g, &text, &len);
	if (r < 0)
		return r;
	snprintf(file, sizeof(file), "%s" GUEST_SUFFIX, g->name);
	return store_write(store, store->guestsfd, file, text, len);
}

int state_store_remove_guest(struct state_store *store, const char *name)
{
	char file[STATE_GUEST_NAME_MAX + sizeof(GUEST_SUFFIX)];

	if (!state_guest_name_valid(name))
		return -EINVAL;
	snprintf(file, sizeof(file), "%s" GUEST_SUFFIX, name);
	if (unlinkat(store->guestsfd, file, 0) < 0)
		return -errno;
	if (fsync(store->guestsfd) < 0)
		return -errno;
	return 0;
}

int state_store_save_reservations(struct state_store *store, const struct state_reservation *v,
				  size_t n)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = state_reservations_format(v, n, &text, &len);
	if (r < 0)
		return r;
	return store_write(store, store->dirfd, RESERVATIONS_FILE, text, len);
}

int state_store_save_masks(struct state_store *store, const struct state_masks *m)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = state_masks_format(m, &text, &len);
	if (r < 0)
		return r;
	return store_write(store, store->dirfd, MASKS_FILE, text, len);
}
