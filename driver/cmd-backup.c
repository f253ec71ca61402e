/*
 * git-merge-crdtmem backup --memory FILE --repo DIR [--host NAME] [--remote R]
 * [--branch B] [--no-push] [--dry-run] [--force]: record this machine's live
 * memory file in the memory repository and share it (DESIGN.md "backup").
 *
 *   1. read the live file (the server's JSONL, or a JSON array; empty is an
 *      empty memory) and refuse one the server cannot read;
 *   2. stamp it against every version the clone knows (restamp.h): its
 *      previous memory-<host>.json, or what the last restore wrote into
 *      that file when that is newer (restored.h), and the unified file;
 *      unchanged entries keep their metadata, gone ones become tombstones;
 *   3. refuse to record the loss of most of the memory at once, and
 *      entries that look like credentials;
 *   4. write memory-<host>.json and unified-memory.json (the join of its
 *      previous content and every host file) and commit only those two
 *      paths, never anything else a person left in the clone;
 *   5. fetch, rebase onto the remote branch (the merge driver and the hooks
 *      do the merging), push; a rejected push is tried again after an
 *      exponential, jittered pause.
 * Every git call has a timeout. A lock in the git dir keeps two backups of
 * one clone apart. On a failure after the commit, the commit stays and the
 * message says what to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "gitops.h"
#include "livefile.h"
#include "memrepo.h"
#include "restamp.h"
#include "restored.h"
#include "secrets.h"
#include "setup.h"
#include "statelog.h"
#include "writer.h"

const char backup_usage[] =
	"usage: git-merge-crdtmem backup [--memory FILE] [--repo DIR] [--host NAME]\n"
	"                                [--remote R] [--branch B] [--no-push] "
	"[--dry-run]\n"
	"                                [--force] [--allow-secrets] [--retries N]\n"
	"                                [--timeout SECONDS] [-q]\n";

static const char backup_help[] =
	"\n"
	"Records this machine's live memory file in the memory repository as\n"
	"memory-<host>.json, regenerates unified-memory.json, commits those two\n"
	"files only, then pulls (rebase) and pushes. Run it as often as you like\n"
	"on every machine at once: merges never conflict and nothing is lost.\n"
	"\n"
	"  --memory FILE   the live memory file (default: $MEMORY_FILE_PATH), as\n"
	"                  the memory server writes it (JSON lines), or a JSON array\n"
	"  --repo DIR      the memory repository (default: the one around the\n"
	"                  current folder); it must be set up with\n"
	"                  'git-merge-crdtmem install'\n"
	"  --host NAME     this machine's name (default: git config crdtmem.host,\n"
	"                  else the short host name)\n"
	"  --remote R      where to push (default: the branch's remote, else origin)\n"
	"  --branch B      the remote branch (default: the branch's upstream, else\n"
	"                  the current branch's name)\n"
	"  --no-push       commit only; no fetch, no push\n"
	"  --dry-run       say what would change; write, commit and fetch nothing\n"
	"  --force         record a memory that lost most of its entries at once\n"
	"  --allow-secrets commit entries that look like credentials (also\n"
	"                  CRDTMEM_ALLOW_SECRETS=1 or git config crdtmem.allowSecrets)\n"
	"  --retries N     tries of fetch, rebase and push when the push is\n"
	"                  rejected (default 8), with growing, jittered pauses\n"
	"  --timeout S     seconds any network git call may take (default 120)\n"
	"  -q, --quiet     print nothing but warnings and errors\n"
	"\n"
	"Unchanged entries keep their stamps; new and changed ones get a\n"
	"hybrid-logical-clock stamp (a later edit wins even when this machine's\n"
	"clock is behind); entries gone since the last backup (or since the last\n"
	"restore into FILE) become tombstones. Nothing changed: no commit, but\n"
	"unpushed commits are still pushed.\n"
	"\n"
	"Refusals (nothing is changed): FILE is not valid JSON lines; the live\n"
	"file lost most of its entries at once (empty, or under half of at least\n"
	"10) unless --force; memory-<host>.json or unified-memory.json has\n"
	"uncommitted changes; a merge or rebase is in progress; the clone is not\n"
	"set up. Other uncommitted work in the clone is never committed or lost:\n"
	"it is set aside during the rebase (git's autostash) and put back.\n"
	"\n"
	"Each run appends one line (counts, no contents) to\n"
	"$XDG_STATE_HOME/git-merge-crdtmem/log (default ~/.local/state/...).\n"
	"\n"
	"Exit status: 0 backed up (and pushed unless --no-push); 1 refused or\n"
	"failed, with what to do (a commit made is kept); 2 wrong usage.\n";

#define DEFAULT_RETRIES	  8
#define DEFAULT_TIMEOUT_S 120
#define BACKOFF_BASE_MS	  250
#define BACKOFF_CAP_MS	  8000
#define PROGRESS_AFTER_MS 2000

/* The two heads of an operation git may have left half done. */
static const char *const in_progress[] = {"MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD",
					  "rebase-merge", "rebase-apply"};
#define NR_IN_PROGRESS (sizeof(in_progress) / sizeof(*in_progress))

struct backup {
	/* Options. */
	const char *memory, *repo, *host_opt, *remote_opt, *branch_opt;
	int no_push, dry_run, force, allow_secrets, quiet, retries, timeout_s;
	/* Where. */
	struct buf top, gitdir, host, host_path, remote, branch;
	char *memory_abs;
	/* What happened, for the log and the messages. */
	long long start;
	int show_progress;
	struct restamp_stats st;
	int committed, pushed, tries;
	const char *result;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A progress line on a terminal once the run has taken over two seconds. */
static void progress(struct backup *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void progress(struct backup *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->show_progress || now_ms() - b->start < PROGRESS_AFTER_MS)
		return;
	fputs("backup: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("...\n", stderr);
}

/* The first line of git's message, for ours. */
static const char *first_line(struct buf *err)
{
	char *p = err->buf;

	while (*p == '\n')
		p++;
	while (!strncmp(p, "error: ", 7) || !strncmp(p, "fatal: ", 7))
		p += 7;
	p[strcspn(p, "\n")] = '\0';
	return *p ? p : "(no message)";
}

/* Run git in the clone; stderr captured. Returns git's status or -1. */
static int run_git(struct backup *b, struct child *c, int network, const char *const *env)
{
	c->dir = b->top.buf;
	c->capture_out = c->capture_err = 1;
	c->env = env;
	if (network)
		c->timeout_ms = b->timeout_s * 1000;
	else if (git_timeout_ms() < b->timeout_s * 1000)
		c->timeout_ms =
			b->timeout_s * 1000; /* rebases run the driver and hooks */
	return child_run(c);
}

/* ---- reading ---- */

/*
 * Read and check the live file. Refuses what the server cannot read;
 * warns about what it would read differently.
 */
static int read_live(struct backup *b, struct memfile *live)
{
	struct buf err = BUF_INIT;
	struct stat st;
	int ret = -1;

	if (stat(b->memory, &st)) {
		if (errno == ENOENT)
			error("'%s' does not exist: is the path right? (the memory "
			      "server "
			      "creates its file on its first change; pass --memory FILE)",
			      b->memory);
		else
			error("cannot read '%s': %s", b->memory, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		error("'%s' is not a regular file", b->memory);
		goto out;
	}
	if (memfile_load(live, b->memory, &err)) {
		error("'%s' is not a memory file the memory server can read: %s; the "
		      "server fails on every request until it is fixed (or restored "
		      "with 'git-merge-crdtmem restore'); nothing was backed up",
		      b->memory, err.buf);
		goto out;
	}
	if (live->format == MEMFILE_ARRAY) {
		/* The server reads line by line: a one-line array is an empty graph. */
		size_t len = live->size;
		while (len && strchr(" \t\r\n", live->bytes[len - 1]))
			len--;
		int one_line = !memchr(live->bytes, '\n', len);
		warning("'%s' is a JSON array, not the memory server's JSON lines: the "
			"server reads it as %s; backing up its %zu entries anyway (run "
			"'git-merge-crdtmem restore' to write them back in the server's "
			"format)",
			b->memory,
			one_line ? "an EMPTY memory and overwrites it on its next change"
				 : "invalid and fails on every request",
			live->set.nr);
	}
	size_t foreign = livefile_count_foreign(&live->set);
	if (foreign)
		warning("'%s': %zu entries are neither MCP entities nor relations; the "
			"memory server drops them on its next change",
			b->memory, foreign);
	if (live->duplicates)
		warning("'%s': %zu names appear more than once; their versions were "
			"joined into one",
			b->memory, live->duplicates);
	ret = 0;
out:
	buf_release(&err);
	return ret;
}

/* Whether the clone is set up for the driver and the hooks. */
static int check_setup(struct backup *b)
{
	struct setup_state st;
	const char *missing = NULL;

	if (setup_inspect(b->top.buf, &st))
		return -1;
	if (!st.driver_ok)
		missing = "the merge driver (git config merge.crdtmem.driver)";
	else if (!st.recursive_ok)
		missing = "merge.crdtmem.recursive";
	else if (!st.attr_memory || !st.attr_unified)
		missing = "the merge=crdtmem attribute on the memory files";
	for (int i = 0; !missing && i < SETUP_NR_HOOKS; i++)
		if (!st.hooks_ok[i])
			missing = "the hooks";
	setup_state_release(&st);
	if (!missing)
		return 0;
	if (b->dry_run) {
		warning("'%s' lacks %s; run 'git-merge-crdtmem install --repo %s' before "
			"a real backup",
			b->top.buf, missing, b->top.buf);
		return 0;
	}
	return error("'%s' is not set up for backups: it lacks %s, so a pull could "
		     "merge memory files as text; run 'git-merge-crdtmem install --repo "
		     "%s' first",
		     b->top.buf, missing, b->top.buf);
}

/*
 * While backup rebases, $GIT_DIR/crdtmem/backup-rebase exists: a rebase
 * found half done with it there was cut short by a killed backup (the lock
 * is ours now, so that backup is gone), not started by a person.
 */
static void rebase_marker(const struct backup *b, struct buf *path)
{
	buf_reset(path);
	buf_addf(path, "%s/crdtmem/backup-rebase", b->gitdir.buf);
}

static void mark_rebase(const struct backup *b, int on)
{
	struct buf path = BUF_INIT;

	rebase_marker(b, &path);
	if (on)
		atomic_write(path.buf, "", 0, 0);
	else
		unlink(path.buf);
	buf_release(&path);
}

/* Undo the rebase a killed backup left behind. Returns 0, or -1 (reported). */
static int undo_interrupted_rebase(struct backup *b)
{
	struct buf path = BUF_INIT;
	struct child c = CHILD_INIT;
	struct stat st;
	int ret = 0;

	rebase_marker(b, &path);
	if (stat(path.buf, &st))
		goto out;
	if (memrepo_rebasing(b->top.buf) > 0) {
		child_git(&c, "rebase", "--abort", NULL);
		if (run_git(b, &c, 0, NULL)) {
			ret = error(
				"cannot undo the rebase an interrupted backup left in "
				"%s: %s; run 'git rebase --abort' there",
				qpath(b->top.buf), first_line(&c.err));
			goto out;
		}
		warning("undid the rebase an interrupted backup left in %s; its "
			"commit is kept",
			qpath(b->top.buf));
	}
	unlink(path.buf);
out:
	child_release(&c);
	buf_release(&path);
	return ret;
}

/* Refuse when an operation is half done or the two files have local changes. */
static int check_clone(struct backup *b)
{
	struct child c = CHILD_INIT;
	struct buf path = BUF_INIT;
	struct stat st;
	int ret = -1;

	for (size_t i = 0; i < NR_IN_PROGRESS; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", b->gitdir.buf, in_progress[i]);
		if (!stat(path.buf, &st)) {
			error("a %s is in progress in '%s' (%s exists); finish or abort "
			      "it, then run backup again",
			      i == 1   ? "cherry-pick"
			      : i == 2 ? "revert"
			      : i      ? "rebase"
				       : "merge",
			      b->top.buf, in_progress[i]);
			goto out;
		}
	}
	child_git(&c, "status", "--porcelain", "-z", "--untracked-files=all", "--",
		  b->host_path.buf, UNIFIED_NAME, NULL);
	if (run_git(b, &c, 0, NULL)) {
		error("git status failed in '%s': %s", b->top.buf, first_line(&c.err));
		goto out;
	}
	for (const char *p = c.out.buf; p < c.out.buf + c.out.len; p += strlen(p) + 1) {
		if (strlen(p) < 4)
			continue;
		error("'%s' in '%s' has changes that are not committed (%.2s); backup "
		      "writes that file itself and will not mix them in: commit them "
		      "('git -C %s commit %s') or drop them ('git -C %s checkout -- %s', "
		      "or remove it if it is new), then run backup again",
		      p + 3, b->top.buf, p, b->top.buf, p + 3, b->top.buf, p + 3);
		goto out;
	}
	ret = 0;
out:
	child_release(&c);
	buf_release(&path);
	return ret;
}

/* A top-level memory-*.json or unified-memory.json. */
static int is_memory_path(const char *path)
{
	size_t n = strlen(path);

	if (strchr(path, '/'))
		return 0;
	return !strcmp(path, UNIFIED_NAME) ||
	       (n > 12 && !strncmp(path, "memory-", 7) && !strcmp(path + n - 5, ".json"));
}

/* The memory files at HEAD, parsed. */
struct head_files {
	struct tracked_list list;
	struct blob *blobs;
	struct memfile *files; /* files[i] for list.v[i]; empty when not a memory file */
	int *ok;
	struct blob_store store;
	int mine, unified; /* their indexes, or -1 */
};

static void head_release(struct head_files *h)
{
	for (size_t i = 0; h->files && i < h->list.nr; i++)
		memfile_release(&h->files[i]);
	free(h->files);
	free(h->blobs);
	free(h->ok);
	tracked_list_release(&h->list);
	blob_store_release(&h->store);
}

static int read_head(struct backup *b, struct head_files *h)
{
	struct buf err = BUF_INIT;
	int ret = -1;

	h->mine = h->unified = -1;
	if (memrepo_ls_tree(b->top.buf, "HEAD", &h->list, MEMREPO_NO_ATTR) < 0)
		goto out;
	h->blobs = xcalloc(h->list.nr + 1, sizeof(*h->blobs));
	h->files = xcalloc(h->list.nr + 1, sizeof(*h->files));
	h->ok = xcalloc(h->list.nr + 1, sizeof(*h->ok));
	for (size_t i = 0; i < h->list.nr; i++) {
		h->files[i] = (struct memfile)MEMFILE_INIT;
		h->blobs[i].name = h->list.v[i].oid;
	}
	if (memrepo_read_blobs(b->top.buf, h->blobs, h->list.nr, &h->store))
		goto out;
	for (size_t i = 0; i < h->list.nr; i++) {
		const char *path = h->list.v[i].path;
		int is_mine = !strcmp(path, b->host_path.buf);
		int is_unified = !strcmp(path, UNIFIED_NAME);

		if (!is_memory_path(path) || !h->blobs[i].found)
			continue;
		buf_reset(&err);
		if (memfile_parse_borrowed(&h->files[i], h->blobs[i].data,
					   h->blobs[i].len, &err)) {
			if (is_mine || is_unified) {
				error("'%s' at HEAD is not a valid memory file: %s; fix "
				      "it "
				      "(git-merge-crdtmem verify) before backing up",
				      path, err.buf);
				goto out;
			}
			warning("'%s' at HEAD is not a valid memory file, left out of "
				"the "
				"unified file: %s",
				path, err.buf);
			continue;
		}
		h->ok[i] = 1;
		if (is_mine)
			h->mine = (int)i;
		if (is_unified)
			h->unified = (int)i;
	}
	ret = 0;
out:
	buf_release(&err);
	return ret;
}

/* ---- stamping ---- */

/* out = out joined with set. */
static void join_into(struct entry_set *out, const struct entry_set *set)
{
	struct entry_set next = ENTRY_SET_INIT;

	crdt_join_sets(out, set, &next);
	entry_set_release(out);
	*out = next;
}

/*
 * For keys the live file no longer holds: where the unified file has a
 * newer tombstone than ours (someone deleted the entry, and a restore took
 * it out of this machine's memory), take that tombstone, so that
 * memory-<host>.json says what this machine's memory holds.
 */
static void adopt_tombstones(struct entry_set *out, const struct entry_set *live,
			     const struct entry_set *unified)
{
	for (size_t i = 0; unified && i < out->nr; i++) {
		struct entry *e = out->v[i];
		const struct entry *u;

		if (e->deleted || entry_set_find(live, e->key, e->key_len))
			continue;
		u = entry_set_find(unified, e->key, e->key_len);
		if (u && u->deleted && entry_cmp_version(u, e) > 0) {
			out->v[i] = entry_ref((struct entry *)u);
			entry_unref(e);
		}
	}
}

/* Report changed entries that look like credentials. Returns how many. */
static size_t find_secrets(struct backup *b, const struct entry_set *changed)
{
	size_t found = 0;

	for (size_t i = 0; i < changed->nr; i++) {
		const char *kind =
			secret_kind(changed->v[i]->text, changed->v[i]->text_len);
		if (kind) {
			error("'%s': entry %s holds what looks like %s", b->memory,
			      changed->v[i]->key, kind);
			found++;
		}
	}
	return found;
}

static int allow_secrets_config(struct backup *b)
{
	struct buf v = BUF_INIT;
	const char *env = getenv("CRDTMEM_ALLOW_SECRETS");
	int allow = env && *env && strcmp(env, "0");

	if (!allow && !git_output(&v, b->top.buf, "config", "--type=bool", "--get",
				  "crdtmem.allowSecrets", NULL))
		allow = !strcmp(v.buf, "true");
	buf_release(&v);
	return allow;
}

/* Print the dry run's report: what memory-<host>.json would gain and lose. */
static void report(struct backup *b, const struct entry_set *changed,
		   const struct entry_set *out, const struct entry_set *before,
		   int host_changes, int unified_changes)
{
	printf("%s: %zu added, %zu changed, %zu deleted, %zu kept%s\n", b->host_path.buf,
	       b->st.added, b->st.changed, b->st.deleted, b->st.kept,
	       host_changes ? "" : " (no change)");
	for (size_t i = 0; i < changed->nr; i++) {
		const struct entry *e = changed->v[i];
		const struct entry *was =
			before ? entry_set_find(before, e->key, e->key_len) : NULL;
		printf("  %c %s\n", was && !was->deleted ? '~' : '+', e->key);
	}
	for (size_t i = 0; i < out->nr; i++) {
		const struct entry *e = out->v[i];
		const struct entry *was =
			before ? entry_set_find(before, e->key, e->key_len) : NULL;
		if (e->deleted && was && !was->deleted)
			printf("  - %s\n", e->key);
	}
	printf("%s: %s\n", UNIFIED_NAME, unified_changes ? "would change" : "no change");
	if (!b->no_push)
		printf("then: fetch, rebase onto and push to '%s' branch '%s'\n",
		       b->remote.buf, b->branch.buf);
}

/* ---- committing ---- */

/* Put back the two files after a failed commit. */
static void put_back(struct backup *b, const char *const *paths, const struct blob *old,
		     size_t n, int head_exists)
{
	struct child c = CHILD_INIT;
	struct buf full = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		buf_reset(&full);
		buf_addf(&full, "%s/%s", b->top.buf, paths[i]);
		if (old[i].found)
			atomic_write(full.buf, old[i].data, old[i].len, ATOMIC_FSYNC);
		else
			unlink(full.buf);
	}
	if (head_exists)
		child_git(&c, "reset", "-q", "--", NULL);
	else
		child_git(&c, "rm", "-q", "--cached", "--ignore-unmatch", "--", NULL);
	for (size_t i = 0; i < n; i++)
		child_push(&c, paths[i]);
	run_git(b, &c, 0, NULL);
	child_release(&c);
	buf_release(&full);
}

/* Write the files whose bytes changed and commit exactly those paths. */
static int commit_files(struct backup *b, const char *const *paths,
			const struct buf *const *bytes, const struct blob *old, size_t n,
			int head_exists)
{
	static const char *const env[] = {"CRDTMEM_HOOK_COMMIT=1", NULL};
	struct child c = CHILD_INIT;
	struct buf full = BUF_INIT, msg = BUF_INIT;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		buf_reset(&full);
		buf_addf(&full, "%s/%s", b->top.buf, paths[i]);
		if (atomic_write(full.buf, bytes[i]->buf, bytes[i]->len, ATOMIC_FSYNC))
			goto fail;
	}
	child_git(&c, "add", "--", NULL);
	for (size_t i = 0; i < n; i++)
		child_push(&c, paths[i]);
	if (run_git(b, &c, 0, env)) {
		error("cannot stage the memory files: %s", first_line(&c.err));
		goto fail;
	}
	child_release(&c);
	buf_addf(&msg, "backup from %s: %zu added, %zu changed, %zu deleted", b->host.buf,
		 b->st.added, b->st.changed, b->st.deleted);
	child_git(&c, "commit", "-q", "--only", "-m", msg.buf, "--", NULL);
	for (size_t i = 0; i < n; i++)
		child_push(&c, paths[i]);
	if (run_git(b, &c, 0, env)) {
		error("cannot commit the memory files: %s", first_line(&c.err));
		goto fail;
	}
	b->committed = 1;
	ret = 0;
	goto out;
fail:
	put_back(b, paths, old, n, head_exists);
	fprintf(stderr, "hint: nothing was committed and the files are as they were; "
			"fix the cause and run backup again\n");
out:
	child_release(&c);
	buf_release(&full);
	buf_release(&msg);
	return ret;
}

/* ---- sharing ---- */

static int pick_remote(struct backup *b)
{
	struct buf v = BUF_INIT, key = BUF_INIT;
	int ret = -1;

	buf_reset(&b->branch);
	if (git_output(&v, b->top.buf, "symbolic-ref", "-q", "--short", "HEAD", NULL)) {
		if (!b->no_push) {
			error("'%s' is not on a branch (detached HEAD); check out the "
			      "memory branch, or pass --no-push",
			      b->top.buf);
			goto out;
		}
		ret = 0;
		goto out;
	}
	const char *local = v.buf;
	buf_addf(&key, "branch.%s.remote", local);
	if (b->remote_opt)
		buf_addstr(&b->remote, b->remote_opt);
	else {
		struct buf r = BUF_INIT;
		if (!git_output(&r, b->top.buf, "config", "--get", key.buf, NULL) &&
		    r.len)
			buf_addbuf(&b->remote, &r);
		else
			buf_addstr(&b->remote, "origin");
		buf_release(&r);
	}
	if (b->branch_opt) {
		buf_addstr(&b->branch, b->branch_opt);
	} else {
		struct buf m = BUF_INIT;
		buf_reset(&key);
		buf_addf(&key, "branch.%s.merge", local);
		if (!git_output(&m, b->top.buf, "config", "--get", key.buf, NULL) &&
		    !strncmp(m.buf, "refs/heads/", 11))
			buf_addstr(&b->branch, m.buf + 11);
		else
			buf_addstr(&b->branch, local);
		buf_release(&m);
	}
	if (!b->no_push && !b->dry_run &&
	    git_output(&v, b->top.buf, "remote", "get-url", b->remote.buf, NULL)) {
		error("'%s' has no remote '%s': add one ('git -C %s remote add %s URL'), "
		      "or pass --remote R, or --no-push to commit only",
		      b->top.buf, b->remote.buf, b->top.buf, b->remote.buf);
		goto out;
	}
	ret = 0;
out:
	buf_release(&v);
	buf_release(&key);
	return ret;
}

/* git merge-base --is-ancestor a b: 1 yes, 0 no, -1 failed. */
static int is_ancestor(struct backup *b, const char *a, const char *c2)
{
	struct child c = CHILD_INIT;
	int status;

	child_git(&c, "merge-base", "--is-ancestor", a, c2, NULL);
	status = run_git(b, &c, 0, NULL);
	if (status > 1)
		error("git merge-base failed: %s", first_line(&c.err));
	child_release(&c);
	return status == 0 ? 1 : status == 1 ? 0 : -1;
}

/*
 * Wait before try + 1: a random time up to round_ms * 2^(try - 1) ("full
 * jitter"), where round_ms is how long the last round of fetch, rebase and
 * push took (at least BACKOFF_BASE_MS): the window in which another
 * machine's push makes ours fail. Scaling by it spreads the machines out
 * whether a round takes 50 ms or 5 s.
 */
static void pause_before_retry(int try, long long round_ms)
{
	unsigned seed;
	int fd = open("/dev/urandom", O_RDONLY);
	long long span = round_ms > BACKOFF_BASE_MS ? round_ms : BACKOFF_BASE_MS;

	if (fd < 0 || read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
		seed = (unsigned)getpid() ^ (unsigned)now_ms();
	if (fd >= 0)
		close(fd);
	for (int i = 1; i < try && span < BACKOFF_CAP_MS; i++)
		span *= 2;
	if (span > BACKOFF_CAP_MS)
		span = BACKOFF_CAP_MS;
	long long delay = (long long)(seed % (unsigned)(span + 1));
	struct timespec ts = {(time_t)(delay / 1000), (long)(delay % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Outcomes of one round of fetch, rebase and push. */
enum round { ROUND_DONE, ROUND_REJECTED, ROUND_FAILED };

static enum round share_once(struct backup *b)
{
	struct child c = CHILD_INIT;
	struct buf upstream = BUF_INIT, dst = BUF_INIT;
	enum round ret = ROUND_FAILED;
	int remote_empty = 0, rebasing;

	progress(b, "fetching '%s' from '%s' (try %d of %d)", b->branch.buf,
		 b->remote.buf, b->tries, b->retries);
	child_git(&c, "fetch", "-q", "--no-tags", b->remote.buf, b->branch.buf, NULL);
	if (run_git(b, &c, 1, NULL)) {
		if (!c.timed_out && c.status > 0 &&
		    strstr(c.err.buf, "couldn't find remote ref")) {
			remote_empty = 1;
		} else {
			error("cannot fetch from '%s': %s", b->remote.buf,
			      c.timed_out ? "no answer within the timeout (--timeout)"
					  : first_line(&c.err));
			goto out;
		}
	}
	child_release(&c);
	if (!remote_empty) {
		if (git_output(&upstream, b->top.buf, "rev-parse", "-q", "--verify",
			       "FETCH_HEAD^{commit}", NULL)) {
			error("cannot read what was fetched from '%s'", b->remote.buf);
			goto out;
		}
		int behind = is_ancestor(b, upstream.buf, "HEAD");
		if (behind < 0)
			goto out;
		if (!behind) {
			progress(b, "rebasing onto '%s/%s'", b->remote.buf,
				 b->branch.buf);
			child_git(&c, "rebase", "-q", "--autostash", upstream.buf, NULL);
			mark_rebase(b, 1);
			int failed = run_git(b, &c, 0, NULL);
			if (failed) {
				error("rebasing onto '%s/%s' stopped: %s", b->remote.buf,
				      b->branch.buf, first_line(&c.err));
				rebasing = memrepo_rebasing(b->top.buf);
				if (rebasing > 0) {
					struct child a = CHILD_INIT;
					child_git(&a, "rebase", "--abort", NULL);
					run_git(b, &a, 0, NULL);
					child_release(&a);
				}
				fprintf(stderr,
					"hint: the rebase was undone; run 'git -C %s "
					"pull "
					"--rebase %s %s' to see the conflict\n",
					b->top.buf, b->remote.buf, b->branch.buf);
			}
			if (failed && memrepo_rebasing(b->top.buf) > 0)
				goto out; /* not undone: the marker stays for the next run
					   */
			mark_rebase(b, 0);
			if (failed)
				goto out;
			child_release(&c);
		}
		int pushed = is_ancestor(b, "HEAD", upstream.buf);
		if (pushed < 0)
			goto out;
		if (pushed) {
			ret = ROUND_DONE; /* nothing of ours is missing there */
			goto out;
		}
	}
	progress(b, "pushing to '%s'", b->remote.buf);
	buf_addf(&dst, "HEAD:refs/heads/%s", b->branch.buf);
	child_git(&c, "push", "-q", b->remote.buf, dst.buf, NULL);
	if (!run_git(b, &c, 1, NULL)) {
		b->pushed = 1;
		ret = ROUND_DONE;
		goto out;
	}
	if (c.timed_out) {
		error("cannot push to '%s': no answer within %d s (--timeout)",
		      b->remote.buf, b->timeout_s);
		goto out;
	}
	if (c.status > 0 &&
	    (strstr(c.err.buf, "[rejected]") || strstr(c.err.buf, "[remote rejected]") ||
	     strstr(c.err.buf, "non-fast-forward") || strstr(c.err.buf, "fetch first"))) {
		ret = ROUND_REJECTED;
		goto out;
	}
	error("cannot push to '%s': %s", b->remote.buf, first_line(&c.err));
out:
	child_release(&c);
	buf_release(&upstream);
	buf_release(&dst);
	return ret;
}

static int share(struct backup *b)
{
	for (b->tries = 1;; b->tries++) {
		long long round_start = now_ms();
		enum round r = share_once(b);
		if (r == ROUND_DONE)
			return 0;
		if (r == ROUND_FAILED)
			return -1;
		if (b->tries >= b->retries)
			return error("the push to '%s' was rejected %d times (others "
				     "pushing at the same time, or a hook of the remote "
				     "refusing)",
				     b->remote.buf, b->tries);
		progress(b, "the push was rejected; trying again");
		pause_before_retry(b->tries, now_ms() - round_start);
	}
}

/* ---- the command ---- */

static int parse_count(const char *arg, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int run_backup(struct backup *b)
{
	struct memfile live = MEMFILE_INIT, record = MEMFILE_INIT;
	struct head_files h = {0};
	struct entry_set stamped = ENTRY_SET_INIT, changed = ENTRY_SET_INIT,
			 unified = ENTRY_SET_INIT, prev_set = ENTRY_SET_INIT;
	struct buf host_bytes = BUF_INIT, unified_bytes = BUF_INIT, lockpath = BUF_INIT,
		   scratch = BUF_INIT;
	struct lockfile lock = LOCKFILE_INIT;
	struct restamp_clock clock;
	const struct entry_set *prev = NULL, *known[2];
	size_t nknown = 0;
	int ret = -1, have_record, head_exists;

	b->result = "failed";
	if (memrepo_toplevel(b->repo, &b->top) ||
	    memrepo_git_dir(b->top.buf, &b->gitdir) ||
	    writer_host(&b->host, b->host_opt, b->top.buf))
		goto out;
	buf_addf(&b->host_path, "memory-%s.json", b->host.buf);
	b->memory_abs = restored_abs_path(b->memory);
	if (read_live(b, &live)) {
		b->result = "refused";
		goto out;
	}
	/*
	 * The lock first: a second backup of this clone waits here rather
	 * than see the first one's rebase half done.
	 */
	if (!b->dry_run) {
		buf_addf(&lockpath, "%s/crdtmem", b->gitdir.buf);
		if (mkdir_p(lockpath.buf)) {
			error("cannot create '%s': %s", lockpath.buf, strerror(errno));
			goto out;
		}
		buf_addstr(&lockpath, "/backup.lock");
		if (lockfile_take(&lock, lockpath.buf, b->timeout_s * 1000))
			goto out;
		if (undo_interrupted_rebase(b))
			goto out;
	}
	if (check_clone(b) || check_setup(b) || pick_remote(b)) {
		b->result = "refused";
		goto out;
	}
	if (read_head(b, &h))
		goto out;
	head_exists =
		h.list.nr > 0 || !git_output(&scratch, b->top.buf, "rev-parse", "-q",
					     "--verify", "HEAD^{commit}", NULL);

	/* What this machine's live file last held: the newer of the two. */
	have_record = restored_load(b->gitdir.buf, b->memory_abs, &record);
	if (have_record < 0)
		goto out;
	if (have_record)
		prev = &record.set;
	else if (h.mine >= 0)
		prev = &h.files[h.mine].set;
	if (prev) {
		livefile_deletable(prev, &live.set, &prev_set);
		prev = &prev_set;
	}
	if (h.mine >= 0)
		known[nknown++] = &h.files[h.mine].set;
	if (h.unified >= 0)
		known[nknown++] = &h.files[h.unified].set;

	size_t prev_live = prev ? livefile_count_live(prev) : 0;
	size_t next_live = livefile_count_live(&live.set);
	if (livefile_is_mass_loss(prev_live, next_live) && !b->force) {
		error("'%s' holds %zu entries where this machine's last %s had %zu: "
		      "recording that would delete %zu entries from the backup of every "
		      "machine; if the memory really was cleared on purpose, run backup "
		      "again with --force; if the file was cut short or replaced, bring "
		      "it back first (git-merge-crdtmem restore)",
		      b->memory, next_live, have_record ? "restore" : "backup", prev_live,
		      prev_live - next_live);
		b->result = "refused";
		goto out;
	}

	if (writer_clock(&clock, b->host.buf))
		goto out;
	restamp(&live.set, prev, known, nknown, &clock, &stamped, &changed, &b->st);
	if (b->st.future)
		warning("%zu known versions are stamped more than a day ahead of this "
			"machine's clock; is a clock wrong?",
			b->st.future);
	if (h.mine >= 0)
		join_into(&stamped, &h.files[h.mine].set);
	adopt_tombstones(&stamped, &live.set,
			 h.unified >= 0 ? &h.files[h.unified].set : NULL);

	if (find_secrets(b, &changed) && !b->allow_secrets && !allow_secrets_config(b)) {
		fprintf(stderr,
			"hint: memory repositories are pushed to other machines; "
			"remove the secret from the memory, or, if it is meant to "
			"be there, run backup with --allow-secrets (or "
			"CRDTMEM_ALLOW_SECRETS=1)\n");
		b->result = "refused";
		goto out;
	}

	/* The new files. */
	enum memfile_format host_fmt = MEMFILE_ARRAY, unified_fmt = MEMFILE_ARRAY;
	if (h.mine >= 0 && h.files[h.mine].format != MEMFILE_EMPTY)
		host_fmt = h.files[h.mine].format;
	if (h.unified >= 0 && h.files[h.unified].format != MEMFILE_EMPTY)
		unified_fmt = h.files[h.unified].format;
	memfile_serialize(&stamped, host_fmt, &host_bytes);
	if (h.unified >= 0)
		join_into(&unified, &h.files[h.unified].set);
	for (size_t i = 0; i < h.list.nr; i++)
		if (h.ok[i] && (int)i != h.mine && (int)i != h.unified)
			join_into(&unified, &h.files[i].set);
	join_into(&unified, &stamped);
	memfile_serialize(&unified, unified_fmt, &unified_bytes);

	const char *paths[2];
	const struct buf *bytes[2];
	struct blob old[2];
	size_t n = 0;
	int host_changes = h.mine >= 0
				   ? host_bytes.len != h.blobs[h.mine].len ||
					     memcmp(host_bytes.buf, h.blobs[h.mine].data,
						    host_bytes.len)
				   : stamped.nr > 0;
	int unified_changes =
		h.unified >= 0
			? unified_bytes.len != h.blobs[h.unified].len ||
				  memcmp(unified_bytes.buf, h.blobs[h.unified].data,
					 unified_bytes.len)
			: unified.nr > 0;
	/*
	 * Right after a restore, memory-<host>.json would only take in entries
	 * of other machines with their own stamps: that changes no one's
	 * memory, so it waits (with the record of the restore) for the first
	 * real change. Restore then backup commits nothing.
	 */
	int keep_record = have_record && host_changes &&
			  !(b->st.added + b->st.changed + b->st.deleted);
	if (keep_record)
		host_changes = 0;
	if (b->dry_run) {
		report(b, &changed, &stamped, prev, host_changes, unified_changes);
		b->result = "dry-run";
		ret = 0;
		goto out;
	}
	if (host_changes) {
		paths[n] = b->host_path.buf;
		bytes[n] = &host_bytes;
		old[n] = h.mine >= 0 ? h.blobs[h.mine] : (struct blob){0};
		n++;
	}
	if (unified_changes) {
		paths[n] = UNIFIED_NAME;
		bytes[n] = &unified_bytes;
		old[n] = h.unified >= 0 ? h.blobs[h.unified] : (struct blob){0};
		n++;
	}
	if (n && commit_files(b, paths, bytes, old, n, head_exists))
		goto out;
	/* memory-<host>.json now holds the live file's state: newer than a restore. */
	if (have_record && !keep_record)
		restored_forget(b->gitdir.buf, b->memory_abs);
	if (!b->quiet)
		fprintf(stderr, "backup: %s: %zu added, %zu changed, %zu deleted%s\n",
			b->host_path.buf, b->st.added, b->st.changed, b->st.deleted,
			n ? "; committed" : "; nothing to commit");
	if (!b->no_push && share(b)) {
		fprintf(stderr,
			"hint: %s; run 'git-merge-crdtmem backup' again later (or 'git "
			"-C %s "
			"pull --rebase && git -C %s push')\n",
			b->committed ? "the backup commit is kept in the clone"
				     : "the clone is as it was",
			b->top.buf, b->top.buf);
		goto out;
	}
	if (!b->quiet && !b->no_push)
		fprintf(stderr, "backup: %s '%s' branch '%s' (%d tr%s)\n",
			b->pushed ? "pushed to" : "up to date with", b->remote.buf,
			b->branch.buf, b->tries, b->tries > 1 ? "ies" : "y");
	b->result = "ok";
	ret = 0;
out:
	lockfile_release(&lock);
	memfile_release(&live);
	memfile_release(&record);
	head_release(&h);
	entry_set_release(&stamped);
	entry_set_release(&changed);
	entry_set_release(&unified);
	entry_set_release(&prev_set);
	buf_release(&host_bytes);
	buf_release(&unified_bytes);
	buf_release(&lockpath);
	buf_release(&scratch);
	return ret;
}

int cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"memory", required_argument, NULL, 'm'},
		{"repo", required_argument, NULL, 'r'},
		{"host", required_argument, NULL, 'H'},
		{"remote", required_argument, NULL, 'R'},
		{"branch", required_argument, NULL, 'b'},
		{"no-push", no_argument, NULL, 'P'},
		{"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{"allow-secrets", no_argument, NULL, 'S'},
		{"retries", required_argument, NULL, 'T'},
		{"timeout", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct backup b = {0};
	int c, ret;

	b.retries = DEFAULT_RETRIES;
	b.timeout_s = DEFAULT_TIMEOUT_S;
	b.top = b.gitdir = b.host = b.host_path = b.remote = b.branch =
		(struct buf)BUF_INIT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":nqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': b.memory = optarg; break;
		case 'r': b.repo = optarg; break;
		case 'H': b.host_opt = optarg; break;
		case 'R': b.remote_opt = optarg; break;
		case 'b': b.branch_opt = optarg; break;
		case 'P': b.no_push = 1; break;
		case 'n': b.dry_run = 1; break;
		case 'f': b.force = 1; break;
		case 'S': b.allow_secrets = 1; break;
		case 'T':
			if (parse_count(optarg, 1, 100, &b.retries))
				return usage_error(
					backup_usage,
					"--retries takes a number from 1 to 100, "
					"not '%s'",
					optarg);
			break;
		case 't':
			if (parse_count(optarg, 1, 86400, &b.timeout_s))
				return usage_error(
					backup_usage,
					"--timeout takes seconds from 1 to 86400, "
					"not '%s'",
					optarg);
			break;
		case 'q': b.quiet = 1; break;
		case 'h': return show_help(backup_usage, backup_help);
		default: return bad_option(backup_usage, argv, c);
		}
	}
	if (optind < argc)
		return usage_error(backup_usage, "unexpected argument '%s'",
				   argv[optind]);
	if (!b.memory) {
		b.memory = getenv("MEMORY_FILE_PATH");
		if (!b.memory || !*b.memory)
			return usage_error(
				backup_usage, "%s",
				"which memory file? pass --memory FILE (or set "
				"MEMORY_FILE_PATH, as the memory server does)");
	}
	if (b.branch_opt && (!*b.branch_opt || b.branch_opt[0] == '-'))
		return usage_error(backup_usage, "'%s' is not a branch name",
				   b.branch_opt);
	b.start = now_ms();
	b.show_progress = isatty(2) && !b.quiet;

	ret = run_backup(&b) ? EXIT_CONFLICT : EXIT_OK;
	if (!b.dry_run)
		state_log("backup",
			  "host=%s file=%s added=%zu changed=%zu deleted=%zu kept=%zu "
			  "commit=%s pushed=%s tries=%d ms=%lld result=%s",
			  b.host.len ? b.host.buf : "?",
			  b.host_path.len ? b.host_path.buf : "?", b.st.added,
			  b.st.changed, b.st.deleted, b.st.kept,
			  b.committed ? "yes" : "no", b.pushed ? "yes" : "no", b.tries,
			  now_ms() - b.start, b.result);
	free(b.memory_abs);
	buf_release(&b.top);
	buf_release(&b.gitdir);
	buf_release(&b.host);
	buf_release(&b.host_path);
	buf_release(&b.remote);
	buf_release(&b.branch);
	return ret;
}
