/*
 * What the last restore wrote into a live memory file, remembered in the
 * clone's git dir so the next backup of that file measures deletions
 * against it (DESIGN.md "backup": the last state this machine's live file
 * is known to have held). One record per live file, keyed by its absolute
 * path, so a restore into a scratch file never changes what a backup of
 * the real one deletes:
 *
 *	$GIT_DIR/crdtmem/restored-<hash of the path>.json   the entries written,
 *	                                                     with their metadata
 *	$GIT_DIR/crdtmem/restored-<hash of the path>.path   the path itself
 *
 * A backup that has recorded the file's state in memory-<host>.json
 * forgets the record: from then on that file is the newer state.
 */
#ifndef RESTORED_H
#define RESTORED_H

#include "crdt.h"
#include "memfile.h"

/*
 * The absolute form of path, its folder resolved through symbolic links
 * (the file itself need not exist). Caller frees.
 */
char *restored_abs_path(const char *path);

/* Remember set (the stamped versions written) as what target now holds. */
int restored_save(const char *gitdir, const char *target, const struct entry_set *set);

/*
 * Load the record for target into mf (MEMFILE_INIT before). Returns 1 when
 * there is one, 0 when not, -1 (reported) when it cannot be read.
 */
int restored_load(const char *gitdir, const char *target, struct memfile *mf);

/* Forget the record for target, if any. */
void restored_forget(const char *gitdir, const char *target);

#endif
