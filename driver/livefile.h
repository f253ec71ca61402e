/*
 * The live memory file as the MCP memory server reads and writes it, for
 * backup and restore: what the server would make of a file, the server's
 * own JSONL for a memory (no metadata, no tombstones, entities first), and
 * the rule that stops a backup from recording the loss of most of a memory
 * at once. Pure: no I/O, no clock.
 */
#ifndef LIVEFILE_H
#define LIVEFILE_H

#include <stddef.h>

#include "buf.h"
#include "crdt.h"

/* Entries of s that are not tombstones. */
size_t livefile_count_live(const struct entry_set *s);

/*
 * Entries of s the server drops on its next write: neither an MCP entity
 * nor an MCP relation (no "type", or another one).
 */
size_t livefile_count_foreign(const struct entry_set *s);

/*
 * out = the entries of prev a backup may turn into tombstones when next
 * lacks them: all but the ones the server cannot hold (see
 * livefile_count_foreign), which a live file loses on the server's next
 * write whatever its user did, so their absence is no deletion. New
 * references; out starts empty and comes out normalised.
 */
void livefile_deletable(const struct entry_set *prev, const struct entry_set *next,
			struct entry_set *out);

/* Below this many live entries before, only an empty file counts as a loss. */
#define LIVEFILE_LOSS_MIN 10

/*
 * Whether going from prev_live to next_live live entries loses most of the
 * memory at once: every entry of a non-empty memory, or more than half of
 * one that had at least LIVEFILE_LOSS_MIN.
 */
int livefile_is_mass_loss(size_t prev_live, size_t next_live);

/*
 * Append the memory server's JSONL for s: every live entry without its
 * _crdt_metadata, one compact canonical object per line, all entities
 * first, then all relations, then anything else (each group in key order),
 * lines joined by "\n" with no newline after the last (as the server
 * writes). Tombstones are left out. An empty memory is an empty file.
 * Returns the number of entries written.
 */
size_t livefile_serialize(const struct entry_set *s, struct buf *out);

/*
 * out = the live entries of s, each without its _crdt_metadata (new
 * references). out starts empty and comes out normalised.
 */
void livefile_strip(const struct entry_set *s, struct entry_set *out);

#endif
