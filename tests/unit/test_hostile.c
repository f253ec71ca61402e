/*
 * Hostile and unusual input to the reader (memfile.h, merge.h): entries
 * rejected late by the canonical scanner (no leak: "make asan" runs these
 * with LeakSanitizer), a UTF-8 byte-order mark, inputs that are not
 * regular files, and the end-of-record check of the base-reuse fast path.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "helpers.h"
#include "merge.h"

TestSuite(hostile, .fini = t_cleanup);

static void assert_has(const char *haystack, const char *needle)
{
	cr_assert(strstr(haystack, needle) != NULL, "expected \"%s\" in \"%s\"", needle,
		  haystack);
}

/* ---- entries the scanner rejects late ---- */

/*
 * The scanner recognised these as far as the metadata, then refused
 * removed_observations; the key it had built was not released. The general
 * path then reports them. Each shape in JSONL, in a canonical array and
 * as a lone entry.
 */
static const char *const late_rejects[] = {
	"{\"_crdt_metadata\":{\"removed_observations\":\"\"}}",
	"{\"id\":\"k\",\"_crdt_metadata\":{\"removed_observations\":[1]}}",
	"{\"id\":7,\"_crdt_metadata\":{\"removed_observations\":{}}}",
	"{\"type\":\"entity\",\"name\":\"x\",\"observations\":[],\"_crdt_metadata\":{"
	"\"removed_observations\":[1]}}",
	"{\"type\":\"relation\",\"from\":\"a\",\"to\":\"b\",\"relationType\":\"r\","
	"\"_crdt_metadata\":{\"removed_observations\":[null]}}",
};

Test(hostile, late_scanner_rejections_are_reported_without_a_leak)
{
	for (size_t i = 0; i < sizeof(late_rejects) / sizeof(*late_rejects); i++) {
		const char *s = late_rejects[i];
		assert_has(MF_ERR_raw(s, strlen(s)), "removed_observations");
		const char *jl = tfmt("{\"id\":\"a\"}\n%s\n", s);
		assert_has(MF_ERR_raw(jl, strlen(jl)), "line 2, column 1: ");
		const char *arr = tfmt("[\n{\"id\":\"a\"},\n%s\n]\n", s);
		assert_has(MF_ERR_raw(arr, strlen(arr)), "line 3, column 1: ");
		struct buf err = BUF_INIT;
		struct entry *e = entry_parse(s, strlen(s), &err);
		cr_assert_null(e, "%s accepted", s);
		cr_assert_gt(err.len, 0);
		buf_release(&err);
	}
}

/* ---- the byte-order mark ---- */

Test(hostile, a_byte_order_mark_is_dropped_from_jsonl)
{
	static const char data[] = "\xEF\xBB\xBF{\"id\":\"b\"}\n{\"id\":\"a\"}";
	struct memfile *mf = MF_raw(data, sizeof(data) - 1);

	cr_assert_eq(mf->format, MEMFILE_JSONL);
	cr_assert_str_eq(ser(&mf->set, mf->format), "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
}

Test(hostile, a_byte_order_mark_is_dropped_from_arrays)
{
	static const char canonical[] =
		"\xEF\xBB\xBF[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n";
	static const char pretty[] = "\xEF\xBB\xBF  [ {\"id\": \"b\"}, {\"id\": \"a\"} ]";
	const char *want = "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n";
	struct memfile *a = MF_raw(canonical, sizeof(canonical) - 1);
	struct memfile *b = MF_raw(pretty, sizeof(pretty) - 1);

	cr_assert_eq(a->format, MEMFILE_ARRAY);
	cr_assert_eq(b->format, MEMFILE_ARRAY);
	cr_assert_str_eq(ser(&a->set, a->format), want);
	cr_assert_str_eq(ser(&b->set, b->format), want);
}

Test(hostile, a_byte_order_mark_alone_is_an_empty_file)
{
	struct memfile *mf = MF_raw("\xEF\xBB\xBF", 3);

	cr_assert_eq(mf->set.nr, 0);
}

Test(hostile, a_byte_order_mark_elsewhere_is_bad_input)
{
	static const char data[] = "{\"id\":\"a\"}\n\xEF\xBB\xBF{\"id\":\"b\"}\n";

	assert_has(MF_ERR_raw(data, sizeof(data) - 1), "line 2, column 1: ");
}

/* ---- inputs that are not regular files ---- */

static const char *load_err(const char *path)
{
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(memfile_load(&mf, path, &err), -1, "'%s' was read", path);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "'%s' took %lds to refuse", path,
		     (long)(t1.tv_sec - t0.tv_sec));
	memfile_release(&mf);
	return t_defer(buf_detach(&err, NULL), free);
}

Test(hostile, devices_are_refused_not_read_without_end)
{
	assert_has(load_err("/dev/zero"), "not a regular file");
	assert_has(load_err("/dev/null"), "not a regular file");
}

Test(hostile, fifos_are_refused_without_waiting_for_a_writer)
{
	char dir[] = "/tmp/crdtmem-fifo-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	const char *fifo = tfmt("%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);

	assert_has(load_err(fifo), "not a regular file");
	unlink(fifo);
	rmdir(dir);
}

Test(hostile, directories_are_refused)
{
	assert_has(load_err("/"), "is a directory");
}

/* ---- the base-reuse fast path checks where a record ends ---- */

/*
 * OURS holds the base's record followed by junk: the fast path, which
 * takes a record byte-identical to the base's without reading it, must
 * still see that the record does not end there.
 */
static const char *merge_err(const char *base, const char *ours)
{
	struct merge_result res = MERGE_RESULT_INIT;
	struct merge_bytes sides[3] = {
		{base, strlen(base)}, {ours, strlen(ours)}, {base, strlen(base)}};
	FILE *f = tmpfile();
	int fd = dup(2), rc;
	long len;

	cr_assert_not_null(f);
	fflush(stderr);
	dup2(fileno(f), 2);
	rc = merge_buffers(&res, sides, "memory-a.json");
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	char *out = t_defer(xcalloc(1, (size_t)len + 1), free);
	rewind(f);
	cr_assert_eq(fread(out, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	cr_assert_eq(rc, -1, "ours accepted: %s", ours);
	cr_assert(res.bad[MERGE_OURS]);
	cr_assert(!res.bad[MERGE_BASE] && !res.bad[MERGE_THEIRS]);
	merge_result_release(&res);
	assert_has(out, "error: 'memory-a.json' (ours): line ");
	return out;
}

Test(hostile, junk_after_a_record_equal_to_the_base_is_refused_in_jsonl)
{
	merge_err("{\"id\":\"a\"}\n", "{\"id\":\"a\"}x\n");
	merge_err("{\"id\":\"a\"}\n", "{\"id\":\"a\"}x");
	merge_err("{\"id\":\"a\"}\n{\"id\":\"b\"}\n",
		  "{\"id\":\"a\"}x\n{\"id\":\"b\"}\n");
	merge_err("{\"id\":\"a\"}\n{\"id\":\"b\"}\n", "{\"id\":\"a\"}{\"id\":\"b\"}\n");
	merge_err("{\"id\":\"a\"}\n", "{\"id\":\"a\"} x\r\n");
}

Test(hostile, junk_after_a_record_equal_to_the_base_is_refused_in_arrays)
{
	const char *base = "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n";

	merge_err(base, "[\n{\"id\":\"a\"}x,\n{\"id\":\"b\"}\n]\n");
	merge_err(base, "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}x\n]\n");
	merge_err(base, "[{\"id\":\"a\"}x,{\"id\":\"b\"}]");
	merge_err(base, "[{\"id\":\"a\"},{\"id\":\"b\"}x]");
	merge_err(base, "[\n{\"id\":\"a\"}{\"id\":\"b\"}\n]\n");
}
