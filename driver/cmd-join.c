/*
 * git-merge-crdtmem join [-o OUT] [--format json|jsonl] FILE...: the join of
 * any number of memory files, what a merge of all of them converges to.
 * Builds unified-memory.json from the host files. "unify" is the same.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "memfile.h"

const char join_usage[] =
	"usage: git-merge-crdtmem join [-o OUT] [--format json|jsonl] FILE...\n";

static const char join_help[] =
	"\n"
	"Writes the join of the memory files: every entry of every file, the\n"
	"newest version of each key, entities' observations merged as sets.\n"
	"Options may come anywhere; \"--\" ends them.\n"
	"\n"
	"  -o, --output OUT      write OUT atomically instead of standard output\n"
	"  --format json|jsonl   output format (default: that of the first FILE)\n"
	"\n"
	"Example: git-merge-crdtmem join memory-*.json -o unified-memory.json\n"
	"\n"
	"Exit status: 0 written; 1 a FILE is not a valid memory file (named with\n"
	"its line and column) or OUT cannot be written; 2 wrong usage.\n";

int cmd_join(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"format", required_argument, NULL, 'f'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *output = NULL;
	int fmt = -1, c, ret = EXIT_CONFLICT;
	struct entry_set acc = ENTRY_SET_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT;
	enum memfile_format first = MEMFILE_EMPTY;
	struct memfile *files = NULL;
	size_t nfiles = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'f':
			if ((fmt = memfile_format_parse(optarg)) < 0)
				return usage_error(join_usage,
						   "--format takes json or jsonl, not %s",
						   qpath(optarg));
			break;
		case 'h': return show_help(join_usage, join_help);
		default: return bad_option(join_usage, argv, c);
		}
	}
	if (optind == argc)
		return usage_error(join_usage, "%s", "join needs at least one FILE");
	/* Entries borrow their files' bytes: keep every file until the end. */
	nfiles = (size_t)(argc - optind);
	files = xcalloc(nfiles, sizeof(*files));
	for (size_t f = 0; f < nfiles; f++) {
		struct entry_set next = ENTRY_SET_INIT;
		const char *name = argv[optind + (int)f];

		buf_reset(&err);
		if (memfile_load(&files[f], name, &err)) {
			error("%s: %s", qpath(name), err.buf);
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
		if (memfile_write(output, &acc, (enum memfile_format)fmt, ATOMIC_FSYNC))
			goto out;
	} else {
		memfile_serialize(&acc, (enum memfile_format)fmt, &text);
		if (fwrite(text.buf, 1, text.len, stdout) != text.len || fflush(stdout)) {
			error("cannot write to standard output: %s", strerror(errno));
			goto out;
		}
	}
	ret = EXIT_OK;
out:
	entry_set_release(&acc);
	for (size_t f = 0; f < nfiles; f++)
		memfile_release(&files[f]);
	free(files);
	buf_release(&err);
	buf_release(&text);
	return ret;
}
