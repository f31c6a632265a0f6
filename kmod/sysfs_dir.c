/* SPDX-License-Identifier: MIT */
/*
 * The sysfs port over real files under a root directory: /sys itself, a
 * zapfs-simsys mount, or a test fixture. The root is opened once, so every
 * access is relative to the same directory even if the root path is later
 * replaced or unmounted underneath us.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "kmod/sysfs.h"

struct sysfs_dir {
	int root_fd;
};

/* "" names the root itself, which openat() does not accept. */
static const char *dir_path(const char *path)
{
	return path[0] ? path : ".";
}

static ssize_t dir_read(void *ctx, const char *path, char *buf, size_t size)
{
	struct sysfs_dir *d = ctx;
	_cleanup_close_ int fd = -1;
	size_t len = 0;

	fd = openat(d->root_fd, dir_path(path), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;

	/* sysfs hands out a whole show() at once, but a FUSE mount may not. */
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	return (ssize_t) len;
}

static ssize_t dir_write(void *ctx, const char *path, const char *buf, size_t len)
{
	struct sysfs_dir *d = ctx;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(d->root_fd, dir_path(path), O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;

	/* One write(): a store() sees exactly what `echo -n` would give it. A
	 * retry after EINTR is safe because the store() did not run. */
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n;
}

static int dir_list(void *ctx, const char *path, sysfs_list_cb cb, void *userdata)
{
	struct sysfs_dir *d = ctx;
	_cleanup_closedir_ DIR *dir = NULL;
	int fd;

	fd = openat(d->root_fd, dir_path(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		int r = -errno;

		close(fd);
		return r;
	}

	for (;;) {
		struct dirent *de;
		int r;

		errno = 0;
		de = readdir(dir);
		if (!de)
			return errno ? -errno : 0;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = cb(userdata, de->d_name);
		if (r)
			return r;
	}
}

static ssize_t dir_readlink(void *ctx, const char *path, char *buf, size_t size)
{
	struct sysfs_dir *d = ctx;
	ssize_t n = readlinkat(d->root_fd, dir_path(path), buf, size);

	return n < 0 ? -errno : n;
}

static int dir_exists(void *ctx, const char *path)
{
	struct sysfs_dir *d = ctx;
	struct stat st;

	if (fstatat(d->root_fd, dir_path(path), &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return -errno;
}

static void dir_free(void *ctx)
{
	struct sysfs_dir *d = ctx;

	if (d->root_fd >= 0)
		close(d->root_fd);
	free(d);
}

static const struct sysfs_ops sysfs_dir_ops = {
	.read = dir_read,
	.write = dir_write,
	.list = dir_list,
	.readlink = dir_readlink,
	.exists = dir_exists,
	.free = dir_free,
};

int sysfs_open_dir(const char *root, struct sysfs **ret)
{
	_cleanup_free_ struct sysfs_dir *d = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (!root || !ret)
		return -EINVAL;

	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->root_fd = fd;

	r = sysfs_new(&sysfs_dir_ops, d, root, ret);
	if (r < 0)
		return r;
	TAKE_PTR(d);
	TAKE_FD(fd);
	return 0;
}
