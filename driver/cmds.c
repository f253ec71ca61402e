/*
 * What the commands share for their command lines: usage errors and help
 * (see cmds.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmds.h"
#include "diag.h"

const char *crdtmem_argv0;

int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

int bad_option(const char *usage, char **argv, int c)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		return usage_error(usage, "option %s needs a value", qpath(arg));
	if (optopt)
		return usage_error(usage, "unknown option '-%c'", optopt);
	return usage_error(usage, "unknown option %s", qpath(arg));
}

int show_help(const char *usage, const char *help)
{
	printf("%s%s", usage, help);
	return EXIT_OK;
}
