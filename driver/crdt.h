/*
 * The join and the driver's three-way rule (DESIGN.md "The join" and "The
 * merge driver"). Pure: no I/O, no clock, no environment, so every law can
 * be tested directly.
 *
 * Results are entries with their own reference (caller drops it with
 * entry_unref); a result may be one of the inputs with its count raised.
 */
#ifndef CRDT_H
#define CRDT_H

#include "entry.h"

/*
 * Join two versions of the same key. Either may be NULL (absent); NULL only
 * when both are. The greater version (entry_cmp_version) wins; for two MCP
 * entities the visible observations are the union of both minus the union of
 * both "removed_observations" lists, and those lists are unioned too.
 * Commutative, associative and idempotent to the byte.
 */
struct entry *crdt_join(const struct entry *a, const struct entry *b);

/*
 * The join of the n versions v[0..n) of one key (copies of an entry in one
 * file): equal to joining them pairwise from left to right, in time linear
 * in n (one union of every version's observation sets, not n - 1 joins of
 * a growing entity). NULL only when n is 0.
 */
struct entry *crdt_join_all(struct entry *const *v, size_t n);

/*
 * The driver's rule for one key, with o, a, b the versions in base, ours and
 * theirs (any may be NULL): if a equals o the result is b; else if b equals o
 * it is a; else the join of a and b, where an absent side loses (edit beats
 * delete), and where o, a and b are all live entities an observation of o
 * missing from either side is removed (and listed in removed_observations).
 * NULL means the key is absent from the result.
 */
struct entry *crdt_merge3(const struct entry *o, const struct entry *a,
			  const struct entry *b);

/* A set of entries with distinct keys, kept in key order. */
struct entry_set {
	struct entry **v;
	size_t nr, alloc;
};
#define ENTRY_SET_INIT                                                                   \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

/* Append e (takes the reference). Order and uniqueness are restored by
 * entry_set_normalize. */
void entry_set_append(struct entry_set *s, struct entry *e);

/*
 * Sort by key and join entries that share a key (a file may hold the same
 * entity twice: both versions are kept in the join, nothing is dropped).
 * Returns the number of keys that had duplicates.
 */
size_t entry_set_normalize(struct entry_set *s);

/*
 * The same, for a file read against another version of it (base, the
 * merge base, normalised, and base_copies, what entry_set_normalize_with
 * kept of it; both may be NULL). When there are duplicates and copies is
 * not NULL, every entry before joining, sorted by key, is added to it, for
 * a later reading to be measured against. A key whose copies include all
 * of base's copies is joined from base's join (see join_from_base).
 */
size_t entry_set_normalize_with(struct entry_set *s, struct entry_set *copies,
				const struct entry_set *base,
				const struct entry_set *base_copies);

/*
 * entry_set_normalize_with in two steps, so that the joins can wait (a
 * merge joins the base's copies while the sides are read):
 * entry_set_sort_keys sorts by key (stable) and, when a key repeats, adds
 * every entry to copies (if not NULL); it returns 1 when a key repeats,
 * and s is then sorted but not yet normalised. entry_set_join_copies then
 * joins the copies of each key and returns how many keys had them.
 */
int entry_set_sort_keys(struct entry_set *s, struct entry_set *copies);
size_t entry_set_join_copies(struct entry_set *s, const struct entry_set *base,
			     const struct entry_set *base_copies);

/* Drop every reference and free the array. */
void entry_set_release(struct entry_set *s);

/* The element with this key, or NULL (binary search; s normalised). */
struct entry *entry_set_find(const struct entry_set *s, const char *key, size_t key_len);

/* out = the join of a and b, key by key (out starts empty). */
void crdt_join_sets(const struct entry_set *a, const struct entry_set *b,
		    struct entry_set *out);

/* out = crdt_merge3 applied to every key of o, a and b (out starts empty). */
void crdt_merge3_sets(const struct entry_set *o, const struct entry_set *a,
		      const struct entry_set *b, struct entry_set *out);

#endif
