/* SPDX-License-Identifier: MIT */
/*
 * The daemon's memory across restarts and reboots: the state directory
 * (core/persist) and, with --mdevctl, mdevctl's definitions (kmod/mdevctl),
 * tied to the engine. Every message about them goes to stderr and, once the
 * engine runs, to the tree's log.
 */
#pragma once

#include "core/engine.h"

struct persistence;

/*
 * Opens the state directory state_dir and loads it; with mdevctl_dir (may be
 * NULL), mirrors the guests there and imports the vfio_ap definitions found.
 * state_dir NULL: nothing is kept (*ret is NULL, which the functions below
 * accept). Prints why on failure.
 */
int persistence_open(const char *state_dir, const char *mdevctl_dir, struct persistence **ret);

/* The engine's store hook (none for NULL). */
struct engine_store persistence_engine_store(struct persistence *p);

/*
 * Start-up, once the engine has read the kernel: undoes an operation a
 * crash cut short (the journal), restores the saved guests and reservations, brings the kernel back
 * to the saved masks and guests, and writes the state directory (and mdevctl's) to match. Every
 * step and problem is printed and logged.
 */
int persistence_start(struct persistence *p, struct engine *e);

/* Accepts NULL; returns NULL. */
struct persistence *persistence_free(struct persistence *p);
