/* SPDX-License-Identifier: MIT */
#include "kmod/mdevctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/idparse.h"
#include "core/state.h"

#define MATRIX_PARENT "matrix"
#define MDEV_TYPE     "vfio_ap-passthrough"
/* mdevctl's files are a few hundred bytes; a full 256x256 matrix stays well below this */
#define DEF_SIZE_MAX (256 * 1024)
#define STRING_MAX   64

/* ---- a JSON reader just big enough for mdevctl's definitions ---- */

struct json {
	const char *start, *p, *end;
	char *err;
	size_t err_size;
	unsigned depth;
	/* well-formed, but not a matrix zapfs can keep: matters only for vfio_ap's type */
	char unusable[256];
};

__attribute__((format(printf, 2, 3))) static int json_fail(struct json *j, const char *fmt, ...)
{
	va_list ap;

	if (j->err && j->err_size && !j->err[0]) {
		va_start(ap, fmt);
		vsnprintf(j->err, j->err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void json_space(struct json *j)
{
	while (j->p < j->end && isspace((unsigned char) *j->p))
		j->p++;
}

/* Consumes c after blanks; false (nothing consumed) when the next character is another. */
static bool json_take(struct json *j, char c)
{
	json_space(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int json_expect(struct json *j, char c)
{
	return json_take(j, c) ? 0 : json_fail(j, "'%c' expected at byte %td", c, j->p - j->start);
}

/*
 * A string into buf (size bytes), escapes resolved for ASCII; longer strings
 * are -EINVAL: no string of a definition zapfs reads needs more.
 */
static int json_string(struct json *j, char *buf, size_t size)
{
	size_t n = 0;

	if (!json_take(j, '"'))
		return json_fail(j, "a string expected");
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if ((unsigned char) c < 0x20)
			return json_fail(j, "a control character in a string");
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			c = *j->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
			case '/':
				break;
			default:
				return json_fail(j, "an escape zapfs does not read: \\%c", c);
			}
		}
		if (n + 1 >= size)
			return json_fail(j, "a string longer than %zu bytes", size - 1);
		buf[n++] = c;
	}
	if (!json_take(j, '"'))
		return json_fail(j, "an unterminated string");
	buf[n] = '\0';
	return 0;
}

static int json_skip_value(struct json *j);

/* Skips the rest of an object or array after its opening bracket. */
static int json_skip_container(struct json *j, char close, bool object)
{
	int r;

	if (++j->depth > 32)
		return json_fail(j, "nested too deep");
	if (json_take(j, close)) {
		j->depth--;
		return 0;
	}
	do {
		if (object) {
			/* keys of unknown objects may be long: skip them as values */
			json_space(j);
			r = j->p < j->end && *j->p == '"' ? json_skip_value(j) : -EINVAL;
			if (r < 0)
				return json_fail(j, "a key expected");
			r = json_expect(j, ':');
			if (r < 0)
				return r;
		}
		r = json_skip_value(j);
		if (r < 0)
			return r;
	} while (json_take(j, ','));
	j->depth--;
	return json_expect(j, close);
}

static int json_skip_value(struct json *j)
{
	json_space(j);
	if (j->p >= j->end)
		return json_fail(j, "a value expected");
	if (*j->p == '"') {
		/* a string of any length */
		for (j->p++; j->p < j->end && *j->p != '"'; j->p++)
			if (*j->p == '\\')
				j->p++;
		if (j->p >= j->end)
			return json_fail(j, "an unterminated string");
		j->p++;
		return 0;
	}
	if (json_take(j, '{'))
		return json_skip_container(j, '}', true);
	if (json_take(j, '['))
		return json_skip_container(j, ']', false);
	/* a number, true, false or null */
	if (!strchr("-0123456789tfn", *j->p))
		return json_fail(j, "a value expected");
	while (j->p < j->end && (isalnum((unsigned char) *j->p) || strchr("+-.", *j->p)))
		j->p++;
	return 0;
}

/* A string, or a bare number as some writers put attribute values. */
static int json_scalar(struct json *j, char *buf, size_t size)
{
	const char *start;

	json_space(j);
	if (j->p < j->end && *j->p == '"')
		return json_string(j, buf, size);
	start = j->p;
	while (j->p < j->end && isalnum((unsigned char) *j->p))
		j->p++;
	if (j->p == start || (size_t) (j->p - start) >= size)
		return json_fail(j, "a string or a number expected");
	snprintf(buf, size, "%.*s", (int) (j->p - start), start);
	return 0;
}

/* One element of "attrs": { "assign_adapter": "5" }. */
static int parse_attr(struct json *j, struct mdevctl_def *def)
{
	static const char *const names[] = { "assign_adapter", "assign_domain",
					     "assign_control_domain" };
	struct idset *sets[] = { &def->adapters, &def->domains, &def->control_domains };
	char name[STRING_MAX], value[STRING_MAX];
	unsigned id;
	int r;

	r = json_expect(j, '{');
	if (r >= 0)
		r = json_string(j, name, sizeof(name));
	if (r >= 0)
		r = json_expect(j, ':');
	if (r >= 0)
		r = json_scalar(j, value, sizeof(value));
	if (r >= 0)
		r = json_expect(j, '}');
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) != 0)
			continue;
		if (id_parse(value, AP_ID_COUNT - 1, &id) >= 0)
			idset_add(sets[i], id);
		else if (!j->unusable[0])
			snprintf(j->unusable, sizeof(j->unusable),
				 "%s: '%s' is not an id from 0 to 255", name, value);
		return 0;
	}
	if (!j->unusable[0])
		snprintf(j->unusable, sizeof(j->unusable),
			 "attribute '%s' is not one zapfs can keep", name);
	return 0;
}

static int parse_attrs(struct json *j, struct mdevctl_def *def)
{
	int r = json_expect(j, '[');

	if (r < 0 || json_take(j, ']'))
		return r;
	do {
		r = parse_attr(j, def);
		if (r < 0)
			return r;
	} while (json_take(j, ','));
	return json_expect(j, ']');
}

int mdevctl_def_parse(const char *text, size_t len, struct mdevctl_def *ret, char *err,
		      size_t err_size)
{
	struct json j = {
		.start = text, .p = text, .end = text + len, .err = err, .err_size = err_size
	};
	struct mdevctl_def def = { 0 };
	bool has_type = false, ours = false;
	int r;

	if (err && err_size)
		err[0] = '\0';
	r = json_expect(&j, '{');
	if (r >= 0 && !json_take(&j, '}')) {
		do {
			char key[STRING_MAX], value[STRING_MAX];

			r = json_string(&j, key, sizeof(key));
			if (r >= 0)
				r = json_expect(&j, ':');
			if (r < 0)
				break;
			if (strcmp(key, "mdev_type") == 0) {
				r = json_string(&j, value, sizeof(value));
				has_type = true;
				ours = r >= 0 && strcmp(value, MDEV_TYPE) == 0;
			} else if (strcmp(key, "start") == 0) {
				r = json_string(&j, value, sizeof(value));
				def.autostart = r >= 0 && strcmp(value, "auto") == 0;
			} else if (strcmp(key, "attrs") == 0) {
				r = parse_attrs(&j, &def);
			} else {
				r = json_skip_value(&j);
			}
		} while (r >= 0 && json_take(&j, ','));
		if (r >= 0)
			r = json_expect(&j, '}');
	}
	json_space(&j);
	if (r >= 0 && j.p != j.end)
		r = json_fail(&j, "text after the definition");
	if (r >= 0 && !has_type)
		r = json_fail(&j, "no mdev_type");
	if (r >= 0 && ours && j.unusable[0])
		r = json_fail(&j, "%s", j.unusable);
	if (r < 0)
		return r;
	if (!ours)
		return 0;
	*ret = def;
	return 1;
}

/* ---- the directory ---- */

static bool is_uuid(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	for (size_t i = 0; i < sizeof(form); i++) {
		if (form[i] == '\0')
			return s[i] == '\0';
		if (form[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	return false;
}

/* Reads a whole small file below dirfd into a malloc'ed, NUL-terminated buffer. */
static int read_small_file(int dirfd, const char *name, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(DEF_SIZE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, DEF_SIZE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > DEF_SIZE_MAX)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static int def_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mdevctl_def *) a)->uuid,
		      ((const struct mdevctl_def *) b)->uuid);
}

static void report(mdevctl_problem_fn on_problem, void *ctx, const char *name, const char *msg)
{
	char file[300];

	if (!on_problem)
		return;
	snprintf(file, sizeof(file), MATRIX_PARENT "/%s", name);
	on_problem(ctx, file, msg);
}

int mdevctl_load(const char *dir, mdevctl_problem_fn on_problem, void *ctx,
		 struct mdevctl_def **ret_defs, size_t *ret_n)
{
	_cleanup_free_ struct mdevctl_def *defs = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *path = NULL;
	struct dirent *de;
	size_t n = 0;

	if (asprintf(&path, "%s/" MATRIX_PARENT, dir) < 0)
		return -ENOMEM;
	d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret_defs = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct mdevctl_def def, *grown;
		char err[256];
		size_t len = 0;
		int r;

		if (!is_uuid(de->d_name))
			continue;
		r = read_small_file(dirfd(d), de->d_name, &text, &len);
		if (r < 0) {
			report(on_problem, ctx, de->d_name, strerror(-r));
			continue;
		}
		r = mdevctl_def_parse(text, len, &def, err, sizeof(err));
		if (r < 0)
			report(on_problem, ctx, de->d_name, err);
		if (r <= 0)
			continue;
		for (size_t i = 0; de->d_name[i]; i++)
			def.uuid[i] = (char) tolower((unsigned char) de->d_name[i]);
		def.uuid[UUID_STR_LEN] = '\0';
		grown = realloc(defs, (n + 1) * sizeof(*defs));
		if (!grown)
			return -ENOMEM;
		defs = grown;
		defs[n++] = def;
	}
	if (n)
		qsort(defs, n, sizeof(*defs), def_cmp);
	*ret_defs = TAKE_PTR(defs);
	*ret_n = n;
	return 0;
}

/* Opens DIR/matrix, creating both when missing (mode 0755, as mdevctl's package has them). */
static int open_matrix_dir(const char *dir, int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/" MATRIX_PARENT, dir) < 0)
		return -ENOMEM;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int mdevctl_save(const char *dir, const char *uuid, const char *text, size_t len)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!is_uuid(uuid))
		return -EINVAL;
	r = open_matrix_dir(dir, &fd);
	return r < 0 ? r : state_write_atomic(fd, uuid, text, len, NULL, NULL);
}

int mdevctl_remove(const char *dir, const char *uuid)
{
	_cleanup_free_ char *path = NULL;

	if (!is_uuid(uuid))
		return -EINVAL;
	if (asprintf(&path, "%s/" MATRIX_PARENT "/%s", dir, uuid) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
