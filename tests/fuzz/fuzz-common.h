/*
 * What the fuzz harnesses share: parsing one memory file, its canonical
 * bytes, and the checks every output must pass. A failed check aborts, so
 * libFuzzer keeps the input that broke it.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "memfile.h"
#include "merge.h"

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz property failed: %s (%s:%d): ", #cond,     \
				__FILE__, __LINE__);                                     \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* Parse data; on success out gets the canonical file in fmt (or the file's
 * own format when fmt is MEMFILE_EMPTY). Returns 0 or -1. */
static int canonical_of(const char *data, size_t len, enum memfile_format fmt,
			struct buf *out)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;
	int ret = memfile_parse(&mf, data, len, &err);

	if (!ret) {
		CHECK(mf.duplicates == 0 || mf.set.nr > 0, "duplicates in an empty set");
		memfile_serialize(&mf.set, fmt == MEMFILE_EMPTY ? mf.format : fmt, out);
	} else {
		CHECK(err.len > 0, "rejected without a reason");
	}
	memfile_release(&mf);
	buf_release(&err);
	return ret;
}

/*
 * out, written by the tool, must parse, hold no duplicate keys, and be in
 * canonical form: serialising what it parses to gives the same bytes.
 */
static void check_canonical(const struct buf *out, enum memfile_format fmt)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT, again = BUF_INIT;

	CHECK(!memfile_parse(&mf, out->buf, out->len, &err),
	      "the tool's output does not parse: %s\n%.*s", err.buf, (int)out->len,
	      out->buf);
	CHECK(mf.duplicates == 0, "%zu duplicate keys in the output", mf.duplicates);
	memfile_serialize(&mf.set, fmt, &again);
	CHECK(again.len == out->len && !memcmp(again.buf, out->buf, out->len),
	      "output is not canonical:\n%.*s\n--- re-serialised:\n%.*s", (int)out->len,
	      out->buf, (int)again.len, again.buf);
	for (size_t i = 1; i < mf.set.nr; i++)
		CHECK(entry_cmp_key(mf.set.v[i - 1], mf.set.v[i]) < 0,
		      "entries out of key order at %zu", i);
	memfile_release(&mf);
	buf_release(&err);
	buf_release(&again);
}

#endif
