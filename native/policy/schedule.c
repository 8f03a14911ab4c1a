/*
 * Backup schedules: days, times and every-N-weeks in local wall-clock time,
 * the next and previous scheduled moments, missed runs, and the one-line text
 * form. Also the calendar and local-time helpers that retention.c shares
 * (schedule_internal.h).
 */
#include "policy/schedule_internal.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400
/* Larger than any UTC offset (+14:00, -12:00) plus a day of slack. */
#define OFFSET_PROBE (2 * DAY)

/* ---- calendar ---- */

int64_t ob_cal_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t ob_cal_floormod(int64_t a, int64_t b)
{
	return a - ob_cal_floordiv(a, b) * b;
}

/* Days from 0000-03-01 to March 1st of year y (years counted from March). */
static int64_t march_years(int64_t y)
{
	return 365 * y + ob_cal_floordiv(y, 4) - ob_cal_floordiv(y, 100) + ob_cal_floordiv(y, 400);
}

/* 1970-01-01 counted from 0000-03-01. */
#define EPOCH_FROM_MARCH0 719468

int64_t ob_cal_days(int64_t year, int month, int day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int m = month <= 2 ? month + 9 : month - 3;   /* 0 = March .. 11 = February */

	return march_years(y) + (153 * m + 2) / 5 + (day - 1) - EPOCH_FROM_MARCH0;
}

void ob_cal_date(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + EPOCH_FROM_MARCH0;
	int64_t y = ob_cal_floordiv(z * 400, 146097);
	int64_t doy;
	int m;

	while (march_years(y + 1) <= z)
		y++;
	while (march_years(y) > z)
		y--;
	doy = z - march_years(y);
	m = (int)((5 * doy + 2) / 153);
	*day = (int)(doy - (153 * m + 2) / 5 + 1);
	*month = m < 10 ? m + 3 : m - 9;
	*year = *month <= 2 ? y + 1 : y;
}

int ob_cal_weekday(int64_t days)
{
	return (int)ob_cal_floormod(days + 4, 7);   /* 1970-01-01 was a Thursday */
}

int ob_cal_month_length(int64_t year, int month)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : len[month - 1];
}

int64_t ob_cal_add_months(int64_t days, int64_t months)
{
	int64_t y, total;
	int m, d, len;

	ob_cal_date(days, &y, &m, &d);
	total = y * 12 + (m - 1) + months;
	y = ob_cal_floordiv(total, 12);
	m = (int)ob_cal_floormod(total, 12) + 1;
	len = ob_cal_month_length(y, m);
	return ob_cal_days(y, m, d > len ? len : d);
}

/* ---- local time ---- */

int ob_local_from_utc(int64_t *out_wall, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if ((int64_t)tt != t || !localtime_r(&tt, &tm))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"the time %lld cannot be converted to local time", (long long)t);
	*out_wall = ob_cal_days((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * DAY +
		tm.tm_hour * 3600 + tm.tm_min * 60 + (tm.tm_sec > 59 ? 59 : tm.tm_sec);
	return 0;
}

/* The UTC offset (wall - t) in force at the instant t. */
static int offset_at(int64_t *out, int64_t t)
{
	int64_t wall;
	int error;

	if ((error = ob_local_from_utc(&wall, t)) < 0)
		return error;
	*out = wall - t;
	return 0;
}

/*
 * mktime with tm_isdst = -1 is not used here: what it returns for a time in a
 * gap or an overlap is left to the C library. Instead: the offsets in force
 * around the wall time (two days either side, and at it) are the only
 * candidates; wall - offset is an answer when that offset is indeed in force
 * then. The earliest answer is the first occurrence. With none, the wall time
 * falls into a gap, and the answer is the first instant whose wall clock is
 * at or past it: the end of the gap, found by bisection.
 */
int ob_local_to_utc(int64_t *out_t, int64_t wall)
{
	int64_t probe[3] = { wall - OFFSET_PROBE, wall, wall + OFFSET_PROBE };
	int64_t off[3], lo_off, hi_off, best = 0, o, w, lo, hi;
	int found = 0, error, i;

	for (i = 0; i < 3; i++)
		if ((error = offset_at(&off[i], probe[i])) < 0)
			return error;
	lo_off = hi_off = off[0];
	for (i = 0; i < 3; i++) {
		int64_t t = wall - off[i];
		if (off[i] < lo_off)
			lo_off = off[i];
		if (off[i] > hi_off)
			hi_off = off[i];
		if ((error = offset_at(&o, t)) < 0)
			return error;
		if (o == off[i] && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	if (found) {
		*out_t = best;
		return 0;
	}
	/* A gap: at lo the clock shows less than wall, at hi at least wall. */
	lo = wall - hi_off;
	hi = wall - lo_off;
	if ((error = ob_local_from_utc(&w, hi)) < 0)
		return error;
	if (w < wall) {
		*out_t = hi;   /* not a zone this code understands; stay close */
		return 0;
	}
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if ((error = ob_local_from_utc(&w, mid)) < 0)
			return error;
		if (w >= wall)
			hi = mid;
		else
			lo = mid;
	}
	*out_t = hi;
	return 0;
}

/* ---- text fields ---- */

const char *const ob_day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
const char *const ob_month_names[12] = {
	"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"
};
const char *const ob_week_names[5] = { "First", "Second", "Third", "Fourth", "Last" };

int ob_fmt_names(ob_buf *b, unsigned int mask, const char *const *names, int count)
{
	int i, first = 1, error;

	for (i = 0; i < count; i++) {
		if (!(mask & (1u << i)))
			continue;
		if ((error = ob_buf_printf(b, "%s%s", first ? "" : ",", names[i])) < 0)
			return error;
		first = 0;
	}
	return 0;
}

int ob_parse_names(unsigned int *mask, const char *text, const char *const *names, int count)
{
	unsigned int m = 0;
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, ",");
		int i;
		for (i = 0; i < count; i++)
			if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
				break;
		if (i == count || (m & (1u << i)))
			return -1;
		m |= 1u << i;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

int ob_fmt_times(ob_buf *b, const int *times, size_t count)
{
	size_t i;
	int error;

	for (i = 0; i < count; i++)
		if ((error = ob_buf_printf(b, "%s%02d:%02d", i ? "," : "", times[i] / 60, times[i] % 60)) < 0)
			return error;
	return 0;
}

static int two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

int ob_parse_times(int *times, size_t *count, size_t max, const char *text)
{
	const char *p = text;
	size_t n = 0;

	for (;;) {
		int h = two_digits(p), m = h < 0 ? -1 : (p[2] == ':' ? two_digits(p + 3) : -1);
		if (h < 0 || m < 0 || h > 23 || m > 59 || n == max)
			return -1;
		times[n++] = h * 60 + m;
		p += 5;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return -1;
	}
	*count = n;
	return 0;
}

int ob_parse_count(int64_t *out, const char *text)
{
	int64_t v = 0;
	size_t i, n = strlen(text);

	if (n == 0 || n > 12 || (text[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	*out = v;
	return 0;
}

int ob_fields_split(char *text, const char *kind, const char *const *keys, const char **values,
	size_t n, const char *what)
{
	size_t kl = strlen(kind), i;
	char *p, *end, *eq;
	int last;

	for (i = 0; i < n; i++)
		values[i] = NULL;
	if (strncmp(text, kind, kl) != 0 || (text[kl] != ' ' && text[kl] != '\0'))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"not a %s: the text must start with '%s'", what, kind);
	p = text + kl;
	if (*p == '\0')
		return 0;
	p++;
	for (;;) {
		if (*p == '\0' || *p == ' ')
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"bad %s text: fields are separated by single spaces", what);
		end = p + strcspn(p, " ");
		last = *end == '\0';
		*end = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p || eq[1] == '\0')
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad %s text: '%s' is not key=value", what, p);
		*eq = '\0';
		for (i = 0; i < n; i++)
			if (strcmp(p, keys[i]) == 0)
				break;
		if (i == n)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad %s text: unknown field '%s'", what, p);
		if (values[i])
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad %s text: field '%s' given twice", what, p);
		values[i] = eq + 1;
		if (last)
			return 0;
		p = end + 1;
	}
}

int ob_check_times(const int *times, size_t count, const char *param)
{
	size_t i, j;

	if (count == 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "%s needs at least one time of day", param);
	if (count > OB_SCHEDULE_MAX_TIMES)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"%s allows at most %d times a day; %zu were given", param, OB_SCHEDULE_MAX_TIMES, count);
	for (i = 0; i < count; i++) {
		if (times[i] < 0 || times[i] > 1439)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"%s: a time of day must be from 00:00 to 23:59 (0 to 1439 minutes); %d was given",
				param, times[i]);
		for (j = 0; j < i; j++)
			if (times[i] == times[j])
				return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
					"%s: the time %02d:%02d is given twice", param, times[i] / 60, times[i] % 60);
	}
	return 0;
}

/* ---- schedules ---- */

static void sort_times(int *times, size_t count)
{
	size_t i, j;

	for (i = 1; i < count; i++) {
		int v = times[i];
		for (j = i; j > 0 && times[j - 1] > v; j--)
			times[j] = times[j - 1];
		times[j] = v;
	}
}

#define ANCHOR_MIN_YEAR 1900
#define ANCHOR_MAX_YEAR 9999

int ob_schedule_validate(ob_schedule *s)
{
	int error;

	if (!s)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no schedule was given");
	if (s->version != OB_SCHEDULE_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"unknown schedule version %u; initialise an ob_schedule with OB_SCHEDULE_INIT", s->version);
	if ((s->days & OB_EVERY_DAY) == 0 || (s->days & ~OB_EVERY_DAY) != 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"DaysOfWeek must name at least one day, from Sunday to Saturday");
	if (s->system_state && s->time_count > 1)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"a System State schedule runs at most once a day; %zu times of day were given", s->time_count);
	if (s->time_count > OB_SCHEDULE_MAX_TIMES)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"a schedule runs at most 3 times a day; %zu times of day were given", s->time_count);
	if ((error = ob_check_times(s->times, s->time_count, "TimesOfDay")) < 0)
		return error;
	if (s->weekly_frequency < 1 || s->weekly_frequency > 4)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"WeeklyFrequency must be 1 to 4 (weeks); %d was given", s->weekly_frequency);
	if (s->anchor_date < ob_cal_days(ANCHOR_MIN_YEAR, 1, 1) || s->anchor_date > ob_cal_days(ANCHOR_MAX_YEAR, 12, 31))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"the schedule's anchor date must be in the years %d to %d", ANCHOR_MIN_YEAR, ANCHOR_MAX_YEAR);
	sort_times(s->times, s->time_count);
	return 0;
}

int ob_schedule_set_anchor(ob_schedule *s, int64_t t)
{
	int64_t wall;
	int error;

	if ((error = ob_local_from_utc(&wall, t)) < 0)
		return error;
	s->anchor_date = ob_cal_floordiv(wall, DAY);
	return 0;
}

/* Does the schedule run on this local date? */
static int runs_on(const ob_schedule *s, int64_t day)
{
	int64_t weeks;

	if (!(s->days & (1u << ob_cal_weekday(day))))
		return 0;
	/* Weeks start on Sunday: (day + 4) / 7 counts Sunday-to-Saturday weeks. */
	weeks = ob_cal_floordiv(day + 4, 7) - ob_cal_floordiv(s->anchor_date + 4, 7);
	return ob_cal_floormod(weeks, s->weekly_frequency) == 0;
}

static int checked_copy(ob_schedule *copy, const ob_schedule *s)
{
	if (!s)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no schedule was given");
	*copy = *s;
	return ob_schedule_validate(copy);
}

/*
 * Scheduled moments in date order are in time order too (the first
 * occurrence and the end of a gap both keep the wall clock's order), so the
 * first moment found past the bound is the answer. A valid schedule runs at
 * least once in any 7 * WeeklyFrequency days; the search covers that plus the
 * days either side that an offset can reach.
 */
int ob_schedule_next(int64_t *out, const ob_schedule *schedule, int64_t after)
{
	ob_schedule s;
	int64_t wall, day, first, last, t;
	size_t i;
	int error;

	if ((error = checked_copy(&s, schedule)) < 0)
		return error;
	if ((error = ob_local_from_utc(&wall, after)) < 0)
		return error;
	first = ob_cal_floordiv(wall, DAY) - 1;
	last = first + 7 * s.weekly_frequency + 3;
	for (day = first; day <= last; day++) {
		if (!runs_on(&s, day))
			continue;
		for (i = 0; i < s.time_count; i++) {
			if ((error = ob_local_to_utc(&t, day * DAY + s.times[i] * 60)) < 0)
				return error;
			if (t > after) {
				*out = t;
				return 0;
			}
		}
	}
	return ob_err(OB_ERROR, OB_ERRCLASS_INVALID, "no scheduled time found after %lld", (long long)after);
}

int ob_schedule_prev(int64_t *out, const ob_schedule *schedule, int64_t at)
{
	ob_schedule s;
	int64_t wall, day, first, last, t;
	size_t i;
	int error;

	if ((error = checked_copy(&s, schedule)) < 0)
		return error;
	if ((error = ob_local_from_utc(&wall, at)) < 0)
		return error;
	first = ob_cal_floordiv(wall, DAY) + 1;
	last = first - 7 * s.weekly_frequency - 3;
	for (day = first; day >= last; day--) {
		if (!runs_on(&s, day))
			continue;
		for (i = s.time_count; i-- > 0;) {
			if ((error = ob_local_to_utc(&t, day * DAY + s.times[i] * 60)) < 0)
				return error;
			if (t <= at) {
				*out = t;
				return 0;
			}
		}
	}
	return ob_err(OB_ERROR, OB_ERRCLASS_INVALID, "no scheduled time found before %lld", (long long)at);
}

int ob_schedule_missed(int *out_missed, int64_t *out_slot, const ob_schedule *schedule,
	int64_t last_run, int64_t now)
{
	int64_t slot;
	int error;

	*out_missed = 0;
	if (out_slot)
		*out_slot = 0;
	if ((error = ob_schedule_prev(&slot, schedule, now)) < 0)
		return error;
	if (slot > last_run) {
		*out_missed = 1;
		if (out_slot)
			*out_slot = slot;
	}
	return 0;
}

/* ---- text ---- */

#define SCHEDULE_KIND "schedule/1"

static const char *const schedule_keys[] = {
	"DaysOfWeek", "TimesOfDay", "WeeklyFrequency", "AnchorDate", "SystemState"
};
#define SCHEDULE_NKEYS (sizeof(schedule_keys) / sizeof(schedule_keys[0]))

int ob_schedule_to_string(char **out, const ob_schedule *schedule)
{
	ob_buf b = OB_BUF_INIT;
	ob_schedule s;
	int64_t y;
	int m, d, error;

	if ((error = checked_copy(&s, schedule)) < 0)
		return error;
	ob_cal_date(s.anchor_date, &y, &m, &d);
	if ((error = ob_buf_puts(&b, SCHEDULE_KIND " DaysOfWeek=")) < 0 ||
	    (error = ob_fmt_names(&b, s.days, ob_day_names, 7)) < 0 ||
	    (error = ob_buf_puts(&b, " TimesOfDay=")) < 0 ||
	    (error = ob_fmt_times(&b, s.times, s.time_count)) < 0 ||
	    (error = ob_buf_printf(&b, " WeeklyFrequency=%d AnchorDate=%04lld-%02d-%02d SystemState=%d",
			s.weekly_frequency, (long long)y, m, d, s.system_state ? 1 : 0)) < 0)
		goto done;
	*out = ob_buf_detach(&b);
done:
	ob_buf_dispose(&b);
	return error;
}

/* "YYYY-MM-DD" into a day number; -1 when malformed. */
static int parse_date(int64_t *out, const char *p)
{
	int hi = two_digits(p), lo = hi < 0 ? -1 : two_digits(p + 2), m, d;

	if (hi < 0 || lo < 0 || p[4] != '-' || (m = two_digits(p + 5)) < 0 || p[7] != '-' ||
	    (d = two_digits(p + 8)) < 0 || p[10] != '\0')
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > ob_cal_month_length(hi * 100 + lo, m))
		return -1;
	*out = ob_cal_days(hi * 100 + lo, m, d);
	return 0;
}

static int bad_field(const char *what, const char *key, const char *value, const char *want)
{
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad %s text: %s='%s' is not %s", what, key, value, want);
}

int ob_schedule_from_string(ob_schedule *out, const char *text)
{
	ob_schedule s = OB_SCHEDULE_INIT;
	const char *v[SCHEDULE_NKEYS];
	char *copy;
	int64_t n;
	size_t i;
	int error;

	if (!text)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no schedule text was given");
	if (!(copy = ob_strdup(text)))
		return OB_ENOMEM;
	if ((error = ob_fields_split(copy, SCHEDULE_KIND, schedule_keys, v, SCHEDULE_NKEYS, "schedule")) < 0)
		goto done;
	for (i = 0; i < SCHEDULE_NKEYS; i++)
		if (!v[i]) {
			error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad schedule text: field %s is missing", schedule_keys[i]);
			goto done;
		}
	if (ob_parse_names(&s.days, v[0], ob_day_names, 7) < 0) {
		error = bad_field("schedule", "DaysOfWeek", v[0], "a list of day names (Sunday,Monday,...)");
		goto done;
	}
	if (ob_parse_times(s.times, &s.time_count, OB_SCHEDULE_MAX_TIMES, v[1]) < 0) {
		error = bad_field("schedule", "TimesOfDay", v[1], "1 to 3 times HH:MM separated by commas");
		goto done;
	}
	if (ob_parse_count(&n, v[2]) < 0 || n < 1 || n > 4) {
		error = bad_field("schedule", "WeeklyFrequency", v[2], "a number from 1 to 4");
		goto done;
	}
	s.weekly_frequency = (int)n;
	if (parse_date(&s.anchor_date, v[3]) < 0) {
		error = bad_field("schedule", "AnchorDate", v[3], "a date YYYY-MM-DD");
		goto done;
	}
	if (strcmp(v[4], "0") != 0 && strcmp(v[4], "1") != 0) {
		error = bad_field("schedule", "SystemState", v[4], "0 or 1");
		goto done;
	}
	s.system_state = v[4][0] == '1';
	if ((error = ob_schedule_validate(&s)) < 0)
		goto done;
	*out = s;
done:
	free(copy);
	return error;
}
