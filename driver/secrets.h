/*
 * Recognising text that looks like a credential (private-key blocks, cloud,
 * forge and API tokens), so the pre-commit hook can keep it out of a memory
 * repository that may be pushed anywhere.
 */
#ifndef SECRETS_H
#define SECRETS_H

#include <stddef.h>

/*
 * What kind of credential text[0..len) seems to hold ("a private key
 * block", "a GitHub token", ...), or NULL when none.
 */
const char *secret_kind(const char *text, size_t len);

#endif
