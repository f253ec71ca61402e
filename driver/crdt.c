/*
 * The join and the driver's three-way rule (see crdt.h and DESIGN.md).
 */
#include "crdt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "scan.h"
#include "strset.h"

/*
 * Entities: the observation sets. The rules are written once (join_sets,
 * gone_observations) on struct strset; an entity version is read either
 * from its canonical text, the fast common case of observations without
 * escapes, or from a tree of it, and the result is made the same way: the
 * winner's text with the new sets spliced in (checked by the fast reader),
 * or the winner's tree with the new sets put in.
 */
struct entity_view {
	const struct entry *e;
	cJSON *tree;	     /* the tree path's; NULL on the text path */
	struct scan_sets at; /* the text path's: where the sets are in e->text */
	struct strset obs;   /* visible observations, borrowed from text or tree */
	struct strset rem;   /* removed_observations */
};

static void view_release(struct entity_view *v)
{
	cJSON_Delete(v->tree);
	strset_release(&v->obs);
	strset_release(&v->rem);
	memset(v, 0, sizeof(*v));
}

/* Read e's sets from its text; 0 (v released) when the tree path must. */
static int view_text(struct entity_view *v, const struct entry *e)
{
	memset(v, 0, sizeof(*v));
	v->e = e;
	if (entry_sets(e, &v->at) &&
	    scan_split_strings(e->text, v->at.obs_off, v->at.obs_len, &v->obs) &&
	    (!v->at.rem_len ||
	     scan_split_strings(e->text, v->at.rem_off, v->at.rem_len, &v->rem)))
		return 1;
	view_release(v);
	return 0;
}

static cJSON *meta_of(cJSON *obj)
{
	return cJSON_GetObjectItemCaseSensitive(obj, "_crdt_metadata");
}

static void view_tree(struct entity_view *v, const struct entry *e)
{
	cJSON *meta;

	memset(v, 0, sizeof(*v));
	v->e = e;
	v->tree = entry_to_json(e);
	meta = meta_of(v->tree);
	json_strset_add_array(&v->obs,
			      cJSON_GetObjectItemCaseSensitive(v->tree, "observations"));
	if (meta)
		json_strset_add_array(&v->rem, cJSON_GetObjectItemCaseSensitive(
						       meta, "removed_observations"));
	strset_sort(&v->obs);
	strset_sort(&v->rem);
}

/*
 * The join's sets: removed = w's | l's | extra, visible = (w's | l's) -
 * removed. extra (sorted; NULL for none) lists what the three-way rule
 * removes as well.
 */
static void join_sets(const struct entity_view *w, const struct entity_view *l,
		      const struct strset *extra, struct strset *vis, struct strset *rem)
{
	struct strset all = STRSET_INIT, both = STRSET_INIT;

	strset_union(&all, &w->obs, &l->obs);
	if (extra) {
		strset_union(&both, &w->rem, &l->rem);
		strset_union(rem, &both, extra);
		strset_release(&both);
	} else {
		strset_union(rem, &w->rem, &l->rem);
	}
	strset_minus(vis, &all, rem);
	strset_release(&all);
}

/* The three-way rule: the observations of o that a or b no longer has. */
static void gone_observations(const struct entity_view *o, const struct entity_view *a,
			      const struct entity_view *b, struct strset *gone)
{
	/* Every view's sets are sorted: one walk of the three. */
	size_t j = 0, k = 0;

	for (size_t i = 0; i < o->obs.nr; i++) {
		const struct str *x = &o->obs.v[i];
		int ca = 1, cb = 1;
		while (j < a->obs.nr && (ca = str_cmp(&a->obs.v[j], x)) < 0)
			j++;
		while (k < b->obs.nr && (cb = str_cmp(&b->obs.v[k], x)) < 0)
			k++;
		if (j == a->obs.nr || k == b->obs.nr || ca || cb)
			strset_add(gone, x->p, x->n);
	}
}

/* The winner's text with the sets vis and rem; NULL when the tree must do it. */
static struct entry *splice_sets(const struct entity_view *w, const struct strset *vis,
				 const struct strset *rem)
{
	const struct scan_sets *sw = &w->at;
	const char *t = w->e->text;
	size_t len = w->e->text_len, after_obs = sw->obs_off + sw->obs_len;
	struct scan_sets at = {0, 0, 0, 0, 0};
	struct buf out = BUF_INIT;
	char *text;

	if (rem->nr && !sw->rem_len && !sw->meta_close)
		return NULL; /* no metadata to hold the list: the tree path adds it */
	/* Sized once: the sets of a large join are megabytes. */
	size_t need = len + sizeof(",\"removed_observations\":") + json_strset_size(vis) +
		      json_strset_size(rem);
	buf_grow(&out, need);
	buf_add(&out, t, sw->obs_off);
	at.obs_off = out.len;
	json_write_strset(&out, vis);
	at.obs_len = out.len - at.obs_off;
	if (sw->rem_len) {
		buf_add(&out, t + after_obs, sw->rem_off - after_obs);
		if (rem->nr) {
			at.rem_off = out.len;
			json_write_strset(&out, rem);
			at.rem_len = out.len - at.rem_off;
		} else {
			json_write_strset(&out, rem);
		}
		buf_add(&out, t + sw->rem_off + sw->rem_len,
			len - sw->rem_off - sw->rem_len);
	} else if (rem->nr) {
		buf_add(&out, t + after_obs, sw->meta_close - after_obs);
		buf_addstr(&out, t[sw->meta_close - 1] == '{'
					 ? "\"removed_observations\":"
					 : ",\"removed_observations\":");
		at.rem_off = out.len;
		json_write_strset(&out, rem);
		at.rem_len = out.len - at.rem_off;
		buf_add(&out, t + sw->meta_close, len - sw->meta_close);
	} else {
		buf_add(&out, t + after_obs, len - after_obs);
	}
	if (sw->meta_close)
		at.meta_close = sw->meta_close + (out.len - len);
	/*
	 * Sets replaced where they stood leave the text canonical: plain
	 * strings, sorted, without repeats, disjoint. So does a new removed
	 * list at the end of metadata that has no member sorting after it.
	 * Otherwise, where the removed list appears or goes (an empty one must
	 * not be written; a new one may belong before other metadata members),
	 * the text is read again, and the tree path takes over when it is not
	 * canonical.
	 */
	if (rem->nr && !sw->rem_len && scan_removed_fits(t, len, sw)) {
		text = buf_detach(&out, &len);
		return entry_with_sets(w->e, text, len, &at);
	}
	if (!sw->rem_len != !rem->nr) {
		struct entry *e = entry_read_canonical(out.buf, out.len);
		if (e) {
			e->text = buf_detach(&out, &e->text_len);
			e->owns_text = 1;
			e->raw = NULL;
			e->raw_len = 0;
		}
		buf_release(&out);
		return e;
	}
	text = buf_detach(&out, &len);
	return entry_with_sets(w->e, text, len, &at);
}

/* The winner's tree (taken over) with the sets vis and rem. */
static struct entry *rebuild_sets(struct entity_view *w, const struct strset *vis,
				  const struct strset *rem)
{
	struct buf err = BUF_INIT;
	struct entry *e;
	cJSON *tree = w->tree, *meta = meta_of(tree);

	/*
	 * The strings are borrowed from the trees; json_strset_array copies
	 * them before the old arrays are replaced.
	 */
	w->tree = NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(tree, "observations",
					       json_strset_array(vis));
	if (rem->nr) {
		if (!meta) {
			meta = cJSON_CreateObject();
			cJSON_AddItemToObject(tree, "_crdt_metadata", meta);
		}
		if (cJSON_GetObjectItemCaseSensitive(meta, "removed_observations"))
			cJSON_ReplaceItemInObjectCaseSensitive(
				meta, "removed_observations", json_strset_array(rem));
		else
			cJSON_AddItemToObject(meta, "removed_observations",
					      json_strset_array(rem));
	}
	e = entry_from_json(tree, &err);
	if (!e)
		BUG("merged entity is invalid: %s", err.buf);
	buf_release(&err);
	return e;
}

/*
 * The join of two entities that differ, w the winner: the winner's fields
 * with the joined sets. NULL when on the text path the tree path must do it.
 */
static struct entry *join_views(struct entity_view *w, const struct entity_view *l,
				const struct strset *extra)
{
	struct strset vis = STRSET_INIT, rem = STRSET_INIT;
	struct entry *e;

	join_sets(w, l, extra, &vis, &rem);
	e = w->tree ? rebuild_sets(w, &vis, &rem) : splice_sets(w, &vis, &rem);
	strset_release(&vis);
	strset_release(&rem);
	return e;
}

/* The three-way entity merge of the views v[0..2] of o, a and b. */
static struct entry *merge3_views(struct entity_view v[3])
{
	const struct entry *a = v[1].e, *b = v[2].e;
	struct strset gone = STRSET_INIT;
	struct entry *e;

	gone_observations(&v[0], &v[1], &v[2], &gone);
	if (!gone.nr && entry_equal(a, b))
		e = entry_ref((struct entry *)a);
	else if (entry_cmp_version(a, b) >= 0)
		e = join_views(&v[1], &v[2], &gone);
	else
		e = join_views(&v[2], &v[1], &gone);
	strset_release(&gone);
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
		struct entity_view vw, vl;
		struct entry *e = NULL;
		if (view_text(&vw, w)) {
			if (view_text(&vl, l)) {
				e = join_views(&vw, &vl, NULL);
				view_release(&vl);
			}
			view_release(&vw);
		}
		if (!e) {
			view_tree(&vw, w);
			view_tree(&vl, l);
			e = join_views(&vw, &vl, NULL);
			view_release(&vw);
			view_release(&vl);
		}
		return e;
	}
	return entry_ref((struct entry *)w);
}

/*
 * The join of many versions of one entity at once (copies in one file):
 * the winner's fields with the union of every version's sets. Equal to
 * joining them pairwise in any order (the join is associative and
 * commutative), in time linear in the copies rather than quadratic.
 *
 * The sets are gathered into all and rem: from the texts (the fast common
 * case; views NULL), or from trees of every version (views[0..n)). w is
 * the winner's view. all is released on the way. NULL when on the text
 * path the tree path must do it.
 */
static struct entry *join_gathered(struct entity_view *w, struct strset *all,
				   struct strset *rem)
{
	struct strset vis = STRSET_INIT;
	struct entry *e;

	strset_sort(all);
	strset_sort(rem);
	strset_minus(&vis, all, rem);
	strset_release(all); /* a large join's sets are megabytes: not all at once */
	e = w->tree ? rebuild_sets(w, &vis, rem) : splice_sets(w, &vis, rem);
	strset_release(&vis);
	return e;
}

/* Add the sets of canonical entity text e to all and rem; 0 if it cannot. */
static int gather_text(const struct entry *e, struct strset *all, struct strset *rem)
{
	struct scan_sets at;

	return entry_sets(e, &at) &&
	       scan_split_strings(e->text, at.obs_off, at.obs_len, all) &&
	       (!at.rem_len || scan_split_strings(e->text, at.rem_off, at.rem_len, rem));
}

/* The copy in v[0..n) that holds the most observations (its text says). */
static size_t largest_set(struct entry *const *v, size_t n)
{
	size_t big = 0, most = 0;
	struct scan_sets at;

	for (size_t i = 0; i < n; i++)
		if (entry_sets(v[i], &at) && at.obs_len > most) {
			most = at.obs_len;
			big = i;
		}
	return big;
}

static struct entry *join_many_text(struct entry *const *v, size_t n, size_t w)
{
	struct strset all = STRSET_INIT, rem = STRSET_INIT, big = STRSET_INIT,
		      others = STRSET_INIT;
	struct entity_view vw;
	struct entry *e = NULL;
	size_t i, b = largest_set(v, n);

	if (!view_text(&vw, v[w]))
		return NULL;
	/*
	 * One copy often holds most of the observations already (an earlier
	 * join): its set is in order, so only the others' are sorted, then
	 * the two merged.
	 */
	for (i = 0; i < n && gather_text(v[i], i == b ? &big : &others, &rem); i++)
		;
	if (i == n) {
		strset_sort(&others);
		strset_union(&all, &big, &others);
		strset_release(&big);
		strset_release(&others);
		e = join_gathered(&vw, &all, &rem);
	}
	view_release(&vw);
	strset_release(&all);
	strset_release(&rem);
	strset_release(&big);
	strset_release(&others);
	return e;
}

static struct entry *join_many_trees(struct entry *const *v, size_t n, size_t w)
{
	struct strset all = STRSET_INIT, rem = STRSET_INIT;
	struct entity_view *views = xcalloc(n, sizeof(*views));
	struct entry *e;

	for (size_t i = 0; i < n; i++) {
		view_tree(&views[i], v[i]);
		for (size_t k = 0; k < views[i].obs.nr; k++)
			strset_add(&all, views[i].obs.v[k].p, views[i].obs.v[k].n);
		for (size_t k = 0; k < views[i].rem.nr; k++)
			strset_add(&rem, views[i].rem.v[k].p, views[i].rem.v[k].n);
	}
	e = join_gathered(&views[w], &all, &rem);
	for (size_t i = 0; i < n; i++)
		view_release(&views[i]);
	free(views);
	strset_release(&all);
	strset_release(&rem);
	return e;
}

struct entry *crdt_join_all(struct entry *const *v, size_t n)
{
	size_t w = 0, i;
	int all_equal = 1;
	struct entry *e;

	if (n <= 2)
		return n == 2 ? crdt_join(v[0], v[1]) : n ? entry_ref(v[0]) : NULL;
	for (i = 1; i < n; i++) {
		all_equal &= entry_equal(v[0], v[i]);
		/* as a left fold of crdt_join: the earlier version wins ties */
		if (entry_cmp_version(v[i], v[w]) > 0)
			w = i;
	}
	if (all_equal)
		return entry_ref(v[0]);
	for (i = 0; i < n; i++)
		if (v[i]->kind != ENTRY_ENTITY)
			return entry_ref(v[w]);
	e = join_many_text(v, n, w);
	return e ? e : join_many_trees(v, n, w);
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
		const struct entry *in[3] = {o, a, b};
		struct entity_view v[3];
		struct entry *e = NULL;
		int n = 0;

		while (n < 3 && view_text(&v[n], in[n]))
			n++;
		if (n == 3)
			e = merge3_views(v);
		while (n > 0)
			view_release(&v[--n]);
		if (!e) {
			for (int i = 0; i < 3; i++)
				view_tree(&v[i], in[i]);
			e = merge3_views(v);
			for (int i = 0; i < 3; i++)
				view_release(&v[i]);
		}
		return e;
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

/* A merge sort by key (stable, unlike qsort), into tmp and back. */
static void sort_run(struct entry **v, struct entry **tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort_run(v, tmp, h);
	sort_run(v + h, tmp, n - h);
	if (entry_cmp_key(v[h - 1], v[h]) <= 0)
		return;
	while (i < h && j < n)
		tmp[k++] = entry_cmp_key(v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	memcpy(v, tmp, k * sizeof(*v));
}

static void entry_sort_by_key(struct entry **v, size_t n)
{
	struct entry **tmp = xmalloc((n ? n : 1) * sizeof(*tmp));

	sort_run(v, tmp, n);
	free(tmp);
}

/* Where the copies of key stand in copies (sorted by key): [*lo, *hi). */
static void key_range(const struct entry_set *copies, const struct entry *key, size_t *lo,
		      size_t *hi)
{
	size_t l = 0, h = copies->nr;

	while (l < h) {
		size_t mid = l + (h - l) / 2;
		if (entry_cmp_key(copies->v[mid], key) < 0)
			l = mid + 1;
		else
			h = mid;
	}
	*lo = *hi = l;
	while (*hi < copies->nr && !entry_cmp_key(copies->v[*hi], key))
		(*hi)++;
}

/*
 * The join of the n copies of one key in v, starting from base's join
 * when v holds every copy base joined for that key (the same entries,
 * shared by the reader, which shares them line by line and so in base's
 * order): then only the copies base did not have are joined to it,
 * instead of all of them again. The result is the same, the join being
 * associative, commutative and idempotent. NULL when base does not help.
 */
static struct entry *join_from_base(struct entry *const *v, size_t n,
				    const struct entry_set *base,
				    const struct entry_set *base_copies)
{
	size_t lo, hi, m = 0;
	struct entry *joined = NULL, *from, **rest;

	if (!base_copies || !base_copies->nr)
		return NULL;
	key_range(base_copies, v[0], &lo, &hi);
	if (hi - lo < 2 || hi - lo > n ||
	    !(from = entry_set_find(base, v[0]->key, v[0]->key_len)))
		return NULL;
	rest = xmalloc((n + 1) * sizeof(*rest));
	rest[m++] = from;
	for (size_t k = 0, j = lo; k < n; k++)
		if (j < hi && v[k] == base_copies->v[j])
			j++;
		else
			rest[m++] = v[k];
	if (m == n - (hi - lo) + 1) /* every copy of base's was there */
		joined = crdt_join_all(rest, m);
	free(rest);
	return joined;
}

int entry_set_sort_keys(struct entry_set *s, struct entry_set *copies)
{
	int strict = 1, ordered = 1;

	for (size_t i = 1; i < s->nr && ordered; i++) {
		int c = entry_cmp_key(s->v[i - 1], s->v[i]);
		strict &= c < 0;
		ordered = c <= 0;
	}
	if (strict)
		return 0;
	/* stable, so that copies of a key keep the file's order */
	if (!ordered)
		entry_sort_by_key(s->v, s->nr);
	if (copies)
		for (size_t i = 0; i < s->nr; i++)
			entry_set_append(copies, entry_ref(s->v[i]));
	return 1;
}

size_t entry_set_join_copies(struct entry_set *s, const struct entry_set *base,
			     const struct entry_set *base_copies)
{
	size_t k = 0, dups = 0;

	for (size_t i = 0; i < s->nr;) {
		size_t j = i + 1;
		while (j < s->nr && !entry_cmp_key(s->v[i], s->v[j]))
			j++;
		if (j - i == 1) {
			s->v[k++] = s->v[i];
		} else {
			/* every copy at once: linear however many there are */
			struct entry *joined =
				join_from_base(s->v + i, j - i, base, base_copies);
			if (!joined)
				joined = crdt_join_all(s->v + i, j - i);
			for (size_t m = i; m < j; m++)
				entry_unref(s->v[m]);
			s->v[k++] = joined;
			dups++;
		}
		i = j;
	}
	s->nr = k;
	return dups;
}

size_t entry_set_normalize_with(struct entry_set *s, struct entry_set *copies,
				const struct entry_set *base,
				const struct entry_set *base_copies)
{
	if (!entry_set_sort_keys(s, copies))
		return 0;
	return entry_set_join_copies(s, base, base_copies);
}

size_t entry_set_normalize(struct entry_set *s)
{
	return entry_set_normalize_with(s, NULL, NULL, NULL);
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
