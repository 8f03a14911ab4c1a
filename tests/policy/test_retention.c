/*
 * Retention: validation (ranges, messages, "retention attaches to backup
 * points", Microsoft's documented examples), the text form (round trips,
 * garbage, mutations), hand-made selection cases, and ob_retention_select
 * against an independent brute-force model over years of simulated backups
 * with random failures and outages, in UTC and in Europe/Berlin.
 */
#include "testutil.h"
#include "obagent/schedule.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

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
	return 1;
}

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

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static ob_schedule make_schedule(unsigned int days, int t0, int t1)
{
	ob_schedule s = OB_SCHEDULE_INIT;

	s.days = days;
	s.times[0] = t0;
	s.time_count = 1;
	if (t1 >= 0) {
		s.times[1] = t1;
		s.time_count = 2;
	}
	assert_ok(ob_schedule_validate(&s));
	return s;
}

static void set_times(ob_retention_rule *r, int t0, int t1)
{
	r->times[0] = t0;
	r->time_count = 1;
	if (t1 >= 0) {
		r->times[1] = t1;
		r->time_count = 2;
	}
}

static void expect_invalid(const ob_retention *r, const ob_schedule *s, const char *needle)
{
	assert_int_equal(ob_retention_validate(r, s), OB_EINVALID);
	if (!strstr(ob_error_last(), needle))
		print_error("message '%s' lacks '%s'\n", ob_error_last(), needle);
	assert_non_null(strstr(ob_error_last(), needle));
}

/* The System State example of mars.md 2 E. */
static ob_retention ssb_retention(void)
{
	ob_retention r = OB_RETENTION_INIT;

	r.days = 32;
	r.weekly.count = 13;
	r.weekly.days_of_week = OB_SUNDAY;
	set_times(&r.weekly, 120, -1);
	r.monthly.count = 13;
	r.monthly.days_of_month = OB_MONTHDAY(1);
	set_times(&r.monthly, 120, -1);
	return r;
}

/* ---- validation ---- */

static void test_documented_examples(void **state)
{
	ob_schedule s;
	ob_retention r = OB_RETENTION_INIT;

	(void)state;
	/* mars.md 2 D: New-OBSchedule -DaysOfWeek Saturday,Sunday -TimesOfDay 16:00; -RetentionDays 7 */
	s = make_schedule(OB_SATURDAY | OB_SUNDAY, 16 * 60, -1);
	r.days = 7;
	assert_ok(ob_retention_validate(&r, &s));

	/* mars.md 2 E: all seven days at 2:00; 32 days, 13 weeks on Sunday, 13 months on day 1 */
	s = make_schedule(OB_EVERY_DAY, 120, -1);
	s.system_state = 1;
	r = ssb_retention();
	assert_ok(ob_retention_validate(&r, &s));

	/* SCRIPT-FF style: a weekly schedule, weekly/monthly/yearly rules on its days and times */
	s = make_schedule(OB_SATURDAY | OB_SUNDAY, 16 * 60, 2 * 60 + 30);
	r = (ob_retention)OB_RETENTION_INIT;
	r.weekly.count = 4;
	r.weekly.days_of_week = OB_SATURDAY | OB_SUNDAY;
	set_times(&r.weekly, 16 * 60, -1);
	r.monthly.count = 3;
	r.monthly.weeks_of_month = OB_WEEK_LAST;
	r.monthly.days_of_week = OB_SUNDAY;
	set_times(&r.monthly, 16 * 60, 150);
	r.yearly.count = 1;
	r.yearly.months_of_year = OB_MONTH(3);
	r.yearly.weeks_of_month = OB_WEEK_LAST;
	r.yearly.days_of_week = OB_SATURDAY;
	set_times(&r.yearly, 150, -1);
	assert_ok(ob_retention_validate(&r, &s));
	assert_ok(ob_retention_validate(&r, NULL));
}

static void test_ranges_and_messages(void **state)
{
	ob_schedule daily = make_schedule(OB_EVERY_DAY, 120, -1);
	ob_schedule weekend = make_schedule(OB_SATURDAY | OB_SUNDAY, 16 * 60, -1);
	ob_retention r;

	(void)state;
	r = (ob_retention)OB_RETENTION_INIT;
	expect_invalid(&r, NULL, "needs RetentionDays (7 to 9999) or a weekly, monthly or yearly rule");
	r.days = 5;
	expect_invalid(&r, NULL, "RetentionDays must be from 7 to 9999; 5 was given");
	r.days = 10000;
	expect_invalid(&r, NULL, "RetentionDays must be from 7 to 9999; 10000 was given");
	r.days = -1;
	expect_invalid(&r, NULL, "RetentionDays must be from 7 to 9999; -1 was given");
	r.days = 9999;
	assert_ok(ob_retention_validate(&r, NULL));
	r.days = 7;
	assert_ok(ob_retention_validate(&r, NULL));

	r = ssb_retention();
	r.weekly.count = 3;
	expect_invalid(&r, NULL, "RetentionWeeks must be from 4 to 5163; 3 was given");
	r.weekly.count = 5164;
	expect_invalid(&r, NULL, "RetentionWeeks must be from 4 to 5163; 5164 was given");
	r.weekly.count = 5163;
	assert_ok(ob_retention_validate(&r, &daily));

	r = ssb_retention();
	r.monthly.count = 2;
	expect_invalid(&r, NULL, "RetentionMonths must be from 3 to 1188; 2 was given");
	r.monthly.count = 1189;
	expect_invalid(&r, NULL, "RetentionMonths must be from 3 to 1188; 1189 was given");

	r = ssb_retention();
	r.yearly.count = 100;
	r.yearly.months_of_year = OB_MONTH(1);
	r.yearly.days_of_month = OB_MONTHDAY(1);
	set_times(&r.yearly, 120, -1);
	expect_invalid(&r, NULL, "RetentionYears must be from 1 to 99; 100 was given");
	r.yearly.count = 99;
	assert_ok(ob_retention_validate(&r, &daily));
	r.yearly.months_of_year = 0;
	expect_invalid(&r, NULL, "YearMonthsOfYear must name at least one month");
	r.yearly.months_of_year = 0x1000;
	expect_invalid(&r, NULL, "YearMonthsOfYear");

	/* rule shapes */
	r = ssb_retention();
	r.weekly.days_of_week = 0;
	expect_invalid(&r, NULL, "WeekDaysOfWeek must name at least one day");
	r = ssb_retention();
	r.weekly.days_of_month = OB_MONTHDAY(3);
	expect_invalid(&r, NULL, "the weekly rule takes only WeekDaysOfWeek");
	r = ssb_retention();
	r.weekly.months_of_year = OB_MONTH(3);
	expect_invalid(&r, NULL, "YearMonthsOfYear is for yearly rules");
	r = ssb_retention();
	r.monthly.weeks_of_month = OB_WEEK_LAST;
	r.monthly.days_of_week = OB_SUNDAY;
	expect_invalid(&r, NULL, "either MonthDaysOfMonth or MonthWeeksOfMonth with MonthDaysOfWeek, not both");
	r.monthly.days_of_month = 0;
	r.monthly.days_of_week = 0;
	expect_invalid(&r, NULL, "MonthDaysOfWeek must name at least one day");
	r.monthly.weeks_of_month = 0;
	expect_invalid(&r, NULL, "the monthly rule needs MonthDaysOfMonth, or MonthWeeksOfMonth with MonthDaysOfWeek");
	r.monthly.days_of_month = OB_MONTHDAY(28) | OB_MONTHDAY_LAST;
	assert_ok(ob_retention_validate(&r, &daily));
	r.monthly.days_of_month = 1u << 28;   /* "day 29" */
	expect_invalid(&r, NULL, "MonthDaysOfMonth must be days 1 to 28 or Last");
	r = ssb_retention();
	r.monthly.time_count = 0;
	expect_invalid(&r, NULL, "MonthTimesOfDay needs at least one time of day");
	r.monthly.time_count = 4;
	expect_invalid(&r, NULL, "MonthTimesOfDay allows at most 3 times a day");
	set_times(&r.monthly, 120, 120);
	expect_invalid(&r, NULL, "MonthTimesOfDay: the time 02:00 is given twice");
	set_times(&r.monthly, 1440, -1);
	expect_invalid(&r, NULL, "from 00:00 to 23:59");
	r = ssb_retention();
	r.yearly.days_of_week = OB_MONDAY;   /* fields without RetentionYears */
	expect_invalid(&r, NULL, "the yearly rule has days or times but no RetentionYears");
	r = ssb_retention();
	r.version = 7;
	expect_invalid(&r, NULL, "OB_RETENTION_INIT");

	/* retention attaches to backup points */
	r = ssb_retention();
	set_times(&r.weekly, 180, -1);
	expect_invalid(&r, &daily, "WeekTimesOfDay: 03:00 is not a time the schedule runs (02:00)");
	r = (ob_retention)OB_RETENTION_INIT;
	r.weekly.count = 4;
	r.weekly.days_of_week = OB_MONDAY;
	set_times(&r.weekly, 16 * 60, -1);
	expect_invalid(&r, &weekend, "WeekDaysOfWeek: Monday is not a day the schedule runs");
	r.weekly.days_of_week = OB_SUNDAY;
	assert_ok(ob_retention_validate(&r, &weekend));
	r.monthly.count = 3;
	r.monthly.days_of_month = OB_MONTHDAY(1);
	set_times(&r.monthly, 16 * 60, -1);
	expect_invalid(&r, &weekend, "MonthDaysOfMonth needs a schedule that runs every day of the week");
	r.monthly.days_of_month = 0;
	r.monthly.weeks_of_month = OB_WEEK_FIRST;
	r.monthly.days_of_week = OB_FRIDAY;
	expect_invalid(&r, &weekend, "MonthDaysOfWeek: Friday is not a day the schedule runs");
	/* a bad schedule is reported as such */
	weekend.weekly_frequency = 6;
	expect_invalid(&r, &weekend, "WeeklyFrequency");
}

/* ---- text ---- */

static void assert_same_rule(const ob_retention_rule *a, const ob_retention_rule *b)
{
	size_t i;

	assert_int_equal(a->count, b->count);
	assert_int_equal(a->days_of_week, b->days_of_week);
	assert_int_equal(a->weeks_of_month, b->weeks_of_month);
	assert_int_equal(a->days_of_month, b->days_of_month);
	assert_int_equal(a->months_of_year, b->months_of_year);
	assert_int_equal(a->time_count, b->time_count);
	for (i = 0; i < a->time_count; i++)
		assert_int_equal(a->times[i], b->times[i]);
}

static void assert_same(const ob_retention *a, const ob_retention *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->days, b->days);
	assert_same_rule(&a->weekly, &b->weekly);
	assert_same_rule(&a->monthly, &b->monthly);
	assert_same_rule(&a->yearly, &b->yearly);
}

static void random_times(ob_retention_rule *r)
{
	r->time_count = rnd() % 3 + 1;
	r->times[0] = (int)(rnd() % 480);
	r->times[1] = 480 + (int)(rnd() % 480);
	r->times[2] = 960 + (int)(rnd() % 480);
}

static void random_day_form(ob_retention_rule *r)
{
	if (rnd() % 2) {
		r->days_of_month = (rnd() & 0x0fffffffu) | (rnd() % 2 ? OB_MONTHDAY_LAST : 0);
		if (!r->days_of_month)
			r->days_of_month = OB_MONTHDAY_LAST;
	} else {
		r->weeks_of_month = rnd() % 31 + 1;
		r->days_of_week = rnd() % 127 + 1;
	}
}

static ob_retention random_retention(void)
{
	ob_retention r = OB_RETENTION_INIT;

	do {
		r = (ob_retention)OB_RETENTION_INIT;
		if (rnd() % 2)
			r.days = 7 + rnd() % 9993;
		if (rnd() % 2) {
			r.weekly.count = 4 + rnd() % 5160;
			r.weekly.days_of_week = rnd() % 127 + 1;
			random_times(&r.weekly);
		}
		if (rnd() % 2) {
			r.monthly.count = 3 + rnd() % 1186;
			random_day_form(&r.monthly);
			random_times(&r.monthly);
		}
		if (rnd() % 2) {
			r.yearly.count = 1 + rnd() % 99;
			r.yearly.months_of_year = rnd() % 4095 + 1;
			random_day_form(&r.yearly);
			random_times(&r.yearly);
		}
	} while (ob_retention_validate(&r, NULL) != 0);
	return r;
}

static void test_text_round_trip(void **state)
{
	ob_retention r = ssb_retention(), back;
	char *text, *again;
	int i;

	(void)state;
	assert_ok(ob_retention_to_string(&text, &r));
	assert_string_equal(text, "retention/1 RetentionDays=32 RetentionWeeks=13 WeekDaysOfWeek=Sunday "
		"WeekTimesOfDay=02:00 RetentionMonths=13 MonthDaysOfMonth=1 MonthTimesOfDay=02:00");
	assert_ok(ob_retention_from_string(&back, text));
	assert_same(&back, &r);
	ob_str_free(text);

	r = (ob_retention)OB_RETENTION_INIT;
	r.yearly.count = 10;
	r.yearly.months_of_year = OB_MONTH(3) | OB_MONTH(12);
	r.yearly.weeks_of_month = OB_WEEK_FIRST | OB_WEEK_LAST;
	r.yearly.days_of_week = OB_SATURDAY | OB_SUNDAY;
	set_times(&r.yearly, 16 * 60, 2 * 60 + 30);
	assert_ok(ob_retention_to_string(&text, &r));
	assert_string_equal(text, "retention/1 RetentionYears=10 YearMonthsOfYear=March,December "
		"YearWeeksOfMonth=First,Last YearDaysOfWeek=Sunday,Saturday YearTimesOfDay=16:00,02:30");
	ob_str_free(text);

	rng_state = 99;
	for (i = 0; i < 3000; i++) {
		r = random_retention();
		assert_ok(ob_retention_to_string(&text, &r));
		assert_ok(ob_retention_from_string(&back, text));
		assert_same(&back, &r);
		assert_ok(ob_retention_to_string(&again, &back));
		assert_string_equal(again, text);
		ob_str_free(again);
		ob_str_free(text);
	}
}

static void test_text_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"retention/1",
		"retention/2 RetentionDays=7",
		"retention/1 RetentionDays=5",
		"retention/1 RetentionDays=0",
		"retention/1 RetentionDays=07",
		"retention/1 RetentionDays=-7",
		"retention/1 RetentionDays=7 RetentionDays=7",
		"retention/1 RetentionDays=7 ",
		"retention/1  RetentionDays=7",
		"retention/1 RetentionDays",
		"retention/1 RetentionDays=",
		"retention/1 Retentiondays=7",
		"retention/1 RetentionDays=99999999999999999999",
		"retention/1 RetentionWeeks=4",
		"retention/1 RetentionWeeks=4 WeekDaysOfWeek=Sunday",
		"retention/1 RetentionWeeks=4 WeekTimesOfDay=02:00",
		"retention/1 RetentionWeeks=4 WeekDaysOfWeek=Sunday,Sunday WeekTimesOfDay=02:00",
		"retention/1 RetentionWeeks=4 WeekDaysOfWeek=sunday WeekTimesOfDay=02:00",
		"retention/1 RetentionWeeks=4 WeekDaysOfWeek=Sunday WeekTimesOfDay=2:00",
		"retention/1 RetentionWeeks=4 WeekDaysOfWeek=Sunday WeekTimesOfDay=02:00 MonthDaysOfMonth=1",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=29 MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=0 MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=1,1 MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=last MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=1, MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthWeeksOfMonth=Fifth MonthDaysOfWeek=Sunday MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthWeeksOfMonth=Last MonthTimesOfDay=02:00",
		"retention/1 RetentionMonths=3 MonthDaysOfMonth=1 MonthWeeksOfMonth=Last MonthDaysOfWeek=Sunday MonthTimesOfDay=02:00",
		"retention/1 RetentionYears=1 YearDaysOfMonth=1 YearTimesOfDay=02:00",
		"retention/1 RetentionYears=1 YearMonthsOfYear=Smarch YearDaysOfMonth=1 YearTimesOfDay=02:00",
		"retention/1 RetentionYears=100 YearMonthsOfYear=March YearDaysOfMonth=1 YearTimesOfDay=02:00",
		"retention/1 RetentionDays=7 YearMonthsOfYear=March",
		"retention/1 RetentionDays=7 \x01=2",
		"schedule/1 RetentionDays=7",
	};
	ob_retention r;
	size_t i;

	(void)state;
	assert_ok(ob_retention_from_string(&r, "retention/1 RetentionDays=7"));
	assert_int_equal(r.days, 7);
	/* any order is read */
	assert_ok(ob_retention_from_string(&r, "retention/1 MonthTimesOfDay=02:00 MonthDaysOfMonth=1,Last RetentionMonths=3"));
	assert_int_equal(r.monthly.days_of_month, OB_MONTHDAY(1) | OB_MONTHDAY_LAST);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ob_retention_from_string(&r, bad[i]);
		if (rc != OB_EINVALID)
			print_error("accepted: '%s'\n", bad[i]);
		assert_int_equal(rc, OB_EINVALID);
	}
	assert_int_equal(ob_retention_from_string(&r, NULL), OB_EINVALID);
}

static void test_text_mutations(void **state)
{
	const char *seed = "retention/1 RetentionDays=32 RetentionWeeks=13 WeekDaysOfWeek=Sunday,Friday "
		"WeekTimesOfDay=02:00 RetentionMonths=13 MonthWeeksOfMonth=First,Last MonthDaysOfWeek=Sunday "
		"MonthTimesOfDay=02:00 RetentionYears=2 YearMonthsOfYear=March YearDaysOfMonth=1,Last YearTimesOfDay=02:00";
	const char alphabet[] = "0123456789:,=- /LastMonthWeekYear\x02\xfe";
	char buf[512];
	int i;

	(void)state;
	rng_state = 5;
	for (i = 0; i < 20000; i++) {
		size_t len = strlen(seed), k, edits = rnd() % 4 + 1;
		ob_retention r, back;
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
		if (ob_retention_from_string(&r, buf) == 0) {
			char *text;
			assert_ok(ob_retention_validate(&r, NULL));
			assert_ok(ob_retention_to_string(&text, &r));
			assert_ok(ob_retention_from_string(&back, text));
			assert_same(&back, &r);
			ob_str_free(text);
		}
	}
}

/* ---- selection by hand ---- */

static void test_select_by_hand(void **state)
{
	ob_retention r = OB_RETENTION_INIT;
	ob_point_time p[8];
	uint8_t keep[8];
	int64_t now;
	size_t i;

	(void)state;
	set_tz("UTC");
	/* daily only: points of the last 7 days stay; the newest stays whatever its age */
	r.days = 7;
	for (i = 0; i < 8; i++) {
		p[i].time = utc(2024, 3, 1 + (int)i, 21, 0);
		p[i].retain_until = 0;
	}
	now = utc(2024, 3, 15, 21, 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, now));
	for (i = 0; i < 7; i++)
		assert_int_equal(keep[i], 0);
	assert_int_equal(keep[7], OB_KEEP_NEWEST);   /* 8 March, 7 days old: out of the daily rule */
	now = utc(2024, 3, 15, 20, 59);
	assert_ok(ob_retention_select(keep, p, 8, &r, now));
	assert_int_equal(keep[7], OB_KEEP_NEWEST | OB_KEEP_DAILY);
	assert_int_equal(keep[6], 0);

	/* on demand: Retain Backup Till */
	p[2].retain_until = utc(2024, 4, 1, 0, 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, now));
	assert_int_equal(keep[2], OB_KEEP_ONDEMAND);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 4, 1, 0, 0)));
	assert_int_equal(keep[2], 0);
	p[2].retain_until = 0;

	/* weekly on Sunday 21:00: Sunday 3 March failed, so Monday's backup is that week's point */
	r = (ob_retention)OB_RETENTION_INIT;
	r.weekly.count = 4;
	r.weekly.days_of_week = OB_SUNDAY;
	set_times(&r.weekly, 21 * 60, -1);
	p[2].time = utc(2024, 3, 4, 9, 0);   /* an ad-hoc backup, Monday morning */
	assert_ok(ob_retention_select(keep, p, 8, &r, now));
	assert_int_equal(keep[1], 0);            /* Saturday 2 March */
	assert_int_equal(keep[2], OB_KEEP_WEEKLY);
	assert_int_equal(keep[3], 0);            /* Monday 21:00 */
	/* 4 weeks later the slot has expired */
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 3, 31, 21, 0)));
	assert_int_equal(keep[2], 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 3, 31, 20, 59)));
	assert_int_equal(keep[2], OB_KEEP_WEEKLY);

	/* monthly on the last day: 29 February 2024 */
	r = (ob_retention)OB_RETENTION_INIT;
	r.monthly.count = 3;
	r.monthly.days_of_month = OB_MONTHDAY_LAST;
	set_times(&r.monthly, 21 * 60, -1);
	p[0].time = utc(2024, 1, 31, 21, 0);
	p[1].time = utc(2024, 2, 28, 21, 0);
	p[2].time = utc(2024, 2, 29, 21, 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 3, 20, 0, 0)));
	assert_int_equal(keep[0], OB_KEEP_MONTHLY);
	assert_int_equal(keep[1], 0);
	assert_int_equal(keep[2], OB_KEEP_MONTHLY);
	/* 31 January + 3 months: 30 April (clamped); 29 February + 3 months: 29 May */
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 4, 30, 20, 59)));
	assert_int_equal(keep[0], OB_KEEP_MONTHLY);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 4, 30, 21, 0)));
	assert_int_equal(keep[0], 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 5, 29, 20, 59)));
	assert_int_equal(keep[2], OB_KEEP_MONTHLY);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 5, 29, 21, 0)));
	assert_int_equal(keep[2], 0);
	/* a failed slot with no backup before the next slot: one point serves both */
	p[0].time = utc(2024, 2, 10, 12, 0);
	p[2].time = utc(2024, 3, 2, 12, 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 3, 20, 0, 0)));
	assert_int_equal(keep[0], OB_KEEP_MONTHLY);   /* January's slot */
	assert_int_equal(keep[1], 0);
	assert_int_equal(keep[2], OB_KEEP_MONTHLY);   /* February's, after 28 February 21:00 */

	/* a point in the future is kept; nothing at all is fine */
	p[0].time = utc(2030, 1, 1, 0, 0);
	assert_ok(ob_retention_select(keep, p, 8, &r, utc(2024, 5, 29, 21, 0)));
	/* (it is also the first point after April's slot, 30 April 21:00) */
	assert_int_equal(keep[0], OB_KEEP_FUTURE | OB_KEEP_NEWEST | OB_KEEP_MONTHLY);
	assert_ok(ob_retention_select(keep, p, 0, &r, 0));
	r.days = 3;
	assert_int_equal(ob_retention_select(keep, p, 8, &r, 0), OB_EINVALID);
}

/* The largest policy: 99 years, 5163 weeks, three times a day on every day. */
static void test_select_largest_policy(void **state)
{
	ob_retention r = OB_RETENTION_INIT;
	ob_point_time *p;
	uint8_t *keep;
	size_t n = 9999, i, kept = 0;
	clock_t c0;

	(void)state;
	set_tz(have_zone("Europe/Berlin") ? "Europe/Berlin" : "UTC");
	r.days = 9999;
	r.weekly.count = 5163;
	r.weekly.days_of_week = OB_EVERY_DAY;
	set_times(&r.weekly, 120, 600);
	r.weekly.times[2] = 1200;
	r.weekly.time_count = 3;
	r.monthly.count = 1188;
	r.monthly.weeks_of_month = 0x1f;
	r.monthly.days_of_week = OB_EVERY_DAY;
	r.monthly.times[0] = 120;
	r.monthly.time_count = 1;
	r.yearly.count = 99;
	r.yearly.months_of_year = 0xfff;
	r.yearly.days_of_month = 0x0fffffff | OB_MONTHDAY_LAST;
	r.yearly.times[0] = 600;
	r.yearly.time_count = 1;
	p = calloc(n, sizeof(*p));
	keep = calloc(n, 1);
	for (i = 0; i < n; i++)
		p[i].time = utc(2000, 1, 1, 0, 0) + (int64_t)i * 3 * DAY;
	c0 = clock();
	assert_ok(ob_retention_select(keep, p, n, &r, utc(2090, 1, 1, 0, 0)));
	for (i = 0; i < n; i++)
		kept += keep[i] != 0;
	print_message("largest policy: %zu of %zu points kept in %.2f s of CPU\n", kept, n,
		(double)(clock() - c0) / CLOCKS_PER_SEC);
	assert_true(kept > 0);
	free(p);
	free(keep);
	set_tz("UTC");
}

/* ---- the brute-force model ---- */

/*
 * The model does not convert a wall-clock time to an instant. It walks the
 * clock forward in quarter hours from well before the first point and notes,
 * at every step, the largest wall-clock value seen so far. A slot (a local
 * date and time, all quarter hours here) happens at the first step whose
 * largest wall clock has reached it; an expiry has passed at `now` when the
 * largest wall clock seen by now has reached it. The slot's dates come from
 * gmtime on the day itself (weekday, day of month) and from looking a day or
 * a week ahead ("last day", "last week").
 */
typedef struct grid {
	int64_t start;      /* first step, a multiple of 900 */
	size_t n;
	int64_t *maxwall;   /* largest wall-clock value seen at step i */
} grid;

static int64_t wall_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return (int64_t)timegm(&tm);
}

static void grid_build(grid *g, int64_t from, int64_t to)
{
	size_t i;
	int64_t m = INT64_MIN;

	g->start = from - from % 900;
	g->n = (size_t)((to - g->start) / 900 + 1);
	g->maxwall = malloc(g->n * sizeof(*g->maxwall));
	assert_non_null(g->maxwall);
	for (i = 0; i < g->n; i++) {
		int64_t w = wall_of(g->start + (int64_t)i * 900);
		if (w > m)
			m = w;
		g->maxwall[i] = m;
	}
}

/* The first step whose largest wall clock reached key; INT64_MAX beyond the grid. */
static int64_t grid_instant(const grid *g, int64_t key)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->maxwall[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == g->n ? INT64_MAX : g->start + (int64_t)lo * 900;
}

/* The largest wall clock seen by the instant now. */
static int64_t grid_maxwall(const grid *g, int64_t now)
{
	int64_t m = g->maxwall[(now - g->start) / 900], w = wall_of(now);

	return w > m ? w : m;
}

static struct tm day_tm(int64_t day)
{
	time_t t = (time_t)(day * DAY);
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm;
}

static int model_names_day(const ob_retention_rule *r, int kind, int64_t day)
{
	struct tm tm = day_tm(day), next = day_tm(day + 1), week = day_tm(day + 7);
	int nth = 0, last_week;
	int64_t k;

	if (kind == 0)
		return (r->days_of_week & (1u << tm.tm_wday)) != 0;
	if (kind == 2 && !(r->months_of_year & (1u << tm.tm_mon)))
		return 0;
	if (r->days_of_month) {
		if (tm.tm_mday <= 28 && (r->days_of_month & (1u << (tm.tm_mday - 1))))
			return 1;
		return (r->days_of_month & OB_MONTHDAY_LAST) && next.tm_mday == 1;
	}
	if (!(r->days_of_week & (1u << tm.tm_wday)))
		return 0;
	/* which occurrence of this weekday in its month: count back a week at a time */
	for (k = day; day_tm(k).tm_mon == tm.tm_mon; k -= 7)
		nth++;
	last_week = week.tm_mon != tm.tm_mon;
	return (nth <= 4 && (r->weeks_of_month & (1u << (nth - 1)))) || (last_week && (r->weeks_of_month & OB_WEEK_LAST));
}

/* The wall-clock key `count` units after (day, minute). */
static int64_t model_expiry(int kind, int64_t day, int minute, int64_t count)
{
	struct tm tm = day_tm(day), probe;
	int months, len;

	if (kind == 0)
		return (day + 7 * count) * DAY + minute * 60;
	months = (int)(kind == 1 ? count : 12 * count);
	/* the length of the target month: day 0 of the month after it */
	memset(&probe, 0, sizeof(probe));
	probe.tm_year = tm.tm_year;
	probe.tm_mon = tm.tm_mon + months + 1;
	probe.tm_mday = 0;
	timegm(&probe);
	len = probe.tm_mday;
	probe.tm_mday = tm.tm_mday < len ? tm.tm_mday : len;
	probe.tm_hour = minute / 60;
	probe.tm_min = minute % 60;
	return (int64_t)timegm(&probe);
}

typedef struct slot {
	int64_t at;         /* instant */
	int64_t expiry;     /* wall-clock key */
	uint8_t flag;
} slot;

typedef struct model {
	grid g;
	slot *slots;
	size_t nslots, cap;
} model;

static void model_slots(model *m, const ob_retention *r, int64_t first_day, int64_t last_day)
{
	const ob_retention_rule *rules[3] = { &r->weekly, &r->monthly, &r->yearly };
	const uint8_t flags[3] = { OB_KEEP_WEEKLY, OB_KEEP_MONTHLY, OB_KEEP_YEARLY };
	int64_t day;
	int kind;
	size_t i;

	m->nslots = 0;
	for (kind = 0; kind < 3; kind++) {
		if (!rules[kind]->count)
			continue;
		for (day = first_day; day <= last_day; day++) {
			if (!model_names_day(rules[kind], kind, day))
				continue;
			for (i = 0; i < rules[kind]->time_count; i++) {
				int minute = rules[kind]->times[i];
				if (m->nslots == m->cap) {
					m->cap = m->cap ? 2 * m->cap : 1024;
					m->slots = realloc(m->slots, m->cap * sizeof(*m->slots));
					assert_non_null(m->slots);
				}
				m->slots[m->nslots].at = grid_instant(&m->g, day * DAY + minute * 60);
				m->slots[m->nslots].expiry = model_expiry(kind, day, minute, rules[kind]->count);
				m->slots[m->nslots].flag = flags[kind];
				m->nslots++;
			}
		}
	}
}

static void model_select(uint8_t *keep, const model *m, const ob_point_time *p, const int64_t *pwall,
	size_t n, const ob_retention *r, int64_t now)
{
	int64_t seen = grid_maxwall(&m->g, now);
	size_t i, j, newest = 0;

	for (i = 0; i < n; i++) {
		keep[i] = 0;
		if (p[i].time > p[newest].time)
			newest = i;
		if (p[i].time > now)
			keep[i] |= OB_KEEP_FUTURE;
		if (p[i].retain_until && now < p[i].retain_until)
			keep[i] |= OB_KEEP_ONDEMAND;
		if (r->days && seen < pwall[i] + r->days * DAY)
			keep[i] |= OB_KEEP_DAILY;
	}
	keep[newest] |= OB_KEEP_NEWEST;
	for (j = 0; j < m->nslots; j++) {
		const slot *s = &m->slots[j];
		size_t best = n;
		if (s->at > now || seen >= s->expiry)
			continue;
		for (i = 0; i < n; i++)   /* the earliest point at or after the slot */
			if (p[i].time >= s->at && (best == n || p[i].time < p[best].time))
				best = i;
		if (best < n)
			keep[best] |= s->flag;
	}
}

typedef struct scenario {
	const char *name;
	unsigned int days;
	int times[3];
	size_t time_count;
	int weekly_frequency;
	unsigned fail_percent;
	ob_retention r;
	int check_against_schedule;
} scenario;

static int by_time(const void *a, const void *b)
{
	const ob_point_time *x = a, *y = b;

	return x->time < y->time ? -1 : x->time > y->time;
}

static void run_scenario(const scenario *sc, const char *zone, uint64_t seed)
{
	const int64_t sim_start = utc(2020, 11, 1, 0, 0), sim_end = utc(2025, 12, 31, 0, 0);
	const int64_t first_day = utc(2016, 11, 1, 0, 0) / DAY, last_day = sim_end / DAY + 1;
	ob_schedule s = OB_SCHEDULE_INIT;
	model m = { { 0, 0, NULL }, NULL, 0, 0 };
	ob_point_time *p = NULL;
	int64_t *pwall = NULL, day, last_at = INT64_MIN, outage_until = 0, now;
	size_t n = 0, cap = 0, i, checks = 0, kept_total = 0;
	uint8_t *keep, *want;

	set_tz(zone);
	rng_state = seed;
	s.days = sc->days;
	s.time_count = sc->time_count;
	memcpy(s.times, sc->times, sizeof(s.times));
	s.weekly_frequency = sc->weekly_frequency;
	assert_ok(ob_schedule_set_anchor(&s, sim_start));
	assert_ok(ob_schedule_validate(&s));
	assert_ok(ob_retention_validate(&sc->r, sc->check_against_schedule ? &s : NULL));

	grid_build(&m.g, first_day * DAY - 2 * DAY, (last_day + 2) * DAY);
	model_slots(&m, &sc->r, first_day, last_day);

	/* the backups: scheduled ones that did not fail, outages, some on-demand ones */
	for (day = sim_start / DAY; day < sim_end / DAY; day++) {
		struct tm tm = day_tm(day);
		int64_t weeks = (day + 4 - tm.tm_wday) / 7, aweeks = (s.anchor_date + 4 - day_tm(s.anchor_date).tm_wday) / 7;
		if (day * DAY >= outage_until && rnd() % 200 == 0)
			outage_until = day * DAY + (5 + rnd() % 25) * DAY;   /* the machine is off */
		if (day * DAY < outage_until)
			continue;
		for (i = 0; i < s.time_count + 1; i++) {
			int64_t at;
			if (n + 1 >= cap) {
				cap = cap ? 2 * cap : 1024;
				p = realloc(p, cap * sizeof(*p));
				assert_non_null(p);
			}
			if (i == s.time_count) {
				if (rnd() % 40 == 0) {   /* Back Up Now, with or without Retain Backup Till */
					p[n].time = day * DAY + (int64_t)(rnd() % DAY) - 3600;
					p[n].retain_until = rnd() % 2 ? p[n].time + (int64_t)(rnd() % 400) * DAY : 0;
					n++;
				}
				continue;
			}
			if (!(s.days & (1u << tm.tm_wday)) || (weeks - aweeks) % s.weekly_frequency != 0)
				continue;
			at = grid_instant(&m.g, day * DAY + s.times[i] * 60);
			if (at == last_at)   /* two times in one gap: one backup */
				continue;
			last_at = at;
			if (rnd() % 100 < sc->fail_percent)
				continue;
			p[n].time = at + (int64_t)(rnd() % 600);   /* a snapshot taken a little after the start */
			p[n].retain_until = 0;
			n++;
		}
	}
	qsort(p, n, sizeof(*p), by_time);
	pwall = malloc(n * sizeof(*pwall));
	keep = malloc(n);
	want = malloc(n);
	for (i = 0; i < n; i++)
		pwall[i] = wall_of(p[i].time);

	/* judge at many moments: random ones, and exactly at slots and just before */
	for (now = sim_start + 20 * DAY; now < sim_end; now += (int64_t)(10 + rnd() % 30) * DAY + (int64_t)(rnd() % DAY)) {
		int64_t moments[3];
		size_t k;
		const slot *sl = &m.slots[rnd() % m.nslots];
		moments[0] = now;
		moments[1] = sl->at >= sim_start && sl->at < sim_end ? sl->at : now;
		moments[2] = moments[1] - 1;
		for (k = 0; k < 3; k++) {
			/* the points that exist at that moment, and now and then one from the future */
			size_t upto = 0;
			while (upto < n && p[upto].time <= moments[k])
				upto++;
			if (upto < n && rnd() % 4 == 0)
				upto++;
			assert_ok(ob_retention_select(keep, p, upto, &sc->r, moments[k]));
			model_select(want, &m, p, pwall, upto, &sc->r, moments[k]);
			for (i = 0; i < upto; i++) {
				if (keep[i] != want[i]) {
					char a[21], b[21];
					ob_time_format_utc(a, p[i].time);
					ob_time_format_utc(b, moments[k]);
					print_error("%s in %s: point %zu at %s, now %s: kept 0x%02x, model 0x%02x\n",
						sc->name, zone, i, a, b, keep[i], want[i]);
				}
				assert_int_equal(keep[i], want[i]);
				kept_total += keep[i] != 0;
			}
			checks++;
		}
	}
	print_message("%s in %s: %zu points, %zu slots, %zu judgements, %zu kept on average\n",
		sc->name, zone, n, m.nslots, checks, checks ? kept_total / checks : 0);
	free(p);
	free(pwall);
	free(keep);
	free(want);
	free(m.slots);
	free(m.g.maxwall);
	set_tz("UTC");
}

static void scenarios(scenario *sc)
{
	ob_retention r;

	/* 0: daily backups twice a day, every rule */
	memset(&sc[0], 0, sizeof(sc[0]));
	sc[0].name = "daily, all rules";
	sc[0].days = OB_EVERY_DAY;
	sc[0].times[0] = 9 * 60;
	sc[0].times[1] = 21 * 60;
	sc[0].time_count = 2;
	sc[0].weekly_frequency = 1;
	sc[0].fail_percent = 15;
	r = (ob_retention)OB_RETENTION_INIT;
	r.days = 30;
	r.weekly.count = 8;
	r.weekly.days_of_week = OB_SUNDAY;
	set_times(&r.weekly, 21 * 60, -1);
	r.monthly.count = 12;
	r.monthly.days_of_month = OB_MONTHDAY(1) | OB_MONTHDAY(15) | OB_MONTHDAY_LAST;
	set_times(&r.monthly, 21 * 60, -1);
	r.yearly.count = 2;
	r.yearly.months_of_year = OB_MONTH(1) | OB_MONTH(7);
	r.yearly.weeks_of_month = OB_WEEK_FIRST;
	r.yearly.days_of_week = OB_SUNDAY;
	set_times(&r.yearly, 9 * 60, -1);
	sc[0].r = r;
	sc[0].check_against_schedule = 1;

	/* 1: Microsoft's weekend schedule, at 02:30 too: the spring gap falls on a slot */
	memset(&sc[1], 0, sizeof(sc[1]));
	sc[1].name = "weekend, gap at 02:30";
	sc[1].days = OB_SATURDAY | OB_SUNDAY;
	sc[1].times[0] = 2 * 60 + 30;
	sc[1].times[1] = 16 * 60;
	sc[1].time_count = 2;
	sc[1].weekly_frequency = 1;
	sc[1].fail_percent = 25;
	r = (ob_retention)OB_RETENTION_INIT;
	r.days = 7;
	r.weekly.count = 10;
	r.weekly.days_of_week = OB_SATURDAY | OB_SUNDAY;
	set_times(&r.weekly, 2 * 60 + 30, -1);
	r.monthly.count = 6;
	r.monthly.weeks_of_month = OB_WEEK_LAST;
	r.monthly.days_of_week = OB_SUNDAY;
	set_times(&r.monthly, 2 * 60 + 30, 16 * 60);
	r.yearly.count = 3;
	r.yearly.months_of_year = OB_MONTH(3) | OB_MONTH(10);
	r.yearly.weeks_of_month = OB_WEEK_LAST;
	r.yearly.days_of_week = OB_SUNDAY;
	set_times(&r.yearly, 2 * 60 + 30, -1);
	sc[1].r = r;
	sc[1].check_against_schedule = 1;

	/* 2: the System State example: 02:00 every day (skipped in spring, doubled in autumn) */
	memset(&sc[2], 0, sizeof(sc[2]));
	sc[2].name = "System State example";
	sc[2].days = OB_EVERY_DAY;
	sc[2].times[0] = 2 * 60;
	sc[2].time_count = 1;
	sc[2].weekly_frequency = 1;
	sc[2].fail_percent = 10;
	sc[2].r = ssb_retention();
	sc[2].check_against_schedule = 1;

	/* 3: every other week, three times a day, no daily rule; leap days; 02:45 in the gap and the overlap */
	memset(&sc[3], 0, sizeof(sc[3]));
	sc[3].name = "every 2 weeks, no daily";
	sc[3].days = OB_MONDAY | OB_WEDNESDAY | OB_THURSDAY | OB_SUNDAY;
	sc[3].times[0] = 2 * 60 + 45;
	sc[3].times[1] = 12 * 60;
	sc[3].times[2] = 23 * 60 + 45;
	sc[3].time_count = 3;
	sc[3].weekly_frequency = 2;
	sc[3].fail_percent = 20;
	r = (ob_retention)OB_RETENTION_INIT;
	r.weekly.count = 5;
	r.weekly.days_of_week = OB_WEDNESDAY | OB_THURSDAY;
	set_times(&r.weekly, 12 * 60, 2 * 60 + 45);
	r.monthly.count = 7;
	r.monthly.weeks_of_month = OB_WEEK_SECOND | OB_WEEK_FOURTH | OB_WEEK_LAST;
	r.monthly.days_of_week = OB_MONDAY | OB_SUNDAY;
	set_times(&r.monthly, 23 * 60 + 45, -1);
	r.yearly.count = 3;
	r.yearly.months_of_year = OB_MONTH(2) | OB_MONTH(10);
	r.yearly.days_of_month = OB_MONTHDAY(28) | OB_MONTHDAY_LAST;   /* 29 February in leap years */
	set_times(&r.yearly, 2 * 60 + 45, -1);
	sc[3].r = r;
	sc[3].check_against_schedule = 0;   /* day-of-month form on a weekly schedule */
}

static void test_select_against_model(void **state)
{
	scenario sc[4];
	size_t i;

	(void)state;
	scenarios(sc);
	for (i = 0; i < 4; i++) {
		run_scenario(&sc[i], "UTC", 1000 + i);
		if (have_zone("Europe/Berlin"))
			run_scenario(&sc[i], "Europe/Berlin", 2000 + i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_examples),
		cmocka_unit_test(test_ranges_and_messages),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_text_garbage),
		cmocka_unit_test(test_text_mutations),
		cmocka_unit_test(test_select_by_hand),
		cmocka_unit_test(test_select_largest_policy),
		cmocka_unit_test(test_select_against_model),
	};

	set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
