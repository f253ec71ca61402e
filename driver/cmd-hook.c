/*
 * git-merge-crdtmem hook NAME [ARGS]: what the installed git hooks run.
 *
 *   pre-commit    validate every staged memory file, stamp it against the
 *                 versions known (HEAD's, and the other side's during a
 *                 merge, cherry-pick or revert), block credentials, and
 *                 regenerate and stage unified-memory.json as the join of
 *                 its previous content and every host file. Only the index
 *                 is rewritten (cat-file, hash-object -w, update-index), and
 *                 a work-tree copy only where it held exactly what was staged.
 *   post-commit   after "git commit PATH", point the real index at the
 *                 stamped blob the commit holds (git stages PATH unstamped).
 *   post-merge, post-rewrite
 *                 keep unified-memory.json equal to the join of the host
 *                 files, committing the correction when one is needed so the
 *                 work tree stays clean; nothing while a rebase is running.
 *
 * Each does nothing in a repository whose memory files do not have the
 * merge=crdtmem attribute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "gitops.h"
#include "memrepo.h"
#include "restamp.h"
#include "secrets.h"
#include "writer.h"

static const char hook_usage[] =
	"usage: git-merge-crdtmem hook (pre-commit | post-commit | post-merge | "
	"post-rewrite) [ARGS]\n";

static const char hook_help[] =
	"\n"
	"Run by the git hooks that 'git-merge-crdtmem install' puts in place; not\n"
	"usually typed by hand.\n"
	"\n"
	"  pre-commit    stamps the staged memory-*.json files (new and changed\n"
	"                entries get _crdt_metadata, removed ones become tombstones),\n"
	"                refuses invalid files and entries that look like\n"
	"                credentials, and stages unified-memory.json as the join of\n"
	"                its previous content and every host file\n"
	"  post-commit   keeps the index in step after 'git commit PATH'\n"
	"  post-merge, post-rewrite\n"
	"                commit a corrected unified-memory.json when a merge, pull\n"
	"                or rebase left it different from the join of the host files\n"
	"\n"
	"To commit an entry that looks like a credential on purpose:\n"
	"  CRDTMEM_ALLOW_SECRETS=1 git commit ...   (or git config crdtmem.allowSecrets "
	"true)\n"
	"The hooks do nothing while CRDTMEM_HOOK_COMMIT is set (their own commits).\n";

/* The other side of an operation in progress, whose versions are known too. */
static const char *const other_heads[] = {"MERGE_HEAD", "CHERRY_PICK_HEAD",
					  "REVERT_HEAD"};
#define NR_OTHER_HEADS 3

/* Bytes borrowed from a batch of blobs. */
struct span {
	const char *p;
	size_t n;
};

/* Everything one hook run reads, released at once. */
struct scene {
	struct tracked_list index, head;
	int has_other[NR_OTHER_HEADS];
	/* Blobs read in one batch, by name ("HEAD:path", an id). */
	struct blob *blobs;
	char **names;
	size_t nblobs, fetched;
	struct blob_store store; /* the blobs' bytes, which files borrow */
	/* Parsed files, kept because entries borrow their bytes. */
	struct memfile **files;		/* each allocated once: sets point into them */
	const struct blob **file_blobs; /* the blob each was parsed from */
	size_t nfiles;
};

static void scene_release(struct scene *s)
{
	tracked_list_release(&s->index);
	tracked_list_release(&s->head);
	for (size_t i = 0; i < s->nblobs; i++)
		free(s->names[i]);
	free(s->blobs);
	free(s->names);
	for (size_t i = 0; i < s->nfiles; i++) {
		memfile_release(s->files[i]);
		free(s->files[i]);
	}
	free(s->files);
	free(s->file_blobs);
	blob_store_release(&s->store);
}

/* Ask for the blob name (read by the next fetch). */
static void want(struct scene *s, const char *name)
{
	for (size_t i = 0; i < s->nblobs; i++)
		if (!strcmp(s->names[i], name))
			return;
	s->names = xrealloc(s->names, (s->nblobs + 1) * sizeof(*s->names));
	s->blobs = xrealloc(s->blobs, (s->nblobs + 1) * sizeof(*s->blobs));
	s->names[s->nblobs] = xstrdup(name);
	s->blobs[s->nblobs].name = s->names[s->nblobs];
	s->nblobs++;
}

static void wantf(struct scene *s, const char *prefix, const char *path)
{
	struct buf name = BUF_INIT;

	buf_addf(&name, "%s:%s", prefix, path);
	want(s, name.buf);
	buf_release(&name);
}

/* Read every blob asked for since the last fetch, with one git call. */
static int fetch(struct scene *s)
{
	int ret;

	ret = memrepo_read_blobs(NULL, s->blobs + s->fetched, s->nblobs - s->fetched,
				 &s->store);
	if (!ret)
		s->fetched = s->nblobs;
	return ret;
}

/* The fetched blob of that name, or NULL when there is none. */
static const struct blob *blob_of(const struct scene *s, const char *prefix,
				  const char *path)
{
	struct buf name = BUF_INIT;
	const struct blob *b = NULL;

	if (prefix)
		buf_addf(&name, "%s:%s", prefix, path);
	else
		buf_addstr(&name, path);
	for (size_t i = 0; i < s->fetched && !b; i++)
		if (!strcmp(s->names[i], name.buf) && s->blobs[i].found)
			b = &s->blobs[i];
	buf_release(&name);
	return b;
}

/* HEAD's blob of path (fetched), or NULL. */
static const struct blob *head_blob(const struct scene *s, const char *path)
{
	const struct tracked *t = tracked_find(&s->head, path);

	return t ? blob_of(s, NULL, t->oid) : NULL;
}

/* Ask for HEAD's blob of path, when HEAD has one. */
static void want_head(struct scene *s, const char *path)
{
	const struct tracked *t = tracked_find(&s->head, path);

	if (t)
		want(s, t->oid);
}

/*
 * Parse a fetched blob (NULL: absent) of path. Returns the parsed file
 * (owned by the scene), or NULL when absent or invalid; an invalid blob is
 * reported as "'PATH' (WHAT): line L, column C: ..." and counted in *bad
 * when bad is not NULL, else only warned about. bytes, when not NULL, gets
 * the blob's bytes.
 */
static struct memfile *load_with_base(struct scene *s, const struct blob *b,
				      const char *path, const char *what, int *bad,
				      struct span *bytes, const struct memfile *base)
{
	struct buf err = BUF_INIT;
	struct memfile *mf;

	if (!b)
		return NULL;
	/* One blob is often two versions (staged and HEAD): parse it once. */
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->file_blobs[i] == b || !strcmp(s->file_blobs[i]->oid, b->oid)) {
			if (bytes) {
				bytes->p = b->data;
				bytes->n = b->len;
			}
			return s->files[i];
		}
	mf = xmalloc(sizeof(*mf));
	*mf = (struct memfile)MEMFILE_INIT;
	if (memfile_parse_borrowed_with_base(mf, b->data, b->len, base, &err)) {
		if (bad) {
			error("%s (%s): %s", qpath(path), what, err.buf);
			(*bad)++;
		} else {
			warning("%s (%s) is not a valid memory file, left out: %s",
				qpath(path), what, err.buf);
		}
		memfile_release(mf);
		free(mf);
		buf_release(&err);
		return NULL;
	}
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	s->file_blobs = xrealloc(s->file_blobs, (s->nfiles + 1) * sizeof(*s->file_blobs));
	s->file_blobs[s->nfiles] = b;
	s->files[s->nfiles++] = mf;
	if (bytes) {
		bytes->p = b->data;
		bytes->n = b->len;
	}
	buf_release(&err);
	return mf;
}

static struct memfile *load(struct scene *s, const struct blob *b, const char *path,
			    const char *what, int *bad, struct span *bytes)
{
	return load_with_base(s, b, path, what, bad, bytes, NULL);
}

/* Blobs parsed side by side before the hook's work needs them. */
struct preload {
	const struct blob **blobs;
	struct memfile **files; /* NULL where the blob is not valid */
	size_t n;
	atomic_size_t next;
};

static void *preload_worker(void *data)
{
	struct preload *p = data;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		struct memfile *mf = xmalloc(sizeof(*mf));
		struct buf err = BUF_INIT;
		*mf = (struct memfile)MEMFILE_INIT;
		if (memfile_parse_borrowed(mf, p->blobs[i]->data, p->blobs[i]->len,
					   &err)) {
			memfile_release(mf);
			free(mf);
			mf = NULL;
		}
		buf_release(&err);
		p->files[i] = mf;
	}
	return NULL;
}

/*
 * Parse the blobs on two threads and keep the valid ones for load(),
 * which reports the invalid ones when it reaches them.
 */
static void preload(struct scene *s, const struct blob **blobs, size_t n)
{
	struct preload p = {blobs, xcalloc(n + 1, sizeof(*p.files)), n, 0};
	pthread_t thread;
	int threaded = n > 1 && !pthread_create(&thread, NULL, preload_worker, &p);

	preload_worker(&p);
	if (threaded)
		pthread_join(thread, NULL);
	for (size_t i = 0; i < n; i++) {
		if (!p.files[i])
			continue;
		s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
		s->file_blobs =
			xrealloc(s->file_blobs, (s->nfiles + 1) * sizeof(*s->file_blobs));
		s->file_blobs[s->nfiles] = blobs[i];
		s->files[s->nfiles++] = p.files[i];
	}
	free(p.files);
}

static int in_dir(const char *path, const char *dir)
{
	char *d = memrepo_dirname(path);
	int same = !strcmp(d, dir);

	free(d);
	return same;
}

/* The unified file's path in dir. Caller frees. */
static char *unified_path(const char *dir)
{
	struct buf p = BUF_INIT;

	if (*dir)
		buf_addf(&p, "%s/", dir);
	buf_addstr(&p, UNIFIED_NAME);
	return buf_detach(&p, NULL);
}

/* crdtmem.* settings, read with one git call. */
struct settings {
	struct buf host;
	int allow_secrets;
};

/* Start reading the crdtmem.* settings with one git call. */
static void settings_start(struct child *c)
{
	child_git(c, "config", "-z", "--get-regexp", "^crdtmem\\.", NULL);
	c->capture_out = c->capture_err = 1;
	child_start(c); /* a failure is reported by child_finish */
}

static int settings_finish(struct child *c, struct settings *st)
{
	const char *env = getenv("CRDTMEM_ALLOW_SECRETS");
	/* Exit 1: no crdtmem.* setting at all. */
	int status = child_finish(c);
	const struct buf *out = &c->out;

	buf_init(&st->host, 0);
	st->allow_secrets = env && *env && strcmp(env, "0");
	if (status < 0)
		return -1;
	/* "name\nvalue\0" records */
	for (const char *p = out->buf; status == 0 && p < out->buf + out->len;
	     p += strlen(p) + 1) {
		const char *nl = strchr(p, '\n');
		const char *value = nl ? nl + 1 : "true";
		size_t name_len = nl ? (size_t)(nl - p) : strlen(p);
		if (name_len == 12 && !strncmp(p, "crdtmem.host", 12)) {
			buf_reset(&st->host);
			buf_addstr(&st->host, value);
		} else if (name_len == 20 && !strncmp(p, "crdtmem.allowsecrets", 20)) {
			st->allow_secrets |= !strcmp(value, "true") ||
					     !strcmp(value, "yes") ||
					     !strcmp(value, "on") || !strcmp(value, "1");
		}
	}
	return 0;
}

/* Report changed entries that look like credentials. Returns how many. */
static size_t find_secrets(const char *path, const struct entry_set *changed)
{
	size_t found = 0;

	for (size_t i = 0; i < changed->nr; i++) {
		const char *kind =
			secret_kind(changed->v[i]->text, changed->v[i]->text_len);
		if (kind) {
			error("%s: entry %s holds what looks like %s", qpath(path),
			      changed->v[i]->key, kind);
			found++;
		}
	}
	return found;
}

static int same_bytes(const struct span *a, const struct buf *b)
{
	return a->n == b->len && !memcmp(a->p, b->buf, b->len);
}

/* A new blob for a path, written once every check has passed. */
struct plan {
	char *path;
	char mode[8];
	struct span old; /* the staged bytes it replaces (borrowed) */
	int was_staged;	 /* the path had an index entry */
	struct buf new;
};

struct plans {
	struct plan *v;
	size_t nr;
};

static void plans_release(struct plans *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free(p->v[i].path);
		buf_release(&p->v[i].new);
	}
	free(p->v);
}

/* Plan path's new bytes (taken), unless they are what is staged. */
static void add_plan_bytes(struct plans *p, const char *path, const char *mode,
			   const struct span *old, int was_staged, struct buf *new)
{
	struct plan *pl;

	if (was_staged && same_bytes(old, new)) {
		buf_release(new);
		return;
	}
	p->v = xrealloc(p->v, (p->nr + 1) * sizeof(*p->v));
	pl = &p->v[p->nr++];
	pl->path = xstrdup(path);
	snprintf(pl->mode, sizeof(pl->mode), "%s", mode ? mode : "100644");
	pl->old = *old;
	pl->was_staged = was_staged;
	pl->new = *new;
	buf_init(new, 0);
}

/* The same for the canonical file of set in fmt. */
static void add_plan(struct plans *p, const char *path, const char *mode,
		     const struct span *old, int was_staged, const struct entry_set *set,
		     enum memfile_format fmt)
{
	struct buf new = BUF_INIT;

	memfile_serialize(set, fmt, &new);
	add_plan_bytes(p, path, mode, old, was_staged, &new);
}

/* Stage every plan, and update the work tree where it held what was staged. */
/* The work-tree copies of a set of plans, written while git stores the blobs. */
struct work_copies {
	const struct plans *plans;
	struct atomic_pending *pending; /* tmp NULL: not replaced */
	int failed;
};

/*
 * Write the new bytes next to each file that held exactly what was staged
 * (or is new), to replace it once the blobs are staged; a file with other
 * changes is left alone.
 */
static void prepare_copies(void *data)
{
	struct work_copies *w = data;

	for (size_t i = 0; i < w->plans->nr; i++) {
		const struct plan *pl = &w->plans->v[i];
		int exists;

		if (file_holds(pl->path, pl->old.p, pl->old.n, &exists) ||
		    (!exists && !pl->was_staged)) {
			if (atomic_prepare_bytes(&w->pending[i], pl->path, pl->new.buf,
						 pl->new.len, ATOMIC_FSYNC))
				w->failed = 1;
		} else {
			warning("%s has changes that are not staged; they were left "
				"as they are (the commit holds the stamped staged "
				"version)",
				qpath(pl->path));
		}
	}
}

/* Stage every plan, and update the work tree where it held what was staged. */
static int carry_out(const struct plans *p)
{
	struct stage_item *items = xcalloc(p->nr + 1, sizeof(*items));
	struct work_copies w = {p, xcalloc(p->nr + 1, sizeof(*w.pending)), 0};
	int ret = -1;

	for (size_t i = 0; i < p->nr; i++) {
		items[i].path = p->v[i].path;
		items[i].mode = p->v[i].mode;
		items[i].data = p->v[i].new.buf;
		items[i].len = p->v[i].new.len;
	}
	if (memrepo_stage_all(NULL, items, p->nr, prepare_copies, &w))
		goto out;
	ret = w.failed ? -1 : 0;
	for (size_t i = 0; i < p->nr; i++)
		if (w.pending[i].tmp && atomic_commit(&w.pending[i]))
			ret = -1;
out:
	for (size_t i = 0; i < p->nr; i++)
		if (w.pending[i].tmp)
			atomic_abort(&w.pending[i]);
	free(w.pending);
	free(items);
	return ret;
}

/* out = out joined with set. */
static void join_into(struct entry_set *out, const struct entry_set *set)
{
	struct entry_set next = ENTRY_SET_INIT;

	crdt_join_sets(out, set, &next);
	entry_set_release(out);
	*out = next;
}

/* The folders that hold governed files of list (stage 0). Caller frees. */
static char **memory_dirs(const struct tracked_list *l, size_t *n)
{
	char **dirs = NULL;

	*n = 0;
	for (size_t i = 0; i < l->nr; i++) {
		const struct tracked *t = &l->v[i];
		size_t k;
		if (!t->governed || t->stage)
			continue;
		char *d = memrepo_dirname(t->path);
		for (k = 0; k < *n && strcmp(dirs[k], d); k++)
			;
		if (k < *n) {
			free(d);
			continue;
		}
		dirs = xrealloc(dirs, (*n + 1) * sizeof(*dirs));
		dirs[(*n)++] = d;
	}
	return dirs;
}

static void free_dirs(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

/*
 * The pre-commit work for the files of one folder: stamp the changed host
 * files, then plan the unified file as the join of its previous content
 * and every host file.
 */
static void pre_commit_dir(struct scene *s, const char *dir,
			   const struct restamp_clock *clock, struct plans *plans,
			   int *bad, size_t *secrets)
{
	char *upath = unified_path(dir);
	const struct tracked *uidx = tracked_find(&s->index, upath);
	const struct blob *uhead_blob = head_blob(s, upath);
	struct span ubytes = {"", 0}, bytes = {"", 0};
	struct entry_set joined = ENTRY_SET_INIT;
	const struct entry_set *known[2 + NR_OTHER_HEADS];
	size_t nknown = 0;
	int changed_here = !uidx || !uhead_blob || strcmp(uidx->oid, uhead_blob->oid);
	int unified_governed = !uidx || uidx->governed;
	struct memfile *uidx_mf = NULL, *mf;

	if (uidx && !uidx->governed)
		uidx = NULL;
	if (uidx && (uidx_mf = load(s, blob_of(s, NULL, uidx->oid), upath, "staged", bad,
				    &ubytes)))
		known[nknown++] = &uidx_mf->set;
	if ((mf = load(s, uhead_blob, upath, "HEAD", NULL, NULL)))
		known[nknown++] = &mf->set;
	for (int h = 0; h < NR_OTHER_HEADS; h++)
		if (s->has_other[h] && (mf = load(s, blob_of(s, other_heads[h], upath),
						  upath, other_heads[h], NULL, NULL)))
			known[nknown++] = &mf->set;
	if (uidx_mf)
		join_into(&joined, &uidx_mf->set);

	for (size_t i = 0; i < s->index.nr; i++) {
		const struct tracked *t = &s->index.v[i];
		const struct entry_set *kn[2 + 2 * NR_OTHER_HEADS];
		struct entry_set stamped = ENTRY_SET_INIT, changed = ENTRY_SET_INIT;
		struct restamp_stats st;
		size_t nk = 0;

		if (!t->governed || t->stage || t->is_unified || !in_dir(t->path, dir))
			continue;
		const struct blob *head = head_blob(s, t->path);
		/*
		 * HEAD's version first: the staged one shares its entries for
		 * lines that did not change, instead of reading them again.
		 */
		struct memfile *prev =
			head && strcmp(head->oid, t->oid)
				? load(s, head, t->path, "HEAD", NULL, NULL)
				: NULL;
		struct memfile *staged =
			load_with_base(s, blob_of(s, NULL, t->oid), t->path, "staged",
				       bad, &bytes, prev);
		if (!staged)
			continue;
		if (head && !strcmp(head->oid, t->oid)) {
			/* Committed before: already stamped. */
			join_into(&joined, &staged->set);
			continue;
		}
		changed_here = 1;
		if (staged->duplicates)
			warning("%s: %zu names appear more than once; their versions "
				"were "
				"joined into one",
				qpath(t->path), staged->duplicates);
		for (size_t k = 0; k < nknown; k++)
			kn[nk++] = known[k];
		for (int h = 0; h < NR_OTHER_HEADS; h++)
			if (s->has_other[h] &&
			    (mf = load(s, blob_of(s, other_heads[h], t->path), t->path,
				       other_heads[h], NULL, NULL)))
				kn[nk++] = &mf->set;
		restamp(&staged->set, prev ? &prev->set : NULL, kn, nk, clock, &stamped,
			&changed, &st);
		*secrets += find_secrets(t->path, &changed);
		if (st.future)
			warning("%s: %zu versions are stamped more than a day ahead of "
				"this "
				"machine's clock; is a clock wrong?",
				qpath(t->path), st.future);
		enum memfile_format fmt = staged->format != MEMFILE_EMPTY ? staged->format
					  : prev && prev->format != MEMFILE_EMPTY
						  ? prev->format
						  : MEMFILE_ARRAY;
		add_plan(plans, t->path, t->mode, &bytes, 1, &stamped, fmt);
		join_into(&joined, &stamped);
		entry_set_release(&stamped);
		entry_set_release(&changed);
	}
	if (changed_here && unified_governed && !*bad)
		add_plan(plans, upath, uidx ? uidx->mode : NULL, &ubytes, uidx != NULL,
			 &joined,
			 uidx_mf && uidx_mf->format != MEMFILE_EMPTY ? uidx_mf->format
								     : MEMFILE_ARRAY);
	entry_set_release(&joined);
	free(upath);
}

/*
 * Parse every fetched version the commit is measured against, two at a
 * time; staged files that changed are parsed later, sharing the entries
 * of their HEAD version.
 */
static void preload_known(struct scene *s)
{
	const struct blob **todo = xcalloc(s->fetched + 1, sizeof(*todo));
	const char **changed = xcalloc(s->index.nr + 1, sizeof(*changed));
	size_t n = 0, nchanged = 0;

	for (size_t k = 0; k < s->index.nr; k++) {
		const struct tracked *t = &s->index.v[k];
		const struct tracked *h = tracked_find(&s->head, t->path);
		if (t->governed && !t->stage && !t->is_unified &&
		    (!h || strcmp(h->oid, t->oid)))
			changed[nchanged++] = t->oid;
	}
	for (size_t i = 0; i < s->fetched; i++) {
		const struct blob *b = &s->blobs[i];
		size_t k = 0;
		while (k < nchanged && strcmp(changed[k], b->oid))
			k++;
		if (b->found && k == nchanged)
			todo[n++] = b;
	}
	preload(s, todo, n);
	free(todo);
	free(changed);
}

static int pre_commit(void)
{
	struct scene s = {0};
	struct plans plans = {0};
	struct settings set = {BUF_INIT, 0};
	struct child config = CHILD_INIT;
	struct buf host = BUF_INIT, gitdir = BUF_INIT;
	struct restamp_clock clock;
	size_t secrets = 0, ndirs = 0;
	int bad = 0, ret = EXIT_CONFLICT;
	char **dirs = NULL;

	/* The settings are read while the other git calls run. */
	settings_start(&config);
	if (memrepo_ls_both(NULL, &s.index, 0, "HEAD", &s.head))
		goto out;
	dirs = memory_dirs(&s.index, &ndirs);
	if (!ndirs) {
		ret = EXIT_OK;
		goto out;
	}
	if (memrepo_git_dir(NULL, &gitdir))
		goto out;
	for (int h = 0; h < NR_OTHER_HEADS; h++) {
		struct buf p = BUF_INIT;
		struct stat st;
		buf_addf(&p, "%s/%s", gitdir.buf, other_heads[h]);
		s.has_other[h] = !stat(p.buf, &st);
		buf_release(&p);
	}
	/* Every version this commit is measured against, in one read. */
	for (size_t i = 0; i < s.index.nr; i++) {
		const struct tracked *t = &s.index.v[i];
		if (!t->governed || t->stage)
			continue;
		want(&s, t->oid);
		want_head(&s, t->path);
		for (int h = 0; h < NR_OTHER_HEADS; h++)
			if (s.has_other[h])
				wantf(&s, other_heads[h], t->path);
	}
	for (size_t d = 0; d < ndirs; d++) {
		char *upath = unified_path(dirs[d]);
		want_head(&s, upath);
		for (int h = 0; h < NR_OTHER_HEADS; h++)
			if (s.has_other[h])
				wantf(&s, other_heads[h], upath);
		free(upath);
	}
	if (fetch(&s) || settings_finish(&config, &set))
		goto out;
	preload_known(&s);
	if (writer_host_named(&host, set.host.len ? set.host.buf : NULL) ||
	    writer_clock(&clock, host.buf))
		goto out;
	for (size_t d = 0; d < ndirs; d++)
		pre_commit_dir(&s, dirs[d], &clock, &plans, &bad, &secrets);
	if (bad) {
		fprintf(stderr,
			"hint: fix the file%s named above, 'git add' %s, and commit "
			"again; "
			"nothing was changed\n",
			bad > 1 ? "s" : "", bad > 1 ? "them" : "it");
		goto out;
	}
	if (secrets && !set.allow_secrets) {
		fprintf(stderr, "hint: memory repositories are pushed to other machines; "
				"remove the "
				"secret, or, if it is meant to be there, commit with "
				"CRDTMEM_ALLOW_SECRETS=1 (or git config "
				"crdtmem.allowSecrets true)\n");
		goto out;
	}
	if (carry_out(&plans))
		goto out;
	ret = EXIT_OK;
out:
	if (config.run)
		child_finish(&config);
	child_release(&config);
	plans_release(&plans);
	free_dirs(dirs, ndirs);
	buf_release(&set.host);
	buf_release(&host);
	buf_release(&gitdir);
	scene_release(&s);
	return ret;
}

/* Whether this hook runs inside one of the hooks' own commits. */
static int own_commit(void)
{
	const char *v = getenv("CRDTMEM_HOOK_COMMIT");

	return v && *v;
}

static int post_commit(void)
{
	struct scene s = {0};
	int ret = EXIT_CONFLICT;

	if (memrepo_ls_both(NULL, &s.index, 0, "HEAD", &s.head))
		goto out;
	/* Only files whose index entry differs from the commit need a look. */
	for (size_t i = 0; i < s.index.nr; i++) {
		const struct tracked *t = &s.index.v[i];
		const struct tracked *h = tracked_find(&s.head, t->path);
		if (t->governed && !t->stage && h && strcmp(h->oid, t->oid))
			want(&s, h->oid);
	}
	if (s.nblobs && fetch(&s))
		goto out;
	for (size_t i = 0; i < s.index.nr; i++) {
		const struct tracked *t = &s.index.v[i];
		const struct tracked *h = tracked_find(&s.head, t->path);
		const struct blob *b;
		struct child c = CHILD_INIT;
		struct buf arg = BUF_INIT;
		int exists;

		if (!t->governed || t->stage || !h || !strcmp(h->oid, t->oid) ||
		    !(b = blob_of(&s, NULL, h->oid)))
			continue;
		/*
		 * "git commit PATH" stages PATH's unstamped bytes in the real
		 * index; the commit and the work tree hold the stamped ones.
		 */
		if (!file_holds(t->path, b->data, b->len, &exists))
			continue;
		buf_addf(&arg, "%s,%s,%s", t->mode, h->oid, t->path);
		child_git(&c, "update-index", "--cacheinfo", arg.buf, NULL);
		c.capture_err = 1;
		if (child_run(&c))
			warning("cannot update the index for %s: %s", qpath(t->path),
				c.err.buf);
		child_release(&c);
		buf_release(&arg);
	}
	ret = EXIT_OK;
out:
	scene_release(&s);
	return ret;
}

/*
 * The join of dir's unified file at HEAD and every host file beside it, in
 * now. Returns 1 when it differs from the unified file at HEAD, 0 when not,
 * -1 when a file is not valid (warned about).
 */
static int unified_join(struct scene *s, const char *dir, const char *upath,
			struct buf *now, struct span *ubytes)
{
	const struct blob *ub = head_blob(s, upath);
	struct memfile *umf = load(s, ub, upath, "HEAD", NULL, ubytes);
	struct entry_set joined = ENTRY_SET_INIT;
	int ret;

	if (ub && !umf)
		return -1;
	if (!ub)
		ubytes->n = 0;
	if (umf)
		join_into(&joined, &umf->set);
	for (size_t k = 0; k < s->head.nr; k++) {
		const struct tracked *h = &s->head.v[k];
		if (!h->governed || h->is_unified || !in_dir(h->path, dir))
			continue;
		struct memfile *mf =
			load(s, head_blob(s, h->path), h->path, "HEAD", NULL, NULL);
		if (!mf) {
			entry_set_release(&joined);
			return -1;
		}
		join_into(&joined, &mf->set);
	}
	buf_reset(now);
	memfile_serialize(
		&joined,
		umf && umf->format != MEMFILE_EMPTY ? umf->format : MEMFILE_ARRAY, now);
	entry_set_release(&joined);
	ret = !(ub && same_bytes(ubytes, now));
	return ret;
}

/*
 * After a merge, pull or rebase: where unified-memory.json differs from the
 * join of its content and the host files, write and commit the join. git
 * runs post-rewrite at the very end of a rebase, its state folder still
 * there and the branch already updated (during_rebase); anything else that
 * finds a rebase running leaves it alone.
 */
static int fix_unified(int during_rebase)
{
	struct scene s = {0};
	struct span ubytes = {"", 0};
	struct buf now = BUF_INIT, gitdir = BUF_INIT;
	struct plans plans = {0};
	char **dirs = NULL;
	size_t ndirs = 0;
	int ret = EXIT_CONFLICT;

	int rebasing = during_rebase ? 0 : memrepo_rebasing(NULL);
	if (rebasing) {
		ret = rebasing > 0 ? EXIT_OK : EXIT_CONFLICT;
		goto out;
	}
	if (memrepo_ls_tree(NULL, "HEAD", &s.head, 0) < 0 ||
	    memrepo_ls_index(NULL, &s.index, 0))
		goto out;
	dirs = memory_dirs(&s.head, &ndirs);
	for (size_t i = 0; i < s.head.nr; i++)
		if (s.head.v[i].governed)
			want(&s, s.head.v[i].oid);
	if (fetch(&s))
		goto out;
	for (size_t d = 0; d < ndirs; d++) {
		char *upath = unified_path(dirs[d]);
		const struct tracked *uhead = tracked_find(&s.head, upath);
		const struct tracked *uidx = tracked_find(&s.index, upath);
		int exists;

		if (unified_join(&s, dirs[d], upath, &now, &ubytes) == 1) {
			int index_clean =
				uhead ? uidx && !strcmp(uidx->oid, uhead->oid) : !uidx;
			int tree_clean = file_holds(upath, ubytes.p, ubytes.n, &exists) ||
					 (!exists && !uhead);
			if (index_clean && tree_clean)
				add_plan_bytes(&plans, upath, uhead ? uhead->mode : NULL,
					       &ubytes, uhead != NULL, &now);
			else
				warning("%s is not the join of the host files, and has "
					"local "
					"changes; run 'git-merge-crdtmem verify --fix' "
					"when they "
					"are done",
					qpath(upath));
		}
		free(upath);
	}
	if (!plans.nr) {
		ret = EXIT_OK;
		goto out;
	}
	/*
	 * Commit with plumbing: post-merge runs while git still holds the
	 * merge's state, where "git commit" would refuse or make another
	 * merge. Then the index and the work tree follow the new commit.
	 */
	struct stage_item *items = xcalloc(plans.nr, sizeof(*items));
	for (size_t k = 0; k < plans.nr; k++) {
		items[k].path = plans.v[k].path;
		items[k].mode = plans.v[k].mode;
		items[k].data = plans.v[k].new.buf;
		items[k].len = plans.v[k].new.len;
	}
	struct buf commit = BUF_INIT;
	int failed =
		memrepo_git_dir(NULL, &gitdir) ||
		memrepo_commit_files(NULL, gitdir.buf, items, plans.nr,
				     "Update unified-memory.json to the join of the host "
				     "files",
				     &commit) ||
		carry_out(&plans);
	free(items);
	buf_release(&commit);
	if (failed) {
		error("cannot commit the corrected unified file; run "
		      "'git-merge-crdtmem verify --fix' and commit");
		goto out;
	}
	for (size_t k = 0; k < plans.nr; k++)
		fprintf(stderr, "crdtmem: committed %s as the join of the host files\n",
			qpath(plans.v[k].path));
	ret = EXIT_OK;
out:
	plans_release(&plans);
	free_dirs(dirs, ndirs);
	buf_release(&now);
	buf_release(&gitdir);
	scene_release(&s);
	return ret;
}

int cmd_hook(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name)
		return usage_error(hook_usage, "%s", "hook needs the hook's name");
	/* Options anywhere: "hook pre-commit --help" asks, it does not run. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return show_help(hook_usage, hook_help);
	if (!strcmp(name, "pre-commit"))
		return own_commit() ? EXIT_OK : pre_commit();
	if (!strcmp(name, "post-commit"))
		return own_commit() ? EXIT_OK : post_commit();
	if (!strcmp(name, "post-merge")) {
		/* "1": a squash merge, which commits nothing. */
		if (own_commit() || (argc > 2 && !strcmp(argv[2], "1")))
			return EXIT_OK;
		return fix_unified(0);
	}
	if (!strcmp(name, "post-rewrite")) {
		/* After an amend, pre-commit already did the work. */
		if (own_commit() || (argc > 2 && !strcmp(argv[2], "amend")))
			return EXIT_OK;
		return fix_unified(1);
	}
	return usage_error(hook_usage, "unknown hook %s", qpath(name));
}
