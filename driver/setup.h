/*
 * The setup a repository needs for git-merge-crdtmem: the merge driver in
 * git config, the merge attribute on the memory files, the hooks. What
 * "install" writes and what "verify" reports are defined here once: the
 * driver command, the attribute lines, the hook texts (taken from the
 * hooks/ folder at build time) and how to recognise each of them as ours.
 */
#ifndef SETUP_H
#define SETUP_H

#include <stddef.h>

#include "buf.h"

#define SETUP_PROGRAM	  "git-merge-crdtmem"
#define SETUP_DRIVER_NAME "CRDT merge for memory files"
#define SETUP_NR_HOOKS	  4
#define SETUP_NR_ATTRS	  2

/* The hook names in the order of setup_state.hooks_ok. */
extern const char *const setup_hook_names[SETUP_NR_HOOKS];

/*
 * The paths whose merge attribute must be crdtmem ("memory-x.json" stands
 * for every host's file), and the attributes line that gives each one.
 */
extern const char *const setup_attr_paths[SETUP_NR_ATTRS];
extern const char *const setup_attr_lines[SETUP_NR_ATTRS];

struct setup_state {
	char *driver;	  /* merge.crdtmem.driver as git sees it (any scope), or NULL */
	int driver_ok;	  /* it runs an existing executable named git-merge-crdtmem */
	int recursive_ok; /* merge.crdtmem.recursive = crdtmem */
	int attr_memory, attr_unified; /* check-attr merge says crdtmem for
					  memory-x.json / unified-memory.json */
	char *hooks_dir; /* absolute hooks folder (git rev-parse --git-path hooks) */
	int hooks_ok[SETUP_NR_HOOKS]; /* pre-commit, post-commit, post-merge,
					 post-rewrite: our hook is there */
	char *driver_program; /* the program the driver runs (absolute when found), or
				 NULL */
};
#define SETUP_STATE_INIT                                                                 \
	{                                                                                \
		NULL, 0, 0, 0, 0, NULL, {0, 0, 0, 0}, NULL                               \
	}

/*
 * Inspect the repository at dir (NULL: current). Returns 0, or -1
 * (reported) when dir is not a git repository. Free with
 * setup_state_release.
 */
int setup_inspect(const char *dir, struct setup_state *st);
void setup_state_release(struct setup_state *st);

/* Append s quoted for a POSIX shell: 'it'\''s'. */
void setup_sq(struct buf *out, const char *s);

/* Append the merge driver command for the binary at bin: 'BIN' %O %A %B %L %P. */
void setup_driver_command(struct buf *out, const char *bin);

/*
 * The program a shell command line runs: its first word with the shell's
 * quoting undone. Returns NULL when there is none or it cannot be read
 * (an unquoted $, `, ; ...). Caller frees.
 */
char *setup_command_program(const char *cmd);

/* Whether a merge.crdtmem.driver value runs a program named git-merge-crdtmem. */
int setup_driver_is_ours(const char *cmd);

/*
 * The absolute path of prog: as given when it holds a '/', else looked up
 * in PATH as the shell does. NULL when that is not an executable regular
 * file. Caller frees.
 */
char *setup_find_program(const char *prog);

/* Whether path is a regular file we may execute. */
int setup_is_executable_file(const char *path);

/* The hook NAME as the hooks/ folder has it, or NULL for an unknown NAME. Static. */
const char *setup_hook_template(const char *name);

/*
 * Append the hook NAME as install writes it: the template with its line
 * "crdtmem=git-merge-crdtmem" pointing at bin (quoted). Returns 0, or -1
 * for an unknown NAME.
 */
int setup_hook_text(struct buf *out, const char *name, const char *bin);

/* Whether the bytes of a hook file are one of ours (any binary path). */
int setup_hook_is_ours(const char *text, size_t len);

/*
 * Run "git rev-parse --git-path WHAT" in dir (NULL: here) and append the
 * answer made absolute. Returns 0, or -1 (git's message passed on) when
 * dir is not in a repository.
 */
int setup_git_path(struct buf *out, const char *dir, const char *what);

#endif
