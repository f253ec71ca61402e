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
#include "json.h"
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

/*
 * An object's members, each written on its own so that the object can
 * come out in any order, with a name twice, a name spelled with an escape
 * or more members than the compactor lists.
 */
#define MAX_MEMBERS 40
struct members {
	struct buf m[MAX_MEMBERS];
	int n;
};

static struct buf *add_member(struct members *o, const char *name)
{
	struct buf *b = &o->m[o->n++];

	buf_init(b, 0);
	add_ws(b);
	buf_addf(b, "\"%s\":", name);
	add_ws(b);
	return b;
}

/* Now and then (one time in `odds`) disturb the members, then write them. */
static void close_object(struct buf *out, struct members *o, unsigned odds)
{
	if (o->n && !pick(odds)) {
		switch (pick(4)) {
		case 0: /* another order */
			for (int i = o->n - 1; i > 0; i--) {
				int k = (int)pick((unsigned)i + 1);
				struct buf t = o->m[i];
				o->m[i] = o->m[k];
				o->m[k] = t;
			}
			break;
		case 1: { /* a name twice */
			struct buf *b = &o->m[o->n];
			buf_init(b, 0);
			buf_addstr(b, o->m[pick((unsigned)o->n)].buf);
			o->n++;
			break;
		}
		case 2: /* a name spelled with an escape: kept, or not needed */
			buf_addstr(add_member(o, pick(2) ? "q\\\"t" : "x\\u0079z"), "1");
			break;
		default: /* more members than the compactor lists */
			for (int i = 0; i < 20 && o->n < MAX_MEMBERS - 1; i++) {
				char name[8];
				snprintf(name, sizeof(name), "m%c", 'a' + i);
				buf_addf(add_member(o, name), "%d", i);
			}
			break;
		}
	}
	buf_addch(out, '{');
	for (int i = 0; i < o->n; i++) {
		if (i)
			buf_addch(out, ',');
		buf_add(out, o->m[i].buf, o->m[i].len);
		buf_release(&o->m[i]);
	}
	buf_addch(out, '}');
	o->n = 0;
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

static void add_metadata(struct members *top)
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
	struct members meta = {.n = 0};
	struct buf *b = add_member(top, "_crdt_metadata");

	if (!pick(20)) {
		buf_addstr(b, "[]");
		return;
	}
	if (pick(4))
		buf_addstr(add_member(&meta, "host"), pick(6)	? "\"h1\""
						      : pick(2) ? "\"h\\u0032\""
								: "7");
	if (pick(4))
		buf_addstr(add_member(&meta, "timestamp"),
			   times[pick(sizeof(times) / sizeof(*times))]);
	if (pick(4))
		buf_addstr(add_member(&meta, "version"),
			   pick(8)   ? "3"
			   : pick(2) ? "2.5"
				     : "99999999999999999999");
	if (pick(2))
		buf_addstr(add_member(&meta, "unique_id"), "\"u1\"");
	if (!pick(3))
		buf_addstr(add_member(&meta, "deleted"), pick(2)   ? "true"
							 : pick(4) ? "false"
								   : "1");
	if (!pick(3))
		add_string_array(add_member(&meta, "removed_observations"), pick(2));
	close_object(b, &meta, 12);
}

/* A random entry, canonical or not, valid or (now and then) not. */
static void gen_entry(struct buf *b)
{
	struct members top = {.n = 0};
	unsigned kind = pick(5);

	if (kind == 0) {
		struct buf *v = add_member(&top, "id");
		if (pick(2))
			add_string(v);
		else
			buf_addstr(v, pick(2) ? "42" : "4.5");
	}
	if (kind == 1 || kind == 2 || pick(6))
		buf_addstr(add_member(&top, "type"), kind == 2 ? "\"relation\""
						     : pick(8) ? "\"entity\""
							       : "\"ent\\u0069ty\"");
	if (kind == 2) {
		add_string(add_member(&top, "from"));
		add_string(add_member(&top, "to"));
		add_string(add_member(&top, "relationType"));
	} else {
		add_string(add_member(&top, "name"));
		buf_addstr(add_member(&top, "entityType"), "\"person\"");
		if (pick(6))
			add_string_array(add_member(&top, "observations"), pick(2));
	}
	if (kind == 3)
		add_value(add_member(&top, "extra"), 0);
	if (pick(5))
		add_metadata(&top);
	close_object(b, &top, 12);
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

/*
 * What the compactor says of its copy (json_compact_at) lets the fast path
 * skip the walk: on every generated entry it must then read the copy
 * exactly as the walk would, accepting and refusing the same texts.
 */
Test(scan, the_compactors_account_reads_as_the_walk_does)
{
	int compacted = 0, accepted = 0, irregular = 0, unlisted = 0, resorted = 0;

	rng_state = 20261202;
	for (int i = 0; i < 20000; i++) {
		struct buf text = BUF_INIT, out = BUF_INIT, k1 = BUF_INIT, k2 = BUF_INIT;
		struct json_compact_at at;
		struct scan_info walked, told;
		size_t end;

		gen_entry(&text);
		if (json_compact(text.buf, text.len, &end, &out, &at)) {
			buf_release(&text);
			buf_release(&out);
			continue;
		}
		compacted++;
		irregular += at.irregular;
		unlisted += !at.listed;
		/*
		 * As read_compacted does: the account holds while sorting keeps
		 * the length (dropping a repeated observation moves what
		 * follows, and then the walk reads the copy).
		 */
		int sorted;
		size_t before = out.len;
		if (at.obs[1])
			scan_sort_strings(&out, at.obs[0], at.obs[1], &sorted);
		int a = scan_canonical(out.buf, out.len, &walked, &k1);
		int b;
		if (out.len == before) {
			b = scan_compacted(out.buf, out.len, &at, &told, &k2);
		} else {
			resorted++;
			b = scan_canonical(out.buf, out.len, &told, &k2);
		}
		cr_assert_eq(a, b, "case %d: the walk says %d, the account %d: %s", i, a,
			     b, out.buf);
		if (a) {
			accepted++;
			cr_assert_str_eq(k1.buf, k2.buf, "case %d: key", i);
			cr_assert_eq(walked.kind, told.kind, "case %d: kind", i);
			cr_assert_eq(walked.deleted, told.deleted, "case %d", i);
			cr_assert_eq(walked.instant, told.instant, "case %d: %s", i,
				     text.buf);
			cr_assert_eq(walked.version, told.version, "case %d", i);
			cr_assert_eq(walked.host_len, told.host_len, "case %d", i);
			cr_assert(!memcmp(walked.host, told.host, told.host_len),
				  "case %d", i);
			cr_assert(!memcmp(&walked.sets, &told.sets, sizeof(told.sets)),
				  "case %d: where the sets are", i);
		}
		buf_release(&text);
		buf_release(&out);
		buf_release(&k1);
		buf_release(&k2);
	}
	cr_assert_gt(compacted, 15000, "only %d texts compacted", compacted);
	cr_assert_gt(accepted, 5000, "only %d accepted", accepted);
	cr_assert_gt(irregular, 100, "only %d irregular names", irregular);
	cr_assert_gt(unlisted, 50, "only %d objects too large to list", unlisted);
	cr_assert_lt(resorted, compacted / 5, "%d of %d sets lost a repeat", resorted,
		     compacted);
}

/*
 * A removed list added at the end of an entity's metadata (what a join
 * does when it first removes an observation) is taken as canonical
 * without reading the entity again exactly when reading it again would
 * say so.
 */
Test(scan, a_removed_list_fits_at_the_end_of_the_metadata_as_a_reading_says)
{
	int tried = 0, fits = 0;

	rng_state = 20261203;
	for (int i = 0; i < 20000; i++) {
		struct buf text = BUF_INIT, err = BUF_INIT, spliced = BUF_INIT;
		struct entry *e;
		struct scan_sets at;

		gen_entry(&text);
		e = entry_parse(text.buf, text.len, &err);
		if (e && e->kind == ENTRY_ENTITY &&
		    scan_entity_sets(e->text, e->text_len, &at) && at.meta_close &&
		    !at.rem_len && !memchr(e->text + at.obs_off, '\\', at.obs_len)) {
			/* as a join splices it: plain observations (view_text) */
			const char *t = e->text;
			int empty = t[at.meta_close - 1] == '{';
			buf_add(&spliced, t, at.meta_close);
			buf_addstr(&spliced, empty ? "" : ",");
			buf_addstr(&spliced, "\"removed_observations\":[\"zz\"]");
			buf_addstr(&spliced, t + at.meta_close);
			struct entry *again =
				entry_read_canonical(spliced.buf, spliced.len);
			int says = scan_removed_fits(t, e->text_len, &at);
			cr_assert_eq(says, again != NULL, "case %d: fits says %d for %s",
				     i, says, spliced.buf);
			tried++;
			fits += says;
			entry_unref(again);
		}
		entry_unref(e);
		buf_release(&text);
		buf_release(&err);
		buf_release(&spliced);
	}
	cr_assert_gt(tried, 1000, "only %d entities with metadata", tried);
	cr_assert_gt(fits, 500, "only %d fits", fits);
	cr_assert_lt(fits, tried, "no metadata with a member after the list");
}
