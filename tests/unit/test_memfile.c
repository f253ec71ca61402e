/*
 * Memory files (memfile.h): reading arrays and JSONL strictly with line and
 * column in errors, the canonical layout, duplicate keys, atomic writes,
 * unicode and very long strings.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "json.h"

TestSuite(read, .fini = t_cleanup);
TestSuite(output, .fini = t_cleanup);
TestSuite(duplicates, .fini = t_cleanup);
TestSuite(text, .fini = t_cleanup);

/* Server lines: already canonical, and in key order A < B < relation. */
#define LA                                                                               \
	"{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"p\",\"observations\":["    \
	"\"x\"]}"
#define LB "{\"type\":\"entity\",\"name\":\"B\",\"entityType\":\"p\",\"observations\":[]}"
#define LR                                                                               \
	"{\"type\":\"relation\",\"from\":\"A\",\"to\":\"B\",\"relationType\":\"knows\"}"

static void delete_json(void *p)
{
	cJSON_Delete(p);
}

static void assert_has(const char *haystack, const char *needle)
{
	cr_assert(strstr(haystack, needle) != NULL, "expected \"%s\" in \"%s\"", needle,
		  haystack);
}

/* ---- reading ---- */

Test(read, jsonl_without_a_trailing_newline)
{
	struct memfile *mf = MF(LB "\n" LA);

	cr_assert_eq(mf->format, MEMFILE_JSONL);
	cr_assert_eq(mf->set.nr, 2);
	cr_assert_str_eq(T(mf->set.v[0]), LA);
	cr_assert_str_eq(T(mf->set.v[1]), LB);
	cr_assert_eq(mf->duplicates, 0, "duplicates: got %zu, expected 0",
		     mf->duplicates);
}

Test(read, jsonl_with_blank_lines)
{
	struct memfile *mf = MF("\n\n" LA "\n\n   \n\t\n" LB "\n\n");

	cr_assert_eq(mf->format, MEMFILE_JSONL);
	cr_assert_eq(mf->set.nr, 2);
}

Test(read, jsonl_with_crlf_line_ends)
{
	struct memfile *mf = MF(LA "\r\n" LB "\r\n" LR "\r\n");

	cr_assert_eq(mf->format, MEMFILE_JSONL);
	cr_assert_eq(mf->set.nr, 3);
	cr_assert_str_eq(T(mf->set.v[2]), LR);
}

Test(read, empty_file_is_the_empty_set)
{
	struct memfile *mf = MF_raw("", 0);

	cr_assert_eq(mf->format, MEMFILE_EMPTY);
	cr_assert_eq(mf->set.nr, 0);
}

Test(read, all_white_space_file_is_the_empty_set)
{
	struct memfile *mf = MF(" \n\t\r\n  \n");

	cr_assert_eq(mf->format, MEMFILE_EMPTY);
	cr_assert_eq(mf->set.nr, 0);
}

Test(read, one_line_json_array)
{
	struct memfile *mf = MF("[" LB "," LA "]");

	cr_assert_eq(mf->format, MEMFILE_ARRAY);
	cr_assert_eq(mf->set.nr, 2);
	cr_assert_str_eq(T(mf->set.v[0]), LA);
}

Test(read, indented_json_array_over_many_lines)
{
	struct memfile *mf =
		MF("\n  [\r\n  {\n    'id': 'm1',\n    'content': 'c'\n  } ,\n\n"
		   "  " LA "\r\n]\n\n");

	cr_assert_eq(mf->format, MEMFILE_ARRAY);
	cr_assert_eq(mf->set.nr, 2);
}

Test(read, empty_array_is_the_empty_set_in_array_format)
{
	struct memfile *mf = MF(" [ \n ] \n");

	cr_assert_eq(mf->format, MEMFILE_ARRAY);
	cr_assert_eq(mf->set.nr, 0);
}

Test(read, trailing_garbage_after_an_array_is_an_error)
{
	assert_has(MF_ERR("[{'a':1}] x"), "line 1, column 11: ");
	MF_ERR("[{'a':1}]\n[]");
	MF_ERR("[{'a':1}]\n{'b':2}");
}

Test(read, trailing_garbage_after_a_jsonl_line_is_an_error)
{
	assert_has(MF_ERR("{'a':1}\n{'b':2} x\n"), "line 2, column 9: ");
}

Test(read, two_objects_on_one_jsonl_line_are_an_error)
{
	assert_has(MF_ERR("{'a':1} {'b':2}\n"), "line 1, column 9: ");
}

Test(read, line_and_column_of_a_syntax_error_in_an_array)
{
	assert_has(MF_ERR("[\n  {'a': 1},\n  {'a' 2}\n]\n"), "line 3, column 8: ");
}

Test(read, line_and_column_in_jsonl_with_crlf)
{
	assert_has(MF_ERR("{'a':1}\r\n\r\n{'a':}\r\n"), "line 3, column 6: ");
}

Test(read, columns_count_bytes)
{
	/* é is two bytes: the stray ',' is byte 7 of the line */
	assert_has(MF_ERR("{'\xc3\xa9':,}"), "line 1, column 7: ");
}

Test(read, invalid_utf8_is_an_error_at_its_position)
{
	assert_has(MF_ERR("{'b':1}\n{'a':'\xff'}\n"), "line 2, column 7: ");
	MF_ERR("[{'a':'\xc0\xaf'}]");
}

Test(read, duplicate_member_names_are_an_error)
{
	assert_has(MF_ERR("{'b':1}\n{'a':1,'a':2}\n"), "line 2, column ");
	assert_has(MF_ERR("[{'a':1,'a':1}]"), "line 1, column ");
}

Test(read, escaped_u0000_is_an_error)
{
	assert_has(MF_ERR("{'a':'x\\u0000'}"), "line 1, column ");
}

Test(read, elements_that_are_not_objects_are_errors)
{
	MF_ERR("[1]");
	MF_ERR("[{'a':1},'x']");
	MF_ERR("[[{'a':1}]]");
	MF_ERR("{'a':1}\n[1]\n");
	MF_ERR("{'a':1}\n'x'\n");
	MF_ERR("{'a':1}\nnull\n");
	MF_ERR("'x'");
	MF_ERR("1");
	MF_ERR("null");
}

Test(read, unfinished_files_are_errors)
{
	MF_ERR("[{'a':1}");
	MF_ERR("[{'a':1},");
	MF_ERR("[{'a':1},]");
	MF_ERR("{'a':1}\n{'b':");
	MF_ERR("[");
}

Test(read, a_bad_entry_is_reported_with_its_line)
{
	assert_has(MF_ERR("{'a':1}\n{'type':'entity','name':'A','_crdt_metadata':'x'}\n"),
		   "line 2, column ");
	assert_has(MF_ERR("[\n{'a':1},\n{'id':'m1','_crdt_metadata':{'timestamp':'soon'}}"
			  "\n]"),
		   "line 3, column ");
}

Test(read, message_is_one_line)
{
	const char *m = MF_ERR("{'a':1}\n{'a' 1}\n");
	const char *nl = strchr(m, '\n');

	cr_assert(nl == NULL || nl[1] == '\0', "more than one line: %s", m);
}

Test(read, numbers_above_2_53_survive_a_file)
{
	struct memfile *mf =
		MF("{'id':'m1','n':9007199254740993,'m':-12345678901234567890}");

	assert_has(ser(&mf->set, MEMFILE_JSONL), "9007199254740993");
	assert_has(ser(&mf->set, MEMFILE_JSONL), "-12345678901234567890");
}

Test(read, load_of_a_missing_file_says_it_cannot_read)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;

	cr_assert_eq(memfile_load(&mf, "/nonexistent/crdtmem/memory-x.json", &err), -1);
	assert_has(err.buf, "cannot read");
	memfile_release(&mf);
	buf_release(&err);
}

Test(read, format_names)
{
	cr_assert_eq(memfile_format_parse("json"), MEMFILE_ARRAY);
	cr_assert_eq(memfile_format_parse("array"), MEMFILE_ARRAY);
	cr_assert_eq(memfile_format_parse("jsonl"), MEMFILE_JSONL);
	cr_assert_eq(memfile_format_parse("xml"), -1);
	cr_assert_eq(memfile_format_parse(""), -1);
}

/* ---- canonical output ---- */

Test(output, array_layout)
{
	struct memfile *mf = MF(LR "\n" LB "\n" LA "\n");

	cr_assert_str_eq(ser(&mf->set, MEMFILE_ARRAY),
			 "[\n" LA ",\n" LB ",\n" LR "\n]\n");
}

Test(output, jsonl_layout)
{
	struct memfile *mf = MF("[" LR "," LB "," LA "]");

	cr_assert_str_eq(ser(&mf->set, MEMFILE_JSONL), LA "\n" LB "\n" LR "\n");
}

Test(output, unknown_format_writes_jsonl)
{
	struct memfile *mf = MF(LB "\n" LA);

	cr_assert_str_eq(ser(&mf->set, MEMFILE_EMPTY), LA "\n" LB "\n");
}

Test(output, one_entry_array)
{
	struct memfile *mf = MF(LA);

	cr_assert_str_eq(ser(&mf->set, MEMFILE_ARRAY), "[\n" LA "\n]\n");
}

Test(output, empty_set_is_brackets_as_an_array_and_nothing_as_jsonl)
{
	struct entry_set empty = ENTRY_SET_INIT;

	cr_assert_str_eq(ser(&empty, MEMFILE_ARRAY), "[]\n");
	cr_assert_str_eq(ser(&empty, MEMFILE_JSONL), "");
	cr_assert_str_eq(ser(&MF("[]")->set, MEMFILE_ARRAY), "[]\n");
}

Test(output, entries_are_in_key_byte_order)
{
	struct memfile *mf =
		MF(ENT0("b", "p", "") "\n" ENT0("C", "p", "") "\n" ENT0("a", "p", ""));
	const char *s = ser(&mf->set, MEMFILE_JSONL);
	const char *c = strstr(s, "\"C\""), *a = strstr(s, "\"a\""),
		   *b = strstr(s, "\"b\"");

	cr_assert(c && a && b, "%s", s);
	cr_assert(c < a && a < b, "not in byte order: %s", s);
}

Test(output, same_state_gives_the_same_bytes_whatever_the_input_formatting)
{
	static const char *const inputs[] = {
		/* compact JSONL in canonical order */
		"{'type':'entity','name':'Zo\xc3\xab','entityType':'p','observations':['"
		"a','b']," META(
			"h1", "2026-01-01T00:00:00Z",
			1) "}\n"
			   "{'type':'relation','from':'a','to':'b','relationType':'k'}\n"
			   "{'id':7,'content':'c'}",
		/* reversed entries, shuffled members and observations, CRLF, blank lines
		 */
		"\r\n{'id':7,'content':'c'}\r\n\r\n"
		"{ 'relationType':'k', 'to':'b', 'from':'a', 'type':'relation' }\r\n"
		"{'_crdt_metadata':{'version':1,'unique_id':'u-h1-1','timestamp':'2026-"
		"01-01T00:00:00Z','host':'h1'},"
		"'observations':['b','a','b'],'entityType':'p','name':'Zo\\u00eb','type':"
		"'entity'}",
		/* a pretty array */
		"[\n  {\n    'content': 'c',\n    'id': 7\n  },\n"
		"  {'type':'entity', 'name':'Zo\xc3\xab', 'entityType':'p', "
		"'observations':['a','b'],\n"
		"   " META("h1", "2026-01-01T00:00:00Z",
			   1) "},\n"
			      "  "
			      "{'from':'a','type':'relation','to':'b','relationType':'k'}"
			      "\n]\n",
	};
	const char *jsonl = ser(&MF(inputs[0])->set, MEMFILE_JSONL);
	const char *array = ser(&MF(inputs[0])->set, MEMFILE_ARRAY);

	for (size_t i = 1; i < sizeof(inputs) / sizeof(*inputs); i++) {
		struct memfile *mf = MF(inputs[i]);
		cr_assert_str_eq(ser(&mf->set, MEMFILE_JSONL), jsonl, "input %zu", i);
		cr_assert_str_eq(ser(&mf->set, MEMFILE_ARRAY), array, "input %zu", i);
	}
}

Test(output, reading_the_output_gives_the_same_output)
{
	struct memfile *mf = MF("[" ENT(
		"A", "p", "'y','x'",
		METAX("h", "2026-01-01T00:00:00Z", 1,
		      ",'removed_observations':['z']")) "," REL("A", "k", "B",
								METAX("h",
								      "2026-01-01T00:"
								      "00:00Z",
								      2,
								      ",'deleted':"
								      "true")) ",{'"
									       "note':'"
									       "\\u0001"
									       "\\t\\\""
									       "'}]");
	const char *a = ser(&mf->set, MEMFILE_ARRAY);
	const char *j = ser(&mf->set, MEMFILE_JSONL);

	cr_assert_str_eq(ser(&MF_raw(a, strlen(a))->set, MEMFILE_ARRAY), a);
	cr_assert_str_eq(ser(&MF_raw(j, strlen(j))->set, MEMFILE_JSONL), j);
	cr_assert_str_eq(ser(&MF_raw(a, strlen(a))->set, MEMFILE_JSONL), j);
}

/* ---- duplicate keys in one file ---- */

Test(duplicates, are_joined_and_nothing_is_dropped)
{
	struct memfile *mf =
		MF(ENT("A", "p", "'x'", META("h1", "2026-01-01T00:00:01Z", 1)) "\n" ENT(
			"A", "q", "'y'", META("h1", "2026-01-01T00:00:02Z", 2)) "\n");

	cr_assert_eq(mf->set.nr, 1);
	cr_assert_eq(mf->duplicates, 1, "duplicates: got %zu, expected 1",
		     mf->duplicates);
	cr_assert_str_eq(obs(mf->set.v[0]), "x|y");
	cr_assert_str_eq(member(mf->set.v[0], "entityType"), "\"q\"");
}

Test(duplicates, server_style_duplicates_without_metadata_keep_all_observations)
{
	struct memfile *mf = MF(ENT0("A", "p", "'x'") "\n" ENT0(
		"A", "p", "'y'") "\n" ENT0("A", "p", "'z'"));

	cr_assert_eq(mf->set.nr, 1);
	cr_assert_str_eq(obs(mf->set.v[0]), "x|y|z");
	cr_assert_eq(mf->duplicates, 1, "duplicates: got %zu, expected 1",
		     mf->duplicates);
}

Test(duplicates, are_joined_whatever_their_order)
{
	const char *x = ENT("A", "p", "'x'", META("h1", "2026-01-01T00:00:01Z", 1));
	const char *y = ENT("A", "q", "'y'", META("h2", "2026-01-01T00:00:01Z", 1));

	cr_assert_str_eq(ser(&MF(tfmt("%s\n%s", x, y))->set, MEMFILE_JSONL),
			 ser(&MF(tfmt("%s\n%s", y, x))->set, MEMFILE_JSONL));
}

Test(duplicates, counts_keys_not_copies)
{
	struct memfile *mf =
		MF("[" ENT0("A", "p", "'1'") "," ENT0("B", "p", "'1'") "," ENT0(
			"A", "p",
			"'2'") "," ENT0("C", "p",
					"") "," ENT0("A", "p",
						     "'3'") "," ENT0("B", "p",
								     "'2'") "]");

	cr_assert_eq(mf->set.nr, 3);
	cr_assert_str_eq(obs(mf->set.v[0]), "1|2|3");
	cr_assert_str_eq(obs(mf->set.v[1]), "1|2");
	cr_assert_eq(mf->duplicates, 2, "duplicates: got %zu, expected 2",
		     mf->duplicates);
}

Test(duplicates, identical_content_entries_collapse)
{
	struct memfile *mf = MF("{'note':'x'}\n{ 'note' : 'x' }\n");

	cr_assert_eq(mf->set.nr, 1);
	cr_assert_eq(mf->duplicates, 1, "duplicates: got %zu, expected 1",
		     mf->duplicates);
}

Test(duplicates, different_content_entries_are_all_kept)
{
	struct memfile *mf = MF("{'note':'x'}\n{'note':'y'}\n{'note':'x','n':1}\n");

	cr_assert_eq(mf->set.nr, 3);
	cr_assert_eq(mf->duplicates, 0, "duplicates: got %zu, expected 0",
		     mf->duplicates);
}

Test(duplicates, duplicate_ids_keep_the_newest)
{
	struct memfile *mf = MF("{'id':'m1','content':'new'," META(
		"h", "2026-01-01T00:00:02Z",
		2) "}\n"
		   "{'id':'m1','content':'old'," META("h", "2026-01-01T00:00:01Z",
						      1) "}\n");

	cr_assert_eq(mf->set.nr, 1);
	cr_assert_eq(mf->duplicates, 1, "duplicates: got %zu, expected 1",
		     mf->duplicates);
	cr_assert_str_eq(member(mf->set.v[0], "content"), "\"new\"");
}

/*
 * A file read against a base that had duplicates: the copies shared with
 * the base are not read again, and the join is the same as reading the file
 * alone, whether the file kept all of the base's copies (the join then
 * starts from the base's) or dropped one (it must not come back).
 */
static void assert_same_read_with_base(const char *base_text, const char *text)
{
	struct memfile base = MEMFILE_INIT, with = MEMFILE_INIT, alone = MEMFILE_INIT;
	struct buf err = BUF_INIT;
	const char *b = q(base_text), *t = q(text);

	cr_assert_eq(memfile_parse(&base, b, strlen(b), &err), 0, "%s", err.buf);
	cr_assert_gt(base.copies.nr, base.set.nr, "the base keeps its copies");
	cr_assert_eq(memfile_parse_with_base(&with, t, strlen(t), &base, &err), 0, "%s",
		     err.buf);
	cr_assert_eq(memfile_parse(&alone, t, strlen(t), &err), 0, "%s", err.buf);
	cr_assert_eq(with.copies.nr, 0, "only a file read alone keeps copies");
	assert_same_text(ser(&with.set, MEMFILE_JSONL), ser(&alone.set, MEMFILE_JSONL),
			 "read against the base");
	cr_assert_eq(with.duplicates, alone.duplicates);
	memfile_release(&with);
	memfile_release(&alone);
	memfile_release(&base);
	buf_release(&err);
}

#define C1 ENT("A", "p", "'one'", META("h1", "2026-01-01T00:00:01Z", 1))
#define C2 ENT("A", "p", "'two'", META("h2", "2026-01-01T00:00:02Z", 1))
#define C3 ENT("A", "p", "'three'", META("h1", "2026-01-01T00:00:03Z", 2))
#define C4                                                                               \
	ENT("A", "q", "'four'",                                                          \
	    METAX("h3", "2026-01-01T00:00:04Z", 1, ",'removed_observations':['two']"))

Test(duplicates, a_file_with_all_the_bases_copies_and_more_joins_from_the_bases_join)
{
	assert_same_read_with_base(C1 "\n" C2 "\n" C3 "\n" LB "\n",
				   C1 "\n" C2 "\n" C3 "\n" C4 "\n" LB "\n");
	/* In another order, and with one copy twice. */
	assert_same_read_with_base(C1 "\n" C2 "\n" C3 "\n",
				   C3 "\n" C4 "\n" C1 "\n" C2 "\n" C1 "\n");
}

Test(duplicates, a_file_that_dropped_one_of_the_bases_copies_loses_what_only_it_had)
{
	assert_same_read_with_base(C1 "\n" C2 "\n" C3 "\n", C1 "\n" C3 "\n" C4 "\n");
	assert_same_read_with_base(C1 "\n" C2 "\n" C3 "\n", C2 "\n" C3 "\n");
	struct memfile *mf = MF(C1 "\n" C3 "\n");
	cr_assert_str_eq(obs(mf->set.v[0]), "one|three");
}

Test(duplicates, the_sets_kept_from_reading_are_where_a_scan_finds_them)
{
	struct memfile *mf = MF(C4 "\n" LA "\n" ENT(
		"Z", "p", "'a','b'", META("h", "2026-01-01T00:00:05Z", 3)));
	for (size_t i = 0; i < mf->set.nr; i++)
		assert_kept_sets(mf->set.v[i]);
	cr_assert_gt(mf->set.v[0]->rem_len, 0, "A's copy has removed_observations");
}

/* ---- unicode and long strings ---- */

Test(text, unicode_is_written_as_raw_utf8)
{
	struct memfile *mf =
		MF("{'type':'entity','name':'\\u65e5\\u672c','entityType':'p',"
		   "'observations':['\\ud83d\\ude00 smile','caf\\u00e9']}");
	const char *s = ser(&mf->set, MEMFILE_JSONL);

	assert_has(s, "\"\xe6\x97\xa5\xe6\x9c\xac\"");
	assert_has(s, "\xf0\x9f\x98\x80 smile");
	assert_has(s, "caf\xc3\xa9");
	cr_assert(strstr(s, "\\u") == NULL, "escaped non-ASCII in %s", s);
}

Test(text, escaped_and_raw_unicode_files_are_the_same_bytes)
{
	const char *esc =
		ser(&MF("{'type':'entity','name':'\\u00c5ngstr\\u00f6m','entityType':'p',"
			"'observations':['\\ud83d\\ude00','\\u00e9']}")
			     ->set,
		    MEMFILE_ARRAY);
	const char *raw = ser(
		&MF("{'type':'entity','name':'\xc3\x85ngstr\xc3\xb6m','entityType':'p',"
		    "'observations':['\xc3\xa9','\xf0\x9f\x98\x80']}")
			 ->set,
		MEMFILE_ARRAY);

	cr_assert_str_eq(esc, raw);
}

Test(text, unicode_observations_are_in_utf8_byte_order)
{
	struct entry *e =
		E("{'type':'entity','name':'A','entityType':'p',"
		  "'observations':['\xf0\x9f\x98\x80','\xef\xbd\x81','\xc3\xa9','z']}");

	/* U+1F600 (f0) sorts after U+FF41 (ef) in UTF-8, unlike in UTF-16 */
	cr_assert_str_eq(obs(e), "z|\xc3\xa9|\xef\xbd\x81|\xf0\x9f\x98\x80");
}

#define MB 1000000

/* A 1 MB string of printable text ending in tail. */
static char *big_string(char tail)
{
	char *s = t_defer(malloc(MB + 1), free);

	for (size_t i = 0; i < MB; i++)
		s[i] = (char)('a' + i % 26);
	s[MB - 1] = tail;
	s[MB] = '\0';
	return s;
}

static const char *string_member(const struct entry *e, const char *name)
{
	cJSON *j = t_defer(entry_to_json(e), delete_json);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(j, name);

	cr_assert(cJSON_IsString(m), "no string member %s", name);
	return m->valuestring;
}

Test(text, one_megabyte_observations_survive_parse_join_and_write)
{
	char *o1 = big_string('1'), *o2 = big_string('2');
	struct entry *a =
		E(tfmt(ENT("A", "p", "'%s'", META("h1", "2026-01-01T00:00:01Z", 1)), o1));
	struct entry *b =
		E(tfmt(ENT("A", "p", "'%s'", META("h2", "2026-01-01T00:00:02Z", 2)), o2));
	struct entry *j = keep(crdt_join(a, b));
	struct entry *v[] = {j};
	const char *file = ser(set_of(v, 1), MEMFILE_JSONL);
	struct memfile *back = MF_raw(file, strlen(file));
	cJSON *t = t_defer(entry_to_json(back->set.v[0]), delete_json);
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(t, "observations");

	cr_assert_gt(a->text_len, MB);
	cr_assert_eq(cJSON_GetArraySize(arr), 2);
	assert_same_text(cJSON_GetArrayItem(arr, 0)->valuestring, o1,
			 "first observation");
	assert_same_text(cJSON_GetArrayItem(arr, 1)->valuestring, o2,
			 "second observation");
	assert_same_text(T(back->set.v[0]), T(j), "entry read back");
}

Test(text, one_megabyte_string_full_of_escapes_round_trips)
{
	char *s = t_defer(malloc(MB + 1), free);
	struct buf json = BUF_INIT;

	for (size_t i = 0; i < MB; i++) {
		static const char pool[] = "ab\"\\\n\t\x01/\xc3\xa9";
		char c = pool[i % (sizeof(pool) - 1)];
		s[i] = c;
	}
	/* keep the UTF-8 pair whole at the end */
	if ((unsigned char)s[MB - 1] == 0xc3)
		s[MB - 1] = 'z';
	s[MB] = '\0';
	buf_addstr(&json, "{\"note\":");
	json_write_string(&json, s);
	buf_addstr(&json, "}");

	struct entry *e = E_raw(json.buf, json.len);
	assert_same_text(string_member(e, "note"), s, "note");
	assert_same_text(T(E_raw(T(e), e->text_len)), T(e), "entry read back");
	buf_release(&json);
}

Test(text, one_megabyte_name_is_a_key)
{
	char *name = big_string('n');
	struct entry *e = E(tfmt(ENT0("%s", "p", "'x'"), name));

	cr_assert_eq(e->kind, ENTRY_ENTITY);
	cr_assert_gt(e->key_len, MB);
	assert_same_text(string_member(e, "name"), name, "name");
}
