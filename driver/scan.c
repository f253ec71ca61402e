/*
 * Recognising canonical entries without building trees (see scan.h).
 *
 * The rules come from where they are written once: the grammar, escapes,
 * numbers, UTF-8 and member order from json.h, the key from key.h, the
 * order of observation sets from strset.h, timestamps from stamp.h. What
 * is left here is the walk over the text and the metadata checks, which
 * mirror entry.c's. Every check that fails only means "take the general
 * path", so the two paths can never disagree about what is accepted; the
 * unit tests compare them on generated entries.
 */
#include "scan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "key.h"
#include "stamp.h"

struct span {
	size_t off, len; /* of the whole value, quotes included for strings */
};

/* A member of interest and where its value was found. */
struct field {
	const char *name;
	size_t name_len;
	struct span v;
	int found;
	struct field *sub; /* members of interest one level down, or NULL */
	size_t nsub;
};

struct scanner {
	const char *p;
	size_t len, pos;
	int depth;
	int escapes; /* the last string scanned had a backslash escape */
};

/* 1 for bytes that end a plain run inside a string. */
/* clang-format off */
static const unsigned char special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
/* clang-format on */

/*
 * Whether any of the 8 bytes of w needs a closer look inside a string: a
 * quote, a backslash, a control character or a non-ASCII byte. (The
 * classic has-zero-byte tests; exact as a yes/no answer.)
 */
static int word_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	uint64_t flags = (w - ones * 0x20) | ((q - ones) & ~q) | ((b - ones) & ~b) | w;

	return (flags & high) != 0;
}

/* A string at pos, escaped exactly as json_write_string would. */
static int scan_string(struct scanner *s)
{
	const unsigned char *u = (const unsigned char *)s->p;
	size_t i = s->pos + 1, n = s->len;

	s->escapes = 0;
	for (;;) {
		uint64_t w;
		i = json_plain_run16(u, i, n);
		while (i + 8 <= n) {
			memcpy(&w, u + i, 8);
			if (word_special(w))
				break;
			i += 8;
		}
		while (i < n && !special[u[i]])
			i++;
		if (i >= n)
			return 0;
		if (u[i] == '"') {
			s->pos = i + 1;
			return 1;
		}
		if (u[i] < 0x20)
			return 0;
		if (u[i] >= 0x80) {
			size_t k = json_utf8_len(u + i, n - i);
			if (!k)
				return 0;
			i += k;
			continue;
		}
		/*
		 * A backslash: a valid escape, and exactly the text the
		 * canonical writer would put there.
		 */
		s->escapes = 1;
		unsigned cp;
		char esc[6];
		struct json_error e;
		size_t k = json_unescape(s->p + i, n - i, &cp, &e);
		if (!k || json_escape(cp, esc) != k || memcmp(esc, u + i, k))
			return 0;
		i += k;
	}
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scanner *s)
{
	size_t bad, n = json_number_len(s->p + s->pos, s->len - s->pos, &bad);

	s->pos += n;
	return n != 0;
}

static int scan_literal(struct scanner *s, const char *word, size_t n)
{
	if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n))
		return 0;
	s->pos += n;
	return 1;
}

static int scan_value(struct scanner *s, struct field *fields, size_t nfields);

/* A member's name and its ':' at s->pos; *name and *name_len say where. */
static inline int scan_member_name(struct scanner *s, size_t *name, size_t *name_len)
{
	*name = s->pos + 1;
	if (s->pos >= s->len || s->p[s->pos] != '"' || !scan_string(s) ||
	    s->pos >= s->len || s->p[s->pos] != ':')
		return 0;
	*name_len = s->pos - 1 - *name;
	s->pos++;
	return 1;
}

static int scan_object(struct scanner *s, struct field *fields, size_t nfields)
{
	const char *prev = NULL;
	size_t prev_len = 0;
	int prev_rank = -1;

	if (++s->depth > JSON_MAX_DEPTH)
		return 0;
	s->pos++; /* '{' */
	if (s->pos < s->len && s->p[s->pos] == '}') {
		s->pos++;
		s->depth--;
		return 1;
	}
	for (;;) {
		size_t name_start, name_len;
		if (!scan_member_name(s, &name_start, &name_len) || s->escapes)
			return 0;
		const char *name = s->p + name_start;
		int rank = json_key_rank_n(name, name_len);
		if (prev) {
			if (rank < prev_rank)
				return 0;
			if (rank == prev_rank) {
				size_t m = name_len < prev_len ? name_len : prev_len;
				int c = memcmp(prev, name, m);
				if (c > 0 || (!c && prev_len >= name_len))
					return 0;
			}
		}
		prev = name;
		prev_len = name_len;
		prev_rank = rank;
		struct field *f = NULL;
		for (size_t i = 0; i < nfields; i++)
			if (fields[i].name_len == name_len &&
			    !memcmp(fields[i].name, name, name_len)) {
				f = &fields[i];
				break;
			}
		size_t vstart = s->pos;
		if (f && f->sub && s->pos < s->len && s->p[s->pos] == '{') {
			if (!scan_object(s, f->sub, f->nsub))
				return 0;
		} else if (!scan_value(s, NULL, 0)) {
			return 0;
		}
		if (f) {
			f->found = 1;
			f->v.off = vstart;
			f->v.len = s->pos - vstart;
		}
		if (s->pos >= s->len)
			return 0;
		if (s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->p[s->pos] == '}') {
			s->pos++;
			s->depth--;
			return 1;
		}
		return 0;
	}
}

static int scan_array(struct scanner *s)
{
	if (++s->depth > JSON_MAX_DEPTH)
		return 0;
	s->pos++; /* '[' */
	if (s->pos < s->len && s->p[s->pos] == ']') {
		s->pos++;
		s->depth--;
		return 1;
	}
	for (;;) {
		if (!scan_value(s, NULL, 0) || s->pos >= s->len)
			return 0;
		if (s->p[s->pos] == ',') {
			s->pos++;
			continue;
		}
		if (s->p[s->pos] == ']') {
			s->pos++;
			s->depth--;
			return 1;
		}
		return 0;
	}
}

static int scan_value(struct scanner *s, struct field *fields, size_t nfields)
{
	if (s->pos >= s->len)
		return 0;
	switch (s->p[s->pos]) {
	case '{': return scan_object(s, fields, nfields);
	case '[': return scan_array(s);
	case '"': return scan_string(s);
	case 't': return scan_literal(s, "true", 4);
	case 'f': return scan_literal(s, "false", 5);
	case 'n': return scan_literal(s, "null", 4);
	default: return scan_number(s);
	}
}

static int is_string_value(const char *p, const struct field *f)
{
	return f->found && p[f->v.off] == '"';
}

static int no_backslash(const char *p, struct span v)
{
	return !memchr(p + v.off, '\\', v.len);
}

static int is_integer_token(const char *p, struct span v)
{
	return json_is_integer(p + v.off, v.len);
}

/*
 * The strings of an array of strings without escapes (as JSON text, from
 * its '[' on), one at a time: plain_begin checks the array has no escapes
 * and sets *i and *end to its inside; plain_next returns 1 with *s set to
 * the next string, 0 after the last, -1 when it is not such an array.
 */
static int plain_begin(const char *p, size_t off, size_t len, size_t *i, size_t *end)
{
	if (len < 2 || p[off] != '[' || memchr(p + off, '\\', len))
		return 0;
	*i = off + 1;
	*end = off + len - 1;
	return 1;
}

static int plain_next(const char *p, size_t *i, size_t end, struct str *s)
{
	const char *q;

	if (*i >= end)
		return 0;
	if (p[*i] != '"' || !(q = memchr(p + *i + 1, '"', end - *i - 1)))
		return -1;
	s->p = p + *i + 1;
	s->n = (size_t)(q - s->p);
	*i = (size_t)(q - p) + 1;
	if (*i < end) {
		if (p[*i] != ',')
			return -1;
		(*i)++;
	}
	return 1;
}

/*
 * An array value that holds only strings without escapes, in strictly
 * increasing byte order (a canonical set). *count gets the number of
 * elements.
 */
static int sorted_plain_strings(const char *p, struct span v, size_t *count)
{
	struct str prev, cur;
	size_t i, end, n = 0;
	int r;

	if (!plain_begin(p, v.off, v.len, &i, &end))
		return 0;
	while ((r = plain_next(p, &i, end, &cur)) > 0) {
		if (n && str_cmp(&prev, &cur) >= 0)
			return 0;
		prev = cur;
		n++;
	}
	*count = n;
	return r == 0;
}

/* An array value (already checked as JSON) whose elements are all strings. */
static int all_string_elements(const char *p, struct span v)
{
	size_t i = v.off + 1, end = v.off + v.len - 1;

	if (p[v.off] != '[')
		return 0;
	while (i < end) {
		if (p[i] != '"')
			return 0;
		for (i++; p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		i++; /* closing quote */
		if (i < end)
			i++; /* ',' */
	}
	return 1;
}

/* Two canonical sorted string arrays (as above) share no element. */
static int disjoint(const char *p, struct span a, struct span b)
{
	size_t i, aend, j, bend;
	struct str x, y;
	int ra, rb;

	if (!plain_begin(p, a.off, a.len, &i, &aend) ||
	    !plain_begin(p, b.off, b.len, &j, &bend))
		return 0;
	ra = plain_next(p, &i, aend, &x);
	rb = plain_next(p, &j, bend, &y);
	while (ra > 0 && rb > 0) {
		int c = str_cmp(&x, &y);
		if (!c)
			return 0;
		if (c < 0)
			ra = plain_next(p, &i, aend, &x);
		else
			rb = plain_next(p, &j, bend, &y);
	}
	return 1;
}

/* The members key_kind looks at come first, in its order. */
enum { F_OBS = KEY_NR, F_META, NR_TOP };
enum { M_HOST, M_TIME, M_VERSION, M_UID, M_DELETED, M_REMOVED, NR_META };

static int check_metadata(const char *p, struct field *m, struct scan_info *info)
{
	char tmp[64];

	if (m[M_TIME].found) {
		struct span v = m[M_TIME].v;
		int is_str = p[v.off] == '"';
		size_t off = v.off + is_str, len = v.len - 2 * is_str;
		if (!no_backslash(p, v) || len >= sizeof(tmp))
			return 0;
		if (!is_str && !is_digit(p[v.off]) && p[v.off] != '-')
			return 0; /* not a string or a number */
		memcpy(tmp, p + off, len);
		tmp[len] = '\0';
		if (stamp_parse_text(tmp, is_str, &info->instant))
			return 0;
	}
	if (m[M_VERSION].found) {
		struct span v = m[M_VERSION].v;
		if (!is_integer_token(p, v) || v.len >= sizeof(tmp))
			return 0;
		memcpy(tmp, p + v.off, v.len);
		tmp[v.len] = '\0';
		errno = 0;
		info->version = strtoll(tmp, NULL, 10);
		if (errno)
			return 0;
	}
	if (m[M_HOST].found) {
		if (!is_string_value(p, &m[M_HOST]) || !no_backslash(p, m[M_HOST].v))
			return 0;
		info->host = p + m[M_HOST].v.off + 1;
		info->host_len = m[M_HOST].v.len - 2;
	}
	if (m[M_UID].found && !is_string_value(p, &m[M_UID]))
		return 0;
	if (m[M_DELETED].found) {
		struct span v = m[M_DELETED].v;
		if (v.len == 4 && !memcmp(p + v.off, "true", 4))
			info->deleted = 1;
		else if (!(v.len == 5 && !memcmp(p + v.off, "false", 5)))
			return 0;
	}
	return 1;
}

/* The members scan_canonical and scan_entity_sets look for. */
static void init_fields(struct field top[NR_TOP], struct field meta[NR_META])
{
#define FIELD(s) ((struct field){s, sizeof(s) - 1, {0, 0}, 0, NULL, 0})
	meta[M_HOST] = FIELD("host");
	meta[M_TIME] = FIELD("timestamp");
	meta[M_VERSION] = FIELD("version");
	meta[M_UID] = FIELD("unique_id");
	meta[M_DELETED] = FIELD("deleted");
	meta[M_REMOVED] = FIELD("removed_observations");
	for (int i = 0; i < KEY_NR; i++) {
		const struct key_name *k = &key_member_names[i];
		top[i] = (struct field){k->name, k->len, {0, 0}, 0, NULL, 0};
	}
	top[F_OBS] = FIELD("observations");
	top[F_META] = FIELD("_crdt_metadata");
	top[F_META].sub = meta;
	top[F_META].nsub = NR_META;
#undef FIELD
}

/*
 * What the fast path checks once the members of interest of the canonical
 * object p[0..len) are found: the metadata, the key, the observation sets.
 */
static int check_entry(const char *p, size_t len, struct field top[NR_TOP],
		       struct field meta[NR_META], struct scan_info *info,
		       struct buf *key)
{
	size_t n;

	memset(info, 0, sizeof(*info));
	info->instant = STAMP_NONE;
	info->host = "";
	if (top[F_META].found) {
		if (p[top[F_META].v.off] != '{' || !check_metadata(p, meta, info))
			return 0;
	}

	struct key_member km[KEY_NR];
	for (int i = 0; i < KEY_NR; i++) {
		km[i].text = top[i].found ? p + top[i].v.off : NULL;
		km[i].len = top[i].v.len;
	}
	info->kind = key_kind(km);
	if (info->kind == ENTRY_ENTITY) {
		size_t nrem;
		if (!top[F_OBS].found || !sorted_plain_strings(p, top[F_OBS].v, &n))
			return 0;
		if (meta[M_REMOVED].found &&
		    (!sorted_plain_strings(p, meta[M_REMOVED].v, &nrem) || !nrem ||
		     !disjoint(p, top[F_OBS].v, meta[M_REMOVED].v)))
			return 0;
		/* What scan_entity_sets would find, so that joins need not look again. */
		info->sets.obs_off = top[F_OBS].v.off;
		info->sets.obs_len = top[F_OBS].v.len;
		if (meta[M_REMOVED].found) {
			info->sets.rem_off = meta[M_REMOVED].v.off;
			info->sets.rem_len = meta[M_REMOVED].v.len;
		}
		if (top[F_META].found)
			info->sets.meta_close = top[F_META].v.off + top[F_META].v.len - 1;
	} else if (meta[M_REMOVED].found && !all_string_elements(p, meta[M_REMOVED].v)) {
		return 0; /* the general path reports it */
	}
	/*
	 * The content without "_crdt_metadata", which sorts last: the text up
	 * to that member.
	 */
	size_t body = len - 1;
	if (top[F_META].found) {
		body = top[F_META].v.off - strlen("\"_crdt_metadata\":");
		if (p[body - 1] == ',')
			body--;
	}
	key_write(key, info->kind, km, p, body);
	return 1;
}

/*
 * The fast path's one walk: the object at p[0], which must fill p[0..len)
 * unless end is given; then it may stop anywhere and *end says where.
 */
static int scan_entry(const char *p, size_t len, size_t *end, struct scan_info *info,
		      struct buf *key)
{
	struct field meta[NR_META], top[NR_TOP];

	init_fields(top, meta);
	struct scanner s = {p, len, 0, 0, 0};

	if (!len || p[0] != '{' || !scan_object(&s, top, NR_TOP))
		return 0;
	if (end)
		len = *end = s.pos;
	else if (s.pos != len)
		return 0;
	return check_entry(p, len, top, meta, info, key);
}

int scan_canonical(const char *p, size_t len, struct scan_info *info, struct buf *key)
{
	return scan_entry(p, len, NULL, info, key);
}

/* Mark the fields[] named in list[0..n) found where the list says. */
static void find_listed(const char *p, const struct json_member_at *list, size_t n,
			struct field *fields, size_t nfields)
{
	for (size_t i = 0; i < n; i++) {
		const struct json_member_at *m = &list[i];
		for (size_t k = 0; k < nfields; k++) {
			struct field *f = &fields[k];
			if (f->name_len == m->name_len &&
			    !memcmp(f->name, p + m->name, m->name_len)) {
				f->found = 1;
				f->v.off = m->value;
				f->v.len = m->value_len;
				break;
			}
		}
	}
}

int scan_compacted(const char *p, size_t len, const struct json_compact_at *at,
		   struct scan_info *info, struct buf *key)
{
	struct field meta[NR_META], top[NR_TOP];

	if (at->irregular || !len || p[0] != '{')
		return 0;
	if (!at->listed)
		return scan_canonical(p, len, info, key);
	init_fields(top, meta);
	find_listed(p, at->top, at->ntop, top, NR_TOP);
	find_listed(p, at->meta, at->nmeta, meta, NR_META);
	return check_entry(p, len, top, meta, info, key);
}

int scan_canonical_prefix(const char *p, size_t len, size_t *end, struct scan_info *info,
			  struct buf *key)
{
	return scan_entry(p, len, end, info, key);
}

int scan_removed_fits(const char *p, size_t len, const struct scan_sets *at)
{
	struct scanner s = {p, len, at->obs_off + at->obs_len, 1, 0};
	int limit = json_key_rank_n("removed_observations", 20), last = -1;
	size_t name, name_len;

	/* The members after "observations", up to the metadata. */
	while (s.pos < len && p[s.pos] == ',') {
		s.pos++;
		if (!scan_member_name(&s, &name, &name_len))
			return 0;
		if (name_len != 14 || memcmp(p + name, "_crdt_metadata", 14)) {
			if (!scan_value(&s, NULL, 0))
				return 0;
			continue;
		}
		/* Its members are in order: the last one decides. */
		if (s.pos >= len || p[s.pos++] != '{')
			return 0;
		while (s.pos < len && p[s.pos] != '}') {
			if (p[s.pos] == ',')
				s.pos++;
			if (!scan_member_name(&s, &name, &name_len))
				return 0;
			last = json_key_rank_n(p + name, name_len);
			if (!scan_value(&s, NULL, 0))
				return 0;
		}
		return s.pos < len && last < limit;
	}
	return 0;
}

int scan_split_strings(const char *text, size_t off, size_t len, struct strset *out)
{
	size_t i, end;
	struct str s;
	int r;

	if (!plain_begin(text, off, len, &i, &end))
		return 0;
	while ((r = plain_next(text, &i, end, &s)) > 0)
		strset_add(out, s.p, s.n);
	return r == 0;
}

int scan_entity_sets(const char *text, size_t len, struct scan_sets *sets)
{
	struct field meta[NR_META], top[NR_TOP];

	init_fields(top, meta);
	struct scanner s = {text, len, 0, 0, 0};

	memset(sets, 0, sizeof(*sets));
	if (!len || text[0] != '{' || !scan_object(&s, top, NR_TOP) || s.pos != len ||
	    !top[F_OBS].found || text[top[F_OBS].v.off] != '[')
		return 0;
	sets->obs_off = top[F_OBS].v.off;
	sets->obs_len = top[F_OBS].v.len;
	if (top[F_META].found) {
		if (text[top[F_META].v.off] != '{')
			return 0;
		sets->meta_close = top[F_META].v.off + top[F_META].v.len - 1;
		if (meta[M_REMOVED].found) {
			sets->rem_off = meta[M_REMOVED].v.off;
			sets->rem_len = meta[M_REMOVED].v.len;
		}
	}
	return 1;
}

/*
 * The common case of scan_sort_strings: a few strings, none repeated,
 * sorted in place without allocating. 1 done, 0 not such an array, -1 more
 * than this handles.
 */
static int sort_few_strings(struct buf *text, size_t off, size_t len, int *changed)
{
	struct str few[32];
	struct strset v = {few, 0, sizeof(few) / sizeof(*few)};
	char small[2048], *tmp = small;
	size_t i, end;
	struct str cur;
	int r;

	if (!plain_begin(text->buf, off, len, &i, &end))
		return 0;
	while ((r = plain_next(text->buf, &i, end, &cur)) > 0) {
		if (v.nr == v.alloc)
			return -1;
		few[v.nr++] = cur;
	}
	if (r < 0)
		return 0;
	if (strset_is_sorted(&v))
		return 1;
	size_t nr = v.nr;
	strset_sort(&v); /* reorders and drops repeats: no allocation */
	if (v.nr != nr)
		return -1;
	if (len > sizeof(small))
		tmp = xmalloc(len);
	/* few[] points into text: written elsewhere first */
	if (json_put_strset(tmp, &v) != len)
		BUG("a sorted set of %zu bytes changed its length", len);
	memcpy(text->buf + off, tmp, len);
	if (tmp != small)
		free(tmp);
	*changed = 1;
	return 1;
}

int scan_sort_strings(struct buf *text, size_t off, size_t len, int *changed)
{
	struct strset v = STRSET_INIT;
	struct buf out = BUF_INIT;
	int r;

	*changed = 0;
	if ((r = sort_few_strings(text, off, len, changed)) >= 0)
		return r;
	if (!scan_split_strings(text->buf, off, len, &v)) {
		strset_release(&v);
		return 0;
	}
	if (strset_is_sorted(&v)) {
		strset_release(&v);
		return 1; /* already sorted, no repeats */
	}
	strset_sort(&v);
	buf_grow(&out, text->len);
	buf_add(&out, text->buf, off);
	json_write_strset(&out, &v);
	buf_add(&out, text->buf + off + len, text->len - (off + len));
	strset_release(&v);
	buf_release(text);
	*text = out;
	*changed = 1;
	return 1;
}
