/*
 * The key rule (see key.h).
 */
#include "key.h"

#include <string.h>

#include "json.h"

#define NAME(s)                                                                          \
	{                                                                                \
		s, sizeof(s) - 1                                                         \
	}
const struct key_name key_member_names[KEY_NR] = {
	[KEY_ID] = NAME("id"),
	[KEY_TYPE] = NAME("type"),
	[KEY_NAME] = NAME("name"),
	[KEY_FROM] = NAME("from"),
	[KEY_RELTYPE] = NAME("relationType"),
	[KEY_TO] = NAME("to"),
};
#undef NAME

static int is_string(const struct key_member *m)
{
	return m->text && m->text[0] == '"';
}

static int is_token(const struct key_member *m, const char *tok, size_t n)
{
	return m->text && m->len == n && !memcmp(m->text, tok, n);
}

enum entry_kind key_kind(const struct key_member m[KEY_NR])
{
	if (is_string(&m[KEY_ID]) ||
	    (m[KEY_ID].text && json_is_integer(m[KEY_ID].text, m[KEY_ID].len)))
		return ENTRY_ID;
	if (is_token(&m[KEY_TYPE], "\"entity\"", 8) && is_string(&m[KEY_NAME]))
		return ENTRY_ENTITY;
	if (is_token(&m[KEY_TYPE], "\"relation\"", 10) && is_string(&m[KEY_FROM]) &&
	    is_string(&m[KEY_RELTYPE]) && is_string(&m[KEY_TO]))
		return ENTRY_RELATION;
	return ENTRY_CONTENT;
}

static void add(struct buf *key, const struct key_member *m)
{
	buf_addch(key, ',');
	buf_add(key, m->text, m->len);
}

void key_write(struct buf *key, enum entry_kind kind, const struct key_member m[KEY_NR],
	       const char *body, size_t body_len)
{
	switch (kind) {
	case ENTRY_ID:
		buf_addstr(key, "[\"id\"");
		add(key, &m[KEY_ID]);
		break;
	case ENTRY_ENTITY:
		buf_addstr(key, "[\"entity\"");
		add(key, &m[KEY_NAME]);
		break;
	case ENTRY_RELATION:
		buf_addstr(key, "[\"relation\"");
		add(key, &m[KEY_FROM]);
		add(key, &m[KEY_RELTYPE]);
		add(key, &m[KEY_TO]);
		break;
	case ENTRY_CONTENT:
		buf_addstr(key, "[\"content\",");
		buf_add(key, body, body_len);
		buf_addch(key, '}');
		break;
	}
	buf_addch(key, ']');
}
