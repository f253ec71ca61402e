/*
 * Who writes and when: the host name recorded in new stamps and the clock,
 * for the commands that stamp (stamp, the pre-commit hook, backup).
 */
#ifndef WRITER_H
#define WRITER_H

#include "buf.h"
#include "restamp.h"

/*
 * The host to record: override when not NULL or empty, else git config
 * crdtmem.host (of the repository at dir, NULL: here), else the short host
 * name (up to the first dot). Replaces out's contents. Returns 0, or -1
 * (reported) when the name is empty or holds a '/' or a control character.
 */
int writer_host(struct buf *out, const char *override, const char *dir);

/*
 * The same without asking git: configured (crdtmem.host as the caller read
 * it) when not NULL or empty, else the short host name.
 */
int writer_host_named(struct buf *out, const char *configured);

/*
 * Fill clock with the current time and host (borrowed: it must outlive
 * clock) and random unique ids. CRDTMEM_NOW, when set (an ISO-8601
 * timestamp or epoch seconds), fixes the time: for tests and for replaying
 * a backup. Returns 0, or -1 (reported) when CRDTMEM_NOW is not a time.
 */
int writer_clock(struct restamp_clock *clock, const char *host);

#endif
