/*
 * The three-way merge of memory files as a library call: the driver, the
 * hooks and verify all merge through it. Reads the three sides (from
 * files, or from bytes such as git blobs), checks them, and computes the
 * merged set with crdt_merge3_sets. Writing the result is the caller's.
 */
#ifndef MERGE_H
#define MERGE_H

#include <stddef.h>

#include "memfile.h"

enum merge_side { MERGE_BASE, MERGE_OURS, MERGE_THEIRS };

/* "base", "ours", "theirs": how messages name the sides. */
extern const char *const merge_side_names[3];

struct merge_result {
	struct entry_set set;	    /* the merged entries, in key order */
	enum memfile_format format; /* OURS's, or theirs's/base's when ours is empty */
	int bad[3];		    /* which sides were bad input */
	struct memfile side[3];	    /* the inputs: the entries borrow their bytes */
};
#define MERGE_RESULT_INIT                                                                \
	{                                                                                \
		ENTRY_SET_INIT, MEMFILE_EMPTY, {0, 0, 0},                                \
		{                                                                        \
			MEMFILE_INIT, MEMFILE_INIT, MEMFILE_INIT                         \
		}                                                                        \
	}

/*
 * Merge the files paths[MERGE_BASE], [MERGE_OURS] and [MERGE_THEIRS]. label
 * names the file in messages (git's %P). On bad input every bad side is
 * reported as "'LABEL' (SIDE): line L, column C: reason", res->bad says
 * which, and -1 is returned. Large canonical sides are read on two threads.
 * Release res with merge_result_release in every case.
 */
int merge_files(struct merge_result *res, const char *const paths[3], const char *label);

/* One side given as bytes (borrowed; copied while parsing). */
struct merge_bytes {
	const char *data;
	size_t len;
};

/* The same for three byte buffers (blobs): for verify and the hooks. */
int merge_buffers(struct merge_result *res, const struct merge_bytes sides[3],
		  const char *label);

/* Free everything res holds; res is left as after MERGE_RESULT_INIT. */
void merge_result_release(struct merge_result *res);

#endif
