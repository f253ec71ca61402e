/*
 * Running git: never through a shell, always with a timeout.
 */
#ifndef GITOPS_H
#define GITOPS_H

#include "buf.h"

#define GIT_TIMEOUT_MS 30000

/*
 * Run "git <argv...>" (argv NULL-terminated, without "git"), stdin from
 * /dev/null, stdout appended to out when out is not NULL, stderr passed
 * through. Kills git after timeout_ms. Returns git's exit status, or -1
 * (reported with error()) when git could not be run or timed out.
 */
int git_run(const char *const *argv, struct buf *out, int timeout_ms);

/* The absolute git dir of the repository around the current directory,
 * without a trailing newline. Returns 0 or -1. */
int git_dir(struct buf *out);

#endif
