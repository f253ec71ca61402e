/*
 * The memory files of a git repository, through git's own commands (all
 * run with a timeout, none through a shell): which tracked files are
 * governed by the merge driver, their blobs in the index or in a commit,
 * and writing a new blob into the index without touching the work tree
 * (GIT-NOTES.md's safe recipe: cat-file, hash-object -w, update-index
 * --cacheinfo). Used by the hooks, verify and backup.
 */
#ifndef MEMREPO_H
#define MEMREPO_H

#include <stddef.h>

#include "buf.h"
#include "memfile.h"

#define UNIFIED_NAME "unified-memory.json"

/* A file in the index or in a tree. */
struct tracked {
	char *path; /* owned; relative to the top of the work tree */
	char mode[8];
	char oid[72];
	int stage;	/* index stage (0 when merged); 0 in trees */
	int governed;	/* merge=crdtmem applies */
	int is_unified; /* its name is unified-memory.json */
};

struct tracked_list {
	struct tracked *v;
	size_t nr, alloc;
};
#define TRACKED_LIST_INIT                                                                \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

void tracked_list_release(struct tracked_list *l);

/* The entry for path, or NULL (l sorted by path, as git lists them). */
struct tracked *tracked_find(const struct tracked_list *l, const char *path);

/*
 * The ".json" files of the index (stages included) or of the tree of rev
 * (a commit or a tree: a missing rev gives an empty list and returns 1), with
 * "governed" set from git check-attr. With fallback, a path git has no
 * merge attribute for is governed when its name is memory-*.json or
 * unified-memory.json (for verify in a clone that never ran install).
 * dir: the work tree to run in (NULL: here). Returns 0, 1 (no such rev)
 * or -1 (reported).
 */
int memrepo_ls_index(const char *dir, struct tracked_list *out, int fallback);
/* As fallback for memrepo_ls_tree: leave "governed" unset (saves a git call). */
#define MEMREPO_NO_ATTR (-1)
int memrepo_ls_tree(const char *dir, const char *rev, struct tracked_list *out,
		    int fallback);
/*
 * memrepo_ls_index(dir, index, fallback) and memrepo_ls_tree(dir, rev,
 * tree, MEMREPO_NO_ATTR) with their git calls side by side. A rev with no
 * tree leaves tree empty. Returns 0 or -1.
 */
int memrepo_ls_both(const char *dir, struct tracked_list *index, int fallback,
		    const char *rev, struct tracked_list *tree);

/* Read blob oid into out (replacing its contents). Returns 0 or -1 (reported). */
int memrepo_read_blob(const char *dir, const char *oid, struct buf *out);

/*
 * Store data as a blob for path (hash-object -w --stdin --path), putting
 * its id into oid[72], and point path's index entry at it with mode (NULL:
 * 100644). The index is the one GIT_INDEX_FILE names. Returns 0 or -1.
 */
int memrepo_stage(const char *dir, const char *path, const char *mode, const char *data,
		  size_t len, char oid[72]);

/* One object of a batch read: a name git understands ("HEAD:path", ":path", an id). */
struct blob {
	const char *name; /* borrowed */
	int found;	  /* the object exists and is a blob */
	char oid[72];
	const char *data; /* the contents, in the batch's store */
	size_t len;
};

/* The bytes of blobs read, each blob in an allocation of its own. */
struct blob_store {
	char **v;
	size_t nr;
};
#define BLOB_STORE_INIT                                                                  \
	{                                                                                \
		NULL, 0                                                                  \
	}
void blob_store_release(struct blob_store *s);

/*
 * Read every blobs[i].name with one "git cat-file --batch". A name that
 * does not resolve (an unborn HEAD, a path not in the commit) gets found =
 * 0. The contents are added to store: keep it as long as the blobs are
 * used. Returns 0, or -1 (reported) when git fails.
 */
int memrepo_read_blobs(const char *dir, struct blob *blobs, size_t n,
		       struct blob_store *store);

/* A blob to write and stage at path. */
struct stage_item {
	const char *path;
	const char *mode; /* NULL: 100644 */
	const char *data;
	size_t len;
};

/*
 * Write every item as a blob (git hash-object, no filters, several at
 * once, the bytes through a pipe) and point the index entries at them (one
 * git update-index --index-info). meanwhile(ctx), when not NULL, is called
 * once while git hashes. Returns 0 or -1.
 */
int memrepo_stage_all(const char *dir, const struct stage_item *items, size_t n,
		      void (*meanwhile)(void *), void *ctx);

/*
 * Make a commit on HEAD whose tree is HEAD's with items in place, without
 * touching the index, the work tree or any operation in progress (plumbing:
 * read-tree into a private index, write-tree, commit-tree, update-ref), and
 * put its id into commit. Returns 0 or -1 (reported); HEAD moves only when
 * everything else worked.
 */
int memrepo_commit_files(const char *dir, const char *gitdir,
			 const struct stage_item *items, size_t n, const char *message,
			 struct buf *commit);

/*
 * The git dir of the work tree at dir (NULL: here): $GIT_DIR when set (git
 * sets it for hooks in linked worktrees), ".git" when that is a folder,
 * else what git rev-parse --absolute-git-dir says. Replaces out's contents.
 */
int memrepo_git_dir(const char *dir, struct buf *out);

/*
 * The top of the work tree around dir (NULL: here), absolute, into out
 * (replacing its contents). Returns 0, or -1 (reported, naming dir) when
 * dir is not inside a work tree of a git repository.
 */
int memrepo_toplevel(const char *dir, struct buf *out);

/* The parent folder of path ("" for the top). Caller frees. */
char *memrepo_dirname(const char *path);

/*
 * Whether git is in the middle of a rebase (rebase-merge or rebase-apply
 * in the git dir). -1 when git cannot tell.
 */
int memrepo_rebasing(const char *dir);

#endif
