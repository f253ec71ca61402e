/*
 * Diagnostics and allocation helpers (see diag.h).
 */
/* madvise, MADV_HUGEPAGE */
#define _DEFAULT_SOURCE
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* From this size on, blocks ask for large pages (advise_large). */
#define LARGE_BLOCK LARGE_PAGE

/*
 * Append the C-style escape of byte c to out (git's quote_c_style): the
 * named escapes, else three octal digits.
 */
static size_t escape_byte(char *out, unsigned char c)
{
	static const char named[] = "\a\b\t\n\v\f\r";
	const char *p = c >= '\a' && c <= '\r' ? strchr(named, c) : NULL;

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (p) {
		out[0] = '\\';
		out[1] = "abtnvfr"[p - named];
		return 2;
	}
	out[0] = '\\';
	out[1] = (char)('0' + (c >> 6));
	out[2] = (char)('0' + ((c >> 3) & 7));
	out[3] = (char)('0' + (c & 7));
	return 4;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Print one line. Whatever the arguments held (a path, a line of git's
 * output), a control character left in the message is escaped, so that a
 * message is always one line and cannot move the terminal's cursor; a
 * final newline of the arguments is dropped.
 */
__attribute__((format(printf, 2, 0))) static void report(const char *prefix,
							 const char *fmt, va_list ap)
{
	char msg[4096], out[4 * sizeof(msg)];
	size_t len, n = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (is_control(c) && c != '\t')
			n += escape_byte(out + n, c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	fprintf(stderr, "%s%s\n", prefix, out);
}

/* Room for a quoted path: 4 bytes per byte at worst, and the quotes. */
#define QPATH_SIZE  8192
#define QPATH_SLOTS 4

const char *qpath(const char *path)
{
	static _Thread_local char slot[QPATH_SLOTS][QPATH_SIZE];
	static _Thread_local unsigned next;
	char *out = slot[next++ % QPATH_SLOTS];
	size_t n = 0;
	int plain = 1;

	for (const unsigned char *p = (const unsigned char *)path; *p && plain; p++)
		plain = !is_control(*p) && *p != '"' && *p != '\\' && *p < 0x80;
	out[n++] = plain ? '\'' : '"';
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 8 >= QPATH_SIZE) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (!plain && (is_control(*p) || *p == '"' || *p == '\\' || *p >= 0x80))
			n += escape_byte(out + n, *p);
		else
			out[n++] = (char)*p;
	}
	out[n++] = plain ? '\'' : '"';
	out[n] = '\0';
	return out;
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("warning: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	report(prefix, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Large blocks (a join's text of megabytes, git's answers) ask for large
 * pages where the system offers them on request: fewer page faults, which
 * are most of what touching fresh memory costs on some virtual machines.
 * Only a hint; without it nothing changes.
 */
/* madvise the whole pages inside [p, p + size). */
static void advise_pages(const void *p, size_t size, int advice)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t stop = ((uintptr_t)p + size) & ~(page - 1);

	if (stop > start)
		madvise((void *)start, stop - start, advice);
}

static void *advise_large(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
	if (size >= LARGE_BLOCK)
		advise_pages(p, size, MADV_HUGEPAGE);
#else
	(void)size;
#endif
	return p;
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die("out of memory (%zu bytes)", size);
	return advise_large(p, size);
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die("out of memory (%zu bytes)", size);
	return advise_large(p, size);
}

void *xmalloc_pages(size_t size)
{
	void *p;

	if (posix_memalign(&p, LARGE_PAGE, size))
		die("out of memory (%zu bytes)", size);
	return advise_large(p, size);
}

void pages_unused(const void *p, size_t size)
{
	advise_pages(p, size, MADV_DONTNEED);
}

char *xmemdup0(const char *data, size_t len)
{
	char *p = xmalloc(len + 1);

	memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xmemdup0(s, strlen(s));
}
