/* SPDX-License-Identifier: MIT */
/*
 * floorfs: the floor of the zapfs benchmark. A FUSE filesystem (low-level
 * API, multithreaded loop, the same cache timeouts as zapfs) with the shape
 * and names of the zapfs tree on a large LPAR, constant file contents and no
 * logic: every request is answered from arithmetic on the inode number. What
 * zapfs costs above floorfs is zapfs's own work; what floorfs costs above
 * tmpfs is FUSE's.
 *
 *   floorfs [--adapters=N] [--domains=N] [--status-size=BYTES]
 *           [--queue-size=BYTES] [--timeout=SECONDS] [--direct-io=0|1]
 *           [-f] [-s] [-o OPTS] MOUNTPOINT
 *
 * As zapfs: entry, attribute and negative timeouts of an hour, direct_io on
 * every open file, READDIRPLUS.
 *
 * The tree: README status status.json log (files); cards/XX/type;
 * queues/XX.YYYY for every adapter x domain; pools/host/ (the same queue
 * inodes, plus adapters and domains files); pools/vfio/ and reservations/
 * (empty); guests/bench/ with adapters/ (create and unlink succeed: a bitmap
 * remembers which exist), domains/, control_domains/, queues/ (empty) and
 * uuid, state, matrix files. mkdir guests/bench succeeds as EEXIST does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "core/cleanup.h"

#define MAX_IDS	 256
#define NAME_LEN 32 /* the longest name served, with room to spare */

struct floor_config {
	unsigned adapters;
	unsigned domains;
	size_t status_size;
	size_t queue_size;
	double timeout;
	int direct_io;
};

static struct floor_config cfg = {
	.adapters = 256,
	.domains = 85,
	.status_size = 4096,
	.queue_size = 128,
	.timeout = 3600.0,
	.direct_io = 1,
};

#define FLOOR_OPT(t, p)                                                                            \
	{                                                                                          \
		t, offsetof(struct floor_config, p), 1                                             \
	}
static const struct fuse_opt floor_opts[] = {
	FLOOR_OPT("--adapters=%u", adapters),
	FLOOR_OPT("--domains=%u", domains),
	FLOOR_OPT("--status-size=%zu", status_size),
	FLOOR_OPT("--queue-size=%zu", queue_size),
	FLOOR_OPT("--timeout=%lf", timeout),
	FLOOR_OPT("--direct-io=%d", direct_io),
	FUSE_OPT_END,
};

/* Inode numbers: fixed ones first, then families computed from an id. */
enum {
	INO_ROOT = FUSE_ROOT_ID,
	INO_README,
	INO_STATUS,
	INO_STATUS_JSON,
	INO_LOG,
	INO_CARDS,
	INO_QUEUES,
	INO_POOLS,
	INO_POOL_HOST,
	INO_POOL_VFIO,
	INO_HOST_ADAPTERS,
	INO_HOST_DOMAINS,
	INO_RESERVATIONS,
	INO_GUESTS,
	INO_GUEST,
	INO_GUEST_ADAPTERS,
	INO_GUEST_DOMAINS,
	INO_GUEST_CONTROL_DOMAINS,
	INO_GUEST_QUEUES,
	INO_GUEST_UUID,
	INO_GUEST_STATE,
	INO_GUEST_MATRIX,
	INO_FIXED_END,
	INO_CARD = 0x1000,	       /* + adapter */
	INO_CARD_TYPE = 0x2000,	       /* + adapter */
	INO_ASSIGNED_ADAPTER = 0x3000, /* + adapter */
	INO_QUEUE = 0x10000,	       /* + adapter * 256 + domain */
	INO_QUEUE_END = INO_QUEUE + MAX_IDS * MAX_IDS,
};

struct fixed_node {
	fuse_ino_t parent;
	const char *name;
	mode_t mode;
};

static const struct fixed_node fixed[INO_FIXED_END] = {
	[INO_ROOT] = { INO_ROOT, "", S_IFDIR | 0755 },
	[INO_README] = { INO_ROOT, "README", S_IFREG | 0444 },
	[INO_STATUS] = { INO_ROOT, "status", S_IFREG | 0444 },
	[INO_STATUS_JSON] = { INO_ROOT, "status.json", S_IFREG | 0444 },
	[INO_LOG] = { INO_ROOT, "log", S_IFREG | 0444 },
	[INO_CARDS] = { INO_ROOT, "cards", S_IFDIR | 0755 },
	[INO_QUEUES] = { INO_ROOT, "queues", S_IFDIR | 0755 },
	[INO_POOLS] = { INO_ROOT, "pools", S_IFDIR | 0755 },
	[INO_POOL_HOST] = { INO_POOLS, "host", S_IFDIR | 0755 },
	[INO_POOL_VFIO] = { INO_POOLS, "vfio", S_IFDIR | 0755 },
	[INO_HOST_ADAPTERS] = { INO_POOL_HOST, "adapters", S_IFREG | 0644 },
	[INO_HOST_DOMAINS] = { INO_POOL_HOST, "domains", S_IFREG | 0644 },
	[INO_RESERVATIONS] = { INO_ROOT, "reservations", S_IFDIR | 0755 },
	[INO_GUESTS] = { INO_ROOT, "guests", S_IFDIR | 0755 },
	[INO_GUEST] = { INO_GUESTS, "bench", S_IFDIR | 0755 },
	[INO_GUEST_ADAPTERS] = { INO_GUEST, "adapters", S_IFDIR | 0755 },
	[INO_GUEST_DOMAINS] = { INO_GUEST, "domains", S_IFDIR | 0755 },
	[INO_GUEST_CONTROL_DOMAINS] = { INO_GUEST, "control_domains", S_IFDIR | 0755 },
	[INO_GUEST_QUEUES] = { INO_GUEST, "queues", S_IFDIR | 0755 },
	[INO_GUEST_UUID] = { INO_GUEST, "uuid", S_IFREG | 0444 },
	[INO_GUEST_STATE] = { INO_GUEST, "state", S_IFREG | 0444 },
	[INO_GUEST_MATRIX] = { INO_GUEST, "matrix", S_IFREG | 0444 },
};

/* The guest's assigned adapters: the one piece of state, so lookups tell the truth. */
static pthread_mutex_t assigned_lock = PTHREAD_MUTEX_INITIALIZER;
static bool assigned[MAX_IDS];

/* Constant contents, as long as the longest file served. */
static char *content;

static bool is_assigned(unsigned adapter)
{
	_cleanup_mutex_ pthread_mutex_t *lock = mutex_lock(&assigned_lock);

	return assigned[adapter];
}

static void set_assigned(unsigned adapter, bool value)
{
	_cleanup_mutex_ pthread_mutex_t *lock = mutex_lock(&assigned_lock);

	assigned[adapter] = value;
}

static bool is_queue(fuse_ino_t ino)
{
	return ino >= INO_QUEUE && ino < INO_QUEUE_END &&
	       (ino - INO_QUEUE) / MAX_IDS < cfg.adapters &&
	       (ino - INO_QUEUE) % MAX_IDS < cfg.domains;
}

/* The mode of an inode, or 0 when there is no such inode. */
static mode_t ino_mode(fuse_ino_t ino)
{
	if (ino >= INO_ROOT && ino < INO_FIXED_END)
		return fixed[ino].mode;
	if (ino >= INO_CARD && ino < INO_CARD + cfg.adapters)
		return S_IFDIR | 0755;
	if (ino >= INO_CARD_TYPE && ino < INO_CARD_TYPE + cfg.adapters)
		return S_IFREG | 0444;
	if (ino >= INO_ASSIGNED_ADAPTER && ino < INO_ASSIGNED_ADAPTER + cfg.adapters)
		return is_assigned(ino - INO_ASSIGNED_ADAPTER) ? S_IFREG | 0644 : 0;
	if (is_queue(ino))
		return S_IFREG | 0444;
	return 0;
}

static size_t ino_size(fuse_ino_t ino)
{
	if (ino == INO_STATUS || ino == INO_STATUS_JSON)
		return cfg.status_size;
	if (is_queue(ino))
		return cfg.queue_size;
	if (ino >= INO_ASSIGNED_ADAPTER && ino < INO_QUEUE)
		return 0;
	return S_ISREG(ino_mode(ino)) ? 64 : 0;
}

static bool ino_stat(fuse_ino_t ino, struct stat *st)
{
	mode_t mode = ino_mode(ino);

	if (!mode)
		return false;
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	/* A queue shows in queues/ and pools/host/, as in zapfs before any move. */
	st->st_nlink = is_queue(ino) ? 2 : S_ISDIR(mode) ? 2 : 1;
	st->st_size = (off_t) ino_size(ino);
	st->st_blksize = 4096;
	return true;
}

/* Parses "XX" (2 lowercase hex digits) below max; -1 when it is not one. */
static int parse_hex_name(const char *s, size_t digits, unsigned max)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < digits; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned) (c - 'a' + 10);
		else
			return -1;
	}
	return v < max ? (int) v : -1;
}

static fuse_ino_t lookup_queue(const char *name)
{
	int a, d;

	if (strlen(name) != 7 || name[2] != '.')
		return 0;
	a = parse_hex_name(name, 2, cfg.adapters);
	d = parse_hex_name(name + 3, 4, cfg.domains);
	if (a < 0 || d < 0)
		return 0;
	return INO_QUEUE + (fuse_ino_t) a * MAX_IDS + (fuse_ino_t) d;
}

/* The inode named name in parent, or 0. */
static fuse_ino_t lookup_child(fuse_ino_t parent, const char *name)
{
	fuse_ino_t ino;
	int a;

	for (ino = INO_ROOT + 1; ino < INO_FIXED_END; ino++)
		if (fixed[ino].parent == parent && !strcmp(fixed[ino].name, name))
			return ino;
	if (parent == INO_QUEUES || parent == INO_POOL_HOST)
		return lookup_queue(name);
	if (parent == INO_CARDS && strlen(name) == 2) {
		a = parse_hex_name(name, 2, cfg.adapters);
		return a < 0 ? 0 : INO_CARD + (fuse_ino_t) a;
	}
	if (parent >= INO_CARD && parent < INO_CARD + cfg.adapters && !strcmp(name, "type"))
		return INO_CARD_TYPE + (parent - INO_CARD);
	if (parent == INO_GUEST_ADAPTERS && strlen(name) == 2) {
		a = parse_hex_name(name, 2, cfg.adapters);
		if (a >= 0 && is_assigned((unsigned) a))
			return INO_ASSIGNED_ADAPTER + (fuse_ino_t) a;
	}
	return 0;
}

static void reply_entry(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_entry_param e = {
		.ino = ino,
		.attr_timeout = cfg.timeout,
		.entry_timeout = cfg.timeout,
	};

	if (!ino_stat(ino, &e.attr)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_entry(req, &e);
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_ino_t ino = lookup_child(parent, name);

	if (!ino) {
		/* A negative entry, cached as long as the positive ones. */
		struct fuse_entry_param e = { .ino = 0, .entry_timeout = cfg.timeout };

		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, ino);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (!ino_stat(ino, &st)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, cfg.timeout);
}

/* touch of an existing file sets its times: accept, change nothing. */
static void floor_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	floor_getattr(req, ino, fi);
}

/* Entry i of directory dir (after "." and ".."): its name and inode; false past the end. */
static bool dir_entry(fuse_ino_t dir, size_t i, char name[NAME_LEN], fuse_ino_t *ret_ino)
{
	size_t n_queues = (size_t) cfg.adapters * cfg.domains;
	fuse_ino_t ino;

	for (ino = INO_ROOT + 1; ino < INO_FIXED_END; ino++) {
		if (fixed[ino].parent != dir)
			continue;
		if (i == 0) {
			snprintf(name, NAME_LEN, "%s", fixed[ino].name);
			*ret_ino = ino;
			return true;
		}
		i--;
	}
	if ((dir == INO_QUEUES || dir == INO_POOL_HOST) && i < n_queues) {
		snprintf(name, NAME_LEN, "%02zx.%04zx", i / cfg.domains, i % cfg.domains);
		*ret_ino = INO_QUEUE + (i / cfg.domains) * MAX_IDS + i % cfg.domains;
		return true;
	}
	if (dir == INO_CARDS && i < cfg.adapters) {
		snprintf(name, NAME_LEN, "%02zx", i);
		*ret_ino = INO_CARD + i;
		return true;
	}
	if (dir >= INO_CARD && dir < INO_CARD + cfg.adapters && i == 0) {
		snprintf(name, NAME_LEN, "type");
		*ret_ino = INO_CARD_TYPE + (dir - INO_CARD);
		return true;
	}
	if (dir == INO_GUEST_ADAPTERS) {
		for (unsigned a = 0; a < cfg.adapters; a++) {
			if (!is_assigned(a))
				continue;
			if (i == 0) {
				snprintf(name, NAME_LEN, "%02x", a);
				*ret_ino = INO_ASSIGNED_ADAPTER + a;
				return true;
			}
			i--;
		}
	}
	return false;
}

static void reply_listing(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	_cleanup_free_ char *buf = NULL;
	size_t used = 0;
	struct stat st;

	if (!S_ISDIR(ino_mode(ino))) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (;; off++) {
		char name[NAME_LEN];
		fuse_ino_t child;
		size_t len;

		if (off < 2) {
			snprintf(name, sizeof(name), off == 0 ? "." : "..");
			child = off == 0	      ? ino
				: ino < INO_FIXED_END ? fixed[ino].parent
						      : INO_CARDS;
		} else if (!dir_entry(ino, (size_t) off - 2, name, &child)) {
			break;
		}
		if (plus) {
			struct fuse_entry_param e = {
				.ino = child,
				.attr_timeout = cfg.timeout,
				.entry_timeout = cfg.timeout,
			};

			ino_stat(child, &e.attr);
			/* "." and ".." are no lookups: the kernel must not count them */
			if (off < 2)
				e.ino = 0;
			len =
			    fuse_add_direntry_plus(req, buf + used, size - used, name, &e, off + 1);
		} else {
			memset(&st, 0, sizeof(st));
			st.st_ino = child;
			st.st_mode = ino_mode(child);
			len = fuse_add_direntry(req, buf + used, size - used, name, &st, off + 1);
		}
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
}

static void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	reply_listing(req, ino, size, off, false);
}

static void floor_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	reply_listing(req, ino, size, off, true);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!S_ISREG(ino_mode(ino))) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fi->direct_io = cfg.direct_io;
	fuse_reply_open(req, fi);
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	size_t len = ino_size(ino);

	if ((size_t) off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > len - (size_t) off)
		size = len - (size_t) off;
	fuse_reply_buf(req, content + off, size);
}

/* The adapter a guests/bench/adapters/XX name stands for, or -1. */
static int adapter_entry(fuse_ino_t parent, const char *name)
{
	if (parent != INO_GUEST_ADAPTERS || strlen(name) != 2)
		return -1;
	return parse_hex_name(name, 2, cfg.adapters);
}

static void floor_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct fuse_entry_param e = {
		.attr_timeout = cfg.timeout,
		.entry_timeout = cfg.timeout,
	};
	int a = adapter_entry(parent, name);

	if (a < 0) {
		fuse_reply_err(req, EACCES);
		return;
	}
	set_assigned((unsigned) a, true);
	e.ino = INO_ASSIGNED_ADAPTER + (fuse_ino_t) a;
	ino_stat(e.ino, &e.attr);
	fi->direct_io = cfg.direct_io;
	fuse_reply_create(req, &e, fi);
}

static void floor_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int a = adapter_entry(parent, name);

	if (a < 0 || !is_assigned((unsigned) a)) {
		fuse_reply_err(req, a < 0 ? EACCES : ENOENT);
		return;
	}
	set_assigned((unsigned) a, false);
	fuse_reply_err(req, 0);
}

static void floor_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fuse_reply_err(req, lookup_child(parent, name) ? EEXIST : EACCES);
}

static const struct fuse_lowlevel_ops floor_ops = {
	.lookup = floor_lookup,
	.getattr = floor_getattr,
	.setattr = floor_setattr,
	.readdir = floor_readdir,
	.readdirplus = floor_readdirplus,
	.open = floor_open,
	.read = floor_read,
	.create = floor_create,
	.unlink = floor_unlink,
	.mkdir = floor_mkdir,
};

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	size_t content_size;
	int ret = 1;

	if (fuse_opt_parse(&args, &cfg, floor_opts, NULL) < 0 ||
	    fuse_parse_cmdline(&args, &opts) != 0)
		goto out;
	if (opts.show_help || !opts.mountpoint) {
		printf("usage: %s [--adapters=N] [--domains=N] [--status-size=BYTES] "
		       "[--queue-size=BYTES] [--timeout=S] [--direct-io=0|1] [-f] [-s] [-o OPTS] "
		       "MOUNTPOINT\n",
		       argv[0]);
		ret = opts.show_help ? 0 : 1;
		goto out;
	}
	if (cfg.adapters < 1 || cfg.adapters > MAX_IDS || cfg.domains < 1 ||
	    cfg.domains > MAX_IDS) {
		fprintf(stderr, "floorfs: adapters and domains must be 1 to %d\n", MAX_IDS);
		goto out;
	}
	content_size = cfg.status_size > cfg.queue_size ? cfg.status_size : cfg.queue_size;
	content = malloc(content_size + 64);
	if (!content)
		goto out;
	/* Lines of text, like the files it stands in for. */
	for (size_t i = 0; i < content_size + 64; i++)
		content[i] = i % 64 == 63 ? '\n' : 'x';

	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(loop, 0);
		fuse_loop_cfg_set_max_threads(loop, opts.max_threads);
		ret = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	ret = ret != 0;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	free(content);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
