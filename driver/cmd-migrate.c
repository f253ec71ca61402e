/*
 * git-merge-crdtmem migrate [--repo DIR] [--dry-run] [--force]: move a
 * memory repository written by an earlier tool (pretty-printed JSON arrays
 * such as the seeds' Python system writes) to this tool's canonical form in
 * one commit: every memory-*.json at the top of the work tree rewritten
 * entry by entry with its stamps as they are, and unified-memory.json
 * regenerated as the join of its content and every host file. Nothing is
 * re-stamped and no entry is dropped: a file in which one key appears more
 * than once (an earlier tool keyed every entry alike) would keep only the
 * newest version of an opaque entry, so it is refused without --force.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "gitops.h"
#include "memrepo.h"

const char migrate_usage[] =
	"usage: git-merge-crdtmem migrate [--repo DIR] [--dry-run] [--force] [-q]\n";

static const char migrate_help[] =
	"\n"
	"Rewrites the memory files of a repository made by an earlier tool\n"
	"(memory-<host>.json as pretty JSON arrays of {\"id\", \"content\",\n"
	"\"_crdt_metadata\"} entries, or anything else this tool reads) in the\n"
	"canonical form, one entry per line, with every stamp kept as written,\n"
	"and regenerates unified-memory.json as the join of its content and every\n"
	"host file; all in one commit. Afterwards merges, backups and verify work\n"
	"on it as on any other memory repository. Running it again changes\n"
	"nothing.\n"
	"\n"
	"  --repo DIR   the repository (default: the one around the current folder)\n"
	"  --dry-run    say which files would be rewritten; change nothing\n"
	"  --force      also rewrite a file in which one key appears more than once\n"
	"               (only the newest version of each such entry is kept)\n"
	"  -q, --quiet  print nothing but warnings and errors\n"
	"\n"
	"It reads the committed files (HEAD), and refuses when they have\n"
	"uncommitted changes. Run 'git-merge-crdtmem install' first, so that the\n"
	"next merges use the driver.\n"
	"\n"
	"Exit status: 0 migrated (or nothing to do); 1 refused or failed; 2 wrong\n"
	"usage.\n";

/* A memory file at the top of the work tree. */
static int is_memory_path(const char *path)
{
	size_t n = strlen(path);

	if (strchr(path, '/'))
		return 0;
	return !strcmp(path, UNIFIED_NAME) ||
	       (n > 12 && !strncmp(path, "memory-", 7) && !strcmp(path + n - 5, ".json"));
}

/* out = out joined with set. */
static void join_into(struct entry_set *out, const struct entry_set *set)
{
	struct entry_set next = ENTRY_SET_INIT;

	crdt_join_sets(out, set, &next);
	entry_set_release(out);
	*out = next;
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {{"repo", required_argument, NULL, 'r'},
						 {"dry-run", no_argument, NULL, 'n'},
						 {"force", no_argument, NULL, 'f'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	static const char *const env[] = {"CRDTMEM_HOOK_COMMIT=1", NULL};
	const char *repo = NULL;
	int dry_run = 0, force = 0, quiet = 0, c, ret = EXIT_CONFLICT, bad = 0;
	struct buf top = BUF_INIT, err = BUF_INIT, full = BUF_INIT;
	struct blob_store store = BLOB_STORE_INIT;
	struct tracked_list list = TRACKED_LIST_INIT;
	struct blob *blobs = NULL;
	struct memfile *files = NULL;
	struct buf *out = NULL;
	struct entry_set unified = ENTRY_SET_INIT;
	struct child ch = CHILD_INIT, cm = CHILD_INIT;
	size_t nmem = 0, nchanged = 0, entries_in = 0;
	int uidx = -1;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":nqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': repo = optarg; break;
		case 'n': dry_run = 1; break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'h': return show_help(migrate_usage, migrate_help);
		default: return bad_option(migrate_usage, argv, c);
		}
	}
	if (optind < argc)
		return usage_error(migrate_usage, "unexpected argument '%s'",
				   argv[optind]);
	if (memrepo_toplevel(repo, &top))
		goto out;
	if (memrepo_ls_tree(top.buf, "HEAD", &list, MEMREPO_NO_ATTR) < 0)
		goto out;
	blobs = xcalloc(list.nr + 1, sizeof(*blobs));
	files = xcalloc(list.nr + 1, sizeof(*files));
	out = xcalloc(list.nr + 1, sizeof(*out));
	for (size_t i = 0; i < list.nr; i++) {
		files[i] = (struct memfile)MEMFILE_INIT;
		out[i] = (struct buf)BUF_INIT;
		blobs[i].name = list.v[i].oid;
	}
	if (memrepo_read_blobs(top.buf, blobs, list.nr, &store))
		goto out;

	/* Every file must read, and none may have uncommitted changes. */
	child_git(&ch, "status", "--porcelain", "-z", "--untracked-files=no", "--", NULL);
	for (size_t i = 0; i < list.nr; i++) {
		if (!is_memory_path(list.v[i].path))
			continue;
		nmem++;
		child_push(&ch, list.v[i].path);
		buf_reset(&err);
		if (memfile_parse_borrowed(&files[i], blobs[i].data, blobs[i].len,
					   &err)) {
			error("'%s' cannot be read: %s", list.v[i].path, err.buf);
			bad++;
			continue;
		}
		if (files[i].duplicates && !force) {
			error("'%s': %zu keys appear more than once (an earlier tool may "
			      "have "
			      "given many entries the same id); rewriting keeps only the "
			      "newest version of each; look at them, then run migrate "
			      "with "
			      "--force to accept that",
			      list.v[i].path, files[i].duplicates);
			bad++;
		}
		if (!strcmp(list.v[i].path, UNIFIED_NAME))
			uidx = (int)i;
	}
	if (bad)
		goto out;
	if (!nmem) {
		if (!quiet)
			printf("no memory files at HEAD in '%s'; nothing to do\n",
			       top.buf);
		ret = EXIT_OK;
		goto out;
	}
	ch.dir = top.buf;
	ch.capture_out = ch.capture_err = 1;
	if (child_run(&ch)) {
		error("git status failed: %s", ch.err.buf);
		goto out;
	}
	if (ch.out.len) {
		error("'%s' has changes that are not committed; commit or drop them, "
		      "then run migrate again",
		      ch.out.buf + 3);
		goto out;
	}
	child_release(&ch);

	/* The canonical bytes of each file, and the unified file as the join. */
	if (uidx >= 0)
		join_into(&unified, &files[uidx].set);
	for (size_t i = 0; i < list.nr; i++) {
		if (!is_memory_path(list.v[i].path) || (int)i == uidx)
			continue;
		entries_in += files[i].set.nr;
		join_into(&unified, &files[i].set);
		memfile_serialize(&files[i].set,
				  files[i].format == MEMFILE_JSONL ? MEMFILE_JSONL
								   : MEMFILE_ARRAY,
				  &out[i]);
	}
	if (uidx >= 0 || unified.nr) {
		/* No unified file yet: a new one, in the slot after the listed files. */
		size_t u = uidx >= 0 ? (size_t)uidx : list.nr;
		memfile_serialize(&unified,
				  uidx >= 0 && files[uidx].format == MEMFILE_JSONL
					  ? MEMFILE_JSONL
					  : MEMFILE_ARRAY,
				  &out[u]);
	}

	/* Write the files whose bytes change; add and commit exactly those. */
	child_git(&ch, "add", "--", NULL);
	child_git(
		&cm, "commit", "-q", "--only", "-m",
		"Rewrite the memory files in canonical form (git-merge-crdtmem migrate)",
		"--", NULL);
	for (size_t i = 0; i <= list.nr; i++) {
		int is_new_unified = i == list.nr;
		const char *path = is_new_unified ? UNIFIED_NAME : list.v[i].path;

		if (is_new_unified ? uidx >= 0 || !out[i].len : !is_memory_path(path))
			continue;
		if (blobs[i].found && out[i].len == blobs[i].len &&
		    !memcmp(out[i].buf, blobs[i].data, out[i].len))
			continue;
		nchanged++;
		if (!quiet || dry_run)
			printf("%s %s\n", dry_run ? "would rewrite" : "rewrote", path);
		if (dry_run)
			continue;
		buf_reset(&full);
		buf_addf(&full, "%s/%s", top.buf, path);
		if (atomic_write(full.buf, out[i].buf, out[i].len, ATOMIC_FSYNC))
			goto out;
		child_push(&ch, path);
		child_push(&cm, path);
	}
	if (!nchanged) {
		if (!quiet)
			printf("the memory files of '%s' are already in canonical form\n",
			       top.buf);
		ret = EXIT_OK;
		goto out;
	}
	if (dry_run) {
		ret = EXIT_OK;
		goto out;
	}
	ch.dir = cm.dir = top.buf;
	ch.env = cm.env = env;
	ch.capture_out = ch.capture_err = cm.capture_out = cm.capture_err = 1;
	if (child_run(&ch)) {
		error("cannot stage the rewritten files: %s", ch.err.buf);
		goto out;
	}
	if (child_run(&cm)) {
		error("cannot commit the rewritten files: %s", cm.err.buf);
		goto out;
	}
	if (!quiet)
		printf("committed %zu rewritten files; %zu host-file entries, every "
		       "stamp "
		       "kept\n",
		       nchanged, entries_in);
	ret = EXIT_OK;
out:
	for (size_t i = 0; files && i <= list.nr; i++) {
		if (i < list.nr)
			memfile_release(&files[i]);
		buf_release(&out[i]);
	}
	free(files);
	free(out);
	free(blobs);
	entry_set_release(&unified);
	tracked_list_release(&list);
	child_release(&ch);
	child_release(&cm);
	buf_release(&top);
	blob_store_release(&store);
	buf_release(&err);
	buf_release(&full);
	return ret;
}
