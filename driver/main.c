/*
 * git-merge-crdtmem: the command line. A table of commands (git's git.c),
 * each in its own cmd-NAME.c; git's own calling form for a merge driver
 * (BASE OURS THEIRS [MARKER-SIZE [PATH]], without a command name) is the
 * merge command. The only place that exits.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cmds.h"
#include "diag.h"
#include "version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"merge", cmd_merge, "merge three versions of a memory file (the merge driver)"},
	{"join", cmd_join, "write the join of memory files (alias: unify)"},
	{"unify", cmd_join, NULL},
	{"install", cmd_install,
	 "set up git to use this driver and its hooks (--uninstall)"},
	{"uninstall", cmd_install, NULL},
	{"hook", cmd_hook, "what the installed git hooks run (see 'hook --help')"},
	{"verify", cmd_verify,
	 "check memory files, the unified file and merge commits (for CI)"},
	{"stamp", cmd_stamp,
	 "stamp a new state of a memory file against the known versions"},
	{"backup", cmd_backup,
	 "record this machine's live memory file in the repository, then push"},
	{"restore", cmd_restore,
	 "write the repository's memory back into the live memory file"},
	{"migrate", cmd_migrate,
	 "rewrite an earlier tool's memory files in canonical form, stamps kept"},
};
#define NR_COMMANDS (sizeof(commands) / sizeof(*commands))

static const char main_usage[] =
	"usage: git-merge-crdtmem [merge] BASE OURS THEIRS [MARKER-SIZE [PATH]]\n"
	"   or: git-merge-crdtmem COMMAND [OPTIONS] [ARGS]\n"
	"   or: git-merge-crdtmem --help | --version\n";

static const char main_help[] =
	"\n"
	"Merges AI-assistant memory files (the MCP memory server's knowledge graph,\n"
	"backed up to git as memory-<host>.json and unified-memory.json) as a CRDT:\n"
	"every merge is automatic, deterministic, and loses no entry.\n"
	"\n"
	"Merge driver (git runs it for files marked merge=crdtmem):\n"
	"  git config merge.crdtmem.name 'CRDT merge for memory files'\n"
	"  git config merge.crdtmem.driver 'git-merge-crdtmem %O %A %B %L %P'\n"
	"  git config merge.crdtmem.recursive crdtmem\n"
	"  printf '%s\\n' 'memory-*.json merge=crdtmem' \\\n"
	"      'unified-memory.json merge=crdtmem' >> .gitattributes\n"
	"\n"
	"Input files are a JSON array of objects or JSON lines (the memory\n"
	"server's own format); an empty file is an empty memory.\n"
	"\n"
	"Exit status: 0 done; 1 bad input or failure (for a merge, git records a\n"
	"conflict and OURS is left as it was); 2 wrong usage.\n";

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Edit distance (insert, delete, substitute, swap), capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[16][16];

	if (la > 15 || lb > 15)
		return 9;
	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			int v;
			if (!i || !j) {
				v = (int)(i + j);
			} else {
				v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
				if (d[i - 1][j] + 1 < v)
					v = d[i - 1][j] + 1;
				if (d[i][j - 1] + 1 < v)
					v = d[i][j - 1] + 1;
				if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
				    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
					v = d[i - 2][j - 2] + 1;
			}
			d[i][j] = v;
		}
	return d[la][lb];
}

static int unknown_command(const char *name)
{
	const char *best = NULL;
	int best_d = 3;

	for (size_t i = 0; i < NR_COMMANDS; i++) {
		int d = distance(name, commands[i].name);
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	fprintf(stderr, "error: unknown command %s\n", qpath(name));
	if (best)
		fprintf(stderr, "hint: did you mean %s?\n", qpath(best));
	fprintf(stderr, "hint: 'git-merge-crdtmem --help' lists the commands\n");
	return EXIT_USAGE;
}

static int print_help(void)
{
	printf("%s%s\nCommands:\n", main_usage, main_help);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (commands[i].summary)
			printf("  %-8s %s\n", commands[i].name, commands[i].summary);
	printf("\n'git-merge-crdtmem COMMAND --help' tells more of one.\n");
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct command *cmd;
	struct stat st;

	if (!name) {
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		return print_help();
	if (!strcmp(name, "help")) {
		if (argc > 2 && (cmd = find_command(argv[2]))) {
			char *args[] = {argv[2], "--help", NULL};
			return cmd->fn(2, args);
		}
		if (argc > 2)
			return unknown_command(argv[2]);
		return print_help();
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("git-merge-crdtmem %s\n", CRDTMEM_VERSION);
		return EXIT_OK;
	}
	if ((cmd = find_command(name)))
		return cmd->fn(argc - 1, argv + 1);
	if (name[0] == '-')
		return usage_error(main_usage, "unknown option %s", qpath(name));
	/*
	 * git's calling form: the first operand is the base's temporary file
	 * (".merge_file_XXXXXX"), or a path to a file. Anything else is a
	 * mistyped command, never read as a merge.
	 */
	if (argc >= 4 && ((!stat(name, &st) && !S_ISDIR(st.st_mode)) ||
			  strchr(name, '/') || !strncmp(name, ".merge_file_", 12)))
		return cmd_merge(argc, argv);
	return unknown_command(name);
}

/* With CRDTMEM_TRACE: the processor time of this process and of the git it ran. */
static void trace_usage(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
#define MS(tv) ((long)(tv).tv_sec * 1000 + (long)(tv).tv_usec / 1000)
	fprintf(stderr,
		"trace: processor time: %ld ms user, %ld ms system, %ld page faults; "
		"commands run: %ld ms user, %ld ms system\n",
		MS(self.ru_utime), MS(self.ru_stime), self.ru_minflt + self.ru_majflt,
		MS(kids.ru_utime), MS(kids.ru_stime));
#undef MS
}

/*
 * Memory a merge frees is used again rather than given back and touched
 * afresh: blocks up to 32 MiB come from the heap, which keeps up to 256
 * MiB free and grows 16 MiB at a time. Each fresh page costs a page fault,
 * and on virtual machines those are much of the time of a large join.
 * Pages never touched count for nothing, so the peak stays where it was.
 */
static void reuse_memory(void)
{
#ifdef M_MMAP_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
#endif
}

int main(int argc, char **argv)
{
	reuse_memory();
	crdtmem_argv0 = argc > 0 ? argv[0] : NULL;
	/*
	 * Past a file size limit (ulimit -f) a write fails with EFBIG and is
	 * reported, instead of SIGXFSZ killing the driver with a status above
	 * 128 (which makes newer git abort the whole merge).
	 */
	signal(SIGXFSZ, SIG_IGN);
	int status = run(argc, argv);
	if (getenv("CRDTMEM_TRACE"))
		trace_usage();
	return status;
}
