/*
 * Shared helpers for the unit tests: build entries and files from JSON
 * text, read their observations back, and free everything a test made when
 * the test ends (suites declare .fini = t_cleanup), so leak checkers stay
 * quiet under "make asan".
 *
 * To keep the JSON in tests readable, the helpers named with a capital
 * letter (E, E_ERR, MF, MF_ERR) read single quotes as double quotes: write
 * E("{'id':'m1'}"). A literal apostrophe can still be written as \u0027.
 * Byte offsets do not change, so line and column numbers stay true.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <stddef.h>

#include "crdt.h"
#include "entry.h"
#include "memfile.h"

/* Metadata member for test entries: host, timestamp string, version. */
#define META(host, ts, ver)                                                              \
	"'_crdt_metadata':{'host':'" host "','timestamp':'" ts "','version':" #ver       \
	",'unique_id':'u-" host "-" #ver "'}"
/* The same with extra members, e.g. ",'deleted':true". */
#define METAX(host, ts, ver, extra)                                                      \
	"'_crdt_metadata':{'host':'" host "','timestamp':'" ts "','version':" #ver       \
	",'unique_id':'u-" host "-" #ver "'" extra "}"
/* An MCP entity; obs is the inside of the array, e.g. "'x','y'". */
#define ENT(name, type, obs, meta)                                                       \
	"{'type':'entity','name':'" name "','entityType':'" type                         \
	"','observations':[" obs "]," meta "}"
/* The same without metadata. */
#define ENT0(name, type, obs)                                                            \
	"{'type':'entity','name':'" name "','entityType':'" type                         \
	"','observations':[" obs "]}"
#define REL(from, rel, to, meta)                                                         \
	"{'type':'relation','from':'" from "','to':'" to "','relationType':'" rel        \
	"'," meta "}"

/* Run fn(p) when the current test ends (in t_cleanup). Returns p. */
void *t_defer(void *p, void (*fn)(void *));
/* Free everything deferred. Use as a suite's .fini. */
void t_cleanup(void);

/* A copy of s with ' turned into " (freed at cleanup). */
char *q(const char *s);
/* printf into a string freed at cleanup. */
char *tfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A new temporary file holding data[0..len); its path is freed at cleanup
 * (the file is the test's to remove). */
char *t_write_temp(const char *data, size_t len);

/* Parse an entry (quotes translated); the test fails if it is rejected.
 * The entry is dropped at cleanup. */
struct entry *E(const char *json);
/* The same without quote translation; len bytes of text. */
struct entry *E_raw(const char *text, size_t len);
/* Parse an entry that must be rejected; returns the reason (non-empty). */
const char *E_ERR(const char *json);

/* Keep a result entry until cleanup (NULL is fine). Returns e. */
struct entry *keep(struct entry *e);
/* The text of e as a C string (a copy freed at cleanup: an entry's text
 * is text_len bytes, not always NUL-terminated), or "(absent)" for NULL. */
const char *T(const struct entry *e);

/* Parse a whole file (quotes translated); the test fails on an error. */
struct memfile *MF(const char *data);
struct memfile *MF_raw(const char *data, size_t len);
/* Parse a file that must be rejected; returns the message. */
const char *MF_ERR(const char *data);
const char *MF_ERR_raw(const char *data, size_t len);

/* The canonical file for set in fmt, as a string freed at cleanup. */
const char *ser(const struct entry_set *s, enum memfile_format fmt);

/* A set built from entries (each gets a new reference), normalised. The
 * set is released at cleanup. */
struct entry_set *set_of(struct entry *const *v, size_t n);

/* Observations (visible) and removed_observations of e joined with '|',
 * in the order the entry holds them; "" when none. */
const char *obs(const struct entry *e);
const char *removed(const struct entry *e);
/* A member of e's canonical tree as canonical JSON text, or NULL. */
const char *member(const struct entry *e, const char *name);

/*
 * Assert two possibly huge strings are equal, reporting only where they
 * first differ (Criterion hangs sending multi-megabyte messages).
 */
void assert_same_text(const char *actual, const char *expected, const char *what);

/* Assert the set positions e keeps are where scan_entity_sets finds them. */
void assert_kept_sets(const struct entry *e);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates, > U+10FFFF). */
int utf8_valid(const char *s, size_t len);

#endif
