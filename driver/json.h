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
 *
 * Each rule of the grammar and of the canonical form is written once, here
 * and in json.c, and used by both the tree reader and writer here and the
 * tree-free fast path (scan.c): the escape grammar (json_unescape), the
 * canonical escapes (json_escapes, json_escape), the number grammar
 * (json_number_len, json_is_integer), UTF-8 (json_utf8_len) and member
 * order (json_key_rank_n).
 */
#ifndef JSON_H
#define JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "buf.h"
#include "strset.h"

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

/* Where one member of an object went in json_compact's output. */
struct json_member_at {
	size_t name, name_len;	 /* the name, without its quotes */
	size_t value, value_len; /* the value */
};

#define JSON_COMPACT_MEMBERS 16

/*
 * What json_compact can say about the object it copied, so that the fast
 * path need not read the copy again: where the members of the top level
 * and of its "_crdt_metadata" object went (in canonical order, offsets in
 * out), and where "observations" and "id" went ({0, 0} if absent). listed
 * is 0 when one of those objects has more than JSON_COMPACT_MEMBERS
 * members: the lists then are not complete. irregular is set when the copy
 * would not pass as canonical for reasons of its names: a name with an
 * escape, or a name twice in one object, at any depth.
 */
struct json_compact_at {
	size_t obs[2]; /* "observations" */
	size_t id[2];  /* "id" */
	struct json_member_at top[JSON_COMPACT_MEMBERS], meta[JSON_COMPACT_MEMBERS];
	size_t ntop, nmeta;
	int listed, irregular;
};

/*
 * Append the value at text[0..len) to out without white space, with
 * strings escaped canonically and object members in canonical order
 * (json_key_rank; arrays as they are), and set *end to the offset just
 * past it. When at is not NULL it is filled as above, so an entity's set
 * can be sorted and the entry read without another pass.
 * Returns -1, leaving out as it was, on anything json_parse would reject;
 * json_parse then says why. (Repeated member names are not reported here:
 * the result then is not canonical, at->irregular says so, and the fast
 * path refuses it.)
 */
int json_compact(const char *text, size_t len, size_t *end, struct buf *out,
		 struct json_compact_at *at);

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

/*
 * The canonical escape rule: for a byte c below 0x80, the character the
 * canonical writer puts after a backslash ('u' for \u00xx, lowercase hex),
 * or 0 when c is written as itself. Only '"', '\\' and the control
 * characters are escaped; bytes from 0x80 on are UTF-8, written as they are.
 */
extern const char json_escapes[128];

/*
 * The canonical text of code point cp inside a string when it is escaped:
 * written to out, returns its length (2 or 6); 0 when cp is written as
 * itself (as UTF-8).
 */
size_t json_escape(unsigned cp, char out[6]);

/*
 * JSON's escape grammar: decode the escape at t[0] (a backslash; n bytes
 * available). Sets *cp to the code point (a surrogate pair is one) and
 * returns the number of bytes read; or returns 0 and fills *err (offset
 * relative to t). U+0000 is refused: cJSON strings end at NUL.
 */
size_t json_unescape(const char *t, size_t n, unsigned *cp, struct json_error *err);

/*
 * JSON's number grammar: the length of the number at t (n bytes
 * available), or 0 with *bad set to the offset of the problem. Inline: the
 * fast path runs it for every number it reads.
 */
static inline size_t json_number_len(const char *t, size_t n, size_t *bad)
{
	size_t i = 0;

#define JSON_DIGIT(c) ((c) >= '0' && (c) <= '9')
	if (i < n && t[i] == '-')
		i++;
	if (i >= n || !JSON_DIGIT(t[i]))
		goto bad;
	if (t[i] == '0') {
		i++;
	} else {
		while (i < n && JSON_DIGIT(t[i]))
			i++;
	}
	if (i < n && t[i] == '.') {
		i++;
		if (i >= n || !JSON_DIGIT(t[i]))
			goto bad;
		while (i < n && JSON_DIGIT(t[i]))
			i++;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= n || !JSON_DIGIT(t[i]))
			goto bad;
		while (i < n && JSON_DIGIT(t[i]))
			i++;
	}
#undef JSON_DIGIT
	return i;
bad:
	*bad = i;
	return 0;
}

/*
 * Whether the number text t[0..n) (already read as a number) is an
 * integer: an optional '-' and digits only. What "id" and "version" must be.
 */
static inline int json_is_integer(const char *t, size_t n)
{
	size_t i = n && t[0] == '-';

	if (i == n)
		return 0;
	for (; i < n; i++)
		if (t[i] < '0' || t[i] > '9')
			return 0;
	return 1;
}

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

/*
 * Add the strings of the cJSON array arr (NULL is fine; elements that are
 * not strings are skipped) to s. They are borrowed from the tree.
 */
void json_strset_add_array(struct strset *s, const cJSON *arr);

/*
 * A new cJSON array holding copies of the strings of s, each of which must
 * be NUL-terminated (p[n] == '\0', as those from json_strset_add_array
 * are). Caller owns the result.
 */
cJSON *json_strset_array(const struct strset *s);

/*
 * Append s as a canonical JSON array of strings whose bytes are already
 * canonical string text, copied as they are: the fast path's sets, split
 * by scan_split_strings from canonical text without escapes (where the
 * text of a string and its value are the same bytes). A set of decoded
 * values goes through json_strset_array and json_write instead.
 */
void json_write_strset(struct buf *out, const struct strset *s);

/* The same into out, which has json_strset_size(s) bytes; returns them. */
size_t json_strset_size(const struct strset *s);
size_t json_put_strset(char *out, const struct strset *s);

/*
 * Skip plain ASCII string bytes (no quote, backslash, control or non-ASCII
 * byte) from u[i], 16 at a time where the machine has SSE2 (all of
 * x86-64): returns the first byte that is not plain, or where fewer than 16
 * bytes are left (i as given without SSE2). The string scanners of json.c
 * and scan.c both start with it and finish the tail their own way.
 */
static inline size_t json_plain_run16(const unsigned char *u, size_t i, size_t n)
{
#if defined(__SSE2__) && defined(__GNUC__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (i + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(u + i));
		/* signed: bytes >= 0x80 are negative, so below 0x20 too */
		__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, space),
					 _mm_or_si128(_mm_cmpeq_epi8(v, quote),
						      _mm_cmpeq_epi8(v, bslash)));
		int mask = _mm_movemask_epi8(m);
		if (mask)
			return i + (size_t)__builtin_ctz((unsigned)mask);
		i += 16;
	}
#else
	(void)u;
	(void)n;
#endif
	return i;
}

/* A new cJSON_Raw number item holding the decimal text of v. */
cJSON *json_new_int(long long v);

#endif
