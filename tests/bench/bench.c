/* SPDX-License-Identifier: MIT */
/*
 * bench: times the operations an administrator's shell makes on the zapfs
 * tree, on several trees of the same shape in the same run, and prints the
 * median of each and the ratios of the first tree to the others.
 *
 *   bench [--adapters=N] [--domains=N] [--budget=SECONDS] NAME=DIR NAME=DIR...
 *
 * e.g. `bench zapfs=/mnt/zapfs floor=/mnt/floor tmpfs=/mnt/tmpfs`. Each DIR
 * must have queues/XX.YYYY for every adapter x domain, status, and an empty
 * guests/bench/adapters/ where files can be created and removed (assign and
 * unassign in zapfs). Every operation warms up first, then runs up to its
 * count or the time budget (at least a few runs), and reports the median.
 * The trees take turns run by run, so that the machine's slower and faster
 * spells touch them alike.
 * The uncached lookup uses a name never looked up before on each run, so the
 * trees must be freshly mounted, and nothing may have listed queues/.
 *
 * Figures only: nothing here decides that a time is too slow. Exit status 1
 * when an operation failed (a wrong entry count, an errno) on some tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

#define MAX_TREES   4
#define MAX_RUNS    10000
#define MIN_RUNS    5
#define NAME_STRIDE 7919 /* a prime: walks all queue names in a scattered order */

struct tree {
	const char *name;
	const char *dir;
};

struct bench_ctx {
	unsigned adapters;
	unsigned domains;
	double budget_s;
	const struct tree *tree;
	unsigned counter; /* per operation and tree: which name to use next */
	char what[4200];  /* what failed: a verb and a path */
};

struct op {
	const char *label;
	unsigned warmup;
	unsigned runs; /* at most; an operation on fresh names runs once per queue at most */
	bool fresh_names;
	/* Optional, untimed, before each run (sets up what the run needs). */
	int (*before)(struct bench_ctx *ctx);
	/* One run; 0 or -errno (then ctx->what says what failed). */
	int (*run)(struct bench_ctx *ctx);
	/* Optional, untimed, after each run (undoes what the run did). */
	int (*after)(struct bench_ctx *ctx);
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

/* Records what failed ("stat PATH") and returns err. */
static int failed(struct bench_ctx *ctx, int err, const char *verb, const char *path)
{
	snprintf(ctx->what, sizeof(ctx->what), "%s %s", verb, path);
	return err;
}

static void queue_path(struct bench_ctx *ctx, unsigned index, char *buf, size_t size)
{
	unsigned n = ctx->adapters * ctx->domains;

	index = (unsigned) (((unsigned long) index * NAME_STRIDE) % n);
	snprintf(buf, size, "%s/queues/%02x.%04x", ctx->tree->dir, index / ctx->domains,
		 index % ctx->domains);
}

static int stat_fresh_queue(struct bench_ctx *ctx)
{
	char path[4096];
	struct stat st;

	queue_path(ctx, ctx->counter++, path, sizeof(path));
	if (stat(path, &st) < 0)
		return failed(ctx, -errno, "stat", path);
	return 0;
}

static int stat_same_queue(struct bench_ctx *ctx)
{
	char path[4096];
	struct stat st;

	queue_path(ctx, 0, path, sizeof(path));
	if (stat(path, &st) < 0)
		return failed(ctx, -errno, "stat", path);
	return 0;
}

/* What cat does: open, read until EOF, close. */
static int cat_file(struct bench_ctx *ctx, const char *rel)
{
	static __thread char buf[128 * 1024];
	_cleanup_close_ int fd = -1;
	char path[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", ctx->tree->dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failed(ctx, -errno, "open", path);
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0);
	if (n < 0)
		return failed(ctx, -errno, "read", path);
	return 0;
}

static int cat_status(struct bench_ctx *ctx)
{
	return cat_file(ctx, "status");
}

static int cat_queue(struct bench_ctx *ctx)
{
	char rel[32];

	snprintf(rel, sizeof(rel), "queues/%02x.%04x", 5 % ctx->adapters, 4 % ctx->domains);
	return cat_file(ctx, rel);
}

static int list_queues(struct bench_ctx *ctx)
{
	_cleanup_closedir_ DIR *d = NULL;
	unsigned want = ctx->adapters * ctx->domains + 2, got = 0;
	char path[4096];

	snprintf(path, sizeof(path), "%s/queues", ctx->tree->dir);
	d = opendir(path);
	if (!d)
		return failed(ctx, -errno, "opendir", path);
	errno = 0;
	while (readdir(d))
		got++;
	if (errno)
		return failed(ctx, -errno, "readdir", path);
	if (got != want) {
		snprintf(ctx->what, sizeof(ctx->what), "%s lists %u entries, not %u", path, got,
			 want);
		return -EPROTO;
	}
	return 0;
}

static void adapter_path(struct bench_ctx *ctx, char *buf, size_t size)
{
	snprintf(buf, size, "%s/guests/bench/adapters/%02x", ctx->tree->dir,
		 ctx->counter % ctx->adapters);
}

static int touch_adapter(struct bench_ctx *ctx)
{
	_cleanup_close_ int fd = -1;
	char path[4096];

	adapter_path(ctx, path, sizeof(path));
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return failed(ctx, -errno, "open(O_CREAT)", path);
	if (close(TAKE_FD(fd)) < 0)
		return failed(ctx, -errno, "close", path);
	return 0;
}

static int rm_adapter(struct bench_ctx *ctx)
{
	char path[4096];

	adapter_path(ctx, path, sizeof(path));
	if (unlink(path) < 0)
		return failed(ctx, -errno, "unlink", path);
	return 0;
}

/* Each run of assign or unassign takes the next adapter. */
static int next_adapter(struct bench_ctx *ctx)
{
	ctx->counter++;
	return 0;
}

static int rm_after_touch(struct bench_ctx *ctx)
{
	int r = rm_adapter(ctx);

	ctx->counter++;
	return r;
}

/* In this order: the uncached lookups must come before anything lists queues/. */
static const struct op ops[] = {
	{ "lookup+stat, uncached", 100, 2000, true, NULL, stat_fresh_queue, NULL },
	{ "stat, cached", 100, MAX_RUNS, false, NULL, stat_same_queue, NULL },
	{ "cat status", 10, 300, false, NULL, cat_status, NULL },
	{ "cat queues/05.0004", 50, 3000, false, NULL, cat_queue, NULL },
	{ "readdir queues/", 3, 50, false, NULL, list_queues, NULL },
	{ "assign: touch adapters/XX", 5, 300, false, NULL, touch_adapter, rm_after_touch },
	{ "unassign: rm adapters/XX", 5, 300, false, touch_adapter, rm_adapter, next_adapter },
};

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return (x > y) - (x < y);
}

/* One tree's part in the measure of one operation. */
struct tree_runs {
	struct bench_ctx ctx;
	double samples[MAX_RUNS];
	unsigned timed;
	int err; /* the first failure; the tree then takes no further part */
};

static double median_of(double *samples, unsigned n)
{
	qsort(samples, n, sizeof(samples[0]), compare_double);
	return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/* One run of o on one tree, timed when timed is set. */
static int run_once(struct tree_runs *t, const struct op *o, bool timed)
{
	double t0;
	int r;

	if (o->before && (r = o->before(&t->ctx)) < 0)
		return r;
	t0 = now_us();
	r = o->run(&t->ctx);
	if (r < 0)
		return r;
	if (timed)
		t->samples[t->timed++] = now_us() - t0;
	return o->after ? o->after(&t->ctx) : 0;
}

/*
 * Runs one operation on every tree, round by round: each round runs it once
 * on each tree in turn, so that a slower or faster spell of the machine
 * touches all trees alike and the ratios hold. Warm-up rounds first, then
 * timed rounds until the count or the budget (per tree).
 */
static void measure(const struct bench_ctx *base, const struct tree *trees, size_t n_trees,
		    const struct op *o, struct tree_runs *runs)
{
	unsigned total = o->warmup + o->runs, names = base->adapters * base->domains;
	double start = now_us();

	if (o->fresh_names && total > names)
		total = names;

	for (size_t t = 0; t < n_trees; t++) {
		runs[t] = (struct tree_runs){ .ctx = *base };
		runs[t].ctx.tree = &trees[t];
	}
	for (unsigned i = 0; i < total; i++) {
		bool all_enough = true;

		for (size_t t = 0; t < n_trees; t++) {
			if (runs[t].err < 0)
				continue;
			runs[t].err = run_once(&runs[t], o, i >= o->warmup);
			all_enough &= runs[t].err < 0 || runs[t].timed >= MIN_RUNS;
		}
		if (all_enough && now_us() - start > base->budget_s * 1e6 * (double) n_trees)
			break;
	}
	for (size_t t = 0; t < n_trees; t++) {
		if (runs[t].err >= 0 && !runs[t].timed)
			runs[t].err = -ETIME;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench [--adapters=N] [--domains=N] [--budget=SECONDS] NAME=DIR...\n");
}

int main(int argc, char **argv)
{
	struct tree trees[MAX_TREES];
	struct bench_ctx ctx = { .adapters = 256, .domains = 85, .budget_s = 10.0 };
	size_t n_trees = 0;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (sscanf(argv[i], "--adapters=%u", &ctx.adapters) == 1 ||
		    sscanf(argv[i], "--domains=%u", &ctx.domains) == 1 ||
		    sscanf(argv[i], "--budget=%lf", &ctx.budget_s) == 1)
			continue;
		if (!eq || argv[i][0] == '-' || n_trees == MAX_TREES) {
			usage(stderr);
			return 2;
		}
		*eq = '\0';
		trees[n_trees++] = (struct tree){ argv[i], eq + 1 };
	}
	if (!n_trees || !ctx.adapters || !ctx.domains || ctx.adapters > 256 || ctx.domains > 256 ||
	    ops[0].warmup + MIN_RUNS > ctx.adapters * ctx.domains) {
		usage(stderr);
		return 2;
	}

	printf("# medians in microseconds per operation (runs after warm-up in brackets)\n");
	printf("%-28s", "operation");
	for (size_t t = 0; t < n_trees; t++)
		printf(" %18s", trees[t].name);
	for (size_t t = 1; t < n_trees; t++) {
		char ratio[64];

		snprintf(ratio, sizeof(ratio), "%s/%s", trees[0].name, trees[t].name);
		printf(" %12s", ratio);
	}
	printf("\n");

	for (size_t k = 0; k < ARRAY_SIZE(ops); k++) {
		static struct tree_runs runs[MAX_TREES];
		double median[MAX_TREES];

		printf("%-28s", ops[k].label);
		fflush(stdout);
		measure(&ctx, trees, n_trees, &ops[k], runs);
		for (size_t t = 0; t < n_trees; t++) {
			char cell[64];

			if (runs[t].err < 0) {
				fprintf(stderr, "\nbench: %s on %s: %s: %s\n", ops[k].label,
					trees[t].name, runs[t].ctx.what, strerror(-runs[t].err));
				status = 1;
				snprintf(cell, sizeof(cell), "failed");
			} else {
				median[t] = median_of(runs[t].samples, runs[t].timed);
				snprintf(cell, sizeof(cell), "%.2f [%u]", median[t], runs[t].timed);
			}
			printf(" %18s", cell);
		}
		for (size_t t = 1; t < n_trees; t++) {
			if (runs[0].err >= 0 && runs[t].err >= 0 && median[t] > 0)
				printf(" %12.2f", median[0] / median[t]);
			else
				printf(" %12s", "-");
		}
		printf("\n");
	}
	return status;
}
