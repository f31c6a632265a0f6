/* SPDX-License-Identifier: MIT */
#include "tests/kmod/sim_mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIRROR_PATH_MAX 512
#define MIRROR_ATTR_MAX 8192

struct mirror {
	struct sim *sim;
	const char *dir;
	const char *path; /* relative, "" for the root */
};

static int copy_file(struct sim *sim, const char *path, const char *full, mode_t mode)
{
	char *buf = malloc(MIRROR_ATTR_MAX);
	ssize_t n = 0;
	int fd, r = 0;

	if (!buf)
		return -ENOMEM;
	/* A write-only attribute has nothing to show; an unreadable one is empty. */
	if (mode & 0444) {
		n = sim_read(sim, path, buf, MIRROR_ATTR_MAX);
		if (n < 0)
			n = 0;
		if (n > MIRROR_ATTR_MAX)
			n = MIRROR_ATTR_MAX;
	}
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t) n) != n)
		r = -errno;
	if (fd >= 0) {
		close(fd);
		if (r == 0 && chmod(full, mode) < 0)
			r = -errno;
	}
	free(buf);
	return r;
}

static int mirror_dir(struct sim *sim, const char *dir, const char *path);

static int mirror_entry(void *userdata, const char *name, const struct sim_stat *st)
{
	const struct mirror *m = userdata;
	char path[MIRROR_PATH_MAX], full[MIRROR_PATH_MAX], target[MIRROR_PATH_MAX];
	ssize_t n;

	if (!m->path[0] && !strcmp(name, SIM_CONTROL_DIR))
		return 0;
	if ((size_t) snprintf(path, sizeof(path), "%s%s%s", m->path, m->path[0] ? "/" : "", name) >=
		sizeof(path) ||
	    (size_t) snprintf(full, sizeof(full), "%s/%s", m->dir, path) >= sizeof(full))
		return -ENAMETOOLONG;

	switch (st->type) {
	case SIM_NODE_DIR:
		if (mkdir(full, 0755) < 0)
			return -errno;
		return mirror_dir(m->sim, m->dir, path);
	case SIM_NODE_LINK:
		n = sim_readlink(m->sim, path, target, sizeof(target) - 1);
		if (n < 0)
			return (int) n;
		target[n] = '\0';
		return symlink(target, full) < 0 ? -errno : 0;
	case SIM_NODE_FILE:
		return copy_file(m->sim, path, full, st->mode);
	}
	return -EINVAL;
}

static int mirror_dir(struct sim *sim, const char *dir, const char *path)
{
	struct mirror m = { .sim = sim, .dir = dir, .path = path };

	return sim_readdir(sim, path, mirror_entry, &m);
}

int sim_mirror(struct sim *sim, const char *dir)
{
	return mirror_dir(sim, dir, "");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void sim_mirror_remove(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
