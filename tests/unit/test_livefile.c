/*
 * The live memory file as the memory server has it (livefile.h): the rule
 * that stops a backup from recording the loss of most of a memory, and the
 * server's JSONL that restore writes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "livefile.h"

TestSuite(livefile, .fini = t_cleanup);

Test(livefile, emptying_a_memory_that_had_entries_is_a_loss)
{
	cr_assert(livefile_is_mass_loss(1, 0));
	cr_assert(livefile_is_mass_loss(3, 0));
	cr_assert_not(livefile_is_mass_loss(0, 0));
}

Test(livefile, losing_more_than_half_of_ten_or_more_is_a_loss)
{
	cr_assert(livefile_is_mass_loss(10, 4));
	cr_assert_not(livefile_is_mass_loss(10, 5));
	cr_assert(livefile_is_mass_loss(1000, 499));
	cr_assert_not(livefile_is_mass_loss(1000, 500));
}

Test(livefile, small_memories_may_shrink_as_long_as_something_is_left)
{
	cr_assert_not(livefile_is_mass_loss(9, 1));
	cr_assert_not(livefile_is_mass_loss(2, 1));
}

Test(livefile, growing_is_never_a_loss)
{
	cr_assert_not(livefile_is_mass_loss(0, 5));
	cr_assert_not(livefile_is_mass_loss(10, 11));
}

static const char *server_text(const char *file)
{
	struct buf out = BUF_INIT;
	const char *s;

	livefile_serialize(&MF(file)->set, &out);
	s = tfmt("%s", out.buf);
	buf_release(&out);
	return s;
}

Test(livefile, serialises_without_metadata_entities_first_and_no_final_newline)
{
	const char *file = "[" REL(
		"Alice", "knows", "Bob",
		META("laptop", "2026-11-21T10:00:00Z",
		     1)) "," ENT("Bob", "person", "'chess'",
				 META("laptop", "2026-11-21T10:00:00Z",
				      1)) "," ENT("Alice", "person", "'tea','cake'",
						  META("desktop", "2026-11-21T10:00:00Z",
						       2)) "]";

	cr_assert_str_eq(
		server_text(file),
		"{\"type\":\"entity\",\"name\":\"Alice\",\"entityType\":\"person\","
		"\"observations\":[\"cake\",\"tea\"]}\n"
		"{\"type\":\"entity\",\"name\":\"Bob\",\"entityType\":\"person\","
		"\"observations\":[\"chess\"]}\n"
		"{\"type\":\"relation\",\"from\":\"Alice\",\"to\":\"Bob\","
		"\"relationType\":\"knows\"}");
}

Test(livefile, leaves_out_tombstones_and_removed_observations)
{
	const char *file =
		"[" ENT("Alice", "person", "'tea'", METAX("laptop", "2026-11-21T10:00:00Z", 2, ",'removed_observations':['coffee']")) "," ENT(
			"Bob", "person", "",
			METAX("laptop", "2026-11-21T10:00:00Z", 2,
			      ",'deleted':true")) "," REL("Alice", "knows", "Bob",
							  METAX("laptop",
								"2026-11-21T10:00:00Z", 2,
								",'deleted':true")) "]";

	cr_assert_str_eq(
		server_text(file),
		"{\"type\":\"entity\",\"name\":\"Alice\",\"entityType\":\"person\","
		"\"observations\":[\"tea\"]}");
}

Test(livefile, puts_entries_of_other_shapes_after_the_relations)
{
	const char *file = "[{'id':'m1','content':'x'}," REL(
		"a", "r", "b", META("h", "2026-11-21T10:00:00Z", 1)) "," ENT0("z", "t",
									      "") "]";

	cr_assert_str_eq(server_text(file),
			 "{\"type\":\"entity\",\"name\":\"z\",\"entityType\":\"t\","
			 "\"observations\":[]}\n"
			 "{\"type\":\"relation\",\"from\":\"a\",\"to\":\"b\","
			 "\"relationType\":\"r\"}\n"
			 "{\"id\":\"m1\",\"content\":\"x\"}");
}

Test(livefile, an_empty_memory_is_an_empty_file)
{
	cr_assert_str_eq(server_text(""), "");
	cr_assert_str_eq(server_text("[" ENT("Bob", "person", "",
					     METAX("h", "2026-11-21T10:00:00Z", 2,
						   ",'deleted':true")) "]"),
			 "");
}

Test(livefile, counts_live_and_foreign_entries)
{
	struct memfile *mf = MF(
		"[{'id':'m1','content':'x'},{'note':'free'}," ENT0("z", "t", "") "," ENT(
			"y", "t", "",
			METAX("h", "2026-11-21T10:00:00Z", 2, ",'deleted':true")) "]");

	cr_assert_eq(livefile_count_live(&mf->set), 3);
	cr_assert_eq(livefile_count_foreign(&mf->set), 2);
}

Test(livefile, entries_the_server_cannot_hold_are_never_deleted_by_their_absence)
{
	struct memfile *prev =
		MF("[{'id':'m1','content':'x'},{'id':'m2','content':'y'}," ENT0(
			"a", "t", "") "," ENT0("b", "t", "") "]");
	struct memfile *next = MF("[{'id':'m2','content':'y'}," ENT0("a", "t", "") "]");
	struct entry_set *out = set_of(NULL, 0);

	livefile_deletable(&prev->set, &next->set, out);
	cr_assert_eq(out->nr, 3);
	cr_assert_str_eq(
		ser(out, MEMFILE_JSONL),
		q("{'type':'entity','name':'a','entityType':'t','observations':[]}\n"
		  "{'type':'entity','name':'b','entityType':'t','observations':[]}\n"
		  "{'id':'m2','content':'y'}\n"));
}
