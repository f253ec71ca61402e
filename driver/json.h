/*
 * Strict JSON parsing into cJSON trees, and the canonical serialisation.
 *
 * Why not cJSON_Parse: it reports no line or column, accepts invalid UTF-8,
 * and turns every number into a double, so integers above 2^53 would change
 * on a round trip. This parser follows RFC 8259 strictly and hands back
 * ordinary cJSON trees in which every number is a cJSON_Raw item holding
 * the number's text exactly as written; cJSON does the rest (lookup,
 * building, freeing).
 *
 * Canonical form (the only form the tool writes): no white space; object
 * members in a fixed order (see json_key_rank), numbers exactly as written,
 * strings escaped minimally (\" \\ \b \f \n \r \t, other controls as \u00XX,
 * everything else as raw UTF-8). Arrays keep their order; the caller sorts
 * the ones that are sets (entry.c does, for MCP observations).
 */
#ifndef JSON_H
#define JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "buf.h"

/* Deepest nesting accepted; deeper input is an error, not a crash. */
#define JSON_MAX_DEPTH 512

struct json_error {
	size_t offset;	 /* byte offset of the problem in the text parsed */
	const char *msg; /* static string: "expected ','", "invalid UTF-8", ... */
};

/*
 * Parse exactly one JSON value from text[0..len), allowing white space
 * around it and nothing else. Returns a new tree (caller frees with
 * cJSON_Delete) or NULL with *err filled in. Strings holding U+0000 are
 * rejected (cJSON strings end at NUL). Duplicate member names in one object
 * are rejected.
 */
cJSON *json_parse(const char *text, size_t len, struct json_error *err);

/*
 * Parse one value starting at text[0], stopping after it. *end is set to
 * the offset just past the value (white space after it is not consumed).
 * Used to read the elements of an array file one at a time.
 */
cJSON *json_parse_prefix(const char *text, size_t len, size_t *end,
			 struct json_error *err);

/*
 * Append the value at text[0..len) to out without white space and with
 * strings escaped canonically (member order and arrays as they are), and
 * set *end to the offset just past it. When observations is not NULL it
 * gets the offset and length in out of the value of a top-level
 * "observations" member ({0, 0} if none), so an entity's set can be sorted
 * without another pass. Returns -1, leaving out as it was, on anything
 * json_parse would reject; json_parse then says why.
 */
int json_compact(const char *text, size_t len, size_t *end, struct buf *out,
		 size_t observations[2]);

/*
 * Where a member name sorts in canonical objects: the MCP fields in the
 * memory server's own order, then the metadata fields, then any other name
 * in byte order, and "_crdt_metadata" last.
 */
int json_key_rank(const char *name);
/* The same for a name of len bytes, not NUL-terminated. */
int json_key_rank_n(const char *name, size_t len);

/* Append the canonical serialisation of item to out. */
void json_write(struct buf *out, const cJSON *item);

/* Append s (UTF-8, NUL-terminated) as a canonical JSON string. */
void json_write_string(struct buf *out, const char *s);

/* Compare two member names the way canonical objects order them. */
int json_key_cmp(const char *a, const char *b);

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes available), or 0
 * when it is not valid (overlong forms, surrogates and values above
 * U+10FFFF are invalid).
 */
static inline size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;
		if (c == 0xED && s[1] >= 0xA0)
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* A new cJSON_Raw number item holding the decimal text of v. */
cJSON *json_new_int(long long v);

#endif
