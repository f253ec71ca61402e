/*
 * The memory files of a git repository (see memrepo.h).
 */
#include "memrepo.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "gitops.h"

void tracked_list_release(struct tracked_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

struct tracked *tracked_find(const struct tracked_list *l, const char *path)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].path, path) && !l->v[i].stage)
			return &l->v[i];
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *memrepo_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xmemdup0(path, (size_t)(slash - path)) : xstrdup("");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* The names the install command gives the attribute to. */
static int default_governed(const char *path)
{
	const char *name = base_name(path);

	return !strcmp(name, UNIFIED_NAME) ||
	       (!strncmp(name, "memory-", 7) && ends_with(name, ".json"));
}

static struct tracked *add(struct tracked_list *l, const char *path)
{
	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	struct tracked *t = &l->v[l->nr++];
	memset(t, 0, sizeof(*t));
	t->path = xstrdup(path);
	t->is_unified = !strcmp(base_name(path), UNIFIED_NAME);
	return t;
}

/* Set "governed" from git check-attr (and the default names with fallback). */
static int mark_governed(const char *dir, struct tracked_list *l, int fallback)
{
	struct child c = CHILD_INIT;
	struct buf in = BUF_INIT;
	int ret = -1;

	if (!l->nr)
		return 0;
	for (size_t i = 0; i < l->nr; i++) {
		buf_addstr(&in, l->v[i].path);
		buf_addch(&in, '\0');
	}
	child_git(&c, "check-attr", "-z", "--stdin", "merge", NULL);
	c.dir = dir;
	c.in = in.buf;
	c.in_len = in.len;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		error("git check-attr failed: %s", c.err.buf);
		goto out;
	}
	/* path NUL attribute NUL value NUL, in the order given */
	const char *p = c.out.buf, *end = c.out.buf + c.out.len;
	for (size_t i = 0; i < l->nr && p < end; i++) {
		const char *path = p, *attr = path + strlen(path) + 1;
		const char *value = attr + strlen(attr) + 1;
		if (value >= end)
			break;
		struct tracked *t = &l->v[i];
		if (strcmp(path, t->path))
			die("git check-attr answered for %s, not %s", qpath(path),
			    qpath(t->path));
		t->governed = !strcmp(value, "crdtmem") ||
			      (fallback && !strcmp(value, "unspecified") &&
			       default_governed(t->path));
		p = value + strlen(value) + 1;
	}
	ret = 0;
out:
	buf_release(&in);
	child_release(&c);
	return ret;
}

static void ls_index_child(struct child *c, const char *dir)
{
	child_git(c, "ls-files", "-s", "-z", "--full-name", NULL);
	c->dir = dir;
	c->capture_out = c->capture_err = 1;
}

static void ls_index_parse(const struct buf *out, struct tracked_list *l)
{
	for (const char *p = out->buf; p < out->buf + out->len; p += strlen(p) + 1) {
		/* <mode> SP <oid> SP <stage> TAB <path> */
		const char *tab = strchr(p, '\t');
		char mode[8], oid[72];
		int stage;
		if (!tab || sscanf(p, "%7s %71s %d", mode, oid, &stage) != 3)
			continue;
		if (!ends_with(tab + 1, ".json"))
			continue;
		struct tracked *t = add(l, tab + 1);
		memcpy(t->mode, mode, sizeof(mode));
		memcpy(t->oid, oid, sizeof(oid));
		t->stage = stage;
	}
}

static void ls_tree_child(struct child *c, const char *dir, const char *rev)
{
	child_git(c, "ls-tree", "-r", "-z", "--full-tree", rev, NULL);
	c->dir = dir;
	c->capture_out = c->capture_err = 1;
}

static void ls_tree_parse(const struct buf *out, struct tracked_list *l)
{
	for (const char *p = out->buf; p < out->buf + out->len; p += strlen(p) + 1) {
		/* <mode> SP <type> SP <oid> TAB <path> */
		const char *tab = strchr(p, '\t');
		char mode[8], type[16], oid[72];
		if (!tab || sscanf(p, "%7s %15s %71s", mode, type, oid) != 3 ||
		    strcmp(type, "blob") || !ends_with(tab + 1, ".json"))
			continue;
		struct tracked *t = add(l, tab + 1);
		memcpy(t->mode, mode, sizeof(mode));
		memcpy(t->oid, oid, sizeof(oid));
	}
}

/* Whether rev names a tree (a commit's, or a tree). -1 when git fails. */
static int rev_exists(const char *dir, const char *rev)
{
	struct child c = CHILD_INIT;
	struct buf spec = BUF_INIT;

	buf_addf(&spec, "%s^{tree}", rev);
	child_git(&c, "rev-parse", "-q", "--verify", spec.buf, NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	int status = child_run(&c);
	child_release(&c);
	buf_release(&spec);
	return status < 0 ? -1 : !status;
}

/* After ls-tree of rev ran as c (status status): 0 parsed, 1 no such tree, -1. */
static int ls_tree_finish(struct child *c, int status, const char *dir, const char *rev,
			  struct tracked_list *out)
{
	if (status) {
		/* An unborn branch has no tree: an empty list, not an error. */
		int exists = rev_exists(dir, rev);
		if (!exists)
			return 1;
		if (exists > 0)
			error("git ls-tree %s failed: %s", rev, c->err.buf);
		return -1;
	}
	ls_tree_parse(&c->out, out);
	return 0;
}

int memrepo_ls_index(const char *dir, struct tracked_list *out, int fallback)
{
	struct child c = CHILD_INIT;
	int ret = -1;

	ls_index_child(&c, dir);
	if (child_run(&c)) {
		error("git ls-files failed: %s", c.err.buf);
		goto out;
	}
	ls_index_parse(&c.out, out);
	ret = mark_governed(dir, out, fallback);
out:
	child_release(&c);
	return ret;
}

int memrepo_ls_tree(const char *dir, const char *rev, struct tracked_list *out,
		    int fallback)
{
	struct child c = CHILD_INIT;
	int ret = ls_tree_finish(&c, (ls_tree_child(&c, dir, rev), child_run(&c)), dir,
				 rev, out);

	if (!ret && fallback != MEMREPO_NO_ATTR)
		ret = mark_governed(dir, out, fallback);
	child_release(&c);
	return ret;
}

int memrepo_ls_both(const char *dir, struct tracked_list *index, int fallback,
		    const char *rev, struct tracked_list *tree)
{
	struct child ci = CHILD_INIT, ct = CHILD_INIT;
	struct child *both[] = {&ci, &ct};
	int ret = -1;

	ls_index_child(&ci, dir);
	ls_tree_child(&ct, dir, rev);
	if (child_run_all(both, 2))
		goto out;
	if (ci.status) {
		error("git ls-files failed: %s", ci.err.buf);
		goto out;
	}
	ls_index_parse(&ci.out, index);
	if (ls_tree_finish(&ct, ct.status, dir, rev, tree) < 0)
		goto out;
	ret = mark_governed(dir, index, fallback);
out:
	child_release(&ci);
	child_release(&ct);
	return ret;
}

int memrepo_read_blob(const char *dir, const char *oid, struct buf *out)
{
	struct child c = CHILD_INIT;
	int ret = 0;

	child_git(&c, "cat-file", "blob", oid, NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c))
		ret = error("cannot read blob %s: %s", oid, c.err.buf);
	buf_reset(out);
	buf_addbuf(out, &c.out);
	child_release(&c);
	return ret;
}

int memrepo_stage(const char *dir, const char *path, const char *mode, const char *data,
		  size_t len, char oid[72])
{
	struct child c = CHILD_INIT;
	struct buf arg = BUF_INIT;
	int ret = -1;

	buf_addf(&arg, "--path=%s", path);
	child_git(&c, "hash-object", "-w", "--stdin", arg.buf, NULL);
	c.dir = dir;
	c.in = data;
	c.in_len = len;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c) || c.out.len < 40) {
		error("cannot store %s in git: %s", qpath(path), c.err.buf);
		goto out;
	}
	snprintf(oid, 72, "%.*s", (int)strcspn(c.out.buf, "\r\n"), c.out.buf);
	child_release(&c);
	buf_reset(&arg);
	buf_addf(&arg, "%s,%s,%s", mode ? mode : "100644", oid, path);
	child_git(&c, "update-index", "--add", "--cacheinfo", arg.buf, NULL);
	c.dir = dir;
	c.capture_err = 1;
	if (child_run(&c)) {
		error("cannot stage %s: %s", qpath(path), c.err.buf);
		goto out;
	}
	ret = 0;
out:
	child_release(&c);
	buf_release(&arg);
	return ret;
}

int memrepo_rebasing(const char *dir)
{
	struct child c = CHILD_INIT;
	int ret = 0;

	child_git(&c, "rev-parse", "--git-path", "rebase-merge", "--git-path",
		  "rebase-apply", NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		child_release(&c);
		return error("git rev-parse --git-path failed: %s", c.err.buf);
	}
	for (char *line = strtok(c.out.buf, "\n"); line; line = strtok(NULL, "\n")) {
		struct stat st;
		struct buf path = BUF_INIT;
		if (dir && line[0] != '/')
			buf_addf(&path, "%s/%s", dir, line);
		else
			buf_addstr(&path, line);
		if (!stat(path.buf, &st))
			ret = 1;
		buf_release(&path);
	}
	child_release(&c);
	return ret;
}

void blob_store_release(struct blob_store *s)
{
	for (size_t i = 0; i < s->nr; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->nr = 0;
}

/*
 * Reads "git cat-file --batch" as it arrives: each answer is a line
 * "<oid> <type> <size>" followed by the contents and a newline, or a line
 * "<name> missing" (or "ambiguous"). Each blob's bytes go straight into an
 * allocation of their size, so a large batch is copied once.
 */
struct batch_reader {
	struct blob *blobs;
	size_t n, at;
	struct blob_store *store;
	struct buf line;  /* the answer line so far */
	char *body;	  /* the contents being filled, or NULL */
	size_t size, got; /* its size, and how much has come */
	int want_newline; /* the newline after the contents is next */
	int broken;	  /* an answer git should not give */
};

static void batch_line(struct batch_reader *r)
{
	struct blob *b = &r->blobs[r->at];
	const char *p = r->line.buf, *sp1 = strchr(p, ' ');
	const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	char *end;

	b->found = 0;
	b->data = NULL;
	b->len = 0;
	/*
	 * "<name> missing" or "<name> ambiguous", where the name may hold
	 * spaces; an object's line ends in its size, a number.
	 */
	if (ends_with(p, " missing") || ends_with(p, " ambiguous")) {
		r->at++;
		return;
	}
	if (!sp1 || !sp2 || (size_t)(sp1 - p) >= sizeof(b->oid)) {
		r->broken = 1;
		return;
	}
	errno = 0;
	unsigned long long size = strtoull(sp2 + 1, &end, 10);
	if (*end || errno || size >= SIZE_MAX / 2) {
		r->broken = 1;
		return;
	}
	memcpy(b->oid, p, (size_t)(sp1 - p));
	b->oid[sp1 - p] = '\0';
	b->found = (size_t)(sp2 - sp1 - 1) == 4 && !strncmp(sp1 + 1, "blob", 4);
	r->size = (size_t)size;
	r->got = 0;
	r->body = xmalloc(r->size + 1);
	r->store->v = xrealloc(r->store->v, (r->store->nr + 1) * sizeof(*r->store->v));
	r->store->v[r->store->nr++] = r->body;
}

static void batch_sink(void *data, const char *p, size_t n)
{
	struct batch_reader *r = data;
	const char *end = p + n;

	while (p < end && !r->broken) {
		if (r->body) {
			size_t take = r->size - r->got;
			if (take > (size_t)(end - p))
				take = (size_t)(end - p);
			memcpy(r->body + r->got, p, take);
			r->got += take;
			p += take;
			if (r->got == r->size) {
				struct blob *b = &r->blobs[r->at++];
				r->body[r->size] = '\0';
				if (b->found) {
					b->data = r->body;
					b->len = r->size;
				}
				r->body = NULL;
				r->want_newline = 1;
			}
		} else if (r->want_newline) {
			r->broken = *p++ != '\n';
			r->want_newline = 0;
		} else if (r->at >= r->n) {
			r->broken = 1;
		} else {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			buf_add(&r->line, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
			p = nl ? nl + 1 : end;
			if (nl) {
				batch_line(r);
				buf_reset(&r->line);
			}
		}
	}
}

int memrepo_read_blobs(const char *dir, struct blob *blobs, size_t n,
		       struct blob_store *store)
{
	struct child c = CHILD_INIT;
	struct buf in = BUF_INIT;
	struct batch_reader r = {blobs, n, 0, store, BUF_INIT, NULL, 0, 0, 0, 0};
	int ret = -1;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(blobs[i].name, '\n')) {
			buf_release(&in);
			return error("%s: a path with a newline cannot be read",
				     qpath(blobs[i].name));
		}
		buf_addstr(&in, blobs[i].name);
		buf_addch(&in, '\n');
		blobs[i].found = 0;
		blobs[i].data = NULL;
		blobs[i].len = 0;
	}
	child_git(&c, "cat-file", "--batch", NULL);
	c.dir = dir;
	c.in = in.buf;
	c.in_len = in.len;
	c.capture_out = c.capture_err = 1;
	c.out_sink = batch_sink;
	c.sink_data = &r;
	if (child_run(&c)) {
		error("git cat-file failed: %s", c.err.buf);
		goto out;
	}
	if (r.broken || r.at < n || r.body || r.want_newline) {
		error("git cat-file answered %s",
		      r.broken ? "what was not asked" : "too little");
		goto out;
	}
	ret = 0;
out:
	buf_release(&in);
	buf_release(&r.line);
	child_release(&c);
	return ret;
}

int memrepo_git_dir(const char *dir, struct buf *out)
{
	const char *env = getenv("GIT_DIR");
	struct stat st;

	buf_reset(out);
	if (env && *env && !dir) {
		buf_addstr(out, env);
		return 0;
	}
	buf_addf(out, "%s%s.git", dir ? dir : "", dir ? "/" : "");
	if (!stat(out->buf, &st) && S_ISDIR(st.st_mode))
		return 0;
	if (git_output(out, dir, "rev-parse", "--absolute-git-dir", NULL) || !out->len)
		return error("cannot find the git dir of %s", qpath(dir ? dir : "."));
	return 0;
}

int memrepo_toplevel(const char *dir, struct buf *out)
{
	if (dir && access(dir, F_OK))
		return error("'%s': %s", dir, strerror(errno));
	if (git_output(out, dir, "rev-parse", "--show-toplevel", NULL) || !out->len) {
		if (dir)
			return error("'%s' is not in the work tree of a git repository",
				     dir);
		return error("not in the work tree of a git repository: run it inside "
			     "one, or give --repo DIR");
	}
	return 0;
}

static int stage_into(const char *dir, const struct stage_item *items, size_t n,
		      const char *index, void (*meanwhile)(void *), void *ctx);

int memrepo_stage_all(const char *dir, const struct stage_item *items, size_t n,
		      void (*meanwhile)(void *), void *ctx)
{
	return stage_into(dir, items, n, NULL, meanwhile, ctx);
}

/* How many hash-object commands run at once. */
#define HASH_JOBS 4

/* memrepo_stage_all into the index file index (NULL: git's own). */
static int stage_into(const char *dir, const struct stage_item *items, size_t n,
		      const char *index, void (*meanwhile)(void *), void *ctx)
{
	struct child *hs = xcalloc(n + 1, sizeof(*hs));
	struct child c = CHILD_INIT;
	struct buf info = BUF_INIT;
	char index_env[PATH_MAX + 32];
	const char *env[] = {index_env, NULL};
	int ret = -1;

	/*
	 * Each blob goes to a hash-object of its own through a pipe: no
	 * temporary file, and the large ones are compressed side by side.
	 */
	for (size_t i = 0; i < n; i++) {
		hs[i] = (struct child)CHILD_INIT;
		child_git(&hs[i], "hash-object", "-w", "--no-filters", "--stdin", NULL);
		hs[i].dir = dir;
		hs[i].in = items[i].data;
		hs[i].in_len = items[i].len;
		hs[i].capture_out = hs[i].capture_err = 1;
	}
	for (size_t i = 0; i < n; i += HASH_JOBS) {
		struct child *batch[HASH_JOBS];
		size_t m = n - i < HASH_JOBS ? n - i : HASH_JOBS;
		for (size_t k = 0; k < m; k++) {
			batch[k] = &hs[i + k];
			child_start(batch[k]); /* a failure is reported when finishing */
		}
		if (meanwhile && !i)
			meanwhile(ctx);
		child_finish_all(batch, m); /* each status says how it went */
		for (size_t k = 0; k < m; k++) {
			struct child *h = &hs[i + k];
			size_t len = strcspn(h->out.buf, "\r\n");
			if (h->status || len < 40 || len > 64) {
				error("cannot store %s in git: %s",
				      qpath(items[i + k].path),
				      h->err.len ? h->err.buf : "no object id");
				goto out;
			}
			buf_addf(&info, "%s %.*s\t%s",
				 items[i + k].mode ? items[i + k].mode : "100644",
				 (int)len, h->out.buf, items[i + k].path);
			buf_addch(&info, '\0');
		}
	}
	if (!n) {
		if (meanwhile)
			meanwhile(ctx);
		goto done;
	}
	child_git(&c, "update-index", "-z", "--index-info", NULL);
	c.dir = dir;
	c.in = info.buf;
	c.in_len = info.len;
	c.capture_err = 1;
	if (index) {
		snprintf(index_env, sizeof(index_env), "GIT_INDEX_FILE=%s", index);
		c.env = env;
	}
	if (child_run(&c)) {
		error("cannot stage the memory files: %s", c.err.buf);
		goto out;
	}
done:
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		child_release(&hs[i]);
	free(hs);
	child_release(&c);
	buf_release(&info);
	return ret;
}

/* Run git with GIT_INDEX_FILE=index; its stdout (trimmed) into out when not NULL. */
static int git_with_index(const char *dir, const char *index, struct buf *out, ...)
{
	struct child c = CHILD_INIT;
	struct buf env0 = BUF_INIT;
	const char *env[] = {NULL, NULL};
	const char *arg;
	va_list ap;
	int ret;

	child_push(&c, "git");
	va_start(ap, out);
	while ((arg = va_arg(ap, const char *)))
		child_push(&c, arg);
	va_end(ap);
	if (index) {
		buf_addf(&env0, "GIT_INDEX_FILE=%s", index);
		env[0] = env0.buf;
		c.env = env;
	}
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	ret = child_run(&c);
	if (ret > 0)
		error("git %s failed: %s", c.args[1], c.err.buf);
	if (out) {
		buf_reset(out);
		buf_add(out, c.out.buf, strcspn(c.out.buf, "\n"));
	}
	child_release(&c);
	buf_release(&env0);
	return ret ? -1 : 0;
}

int memrepo_commit_files(const char *dir, const char *gitdir,
			 const struct stage_item *items, size_t n, const char *message,
			 struct buf *commit)
{
	struct buf index = BUF_INIT, head = BUF_INIT, tree = BUF_INIT;
	int ret = -1;

	buf_addf(&index, "%s/crdtmem/commit-index-%ld", gitdir, (long)getpid());
	unlink(index.buf);
	if (git_with_index(dir, NULL, &head, "rev-parse", "--verify", "-q", "HEAD",
			   NULL) ||
	    git_with_index(dir, index.buf, NULL, "read-tree", "HEAD", NULL) ||
	    stage_into(dir, items, n, index.buf, NULL, NULL) ||
	    git_with_index(dir, index.buf, &tree, "write-tree", NULL) ||
	    git_with_index(dir, NULL, commit, "commit-tree", tree.buf, "-p", head.buf,
			   "-m", message, NULL) ||
	    git_with_index(dir, NULL, NULL, "update-ref", "-m", message, "HEAD",
			   commit->buf, head.buf, NULL))
		goto out;
	ret = 0;
out:
	unlink(index.buf);
	buf_release(&index);
	buf_release(&head);
	buf_release(&tree);
	return ret;
}
