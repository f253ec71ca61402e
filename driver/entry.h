/*
 * One entry of a memory file: its key (the rule is in key.h), its
 * canonical bytes and its stamp (stamp.h).
 *
 * Canonical entity form: "observations" is always present, sorted in byte
 * order, without duplicates and without any string that is also listed in
 * "_crdt_metadata"."removed_observations"; that list is sorted too and left
 * out when empty.
 *
 * Entries are reference counted and immutable once made, so sets and merge
 * results can share them.
 */
#ifndef ENTRY_H
#define ENTRY_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "key.h"
#include "scan.h"
#include "stamp.h"

struct entry {
	atomic_uint refs; /* atomic: the sides of a merge are read on two threads */
	enum entry_kind kind;
	unsigned deleted : 1;	/* _crdt_metadata.deleted is true: a tombstone */
	unsigned owns_text : 1; /* text was malloc'd for this entry */
	unsigned has_sets : 1;	/* sets below hold where an entity's sets are */
	struct arena *arena;	/* the entry, and maybe its text, live here; or NULL */
	/*
	 * The canonical serialisation of the whole entry: text_len bytes, not
	 * NUL-terminated (it is often borrowed from the file it was read from).
	 */
	const char *text;
	size_t text_len;
	const char *raw; /* the bytes it was read from (borrowed), or NULL */
	size_t raw_len;
	struct stamp stamp; /* stamp.host points into key[] */
	/*
	 * An entity read by the fast path: where "observations" and
	 * "removed_observations" stand in text (scan_entity_sets's answer,
	 * kept from the reading), as offsets.
	 */
	uint32_t obs_off, obs_len, rem_off, rem_len, meta_close;
	size_t key_len;
	char key[]; /* the key, NUL, then the host, NUL */
};

/*
 * Make an entry from a parsed object. Takes ownership of obj (freed in all
 * cases). Checks the metadata: "_crdt_metadata" must be an object, its
 * "timestamp" a parseable instant, "version" an integer, "host" and
 * "unique_id" strings, "deleted" a boolean, "removed_observations" an array
 * of strings; an entity's "observations" must be an array of strings.
 * Missing metadata fields take their lowest values. Returns a new entry with
 * one reference, or NULL with a one-line reason appended to err.
 */
struct entry *entry_from_json(cJSON *obj, struct buf *err);

/* Parse text as one JSON object and make an entry of it (see above). */
struct entry *entry_parse(const char *text, size_t len, struct buf *err);

/*
 * The same, fast when text is already canonical: then the entry borrows
 * text instead of copying it, so text must outlive the entry. Either way
 * raw/raw_len record text. On bad input returns NULL, appends the reason to
 * err and sets *err_offset to where in text the problem is.
 *
 * The readers take an arena (arena.h; NULL for the heap): the entry and
 * any text made for it are carved from it, and the entry holds a
 * reference to it. The arena's scratch buffers are used meanwhile.
 */
struct entry *entry_read(struct arena *a, const char *text, size_t len, struct buf *err,
			 size_t *err_offset);

/*
 * Read the one JSON value at the start of text (an element of an array
 * file) as entry_read does, and set *end to the offset just past it.
 */
struct entry *entry_read_value(struct arena *a, const char *text, size_t len, size_t *end,
			       struct buf *err, size_t *err_offset);

/* Only the fast half of entry_read: NULL when text is not canonical. */
struct entry *entry_read_canonical(const char *text, size_t len);

/*
 * The same for the canonical object at the start of text, followed by
 * anything (an element of an array): *end is set to the offset past it.
 */
struct entry *entry_read_canonical_prefix(struct arena *a, const char *text, size_t len,
					  size_t *end);

/*
 * Where a canonical entity's sets stand in its text (scan_entity_sets),
 * from what the reader kept when it can. 0 when e is not one.
 */
int entry_sets(const struct entry *e, struct scan_sets *at);

/*
 * A new entry like the canonical entity like (key, stamp, host, deleted)
 * whose text is text[0..len) (taken: malloc'd), the same text but for its
 * sets, which stand where at says. For joins that splice new sets into a
 * version's text: nothing else in it changes, so nothing needs reading.
 */
struct entry *entry_with_sets(const struct entry *like, char *text, size_t len,
			      const struct scan_sets *at);

/* A fresh tree of the entry's canonical form; caller frees with cJSON_Delete. */
cJSON *entry_to_json(const struct entry *e);

struct entry *entry_ref(struct entry *e);
/* Drop one reference; frees the entry with the last one. NULL is fine. */
void entry_unref(struct entry *e);

/* Byte order of keys. */
int entry_cmp_key(const struct entry *a, const struct entry *b);

/* Same canonical bytes (metadata included); two NULLs are equal. */
int entry_equal(const struct entry *a, const struct entry *b);

/*
 * The version order of the join: stamp (instant, version, host), then the
 * canonical bytes without "observations" and "removed_observations" for
 * entities, the whole canonical bytes for other kinds. Returns <0, 0 or >0.
 */
int entry_cmp_version(const struct entry *a, const struct entry *b);

/*
 * Parse the value of "_crdt_metadata"."timestamp" from a tree into ns since
 * the epoch: a string (stamp_parse_text), or a number of epoch seconds
 * (a cJSON_Raw number as this tool's reader makes them, or a cJSON_Number).
 * Returns 0, or -1 when the value is not a timestamp.
 */
int entry_parse_instant(const cJSON *item, int64_t *ns);

#endif
