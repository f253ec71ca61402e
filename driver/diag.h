/*
 * Diagnostics in git's style: "error: ...", "warning: ...", "fatal: ..." on
 * stderr, one line each. Library code reports with error() and returns its
 * -1; only main decides the exit status.
 */
#ifndef DIAG_H
#define DIAG_H

#include <stddef.h>

/* Print "error: <message>" to stderr. Always returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "warning: <message>" to stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "fatal: <message>" and exit with status 1 (never above 128: newer
 * git aborts a whole merge when a driver dies of a signal-like status).
 * Reserved for conditions no caller can handle, such as running out of memory.
 */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A "cannot happen" check failed: a bug in this program, not bad input.
 * Prints "BUG: <file>:<line>: <message>" and exits with status 1. git's own
 * BUG() aborts, but abort() means status 134, and git (2.40 on) aborts the
 * whole merge when a driver exits above 128; with 1 it records a conflict
 * for this one file, leaves %A as it was, and the user still gets the
 * message to report.
 */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void bug_fl(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A path as messages show it, quoted the way git quotes paths
 * (core.quotePath's default): 'memory-a.json' when it is plain, or in
 * double quotes with C-style escapes ("a\nb", "caf\303\251") when it holds
 * control characters, '"', '\\' or bytes >= 0x80. Use it with %s in place
 * of '%s'. Returns a static buffer of the calling thread, valid until its
 * fourth call after; a path of more than about 8000 bytes is cut with "...".
 */
const char *qpath(const char *path);

/* malloc/realloc/strdup that die() instead of returning NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xmemdup0(const char *data, size_t len);
/*
 * A block of size bytes (a multiple of LARGE_PAGE) aligned to LARGE_PAGE,
 * asking for large pages: fresh memory filled with few page faults.
 * Released with free().
 */
#define LARGE_PAGE (2u << 20)
void *xmalloc_pages(size_t size);
/*
 * The whole pages inside [p, p + size) are not needed now: the system may
 * take them back. Touched again, memory of our own reads as zeros, and a
 * file mapped privately (and not written) reads as the file. Only a hint.
 */
void pages_unused(const void *p, size_t size);

#endif
