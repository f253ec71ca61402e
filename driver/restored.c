/*
 * The record of what restore wrote (see restored.h).
 */
#define _GNU_SOURCE /* realpath */
#include "restored.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"

char *restored_abs_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, cwd[4096];
	struct buf out = BUF_INIT;

	if ((real = realpath(path, NULL)))
		return real;
	dir = slash ? xmemdup0(path, slash == path ? 1 : (size_t)(slash - path))
		    : xstrdup(".");
	real = realpath(dir, NULL);
	if (real)
		buf_addf(&out, "%s/%s", strcmp(real, "/") ? real : "",
			 slash ? slash + 1 : path);
	else if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		buf_addstr(&out, path);
	else
		buf_addf(&out, "%s/%s", cwd, path);
	free(real);
	free(dir);
	return buf_detach(&out, NULL);
}

/* gitdir/crdtmem/restored-<FNV-1a 64 of target>.<ext> */
static void record_path(struct buf *out, const char *gitdir, const char *target,
			const char *ext)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)target; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	buf_reset(out);
	buf_addf(out, "%s/crdtmem/restored-%016llx.%s", gitdir, (unsigned long long)h,
		 ext);
}

int restored_save(const char *gitdir, const char *target, const struct entry_set *set)
{
	struct buf dir = BUF_INIT, path = BUF_INIT, text = BUF_INIT;
	int ret = -1;

	buf_addf(&dir, "%s/crdtmem", gitdir);
	if (mkdir_p(dir.buf)) {
		error("cannot create '%s': %s", dir.buf, strerror(errno));
		goto out;
	}
	memfile_serialize(set, MEMFILE_JSONL, &text);
	record_path(&path, gitdir, target, "json");
	if (atomic_write(path.buf, text.buf, text.len, ATOMIC_FSYNC))
		goto out;
	record_path(&path, gitdir, target, "path");
	buf_reset(&text);
	buf_addf(&text, "%s\n", target);
	if (atomic_write(path.buf, text.buf, text.len, ATOMIC_FSYNC))
		goto out;
	ret = 0;
out:
	buf_release(&dir);
	buf_release(&path);
	buf_release(&text);
	return ret;
}

int restored_load(const char *gitdir, const char *target, struct memfile *mf)
{
	struct buf path = BUF_INIT, named = BUF_INIT, err = BUF_INIT;
	int ret = 0;

	record_path(&path, gitdir, target, "path");
	if (read_whole_file(path.buf, &named))
		goto out;
	if (named.len && named.buf[named.len - 1] == '\n')
		buf_setlen(&named, named.len - 1);
	if (strcmp(named.buf, target))
		goto out; /* another file with the same hash */
	record_path(&path, gitdir, target, "json");
	if (memfile_load(mf, path.buf, &err)) {
		ret = error("'%s' (what the last restore wrote): %s", path.buf, err.buf);
		goto out;
	}
	ret = 1;
out:
	buf_release(&path);
	buf_release(&named);
	buf_release(&err);
	return ret;
}

void restored_forget(const char *gitdir, const char *target)
{
	struct buf path = BUF_INIT;

	record_path(&path, gitdir, target, "json");
	unlink(path.buf);
	record_path(&path, gitdir, target, "path");
	unlink(path.buf);
	buf_release(&path);
}
