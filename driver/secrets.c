/*
 * Credential-looking text (see secrets.h). The patterns are the fixed
 * prefixes and lengths the issuers document; a false alarm can be
 * overridden (see the pre-commit hook), a missed secret cannot be unpushed.
 */
#include "secrets.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static const struct {
	const char *kind;
	const char *pattern; /* POSIX extended */
} patterns[] = {
	{"a private key block", "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"},
	{"an AWS access key id", "(AKIA|ASIA)[0-9A-Z]{16}"},
	{"a GitHub token", "gh[pousr]_[A-Za-z0-9]{36}"},
	{"a GitHub token", "github_pat_[A-Za-z0-9_]{40,}"},
	{"a GitLab token", "glpat-[A-Za-z0-9_-]{20}"},
	{"a Slack token", "xox[abprs]-[A-Za-z0-9-]{10,}"},
	{"an Anthropic API key", "sk-ant-[A-Za-z0-9_-]{32,}"},
	{"an OpenAI API key", "sk-(proj-)?[A-Za-z0-9_-]{40,}"},
	{"a Google API key", "AIza[0-9A-Za-z_-]{35}"},
	{"a Stripe secret key", "[sr]k_live_[0-9A-Za-z]{24,}"},
	{"an npm token", "npm_[A-Za-z0-9]{36}"},
};
#define NR_PATTERNS (sizeof(patterns) / sizeof(*patterns))

static regex_t compiled[NR_PATTERNS];
static int ready;

const char *secret_kind(const char *text, size_t len)
{
	const char *kind = NULL;
	char *s;

	if (!ready) {
		for (size_t i = 0; i < NR_PATTERNS; i++)
			if (regcomp(&compiled[i], patterns[i].pattern,
				    REG_EXTENDED | REG_NOSUB))
				BUG("cannot compile the pattern for %s",
				    patterns[i].kind);
		ready = 1;
	}
	s = xmemdup0(text, len);
	for (size_t i = 0; i < NR_PATTERNS && !kind; i++)
		if (!regexec(&compiled[i], s, 0, NULL, 0))
			kind = patterns[i].kind;
	free(s);
	return kind;
}
