/*
 * The strict JSON reader and the canonical writer (json.h): RFC 8259 and
 * nothing more, UTF-8 checked, numbers kept as written, one canonical form.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include "helpers.h"
#include "json.h"

TestSuite(json, .fini = t_cleanup);

static void delete_json(void *p)
{
	cJSON_Delete(p);
}

/* Parse text that must be accepted. */
static cJSON *ok_len(const char *text, size_t len)
{
	struct json_error err = {0, NULL};
	cJSON *j = json_parse(text, len, &err);

	cr_assert(j != NULL, "rejected at offset %zu (%s): %.*s", err.offset,
		  err.msg ? err.msg : "no message", (int)(len > 200 ? 200 : len), text);
	return t_defer(j, delete_json);
}

static cJSON *ok(const char *text)
{
	return ok_len(text, strlen(text));
}

/* Parse text that must be rejected; returns the error. */
static struct json_error bad_len(const char *text, size_t len)
{
	struct json_error err = {0, NULL};
	cJSON *j = json_parse(text, len, &err);

	if (j) {
		struct buf b = BUF_INIT;
		json_write(&b, j);
		cr_assert_fail("accepted but should be rejected: %.*s\n  parsed as: %s",
			       (int)(len > 200 ? 200 : len), text, b.buf);
	}
	cr_assert(err.msg != NULL && *err.msg, "no message for: %.*s",
		  (int)(len > 200 ? 200 : len), text);
	return err;
}

static struct json_error bad(const char *text)
{
	return bad_len(text, strlen(text));
}

static const char *canon(const cJSON *j)
{
	struct buf b = BUF_INIT;

	json_write(&b, j);
	return t_defer(buf_detach(&b, NULL), free);
}

static const char *canon_of(const char *text)
{
	return canon(ok(text));
}

Test(json, accepts_one_value_with_white_space_around_it)
{
	cJSON *j = ok(" \t\r\n{\"a\" : 1}\r\n ");

	cr_assert(cJSON_IsObject(j));
	cr_assert_str_eq(canon(j), "{\"a\":1}");
}

Test(json, trailing_garbage_after_the_value_is_an_error)
{
	struct json_error e = bad("{\"a\":1} x");

	cr_assert_eq(e.offset, 8, "offset %zu, expected 8 (the 'x')", e.offset);
}

Test(json, a_second_value_after_the_first_is_an_error)
{
	struct json_error e = bad("{\"a\":1}{\"b\":2}");

	cr_assert_eq(e.offset, 7, "offset %zu, expected 7", e.offset);
	bad("[1] [2]");
	bad("1 2");
}

Test(json, empty_input_is_an_error)
{
	bad("");
	bad("   \n ");
}

Test(json, duplicate_member_names_are_an_error)
{
	bad("{\"a\":1,\"a\":2}");
	bad("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}");
	bad("[{\"x\":null,\"y\":0,\"x\":null}]");
}

Test(json, duplicate_member_names_spelled_with_escapes_are_an_error)
{
	bad("{\"a\":1,\"\\u0061\":2}");
}

Test(json, the_same_name_in_different_objects_is_fine)
{
	cJSON *j = ok("{\"a\":{\"a\":1},\"b\":{\"a\":2},\"A\":3}");

	cr_assert_str_eq(canon(j), "{\"A\":3,\"a\":{\"a\":1},\"b\":{\"a\":2}}");
}

Test(json, numbers_are_raw_items_holding_the_text_as_written)
{
	cJSON *j = ok("{\"n\":9007199254740993}");
	cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "n");

	cr_assert(n != NULL);
	cr_assert(cJSON_IsRaw(n), "numbers must be cJSON_Raw items (type %d)", n->type);
	cr_assert_str_eq(n->valuestring, "9007199254740993");
}

Test(json, numbers_above_2_53_are_written_back_exactly)
{
	cr_assert_str_eq(canon_of("{\"n\":9007199254740993}"),
			 "{\"n\":9007199254740993}");
	cr_assert_str_eq(canon_of("[12345678901234567890123456789,-9223372036854775809]"),
			 "[12345678901234567890123456789,-9223372036854775809]");
}

Test(json, numbers_keep_their_spelling)
{
	cr_assert_str_eq(canon_of("[ -0, 1.50, 1e400, 2E-3, 0.0, 1.5e+10 ]"),
			 "[-0,1.50,1e400,2E-3,0.0,1.5e+10]");
}

Test(json, malformed_numbers_are_errors)
{
	static const char *const cases[] = {
		"[01]",	  "[1.]",   "[.5]",  "[+1]",	   "[1e]",
		"[-]",	  "[0x10]", "[NaN]", "[Infinity]", "[-Infinity]",
		"[1.e5]", "[1e+]",  "[--1]",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		bad(cases[i]);
}

Test(json, things_that_are_not_json_are_errors)
{
	static const char *const cases[] = {
		"[tru]",      "[nul]", "[True]",  "['a']",	"[1,]",
		"{\"a\":1,}", "{a:1}", "/*c*/1",  "[1 2]",	"{\"a\" 1}",
		"{\"a\":}",   "[",     "{",	  "\"abc",	"{\"a\":1",
		"[1,,2]",     "{,}",   "// x\n1", "{\"a\"::1}",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		bad(cases[i]);
}

Test(json, raw_control_characters_in_strings_are_errors)
{
	bad("[\"a\tb\"]");
	bad("[\"a\nb\"]");
	bad("[\"\x01\"]");
}

Test(json, invalid_escapes_are_errors)
{
	bad("[\"\\x41\"]");
	bad("[\"\\u12\"]");
	bad("[\"\\uZZZZ\"]");
	bad("[\"\\'\"]");
	bad("[\"\\\"]");
}

Test(json, invalid_utf8_is_an_error)
{
	static const char *const cases[] = {
		"\"\xff\"",		/* never valid */
		"\"\x80\"",		/* lone continuation byte */
		"\"\xc0\xaf\"",		/* overlong '/' */
		"\"\xe0\x80\xaf\"",	/* overlong, 3 bytes */
		"\"\xed\xa0\x80\"",	/* a UTF-16 surrogate encoded in UTF-8 */
		"\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
		"\"\xe2\x82\"",		/* truncated sequence */
		"\"a\xe2\x82\"",	/* truncated before the closing quote */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		bad(cases[i]);
}

Test(json, invalid_utf8_is_reported_at_its_byte)
{
	struct json_error e = bad("{\"a\":\"\xff\"}");

	cr_assert_eq(e.offset, 6, "offset %zu, expected 6 (the 0xff byte)", e.offset);
}

Test(json, invalid_utf8_in_a_member_name_is_an_error)
{
	bad("{\"\xff\":1}");
}

Test(json, valid_multibyte_utf8_is_kept_as_is)
{
	cJSON *j = ok("\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"");

	cr_assert_str_eq(j->valuestring, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
}

Test(json, unicode_escapes_decode_to_utf8)
{
	cJSON *j = ok("\"\\u00e9\\u65E5\\u0041\\/\"");

	cr_assert_str_eq(j->valuestring, "\xc3\xa9\xe6\x97\xa5"
					 "A/");
}

Test(json, surrogate_pair_escapes_decode_to_one_code_point)
{
	cJSON *j = ok("\"\\ud83d\\ude00\"");

	cr_assert_str_eq(j->valuestring, "\xf0\x9f\x98\x80");
	j = ok("\"\\uDBFF\\uDFFF\"");
	cr_assert_str_eq(j->valuestring, "\xf4\x8f\xbf\xbf");
}

Test(json, escaped_u0000_is_an_error)
{
	bad("\"\\u0000\"");
	bad("[\"a\\u0000b\"]");
	bad("{\"\\u0000\":1}");
}

Test(json, raw_nul_byte_is_an_error)
{
	bad_len("[\"a\0b\"]", 7);
	bad_len("[1]\0", 4);
}

Test(json, lone_surrogate_escapes_never_yield_invalid_utf8)
{
	static const char *const cases[] = {
		"\"\\ud83d\"",	      "\"\\ude00\"",	    "\"\\ud83dx\"",
		"\"\\ud83d\\u0041\"", "\"\\ude00\\ud83d\"",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct json_error err = {0, NULL};
		cJSON *j = json_parse(cases[i], strlen(cases[i]), &err);

		if (!j)
			continue;
		t_defer(j, delete_json);
		cr_assert(utf8_valid(j->valuestring, strlen(j->valuestring)),
			  "%s decoded to invalid UTF-8", cases[i]);
		const char *c = canon(j);
		cr_assert(utf8_valid(c, strlen(c)), "%s written as invalid UTF-8",
			  cases[i]);
	}
}

static char *nested(size_t depth, const char *open, const char *close)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < depth; i++)
		buf_addstr(&b, open);
	buf_addstr(&b, "1");
	for (size_t i = 0; i < depth; i++)
		buf_addstr(&b, close);
	return t_defer(buf_detach(&b, NULL), free);
}

Test(json, nesting_far_deeper_than_the_limit_is_an_error_not_a_crash)
{
	bad(nested(200000, "[", "]"));
	bad(nested(200000, "{\"a\":", "}"));
}

Test(json, nesting_just_past_the_limit_is_an_error)
{
	bad(nested(JSON_MAX_DEPTH + 8, "[", "]"));
}

Test(json, nesting_within_the_limit_is_fine)
{
	ok(nested(JSON_MAX_DEPTH - 8, "[", "]"));
	ok(nested(JSON_MAX_DEPTH - 8, "{\"a\":", "}"));
}

Test(json, parse_prefix_stops_after_the_first_value)
{
	const char *text = "{\"a\":[1,2]} ,{\"b\":2}";
	struct json_error err = {0, NULL};
	size_t end = 0;
	cJSON *j = json_parse_prefix(text, strlen(text), &end, &err);

	cr_assert(j != NULL, "rejected: %s", err.msg ? err.msg : "");
	t_defer(j, delete_json);
	cr_assert_eq(end, 11, "end %zu, expected 11", end);
	cr_assert_str_eq(canon(j), "{\"a\":[1,2]}");
}

Test(json, parse_prefix_reports_errors_inside_the_value)
{
	const char *text = "{\"a\":[1,]} x";
	struct json_error err = {0, NULL};
	size_t end = 0;
	cJSON *j = json_parse_prefix(text, strlen(text), &end, &err);

	cr_assert(j == NULL);
	cr_assert_eq(err.offset, 8, "offset %zu, expected 8", err.offset);
}

Test(json, strings_are_written_with_minimal_escapes)
{
	struct buf b = BUF_INIT;

	json_write_string(&b, "q\"b\\s/\b\f\n\r\t\x01\x1f\xc3\xa9\x7f");
	/* \u00XX hex case is not part of the contract */
	cr_assert(
		strcasecmp(b.buf,
			   "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\xc3\xa9\x7f\"") ==
			0,
		"got %s", b.buf);
	buf_release(&b);
}

Test(json, non_ascii_is_written_as_raw_utf8)
{
	cr_assert_str_eq(canon_of("[\"\\u00e9\\ud83d\\ude00\"]"),
			 "[\"\xc3\xa9\xf0\x9f\x98\x80\"]");
}

Test(json, objects_are_written_without_white_space_in_byte_order)
{
	cr_assert_str_eq(canon_of("{ \"b\" : [ 1 , 2 ] ,\n \"a\" : true, \"c\": null, "
				  "\"e\": \"s\", \"d\": false }"),
			 "{\"a\":true,\"b\":[1,2],\"c\":null,\"d\":false,\"e\":\"s\"}");
}

Test(json, arrays_keep_their_order)
{
	cr_assert_str_eq(canon_of("[3,1,2,\"b\",\"a\"]"), "[3,1,2,\"b\",\"a\"]");
}

Test(json, entity_members_are_written_in_the_memory_servers_order)
{
	cr_assert_str_eq(canon_of("{\"observations\":[],\"entityType\":\"p\",\"name\":"
				  "\"A\",\"type\":\"entity\"}"),
			 "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"p\","
			 "\"observations\":[]}");
}

Test(json, relation_members_are_written_in_the_memory_servers_order)
{
	cr_assert_str_eq(canon_of("{\"relationType\":\"k\",\"to\":\"b\",\"from\":\"a\","
				  "\"type\":\"relation\"}"),
			 "{\"type\":\"relation\",\"from\":\"a\",\"to\":\"b\","
			 "\"relationType\":\"k\"}");
}

Test(json, crdt_metadata_is_written_last)
{
	cr_assert_str_eq(
		canon_of("{\"_crdt_metadata\":{},\"zzz\":1,\"name\":\"A\",\"a\":2}"),
		"{\"name\":\"A\",\"a\":2,\"zzz\":1,\"_crdt_metadata\":{}}");
}

Test(json, key_order_agrees_with_the_canonical_rank)
{
	cr_assert_lt(json_key_cmp("type", "name"), 0);
	cr_assert_lt(json_key_cmp("name", "entityType"), 0);
	cr_assert_lt(json_key_cmp("entityType", "observations"), 0);
	cr_assert_lt(json_key_cmp("from", "to"), 0);
	cr_assert_lt(json_key_cmp("to", "relationType"), 0);
	cr_assert_lt(json_key_cmp("observations", "aaa"), 0);
	cr_assert_lt(json_key_cmp("a", "b"), 0);
	cr_assert_lt(json_key_cmp("B", "a"), 0);
	cr_assert_lt(json_key_cmp("zzz", "_crdt_metadata"), 0);
	cr_assert_gt(json_key_cmp("_crdt_metadata", "zzz"), 0);
	cr_assert_eq(json_key_cmp("b", "b"), 0);
	cr_assert_lt(json_key_rank("type"), json_key_rank("name"));
	cr_assert_lt(json_key_rank("zzz"), json_key_rank("_crdt_metadata"));
}

Test(json, new_int_is_a_raw_number)
{
	cJSON *n = t_defer(json_new_int(-9223372036854775807LL - 1), delete_json);

	cr_assert(cJSON_IsRaw(n));
	cr_assert_str_eq(n->valuestring, "-9223372036854775808");
	n = t_defer(json_new_int(42), delete_json);
	cr_assert_str_eq(canon(n), "42");
}

Test(json, canonical_output_parses_back_to_the_same_bytes)
{
	const char *c = canon_of("{\"z\":[{\"b\":1,\"a\":\"\\u00e9\\n\"}],\"y\":-1.0e3,"
				 "\"x\":\"\\\"\\\\\"}");

	cr_assert_str_eq(canon_of(c), c);
}
