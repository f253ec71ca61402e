/*
 * git-merge-crdtmem merge BASE OURS THEIRS [MARKER-SIZE [PATH]]: the merge
 * driver, as git calls it (%O %A %B %L %P; "merge" may be left out). Writes
 * the merge into OURS, atomically; on bad input leaves OURS as it was and
 * keeps the three inputs under $GIT_DIR/crdtmem/failed/.
 */
#include <dirent.h>
#include <errno.h>
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
#include "merge.h"

const char merge_usage[] =
	"usage: git-merge-crdtmem [merge] BASE OURS THEIRS [MARKER-SIZE [PATH]]\n";

static const char merge_help[] =
	"\n"
	"The merge driver: git runs it for files marked merge=crdtmem, as\n"
	"  git-merge-crdtmem %O %A %B %L %P\n"
	"(git-merge-crdtmem install writes that configuration).\n"
	"\n"
	"For each entry (keyed by id, entity name, or relation from/type/to): a\n"
	"side that left it as in BASE takes the other side's version; when both\n"
	"changed it, the newer stamp (_crdt_metadata timestamp, then version,\n"
	"then host) wins and an entity's observations are merged as a set. The\n"
	"result is written to OURS only, atomically, in OURS's format (JSON array\n"
	"or JSON lines), one entry per line in key order. PATH (the file's name\n"
	"in the repository) is used in messages; MARKER-SIZE is ignored.\n"
	"\n"
	"Exit status: 0 merged; 1 bad input (git records a conflict; OURS is left\n"
	"as it was, and the three inputs are kept in $GIT_DIR/crdtmem/failed/);\n"
	"2 wrong usage.\n";

/* How many failed merges' inputs are kept: the newest, oldest removed. */
#define FAILED_KEEP 10

/* A folder name keep_failed_inputs makes: "<YYYYmmddTHHMMSSZ>-<pid>". */
static int is_failed_name(const char *name)
{
	size_t i = 0;

	for (; i < 8; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	if (name[i++] != 'T')
		return 0;
	for (; i < 15; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	if (name[i++] != 'Z' || name[i++] != '-' || !name[i])
		return 0;
	for (; name[i]; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

/* Oldest first: by time, then by pid as a number (9999 before 10000). */
static int cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int c = strncmp(x, y, 17);
	size_t lx = strlen(x + 17), ly = strlen(y + 17);

	if (c)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x + 17, y + 17);
}

/* Remove a folder of kept inputs: its files, then itself. */
static void remove_failed(const char *top, const char *name)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	DIR *d;

	buf_addf(&path, "%s/%s", top, name);
	d = opendir(path.buf);
	if (d) {
		size_t len = path.len;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			buf_setlen(&path, len);
			buf_addf(&path, "/%s", de->d_name);
			unlink(path.buf);
		}
		closedir(d);
		buf_setlen(&path, len);
	}
	if (rmdir(path.buf) && errno != ENOENT)
		warning("cannot remove the old inputs %s: %s", qpath(path.buf),
			strerror(errno));
	buf_release(&path);
}

/*
 * Keep only the newest FAILED_KEEP folders under top (names sort by
 * time), so that a repository that fails to merge again and again does
 * not fill up with copies.
 */
static void prune_failed(const char *top, const char *just_made)
{
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *de;
	DIR *d = opendir(top);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!is_failed_name(de->d_name))
			continue;
		if (nr == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			names = xrealloc(names, alloc * sizeof(*names));
		}
		names[nr++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nr; i++) {
		/* The folder this run made is never the one to go. */
		if (i + FAILED_KEEP < nr && strcmp(names[i], just_made))
			remove_failed(top, names[i]);
		free(names[i]);
	}
	free(names);
}

/*
 * Keep copies of the three inputs of a failed merge under
 * $GIT_DIR/crdtmem/failed/<time>-<pid>/ so nothing is lost when git
 * removes its temporary files; only the newest FAILED_KEEP are kept.
 */
static void keep_failed_inputs(char *const files[3], const char *path)
{
	struct buf dir = BUF_INIT, file = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t top_len;

	if (git_dir(&dir)) {
		warning("not in a git repository; the inputs were not kept");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	buf_addstr(&dir, "/crdtmem/failed");
	top_len = dir.len;
	buf_addf(&dir, "/%s-%ld", stamp, (long)getpid());
	if (mkdir_p(dir.buf)) {
		warning("cannot create %s: %s; the inputs were not kept", qpath(dir.buf),
			strerror(errno));
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		buf_reset(&file);
		buf_addf(&file, "%s/%s", dir.buf, merge_side_names[i]);
		if (copy_file(files[i], file.buf))
			warning("cannot keep the %s side as %s", merge_side_names[i],
				qpath(file.buf));
	}
	buf_reset(&file);
	buf_addf(&file, "%s/path", dir.buf);
	buf_reset(&dir);
	buf_addf(&dir, "%s\n", path);
	atomic_write(file.buf, dir.buf, dir.len, 0);
	file.buf[file.len - strlen("/path")] = '\0';
	fprintf(stderr, "hint: the three inputs are kept in %s\n", qpath(file.buf));
	file.buf[top_len] = '\0';
	prune_failed(file.buf, file.buf + top_len + 1);
out:
	buf_release(&dir);
	buf_release(&file);
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct merge_result res = MERGE_RESULT_INIT;
	struct stat st;
	const char *path;
	int c, ret = EXIT_CONFLICT;

	/*
	 * Options only before the files ("+"): PATH is the user's file name
	 * and may start with a dash.
	 */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c == 'h')
			return show_help(merge_usage, merge_help);
		return bad_option(merge_usage, argv, c);
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc > 5)
		return usage_error(merge_usage, "%s",
				   "a merge takes BASE OURS THEIRS [MARKER-SIZE [PATH]]");
	path = argc == 5 ? argv[4] : argv[1];
	if (merge_files(&res, (const char *const *)argv, path)) {
		/* Copies are kept of bad content, not of files that are not there. */
		int all_there = 1;
		for (int i = 0; i < 3; i++)
			all_there &= !stat(argv[i], &st) && S_ISREG(st.st_mode);
		if (all_there)
			keep_failed_inputs(argv, path);
		goto out;
	}
	if (memfile_write(argv[1], &res.set, res.format, 0))
		goto out;
	ret = EXIT_OK;
out:
	merge_result_release(&res);
	return ret;
}
