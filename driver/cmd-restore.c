/*
 * git-merge-crdtmem restore [--repo DIR] [--to FILE] [--at REV] [--host NAME]
 * [--dry-run]: write the memory a repository holds back into a live memory
 * file, as the memory server's own JSONL (no metadata, no tombstones,
 * entities first, no final newline), atomically, keeping a copy of what it
 * replaces. It remembers what it wrote (restored.h), so that the next
 * backup of that file neither re-stamps the restored entries nor misses a
 * deletion made after the restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "restored.h"
#include "statelog.h"
#include "writer.h"

const char restore_usage[] = "usage: git-merge-crdtmem restore [--repo DIR] [--to FILE] "
			     "[--at REV] [--host NAME] [--dry-run] [-q]\n";

static const char restore_help[] =
	"\n"
	"Writes the unified memory of the repository (unified-memory.json at\n"
	"HEAD) into the live memory file, in the memory server's own format: one\n"
	"entity or relation per line, without _crdt_metadata and without deleted\n"
	"entries, entities first. The file is replaced atomically and keeps its\n"
	"mode; what it held before is kept next to it as\n"
	"FILE.crdtmem-backup-<UTC time>.\n"
	"\n"
	"  --to FILE     the live memory file (default: $MEMORY_FILE_PATH); \"-\"\n"
	"                writes to standard output and remembers nothing\n"
	"  --at REV      read the memory of that commit instead of HEAD (from\n"
	"                git's objects, never from the work tree)\n"
	"  --host NAME   restore only memory-NAME.json, that machine's memory\n"
	"  --repo DIR    the memory repository (default: the one around the\n"
	"                current folder)\n"
	"  --dry-run     say what would change, write nothing\n"
	"  -q, --quiet   print nothing but warnings and errors\n"
	"\n"
	"When: the memory server re-reads its file on every request and rewrites\n"
	"it whole on every change, so restore between requests (stop the\n"
	"assistant, or restore while it is idle): a change the server writes\n"
	"during a restore can be lost. Run backup before restore: entries made\n"
	"since the last backup are not in the repository (restore warns about\n"
	"them, and they stay in the kept copy).\n"
	"\n"
	"The next backup of FILE from this clone measures deletions against what\n"
	"restore wrote, so restoring and backing up again changes no stamp.\n"
	"\n"
	"Exit status: 0 written (or nothing to do); 1 failed, with the reason;\n"
	"2 wrong usage.\n";

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Copy path's bytes (old) to path.crdtmem-backup-<time>[-N], a new file
 * with path's mode, synced. The copy's name goes into copy.
 */
static int keep_copy(const char *path, const struct buf *old, mode_t mode,
		     struct buf *copy)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd = -1;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 1; fd < 0 && n < 1000; n++) {
		buf_reset(copy);
		buf_addf(copy, "%s.crdtmem-backup-%s", path, stamp);
		if (n > 1)
			buf_addf(copy, "-%d", n);
		fd = open(copy->buf, O_WRONLY | O_CREAT | O_EXCL, mode & 0777);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return error("cannot keep a copy of '%s' as '%s': %s", path, copy->buf,
			     strerror(errno));
	if (fchmod(fd, mode & 07777) || atomic_write_full(fd, old->buf, old->len) ||
	    fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(copy->buf);
		return error("cannot write '%s': %s", copy->buf, strerror(e));
	}
	if (close(fd))
		return error("cannot write '%s': %s", copy->buf, strerror(errno));
	return 0;
}

/* Keys of a (a set of live entries) that b lacks. */
static size_t keys_missing(const struct entry_set *a, const struct entry_set *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nr; i++)
		n += !entry_set_find(b, a->v[i]->key, a->v[i]->key_len);
	return n;
}

/* Count the entities and relations among the live entries of s. */
static void count_kinds(const struct entry_set *s, size_t *entities, size_t *relations)
{
	*entities = *relations = 0;
	for (size_t i = 0; i < s->nr; i++) {
		if (s->v[i]->deleted)
			continue;
		*entities += s->v[i]->kind == ENTRY_ENTITY;
		*relations += s->v[i]->kind == ENTRY_RELATION;
	}
}

int cmd_restore(int argc, char **argv)
{
	static const struct option longopts[] = {{"repo", required_argument, NULL, 'r'},
						 {"to", required_argument, NULL, 't'},
						 {"at", required_argument, NULL, 'a'},
						 {"host", required_argument, NULL, 'H'},
						 {"dry-run", no_argument, NULL, 'n'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *repo = NULL, *to = NULL, *at = "HEAD", *host_opt = NULL;
	int dry_run = 0, quiet = 0, c, ret = EXIT_CONFLICT, exists = 0;
	struct buf top = BUF_INIT, gitdir = BUF_INIT, src = BUF_INIT, name = BUF_INIT;
	struct blob_store store = BLOB_STORE_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT, old = BUF_INIT;
	struct buf copy = BUF_INIT, host = BUF_INIT, tmp = BUF_INIT;
	struct memfile mf = MEMFILE_INIT, cur = MEMFILE_INIT;
	struct entry_set live = ENTRY_SET_INIT, cur_bare = ENTRY_SET_INIT,
			 new_bare = ENTRY_SET_INIT;
	size_t entities = 0, relations = 0, unsaved = 0;
	char *target = NULL;
	struct stat st;
	long long start = now_ms();

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":nqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': repo = optarg; break;
		case 't': to = optarg; break;
		case 'a': at = optarg; break;
		case 'H': host_opt = optarg; break;
		case 'n': dry_run = 1; break;
		case 'q': quiet = 1; break;
		case 'h': return show_help(restore_usage, restore_help);
		default: return bad_option(restore_usage, argv, c);
		}
	}
	if (optind < argc)
		return usage_error(restore_usage, "unexpected argument '%s'",
				   argv[optind]);
	if (!to) {
		to = getenv("MEMORY_FILE_PATH");
		if (!to || !*to)
			return usage_error(
				restore_usage, "%s",
				"which memory file? pass --to FILE (or set "
				"MEMORY_FILE_PATH, as the memory server does)");
	}
	if (host_opt && (!*host_opt || strchr(host_opt, '/')))
		return usage_error(restore_usage, "'%s' cannot be a host name", host_opt);

	if (memrepo_toplevel(repo, &top) || memrepo_git_dir(top.buf, &gitdir))
		goto out;
	if (host_opt)
		buf_addf(&src, "memory-%s.json", host_opt);
	else
		buf_addstr(&src, UNIFIED_NAME);
	buf_addf(&tmp, "%s^{commit}", at);
	if (git_output(&name, top.buf, "rev-parse", "-q", "--verify", tmp.buf, NULL)) {
		error("'%s' is not a commit of '%s'", at, top.buf);
		goto out;
	}
	buf_reset(&name);
	buf_addf(&name, "%s:%s", at, src.buf);
	struct blob b = {name.buf, 0, "", NULL, 0};
	if (memrepo_read_blobs(top.buf, &b, 1, &store))
		goto out;
	if (!b.found) {
		error("'%s' has no '%s'%s", at, src.buf,
		      host_opt
			      ? ": no backup from that host (see git ls-tree --name-only "
				"HEAD)"
			      : ": nothing was backed up there yet");
		goto out;
	}
	if (memfile_parse_borrowed(&mf, b.data, b.len, &err)) {
		error("'%s': %s", name.buf, err.buf);
		goto out;
	}
	livefile_serialize(&mf.set, &text);
	count_kinds(&mf.set, &entities, &relations);
	for (size_t i = 0; i < mf.set.nr; i++)
		if (!mf.set.v[i]->deleted)
			entry_set_append(&live, entry_ref(mf.set.v[i]));
	entry_set_normalize(&live);

	int to_stdout = !strcmp(to, "-");
	if (to_stdout && !dry_run) {
		if (fwrite(text.buf, 1, text.len, stdout) != text.len || fflush(stdout)) {
			error("cannot write to standard output: %s", strerror(errno));
			goto out;
		}
		ret = EXIT_OK;
		goto out;
	}

	target = to_stdout ? xstrdup("-") : restored_abs_path(to);
	if (!to_stdout && !stat(target, &st)) {
		if (!S_ISREG(st.st_mode)) {
			error("'%s' is not a regular file", to);
			goto out;
		}
		if (read_whole_file(target, &old)) {
			error("cannot read '%s': %s", to, strerror(errno));
			goto out;
		}
		exists = 1;
		/* Entries the file holds that the repository never saw. */
		if (!memfile_parse_borrowed(&cur, old.buf, old.len, &err)) {
			livefile_strip(&cur.set, &cur_bare);
			livefile_strip(&mf.set, &new_bare);
			unsaved = keys_missing(&cur_bare, &mf.set);
		} else {
			warning("'%s' is not a valid memory file (%s); replacing it", to,
				err.buf);
		}
	}
	if (dry_run) {
		if (!exists || to_stdout)
			printf("would write %zu entities and %zu relations to '%s'\n",
			       entities, relations, to);
		else if (old.len == text.len && !memcmp(old.buf, text.buf, text.len))
			printf("'%s' already holds the memory of %s:%s (%zu entities, "
			       "%zu "
			       "relations); nothing to do\n",
			       to, at, src.buf, entities, relations);
		else
			printf("would write %zu entities and %zu relations to '%s', "
			       "which "
			       "now holds %zu entries: %zu would come, %zu would go\n",
			       entities, relations, to, cur_bare.nr,
			       keys_missing(&new_bare, &cur_bare),
			       keys_missing(&cur_bare, &new_bare));
		if (unsaved)
			printf("%zu entries of '%s' are not in the repository (not "
			       "backed "
			       "up yet?)\n",
			       unsaved, to);
		ret = EXIT_OK;
		goto out;
	}
	if (exists && old.len == text.len && !memcmp(old.buf, text.buf, text.len)) {
		if (!quiet)
			fprintf(stderr, "'%s' already holds the memory of %s:%s\n", to,
				at, src.buf);
	} else {
		if (exists && keep_copy(target, &old, st.st_mode, &copy))
			goto out;
		if (atomic_write(target, text.buf, text.len, ATOMIC_FSYNC))
			goto out;
		if (unsaved)
			warning("%zu entries of '%s' were not in the repository (made "
				"since the last backup?); they are in '%s'",
				unsaved, to, copy.buf);
		if (!quiet)
			fprintf(stderr,
				"restored %zu entities and %zu relations from %s:%s to "
				"'%s'%s%s%s\n",
				entities, relations, at, src.buf, to,
				exists ? " (the old file is kept as '" : "",
				exists ? copy.buf : "", exists ? "')" : "");
	}
	if (restored_save(gitdir.buf, target, &live))
		goto out;
	ret = EXIT_OK;
out:
	if (!dry_run && strcmp(to ? to : "-", "-")) {
		if (writer_host(&host, NULL, top.len ? top.buf : NULL))
			buf_reset(&host);
		state_log("restore",
			  "host=%s source=%s entities=%zu relations=%zu ms=%lld "
			  "result=%s",
			  host.len ? host.buf : "?", src.len ? src.buf : "?",
			  ret == EXIT_OK ? entities : 0, ret == EXIT_OK ? relations : 0,
			  now_ms() - start, ret == EXIT_OK ? "ok" : "failed");
	}
	free(target);
	memfile_release(&mf);
	memfile_release(&cur);
	entry_set_release(&live);
	entry_set_release(&cur_bare);
	entry_set_release(&new_bare);
	buf_release(&top);
	buf_release(&gitdir);
	buf_release(&src);
	buf_release(&name);
	blob_store_release(&store);
	buf_release(&err);
	buf_release(&text);
	buf_release(&old);
	buf_release(&copy);
	buf_release(&host);
	buf_release(&tmp);
	return ret;
}
