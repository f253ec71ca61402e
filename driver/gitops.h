/*
 * Running git (and other programs): never through a shell, always with a
 * timeout, after git's run-command.h. The caller fills a struct child
 * (arguments, environment, working folder, bytes for stdin, what to
 * capture) and calls child_run.
 */
#ifndef GITOPS_H
#define GITOPS_H

#include <stddef.h>

#include "buf.h"

/* Default time a git command may take; CRDTMEM_GIT_TIMEOUT (seconds) overrides. */
#define GIT_TIMEOUT_MS 30000

struct running;

struct child {
	/* The command: args[0] is the program, looked up in PATH. Owned. */
	char **args;
	size_t nr, alloc;
	/*
	 * Changes to the environment, NULL-terminated, borrowed: "NAME=VALUE"
	 * sets, "NAME" alone unsets. NULL: the environment as it is.
	 */
	const char *const *env;
	const char *dir; /* working folder, or NULL for the current one */
	const char *in;	 /* bytes for stdin (borrowed), or NULL for /dev/null */
	size_t in_len;
	int timeout_ms;		  /* 0: git_timeout_ms() */
	unsigned capture_out : 1; /* stdout into out (else to /dev/null) */
	unsigned capture_err : 1; /* stderr into err (else passed through) */
	/*
	 * With capture_out: stdout goes to this function as it arrives, in
	 * pieces of any size, instead of into out.
	 */
	void (*out_sink)(void *data, const char *p, size_t n);
	void *sink_data;
	/* Results. */
	struct buf out, err;
	int status; /* exit status, or -1 */
	unsigned timed_out : 1;
	struct running *run; /* between child_start and child_finish */
};
#define CHILD_INIT                                                                       \
	{                                                                                \
		.args = NULL, .nr = 0, .alloc = 0, .env = NULL, .dir = NULL, .in = NULL, \
		.in_len = 0, .timeout_ms = 0, .capture_out = 0, .capture_err = 0,        \
		.out_sink = NULL, .sink_data = NULL, .out = BUF_INIT, .err = BUF_INIT,   \
		.status = -1, .timed_out = 0, .run = NULL                                \
	}

/* Append one argument (copied). */
void child_push(struct child *c, const char *arg);
/* Append the arguments up to a NULL (copied). */
void child_pushl(struct child *c, ...);
/* Start the command as "git" with these arguments, up to a NULL. */
void child_git(struct child *c, ...);

/*
 * Run the command and wait for it, killing it (and its process group)
 * when the timeout passes. Returns its exit status (0..255; c->status too),
 * or -1, reported with error(), when it could not be run, was killed by a
 * signal or timed out (c->timed_out set). Can be called again after
 * child_release.
 */
int child_run(struct child *c);

/*
 * Run the n commands at the same time and wait for all of them, each with
 * its own timeout. Returns 0 when each ran to its exit (each c->status
 * tells how), or -1 when any could not be run, was killed by a signal or
 * timed out (reported with error() as child_run does).
 */
int child_run_all(struct child **cs, size_t n);

/*
 * child_run in two halves, so that other work goes on while the command
 * runs: child_start starts it (-1 when it cannot, reported again by
 * child_finish), child_finish waits for it and returns what child_run
 * would. Every started command must be finished, and a command's output is
 * read only while some child_finish waits, so a command that writes much
 * may wait for it; its timeout then counts from the first child_finish that
 * waits for it, when that is later than its start. child_finish_all waits
 * for several as child_run_all does.
 */
int child_start(struct child *c);
int child_finish(struct child *c);
int child_finish_all(struct child **cs, size_t n);

/* Free the arguments and the captured output; c is left as CHILD_INIT. */
void child_release(struct child *c);

/* GIT_TIMEOUT_MS, or CRDTMEM_GIT_TIMEOUT seconds when that is set. */
int git_timeout_ms(void);

/*
 * Run "git <argv...>" (argv NULL-terminated, without "git"), stdin from
 * /dev/null, stdout appended to out when out is not NULL, stderr passed
 * through. Kills git after timeout_ms. Returns git's exit status, or -1
 * (reported with error()) when git could not be run or timed out.
 */
int git_run(const char *const *argv, struct buf *out, int timeout_ms);

/*
 * Run git in dir (NULL: here) with the arguments up to a NULL, quietly,
 * and put its stdout without the final newline into out (replacing what
 * out held). Returns git's exit status, or -1 as child_run.
 */
int git_output(struct buf *out, const char *dir, ...);

/* The absolute git dir of the repository around the current directory,
 * without a trailing newline. Returns 0 or -1. */
int git_dir(struct buf *out);

#endif
