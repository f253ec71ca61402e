/*
 * git-merge-crdtmem: the command line. The merge driver (the default form,
 * as git calls it) and the subcommands; the only place that exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crdt.h"
#include "diag.h"
#include "gitops.h"
#include "memfile.h"
#include "version.h"

#define EXIT_MERGED   0
#define EXIT_CONFLICT 1
#define EXIT_USAGE    2

static const char usage_text[] =
	"usage: git-merge-crdtmem BASE OURS THEIRS [MARKER-SIZE [PATH]]\n"
	"   or: git-merge-crdtmem merge BASE OURS THEIRS [MARKER-SIZE [PATH]]\n"
	"   or: git-merge-crdtmem join [-o OUT] [--format json|jsonl] FILE...\n"
	"   or: git-merge-crdtmem --help | --version\n";

static const char help_text[] =
	"\n"
	"Merges AI-assistant memory files (the MCP memory server's knowledge graph,\n"
	"backed up to git as memory-<host>.json and unified-memory.json) as a CRDT:\n"
	"every merge is automatic, deterministic, and loses no entry.\n"
	"\n"
	"Merge driver (git runs this for files marked merge=crdtmem):\n"
	"  git config merge.crdtmem.name 'CRDT merge for memory files'\n"
	"  git config merge.crdtmem.driver 'git-merge-crdtmem %O %A %B %L %P'\n"
	"  git config merge.crdtmem.recursive crdtmem\n"
	"  printf '%s\\n' 'memory-*.json merge=crdtmem' \\\n"
	"      'unified-memory.json merge=crdtmem' >> .gitattributes\n"
	"\n"
	"  For each entry (keyed by id, entity name, or relation from/type/to):\n"
	"  a side that left it as in BASE takes the other side's version; when\n"
	"  both changed it, the newer stamp (_crdt_metadata timestamp, then\n"
	"  version, then host) wins and an entity's observations are merged as a\n"
	"  set. The result is written to OURS only, atomically, in OURS's format\n"
	"  (JSON array or JSON lines), one entry per line in key order.\n"
	"\n"
	"  Exit status: 0 merged; 1 bad input (git records a conflict; OURS is left\n"
	"  as it was, and the three inputs are kept in $GIT_DIR/crdtmem/failed/);\n"
	"  2 wrong usage.\n"
	"\n"
	"join FILE...  (alias: unify)\n"
	"  Writes the join of any number of memory files: what a merge of all of\n"
	"  them converges to. Used to build unified-memory.json from the host\n"
	"  files.\n"
	"  -o, --output OUT      write OUT atomically instead of standard output\n"
	"  --format json|jsonl   output format (default: that of the first FILE)\n"
	"\n"
	"Input files are a JSON array of objects or JSON lines (the memory\n"
	"server's own format); an empty file is an empty memory.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return EXIT_USAGE;
}

static const char *const side_names[3] = {"base", "ours", "theirs"};

static int copy_file(const char *from, const char *to)
{
	struct buf data = BUF_INIT, err = BUF_INIT;
	FILE *in = fopen(from, "rb");
	int ret = -1;

	if (in) {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			buf_add(&data, chunk, n);
		if (!ferror(in))
			ret = write_atomic(to, data.buf, data.len, 0);
		fclose(in);
	}
	buf_release(&data);
	buf_release(&err);
	return ret;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

/*
 * Keep copies of the three inputs of a failed merge under
 * $GIT_DIR/crdtmem/failed/<time>-<pid>/ so nothing is lost when git
 * removes its temporary files.
 */
static void keep_failed_inputs(char *const files[3], const char *path)
{
	struct buf dir = BUF_INIT, file = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (git_dir(&dir)) {
		warning("not in a git repository; the inputs were not kept");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	buf_addf(&dir, "/crdtmem/failed/%s-%ld", stamp, (long)getpid());
	if (mkdir_p(dir.buf)) {
		warning("cannot create '%s': %s; the inputs were not kept", dir.buf,
			strerror(errno));
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		buf_reset(&file);
		buf_addf(&file, "%s/%s", dir.buf, side_names[i]);
		if (copy_file(files[i], file.buf))
			warning("cannot keep the %s side as '%s'", side_names[i],
				file.buf);
	}
	buf_reset(&file);
	buf_addf(&file, "%s/path", dir.buf);
	buf_reset(&dir);
	buf_addf(&dir, "%s\n", path);
	write_atomic(file.buf, dir.buf, dir.len, 0);
	file.buf[file.len - strlen("/path")] = '\0';
	fprintf(stderr, "hint: the three inputs are kept in '%s'\n", file.buf);
out:
	buf_release(&dir);
	buf_release(&file);
}

/* Reading one side of a merge, possibly on its own thread. */
struct side_job {
	struct memfile *mf;
	const char *path;
	const struct memfile *base;
	struct buf err;
	int ret;
};

static void load_side(struct side_job *job)
{
	job->ret = memfile_load_with_base(job->mf, job->path, job->base, &job->err);
	if (!job->ret && job->base)
		memfile_drop_bytes(job->mf);
}

static void *load_side_thread(void *job)
{
	load_side(job);
	return NULL;
}

static int cmd_merge(int argc, char **argv)
{
	struct memfile mf[3] = {MEMFILE_INIT, MEMFILE_INIT, MEMFILE_INIT};
	struct entry_set out = ENTRY_SET_INIT;
	struct buf err = BUF_INIT;
	const char *path;
	int bad = 0, ret = EXIT_CONFLICT;
	enum memfile_format fmt;

	if (argc < 3 || argc > 5)
		return usage_error("%s",
				   "a merge takes BASE OURS THEIRS [MARKER-SIZE [PATH]]");
	path = argc == 5 ? argv[4] : argv[1];
	/*
	 * The base first; then ours and theirs at once (theirs on a second
	 * thread), both sharing the base's entries where they are unchanged.
	 */
	struct side_job jobs[3];
	for (int i = 0; i < 3; i++) {
		jobs[i].mf = &mf[i];
		jobs[i].path = argv[i];
		jobs[i].base = i ? &mf[0] : NULL;
		buf_init(&jobs[i].err, 0);
	}
	load_side(&jobs[0]);
	if (jobs[0].ret)
		jobs[1].base = jobs[2].base = NULL; /* still check them, to say all */
	/*
	 * A thread pays for itself only on larger files, and only when they
	 * are in canonical form: formatted sides are rewritten entry by entry,
	 * and reading both at once would hold both in memory for no gain.
	 */
	struct stat st;
	int big = !stat(argv[2], &st) && st.st_size > (1 << 20) &&
		  memfile_bytes_in_use(&mf[0]);
	pthread_t thread;
	int threaded = big && !pthread_create(&thread, NULL, load_side_thread, &jobs[2]);
	load_side(&jobs[1]);
	if (threaded)
		pthread_join(thread, NULL);
	else
		load_side(&jobs[2]);
	for (int i = 0; i < 3; i++) {
		if (jobs[i].ret) {
			error("'%s' (%s): %s", path, side_names[i], jobs[i].err.buf);
			bad = 1;
		}
		buf_release(&jobs[i].err);
	}
	memfile_drop_bytes(&mf[0]);
	if (bad) {
		keep_failed_inputs(argv, path);
		goto out;
	}
	crdt_merge3_sets(&mf[0].set, &mf[1].set, &mf[2].set, &out);
	fmt = mf[1].format;
	if (fmt == MEMFILE_EMPTY)
		fmt = mf[2].format != MEMFILE_EMPTY ? mf[2].format : mf[0].format;
	if (memfile_write(argv[1], &out, fmt, 0))
		goto out;
	ret = EXIT_MERGED;
out:
	entry_set_release(&out);
	for (int i = 0; i < 3; i++)
		memfile_release(&mf[i]);
	buf_release(&err);
	return ret;
}

static int cmd_join(int argc, char **argv)
{
	const char *output = NULL;
	int fmt = -1, i, ret = EXIT_CONFLICT;
	struct entry_set acc = ENTRY_SET_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT;
	enum memfile_format first = MEMFILE_EMPTY;
	struct memfile *files = NULL;
	size_t nfiles = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (++i == argc)
				return usage_error("'%s' needs a file name", a);
			output = argv[i];
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
		} else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
			const char *v =
				a[8] == '=' ? a + 9 : (++i < argc ? argv[i] : NULL);
			if (!v || (fmt = memfile_format_parse(v)) < 0)
				return usage_error(
					"--format takes json or jsonl, not '%s'",
					v ? v : "");
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("%s%s", usage_text, help_text);
			return EXIT_MERGED;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else {
			break;
		}
	}
	if (i == argc)
		return usage_error("%s", "join needs at least one FILE");
	/* Entries borrow their files' bytes: keep every file until the end. */
	nfiles = (size_t)(argc - i);
	files = xcalloc(nfiles, sizeof(*files));
	for (size_t f = 0; f < nfiles; f++) {
		struct entry_set next = ENTRY_SET_INIT;
		const char *name = argv[i + (int)f];

		buf_reset(&err);
		if (memfile_load(&files[f], name, &err)) {
			error("'%s': %s", name, err.buf);
			goto out;
		}
		if (first == MEMFILE_EMPTY)
			first = files[f].format;
		crdt_join_sets(&acc, &files[f].set, &next);
		entry_set_release(&acc);
		acc = next;
	}
	if (fmt < 0)
		fmt = first;
	if (output) {
		if (memfile_write(output, &acc, (enum memfile_format)fmt, WRITE_FSYNC))
			goto out;
	} else {
		memfile_serialize(&acc, (enum memfile_format)fmt, &text);
		if (fwrite(text.buf, 1, text.len, stdout) != text.len || fflush(stdout)) {
			error("cannot write to standard output: %s", strerror(errno));
			goto out;
		}
	}
	ret = EXIT_MERGED;
out:
	entry_set_release(&acc);
	for (size_t f = 0; f < nfiles; f++)
		memfile_release(&files[f]);
	free(files);
	buf_release(&err);
	buf_release(&text);
	return ret;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		printf("%s%s", usage_text, help_text);
		return EXIT_MERGED;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("git-merge-crdtmem %s\n", CRDTMEM_VERSION);
		return EXIT_MERGED;
	}
	if (!strcmp(cmd, "join") || !strcmp(cmd, "unify"))
		return cmd_join(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return cmd_merge(argc - 2, argv + 2);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return cmd_merge(argc - 1, argv + 1);
}
