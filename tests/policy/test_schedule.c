/*
 * Schedules: validation and its messages, the next and previous scheduled
 * moments (weekdays, every N weeks, month ends, February 29th, daylight
 * saving in Europe/Berlin and America/New_York), catch-up after missed runs,
 * a brute-force cross-check of ob_schedule_next, and the text form (round
 * trips, garbage, mutations).
 */
#include "testutil.h"
#include "obagent/schedule.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* A zone from the system's tzdata, or 0 (and a message) when it is missing. */
static int have_zone(const char *name)
{
	char path[256];

#ifdef _WIN32
	/* Windows' C runtime reads TZ only in its own "CET-1CEST" form, never an IANA name: the
	 * daylight-saving cases need tzdata, which the Windows lane does not have. */
	print_message("skipped: %s needs IANA tzdata (not on Windows); daylight-saving cases not run\n", name);
	(void)path;
	return 0;
#endif
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	if (access(path, R_OK) != 0) {
		print_message("skipped: %s is missing (no tzdata); daylight-saving cases not run\n", path);
		return 0;
	}
	set_tz(name);
	return 1;
}

/* Seconds since 1970 of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm);
}

static void expect_next(const ob_schedule *s, int64_t after, int64_t want)
{
	int64_t got;
	char a[21], b[21];

	assert_ok(ob_schedule_next(&got, s, after));
	if (got != want) {
		ob_time_format_utc(a, got);
		ob_time_format_utc(b, want);
		print_error("next: got %s, want %s\n", a, b);
	}
	assert_int_equal(got, want);
}

static void expect_invalid(ob_schedule *s, const char *needle)
{
	assert_int_equal(ob_schedule_validate(s), OB_EINVALID);
	if (!strstr(ob_error_last(), needle))
		print_error("message '%s' lacks '%s'\n", ob_error_last(), needle);
	assert_non_null(strstr(ob_error_last(), needle));
}

static void assert_same_schedule(const ob_schedule *a, const ob_schedule *b)
{
	size_t i;

	assert_int_equal(a->version, b->version);
	assert_int_equal(a->days, b->days);
	assert_int_equal(a->time_count, b->time_count);
	for (i = 0; i < a->time_count; i++)
		assert_int_equal(a->times[i], b->times[i]);
	assert_int_equal(a->weekly_frequency, b->weekly_frequency);
	assert_int_equal(a->anchor_date, b->anchor_date);
	assert_int_equal(!!a->system_state, !!b->system_state);
}

/* ---- validation ---- */

static void test_default_is_sunday_2100(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;

	(void)state;
	set_tz("UTC");
	assert_ok(ob_schedule_validate(&s));
	assert_int_equal(s.days, OB_SUNDAY);
	assert_int_equal(s.time_count, 1);
	assert_int_equal(s.times[0], 21 * 60);
	assert_int_equal(s.weekly_frequency, 1);
	/* Wednesday 2024-03-06 -> Sunday 2024-03-10 21:00 */
	expect_next(&s, utc(2024, 3, 6, 12, 0), utc(2024, 3, 10, 21, 0));
}

static void test_validation_messages(void **state)
{
	ob_schedule s;

	(void)state;
	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.time_count = 4;
	expect_invalid(&s, "at most 3 times a day");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.system_state = 1;
	s.time_count = 2;
	s.times[1] = 600;
	expect_invalid(&s, "a System State schedule runs at most once a day");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.weekly_frequency = 0;
	expect_invalid(&s, "WeeklyFrequency must be 1 to 4");
	s.weekly_frequency = 5;
	expect_invalid(&s, "WeeklyFrequency must be 1 to 4 (weeks); 5 was given");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.days = 0;
	expect_invalid(&s, "DaysOfWeek must name at least one day");
	s.days = 0x80;
	expect_invalid(&s, "DaysOfWeek");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.time_count = 0;
	expect_invalid(&s, "at least one time of day");
	s.time_count = 1;
	s.times[0] = 1440;
	expect_invalid(&s, "from 00:00 to 23:59");
	s.times[0] = -1;
	expect_invalid(&s, "from 00:00 to 23:59");
	s.time_count = 2;
	s.times[0] = 600;
	s.times[1] = 600;
	expect_invalid(&s, "10:00 is given twice");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.version = 0;
	expect_invalid(&s, "OB_SCHEDULE_INIT");

	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.anchor_date = -30000;   /* 1887 */
	expect_invalid(&s, "anchor date");

	/* System State with one time, and three times for files: fine; times get sorted. */
	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.system_state = 1;
	s.days = OB_EVERY_DAY;
	s.times[0] = 120;
	assert_ok(ob_schedule_validate(&s));
	s = (ob_schedule)OB_SCHEDULE_INIT;
	s.time_count = 3;
	s.times[0] = 21 * 60;
	s.times[1] = 9 * 60 + 1;     /* any minute is accepted */
	s.times[2] = 13 * 60 + 30;
	assert_ok(ob_schedule_validate(&s));
	assert_int_equal(s.times[0], 9 * 60 + 1);
	assert_int_equal(s.times[1], 13 * 60 + 30);
	assert_int_equal(s.times[2], 21 * 60);

	/* next refuses a schedule that does not validate */
	{
		int64_t t;
		s.weekly_frequency = 9;
		assert_int_equal(ob_schedule_next(&t, &s, 0), OB_EINVALID);
	}
}

/* ---- next ---- */

static void test_weekdays(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;

	(void)state;
	set_tz("UTC");
	s.days = OB_SATURDAY | OB_SUNDAY;
	s.times[0] = 16 * 60;
	assert_ok(ob_schedule_validate(&s));
	/* Friday 2024-03-08 -> Saturday 16:00; strictly after: Saturday 16:00 -> Sunday 16:00 */
	expect_next(&s, utc(2024, 3, 8, 10, 0), utc(2024, 3, 9, 16, 0));
	expect_next(&s, utc(2024, 3, 9, 16, 0), utc(2024, 3, 10, 16, 0));
	expect_next(&s, utc(2024, 3, 9, 15, 59), utc(2024, 3, 9, 16, 0));
	expect_next(&s, utc(2024, 3, 10, 16, 0), utc(2024, 3, 16, 16, 0));

	/* three times a day, weekdays only */
	s.days = OB_MONDAY | OB_TUESDAY | OB_WEDNESDAY | OB_THURSDAY | OB_FRIDAY;
	s.time_count = 3;
	s.times[0] = 21 * 60;
	s.times[1] = 9 * 60;
	s.times[2] = 13 * 60;
	expect_next(&s, utc(2024, 3, 8, 8, 0), utc(2024, 3, 8, 9, 0));
	expect_next(&s, utc(2024, 3, 8, 9, 0), utc(2024, 3, 8, 13, 0));
	expect_next(&s, utc(2024, 3, 8, 13, 0), utc(2024, 3, 8, 21, 0));
	expect_next(&s, utc(2024, 3, 8, 21, 0), utc(2024, 3, 11, 9, 0));   /* Friday -> Monday */
}

static void test_every_n_weeks(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	int64_t commit = utc(2024, 3, 6, 10, 0);   /* a Wednesday: week Sun 3 .. Sat 9 March is week 0 */

	(void)state;
	set_tz("UTC");
	s.days = OB_MONDAY;
	s.times[0] = 12 * 60;
	s.weekly_frequency = 2;
	assert_ok(ob_schedule_set_anchor(&s, commit));
	/* Monday 4 March (week 0) is past; week 1 is skipped; Monday 18 March is week 2. */
	expect_next(&s, commit, utc(2024, 3, 18, 12, 0));
	expect_next(&s, utc(2024, 3, 18, 12, 0), utc(2024, 4, 1, 12, 0));
	/* a Saturday in week 0 is still ahead */
	s.days = OB_MONDAY | OB_SATURDAY;
	expect_next(&s, commit, utc(2024, 3, 9, 12, 0));
	expect_next(&s, utc(2024, 3, 9, 12, 0), utc(2024, 3, 18, 12, 0));

	/* every 4 weeks, across a year end: anchor week Sun 2024-12-01 */
	s.days = OB_SUNDAY;
	s.weekly_frequency = 4;
	assert_ok(ob_schedule_set_anchor(&s, utc(2024, 12, 4, 0, 0)));
	expect_next(&s, utc(2024, 12, 4, 0, 0), utc(2024, 12, 29, 12, 0));
	expect_next(&s, utc(2024, 12, 29, 12, 0), utc(2025, 1, 26, 12, 0));

	/* every 3 weeks, times before the anchor follow the same rhythm backwards */
	s.days = OB_FRIDAY;
	s.weekly_frequency = 3;
	assert_ok(ob_schedule_set_anchor(&s, utc(2024, 6, 12, 0, 0)));   /* week of Sun 9 June */
	expect_next(&s, utc(2024, 5, 20, 0, 0), utc(2024, 5, 24, 12, 0)); /* 3 weeks before 14 June */
	expect_next(&s, utc(2024, 5, 24, 12, 0), utc(2024, 6, 14, 12, 0));
}

static void test_month_ends_and_leap_years(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	int64_t t;

	(void)state;
	set_tz("UTC");
	s.days = OB_EVERY_DAY;
	s.times[0] = 23 * 60 + 30;
	expect_next(&s, utc(2024, 2, 28, 23, 30), utc(2024, 2, 29, 23, 30));
	expect_next(&s, utc(2024, 2, 29, 23, 30), utc(2024, 3, 1, 23, 30));
	expect_next(&s, utc(2023, 2, 28, 23, 30), utc(2023, 3, 1, 23, 30));
	expect_next(&s, utc(2100, 2, 28, 23, 30), utc(2100, 3, 1, 23, 30));   /* 2100: no leap day */
	expect_next(&s, utc(2000, 2, 28, 23, 30), utc(2000, 2, 29, 23, 30));  /* 2000: leap day */
	expect_next(&s, utc(2024, 12, 31, 23, 30), utc(2025, 1, 1, 23, 30));
	expect_next(&s, utc(2024, 4, 30, 23, 45), utc(2024, 5, 1, 23, 30));
	/* Thursday 29 February 2024 */
	s.days = OB_THURSDAY;
	s.times[0] = 12 * 60;
	expect_next(&s, utc(2024, 2, 22, 12, 0), utc(2024, 2, 29, 12, 0));
	/* prev mirrors next */
	assert_ok(ob_schedule_prev(&t, &s, utc(2024, 3, 6, 0, 0)));
	assert_int_equal(t, utc(2024, 2, 29, 12, 0));
	assert_ok(ob_schedule_prev(&t, &s, utc(2024, 2, 29, 12, 0)));
	assert_int_equal(t, utc(2024, 2, 29, 12, 0));
	assert_ok(ob_schedule_prev(&t, &s, utc(2024, 2, 29, 11, 59)));
	assert_int_equal(t, utc(2024, 2, 22, 12, 0));
}

static void test_dst_berlin(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	int64_t t;

	(void)state;
	if (!have_zone("Europe/Berlin"))
		return;
	s.days = OB_EVERY_DAY;
	s.times[0] = 2 * 60 + 30;
	/* Spring forward, Sunday 2024-03-31: 02:00 CET -> 03:00 CEST (01:00 UTC). 02:30 runs at 03:00. */
	expect_next(&s, utc(2024, 3, 29, 12, 0), utc(2024, 3, 30, 1, 30));   /* 02:30 CET */
	expect_next(&s, utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 0));    /* gap: 03:00 CEST */
	expect_next(&s, utc(2024, 3, 31, 1, 0), utc(2024, 4, 1, 0, 30));     /* 02:30 CEST */
	/* 02:30 and 03:00 on the gap day are one run */
	s.time_count = 2;
	s.times[1] = 3 * 60;
	expect_next(&s, utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 1, 0));
	expect_next(&s, utc(2024, 3, 31, 1, 0), utc(2024, 4, 1, 0, 30));
	assert_ok(ob_schedule_prev(&t, &s, utc(2024, 3, 31, 12, 0)));
	assert_int_equal(t, utc(2024, 3, 31, 1, 0));

	/* Fall back, Sunday 2024-10-27: 03:00 CEST -> 02:00 CET (01:00 UTC). 02:30 runs once, the first time. */
	s.time_count = 1;
	expect_next(&s, utc(2024, 10, 26, 12, 0), utc(2024, 10, 27, 0, 30));  /* 02:30 CEST */
	expect_next(&s, utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30));  /* not 01:30 UTC the same day */
	assert_ok(ob_schedule_prev(&t, &s, utc(2024, 10, 27, 1, 45)));
	assert_int_equal(t, utc(2024, 10, 27, 0, 30));

	/* An evening time keeps its wall-clock time across both changes. */
	s.times[0] = 21 * 60;
	expect_next(&s, utc(2024, 3, 30, 12, 0), utc(2024, 3, 30, 20, 0));
	expect_next(&s, utc(2024, 3, 30, 20, 0), utc(2024, 3, 31, 19, 0));
	expect_next(&s, utc(2024, 10, 26, 19, 0), utc(2024, 10, 27, 20, 0));
	set_tz("UTC");
}

static void test_dst_new_york(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;

	(void)state;
	if (!have_zone("America/New_York"))
		return;
	s.days = OB_SUNDAY;
	s.times[0] = 2 * 60 + 30;
	/* 2024-03-10 02:00 EST -> 03:00 EDT (07:00 UTC) */
	expect_next(&s, utc(2024, 3, 9, 0, 0), utc(2024, 3, 10, 7, 0));
	/* 2024-11-03 02:00 EDT -> 01:00 EST; 01:30 occurs at 05:30 and 06:30 UTC */
	s.times[0] = 1 * 60 + 30;
	expect_next(&s, utc(2024, 11, 2, 0, 0), utc(2024, 11, 3, 5, 30));
	expect_next(&s, utc(2024, 11, 3, 5, 30), utc(2024, 11, 10, 6, 30));
	set_tz("UTC");
}

/* ---- catch-up ---- */

static void test_missed_runs_catch_up_once(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	int64_t slot;
	int missed;

	(void)state;
	set_tz("UTC");
	s.days = OB_EVERY_DAY;
	s.times[0] = 21 * 60;
	/* ran Monday 21:00; machine off until Friday 10:00: Tue, Wed, Thu were missed: one catch-up, for Thursday */
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2024, 3, 4, 21, 0) + 5, utc(2024, 3, 8, 10, 0)));
	assert_int_equal(missed, 1);
	assert_int_equal(slot, utc(2024, 3, 7, 21, 0));
	/* after the catch-up (started Friday 10:00), nothing is owed until Friday 21:00 */
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2024, 3, 8, 10, 0), utc(2024, 3, 8, 20, 59)));
	assert_int_equal(missed, 0);
	assert_int_equal(slot, 0);
	assert_ok(ob_schedule_missed(&missed, NULL, &s, utc(2024, 3, 8, 10, 0), utc(2024, 3, 8, 21, 0)));
	assert_int_equal(missed, 1);
	/* nothing passed: Monday's run, now Tuesday 20:00 */
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2024, 3, 4, 21, 0), utc(2024, 3, 5, 20, 0)));
	assert_int_equal(missed, 0);
	/* off for a year: still one */
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2023, 3, 4, 21, 0), utc(2024, 3, 5, 20, 0)));
	assert_int_equal(missed, 1);
	assert_int_equal(slot, utc(2024, 3, 4, 21, 0));
	/* every 2 weeks: the off week owes nothing */
	s.days = OB_MONDAY;
	s.weekly_frequency = 2;
	assert_ok(ob_schedule_set_anchor(&s, utc(2024, 3, 4, 0, 0)));
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2024, 3, 4, 21, 0), utc(2024, 3, 17, 0, 0)));
	assert_int_equal(missed, 0);
	assert_ok(ob_schedule_missed(&missed, &slot, &s, utc(2024, 3, 4, 21, 0), utc(2024, 3, 19, 0, 0)));
	assert_int_equal(missed, 1);
	assert_int_equal(slot, utc(2024, 3, 18, 21, 0));
}

/* ---- brute force: next against a scan of the clock ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* The local wall clock at t, counted like UTC seconds. */
static int64_t wall_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return (int64_t)timegm(&tm);
}

/*
 * The model: walk the clock in quarter hours (every time and every zone
 * offset used here is a whole quarter hour); a scheduled (date, time) fires at
 * the first step whose wall clock has reached it, counting the largest
 * wall-clock value seen so far, so a repeated hour never fires it again.
 */
static int64_t model_next(const ob_schedule *s, int64_t after)
{
	const int64_t q = 900;
	int64_t t, maxwall = wall_of(after);

	for (t = after - 3 * 3600; t < after; t += 60)
		if (wall_of(t) > maxwall)
			maxwall = wall_of(t);
	for (t = after - after % q + q;; t += q) {
		int64_t w = wall_of(t), k;
		if (w <= maxwall)
			continue;
		/* every wall-clock quarter hour in (maxwall, w] */
		for (k = maxwall - maxwall % q + q; k <= w; k += q) {
			time_t kt = (time_t)k;
			struct tm tm;
			int64_t weeks, aweeks;
			size_t i;
			gmtime_r(&kt, &tm);
			if (!(s->days & (1u << tm.tm_wday)))
				continue;
			weeks = (k / 86400 + 4 - tm.tm_wday) / 7;   /* Sunday-to-Saturday weeks since 1970 */
			aweeks = (s->anchor_date + 4 - ((s->anchor_date + 4) % 7 + 7) % 7) / 7;
			if (((weeks - aweeks) % s->weekly_frequency + s->weekly_frequency) % s->weekly_frequency)
				continue;
			for (i = 0; i < s->time_count; i++)
				if (tm.tm_hour * 60 + tm.tm_min == s->times[i])
					return t;
		}
		maxwall = w;
	}
}

static void cross_check_next(const char *zone)
{
	int round;

	if (!have_zone(zone))
		return;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (round = 0; round < 300; round++) {
		ob_schedule s = OB_SCHEDULE_INIT;
		int64_t after, got, want;
		size_t i;
		s.days = rnd() % 127 + 1;
		s.time_count = rnd() % 3 + 1;
		for (i = 0; i < s.time_count; i++) {
			/* around the changes (01:00-03:59) often, anywhere sometimes */
			s.times[i] = rnd() % 2 ? 60 + (int)(rnd() % 12) * 15 : (int)(rnd() % 96) * 15;
		}
		if ((s.time_count > 1 && s.times[0] == s.times[1]) ||
		    (s.time_count > 2 && (s.times[2] == s.times[0] || s.times[2] == s.times[1])))
			s.time_count = 1;
		s.weekly_frequency = (int)(rnd() % 4) + 1;
		s.anchor_date = 19700 + (int64_t)(rnd() % 400);
		assert_ok(ob_schedule_validate(&s));
		/* a start near a change in spring or autumn 2024/2025, or anywhere in those years */
		if (round % 3 == 0)
			after = utc(2024, 3, 30, 0, 0) + (int64_t)(rnd() % (3 * 86400));
		else if (round % 3 == 1)
			after = utc(2025, 10, 25, 0, 0) + (int64_t)(rnd() % (3 * 86400));
		else
			after = utc(2024, 1, 1, 0, 0) + (int64_t)(rnd() % (730u * 86400u));
		if (rnd() % 2)
			after -= after % 60;
		assert_ok(ob_schedule_next(&got, &s, after));
		want = model_next(&s, after);
		if (got != want)
			print_error("%s round %d: next(%lld) = %lld, model %lld\n", zone, round,
				(long long)after, (long long)got, (long long)want);
		assert_int_equal(got, want);
	}
	set_tz("UTC");
}

static void test_next_cross_check(void **state)
{
	(void)state;
	cross_check_next("UTC");
	cross_check_next("Europe/Berlin");
	cross_check_next("America/New_York");
	cross_check_next("Australia/Lord_Howe");   /* a half-hour change */
}

/* ---- text ---- */

static void test_text_round_trip(void **state)
{
	ob_schedule s = OB_SCHEDULE_INIT, back;
	char *text;
	int i;

	(void)state;
	set_tz("UTC");
	s.days = OB_SATURDAY | OB_SUNDAY;
	s.time_count = 2;
	s.times[0] = 21 * 60 + 30;
	s.times[1] = 16 * 60;
	s.anchor_date = 19784;   /* 2024-03-02 */
	assert_ok(ob_schedule_to_string(&text, &s));
	assert_string_equal(text, "schedule/1 DaysOfWeek=Sunday,Saturday TimesOfDay=16:00,21:30 "
		"WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0");
	assert_ok(ob_schedule_from_string(&back, text));
	ob_str_free(text);
	assert_int_equal(back.days, s.days);
	assert_int_equal(back.time_count, 2);
	assert_int_equal(back.times[0], 16 * 60);
	assert_int_equal(back.times[1], 21 * 60 + 30);
	assert_int_equal(back.anchor_date, 19784);

	rng_state = 42;
	for (i = 0; i < 2000; i++) {
		char *again;
		size_t k;
		s = (ob_schedule)OB_SCHEDULE_INIT;
		s.days = rnd() % 127 + 1;
		s.system_state = rnd() % 4 == 0;
		s.time_count = s.system_state ? 1 : rnd() % 3 + 1;
		for (k = 0; k < s.time_count; k++)
			s.times[k] = (int)(rnd() % 1440);
		if (ob_schedule_validate(&s) != 0)
			continue;   /* a repeated time */
		s.weekly_frequency = (int)(rnd() % 4) + 1;
		s.anchor_date = -25567 + (int64_t)(rnd() % 2900000);   /* 1900 .. 9839 */
		assert_ok(ob_schedule_to_string(&text, &s));
		assert_ok(ob_schedule_from_string(&back, text));
		assert_same_schedule(&back, &s);
		assert_ok(ob_schedule_to_string(&again, &back));
		assert_string_equal(again, text);
		ob_str_free(again);
		ob_str_free(text);
	}
}

static void test_text_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"schedule/1",
		"schedule/2 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1x DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0 Color=red",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0 ",
		"schedule/1  DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		" schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek= TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sun TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday,Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday, TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=7:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=24:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=07:60 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=01:00,02:00,03:00,04:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=01:00,01:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=0 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=5 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=01 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=+1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2023-02-29 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-3-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=1800-01-01 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=2",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=02:00,21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=1",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay==21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday =21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday\tTimesOfDay=21:00 WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
		"schedule/1 DaysOfWeek=Sunday TimesOfDay=21:00\n WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0",
	};
	ob_schedule s;
	size_t i;

	(void)state;
	assert_ok(ob_schedule_from_string(&s,
		"schedule/1 SystemState=0 AnchorDate=2024-03-02 WeeklyFrequency=1 TimesOfDay=21:00 DaysOfWeek=Sunday"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ob_schedule_from_string(&s, bad[i]);
		if (rc != OB_EINVALID)
			print_error("accepted: '%s'\n", bad[i]);
		assert_int_equal(rc, OB_EINVALID);
		assert_true(strlen(ob_error_last()) > 0);
	}
	assert_int_equal(ob_schedule_from_string(&s, NULL), OB_EINVALID);
}

/* Random mutations: never a crash; whatever parses is valid and round-trips. */
static void test_text_mutations(void **state)
{
	const char *seed = "schedule/1 DaysOfWeek=Monday,Friday TimesOfDay=02:30,16:00,21:30 "
		"WeeklyFrequency=3 AnchorDate=2024-03-02 SystemState=0";
	const char alphabet[] = "0123456789:,=- /SsMyLa\x01\xff";
	char buf[256];
	int i;

	(void)state;
	rng_state = 7;
	for (i = 0; i < 20000; i++) {
		size_t len = strlen(seed), k, edits = rnd() % 4 + 1;
		ob_schedule s;
		memcpy(buf, seed, len + 1);
		for (k = 0; k < edits; k++) {
			size_t at = rnd() % len;
			switch (rnd() % 3) {
			case 0: buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)]; break;
			case 1: memmove(buf + at, buf + at + 1, len - at); len--; break;
			default:
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at + 1);
					buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
					len++;
				}
			}
		}
		if (ob_schedule_from_string(&s, buf) == 0) {
			char *text;
			ob_schedule back;
			assert_ok(ob_schedule_validate(&s));
			assert_ok(ob_schedule_to_string(&text, &s));
			assert_ok(ob_schedule_from_string(&back, text));
			assert_same_schedule(&back, &s);
			ob_str_free(text);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_sunday_2100),
		cmocka_unit_test(test_validation_messages),
		cmocka_unit_test(test_weekdays),
		cmocka_unit_test(test_every_n_weeks),
		cmocka_unit_test(test_month_ends_and_leap_years),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_missed_runs_catch_up_once),
		cmocka_unit_test(test_next_cross_check),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_text_garbage),
		cmocka_unit_test(test_text_mutations),
	};

	set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
