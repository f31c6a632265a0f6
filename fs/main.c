/* SPDX-License-Identifier: MIT */
/*
 * zapfs [options] MOUNTPOINT: mounts the zapfs tree over the host's AP bus
 * and vfio_ap (real sysfs, a zapfs-simsys mount, or the in-process
 * simulator) with the libfuse low-level API.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "core/cleanup.h"
#include "core/engine.h"
#include "core/tree.h"
#include "fs/host.h"
#include "fs/notify.h"
#include "fs/ops.h"
#include "fs/persistence.h"
#include "fs/watch.h"
#include "kmod/aplock.h"
#include "kmod/kport.h"
#include "kmod/sim/sim.h"
#include "kmod/sysfs.h"

#define DEFAULT_STATE_DIR   "/var/lib/zapfs"
#define DEFAULT_MDEVCTL_DIR "/etc/mdevctl.d"

#define MIN_THREADS 2
#define MAX_THREADS 4

struct options {
	char *simulate;	    /* host file of the in-process simulator */
	char *sysfs;	    /* sysfs root, default /sys */
	char *state;	    /* state directory (kept for persistence) */
	char *mdevctl_dir;  /* mdevctl's configuration, with --mdevctl */
	bool mdevctl;	    /* keep mdevctl definitions of the guests */
	char *lock_dir;	    /* where s390apconfig.lock lives */
	char *lock_timeout; /* seconds to wait for another holder */
	unsigned rescan;    /* UINT_MAX: the watcher's default */
};

/* zapfs's own long options, each as "--name VALUE" or "--name=VALUE". */
static const struct long_option {
	const char *name;
	size_t offset; /* of a char * in struct options; rescan is parsed apart */
} long_options[] = {
	{ "--simulate", offsetof(struct options, simulate) },
	{ "--sysfs", offsetof(struct options, sysfs) },
	{ "--state", offsetof(struct options, state) },
	{ "--rescan", SIZE_MAX },
	{ "--lock-dir", offsetof(struct options, lock_dir) },
	{ "--lock-timeout", offsetof(struct options, lock_timeout) },
	{ "--mdevctl-dir", offsetof(struct options, mdevctl_dir) },
};

/*
 * Takes zapfs's options out of argv into o and hands the rest to args for
 * libfuse. (fuse_opt cannot take both "--x V" and "--x=V": a template for
 * one also matches the other.) Returns 0, or -EINVAL after a message.
 */
static int parse_options(int argc, char *argv[], struct options *o, struct fuse_args *args)
{
	for (int i = 0; i < argc; i++) {
		const struct long_option *lo = NULL;
		const char *value = NULL;

		if (i > 0 && strcmp(argv[i], "--mdevctl") == 0) {
			o->mdevctl = true;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(long_options) && i > 0 && !lo; k++) {
			size_t n = strlen(long_options[k].name);

			if (strncmp(argv[i], long_options[k].name, n) != 0)
				continue;
			if (argv[i][n] == '=')
				value = argv[i] + n + 1;
			else if (argv[i][n] == '\0' && i + 1 < argc)
				value = argv[++i];
			else if (argv[i][n] != '\0')
				continue;
			lo = &long_options[k];
		}
		if (!lo) {
			if (fuse_opt_add_arg(args, argv[i]) < 0)
				return -ENOMEM;
			continue;
		}
		if (!value) {
			fprintf(stderr, "zapfs: %s needs a value\n", lo->name);
			return -EINVAL;
		}
		if (lo->offset == SIZE_MAX) {
			char *end;
			unsigned long n = strtoul(value, &end, 10);

			if (!*value || *end || n > 86400) {
				fprintf(stderr, "zapfs: --rescan takes seconds, 0 to 86400\n");
				return -EINVAL;
			}
			o->rescan = (unsigned) n;
			continue;
		}
		char **field = (char **) ((char *) o + lo->offset);

		free(*field);
		*field = strdup(value);
		if (!*field)
			return -ENOMEM;
	}
	return 0;
}

/* Everything the daemon runs on, released in reverse order. */
struct daemon {
	struct sim *sim;
	struct sysfs *sysfs;
	struct engine *engine;
	struct tree *tree;
	struct notifier *notifier;
	struct zapfs_fs fs;
	struct host_port port;
	struct host_notes notes;
	struct watch *watch;
	struct persistence *persistence;
};

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "Mounts the zapfs tree: IBM Z AP queues for KVM guests, as plain files.\n\n"
	       "zapfs options:\n"
	       "    --simulate HOSTFILE    run on a simulated LPAR described by HOSTFILE\n"
	       "    --sysfs DIR            the sysfs to drive (default %s)\n"
	       "    --state DIR            the state directory (default %s; none with\n"
	       "                           --simulate)\n"
	       "    --mdevctl              keep mdevctl definitions of the guests, and import\n"
	       "                           those of vfio_ap devices at start\n"
	       "    --mdevctl-dir DIR      mdevctl's configuration (default %s)\n"
	       "    --rescan SECONDS       re-read the kernel this often, 0: never (default %d,\n"
	       "                           or %d where uevents arrive: /sys, --simulate)\n"
	       "    --lock-dir DIR         where s390apconfig.lock lives (default %s)\n"
	       "    --lock-timeout SECONDS wait this long for another tool's lock (default %d)\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug: print every FUSE request (implies -f)\n"
	       "    -s                     single-threaded\n"
	       "    -o OPTION[,OPTION...]  FUSE options\n"
	       "    -h, --help             this text\n"
	       "    -V, --version          the version\n\n",
	       prog, SYSFS_DEFAULT_ROOT, DEFAULT_STATE_DIR, DEFAULT_MDEVCTL_DIR,
	       WATCH_INTERVAL_POLL, WATCH_INTERVAL_UEVENTS, APLOCK_DEFAULT_DIR,
	       HOST_LOCK_TIMEOUT_S);
}

/* A random (version 4) UUID, for guests made without one. */
static int random_uuid(void *ctx, char ret[UUID_STR_LEN + 1])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
		return -errno ? -errno : -EIO;
	b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
	snprintf(ret, UUID_STR_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

static void log_sentence(void *ctx, int err, const char *sentence)
{
	fprintf(stderr, "zapfs: %s\n", sentence);
}

static int refresh_tree(void *ctx, bool whole_host)
{
	return tree_refresh(ctx, whole_host);
}

static void queue_invalidations(void *ctx, const struct tree_inval *list, size_t n)
{
	struct daemon *d = ctx;

	if (d->notifier)
		notifier_push(d->notifier, list, n);
}

/* Opens the kernel: the simulator when a host file is given, else the sysfs directory. */
static int open_kernel(struct daemon *d, const struct options *o)
{
	_cleanup_free_ struct sim_config *cfg = NULL;
	char err[512] = "";
	int r;

	if (!o->simulate) {
		r = sysfs_open_dir(o->sysfs ? o->sysfs : SYSFS_DEFAULT_ROOT, &d->sysfs);
		if (r < 0)
			fprintf(stderr, "zapfs: %s: %s\n", o->sysfs ? o->sysfs : SYSFS_DEFAULT_ROOT,
				strerror(-r));
		return r;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	r = sim_config_load(o->simulate, cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "zapfs: %s\n", *err ? err : strerror(-r));
		return r;
	}
	r = sim_new(cfg, &d->sim);
	if (r >= 0)
		r = sysfs_open_sim(d->sim, &d->sysfs);
	if (r < 0)
		fprintf(stderr, "zapfs: the simulator could not start: %s\n", strerror(-r));
	return r;
}

/*
 * Where guests' qemu files point: the matrix device under the sysfs QEMU will
 * see. The simulator stands for /sys.
 */
static void matrix_dir_of(const struct options *o, char *buf, size_t size)
{
	kport_matrix_dir(o->simulate || !o->sysfs ? SYSFS_DEFAULT_ROOT : o->sysfs, buf, size);
}

static int start_model(struct daemon *d, const struct options *o)
{
	struct engine_config ecfg = { .uuid_source = random_uuid };
	char matrix_dir[4096];
	struct tree_config tcfg = {
		.matrix_dir = matrix_dir,
		.hooks = { .log = log_sentence, .invalidate = queue_invalidations, .ctx = d },
	};
	unsigned lock_timeout = HOST_LOCK_TIMEOUT_S;
	int r;

	if (o->lock_timeout && host_parse_seconds(o->lock_timeout, 86400, &lock_timeout) < 0) {
		fprintf(stderr, "zapfs: --lock-timeout takes seconds, 0 to 86400\n");
		return -EINVAL;
	}
	r = open_kernel(d, o);
	if (r < 0)
		return r;
	/* before the first scan, so that a module loaded now is seen */
	r = host_check_kernel(d->sysfs, &d->notes);
	if (r >= 0)
		r = host_port_open(&d->port, d->sysfs, o->simulate, o->lock_dir, lock_timeout,
				   &d->notes, &ecfg.port);
	if (r < 0)
		return r;
	/* a simulated LPAR keeps nothing unless asked to */
	r = persistence_open(o->state	   ? o->state
			     : o->simulate ? NULL
					   : DEFAULT_STATE_DIR,
			     o->mdevctl_dir ? o->mdevctl_dir
			     : o->mdevctl   ? DEFAULT_MDEVCTL_DIR
					    : NULL,
			     &d->persistence);
	if (r < 0)
		return r;
	ecfg.store = persistence_engine_store(d->persistence);
	r = engine_new(&ecfg, &d->engine);
	if (r < 0) {
		fprintf(stderr, "zapfs: the kernel's AP configuration could not be read: %s\n",
			strerror(-r));
		return r;
	}
	host_notes_log(&d->notes, d->engine);
	r = persistence_start(d->persistence, d->engine);
	if (r < 0)
		return r;
	matrix_dir_of(o, matrix_dir, sizeof(matrix_dir));
	tcfg.engine = d->engine;
	r = tree_new(&tcfg, &d->tree);
	if (r < 0)
		fprintf(stderr, "zapfs: %s\n", strerror(-r));
	return r;
}

static void daemon_done(struct daemon *d)
{
	watch_free(d->watch);
	notifier_free(d->notifier);
	tree_free(d->tree);
	engine_free(d->engine);
	persistence_free(d->persistence);
	host_port_done(&d->port);
	sysfs_free(d->sysfs);
	sim_free(d->sim);
}

/*
 * Ends what the kernel still waits for. Once the loop has stopped, requests
 * already sent will never be answered, and the notifier may be blocked on a
 * directory lock one of them holds: a forced unmount aborts the connection,
 * which fails those requests and frees the lock, so the threads can be
 * joined. Returns true when the mount is gone; false leaves the (lazy)
 * unmount to libfuse, as when the mount is busy or zapfs is not root.
 */
static bool abort_connection(const char *mountpoint)
{
	if (umount2(mountpoint, MNT_FORCE) == 0)
		return true;
	/* busy, but aborted all the same: detach it so no dead mount stays behind */
	return errno == EBUSY && umount2(mountpoint, MNT_DETACH) == 0;
}

/* The exit status: the loop returns the signal that stopped it, a clean stop. */
static int session_status(int loop_result)
{
	switch (loop_result) {
	case 0:
	case SIGTERM:
	case SIGINT:
	case SIGHUP:
		return 0;
	default:
		return 1;
	}
}

static int run_session(struct fuse_session *se, const struct fuse_cmdline_opts *cmd)
{
	struct fuse_loop_config *loop;
	int r;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	loop = fuse_loop_cfg_create();
	if (!loop)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(loop, 0);
	if (cmd->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(loop, cmd->max_idle_threads);
	fuse_loop_cfg_set_max_threads(loop, cmd->max_threads < MIN_THREADS   ? MIN_THREADS
					    : cmd->max_threads > MAX_THREADS ? MAX_THREADS
									     : cmd->max_threads);
	r = fuse_session_loop_mt(se, loop);
	fuse_loop_cfg_destroy(loop);
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct options opts = { .rescan = UINT_MAX };
	struct fuse_cmdline_opts cmd = { 0 };
	struct daemon d = { 0 };
	struct fuse_session *se = NULL;
	bool unmounted;
	int r = 1;

	if (parse_options(argc, argv, &opts, &args) < 0 || fuse_parse_cmdline(&args, &cmd) < 0)
		goto out_args;
	if (cmd.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		r = 0;
		goto out_args;
	}
	if (cmd.show_version) {
		printf("zapfs %s\n", ZAPFS_VERSION);
		fflush(stdout);
		fuse_lowlevel_version();
		r = 0;
		goto out_args;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (--help for more)\n", argv[0]);
		goto out_args;
	}
	if (opts.simulate && opts.sysfs) {
		fprintf(stderr, "zapfs: --simulate and --sysfs exclude each other\n");
		goto out_args;
	}
	/* subscribe to uevents before the first scan, so that none is lost in between */
	if (watch_new(&d.watch) < 0)
		goto out_daemon;
	if (!opts.simulate)
		host_listen_kernel(d.watch, opts.sysfs ? opts.sysfs : SYSFS_DEFAULT_ROOT, &d.notes);
	if (start_model(&d, &opts) < 0)
		goto out_daemon;
	if (d.sim)
		watch_listen_sim(d.watch, d.sim);
	if (opts.rescan == UINT_MAX)
		opts.rescan = watch_default_interval(d.watch);

	zapfs_fs_init(&d.fs, d.tree);
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=zapfs,subtype=zapfs") < 0)
		goto out_daemon;
	se = fuse_session_new(&args, &zapfs_ops, sizeof(zapfs_ops), &d.fs);
	if (!se)
		goto out_daemon;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, cmd.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(cmd.foreground);

	/* threads start after the fork of fuse_daemonize() */
	if (notifier_new(&d.notifier) < 0 ||
	    watch_start(d.watch, &(struct watch_config){ .refresh = refresh_tree,
							 .ctx = d.tree,
							 .interval = opts.rescan }) < 0) {
		fprintf(stderr, "zapfs: cannot start threads\n");
		goto out_unmount;
	}
	notifier_attach(d.notifier, se, &d.fs.lookups);
	r = session_status(run_session(se, &cmd));

out_unmount:
	unmounted = abort_connection(cmd.mountpoint);
	d.watch = watch_free(d.watch);
	d.notifier = notifier_free(d.notifier);
	if (!unmounted)
		fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
	zapfs_fs_done(&d.fs);
out_daemon:
	daemon_done(&d);
out_args:
	free(cmd.mountpoint);
	free(opts.simulate);
	free(opts.sysfs);
	free(opts.state);
	free(opts.mdevctl_dir);
	free(opts.lock_dir);
	free(opts.lock_timeout);
	fuse_opt_free_args(&args);
	return r;
}
