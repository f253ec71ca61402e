/*
 * Reading and writing memory files (see memfile.h).
 */
#define _GNU_SOURCE /* realpath, MAP_POPULATE and fallocate on Linux */
#include "memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "json.h"

#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif

#define SPLIT_AT (4u << 20) /* read files above 4 MiB in two halves */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append "line L, column C: " for a byte offset into data. */
static void add_position(struct buf *err, const char *data, size_t offset)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < offset; i++) {
		if (data[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	buf_addf(err, "line %zu, column %zu: ", line, col);
}

static int bad(struct memfile *mf, struct buf *err, const char *data, size_t offset,
	       const char *msg)
{
	add_position(err, data, offset);
	buf_addstr(err, msg);
	entry_set_release(&mf->set);
	return -1;
}

/*
 * Reading can reuse the entries of another version of the same file (the
 * merge base): a record whose bytes are identical to the base's record at
 * the cursor is that same entry, with no parsing at all. In a typical merge
 * most records are unchanged, so this is most of the work saved. The cursor
 * walks the base in key order and resynchronises after each new record.
 */
struct cursor {
	const struct entry_set *base;
	size_t j;
};

static const struct entry *candidate(const struct cursor *c)
{
	if (!c->base || c->j >= c->base->nr)
		return NULL;
	return c->base->v[c->j]->raw ? c->base->v[c->j] : NULL;
}

static void resync(struct cursor *c, const struct entry *e)
{
	if (!c->base)
		return;
	while (c->j < c->base->nr && entry_cmp_key(c->base->v[c->j], e) < 0)
		c->j++;
	if (c->j < c->base->nr && !entry_cmp_key(c->base->v[c->j], e))
		c->j++;
}

/*
 * Reading the elements of an array, whatever its layout, in one pass: each
 * element's reader finds its end. A large array is read in two halves at
 * once: the second from a guessed element start near the middle (a '{'
 * after a ','), on another thread. The guess holds when the first half's
 * reader arrives at exactly that position between elements; otherwise
 * (the guess was inside an element) the first reader just goes on to the
 * end and the second half's work is dropped. Either way the result is
 * what one reader would have read.
 */
struct array_job {
	const char *data; /* the whole file, for positions in messages */
	size_t len;
	size_t start; /* where the first element starts (white space skipped) */
	size_t stop;  /* stop when the next element would start here; or -1 */
	struct cursor cur;
	struct arena *arena;
	struct entry_set set;
	struct buf err;
	size_t end; /* where it stopped */
	int ret;    /* -1 bad input (err says why); 0 read to the end; 1 stopped */
	/*
	 * The file is mapped and nothing will need its bytes once they are
	 * read (see give_back): the pages up to given are handed back.
	 */
	int give_back;
	size_t given;
};

/* Hand back the mapped pages of a file's bytes every so often. */
#define GIVE_BACK_STEP (4u << 20)

/*
 * A file read against a base keeps none of its bytes: its entries are the
 * base's or hold their own compacted text. Its pages already read are
 * handed back as the reader goes, so that the peak memory of reading a
 * formatted file does not hold all of it; they would be read from the
 * file again if touched. Stops for good at the first entry that borrows
 * its text from the file (a canonical element).
 */
static void give_back(struct array_job *job, const struct entry *e, size_t pos)
{
	if (e->text >= job->data && e->text < job->data + job->len) {
		job->give_back = 0;
		return;
	}
	if (pos - job->given >= GIVE_BACK_STEP) {
		pages_unused(job->data + job->given, pos - job->given);
		job->given = pos;
	}
}

static void array_fail(struct array_job *job, size_t offset, const char *msg)
{
	add_position(&job->err, job->data, offset);
	buf_addstr(&job->err, msg);
	job->ret = -1;
}

static void parse_elements(struct array_job *job)
{
	const char *data = job->data;
	size_t pos = job->start, len = job->len;
	struct cursor *cur = &job->cur;
	struct buf why = BUF_INIT;

	job->ret = 0;
	for (;;) {
		const struct entry *c = candidate(cur);
		struct entry *e = NULL;
		size_t end;

		while (pos < len && is_ws(data[pos]))
			pos++;
		if (pos == job->stop) {
			job->ret = 1;
			break;
		}
		if (c && c->raw_len <= len - pos &&
		    !memcmp(data + pos, c->raw, c->raw_len)) {
			e = entry_ref((struct entry *)c);
			cur->j++;
			end = pos + c->raw_len;
		} else if (pos < len && data[pos] == '{') {
			/* a canonical element, wherever it ends */
			e = entry_read_canonical_prefix(job->arena, data + pos, len - pos,
							&end);
			if (e) {
				end += pos;
				resync(cur, e);
			}
		}
		if (!e) {
			size_t at = 0;
			buf_reset(&why);
			e = entry_read_value(job->arena, data + pos, len - pos, &end,
					     &why, &at);
			if (!e) {
				array_fail(job, pos + at, why.buf);
				break;
			}
			resync(cur, e);
			end += pos;
		}
		entry_set_append(&job->set, e);
		pos = end;
		if (job->give_back)
			give_back(job, e, pos);
		while (pos < len && is_ws(data[pos]))
			pos++;
		if (pos < len && data[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && data[pos] == ']') {
			pos++;
			break;
		}
		array_fail(job, pos,
			   pos < len ? "expected ',' or ']'" : "unterminated array");
		break;
	}
	job->end = pos;
	buf_release(&why);
}

static void *parse_elements_thread(void *job)
{
	parse_elements(job);
	return NULL;
}

/*
 * Start the second half's walk of the base at the base record whose bytes
 * begin at text (the half's first record), when the base has one near the
 * same fraction of its records: records in file order that are not in key
 * order (copies of one name) are found again that way, where following the
 * keys cannot tell the copies apart. Otherwise the walk starts at the
 * beginning and follows the keys. Only a starting point: every record is
 * still compared in full before it is shared.
 */
static void align_cursor(struct cursor *c, const char *text, size_t len, double at)
{
	const size_t window = 4096;
	size_t guess, lo, hi;

	if (!c->base || !c->base->nr)
		return;
	guess = (size_t)(at * (double)c->base->nr);
	lo = guess > window ? guess - window : 0;
	hi = guess + window < c->base->nr ? guess + window : c->base->nr;
	for (size_t j = lo; j < hi; j++) {
		const struct entry *e = c->base->v[j];
		if (e->raw && e->raw_len <= len && !memcmp(e->raw, text, e->raw_len)) {
			c->j = j;
			return;
		}
	}
}

/* A guess at an element's start near the middle of data[from..to): -1 if none. */
static size_t guess_element(const char *data, size_t from, size_t to)
{
	for (size_t i = from + (to - from) / 2; i < to; i++) {
		const char *q = memchr(data + i, '{', to - i);
		if (!q)
			break;
		i = (size_t)(q - data);
		size_t k = i;
		while (k > from && is_ws(data[k - 1]))
			k--;
		if (k > from && data[k - 1] == ',')
			return i;
	}
	return (size_t)-1;
}

static int parse_array(struct memfile *mf, const char *data, size_t len, size_t pos,
		       struct cursor *cur, struct buf *err)
{
	struct array_job job[2];
	size_t mid = (size_t)-1;
	int n = 1, threaded = 0, ret;
	pthread_t thread;

	pos++; /* '[' */
	while (pos < len && is_ws(data[pos]))
		pos++;
	if (pos < len && data[pos] == ']') {
		pos++;
		goto after;
	}
	if (len - pos > SPLIT_AT && (mid = guess_element(data, pos, len)) != (size_t)-1)
		n = 2;
	for (int i = 0; i < n; i++) {
		memset(&job[i], 0, sizeof(job[i]));
		job[i].data = data;
		job[i].len = len;
		job[i].start = i ? mid : pos;
		job[i].stop = i ? (size_t)-1 : mid;
		job[i].cur = *cur;
		job[i].give_back = mf->map && data == mf->map && cur->base;
		job[i].given = job[i].start;
		if (!mf->arena[i])
			mf->arena[i] = arena_new();
		job[i].arena = mf->arena[i];
		buf_init(&job[i].err, 0);
	}
	if (n == 2) {
		align_cursor(&job[1].cur, data + mid, len - mid,
			     (double)(mid - pos) / (double)(len - pos));
		threaded = !pthread_create(&thread, NULL, parse_elements_thread, &job[1]);
	}
	parse_elements(&job[0]);
	if (n == 2) {
		if (threaded)
			pthread_join(thread, NULL);
		else if (job[0].ret == 1)
			parse_elements(&job[1]);
	}
	/* The second half counts only when the first arrived at its start. */
	int used = job[0].ret == 1 ? 2 : 1;
	ret = 0;
	for (int i = 0; i < used && !ret; i++)
		if (job[i].ret == -1) {
			buf_addbuf(err, &job[i].err);
			ret = -1;
		}
	for (int i = 0; i < n; i++) {
		if (!ret && i < used)
			for (size_t k = 0; k < job[i].set.nr; k++)
				entry_set_append(&mf->set, entry_ref(job[i].set.v[k]));
		entry_set_release(&job[i].set);
		buf_release(&job[i].err);
	}
	pos = job[used - 1].end;
	if (ret) {
		entry_set_release(&mf->set);
		return -1;
	}
after:
	while (pos < len && is_ws(data[pos]))
		pos++;
	if (pos < len)
		return bad(mf, err, data, pos, "unexpected text after the array");
	return 0;
}

/*
 * Reading line by line: JSON lines, or an array in the canonical layout
 * (one element a line, each followed by ',' but the last). Large files are
 * read in two halves at once, one on another thread; the halves are plain
 * ranges of whole lines, so they need nothing from each other.
 */
struct lines_job {
	const char *data;   /* the whole file, for positions in messages */
	size_t start, stop; /* whole lines */
	int array;	    /* canonical array lines */
	int last;	    /* the range ends with the array's last element */
	struct cursor cur;
	struct arena *arena; /* this thread's */
	struct entry_set set;
	struct buf err;
	int ret; /* 0; -1 bad input (err says why); 1 not that layout */
};

static void lines_fail(struct lines_job *job, size_t offset, const char *msg)
{
	add_position(&job->err, job->data, offset);
	buf_addstr(&job->err, msg);
	job->ret = -1;
}

static void parse_lines(struct lines_job *job)
{
	const char *data = job->data;
	size_t pos = job->start, len = job->stop;
	struct buf why = BUF_INIT;
	struct cursor *cur = &job->cur;

	job->ret = 0;
	while (pos < len) {
		const struct entry *c = candidate(cur);
		struct entry *e;

		/* The common case first: the line is the base's record, verbatim. */
		if (!job->array && c && c->raw_len < len - pos &&
		    data[pos + c->raw_len] == '\n' &&
		    !memcmp(data + pos, c->raw, c->raw_len)) {
			entry_set_append(&job->set, entry_ref((struct entry *)c));
			cur->j++;
			pos += c->raw_len + 1;
			continue;
		}
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len, start = pos, stop = end;

		pos = nl ? end + 1 : len;
		while (start < stop && is_ws(data[start]))
			start++;
		while (stop > start && is_ws(data[stop - 1]))
			stop--;
		if (job->array) {
			int final = job->last && pos >= len;
			if (start == stop ||
			    (stop > start && (data[stop - 1] == ',') == final)) {
				job->ret = 1;
				break;
			}
			if (!final)
				stop--;
		} else if (start == stop) {
			continue; /* blank line */
		}
		if (c && c->raw_len == stop - start &&
		    !memcmp(data + start, c->raw, c->raw_len)) {
			entry_set_append(&job->set, entry_ref((struct entry *)c));
			cur->j++;
			continue;
		}
		if (job->array) {
			e = entry_read_canonical_prefix(job->arena, data + start,
							stop - start, NULL);
			if (!e) {
				job->ret = 1; /* the general reader will say more */
				break;
			}
		} else {
			size_t at = 0;
			if (data[start] != '{') {
				lines_fail(job, start,
					   "expected '{' (one JSON object per line)");
				break;
			}
			e = entry_read(job->arena, data + start, stop - start, &why, &at);
			if (!e) {
				lines_fail(job, start + at, why.buf);
				break;
			}
		}
		resync(cur, e);
		entry_set_append(&job->set, e);
	}
	buf_release(&why);
}

static void *parse_lines_thread(void *job)
{
	parse_lines(job);
	return NULL;
}

/*
 * Read data[start..stop) as lines into mf->set, in two halves when large.
 * Returns 0, -1 (err says why) or 1 when the file is not in that layout.
 */
static int read_lines(struct memfile *mf, const char *data, size_t start, size_t stop,
		      int array, const struct cursor *cur, struct buf *err)
{
	struct lines_job job[2];
	size_t mid = stop;
	int n = 1, ret = 0;
	pthread_t thread;
	int threaded = 0;

	if (stop - start > SPLIT_AT) {
		const char *nl = memchr(data + start + (stop - start) / 2, '\n',
					stop - start - (stop - start) / 2);
		if (nl && (size_t)(nl - data) + 1 < stop) {
			mid = (size_t)(nl - data) + 1;
			n = 2;
		}
	}
	for (int i = 0; i < n; i++) {
		memset(&job[i], 0, sizeof(job[i]));
		job[i].data = data;
		job[i].start = i ? mid : start;
		job[i].stop = i || n == 1 ? stop : mid;
		job[i].array = array;
		job[i].last = i == n - 1;
		job[i].cur = *cur;
		if (!mf->arena[i])
			mf->arena[i] = arena_new();
		job[i].arena = mf->arena[i];
		buf_init(&job[i].err, 0);
	}
	if (n == 2)
		align_cursor(&job[1].cur, data + mid, stop - mid,
			     (double)(mid - start) / (double)(stop - start));
	if (n == 2)
		threaded = !pthread_create(&thread, NULL, parse_lines_thread, &job[1]);
	parse_lines(&job[0]);
	if (n == 2) {
		if (threaded)
			pthread_join(thread, NULL);
		else
			parse_lines(&job[1]);
	}
	for (int i = 0; i < n && !ret; i++)
		ret = job[i].ret;
	for (int i = 0; i < n; i++) {
		if (ret == -1 && job[i].ret == -1 && !err->len)
			buf_addbuf(err, &job[i].err);
		if (!ret)
			for (size_t k = 0; k < job[i].set.nr; k++)
				entry_set_append(&mf->set, entry_ref(job[i].set.v[k]));
		entry_set_release(&job[i].set);
		buf_release(&job[i].err);
	}
	return ret;
}

/* Where the elements of an array in the canonical layout stand. */
static int canonical_array_lines(const char *data, size_t len, size_t pos, size_t *start,
				 size_t *stop)
{
	size_t q = len;

	while (q > pos && is_ws(data[q - 1]))
		q--;
	if (pos + 2 >= q || data[pos + 1] != '\n' || data[q - 1] != ']' ||
	    data[q - 2] != '\n' || q - 2 <= pos + 2)
		return 0;
	*start = pos + 2;
	*stop = q - 1;
	return 1;
}

static int parse_data(struct memfile *mf, const struct memfile *base, struct buf *err)
{
	const char *data = mf->bytes;
	size_t pos = 0, len = mf->size;
	/* A base with duplicates is walked copy by copy, as its lines were. */
	struct cursor cur = {!base	       ? NULL
			     : base->copies.nr ? &base->copies
					       : &base->set,
			     0};
	int ret;

	mf->format = MEMFILE_EMPTY;
	mf->duplicates = 0;
	entry_set_release(&mf->copies);
	if (!mf->arena[0])
		mf->arena[0] = arena_new();
	/* A UTF-8 byte-order mark (some Windows editors write one) is dropped. */
	size_t bom = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
	pos = bom;
	while (pos < len && is_ws(data[pos]))
		pos++;
	if (pos == len)
		return 0;
	if (data[pos] == '[') {
		size_t start, stop;
		mf->format = MEMFILE_ARRAY;
		ret = 1;
		if (canonical_array_lines(data, len, pos, &start, &stop))
			ret = read_lines(mf, data, start, stop, 1, &cur, err);
		if (ret == 1) {
			entry_set_release(&mf->set);
			ret = parse_array(mf, data, len, pos, &cur, err);
		}
	} else if (data[pos] == '{') {
		mf->format = MEMFILE_JSONL;
		ret = read_lines(mf, data, bom, len, 0, &cur, err);
	} else {
		return bad(mf, err, data, pos,
			   "expected a JSON array or JSON lines (one object per line)");
	}
	mf->join_pending = 0;
	if (!ret && entry_set_sort_keys(&mf->set, base ? NULL : &mf->copies)) {
		if (mf->defer_join)
			mf->join_pending = 1;
		else
			memfile_join(mf, base);
	}
	for (int i = 0; i < 2; i++)
		if (mf->arena[i])
			arena_trim(mf->arena[i]);
	return ret;
}

void memfile_join(struct memfile *mf, const struct memfile *base)
{
	mf->duplicates = entry_set_join_copies(&mf->set, base ? &base->set : NULL,
					       base ? &base->copies : NULL);
	mf->join_pending = 0;
}

int memfile_parse_with_base(struct memfile *mf, const char *data, size_t len,
			    const struct memfile *base, struct buf *err)
{
	buf_reset(&mf->copy);
	buf_add(&mf->copy, data, len);
	mf->bytes = mf->copy.buf;
	mf->size = mf->copy.len;
	return parse_data(mf, base, err);
}

int memfile_parse_borrowed(struct memfile *mf, const char *data, size_t len,
			   struct buf *err)
{
	return memfile_parse_borrowed_with_base(mf, data, len, NULL, err);
}

int memfile_parse_borrowed_with_base(struct memfile *mf, const char *data, size_t len,
				     const struct memfile *base, struct buf *err)
{
	buf_reset(&mf->copy);
	mf->bytes = data;
	mf->size = len;
	return parse_data(mf, base, err);
}

int memfile_parse(struct memfile *mf, const char *data, size_t len, struct buf *err)
{
	return memfile_parse_with_base(mf, data, len, NULL, err);
}

/*
 * Map a regular file (no copy: the page cache is used as it is), or read
 * anything else into mf->copy.
 */
static int read_file(struct memfile *mf, const char *path, struct buf *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	struct stat st;
	struct buf *out = &mf->copy;

	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ,
			       MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			close(fd);
			mf->map = p;
			mf->map_len = (size_t)st.st_size;
			mf->bytes = p;
			mf->size = mf->map_len;
			return 0;
		}
	}

	if (fd < 0 || fstat(fd, &st)) {
		buf_addf(err, "cannot read: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A FIFO or a device (/dev/zero) would be read without end. */
		close(fd);
		buf_addstr(err, S_ISDIR(st.st_mode) ? "cannot read: is a directory"
						    : "cannot read: not a regular file");
		return -1;
	}
	buf_grow(out, st.st_size > 0 ? (size_t)st.st_size : 4096);
	for (;;) {
		if (out->alloc - out->len < 2)
			buf_grow(out, 65536);
		ssize_t n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_addf(err, "cannot read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (!n)
			break;
		out->len += (size_t)n;
	}
	out->buf[out->len] = '\0';
	close(fd);
	mf->bytes = out->buf;
	mf->size = out->len;
	return 0;
}

int memfile_load_with_base(struct memfile *mf, const char *path,
			   const struct memfile *base, struct buf *err)
{
	if (read_file(mf, path, err))
		return -1;
	return parse_data(mf, base, err);
}

int memfile_load(struct memfile *mf, const char *path, struct buf *err)
{
	return memfile_load_with_base(mf, path, NULL, err);
}

static int points_into(const char *p, const struct memfile *mf)
{
	return p && p >= mf->bytes && p < mf->bytes + mf->size;
}

int memfile_bytes_in_use(const struct memfile *mf)
{
	for (size_t i = 0; i < mf->set.nr; i++)
		if (points_into(mf->set.v[i]->text, mf))
			return 1;
	/* A copy another file took over (OURS sharing a base's copy) too. */
	for (size_t i = 0; i < mf->copies.nr; i++)
		if (points_into(mf->copies.v[i]->text, mf) &&
		    atomic_load(&mf->copies.v[i]->refs) > 1)
			return 1;
	return 0;
}

static void forget_raw(struct entry_set *s, const struct memfile *mf)
{
	for (size_t i = 0; i < s->nr; i++)
		if (points_into(s->v[i]->raw, mf)) {
			s->v[i]->raw = NULL;
			s->v[i]->raw_len = 0;
		}
}

void memfile_drop_bytes(struct memfile *mf)
{
	if (!mf->map || memfile_bytes_in_use(mf))
		return;
	forget_raw(&mf->set, mf);
	forget_raw(&mf->copies, mf);
	entry_set_release(&mf->copies); /* no longer a base: see memfile.h */
	munmap(mf->map, mf->map_len);
	mf->map = NULL;
	mf->bytes = NULL;
	mf->size = 0;
}

void memfile_release(struct memfile *mf)
{
	entry_set_release(&mf->set);
	entry_set_release(&mf->copies);
	for (int i = 0; i < 2; i++) {
		arena_unref(mf->arena[i]);
		mf->arena[i] = NULL;
	}
	buf_release(&mf->copy);
	if (mf->map)
		munmap(mf->map, mf->map_len);
	mf->map = NULL;
	mf->bytes = NULL;
	mf->size = 0;
	mf->format = MEMFILE_EMPTY;
	mf->duplicates = 0;
}

int memfile_format_parse(const char *name)
{
	if (!strcmp(name, "json") || !strcmp(name, "array"))
		return MEMFILE_ARRAY;
	if (!strcmp(name, "jsonl"))
		return MEMFILE_JSONL;
	return -1;
}

/* writev all of iov[0..n), however many calls that takes. */
static int flush_iov(int fd, struct iovec *iov, int n, int *failed)
{
	while (n) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*failed = errno ? errno : EIO;
			return -1;
		}
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * The layout of a canonical file, in one place: every byte goes through
 * put(ctx, bytes, len), whether to a buffer, to writev, or to a count.
 */
typedef void (*put_fn)(void *ctx, const char *p, size_t n);

static void layout(const struct entry_set *set, enum memfile_format fmt, put_fn put,
		   void *ctx)
{
	int array = fmt == MEMFILE_ARRAY;

	if (array)
		put(ctx, set->nr ? "[\n" : "[]\n", set->nr ? 2 : 3);
	for (size_t i = 0; i < set->nr; i++) {
		put(ctx, set->v[i]->text, set->v[i]->text_len);
		if (!array)
			put(ctx, "\n", 1);
		else if (i + 1 < set->nr)
			put(ctx, ",\n", 2);
		else
			put(ctx, "\n]\n", 3);
	}
}

static void put_buf(void *ctx, const char *p, size_t n)
{
	buf_add(ctx, p, n);
}

static void put_count(void *ctx, const char *p, size_t n)
{
	(void)p;
	*(off_t *)ctx += (off_t)n;
}

/* Gathers pieces for writev, flushing every 1024. */
struct iov_sink {
	int fd;
	int n;
	int failed;
	struct iovec iov[1024];
};

static void put_iov(void *ctx, const char *p, size_t n)
{
	struct iov_sink *s = ctx;

	s->iov[s->n].iov_base = (void *)p;
	s->iov[s->n].iov_len = n;
	if (++s->n == (int)(sizeof(s->iov) / sizeof(*s->iov))) {
		if (!s->failed)
			flush_iov(s->fd, s->iov, s->n, &s->failed);
		s->n = 0;
	}
}

void memfile_serialize(const struct entry_set *set, enum memfile_format fmt,
		       struct buf *out)
{
	off_t total = 0;

	layout(set, fmt, put_count, &total);
	buf_grow(out, (size_t)total);
	layout(set, fmt, put_buf, out);
}

struct set_and_format {
	const struct entry_set *set;
	enum memfile_format fmt;
};

/*
 * Write the canonical file straight from the entries' bytes with writev,
 * without copying them into a buffer first.
 */
static void fill_set(int fd, const void *ctx, int *failed)
{
	const struct set_and_format *sf = ctx;
	struct iov_sink *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
#ifdef __linux__
	/* Reserving the space first makes large writes faster; best effort. */
	off_t total = 0;
	layout(sf->set, sf->fmt, put_count, &total);
	if (total > (1 << 20))
		(void)fallocate(fd, 0, 0, total);
#endif
	layout(sf->set, sf->fmt, put_iov, s);
	if (s->n && !s->failed)
		flush_iov(fd, s->iov, s->n, &s->failed);
	*failed = s->failed;
	free(s);
}

int memfile_write(const char *path, const struct entry_set *set, enum memfile_format fmt,
		  unsigned flags)
{
	struct set_and_format sf = {set, fmt};

	return atomic_replace(path, flags, fill_set, &sf);
}
