/*
 * Time: the stamp of a version, the instants its timestamp names, and the
 * hybrid-logical-clock step that makes new stamps (DESIGN.md "Metadata").
 *
 * Instants are nanoseconds since the Unix epoch in an int64_t; timestamps
 * are written with milliseconds. Everything here is pure except
 * stamp_now_ns(), the one function that reads the clock: the rest takes
 * the time as an argument, so tests can fix it. Depends on libc only.
 */
#ifndef STAMP_H
#define STAMP_H

#include <stddef.h>
#include <stdint.h>

/* Stamp of a version; the order is instant, then version, then host. */
struct stamp {
	int64_t instant;  /* ns since the Unix epoch; STAMP_NONE if no metadata */
	int64_t version;  /* 0 when absent */
	const char *host; /* "" when absent; borrowed (entries point into themselves) */
};
/* The instant of a version without a timestamp: below every real one. */
#define STAMP_NONE INT64_MIN

#define STAMP_NS_PER_MS 1000000LL
/* Readable instants lie within this many seconds of the epoch (years 1685..2255). */
#define STAMP_MAX_SEC 9000000000LL

/* Compare two stamps: instant, then version, then host (byte order). <0, 0, >0. */
int stamp_cmp(const struct stamp *a, const struct stamp *b);

/*
 * Parse an ISO-8601 / RFC 3339 timestamp ("2026-11-21T20:55:50.123Z", any
 * fraction length or none, 'T' or a space, "Z" or "+hh:mm"/"-hhmm"
 * offsets, or no offset at all, read as UTC) into *ns. Returns 0, or -1
 * (*ns untouched) when s, a NUL-terminated string, is not such a timestamp
 * or is out of range.
 */
int stamp_parse_iso8601(const char *s, int64_t *ns);

/*
 * Parse the text of a JSON value holding a timestamp: when is_string, an
 * ISO-8601 string (the text without its quotes, escapes already decoded)
 * or a string of epoch seconds; otherwise a JSON number of epoch seconds,
 * possibly with a fraction or an exponent. Returns 0, or -1.
 */
int stamp_parse_text(const char *s, int is_string, int64_t *ns);

/* Epoch seconds held in a double (a number cJSON parsed itself). 0 or -1. */
int stamp_from_seconds(double sec, int64_t *ns);

/* Room for the text stamp_format writes, its NUL included. */
#define STAMP_TEXT_SIZE 32

/*
 * Write ns as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, truncated to milliseconds)
 * into out, NUL-terminated. Returns the length.
 */
size_t stamp_format(char out[STAMP_TEXT_SIZE], int64_t ns);

/*
 * The hybrid-logical-clock step: the stamp of a new version written at
 * wall-clock time now_ns after the previous version prev (NULL for a new
 * key; an instant of STAMP_NONE counts as no timestamp):
 *   instant = max(now, prev's instant + 1 ms), truncated to whole ms, so
 *             a later edit wins even when this machine's clock is behind;
 *   version = prev's version + 1 (1 for a new key);
 *   host    = host (borrowed: the caller keeps it alive as long as *next).
 * Returns 0, or -1 with *next untouched when the result would leave the
 * range readers accept (prev's instant near STAMP_MAX_SEC, or its version
 * at INT64_MAX).
 */
int stamp_next(struct stamp *next, const struct stamp *prev, int64_t now_ns,
	       const char *host);

/*
 * The wall clock (CLOCK_REALTIME) in ns since the epoch: the one impure
 * function here, for callers of stamp_next.
 */
int64_t stamp_now_ns(void);

#endif
