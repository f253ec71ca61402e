/*
 * Sets of strings (strset.h): the byte order of observations and the set
 * operations the join uses on both of its paths.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strset.h"

TestSuite(strset);

static void add_all(struct strset *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strset_add(s, v[i], strlen(v[i]));
}

static void assert_set(const struct strset *s, const char *const *want, size_t n)
{
	cr_assert_eq(s->nr, n, "%zu strings, expected %zu", s->nr, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(s->v[i].n, strlen(want[i]), "length of element %zu", i);
		cr_assert(!memcmp(s->v[i].p, want[i], s->v[i].n),
			  "element %zu: %.*s, not %s", i, (int)s->v[i].n, s->v[i].p,
			  want[i]);
	}
}

#define N(a) (sizeof(a) / sizeof(*(a)))

static int cmp_plain(const void *x, const void *y)
{
	return str_cmp(x, y);
}

/*
 * Large sets take the radix sort: the same order and the same repeats
 * dropped as sorting by comparison, for strings that share long
 * prefixes, are prefixes of each other, are shorter than 8 bytes or hold
 * bytes above 0x7f.
 */
Test(strset, a_large_set_sorts_as_comparison_sorts_it)
{
	static const char *const stems[] = {"",
					    "a",
					    "ab",
					    "abcdefgh",
					    "abcdefghi",
					    "abcdefghabcdefgh",
					    "\xc3\xa9t\xc3\xa9",
					    "observation shared by many (note "};
	enum { COUNT = 5000 };
	char *text = calloc(COUNT, 64);
	struct strset s = STRSET_INIT;
	struct str *want = calloc(COUNT, sizeof(*want));
	unsigned seed = 7;
	size_t nwant = 0;

	for (size_t i = 0; i < COUNT; i++) {
		char *p = text + 64 * i;
		seed = seed * 1103515245u + 12345u;
		const char *stem = stems[(seed >> 16) % N(stems)];
		seed = seed * 1103515245u + 12345u;
		/* Every third string repeats an earlier number. */
		unsigned num = (seed >> 16) % (COUNT / 3 + 1);
		int len = snprintf(p, 64, "%s%u%s", stem, num, num % 5 ? "" : ")");
		strset_add(&s, p, (size_t)len);
		want[i].p = p;
		want[i].n = (size_t)len;
	}
	qsort(want, COUNT, sizeof(*want), cmp_plain);
	for (size_t i = 0; i < COUNT; i++)
		if (!nwant || str_cmp(&want[nwant - 1], &want[i]))
			want[nwant++] = want[i];
	cr_assert_gt(COUNT - nwant, 100, "the test needs repeats");
	strset_sort(&s);
	cr_assert_eq(s.nr, nwant);
	for (size_t i = 0; i < nwant; i++)
		cr_assert(!str_cmp(&s.v[i], &want[i]), "element %zu: %.*s, not %.*s", i,
			  (int)s.v[i].n, s.v[i].p, (int)want[i].n, want[i].p);
	strset_release(&s);
	free(want);
	free(text);
}

Test(strset, sort_orders_by_bytes_and_drops_repeats)
{
	static const char *const in[] = {"b", "caf\xc3\xa9", "a", "ab", "B", "b", "cafe"};
	static const char *const want[] = {"B", "a", "ab", "b", "cafe", "caf\xc3\xa9"};
	struct strset s = STRSET_INIT;

	add_all(&s, in, N(in));
	cr_assert_not(strset_is_sorted(&s));
	strset_sort(&s);
	cr_assert(strset_is_sorted(&s));
	assert_set(&s, want, N(want));
	strset_release(&s);
	cr_assert_eq(s.nr, 0);
}

Test(strset, union_minus_and_lookup)
{
	static const char *const a[] = {"a", "c", "e"}, *const b[] = {"b", "c", "d"};
	static const char *const both[] = {"a", "b", "c", "d", "e"}, *const a_only[] = {
									     "a", "e"};
	struct strset sa = STRSET_INIT, sb = STRSET_INIT, u = STRSET_INIT,
		      m = STRSET_INIT;
	struct str c = {"c", 1}, f = {"f", 1}, prefix = {"cc", 1};

	add_all(&sa, a, N(a));
	add_all(&sb, b, N(b));
	strset_union(&u, &sa, &sb);
	assert_set(&u, both, N(both));
	strset_minus(&m, &sa, &sb);
	assert_set(&m, a_only, N(a_only));
	cr_assert(strset_has(&sa, &c));
	cr_assert(strset_has(&sa, &prefix), "only the first n bytes count");
	cr_assert_not(strset_has(&sa, &f));
	strset_release(&sa);
	strset_release(&sb);
	strset_release(&u);
	strset_release(&m);
}
