/* SPDX-License-Identifier: MIT */
/*
 * The FUSE low-level operations of the zapfs tree. Each one decodes the
 * request, makes one tree call, and replies exactly once.
 *
 * Caching: entries, attributes and missing names are cached by the kernel
 * for ZAPFS_CACHE_TIMEOUT seconds, and the tree's invalidations (sent by the
 * notifier) keep them exact; the notifier only speaks of nodes the kernel
 * holds (lookups). Regular files are opened with direct_io: an open takes a
 * reference to the file's text as the model is at open (rendered once per
 * model and shared), serves it at any offset and drops it at release, so
 * each open sees one consistent content; its st_size is that of the content
 * at the last getattr (exact, invalidated with every change).
 */
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>
#include <time.h>

#include "core/tree.h"
#include "fs/handles.h"
#include "fs/lookups.h"

#define ZAPFS_CACHE_TIMEOUT 3600.0

/* The session's userdata. */
struct zapfs_fs {
	struct tree *tree;
	struct handle_table handles; /* open files' snapshots, open directories' listings */
	struct lookups lookups;	     /* the nodes the kernel holds, for the notifier */
	uid_t uid;
	gid_t gid;
	struct timespec started; /* every node's times */
};

extern const struct fuse_lowlevel_ops zapfs_ops;

/* Sets fs up to serve tree; zapfs_fs_done() frees what is still open. */
void zapfs_fs_init(struct zapfs_fs *fs, struct tree *tree);
void zapfs_fs_done(struct zapfs_fs *fs);
