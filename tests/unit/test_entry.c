/*
 * Entries (entry.h): keys, the canonical form, metadata checks, reading
 * timestamps from trees, and the version order the join uses. Parsing and
 * writing timestamps themselves is in test_stamp.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "json.h"

TestSuite(keys, .fini = t_cleanup);
TestSuite(canonical, .fini = t_cleanup);
TestSuite(metadata, .fini = t_cleanup);
TestSuite(timestamp, .fini = t_cleanup);
TestSuite(order, .fini = t_cleanup);

#define NS 1000000000LL
/* 2026-11-21T20:55:50Z in seconds */
#define T_NOV 1795294550LL

static void delete_json(void *p)
{
	cJSON_Delete(p);
}

/* ---- keys ---- */

Test(keys, string_id_makes_an_opaque_register)
{
	struct entry *e = E("{'id':'m1','content':'c'}");

	cr_assert_eq(e->kind, ENTRY_ID);
	cr_assert(strstr(e->key, "m1") != NULL, "key %s", e->key);
	cr_assert_eq(e->key_len, strlen(e->key));
}

Test(keys, integer_id_makes_an_opaque_register)
{
	struct entry *e = E("{'id':42,'content':'c'}");

	cr_assert_eq(e->kind, ENTRY_ID);
	cr_assert(strstr(e->key, "42") != NULL, "key %s", e->key);
}

Test(keys, the_same_id_is_the_same_key_whatever_the_content)
{
	struct entry *a = E("{'id':'m1','content':'a'}");
	struct entry *b = E("{'content':'b','id':'m1','extra':[1]," META(
		"h", "2026-01-01T00:00:00Z", 1) "}");
	struct entry *c = E("{'id':'m2','content':'a'}");

	cr_assert_str_eq(a->key, b->key);
	cr_assert_eq(entry_cmp_key(a, b), 0);
	cr_assert_neq(entry_cmp_key(a, c), 0);
	cr_assert_eq(entry_cmp_key(a, c), -entry_cmp_key(c, a));
}

Test(keys, integer_ids_above_2_53_are_distinct_keys)
{
	struct entry *a = E("{'id':9007199254740993}");
	struct entry *b = E("{'id':9007199254740992}");

	cr_assert_eq(a->kind, ENTRY_ID);
	cr_assert_neq(entry_cmp_key(a, b), 0, "keys %s and %s", a->key, b->key);
	cr_assert(strstr(a->key, "9007199254740993") != NULL, "key %s", a->key);
}

Test(keys, id_wins_over_type)
{
	struct entry *a = E("{'id':'m1','type':'entity','name':'A','entityType':'p','"
			    "observations':[]}");
	struct entry *b =
		E("{'type':'entity','name':'A','entityType':'p','observations':[]}");
	struct entry *c =
		E("{'id':'m1','type':'relation','from':'a','to':'b','relationType':'k'}");

	cr_assert_eq(a->kind, ENTRY_ID);
	cr_assert_eq(c->kind, ENTRY_ID);
	cr_assert_neq(entry_cmp_key(a, b), 0);
	cr_assert_eq(entry_cmp_key(a, c), 0, "same id, keys %s and %s", a->key, c->key);
}

Test(keys, id_that_is_not_a_string_or_integer_falls_back_to_content)
{
	cr_assert_eq(E("{'id':true,'content':'c'}")->kind, ENTRY_CONTENT);
	cr_assert_eq(E("{'id':null,'content':'c'}")->kind, ENTRY_CONTENT);
	cr_assert_eq(E("{'id':[1],'content':'c'}")->kind, ENTRY_CONTENT);
	cr_assert_eq(E("{'id':1.5,'content':'c'}")->kind, ENTRY_CONTENT);
}

Test(keys, entity_is_keyed_by_name)
{
	struct entry *a = E("{'type':'entity','name':'Alice','entityType':'person','"
			    "observations':['x']}");
	struct entry *b = E("{'type':'entity','name':'Alice','entityType':'robot','"
			    "observations':[]}");

	cr_assert_eq(a->kind, ENTRY_ENTITY);
	cr_assert_str_eq(a->key, "[\"entity\",\"Alice\"]");
	cr_assert_eq(a->key_len, strlen("[\"entity\",\"Alice\"]"));
	cr_assert_eq(entry_cmp_key(a, b), 0);
}

Test(keys, relation_is_keyed_by_the_triple)
{
	struct entry *a =
		E("{'type':'relation','from':'a','to':'b','relationType':'knows'}");
	struct entry *b =
		E("{'type':'relation','from':'a','to':'c','relationType':'knows'}");
	struct entry *c =
		E("{'type':'relation','from':'b','to':'a','relationType':'knows'}");
	struct entry *d =
		E("{'type':'relation','from':'a','to':'b','relationType':'likes'}");

	cr_assert_eq(a->kind, ENTRY_RELATION);
	cr_assert_str_eq(a->key, "[\"relation\",\"a\",\"knows\",\"b\"]");
	cr_assert_neq(entry_cmp_key(a, b), 0);
	cr_assert_neq(entry_cmp_key(a, c), 0);
	cr_assert_neq(entry_cmp_key(a, d), 0);
}

Test(keys, entity_without_a_string_name_falls_back_to_content)
{
	cr_assert_eq(E("{'type':'entity','name':5}")->kind, ENTRY_CONTENT);
	cr_assert_eq(E("{'type':'entity','entityType':'p'}")->kind, ENTRY_CONTENT);
	cr_assert_eq(E("{'type':'Entity','name':'A'}")->kind, ENTRY_CONTENT);
}

Test(keys, relation_missing_part_of_the_triple_falls_back_to_content)
{
	cr_assert_eq(E("{'type':'relation','from':'a','relationType':'k'}")->kind,
		     ENTRY_CONTENT);
	cr_assert_eq(E("{'type':'relation','from':'a','to':1,'relationType':'k'}")->kind,
		     ENTRY_CONTENT);
}

Test(keys, content_key_ignores_member_order_white_space_and_metadata)
{
	const char *t = q("{ 'b' : [1, 2],\n 'a' : {'y':1,'x':2}, " META(
		"h", "2026-01-01T00:00:00Z", 3) " }");
	struct entry *a = E("{'a':{'x':2,'y':1},'b':[1,2]}");
	struct entry *b = E_raw(t, strlen(t));

	cr_assert_eq(a->kind, ENTRY_CONTENT);
	cr_assert_str_eq(a->key, b->key);
}

Test(keys, different_contents_are_different_keys)
{
	struct entry *a = E("{'a':1}");
	struct entry *b = E("{'a':2}");
	struct entry *c = E("{'a':'1'}");
	struct entry *d = E("{'b':[2,1]}");
	struct entry *e = E("{'b':[1,2]}");

	cr_assert_neq(entry_cmp_key(a, b), 0);
	cr_assert_neq(entry_cmp_key(a, c), 0);
	cr_assert_neq(entry_cmp_key(d, e), 0,
		      "arrays are ordered outside entity observations");
}

Test(keys, keys_escape_names_canonically)
{
	struct entry *e = E("{'type':'entity','name':'a\\\"b\\\\c','entityType':'p'}");

	cr_assert_str_eq(e->key, "[\"entity\",\"a\\\"b\\\\c\"]");
}

Test(keys, escaped_and_raw_unicode_names_are_the_same_key)
{
	struct entry *a = E("{'type':'entity','name':'Zo\\u00eb','entityType':'p'}");
	struct entry *b = E("{'type':'entity','name':'Zo\xc3\xab','entityType':'p'}");

	cr_assert_str_eq(a->key, "[\"entity\",\"Zo\xc3\xab\"]");
	cr_assert_eq(entry_cmp_key(a, b), 0);
	cr_assert_str_eq(T(a), T(b));
}

Test(keys, keys_sort_in_byte_order)
{
	struct entry *up = E("{'type':'entity','name':'C'}");
	struct entry *lo = E("{'type':'entity','name':'a'}");
	struct entry *rel =
		E("{'type':'relation','from':'a','to':'b','relationType':'k'}");

	cr_assert_lt(entry_cmp_key(up, lo), 0);
	cr_assert_gt(entry_cmp_key(lo, up), 0);
	cr_assert_lt(entry_cmp_key(lo, rel), 0);
}

/* ---- canonical form ---- */

Test(canonical, server_lines_without_metadata_are_already_canonical)
{
	static const char *const lines[] = {
		"{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"person\","
		"\"observations\":[\"a\",\"b\"]}",
		"{\"type\":\"relation\",\"from\":\"A\",\"to\":\"B\",\"relationType\":"
		"\"knows\"}",
	};

	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(T(E_raw(lines[i], strlen(lines[i]))), lines[i]);
}

Test(canonical, text_does_not_depend_on_member_order_or_white_space)
{
	struct entry *a = E(ENT("A", "p", "'x','y'",
				METAX("h1", "2026-01-01T00:00:00Z", 2,
				      ",'deleted':false,'removed_observations':['z']")));
	struct entry *b =
		E("{ '_crdt_metadata' : { 'removed_observations':['z'], 'version':2,"
		  " 'deleted':false, 'unique_id':'u-h1-2', "
		  "'timestamp':'2026-01-01T00:00:00Z',"
		  " 'host':'h1' },\n 'observations' : ['y','x'], 'entityType':'p',"
		  " 'name':'A', 'type':'entity' }");

	cr_assert_str_eq(T(a), T(b));
	cr_assert_eq(a->text_len, strlen(T(a)));
	cr_assert(strchr(T(a), ' ') == NULL, "white space in %s", T(a));
	cr_assert(strchr(T(a), '\n') == NULL, "newline in %s", T(a));
}

Test(canonical, metadata_is_the_last_member)
{
	struct entry *e =
		E("{'_crdt_metadata':{'host':'h','version':1},'zz':1,'id':'m1'}");
	const char *md = strstr(T(e), "\"_crdt_metadata\"");

	cr_assert(md != NULL, "%s", T(e));
	cr_assert(strstr(md, "\"zz\"") == NULL, "metadata not last: %s", T(e));
	cr_assert(strstr(md, "\"id\"") == NULL, "metadata not last: %s", T(e));
}

Test(canonical, observations_are_sorted_and_deduplicated)
{
	struct entry *e = E("{'type':'entity','name':'A','entityType':'p','observations':"
			    "['b','a','b','c','a']}");

	cr_assert_str_eq(obs(e), "a|b|c");
}

Test(canonical, observations_sort_by_utf8_value_not_by_json_text)
{
	/* '"' (0x22) sorts before '#' (0x23) although its JSON text \" starts
	 * with a backslash (0x5c); "z" sorts before "é" (0xc3 0xa9) even when
	 * é is written as \u00e9 */
	struct entry *e = E("{'type':'entity','name':'A','entityType':'p',"
			    "'observations':['\\u00e9','#','z','\\\"','\\t']}");

	cr_assert_str_eq(obs(e), "\t|\"|#|z|\xc3\xa9");
}

Test(canonical, removed_observations_are_subtracted_and_sorted)
{
	struct entry *e = E(ENT("A", "p", "'a','b','c'",
				METAX("h", "2026-01-01T00:00:00Z", 1,
				      ",'removed_observations':['c','z','a','c']")));

	cr_assert_str_eq(obs(e), "b");
	cr_assert_str_eq(removed(e), "a|c|z");
}

Test(canonical, empty_removed_observations_are_left_out)
{
	struct entry *e = E(
		ENT("A", "p", "'a'",
		    METAX("h", "2026-01-01T00:00:00Z", 1, ",'removed_observations':[]")));
	struct entry *f = E(ENT("A", "p", "'a'", META("h", "2026-01-01T00:00:00Z", 1)));

	cr_assert(strstr(T(e), "removed_observations") == NULL, "%s", T(e));
	cr_assert_str_eq(T(e), T(f));
}

Test(canonical, an_entity_always_has_observations)
{
	struct entry *e = E("{'type':'entity','name':'A','entityType':'p'}");

	cr_assert(strstr(T(e), "\"observations\":[]") != NULL, "%s", T(e));
	cr_assert_str_eq(
		T(e),
		T(E("{'type':'entity','name':'A','entityType':'p','observations':[]}")));
}

Test(canonical, arrays_of_other_entries_keep_their_order)
{
	struct entry *e = E("{'id':'m1','tags':['b','a']}");

	cr_assert(strstr(T(e), "[\"b\",\"a\"]") != NULL, "%s", T(e));
}

Test(canonical, numbers_above_2_53_survive_in_entries)
{
	struct entry *e =
		E("{'id':9007199254740993,'n':123456789012345678901234567890,'f':1.50}");

	cr_assert(strstr(T(e), "9007199254740993") != NULL, "%s", T(e));
	cr_assert(strstr(T(e), "123456789012345678901234567890") != NULL, "%s", T(e));
	cr_assert(strstr(T(e), "1.50") != NULL, "%s", T(e));
}

Test(canonical, to_json_gives_back_the_canonical_form)
{
	struct entry *e = E(ENT(
		"A", "p", "'y','x'",
		METAX("h", "2026-01-01T00:00:00Z", 1, ",'removed_observations':['q']")));
	cJSON *j = t_defer(entry_to_json(e), delete_json);
	struct buf b = BUF_INIT;

	json_write(&b, j);
	cr_assert_str_eq(b.buf, T(e));
	buf_release(&b);
}

Test(canonical, entry_from_json_takes_a_tree)
{
	struct buf err = BUF_INIT;
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "name", "A");
	cJSON_AddStringToObject(obj, "type", "entity");
	struct entry *e = keep(entry_from_json(obj, &err));
	cr_assert(e != NULL, "%s", err.buf);
	cr_assert_eq(e->kind, ENTRY_ENTITY);
	cr_assert_eq(e->refs, 1);
	buf_release(&err);
}

Test(canonical, references_are_counted)
{
	struct entry *e = E("{'id':'m1'}");

	cr_assert_eq(entry_ref(e), e);
	cr_assert_eq(e->refs, 2);
	entry_unref(e);
	cr_assert_eq(e->refs, 1);
	entry_unref(NULL);
}

Test(canonical, entry_equal_compares_bytes_including_metadata)
{
	struct entry *a = E("{'id':'m1'," META("h", "2026-01-01T00:00:00Z", 1) "}");
	struct entry *b = E("{'id':'m1'," META("h", "2026-01-01T00:00:00Z", 1) "}");
	struct entry *c = E("{'id':'m1'," META("h", "2026-01-01T00:00:00.000Z", 1) "}");

	cr_assert(entry_equal(a, b));
	cr_assert(!entry_equal(a, c), "timestamps are compared as written");
	cr_assert(!entry_equal(a, NULL));
	cr_assert(entry_equal(NULL, NULL));
}

/* ---- metadata ---- */

Test(metadata, entry_that_is_not_an_object_is_an_error)
{
	E_ERR("[1]");
	E_ERR("'s'");
	E_ERR("1");
	E_ERR("null");
}

Test(metadata, trailing_garbage_after_an_entry_is_an_error)
{
	E_ERR("{'id':'m1'} x");
}

Test(metadata, metadata_that_is_not_an_object_is_an_error)
{
	E_ERR("{'id':'m1','_crdt_metadata':'x'}");
	E_ERR("{'id':'m1','_crdt_metadata':[]}");
	E_ERR("{'id':'m1','_crdt_metadata':null}");
	E_ERR("{'id':'m1','_crdt_metadata':5}");
	E_ERR("{'type':'entity','name':'A','_crdt_metadata':true}");
}

Test(metadata, unparseable_timestamp_is_an_error)
{
	E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':'yesterday'}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':'2026-13-01T00:00:00Z'}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':''}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':true}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':[1]}}");
}

Test(metadata, reason_is_one_line)
{
	const char *r = E_ERR("{'id':'m1','_crdt_metadata':{'timestamp':'yesterday'}}");

	const char *nl = strchr(r, '\n');

	cr_assert(nl == NULL || nl[1] == '\0', "more than one line: %s", r);
}

Test(metadata, fields_of_the_wrong_type_are_errors)
{
	E_ERR("{'id':'m1','_crdt_metadata':{'version':'3'}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'version':1.5}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'host':5}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'unique_id':5}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'deleted':'yes'}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'deleted':1}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'removed_observations':'x'}}");
	E_ERR("{'id':'m1','_crdt_metadata':{'removed_observations':[1]}}");
}

Test(metadata, entity_observations_must_be_strings)
{
	E_ERR("{'type':'entity','name':'A','entityType':'p','observations':['a',1]}");
	E_ERR("{'type':'entity','name':'A','entityType':'p','observations':'a'}");
}

Test(metadata, duplicate_members_are_an_error)
{
	E_ERR("{'id':'m1','id':'m2'}");
	E_ERR("{'id':'m1','_crdt_metadata':{'version':1,'version':2}}");
}

Test(metadata, stamp_is_read_from_the_metadata)
{
	struct entry *e =
		E("{'id':'m1'," META("host-1", "2026-11-21T20:55:50.123Z", 7) "}");

	cr_assert_eq(e->stamp.instant, T_NOV * NS + 123000000LL);
	cr_assert_eq(e->stamp.version, 7);
	cr_assert_str_eq(e->stamp.host, "host-1");
	cr_assert_eq(e->deleted, 0);
}

Test(metadata, no_metadata_is_the_lowest_stamp)
{
	struct entry *e = E("{'id':'m1'}");

	cr_assert_eq(e->stamp.instant, STAMP_NONE);
	cr_assert_eq(e->stamp.version, 0);
	cr_assert_str_eq(e->stamp.host, "");
	cr_assert_eq(e->deleted, 0);
}

Test(metadata, no_metadata_loses_even_to_a_timestamp_before_1970)
{
	struct entry *none = E("{'id':'m1','content':'zzz'}");
	struct entry *old =
		E("{'id':'m1','content':'a'," META("", "1900-01-01T00:00:00Z", 0) "}");
	struct entry *epoch =
		E("{'id':'m1','content':'a'," META("", "1970-01-01T00:00:00Z", 0) "}");

	cr_assert_lt(entry_cmp_version(none, old), 0);
	cr_assert_gt(entry_cmp_version(old, none), 0);
	cr_assert_lt(entry_cmp_version(none, epoch), 0);
	cr_assert_lt(entry_cmp_version(old, epoch), 0);
	cr_assert_str_eq(T(keep(crdt_join(none, old))), T(old));
	cr_assert_str_eq(T(keep(crdt_join(old, none))), T(old));
}

Test(metadata, tombstone_flag_is_read)
{
	struct entry *e = E("{'id':'m1'," METAX("h", "2026-01-01T00:00:00Z", 2,
						",'deleted':true") "}");

	cr_assert_eq(e->deleted, 1);
}

Test(metadata, missing_fields_take_their_lowest_values)
{
	struct entry *e = E("{'id':'m1','_crdt_metadata':{'host':'h'}}");
	struct entry *f =
		E("{'id':'m1','_crdt_metadata':{'timestamp':'1970-01-01T00:00:00Z'}}");

	cr_assert_eq(e->stamp.version, 0);
	cr_assert_eq(f->stamp.version, 0);
	cr_assert_str_eq(f->stamp.host, "");
	cr_assert_lt(entry_cmp_version(e, f), 0,
		     "no timestamp is older than any timestamp");
}

/* ---- timestamps ---- */

Test(timestamp, epoch_seconds_as_raw_or_double_numbers)
{
	int64_t ns = 0;
	cJSON *raw = t_defer(cJSON_CreateRaw("1795294550"), delete_json);
	cJSON *num = t_defer(cJSON_CreateNumber(1795294550.0), delete_json);
	cJSON *str = t_defer(cJSON_CreateString("2026-11-21T20:55:50Z"), delete_json);
	cJSON *yes = t_defer(cJSON_CreateTrue(), delete_json);
	cJSON *junk = t_defer(cJSON_CreateString("soon"), delete_json);

	cr_assert_eq(entry_parse_instant(raw, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS);
	ns = 0;
	cr_assert_eq(entry_parse_instant(num, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS);
	ns = 0;
	cr_assert_eq(entry_parse_instant(str, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS);
	cr_assert_eq(entry_parse_instant(yes, &ns), -1);
	cr_assert_eq(entry_parse_instant(junk, &ns), -1);
}

Test(timestamp, epoch_seconds_in_an_entry)
{
	struct entry *e =
		E("{'id':'m1','_crdt_metadata':{'timestamp':1795294550,'version':1}}");

	cr_assert_eq(e->stamp.instant, T_NOV * NS);
}

/* ---- the version order ---- */

/* The winner of a and b must be w, whatever the argument order. */
static void assert_winner(struct entry *a, struct entry *b, struct entry *w)
{
	struct entry *l = w == a ? b : a;

	cr_assert_gt(entry_cmp_version(w, l), 0, "%s\n  should beat %s", T(w), T(l));
	cr_assert_lt(entry_cmp_version(l, w), 0, "%s\n  should lose to %s", T(l), T(w));
	cr_assert_str_eq(T(keep(crdt_join(a, b))), T(w));
	cr_assert_str_eq(T(keep(crdt_join(b, a))), T(w));
}

Test(order, later_instant_wins_even_when_string_order_disagrees)
{
	/* "...00Z" > "...00.5Z" as strings, but 00.5 is later */
	struct entry *a =
		E("{'id':'m1','content':'a'," META("h", "2026-01-01T00:00:00Z", 5) "}");
	struct entry *b =
		E("{'id':'m1','content':'b'," META("h", "2026-01-01T00:00:00.5Z", 1) "}");

	assert_winner(a, b, b);
}

Test(order, offsets_compare_as_instants)
{
	/* 01:00+02:00 is 23:00Z the day before, older than 23:30Z */
	struct entry *a = E("{'id':'m1','content':'a'," META(
		"h", "2026-01-01T01:00:00+02:00", 1) "}");
	struct entry *b =
		E("{'id':'m1','content':'b'," META("h", "2025-12-31T23:30:00Z", 1) "}");

	assert_winner(a, b, b);
}

Test(order, epoch_seconds_compare_with_iso_timestamps)
{
	struct entry *a = E("{'id':'m1','content':'a','_crdt_metadata':{'host':'h','"
			    "timestamp':1767225600,'version':1}}");
	struct entry *b = E(
		"{'id':'m1','content':'b'," META("h", "2025-12-31T23:59:59.999Z", 9) "}");

	assert_winner(a, b, a);
}

Test(order, same_instant_falls_back_to_version)
{
	struct entry *a =
		E("{'id':'m1','content':'z'," META("h9", "2026-01-01T00:00:00Z", 2) "}");
	struct entry *b = E("{'id':'m1','content':'a'," META(
		"h1", "2026-01-01T02:00:00+02:00", 3) "}");

	assert_winner(a, b, b);
}

Test(order, version_compares_as_a_number)
{
	struct entry *a =
		E("{'id':'m1','content':'a'," META("h", "2026-01-01T00:00:00Z", 9) "}");
	struct entry *b =
		E("{'id':'m1','content':'b'," META("h", "2026-01-01T00:00:00Z", 10) "}");

	assert_winner(a, b, b);
}

Test(order, same_instant_and_version_falls_back_to_host)
{
	struct entry *a =
		E("{'id':'m1','content':'z'," META("h1", "2026-01-01T00:00:00Z", 3) "}");
	struct entry *b =
		E("{'id':'m1','content':'a'," META("h2", "2026-01-01T00:00:00Z", 3) "}");

	assert_winner(a, b, b);
}

Test(order, same_stamp_falls_back_to_content_bytes)
{
	struct entry *a = E(ENT("A", "p", "'zzz'", META("h", "2026-01-01T00:00:00Z", 3)));
	struct entry *b = E(ENT("A", "q", "'aaa'", META("h", "2026-01-01T00:00:00Z", 3)));
	struct entry *j1 = keep(crdt_join(a, b));
	struct entry *j2 = keep(crdt_join(b, a));

	cr_assert_gt(entry_cmp_version(b, a), 0);
	cr_assert_lt(entry_cmp_version(a, b), 0);
	cr_assert_str_eq(T(j1), T(j2));
	cr_assert_str_eq(member(j1, "entityType"), "\"q\"");
	cr_assert_str_eq(obs(j1), "aaa|zzz");
}

Test(order, content_tie_break_ignores_observations)
{
	struct entry *a = E(ENT("A", "p", "'z'", META("h", "2026-01-01T00:00:00Z", 3)));
	struct entry *b = E(ENT(
		"A", "p", "'a'",
		METAX("h", "2026-01-01T00:00:00Z", 3, ",'removed_observations':['q']")));
	struct entry *j1 = keep(crdt_join(a, b));
	struct entry *j2 = keep(crdt_join(b, a));

	cr_assert_eq(entry_cmp_version(a, b), 0);
	cr_assert_str_eq(T(j1), T(j2));
	cr_assert_str_eq(obs(j1), "a|z");
	cr_assert_str_eq(removed(j1), "q");
}

Test(order, same_instant_written_differently_is_still_ordered_the_same_both_ways)
{
	struct entry *a = E("{'id':'m1'," META("h", "2026-01-01T00:00:00Z", 1) "}");
	struct entry *b = E("{'id':'m1'," META("h", "2026-01-01T00:00:00.000Z", 1) "}");
	int ab = entry_cmp_version(a, b), ba = entry_cmp_version(b, a);

	cr_assert_eq(a->stamp.instant, b->stamp.instant);
	cr_assert_neq(ab, 0, "different bytes must not tie");
	cr_assert((ab < 0) == (ba > 0));
	cr_assert_str_eq(T(keep(crdt_join(a, b))), T(keep(crdt_join(b, a))));
}

Test(order, tombstone_is_a_version_like_any_other)
{
	struct entry *live = E("{'id':'m1'," META("h", "2026-01-01T00:00:01Z", 1) "}");
	struct entry *dead = E("{'id':'m1'," METAX("h", "2026-01-01T00:00:00Z", 2,
						   ",'deleted':true") "}");

	assert_winner(live, dead, live);
}

/*
 * Nanoseconds in an int64 cover 1677 to 2262, and readers accept 1685..2255.
 * A timestamp outside that range is bad input: it must never be clamped to
 * the range's end, nor wrap around (signed overflow) and so sort on the
 * wrong side of ordinary ones.
 */
Test(order, far_future_timestamps_are_rejected_not_clamped)
{
	/* Past 64-bit nanoseconds (about 2255): bad input, never a clamped stamp. */
	static const char *const cases[] = {
		"{'id':'m1','_crdt_metadata':{'timestamp':'2300-01-01T00:00:00Z'}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':'9999-12-31T23:59:59.999Z'}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':10413792000}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':99999999999999}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':'99999999999999'}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':1e300}}",
	};
	struct entry *now =
		E("{'id':'m1','_crdt_metadata':{'timestamp':'2026-01-01T00:00:00Z'}}");
	struct entry *late =
		E("{'id':'m1','_crdt_metadata':{'timestamp':'2255-01-01T00:00:00Z'}}");

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		cr_assert_str_neq(E_ERR(cases[i]), "", "%s", cases[i]);
	/* Inside the range, a far-future stamp sorts last and wins. */
	cr_assert_gt(entry_cmp_version(late, now), 0);
	cr_assert_str_eq(T(keep(crdt_join(now, late))), T(late));
}

Test(order, far_past_timestamps_are_rejected_not_clamped)
{
	static const char *const cases[] = {
		"{'id':'m1','_crdt_metadata':{'timestamp':'1000-01-01T00:00:00Z'}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':'0001-01-01T00:00:00Z'}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':-99999999999}}",
		"{'id':'m1','_crdt_metadata':{'timestamp':-1e300}}",
	};
	struct entry *epoch =
		E("{'id':'m1','_crdt_metadata':{'timestamp':'1970-01-01T00:00:00Z'}}");
	struct entry *early =
		E("{'id':'m1','_crdt_metadata':{'timestamp':'1700-01-01T00:00:00Z'}}");

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		cr_assert_str_neq(E_ERR(cases[i]), "", "%s", cases[i]);
	cr_assert_lt(entry_cmp_version(early, epoch), 0);
}
