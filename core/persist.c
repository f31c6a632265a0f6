/* SPDX-License-Identifier: MIT */
#include "core/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/journal.h"
#include "core/render.h"
#include "core/strbuf.h"

#define JOURNAL_FILE	 "pending"
#define JOURNAL_SIZE_MAX (1024 * 1024)

/* One file as the directory (or the mirror) holds it: its key and its text. */
struct written {
	char key[STATE_GUEST_NAME_MAX + 1]; /* guest name, or UUID for the mirror */
	char *text;
};

/* What is on disk, so that a sync writes only what differs. */
struct written_set {
	struct written *v;
	size_t n;
};

struct persist {
	struct state_store *store;
	int dirfd;	     /* the state directory */
	int journal_fd;	     /* its journal, kept open: empty when no change is under way */
	bool journal_dirty;  /* it may hold a record */
	struct kop *pending; /* the journal a crash left, to replay */
	size_t n_pending;
	persist_report_fn report;
	void *report_ctx;
	struct model *saved;
	bool has_masks;
	struct state_masks masks;
	bool armed;
	bool has_mirror;
	struct persist_mirror mirror;
	struct written_set guest_files;	 /* by guest name */
	struct written_set mirror_files; /* by UUID */
	char *reservations_text;	 /* NULL: not known to be on disk */
	char *masks_text;
};

/* ---- the cache of written files ---- */

static struct written *written_find(struct written_set *set, const char *key)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].key, key) == 0)
			return &set->v[i];
	return NULL;
}

/* Records that key's file now holds text (a copy is kept). 0 or -ENOMEM. */
static int written_set_text(struct written_set *set, const char *key, const char *text)
{
	struct written *w = written_find(set, key);
	char *copy = strdup(text);

	if (!copy)
		return -ENOMEM;
	if (!w) {
		struct written *v = realloc(set->v, (set->n + 1) * sizeof(*v));

		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		set->v = v;
		w = &v[set->n++];
		snprintf(w->key, sizeof(w->key), "%s", key);
		w->text = NULL;
	}
	free(w->text);
	w->text = copy;
	return 0;
}

static void written_drop(struct written_set *set, size_t i)
{
	free(set->v[i].text);
	set->v[i] = set->v[--set->n];
}

static void written_clear(struct written_set *set)
{
	while (set->n)
		written_drop(set, set->n - 1);
	free(set->v);
	set->v = NULL;
}

/* Replaces *cache with a copy of text. 0 or -ENOMEM. */
static int cache_text(char **cache, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return -ENOMEM;
	free(*cache);
	*cache = copy;
	return 0;
}

/* ---- conversions ---- */

bool persist_keeps_guest(const struct guest *g)
{
	return !(g->adopted && strcmp(g->name, g->uuid) == 0);
}

static void state_guest_of(const struct guest *g, struct state_guest *ret)
{
	*ret = (struct state_guest){ 0 };
	snprintf(ret->name, sizeof(ret->name), "%s", g->name);
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", g->uuid);
	ret->adapters = g->adapters;
	ret->domains = g->domains;
	ret->control_domains = g->control_domains;
}

static struct guest guest_of_state(const struct state_guest *s)
{
	struct guest g = { .state = GUEST_MISSING };

	snprintf(g.name, sizeof(g.name), "%s", s->name);
	snprintf(g.uuid, sizeof(g.uuid), "%s", s->uuid);
	g.adapters = s->adapters;
	g.domains = s->domains;
	g.control_domains = s->control_domains;
	return g;
}

__attribute__((format(printf, 3, 4))) static void report(const struct persist *p, int err,
							 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!p->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->report(p->report_ctx, err, msg);
}

static void report_problem(const struct state_problem *sp, void *userdata)
{
	const struct persist *p = userdata;

	if (sp->moved_to)
		report(p, sp->error, "state: %s: %s; set aside as %s", sp->file, sp->message,
		       sp->moved_to);
	else
		report(p, sp->error, "state: %s: %s", sp->file, sp->message);
}

static bool owns_reservations(const struct state *s, const char *name)
{
	for (size_t i = 0; i < s->n_reservations; i++)
		if (strcmp(s->reservations[i].owner, name) == 0)
			return true;
	return false;
}

/*
 * Adds saved guest sg to m. Of two guests with one UUID (a rename cut short
 * by a crash leaves both files), the one the reservations name wins, else
 * the first by name; the other is reported and its file is removed at the
 * first sync.
 */
static int add_saved_guest(struct persist *p, const struct state *s, const struct state_guest *sg)
{
	struct guest g = guest_of_state(sg);
	const struct guest *other = model_guest_by_uuid(p->saved, g.uuid);
	char dropped[GUEST_NAME_MAX + 1];
	int err;

	if (!other)
		return model_guest_add(p->saved, &g);
	snprintf(dropped, sizeof(dropped), "%s", g.name);
	if (owns_reservations(s, g.name) && !owns_reservations(s, other->name)) {
		snprintf(dropped, sizeof(dropped), "%s", other->name);
		err = model_guest_remove(p->saved, dropped);
		if (err >= 0)
			err = model_guest_add(p->saved, &g);
		if (err < 0)
			return err;
	}
	report(p, -EEXIST, "state: guest %s has the UUID %s of guest %s and is dropped", dropped,
	       g.uuid, strcmp(dropped, g.name) == 0 ? other->name : g.name);
	return 0;
}

/* Every queue of a saved guest's matrix is reserved for it (assigning reserves). */
static int reserve_matrices(struct model *m)
{
	GUEST_FOREACH (g, m) {
		struct apqn_set held;
		struct apqn q;

		guest_matrix_apqns(g, &held);
		APQN_SET_FOREACH (q, &held) {
			int err;

			if (model_reservation(m, q))
				continue;
			err = model_reserve(m, q, g->name);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* The saved model and the cache of what the directory holds, from s. */
static int load_saved(struct persist *p, const struct state *s)
{
	_cleanup_free_ char *res_text = NULL;
	int err;

	for (size_t i = 0; i < s->n_guests; i++) {
		_cleanup_free_ char *text = NULL;

		err = add_saved_guest(p, s, &s->guests[i]);
		if (err >= 0)
			err = state_guest_format(&s->guests[i], &text, NULL);
		if (err >= 0)
			err = written_set_text(&p->guest_files, s->guests[i].name, text);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < s->n_reservations; i++) {
		err = model_reserve(p->saved, s->reservations[i].apqn, s->reservations[i].owner);
		if (err < 0)
			return err;
	}
	err = reserve_matrices(p->saved);
	if (err < 0)
		return err;
	err = state_reservations_format(s->reservations, s->n_reservations, &res_text, NULL);
	if (err >= 0)
		p->reservations_text = TAKE_PTR(res_text);
	p->has_masks = s->has_masks;
	if (err >= 0 && s->has_masks) {
		p->masks = s->masks;
		err = state_masks_format(&s->masks, &p->masks_text, NULL);
	}
	return err;
}

/* ---- the journal ---- */

/*
 * Keeps of a crash's journal what a replay should run: re-creating an mdev
 * is left to the reconciliation, which re-creates exactly the saved guests
 * (so a removal that was saved stands), and so are the writes to that mdev
 * that follow.
 */
static size_t journal_filter(struct kop *ops, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		bool recreated = false;

		for (size_t k = 0; k <= i && !recreated; k++)
			recreated =
			    ops[k].type == KOP_MDEV_CREATE && ops[i].type != KOP_APMASK_EDIT &&
			    ops[i].type != KOP_AQMASK_EDIT && strcmp(ops[k].uuid, ops[i].uuid) == 0;
		if (!recreated)
			ops[kept++] = ops[i];
	}
	return kept;
}

static int load_journal(struct persist *p)
{
	_cleanup_close_ int fd = openat(p->dirfd, JOURNAL_FILE, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	char err[128];
	ssize_t len;
	int r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	text = malloc(JOURNAL_SIZE_MAX + 1);
	if (!text)
		return -ENOMEM;
	len = read(fd, text, JOURNAL_SIZE_MAX + 1);
	if (len < 0 || len > JOURNAL_SIZE_MAX) {
		report(p, len < 0 ? -errno : -EFBIG,
		       "state: " JOURNAL_FILE ": unreadable; ignored");
		return 0;
	}
	text[len] = '\0';
	r = journal_parse(text, &p->pending, &p->n_pending, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		report(p, r, "state: " JOURNAL_FILE ": %s; ignored", err);
	else
		p->n_pending = journal_filter(p->pending, p->n_pending);
	return 0;
}

bool persist_pending(const struct persist *p, const struct kop **ret_ops, size_t *ret_n)
{
	struct stat st;

	*ret_ops = p->pending;
	*ret_n = p->n_pending;
	return fstat(p->journal_fd, &st) == 0 && st.st_size > 0;
}

/*
 * The journal guards against the daemon dying while the kernel lives on. It
 * is one file, kept open, holding the record of the change under way or
 * nothing: a change costs a write and two truncations, no directory update
 * and no fsync. A kill cannot tear the record (one small write), and a
 * record cut short would only revert to the state the kernel is still in.
 * A journal that outlives a power cut meets a fresh kernel: its writes to
 * mdevs find none, and the reconciliation that follows restores the saved
 * masks over its mask writes.
 */
static int journal_clear(struct persist *p)
{
	if (ftruncate(p->journal_fd, 0) < 0)
		return -errno;
	p->journal_dirty = false;
	return 0;
}

int persist_pending_done(struct persist *p)
{
	free(p->pending);
	p->pending = NULL;
	p->n_pending = 0;
	return journal_clear(p);
}

static int persist_begin(void *ctx, const struct kop *undo, size_t n)
{
	struct persist *p = ctx;
	_cleanup_free_ char *text = NULL;
	size_t len, done = 0;
	int err = journal_format(undo, n, &text);

	if (err < 0)
		return err;
	err = p->journal_dirty ? journal_clear(p) : 0;
	if (err < 0)
		return err;
	p->journal_dirty = true;
	len = strlen(text);
	while (done < len) {
		ssize_t w = pwrite(p->journal_fd, text + done, len - done, (off_t) done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t) w;
	}
	return 0;
}

static void persist_end(void *ctx)
{
	struct persist *p = ctx;

	/* a journal left behind only replays writes that revert nothing: no harm */
	journal_clear(p);
}

int persist_open(const char *dir, persist_report_fn report_fn, void *ctx, struct persist **ret)
{
	_cleanup_free_ struct persist *p = NULL;
	struct state s = { 0 };
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->report = report_fn;
	p->report_ctx = ctx;
	p->dirfd = -1;
	p->journal_fd = -1;
	err = state_store_open(dir, &p->store);
	if (err < 0)
		return err;
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = p->dirfd < 0 ? -errno : model_new(&p->saved);
	if (err >= 0) {
		err = state_store_load(p->store, &s, report_problem, p);
		if (err >= 0)
			err = load_saved(p, &s);
		state_clear(&s);
	}
	if (err >= 0)
		err = load_journal(p);
	if (err >= 0) {
		p->journal_fd =
		    openat(p->dirfd, JOURNAL_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (p->journal_fd < 0)
			err = -errno;
		/* what a crash left stays until persist_pending_done() */
		p->journal_dirty = true;
	}
	if (err < 0) {
		persist_free(TAKE_PTR(p));
		return err;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

struct persist *persist_free(struct persist *p)
{
	if (!p)
		return NULL;
	state_store_free(p->store);
	if (p->dirfd >= 0)
		close(p->dirfd);
	if (p->journal_fd >= 0)
		close(p->journal_fd);
	free(p->pending);
	model_free(p->saved);
	written_clear(&p->guest_files);
	written_clear(&p->mirror_files);
	free(p->reservations_text);
	free(p->masks_text);
	free(p);
	return NULL;
}

const struct model *persist_saved(const struct persist *p)
{
	return p->saved;
}

bool persist_saved_masks(const struct persist *p, struct idset *ret_apmask,
			 struct idset *ret_aqmask)
{
	if (!p->has_masks)
		return false;
	*ret_apmask = p->masks.apmask;
	*ret_aqmask = p->masks.aqmask;
	return true;
}

static int mirror_text(const struct guest *g, struct strbuf *out)
{
	strbuf_reset(out);
	return render_guest_mdevctl_json(g, out);
}

int persist_import(struct persist *p, const struct guest *g)
{
	struct guest copy = *g;
	int err;

	if (model_guest_by_uuid(p->saved, g->uuid))
		return 0;
	copy.state = GUEST_MISSING;
	copy.adopted = false;
	err = model_guest_add(p->saved, &copy);
	if (err < 0)
		return err;
	err = reserve_matrices(p->saved);
	if (err >= 0 && p->has_mirror) {
		struct strbuf text = STRBUF_INIT;

		err = mirror_text(&copy, &text);
		if (err >= 0)
			err = written_set_text(&p->mirror_files, copy.uuid, text.data);
		strbuf_done(&text);
	}
	return err < 0 ? err : 1;
}

void persist_set_mirror(struct persist *p, const struct persist_mirror *mirror)
{
	p->has_mirror = mirror != NULL;
	if (mirror)
		p->mirror = *mirror;
	else
		written_clear(&p->mirror_files);
}

void persist_set_write_hook(struct persist *p, state_write_hook_fn hook, void *userdata)
{
	state_store_set_write_hook(p->store, hook, userdata);
}

/* ---- syncing ---- */

static void keep_first_error(int *first, int err)
{
	if (err < 0 && *first == 0)
		*first = err;
}

static int sync_guest_files(struct persist *p, const struct model *m)
{
	int first = 0;

	GUEST_FOREACH (g, m) {
		_cleanup_free_ char *text = NULL;
		struct state_guest sg;
		struct written *w;
		int err;

		if (!persist_keeps_guest(g))
			continue;
		state_guest_of(g, &sg);
		err = state_guest_format(&sg, &text, NULL);
		if (err >= 0) {
			w = written_find(&p->guest_files, g->name);
			if (w && strcmp(w->text, text) == 0)
				continue;
			err = state_store_save_guest(p->store, &sg);
		}
		if (err >= 0)
			err = written_set_text(&p->guest_files, g->name, text);
		keep_first_error(&first, err);
	}
	return first;
}

static bool kept_by_name(const struct model *m, const char *name)
{
	const struct guest *g = model_guest_by_name(m, name);

	return g && persist_keeps_guest(g);
}

static int remove_gone_guest_files(struct persist *p, const struct model *m)
{
	int first = 0;

	for (size_t i = p->guest_files.n; i-- > 0;) {
		int err;

		if (kept_by_name(m, p->guest_files.v[i].key))
			continue;
		err = state_store_remove_guest(p->store, p->guest_files.v[i].key);
		if (err >= 0 || err == -ENOENT)
			written_drop(&p->guest_files, i);
		else
			keep_first_error(&first, err);
	}
	return first;
}

static int sync_reservations(struct persist *p, const struct model *m)
{
	const struct apqn_set *reserved = model_reserved(m);
	_cleanup_free_ struct state_reservation *v = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	struct apqn q;
	int err;

	v = calloc(apqn_set_count(reserved) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	APQN_SET_FOREACH (q, reserved) {
		v[n].apqn = q;
		snprintf(v[n].owner, sizeof(v[n].owner), "%s", model_reservation(m, q));
		n++;
	}
	err = state_reservations_format(v, n, &text, NULL);
	if (err < 0)
		return err;
	if (p->reservations_text && strcmp(p->reservations_text, text) == 0)
		return 0;
	err = state_store_save_reservations(p->store, v, n);
	return err < 0 ? err : cache_text(&p->reservations_text, text);
}

static int sync_masks(struct persist *p, const struct model *m)
{
	const struct host *h = model_host(m);
	struct state_masks masks = { .apmask = h->apmask, .aqmask = h->aqmask };
	_cleanup_free_ char *text = NULL;
	int err;

	err = state_masks_format(&masks, &text, NULL);
	if (err < 0)
		return err;
	if (p->masks_text && strcmp(p->masks_text, text) == 0)
		return 0;
	err = state_store_save_masks(p->store, &masks);
	return err < 0 ? err : cache_text(&p->masks_text, text);
}

static bool kept_by_uuid(const struct model *m, const char *uuid)
{
	const struct guest *g = model_guest_by_uuid(m, uuid);

	return g && persist_keeps_guest(g);
}

static int sync_mirror(struct persist *p, const struct model *m)
{
	struct strbuf text = STRBUF_INIT;
	int first = 0;

	GUEST_FOREACH (g, m) {
		struct written *w;
		int err;

		if (!persist_keeps_guest(g))
			continue;
		err = mirror_text(g, &text);
		if (err >= 0) {
			w = written_find(&p->mirror_files, g->uuid);
			if (w && strcmp(w->text, text.data) == 0)
				continue;
			err = p->mirror.save(p->mirror.ctx, g->uuid, text.data, text.len);
		}
		if (err >= 0)
			err = written_set_text(&p->mirror_files, g->uuid, text.data);
		keep_first_error(&first, err);
	}
	strbuf_done(&text);
	for (size_t i = p->mirror_files.n; i-- > 0;) {
		int err;

		if (kept_by_uuid(m, p->mirror_files.v[i].key))
			continue;
		err = p->mirror.remove(p->mirror.ctx, p->mirror_files.v[i].key);
		if (err >= 0)
			written_drop(&p->mirror_files, i);
		keep_first_error(&first, err);
	}
	return first;
}

int persist_sync(struct persist *p, const struct model *m)
{
	int first = 0;

	p->armed = true;
	/* this order lets a load after a crash between two writes put the state together */
	keep_first_error(&first, sync_guest_files(p, m));
	keep_first_error(&first, sync_reservations(p, m));
	keep_first_error(&first, remove_gone_guest_files(p, m));
	keep_first_error(&first, sync_masks(p, m));
	if (p->has_mirror)
		keep_first_error(&first, sync_mirror(p, m));
	return first;
}

static int persist_commit(void *ctx, const struct model *m, const struct model_diff *diff)
{
	struct persist *p = ctx;

	(void) diff;
	/* before the first sync the kernel may be freshly booted: saving it would lose the state */
	if (!p->armed)
		return 0;
	return persist_sync(p, m);
}

struct engine_store persist_engine_store(struct persist *p)
{
	return (struct engine_store){
		.commit = persist_commit, .begin = persist_begin, .end = persist_end, .ctx = p
	};
}
