/* SPDX-License-Identifier: MIT */
/*
 * The generic half of the sysfs port: argument checks, NUL termination and
 * number parsing on top of a backend's raw operations.
 *
 * Backend contract (struct sysfs_ops):
 * - read fills at most size bytes and returns how many it stored; a return
 *   of size means "the attribute did not fit" (the NUL needs one more byte);
 * - write stores the whole buffer in one go and returns len or -errno;
 * - readlink behaves like readlink(2): no NUL, at most size bytes;
 * - exists returns 1 or 0, or -errno for anything but "no such entry".
 */
#include "kmod/sysfs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

struct sysfs {
	const struct sysfs_ops *ops;
	void *ctx;
	char *root;
};

/* Paths are relative to the root: a leading slash would escape it. */
static bool path_valid(const char *path)
{
	return path && path[0] != '/';
}

/* On failure the caller keeps ctx; on success the sysfs owns it. */
int sysfs_new(const struct sysfs_ops *ops, void *ctx, const char *root, struct sysfs **ret)
{
	_cleanup_free_ struct sysfs *fs = NULL;

	if (!ops || !ops->read || !ops->write || !ops->list || !ops->readlink || !ops->exists ||
	    !root || !ret)
		return -EINVAL;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->root = strdup(root);
	if (!fs->root)
		return -ENOMEM;
	fs->ops = ops;
	fs->ctx = ctx;
	*ret = TAKE_PTR(fs);
	return 0;
}

struct sysfs *sysfs_free(struct sysfs *fs)
{
	if (!fs)
		return NULL;
	if (fs->ops->free)
		fs->ops->free(fs->ctx);
	free(fs->root);
	free(fs);
	return NULL;
}

const char *sysfs_root(const struct sysfs *fs)
{
	return fs->root;
}

ssize_t sysfs_read(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	ssize_t n;

	if (!path_valid(path) || !buf || size == 0)
		return -EINVAL;

	n = fs->ops->read(fs->ctx, path, buf, size);
	if (n < 0)
		return n;
	if ((size_t) n >= size)
		return -EFBIG;
	buf[n] = '\0';
	return n;
}

ssize_t sysfs_read_line(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	ssize_t n = sysfs_read(fs, path, buf, size);

	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

int sysfs_read_long(struct sysfs *fs, const char *path, long *ret)
{
	char buf[64], *end;
	ssize_t n;
	long v;

	n = sysfs_read_line(fs, path, buf, sizeof(buf));
	if (n < 0)
		return (int) n;
	if (n == 0)
		return -EINVAL;

	errno = 0;
	v = strtol(buf, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int sysfs_write(struct sysfs *fs, const char *path, const char *buf, size_t len)
{
	ssize_t n;

	if (!path_valid(path) || (!buf && len))
		return -EINVAL;

	n = fs->ops->write(fs->ctx, path, buf, len);
	if (n < 0)
		return (int) n;
	/* A store() that consumed part of the buffer is a kernel bug, not success. */
	if ((size_t) n != len)
		return -EIO;
	return 0;
}

int sysfs_write_str(struct sysfs *fs, const char *path, const char *s)
{
	if (!s)
		return -EINVAL;
	return sysfs_write(fs, path, s, strlen(s));
}

int sysfs_list(struct sysfs *fs, const char *path, sysfs_list_cb cb, void *userdata)
{
	if (!path_valid(path) || !cb)
		return -EINVAL;
	return fs->ops->list(fs->ctx, path, cb, userdata);
}

ssize_t sysfs_readlink(struct sysfs *fs, const char *path, char *buf, size_t size)
{
	ssize_t n;

	if (!path_valid(path) || !buf || size == 0)
		return -EINVAL;

	n = fs->ops->readlink(fs->ctx, path, buf, size);
	if (n < 0)
		return n;
	if ((size_t) n >= size)
		return -EFBIG;
	buf[n] = '\0';
	return n;
}

int sysfs_exists(struct sysfs *fs, const char *path)
{
	if (!path_valid(path))
		return -EINVAL;
	return fs->ops->exists(fs->ctx, path);
}
