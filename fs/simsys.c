/* SPDX-License-Identifier: MIT */
/*
 * zapfs-simsys: mounts a simulated LPAR kernel as a sysfs-like tree.
 *
 *   zapfs-simsys [-f] [-d] [-o opt,...] HOSTFILE DIR
 *
 * DIR then plays the role of the kernel's sysfs, laid out alike, with the kernel's modes, formats,
 * errnos and symlinks, plus the simulator's control directory DIR/simctl. Shell scripts, `zapfs
 * --sysfs DIR`, lszcrypt (SYSFS_ROOT) and mdevctl (DIR bind-mounted over /sys) drive it as they
 * would drive the real thing.
 *
 * The high-level (path) API fits: the simulator is addressed by path. What
 * makes the mount behave like sysfs rather than like a disk:
 * - no caching of entries or attributes (timeouts 0), because the kernel
 *   state changes underneath, as sysfs never caches;
 * - direct_io with st_size 4096: sizes lie as on sysfs, reads go to us;
 * - an attribute is rendered at the read at offset 0 and later offsets come
 *   from that rendering, as from sysfs's seq_file;
 * - each write() is one store(), and its errno is write()'s errno;
 * - open() refuses what kernfs refuses even to root: writing a file without
 *   write bits, reading one without read bits (EACCES);
 * - namespace changes fail with the errnos the VFS gives on sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "kmod/sim/sim.h"

/* The kernel renders an attribute into one page. */
#define SYSFS_PAGE_SIZE 4096
/* The control files (uevents, dmesg) are logs, longer than a page. */
#define SIMCTL_READ_SIZE (256 * 1024)

struct simsys {
	struct sim *sim;
	struct timespec mount_time;
};

/* An open attribute: the rendering that reads at offsets > 0 come from. */
struct open_attr {
	pthread_mutex_t lock;
	bool rendered;
	size_t len;
	size_t size;
	char buf[];
};

static struct simsys *simsys_get(void)
{
	return fuse_get_context()->private_data;
}

/* FUSE paths are absolute; the simulator's are relative to the sysfs root. */
static const char *sim_path(const char *path)
{
	while (*path == '/')
		path++;
	return path;
}

static bool is_simctl_path(const char *rel)
{
	size_t n = strlen(SIM_CONTROL_DIR);

	return !strncmp(rel, SIM_CONTROL_DIR, n) && (rel[n] == '\0' || rel[n] == '/');
}

static void fill_stat(const struct simsys *s, const struct sim_stat *sst, off_t link_len,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	switch (sst->type) {
	case SIM_NODE_DIR:
		st->st_mode = S_IFDIR | sst->mode;
		st->st_nlink = 2;
		break;
	case SIM_NODE_FILE:
		st->st_mode = S_IFREG | sst->mode;
		st->st_nlink = 1;
		st->st_size = SYSFS_PAGE_SIZE;
		break;
	case SIM_NODE_LINK:
		st->st_mode = S_IFLNK | sst->mode;
		st->st_nlink = 1;
		st->st_size = link_len;
		break;
	}
	st->st_blksize = SYSFS_PAGE_SIZE;
	st->st_atim = st->st_mtim = st->st_ctim = s->mount_time;
}

static int simsys_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct simsys *s = simsys_get();
	struct sim_stat sst;
	off_t link_len = 0;
	int r;

	r = sim_stat(s->sim, sim_path(path), &sst);
	if (r < 0)
		return r;
	if (sst.type == SIM_NODE_LINK) {
		char target[PATH_MAX];
		ssize_t n = sim_readlink(s->sim, sim_path(path), target, sizeof(target));

		if (n < 0)
			return (int) n;
		link_len = n;
	}
	fill_stat(s, &sst, link_len, st);
	return 0;
}

static int simsys_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	n = sim_readlink(simsys_get()->sim, sim_path(path), buf, size - 1);
	if (n < 0)
		return (int) n;
	buf[(size_t) n < size - 1 ? (size_t) n : size - 1] = '\0';
	return 0;
}

struct readdir_ctx {
	const struct simsys *s;
	void *buf;
	fuse_fill_dir_t filler;
};

static int readdir_entry(void *userdata, const char *name, const struct sim_stat *sst)
{
	struct readdir_ctx *ctx = userdata;
	struct stat st;

	/* Only the type bits reach the kernel from readdir; lstat asks for the rest. */
	fill_stat(ctx->s, sst, 0, &st);
	return ctx->filler(ctx->buf, name, &st, 0, 0) ? -ENOBUFS : 0;
}

static int simsys_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
			  struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct simsys *s = simsys_get();
	struct readdir_ctx ctx = { .s = s, .buf = buf, .filler = filler };
	int r;

	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	r = sim_readdir(s->sim, sim_path(path), readdir_entry, &ctx);
	return r < 0 ? r : 0;
}

static int simsys_open(const char *path, struct fuse_file_info *fi)
{
	struct simsys *s = simsys_get();
	const char *rel = sim_path(path);
	int acc = fi->flags & O_ACCMODE;
	struct open_attr *attr;
	struct sim_stat sst;
	size_t size;
	int r;

	r = sim_stat(s->sim, rel, &sst);
	if (r < 0)
		return r;
	if (sst.type == SIM_NODE_DIR)
		return -EISDIR;
	/* As kernfs: no show() or store(), no open for it, whoever asks. */
	if (acc != O_RDONLY && !(sst.mode & 0222))
		return -EACCES;
	if (acc != O_WRONLY && !(sst.mode & 0444))
		return -EACCES;

	fi->direct_io = 1;
	fi->fh = 0;
	if (acc == O_WRONLY)
		return 0;

	size = is_simctl_path(rel) ? SIMCTL_READ_SIZE : SYSFS_PAGE_SIZE;
	attr = calloc(1, sizeof(*attr) + size);
	if (!attr)
		return -ENOMEM;
	pthread_mutex_init(&attr->lock, NULL);
	attr->size = size;
	fi->fh = (uint64_t) (uintptr_t) attr;
	return 0;
}

static int simsys_read(const char *path, char *buf, size_t size, off_t offset,
		       struct fuse_file_info *fi)
{
	struct open_attr *attr = (struct open_attr *) (uintptr_t) fi->fh;
	_cleanup_mutex_ pthread_mutex_t *lock = NULL;
	size_t n;

	if (!attr)
		return -EBADF;
	lock = mutex_lock(&attr->lock);
	if (offset == 0 || !attr->rendered) {
		ssize_t len = sim_read(simsys_get()->sim, sim_path(path), attr->buf, attr->size);

		if (len < 0)
			return (int) len;
		attr->len = (size_t) len < attr->size ? (size_t) len : attr->size;
		attr->rendered = true;
	}
	if ((size_t) offset >= attr->len)
		return 0;
	n = attr->len - (size_t) offset;
	if (n > size)
		n = size;
	memcpy(buf, attr->buf + offset, n);
	return (int) n;
}

static int simsys_write(const char *path, const char *buf, size_t size, off_t offset,
			struct fuse_file_info *fi)
{
	ssize_t n;

	/* kernfs hands a store() at most one page. */
	if (size > SYSFS_PAGE_SIZE)
		size = SYSFS_PAGE_SIZE;
	n = sim_write(simsys_get()->sim, sim_path(path), buf, size);
	return (int) n;
}

static int simsys_release(const char *path, struct fuse_file_info *fi)
{
	struct open_attr *attr = (struct open_attr *) (uintptr_t) fi->fh;

	if (attr) {
		pthread_mutex_destroy(&attr->lock);
		free(attr);
	}
	return 0;
}

/* `echo x > attr` opens with O_TRUNC: accepted, as sysfs ignores the size. */
static int simsys_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct sim_stat sst;
	int r = sim_stat(simsys_get()->sim, sim_path(path), &sst);

	if (r < 0)
		return r;
	return sst.type == SIM_NODE_DIR ? -EISDIR : 0;
}

static int simsys_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct sim_stat sst;

	return sim_stat(simsys_get()->sim, sim_path(path), &sst);
}

/* The namespace is the kernel's: the VFS answers these on sysfs as below. */
static int simsys_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EACCES;
}

static int simsys_mknod(const char *path, mode_t mode, dev_t rdev)
{
	return -EPERM;
}

static int simsys_mkdir(const char *path, mode_t mode)
{
	return -EPERM;
}

static int simsys_remove(const char *path)
{
	return -EPERM;
}

static int simsys_link(const char *from, const char *to)
{
	return -EPERM;
}

static int simsys_rename(const char *from, const char *to, unsigned int flags)
{
	return -EPERM;
}

static int simsys_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return -EPERM;
}

static int simsys_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return -EPERM;
}

static void *simsys_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Everything may change underneath: never cache, always ask. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	return fuse_get_context()->private_data;
}

static const struct fuse_operations simsys_ops = {
	.init = simsys_init,
	.getattr = simsys_getattr,
	.readlink = simsys_readlink,
	.readdir = simsys_readdir,
	.open = simsys_open,
	.read = simsys_read,
	.write = simsys_write,
	.release = simsys_release,
	.truncate = simsys_truncate,
	.utimens = simsys_utimens,
	.create = simsys_create,
	.mknod = simsys_mknod,
	.mkdir = simsys_mkdir,
	.unlink = simsys_remove,
	.rmdir = simsys_remove,
	.symlink = simsys_link,
	.link = simsys_link,
	.rename = simsys_rename,
	.chmod = simsys_chmod,
	.chown = simsys_chown,
};

struct simsys_options {
	const char *hostfile;
	bool help;
	bool version;
};

enum {
	KEY_HELP,
	KEY_VERSION,
};

static const struct fuse_opt simsys_opt_spec[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END,
};

static int simsys_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct simsys_options *o = data;

	switch (key) {
	case KEY_HELP:
		o->help = true;
		return 0;
	case KEY_VERSION:
		o->version = true;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		/* The first word is ours; the mount point goes on to libfuse. */
		if (!o->hostfile) {
			o->hostfile = arg;
			return 0;
		}
		return 1;
	default:
		return 1;
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [options] HOSTFILE DIR\n"
	       "\n"
	       "Mounts the simulated LPAR kernel that HOSTFILE describes as a sysfs-like\n"
	       "tree on DIR (DIR plays /sys; DIR/" SIM_CONTROL_DIR " holds the test hooks).\n"
	       "Host files: contrib/hosts/README.\n"
	       "\n"
	       "    -h, --help        print this help\n"
	       "    -V, --version     print the version\n"
	       "    -f                stay in the foreground\n"
	       "    -d                debug: print every FUSE request (implies -f)\n"
	       "    -o opt,[opt...]   mount options\n",
	       prog);
}

/* Mount options sysfs would have, before the user's own. */
static int add_mount_options(struct fuse_args *args)
{
	if (fuse_opt_add_arg(args, "-odefault_permissions,fsname=zapfs-simsys,subtype=simsys") < 0)
		return -ENOMEM;
	/* Like sysfs, readable by every user; only root may mount for everyone. */
	if (geteuid() == 0 && fuse_opt_add_arg(args, "-oallow_other") < 0)
		return -ENOMEM;
	return 0;
}

static int run_mount(struct fuse_args *args, struct simsys *s)
{
	struct fuse_cmdline_opts opts = { 0 };
	struct fuse_loop_config *loop_config = NULL;
	struct fuse *fuse;
	int r, ret = 1;

	if (fuse_parse_cmdline(args, &opts) != 0)
		return 1;
	if (!opts.mountpoint) {
		fprintf(stderr,
			"zapfs-simsys: no mount point (usage: zapfs-simsys HOSTFILE DIR)\n");
		goto out_free;
	}
	if (add_mount_options(args) < 0) {
		fprintf(stderr, "zapfs-simsys: out of memory\n");
		goto out_free;
	}
	fuse = fuse_new(args, &simsys_ops, sizeof(simsys_ops), s);
	if (!fuse)
		goto out_free;
	if (fuse_mount(fuse, opts.mountpoint) != 0)
		goto out_destroy;
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0)
		goto out_unmount;

	if (opts.singlethread) {
		r = fuse_loop(fuse);
	} else {
		loop_config = fuse_loop_cfg_create();
		if (!loop_config) {
			r = -ENOMEM;
		} else {
			fuse_loop_cfg_set_clone_fd(loop_config, (unsigned) opts.clone_fd);
			/* UINT_MAX: not given on the command line, keep libfuse's default. */
			if (opts.max_threads != UINT_MAX)
				fuse_loop_cfg_set_max_threads(loop_config, opts.max_threads);
			if (opts.max_idle_threads != UINT_MAX)
				fuse_loop_cfg_set_idle_threads(loop_config, opts.max_idle_threads);
			r = fuse_loop_mt(fuse, loop_config);
			fuse_loop_cfg_destroy(loop_config);
		}
	}
	/* A positive value is the signal that ended the loop: a clean stop. */
	ret = r < 0 ? 1 : 0;
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out_unmount:
	fuse_unmount(fuse);
out_destroy:
	fuse_destroy(fuse);
out_free:
	free(opts.mountpoint);
	return ret;
}

/* Loads the host file and boots the simulated kernel; prints why not. */
static int start_simulator(const char *hostfile, struct sim **ret)
{
	_cleanup_free_ struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char err[512];
	int r;

	if (!cfg) {
		fprintf(stderr, "zapfs-simsys: out of memory\n");
		return -ENOMEM;
	}
	r = sim_config_load(hostfile, cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "zapfs-simsys: %s\n", err);
		return r;
	}
	r = sim_new(cfg, ret);
	if (r < 0)
		fprintf(stderr, "zapfs-simsys: %s: cannot start the simulator: %s\n", hostfile,
			strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct simsys_options o = { 0 };
	struct simsys s = { 0 };
	int ret = 1;

	if (fuse_opt_parse(&args, &o, simsys_opt_spec, simsys_opt_proc) != 0)
		goto out;
	if (o.help) {
		usage(argv[0]);
		printf("\nFUSE options:\n");
		fuse_cmdline_help();
		fuse_lib_help(&args);
		ret = 0;
	} else if (o.version) {
		printf("zapfs-simsys %s (libfuse %s)\n", ZAPFS_VERSION, fuse_pkgversion());
		ret = 0;
	} else if (!o.hostfile) {
		fprintf(stderr, "usage: %s [options] HOSTFILE DIR (try --help)\n", argv[0]);
	} else if (start_simulator(o.hostfile, &s.sim) == 0) {
		clock_gettime(CLOCK_REALTIME, &s.mount_time);
		ret = run_mount(&args, &s);
		sim_free(s.sim);
	}
out:
	fuse_opt_free_args(&args);
	return ret;
}
