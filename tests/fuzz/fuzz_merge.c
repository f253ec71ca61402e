/*
 * libFuzzer harness for the three-way merge (merge_buffers): the input is
 * BASE, OURS and THEIRS separated by NUL bytes (a NUL is never valid in a
 * memory file); a missing part is an empty file.
 *
 * Properties:
 *   - the merge fails exactly when a side is not a valid memory file;
 *   - its output re-parses, is canonical and has no duplicate keys;
 *   - swapping ours and theirs gives the same entries, byte for byte;
 *   - merge(o, o, b) == b and merge(o, a, o) == a, in canonical form;
 *   - merge(x, x, x) == x for each side.
 */
#include <stdint.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The entries of a merge, as canonical JSONL (fixed format: the merge
 * keeps OURS's format, which swapping the sides changes). */
static int merged(struct merge_bytes o, struct merge_bytes a, struct merge_bytes b,
		  struct buf *out, enum memfile_format *fmt)
{
	struct merge_result res = MERGE_RESULT_INIT;
	struct merge_bytes sides[3] = {o, a, b};
	int ret = merge_buffers(&res, sides, "fuzz");

	if (!ret) {
		memfile_serialize(&res.set, MEMFILE_JSONL, out);
		if (fmt)
			*fmt = res.format;
	}
	merge_result_release(&res);
	return ret;
}

static void same(const struct buf *x, const struct buf *y, const char *what)
{
	CHECK(x->len == y->len && !memcmp(x->buf, y->buf, x->len), "%s:\n%.*s\n---\n%.*s",
	      what, (int)x->len, x->buf, (int)y->len, y->buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	struct merge_bytes side[3] = {{"", 0}, {"", 0}, {"", 0}};
	struct buf out = BUF_INIT, swapped = BUF_INIT, canon[3], tmp = BUF_INIT,
		   full = BUF_INIT;
	int valid[3], all_valid = 1;
	enum memfile_format fmt = MEMFILE_EMPTY;

	for (int i = 0; i < 3 && in <= end; i++) {
		const char *nul = memchr(in, '\0', (size_t)(end - in));
		const char *stop = nul && i < 2 ? nul : end;
		side[i].data = in;
		side[i].len = (size_t)(stop - in);
		in = stop + 1;
	}
	for (int i = 0; i < 3; i++) {
		buf_init(&canon[i], 0);
		valid[i] = !canonical_of(side[i].data, side[i].len, MEMFILE_JSONL,
					 &canon[i]);
		all_valid &= valid[i];
	}

	int ret = merged(side[0], side[1], side[2], &out, &fmt);
	CHECK((ret == 0) == all_valid, "merge %s, sides valid: %d %d %d",
	      ret ? "failed" : "succeeded", valid[0], valid[1], valid[2]);
	if (ret)
		goto out;

	/* The output as the driver writes it, in ours's format. */
	{
		struct merge_result res = MERGE_RESULT_INIT;
		struct merge_bytes sides[3] = {side[0], side[1], side[2]};
		CHECK(!merge_buffers(&res, sides, "fuzz"), "merge not repeatable");
		enum memfile_format f =
			res.format == MEMFILE_EMPTY ? MEMFILE_JSONL : res.format;
		memfile_serialize(&res.set, f, &full);
		check_canonical(&full, f);
		merge_result_release(&res);
	}
	check_canonical(&out, MEMFILE_JSONL);

	CHECK(!merged(side[0], side[2], side[1], &swapped, NULL), "swapped merge failed");
	same(&out, &swapped, "swapping ours and theirs changed the result");

	CHECK(!merged(side[0], side[0], side[2], &tmp, NULL), "merge(o, o, b) failed");
	same(&tmp, &canon[2], "merge(o, o, b) != b");
	buf_reset(&tmp);
	CHECK(!merged(side[0], side[1], side[0], &tmp, NULL), "merge(o, a, o) failed");
	same(&tmp, &canon[1], "merge(o, a, o) != a");
	for (int i = 0; i < 3; i++) {
		buf_reset(&tmp);
		CHECK(!merged(side[i], side[i], side[i], &tmp, NULL),
		      "merge(x, x, x) failed");
		same(&tmp, &canon[i], "merge(x, x, x) != x");
	}
out:
	for (int i = 0; i < 3; i++)
		buf_release(&canon[i]);
	buf_release(&out);
	buf_release(&swapped);
	buf_release(&tmp);
	buf_release(&full);
	return 0;
}
