/*
 * The commands of git-merge-crdtmem, one file each (cmd-NAME.c), listed in
 * main.c's table. Each gets argv[0] = its name and returns the process's
 * exit status; only main exits.
 */
#ifndef CMDS_H
#define CMDS_H

#define EXIT_OK	      0 /* merged, written, nothing wrong */
#define EXIT_CONFLICT 1 /* bad input or failure: git records a conflict */
#define EXIT_USAGE    2 /* wrong command line */

/*
 * Print "error: MESSAGE", then usage, to stderr, and return EXIT_USAGE,
 * so a command can end with "return usage_error(usage, ...)".
 */
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Report what getopt_long (run with opterr = 0 and an optstring starting
 * with ":") returned as c: an unknown option or one missing its value.
 */
int bad_option(const char *usage, char **argv, int c);

/* Print usage and help to stdout and return EXIT_OK. */
int show_help(const char *usage, const char *help);

/* The program's argv[0] as main got it (for finding itself), or NULL. */
extern const char *crdtmem_argv0;

int cmd_merge(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_stamp(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* The merge driver's usage, also shown by the top-level help. */
extern const char merge_usage[];
extern const char join_usage[];
extern const char install_usage[];
extern const char backup_usage[];
extern const char restore_usage[];
extern const char migrate_usage[];

#endif
