/*
 * Helpers shared by the unit tests; see helpers.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "json.h"

struct deferred {
	void *p;
	void (*fn)(void *);
};

static struct deferred *deferred;
static size_t deferred_nr, deferred_alloc;

void *t_defer(void *p, void (*fn)(void *))
{
	if (!p)
		return p;
	if (deferred_nr == deferred_alloc) {
		deferred_alloc = deferred_alloc ? 2 * deferred_alloc : 64;
		deferred = realloc(deferred, deferred_alloc * sizeof(*deferred));
		cr_assert(deferred != NULL, "out of memory");
	}
	deferred[deferred_nr].p = p;
	deferred[deferred_nr].fn = fn;
	deferred_nr++;
	return p;
}

void t_cleanup(void)
{
	while (deferred_nr) {
		deferred_nr--;
		deferred[deferred_nr].fn(deferred[deferred_nr].p);
	}
	free(deferred);
	deferred = NULL;
	deferred_alloc = 0;
}

static void unref_entry(void *p)
{
	entry_unref(p);
}

static void release_memfile(void *p)
{
	memfile_release(p);
	free(p);
}

static void release_set(void *p)
{
	entry_set_release(p);
	free(p);
}

static void delete_json(void *p)
{
	cJSON_Delete(p);
}

char *q(const char *s)
{
	char *r = strdup(s);
	cr_assert(r != NULL);
	for (char *c = r; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t_defer(r, free);
}

char *tfmt(const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return t_defer(buf_detach(&b, NULL), free);
}

char *t_write_temp(const char *data, size_t len)
{
	char *path = tfmt("/tmp/crdtmem-test-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

struct entry *E_raw(const char *text, size_t len)
{
	struct buf err = BUF_INIT;
	struct entry *e = entry_parse(text, len, &err);

	cr_assert(e != NULL, "entry rejected: %s\n  input: %.*s", err.buf,
		  (int)(len > 300 ? 300 : len), text);
	buf_release(&err);
	return t_defer(e, unref_entry);
}

struct entry *E(const char *json)
{
	const char *t = q(json);
	return E_raw(t, strlen(t));
}

const char *E_ERR(const char *json)
{
	const char *t = q(json);
	struct buf err = BUF_INIT;
	struct entry *e = entry_parse(t, strlen(t), &err);

	cr_assert(e == NULL, "entry accepted but should be rejected: %s\n  got: %s", t,
		  T(e));
	cr_assert(err.len > 0, "rejected without a reason: %s", t);
	return t_defer(buf_detach(&err, NULL), free);
}

struct entry *keep(struct entry *e)
{
	return t_defer(e, unref_entry);
}

const char *T(const struct entry *e)
{
	char *s;

	if (!e)
		return "(absent)";
	/* text need not end in a NUL: entries read from a file borrow it */
	s = malloc(e->text_len + 1);
	cr_assert(s != NULL);
	memcpy(s, e->text, e->text_len);
	s[e->text_len] = '\0';
	return t_defer(s, free);
}

struct memfile *MF_raw(const char *data, size_t len)
{
	struct memfile *mf = calloc(1, sizeof(*mf));
	struct memfile init = MEMFILE_INIT;
	struct buf err = BUF_INIT;

	cr_assert(mf != NULL);
	*mf = init;
	int r = memfile_parse(mf, data, len, &err);
	cr_assert_eq(r, 0, "file rejected: %s\n  input: %.*s", err.buf,
		     (int)(len > 300 ? 300 : len), data);
	buf_release(&err);
	return t_defer(mf, release_memfile);
}

struct memfile *MF(const char *data)
{
	const char *t = q(data);
	return MF_raw(t, strlen(t));
}

const char *MF_ERR_raw(const char *data, size_t len)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;
	int r = memfile_parse(&mf, data, len, &err);

	cr_assert_eq(r, -1, "file accepted but should be rejected: %.*s", (int)len, data);
	cr_assert_eq(mf.set.nr, 0, "a rejected file must leave the memfile empty");
	cr_assert(err.len > 0, "rejected without a message: %.*s", (int)len, data);
	memfile_release(&mf);
	return t_defer(buf_detach(&err, NULL), free);
}

const char *MF_ERR(const char *data)
{
	const char *t = q(data);
	return MF_ERR_raw(t, strlen(t));
}

const char *ser(const struct entry_set *s, enum memfile_format fmt)
{
	struct buf out = BUF_INIT;

	memfile_serialize(s, fmt, &out);
	return t_defer(buf_detach(&out, NULL), free);
}

struct entry_set *set_of(struct entry *const *v, size_t n)
{
	struct entry_set *s = calloc(1, sizeof(*s));

	cr_assert(s != NULL);
	for (size_t i = 0; i < n; i++)
		entry_set_append(s, entry_ref(v[i]));
	entry_set_normalize(s);
	return t_defer(s, release_set);
}

static const char *string_list(const cJSON *arr)
{
	struct buf b = BUF_INIT;
	const cJSON *it;
	int first = 1;

	if (!arr)
		return tfmt("%s", "");
	cr_assert(cJSON_IsArray(arr), "expected an array");
	cJSON_ArrayForEach(it, arr)
	{
		cr_assert(cJSON_IsString(it), "expected a string in the array");
		if (!first)
			buf_addch(&b, '|');
		buf_addstr(&b, it->valuestring);
		first = 0;
	}
	return t_defer(buf_detach(&b, NULL), free);
}

const char *obs(const struct entry *e)
{
	cJSON *j = t_defer(entry_to_json(e), delete_json);

	cr_assert(j != NULL);
	return string_list(cJSON_GetObjectItemCaseSensitive(j, "observations"));
}

const char *removed(const struct entry *e)
{
	cJSON *j = t_defer(entry_to_json(e), delete_json);
	cJSON *md;

	cr_assert(j != NULL);
	md = cJSON_GetObjectItemCaseSensitive(j, "_crdt_metadata");
	if (!md)
		return "";
	return string_list(cJSON_GetObjectItemCaseSensitive(md, "removed_observations"));
}

const char *member(const struct entry *e, const char *name)
{
	cJSON *j = t_defer(entry_to_json(e), delete_json);
	cJSON *m;
	struct buf b = BUF_INIT;

	cr_assert(j != NULL);
	m = cJSON_GetObjectItemCaseSensitive(j, name);
	if (!m)
		return NULL;
	json_write(&b, m);
	return t_defer(buf_detach(&b, NULL), free);
}

int utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		unsigned need, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

void assert_kept_sets(const struct entry *e)
{
	struct scan_sets kept, found;

	cr_assert(e->has_sets, "the entry keeps no set positions: %.*s", (int)e->text_len,
		  e->text);
	cr_assert(entry_sets(e, &kept));
	cr_assert(scan_entity_sets(e->text, e->text_len, &found));
	cr_assert_eq(kept.obs_off, found.obs_off);
	cr_assert_eq(kept.obs_len, found.obs_len);
	cr_assert_eq(kept.rem_off, found.rem_off);
	cr_assert_eq(kept.rem_len, found.rem_len);
	cr_assert_eq(kept.meta_close, found.meta_close);
}

void assert_same_text(const char *actual, const char *expected, const char *what)
{
	size_t i = 0, la = strlen(actual), le = strlen(expected);

	while (i < la && i < le && actual[i] == expected[i])
		i++;
	if (i == la && i == le)
		return;
	size_t from = i > 40 ? i - 40 : 0;
	cr_assert_fail("%s: lengths %zu and %zu, first difference at byte %zu:\n"
		       "  actual:   ...%.80s\n  expected: ...%.80s",
		       what, la, le, i, actual + from, expected + from);
}
