/*
 * git-merge-crdtmem verify [--merges RANGE] [--fix]: for CI and for anyone
 * who wants proof. Checks that every memory file is valid, canonical and
 * stamped, that each unified-memory.json holds the join of the host files
 * beside it, and (with --merges) that every merge commit in RANGE is what
 * the driver gives when its parents are merged again: a merge made where the
 * driver was not installed (a forge's merge button, a clone without the
 * config, a conflict resolved by taking one side) is named by its commit.
 */
#define _GNU_SOURCE /* realpath */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "gitops.h"
#include "memrepo.h"
#include "restamp.h"
#include "setup.h"
#include "writer.h"

static const char verify_usage[] =
	"usage: git-merge-crdtmem verify [--repo DIR] [--merges RANGE] [--fix] [-q]\n";

static const char verify_help[] =
	"\n"
	"Checks the memory repository and reports what a person can act on:\n"
	"  - every memory file (merge=crdtmem, or named memory-*.json or\n"
	"    unified-memory.json) is valid, in canonical form, and every entry of a\n"
	"    host file carries _crdt_metadata;\n"
	"  - each unified-memory.json holds the join of the host files beside it\n"
	"    (nothing missing, nothing older);\n"
	"  - with --merges RANGE (e.g. origin/main..HEAD, or HEAD for all history),\n"
	"    every merge commit in RANGE is merged again from its parents, with the\n"
	"    merge base git uses and this driver, and must hold exactly the\n"
	"    committed memory files;\n"
	"  - this clone's setup (driver, attributes, hooks) is reported.\n"
	"\n"
	"  --repo DIR      the repository (default: the one around the current folder)\n"
	"  --merges RANGE  re-merge the merge commits of RANGE (git rev-list syntax)\n"
	"  --fix           write the correct files into the work tree: canonical form,\n"
	"                  stamps for unstamped entries, the unified file as the join,\n"
	"                  and for a wrong merge the join of the file with what the\n"
	"                  merge should have given (nothing is lost); then commit them\n"
	"  -q, --quiet     print only problems\n"
	"\n"
	"Exit status: 0 all good (or all fixed with --fix); 1 problems found;\n"
	"2 wrong usage.\n";

struct verify {
	int fix, quiet;
	size_t problems, fixed, unfixed, files, merges;
	char *self; /* this binary, for re-merging */
};

__attribute__((format(printf, 2, 3))) static void problem(struct verify *v,
							  const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	v->problems++;
}

__attribute__((format(printf, 2, 3))) static void note(const struct verify *v,
						       const char *fmt, ...)
{
	va_list ap;

	if (v->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* How two sets of one file differ: keys of want missing from have, or older. */
static void compare_sets(const struct entry_set *want, const struct entry_set *have,
			 size_t *missing, size_t *older, size_t *extra)
{
	*missing = *older = *extra = 0;
	for (size_t i = 0; i < want->nr; i++) {
		const struct entry *h =
			entry_set_find(have, want->v[i]->key, want->v[i]->key_len);
		if (!h)
			(*missing)++;
		else if (!entry_equal(h, want->v[i]))
			(*older)++;
	}
	for (size_t i = 0; i < have->nr; i++)
		if (!entry_set_find(want, have->v[i]->key, have->v[i]->key_len))
			(*extra)++;
}

static char *host_of(const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(name);

	if (!strncmp(name, "memory-", 7) && n > 12 && !strcmp(name + n - 5, ".json"))
		return xmemdup0(name + 7, n - 12);
	return NULL;
}

/* Stamp the entries of mf that have no stamp (host from the file's name). */
static void stamp_unstamped(struct entry_set *set, const char *path, size_t *count)
{
	struct entry_set bare = ENTRY_SET_INIT, stamped = ENTRY_SET_INIT,
			 rest = ENTRY_SET_INIT;
	struct buf host = BUF_INIT;
	char *h = host_of(path);
	struct restamp_clock clock;

	*count = 0;
	for (size_t i = 0; i < set->nr; i++) {
		if (set->v[i]->stamp.instant == STAMP_NONE) {
			entry_set_append(&bare, entry_ref(set->v[i]));
			(*count)++;
		} else {
			entry_set_append(&rest, entry_ref(set->v[i]));
		}
	}
	if (*count && !writer_host(&host, h, NULL) && !writer_clock(&clock, host.buf)) {
		restamp(&bare, NULL, NULL, 0, &clock, &stamped, NULL, NULL);
		for (size_t i = 0; i < stamped.nr; i++)
			entry_set_append(&rest, entry_ref(stamped.v[i]));
		entry_set_normalize(&rest);
		entry_set_release(set);
		*set = rest;
		rest = (struct entry_set)ENTRY_SET_INIT;
	}
	entry_set_release(&bare);
	entry_set_release(&stamped);
	entry_set_release(&rest);
	buf_release(&host);
	free(h);
}

/* The files of the work tree: valid, canonical, stamped. Loads them into mfs. */
static void check_files(struct verify *v, const struct tracked_list *index,
			struct memfile *mfs, int *loaded)
{
	struct buf err = BUF_INIT, text = BUF_INIT;

	for (size_t i = 0; i < index->nr; i++) {
		const struct tracked *t = &index->v[i];
		struct memfile *mf = &mfs[i];
		size_t unstamped = 0;
		int rewrite = 0;

		loaded[i] = 0;
		if (!t->governed || t->stage)
			continue;
		v->files++;
		buf_reset(&err);
		if (memfile_load(mf, t->path, &err)) {
			problem(v, "%s: %s", qpath(t->path), err.buf);
			v->unfixed++;
			continue;
		}
		loaded[i] = 1;
		if (mf->duplicates) {
			problem(v, "%s: %zu keys appear more than once", qpath(t->path),
				mf->duplicates);
			rewrite = 1;
		}
		if (!t->is_unified) {
			for (size_t k = 0; k < mf->set.nr; k++)
				unstamped += mf->set.v[k]->stamp.instant == STAMP_NONE;
			if (unstamped) {
				problem(v,
					"%s: %zu entries have no _crdt_metadata "
					"(committed "
					"without the pre-commit hook)",
					qpath(t->path), unstamped);
				rewrite = 1;
			}
		}
		enum memfile_format fmt =
			mf->format == MEMFILE_EMPTY ? MEMFILE_ARRAY : mf->format;
		buf_reset(&text);
		memfile_serialize(&mf->set, fmt, &text);
		if (mf->size &&
		    (text.len != mf->size || memcmp(text.buf, mf->bytes, mf->size))) {
			problem(v,
				"%s: not in canonical form (one entry per line, in key "
				"order)",
				qpath(t->path));
			rewrite = 1;
		}
		if (rewrite && v->fix) {
			if (unstamped)
				stamp_unstamped(&mf->set, t->path, &unstamped);
			if (!memfile_write(t->path, &mf->set, fmt, ATOMIC_FSYNC)) {
				v->fixed++;
				note(v, "fixed: %s", qpath(t->path));
			} else {
				v->unfixed++;
			}
		} else if (!rewrite) {
			note(v, "ok: %s: %zu entries", qpath(t->path), mf->set.nr);
		}
	}
	buf_release(&err);
	buf_release(&text);
}

/* Each unified file holds the join of the host files beside it. */
static void check_unified(struct verify *v, const struct tracked_list *index,
			  struct memfile *mfs, const int *loaded)
{
	for (size_t u = 0; u < index->nr; u++) {
		const struct tracked *ut = &index->v[u];
		struct entry_set joined = ENTRY_SET_INIT, hosts = ENTRY_SET_INIT, next;
		size_t missing, older, extra, nhosts = 0;
		int ok = 1;

		if (!ut->governed || ut->stage || !ut->is_unified)
			continue;
		char *dir = memrepo_dirname(ut->path);
		for (size_t i = 0; i < index->nr; i++) {
			const struct tracked *t = &index->v[i];
			char *d;
			if (!t->governed || t->stage || t->is_unified)
				continue;
			d = memrepo_dirname(t->path);
			if (!strcmp(d, dir)) {
				nhosts++;
				if (!loaded[i]) {
					ok = 0;
				} else {
					next = (struct entry_set)ENTRY_SET_INIT;
					crdt_join_sets(&hosts, &mfs[i].set, &next);
					entry_set_release(&hosts);
					hosts = next;
				}
			}
			free(d);
		}
		free(dir);
		if (!loaded[u] || !ok) {
			note(v, "skipped: %s: a file it is joined from is not valid",
			     qpath(ut->path));
			entry_set_release(&hosts);
			continue;
		}
		compare_sets(&hosts, &mfs[u].set, &missing, &older, &extra);
		crdt_join_sets(&mfs[u].set, &hosts, &joined);
		/* Versions in the unified file newer than every host's are fine. */
		size_t m2, o2, e2;
		compare_sets(&joined, &mfs[u].set, &m2, &o2, &e2);
		if (m2 || o2) {
			problem(v,
				"%s is not the join of the %zu host files beside it: "
				"%zu "
				"entries missing, %zu older than a host's",
				qpath(ut->path), nhosts, m2, o2);
			if (v->fix &&
			    !memfile_write(ut->path, &joined,
					   mfs[u].format == MEMFILE_EMPTY ? MEMFILE_ARRAY
									  : mfs[u].format,
					   ATOMIC_FSYNC)) {
				v->fixed++;
				note(v, "fixed: %s is now the join", qpath(ut->path));
			}
		} else {
			note(v, "ok: %s is the join of %zu host files", qpath(ut->path),
			     nhosts);
		}
		if (extra)
			note(v,
			     "note: %s holds %zu entries no host file has (kept: "
			     "nothing in "
			     "it is ever dropped)",
			     qpath(ut->path), extra);
		(void)missing;
		(void)older;
		entry_set_release(&joined);
		entry_set_release(&hosts);
	}
}

/*
 * Merge p1 and p2 again as git would, with this driver, into a tree whose
 * id goes into tree. Returns 0, or -1 (reported).
 */
static int remerge(const struct verify *v, const char *attributes, const char *p1,
		   const char *p2, struct buf *tree)
{
	struct child c = CHILD_INIT;
	struct buf driver = BUF_INIT, attr = BUF_INIT;
	int ret = -1;

	buf_addstr(&driver, "merge.crdtmem.driver=");
	setup_driver_command(&driver, v->self);
	buf_addf(&attr, "core.attributesFile=%s", attributes);
	child_git(&c, "-c", "merge.crdtmem.name=crdtmem (verify)", "-c", driver.buf, "-c",
		  "merge.crdtmem.recursive=crdtmem", "-c", attr.buf, "merge-tree",
		  "--write-tree", "--no-messages", p1, p2, NULL);
	c.capture_out = c.capture_err = 1;
	int status = child_run(&c);
	if (status != 0 && status != 1) {
		if (status > 0)
			error("git merge-tree %s %s failed: %s", p1, p2, c.err.buf);
		goto out;
	}
	buf_reset(tree);
	buf_add(tree, c.out.buf, strcspn(c.out.buf, "\n"));
	ret = tree->len ? 0 : -1;
out:
	child_release(&c);
	buf_release(&driver);
	buf_release(&attr);
	return ret;
}

static int parse_blob(const char *oid, struct memfile *mf)
{
	struct buf data = BUF_INIT, err = BUF_INIT;
	int ret = memrepo_read_blob(NULL, oid, &data)
			  ? -1
			  : memfile_parse(mf, data.buf, data.len, &err);

	buf_release(&data);
	buf_release(&err);
	return ret;
}

/* Put into the work tree's path the join of it and want (nothing is lost). */
static void repair(struct verify *v, const char *path, const struct memfile *want)
{
	struct memfile now = MEMFILE_INIT;
	struct entry_set joined = ENTRY_SET_INIT;
	struct buf err = BUF_INIT;

	if (access(path, F_OK)) {
		if (!memfile_write(path, &want->set,
				   want->format == MEMFILE_EMPTY ? MEMFILE_ARRAY
								 : want->format,
				   ATOMIC_FSYNC))
			v->fixed++;
	} else if (memfile_load(&now, path, &err)) {
		error("%s: %s; not repaired", qpath(path), err.buf);
		v->unfixed++;
	} else {
		crdt_join_sets(&now.set, &want->set, &joined);
		if (!memfile_write(path, &joined,
				   now.format == MEMFILE_EMPTY ? MEMFILE_ARRAY
							       : now.format,
				   ATOMIC_FSYNC)) {
			v->fixed++;
			note(v, "fixed: %s now holds what the merge lost", qpath(path));
		}
	}
	entry_set_release(&joined);
	memfile_release(&now);
	buf_release(&err);
}

/* Compare one merge commit's memory files with a re-merge of its parents. */
static void check_merge(struct verify *v, const char *attributes, char *line)
{
	char *words[4] = {NULL};
	int n = 0;
	struct buf tree = BUF_INIT, subject = BUF_INIT;
	struct tracked_list got = TRACKED_LIST_INIT, want = TRACKED_LIST_INIT;

	for (char *w = strtok(line, " "); w && n < 4; w = strtok(NULL, " "))
		words[n++] = w;
	if (n < 3)
		return;
	git_output(&subject, NULL, "log", "-1", "--format=%h (%s)", words[0], NULL);
	if (n > 3) {
		note(v, "skipped: merge %s has more than two parents", subject.buf);
		goto out;
	}
	v->merges++;
	if (remerge(v, attributes, words[1], words[2], &tree) ||
	    memrepo_ls_tree(NULL, words[0], &got, 1) ||
	    memrepo_ls_tree(NULL, tree.buf, &want, 1)) {
		problem(v, "merge %s could not be merged again", subject.buf);
		goto out;
	}
	int bad = 0;
	for (int side = 0; side < 2; side++) {
		const struct tracked_list *a = side ? &got : &want,
					  *b = side ? &want : &got;
		for (size_t i = 0; i < a->nr; i++) {
			const struct tracked *ta = &a->v[i],
					     *tb = tracked_find(b, ta->path);
			if (!ta->governed || (side && tb))
				continue;
			if (tb && !strcmp(ta->oid, tb->oid))
				continue;
			struct memfile mw = MEMFILE_INIT, mg = MEMFILE_INIT;
			size_t missing = 0, older = 0, extra = 0;
			const struct tracked *tw = side ? tb : ta, *tg = side ? ta : tb;
			int wok = tw && !parse_blob(tw->oid, &mw);
			int gok = tg && !parse_blob(tg->oid, &mg);
			if (wok && gok)
				compare_sets(&mw.set, &mg.set, &missing, &older, &extra);
			if (!tg)
				problem(v,
					"merge %s: %s is missing; a merge with the "
					"driver keeps it",
					subject.buf, qpath(ta->path));
			else if (!gok)
				problem(v,
					"merge %s: %s is not a valid memory file (a "
					"text merge?)",
					subject.buf, qpath(tg->path));
			else
				problem(v,
					"merge %s: %s is not what the driver gives: "
					"%zu entries "
					"missing, %zu different, %zu extra (merged "
					"without the "
					"driver?)",
					subject.buf, qpath(tg->path), missing, older,
					extra);
			if (v->fix && wok)
				repair(v, tw->path, &mw);
			else if (v->fix)
				v->unfixed++;
			bad = 1;
			memfile_release(&mw);
			memfile_release(&mg);
		}
	}
	if (!bad)
		note(v, "ok: merge %s", subject.buf);
out:
	buf_release(&tree);
	buf_release(&subject);
	tracked_list_release(&got);
	tracked_list_release(&want);
}

/* This clone's setup: reported, not judged (CI clones have none). */
static void report_setup(const struct verify *v)
{
	struct setup_state st = SETUP_STATE_INIT;
	struct buf missing = BUF_INIT;

	if (v->quiet || setup_inspect(NULL, &st))
		goto out;
	if (st.driver && st.driver_ok && st.recursive_ok)
		note(v, "setup: merge driver: %s", st.driver);
	else if (st.driver)
		note(v, "setup: merge driver: %s %s; run 'git-merge-crdtmem install'",
		     qpath(st.driver),
		     !st.driver_ok ? "does not run an installed git-merge-crdtmem"
				   : "is set but merge.crdtmem.recursive is not crdtmem");
	else
		note(v, "setup: merge driver: not configured here, so git merges memory "
			"files "
			"as text in this clone; run 'git-merge-crdtmem install'");
	note(v, "setup: attributes: memory-*.json %s, unified-memory.json %s",
	     st.attr_memory ? "merge=crdtmem" : "NOT merge=crdtmem",
	     st.attr_unified ? "merge=crdtmem" : "NOT merge=crdtmem");
	for (int i = 0; i < SETUP_NR_HOOKS; i++)
		if (!st.hooks_ok[i])
			buf_addf(&missing, " %s", setup_hook_names[i]);
	if (missing.len)
		note(v, "setup: hooks missing in %s:%s",
		     qpath(st.hooks_dir ? st.hooks_dir : "?"), missing.buf);
	else
		note(v, "setup: hooks: installed in %s", qpath(st.hooks_dir));
out:
	setup_state_release(&st);
	buf_release(&missing);
}

static int check_merges(struct verify *v, const char *range)
{
	struct child c = CHILD_INIT;
	struct buf gitdir = BUF_INIT, attributes = BUF_INIT;
	static const char lines[] = "memory-*.json merge=crdtmem\n"
				    "unified-memory.json merge=crdtmem\n";
	int ret = -1;

	if (git_output(&gitdir, NULL, "rev-parse", "--absolute-git-dir", NULL))
		goto out;
	buf_addf(&attributes, "%s/crdtmem", gitdir.buf);
	if (mkdir_p(attributes.buf)) {
		error("cannot create %s: %s", qpath(attributes.buf), strerror(errno));
		goto out;
	}
	buf_addstr(&attributes, "/verify-attributes");
	if (atomic_write(attributes.buf, lines, sizeof(lines) - 1, 0))
		goto out;
	child_git(&c, "rev-list", "--merges", "--parents", "--reverse", range, "--",
		  NULL);
	c.capture_out = c.capture_err = 1;
	if (child_run(&c)) {
		error("cannot list the merges of %s: %s", qpath(range), c.err.buf);
		goto out;
	}
	for (char *line = c.out.buf, *end; *line; line = end) {
		end = line + strcspn(line, "\n");
		if (*end)
			*end++ = '\0';
		check_merge(v, attributes.buf, line);
	}
	ret = 0;
out:
	child_release(&c);
	buf_release(&gitdir);
	buf_release(&attributes);
	return ret;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {{"repo", required_argument, NULL, 'C'},
						 {"merges", required_argument, NULL, 'm'},
						 {"fix", no_argument, NULL, 'f'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct verify v = {0};
	const char *repo = NULL, *range = NULL;
	struct tracked_list index = TRACKED_LIST_INIT;
	struct memfile *mfs = NULL;
	int *loaded = NULL, c, ret = EXIT_CONFLICT;
	struct buf top = BUF_INIT;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': repo = optarg; break;
		case 'm': range = optarg; break;
		case 'f': v.fix = 1; break;
		case 'q': v.quiet = 1; break;
		case 'h': return show_help(verify_usage, verify_help);
		default: return bad_option(verify_usage, argv, c);
		}
	}
	if (optind != argc)
		return usage_error(verify_usage, "unexpected argument %s",
				   qpath(argv[optind]));
	if (git_output(&top, repo, "rev-parse", "--show-toplevel", NULL) || !top.len) {
		error("%s is not in the work tree of a git repository",
		      qpath(repo ? repo : "."));
		goto out;
	}
	if (chdir(top.buf)) {
		error("cannot change to %s: %s", qpath(top.buf), strerror(errno));
		goto out;
	}
	v.self = realpath("/proc/self/exe", NULL);
	if (!v.self) {
		error("cannot find this program's own path: %s", strerror(errno));
		goto out;
	}
	report_setup(&v);
	if (range && check_merges(&v, range))
		goto out;
	if (memrepo_ls_index(NULL, &index, 1))
		goto out;
	mfs = xcalloc(index.nr + 1, sizeof(*mfs));
	loaded = xcalloc(index.nr + 1, sizeof(*loaded));
	check_files(&v, &index, mfs, loaded);
	check_unified(&v, &index, mfs, loaded);
	if (!v.quiet || v.problems)
		fprintf(stderr,
			"verify: %zu memory files, %zu merges checked; %zu problems%s\n",
			v.files, v.merges, v.problems,
			v.fix ? (v.fixed ? ", fixes written to the work tree: review and "
					   "commit them"
					 : "")
			: v.problems ? " (--fix writes the correct files)"
				     : "");
	ret = (v.fix ? v.unfixed : v.problems) ? EXIT_CONFLICT : EXIT_OK;
out:
	for (size_t i = 0; mfs && i < index.nr; i++)
		memfile_release(&mfs[i]);
	free(mfs);
	free(loaded);
	tracked_list_release(&index);
	buf_release(&top);
	free(v.self);
	return ret;
}
