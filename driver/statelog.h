/*
 * The user's private state folder for git-merge-crdtmem
 * ($XDG_STATE_HOME/git-merge-crdtmem, default
 * ~/.local/state/git-merge-crdtmem; mode 0700, never under /tmp) and the
 * one-line-per-run log kept there for backup and restore: time, command,
 * host, counts, duration, result. Callers log counts and names of files,
 * never memory contents.
 */
#ifndef STATELOG_H
#define STATELOG_H

#include "buf.h"

/*
 * Put the state folder's absolute path into out (replacing its contents),
 * creating it (and the folders above it) when missing, and making it 0700.
 * Returns 0, or -1 (reported) when there is no HOME or it cannot be made.
 */
int state_dir(struct buf *out);

/*
 * Append "<UTC time> <command> <message>\n" to <state folder>/log with one
 * write (so lines of concurrent runs do not mix). A failure is only warned
 * about: a log must never fail a backup. Returns 0 or -1.
 */
int state_log(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
