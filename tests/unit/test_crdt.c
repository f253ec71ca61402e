/*
 * The join and the driver's three-way rule (crdt.h), one rule per test.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

TestSuite(join, .fini = t_cleanup);
TestSuite(merge3, .fini = t_cleanup);
TestSuite(sets, .fini = t_cleanup);

#define T1 "2026-01-01T00:00:01Z"
#define T2 "2026-01-01T00:00:02Z"
#define T3 "2026-01-01T00:00:03Z"
#define T4 "2026-01-01T00:00:04Z"

static const char *join_text(const struct entry *a, const struct entry *b)
{
	return T(keep(crdt_join(a, b)));
}

static const char *m3(const struct entry *o, const struct entry *a, const struct entry *b)
{
	return T(keep(crdt_merge3(o, a, b)));
}

/* merge3 must not care which side is ours: check both, return one. */
static struct entry *m3_both(const struct entry *o, const struct entry *a,
			     const struct entry *b)
{
	struct entry *r1 = keep(crdt_merge3(o, a, b));
	struct entry *r2 = keep(crdt_merge3(o, b, a));

	cr_assert_str_eq(T(r1), T(r2),
			 "merge3 depends on the side\n  o=%s\n  a=%s\n  b=%s", T(o), T(a),
			 T(b));
	return r1;
}

/* ---- join ---- */

Test(join, an_absent_side_gives_the_other)
{
	struct entry *a = E("{'id':'m1'," META("h", T1, 1) "}");

	cr_assert_str_eq(join_text(a, NULL), T(a));
	cr_assert_str_eq(join_text(NULL, a), T(a));
	cr_assert_null(crdt_join(NULL, NULL));
}

Test(join, is_idempotent)
{
	struct entry *a = E(ENT("A", "p", "'x','y'",
				METAX("h", T1, 1, ",'removed_observations':['z']")));

	cr_assert_str_eq(join_text(a, a), T(a));
}

Test(join, newer_version_of_a_register_wins)
{
	struct entry *a = E("{'id':'m1','content':'old'," META("h1", T1, 1) "}");
	struct entry *b = E("{'id':'m1','content':'new'," META("h2", T2, 2) "}");

	cr_assert_str_eq(join_text(a, b), T(b));
	cr_assert_str_eq(join_text(b, a), T(b));
}

Test(join, newer_tombstone_beats_older_edit)
{
	struct entry *edit = E("{'id':'m1','content':'x'," META("h1", T1, 1) "}");
	struct entry *dead =
		E("{'id':'m1','content':'x'," METAX("h2", T2, 2, ",'deleted':true") "}");
	struct entry *j = keep(crdt_join(edit, dead));

	cr_assert_str_eq(T(j), T(dead));
	cr_assert_eq(j->deleted, 1);
	cr_assert_str_eq(join_text(dead, edit), T(dead));
}

Test(join, newer_edit_beats_older_tombstone)
{
	struct entry *dead = E("{'id':'m1'," METAX("h2", T1, 2, ",'deleted':true") "}");
	struct entry *edit = E("{'id':'m1','content':'back'," META("h1", T2, 3) "}");
	struct entry *j = keep(crdt_join(dead, edit));

	cr_assert_str_eq(T(j), T(edit));
	cr_assert_eq(j->deleted, 0);
	cr_assert_str_eq(join_text(edit, dead), T(edit));
}

Test(join, relation_tombstone_wins_when_newer)
{
	struct entry *r = E(REL("a", "knows", "b", META("h1", T1, 1)));
	struct entry *d =
		E(REL("a", "knows", "b", METAX("h1", T2, 2, ",'deleted':true")));

	cr_assert_eq(keep(crdt_join(r, d))->deleted, 1);
	cr_assert_eq(keep(crdt_join(d, r))->deleted, 1);
}

Test(join, content_entries_keep_the_newest_metadata)
{
	struct entry *a = E("{'note':'x'," META("h1", T2, 1) "}");
	struct entry *b = E("{'note':'x'," META("h2", T1, 7) "}");

	cr_assert_str_eq(join_text(a, b), T(a));
	cr_assert_str_eq(join_text(b, a), T(a));
}

Test(join, observations_are_unioned_and_other_fields_come_from_the_winner)
{
	struct entry *a = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	struct entry *b = E(ENT("A", "q", "'y','z'", META("h2", T2, 2)));
	struct entry *j = keep(crdt_join(a, b));

	cr_assert_str_eq(obs(j), "x|y|z");
	cr_assert_str_eq(member(j, "entityType"), "\"q\"");
	cr_assert_str_eq(member(j, "_crdt_metadata"), member(b, "_crdt_metadata"));
	cr_assert_str_eq(join_text(b, a), T(j));
}

Test(join, an_observation_removed_by_the_loser_stays_removed)
{
	struct entry *a = E(ENT("A", "p", "'x','y'", META("h1", T2, 2)));
	struct entry *b = E(ENT("A", "p", "'z'",
				METAX("h2", T1, 1, ",'removed_observations':['x']")));
	struct entry *j = keep(crdt_join(a, b));

	cr_assert_str_eq(obs(j), "y|z");
	cr_assert_str_eq(removed(j), "x");
	cr_assert_str_eq(join_text(b, a), T(j));
}

Test(join, an_observation_removed_by_the_winner_stays_removed)
{
	struct entry *a = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	struct entry *b = E(ENT("A", "p", "'z'",
				METAX("h2", T2, 2, ",'removed_observations':['x']")));
	struct entry *j = keep(crdt_join(a, b));

	cr_assert_str_eq(obs(j), "y|z");
	cr_assert_str_eq(removed(j), "x");
	cr_assert_str_eq(join_text(b, a), T(j));
}

Test(join, removed_observation_lists_are_unioned)
{
	struct entry *a = E(ENT("A", "p", "'k'",
				METAX("h1", T1, 1, ",'removed_observations':['p','r']")));
	struct entry *b = E(ENT("A", "p", "'k'",
				METAX("h2", T2, 2, ",'removed_observations':['q','r']")));
	struct entry *j = keep(crdt_join(a, b));

	cr_assert_str_eq(removed(j), "p|q|r");
	cr_assert_str_eq(obs(j), "k");
}

Test(join, a_tombstones_observations_take_part_in_the_union)
{
	struct entry *dead =
		E(ENT("A", "p", "'x'", METAX("h1", T2, 2, ",'deleted':true")));
	struct entry *live = E(ENT("A", "p", "'a'", META("h2", T3, 3)));
	struct entry *j = keep(crdt_join(dead, live));

	cr_assert_eq(j->deleted, 0);
	cr_assert_str_eq(obs(j), "a|x");
	cr_assert_str_eq(join_text(live, dead), T(j));
}

Test(join, a_tombstone_that_wins_keeps_the_union_too)
{
	struct entry *live = E(ENT("A", "p", "'a'", META("h2", T1, 1)));
	struct entry *dead =
		E(ENT("A", "p", "'x'", METAX("h1", T2, 2, ",'deleted':true")));
	struct entry *j = keep(crdt_join(dead, live));

	cr_assert_eq(j->deleted, 1);
	cr_assert_str_eq(obs(j), "a|x");
}

Test(join, removed_observations_do_not_come_back_when_an_entity_is_recreated)
{
	struct entry *v1 = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	struct entry *dead = E(ENT(
		"A", "p", "",
		METAX("h1", T2, 2, ",'deleted':true,'removed_observations':['x','y']")));
	struct entry *v3 = E(ENT("A", "p", "'z'", META("h2", T3, 3)));
	struct entry *j = keep(crdt_join(keep(crdt_join(v1, dead)), v3));

	cr_assert_eq(j->deleted, 0);
	cr_assert_str_eq(obs(j), "z");
	cr_assert_str_eq(removed(j), "x|y");
	cr_assert_str_eq(T(keep(crdt_join(v1, keep(crdt_join(dead, v3))))), T(j));
}

Test(join, ties_are_broken_the_same_way_whatever_the_order)
{
	static const char *const v[] = {
		"{'id':'m1','content':'a'," META("h1", T1, 1) "}",
		"{'id':'m1','content':'b'," META("h1", T1, 1) "}",
		"{'id':'m1','content':'a'," META("h2", T1, 1) "}",
		"{'id':'m1','content':'a'," META("h1", T1, 2) "}",
		"{'id':'m1','content':'a'," META("h1", "2026-01-01T00:00:01.000Z", 1) "}",
		"{'id':'m1','content':'a'," META("h1", "2026-01-01T02:00:01+02:00",
						 1) "}",
	};
	size_t n = sizeof(v) / sizeof(*v);

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++) {
			struct entry *a = E(v[i]), *b = E(v[k]);
			cr_assert_str_eq(join_text(a, b), join_text(b, a), "%s\n  vs %s",
					 T(a), T(b));
		}
}

/* ---- merge3 ---- */

Test(merge3, unchanged_ours_takes_theirs)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *b = E("{'id':'m1','content':'v2'," META("h2", T2, 2) "}");

	cr_assert_str_eq(m3(o, o, b), T(b));
	cr_assert_str_eq(m3(o, b, o), T(b));
}

Test(merge3, unchanged_on_both_sides_stays)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");

	cr_assert_str_eq(m3(o, o, o), T(o));
}

Test(merge3, a_side_returning_to_an_older_version_wins_when_the_other_did_not_change)
{
	struct entry *v1 = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *v2 = E("{'id':'m1','content':'v2'," META("h1", T2, 2) "}");

	/* base and ours hold v2; theirs reverted to v1 without a new stamp */
	cr_assert_str_eq(m3(v2, v2, v1), T(v1));
	cr_assert_str_eq(m3(v2, v1, v2), T(v1));
	cr_assert_str_eq(T(m3_both(v2, v1, v2)), T(v1));
}

Test(merge3, an_unstamped_edit_wins_over_an_unchanged_side)
{
	struct entry *o = E(ENT("A", "p", "'x'", META("h1", T2, 2)));
	struct entry *hand = E(ENT("A", "q", "'x','y'", META("h1", T2, 2)));

	cr_assert_str_eq(T(m3_both(o, o, hand)), T(hand));
}

Test(merge3, both_changed_gives_the_join)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *a = E("{'id':'m1','content':'v2'," META("h1", T2, 2) "}");
	struct entry *b = E("{'id':'m1','content':'v3'," META("h2", T3, 2) "}");

	cr_assert_str_eq(T(m3_both(o, a, b)), T(b));
}

Test(merge3, both_changed_the_same_way_gives_that_version)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *a = E("{'id':'m1','content':'v2'," META("h1", T2, 2) "}");

	cr_assert_str_eq(m3(o, a, a), T(a));
}

Test(merge3, edit_beats_delete)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T2, 2) "}");
	/* the edit carries an older stamp than the base: it still wins */
	struct entry *b = E("{'id':'m1','content':'v0'," META("h1", T1, 1) "}");

	cr_assert_str_eq(T(m3_both(o, NULL, b)), T(b));
}

Test(merge3, delete_wins_over_an_unchanged_side)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");

	cr_assert_null(m3_both(o, NULL, o));
}

Test(merge3, both_deleted_is_absent)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");

	cr_assert_null(keep(crdt_merge3(o, NULL, NULL)));
	cr_assert_null(keep(crdt_merge3(NULL, NULL, NULL)));
}

Test(merge3, tombstone_beats_an_unchanged_side)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *d =
		E("{'id':'m1','content':'v1'," METAX("h1", T2, 2, ",'deleted':true") "}");
	struct entry *r = m3_both(o, o, d);

	cr_assert_not_null(r);
	cr_assert_eq(r->deleted, 1);
}

Test(merge3, newer_edit_beats_an_older_tombstone_when_both_changed)
{
	struct entry *o = E("{'id':'m1','content':'v1'," META("h1", T1, 1) "}");
	struct entry *d =
		E("{'id':'m1','content':'v1'," METAX("h1", T2, 2, ",'deleted':true") "}");
	struct entry *a = E("{'id':'m1','content':'v2'," META("h2", T3, 2) "}");

	cr_assert_str_eq(T(m3_both(o, a, d)), T(a));
}

Test(merge3, add_add_with_empty_base_joins)
{
	struct entry *a = E(ENT("A", "p", "'x'", META("h1", T1, 1)));
	struct entry *b = E(ENT("A", "q", "'y'", META("h2", T2, 1)));
	struct entry *r = m3_both(NULL, a, b);

	cr_assert_str_eq(T(r), T(keep(crdt_join(a, b))));
	cr_assert_str_eq(obs(r), "x|y");
	cr_assert_str_eq(member(r, "entityType"), "\"q\"");
}

Test(merge3, the_same_addition_on_both_sides_is_kept_once)
{
	struct entry *a = E(ENT("A", "p", "'x'", META("h1", T1, 1)));

	cr_assert_str_eq(m3(NULL, a, a), T(a));
}

Test(merge3, an_addition_on_one_side_is_kept)
{
	struct entry *a = E(REL("a", "knows", "b", META("h1", T1, 1)));

	cr_assert_str_eq(m3(NULL, a, NULL), T(a));
	cr_assert_str_eq(m3(NULL, NULL, a), T(a));
}

Test(merge3, an_observation_removed_on_one_side_is_removed_from_the_result)
{
	struct entry *o = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	/* ours dropped y without listing it; theirs added z */
	struct entry *a = E(ENT("A", "p", "'x'", META("h1", T2, 2)));
	struct entry *b = E(ENT("A", "q", "'x','y','z'", META("h2", T3, 2)));
	struct entry *r = m3_both(o, a, b);

	cr_assert_not_null(r);
	cr_assert_str_eq(obs(r), "x|z");
	cr_assert(strstr(removed(r), "y") != NULL, "y not in removed_observations: %s",
		  T(r));
	cr_assert_str_eq(member(r, "entityType"), "\"q\"",
			 "other fields come from the join's winner");
}

Test(merge3, a_three_way_removal_survives_later_joins)
{
	struct entry *o = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	struct entry *a = E(ENT("A", "p", "'x'", META("h1", T2, 2)));
	struct entry *b = E(ENT("A", "p", "'x','y','z'", META("h2", T3, 2)));
	struct entry *r = m3_both(o, a, b);

	/* a replica that still holds the base or theirs joins with the result */
	cr_assert_str_eq(obs(keep(crdt_join(r, o))), "x|z");
	cr_assert_str_eq(obs(keep(crdt_join(b, r))), "x|z");
}

Test(merge3, observations_removed_on_both_sides_are_removed)
{
	struct entry *o = E(ENT("A", "p", "'w','x','y'", META("h1", T1, 1)));
	struct entry *a = E(ENT("A", "p", "'x','y','a'", META("h1", T2, 2)));
	struct entry *b = E(ENT("A", "p", "'w','y','b'", META("h2", T3, 2)));
	struct entry *r = m3_both(o, a, b);

	cr_assert_str_eq(obs(r), "a|b|y");
}

Test(merge3, a_tombstone_on_any_side_means_the_plain_join)
{
	struct entry *o = E(ENT("A", "p", "'x','y'", META("h1", T1, 1)));
	struct entry *a = E(ENT("A", "p", "", METAX("h1", T2, 2, ",'deleted':true")));
	struct entry *b = E(ENT("A", "p", "'x','y','z'", META("h2", T3, 2)));
	struct entry *r = m3_both(o, a, b);

	cr_assert_str_eq(T(r), T(keep(crdt_join(a, b))));
	cr_assert_str_eq(obs(r), "x|y|z");
	cr_assert_eq(r->deleted, 0);
}

Test(merge3, timestamps_written_differently_are_a_change)
{
	/* ours rewrote the base's timestamp in another notation: not equal to
	 * the base, so the join decides (ours is newer than theirs) */
	struct entry *o =
		E("{'id':'m1','content':'x'," META("h1", "2026-01-01T00:00:00Z", 1) "}");
	struct entry *a = E("{'id':'m1','content':'x'," META(
		"h1", "2026-01-01T00:00:00.000Z", 1) "}");
	struct entry *b =
		E("{'id':'m1','content':'y'," META("h1", "2025-06-01T00:00:00Z", 1) "}");

	cr_assert_str_eq(T(m3_both(o, a, b)), T(a));
}

Test(merge3, metadata_only_change_counts_as_a_change)
{
	struct entry *o = E("{'id':'m1','content':'x'," META("h1", T2, 1) "}");
	struct entry *a = E("{'id':'m1','content':'x'," META("h2", T1, 1) "}");

	cr_assert_str_eq(m3(o, a, o), T(a));
}

/* ---- sets ---- */

static struct entry *find(const struct entry_set *s, const char *key)
{
	return entry_set_find(s, key, strlen(key));
}

Test(sets, normalize_sorts_by_key_and_counts_duplicate_keys)
{
	struct entry_set s = ENTRY_SET_INIT;

	entry_set_append(&s, entry_ref(E(REL("a", "k", "b", META("h", T1, 1)))));
	entry_set_append(&s, entry_ref(E(ENT("B", "p", "'b'", META("h", T1, 1)))));
	entry_set_append(&s, entry_ref(E(ENT("A", "p", "'x'", META("h", T1, 1)))));
	entry_set_append(&s, entry_ref(E(ENT("A", "p", "'y'", META("h", T2, 2)))));
	entry_set_append(&s, entry_ref(E(ENT("B", "p", "'b'", META("h", T1, 1)))));
	entry_set_append(&s, entry_ref(E(ENT("C", "p", "", META("h", T1, 1)))));

	cr_assert_eq(entry_set_normalize(&s), 2);
	cr_assert_eq(s.nr, 4);
	cr_assert_str_eq(s.v[0]->key, "[\"entity\",\"A\"]");
	cr_assert_str_eq(s.v[1]->key, "[\"entity\",\"B\"]");
	cr_assert_str_eq(s.v[2]->key, "[\"entity\",\"C\"]");
	cr_assert_str_eq(s.v[3]->key, "[\"relation\",\"a\",\"k\",\"b\"]");
	cr_assert_str_eq(obs(s.v[0]), "x|y", "both duplicates' observations survive");
	entry_set_release(&s);
	cr_assert_eq(s.nr, 0);
}

Test(sets, normalize_of_distinct_keys_reports_no_duplicates)
{
	struct entry_set s = ENTRY_SET_INIT;

	entry_set_append(&s, entry_ref(E("{'note':'b'}")));
	entry_set_append(&s, entry_ref(E("{'note':'a'}")));
	cr_assert_eq(entry_set_normalize(&s), 0);
	cr_assert_eq(s.nr, 2);
	cr_assert_lt(entry_cmp_key(s.v[0], s.v[1]), 0);
	entry_set_release(&s);
}

Test(sets, find_looks_up_by_key)
{
	struct entry *b = E(ENT0("B", "p", ""));
	struct entry *v[] = {E(ENT0("C", "p", "")), b, E(ENT0("A", "p", ""))};
	struct entry_set *s = set_of(v, 3);

	cr_assert_eq(s->nr, 3);
	cr_assert_eq(find(s, "[\"entity\",\"B\"]"), s->v[1]);
	cr_assert_str_eq(T(find(s, "[\"entity\",\"B\"]")), T(b));
	cr_assert_null(find(s, "[\"entity\",\"D\"]"));
	cr_assert_null(find(s, "[\"entity\",\"\"]"));
}

Test(sets, join_keeps_every_key_of_both_sides)
{
	struct entry *a[] = {E(ENT("A", "p", "'a'", META("h1", T1, 1))),
			     E(ENT("B", "p", "'b1'", META("h1", T1, 1)))};
	struct entry *b[] = {E(ENT("B", "p", "'b2'", META("h2", T2, 1))),
			     E(ENT("C", "p", "'c'", META("h2", T1, 1)))};
	struct entry_set out = ENTRY_SET_INIT;

	crdt_join_sets(set_of(a, 2), set_of(b, 2), &out);
	cr_assert_eq(out.nr, 3);
	cr_assert_str_eq(obs(find(&out, "[\"entity\",\"A\"]")), "a");
	cr_assert_str_eq(obs(find(&out, "[\"entity\",\"B\"]")), "b1|b2");
	cr_assert_str_eq(obs(find(&out, "[\"entity\",\"C\"]")), "c");
	entry_set_release(&out);
}

Test(sets, join_with_an_empty_set_is_the_set)
{
	struct entry *a[] = {E(ENT("A", "p", "'a'", META("h1", T1, 1))),
			     E("{'id':7,'content':'c'}")};
	struct entry_set *s = set_of(a, 2);
	struct entry_set empty = ENTRY_SET_INIT;
	struct entry_set out = ENTRY_SET_INIT;

	crdt_join_sets(s, &empty, &out);
	cr_assert_str_eq(ser(&out, MEMFILE_JSONL), ser(s, MEMFILE_JSONL));
	entry_set_release(&out);
	crdt_join_sets(&empty, &empty, &out);
	cr_assert_eq(out.nr, 0);
	entry_set_release(&out);
}

Test(sets, merge3_applies_the_rule_key_by_key)
{
	struct entry *a1 = E("{'id':'A','c':1," META("h", T1, 1) "}");
	struct entry *a2 = E("{'id':'A','c':2," META("h", T2, 2) "}");
	struct entry *b1 = E("{'id':'B','c':1," META("h", T1, 1) "}");
	struct entry *b2 = E("{'id':'B','c':2," META("h", T2, 2) "}");
	struct entry *c1 = E("{'id':'C','c':1," META("h", T1, 1) "}");
	struct entry *d1 = E("{'id':'D','c':1," META("h", T1, 1) "}");
	struct entry *e1 = E("{'id':'E','c':1," META("h", T1, 1) "}");
	struct entry *f1 = E("{'id':'F','c':1," META("h", T2, 1) "}");
	struct entry *f0 = E("{'id':'F','c':0," META("h", T1, 1) "}");
	struct entry *g1 = E("{'id':'G','c':1," META("h", T1, 1) "}");
	struct entry *ov[] = {a1, b1, c1, e1, f1};
	struct entry *av[] = {a1, b2, d1, g1}; /* C, E, F deleted */
	struct entry *bv[] = {a2, b1, c1, f0}; /* E deleted, F edited */
	struct entry_set out = ENTRY_SET_INIT;

	crdt_merge3_sets(set_of(ov, 5), set_of(av, 4), set_of(bv, 4), &out);
	cr_assert_eq(out.nr, 5, "got %zu entries:\n%s", out.nr, ser(&out, MEMFILE_JSONL));
	cr_assert_str_eq(T(find(&out, a2->key)), T(a2), "theirs changed A");
	cr_assert_str_eq(T(find(&out, b2->key)), T(b2), "ours changed B");
	cr_assert_null(find(&out, c1->key), "ours deleted C, theirs kept it");
	cr_assert_str_eq(T(find(&out, d1->key)), T(d1), "ours added D");
	cr_assert_null(find(&out, e1->key), "both deleted E");
	cr_assert_str_eq(T(find(&out, f0->key)), T(f0), "edit beats delete");
	cr_assert_str_eq(T(find(&out, g1->key)), T(g1), "ours added G");
	entry_set_release(&out);
}

Test(sets, merge3_does_not_care_which_side_is_ours)
{
	struct entry *ov[] = {E(ENT("A", "p", "'x','y'", META("h1", T1, 1))),
			      E(REL("a", "k", "b", META("h1", T1, 1)))};
	struct entry *av[] = {E(ENT("A", "p", "'x'", META("h1", T2, 2))),
			      E("{'id':1,'c':'ours'," META("h1", T2, 1) "}")};
	struct entry *bv[] = {E(ENT("A", "p", "'x','y','z'", META("h2", T3, 2))),
			      E(REL("a", "k", "b", META("h1", T1, 1))),
			      E("{'id':1,'c':'theirs'," META("h2", T2, 1) "}")};
	struct entry_set r1 = ENTRY_SET_INIT, r2 = ENTRY_SET_INIT;
	struct entry_set *o = set_of(ov, 2), *a = set_of(av, 2), *b = set_of(bv, 3);

	crdt_merge3_sets(o, a, b, &r1);
	crdt_merge3_sets(o, b, a, &r2);
	cr_assert_str_eq(ser(&r1, MEMFILE_ARRAY), ser(&r2, MEMFILE_ARRAY));
	cr_assert_eq(r1.nr, 2, "%s", ser(&r1, MEMFILE_JSONL));
	entry_set_release(&r1);
	entry_set_release(&r2);
}

/*
 * A join that splices new sets into the winner's text makes its entry
 * without reading that text again: the entry must be what reading it gives
 * (same key, stamp, canonical text, sets where a scan finds them).
 */
static void assert_as_read(const struct entry *e)
{
	struct entry *r = entry_read_canonical(e->text, e->text_len);

	cr_assert_not_null(r, "not canonical: %.*s", (int)e->text_len, e->text);
	cr_assert_str_eq(r->key, e->key);
	cr_assert_eq(r->stamp.instant, e->stamp.instant);
	cr_assert_eq(r->stamp.version, e->stamp.version);
	cr_assert_str_eq(r->stamp.host, e->stamp.host);
	cr_assert_eq(r->deleted, e->deleted);
	assert_kept_sets(e);
	entry_unref(r);
}

Test(join, spliced_sets_make_the_entry_reading_would_make)
{
	struct entry *v[4] = {
		E(ENT("A", "p", "'a','c'", META("h1", "2026-01-01T00:00:01Z", 1))),
		E(ENT("A", "p", "'b'",
		      METAX("h2", "2026-01-01T00:00:02Z", 2,
			    ",'removed_observations':['z']"))),
		E(ENT("A", "p", "'d','e'",
		      METAX("h3", "2026-01-01T00:00:03Z", 1,
			    ",'removed_observations':['a']"))),
		E(ENT("A", "p", "'f'", META("h1", "2026-01-01T00:00:00Z", 7))),
	};
	/* Winner with removed_observations, replaced where it stands. */
	struct entry *e = keep(crdt_join_all(v, 4));
	cr_assert_str_eq(obs(e), "b|c|d|e|f");
	cr_assert_str_eq(removed(e), "a|z");
	assert_as_read(e);
	/* Winner without one, none after: sets replaced, nothing added. */
	struct entry *w[3] = {
		E(ENT("B", "p", "'x'", META("h1", "2026-01-01T00:00:01Z", 1))),
		E(ENT("B", "p", "'y'", META("h2", "2026-01-01T00:00:02Z", 2))),
		E(ENT("B", "p", "'w'", META("h3", "2026-01-01T00:00:03Z", 3))),
	};
	e = keep(crdt_join_all(w, 3));
	cr_assert_str_eq(obs(e), "w|x|y");
	assert_as_read(e);
	/* A removed list that must appear: the checked way. */
	e = keep(crdt_join(w[2], v[2]));
	assert_as_read(e);
}
