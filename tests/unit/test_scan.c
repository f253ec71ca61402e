/*
 * The fast paths (scan.c, and the compactor in json.c) against the
 * general path (a cJSON tree, then entry.c):
 * on generated entries, whenever the scanner accepts a text it must agree
 * with the general path on everything: the canonical bytes, the key, the
 * kind, the stamp and the tombstone flag. And on canonical texts without
 * escapes it must accept, or the fast path would silently be dead.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entry.h"
#include "scan.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static const char *const strings[] = {
	"a",
	"b",
	"Alice",
	"likes tea",
	"caf\xc3\xa9",
	"\xe6\x97\xa5\xe6\x9c\xac",
	"say \\\"hi\\\"",
	"line\\nbreak",
	"tab\\there",
	"slash\\/ed",
	"\\u0041BC",
	"\\u00e9t\\u00e9",
	"ctl\\u001f",
	"nul\\u0000",
	"emoji \\ud83d\\ude00",
	"",
};

static void add_string(struct buf *b)
{
	buf_addch(b, '"');
	buf_addstr(b, strings[pick(sizeof(strings) / sizeof(*strings))]);
	buf_addch(b, '"');
}

static void add_ws(struct buf *b)
{
	if (!pick(4))
		buf_addstr(b, pick(2) ? " " : "\n  ");
}

static void add_value(struct buf *b, int depth)
{
	switch (pick(depth > 2 ? 4 : 6)) {
	case 0: add_string(b); break;
	case 1: buf_addstr(b, pick(2) ? "12345678901234567890" : "-1.5e3"); break;
	case 2: buf_addstr(b, pick(2) ? "true" : "null"); break;
	case 3: buf_addstr(b, "0"); break;
	case 4:
		buf_addch(b, '[');
		for (unsigned i = 0, n = pick(3); i < n; i++) {
			if (i)
				buf_addch(b, ',');
			add_value(b, depth + 1);
		}
		buf_addch(b, ']');
		break;
	default:
		buf_addstr(b, "{\"k\":");
		add_value(b, depth + 1);
		buf_addstr(b, pick(2) ? ",\"a\":1}" : "}");
	}
}

static void add_member(struct buf *b, int *first, const char *name)
{
	if (!*first)
		buf_addch(b, ',');
	*first = 0;
	add_ws(b);
	buf_addf(b, "\"%s\":", name);
	add_ws(b);
}

static void add_string_array(struct buf *b, int sorted)
{
	static const char *const obs[] = {"a", "b", "c", "d\\\"q", "e"};
	unsigned n = pick(4);

	buf_addch(b, '[');
	for (unsigned i = 0; i < n; i++) {
		unsigned k = sorted ? i : pick(5);
		if (i)
			buf_addch(b, ',');
		buf_addf(b, "\"%s\"", obs[k]);
	}
	buf_addch(b, ']');
}

static void add_metadata(struct buf *b, int *first)
{
	static const char *const times[] = {
		"\"2026-11-21T20:55:50.123Z\"",
		"\"2026-11-21T20:55:50Z\"",
		"\"2026-11-21T22:55:50.5+02:00\"",
		"1763758550",
		"1763758550.25",
		"\"1763758550\"",
		"\"not a time\"",
		"true",
	};
	int mfirst = 1;

	add_member(b, first, "_crdt_metadata");
	if (!pick(20)) {
		buf_addstr(b, "[]");
		return;
	}
	buf_addch(b, '{');
	if (pick(4)) {
		add_member(b, &mfirst, "host");
		buf_addstr(b, pick(6) ? "\"h1\"" : pick(2) ? "\"h\\u0032\"" : "7");
	}
	if (pick(4)) {
		add_member(b, &mfirst, "timestamp");
		buf_addstr(b, times[pick(sizeof(times) / sizeof(*times))]);
	}
	if (pick(4)) {
		add_member(b, &mfirst, "version");
		buf_addstr(b, pick(8) ? "3" : pick(2) ? "2.5" : "99999999999999999999");
	}
	if (pick(2)) {
		add_member(b, &mfirst, "unique_id");
		buf_addstr(b, "\"u1\"");
	}
	if (!pick(3)) {
		add_member(b, &mfirst, "deleted");
		buf_addstr(b, pick(2) ? "true" : pick(4) ? "false" : "1");
	}
	if (!pick(3)) {
		add_member(b, &mfirst, "removed_observations");
		add_string_array(b, pick(2));
	}
	buf_addch(b, '}');
}

/* A random entry, canonical or not, valid or (now and then) not. */
static void gen_entry(struct buf *b)
{
	int first = 1;
	unsigned kind = pick(5);

	buf_addch(b, '{');
	if (kind == 0) {
		add_member(b, &first, "id");
		if (pick(2))
			add_string(b);
		else
			buf_addstr(b, pick(2) ? "42" : "4.5");
	}
	if (kind == 1 || kind == 2 || pick(6)) {
		add_member(b, &first, "type");
		buf_addstr(b, kind == 2 ? "\"relation\""
			      : pick(8) ? "\"entity\""
					: "\"ent\\u0069ty\"");
	}
	if (kind == 2) {
		add_member(b, &first, "from");
		add_string(b);
		add_member(b, &first, "to");
		add_string(b);
		add_member(b, &first, "relationType");
		add_string(b);
	} else {
		add_member(b, &first, "name");
		add_string(b);
		add_member(b, &first, "entityType");
		buf_addstr(b, "\"person\"");
		if (pick(6)) {
			add_member(b, &first, "observations");
			add_string_array(b, pick(2));
		}
	}
	if (kind == 3) {
		add_member(b, &first, "extra");
		add_value(b, 0);
	}
	if (pick(5))
		add_metadata(b, &first);
	buf_addch(b, '}');
}

static void check_same(const struct entry *fast, const struct entry *slow,
		       const char *what, unsigned long long seed, int i)
{
	cr_assert_eq(fast->text_len, slow->text_len,
		     "seed %llu case %d: text length of %s", seed, i, what);
	cr_assert(!memcmp(fast->text, slow->text, slow->text_len),
		  "seed %llu case %d: text of %s", seed, i, what);
	cr_assert_str_eq(fast->key, slow->key, "seed %llu case %d: key of %s", seed, i,
			 what);
	cr_assert_eq(fast->kind, slow->kind, "seed %llu case %d: kind of %s", seed, i,
		     what);
	cr_assert_eq(fast->deleted, slow->deleted,
		     "seed %llu case %d: tombstone flag of %s", seed, i, what);
	cr_assert_eq(fast->stamp.instant, slow->stamp.instant,
		     "seed %llu case %d: instant of %s", seed, i, what);
	cr_assert_eq(fast->stamp.version, slow->stamp.version,
		     "seed %llu case %d: version of %s", seed, i, what);
	cr_assert_str_eq(fast->stamp.host, slow->stamp.host,
			 "seed %llu case %d: host of %s", seed, i, what);
}

Test(scan, agrees_with_the_general_path_on_generated_entries)
{
	const char *env = getenv("CRDTMEM_SEED");
	unsigned long long seed = env ? strtoull(env, NULL, 10) : 20261121;
	int accepted_raw = 0, accepted_canonical = 0, plain_canonical = 0;

	rng_state = seed ? seed : 1;
	for (int i = 0; i < 20000; i++) {
		struct buf text = BUF_INIT, err = BUF_INIT;
		struct entry *slow, *fast;

		gen_entry(&text);
		slow = entry_parse(text.buf, text.len, &err);
		fast = entry_read_canonical(text.buf, text.len);

		/* entry_read: fast path, then the compactor, then trees */
		struct buf err2 = BUF_INIT;
		size_t at = 0;
		struct entry *read = entry_read(NULL, text.buf, text.len, &err2, &at);
		if (!slow)
			cr_assert_null(read,
				       "seed %llu case %d: entry_read accepted what the "
				       "parser rejects: %s",
				       seed, i, text.buf);
		else {
			cr_assert_not_null(
				read, "seed %llu case %d: entry_read rejected: %s (%s)",
				seed, i, text.buf, err2.buf);
			check_same(read, slow, text.buf, seed, i);
		}
		entry_unref(read);
		buf_release(&err2);
		if (!slow) {
			cr_assert_null(fast,
				       "seed %llu case %d: the scanner accepted what the "
				       "parser rejects: %s",
				       seed, i, text.buf);
		} else {
			if (fast) {
				accepted_raw++;
				check_same(fast, slow, text.buf, seed, i);
			}
			/* The canonical text itself. */
			struct entry *again =
				entry_read_canonical(slow->text, slow->text_len);
			if (!memchr(slow->text, '\\', slow->text_len)) {
				plain_canonical++;
				cr_assert_not_null(again,
						   "seed %llu case %d: canonical text "
						   "not recognised: %.*s",
						   seed, i, (int)slow->text_len,
						   slow->text);
			}
			if (again) {
				accepted_canonical++;
				check_same(again, slow, "its canonical text", seed, i);
			}
			entry_unref(again);
		}
		entry_unref(fast);
		entry_unref(slow);
		buf_release(&text);
		buf_release(&err);
	}
	cr_assert_gt(plain_canonical, 1000, "too few plain canonical cases (%d)",
		     plain_canonical);
	cr_assert_gt(accepted_raw, 100, "the scanner accepted only %d generated texts",
		     accepted_raw);
	cr_assert_gt(accepted_canonical, plain_canonical - 1, "");
}

Test(scan, rejects_formatting_the_canonical_writer_would_change)
{
	/* Each with what the canonical writer would change. */
	static const char *const texts[] = {
		/* a space */
		"{\"id\":\"a\", \"content\":\"x\"}",
		/* member order */
		"{\"content\":\"x\",\"id\":\"a\"}",
		/* a needless escape */
		"{\"id\":\"\\u0061\"}",
		/* an escaped slash */
		"{\"id\":\"a\\/b\"}",
		/* unsorted observations */
		"{\"type\":\"entity\",\"name\":\"n\",\"observations\":[\"b\",\"a\"]}",
		/* a repeated observation */
		"{\"type\":\"entity\",\"name\":\"n\",\"observations\":[\"a\",\"a\"]}",
		/* no observations */
		"{\"type\":\"entity\",\"name\":\"n\"}",
		/* a duplicate member */
		"{\"id\":\"a\",\"id\":\"b\"}",
		/* a trailing space */
		"{\"id\":\"a\"} ",
		/* invalid UTF-8 */
		"{\"id\":\"\xc3\"}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct entry *e = entry_read_canonical(texts[i], strlen(texts[i]));
		cr_assert_null(e, "accepted as canonical: %s", texts[i]);
	}
}
