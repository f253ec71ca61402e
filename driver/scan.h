/*
 * The fast path of reading: recognise an entry that is already in
 * canonical form (as the tool writes every repository file) without
 * building a tree.
 *
 * scan_canonical() answers yes only for text that entry_parse() would
 * accept and write back to exactly the same bytes, with the same key and
 * stamp. Anything else (other formatting, member order, escapes it does
 * not bother with, unsorted observations, or errors) gets the answer "not
 * sure", and the caller takes the general path, which canonicalises or
 * reports the error with its position.
 */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "key.h"
#include "strset.h"

struct json_compact_at; /* json.h */

struct scan_sets {
	size_t obs_off, obs_len; /* the "observations" array */
	size_t rem_off, rem_len; /* "removed_observations"; rem_len 0 if none */
	size_t meta_close;	 /* the metadata's closing brace; 0 if none */
};

struct scan_info {
	enum entry_kind kind;
	struct scan_sets sets; /* for an entity (kind ENTRY_ENTITY) */
	int deleted;
	int64_t instant; /* STAMP_NONE without metadata or timestamp */
	int64_t version;
	const char *host; /* points into the text; not NUL-terminated */
	size_t host_len;
};

/*
 * 1 when text[0..len) is one canonical entry: info is filled and its key
 * (see entry.h) appended to key. 0 when the general path must decide; key
 * is then left as it was.
 */
int scan_canonical(const char *text, size_t len, struct scan_info *info, struct buf *key);

/*
 * The same for the canonical object at the start of text (an element of
 * an array, whatever follows it): *end is set to the offset just past it.
 * One pass, so reading an array costs time linear in its size however its
 * elements are laid out.
 */
int scan_canonical_prefix(const char *text, size_t len, size_t *end,
			  struct scan_info *info, struct buf *key);

/*
 * The same for text that json_compact() has just written from an entry,
 * without reading it again: at says where its members went. Text that
 * json_compact accepted is valid JSON with canonical strings and members
 * in canonical order, which is what the walk of scan_canonical checks; the
 * rest (names, metadata, key, sets) is checked as there.
 */
int scan_compacted(const char *text, size_t len, const struct json_compact_at *at,
		   struct scan_info *info, struct buf *key);

/*
 * Sort and deduplicate the array of plain strings (no escapes) at
 * text[off..off+len), in place. Returns 1 when it is now in order (*changed
 * says whether anything moved), 0 when it is not such an array (text
 * unchanged). Used for an entity's observations in formatted input.
 */
int scan_sort_strings(struct buf *text, size_t off, size_t len, int *changed);

/*
 * Add the strings of the canonical array text[off..off+len) to out
 * (borrowed from text). Returns 0 when it is not an array of strings
 * without escapes (out may then hold some of them).
 */
int scan_split_strings(const char *text, size_t off, size_t len, struct strset *out);

/*
 * Whether canonical entity text[0..len), whose sets stand at at and which
 * has metadata but no "removed_observations", stays canonical with that
 * list added at the end of its metadata (no member there sorts after it).
 * Reads only what follows the observations.
 */
int scan_removed_fits(const char *text, size_t len, const struct scan_sets *at);

/* Where an entity's observation sets stand in its canonical text. */
/* Fill sets for a canonical entity's text; 0 when it is not one. */
int scan_entity_sets(const char *text, size_t len, struct scan_sets *sets);

#endif
