/*
 * The reading paths of issue 9: the arena entries live in, the one-pass
 * array reader (one-line arrays, halves read at once), members in another
 * order and entries with an id on the fast path, and the linear join of
 * copies of one key, checked against the pairwise join on generated input.
 */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "crdt.h"
#include "helpers.h"
#include "memfile.h"
#include "merge.h"

TestSuite(arena, .fini = t_cleanup);
TestSuite(array_reader, .fini = t_cleanup);
TestSuite(join_all, .fini = t_cleanup);

/* ---- arena ---- */

Test(arena, hands_out_aligned_distinct_memory_and_big_blocks_too)
{
	struct arena *a = arena_new();
	char *p[100];

	for (int i = 0; i < 100; i++) {
		p[i] = arena_alloc(a, (size_t)i * 37 + 1);
		cr_assert_eq((uintptr_t)p[i] % 16, 0);
		memset(p[i], i, (size_t)i * 37 + 1);
	}
	char *big = arena_alloc(a, 3u << 20); /* bigger than a chunk */
	memset(big, 0xff, 3u << 20);
	for (int i = 0; i < 100; i++)
		for (size_t k = 0; k < (size_t)i * 37 + 1; k++)
			cr_assert_eq((unsigned char)p[i][k], i);
	cr_assert_str_eq(arena_memdup0(a, "abc", 2), "ab");
	arena_unref(a);
}

Test(arena, entries_outlive_the_file_they_were_read_from)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT;
	const char *text = q("[\n  {\n    'id': 'a',\n    'content': 'x'\n  },\n"
			     "  {'content': 'y', 'id': 'b'}\n]\n");
	struct entry_set keep_set = ENTRY_SET_INIT;

	cr_assert_eq(memfile_parse(&mf, text, strlen(text), &err), 0, "%s", err.buf);
	cr_assert_eq(mf.set.nr, 2);
	cr_assert_not_null(mf.set.v[0]->arena);
	for (size_t i = 0; i < mf.set.nr; i++)
		entry_set_append(&keep_set, entry_ref(mf.set.v[i]));
	memfile_release(&mf);
	/* The entries (and their compacted text) are still there. */
	memfile_serialize(&keep_set, MEMFILE_JSONL, &out);
	cr_assert_str_eq(out.buf, "{\"id\":\"a\",\"content\":\"x\"}\n"
				  "{\"id\":\"b\",\"content\":\"y\"}\n");
	entry_set_release(&keep_set);
	buf_release(&out);
	buf_release(&err);
}

/* ---- the array reader ---- */

/* n generated entities as JSONL (canonical) and as one-line and pretty arrays. */
static void make_files(int n, const char *decoy, struct buf *jsonl, struct buf *oneline,
		       struct buf *pretty)
{
	buf_addch(oneline, '[');
	buf_addstr(pretty, "[\n");
	for (int i = 0; i < n; i++) {
		const char *obs = i == n / 2 && decoy ? decoy : "plain";
		buf_addf(
			jsonl,
			"{\"type\":\"entity\",\"name\":\"e%06d\",\"entityType\":\"t\","
			"\"observations\":[\"%s %d\",\"z\"],\"_crdt_metadata\":{\"host\":"
			"\"h\",\"timestamp\":\"2026-01-01T00:00:00.%03dZ\",\"version\":%"
			"d,"
			"\"unique_id\":\"u%d\"}}\n",
			i, obs, i, i % 1000, i, i);
		buf_addf(oneline,
			 "%s{\"id\": null, \"name\": \"e%06d\", \"type\": \"entity\", "
			 "\"entityType\": \"t\", \"observations\": [\"z\", \"%s %d\"], "
			 "\"_crdt_metadata\": {\"version\": %d, \"host\": \"h\", "
			 "\"timestamp\": \"2026-01-01T00:00:00.%03dZ\", \"unique_id\": "
			 "\"u%d\"}}",
			 i ? ", " : "", i, obs, i, i, i % 1000, i);
		buf_addf(pretty,
			 "%s  {\n    \"type\": \"entity\",\n    \"name\": \"e%06d\",\n"
			 "    \"entityType\": \"t\",\n    \"observations\": [\n      "
			 "\"z\",\n"
			 "      \"%s %d\"\n    ],\n    \"_crdt_metadata\": {\n"
			 "      \"host\": \"h\",\n      \"timestamp\": "
			 "\"2026-01-01T00:00:00.%03dZ\",\n      \"version\": %d,\n"
			 "      \"unique_id\": \"u%d\"\n    }\n  }",
			 i ? ",\n" : "", i, obs, i, i % 1000, i, i);
	}
	buf_addch(oneline, ']');
	buf_addstr(pretty, "\n]\n");
}

/* The "id": null above is not an id (rule 1 needs a string or an integer). */
static void strip_null_ids(struct buf *b)
{
	struct buf out = BUF_INIT;
	const char *p = b->buf, *hit;

	while ((hit = strstr(p, "\"id\":null,"))) {
		buf_add(&out, p, (size_t)(hit - p));
		p = hit + strlen("\"id\":null,");
	}
	buf_addstr(&out, p);
	buf_release(b);
	*b = out;
}

static void same_as_jsonl(const char *what, const struct buf *file,
			  const struct buf *jsonl)
{
	struct memfile a = MEMFILE_INIT, b = MEMFILE_INIT;
	struct buf err = BUF_INIT, sa = BUF_INIT, sb = BUF_INIT;

	cr_assert_eq(memfile_parse(&a, file->buf, file->len, &err), 0, "%s: %s", what,
		     err.buf);
	cr_assert_eq(memfile_parse(&b, jsonl->buf, jsonl->len, &err), 0, "%s", err.buf);
	memfile_serialize(&a.set, MEMFILE_JSONL, &sa);
	memfile_serialize(&b.set, MEMFILE_JSONL, &sb);
	strip_null_ids(&sa);
	cr_assert_eq(sa.len, sb.len, "%s: %zu bytes against %zu", what, sa.len, sb.len);
	cr_assert(!memcmp(sa.buf, sb.buf, sa.len), "%s: differs", what);
	memfile_release(&a);
	memfile_release(&b);
	buf_release(&err);
	buf_release(&sa);
	buf_release(&sb);
}

Test(array_reader, one_line_and_pretty_arrays_read_as_their_entries)
{
	struct buf jsonl = BUF_INIT, one = BUF_INIT, pretty = BUF_INIT;

	make_files(50, NULL, &jsonl, &one, &pretty);
	same_as_jsonl("one-line", &one, &jsonl);
	same_as_jsonl("pretty", &pretty, &jsonl);
	buf_release(&jsonl);
	buf_release(&one);
	buf_release(&pretty);
}

Test(array_reader, large_arrays_read_in_two_halves_give_the_same_set)
{
	/* Above the 4 MiB split; the decoy puts "}, {" inside a string in
	 * the middle, where the second half's reader guesses a start. */
	static const char *decoys[] = {NULL, "x}, {\\\"type\\\": 1}, {y",
				       "}, {\\\"a\\\":{\\\"b\\\":1}},\\n {"};
	for (int d = 0; d < 3; d++) {
		struct buf jsonl = BUF_INIT, one = BUF_INIT, pretty = BUF_INIT;
		make_files(24000, decoys[d], &jsonl, &one, &pretty);
		cr_assert_gt(one.len, 4u << 20);
		same_as_jsonl("one-line", &one, &jsonl);
		same_as_jsonl("pretty", &pretty, &jsonl);
		buf_release(&jsonl);
		buf_release(&one);
		buf_release(&pretty);
	}
}

Test(array_reader, errors_in_the_second_half_are_reported_where_they_are)
{
	struct buf jsonl = BUF_INIT, one = BUF_INIT, pretty = BUF_INIT;
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;

	make_files(24000, NULL, &jsonl, &one, &pretty);
	char *bad = strstr(one.buf + one.len * 3 / 4, "\"entityType\": \"t\"");
	cr_assert_not_null(bad);
	bad[strlen("\"entityType\": ")] = 'X'; /* not a value */
	cr_assert_eq(memfile_parse(&mf, one.buf, one.len, &err), -1);
	cr_assert(strstr(err.buf, tfmt("line 1, column %zu:",
				       (size_t)(bad - one.buf) +
					       strlen("\"entityType\": ") + 1)) != NULL,
		  "%s", err.buf);
	memfile_release(&mf);
	buf_release(&err);
	buf_release(&jsonl);
	buf_release(&one);
	buf_release(&pretty);
}

/*
 * A side read from its file against a base hands its pages back as it goes
 * (every 4 MiB, both halves): what it reads, and where it reports an error
 * after pages were handed back, are what reading the file alone gives.
 */
Test(array_reader, a_large_side_read_against_a_base_reads_as_alone)
{
	struct buf jsonl = BUF_INIT, one = BUF_INIT, pretty = BUF_INIT, err = BUF_INIT,
		   err2 = BUF_INIT;
	struct memfile base = MEMFILE_INIT, with = MEMFILE_INIT, alone = MEMFILE_INIT;

	make_files(60000, NULL, &jsonl, &one, &pretty);
	/* halves of more than two steps each */
	cr_assert_gt(pretty.len, 4 * (4u << 20) + 4096, "%zu bytes", pretty.len);
	char *base_path = t_write_temp(pretty.buf, pretty.len);
	/* Every 97th entry changed, in place (the same length). */
	size_t changed = 0;
	for (char *p = pretty.buf; (p = strstr(p, "\"entityType\": \"t\"")); p++)
		if (changed++ % 97 == 0)
			p[strlen("\"entityType\": \"")] = 'u';
	char *ours_path = t_write_temp(pretty.buf, pretty.len);

	cr_assert_eq(memfile_load(&base, base_path, &err), 0, "%s", err.buf);
	cr_assert_eq(memfile_load_with_base(&with, ours_path, &base, &err), 0, "%s",
		     err.buf);
	cr_assert_eq(memfile_load(&alone, ours_path, &err), 0, "%s", err.buf);
	assert_same_text(ser(&with.set, MEMFILE_JSONL), ser(&alone.set, MEMFILE_JSONL),
			 "read against the base");
	cr_assert(strstr(ser(&with.set, MEMFILE_JSONL), "\"entityType\":\"u\""));
	memfile_release(&with);
	memfile_release(&alone);

	/* An error near the end, after pages were handed back. */
	char *bad = strstr(pretty.buf + pretty.len * 7 / 8, "\"entityType\": \"t\"");
	cr_assert_not_null(bad);
	bad[strlen("\"entityType\": ")] = 'X';
	char *bad_path = t_write_temp(pretty.buf, pretty.len);
	cr_assert_eq(memfile_load_with_base(&with, bad_path, &base, &err2), -1);
	cr_assert_eq(memfile_load(&alone, bad_path, &err), -1);
	cr_assert_str_eq(err2.buf, err.buf);
	cr_assert(strstr(err.buf, "line ") != NULL, "%s", err.buf);

	memfile_release(&with);
	memfile_release(&alone);
	memfile_release(&base);
	unlink(base_path);
	unlink(ours_path);
	unlink(bad_path);
	buf_release(&jsonl);
	buf_release(&one);
	buf_release(&pretty);
	buf_release(&err);
	buf_release(&err2);
}

Test(array_reader, id_entries_with_members_in_another_order_take_the_fast_path)
{
	const char *text =
		q("[\n  {\n    'id': 'k1',\n    'type': 'entity',\n    'name': 'A',"
		  "\n    'observations': ['b', 'a'],\n    '_crdt_metadata': {"
		  "'version': 2, 'host': 'h'}\n  }\n]");
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;
	static const char want[] = "{\"type\":\"entity\",\"id\":\"k1\",\"name\":\"A\","
				   "\"observations\":[\"b\",\"a\"],\"_crdt_metadata\":{"
				   "\"host\":\"h\",\"version\":2}}";

	cr_assert_eq(memfile_parse(&mf, text, strlen(text), &err), 0, "%s", err.buf);
	cr_assert_eq(mf.set.nr, 1);
	cr_assert_eq(mf.set.v[0]->kind, ENTRY_ID);
	/* an id entry's observations are content: kept in their order */
	cr_assert_eq(mf.set.v[0]->text_len, strlen(want));
	cr_assert(!memcmp(mf.set.v[0]->text, want, strlen(want)));
	/* the same as the general path says */
	struct entry *slow = keep(entry_parse(text + 2, strlen(text) - 3, &err));
	cr_assert_not_null(slow, "%s", err.buf);
	cr_assert(entry_equal(slow, mf.set.v[0]));
	cr_assert_not_null(mf.set.v[0]->arena); /* not a tree's product */
	memfile_release(&mf);
	buf_release(&err);
}

/* ---- joining copies of a key ---- */

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

/* A random version of entity "X": a few observations from a small pool,
 * sometimes removals, a tombstone, equal stamps, no metadata. */
static struct entry *random_version(void)
{
	struct buf t = BUF_INIT, err = BUF_INIT;
	int nobs = (int)rnd(4), nrem = rnd(4) == 0 ? 1 + (int)rnd(2) : 0;

	buf_addstr(&t, "{\"type\":\"entity\",\"name\":\"X\",\"entityType\":\"");
	buf_addstr(&t, rnd(2) ? "a" : "b");
	buf_addstr(&t, "\",\"observations\":[");
	for (int i = 0; i < nobs; i++)
		buf_addf(&t, "%s\"o%u%s\"", i ? "," : "", rnd(8), rnd(5) ? "" : "\\n");
	buf_addstr(&t, "]");
	if (rnd(6)) {
		buf_addf(&t,
			 ",\"_crdt_metadata\":{\"host\":\"h%u\",\"timestamp\":"
			 "\"2026-01-0%uT00:00:00Z\",\"version\":%u",
			 rnd(2), 1 + rnd(2), rnd(2));
		if (rnd(5) == 0)
			buf_addstr(&t, ",\"deleted\":true");
		if (nrem) {
			buf_addstr(&t, ",\"removed_observations\":[");
			for (int i = 0; i < nrem; i++)
				buf_addf(&t, "%s\"o%u\"", i ? "," : "", rnd(8));
			buf_addstr(&t, "]");
		}
		buf_addstr(&t, "}");
	}
	buf_addstr(&t, "}");
	struct entry *e = entry_parse(t.buf, t.len, &err);
	cr_assert_not_null(e, "%s: %s", t.buf, err.buf);
	buf_release(&t);
	buf_release(&err);
	return e;
}

Test(join_all, equals_the_pairwise_join_of_the_copies_in_any_number)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	const char *env = getenv("TEST_SEED");

	if (env)
		seed = strtoull(env, NULL, 0);
	rng_state = seed;
	for (int round = 0; round < 3000; round++) {
		size_t n = 1 + rnd(round < 2000 ? 6 : 40);
		struct entry *v[40];
		for (size_t i = 0; i < n; i++)
			v[i] = random_version();
		struct entry *fold = entry_ref(v[0]);
		for (size_t i = 1; i < n; i++) {
			struct entry *j = crdt_join(fold, v[i]);
			entry_unref(fold);
			fold = j;
		}
		struct entry *all = crdt_join_all(v, n);
		cr_assert(entry_equal(fold, all),
			  "seed %#llx, round %d, %zu copies:\n pairwise %.*s\n at once  "
			  "%.*s",
			  (unsigned long long)seed, round, n, (int)fold->text_len,
			  fold->text, (int)all->text_len, all->text);
		entry_unref(fold);
		entry_unref(all);
		for (size_t i = 0; i < n; i++)
			entry_unref(v[i]);
	}
}

Test(join_all, a_file_with_thousands_of_copies_keeps_every_observation)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct memfile mf = MEMFILE_INIT;

	for (int i = 0; i < 20000; i++)
		buf_addf(
			&text,
			"{\"type\":\"entity\",\"name\":\"solo\",\"entityType\":\"p\","
			"\"observations\":[\"obs "
			"%05d\"],\"_crdt_metadata\":{\"host\":\"h\","
			"\"timestamp\":\"2026-01-01T00:00:%02d.%03dZ\",\"version\":1}}\n",
			i, i / 1000 % 60, i % 1000);
	cr_assert_eq(memfile_parse(&mf, text.buf, text.len, &err), 0, "%s", err.buf);
	cr_assert_eq(mf.set.nr, 1);
	cr_assert_eq(mf.duplicates, 1);
	const struct entry *e = mf.set.v[0];
	size_t count = 0;
	for (const char *p = e->text;
	     (p = memmem(p, e->text_len - (size_t)(p - e->text), "\"obs ", 5)); p++)
		count++;
	cr_assert_eq(count, 20000);
	/* the newest copy's metadata */
	cr_assert(memmem(e->text, e->text_len, "00:00:19.999Z", 13) != NULL);
	memfile_release(&mf);
	buf_release(&text);
	buf_release(&err);
}

/* A side of copies of "solo" and other names: copy i of the base, or a
 * rewrite of it (every `every`-th from `from`), and `more` new copies. */
static void copies_file(struct buf *b, int n, int from, int every, int more,
			const char *host)
{
	for (int i = 0; i < n + more; i++) {
		int rewritten = i >= n || (every && i % every == from);
		buf_addf(b,
			 "{\"type\":\"entity\",\"name\":\"%s\",\"entityType\":\"p\","
			 "\"observations\":[\"obs "
			 "%05d%s\"],\"_crdt_metadata\":{\"host\":\"%s\","
			 "\"timestamp\":\"2026-01-0%dT00:00:%02d.%03dZ\",\"version\":1}}"
			 "\n",
			 i % 50 ? "solo" : tfmt("name-%05d", i), i, rewritten ? host : "",
			 rewritten ? host : "h0", 1 + rewritten, i / 1000 % 60, i % 1000);
	}
}

/*
 * Large sides leave their joins for later, and the base's are made while
 * the sides are read: the merge is the one the sides, read and joined one
 * at a time, give.
 */
Test(join_all, a_merge_of_large_files_with_copies_is_the_merge_of_their_joins)
{
	struct buf text[3] = {BUF_INIT, BUF_INIT, BUF_INIT}, err = BUF_INIT;
	struct merge_result res = MERGE_RESULT_INIT;
	struct memfile mf[3] = {MEMFILE_INIT, MEMFILE_INIT, MEMFILE_INIT};
	struct entry_set want = ENTRY_SET_INIT;
	struct merge_bytes sides[3];

	copies_file(&text[0], 12000, 0, 0, 0, "");
	copies_file(&text[1], 12000, 3, 10, 600, "ours");
	copies_file(&text[2], 12000, 7, 10, 600, "theirs");
	for (int i = 0; i < 3; i++) {
		cr_assert_gt(text[i].len, 1u << 20, "not large enough to thread");
		sides[i].data = text[i].buf;
		sides[i].len = text[i].len;
		cr_assert_eq(memfile_parse(&mf[i], text[i].buf, text[i].len, &err), 0,
			     "%s", err.buf);
		cr_assert_gt(mf[i].duplicates, 0);
	}
	crdt_merge3_sets(&mf[0].set, &mf[1].set, &mf[2].set, &want);
	cr_assert_eq(merge_buffers(&res, sides, "x"), 0);
	cr_assert_eq(res.side[MERGE_BASE].duplicates, mf[0].duplicates);
	cr_assert_eq(res.side[MERGE_OURS].duplicates, mf[1].duplicates);
	assert_same_text(ser(&res.set, MEMFILE_JSONL), ser(&want, MEMFILE_JSONL),
			 "the merge of large files");
	entry_set_release(&want);
	merge_result_release(&res);
	for (int i = 0; i < 3; i++) {
		memfile_release(&mf[i]);
		buf_release(&text[i]);
	}
	buf_release(&err);
}
