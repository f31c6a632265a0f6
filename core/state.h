/* SPDX-License-Identifier: MIT */
/*
 * The persistent state of zapfs: what must survive a restart or a reboot.
 *
 * A state directory (default /var/lib/zapfs) holds
 *   guests/<name>.conf   one file per guest: name, UUID, adapters, domains,
 *                        control domains
 *   reservations         one "05.0004 guestname" line per claimed queue
 *   masks                the desired AP bus apmask and aqmask
 * in human-readable text, each starting with a comment and "version 1".
 * Every file is replaced atomically (temp file in the same directory, write,
 * fsync, rename, fsync of the directory), so a crash leaves the old or the
 * new contents, never a torn file. At load, a file that cannot be read or
 * parsed is renamed to "<file>.corrupt-<UTC timestamp>" and reported, and
 * everything else still loads.
 *
 * These structs are plain data, independent of the model; the engine
 * converts. A store is not thread-safe: its user serializes calls.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/idset.h"

#define STATE_GUEST_NAME_MAX 64
#define STATE_UUID_LEN	     36

struct state_guest {
	char name[STATE_GUEST_NAME_MAX + 1];
	char uuid[STATE_UUID_LEN + 1]; /* lowercase */
	struct idset adapters, domains, control_domains;
};

/* A queue claimed for a guest (which need not exist any more). */
struct state_reservation {
	struct apqn apqn;
	char owner[STATE_GUEST_NAME_MAX + 1];
};

/* The AP bus masks zapfs wants: the adapters and domains of the host pool. */
struct state_masks {
	struct idset apmask, aqmask;
};

/* Everything a state directory held. */
struct state {
	struct state_guest *guests; /* sorted by name */
	size_t n_guests;
	struct state_reservation *reservations; /* sorted by APQN */
	size_t n_reservations;
	bool has_masks; /* false when no masks were saved */
	struct state_masks masks;
};

/* Frees what state_store_load() allocated in s and empties it. */
void state_clear(struct state *s);

/* ---- names ---- */

/* Whether name is a valid guest name: [A-Za-z0-9._-]{1,64}, no leading '.'. */
bool state_guest_name_valid(const char *name);

/* Whether s is a UUID: 8-4-4-4-12 hex digits, either case. */
bool state_uuid_valid(const char *s);

/* ---- file formats ---- */

/*
 * Formats a guest file. Returns 0 and a malloc'ed NUL-terminated text in
 * *ret_text (its length in *ret_len, which may be NULL), -EINVAL when the
 * name or UUID is not valid, -ENOMEM.
 */
int state_guest_format(const struct state_guest *g, char **ret_text, size_t *ret_len);

/*
 * Parses a guest file of len bytes. On a bad file returns -EINVAL and, when
 * err is not NULL, writes "line N: what is wrong" into err (err_size bytes).
 */
int state_guest_parse(const char *text, size_t len, struct state_guest *ret, char *err,
		      size_t err_size);

/* Formats the reservations file, as state_guest_format(); n may be 0. */
int state_reservations_format(const struct state_reservation *v, size_t n, char **ret_text,
			      size_t *ret_len);

/*
 * Parses the reservations file into a malloc'ed array (NULL when empty),
 * sorted by APQN. A queue listed twice is -EINVAL. Errors as
 * state_guest_parse().
 */
int state_reservations_parse(const char *text, size_t len, struct state_reservation **ret_v,
			     size_t *ret_n, char *err, size_t err_size);

/* Formats the masks file, as state_guest_format(). */
int state_masks_format(const struct state_masks *m, char **ret_text, size_t *ret_len);

/* Parses the masks file; both masks must be present. Errors as state_guest_parse(). */
int state_masks_parse(const char *text, size_t len, struct state_masks *ret, char *err,
		      size_t err_size);

/* ---- atomic files ---- */

/* The steps of an atomic write, in order, at which a write hook is called. */
enum state_write_step {
	STATE_WRITE_TEMP_CREATED, /* the temp file exists, empty */
	STATE_WRITE_PARTIAL,	  /* about half the data is written */
	STATE_WRITE_WRITTEN,	  /* all the data is written, not yet synced */
	STATE_WRITE_SYNCED,	  /* the temp file is fsynced */
	STATE_WRITE_RENAMED,	  /* the temp file replaced the target; directory not yet synced */
};

/*
 * Called at each step of an atomic write of name (the file being replaced,
 * relative to its directory); a negative return aborts the write with that
 * error (before the rename, the temp file is removed). Tests use it to inject
 * failures, or to _exit() and so simulate a crash.
 */
typedef int (*state_write_hook_fn)(enum state_write_step step, const char *name, void *userdata);

/*
 * Replaces the file name in the directory dirfd with data, atomically:
 * temp file ".<name>.tmp-<pid>-<n>" in the same directory, write, fsync,
 * rename over name, fsync of the directory. hook may be NULL.
 */
int state_write_atomic(int dirfd, const char *name, const void *data, size_t len,
		       state_write_hook_fn hook, void *userdata);

/* ---- the state directory ---- */

struct state_store;

/*
 * Opens the state directory path, creating it (mode 0700) and its guests/
 * subdirectory when missing, and locks it against a second zapfs: -EBUSY
 * when another process holds it.
 */
int state_store_open(const char *path, struct state_store **ret);

/* Closes a store (NULL is fine). Returns NULL. */
struct state_store *state_store_free(struct state_store *store);

/* Sets the hook every later write of this store calls; NULL removes it. */
void state_store_set_write_hook(struct state_store *store, state_write_hook_fn hook,
				void *userdata);

/* A file that could not be loaded as it was. */
struct state_problem {
	const char *file;     /* relative to the state directory, "guests/web1.conf" */
	int error;	      /* -errno: -EINVAL for a bad file, or why it could not be read */
	const char *message;  /* plain words, e.g. "line 4: unknown key 'adaptors'" */
	const char *moved_to; /* where it was set aside, relative; NULL when it stays */
};

typedef void (*state_problem_fn)(const struct state_problem *p, void *userdata);

/*
 * Loads the whole state directory into ret. Every valid file loads; a
 * corrupt or unreadable one is set aside as "<file>.corrupt-<timestamp>" and
 * reported through on_problem (may be NULL). Two guests with one UUID are
 * both loaded and reported (the file stays). Stray temp files of interrupted
 * writes are removed. Returns the number of problems, or -errno when the
 * directory itself cannot be read (ret untouched).
 */
int state_store_load(struct state_store *store, struct state *ret, state_problem_fn on_problem,
		     void *userdata);

/* Writes guests/<name>.conf for g, atomically. -EINVAL for an invalid name or UUID. */
int state_store_save_guest(struct state_store *store, const struct state_guest *g);

/* Removes guests/<name>.conf. -ENOENT when there is none. */
int state_store_remove_guest(struct state_store *store, const char *name);

/* Replaces the reservations file with the n reservations of v. */
int state_store_save_reservations(struct state_store *store, const struct state_reservation *v,
				  size_t n);

/* Replaces the masks file. */
int state_store_save_masks(struct state_store *store, const struct state_masks *m);
