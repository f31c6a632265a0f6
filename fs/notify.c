/* SPDX-License-Identifier: MIT */
#include "fs/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_lowlevel.h>

#include "core/cleanup.h"

struct notifier {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct fuse_session *se;
	struct lookups *held;
	struct tree_inval *queue;
	size_t n, cap;
	bool stop;
};

/*
 * Sends one notification, unless the kernel does not hold the node (or the
 * directory of the name) it is about: then it caches nothing to make stale.
 */
static void send_one(struct fuse_session *se, struct lookups *held, const struct tree_inval *item)
{
	size_t len = strlen(item->name);
	int r;

	if (!lookups_held(held, item->kind == TREE_INVAL_INODE ? item->id : item->parent))
		return;
	switch (item->kind) {
	case TREE_INVAL_ENTRY:
		fuse_lowlevel_notify_inval_entry(se, item->parent, item->name, len);
		break;
	case TREE_INVAL_INODE:
		fuse_lowlevel_notify_inval_inode(se, item->id, 0, 0);
		break;
	case TREE_INVAL_DELETE:
		r = fuse_lowlevel_notify_delete(se, item->parent, item->id, item->name, len);
		/* a directory still in use (a shell's cwd) cannot be deleted: drop the name only */
		if (r < 0 && r != -ENOENT)
			fuse_lowlevel_notify_inval_entry(se, item->parent, item->name, len);
		break;
	}
}

static void *notifier_main(void *arg)
{
	struct notifier *n = arg;

	pthread_setname_np(pthread_self(), "zapfs-notify"); /* for top -H and perf */
	for (;;) {
		_cleanup_free_ struct tree_inval *batch = NULL;
		struct fuse_session *se;
		struct lookups *held;
		size_t count;

		{
			_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&n->lock);

			while (!n->stop && (!n->n || !n->se))
				pthread_cond_wait(&n->wake, &n->lock);
			if (n->stop)
				return NULL;
			batch = TAKE_PTR(n->queue);
			count = n->n;
			n->n = n->cap = 0;
			se = n->se;
			held = n->held;
		}
		for (size_t i = 0; i < count; i++)
			send_one(se, held, &batch[i]);
	}
}

int notifier_new(struct notifier **ret)
{
	struct notifier *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	r = pthread_create(&n->thread, NULL, notifier_main, n);
	if (r) {
		pthread_cond_destroy(&n->wake);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return -r;
	}
	*ret = n;
	return 0;
}

void notifier_attach(struct notifier *n, struct fuse_session *se, struct lookups *held)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&n->lock);

	n->se = se;
	n->held = held;
	pthread_cond_signal(&n->wake);
}

void notifier_push(struct notifier *n, const struct tree_inval *list, size_t count)
{
	_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&n->lock);

	if (n->n + count > n->cap) {
		size_t cap = n->cap ? n->cap : 64;
		struct tree_inval *q;

		while (cap < n->n + count)
			cap *= 2;
		q = realloc(n->queue, cap * sizeof(*q));
		/* out of memory: the entries expire with their timeouts */
		if (!q)
			return;
		n->queue = q;
		n->cap = cap;
	}
	memcpy(n->queue + n->n, list, count * sizeof(*list));
	n->n += count;
	pthread_cond_signal(&n->wake);
}

struct notifier *notifier_free(struct notifier *n)
{
	if (!n)
		return NULL;
	{
		_cleanup_mutex_ pthread_mutex_t *l = mutex_lock(&n->lock);

		n->stop = true;
		pthread_cond_broadcast(&n->wake);
	}
	pthread_join(n->thread, NULL);
	free(n->queue);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
	return NULL;
}
