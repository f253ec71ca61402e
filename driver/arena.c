/*
 * Arenas: chunked bump allocation with a reference count (see arena.h).
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define CHUNK_SIZE (1u << 20) /* large enough that malloc maps it on its own */
#define ALIGN	   16

struct arena_chunk {
	struct arena_chunk *prev;
	size_t size;
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

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (need > a->left) {
		/* A big request gets a chunk of its own; the current one stays. */
		size_t size = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;
		struct arena_chunk *c = xmalloc(sizeof(*c) + size);
		c->size = size;
		if (size == need && a->chunks) {
			c->prev = a->chunks->prev;
			a->chunks->prev = c;
			a->used += need;
			return c->data;
		}
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
