/* SPDX-License-Identifier: MIT */
/*
 * The sysfs port: the only way zapfs touches the kernel. Two backends, real
 * files under a root directory (default /sys) and the in-process simulator,
 * behind one small vtable. Paths are relative to the root ("bus/ap/apmask").
 *
 * Every function returns 0 or a positive count on success and -errno on
 * failure; a failed write returns exactly the errno the kernel's store()
 * returned, which is what the rules translate for the user.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sim;

/* Room for any attribute zapfs reads (matrix of 256 x 256 lines is larger:
 * callers that read a matrix pass their own, bigger buffer). */
#define SYSFS_ATTR_MAX 4096

/* Where the kernel's sysfs is mounted. */
#define SYSFS_DEFAULT_ROOT "/sys"

struct sysfs;

/* Real sysfs under root (e.g. "/sys", or a zapfs-simsys mount). */
int sysfs_open_dir(const char *root, struct sysfs **ret);

/* The simulator, in process. The sysfs does not own sim. */
int sysfs_open_sim(struct sim *sim, struct sysfs **ret);

struct sysfs *sysfs_free(struct sysfs *fs);

/* A human-readable name of where this port points ("/sys", "simulator"). */
const char *sysfs_root(const struct sysfs *fs);

/* Reads a whole attribute into buf, NUL-terminated; returns its length.
 * -EFBIG if it does not fit. */
ssize_t sysfs_read(struct sysfs *fs, const char *path, char *buf, size_t size);

/* As sysfs_read, with one trailing newline removed. */
ssize_t sysfs_read_line(struct sysfs *fs, const char *path, char *buf, size_t size);

/* Reads a decimal/0x attribute ("%d\n", "%u\n", "0x%08X\n"). */
int sysfs_read_long(struct sysfs *fs, const char *path, long *ret);

/* One write() of the whole buffer, as `echo -n` would; returns 0 or -errno. */
int sysfs_write(struct sysfs *fs, const char *path, const char *buf, size_t len);
int sysfs_write_str(struct sysfs *fs, const char *path, const char *s);

/* Calls cb for each entry of a directory (no "." or ".."); stops early and
 * returns cb's value when it is non-zero. */
typedef int (*sysfs_list_cb)(void *userdata, const char *name);
int sysfs_list(struct sysfs *fs, const char *path, sysfs_list_cb cb, void *userdata);

/* The target of a symlink as stored ("../../../bus/ap/drivers/vfio_ap"). */
ssize_t sysfs_readlink(struct sysfs *fs, const char *path, char *buf, size_t size);

/* 1 if path exists (without following a final symlink), 0 if not, -errno. */
int sysfs_exists(struct sysfs *fs, const char *path);

/* The backend vtable, for the two implementations in this directory. */
struct sysfs_ops {
	ssize_t (*read)(void *ctx, const char *path, char *buf, size_t size);
	ssize_t (*write)(void *ctx, const char *path, const char *buf, size_t len);
	int (*list)(void *ctx, const char *path, sysfs_list_cb cb, void *userdata);
	ssize_t (*readlink)(void *ctx, const char *path, char *buf, size_t size);
	int (*exists)(void *ctx, const char *path);
	void (*free)(void *ctx);
};

int sysfs_new(const struct sysfs_ops *ops, void *ctx, const char *root, struct sysfs **ret);
