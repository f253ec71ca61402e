/*
 * The writer's host name and clock (see writer.h).
 */
#include "writer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "gitops.h"
#include "stamp.h"

static int valid_host(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int writer_host_named(struct buf *out, const char *configured)
{
	buf_reset(out);
	if (configured && *configured) {
		buf_addstr(out, configured);
	} else {
		char name[256];
		if (gethostname(name, sizeof(name)))
			return error("cannot tell this machine's name: give --host or "
				     "set git config crdtmem.host");
		name[sizeof(name) - 1] = '\0';
		name[strcspn(name, ".")] = '\0';
		buf_addstr(out, name);
	}
	if (!valid_host(out->buf))
		return error("%s cannot be a host name: it must be non-empty, "
			     "without '/' or control characters",
			     qpath(out->buf));
	return 0;
}

int writer_host(struct buf *out, const char *override, const char *dir)
{
	struct buf configured = BUF_INIT;
	int ret;

	if (!override || !*override)
		git_output(&configured, dir, "config", "--get", "crdtmem.host", NULL);
	ret = writer_host_named(out, override && *override ? override : configured.buf);
	buf_release(&configured);
	return ret;
}

int writer_clock(struct restamp_clock *clock, const char *host)
{
	const char *fixed = getenv("CRDTMEM_NOW");

	clock->host = host;
	clock->new_uid = restamp_random_uid;
	clock->uid_ctx = NULL;
	if (fixed && *fixed) {
		int is_string = strspn(fixed, "0123456789.") != strlen(fixed);
		if (stamp_parse_text(fixed, is_string, &clock->now_ns))
			return error("CRDTMEM_NOW=%s is not a timestamp", qpath(fixed));
		return 0;
	}
	clock->now_ns = stamp_now_ns();
	return 0;
}
