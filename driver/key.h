/*
 * The key of an entry (DESIGN.md "Entries and keys"), first rule that
 * matches:
 *   1. "id" is a string or an integer     -> ENTRY_ID, an opaque register
 *   2. "type":"entity" and string "name"  -> ENTRY_ENTITY, an MCP entity
 *   3. "type":"relation" and string "from", "relationType", "to"
 *                                          -> ENTRY_RELATION
 *   4. anything else                       -> ENTRY_CONTENT, keyed by its
 *      canonical content without "_crdt_metadata"
 * The key is itself canonical JSON, an array such as ["entity","Alice"] or
 * ["relation","a","knows","b"], so keys are unique, readable in messages,
 * and sort in plain byte order.
 *
 * This is the one place the rule is written. Both readers describe an
 * entry's identifying members by their canonical JSON text: the fast path
 * (scan.c) points into the entry's text, the tree path (entry.c) writes
 * the members of its tree.
 */
#ifndef KEY_H
#define KEY_H

#include <stddef.h>

#include "buf.h"

enum entry_kind { ENTRY_CONTENT, ENTRY_ENTITY, ENTRY_ID, ENTRY_RELATION };

/* The members the rule looks at, and their names (len: strlen(name)). */
enum key_member_index {
	KEY_ID,
	KEY_TYPE,
	KEY_NAME,
	KEY_FROM,
	KEY_RELTYPE,
	KEY_TO,
	KEY_NR
};
struct key_name {
	const char *name;
	size_t len;
};
extern const struct key_name key_member_names[KEY_NR];

/* One member's value as canonical JSON text (borrowed); text NULL if absent. */
struct key_member {
	const char *text;
	size_t len;
};

/* Which rule applies to an entry with these members. */
enum entry_kind key_kind(const struct key_member m[KEY_NR]);

/*
 * Append the key of an entry of this kind to key. For ENTRY_CONTENT the
 * key holds the entry's canonical content without "_crdt_metadata":
 * body[0..body_len) is that object's canonical text without its closing
 * '}' (so the fast path can cut it from the entry's text, where the
 * metadata member is last); body is not used for the other kinds.
 */
void key_write(struct buf *key, enum entry_kind kind, const struct key_member m[KEY_NR],
	       const char *body, size_t body_len);

#endif
