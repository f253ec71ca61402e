/*
 * Stamping a new state of a memory file against the known versions (see
 * restamp.h).
 */
#include "restamp.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "stamp.h"

#define DAY_NS	     (86400LL * 1000 * STAMP_NS_PER_MS)
#define MAX_VERSIONS 64 /* known sets one key is looked up in */

/* An entry's content: its canonical form without _crdt_metadata. */
struct content {
	cJSON *tree;	 /* the whole entry; owned */
	cJSON *meta;	 /* its _crdt_metadata, detached; owned; or NULL */
	struct buf text; /* canonical text without the metadata */
	int deleted;
};

static void content_of(const struct entry *e, struct content *c)
{
	c->tree = entry_to_json(e);
	c->meta = cJSON_DetachItemFromObjectCaseSensitive(c->tree, "_crdt_metadata");
	buf_init(&c->text, e->text_len);
	json_write(&c->text, c->tree);
	c->deleted = e->deleted;
}

static void content_release(struct content *c)
{
	cJSON_Delete(c->tree);
	cJSON_Delete(c->meta);
	buf_release(&c->text);
}

static int same_content(const struct content *a, const struct content *b)
{
	return a->deleted == b->deleted && a->text.len == b->text.len &&
	       !memcmp(a->text.buf, b->text.buf, a->text.len);
}

/* Add the strings of arr (an array of strings, or NULL) to set, once each. */
static void add_strings(cJSON *set, const cJSON *arr)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, arr)
	{
		const cJSON *t;
		int found = 0;
		if (!cJSON_IsString(s))
			continue;
		cJSON_ArrayForEach(t, set) found |=
			!strcmp(t->valuestring, s->valuestring);
		if (!found)
			cJSON_AddItemToArray(set, cJSON_CreateString(s->valuestring));
	}
}

static const cJSON *member(const cJSON *obj, const char *name)
{
	return obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

/* Whether s is one of the strings of arr. */
static int has_string(const cJSON *arr, const char *s)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, arr) if (cJSON_IsString(t) &&
				       !strcmp(t->valuestring, s)) return 1;
	return 0;
}

/*
 * A new version of a key: body (a tree without metadata; taken) stamped
 * after every version in v[0..n), with removed (taken; may be NULL) as its
 * removed_observations and the deleted flag as given.
 */
static struct entry *stamp_new(cJSON *body, cJSON *removed, int deleted,
			       const struct entry *const *v, size_t n,
			       const struct restamp_clock *clock)
{
	/* The newest instant and the highest version known, as one "previous" stamp. */
	struct stamp newest = {STAMP_NONE, 0, ""}, next;
	cJSON *meta = cJSON_CreateObject();
	struct buf err = BUF_INIT;
	char ts[STAMP_TEXT_SIZE];
	char uid[64];
	struct entry *e;

	for (size_t i = 0; i < n; i++) {
		if (v[i]->stamp.instant > newest.instant)
			newest.instant = v[i]->stamp.instant;
		if (v[i]->stamp.version > newest.version)
			newest.version = v[i]->stamp.version;
	}
	if (stamp_next(&next, n ? &newest : NULL, clock->now_ns, clock->host))
		die("cannot stamp a version after one stamped %s (version %lld): the "
		    "range of timestamps and versions ends there",
		    newest.instant != STAMP_NONE && stamp_format(ts, newest.instant)
			    ? ts
			    : "?",
		    (long long)newest.version);
	stamp_format(ts, next.instant);
	clock->new_uid(uid, sizeof(uid), clock->uid_ctx);
	cJSON_AddItemToObject(meta, "host", cJSON_CreateString(clock->host));
	cJSON_AddItemToObject(meta, "timestamp", cJSON_CreateString(ts));
	cJSON_AddItemToObject(meta, "version", json_new_int(next.version));
	cJSON_AddItemToObject(meta, "unique_id", cJSON_CreateString(uid));
	if (deleted)
		cJSON_AddItemToObject(meta, "deleted", cJSON_CreateTrue());
	if (removed && cJSON_GetArraySize(removed))
		cJSON_AddItemToObject(meta, "removed_observations", removed);
	else
		cJSON_Delete(removed);
	cJSON_AddItemToObject(body, "_crdt_metadata", meta);
	e = entry_from_json(body, &err);
	if (!e)
		BUG("a stamped entry is invalid: %s", err.buf);
	buf_release(&err);
	return e;
}

/* The versions of key in prev and the known sets, into v; their count. */
static size_t versions_of(const char *key, size_t key_len, const struct entry *prev_e,
			  const struct entry_set *const *known, size_t nknown,
			  const struct entry **v)
{
	size_t n = 0;

	if (prev_e)
		v[n++] = prev_e;
	for (size_t i = 0; i < nknown && n < MAX_VERSIONS; i++) {
		const struct entry *e =
			known[i] ? entry_set_find(known[i], key, key_len) : NULL;
		if (e)
			v[n++] = e;
	}
	return n;
}

/* The removed_observations of every version and of c, as one new array. */
static cJSON *known_removals(const struct content *c, const struct entry *const *v,
			     size_t n)
{
	cJSON *removed = cJSON_CreateArray();

	add_strings(removed, member(c ? c->meta : NULL, "removed_observations"));
	for (size_t i = 0; i < n; i++) {
		struct content vc;
		if (v[i]->kind != ENTRY_ENTITY)
			continue;
		content_of(v[i], &vc);
		add_strings(removed, member(vc.meta, "removed_observations"));
		content_release(&vc);
	}
	return removed;
}

static void count_future(const struct entry *const *v, size_t n,
			 const struct restamp_clock *clock, struct restamp_stats *stats)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->stamp.instant != STAMP_NONE &&
		    v[i]->stamp.instant > clock->now_ns + DAY_NS)
			stats->future++;
}

/* The new version of one key present in next. */
static struct entry *restamp_one(struct entry *ne, const struct entry *pe,
				 const struct entry *const *v, size_t n,
				 const struct restamp_clock *clock,
				 struct restamp_stats *stats, int *is_new)
{
	struct content nc;
	const struct entry *match = NULL;
	struct entry *out;

	*is_new = 0;
	for (size_t i = 0; i < n; i++)
		if (entry_equal(ne, v[i])) {
			stats->kept++;
			return entry_ref(ne);
		}
	content_of(ne, &nc);
	for (size_t i = 0; i < n; i++) {
		struct content vc;
		content_of(v[i], &vc);
		if (same_content(&nc, &vc) &&
		    (!match || entry_cmp_version(v[i], match) > 0))
			match = v[i];
		content_release(&vc);
	}
	if (match) {
		stats->kept++;
		out = entry_ref(nc.meta ? ne : (struct entry *)match);
		content_release(&nc);
		return out;
	}
	/* New or changed: a new stamp, after every version known. */
	const struct entry *all[MAX_VERSIONS + 1];
	size_t nall = 0;
	for (size_t i = 0; i < n; i++)
		all[nall++] = v[i];
	if (ne->stamp.instant != STAMP_NONE || ne->stamp.version)
		all[nall++] = ne;
	cJSON *removed = NULL;
	if (ne->kind == ENTRY_ENTITY) {
		removed = known_removals(&nc, v, n);
		if (pe && pe->kind == ENTRY_ENTITY && !pe->deleted) {
			/* Observations this writer had and no longer has. */
			struct content pc;
			const cJSON *o;
			content_of(pe, &pc);
			const cJSON *now_obs = member(nc.tree, "observations");
			cJSON_ArrayForEach(o, member(pc.tree, "observations"))
			{
				if (cJSON_IsString(o) &&
				    !has_string(now_obs, o->valuestring) &&
				    !has_string(removed, o->valuestring))
					cJSON_AddItemToArray(
						removed,
						cJSON_CreateString(o->valuestring));
			}
			content_release(&pc);
		}
	}
	if (n)
		stats->changed++;
	else
		stats->added++;
	*is_new = 1;
	cJSON *body = nc.tree;
	nc.tree = NULL;
	out = stamp_new(body, removed, nc.deleted, all, nall, clock);
	content_release(&nc);
	return out;
}

/* The tombstone of pe, a live entry of prev that next no longer has. */
static struct entry *tombstone(const struct entry *pe, const struct entry *const *v,
			       size_t n, const struct restamp_clock *clock)
{
	struct content pc;
	cJSON *removed = NULL;
	struct entry *out;

	content_of(pe, &pc);
	if (pe->kind == ENTRY_ENTITY) {
		removed = known_removals(&pc, v, n);
		add_strings(removed, member(pc.tree, "observations"));
		cJSON_ReplaceItemInObjectCaseSensitive(pc.tree, "observations",
						       cJSON_CreateArray());
	}
	cJSON *body = pc.tree;
	pc.tree = NULL;
	out = stamp_new(body, removed, 1, v, n, clock);
	content_release(&pc);
	return out;
}

void restamp(const struct entry_set *next, const struct entry_set *prev,
	     const struct entry_set *const *known, size_t nknown,
	     const struct restamp_clock *clock, struct entry_set *out,
	     struct entry_set *changed, struct restamp_stats *stats)
{
	static const struct entry_set none = ENTRY_SET_INIT;
	struct restamp_stats dummy;
	const struct entry *v[MAX_VERSIONS];
	size_t i = 0, j = 0;

	if (!stats)
		stats = &dummy;
	if (!prev)
		prev = &none;
	memset(stats, 0, sizeof(*stats));
	/*
	 * An unchanged entry needs no look at the other known sets, unless one
	 * of them holds a stamp from the future, which stats counts.
	 */
	int known_future = 0;
	for (size_t k = 0; k < nknown && !known_future; k++)
		for (size_t m = 0; known[k] && m < known[k]->nr && !known_future; m++)
			known_future =
				known[k]->v[m]->stamp.instant != STAMP_NONE &&
				known[k]->v[m]->stamp.instant > clock->now_ns + DAY_NS;
	/* Both sets are sorted by key: walk them side by side. */
	while (i < next->nr || j < prev->nr) {
		int cmp = i == next->nr	  ? 1
			  : j == prev->nr ? -1
					  : entry_cmp_key(next->v[i], prev->v[j]);
		if (cmp <= 0) {
			struct entry *ne = next->v[i++];
			const struct entry *pe = cmp ? NULL : prev->v[j++];
			int is_new;

			if (pe && entry_equal(ne, pe)) {
				/* Unchanged since HEAD, the common case: kept. */
				size_t n = known_future
						   ? versions_of(ne->key, ne->key_len, pe,
								 known, nknown, v)
						   : 0;
				if (n)
					count_future(v, n, clock, stats);
				else
					count_future(&pe, 1, clock, stats);
				stats->kept++;
				entry_set_append(out, entry_ref(ne));
				continue;
			}
			size_t n =
				versions_of(ne->key, ne->key_len, pe, known, nknown, v);
			count_future(v, n, clock, stats);
			struct entry *e =
				restamp_one(ne, pe, v, n, clock, stats, &is_new);
			if (is_new && changed)
				entry_set_append(changed, entry_ref(e));
			entry_set_append(out, e);
			continue;
		}
		const struct entry *pe = prev->v[j++];
		if (pe->deleted) {
			/* Carried on: a deletion is never forgotten. */
			stats->kept++;
			entry_set_append(out, entry_ref((struct entry *)pe));
			continue;
		}
		size_t n = versions_of(pe->key, pe->key_len, pe, known, nknown, v);
		entry_set_append(out, tombstone(pe, v, n, clock));
		stats->deleted++;
	}
	entry_set_normalize(out);
	if (changed)
		entry_set_normalize(changed);
}

void restamp_random_uid(char *out, size_t size, void *ctx)
{
	unsigned char raw[16];
	int fd = open("/dev/urandom", O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	static unsigned long counter;

	(void)ctx;
	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof(raw)) {
		/* No /dev/urandom: time, pid and a counter are unique enough here. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long mix = (unsigned long long)ts.tv_nsec ^
					 ((unsigned long long)ts.tv_sec << 20) ^
					 ((unsigned long long)getpid() << 40) ^ ++counter;
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(mix >> (8 * (i % 8)) ^ i * 31);
	}
	for (size_t i = 0; i < sizeof(raw) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}
