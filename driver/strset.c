/*
 * Sets of strings (see strset.h).
 */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void strset_add(struct strset *s, const char *p, size_t n)
{
	if (s->nr == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 16;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->nr].p = p;
	s->v[s->nr].n = n;
	s->nr++;
}

/* Room for n more strings in s, at once: sets of a join can be large. */
static void reserve(struct strset *s, size_t n)
{
	if (s->alloc - s->nr >= n)
		return;
	s->alloc = s->nr + n;
	s->v = xrealloc(s->v, (s->alloc ? s->alloc : 1) * sizeof(*s->v));
}

static int cmp_str(const void *x, const void *y)
{
	return str_cmp(x, y);
}

int strset_is_sorted(const struct strset *s)
{
	for (size_t i = 1; i < s->nr; i++)
		if (str_cmp(&s->v[i - 1], &s->v[i]) >= 0)
			return 0;
	return 1;
}

/* A string with its first 8 bytes as a number that sorts as they do. */
struct keyed {
	uint64_t k;
	struct str s;
};

/* Bytes [depth, depth + 8) of s as a number that sorts as they do. */
static uint64_t prefix_key(const struct str *s, size_t depth)
{
	uint64_t k = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (s->n >= depth + 8) {
		memcpy(&k, s->p + depth, 8);
		return __builtin_bswap64(k); /* the first byte most significant */
	}
#endif
	/* Shorter strings are padded with 0, below every byte they can hold. */
	for (size_t i = depth; i < depth + 8; i++)
		k = k << 8 | (i < s->n ? (unsigned char)s->p[i] : 0);
	return k;
}

/*
 * Sort strings that agree on their first depth bytes by the next 8 with a
 * radix sort (a byte at a time, passes where every string has the same
 * byte skipped), then each large run that shares those bytes by the 8
 * after, and small runs by comparison: the thousands of observations one
 * name gathers in a join sort in about linear time.
 */
static void sort_by_prefix(struct str *v, size_t n, size_t depth)
{
	struct keyed *a = xmalloc(n * sizeof(*a)), *b = xmalloc(n * sizeof(*b)), *t;

	/* The counts of every byte position in one pass. */
	size_t(*count)[256] = xcalloc(8, sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		uint64_t k = prefix_key(&v[i], depth);
		a[i].k = k;
		a[i].s = v[i];
		for (int d = 0; d < 8; d++)
			count[d][(k >> (8 * d)) & 255]++;
	}
	for (int shift = 0; shift < 64; shift += 8) {
		size_t *c = count[shift / 8], at = 0;
		if (c[(a[0].k >> shift) & 255] == n)
			continue; /* every string has the same byte there */
		for (int d = 0; d < 256; d++) {
			size_t here = c[d];
			c[d] = at;
			at += here;
		}
		for (size_t i = 0; i < n; i++)
			b[c[(a[i].k >> shift) & 255]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].s;
	free(b);
	free(count);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		int longer = a[i].s.n > depth + 8;
		while (j < n && a[j].k == a[i].k)
			longer |= a[j++].s.n > depth + 8;
		/* A few levels deep at most, each holding its keys meanwhile. */
		if (j - i >= 64 && longer && depth < 32)
			sort_by_prefix(v + i, j - i, depth + 8);
		else if (j - i > 1 && longer)
			qsort(v + i, j - i, sizeof(*v), cmp_str);
		i = j;
	}
	free(a);
}

/* An insertion sort: for the few observations most entities hold. */
static void sort_few(struct str *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct str x = v[i];
		size_t j = i;
		for (; j && str_cmp(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

void strset_sort(struct strset *s)
{
	size_t k = 0;

	if (strset_is_sorted(s))
		return;
	if (s->nr >= 64)
		sort_by_prefix(s->v, s->nr, 0);
	else if (s->nr > 12)
		qsort(s->v, s->nr, sizeof(*s->v), cmp_str);
	else
		sort_few(s->v, s->nr);
	for (size_t i = 0; i < s->nr; i++)
		if (!k || str_cmp(&s->v[k - 1], &s->v[i]))
			s->v[k++] = s->v[i];
	s->nr = k;
}

int strset_has(const struct strset *s, const struct str *x)
{
	return s->nr && bsearch(x, s->v, s->nr, sizeof(*s->v), cmp_str) != NULL;
}

void strset_union(struct strset *out, const struct strset *a, const struct strset *b)
{
	size_t i = 0, j = 0;

	reserve(out, a->nr + b->nr);
	while (i < a->nr || j < b->nr) {
		int c = i == a->nr ? 1 : j == b->nr ? -1 : str_cmp(&a->v[i], &b->v[j]);
		const struct str *x = c <= 0 ? &a->v[i] : &b->v[j];
		strset_add(out, x->p, x->n);
		i += c <= 0;
		j += c >= 0;
	}
}

void strset_minus(struct strset *out, const struct strset *a, const struct strset *b)
{
	size_t j = 0;

	reserve(out, a->nr);
	for (size_t i = 0; i < a->nr; i++) {
		int c = 1;
		/* both sorted: one walk of the two */
		while (j < b->nr && (c = str_cmp(&b->v[j], &a->v[i])) < 0)
			j++;
		if (j == b->nr || c > 0)
			out->v[out->nr++] = a->v[i];
	}
}

void strset_release(struct strset *s)
{
	free(s->v);
	s->v = NULL;
	s->nr = s->alloc = 0;
}
