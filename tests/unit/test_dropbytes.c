/*
 * memfile_drop_bytes: a merge gives back the mapped bytes of a formatted
 * file once every entry has its own copy, and keeps them while any entry
 * still reads from them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "memfile.h"

TestSuite(drop_bytes, .fini = t_cleanup);

static const char formatted[] =
	"[\n  {\n    \"type\": \"entity\",\n    \"name\": \"A\",\n"
	"    \"entityType\": \"p\",\n    \"observations\": [\"y\", \"x\"]\n  }\n]\n";
static const char canonical[] = "{\"type\":\"entity\",\"name\":\"A\",\"entityType\":"
				"\"p\",\"observations\":[\"x\",\"y\"]}\n";

Test(drop_bytes, unmaps_a_formatted_file_and_keeps_its_entries)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char *path = t_write_temp(formatted, strlen(formatted));

	cr_assert_eq(memfile_load(&mf, path, &err), 0, "%s", err.buf);
	cr_assert_not_null(mf.map);
	memfile_drop_bytes(&mf);
	cr_assert_null(mf.map, "the mapping was kept although no entry uses it");
	cr_assert_null(mf.set.v[0]->raw);
	memfile_serialize(&mf.set, MEMFILE_JSONL, &out);
	cr_assert_str_eq(out.buf, canonical);
	memfile_release(&mf);
	buf_release(&err);
	buf_release(&out);
	unlink(path);
}

Test(drop_bytes, keeps_the_bytes_of_a_canonical_file_its_entries_read_from)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char *path = t_write_temp(canonical, strlen(canonical));

	cr_assert_eq(memfile_load(&mf, path, &err), 0, "%s", err.buf);
	memfile_drop_bytes(&mf);
	cr_assert_not_null(mf.map,
			   "the mapping was dropped while an entry reads from it");
	memfile_serialize(&mf.set, MEMFILE_JSONL, &out);
	cr_assert_str_eq(out.buf, canonical);
	memfile_release(&mf);
	buf_release(&err);
	buf_release(&out);
	unlink(path);
}
