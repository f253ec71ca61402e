/*
 * Replacing files so that a crash or a kill leaves the old or the new
 * content, never a mix (git's lockfile.h): the new bytes go to a temporary
 * file in the target's own folder, which then replaces the target with
 * rename(2). Also the small file operations the commands share: a lock
 * file, making folders, copying a file.
 */
#ifndef ATOMIC_H
#define ATOMIC_H

#include <stddef.h>

#include "buf.h"

#define ATOMIC_FSYNC 1 /* fsync the data before the rename, and the folder after */

/*
 * Writes the new content to fd. On a write error sets *failed to the errno
 * (and may stop early). ctx is the caller's.
 */
typedef void (*atomic_fill_fn)(int fd, const void *ctx, int *failed);

/*
 * Replace path with what fill writes. A symbolic link is kept: the file it
 * points to is replaced. An existing file's mode is kept; a new file gets
 * 0666 less the umask. The temporary file is ".<name>.crdtmem-<pid>-XXXXXX"
 * next to the target, made by mkstemp (mode 0600 until the final mode is
 * set). Reports with error() and returns -1 on failure, leaving path
 * untouched and no temporary file behind. Temporary files of the same
 * target that a killed writer left (its process gone, or older than an
 * hour) are removed first.
 */
int atomic_replace(const char *path, unsigned flags, atomic_fill_fn fill,
		   const void *ctx);

/* The same with the bytes data[0..len). */
int atomic_write(const char *path, const char *data, size_t len, unsigned flags);

/*
 * atomic_replace in two steps, for callers that must do something else
 * (stage the same bytes in git, say) before the file may change:
 * atomic_prepare writes the temporary file (reporting and returning -1 on
 * failure, with nothing left behind), then atomic_commit renames it over
 * the target, or atomic_abort removes it. Either releases p.
 */
struct atomic_pending {
	char *target; /* the file replaced (a symbolic link resolved) */
	char *tmp;    /* the temporary file written */
	unsigned flags;
};
int atomic_prepare(struct atomic_pending *p, const char *path, unsigned flags,
		   atomic_fill_fn fill, const void *ctx);
int atomic_prepare_bytes(struct atomic_pending *p, const char *path, const char *data,
			 size_t len, unsigned flags);
int atomic_commit(struct atomic_pending *p);
void atomic_abort(struct atomic_pending *p);

/* write(2) all of p[0..n), retrying short writes. Returns 0 or -1 (errno set). */
int atomic_write_full(int fd, const char *p, size_t n);

/*
 * Read the whole of path into out (appended). Returns 0, or -1 with errno
 * set and out as it was.
 */
int read_whole_file(const char *path, struct buf *out);

/*
 * Whether the regular file at path holds exactly the len bytes at data,
 * read in small pieces; *exists tells whether path could be opened.
 */
int file_holds(const char *path, const char *data, size_t len, int *exists);

/* Create path and every missing folder above it (mode 0777 less the umask). */
int mkdir_p(const char *path);

/* Copy from's bytes to to, atomically. Returns 0 or -1 (reported). */
int copy_file(const char *from, const char *to);

/*
 * A lock held as long as its file exists: created with O_EXCL, holding the
 * holder's pid. Another process that finds it waits up to timeout_ms; a
 * lock whose holder is no longer alive is taken over.
 */
struct lockfile {
	char *path; /* owned; NULL when not held */
};
#define LOCKFILE_INIT                                                                    \
	{                                                                                \
		NULL                                                                     \
	}

/* Take the lock at path. Returns 0, or -1 with the reason reported. */
int lockfile_take(struct lockfile *lk, const char *path, int timeout_ms);

/* Remove the lock file if held. Safe to call twice. */
void lockfile_release(struct lockfile *lk);

#endif
