/*
 * Stamping a new state against the known versions (restamp.h): unchanged
 * entries keep their metadata, new and changed ones get hybrid-logical-
 * clock stamps, gone ones become tombstones.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "restamp.h"

/* 2026-11-21T12:00:00.000Z */
#define NOON_NS 1795262400000000000LL

static int uid_counter;

static void test_uid(char *out, size_t size, void *ctx)
{
	(void)ctx;
	snprintf(out, size, "uid-%d", ++uid_counter);
}

static const struct restamp_clock noon = {NOON_NS + 123456789, "laptop", test_uid, NULL};

static struct entry_set *stamp(const char *next, const char *prev, const char *known,
			       struct restamp_stats *stats)
{
	struct entry_set *out = set_of(NULL, 0);
	const struct entry_set *k[1] = {known ? &MF(known)->set : NULL};

	restamp(&MF(next)->set, prev ? &MF(prev)->set : NULL, k, 1, &noon, out, NULL,
		stats);
	return out;
}

static struct entry *find(struct entry_set *s, const char *name)
{
	for (size_t i = 0; i < s->nr; i++)
		if (strstr(s->v[i]->key, tfmt("\"%s\"", name)))
			return s->v[i];
	return NULL;
}

TestSuite(restamp, .fini = t_cleanup);

Test(restamp, an_unchanged_entry_keeps_its_metadata_to_the_byte)
{
	const char *file = "[" ENT("Alice", "person", "'tea'",
				   META("desktop", "2026-11-21T10:00:00.000Z", 3)) "]";
	struct restamp_stats st;
	struct entry_set *out = stamp(file, file, NULL, &st);

	cr_assert_str_eq(ser(out, MEMFILE_ARRAY), ser(&MF(file)->set, MEMFILE_ARRAY));
	cr_assert_eq(st.kept, 1);
	cr_assert_eq(st.added + st.changed + st.deleted, 0);
}

Test(restamp, a_new_entry_gets_this_host_the_clock_in_ms_and_version_1)
{
	struct restamp_stats st;
	struct entry_set *out =
		stamp("[" ENT0("Bob", "person", "'chess'") "]", NULL, NULL, &st);
	struct entry *bob = find(out, "Bob");

	cr_assert_not_null(bob);
	cr_assert_str_eq(
		member(bob, "_crdt_metadata"),
		tfmt("{\"host\":\"laptop\",\"timestamp\":\"2026-11-21T12:00:00.123Z\","
		     "\"version\":1,\"unique_id\":\"uid-%d\"}",
		     uid_counter));
	cr_assert_eq(st.added, 1);
}

Test(restamp, a_changed_entry_wins_even_when_the_clock_is_behind)
{
	/* The previous version is an hour ahead of this machine's clock. */
	const char *prev = "[" ENT("Alice", "person", "'tea'",
				   META("desktop", "2026-11-21T13:00:00.500Z", 4)) "]";
	const char *next = "[" ENT("Alice", "person", "'tea','cake'",
				   META("desktop", "2026-11-21T13:00:00.500Z", 4)) "]";
	struct restamp_stats st;
	struct entry_set *out = stamp(next, prev, NULL, &st);
	struct entry *alice = find(out, "Alice");

	cr_assert_eq(st.changed, 1);
	cr_assert_str_eq(
		member(alice, "_crdt_metadata"),
		tfmt("{\"host\":\"laptop\",\"timestamp\":\"2026-11-21T13:00:00.501Z\","
		     "\"version\":5,\"unique_id\":\"uid-%d\"}",
		     uid_counter));
	cr_assert_gt(entry_cmp_version(alice, MF(prev)->set.v[0]), 0);
	cr_assert_str_eq(obs(alice), "cake|tea");
}

Test(restamp, a_removed_observation_is_recorded)
{
	const char *prev = "[" ENT("Alice", "person", "'tea','cake'",
				   META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	const char *next = "[" ENT("Alice", "person", "'tea'",
				   META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	struct entry_set *out = stamp(next, prev, NULL, NULL);
	struct entry *alice = find(out, "Alice");

	cr_assert_str_eq(obs(alice), "tea");
	cr_assert_str_eq(removed(alice), "cake");
	/* Joined with the old version, the removal holds. */
	struct entry *j = keep(crdt_join(alice, MF(prev)->set.v[0]));
	cr_assert_str_eq(obs(j), "tea");
}

Test(restamp, a_gone_entry_becomes_a_tombstone_that_wins_the_join)
{
	const char *prev = "[" ENT(
		"Alice", "person", "'tea'",
		META("laptop", "2026-11-21T10:00:00.000Z",
		     1)) "," REL("Alice", "knows", "Bob",
				 META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	const char *next = "[]";
	struct restamp_stats st;
	struct entry_set *out = stamp(next, prev, NULL, &st);
	struct entry *alice = find(out, "Alice");

	cr_assert_eq(st.deleted, 2);
	cr_assert_eq(out->nr, 2);
	cr_assert(alice->deleted);
	cr_assert_str_eq(obs(alice), "");
	cr_assert_str_eq(removed(alice), "tea");
	for (size_t i = 0; i < out->nr; i++) {
		cr_assert(out->v[i]->deleted);
		struct entry *j = keep(crdt_join(out->v[i], MF(prev)->set.v[i]));
		cr_assert(j->deleted, "%s", T(j));
	}
}

Test(restamp, a_tombstone_is_carried_on_unchanged)
{
	const char *prev =
		"[" ENT("Alice", "person", "",
			METAX("laptop", "2026-11-21T10:00:00.000Z", 2,
			      ",'deleted':true,'removed_observations':['tea']")) "]";
	struct restamp_stats st;
	struct entry_set *out = stamp("[]", prev, NULL, &st);

	cr_assert_str_eq(ser(out, MEMFILE_ARRAY), ser(&MF(prev)->set, MEMFILE_ARRAY));
	cr_assert_eq(st.deleted, 0);
}

Test(restamp, restored_content_takes_the_known_versions_metadata)
{
	/* What restore writes: no metadata. The unified file knows the version. */
	const char *unified = "[" ENT("Alice", "person", "'tea'",
				      META("desktop", "2026-11-21T10:00:00.000Z", 7)) "]";
	struct restamp_stats st;
	struct entry_set *out =
		stamp("[" ENT0("Alice", "person", "'tea'") "]", NULL, unified, &st);

	cr_assert_str_eq(ser(out, MEMFILE_ARRAY), ser(&MF(unified)->set, MEMFILE_ARRAY));
	cr_assert_eq(st.kept, 1);
}

Test(restamp, other_machines_observations_are_not_removals)
{
	/* Desktop added 'cake' (in the unified file); this machine never had it. */
	const char *prev = "[" ENT("Alice", "person", "'tea'",
				   META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	const char *unified = "[" ENT("Alice", "person", "'cake','tea'",
				      META("desktop", "2026-11-21T11:00:00.000Z", 2)) "]";
	const char *next = "[" ENT0("Alice", "person", "'tea','tennis'") "]";
	struct entry_set *out = stamp(next, prev, unified, NULL);
	struct entry *alice = find(out, "Alice");

	cr_assert_str_eq(removed(alice), "");
	cr_assert(strstr(T(alice), "\"version\":3"), "%s", T(alice));
	struct entry *j = keep(crdt_join(alice, MF(unified)->set.v[0]));
	cr_assert_str_eq(obs(j), "cake|tea|tennis");
}

Test(restamp, recreating_a_deleted_entity_is_a_new_live_version)
{
	const char *prev = "[" ENT(
		"Alice", "person", "",
		METAX("laptop", "2026-11-21T10:00:00.000Z", 2, ",'deleted':true")) "]";
	struct entry_set *out =
		stamp("[" ENT0("Alice", "person", "") "]", prev, NULL, NULL);
	struct entry *alice = find(out, "Alice");

	cr_assert(!alice->deleted, "%s", T(alice));
	cr_assert(strstr(T(alice), "\"version\":3"), "%s", T(alice));
}

Test(restamp, stamping_the_result_again_changes_nothing)
{
	const char *prev = "[" ENT(
		"Alice", "person", "'tea','cake'",
		META("laptop", "2026-11-21T10:00:00.000Z",
		     1)) "," ENT("Carol", "person", "",
				 META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	const char *next =
		"[" ENT0("Alice", "person", "'tea'") "," ENT0("Bob", "person", "") "]";
	struct entry_set *once = stamp(next, prev, NULL, NULL);
	const char *text = ser(once, MEMFILE_ARRAY);
	struct restamp_stats st;
	struct entry_set *twice = stamp(text, text, NULL, &st);

	cr_assert_str_eq(ser(twice, MEMFILE_ARRAY), text);
	cr_assert_eq(st.kept, 3);
}

Test(restamp, a_far_future_stamp_in_another_known_set_is_counted_for_an_unchanged_entry)
{
	/* Alice is unchanged here; the unified file has her from the future. */
	const char *mine = "[" ENT("Alice", "person", "'tea'",
				   META("laptop", "2026-11-21T10:00:00.000Z", 1)) "]";
	const char *unified = "[" ENT("Alice", "person", "'tea','cake'",
				      META("desktop", "2027-11-21T10:00:00.000Z", 2)) "]";
	const struct entry_set *known[1] = {&MF(unified)->set};
	struct entry_set *out = set_of(NULL, 0);
	struct restamp_stats st;

	restamp(&MF(mine)->set, &MF(mine)->set, known, 1, &noon, out, NULL, &st);
	cr_assert_eq(st.kept, 1);
	cr_assert_eq(st.future, 1, "future: got %zu, expected 1", st.future);
	known[0] = &MF(mine)->set;
	restamp(&MF(mine)->set, &MF(mine)->set, known, 1, &noon, set_of(NULL, 0), NULL,
		&st);
	cr_assert_eq(st.future, 0);
}

Test(restamp, changed_entries_are_listed_and_a_far_future_stamp_is_counted)
{
	const char *prev = "[" ENT("Alice", "person", "'tea'",
				   META("laptop", "2027-11-21T10:00:00.000Z", 1)) "]";
	struct entry_set changed = ENTRY_SET_INIT;
	struct entry_set *out = set_of(NULL, 0);
	struct restamp_stats st;
	const struct entry_set *none[1] = {NULL};

	restamp(&MF("[" ENT0("Alice", "person", "'cake'") "," ENT0("Bob", "person",
								   "") "]")
			 ->set,
		&MF(prev)->set, none, 1, &noon, out, &changed, &st);
	cr_assert_eq(changed.nr, 2);
	cr_assert_eq(st.future, 1);
	cr_assert_eq(st.changed, 1);
	cr_assert_eq(st.added, 1);
	entry_set_release(&changed);
}
