/*
 * Atomic replacement of files, the lock file, and the small file
 * operations the commands share (see atomic.h).
 */
#define _GNU_SOURCE /* realpath */
#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"

int atomic_write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The file a write to path really replaces: path itself, or where a
 * symbolic link points, so that replacing keeps the link.
 */
static char *resolve_target(const char *path)
{
	struct stat st;
	char *real;

	if (lstat(path, &st) || !S_ISLNK(st.st_mode))
		return xstrdup(path);
	real = realpath(path, NULL);
	return real ? real : xstrdup(path);
}

/* A temporary file whose writer may still be alive is left this long. */
#define STALE_AFTER_SEC (60 * 60)
/* One of an older version (no pid in its name) is left for a minute. */
#define STALE_NO_PID_SEC 60

/*
 * Whether name (in dir) is a temporary file left by a writer of base that
 * was killed: ".<base>.crdtmem-<pid>-XXXXXX" whose process is gone, or
 * older than an hour (the pid may have been reused); from an older
 * version, ".<base>.crdtmem-XXXXXX" older than a minute. Only regular
 * files of this user.
 */
static int is_stale_temp(int dfd, const char *name, const char *base, time_t now)
{
	size_t blen = strlen(base);
	static const char mark[] = ".crdtmem-";
	const char *rest;
	struct stat st;

	if (name[0] != '.' || strncmp(name + 1, base, blen) ||
	    strncmp(name + 1 + blen, mark, sizeof(mark) - 1))
		return 0;
	rest = name + 1 + blen + sizeof(mark) - 1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		return 0;
	if (strlen(rest) == 6)
		return now - st.st_mtime > STALE_NO_PID_SEC;
	char *end;
	long pid = strtol(rest, &end, 10);
	if (end == rest || *end != '-' || strlen(end + 1) != 6 || pid <= 0)
		return 0;
	if (now - st.st_mtime > STALE_AFTER_SEC)
		return 1;
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

/*
 * Remove the temporary files killed writers of base left in dir, so that
 * a kill (or a power cut) does not leave them for good. Best effort.
 */
static void remove_stale_temps(const char *dir, const char *base)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (is_stale_temp(dirfd(d), de->d_name, base, now))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

void atomic_abort(struct atomic_pending *p)
{
	if (p->tmp)
		unlink(p->tmp);
	free(p->tmp);
	free(p->target);
	p->tmp = p->target = NULL;
}

int atomic_prepare(struct atomic_pending *p, const char *path, unsigned flags,
		   atomic_fill_fn fill, const void *ctx)
{
	char *target = resolve_target(path);
	char *dircopy = xstrdup(target), *basecopy = xstrdup(target);
	const char *dir = dirname(dircopy), *base = basename(basecopy);
	struct buf tmp = BUF_INIT;
	struct stat st;
	mode_t mode;
	int fd = -1, failed = 0, ret = -1;

	p->tmp = NULL;
	p->target = target;
	p->flags = flags;
	if (!stat(target, &st)) {
		mode = st.st_mode & 07777;
	} else {
		mode_t mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	remove_stale_temps(dir, base);
	buf_addf(&tmp, "%s/.%s.crdtmem-%ld-XXXXXX", dir, base, (long)getpid());
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		buf_reset(&tmp);
		error("%s: cannot create a temporary file in %s: %s", qpath(path),
		      qpath(dir), strerror(errno));
		goto out;
	}
	fill(fd, ctx, &failed);
	if (failed) {
		error("%s: cannot write %s: %s", qpath(path), qpath(tmp.buf),
		      strerror(failed));
		goto out;
	}
	if (fchmod(fd, mode)) {
		error("%s: cannot set the mode of %s: %s", qpath(path), qpath(tmp.buf),
		      strerror(errno));
		goto out;
	}
	if ((flags & ATOMIC_FSYNC) && fsync(fd)) {
		error("%s: cannot sync %s: %s", qpath(path), qpath(tmp.buf),
		      strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		error("%s: cannot write %s: %s", qpath(path), qpath(tmp.buf),
		      strerror(errno));
		goto out;
	}
	fd = -1;
	p->tmp = buf_detach(&tmp, NULL);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	buf_release(&tmp);
	free(dircopy);
	free(basecopy);
	if (ret)
		atomic_abort(p);
	return ret;
}

int atomic_commit(struct atomic_pending *p)
{
	int ret = 0;

	if (rename(p->tmp, p->target)) {
		ret = error("%s: cannot replace it: %s", qpath(p->target),
			    strerror(errno));
	} else {
		free(p->tmp);
		p->tmp = NULL;
		if (p->flags & ATOMIC_FSYNC) {
			char *dircopy = xstrdup(p->target);
			int dfd = open(dirname(dircopy), O_RDONLY);
			if (dfd >= 0) {
				fsync(dfd);
				close(dfd);
			}
			free(dircopy);
		}
	}
	atomic_abort(p); /* removes the temporary file if it is still there */
	return ret;
}

int atomic_replace(const char *path, unsigned flags, atomic_fill_fn fill, const void *ctx)
{
	struct atomic_pending p;

	if (atomic_prepare(&p, path, flags, fill, ctx))
		return -1;
	return atomic_commit(&p);
}

struct bytes {
	const char *data;
	size_t len;
};

static void fill_bytes(int fd, const void *ctx, int *failed)
{
	const struct bytes *b = ctx;

	if (atomic_write_full(fd, b->data, b->len))
		*failed = errno ? errno : EIO;
}

int atomic_write(const char *path, const char *data, size_t len, unsigned flags)
{
	struct bytes b = {data, len};

	return atomic_replace(path, flags, fill_bytes, &b);
}

int atomic_prepare_bytes(struct atomic_pending *p, const char *path, const char *data,
			 size_t len, unsigned flags)
{
	struct bytes b = {data, len};

	return atomic_prepare(p, path, flags, fill_bytes, &b);
}

int read_whole_file(const char *path, struct buf *out)
{
	size_t start = out->len;
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0)
		return -1;
	/* Room for the whole file at once; one more read sees its end. */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size < SIZE_MAX / 2)
		buf_grow(out, (size_t)st.st_size + 1);
	for (;;) {
		buf_grow(out, 65536);
		ssize_t n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			buf_setlen(out, start);
			errno = e;
			return -1;
		}
		if (!n)
			break;
		buf_setlen(out, out->len + (size_t)n);
	}
	close(fd);
	return 0;
}

int file_holds(const char *path, const char *data, size_t len, int *exists)
{
	char chunk[65536];
	size_t at = 0;
	struct stat st;
	int fd = open(path, O_RDONLY), same = 0;

	*exists = fd >= 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size != len)
		goto out;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			same = !n && at == len;
			break;
		}
		if ((size_t)n > len - at || memcmp(chunk, data + at, (size_t)n))
			break;
		at += (size_t)n;
	}
out:
	close(fd);
	return same;
}

int mkdir_p(const char *path)
{
	char *copy = xstrdup(path);
	int ret = 0;

	for (char *p = copy + 1; *p && !ret; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) && errno != EEXIST)
			ret = -1;
		*p = '/';
	}
	if (!ret && mkdir(copy, 0777) && errno != EEXIST)
		ret = -1;
	free(copy);
	return ret;
}

int copy_file(const char *from, const char *to)
{
	struct buf data = BUF_INIT;
	int ret;

	if (read_whole_file(from, &data)) {
		buf_release(&data);
		return error("cannot read %s: %s", qpath(from), strerror(errno));
	}
	ret = atomic_write(to, data.buf, data.len, 0);
	buf_release(&data);
	return ret;
}

/* The pid written in a lock file, or 0 when it holds none. */
static long lock_holder(const char *path)
{
	struct buf text = BUF_INIT;
	long pid = 0;

	if (!read_whole_file(path, &text))
		pid = strtol(text.buf, NULL, 10);
	buf_release(&text);
	return pid;
}

int lockfile_take(struct lockfile *lk, const char *path, int timeout_ms)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	int waited_ms = 0;

	if (lk->path)
		BUG("lock '%s' taken twice", path);
	for (;;) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0) {
			char pid[32];
			int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
			if (atomic_write_full(fd, pid, (size_t)n) || close(fd)) {
				int e = errno;
				unlink(path);
				return error("cannot write the lock %s: %s", qpath(path),
					     strerror(e));
			}
			lk->path = xstrdup(path);
			return 0;
		}
		if (errno != EEXIST)
			return error("cannot create the lock %s: %s", qpath(path),
				     strerror(errno));
		long holder = lock_holder(path);
		if (holder > 0 && kill((pid_t)holder, 0) && errno == ESRCH) {
			/* Its holder is gone (killed, machine rebooted): take it over. */
			warning("removing the stale lock %s of process %ld", qpath(path),
				holder);
			unlink(path);
			continue;
		}
		if (waited_ms >= timeout_ms)
			return error("%s is locked by process %ld; another run is "
				     "in progress (remove the file if it is not)",
				     qpath(path), holder);
		nanosleep(&pause, NULL);
		waited_ms += 50;
	}
}

void lockfile_release(struct lockfile *lk)
{
	if (!lk->path)
		return;
	unlink(lk->path);
	free(lk->path);
	lk->path = NULL;
}
