/*
 * The join and the driver's three-way rule (see crdt.h and DESIGN.md).
 */
#include "crdt.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "scan.h"

/* A sorted list of distinct strings, borrowed from cJSON trees. */
struct strset {
	const char **v;
	size_t nr, alloc;
};

static void strset_add_array(struct strset *s, const cJSON *arr)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, arr)
	{
		if (s->nr == s->alloc) {
			s->alloc = s->alloc ? 2 * s->alloc : 16;
			s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
		}
		s->v[s->nr++] = c->valuestring;
	}
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void strset_finish(struct strset *s)
{
	size_t k = 0;

	if (s->nr > 1)
		qsort(s->v, s->nr, sizeof(*s->v), cmp_str);
	for (size_t i = 0; i < s->nr; i++)
		if (!k || strcmp(s->v[k - 1], s->v[i]))
			s->v[k++] = s->v[i];
	s->nr = k;
}

static int strset_has(const struct strset *s, const char *x)
{
	return s->nr && bsearch(&x, s->v, s->nr, sizeof(*s->v), cmp_str) != NULL;
}

static cJSON *meta_of(cJSON *obj)
{
	return cJSON_GetObjectItemCaseSensitive(obj, "_crdt_metadata");
}

static const cJSON *removed_of(cJSON *obj)
{
	cJSON *meta = meta_of(obj);

	return meta ? cJSON_GetObjectItemCaseSensitive(meta, "removed_observations")
		    : NULL;
}

static const cJSON *observations_of(cJSON *obj)
{
	return cJSON_GetObjectItemCaseSensitive(obj, "observations");
}

static cJSON *string_array(const struct strset *s)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < s->nr; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(s->v[i]));
	return arr;
}

/*
 * Rebuild the entity tree w with visible observations obs and removed list
 * rem; takes ownership of w and returns the new entry.
 */
static struct entry *rebuild_entity(cJSON *w, const struct strset *obs,
				    const struct strset *rem)
{
	struct buf err = BUF_INIT;
	struct entry *e;
	cJSON *meta = meta_of(w);

	cJSON_ReplaceItemInObjectCaseSensitive(w, "observations", string_array(obs));
	if (rem->nr) {
		if (!meta) {
			meta = cJSON_CreateObject();
			cJSON_AddItemToObject(w, "_crdt_metadata", meta);
		}
		if (cJSON_GetObjectItemCaseSensitive(meta, "removed_observations"))
			cJSON_ReplaceItemInObjectCaseSensitive(
				meta, "removed_observations", string_array(rem));
		else
			cJSON_AddItemToObject(meta, "removed_observations",
					      string_array(rem));
	}
	e = entry_from_json(w, &err);
	if (!e)
		BUG("merged entity is invalid: %s", err.buf);
	buf_release(&err);
	return e;
}

static void strset_push(struct strset *s, const char *x)
{
	if (s->nr == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 16;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->nr++] = x;
}

/*
 * The join of two present entities that differ, from their trees: tw is
 * the winner's (taken over), tl the loser's (borrowed). extra_removed, if
 * not NULL, lists observations the three-way rule removes as well.
 */
static struct entry *join_entity_trees(cJSON *tw, const cJSON *tl,
				       const struct strset *extra_removed)
{
	struct strset all = {0}, rem = {0}, vis = {0};
	struct entry *e;

	strset_add_array(&all, observations_of(tw));
	strset_add_array(&all, observations_of((cJSON *)tl));
	strset_add_array(&rem, removed_of(tw));
	strset_add_array(&rem, removed_of((cJSON *)tl));
	for (size_t i = 0; extra_removed && i < extra_removed->nr; i++)
		strset_push(&rem, extra_removed->v[i]);
	strset_finish(&all);
	strset_finish(&rem);
	for (size_t i = 0; i < all.nr; i++)
		if (!strset_has(&rem, all.v[i]))
			strset_push(&vis, all.v[i]);
	/*
	 * The strings are borrowed from tw and tl; rebuild_entity copies them
	 * into new arrays before the old ones are replaced.
	 */
	e = rebuild_entity(tw, &vis, &rem);
	free(all.v);
	free(rem.v);
	free(vis.v);
	return e;
}

/*
 * The same joins on the canonical texts, without trees: the common case of
 * observations without escapes. The result is checked by the fast reader,
 * so anything unexpected falls back to the tree path (these return NULL).
 */
struct strs {
	struct scan_str *v;
	size_t nr;
};

static int split(const char *text, size_t off, size_t len, struct strs *s)
{
	size_t quotes = 0;
	const char *p = text + off, *end = p + len;

	/* Room for one string per two quotes: no escapes, or the split fails. */
	while ((p = memchr(p, '"', (size_t)(end - p)))) {
		quotes++;
		p++;
	}
	s->v = xmalloc((quotes / 2 + 1) * sizeof(*s->v));
	s->nr = 0;
	return !len || scan_split_strings(text, off, len, s->v, &s->nr);
}

static int entity_sets(const struct entry *e, struct scan_sets *ss, struct strs *obs,
		       struct strs *rem)
{
	int ok = scan_entity_sets(e->text, e->text_len, ss);

	ok = split(e->text, ss->obs_off, ok ? ss->obs_len : 0, obs) && ok;
	ok = split(e->text, ss->rem_off, ok ? ss->rem_len : 0, rem) && ok;
	return ok;
}

/* out = a | b, both sorted and unique. */
static void strs_union(const struct strs *a, const struct strs *b, struct strs *out)
{
	size_t i = 0, j = 0;

	out->v = xmalloc((a->nr + b->nr + 1) * sizeof(*out->v));
	out->nr = 0;
	while (i < a->nr || j < b->nr) {
		int c = i == a->nr   ? 1
			: j == b->nr ? -1
				     : scan_str_cmp(&a->v[i], &b->v[j]);
		out->v[out->nr++] = c <= 0 ? a->v[i] : b->v[j];
		i += c <= 0;
		j += c >= 0;
	}
}

static int strs_has(const struct strs *s, const struct scan_str *x)
{
	return s->nr && bsearch(x, s->v, s->nr, sizeof(*s->v),
				(int (*)(const void *, const void *))scan_str_cmp);
}

static void add_strs(struct buf *out, const struct strs *s)
{
	buf_addch(out, '[');
	for (size_t i = 0; i < s->nr; i++) {
		if (i)
			buf_addch(out, ',');
		buf_addch(out, '"');
		buf_add(out, s->v[i].p, s->v[i].n);
		buf_addch(out, '"');
	}
	buf_addch(out, ']');
}

static struct entry *join_entity_text(const struct entry *w, const struct entry *l,
				      const struct strs *extra)
{
	struct scan_sets sw, sl;
	struct strs wo = {0}, wr = {0}, lo = {0}, lr = {0}, all = {0}, rem = {0},
		    rem2 = {0}, vis = {0};
	struct buf out = BUF_INIT;
	struct entry *e = NULL;
	const char *t = w->text;

	if (!entity_sets(w, &sw, &wo, &wr) || !entity_sets(l, &sl, &lo, &lr))
		goto done;
	strs_union(&wo, &lo, &all);
	strs_union(&wr, &lr, &rem);
	if (extra) {
		strs_union(&rem, extra, &rem2);
		free(rem.v);
		rem = rem2;
		rem2.v = NULL;
	}
	vis.v = xmalloc((all.nr + 1) * sizeof(*vis.v));
	for (size_t i = 0; i < all.nr; i++)
		if (!strs_has(&rem, &all.v[i]))
			vis.v[vis.nr++] = all.v[i];
	if (rem.nr && !sw.rem_len && !sw.meta_close)
		goto done; /* no metadata to hold the list: the tree path adds it */

	buf_grow(&out, w->text_len + l->text_len);
	buf_add(&out, t, sw.obs_off);
	add_strs(&out, &vis);
	size_t after_obs = sw.obs_off + sw.obs_len;
	if (sw.rem_len) {
		buf_add(&out, t + after_obs, sw.rem_off - after_obs);
		add_strs(&out, &rem);
		buf_add(&out, t + sw.rem_off + sw.rem_len,
			w->text_len - sw.rem_off - sw.rem_len);
	} else if (rem.nr) {
		buf_add(&out, t + after_obs, sw.meta_close - after_obs);
		buf_addstr(&out, t[sw.meta_close - 1] == '{'
					 ? "\"removed_observations\":"
					 : ",\"removed_observations\":");
		add_strs(&out, &rem);
		buf_add(&out, t + sw.meta_close, w->text_len - sw.meta_close);
	} else {
		buf_add(&out, t + after_obs, w->text_len - after_obs);
	}
	e = entry_read_canonical(out.buf, out.len);
	if (e) {
		e->text = buf_detach(&out, &e->text_len);
		e->owns_text = 1;
		e->raw = NULL;
		e->raw_len = 0;
	}
done:
	buf_release(&out);
	free(wo.v);
	free(wr.v);
	free(lo.v);
	free(lr.v);
	free(all.v);
	free(rem.v);
	free(vis.v);
	return e;
}

/*
 * The three-way entity merge on texts: the observations of o that a or b
 * dropped are removed. NULL when the tree path must do it.
 */
static struct entry *merge3_entity_text(const struct entry *o, const struct entry *a,
					const struct entry *b)
{
	struct scan_sets so, sa, sb;
	struct strs oo, orm, ao, arm, bo, brm, gone = {0};
	struct entry *e = NULL;
	int ok = entity_sets(o, &so, &oo, &orm);

	ok = entity_sets(a, &sa, &ao, &arm) && ok;
	ok = entity_sets(b, &sb, &bo, &brm) && ok;
	if (ok) {
		gone.v = xmalloc((oo.nr + 1) * sizeof(*gone.v));
		for (size_t i = 0; i < oo.nr; i++)
			if (!strs_has(&ao, &oo.v[i]) || !strs_has(&bo, &oo.v[i]))
				gone.v[gone.nr++] = oo.v[i];
		if (!gone.nr && entry_equal(a, b))
			e = entry_ref((struct entry *)a);
		else if (entry_cmp_version(a, b) >= 0)
			e = join_entity_text(a, b, &gone);
		else
			e = join_entity_text(b, a, &gone);
	}
	free(oo.v);
	free(orm.v);
	free(ao.v);
	free(arm.v);
	free(bo.v);
	free(brm.v);
	free(gone.v);
	return e;
}

struct entry *crdt_join(const struct entry *a, const struct entry *b)
{
	const struct entry *w, *l;

	if (!a || !b)
		return entry_ref((struct entry *)(a ? a : b));
	if (entry_equal(a, b))
		return entry_ref((struct entry *)a);
	if (entry_cmp_version(a, b) >= 0) {
		w = a;
		l = b;
	} else {
		w = b;
		l = a;
	}
	if (w->kind == ENTRY_ENTITY && l->kind == ENTRY_ENTITY) {
		struct entry *fast = join_entity_text(w, l, NULL);
		if (fast)
			return fast;
		cJSON *tl = entry_to_json(l);
		struct entry *e = join_entity_trees(entry_to_json(w), tl, NULL);
		cJSON_Delete(tl);
		return e;
	}
	return entry_ref((struct entry *)w);
}

static int live_entity(const struct entry *e)
{
	return e && e->kind == ENTRY_ENTITY && !e->deleted;
}

struct entry *crdt_merge3(const struct entry *o, const struct entry *a,
			  const struct entry *b)
{
	if (entry_equal(a, o))
		return entry_ref((struct entry *)b);
	if (entry_equal(b, o))
		return entry_ref((struct entry *)a);
	if (!a || !b)
		return entry_ref((struct entry *)(a ? a : b));
	if (live_entity(o) && live_entity(a) && live_entity(b)) {
		struct entry *fast = merge3_entity_text(o, a, b);
		if (fast)
			return fast;
		cJSON *to = entry_to_json(o), *ta = entry_to_json(a),
		      *tb = entry_to_json(b);
		struct strset in_a = {0}, in_b = {0}, gone = {0};
		const cJSON *c;
		struct entry *r;

		strset_add_array(&in_a, observations_of(ta));
		strset_add_array(&in_b, observations_of(tb));
		strset_finish(&in_a);
		strset_finish(&in_b);
		cJSON_ArrayForEach(c, observations_of(to))
		{
			if (!strset_has(&in_a, c->valuestring) ||
			    !strset_has(&in_b, c->valuestring))
				strset_push(&gone, c->valuestring);
		}
		/* Each tree is parsed once; the winner's is taken over. */
		if (entry_equal(a, b) && !gone.nr) {
			r = entry_ref((struct entry *)a);
			cJSON_Delete(ta);
		} else if (entry_cmp_version(a, b) >= 0) {
			r = join_entity_trees(ta, tb, &gone);
		} else {
			r = join_entity_trees(tb, ta, &gone);
			tb = ta;
		}
		cJSON_Delete(tb);
		free(in_a.v);
		free(in_b.v);
		free(gone.v);
		cJSON_Delete(to);
		return r;
	}
	return crdt_join(a, b);
}

void entry_set_append(struct entry_set *s, struct entry *e)
{
	if (s->nr == s->alloc) {
		s->alloc = s->alloc ? s->alloc + s->alloc / 2 : 64;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->nr++] = e;
}

static int cmp_entry_keys(const void *x, const void *y)
{
	return entry_cmp_key(*(struct entry *const *)x, *(struct entry *const *)y);
}

size_t entry_set_normalize(struct entry_set *s)
{
	size_t k = 0, dups = 0;
	int sorted = 1;

	for (size_t i = 1; i < s->nr && sorted; i++)
		sorted = entry_cmp_key(s->v[i - 1], s->v[i]) < 0;
	if (sorted)
		return 0;
	qsort(s->v, s->nr, sizeof(*s->v), cmp_entry_keys);
	int joined = 0; /* the last kept entry already absorbed a duplicate */

	for (size_t i = 0; i < s->nr; i++) {
		if (k && !entry_cmp_key(s->v[k - 1], s->v[i])) {
			struct entry *j = crdt_join(s->v[k - 1], s->v[i]);
			entry_unref(s->v[k - 1]);
			entry_unref(s->v[i]);
			s->v[k - 1] = j;
			if (!joined)
				dups++;
			joined = 1;
			continue;
		}
		joined = 0;
		s->v[k++] = s->v[i];
	}
	s->nr = k;
	return dups;
}

void entry_set_release(struct entry_set *s)
{
	for (size_t i = 0; i < s->nr; i++)
		entry_unref(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->nr = s->alloc = 0;
}

struct entry *entry_set_find(const struct entry_set *s, const char *key, size_t key_len)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = s->v[mid];
		size_t n = e->key_len < key_len ? e->key_len : key_len;
		int c = memcmp(e->key, key, n);
		if (!c)
			c = e->key_len < key_len ? -1 : e->key_len > key_len;
		if (!c)
			return s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void crdt_join_sets(const struct entry_set *a, const struct entry_set *b,
		    struct entry_set *out)
{
	size_t i = 0, j = 0;

	while (i < a->nr || j < b->nr) {
		int c = i == a->nr   ? 1
			: j == b->nr ? -1
				     : entry_cmp_key(a->v[i], b->v[j]);
		if (c < 0)
			entry_set_append(out, entry_ref(a->v[i++]));
		else if (c > 0)
			entry_set_append(out, entry_ref(b->v[j++]));
		else
			entry_set_append(out, crdt_join(a->v[i++], b->v[j++]));
	}
}

void crdt_merge3_sets(const struct entry_set *o, const struct entry_set *a,
		      const struct entry_set *b, struct entry_set *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < o->nr || j < a->nr || k < b->nr) {
		const struct entry *min = NULL, *eo = NULL, *ea = NULL, *eb = NULL;
		/* Most keys: the same entry in all three (shared when read). */
		if (i < o->nr && j < a->nr && k < b->nr && o->v[i] == a->v[j] &&
		    o->v[i] == b->v[k]) {
			entry_set_append(out, entry_ref(o->v[i]));
			i++, j++, k++;
			continue;
		}
		if (i < o->nr)
			min = o->v[i];
		if (j < a->nr && (!min || entry_cmp_key(a->v[j], min) < 0))
			min = a->v[j];
		if (k < b->nr && (!min || entry_cmp_key(b->v[k], min) < 0))
			min = b->v[k];
		if (i < o->nr && !entry_cmp_key(o->v[i], min))
			eo = o->v[i++];
		if (j < a->nr && !entry_cmp_key(a->v[j], min))
			ea = a->v[j++];
		if (k < b->nr && !entry_cmp_key(b->v[k], min))
			eb = b->v[k++];
		struct entry *r = crdt_merge3(eo, ea, eb);
		if (r)
			entry_set_append(out, r);
	}
}
