/*
 * Entries: validation, keys, canonical form and the version order
 * (see entry.h).
 */
#include "entry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "key.h"
#include "scan.h"
#include "stamp.h"
#include "strset.h"

static int is_integer_text(const char *s)
{
	return json_is_integer(s, strlen(s));
}

int entry_parse_instant(const cJSON *item, int64_t *ns)
{
	if (cJSON_IsString(item) || cJSON_IsRaw(item))
		return stamp_parse_text(item->valuestring, cJSON_IsString(item), ns);
	if (cJSON_IsNumber(item))
		return stamp_from_seconds(item->valuedouble, ns);
	return -1;
}

/* Whether every element of arr is a string. */
static int all_strings(const cJSON *arr)
{
	const cJSON *c;

	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(c, arr) if (!cJSON_IsString(c)) return 0;
	return 1;
}

static void set_member(cJSON *obj, const char *name, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, value);
	else
		cJSON_AddItemToObject(obj, name, value);
}

/*
 * Put an entity's observation sets into canonical form: observations sorted,
 * unique, without removed ones; removed_observations sorted, unique, and
 * absent when empty.
 */
static void normalize_entity(cJSON *obj, cJSON *meta)
{
	cJSON *obs = cJSON_GetObjectItemCaseSensitive(obj, "observations");
	cJSON *rem = meta ? cJSON_GetObjectItemCaseSensitive(meta, "removed_observations")
			  : NULL;
	struct strset sobs = STRSET_INIT, srem = STRSET_INIT, vis = STRSET_INIT;

	json_strset_add_array(&sobs, obs);
	json_strset_add_array(&srem, rem);
	strset_sort(&sobs);
	strset_sort(&srem);
	strset_minus(&vis, &sobs, &srem);
	cJSON *new_obs = json_strset_array(&vis);
	cJSON *new_rem = srem.nr ? json_strset_array(&srem) : NULL;
	strset_release(&sobs);
	strset_release(&srem);
	strset_release(&vis);
	/* The new arrays copied the strings; the old ones can go now. */
	set_member(obj, "observations", new_obs);
	if (meta) {
		if (new_rem)
			set_member(meta, "removed_observations", new_rem);
		else
			cJSON_DeleteItemFromObjectCaseSensitive(meta,
								"removed_observations");
	}
}

/* What check_metadata and entry_from_json learn before the entry exists. */
struct entry_scratch {
	enum entry_kind kind;
	int deleted;
	struct stamp stamp;
	const char *host; /* borrowed from the tree */
};

static int check_metadata(cJSON *meta, struct entry_scratch *e, struct buf *err)
{
	const cJSON *v;

	if (!cJSON_IsObject(meta)) {
		buf_addstr(err, "'_crdt_metadata' is not an object");
		return -1;
	}
	e->stamp.instant = STAMP_NONE;
	v = cJSON_GetObjectItemCaseSensitive(meta, "timestamp");
	if (v && entry_parse_instant(v, &e->stamp.instant)) {
		buf_addstr(err, "'_crdt_metadata.timestamp' is not a timestamp");
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(meta, "version");
	if (v) {
		if (!cJSON_IsRaw(v) || !is_integer_text(v->valuestring)) {
			buf_addstr(err, "'_crdt_metadata.version' is not an integer");
			return -1;
		}
		errno = 0;
		e->stamp.version = strtoll(v->valuestring, NULL, 10);
		if (errno) {
			buf_addstr(err, "'_crdt_metadata.version' is out of range");
			return -1;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(meta, "host");
	if (v && !cJSON_IsString(v)) {
		buf_addstr(err, "'_crdt_metadata.host' is not a string");
		return -1;
	}
	e->host = v ? v->valuestring : "";
	v = cJSON_GetObjectItemCaseSensitive(meta, "unique_id");
	if (v && !cJSON_IsString(v)) {
		buf_addstr(err, "'_crdt_metadata.unique_id' is not a string");
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(meta, "deleted");
	if (v && !cJSON_IsBool(v)) {
		buf_addstr(err, "'_crdt_metadata.deleted' is not true or false");
		return -1;
	}
	e->deleted = v && cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(meta, "removed_observations");
	if (v && !all_strings(v)) {
		buf_addstr(err, "'_crdt_metadata.removed_observations' is not an array "
				"of strings");
		return -1;
	}
	return 0;
}

/*
 * The members the key rule looks at, written canonically into text (which
 * m then points into).
 */
static void key_members(const cJSON *obj, struct key_member m[KEY_NR], struct buf *text)
{
	const cJSON *v[KEY_NR];
	size_t off[KEY_NR];

	for (int i = 0; i < KEY_NR; i++) {
		v[i] = cJSON_GetObjectItemCaseSensitive(obj, key_member_names[i].name);
		off[i] = text->len;
		if (v[i])
			json_write(text, v[i]);
		m[i].len = text->len - off[i];
	}
	for (int i = 0; i < KEY_NR; i++)
		m[i].text = v[i] ? text->buf + off[i] : NULL;
}

/* One allocation holds the entry, its key and its host: from a, or the heap. */
static struct entry *entry_alloc(struct arena *a, const char *key, size_t key_len,
				 const char *host, size_t host_len)
{
	size_t size = sizeof(struct entry) + key_len + host_len + 2;
	struct entry *e = a ? arena_alloc(a, size) : xmalloc(size);

	memset(e, 0, sizeof(*e));
	e->arena = a ? arena_ref(a) : NULL;
	atomic_init(&e->refs, 1);
	memcpy(e->key, key, key_len);
	e->key[key_len] = '\0';
	e->key_len = key_len;
	memcpy(e->key + key_len + 1, host, host_len);
	e->key[key_len + 1 + host_len] = '\0';
	e->stamp.host = e->key + key_len + 1;
	return e;
}

struct entry *entry_from_json(cJSON *obj, struct buf *err)
{
	struct entry_scratch tmp = {0};
	struct entry *e = NULL;
	struct buf key = BUF_INIT, text = BUF_INIT, members = BUF_INIT;
	struct key_member km[KEY_NR];
	cJSON *meta;

	tmp.stamp.instant = STAMP_NONE;
	if (!cJSON_IsObject(obj)) {
		buf_addstr(err, "an entry must be a JSON object");
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(obj, "_crdt_metadata");
	if (meta && check_metadata(meta, &tmp, err))
		goto out;

	key_members(obj, km, &members);
	tmp.kind = key_kind(km);
	if (tmp.kind == ENTRY_ENTITY) {
		const cJSON *obs = cJSON_GetObjectItemCaseSensitive(obj, "observations");
		if (obs && !all_strings(obs)) {
			buf_addstr(
				err,
				"'observations' of an entity is not an array of strings");
			goto out;
		}
		normalize_entity(obj, meta);
	}
	if (tmp.kind == ENTRY_CONTENT) {
		/* the content is the object without its metadata */
		if (meta)
			cJSON_DetachItemViaPointer(obj, meta);
		json_write(&text, obj);
		if (meta)
			cJSON_AddItemToObject(obj, "_crdt_metadata", meta);
	}
	key_write(&key, tmp.kind, km, text.buf, text.len ? text.len - 1 : 0);
	buf_reset(&text);
	json_write(&text, obj);

	e = entry_alloc(NULL, key.buf, key.len, tmp.host ? tmp.host : "",
			tmp.host ? strlen(tmp.host) : 0);
	e->kind = tmp.kind;
	e->deleted = tmp.deleted;
	e->stamp.instant = tmp.stamp.instant;
	e->stamp.version = tmp.stamp.version;
	e->text = buf_detach(&text, &e->text_len);
	e->owns_text = 1;
out:
	cJSON_Delete(obj);
	buf_release(&key);
	buf_release(&text);
	buf_release(&members);
	return e;
}

/* scan_canonical, or scan_canonical_prefix when end is wanted (len then
 * becomes the entry's length). */
static int scan_entry_text(const char *text, size_t *len, size_t *end,
			   struct scan_info *info, struct buf *key)
{
	if (!end)
		return scan_canonical(text, *len, info, key);
	if (!scan_canonical_prefix(text, *len, end, info, key))
		return 0;
	*len = *end;
	return 1;
}

/* The entry the fast path found at text[0..len): info and key as it says. */
static struct entry *from_scan(struct arena *a, const char *text, size_t len,
			       const struct scan_info *info, const struct buf *key)
{
	struct entry *e = entry_alloc(a, key->buf, key->len, info->host, info->host_len);

	e->kind = info->kind;
	e->deleted = info->deleted;
	e->stamp.instant = info->instant;
	e->stamp.version = info->version;
	e->text = e->raw = text;
	e->text_len = e->raw_len = len;
	if (info->kind == ENTRY_ENTITY && len < UINT32_MAX) {
		e->has_sets = 1;
		e->obs_off = (uint32_t)info->sets.obs_off;
		e->obs_len = (uint32_t)info->sets.obs_len;
		e->rem_off = (uint32_t)info->sets.rem_off;
		e->rem_len = (uint32_t)info->sets.rem_len;
		e->meta_close = (uint32_t)info->sets.meta_close;
	}
	return e;
}

static struct entry *read_canonical(struct arena *a, const char *text, size_t len,
				    size_t *end)
{
	struct scan_info info;
	struct buf local = BUF_INIT, *key = a ? &a->key : &local;
	struct entry *e = NULL;

	buf_reset(key);
	if (scan_entry_text(text, &len, end, &info, key))
		e = from_scan(a, text, len, &info, key);
	buf_release(&local);
	return e;
}

struct entry *entry_with_sets(const struct entry *like, char *text, size_t len,
			      const struct scan_sets *at)
{
	struct entry *e = entry_alloc(NULL, like->key, like->key_len, like->stamp.host,
				      strlen(like->stamp.host));

	e->kind = like->kind;
	e->deleted = like->deleted;
	e->stamp.instant = like->stamp.instant;
	e->stamp.version = like->stamp.version;
	e->text = text;
	e->text_len = len;
	e->owns_text = 1;
	if (len < UINT32_MAX) {
		e->has_sets = 1;
		e->obs_off = (uint32_t)at->obs_off;
		e->obs_len = (uint32_t)at->obs_len;
		e->rem_off = (uint32_t)at->rem_off;
		e->rem_len = (uint32_t)at->rem_len;
		e->meta_close = (uint32_t)at->meta_close;
	}
	return e;
}

int entry_sets(const struct entry *e, struct scan_sets *at)
{
	if (!e->has_sets)
		return scan_entity_sets(e->text, e->text_len, at);
	at->obs_off = e->obs_off;
	at->obs_len = e->obs_len;
	at->rem_off = e->rem_off;
	at->rem_len = e->rem_len;
	at->meta_close = e->meta_close;
	return 1;
}

struct entry *entry_read_canonical(const char *text, size_t len)
{
	return read_canonical(NULL, text, len, NULL);
}

struct entry *entry_read_canonical_prefix(struct arena *a, const char *text, size_t len,
					  size_t *end)
{
	return read_canonical(a, text, len, end);
}

/*
 * Text that is canonical but for white space and escapes (pretty-printed
 * files, other tools' output): compact it, then take the fast path on the
 * result. NULL when that is not enough.
 */
static struct entry *read_compacted(struct arena *a, const char *text, size_t len,
				    size_t *end)
{
	struct buf local = BUF_INIT, *cb = a ? &a->scratch : &local;
	struct buf local_key = BUF_INIT, *key = a ? &a->key : &local_key;
	struct entry *e = NULL;
	struct json_compact_at at;
	struct scan_info info;
	int sorted = 0;

	buf_reset(cb);
	buf_grow(cb, len < 1024 ? len : 1024);
	if (!json_compact(text, len, end, cb, &at)) {
		/*
		 * Other tools rarely sort observations. Sorting is right only
		 * for an entity: not for an entry with an "id" (rule 1 comes
		 * first), whose members are all content. Anything else that
		 * had to be sorted takes the general path instead.
		 */
		struct key_member id[KEY_NR] = {{0}};
		size_t compacted_len = cb->len;
		id[KEY_ID].text = at.id[1] ? cb->buf + at.id[0] : NULL;
		id[KEY_ID].len = at.id[1];
		if (at.obs[1] && key_kind(id) != ENTRY_ID)
			scan_sort_strings(cb, at.obs[0], at.obs[1], &sorted);
		/*
		 * What the compactor says of its copy holds unless sorting
		 * dropped repeated observations and moved what follows.
		 */
		buf_reset(key);
		if (cb->len == compacted_len) {
			if (scan_compacted(cb->buf, cb->len, &at, &info, key))
				e = from_scan(a, cb->buf, cb->len, &info, key);
		} else {
			e = read_canonical(a, cb->buf, cb->len, NULL);
		}
		if (e && sorted && e->kind != ENTRY_ENTITY) {
			entry_unref(e);
			e = NULL;
		}
		if (e) {
			/* written once, where it stays: never read again */
			e->text = a ? arena_memdup0(a, cb->buf, cb->len)
				    : xmemdup0(cb->buf, cb->len);
			e->owns_text = !a;
			e->raw = text;
			e->raw_len = *end;
		}
	}
	buf_release(&local);
	buf_release(&local_key);
	return e;
}

/*
 * The general path's end: an entry from a parsed tree (NULL when parsing
 * failed, as jerr says), read from text[0..raw_len).
 */
static struct entry *from_tree(cJSON *obj, const struct json_error *jerr,
			       const char *text, size_t raw_len, struct buf *err,
			       size_t *err_offset)
{
	struct entry *e;

	if (!obj) {
		buf_addstr(err, jerr->msg);
		*err_offset = jerr->offset;
		return NULL;
	}
	e = entry_from_json(obj, err);
	if (!e) {
		*err_offset = 0;
		return NULL;
	}
	e->raw = text;
	e->raw_len = raw_len;
	return e;
}

struct entry *entry_read_value(struct arena *a, const char *text, size_t len, size_t *end,
			       struct buf *err, size_t *err_offset)
{
	struct json_error jerr;
	struct entry *e = read_compacted(a, text, len, end);
	cJSON *obj;

	if (e)
		return e;
	obj = json_parse_prefix(text, len, end, &jerr);
	return from_tree(obj, &jerr, text, *end, err, err_offset);
}

struct entry *entry_read(struct arena *a, const char *text, size_t len, struct buf *err,
			 size_t *err_offset)
{
	struct json_error jerr;
	struct entry *e = read_canonical(a, text, len, NULL);
	size_t end;
	cJSON *obj;

	if (e)
		return e;
	e = read_compacted(a, text, len, &end);
	if (e && end == len)
		return e;
	entry_unref(e);
	obj = json_parse(text, len, &jerr);
	return from_tree(obj, &jerr, text, len, err, err_offset);
}

struct entry *entry_parse(const char *text, size_t len, struct buf *err)
{
	struct json_error jerr;
	cJSON *obj = json_parse(text, len, &jerr);

	if (!obj) {
		buf_addf(err, "offset %zu: %s", jerr.offset, jerr.msg);
		return NULL;
	}
	return entry_from_json(obj, err);
}

cJSON *entry_to_json(const struct entry *e)
{
	cJSON *obj = json_parse(e->text, e->text_len, NULL);

	if (!obj)
		BUG("entry text is not valid JSON: %.*s", (int)e->text_len, e->text);
	return obj;
}

struct entry *entry_ref(struct entry *e)
{
	if (e)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	return e;
}

void entry_unref(struct entry *e)
{
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (e->owns_text)
		free((char *)e->text);
	if (e->arena)
		arena_unref(e->arena); /* e lives in it: freed with it, if last */
	else
		free(e);
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int entry_cmp_key(const struct entry *a, const struct entry *b)
{
	return cmp_bytes(a->key, a->key_len, b->key, b->key_len);
}

int entry_equal(const struct entry *a, const struct entry *b)
{
	if (!a || !b)
		return a == b;
	return a == b ||
	       (a->text_len == b->text_len && !memcmp(a->text, b->text, a->text_len));
}

/*
 * The same cut from the canonical text: the "observations" member (never
 * first: "type" and "name" sort before it) with its ',' and, in the
 * metadata, "removed_observations" with one ',' next to it. 0 when the
 * text does not show where they are.
 */
static int entity_tiebreak_cut(const struct entry *e, struct buf *out)
{
	static const char obs_name[] = ",\"observations\":";
	static const char rem_name[] = "\"removed_observations\":";
	const size_t on = sizeof(obs_name) - 1, rn = sizeof(rem_name) - 1;
	const char *t = e->text;
	struct scan_sets at;
	size_t cut[2][2], ncut = 0;

	if (!entry_sets(e, &at) || at.obs_off < on ||
	    memcmp(t + at.obs_off - on, obs_name, on))
		return 0;
	cut[ncut][0] = at.obs_off - on;
	cut[ncut++][1] = at.obs_off + at.obs_len;
	if (at.rem_len) {
		size_t from = at.rem_off - rn, to = at.rem_off + at.rem_len;
		if (at.rem_off < rn + 1 || memcmp(t + from, rem_name, rn))
			return 0;
		if (t[from - 1] == ',')
			from--;
		else if (t[to] == ',')
			to++;
		cut[ncut][0] = from;
		cut[ncut++][1] = to;
	}
	size_t pos = 0;
	for (size_t i = 0; i < ncut; i++) {
		buf_add(out, t + pos, cut[i][0] - pos);
		pos = cut[i][1];
	}
	buf_add(out, t + pos, e->text_len - pos);
	return 1;
}

/* An entity's canonical bytes without its observation sets. */
static void entity_tiebreak_text(const struct entry *e, struct buf *out)
{
	if (entity_tiebreak_cut(e, out))
		return;
	buf_reset(out);

	cJSON *obj = entry_to_json(e);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "_crdt_metadata");

	cJSON_DeleteItemFromObjectCaseSensitive(obj, "observations");
	if (meta)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "removed_observations");
	json_write(out, obj);
	cJSON_Delete(obj);
}

int entry_cmp_version(const struct entry *a, const struct entry *b)
{
	int c = stamp_cmp(&a->stamp, &b->stamp);

	if (c)
		return c;
	if (a->kind == ENTRY_ENTITY && b->kind == ENTRY_ENTITY) {
		struct buf ta = BUF_INIT, tb = BUF_INIT;
		entity_tiebreak_text(a, &ta);
		entity_tiebreak_text(b, &tb);
		c = cmp_bytes(ta.buf, ta.len, tb.buf, tb.len);
		buf_release(&ta);
		buf_release(&tb);
	} else {
		c = cmp_bytes(a->text, a->text_len, b->text, b->text_len);
	}
	return c < 0 ? -1 : c > 0;
}
