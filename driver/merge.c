/*
 * The three-way merge of memory files (see merge.h).
 */
#include "merge.h"

#include <pthread.h>
#include <sys/stat.h>

#include "diag.h"

const char *const merge_side_names[3] = {"base", "ours", "theirs"};

/*
 * Reading one side, possibly on its own thread: from a path when path is
 * set, else from bytes.
 */
struct side_job {
	struct memfile *mf;
	const char *path;
	struct merge_bytes bytes;
	const struct memfile *base;
	struct buf err;
	int ret;
};

static void load_side(struct side_job *job)
{
	if (job->path)
		job->ret =
			memfile_load_with_base(job->mf, job->path, job->base, &job->err);
	else
		job->ret = memfile_parse_with_base(job->mf, job->bytes.data,
						   job->bytes.len, job->base, &job->err);
	if (!job->ret && job->base && !job->mf->join_pending)
		memfile_drop_bytes(job->mf);
}

static void *load_side_thread(void *job)
{
	load_side(job);
	return NULL;
}

/* The joins of repeated keys a reading left for later (defer_join). */
static void finish_side(struct side_job *job)
{
	if (job->ret || !job->mf->join_pending)
		return;
	memfile_join(job->mf, job->base);
	if (job->base)
		memfile_drop_bytes(job->mf);
}

static void *finish_side_thread(void *job)
{
	finish_side(job);
	return NULL;
}

/* A second thread pays for itself above this size, on canonical files. */
#define THREAD_MIN_SIZE (1 << 20)

static int merge_jobs(struct merge_result *res, struct side_job jobs[3], int big,
		      const char *label)
{
	int bad = 0;

	/*
	 * The base first; then ours and theirs, both sharing the base's
	 * entries where their records are byte-identical. Large files leave
	 * the joins of repeated keys for later: the base's are made while the
	 * sides are read (they walk its copies, not its joins), and the
	 * sides' once the base's are done (a side's join may start from the
	 * base's), side by side.
	 */
	for (int i = 0; i < 3; i++)
		res->side[i].defer_join = big;
	load_side(&jobs[MERGE_BASE]);
	if (jobs[MERGE_BASE].ret)
		jobs[MERGE_OURS].base = jobs[MERGE_THEIRS].base = NULL; /* to say all */
	/*
	 * Theirs on a second thread only for large sides in canonical form:
	 * formatted sides are rewritten entry by entry, and reading both at
	 * once would hold both in memory for no gain.
	 */
	pthread_t thread, joiner;
	int threaded =
		big && memfile_bytes_in_use(&res->side[MERGE_BASE]) &&
		!pthread_create(&thread, NULL, load_side_thread, &jobs[MERGE_THEIRS]);
	int joining =
		!jobs[MERGE_BASE].ret && res->side[MERGE_BASE].join_pending &&
		!pthread_create(&joiner, NULL, finish_side_thread, &jobs[MERGE_BASE]);
	if (!joining)
		finish_side(&jobs[MERGE_BASE]);
	load_side(&jobs[MERGE_OURS]);
	if (threaded)
		pthread_join(thread, NULL);
	else
		load_side(&jobs[MERGE_THEIRS]);
	if (joining)
		pthread_join(joiner, NULL);
	threaded =
		!jobs[MERGE_THEIRS].ret && res->side[MERGE_THEIRS].join_pending &&
		!pthread_create(&thread, NULL, finish_side_thread, &jobs[MERGE_THEIRS]);
	finish_side(&jobs[MERGE_OURS]);
	if (threaded)
		pthread_join(thread, NULL);
	else
		finish_side(&jobs[MERGE_THEIRS]);
	for (int i = 0; i < 3; i++) {
		if (jobs[i].ret) {
			error("%s (%s): %s", qpath(label), merge_side_names[i],
			      jobs[i].err.buf);
			res->bad[i] = bad = 1;
		}
		buf_release(&jobs[i].err);
	}
	memfile_drop_bytes(&res->side[MERGE_BASE]);
	if (bad)
		return -1;
	crdt_merge3_sets(&res->side[MERGE_BASE].set, &res->side[MERGE_OURS].set,
			 &res->side[MERGE_THEIRS].set, &res->set);
	res->format = res->side[MERGE_OURS].format;
	if (res->format == MEMFILE_EMPTY)
		res->format = res->side[MERGE_THEIRS].format != MEMFILE_EMPTY
				      ? res->side[MERGE_THEIRS].format
				      : res->side[MERGE_BASE].format;
	return 0;
}

static void init_jobs(struct merge_result *res, struct side_job jobs[3])
{
	for (int i = 0; i < 3; i++) {
		jobs[i].mf = &res->side[i];
		jobs[i].path = NULL;
		jobs[i].bytes.data = NULL;
		jobs[i].bytes.len = 0;
		jobs[i].base = i == MERGE_BASE ? NULL : &res->side[MERGE_BASE];
		buf_init(&jobs[i].err, 0);
		jobs[i].ret = 0;
	}
}

int merge_files(struct merge_result *res, const char *const paths[3], const char *label)
{
	struct side_job jobs[3];
	struct stat st;

	init_jobs(res, jobs);
	for (int i = 0; i < 3; i++)
		jobs[i].path = paths[i];
	int big = !stat(paths[MERGE_THEIRS], &st) && st.st_size > THREAD_MIN_SIZE;
	return merge_jobs(res, jobs, big, label);
}

int merge_buffers(struct merge_result *res, const struct merge_bytes sides[3],
		  const char *label)
{
	struct side_job jobs[3];

	init_jobs(res, jobs);
	for (int i = 0; i < 3; i++)
		jobs[i].bytes = sides[i];
	return merge_jobs(res, jobs, sides[MERGE_THEIRS].len > THREAD_MIN_SIZE, label);
}

void merge_result_release(struct merge_result *res)
{
	entry_set_release(&res->set);
	for (int i = 0; i < 3; i++) {
		memfile_release(&res->side[i]);
		res->bad[i] = 0;
	}
	res->format = MEMFILE_EMPTY;
}
