/*
 * The memory files of a git repository (see memrepo.h).
 */
#include "memrepo.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
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

int memrepo_ls_index(const char *dir, struct tracked_list *out, int fallback)
{
	struct child c = CHILD_INIT;
	int ret = -1;

	child_git(&c, "ls-files", "-s", "-z", "--full-name", NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		error("git ls-files failed: %s", c.err.buf);
		goto out;
	}
	for (const char *p = c.out.buf; p < c.out.buf + c.out.len; p += strlen(p) + 1) {
		/* <mode> SP <oid> SP <stage> TAB <path> */
		const char *tab = strchr(p, '\t');
		char mode[8], oid[72];
		int stage;
		if (!tab || sscanf(p, "%7s %71s %d", mode, oid, &stage) != 3)
			continue;
		if (!ends_with(tab + 1, ".json"))
			continue;
		struct tracked *t = add(out, tab + 1);
		memcpy(t->mode, mode, sizeof(mode));
		memcpy(t->oid, oid, sizeof(oid));
		t->stage = stage;
	}
	ret = mark_governed(dir, out, fallback);
out:
	child_release(&c);
	return ret;
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

int memrepo_ls_tree(const char *dir, const char *rev, struct tracked_list *out,
		    int fallback)
{
	struct child c = CHILD_INIT;
	int ret = -1;

	child_git(&c, "ls-tree", "-r", "-z", "--full-tree", rev, NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		/* An unborn branch has no tree: an empty list, not an error. */
		int exists = rev_exists(dir, rev);
		if (!exists)
			ret = 1;
		else if (exists > 0)
			error("git ls-tree %s failed: %s", rev, c.err.buf);
		goto out;
	}
	for (const char *p = c.out.buf; p < c.out.buf + c.out.len; p += strlen(p) + 1) {
		/* <mode> SP <type> SP <oid> TAB <path> */
		const char *tab = strchr(p, '\t');
		char mode[8], type[16], oid[72];
		if (!tab || sscanf(p, "%7s %15s %71s", mode, type, oid) != 3 ||
		    strcmp(type, "blob") || !ends_with(tab + 1, ".json"))
			continue;
		struct tracked *t = add(out, tab + 1);
		memcpy(t->mode, mode, sizeof(mode));
		memcpy(t->oid, oid, sizeof(oid));
	}
	ret = fallback == MEMREPO_NO_ATTR ? 0 : mark_governed(dir, out, fallback);
out:
	child_release(&c);
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

int memrepo_read_blobs(const char *dir, struct blob *blobs, size_t n, struct buf *store)
{
	struct child c = CHILD_INIT;
	struct buf in = BUF_INIT;
	int ret = -1;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(blobs[i].name, '\n'))
			return error("%s: a path with a newline cannot be read",
				     qpath(blobs[i].name));
		buf_addstr(&in, blobs[i].name);
		buf_addch(&in, '\n');
	}
	child_git(&c, "cat-file", "--batch", NULL);
	c.dir = dir;
	c.in = in.buf;
	c.in_len = in.len;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		error("git cat-file failed: %s", c.err.buf);
		goto out;
	}
	/* "<oid> <type> <size>\n<contents>\n", or "<name> missing\n" */
	buf_release(store);
	*store = c.out;
	buf_init(&c.out, 0);
	const char *p = store->buf, *end = store->buf + store->len;
	for (size_t i = 0; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char oid[72], type[16];
		unsigned long long size;

		blobs[i].found = 0;
		blobs[i].data = NULL;
		blobs[i].len = 0;
		if (!nl) {
			error("git cat-file answered too little");
			goto out;
		}
		if (sscanf(p, "%71s %15s %llu", oid, type, &size) == 3) {
			if ((size_t)(end - nl - 1) < size + 1) {
				error("git cat-file answered too little");
				goto out;
			}
			if (!strcmp(type, "blob")) {
				blobs[i].found = 1;
				memcpy(blobs[i].oid, oid, sizeof(oid));
				blobs[i].data = nl + 1;
				blobs[i].len = (size_t)size;
			}
			p = nl + 1 + size + 1;
		} else {
			p = nl + 1; /* "<name> missing" or "ambiguous" */
		}
	}
	ret = 0;
out:
	buf_release(&in);
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

static int stage_into(const char *dir, const char *gitdir, const struct stage_item *items,
		      size_t n, const char *index);

int memrepo_stage_all(const char *dir, const char *gitdir, const struct stage_item *items,
		      size_t n)
{
	return stage_into(dir, gitdir, items, n, NULL);
}

/* memrepo_stage_all into the index file index (NULL: git's own). */
static int stage_into(const char *dir, const char *gitdir, const struct stage_item *items,
		      size_t n, const char *index)
{
	struct child c = CHILD_INIT;
	struct buf tmpdir = BUF_INIT, info = BUF_INIT;
	char **tmp = xcalloc(n + 1, sizeof(*tmp));
	char index_env[PATH_MAX + 32];
	const char *env[] = {index_env, NULL};
	int ret = -1;

	if (!n)
		goto done;
	buf_addf(&tmpdir, "%s/crdtmem", gitdir);
	if (mkdir_p(tmpdir.buf)) {
		error("cannot create %s: %s", qpath(tmpdir.buf), strerror(errno));
		goto out;
	}
	child_git(&c, "hash-object", "-w", "--no-filters", "--", NULL);
	for (size_t i = 0; i < n; i++) {
		struct buf name = BUF_INIT;
		buf_addf(&name, "%s/stage-XXXXXX", tmpdir.buf);
		int fd = mkstemp(name.buf);
		if (fd < 0 || atomic_write_full(fd, items[i].data, items[i].len) ||
		    close(fd)) {
			error("cannot write %s: %s", qpath(name.buf), strerror(errno));
			if (fd >= 0)
				unlink(name.buf);
			buf_release(&name);
			goto out;
		}
		tmp[i] = buf_detach(&name, NULL);
		child_push(&c, tmp[i]);
	}
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		error("cannot store the memory files in git: %s", c.err.buf);
		goto out;
	}
	const char *p = c.out.buf;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(p, "\n");
		if (len < 40)
			die("git hash-object gave %zu ids for %zu files", i, n);
		buf_addf(&info, "%s %.*s\t%s", items[i].mode ? items[i].mode : "100644",
			 (int)len, p, items[i].path);
		buf_addch(&info, '\0');
		p += len + (p[len] == '\n');
	}
	child_release(&c);
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
		if (tmp[i]) {
			unlink(tmp[i]);
			free(tmp[i]);
		}
	free(tmp);
	child_release(&c);
	buf_release(&tmpdir);
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
	    stage_into(dir, gitdir, items, n, index.buf) ||
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
