/*
 * Memory files on disk: reading (a JSON array of objects, or JSONL, the
 * memory server's format) and canonical writing.
 */
#ifndef MEMFILE_H
#define MEMFILE_H

#include <stddef.h>

#include "atomic.h"
#include "buf.h"
#include "crdt.h"

enum memfile_format {
	MEMFILE_EMPTY, /* empty or all white space: the format is not known */
	MEMFILE_ARRAY, /* first non-blank byte '[' */
	MEMFILE_JSONL  /* first non-blank byte '{': one object per line */
};

struct memfile {
	struct entry_set set; /* normalised: sorted, one entry per key */
	enum memfile_format format;
	size_t duplicates; /* keys that appeared more than once and were joined */
	/*
	 * When there were duplicates (and the file was read without a base):
	 * every entry before joining, sorted by key, so that a later reading
	 * against this file reuses them and their join.
	 */
	struct entry_set copies;
	/* The file's bytes; entries borrow from them. */
	const char *bytes;
	size_t size;
	struct buf copy; /* holds the bytes when they are not mapped */
	void *map;	 /* the file mapped read-only, or NULL */
	size_t map_len;
	/*
	 * Where the entries read from the file live (arena.h): one per
	 * reading thread. The memfile holds a reference to each, as every
	 * entry does, so entries may outlive it.
	 */
	struct arena *arena[2];
	/*
	 * Set by the caller before reading: leave the joins of repeated keys
	 * for memfile_join (join_pending then says whether there are any),
	 * so that a merge can join the base's copies while it reads the
	 * sides. Until then the set is sorted but holds every copy; copies is
	 * complete at once.
	 */
	int defer_join, join_pending;
};
#define MEMFILE_INIT                                                                     \
	{                                                                                \
		ENTRY_SET_INIT, MEMFILE_EMPTY, 0, ENTRY_SET_INIT, NULL, 0, BUF_INIT,     \
			NULL, 0, {NULL, NULL}, 0, 0                                      \
	}

/*
 * Parse a whole file's bytes. On bad input returns -1 and appends
 * "line L, column C: <reason>" (1-based, columns in bytes) to err; mf is
 * then empty. Blank lines and CRLF line ends are fine in JSONL. The bytes
 * are copied into mf->copy.
 */
int memfile_parse(struct memfile *mf, const char *data, size_t len, struct buf *err);

/* The same without a copy: data (borrowed) must outlive mf. */
int memfile_parse_borrowed(struct memfile *mf, const char *data, size_t len,
			   struct buf *err);

/* The same, sharing base's entries as memfile_load_with_base does. */
int memfile_parse_with_base(struct memfile *mf, const char *data, size_t len,
			    const struct memfile *base, struct buf *err);

/* Both: no copy, and base's entries shared. */
int memfile_parse_borrowed_with_base(struct memfile *mf, const char *data, size_t len,
				     const struct memfile *base, struct buf *err);

/* Read and parse path. On failure appends the reason to err, as above, or
 * "cannot read: <strerror>". */
int memfile_load(struct memfile *mf, const char *path, struct buf *err);

/*
 * The same, sharing base's entries for records whose bytes are identical
 * (much faster for the sides of a merge). base must outlive mf.
 */
int memfile_load_with_base(struct memfile *mf, const char *path,
			   const struct memfile *base, struct buf *err);

/*
 * Join the copies of each repeated key of a file read with defer_join, as
 * the reading would have (base: what it was read against, or NULL).
 * Another file may meanwhile be read against mf (it walks mf->copies); it
 * must not join until this is done.
 */
void memfile_join(struct memfile *mf, const struct memfile *base);

void memfile_release(struct memfile *mf);

/*
 * Give the file's mapped bytes back when no entry's text is taken from
 * them (a formatted file whose entries were all rewritten), so that a merge
 * of large formatted files does not hold every input in memory. After it,
 * mf can no longer be the base of memfile_load_with_base.
 */
void memfile_drop_bytes(struct memfile *mf);

/* Whether any entry's text is taken from the file's own bytes (a file in
 * canonical form). */
int memfile_bytes_in_use(const struct memfile *mf);

/*
 * Append the canonical file for set in fmt (MEMFILE_EMPTY writes JSONL):
 * one entry per line, in key order, ending in a newline; an empty set is
 * "[]\n" as an array and "" as JSONL.
 */
void memfile_serialize(const struct entry_set *set, enum memfile_format fmt,
		       struct buf *out);

/* Parse "json"/"array" or "jsonl"; -1 for anything else. */
int memfile_format_parse(const char *name);

/*
 * Replace path with the canonical serialisation of set, atomically
 * (atomic_replace; flags as there: ATOMIC_FSYNC).
 */
int memfile_write(const char *path, const struct entry_set *set, enum memfile_format fmt,
		  unsigned flags);

#endif
