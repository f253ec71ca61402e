/*
 * git-merge-crdtmem stamp [--host NAME] [--prev FILE] [--known FILE]...
 * [-o OUT] FILE: stamp a new state of a memory file against the versions
 * already known (restamp.h), as the pre-commit hook does for staged files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "diag.h"
#include "memfile.h"
#include "restamp.h"
#include "writer.h"

static const char stamp_usage[] =
	"usage: git-merge-crdtmem stamp [--host NAME] [--prev FILE] "
	"[--known FILE]... [-o OUT] FILE\n";

static const char stamp_help[] =
	"\n"
	"Stamps FILE, a new state of one writer's memory file, against the\n"
	"versions already known, and writes the result (standard output, or OUT\n"
	"atomically; OUT may be FILE itself):\n"
	"  - an entry unchanged from a known version keeps that version's metadata;\n"
	"  - a new or changed entry gets _crdt_metadata with this host, the time\n"
	"    (never earlier than 1 ms after the newest known version), version + 1\n"
	"    and a fresh unique_id;\n"
	"  - an entry of --prev that FILE no longer has becomes a tombstone, and an\n"
	"    observation that is gone is listed in removed_observations.\n"
	"\n"
	"  --prev FILE      the writer's previous state: deletions are measured\n"
	"                   against it (without it nothing is deleted)\n"
	"  --known FILE     more known versions, e.g. unified-memory.json (repeatable)\n"
	"  --host NAME      the host recorded in new stamps (default: git config\n"
	"                   crdtmem.host, else this machine's short name)\n"
	"  -o, --output OUT write OUT atomically instead of standard output\n"
	"  --format json|jsonl  output format (default: FILE's, else --prev's)\n"
	"  -q, --quiet      no summary on standard error\n"
	"\n"
	"CRDTMEM_NOW (an ISO-8601 time or epoch seconds) fixes the clock.\n"
	"Exit status: 0 written; 1 bad input or a write failed; 2 wrong usage.\n";

int cmd_stamp(int argc, char **argv)
{
	static const struct option longopts[] = {{"host", required_argument, NULL, 'H'},
						 {"prev", required_argument, NULL, 'p'},
						 {"known", required_argument, NULL, 'k'},
						 {"output", required_argument, NULL, 'o'},
						 {"format", required_argument, NULL, 'f'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *host_opt = NULL, *prev_path = NULL, *output = NULL;
	const char **known_paths = NULL;
	size_t nknown = 0;
	int fmt = -1, quiet = 0, c, ret = EXIT_CONFLICT;
	struct memfile next = MEMFILE_INIT, prev = MEMFILE_INIT, *known = NULL;
	const struct entry_set **known_sets = NULL;
	struct entry_set out = ENTRY_SET_INIT;
	struct buf err = BUF_INIT, host = BUF_INIT, text = BUF_INIT;
	struct restamp_clock clock;
	struct restamp_stats st;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': host_opt = optarg; break;
		case 'p': prev_path = optarg; break;
		case 'k':
			known_paths = xrealloc(known_paths,
					       (nknown + 1) * sizeof(*known_paths));
			known_paths[nknown++] = optarg;
			break;
		case 'o': output = optarg; break;
		case 'f':
			if ((fmt = memfile_format_parse(optarg)) < 0) {
				free(known_paths);
				return usage_error(stamp_usage,
						   "--format takes json or jsonl, not %s",
						   qpath(optarg));
			}
			break;
		case 'q': quiet = 1; break;
		case 'h': free(known_paths); return show_help(stamp_usage, stamp_help);
		default: free(known_paths); return bad_option(stamp_usage, argv, c);
		}
	}
	if (optind != argc - 1) {
		free(known_paths);
		return usage_error(stamp_usage, "%s", "stamp takes one FILE");
	}
	const char *path = argv[optind];

	if (writer_host(&host, host_opt, NULL) || writer_clock(&clock, host.buf))
		goto out;
	if (memfile_load(&next, path, &err)) {
		error("%s: %s", qpath(path), err.buf);
		goto out;
	}
	if (prev_path && memfile_load(&prev, prev_path, &err)) {
		error("%s (--prev): %s", qpath(prev_path), err.buf);
		goto out;
	}
	known = xcalloc(nknown + 1, sizeof(*known));
	known_sets = xcalloc(nknown + 1, sizeof(*known_sets));
	for (size_t i = 0; i < nknown; i++) {
		if (memfile_load(&known[i], known_paths[i], &err)) {
			error("%s (--known): %s", qpath(known_paths[i]), err.buf);
			goto out;
		}
		known_sets[i] = &known[i].set;
	}
	restamp(&next.set, prev_path ? &prev.set : NULL, known_sets, nknown, &clock, &out,
		NULL, &st);
	if (fmt < 0)
		fmt = next.format != MEMFILE_EMPTY   ? next.format
		      : prev.format != MEMFILE_EMPTY ? prev.format
						     : MEMFILE_ARRAY;
	if (st.future)
		warning("%s: %zu known versions are stamped more than a day ahead of "
			"this machine's clock; is a clock wrong?",
			qpath(path), st.future);
	if (output) {
		if (memfile_write(output, &out, (enum memfile_format)fmt, ATOMIC_FSYNC))
			goto out;
	} else {
		memfile_serialize(&out, (enum memfile_format)fmt, &text);
		if (fwrite(text.buf, 1, text.len, stdout) != text.len || fflush(stdout)) {
			error("cannot write to standard output: %s", strerror(errno));
			goto out;
		}
	}
	if (!quiet)
		fprintf(stderr,
			"stamped %s: %zu kept, %zu added, %zu changed, %zu deleted\n",
			qpath(path), st.kept, st.added, st.changed, st.deleted);
	ret = EXIT_OK;
out:
	entry_set_release(&out);
	memfile_release(&next);
	memfile_release(&prev);
	for (size_t i = 0; known && i < nknown; i++)
		memfile_release(&known[i]);
	free(known);
	free(known_sets);
	free(known_paths);
	buf_release(&err);
	buf_release(&host);
	buf_release(&text);
	return ret;
}
