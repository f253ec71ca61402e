/*
 * The live memory file as the memory server has it (see livefile.h).
 */
#include "livefile.h"

#include "diag.h"
#include "memfile.h"

size_t livefile_count_live(const struct entry_set *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr; i++)
		n += !s->v[i]->deleted;
	return n;
}

size_t livefile_count_foreign(const struct entry_set *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr; i++)
		n += s->v[i]->kind != ENTRY_ENTITY && s->v[i]->kind != ENTRY_RELATION;
	return n;
}

void livefile_deletable(const struct entry_set *prev, const struct entry_set *next,
			struct entry_set *out)
{
	for (size_t i = 0; i < prev->nr; i++) {
		struct entry *e = prev->v[i];
		int foreign = e->kind != ENTRY_ENTITY && e->kind != ENTRY_RELATION;
		if (!foreign || entry_set_find(next, e->key, e->key_len))
			entry_set_append(out, entry_ref(e));
	}
	entry_set_normalize(out);
}

int livefile_is_mass_loss(size_t prev_live, size_t next_live)
{
	if (!prev_live)
		return 0;
	if (!next_live)
		return 1;
	return prev_live >= LIVEFILE_LOSS_MIN && next_live * 2 < prev_live;
}

void livefile_strip(const struct entry_set *s, struct entry_set *out)
{
	for (size_t i = 0; i < s->nr; i++) {
		const struct entry *e = s->v[i];
		struct buf err = BUF_INIT;
		cJSON *tree;
		struct entry *bare;

		if (e->deleted)
			continue;
		tree = entry_to_json(e);
		cJSON_DeleteItemFromObjectCaseSensitive(tree, "_crdt_metadata");
		bare = entry_from_json(tree, &err);
		if (!bare)
			die("BUG: an entry without its metadata is invalid: %s", err.buf);
		buf_release(&err);
		entry_set_append(out, bare);
	}
	entry_set_normalize(out);
}

/* Append the entries of s whose kind is (or, with others, is not) kind. */
static size_t serialize_group(const struct entry_set *s, enum entry_kind kind, int others,
			      struct buf *out)
{
	struct entry_set group = ENTRY_SET_INIT;
	size_t n;

	for (size_t i = 0; i < s->nr; i++) {
		enum entry_kind k = s->v[i]->kind;
		int in_group =
			others ? k != ENTRY_ENTITY && k != ENTRY_RELATION : k == kind;
		if (in_group)
			entry_set_append(&group, entry_ref(s->v[i]));
	}
	n = group.nr;
	if (n && out->len)
		buf_addch(out, '\n');
	memfile_serialize(&group, MEMFILE_JSONL, out);
	/* memfile_serialize ends the last line; the server does not. */
	if (n && out->len && out->buf[out->len - 1] == '\n')
		buf_setlen(out, out->len - 1);
	entry_set_release(&group);
	return n;
}

size_t livefile_serialize(const struct entry_set *s, struct buf *out)
{
	struct entry_set bare = ENTRY_SET_INIT;
	struct buf part = BUF_INIT; /* the groups, joined without the caller's bytes */
	size_t n = 0;

	livefile_strip(s, &bare);
	n += serialize_group(&bare, ENTRY_ENTITY, 0, &part);
	n += serialize_group(&bare, ENTRY_RELATION, 0, &part);
	n += serialize_group(&bare, ENTRY_CONTENT, 1, &part);
	buf_addbuf(out, &part);
	buf_release(&part);
	entry_set_release(&bare);
	return n;
}
