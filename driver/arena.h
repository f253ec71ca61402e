/*
 * Memory in bulk for the entries of one input file: the entries, their
 * keys and their compacted text are carved out of large chunks, and given
 * back all at once, instead of one malloc and one free each.
 *
 * Entries are reference counted and shared between sets and merge results
 * (entry.h), so an arena is reference counted too: its reader holds one
 * reference (memfile.h: the memfile), and every entry carved from it holds
 * one. The chunks are freed with the last reference, so no entry can
 * outlive the memory it lives in, however long a merge result keeps it.
 *
 * Carving is not thread-safe: one thread reads into an arena at a time
 * (a file read on two threads uses two arenas). Taking and dropping
 * references is.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"

struct arena_chunk;

struct arena {
	atomic_uint refs;
	struct arena_chunk *chunks; /* the newest first */
	char *next;		    /* free space in the newest chunk */
	size_t left;
	size_t chunk_size; /* of the next chunk; 0 before the first */
	size_t used;	   /* bytes handed out, for tests and statistics */
	/* Scratch space for one reader at a time (compaction, keys). */
	struct buf scratch, key;
};

/* A new empty arena with one reference (the caller's). */
struct arena *arena_new(void);

/* n bytes, aligned for any object; valid while the arena lives. */
void *arena_alloc(struct arena *a, size_t n);

/*
 * The reader is done for now: give back its scratch space and the part of
 * the newest chunk nothing was carved from. A chunk on large pages holds
 * up to one large page more than it was given otherwise. Carving may go
 * on afterwards.
 */
void arena_trim(struct arena *a);

/* A copy of p[0..n) followed by a NUL. */
char *arena_memdup0(struct arena *a, const void *p, size_t n);

/* Take one more reference; returns a. */
struct arena *arena_ref(struct arena *a);

/* Drop one reference; with the last one every chunk is freed. NULL is fine. */
void arena_unref(struct arena *a);

#endif
