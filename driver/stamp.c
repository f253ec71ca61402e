/*
 * Time: parsing and writing instants, the stamp order and the
 * hybrid-logical-clock step (see stamp.h).
 */
#include "stamp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL

int stamp_cmp(const struct stamp *a, const struct stamp *b)
{
	int c;

	if (a->instant != b->instant)
		return a->instant < b->instant ? -1 : 1;
	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	c = strcmp(a->host, b->host);
	return c < 0 ? -1 : c > 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*s)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/*
 * The digits after a decimal point at *s (which points at the point), as
 * nanoseconds; digits past the ninth are read and dropped.
 */
static int parse_fraction(const char **s, int64_t *frac)
{
	const char *p = *s + 1;
	int64_t scale = NS_PER_SEC;

	if (*p < '0' || *p > '9')
		return -1;
	for (*frac = 0; *p >= '0' && *p <= '9'; p++) {
		if (scale > 1) {
			scale /= 10;
			*frac += (*p - '0') * scale;
		}
	}
	*s = p;
	return 0;
}

int stamp_from_seconds(double sec, int64_t *ns)
{
	if (sec != sec || sec > (double)STAMP_MAX_SEC || sec < -(double)STAMP_MAX_SEC)
		return -1;
	*ns = (int64_t)(sec * 1e9);
	return 0;
}

/* Epoch seconds written as decimal text, possibly with a fraction. */
static int parse_epoch_text(const char *s, int64_t *ns)
{
	const char *p = s;
	int neg = 0;
	int64_t sec = 0, frac = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (*p - '0');
		if (sec > STAMP_MAX_SEC)
			return -1;
	}
	if (*p == '.' && parse_fraction(&p, &frac))
		return -1;
	if (*p == 'e' || *p == 'E') {
		/* Exponent forms are rare; a double is precise enough for them. */
		char *end;
		errno = 0;
		double d = strtod(s, &end);
		if (errno || *end)
			return -1;
		return stamp_from_seconds(d, ns);
	}
	if (*p)
		return -1;
	*ns = sec * NS_PER_SEC + frac;
	if (neg)
		*ns = -*ns;
	return 0;
}

int stamp_parse_iso8601(const char *s, int64_t *ns)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
	    digits(&s, 2, &sec))
		return -1;
	if ((*s == '.' || *s == ',') && parse_fraction(&s, &frac))
		return -1;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (*s && digits(&s, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else if (*s) {
		return -1;
	}
	/*
	 * No offset at all (Python's naive isoformat(), "2025-01-01 00:00:00"):
	 * read as UTC, as the tools that write it mean it; refusing it would
	 * stop every merge of their files.
	 */
	if (*s)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
		    mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (t > STAMP_MAX_SEC || t < -STAMP_MAX_SEC)
		return -1; /* outside what nanoseconds in 64 bits can hold */
	*ns = t * NS_PER_SEC + frac;
	return 0;
}

int stamp_parse_text(const char *s, int is_string, int64_t *ns)
{
	if (is_string && !stamp_parse_iso8601(s, ns))
		return 0;
	return parse_epoch_text(s, ns);
}

size_t stamp_format(char out[STAMP_TEXT_SIZE], int64_t ns)
{
	int64_t sec = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;

	if (rem < 0) {
		rem += NS_PER_SEC;
		sec--;
	}
	int64_t days = sec / 86400, tod = sec % 86400;
	if (tod < 0) {
		tod += 86400;
		days--;
	}
	/* civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	int n = snprintf(out, STAMP_TEXT_SIZE, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
			 (long long)y, m, d, (int)(tod / 3600), (int)(tod / 60 % 60),
			 (int)(tod % 60), (int)(rem / STAMP_NS_PER_MS));
	return n < 0 ? 0 : (size_t)n;
}

/* ns rounded down to a whole millisecond (towards the past, also before 1970). */
static int64_t floor_ms(int64_t ns)
{
	int64_t r = ns % STAMP_NS_PER_MS;

	return r < 0 ? ns - r - STAMP_NS_PER_MS : ns - r;
}

int stamp_next(struct stamp *next, const struct stamp *prev, int64_t now_ns,
	       const char *host)
{
	const int64_t limit = STAMP_MAX_SEC * NS_PER_SEC;
	int64_t instant = floor_ms(now_ns), version = 1;

	if (prev && prev->instant != STAMP_NONE) {
		if (prev->instant >= limit)
			return -1;
		/* floor(prev) + 1 ms is past prev and on the ms grid */
		int64_t after = floor_ms(prev->instant) + STAMP_NS_PER_MS;
		if (after > instant)
			instant = after;
	}
	if (prev) {
		if (prev->version == INT64_MAX)
			return -1;
		version = prev->version + 1;
	}
	if (instant > limit || instant < -limit)
		return -1;
	next->instant = instant;
	next->version = version;
	next->host = host;
	return 0;
}

int64_t stamp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}
