/*
 * Time (stamp.h): parsing and writing timestamps, the stamp order, and the
 * hybrid-logical-clock step with the clock fixed by the test.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "stamp.h"

TestSuite(instant);
TestSuite(hlc);

#define NS 1000000000LL
#define MS 1000000LL
/* 2026-11-21T20:55:50Z and 2026-01-01T00:00:00Z in seconds */
#define T_NOV 1795294550LL
#define T_JAN 1767225600LL

/* ---- parsing and writing ---- */

static int64_t iso(const char *s)
{
	int64_t ns = 0;

	cr_assert_eq(stamp_parse_iso8601(s, &ns), 0, "'%s' rejected", s);
	return ns;
}

Test(instant, utc_with_milliseconds)
{
	cr_assert_eq(iso("2026-11-21T20:55:50.123Z"), T_NOV * NS + 123000000LL);
}

Test(instant, missing_fraction)
{
	cr_assert_eq(iso("2026-11-21T20:55:50Z"), T_NOV * NS);
	cr_assert_eq(iso("1970-01-01T00:00:00Z"), 0);
}

Test(instant, any_fraction_length)
{
	cr_assert_eq(iso("2026-11-21T20:55:50.5Z"), T_NOV * NS + 500000000LL);
	cr_assert_eq(iso("2026-11-21T20:55:50.000Z"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21T20:55:50.123456789Z"), T_NOV * NS + 123456789LL);
	cr_assert_eq(iso("2026-11-21T20:55:50.000001Z"), T_NOV * NS + 1000LL);
}

Test(instant, offsets_are_applied)
{
	cr_assert_eq(iso("2026-11-21T22:55:50+02:00"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21T20:55:50+00:00"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21T19:25:50-0130"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-22T02:25:50.250+05:30"), T_NOV * NS + 250000000LL);
}

Test(instant, no_offset_is_read_as_utc)
{
	/* Python's naive isoformat(), with and without microseconds */
	cr_assert_eq(iso("2026-11-21T20:55:50"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21T20:55:50.123456"), T_NOV * NS + 123456000LL);
	cr_assert_eq(iso("2026-11-21 20:55:50"), T_NOV * NS);
}

Test(instant, a_space_for_the_t)
{
	cr_assert_eq(iso("2026-11-21 20:55:50Z"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21 20:55:50+00:00"), T_NOV * NS);
	cr_assert_eq(iso("2026-11-21 20:55:50.250Z"), T_NOV * NS + 250000000LL);
}

Test(instant, before_1970_is_negative)
{
	cr_assert_eq(iso("1969-12-31T23:59:59Z"), -NS);
}

Test(instant, leap_day)
{
	cr_assert_eq(iso("2024-02-29T00:00:00Z"), 1709164800LL * NS);
	cr_assert_eq(iso("2000-03-01T00:00:00Z"), 951868800LL * NS);
}

Test(instant, strings_that_are_not_timestamps_are_rejected)
{
	static const char *const cases[] = {
		"",
		"yesterday",
		"2026-11-21",
		"2026-13-01T00:00:00Z",
		"2026-11-21T25:00:00Z",
		"2026-11-21T20:61:00Z",
		"2026-11-21T20:55:50.Z",
		"2026-11-21T20:55:50Zjunk",
		"2026-11-21T20:55:50+2",
		"2026-11-21T20:55:50 ",
		"2026-11-21T20:55",
		"2026-11-21T20:55:50.",
		"2026-11-21T20:55:50x",
		"2026-00-10T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2026-11-21 T20:55:50Z",
		" 2026-11-21T20:55:50Z",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int64_t ns = 0;
		cr_assert_eq(stamp_parse_iso8601(cases[i], &ns), -1,
			     "'%s' accepted as %lld", cases[i], (long long)ns);
	}
}

Test(instant, format_writes_utc_milliseconds_truncating)
{
	char b[STAMP_TEXT_SIZE];

	cr_assert_eq(stamp_format(b, T_NOV * NS + 123456789LL), 24);
	cr_assert_str_eq(b, "2026-11-21T20:55:50.123Z");
	stamp_format(b, 0);
	cr_assert_str_eq(b, "1970-01-01T00:00:00.000Z");
	stamp_format(b, T_NOV * NS + 999999999LL);
	cr_assert_str_eq(b, "2026-11-21T20:55:50.999Z");
	stamp_format(b, -1);
	cr_assert_str_eq(b, "1969-12-31T23:59:59.999Z");
}

Test(instant, format_then_parse_round_trips_at_millisecond_precision)
{
	static const int64_t cases[] = {0, T_NOV * NS + 123000000LL, T_JAN * NS,
					951868800LL * NS + 1000000LL};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char b[STAMP_TEXT_SIZE];
		stamp_format(b, cases[i]);
		cr_assert_eq(iso(b), cases[i], "%s", b);
	}
}

Test(instant, out_of_range_years_do_not_wrap)
{
	int64_t ns = 0;

	/* Outside what 64-bit nanoseconds hold: refused, never clamped. */
	static const char *const cases[] = {
		"2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
		"1000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
		"2300-01-01T00:00:00",	"2255-12-31T23:59:59Z",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		ns = 42;
		cr_assert_eq(stamp_parse_iso8601(cases[i], &ns), -1,
			     "'%s' accepted as %lld", cases[i], (long long)ns);
		cr_assert_eq(ns, 42, "'%s' changed the result", cases[i]);
	}
	/* The ends of the range are read exactly. */
	cr_assert_eq(iso("2255-01-01T00:00:00Z"), 8993721600LL * NS);
	cr_assert_eq(iso("1700-01-01T00:00:00Z"), -8520336000LL * NS);
}

Test(instant, epoch_seconds_as_text)
{
	int64_t ns = 0;

	cr_assert_eq(stamp_parse_text("1795294550", 0, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS);
	cr_assert_eq(stamp_parse_text("1795294550.25", 0, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS + 250 * MS);
	cr_assert_eq(stamp_parse_text("1.79529455e9", 0, &ns), 0);
	cr_assert_eq(ns, T_NOV * NS);
	cr_assert_eq(stamp_parse_text("1795294550", 1, &ns), 0, "a string of seconds");
	cr_assert_eq(ns, T_NOV * NS);
	cr_assert_eq(stamp_parse_text("2026-11-21T20:55:50Z", 0, &ns), -1,
		     "ISO-8601 only in a string");
	cr_assert_eq(stamp_parse_text("99999999999", 0, &ns), -1, "out of range");
}

/* ---- the stamp order ---- */

Test(instant, stamps_order_by_instant_then_version_then_host)
{
	struct stamp a = {T_NOV * NS, 1, "b"}, b = {T_NOV * NS + 1, 0, "a"};
	struct stamp c = {T_NOV * NS, 2, "a"}, d = {T_NOV * NS, 1, "c"};
	struct stamp none = {STAMP_NONE, 9, "z"}, old = {-T_NOV * NS, 0, ""};

	cr_assert_lt(stamp_cmp(&a, &b), 0);
	cr_assert_gt(stamp_cmp(&b, &a), 0);
	cr_assert_lt(stamp_cmp(&a, &c), 0);
	cr_assert_lt(stamp_cmp(&a, &d), 0);
	cr_assert_eq(stamp_cmp(&a, &a), 0);
	cr_assert_lt(stamp_cmp(&none, &old), 0, "no timestamp is below any timestamp");
}

/* ---- the hybrid logical clock ---- */

static struct stamp next_after(const struct stamp *prev, int64_t now)
{
	struct stamp n = {0, 0, NULL};

	cr_assert_eq(stamp_next(&n, prev, now, "laptop"), 0);
	cr_assert_str_eq(n.host, "laptop");
	return n;
}

Test(hlc, new_key_takes_the_clock_and_version_1)
{
	struct stamp n = next_after(NULL, T_NOV * NS);

	cr_assert_eq(n.instant, T_NOV * NS);
	cr_assert_eq(n.version, 1);
}

Test(hlc, clock_ahead_of_the_previous_stamp_wins)
{
	struct stamp prev = {T_JAN * NS, 4, "desk"};
	struct stamp n = next_after(&prev, T_NOV * NS);

	cr_assert_eq(n.instant, T_NOV * NS);
	cr_assert_eq(n.version, 5);
	cr_assert_gt(stamp_cmp(&n, &prev), 0);
}

Test(hlc, clock_behind_the_previous_stamp_still_moves_on_by_1_ms)
{
	struct stamp prev = {T_NOV * NS + 123 * MS, 7, "desk"};
	struct stamp n = next_after(&prev, T_JAN * NS);

	cr_assert_eq(n.instant, T_NOV * NS + 124 * MS);
	cr_assert_eq(n.version, 8);
	cr_assert_gt(stamp_cmp(&n, &prev), 0);
	/* and again: each step is later than the one before */
	struct stamp m = next_after(&n, T_JAN * NS);
	cr_assert_eq(m.instant, T_NOV * NS + 125 * MS);
	cr_assert_eq(m.version, 9);
}

Test(hlc, clock_equal_to_the_previous_stamp_moves_on_by_1_ms)
{
	struct stamp prev = {T_NOV * NS, 1, "desk"};
	struct stamp n = next_after(&prev, T_NOV * NS);

	cr_assert_eq(n.instant, T_NOV * NS + MS);
	cr_assert_eq(n.version, 2);
}

Test(hlc, instants_are_truncated_to_whole_milliseconds)
{
	struct stamp n = next_after(NULL, T_NOV * NS + 123456789LL);
	cr_assert_eq(n.instant, T_NOV * NS + 123 * MS);

	/* A previous stamp with more digits than ms still ends up behind. */
	struct stamp prev = {T_NOV * NS + 123999999LL, 1, "desk"};
	n = next_after(&prev, T_JAN * NS);
	cr_assert_eq(n.instant, T_NOV * NS + 124 * MS);
	cr_assert_gt(n.instant, prev.instant);

	/* Before 1970 truncation goes towards the past, still on the ms grid. */
	n = next_after(NULL, -1);
	cr_assert_eq(n.instant, -MS);
}

Test(hlc, written_and_read_back_it_is_the_same_instant)
{
	struct stamp prev = {T_NOV * NS + 123456789LL, 1, "desk"};
	struct stamp n = next_after(&prev, T_JAN * NS + 999999LL);
	char text[STAMP_TEXT_SIZE];
	int64_t back = 0;

	stamp_format(text, n.instant);
	cr_assert_eq(stamp_parse_iso8601(text, &back), 0);
	cr_assert_eq(back, n.instant, "%s", text);
}

Test(hlc, previous_without_a_timestamp_counts_only_its_version)
{
	struct stamp prev = {STAMP_NONE, 0, ""};
	struct stamp n = next_after(&prev, T_NOV * NS);

	cr_assert_eq(n.instant, T_NOV * NS);
	cr_assert_eq(n.version, 1);
}

Test(hlc, refuses_to_leave_the_readable_range)
{
	struct stamp n = {1, 2, "untouched"};
	struct stamp at_end = {STAMP_MAX_SEC * NS, 1, "desk"};
	struct stamp last_version = {T_NOV * NS, INT64_MAX, "desk"};

	cr_assert_eq(stamp_next(&n, &at_end, T_NOV * NS, "laptop"), -1);
	cr_assert_eq(stamp_next(&n, &last_version, T_NOV * NS, "laptop"), -1);
	cr_assert_eq(stamp_next(&n, NULL, INT64_MAX, "laptop"), -1, "a broken clock");
	cr_assert_eq(n.instant, 1);
	cr_assert_eq(n.version, 2);
	cr_assert_str_eq(n.host, "untouched");
}

Test(hlc, the_wall_clock_is_after_2026)
{
	cr_assert_gt(stamp_now_ns(), T_JAN * NS);
}
