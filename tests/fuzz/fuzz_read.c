/*
 * libFuzzer harness for the reader: any bytes as a memory file.
 *
 * Properties, for every input the reader accepts:
 *   - the canonical output re-parses, has no duplicate keys, and is
 *     canonical (serialise(parse(out)) == out): parse, write, parse,
 *     write is byte-stable;
 *   - the other format holds the same entries (array <-> JSONL);
 *   - merge(x, x, x) == x, in canonical form;
 *   - reading x against itself as the base (the base-reuse path the
 *     merge takes) gives the same entries as reading it alone.
 * Anything the reader refuses must come with a reason.
 */
#include <stdint.h>

#include "fuzz-common.h"

static void serialize(const struct entry_set *set, enum memfile_format fmt,
		      struct buf *out)
{
	memfile_serialize(set, fmt == MEMFILE_EMPTY ? MEMFILE_JSONL : fmt, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct memfile mf = MEMFILE_INIT, self = MEMFILE_INIT, other = MEMFILE_INIT;
	struct merge_result res = MERGE_RESULT_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT, alt = BUF_INIT, back = BUF_INIT,
		   tmp = BUF_INIT;
	enum memfile_format fmt;

	if (memfile_parse(&mf, in, size, &err)) {
		CHECK(err.len > 0, "rejected without a reason");
		goto out;
	}
	fmt = mf.format == MEMFILE_EMPTY ? MEMFILE_JSONL : mf.format;
	serialize(&mf.set, fmt, &out);
	check_canonical(&out, fmt);

	/* The other format: the same entries. */
	enum memfile_format alt_fmt =
		fmt == MEMFILE_ARRAY ? MEMFILE_JSONL : MEMFILE_ARRAY;
	serialize(&mf.set, alt_fmt, &alt);
	check_canonical(&alt, alt_fmt);
	buf_reset(&err);
	CHECK(!memfile_parse(&other, alt.buf, alt.len, &err), "%s", err.buf);
	serialize(&other.set, fmt, &back);
	CHECK(back.len == out.len && !memcmp(back.buf, out.buf, out.len),
	      "array and JSONL hold different entries");

	/* Read against itself as the base. */
	buf_reset(&err);
	CHECK(!memfile_parse_with_base(&self, in, size, &mf, &err),
	      "refused when read against itself: %s", err.buf);
	serialize(&self.set, fmt, &tmp);
	CHECK(tmp.len == out.len && !memcmp(tmp.buf, out.buf, out.len),
	      "reading against the base changed the entries");

	/* merge(x, x, x) == x */
	struct merge_bytes sides[3] = {{in, size}, {in, size}, {in, size}};
	CHECK(!merge_buffers(&res, sides, "fuzz"), "merge(x, x, x) failed");
	buf_reset(&tmp);
	serialize(&res.set, res.format, &tmp);
	CHECK(tmp.len == out.len && !memcmp(tmp.buf, out.buf, out.len),
	      "merge(x, x, x) != x");
out:
	merge_result_release(&res);
	memfile_release(&mf);
	memfile_release(&self);
	memfile_release(&other);
	buf_release(&err);
	buf_release(&out);
	buf_release(&alt);
	buf_release(&back);
	buf_release(&tmp);
	return 0;
}
