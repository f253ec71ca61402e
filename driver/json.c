/*
 * Strict JSON parser producing cJSON trees, and the canonical writer
 * (see json.h for why the tool parses JSON itself).
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/*
 * cJSON allocates through xmalloc, which dies on running out of memory, so
 * no caller checks cJSON's results for NULL. The hooks are installed by a
 * constructor rather than by an init call in main: the unit tests link
 * every object but main.o and get them too, and no cJSON call can come
 * before them. (cJSON frees with the free() given here, so a tree made
 * before the hooks would still be freed correctly; there are none.)
 */
__attribute__((constructor)) static void json_init_allocator(void)
{
	cJSON_Hooks hooks = {.malloc_fn = xmalloc, .free_fn = free};

	cJSON_InitHooks(&hooks);
}

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	int depth;
	struct json_error *err;
	struct buf scratch; /* decoded strings */
	/* json_compact: what it says of the top-level object, or NULL */
	struct json_compact_at *at;
	int irregular;	  /* json_compact: see json_compact_at */
	int in_meta;	  /* json_compact: copying the top level's "_crdt_metadata" */
	size_t meta_from; /* json_compact: where its object started in out */
	/* json_compact: the members of the objects being copied, innermost last */
	struct member_span {
		size_t start, end; /* in out: from the name's quote to the value's end */
		size_t name_len;   /* the name's, at start + 1 */
		int rank;	   /* json_key_rank_n of the name */
	} * members;
	size_t nmembers, alloc_members;
};

static int fail(struct parser *p, size_t at, const char *msg)
{
	if (p->err) {
		p->err->offset = at;
		p->err->msg = msg;
	}
	return -1;
}

static void skip_ws_slow(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* Most values follow their ',' or ':' at once: no call for those. */
static inline void skip_ws(struct parser *p)
{
	if (p->pos < p->len && (unsigned char)p->text[p->pos] > ' ')
		return;
	skip_ws_slow(p);
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_add(b, s, n);
}

const char json_escapes[128] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b',	     't',	    'n', 'u',
	'f', 'r', 'u', 'u', 'u', 'u', 'u', 'u', 'u',	     'u',	    'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', ['"'] = '"', ['\\'] = '\\',
};

size_t json_escape(unsigned cp, char out[6])
{
	static const char hex[] = "0123456789abcdef";

	if (cp >= 0x80 || !json_escapes[cp])
		return 0;
	out[0] = '\\';
	out[1] = json_escapes[cp];
	if (out[1] != 'u')
		return 2;
	out[2] = out[3] = '0';
	out[4] = hex[cp >> 4];
	out[5] = hex[cp & 15];
	return 6;
}

static size_t unescape_fail(struct json_error *err, size_t at, const char *msg)
{
	err->offset = at;
	err->msg = msg;
	return 0;
}

size_t json_unescape(const char *t, size_t n, unsigned *cp, struct json_error *err)
{
	size_t at = 0;
	unsigned lo;

	if (n < 2)
		return unescape_fail(err, 0, "unterminated string");
	switch (t[1]) {
	case '"': *cp = '"'; return 2;
	case '\\': *cp = '\\'; return 2;
	case '/': *cp = '/'; return 2;
	case 'b': *cp = '\b'; return 2;
	case 'f': *cp = '\f'; return 2;
	case 'n': *cp = '\n'; return 2;
	case 'r': *cp = '\r'; return 2;
	case 't': *cp = '\t'; return 2;
	case 'u': break;
	default: return unescape_fail(err, 0, "invalid escape in string");
	}
	if (n < 6 || hex4(t + 2, cp))
		return unescape_fail(err, 0, "invalid \\u escape");
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return unescape_fail(err, 0, "lone low surrogate in \\u escape");
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (n < 12 || t[6] != '\\' || t[7] != 'u' || hex4(t + 8, &lo) ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return unescape_fail(err, 0, "lone high surrogate in \\u escape");
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
		at = 6;
	}
	if (*cp == 0)
		return unescape_fail(err, at, "\\u0000 in a string is not supported");
	return at + 6;
}

/* Decode the escape at t[*i] for the parser, moving *i past it. */
static int unescape(struct parser *p, size_t *i, unsigned *cp)
{
	struct json_error e;
	size_t k = json_unescape(p->text + *i, p->len - *i, cp, &e);

	if (!k)
		return fail(p, *i + e.offset, e.msg);
	*i += k;
	return 0;
}

/* Decode the string starting at the opening quote into p->scratch. */
static int parse_string(struct parser *p)
{
	const char *t = p->text;
	size_t i = p->pos + 1;

	buf_reset(&p->scratch);
	for (;;) {
		size_t start = i;
		while (i < p->len) {
			unsigned char c = (unsigned char)t[i];
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				break;
			i++;
		}
		buf_add(&p->scratch, t + start, i - start);
		if (i >= p->len)
			return fail(p, i, "unterminated string");
		unsigned char c = (unsigned char)t[i];
		if (c == '"') {
			p->pos = i + 1;
			return 0;
		}
		if (c < 0x20)
			return fail(p, i, "control character in string");
		if (c >= 0x80) {
			size_t n =
				json_utf8_len((const unsigned char *)t + i, p->len - i);
			if (!n)
				return fail(p, i, "invalid UTF-8");
			buf_add(&p->scratch, t + i, n);
			i += n;
			continue;
		}
		/* a backslash */
		unsigned cp;
		if (unescape(p, &i, &cp))
			return -1;
		put_utf8(&p->scratch, cp);
	}
}

/* Check the number at p->pos and move past it. */
static int number_end(struct parser *p)
{
	size_t bad = 0, n = json_number_len(p->text + p->pos, p->len - p->pos, &bad);

	if (!n)
		return fail(p, p->pos + bad, "invalid number");
	p->pos += n;
	return 0;
}

static cJSON *parse_number(struct parser *p)
{
	size_t start = p->pos;
	char small[64];
	cJSON *item;

	if (number_end(p))
		return NULL;
	if (p->pos - start < sizeof(small)) {
		memcpy(small, p->text + start, p->pos - start);
		small[p->pos - start] = '\0';
		item = cJSON_CreateRaw(small);
	} else {
		char *s = xmemdup0(p->text + start, p->pos - start);
		item = cJSON_CreateRaw(s);
		free(s);
	}
	return item;
}

static cJSON *parse_value(struct parser *p);

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Whether an object has two members of the same name. */
static int has_duplicate_names(const cJSON *obj, size_t count)
{
	const cJSON *a, *b;

	if (count < 2)
		return 0;
	if (count <= 16) {
		for (a = obj->child; a; a = a->next)
			for (b = a->next; b; b = b->next)
				if (!strcmp(a->string, b->string))
					return 1;
		return 0;
	}
	const char **names = xmalloc(count * sizeof(*names));
	size_t n = 0;
	int dup = 0;
	cJSON_ArrayForEach(a, obj) names[n++] = a->string;
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 1; i < n && !dup; i++)
		dup = !strcmp(names[i - 1], names[i]);
	free(names);
	return dup;
}

static cJSON *parse_object(struct parser *p)
{
	size_t open = p->pos, count = 0;
	cJSON *obj = cJSON_CreateObject();

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->text[p->pos] == '}') {
		p->pos++;
		return obj;
	}
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len || p->text[p->pos] != '"') {
			fail(p, p->pos,
			     p->pos >= p->len ? "unterminated object"
					      : "expected a member name");
			goto bad;
		}
		if (parse_string(p))
			goto bad;
		char *name = xmemdup0(p->scratch.buf, p->scratch.len);
		skip_ws(p);
		if (p->pos >= p->len || p->text[p->pos] != ':') {
			free(name);
			fail(p, p->pos, "expected ':'");
			goto bad;
		}
		p->pos++;
		cJSON *value = parse_value(p);
		if (!value) {
			free(name);
			goto bad;
		}
		cJSON_AddItemToObject(obj, name, value);
		free(name);
		count++;
		skip_ws(p);
		if (p->pos < p->len && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == '}') {
			p->pos++;
			break;
		}
		fail(p, p->pos,
		     p->pos >= p->len ? "unterminated object" : "expected ',' or '}'");
		goto bad;
	}
	if (has_duplicate_names(obj, count)) {
		fail(p, open, "duplicate member name in object");
		goto bad;
	}
	return obj;
bad:
	cJSON_Delete(obj);
	return NULL;
}

static cJSON *parse_array(struct parser *p)
{
	cJSON *arr = cJSON_CreateArray();

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->text[p->pos] == ']') {
		p->pos++;
		return arr;
	}
	for (;;) {
		cJSON *value = parse_value(p);
		if (!value)
			goto bad;
		cJSON_AddItemToArray(arr, value);
		skip_ws(p);
		if (p->pos < p->len && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == ']') {
			p->pos++;
			break;
		}
		fail(p, p->pos,
		     p->pos >= p->len ? "unterminated array" : "expected ',' or ']'");
		goto bad;
	}
	return arr;
bad:
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *parse_literal(struct parser *p, const char *word, cJSON *item)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n)) {
		cJSON_Delete(item);
		fail(p, p->pos, "invalid literal");
		return NULL;
	}
	p->pos += n;
	return item;
}

static cJSON *parse_value(struct parser *p)
{
	cJSON *v;

	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->pos, "unexpected end of input"), NULL;
	switch (p->text[p->pos]) {
	case '{':
	case '[':
		if (++p->depth > JSON_MAX_DEPTH)
			return fail(p, p->pos, "nested too deeply"), NULL;
		v = p->text[p->pos] == '{' ? parse_object(p) : parse_array(p);
		p->depth--;
		return v;
	case '"':
		if (parse_string(p))
			return NULL;
		return cJSON_CreateString(p->scratch.buf);
	case 't': return parse_literal(p, "true", cJSON_CreateTrue());
	case 'f': return parse_literal(p, "false", cJSON_CreateFalse());
	case 'n': return parse_literal(p, "null", cJSON_CreateNull());
	default:
		if (p->text[p->pos] == '-' ||
		    (p->text[p->pos] >= '0' && p->text[p->pos] <= '9'))
			return parse_number(p);
		return fail(p, p->pos, "unexpected character"), NULL;
	}
}

cJSON *json_parse_prefix(const char *text, size_t len, size_t *end,
			 struct json_error *err)
{
	struct parser p = {.text = text, .len = len, .err = err, .scratch = BUF_INIT};
	cJSON *v = parse_value(&p);

	buf_release(&p.scratch);
	if (v && end)
		*end = p.pos;
	return v;
}

cJSON *json_parse(const char *text, size_t len, struct json_error *err)
{
	struct parser p = {.text = text, .len = len, .err = err, .scratch = BUF_INIT};
	cJSON *v = parse_value(&p);

	buf_release(&p.scratch);
	if (!v)
		return NULL;
	skip_ws(&p);
	if (p.pos < len) {
		fail(&p, p.pos, "unexpected text after the JSON value");
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/*
 * The compactor: one pass that copies a value without white space and with
 * strings escaped canonically. It uses the parser's own string decoding, so
 * it accepts exactly what the parser accepts.
 */
static int compact_value(struct parser *p, struct buf *out);

/* Append code point cp as the canonical writer would inside a string. */
static void put_canonical(struct buf *out, unsigned cp)
{
	char esc[6];
	size_t n = json_escape(cp, esc);

	if (n)
		buf_add(out, esc, n);
	else
		put_utf8(out, cp);
}

/*
 * Copy the string at p->pos to out escaped canonically, decoding escapes
 * straight into the output (the same rules as parse_string).
 */
/* One byte, without a call when there is room (the compactor's hot path). */
static inline void put_ch(struct buf *out, char c)
{
	if (out->len + 1 < out->alloc) {
		out->buf[out->len++] = c;
		out->buf[out->len] = '\0';
	} else {
		buf_addch(out, c);
	}
}

/*
 * The end of the run of plain ASCII string bytes (no quote, backslash,
 * control or non-ASCII byte) that starts at u[i]: json_plain_run16, then
 * byte by byte.
 */
static inline size_t plain_run(const unsigned char *u, size_t i, size_t n)
{
	i = json_plain_run16(u, i, n);
	while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
		i++;
	return i;
}

static int compact_string(struct parser *p, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p->text;
	size_t i = p->pos + 1, n = p->len;

	put_ch(out, '"');
	for (;;) {
		size_t start = i;
		for (;;) {
			i = plain_run(u, i, n);
			if (i >= n || u[i] < 0x80)
				break;
			size_t k = json_utf8_len(u + i, n - i);
			if (!k)
				return fail(p, i, "invalid UTF-8");
			i += k;
		}
		buf_add(out, u + start, i - start);
		if (i >= n)
			return fail(p, i, "unterminated string");
		if (u[i] == '"')
			break;
		if (u[i] < 0x20)
			return fail(p, i, "control character in string");
		/* a backslash */
		unsigned cp;
		if (unescape(p, &i, &cp))
			return -1;
		put_canonical(out, cp);
	}
	put_ch(out, '"');
	p->pos = i + 1;
	return 0;
}

static void push_member(struct parser *p, const struct buf *out, size_t start,
			size_t name_len, size_t end)
{
	if (p->nmembers == p->alloc_members) {
		p->alloc_members = p->alloc_members ? 2 * p->alloc_members : 32;
		p->members = xrealloc(p->members, p->alloc_members * sizeof(*p->members));
	}
	p->members[p->nmembers].start = start;
	p->members[p->nmembers].end = end;
	p->members[p->nmembers].name_len = name_len;
	p->members[p->nmembers].rank = json_key_rank_n(out->buf + start + 1, name_len);
	p->nmembers++;
}

/* The canonical order of two members' names (as compacted text in out). */
static _Thread_local const char *member_text; /* cmp_spans's: qsort has no context */

static int cmp_member_names(const struct member_span *a, const struct member_span *b)
{
	const char *na = member_text + a->start + 1, *nb = member_text + b->start + 1;
	size_t la = a->name_len, lb = b->name_len;
	int c;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	c = memcmp(na, nb, la < lb ? la : lb);
	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

static int cmp_spans(const void *x, const void *y)
{
	const struct member_span *a = x, *b = y;
	int c = cmp_member_names(a, b);

	if (c)
		return c;
	return a->start < b->start ? -1 : a->start > b->start; /* stable */
}

/*
 * Put the members m[0..n) of the object just copied to out in canonical
 * order, so that formatted input whose members come in another order (as
 * other tools write them) still takes the fast path; m then says where
 * each member is now. A name that comes twice stays next to its twin and
 * marks the copy irregular: the fast path refuses it and the general path
 * reports it.
 */
static void order_members(struct parser *p, struct buf *out, struct member_span *m,
			  size_t n)
{
	int sorted = 1;

	member_text = out->buf;
	for (size_t i = 1; i < n && sorted; i++) {
		int c = cmp_member_names(&m[i - 1], &m[i]);
		if (!c)
			p->irregular = 1;
		sorted = c <= 0;
	}
	if (sorted)
		return;

	size_t from = m[0].start, pos = from;
	char *tmp = xmalloc(out->len - from); /* the members, up to the '}' */

	qsort(m, n, sizeof(*m), cmp_spans);
	for (size_t i = 1; i < n; i++)
		if (!cmp_member_names(&m[i - 1], &m[i]))
			p->irregular = 1;

	for (size_t i = 0; i < n; i++) {
		size_t len = m[i].end - m[i].start;
		if (i)
			tmp[pos++ - from] = ',';
		memcpy(tmp + (pos - from), out->buf + m[i].start, len);
		m[i].start = pos;
		m[i].end = pos + len;
		pos += len;
	}
	memcpy(out->buf + from, tmp, pos - from);
	free(tmp);
}

/* Say in list[] where the members m[0..n) of an object went. */
static int list_members(struct json_member_at *list, size_t *nlist,
			const struct member_span *m, size_t n)
{
	if (n > JSON_COMPACT_MEMBERS)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct json_member_at *t = &list[i];
		t->name = m[i].start + 1;
		t->name_len = m[i].name_len;
		t->value = t->name + t->name_len + 2; /* past '":' */
		t->value_len = m[i].end - t->value;
	}
	*nlist = n;
	return 1;
}

/*
 * The top-level object's members m[0..n) are in place: say where they went,
 * and move the metadata's members by as much as their object moved.
 */
static void record_top(struct parser *p, const char *text, const struct member_span *m,
		       size_t n)
{
	struct json_compact_at *at = p->at;

	if (!list_members(at->top, &at->ntop, m, n)) {
		at->listed = 0;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct json_member_at *t = &at->top[i];
		const char *name = text + t->name;
		size_t *where = NULL;
		if (t->name_len == 12 && !memcmp(name, "observations", 12))
			where = at->obs;
		else if (t->name_len == 2 && !memcmp(name, "id", 2))
			where = at->id;
		else if (t->name_len == 14 && !memcmp(name, "_crdt_metadata", 14) &&
			 text[t->value] == '{')
			for (size_t k = 0; k < at->nmeta; k++) {
				at->meta[k].name += t->value - p->meta_from;
				at->meta[k].value += t->value - p->meta_from;
			}
		if (where) {
			where[0] = t->value;
			where[1] = t->value_len;
		}
	}
}

static int compact_container(struct parser *p, struct buf *out, char close)
{
	int object = close == '}';
	size_t base = p->nmembers;

	if (++p->depth > JSON_MAX_DEPTH)
		return fail(p, p->pos, "nested too deeply");
	if (p->depth == 2 && p->in_meta)
		p->meta_from = out->len;
	put_ch(out, p->text[p->pos++]);
	skip_ws(p);
	if (p->pos < p->len && p->text[p->pos] == close) {
		put_ch(out, close);
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		size_t mstart = out->len;
		skip_ws(p);
		if (object) {
			mstart = out->len;
			if (p->pos >= p->len || p->text[p->pos] != '"' ||
			    compact_string(p, out))
				return fail(p, p->pos, "expected a member name");
			if (memchr(out->buf + mstart + 1, '\\', out->len - mstart - 2))
				p->irregular = 1; /* the fast path takes plain names */
			skip_ws(p);
			if (p->pos >= p->len || p->text[p->pos] != ':')
				return fail(p, p->pos, "expected ':'");
			put_ch(out, ':');
			p->pos++;
		}
		size_t vstart = out->len;
		if (p->depth == 1) /* the members of the metadata are listed too */
			p->in_meta =
				object && p->at && vstart - mstart == 17 &&
				!memcmp(out->buf + mstart, "\"_crdt_metadata\":", 17);
		if (compact_value(p, out))
			return -1;
		if (p->depth == 1)
			p->in_meta = 0;
		if (object) /* the name is between '"' and '":' */
			push_member(p, out, mstart, vstart - mstart - 3, out->len);
		skip_ws(p);
		if (p->pos < p->len && p->text[p->pos] == ',') {
			put_ch(out, ',');
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == close) {
			if (object) {
				struct member_span *m = p->members + base;
				size_t n = p->nmembers - base;
				order_members(p, out, m, n);
				if (p->depth == 1 && p->at)
					record_top(p, out->buf, m, n);
				if (p->depth == 2 && p->in_meta &&
				    !list_members(p->at->meta, &p->at->nmeta, m, n))
					p->at->listed = 0;
			}
			p->nmembers = base;
			put_ch(out, close);
			p->pos++;
			p->depth--;
			return 0;
		}
		return fail(p, p->pos, "expected ',' or the end of the container");
	}
}

static int compact_value(struct parser *p, struct buf *out)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->pos, "unexpected end of input");
	switch (p->text[p->pos]) {
	case '{': return compact_container(p, out, '}');
	case '[': return compact_container(p, out, ']');
	case '"': return compact_string(p, out);
	case 't':
	case 'f':
	case 'n': {
		const char *word = p->text[p->pos] == 't'   ? "true"
				   : p->text[p->pos] == 'f' ? "false"
							    : "null";
		size_t n = strlen(word);
		if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n))
			return fail(p, p->pos, "invalid literal");
		buf_add(out, word, n);
		p->pos += n;
		return 0;
	}
	default: {
		size_t start = p->pos;
		if (number_end(p))
			return -1;
		buf_add(out, p->text + start, p->pos - start);
		return 0;
	}
	}
}

int json_compact(const char *text, size_t len, size_t *end, struct buf *out,
		 struct json_compact_at *at)
{
	struct parser p = {.text = text, .len = len, .scratch = BUF_INIT, .at = at};
	size_t start = out->len;
	int ret;

	if (at) { /* top[] is filled as far as ntop says */
		memset(at->obs, 0, sizeof(at->obs));
		memset(at->id, 0, sizeof(at->id));
		at->ntop = at->nmeta = 0;
		at->listed = 1;
	}
	ret = compact_value(&p, out);
	buf_release(&p.scratch);
	free(p.members);
	if (ret)
		buf_setlen(out, start);
	else
		*end = p.pos;
	if (at)
		at->irregular = p.irregular;
	return ret;
}

static const char *const ranked_names[] = {
	"type",	     "id",	     "name",	  "entityType",	  "from",
	"to",	     "relationType", "content",	  "observations", "host",
	"timestamp", "version",	     "unique_id", "deleted",	  "removed_observations",
};
#define RANK_OTHER    100
#define RANK_METADATA 200

int json_key_rank_n(const char *name, size_t len)
{
	/*
	 * The ranked names of each length, as rank + 1 (0 ends a row), so
	 * that the lookup, which runs for every member read, compares little.
	 */
	static const unsigned char by_len[21][5] = {
		[2] = {1 + 1, 5 + 1},
		[4] = {0 + 1, 2 + 1, 4 + 1, 9 + 1},
		[7] = {7 + 1, 11 + 1, 13 + 1},
		[9] = {10 + 1, 12 + 1},
		[10] = {3 + 1},
		[12] = {6 + 1, 8 + 1},
		[20] = {14 + 1},
	};

	if (len == 14 && !memcmp(name, "_crdt_metadata", 14))
		return RANK_METADATA;
	if (len < sizeof(by_len) / sizeof(*by_len))
		for (int i = 0; by_len[len][i]; i++) {
			int r = by_len[len][i] - 1;
			if (!memcmp(name, ranked_names[r], len))
				return r;
		}
	return RANK_OTHER;
}

int json_key_rank(const char *name)
{
	return json_key_rank_n(name, strlen(name));
}

int json_key_cmp(const char *a, const char *b)
{
	int ra = json_key_rank(a), rb = json_key_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return strcmp(a, b);
}

void json_write_string(struct buf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	buf_addch(out, '"');
	for (;;) {
		size_t start = i;
		/* stops at the NUL too: json_escapes[0] is set */
		while (u[i] >= 0x80 || !json_escapes[u[i]])
			i++;
		buf_add(out, s + start, i - start);
		if (!u[i])
			break;
		char esc[6];
		buf_add(out, esc, json_escape(u[i], esc));
		i++;
	}
	buf_addch(out, '"');
}

static int cmp_members(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;

	return json_key_cmp(a->string, b->string);
}

static void write_number(struct buf *out, double d)
{
	char tmp[64];

	if (d == (double)(long long)d && d > -1e18 && d < 1e18)
		snprintf(tmp, sizeof(tmp), "%lld", (long long)d);
	else
		snprintf(tmp, sizeof(tmp), "%.17g", d);
	buf_addstr(out, tmp);
}

void json_write(struct buf *out, const cJSON *item)
{
	const cJSON *c;

	switch (item->type & 0xFF) {
	case cJSON_False: buf_add(out, "false", 5); return;
	case cJSON_True: buf_add(out, "true", 4); return;
	case cJSON_NULL: buf_add(out, "null", 4); return;
	case cJSON_Raw: buf_addstr(out, item->valuestring); return;
	case cJSON_Number: write_number(out, item->valuedouble); return;
	case cJSON_String: json_write_string(out, item->valuestring); return;
	case cJSON_Array:
		buf_addch(out, '[');
		cJSON_ArrayForEach(c, item)
		{
			if (c != item->child)
				buf_addch(out, ',');
			json_write(out, c);
		}
		buf_addch(out, ']');
		return;
	case cJSON_Object: {
		const cJSON *stack[16], **members = stack;
		size_t n = 0;
		cJSON_ArrayForEach(c, item) n++;
		if (n > sizeof(stack) / sizeof(*stack))
			members = xmalloc(n * sizeof(*members));
		n = 0;
		cJSON_ArrayForEach(c, item) members[n++] = c;
		qsort(members, n, sizeof(*members), cmp_members);
		buf_addch(out, '{');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addch(out, ',');
			json_write_string(out, members[i]->string);
			buf_addch(out, ':');
			json_write(out, members[i]);
		}
		buf_addch(out, '}');
		if (members != stack)
			free(members);
		return;
	}
	default: BUG("json_write: unknown item type %d", item->type);
	}
}

cJSON *json_new_int(long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	return cJSON_CreateRaw(tmp);
}

void json_strset_add_array(struct strset *s, const cJSON *arr)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, arr)
	{
		if (cJSON_IsString(c))
			strset_add(s, c->valuestring, strlen(c->valuestring));
	}
}

cJSON *json_strset_array(const struct strset *s)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < s->nr; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(s->v[i].p));
	return arr;
}

size_t json_strset_size(const struct strset *s)
{
	size_t n = 2; /* [] */

	for (size_t i = 0; i < s->nr; i++)
		n += s->v[i].n + 2 +
		     !!i; /* the quotes, and a comma before all but the first */
	return n;
}

size_t json_put_strset(char *out, const struct strset *s)
{
	size_t k = 0;

	out[k++] = '[';
	for (size_t i = 0; i < s->nr; i++) {
		if (i)
			out[k++] = ',';
		out[k++] = '"';
		memcpy(out + k, s->v[i].p, s->v[i].n);
		k += s->v[i].n;
		out[k++] = '"';
	}
	out[k++] = ']';
	return k;
}

void json_write_strset(struct buf *out, const struct strset *s)
{
	buf_grow(out, json_strset_size(s));
	buf_setlen(out, out->len + json_put_strset(out->buf + out->len, s));
}
