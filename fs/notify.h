/* SPDX-License-Identifier: MIT */
/*
 * The notifier: a thread that tells the kernel which cached names and nodes
 * a change made stale. libfuse forbids sending these notifications from a
 * request handler that works on the same directory or node (the kernel holds
 * its lock while it waits for the reply), and they must not be sent under
 * the model lock either; so handlers queue them here and return at once.
 */
#pragma once

#include <stddef.h>

#include "core/tree.h"
#include "fs/lookups.h"

struct fuse_session;
struct notifier;

/* Starts the thread. It sends nothing until notifier_attach() names the session. */
int notifier_new(struct notifier **ret);

/* The session to notify, and the nodes its kernel holds; call once it is mounted. */
void notifier_attach(struct notifier *n, struct fuse_session *se, struct lookups *held);

/* Queues a copy of list, in order. Never blocks on the kernel. */
void notifier_push(struct notifier *n, const struct tree_inval *list, size_t count);

/* Stops the thread (dropping what is still queued) and frees n. Accepts NULL; returns NULL. */
struct notifier *notifier_free(struct notifier *n);
