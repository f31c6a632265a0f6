/* SPDX-License-Identifier: MIT */
/*
 * The sysfs port over the in-process simulator: the same calls that reach
 * /sys through sysfs_dir.c reach kmod/sim/ here, so everything above the port
 * runs unchanged against a simulated LPAR.
 */
#include <errno.h>

#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"

static ssize_t sim_port_read(void *ctx, const char *path, char *buf, size_t size)
{
	ssize_t n = sim_read(ctx, path, buf, size);

	/* The simulator may report the full length of a show() that did not
	 * fit; the port's contract is "size means too big". */
	if (n > 0 && (size_t) n > size)
		return (ssize_t) size;
	return n;
}

static ssize_t sim_port_write(void *ctx, const char *path, const char *buf, size_t len)
{
	return sim_write(ctx, path, buf, len);
}

struct sim_list_ctx {
	sysfs_list_cb cb;
	void *userdata;
};

static int sim_list_entry(void *userdata, const char *name, const struct sim_stat *st)
{
	struct sim_list_ctx *l = userdata;

	return l->cb(l->userdata, name);
}

static int sim_port_list(void *ctx, const char *path, sysfs_list_cb cb, void *userdata)
{
	struct sim_list_ctx l = { .cb = cb, .userdata = userdata };

	return sim_readdir(ctx, path, sim_list_entry, &l);
}

static ssize_t sim_port_readlink(void *ctx, const char *path, char *buf, size_t size)
{
	ssize_t n = sim_readlink(ctx, path, buf, size);

	if (n > 0 && (size_t) n > size)
		return (ssize_t) size;
	return n;
}

static int sim_port_exists(void *ctx, const char *path)
{
	struct sim_stat st;
	int r = sim_stat(ctx, path, &st);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	return r < 0 ? r : 1;
}

static const struct sysfs_ops sysfs_sim_ops = {
	.read = sim_port_read,
	.write = sim_port_write,
	.list = sim_port_list,
	.readlink = sim_port_readlink,
	.exists = sim_port_exists,
	/* The caller owns the simulator. */
	.free = NULL,
};

int sysfs_open_sim(struct sim *sim, struct sysfs **ret)
{
	if (!sim || !ret)
		return -EINVAL;
	return sysfs_new(&sysfs_sim_ops, sim, "simulator", ret);
}
