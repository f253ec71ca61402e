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

/* Everything one hook run reads, released at once. */
struct scene {
	struct tracked_list index, head, other[NR_OTHER_HEADS];
	int has_other[NR_OTHER_HEADS];
	/* Parsed files, kept because entries borrow their bytes. */
	struct memfile **files; /* each allocated once: sets point into them */
	size_t nfiles;
};

static void scene_release(struct scene *s)
{
	tracked_list_release(&s->index);
	tracked_list_release(&s->head);
	for (int i = 0; i < NR_OTHER_HEADS; i++)
		tracked_list_release(&s->other[i]);
	for (size_t i = 0; i < s->nfiles; i++) {
		memfile_release(s->files[i]);
		free(s->files[i]);
	}
	free(s->files);
}

/*
 * Parse the blob of t (NULL: absent). Returns the parsed file (owned by
 * the scene), or NULL when absent or invalid; an invalid blob is reported
 * as "'PATH' (WHAT): line L, column C: ..." and counted in *bad when bad is
 * not NULL, else only warned about.
 */
static struct memfile *load(struct scene *s, const struct tracked *t, const char *what,
			    int *bad, struct buf *bytes)
{
	struct buf data = BUF_INIT, err = BUF_INIT;
	struct memfile *mf = NULL;

	if (!t)
		return NULL;
	if (memrepo_read_blob(NULL, t->oid, &data)) {
		if (bad)
			(*bad)++;
		goto out;
	}
	mf = xmalloc(sizeof(*mf));
	*mf = (struct memfile)MEMFILE_INIT;
	if (memfile_parse(mf, data.buf, data.len, &err)) {
		if (bad) {
			error("'%s' (%s): %s", t->path, what, err.buf);
			(*bad)++;
		} else {
			warning("'%s' (%s) is not a valid memory file, left out: %s",
				t->path, what, err.buf);
		}
		memfile_release(mf);
		free(mf);
		mf = NULL;
		goto out;
	}
	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	s->files[s->nfiles++] = mf;
	if (bytes) {
		buf_reset(bytes);
		buf_addbuf(bytes, &data);
	}
out:
	buf_release(&data);
	buf_release(&err);
	return mf;
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

/* A new blob for a path, written once every check has passed. */
struct plan {
	char *path;
	char mode[8];
	struct buf old; /* the staged bytes it replaces */
	int was_staged; /* the path had an index entry */
	struct buf new;
};

static int allow_secrets(void)
{
	const char *env = getenv("CRDTMEM_ALLOW_SECRETS");
	struct buf v = BUF_INIT;
	int allow = env && *env && strcmp(env, "0");

	if (!allow &&
	    !git_output(&v, NULL, "config", "--bool", "crdtmem.allowSecrets", NULL))
		allow = !strcmp(v.buf, "true");
	buf_release(&v);
	return allow;
}

/* Report changed entries that look like credentials. Returns how many. */
static size_t find_secrets(const char *path, const struct entry_set *changed)
{
	size_t found = 0;

	for (size_t i = 0; i < changed->nr; i++) {
		const char *kind =
			secret_kind(changed->v[i]->text, changed->v[i]->text_len);
		if (kind) {
			error("'%s': entry %s holds what looks like %s", path,
			      changed->v[i]->key, kind);
			found++;
		}
	}
	return found;
}

static int file_equals(const char *path, const struct buf *data, int *exists)
{
	struct buf now = BUF_INIT;
	int same;

	*exists = !read_whole_file(path, &now);
	same = *exists && now.len == data->len && !memcmp(now.buf, data->buf, data->len);
	buf_release(&now);
	return same;
}

/* Stage every plan, and update the work tree where it held what was staged. */
static int carry_out(struct plan *plans, size_t nplans)
{
	for (size_t i = 0; i < nplans; i++) {
		struct plan *p = &plans[i];
		char oid[72];
		int exists;

		if (memrepo_stage(NULL, p->path, p->mode, p->new.buf, p->new.len, oid))
			return -1;
		if (file_equals(p->path, &p->old, &exists) ||
		    (!exists && !p->was_staged)) {
			if (atomic_write(p->path, p->new.buf, p->new.len, ATOMIC_FSYNC))
				return -1;
		} else {
			warning("'%s' has changes that are not staged; they were left "
				"as they are (the commit holds the stamped staged "
				"version)",
				p->path);
		}
	}
	return 0;
}

static void add_plan(struct plan **plans, size_t *n, const char *path, const char *mode,
		     const struct buf *old, int was_staged, const struct entry_set *set,
		     enum memfile_format fmt)
{
	struct plan *p;

	*plans = xrealloc(*plans, (*n + 1) * sizeof(**plans));
	p = &(*plans)[(*n)++];
	p->path = xstrdup(path);
	snprintf(p->mode, sizeof(p->mode), "%s", mode ? mode : "100644");
	buf_init(&p->old, 0);
	buf_addbuf(&p->old, old);
	p->was_staged = was_staged;
	buf_init(&p->new, 0);
	memfile_serialize(set, fmt, &p->new);
}

static int same_bytes(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

static int pre_commit(void)
{
	struct scene s = {0};
	struct plan *plans = NULL;
	size_t nplans = 0, secrets = 0;
	struct buf host = BUF_INIT, bytes = BUF_INIT;
	struct restamp_clock clock;
	int bad = 0, ret = EXIT_CONFLICT, any = 0;
	char **dirs = NULL;
	size_t ndirs = 0;

	if (memrepo_ls_index(NULL, &s.index, 0))
		goto out;
	for (size_t i = 0; i < s.index.nr; i++)
		any |= s.index.v[i].governed && !s.index.v[i].stage;
	if (!any) {
		ret = EXIT_OK;
		goto out;
	}
	if (memrepo_ls_tree(NULL, "HEAD", &s.head, 0) < 0)
		goto out;
	for (int h = 0; h < NR_OTHER_HEADS; h++) {
		int r = memrepo_ls_tree(NULL, other_heads[h], &s.other[h], 0);
		if (r < 0)
			goto out;
		s.has_other[h] = !r;
	}
	if (writer_host(&host, NULL, NULL) || writer_clock(&clock, host.buf))
		goto out;

	/* The folders that hold memory files. */
	for (size_t i = 0; i < s.index.nr; i++) {
		const struct tracked *t = &s.index.v[i];
		char *d;
		size_t k;
		if (!t->governed || t->stage)
			continue;
		d = memrepo_dirname(t->path);
		for (k = 0; k < ndirs && strcmp(dirs[k], d); k++)
			;
		if (k < ndirs) {
			free(d);
			continue;
		}
		dirs = xrealloc(dirs, (ndirs + 1) * sizeof(*dirs));
		dirs[ndirs++] = d;
	}

	for (size_t d = 0; d < ndirs; d++) {
		char *upath = unified_path(dirs[d]);
		struct tracked *uidx = tracked_find(&s.index, upath);
		const struct tracked *uhead = tracked_find(&s.head, upath);
		struct buf ubytes = BUF_INIT;
		struct entry_set joined = ENTRY_SET_INIT;
		int dir_changed = 0, unified_governed = uidx ? uidx->governed : 1;
		const struct entry_set *known[2 + 2 * NR_OTHER_HEADS];
		size_t nknown = 0;
		struct memfile *uidx_mf = NULL;

		if (uidx && !uidx->governed)
			uidx = NULL;
		if (uidx)
			uidx_mf = load(&s, uidx, "staged", &bad, &ubytes);
		struct memfile *uhead_mf = load(
			&s, uhead && uhead->governed ? uhead : NULL, "HEAD", NULL, NULL);
		if (uhead_mf)
			known[nknown++] = &uhead_mf->set;
		if (uidx_mf)
			known[nknown++] = &uidx_mf->set;
		for (int h = 0; h < NR_OTHER_HEADS; h++) {
			struct memfile *mf =
				s.has_other[h]
					? load(&s, tracked_find(&s.other[h], upath),
					       other_heads[h], NULL, NULL)
					: NULL;
			if (mf)
				known[nknown++] = &mf->set;
		}
		if (uidx && (!uhead || strcmp(uidx->oid, uhead->oid)))
			dir_changed = 1;
		if (!uidx)
			dir_changed = 1;
		if (uidx_mf)
			crdt_join_sets(&uidx_mf->set, &(struct entry_set)ENTRY_SET_INIT,
				       &joined);

		for (size_t i = 0; i < s.index.nr; i++) {
			struct tracked *t = &s.index.v[i];
			const struct tracked *th;
			struct entry_set stamped = ENTRY_SET_INIT,
					 changed = ENTRY_SET_INIT, next = ENTRY_SET_INIT;
			const struct entry_set *kn[2 + 3 * NR_OTHER_HEADS];
			size_t nk = 0;
			struct restamp_stats st;

			if (!t->governed || t->stage || t->is_unified ||
			    !in_dir(t->path, dirs[d]))
				continue;
			th = tracked_find(&s.head, t->path);
			struct memfile *mf = load(&s, t, "staged", &bad, &bytes);
			if (!mf)
				continue;
			if (th && !strcmp(th->oid, t->oid)) {
				/* Committed before: already stamped. */
				crdt_join_sets(&joined, &mf->set, &next);
				entry_set_release(&joined);
				joined = next;
				continue;
			}
			dir_changed = 1;
			if (mf->duplicates)
				warning("'%s': %zu names appear more than once; their "
					"versions "
					"were joined into one",
					t->path, mf->duplicates);
			struct memfile *prev = load(&s, th, "HEAD", NULL, NULL);
			for (size_t k = 0; k < nknown; k++)
				kn[nk++] = known[k];
			for (int h = 0; h < NR_OTHER_HEADS; h++) {
				struct memfile *o =
					s.has_other[h]
						? load(&s,
						       tracked_find(&s.other[h], t->path),
						       other_heads[h], NULL, NULL)
						: NULL;
				if (o)
					kn[nk++] = &o->set;
			}
			restamp(&mf->set, prev ? &prev->set : NULL, kn, nk, &clock,
				&stamped, &changed, &st);
			secrets += find_secrets(t->path, &changed);
			if (st.future)
				warning("'%s': %zu versions are stamped more than a day "
					"ahead "
					"of this machine's clock; is a clock wrong?",
					t->path, st.future);
			enum memfile_format fmt = mf->format != MEMFILE_EMPTY ? mf->format
						  : prev && prev->format != MEMFILE_EMPTY
							  ? prev->format
							  : MEMFILE_ARRAY;
			add_plan(&plans, &nplans, t->path, t->mode, &bytes, 1, &stamped,
				 fmt);
			if (same_bytes(&plans[nplans - 1].old, &plans[nplans - 1].new)) {
				/* Already stamped and canonical: nothing to write. */
				buf_release(&plans[nplans - 1].old);
				buf_release(&plans[nplans - 1].new);
				free(plans[nplans - 1].path);
				nplans--;
			}
			crdt_join_sets(&joined, &stamped, &next);
			entry_set_release(&joined);
			joined = next;
			entry_set_release(&stamped);
			entry_set_release(&changed);
		}
		if (dir_changed && unified_governed && !bad) {
			enum memfile_format fmt =
				uidx_mf && uidx_mf->format != MEMFILE_EMPTY
					? uidx_mf->format
					: MEMFILE_ARRAY;
			add_plan(&plans, &nplans, upath, uidx ? uidx->mode : NULL,
				 &ubytes, uidx != NULL, &joined, fmt);
			if (uidx &&
			    same_bytes(&plans[nplans - 1].old, &plans[nplans - 1].new)) {
				buf_release(&plans[nplans - 1].old);
				buf_release(&plans[nplans - 1].new);
				free(plans[nplans - 1].path);
				nplans--;
			}
		}
		entry_set_release(&joined);
		buf_release(&ubytes);
		free(upath);
	}

	if (bad) {
		fprintf(stderr,
			"hint: fix the file%s named above, 'git add' %s, and commit "
			"again; nothing was changed\n",
			bad > 1 ? "s" : "", bad > 1 ? "them" : "it");
		goto out;
	}
	if (secrets && !allow_secrets()) {
		fprintf(stderr, "hint: memory repositories are pushed to other machines; "
				"remove the "
				"secret, or, if it is meant to be there, commit with "
				"CRDTMEM_ALLOW_SECRETS=1 (or git config "
				"crdtmem.allowSecrets true)\n");
		goto out;
	}
	if (carry_out(plans, nplans))
		goto out;
	ret = EXIT_OK;
out:
	for (size_t i = 0; i < nplans; i++) {
		free(plans[i].path);
		buf_release(&plans[i].old);
		buf_release(&plans[i].new);
	}
	free(plans);
	for (size_t i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	buf_release(&host);
	buf_release(&bytes);
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
	struct tracked_list index = TRACKED_LIST_INIT, head = TRACKED_LIST_INIT;
	struct buf blob = BUF_INIT;
	int ret = EXIT_CONFLICT;

	if (memrepo_ls_index(NULL, &index, 0) || memrepo_ls_tree(NULL, "HEAD", &head, 0))
		goto out;
	for (size_t i = 0; i < index.nr; i++) {
		const struct tracked *t = &index.v[i];
		const struct tracked *h = tracked_find(&head, t->path);
		struct child c = CHILD_INIT;
		struct buf arg = BUF_INIT;
		int exists;

		if (!t->governed || t->stage || !h || !strcmp(h->oid, t->oid))
			continue;
		/*
		 * "git commit PATH" stages PATH's unstamped bytes in the real
		 * index; the commit and the work tree hold the stamped ones.
		 */
		if (memrepo_read_blob(NULL, h->oid, &blob) ||
		    !file_equals(t->path, &blob, &exists))
			continue;
		buf_addf(&arg, "%s,%s,%s", h->mode, h->oid, h->path);
		child_git(&c, "update-index", "--cacheinfo", arg.buf, NULL);
		c.capture_err = 1;
		if (child_run(&c))
			warning("cannot update the index for '%s': %s", t->path,
				c.err.buf);
		child_release(&c);
		buf_release(&arg);
	}
	ret = EXIT_OK;
out:
	tracked_list_release(&index);
	tracked_list_release(&head);
	buf_release(&blob);
	return ret;
}

/*
 * After a merge, pull or rebase: where unified-memory.json differs from the
 * join of its content and the host files, write and commit the join.
 */
static int fix_unified(void)
{
	struct scene s = {0};
	struct tracked_list index = TRACKED_LIST_INIT;
	struct child c = CHILD_INIT;
	struct buf ubytes = BUF_INIT, now = BUF_INIT;
	char **fixed = NULL;
	size_t nfixed = 0;
	int ret = EXIT_CONFLICT;

	int rebasing = memrepo_rebasing(NULL);
	if (rebasing) {
		ret = rebasing > 0 ? EXIT_OK : EXIT_CONFLICT;
		goto out;
	}
	if (memrepo_ls_tree(NULL, "HEAD", &s.head, 0) ||
	    memrepo_ls_index(NULL, &index, 0))
		goto out;
	for (size_t i = 0; i < s.head.nr; i++) {
		const struct tracked *t = &s.head.v[i];
		if (!t->governed || t->is_unified)
			continue;
		char *dir = memrepo_dirname(t->path);
		char *upath = unified_path(dir);
		int seen = 0;
		for (size_t k = 0; k < nfixed; k++)
			seen |= !strcmp(fixed[k], upath);
		for (size_t k = 0; k < i; k++)
			seen |= s.head.v[k].governed && !s.head.v[k].is_unified &&
				in_dir(s.head.v[k].path, dir);
		if (seen) {
			free(dir);
			free(upath);
			continue;
		}
		const struct tracked *uhead = tracked_find(&s.head, upath);
		const struct tracked *uidx = tracked_find(&index, upath);
		struct memfile *umf =
			uhead ? load(&s, uhead, "HEAD", NULL, &ubytes) : NULL;
		struct entry_set joined = ENTRY_SET_INIT, next = ENTRY_SET_INIT;
		int ok = !uhead || umf, exists;

		if (umf)
			crdt_join_sets(&umf->set, &(struct entry_set)ENTRY_SET_INIT,
				       &joined);
		else
			buf_reset(&ubytes);
		for (size_t k = i; ok && k < s.head.nr; k++) {
			const struct tracked *h = &s.head.v[k];
			if (!h->governed || h->is_unified || !in_dir(h->path, dir))
				continue;
			struct memfile *mf = load(&s, h, "HEAD", NULL, NULL);
			if (!mf) {
				ok = 0;
				break;
			}
			crdt_join_sets(&joined, &mf->set, &next);
			entry_set_release(&joined);
			joined = next;
			next = (struct entry_set)ENTRY_SET_INIT;
		}
		buf_reset(&now);
		memfile_serialize(&joined,
				  umf && umf->format != MEMFILE_EMPTY ? umf->format
								      : MEMFILE_ARRAY,
				  &now);
		entry_set_release(&joined);
		if (ok && !(uhead && same_bytes(&now, &ubytes))) {
			int index_clean =
				uhead ? uidx && !strcmp(uidx->oid, uhead->oid) : !uidx;
			int tree_clean = file_equals(upath, &ubytes, &exists) ||
					 (!exists && !uhead);
			char oid[72];
			if (!index_clean || !tree_clean) {
				warning("'%s' is not the join of the host files, and has "
					"local "
					"changes; run 'git-merge-crdtmem verify --fix' "
					"when they "
					"are done",
					upath);
			} else if (!atomic_write(upath, now.buf, now.len, ATOMIC_FSYNC) &&
				   !memrepo_stage(NULL, upath, uhead ? uhead->mode : NULL,
						  now.buf, now.len, oid)) {
				fixed = xrealloc(fixed, (nfixed + 1) * sizeof(*fixed));
				fixed[nfixed++] = xstrdup(upath);
			}
		}
		free(dir);
		free(upath);
	}
	if (nfixed) {
		static const char *const env[] = {"CRDTMEM_HOOK_COMMIT=1", NULL};
		child_git(&c, "commit", "--no-verify", "-q", "-m",
			  "Update unified-memory.json to the join of the host files",
			  "--only", "--", NULL);
		for (size_t k = 0; k < nfixed; k++)
			child_push(&c, fixed[k]);
		c.env = env;
		c.capture_err = 1;
		if (child_run(&c)) {
			error("cannot commit the corrected unified file: %s", c.err.buf);
			goto out;
		}
		for (size_t k = 0; k < nfixed; k++)
			fprintf(stderr,
				"crdtmem: committed '%s' as the join of the host files\n",
				fixed[k]);
	}
	ret = EXIT_OK;
out:
	for (size_t k = 0; k < nfixed; k++)
		free(fixed[k]);
	free(fixed);
	child_release(&c);
	tracked_list_release(&index);
	buf_release(&ubytes);
	buf_release(&now);
	scene_release(&s);
	return ret;
}

int cmd_hook(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name)
		return usage_error(hook_usage, "%s", "hook needs the hook's name");
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		return show_help(hook_usage, hook_help);
	if (!strcmp(name, "pre-commit"))
		return own_commit() ? EXIT_OK : pre_commit();
	if (!strcmp(name, "post-commit"))
		return own_commit() ? EXIT_OK : post_commit();
	if (!strcmp(name, "post-merge")) {
		/* "1": a squash merge, which commits nothing. */
		if (own_commit() || (argc > 2 && !strcmp(argv[2], "1")))
			return EXIT_OK;
		return fix_unified();
	}
	if (!strcmp(name, "post-rewrite")) {
		/* After an amend, pre-commit already did the work. */
		if (own_commit() || (argc > 2 && !strcmp(argv[2], "amend")))
			return EXIT_OK;
		return fix_unified();
	}
	return usage_error(hook_usage, "unknown hook '%s'", name);
}
