/*
 * A new state of a memory file, stamped against the versions already known
 * (DESIGN.md "Metadata"): what the pre-commit hook, "stamp" and "backup" do
 * before anything is written.
 *
 * For each key of the new state:
 *   - an entry identical to a known version (metadata included) is kept;
 *   - an entry whose content (everything but _crdt_metadata, with its
 *     "deleted" flag) equals a known version's keeps metadata: its own when
 *     it has some, else the newest such version's;
 *   - anything else is new or changed and gets a hybrid-logical-clock stamp:
 *     timestamp max(now, newest known + 1 ms), version newest + 1, the
 *     writer's host and a fresh unique_id. For an entity, observations that
 *     were in the previous state and are gone are added to
 *     removed_observations (with every removal already known).
 * Each key of the previous state that is gone from the new one becomes a
 * tombstone ("deleted": true; an entity's observations move to
 * removed_observations), stamped the same way; a tombstone already there is
 * carried on, so a deletion is never forgotten.
 *
 * Deletions are measured only against prev (the last state this writer's
 * file had), never against other machines' data in the known sets.
 * Pure: the clock and the unique ids come from the caller.
 */
#ifndef RESTAMP_H
#define RESTAMP_H

#include <stdint.h>

#include "crdt.h"

struct restamp_clock {
	int64_t now_ns;	  /* the wall clock (ns since the epoch) */
	const char *host; /* the writer, recorded in new stamps */
	/* Write a fresh unique id (NUL-terminated) into out[0..size). */
	void (*new_uid)(char *out, size_t size, void *ctx);
	void *uid_ctx;
};

struct restamp_stats {
	size_t kept;	/* entries carried on with their metadata */
	size_t added;	/* keys new to every known set */
	size_t changed; /* keys with new content */
	size_t deleted; /* new tombstones */
	size_t future;	/* known stamps more than a day ahead of now */
};

/*
 * out = next stamped against prev (may be NULL: nothing known of this
 * writer) and the other known sets known[0..nknown) (NULLs skipped). All
 * sets normalised; out starts empty and comes out normalised. When changed
 * is not NULL, each added or changed entry (not the tombstones) is also
 * appended to it (a reference of its own), for reports and checks.
 */
void restamp(const struct entry_set *next, const struct entry_set *prev,
	     const struct entry_set *const *known, size_t nknown,
	     const struct restamp_clock *clock, struct entry_set *out,
	     struct entry_set *changed, struct restamp_stats *stats);

/* A random unique id (32 hex digits) for restamp_clock.new_uid. */
void restamp_random_uid(char *out, size_t size, void *ctx);

#endif
