/*
 * A growable byte buffer, after git's strbuf. The bytes are always followed
 * by a NUL (not counted in len), so buf.buf can be used as a C string when
 * the contents hold no NUL.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *buf;    /* never NULL: points at a shared empty string until grown */
	size_t len;   /* bytes used, not counting the trailing NUL */
	size_t alloc; /* bytes allocated, 0 while buf is the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT                                                                         \
	{                                                                                \
		.buf = buf_empty, .len = 0, .alloc = 0                                   \
	}

void buf_init(struct buf *b, size_t hint);
/* Frees the contents and leaves b as after BUF_INIT. */
void buf_release(struct buf *b);
/* Takes the contents out (caller frees with free()); b is left empty. */
char *buf_detach(struct buf *b, size_t *len);
/* Makes room for at least extra more bytes. */
void buf_grow(struct buf *b, size_t extra);
void buf_reset(struct buf *b);
void buf_setlen(struct buf *b, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addbuf(struct buf *b, const struct buf *other);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);

/*
 * The two calls the readers and writers make for every token, inline: the
 * room is there nearly always.
 */
static inline void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	if (b->alloc - b->len <= len)
		buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

static inline void buf_addch(struct buf *b, char c)
{
	if (b->alloc - b->len <= 1)
		buf_grow(b, 1);
	b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}

#endif
