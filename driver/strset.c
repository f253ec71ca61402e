/*
 * Sets of strings (see strset.h).
 */
#include "strset.h"

#include <stdlib.h>

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

void strset_sort(struct strset *s)
{
	size_t k = 0;

	if (strset_is_sorted(s))
		return;
	qsort(s->v, s->nr, sizeof(*s->v), cmp_str);
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
	for (size_t i = 0; i < a->nr; i++)
		if (!strset_has(b, &a->v[i]))
			strset_add(out, a->v[i].p, a->v[i].n);
}

void strset_release(struct strset *s)
{
	free(s->v);
	s->v = NULL;
	s->nr = s->alloc = 0;
}
