/* SPDX-License-Identifier: MIT */
#include "fs/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* An open file's content (fi->fh): the text as it was at open. */
static void snapshot_free(void *obj)
{
	content_unref(obj);
}

static void listing_free(void *obj)
{
	tree_listing_free(obj);
}

void zapfs_fs_init(struct zapfs_fs *fs, struct tree *tree)
{
	*fs = (struct zapfs_fs){ .tree = tree, .uid = getuid(), .gid = getgid() };
	handle_table_init(&fs->handles);
	lookups_init(&fs->lookups);
	clock_gettime(CLOCK_REALTIME, &fs->started);
}

void zapfs_fs_done(struct zapfs_fs *fs)
{
	handle_table_done(&fs->handles);
	lookups_done(&fs->lookups);
}

/*
 * Registers obj as fi->fh and replies with reply_open; when the kernel never
 * got the reply, nobody will release the handle: it is released here.
 */
static int handle_open(struct zapfs_fs *fs, struct fuse_file_info *fi, void *obj,
		       handle_free_fn free_obj)
{
	fi->fh = 0;
	if (!obj)
		return 0;
	fi->fh = handle_add(&fs->handles, obj, free_obj);
	if (!fi->fh) {
		free_obj(obj);
		return -ENOMEM;
	}
	return 0;
}

static struct zapfs_fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void stat_of(const struct zapfs_fs *fs, const struct tree_attr *a, struct stat *st)
{
	static const mode_t types[] = {
		[TREE_NODE_DIR] = S_IFDIR,
		[TREE_NODE_FILE] = S_IFREG,
		[TREE_NODE_SYMLINK] = S_IFLNK,
	};

	*st = (struct stat){
		.st_ino = a->id,
		.st_mode = types[a->type] | a->mode,
		.st_nlink = a->nlink,
		.st_uid = fs->uid,
		.st_gid = fs->gid,
		.st_size = (off_t) a->size,
		.st_blksize = 4096,
		.st_atim = fs->started,
		.st_mtim = fs->started,
		.st_ctim = fs->started,
	};
}

static void entry_of(const struct zapfs_fs *fs, const struct tree_attr *a,
		     struct fuse_entry_param *e)
{
	*e = (struct fuse_entry_param){
		.ino = a->id,
		.attr_timeout = ZAPFS_CACHE_TIMEOUT,
		.entry_timeout = ZAPFS_CACHE_TIMEOUT,
	};
	stat_of(fs, a, &e->attr);
}

/* Replies with the node, or the error; the kernel holds the node from now on. */
static void reply_entry(fuse_req_t req, int r, const struct tree_attr *a)
{
	struct zapfs_fs *fs = fs_of(req);
	struct fuse_entry_param e;

	if (r >= 0)
		r = lookups_add(&fs->lookups, a->id, 1);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	entry_of(fs, a, &e);
	fuse_reply_entry(req, &e);
}

static void reply_status(fuse_req_t req, int r)
{
	fuse_reply_err(req, r < 0 ? -r : 0);
}

/* ---- names ---- */

static void zapfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct tree_attr a;
	int r = tree_lookup(fs_of(req)->tree, parent, name, &a);

	if (r == -ENOENT) {
		/* a missing name is cached too; the tree invalidates it when it appears */
		struct fuse_entry_param e = { .ino = 0, .entry_timeout = ZAPFS_CACHE_TIMEOUT };

		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, r, &a);
}

static void zapfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	lookups_forget(&fs_of(req)->lookups, ino, nlookup);
	fuse_reply_none(req);
}

static void zapfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct lookups *l = &fs_of(req)->lookups;

	for (size_t i = 0; i < count; i++)
		lookups_forget(l, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void zapfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zapfs_fs *fs = fs_of(req);
	struct tree_attr a;
	struct stat st;
	int r = tree_getattr(fs->tree, ino, &a);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	stat_of(fs, &a, &st);
	fuse_reply_attr(req, &st, ZAPFS_CACHE_TIMEOUT);
}

static void zapfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct zapfs_fs *fs = fs_of(req);
	struct tree_attr a;
	struct stat st;
	int r = tree_setattr(fs->tree, ino, to_set & FUSE_SET_ATTR_SIZE, (uint64_t) attr->st_size,
			     to_set & FUSE_SET_ATTR_MODE,
			     to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID), &a);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	stat_of(fs, &a, &st);
	fuse_reply_attr(req, &st, ZAPFS_CACHE_TIMEOUT);
}

static void zapfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char target[TREE_NAME_MAX + 16];
	int r = tree_readlink(fs_of(req)->tree, ino, target, sizeof(target));

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, target);
}

/* ---- changes ---- */

static void zapfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	struct tree_attr a;
	int r = S_ISREG(mode) ? tree_create(fs_of(req)->tree, parent, name, &a) : -EPERM;

	reply_entry(req, r, &a);
}

static void zapfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct tree_attr a;
	int r = tree_mkdir(fs_of(req)->tree, parent, name, &a);

	reply_entry(req, r, &a);
}

static void zapfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_status(req, tree_unlink(fs_of(req)->tree, parent, name));
}

static void zapfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_status(req, tree_rmdir(fs_of(req)->tree, parent, name));
}

static void zapfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct tree_attr a;
	int r = tree_symlink(fs_of(req)->tree, link, parent, name, &a);

	reply_entry(req, r, &a);
}

static void zapfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
			 const char *newname, unsigned int flags)
{
	int r = flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)
		    ? -EINVAL
		    : tree_rename(fs_of(req)->tree, parent, name, newparent, newname,
				  flags & RENAME_EXCHANGE);

	reply_status(req, r);
}

static void zapfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct tree_attr a;
	int r = tree_link(fs_of(req)->tree, ino, newparent, newname, &a);

	reply_entry(req, r, &a);
}

/* ---- files ---- */

static bool wants_read(int flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/*
 * The snapshot a readable open of a generated file serves; *ret stays NULL
 * for files without content and opens that cannot read.
 */
static int snapshot_take(struct tree *t, fuse_ino_t ino, int flags, struct content **ret)
{
	*ret = NULL;
	return wants_read(flags) ? tree_read(t, ino, ret) : 0;
}

static void zapfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tree *t = fs_of(req)->tree;
	struct content *s = NULL;
	int r = tree_open(t, ino, wants_write(fi->flags));

	if (r >= 0)
		r = snapshot_take(t, ino, fi->flags, &s);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	r = handle_open(fs_of(req), fi, s, snapshot_free);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi) != 0)
		handle_release(&fs_of(req)->handles, fi->fh);
}

static void zapfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct zapfs_fs *fs = fs_of(req);
	struct content *s = NULL;
	struct fuse_entry_param e;
	struct tree_attr a;
	int r = S_ISREG(mode) ? tree_create(fs->tree, parent, name, &a) : -EPERM;

	if (r >= 0)
		r = snapshot_take(fs->tree, a.id, fi->flags, &s);
	if (r >= 0)
		r = lookups_add(&fs->lookups, a.id, 1);
	if (r < 0) {
		content_unref(s);
		fuse_reply_err(req, -r);
		return;
	}
	r = handle_open(fs, fi, s, snapshot_free);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	entry_of(fs, &a, &e);
	fi->direct_io = 1;
	if (fuse_reply_create(req, &e, fi) != 0)
		handle_release(&fs->handles, fi->fh);
}

static void zapfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle_table *handles = &fs_of(req)->handles;
	const struct content *s = handle_get(handles, fi->fh);

	if (!s || off < 0 || (size_t) off >= s->len) {
		fuse_reply_buf(req, NULL, 0);
	} else {
		if (size > s->len - (size_t) off)
			size = s->len - (size_t) off;
		fuse_reply_buf(req, s->data + off, size);
	}
	handle_put(handles, fi->fh);
}

static void zapfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	int r = tree_write(fs_of(req)->tree, ino, buf, size);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, (size_t) r);
}

static void zapfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	handle_release(&fs_of(req)->handles, fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- directories ---- */

static void zapfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tree_listing *l = NULL;
	int r = tree_list(fs_of(req)->tree, ino, &l);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	r = handle_open(fs_of(req), fi, l, listing_free);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		handle_release(&fs_of(req)->handles, fi->fh);
}

/* Serves a listing snapshot from entry off on; the offset of an entry is its index + 1. */
static void reply_listing(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi,
			  bool plus)
{
	struct zapfs_fs *fs = fs_of(req);
	const struct tree_listing *l;
	_cleanup_free_ char *buf = malloc(size);
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	l = handle_get(&fs->handles, fi->fh);
	for (size_t i = off < 0 ? 0 : (size_t) off; l && i < l->n; i++) {
		const struct tree_dirent *d = &l->entries[i];
		size_t need;

		if (plus) {
			struct tree_attr a = d->attr;
			struct fuse_entry_param e;

			/* the listing leaves out generated files' sizes: the kernel caches these */
			if (a.content && tree_getattr(fs->tree, a.id, &a) < 0)
				a = d->attr;
			entry_of(fs, &a, &e);
			/* "." and ".." are no lookups: the kernel skips them */
			if (i < 2 || lookups_add(&fs->lookups, e.ino, 1) < 0)
				e.ino = 0;
			need = fuse_add_direntry_plus(req, buf + used, size - used, d->name, &e,
						      (off_t) i + 1);
		} else {
			struct stat st;

			stat_of(fs, &d->attr, &st);
			need = fuse_add_direntry(req, buf + used, size - used, d->name, &st,
						 (off_t) i + 1);
		}
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	handle_put(&fs->handles, fi->fh);
}

static void zapfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	reply_listing(req, size, off, fi, false);
}

static void zapfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	reply_listing(req, size, off, fi, true);
}

static void zapfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	handle_release(&fs_of(req)->handles, fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- the connection ---- */

static void zapfs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* writes must reach the kernel synchronously, so that write() returns its errno */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

const struct fuse_lowlevel_ops zapfs_ops = {
	.init = zapfs_init,
	.lookup = zapfs_lookup,
	.forget = zapfs_forget,
	.forget_multi = zapfs_forget_multi,
	.getattr = zapfs_getattr,
	.setattr = zapfs_setattr,
	.readlink = zapfs_readlink,
	.mknod = zapfs_mknod,
	.mkdir = zapfs_mkdir,
	.unlink = zapfs_unlink,
	.rmdir = zapfs_rmdir,
	.symlink = zapfs_symlink,
	.rename = zapfs_rename,
	.link = zapfs_link,
	.open = zapfs_open,
	.create = zapfs_create,
	.read = zapfs_read,
	.write = zapfs_write,
	.release = zapfs_release,
	.opendir = zapfs_opendir,
	.readdir = zapfs_readdir,
	.readdirplus = zapfs_readdirplus,
	.releasedir = zapfs_releasedir,
};
