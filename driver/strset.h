/*
 * A set of strings: a sorted array without repeats, in byte order (the
 * order of an entity's observations, DESIGN.md "Fine points"). The one
 * place that order and the set operations are written, for the fast path
 * (strings pointing into an entry's canonical text) and the tree path
 * (strings of a cJSON tree) alike.
 *
 * The strings are borrowed and must outlive the set; the set owns only
 * its array (strset_release frees it).
 */
#ifndef STRSET_H
#define STRSET_H

#include <stddef.h>
#include <string.h>

/* A string of n bytes at p, not NUL-terminated; borrowed. */
struct str {
	const char *p;
	size_t n;
};

/* Byte order of two strings (a prefix sorts first): <0, 0 or >0. */
static inline int str_cmp(const struct str *a, const struct str *b)
{
	int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

	return c ? c : (a->n > b->n) - (a->n < b->n);
}

struct strset {
	struct str *v;
	size_t nr, alloc;
};
#define STRSET_INIT                                                                      \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

/* Append a string. The set is a set again after strset_sort (or when
 * strings are added in increasing order). */
void strset_add(struct strset *s, const char *p, size_t n);

/* Sort and drop repeats (cheap when already in order). */
void strset_sort(struct strset *s);

/* Whether the strings are in strictly increasing order. */
int strset_is_sorted(const struct strset *s);

/* Whether x is in the (sorted) set. */
int strset_has(const struct strset *s, const struct str *x);

/* Append a | b to out; a and b sorted, out empty or below both. */
void strset_union(struct strset *out, const struct strset *a, const struct strset *b);

/* Append the strings of a that are not in b to out (both sorted). */
void strset_minus(struct strset *out, const struct strset *a, const struct strset *b);

/* Free the array and leave s empty (as after STRSET_INIT). */
void strset_release(struct strset *s);

#endif
