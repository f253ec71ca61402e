/*
 * Arenas: chunked bump allocation with a reference count (see arena.h).
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define CHUNK_SIZE (1u << 20) /* large enough that malloc maps it on its own */
#define CHUNK_MAX  (8u << 20) /* chunks double up to this: large pages (xmalloc) */
#define ALIGN	   16

struct arena_chunk {
	struct arena_chunk *prev;
	size_t size;
	int large_pages; /* from xmalloc_pages */
	_Alignas(ALIGN) char data[];
};

struct arena *arena_new(void)
{
	struct arena *a = xcalloc(1, sizeof(*a));

	atomic_init(&a->refs, 1);
	buf_init(&a->scratch, 0);
	buf_init(&a->key, 0);
	return a;
}

/* A new chunk of at least want bytes; *size says how many it holds. */
static struct arena_chunk *new_chunk(size_t want, size_t *size)
{
	struct arena_chunk *c;

	if (want >= LARGE_PAGE && want % LARGE_PAGE == 0) {
		/* whole large pages, the header in the first */
		c = xmalloc_pages(want);
		*size = want - sizeof(*c);
		c->large_pages = 1;
	} else {
		c = xmalloc(sizeof(*c) + want);
		*size = want;
		c->large_pages = 0;
	}
	c->size = *size;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1), size;
	struct arena_chunk *c;
	void *p;

	if (need > a->left && need > CHUNK_SIZE / 4) {
		/* A big request gets a chunk of its own; the current one stays. */
		c = xmalloc(sizeof(*c) + need);
		c->size = need;
		c->large_pages = 0;
		a->used += need;
		if (a->chunks) {
			c->prev = a->chunks->prev;
			a->chunks->prev = c;
		} else {
			c->prev = NULL;
			a->chunks = c; /* current, and full */
			a->next = c->data + need;
			a->left = 0;
		}
		return c->data;
	}
	if (need > a->left) {
		/* A large file gets fewer, larger chunks, on large pages. */
		size_t want = a->chunk_size ? a->chunk_size : CHUNK_SIZE;
		c = new_chunk(want, &size);
		a->chunk_size = want < CHUNK_MAX ? 2 * want : want;
		c->prev = a->chunks;
		a->chunks = c;
		a->next = c->data;
		a->left = size;
	}
	p = a->next;
	a->next += need;
	a->left -= need;
	a->used += need;
	return p;
}

void arena_trim(struct arena *a)
{
	struct arena_chunk *c = a->chunks;

	buf_release(&a->scratch);
	buf_release(&a->key);
	if (c && c->large_pages && a->left)
		pages_unused(a->next, a->left);
}

char *arena_memdup0(struct arena *a, const void *p, size_t n)
{
	char *q = arena_alloc(a, n + 1);

	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

struct arena *arena_ref(struct arena *a)
{
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void arena_unref(struct arena *a)
{
	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	while (a->chunks) {
		struct arena_chunk *c = a->chunks;
		a->chunks = c->prev;
		free(c);
	}
	buf_release(&a->scratch);
	buf_release(&a->key);
	free(a);
}
