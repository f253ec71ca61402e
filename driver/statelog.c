/*
 * The state folder and its log (see statelog.h).
 */
#include "statelog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"

int state_dir(struct buf *out)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct stat st;
	char *parent;

	buf_reset(out);
	/* The XDG spec: a relative XDG_STATE_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		buf_addf(out, "%s/git-merge-crdtmem", xdg);
	else if (home && home[0] == '/')
		buf_addf(out, "%s/.local/state/git-merge-crdtmem", home);
	else
		return error("cannot find a folder for the log: neither XDG_STATE_HOME "
			     "nor HOME is an absolute path");
	parent = xmemdup0(out->buf, (size_t)(strrchr(out->buf, '/') - out->buf));
	if (mkdir_p(parent)) {
		error("cannot create '%s': %s", parent, strerror(errno));
		free(parent);
		return -1;
	}
	free(parent);
	if (mkdir(out->buf, 0700) && errno != EEXIST)
		return error("cannot create '%s': %s", out->buf, strerror(errno));
	if (lstat(out->buf, &st) || !S_ISDIR(st.st_mode))
		return error("'%s' is not a folder", out->buf);
	if (st.st_uid != geteuid())
		return error("'%s' belongs to another user", out->buf);
	if ((st.st_mode & 07777) != 0700 && chmod(out->buf, 0700))
		return error("cannot make '%s' private: %s", out->buf, strerror(errno));
	return 0;
}

int state_log(const char *command, const char *fmt, ...)
{
	struct buf dir = BUF_INIT, line = BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	int fd, ret = -1;

	if (state_dir(&dir))
		goto out;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_addf(&line, "%s %s ", stamp, command);
	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < line.len; i++)
		if (line.buf[i] == '\n' || line.buf[i] == '\r')
			line.buf[i] = ' ';
	buf_addch(&line, '\n');
	buf_addstr(&dir, "/log");
	fd = open(dir.buf, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || atomic_write_full(fd, line.buf, line.len)) {
		warning("cannot write to the log '%s': %s", dir.buf, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	ret = 0;
out:
	buf_release(&dir);
	buf_release(&line);
	return ret;
}
